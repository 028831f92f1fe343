//! `cilium-jwt lint FILE...`: validate policies offline (no key set is fetched).

use std::path::PathBuf;
use std::process::ExitCode;

use cilium_jwt::PolicySet;

/// Arguments of `lint`.
#[derive(clap::Args)]
pub struct Args {
    /// Policy files (YAML or JSON).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let mut failed = false;
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                println!("{}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        match PolicySet::parse(&text) {
            Ok(set) => {
                println!(
                    "{}: ok ({} matchJWT rule{})",
                    file.display(),
                    set.rules.len(),
                    if set.rules.len() == 1 { "" } else { "s" }
                );
                for rule in &set.rules {
                    if rule.requirement.jwks_url.scheme() == "http" {
                        println!(
                            "{}: warning: {}.matchJWT.jwksUrl uses http; the Cilium agent refuses it unless jwt-policy-allow-insecure-jwks-url is set (labs only)",
                            file.display(),
                            rule.path
                        );
                    }
                }
            }
            Err(e) => {
                println!("{}: {e}", file.display());
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
