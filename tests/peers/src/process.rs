//! Running the servers' command-line tools and reading their logs.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ports::poll;

/// Runs `cmd` to completion; fails with its output when it exits non-zero.
pub(crate) fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.stdin(Stdio::null()).output().with_context(|| {
        format!("running {cmd:?} (is it installed? see tests/peers/install.sh)")
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("{cmd:?} failed ({}):\n{text}", out.status);
    }
    Ok(text)
}

/// Sends SIGTERM to `child`, reaps it, and falls back to SIGKILL after `grace`.
pub(crate) fn terminate(child: &mut Child, grace: Duration) -> Result<()> {
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    // std only offers SIGKILL; SIGTERM lets Dovecot stop its own children first.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    if poll(grace, || Ok(child.try_wait()?.is_some())).is_err() {
        child.kill().ok();
        child.wait().context("reaping the killed server")?;
    }
    Ok(())
}

/// The last `lines` lines of each existing log file, for error messages.
pub(crate) fn log_tail(files: &[&Path], lines: usize) -> String {
    let mut tail = String::new();
    for file in files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        tail.push_str(&format!("--- {} (last {lines} lines)\n", file.display()));
        for line in &all[start..] {
            tail.push_str(line);
            tail.push('\n');
        }
    }
    if tail.is_empty() {
        tail.push_str("(no log written)\n");
    }
    tail
}
