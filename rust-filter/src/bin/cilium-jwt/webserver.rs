//! `cilium-jwt webserver`: the demo's workload (the `simple-http-test-server` role): it
//! answers every request with 200 "hello from the webserver". Also the benchmark's
//! upstream, so it must be cheap.

use std::net::SocketAddr;
use std::process::ExitCode;

use hyper::StatusCode;
use hyper::body::Incoming;

use crate::serve::{self, Reply};

/// What the workload answers.
pub const GREETING: &str = "hello from the webserver\n";

/// Arguments of `webserver`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
}

/// Answers one request. `x-seen-authorization` tells whether a credential reached the
/// workload (the filter strips it unless `forward: true`).
pub async fn handle(request: hyper::Request<Incoming>) -> Reply {
    let seen = if request.headers().contains_key(hyper::header::AUTHORIZATION) { "yes" } else { "no" };
    let mut reply = serve::text(StatusCode::OK, GREETING);
    reply.headers_mut().insert("x-seen-authorization", hyper::header::HeaderValue::from_static(seen));
    reply
}

/// `cilium-jwt webserver`.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = serve::bind(args.listen).await?;
        eprintln!("cilium-jwt webserver: listening on http://{}", listener.local_addr().map_or(args.listen, |a| a));
        serve::serve(listener, handle, serve::shutdown_signal()).await;
        Ok(ExitCode::SUCCESS)
    })
}
