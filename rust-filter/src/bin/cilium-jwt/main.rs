//! `cilium-jwt`: check, verify and lint `matchJWT` policies; run them in Envoy.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bootstrap;
mod check;
mod demo;
mod envoy;
mod idp;
mod lint;
mod run;
mod serve;
mod verify;
mod webserver;

/// matchJWT for Cilium: JWT authentication with Envoy jwt_authn's verdicts.
#[derive(Parser)]
#[command(name = "cilium-jwt", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate request cases (JSON lines) against a policy; one JSON verdict per line.
    Check(check::Args),
    /// Verify one token against a policy's rules and show its claims.
    Verify(verify::Args),
    /// Validate policy files; errors name the offending field.
    Lint(lint::Args),
    /// Enforce a policy in a real Envoy (with our module) in front of an upstream.
    Run(run::Args),
    /// The seed blog post's How-To on this machine, in one command.
    Demo(demo::Args),
    /// A local identity provider for tests and demos (Auth0- or SPIRE-like).
    Idp(idp::Args),
    /// A test web server answering 200 (the demo's workload).
    Webserver(webserver::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Run(args) => run::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Idp(args) => idp::run(args),
        Command::Webserver(args) => webserver::run(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cilium-jwt: {message}");
            ExitCode::from(2)
        }
    }
}

/// Reads a policy file and compiles it into an engine, waiting (bounded) for every key
/// set's first fetch so that verdicts do not depend on timing.
pub(crate) fn load_engine(
    path: &std::path::Path,
) -> Result<(cilium_jwt::Engine, std::sync::Arc<cilium_jwt::Policy>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let engine = cilium_jwt::Engine::new(cilium_jwt::EngineOptions::default()).map_err(|e| e.to_string())?;
    let policy = engine.load_policy(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if policy.is_empty() {
        return Err(format!(
            "{}: no matchJWT rule in any CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy",
            path.display()
        ));
    }
    let max_wait = engine.options().max_wait;
    for requirement in (0..policy.len()).filter_map(|index| policy.requirement(index)) {
        if !engine.wait_for_keys(requirement, max_wait) {
            let url = requirement.config().jwks_url.as_str();
            let why = requirement.jwks().last_error().unwrap_or_else(|| "no answer yet".into());
            eprintln!(
                "cilium-jwt: warning: keys from {url} unavailable ({why}); its rules deny with \"Jwks remote fetch is failed\""
            );
        }
    }
    Ok((engine, policy))
}
