//! `cilium-jwt demo`: the seed blog post's How-To in one command, on one machine.
//!
//! A test web server (the `simple-http-test-server` role) and the local IdP run inside
//! this process; Envoy with our module is the only child process. The policy is
//! `tests/k8sT/manifests/client-identity.yaml`, with its in-cluster IdP URLs rewritten
//! to the local IdP. Every request is printed like the seed's curl transcripts, and
//! checked: exit 1 if any answer is not the expected one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::bootstrap::{self, Auth};
use crate::envoy::{self, Envoy, Launch, WorkDir};
use crate::idp::{self, Idp};
use crate::serve;
use crate::webserver;

/// Where the policy lives in the repository.
const POLICY_PATH: &str = "tests/k8sT/manifests/client-identity.yaml";

/// Used when the repository copy is not found (the demo binary run elsewhere): the same
/// file, compiled in.
const EMBEDDED_POLICY: &str = include_str!("../../../../tests/k8sT/manifests/client-identity.yaml");

/// Arguments of `demo` (all optional: `cilium-jwt demo` needs none).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy to enforce [default: tests/k8sT/manifests/client-identity.yaml, else a built-in copy].
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Envoy binary [default: $CILIUM_JWT_ENVOY, else ~/.cache/cilium-jwt/envoy-1.40.0/envoy].
    #[arg(long)]
    pub envoy: Option<PathBuf>,
    /// Directory of libcilium_jwt_envoy.so [default: next to this executable].
    #[arg(long)]
    pub module_dir: Option<PathBuf>,
}

/// `cilium-jwt demo`.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let envoy_path = envoy::find_envoy(args.envoy.as_deref())?;
    let module_dir = envoy::find_module_dir(args.module_dir.as_deref())?;
    let (policy_origin, policy_text) = find_policy(args.policy.as_deref())?;
    let work_dir = WorkDir::new(None)?;
    // Current thread: Envoy's PR_SET_PDEATHSIG follows the thread that spawned it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let mut envoy = None;
        let outcome = tokio::select! {
            outcome = demo(&envoy_path, &module_dir, &policy_origin, &policy_text, work_dir.path(), &mut envoy) => outcome,
            () = serve::shutdown_signal() => {
                println!("\ninterrupted: stopping Envoy and the demo servers");
                Ok(false)
            }
        };
        if let Some(envoy) = envoy.as_mut() {
            envoy.stop(Duration::from_secs(5)).await;
        }
        match outcome {
            Ok(true) => Ok(ExitCode::SUCCESS),
            Ok(false) => Ok(ExitCode::FAILURE),
            Err(e) => {
                dump_envoy_log(work_dir.path());
                Err(e)
            }
        }
    })
}

