//! Giving freed heap memory back to the operating system.
//!
//! glibc's allocator keeps memory that a burst allocated and freed
//! (Cranelift compiling the plugins on a first start, a load peak) in its
//! arenas, so an idle sidecar would stay as large as its busiest moment.
//! `silta run` trims once the plugins are loaded and then every
//! [`TRIM_EVERY`], which costs a walk of the free lists (microseconds to a
//! few milliseconds) on a blocking thread.

use std::time::Duration;

use tokio::sync::watch;

/// How often freed memory is handed back.
pub const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Hand memory the allocator holds but nobody uses back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_freed_memory() {
    // SAFETY: `malloc_trim` takes no pointers and only reorganizes the
    // allocator's own free lists under its locks; it is safe to call from
    // any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory on their own; nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed_memory() {}

/// Trim every [`TRIM_EVERY`] until `stop` turns true.
pub async fn trim_periodically(mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(TRIM_EVERY) => {
                let _ = tokio::task::spawn_blocking(release_freed_memory).await;
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}
