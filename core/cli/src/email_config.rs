//! The mail servers of an email channel account, as configured.
//!
//! ```toml
//! [[channel_accounts]]
//! name = "support"
//! plugin = "email"
//!
//! [channel_accounts.imap]             # mail in
//! host = "imap.example.com"
//! port = 993
//! security = "tls"                    # tls | starttls | plain
//! username = "support@example.com"
//! password = { env = "SILTA_SUPPORT_IMAP_PASSWORD" }
//! mailboxes = ["INBOX"]
//! after_ingest = "seen"               # or { move_to = "Silta/Processed" }
//! batch_size = 50
//! idle = true                         # IDLE when offered, else poll
//! poll_seconds = 60
//! # ca_file = "/etc/silta/mail-ca.pem"  # trust a private CA as well
//!
//! [channel_accounts.smtp]             # mail out
//! host = "smtp.example.com"
//! port = 587
//! security = "starttls"
//! username = "support@example.com"
//! password = { env = "SILTA_SUPPORT_SMTP_PASSWORD" }
//! pool_size = 4
//! timeout_seconds = 30
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use silta_email::{AfterIngest, ImapAccount, Security, SmtpAccount};

use crate::config::{SecretSource, yes};

/// How a mail connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecurityConfig {
    /// TLS from the first byte (IMAPS on 993, SMTPS on 465).
    Tls,
    /// STARTTLS before login (IMAP on 143, submission on 587).
    Starttls,
    /// No TLS: only for a server on the same machine.
    Plain,
}

impl From<SecurityConfig> for Security {
    fn from(value: SecurityConfig) -> Self {
        match value {
            SecurityConfig::Tls => Security::Tls,
            SecurityConfig::Starttls => Security::StartTls,
            SecurityConfig::Plain => Security::Plain,
        }
    }
}

/// What happens to a message on the server once it is journaled.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AfterIngestConfig {
    /// `"seen"`: set `\Seen` and leave it where it is.
    Keyword(SeenKeyword),
    /// `{ move_to = "Folder" }`: move it to an existing folder.
    Move {
        /// The folder.
        move_to: String,
    },
}

/// The one keyword form of [`AfterIngestConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeenKeyword {
    /// Mark it `\Seen`.
    Seen,
}

/// The IMAP side of an email channel account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How the connection is secured.
    pub security: SecurityConfig,
    /// Login name.
    pub username: String,
    /// Login password, from the environment or a file.
    pub password: SecretSource,
    /// Mailboxes to read, each on its own connection.
    #[serde(default = "default_mailboxes")]
    pub mailboxes: Vec<String>,
    /// What happens to a message once it is journaled.
    #[serde(default = "default_after_ingest")]
    pub after_ingest: AfterIngestConfig,
    /// Messages fetched at a time.
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// Wait for mail with IDLE when the server offers it.
    #[serde(default = "yes")]
    pub idle: bool,
    /// Seconds between polls when not idling.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// PEM file of certificates to trust besides the usual roots.
    pub ca_file: Option<PathBuf>,
}

/// The SMTP side of an email channel account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How the connection is secured.
    pub security: SecurityConfig,
    /// AUTH user name, when the server wants one.
    pub username: Option<String>,
    /// AUTH password, from the environment or a file.
    pub password: Option<SecretSource>,
    /// Name sent in EHLO (default: this host's name).
    pub hello_name: Option<String>,
    /// Connections kept open.
    #[serde(default = "default_pool")]
    pub pool_size: u32,
    /// Seconds before a silent server counts as down.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// PEM file of certificates to trust besides the usual roots.
    pub ca_file: Option<PathBuf>,
}

