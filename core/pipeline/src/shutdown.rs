//! Shutdown signals: a `watch` channel that turns `true` once, when work
//! must stop.

use tokio::sync::watch;

/// Returns once `signal` is (or turns) `true`, or its sender is gone.
pub async fn requested(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}
