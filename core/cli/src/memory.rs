//! Giving freed heap memory back to the operating system.
//!
//! glibc's allocator keeps memory that a burst allocated and freed
//! (Cranelift compiling the plugins on a first start, a load peak) in its
//! arenas, so an idle sidecar would stay as large as its busiest moment.
//! `silta run` trims once the plugins are loaded and then whenever the
//! process goes quiet after work ([`trim_when_quiet`]), which costs a walk
//! of the free lists (microseconds to a few milliseconds) on a blocking
//! thread. It also caps the number of
//! allocator arenas, each of which would keep its own freed fragments.

use std::time::Duration;

use tokio::sync::watch;

/// Most malloc arenas. glibc gives each thread that allocates concurrently
/// an arena of its own, up to eight per CPU; after a burst every arena
/// keeps its own fragments of freed memory. Two serve a sidecar's few busy
/// threads (the runtime's workers, the store writer) without contention
/// that shows in the ingest benchmark, and keep the idle size down.
pub const MALLOC_ARENAS: i32 = 2;

/// Limit the allocator's arenas to [`MALLOC_ARENAS`]; call before any
/// thread starts. `MALLOC_ARENA_MAX` in the environment still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: `mallopt` takes two integers and only changes the
    // allocator's tuning; it is called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}

/// Other allocators manage their own arenas; nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas() {}

/// How often the process's CPU use is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// A sample under this share of one CPU counts as quiet.
const QUIET_SHARE: f64 = 0.02;

/// Whether to trim after `quiet` quiet samples in a row (and `busy`
/// samples since the last trim). Trims follow a burst at once and again a
/// few seconds later, after the store has released its page caches (two
/// seconds without a commit); a process that never goes quiet still trims
/// once a minute.
#[must_use]
pub fn trim_due(quiet: u32, since_trim: u32) -> bool {
    matches!(quiet, 1 | 3 | 6 | 15) || (quiet > 15 && quiet.is_multiple_of(60)) || since_trim >= 60
}

/// Drop the resident pages of bytes embedded in the binary (the bundled
/// plugins' components, read once to load them and not needed after):
/// they are clean, read-only pages of the executable's file, which the
/// kernel reads back from it should they ever be touched again.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn drop_embedded_pages(bytes: &'static [u8]) {
    const PAGE: usize = 4096;
    let start = (bytes.as_ptr() as usize).div_ceil(PAGE) * PAGE;
    let end = (bytes.as_ptr() as usize + bytes.len()) / PAGE * PAGE;
    if end <= start {
        return;
    }
    // SAFETY: the range lies inside `bytes`, a `'static` immutable slice
    // of the executable's read-only data, mapped privately from the file
    // and never written. For such pages MADV_DONTNEED only unmaps them
    // from this process; the next access faults them in again from the
    // file with the same contents, so no reference observes a change.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
    }
}

/// Elsewhere the pages stay; nothing to do.
#[cfg(not(target_os = "linux"))]
pub fn drop_embedded_pages(_bytes: &'static [u8]) {}

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

/// CPU time (user and system) this process has used, from
/// `/proc/self/stat`; `None` where that file is not there.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields count from after it.
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, which is 100 on every Linux ABI.
    Some(Duration::from_millis(ticks * 10))
}

/// Hand freed memory back whenever the process goes quiet after work (see
/// [`trim_due`]), until `stop` turns true.
pub async fn trim_when_quiet(mut stop: watch::Receiver<bool>) {
    let mut last = cpu_time();
    let mut quiet = 0u32;
    let mut since_trim = 0u32;
    loop {
        tokio::select! {
            () = tokio::time::sleep(SAMPLE_EVERY) => {
                let now = cpu_time();
                let used = match (last, now) {
                    (Some(a), Some(b)) => b.saturating_sub(a),
                    _ => Duration::ZERO,
                };
                last = now;
                if used.as_secs_f64() < QUIET_SHARE * SAMPLE_EVERY.as_secs_f64() {
                    quiet = quiet.saturating_add(1);
                } else {
                    quiet = 0;
                }
                since_trim = since_trim.saturating_add(1);
                if trim_due(quiet, since_trim) {
                    since_trim = 0;
                    let _ = tokio::task::spawn_blocking(release_freed_memory).await;
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_follow_a_burst_and_never_stop_for_long() {
        let quiet_trims: Vec<u32> = (1..=200).filter(|&q| trim_due(q, 0)).collect();
        assert_eq!(quiet_trims, vec![1, 3, 6, 15, 60, 120, 180]);
        // A busy process still trims once a minute.
        assert!(!trim_due(0, 59));
        assert!(trim_due(0, 60));
    }

    #[test]
    fn cpu_time_is_read_and_grows() {
        let before = cpu_time().expect("/proc/self/stat");
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(cpu_time().expect("/proc/self/stat") > before);
    }
}