impl ImapConfig {
    /// The transport's account for channel account `name`, with the
    /// password read.
    pub fn account(&self, name: &str) -> anyhow::Result<ImapAccount> {
        Ok(ImapAccount {
            name: name.to_owned(),
            host: self.host.clone(),
            port: self.port,
            security: self.security.into(),
            username: self.username.clone(),
            password: self
                .password
                .read(&format!("channel account {name}: imap password"))?,
            mailboxes: self.mailboxes.clone(),
            after_ingest: match &self.after_ingest {
                AfterIngestConfig::Keyword(SeenKeyword::Seen) => AfterIngest::MarkSeen,
                AfterIngestConfig::Move { move_to } => AfterIngest::MoveTo(move_to.clone()),
            },
            batch_size: self.batch_size.max(1),
            idle: self.idle,
            poll_interval: Duration::from_secs(self.poll_seconds.max(1)),
            extra_root_pem: read_ca(self.ca_file.as_ref(), name)?,
        })
    }
}

impl SmtpConfig {
    /// The transport's account for channel account `name`, with the
    /// password read.
    pub fn account(&self, name: &str) -> anyhow::Result<SmtpAccount> {
        let password = self
            .password
            .as_ref()
            .map(|p| p.read(&format!("channel account {name}: smtp password")))
            .transpose()?;
        anyhow::ensure!(
            self.username.is_some() == password.is_some(),
            "channel account {name}: smtp needs both `username` and `password`, or neither"
        );
        Ok(SmtpAccount {
            host: self.host.clone(),
            port: self.port,
            security: self.security.into(),
            username: self.username.clone(),
            password,
            hello_name: self.hello_name.clone(),
            pool_size: self.pool_size.max(1),
            timeout: Duration::from_secs(self.timeout_seconds.max(1)),
            extra_root_pem: read_ca(self.ca_file.as_ref(), name)?,
        })
    }
}

fn read_ca(path: Option<&PathBuf>, account: &str) -> anyhow::Result<Option<Vec<u8>>> {
    path.map(|p| {
        std::fs::read(p)
            .with_context(|| format!("channel account {account}: reading ca_file {}", p.display()))
    })
    .transpose()
}

fn default_mailboxes() -> Vec<String> {
    vec!["INBOX".to_owned()]
}

fn default_after_ingest() -> AfterIngestConfig {
    AfterIngestConfig::Keyword(SeenKeyword::Seen)
}

fn default_batch() -> u32 {
    50
}

fn default_poll_seconds() -> u64 {
    60
}

fn default_pool() -> u32 {
    4
}

fn default_timeout() -> u64 {
    30
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imap(extra: &str) -> Result<ImapConfig, toml::de::Error> {
        toml::from_str(&format!(
            "host = \"imap.example.com\"\nport = 993\nsecurity = \"tls\"\nusername = \"support\"\n\
             password = {{ env = \"PW\" }}\n{extra}"
        ))
    }

    #[test]
    fn after_ingest_is_seen_by_default_or_a_move() {
        let seen = imap("").expect("defaults");
        assert_eq!(
            seen.after_ingest,
            AfterIngestConfig::Keyword(SeenKeyword::Seen)
        );
        assert_eq!(seen.mailboxes, vec!["INBOX".to_owned()]);
        let moved = imap("after_ingest = { move_to = \"Done\" }").expect("move");
        assert_eq!(
            moved.after_ingest,
            AfterIngestConfig::Move {
                move_to: "Done".into()
            }
        );
        assert!(imap("after_ingest = \"delete\"").is_err());
    }

    #[test]
    fn unknown_keys_and_securities_are_refused_by_name() {
        let err = imap("pasword = 1").expect_err("typo");
        assert!(err.to_string().contains("pasword"), "{err}");
        let err = toml::from_str::<SmtpConfig>("host = \"h\"\nport = 25\nsecurity = \"ssl\"")
            .expect_err("ssl is not a security");
        assert!(err.to_string().contains("ssl"), "{err}");
    }

    #[test]
    fn smtp_credentials_come_in_pairs() {
        let smtp: SmtpConfig =
            toml::from_str("host = \"h\"\nport = 587\nsecurity = \"starttls\"\nusername = \"u\"")
                .expect("parses");
        let err = smtp.account("support").expect_err("no password");
        assert!(err.to_string().contains("both"), "{err}");
    }
}
