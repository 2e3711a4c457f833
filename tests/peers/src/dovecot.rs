//! Dovecot: IMAP (STARTTLS offered, plaintext login allowed) and IMAPS, plus the
//! SASL socket Postfix authenticates against.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::accounts::{PASSWORD, USERS};
use crate::instance::{Instance, p, render};
use crate::ports::{is_open, poll, read_greeting};
use crate::process::{ServerProcess, log_tail, run};

const TEMPLATE: &str = include_str!("../templates/dovecot.conf");
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// One configured Dovecot, running or not.
pub(crate) struct Dovecot {
    dir: PathBuf,
    id: String,
    ports: [u16; 2],
    server: ServerProcess,
}

impl Dovecot {
    /// Writes `dovecot/dovecot.conf` and the users file into the instance dir.
    pub(crate) fn configure(inst: &Instance) -> Result<Dovecot> {
        let dir = inst.root().join("dovecot");
        fs::create_dir_all(dir.join("run"))?;
        fs::create_dir_all(dir.join("state"))?;
        let users: String = USERS
            .iter()
            .map(|u| format!("{u}:{{PLAIN}}{PASSWORD}::::::\n"))
            .collect();
        fs::write(dir.join("users"), users)?;
        let conf = render(
            TEMPLATE,
            &[
                ("ID", inst.id.clone()),
                ("DIR", p(&dir)),
                ("MAIL", p(&inst.mail_root())),
                ("VMAIL_UID", inst.vmail.0.to_string()),
                ("VMAIL_GID", inst.vmail.1.to_string()),
                ("CERT", p(&inst.certs.cert)),
                ("KEY", p(&inst.certs.key)),
                ("IMAP_PORT", inst.ports.imap.to_string()),
                ("IMAPS_PORT", inst.ports.imaps.to_string()),
            ],
        )?;
        fs::write(dir.join("dovecot.conf"), conf)?;
        run(Command::new("/usr/bin/doveconf")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .arg("-n"))
        .context("checking the generated dovecot.conf")?;
        Ok(Dovecot {
            dir,
            id: inst.id.clone(),
            ports: [inst.ports.imap, inst.ports.imaps],
            server: ServerProcess::new("dovecot", vec![inst.ports.imap, inst.ports.imaps]),
        })
    }

    /// Starts the master in the foreground (as our child, so we reap it) and waits
    /// until IMAP greets with this instance's id and IMAPS accepts connections.
    pub(crate) fn start(&mut self) -> Result<()> {
        if self.server.is_running() {
            return Ok(());
        }
        let child = self.server.spawn(
            Command::new("/usr/sbin/dovecot")
                .arg("-F")
                .arg("-c")
                .arg(self.dir.join("dovecot.conf")),
            &self.dir.join("stdout.log"),
            "tests/peers/install.sh",
        )?;
        let [imap, imaps] = self.ports;
        let marker = format!("Silta test IMAP {} ready", self.id);
        let ready = poll(READY_TIMEOUT, || {
            if let Some(status) = child.try_wait()? {
                bail!("dovecot exited ({status})");
            }
            match read_greeting(imap) {
                Ok(line) if line.contains(&marker) => Ok(is_open(imaps)),
                Ok(line) => bail!("port {imap} is answered by another server: {line:?}"),
                Err(_) => Ok(false),
            }
        });
        if let Err(e) = ready {
            let tail = self.logs();
            self.server.halt().ok();
            bail!("dovecot did not become ready on 127.0.0.1:{imap}/{imaps}: {e:#}\n{tail}");
        }
        Ok(())
    }

    /// Stops the master (SIGTERM, then reaped) and waits until both ports close.
    pub(crate) fn stop(&mut self) -> Result<()> {
        self.server.stop().with_context(|| self.logs())
    }

    /// The tail of Dovecot's logs.
    pub(crate) fn logs(&self) -> String {
        log_tail(
            &[&self.dir.join("dovecot.log"), &self.dir.join("stdout.log")],
            30,
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("silta-test-peers: {e:#}");
        }
    }
}
