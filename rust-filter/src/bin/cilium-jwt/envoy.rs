//! Finding and running Envoy with our module: the binary, the module directory, a
//! private work directory, and a child process that never outlives us.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::bootstrap::MODULE_FILE;

/// The Envoy version the project installs and tests against.
pub const ENVOY_VERSION: &str = "1.40.0";

/// The Envoy binary: `explicit`, else `$CILIUM_JWT_ENVOY`, else the project's install
/// location (`$CILIUM_JWT_HOME` or `~/.cache/cilium-jwt`, see scripts/env.sh).
pub fn find_envoy(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let (path, origin) = if let Some(path) = explicit {
        (path.to_path_buf(), "--envoy")
    } else if let Some(path) = std::env::var_os("CILIUM_JWT_ENVOY").filter(|p| !p.is_empty()) {
        (PathBuf::from(path), "$CILIUM_JWT_ENVOY")
    } else {
        let home = std::env::var_os("CILIUM_JWT_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cilium-jwt")))
            .ok_or("cannot find Envoy: pass --envoy or set CILIUM_JWT_ENVOY")?;
        (home.join(format!("envoy-{ENVOY_VERSION}/envoy")), "the default install location")
    };
    if !is_executable(&path) {
        return Err(format!(
            "Envoy not found at {} ({origin}): run scripts/setup.sh, or pass --envoy PATH",
            path.display()
        ));
    }
    Ok(path)
}

/// The directory holding `libcilium_jwt_envoy.so`: `explicit`, else the directory of
/// this executable (target/release or target/debug), else its sibling build profile.
pub fn find_module_dir(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = explicit {
        let dir = dir.canonicalize().map_err(|e| format!("--module-dir {}: {e}", dir.display()))?;
        if !dir.join(MODULE_FILE).is_file() {
            return Err(format!("--module-dir {}: no {MODULE_FILE} there", dir.display()));
        }
        return Ok(dir);
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate this executable ({e}); pass --module-dir"))?;
    let exe_dir = exe.parent().ok_or("cannot locate this executable; pass --module-dir")?;
    let mut candidates = vec![exe_dir.to_path_buf()];
    if let Some(target) = exe_dir.parent() {
        candidates.extend(["release", "debug"].map(|profile| target.join(profile)));
    }
    candidates
        .into_iter()
        .find(|dir| dir.join(MODULE_FILE).is_file())
        .and_then(|dir| dir.canonicalize().ok())
        .ok_or_else(|| {
            format!(
                "{MODULE_FILE} not found next to {}: build it (cargo build --release --workspace) or pass --module-dir",
                exe.display()
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A private directory for one Envoy run, removed on drop unless it was given.
pub struct WorkDir {
    path: PathBuf,
    remove: bool,
}

impl WorkDir {
    /// Uses `given`, or creates a fresh directory under the system temp dir.
    pub fn new(given: Option<&Path>) -> Result<WorkDir, String> {
        let (path, remove) = match given {
            Some(path) => (path.to_path_buf(), false),
            None => {
                let nanos =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
                (std::env::temp_dir().join(format!("cilium-jwt-{}-{nanos}", std::process::id())), true)
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(WorkDir { path, remove })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// How to start Envoy.
pub struct Launch<'a> {
    /// The binary.
    pub envoy: &'a Path,
    /// The rendered bootstrap.
    pub bootstrap: &'a serde_json::Value,
    /// Where the module is (None: the bootstrap does not load it).
    pub module_dir: Option<&'a Path>,
    /// Worker threads.
    pub concurrency: usize,
    /// Envoy's log level.
    pub log_level: &'a str,
    /// Where Envoy's stdout/stderr go (None: inherit ours).
    pub log_file: Option<&'a Path>,
    /// The work directory (bootstrap and admin address files).
    pub work_dir: &'a Path,
}

/// A running Envoy, killed if we die (PR_SET_PDEATHSIG) and on drop.
pub struct Envoy {
    child: Child,
    admin_path: PathBuf,
}

impl Envoy {
    /// Writes the bootstrap and starts Envoy in its own process group (a terminal's
    /// Ctrl-C reaches only us; we stop Envoy in order).
    pub fn start(launch: &Launch<'_>) -> Result<Envoy, String> {
        let config = launch.work_dir.join("envoy.json");
        let text = serde_json::to_string_pretty(launch.bootstrap).map_err(|e| e.to_string())?;
        std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
        let admin_path = launch.work_dir.join("admin-address");
        let _ = std::fs::remove_file(&admin_path);

        let mut command = Command::new(launch.envoy);
        command
            .arg("--config-path")
            .arg(&config)
            .arg("--concurrency")
            .arg(launch.concurrency.to_string())
            .arg("--disable-hot-restart") // several Envoys on one machine: no shared memory
            .arg("--admin-address-path")
            .arg(&admin_path)
            .arg("--log-level")
            .arg(launch.log_level)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(dir) = launch.module_dir {
            command.env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", dir);
        }
        if let Some(log_file) = launch.log_file {
            let file = std::fs::File::create(log_file).map_err(|e| format!("{}: {e}", log_file.display()))?;
            let err = file.try_clone().map_err(|e| e.to_string())?;
            command.stdout(file).stderr(err);
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", launch.envoy.display()))?;
        Ok(Envoy { child, admin_path })
    }

    /// Envoy's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The admin address, once Envoy has written it.
    pub fn admin_address(&self) -> Option<String> {
        std::fs::read_to_string(&self.admin_path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }

    /// Waits until `listen` accepts connections; fails if Envoy exits or `timeout` passes.
    pub async fn wait_ready(&mut self, listen: SocketAddr, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("Envoy exited during startup ({status})"));
            }
            if tokio::net::TcpStream::connect(listen).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("Envoy did not accept connections on {listen} within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for Envoy to exit on its own.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Stops Envoy: SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}
