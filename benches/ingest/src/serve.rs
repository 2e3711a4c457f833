//! The accept loop and runtime both reference servers share.
//!
//! Kept minimal on purpose: a reference server must cost no more than the
//! work it stands for, so there is no router, no tracing and no middleware,
//! only hyper's HTTP/1.1 connection driver over keep-alive connections.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Builds the multi-threaded tokio runtime the binaries run on.
///
/// `threads` defaults to the CPUs this process may use, which respects a
/// `taskset` affinity mask, so a server pinned to one core gets one worker.
pub fn runtime(threads: Option<usize>) -> io::Result<tokio::runtime::Runtime> {
    let threads = match threads {
        Some(n) => n.max(1),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
}

/// Binds `addr` and says on stderr where it listens (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    Ok(listener)
}

/// Serves HTTP/1.1 on `listener` with `handler` until SIGINT or SIGTERM.
///
/// Each connection runs on its own task. Connection errors (a client that
/// resets mid-request) end only that connection; accept errors such as
/// running out of file descriptors pause accepting briefly instead of ending
/// the server, so a benchmark never loses its server to a burst of connects.
pub async fn serve<F, Fut>(listener: TcpListener, handler: F) -> io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let shutdown = shutdown_signal()?;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Small responses must not wait for Nagle's algorithm.
                    stream.set_nodelay(true)?;
                    let handler = handler.clone();
                    tokio::spawn(async move {
                        // A client that goes away mid-request is normal at
                        // the end of a load run; nothing to report.
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service_fn(handler))
                            .await;
                    });
                }
                Err(error) => {
                    eprintln!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM (the run script stops servers
/// with SIGTERM).
fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
