//! [`MailServers`]: one Dovecot plus one Postfix sharing a temp dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};

use crate::accounts::PASSWORD;
use crate::dovecot::Dovecot;
use crate::instance::Instance;
use crate::ports::poll;
use crate::postfix::Postfix;

/// How often a start is retried when another process took one of the free ports
/// between our probe and the server's bind.
const START_ATTEMPTS: usize = 5;

/// A running Dovecot + Postfix pair for one test; dropping it stops both, waits
/// for their ports to close and removes the temp dir with all mail.
///
/// Hold it in the test (a `static` is never dropped, so its servers would outlive
/// the test process). Everything runs as root; the Maildirs belong to `vmail`.
pub struct MailServers {
    // Field order is drop order: Postfix (uses Dovecot's SASL socket), then
    // Dovecot, then the temp dir.
    postfix: Postfix,
    dovecot: Dovecot,
    instance: Instance,
}

// === impl MailServers ===

impl MailServers {
    /// Start Dovecot then Postfix; returns when both accept connections.
    ///
    /// Retries with new ports when a port was taken by someone else meanwhile.
    /// Errors carry the tail of the failing server's log.
    pub fn start() -> Result<MailServers> {
        let mut attempt = 1;
        loop {
            match Self::start_once() {
                Ok(servers) => return Ok(servers),
                Err(e) if attempt < START_ATTEMPTS && port_was_taken(&e) => attempt += 1,
                Err(e) => return Err(e.context("starting the test mail servers")),
            }
        }
    }

    fn start_once() -> Result<MailServers> {
        let instance = Instance::create()?;
        let mut servers = MailServers {
            dovecot: Dovecot::configure(&instance)?,
            postfix: Postfix::configure(&instance)?,
            instance,
        };
        servers.dovecot.start()?;
        servers.postfix.start()?;
        Ok(servers)
    }

    /// IMAP port: STARTTLS offered, plaintext LOGIN allowed without it.
    pub fn imap_port(&self) -> u16 {
        self.instance.ports.imap
    }

    /// IMAP over implicit TLS.
    pub fn imaps_port(&self) -> u16 {
        self.instance.ports.imaps
    }

    /// MX-style SMTP: STARTTLS offered, no AUTH, accepts mail for the local users
    /// of example.test and customer.test (unknown users get 550, other domains 554).
    pub fn smtp_port(&self) -> u16 {
        self.instance.ports.smtp
    }

    /// Submission: STARTTLS and AUTH (PLAIN, LOGIN; checked by Dovecot) required.
    /// Authenticated clients may send to any local user of both domains.
    /// AUTH fails while IMAP is stopped, since Dovecot checks the passwords.
    pub fn submission_port(&self) -> u16 {
        self.instance.ports.submission
    }

    /// SMTP over implicit TLS, AUTH required.
    pub fn smtps_port(&self) -> u16 {
        self.instance.ports.smtps
    }

    /// The PEM CA certificate to trust; it signed the certificate (SAN
    /// `localhost`, `127.0.0.1`) that both servers present. Fresh per instance.
    pub fn ca_cert_pem(&self) -> &Path {
        &self.instance.certs.ca
    }

    /// The password of every user: `"secret"`.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// The host name in Postfix's 220 banner (`mx-<instance id>.example.test`).
    pub fn smtp_hostname(&self) -> &str {
        self.postfix.hostname()
    }

    /// Stops Dovecot (its ports closed when this returns); the mail is kept, and
    /// Postfix keeps delivering into the Maildirs meanwhile.
    pub fn stop_imap(&mut self) -> Result<()> {
        self.dovecot.stop()
    }

    /// Starts Dovecot again on the same ports with the same mail.
    pub fn start_imap(&mut self) -> Result<()> {
        self.dovecot.start()
    }

    /// Stops Postfix (its ports closed when this returns); queued mail is kept.
    pub fn stop_smtp(&mut self) -> Result<()> {
        self.postfix.stop()
    }

    /// Starts Postfix again on the same ports.
    pub fn start_smtp(&mut self) -> Result<()> {
        self.postfix.start()
    }

    /// The Maildir of `user` (`<dir>/{new,cur,tmp}`); it exists once the first
    /// message was delivered or the user logged in over IMAP.
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.instance.mail_root().join(user).join("Maildir")
    }

    /// Waits until a message containing `needle` is in `user`'s INBOX Maildir and
    /// returns its text. Delivery is asynchronous: SMTP's 250 means queued.
    pub fn wait_for_message(&self, user: &str, needle: &str, timeout: Duration) -> Result<String> {
        let dir = self.maildir(user);
        let mut found = None;
        let waited = poll(timeout, || {
            for sub in ["new", "cur"] {
                let Ok(entries) = fs::read_dir(dir.join(sub)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let text = String::from_utf8_lossy(&fs::read(entry.path())?).into_owned();
                    if text.contains(needle) {
                        found = Some(text);
                        return Ok(true);
                    }
                }
            }
            Ok(false)
        });
        match (waited, found) {
            (Ok(()), Some(text)) => Ok(text),
            _ => bail!(
                "no message containing {needle:?} reached {} within {timeout:?}\n{}",
                dir.display(),
                self.postfix.logs()
            ),
        }
    }

    /// The temp dir holding configs, logs, queue and mail of this instance.
    pub fn dir(&self) -> &Path {
        self.instance.root()
    }

    /// The tails of both servers' logs, for a failing test's message.
    pub fn logs(&self) -> String {
        format!("{}{}", self.dovecot.logs(), self.postfix.logs())
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        for result in [self.postfix.stop(), self.dovecot.stop()] {
            if let Err(e) = result {
                eprintln!("silta-test-peers: {e:#}");
            }
        }
    }
}

/// Whether a start failed because another process holds one of our ports.
fn port_was_taken(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}");
    text.contains("Address already in use") || text.contains("answered by another server")
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// `start` retries on exactly these errors, so they must be recognisable.
    #[test]
    fn a_port_taken_meanwhile_is_recognised() {
        let instance = Instance::create().unwrap();
        let thief = TcpListener::bind(("127.0.0.1", instance.ports.imap)).unwrap();
        let err = Dovecot::configure(&instance).unwrap().start().unwrap_err();
        assert!(port_was_taken(&err), "{err:#}");
        drop(thief);

        let thief = TcpListener::bind(("127.0.0.1", instance.ports.submission)).unwrap();
        let err = Postfix::configure(&instance).unwrap().start().unwrap_err();
        assert!(port_was_taken(&err), "{err:#}");
        drop(thief);
    }
}
