//! Running the servers' command-line tools and reading their logs.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ports::{poll, wait_closed};

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

/// A server we started as our child, listening on known loopback ports:
/// started with its output appended to a log, stopped with SIGTERM (then
/// SIGKILL) and its ports waited on. What Dovecot, Tryton and the CRM share.
pub(crate) struct ServerProcess {
    /// Its name in messages (`trytond`).
    name: &'static str,
    ports: Vec<u16>,
    child: Option<Child>,
}

impl ServerProcess {
    /// A server called `name` on `ports`, not started yet.
    pub(crate) fn new(name: &'static str, ports: Vec<u16>) -> Self {
        Self {
            name,
            ports,
            child: None,
        }
    }

    /// Whether it runs.
    pub(crate) fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Spawn `cmd` with stdin closed and stdout and stderr appended to
    /// `log`; `install` names what installs the program, for the error.
    pub(crate) fn spawn(
        &mut self,
        cmd: &mut Command,
        log: &Path,
        install: &str,
    ) -> Result<&mut Child> {
        let out = fs::OpenOptions::new().create(true).append(true).open(log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {} (installed? see {install})", self.name))?;
        Ok(self.child.insert(child))
    }

    /// Stop it without waiting for the ports (after a failed start they may
    /// belong to someone else). Returns whether it was running.
    pub(crate) fn halt(&mut self) -> Result<bool> {
        let Some(mut child) = self.child.take() else {
            return Ok(false);
        };
        terminate(&mut child, Duration::from_secs(10))?;
        Ok(true)
    }

    /// Stop it and wait until its ports are closed.
    pub(crate) fn stop(&mut self) -> Result<()> {
        if self.halt()? {
            wait_closed(&self.ports, Duration::from_secs(20))
                .with_context(|| format!("stopping {}", self.name))?;
        }
        Ok(())
    }
}