async fn demo(
    envoy_path: &Path,
    module_dir: &Path,
    policy_origin: &str,
    policy_text: &str,
    work_dir: &Path,
    envoy_slot: &mut Option<Envoy>,
) -> Result<bool, String> {
    let (stop_servers, servers_stopped) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = servers_stopped.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let client = reqwest::Client::builder().no_proxy().build().map_err(|e| e.to_string())?;
    let mut ok = true;

    heading("cilium-jwt demo: identity-based micro-segmentation (the seed's How-To, on this machine)");
    println!("Envoy:  {}", envoy_path.display());
    println!("Module: {}", module_dir.join(bootstrap::MODULE_FILE).display());

    // 1. The workload.
    heading("1. Create the target workload");
    let web_listener = serve::bind(localhost(0)).await?;
    let web_addr = web_listener.local_addr().map_err(|e| e.to_string())?;
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    tokio::spawn(serve::serve(
        web_listener,
        move |request| {
            counter.fetch_add(1, Ordering::Relaxed);
            webserver::handle(request)
        },
        stopped(),
    ));
    println!("Test web server (the simple-http-test-server role) listening on {web_addr}.");
    println!("Now we have a running server; let's poke it:");
    ok &= request(&client, &format!("http://{web_addr}/"), None, 200, webserver::GREETING.trim()).await?;

    // 2. The identity provider.
    heading("2. Start the identity provider");
    let idp_listener = serve::bind(localhost(0)).await?;
    let idp_addr = idp_listener.local_addr().map_err(|e| e.to_string())?;
    let issuer = format!("http://{idp_addr}/");
    let provider = Arc::new(Idp::new(idp::Args {
        listen: idp_addr,
        issuer: issuer.clone(),
        mode: idp::Mode::Auth0,
        keys_dir: None,
        token_ttl: None,
        rotate_every: 0,
        grace: None,
        trust_domain: "example.org".into(),
        clients: Vec::new(),
        allow_test_tokens: true,
    })?);
    tokio::spawn(idp::serve_idp(provider.clone(), idp_listener, stopped()));
    println!("Local identity provider at {issuer}: it replaces the seed's Auth0 tenant (RS256 tokens,");
    println!("Auth0-style issuer, client-credentials grant). Key set: {}", provider.jwks_url());

    // 3. The policy.
    heading("3. Enforce the micro-segmentation policy");
    let (policy, rewrites) = rewrite_policy(policy_text, &issuer, &provider.jwks_url())?;
    let policy_file = work_dir.join("client-identity.yaml");
    std::fs::write(&policy_file, &policy).map_err(|e| format!("{}: {e}", policy_file.display()))?;
    let (_, rules) = crate::run::load_policy(&policy_file)?;
    println!("Policy: {policy_origin}");
    for rule in &rules {
        println!("  matchJWT: provider {}, audiences {}", rule.provider.name(), rule.audiences.join(", "));
    }
    println!("The policy points at the in-cluster IdP service; rewritten to the local IdP:");
    for (field, from, to) in &rewrites {
        println!("  {field}: {from}\n    -> {to}");
    }
    let audience =
        rules.first().and_then(|r| r.audiences.first()).cloned().unwrap_or_else(|| "Thales-accuknox-1st".into());
    let envoy_addr = free_port()?;
    let boot = bootstrap::render(
        envoy_addr,
        web_addr,
        &Auth::Module { filter_config: crate::run::filter_config(&policy, None) },
    );
    let log_file = work_dir.join("envoy.log");
    let envoy = envoy_slot.insert(Envoy::start(&Launch {
        envoy: envoy_path,
        bootstrap: &boot,
        module_dir: Some(module_dir),
        concurrency: 1,
        log_level: "warning",
        log_file: Some(&log_file),
        work_dir,
    })?);
    envoy.wait_ready(envoy_addr, Duration::from_secs(30)).await?;
    println!(
        "Envoy (pid {}) enforces it on {envoy_addr}, in front of the web server.",
        envoy.pid().unwrap_or_default()
    );
    let url = format!("http://{envoy_addr}/");

    // 4. No token.
    heading("4. Request without a token");
    let before = hits.load(Ordering::Relaxed);
    ok &= request(&client, &url, None, 401, "Jwt is missing").await?;
    ok &=
        check(hits.load(Ordering::Relaxed) == before, "the response was sent by Envoy: the web server saw no request");

    // 5. A valid token.
    heading("5. Request with a token from the IdP for the policy's audience");
    let token = client_credentials(&client, idp_addr, "TOKEN", &audience).await?;
    let before = hits.load(Ordering::Relaxed);
    ok &= request(&client, &url, Some(("$TOKEN", &token)), 200, webserver::GREETING.trim()).await?;
    ok &= check(hits.load(Ordering::Relaxed) == before + 1, "the request was delivered to the web server");

    // 6. Another audience.
    heading("6. Request with a token for another audience");
    let other = client_credentials(&client, idp_addr, "OTHER", "another-service").await?;
    ok &= request(&client, &url, Some(("$OTHER", &other)), 403, "Audiences in Jwt are not allowed").await?;

    // 7. Expired.
    heading("7. Request with an expired token");
    let expired = test_token(&client, idp_addr, &audience).await?;
    ok &= request(&client, &url, Some(("$EXPIRED", &expired)), 401, "Jwt is expired").await?;

    let _ = stop_servers.send(true);
    heading(if ok { "Done: every answer was as expected." } else { "FAILED: some answers were not as expected." });
    Ok(ok)
}

