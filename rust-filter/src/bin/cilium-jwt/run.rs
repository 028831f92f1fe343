//! `cilium-jwt run --policy FILE --listen ADDR:PORT --upstream ADDR:PORT [--envoy PATH]
//! [--concurrency N]`: enforce a policy's `matchJWT` rules in a real Envoy in front of
//! an upstream, in the foreground. An outside harness relies on this interface.
//!
//! Ready when ADDR:PORT accepts connections. SIGTERM/SIGINT stop Envoy and exit 0; if
//! Envoy dies on its own, exit non-zero.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cilium_jwt::{MatchJwt, PolicySet};
use serde_json::{Value, json};

use crate::bootstrap::{self, Auth};
use crate::envoy::{self, Envoy, Launch, WorkDir};
use crate::serve::shutdown_signal;

/// Arguments of `run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy YAML with matchJWT rules.
    #[arg(long)]
    pub policy: PathBuf,
    /// Address Envoy listens on.
    #[arg(long)]
    pub listen: SocketAddr,
    /// The workload requests are forwarded to.
    #[arg(long)]
    pub upstream: SocketAddr,
    /// Envoy binary [default: $CILIUM_JWT_ENVOY, else ~/.cache/cilium-jwt/envoy-1.40.0/envoy].
    #[arg(long)]
    pub envoy: Option<PathBuf>,
    /// Envoy worker threads [default: the number of CPUs].
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Directory of libcilium_jwt_envoy.so [default: next to this executable].
    #[arg(long)]
    pub module_dir: Option<PathBuf>,
    /// Engine bounds for the module, as the filter config's "engine" JSON object,
    /// e.g. '{"maxWaitMs": 500, "kidRefetchIntervalMs": 1000}'.
    #[arg(long, value_name = "JSON")]
    pub engine_options: Option<String>,
    /// Enforce with Envoy's own jwt_authn filter instead of the module (same rules).
    #[arg(long, conflicts_with_all = ["no_auth", "engine_options"])]
    pub jwt_authn: bool,
    /// With --jwt-authn: enable its verified-token cache (jwt_cache_config).
    #[arg(long, requires = "jwt_authn")]
    pub jwt_cache: bool,
    /// No authentication at all (a benchmark baseline); the policy is still validated.
    #[arg(long)]
    pub no_auth: bool,
    /// Envoy's log level (trace, debug, info, warning, error, critical, off).
    #[arg(long, default_value = "warning")]
    pub envoy_log_level: String,
    /// Keep the bootstrap and admin address files in DIR [default: a temporary directory].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

/// The policy file, validated: its text and rules.
pub fn load_policy(path: &std::path::Path) -> Result<(String, Vec<MatchJwt>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let set = PolicySet::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if set.rules.is_empty() {
        return Err(format!(
            "{}: no matchJWT rule in any CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy",
            path.display()
        ));
    }
    Ok((text, set.rules.into_iter().map(|r| r.requirement).collect()))
}

/// The module's filter config for a policy text.
pub fn filter_config(policy: &str, engine_options: Option<&Value>) -> String {
    let mut config = json!({"policy": policy});
    if let Some(options) = engine_options {
        config["engine"] = options.clone();
    }
    config.to_string()
}

/// `cilium-jwt run`.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let (text, rules) = load_policy(&args.policy)?;
    let engine_options = match &args.engine_options {
        None => None,
        Some(json) => match serde_json::from_str::<Value>(json) {
            Ok(value @ Value::Object(_)) => Some(value),
            _ => return Err(format!("--engine-options {json:?}: must be a JSON object")),
        },
    };
    let envoy_path = envoy::find_envoy(args.envoy.as_deref())?;
    let auth = if args.no_auth {
        Auth::None
    } else if args.jwt_authn {
        Auth::JwtAuthn { rules: &rules, jwt_cache: args.jwt_cache }
    } else {
        Auth::Module { filter_config: filter_config(&text, engine_options.as_ref()) }
    };
    let module_dir = match auth {
        Auth::Module { .. } => Some(envoy::find_module_dir(args.module_dir.as_deref())?),
        _ => None,
    };
    let concurrency = args.concurrency.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let bootstrap = bootstrap::render(args.listen, args.upstream, &auth);
    let work_dir = WorkDir::new(args.work_dir.as_deref())?;

    // Current-thread runtime: Envoy is spawned from this thread, which lives as long as
    // we do (PR_SET_PDEATHSIG is tied to the spawning thread).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let mut envoy = Envoy::start(&Launch {
            envoy: &envoy_path,
            bootstrap: &bootstrap,
            module_dir: module_dir.as_deref(),
            concurrency,
            log_level: &args.envoy_log_level,
            log_file: None,
            work_dir: work_dir.path(),
        })?;
        let mode = match auth {
            Auth::Module { .. } => "cilium-jwt module",
            Auth::JwtAuthn { .. } => "jwt_authn",
            Auth::None => "no authentication",
        };
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        tokio::select! {
            ready = envoy.wait_ready(args.listen, Duration::from_secs(30)) => {
                if let Err(e) = ready {
                    envoy.stop(Duration::from_secs(2)).await;
                    return Err(e);
                }
            }
            () = &mut shutdown => {
                envoy.stop(Duration::from_secs(10)).await;
                return Ok(ExitCode::SUCCESS);
            }
        }
        eprintln!(
            "cilium-jwt run: ready: http://{} -> {} ({mode}, {} rule(s), {concurrency} worker(s), Envoy pid {}, admin {})",
            args.listen,
            args.upstream,
            rules.len(),
            envoy.pid().unwrap_or_default(),
            envoy.admin_address().unwrap_or_else(|| "?".into()),
        );
        tokio::select! {
            status = envoy.wait() => {
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                Err(format!("Envoy exited unexpectedly ({status})"))
            }
            () = &mut shutdown => {
                envoy.stop(Duration::from_secs(10)).await;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
