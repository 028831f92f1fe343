//! `cilium-jwt check --policy FILE --cases FILE.jsonl`: the interface an outside harness
//! relies on. Each input line `{"id", "path", "headers": [[name, value], ...]}` yields one
//! output line `{"id", "status", "body", "www_authenticate"}`, in input order.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use cilium_jwt::Request;
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy YAML with matchJWT rules.
    #[arg(long)]
    policy: PathBuf,
    /// Request cases, one JSON object per line.
    #[arg(long)]
    cases: PathBuf,
}

#[derive(Deserialize)]
struct Case {
    id: Value,
    path: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
}

/// Headers that Envoy's HTTP/1 codec keeps as one inline entry, joining repeats with `,`.
const INLINE_HEADERS: [&str; 5] = ["authorization", "host", "x-forwarded-proto", "x-envoy-original-path", "user-agent"];

/// The header entries as Envoy presents them to a filter: names lower-cased, repeated
/// inline headers joined with `,`, other repeats kept as separate entries.
fn as_envoy_presents(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if INLINE_HEADERS.contains(&name.as_str())
            && let Some((_, existing)) = entries.iter_mut().find(|(n, _)| *n == name)
        {
            existing.push(',');
            existing.push_str(&value);
            continue;
        }
        entries.push((name, value));
    }
    entries
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let (engine, _policy) = crate::load_engine(&args.policy)?;
    let file = std::fs::File::open(&args.cases).map_err(|e| format!("{}: {e}", args.cases.display()))?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", args.cases.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(&line)
            .map_err(|e| format!("{}:{}: invalid case: {e}", args.cases.display(), number + 1))?;
        let entries = as_envoy_presents(case.headers);
        let headers: Vec<(&str, &str)> = entries.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let verdict = engine.check_policy(&Request::new(&case.path, &headers));
        let record = json!({
            "id": case.id,
            "status": verdict.http_status(),
            "body": verdict.body(),
            "www_authenticate": verdict.www_authenticate,
        });
        writeln!(out, "{record}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_only_inline_headers() {
        let got = as_envoy_presents(vec![
            ("Authorization".into(), "Bearer a".into()),
            ("X-Jwt".into(), "1".into()),
            ("authorization".into(), "Bearer b".into()),
            ("x-jwt".into(), "2".into()),
        ]);
        assert_eq!(
            got,
            vec![
                ("authorization".to_string(), "Bearer a,Bearer b".to_string()),
                ("x-jwt".to_string(), "1".to_string()),
                ("x-jwt".to_string(), "2".to_string()),
            ]
        );
    }
}