fn heading(text: &str) {
    println!("\n== {text}");
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A port nothing listens on right now (bind :0, release it).
fn free_port() -> Result<SocketAddr, String> {
    let listener = std::net::TcpListener::bind(localhost(0)).map_err(|e| e.to_string())?;
    listener.local_addr().map_err(|e| e.to_string())
}

fn check(condition: bool, what: &str) -> bool {
    println!("{} {what}", if condition { "OK:" } else { "UNEXPECTED: not so:" });
    condition
}

/// `curl -i URL [-H 'Authorization: Bearer $VAR']`, printed, then checked.
async fn request(
    client: &reqwest::Client,
    url: &str,
    token: Option<(&str, &str)>,
    status: u16,
    body: &str,
) -> Result<bool, String> {
    let mut builder = client.get(url);
    match token {
        Some((variable, token)) => {
            println!("\n$ curl -i {url} -H \"Authorization: Bearer {variable}\"");
            builder = builder.bearer_auth(token);
        }
        None => println!("\n$ curl -i {url}"),
    }
    let response = builder.send().await.map_err(|e| format!("GET {url}: {e}"))?;
    println!("{:?} {}", response.version(), response.status());
    for (name, value) in response.headers() {
        println!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    let got_status = response.status().as_u16();
    let text = response.text().await.map_err(|e| format!("GET {url}: {e}"))?;
    println!("\n{}", text.trim_end());
    Ok(check(got_status == status && text.trim_end() == body, &format!("expected {status} {body:?}")))
}

/// Auth0's client-credentials grant, printed as the curl call a user would make.
async fn client_credentials(
    client: &reqwest::Client,
    idp: SocketAddr,
    variable: &str,
    audience: &str,
) -> Result<String, String> {
    let url = format!("http://{idp}/oauth/token");
    let body = json!({
        "client_id": "demo-client",
        "client_secret": idp::DEFAULT_CLIENT_SECRET,
        "audience": audience,
        "grant_type": "client_credentials",
    });
    println!("$ {variable}=$(curl -s --request POST --url {url} --header 'content-type: application/json' \\");
    println!("    --data '{body}' | jq -r .access_token)");
    fetch_token(post_json(client, &url, &body), variable).await
}

/// The IdP's test helper (enabled for the demo only) mints an already expired token.
async fn test_token(client: &reqwest::Client, idp: SocketAddr, audience: &str) -> Result<String, String> {
    let url = format!("http://{idp}/test/token");
    let body = json!({"claims": {"aud": audience}, "expiresIn": -3600});
    println!("$ EXPIRED=$(curl -s --request POST --url {url} --data '{body}' | jq -r .access_token)");
    println!("  (a test helper of the local IdP: a token for {audience} that expired an hour ago)");
    fetch_token(post_json(client, &url, &body), "EXPIRED").await
}

fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> reqwest::RequestBuilder {
    client.post(url).header("content-type", "application/json").body(body.to_string())
}

async fn fetch_token(request: reqwest::RequestBuilder, variable: &str) -> Result<String, String> {
    let response = request.send().await.map_err(|e| format!("token request: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("token request: {e}"))?;
    let reply: Value = serde_json::from_slice(&bytes).map_err(|e| format!("token request: {status}: {e}"))?;
    let token = reply["access_token"].as_str().ok_or_else(|| format!("token request: {status} {reply}"))?.to_string();
    println!("# {variable} claims: {}", claims(&token));
    Ok(token)
}

fn claims(token: &str) -> String {
    use base64::Engine as _;
    token
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok())
        .map_or_else(|| "?".into(), |bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// The repository's policy (from the current directory or the executable's checkout),
/// else the built-in copy.
fn find_policy(explicit: Option<&Path>) -> Result<(String, String), String> {
    if let Some(path) = explicit {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok((path.display().to_string(), text));
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    for root in roots {
        let candidate = root.join(POLICY_PATH);
        if let Ok(text) = std::fs::read_to_string(&candidate) {
            return Ok((candidate.display().to_string(), text));
        }
    }
    Ok((format!("built-in copy of {POLICY_PATH} (file not found)"), EMBEDDED_POLICY.to_string()))
}

/// One field rewritten in the policy: (field, from, to).
type Rewrite = (String, String, String);

/// Points every `matchJWT` at the local IdP. Returns the new policy text and the
/// changes made, as (field, from, to).
fn rewrite_policy(text: &str, issuer: &str, jwks_url: &str) -> Result<(String, Vec<Rewrite>), String> {
    use serde::Deserialize;
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        documents.push(serde_yaml::Value::deserialize(document).map_err(|e| format!("policy: invalid YAML: {e}"))?);
    }
    let mut changes = Vec::new();
    for document in &mut documents {
        rewrite_value(document, issuer, jwks_url, &mut changes);
    }
    let mut out = String::new();
    for document in &documents {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(document).map_err(|e| e.to_string())?);
    }
    Ok((out, changes))
}

fn rewrite_value(value: &mut serde_yaml::Value, issuer: &str, jwks_url: &str, changes: &mut Vec<Rewrite>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            if let Some(serde_yaml::Value::Mapping(rule)) = map.get_mut("matchJWT") {
                for (field, to) in [("issuer", issuer), ("jwksUrl", jwks_url)] {
                    let from = rule.get(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                    if from != to {
                        changes.push((field.to_string(), from, to.to_string()));
                        rule.insert(field.into(), to.into());
                    }
                }
            }
            for (_, child) in map.iter_mut() {
                rewrite_value(child, issuer, jwks_url, changes);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                rewrite_value(item, issuer, jwks_url, changes);
            }
        }
        _ => {}
    }
}

fn dump_envoy_log(work_dir: &Path) {
    if let Ok(log) = std::fs::read_to_string(work_dir.join("envoy.log"))
        && !log.trim().is_empty()
    {
        eprintln!("--- Envoy log ---\n{log}--- end of Envoy log ---");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_every_match_jwt_and_keeps_the_rest() {
        let (text, changes) =
            rewrite_policy(EMBEDDED_POLICY, "http://127.0.0.1:1/", "http://127.0.0.1:1/.well-known/jwks.json").unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].1, "http://cilium-jwt-idp.kube-system.svc.cluster.local:8080/");
        let set = cilium_jwt::PolicySet::parse(&text).unwrap();
        assert_eq!(set.rules.len(), 1);
        let rule = &set.rules[0].requirement;
        assert_eq!(rule.issuer, "http://127.0.0.1:1/");
        assert_eq!(rule.jwks_url.as_str(), "http://127.0.0.1:1/.well-known/jwks.json");
        assert_eq!(rule.audiences, vec!["Thales-accuknox-1st", "Thales-accuknox-2nd"]);
        assert_eq!(set.rules[0].ports[0].port, "7070");
    }

    #[test]
    fn the_embedded_copy_matches_the_repository_manifest() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(POLICY_PATH);
        if let Ok(text) = std::fs::read_to_string(manifest) {
            let ours = cilium_jwt::PolicySet::parse(EMBEDDED_POLICY).unwrap();
            let theirs = cilium_jwt::PolicySet::parse(&text).unwrap();
            assert_eq!(ours.rules[0].requirement, theirs.rules[0].requirement);
        }
    }
}
