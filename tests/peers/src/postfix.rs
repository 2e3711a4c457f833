//! Postfix: MX-style SMTP, submission (STARTTLS + AUTH required) and SMTPS (+ AUTH),
//! delivering the two local domains into Dovecot's Maildirs with its `virtual` agent.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};

use crate::accounts::{DOMAINS, USERS, system_user};
use crate::instance::{Instance, p, render};
use crate::ports::{is_open, poll, read_greeting, wait_closed};
use crate::process::{log_tail, run};

const MAIN_CF: &str = include_str!("../templates/main.cf");
const MASTER_CF: &str = include_str!("../templates/master.cf");
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// One configured Postfix, running or not.
pub(crate) struct Postfix {
    dir: PathBuf,
    hostname: String,
    ports: [u16; 3],
    running: bool,
}

impl Postfix {
    /// Writes `postfix/etc/{main,master}.cf` and the mailbox map, and creates the
    /// queue and data directories.
    pub(crate) fn configure(inst: &Instance) -> Result<Postfix> {
        let dir = inst.root().join("postfix");
        let etc = dir.join("etc");
        fs::create_dir_all(&etc)?;
        fs::create_dir_all(dir.join("spool"))?;
        fs::create_dir_all(dir.join("data"))?;
        let (uid, gid) = system_user("postfix")?;
        chown(dir.join("data"), Some(uid), Some(gid))?;
        fs::set_permissions(dir.join("data"), fs::Permissions::from_mode(0o700))?;
        let values = [
            ("ID", inst.id.clone()),
            ("ROOT", p(inst.root())),
            ("DIR", p(&dir)),
            ("MAIL", p(&inst.mail_root())),
            ("VMAIL_UID", inst.vmail.0.to_string()),
            ("VMAIL_GID", inst.vmail.1.to_string()),
            ("CERT", p(&inst.certs.cert)),
            ("KEY", p(&inst.certs.key)),
            ("SASL_SOCKET", p(&inst.sasl_socket())),
            ("SMTP_PORT", inst.ports.smtp.to_string()),
            ("SUBMISSION_PORT", inst.ports.submission.to_string()),
            ("SMTPS_PORT", inst.ports.smtps.to_string()),
        ];
        fs::write(etc.join("main.cf"), render(MAIN_CF, &values)?)?;
        fs::write(etc.join("master.cf"), render(MASTER_CF, &values)?)?;
        let vmailbox: String = USERS
            .iter()
            .flat_map(|u| {
                DOMAINS
                    .iter()
                    .map(move |d| format!("{u}@{d} {u}/Maildir/\n"))
            })
            .collect();
        fs::write(etc.join("vmailbox"), vmailbox)?;
        for file in ["main.cf", "master.cf", "vmailbox"] {
            backdate(&etc.join(file))?;
        }
        // No `postfix check` here: it takes seconds, and `postfix start` runs the
        // part that matters (creating the queue subdirectories) itself.
        Ok(Postfix {
            dir,
            hostname: format!("mx-{}.example.test", inst.id),
            ports: [inst.ports.smtp, inst.ports.submission, inst.ports.smtps],
            running: false,
        })
    }

    /// `postfix -c DIR start` (the master daemonizes), then waits for this
    /// instance's 220 banner on SMTP and submission and for SMTPS to accept.
    pub(crate) fn start(&mut self) -> Result<()> {
        if self.running {
            return Ok(());
        }
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("stdout.log"))?;
        // Output to a file, not a pipe: the daemonized master must not hold our pipe.
        let status = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(self.dir.join("etc"))
            .arg("start")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()
            .context("starting postfix (installed? see tests/peers/install.sh)")?;
        self.running = true;
        let [smtp, submission, smtps] = self.ports;
        let ready = if status.success() {
            poll(READY_TIMEOUT, || {
                let ours = |port| match read_greeting(port) {
                    Ok(line) if line.starts_with("220 ") && line.contains(&self.hostname) => {
                        Ok(true)
                    }
                    Ok(line) => bail!("port {port} is answered by another server: {line:?}"),
                    Err(_) => Ok(false),
                };
                Ok(ours(smtp)? && ours(submission)? && is_open(smtps))
            })
        } else {
            Err(anyhow::anyhow!("postfix start failed ({status})"))
        };
        if let Err(e) = ready {
            let tail = self.logs();
            self.halt();
            bail!(
                "postfix did not become ready on 127.0.0.1:{smtp}/{submission}/{smtps}: {e:#}\n{tail}"
            );
        }
        Ok(())
    }

    /// `postfix -c DIR stop`, then waits until all three ports close.
    pub(crate) fn stop(&mut self) -> Result<()> {
        if self.halt() {
            wait_closed(&self.ports, Duration::from_secs(20))
                .with_context(|| format!("stopping postfix\n{}", self.logs()))?;
        }
        Ok(())
    }

    /// `postfix -c DIR stop` without waiting for the ports (after a failed start
    /// they may belong to someone else). Returns whether it was running.
    fn halt(&mut self) -> bool {
        if !std::mem::take(&mut self.running) {
            return false;
        }
        // Fails when the master is already gone; callers check the ports.
        let _ = run(Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(self.dir.join("etc"))
            .arg("stop"));
        true
    }

    /// The 220 banner's host name, unique to this instance.
    pub(crate) fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The tail of Postfix's logs.
    pub(crate) fn logs(&self) -> String {
        log_tail(
            &[&self.dir.join("maillog"), &self.dir.join("stdout.log")],
            30,
        )
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("silta-test-peers: {e:#}");
        }
    }
}

/// Sets the file's mtime a minute back. Postfix reads a config or table file only
/// once its mtime is two seconds old (a guard against half-written files), so a
/// fresh file would cost every start and `postconf` about two seconds.
fn backdate(file: &Path) -> Result<()> {
    let past = SystemTime::now() - Duration::from_secs(60);
    File::options().write(true).open(file)?.set_modified(past)?;
    Ok(())
}
