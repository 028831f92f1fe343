//! `cilium-jwt verify --policy FILE --token JWT`: a human-readable verdict per rule,
//! and the token's header and claims.

use std::path::PathBuf;
use std::process::ExitCode;

use cilium_jwt::{Request, base64url};

/// Arguments of `verify`.
#[derive(clap::Args)]
pub struct Args {
    /// Policy YAML with matchJWT rules.
    #[arg(long)]
    policy: PathBuf,
    /// The token (sent as `Authorization: Bearer <token>`).
    #[arg(long)]
    token: String,
    /// Request path (with query) to check.
    #[arg(long, default_value = "/")]
    path: String,
    /// Host header of the request.
    #[arg(long, default_value = "localhost")]
    host: String,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let (engine, policy) = crate::load_engine(&args.policy)?;
    let bearer = format!("Bearer {}", args.token);
    let headers = [("host", args.host.as_str()), ("authorization", bearer.as_str())];
    let request = Request::new(&args.path, &headers);
    let mut any_allowed = false;
    for (index, rule) in policy.rules().enumerate() {
        let Some(requirement) = policy.requirement(index) else {
            continue;
        };
        let verdict = engine.check(requirement, &request);
        any_allowed |= verdict.allowed();
        let ports: Vec<String> = rule.ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect();
        println!("rule {} {} (ports {})", rule.policy, rule.path, ports.join(","));
        if verdict.allowed() {
            println!("  200 allowed");
        } else {
            println!("  {} {}", verdict.http_status(), verdict.body());
            if let Some(challenge) = &verdict.www_authenticate {
                println!("  WWW-Authenticate: {challenge}");
            }
        }
    }
    let mut sections = args.token.split('.');
    for label in ["header", "claims"] {
        let decoded = sections
            .next()
            .and_then(|s| base64url::decode(s).ok())
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        match decoded {
            Some(value) => println!("{label}: {}", serde_json::to_string_pretty(&value).unwrap_or_default()),
            None => println!("{label}: (not decodable)"),
        }
    }
    Ok(if any_allowed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
