//! Reference server: answers every request `200` with an empty body.
//!
//! The ceiling for any HTTP server on this machine with this client: it
//! reads each body fully (as a real server must) and does nothing else.
//!
//! ```sh
//! cargo run --release -p silta-ingest-bench --bin baseline-ok -- --listen 127.0.0.1:8701
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::Context as _;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// Answer every request 200 after reading its body.
#[derive(Parser)]
struct Args {
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:8701")]
    listen: SocketAddr,
    /// Tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = silta_ingest_bench::runtime(args.threads).context("starting tokio")?;
    runtime.block_on(async {
        let listener = silta_ingest_bench::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        silta_ingest_bench::serve(listener, handle)
            .await
            .context("serving")
    })
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match request.into_body().collect().await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    };
    Ok(empty(status))
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
