//! The email channel's peers for tests: a node configured with a support
//! mailbox on the test Dovecot and Postfix, and customers' mails sent in
//! over SMTP.

use lettre::AsyncTransport;
use silta_test_peers::MailServers;

use super::Config;

/// The company's support mailbox.
pub const SUPPORT: &str = "support@example.test";

/// A node reading `support`'s INBOX and sending as support@example.test.
pub fn email_config(mail: &MailServers) -> Config {
    let ca = mail.ca_cert_pem().display().to_string();
    Config {
        signing_key: true,
        extra_toml: format!(
            r#"
[[plugins]]
id = "email"
capabilities = ["log", "config"]
config = {{ address = "{SUPPORT}", domain = "example.test", name = "Silta Support" }}

[[channel_accounts]]
name = "support"
plugin = "email"

[channel_accounts.imap]
host = "127.0.0.1"
port = {imap}
security = "starttls"
username = "support"
password = {{ env = "SILTA_TEST_MAIL_PASSWORD" }}
idle = true
poll_seconds = 1
ca_file = {ca:?}

[channel_accounts.smtp]
host = "127.0.0.1"
port = {submission}
security = "starttls"
username = "support"
password = {{ env = "SILTA_TEST_MAIL_PASSWORD" }}
timeout_seconds = 10
ca_file = {ca:?}
"#,
            imap = mail.imap_port(),
            submission = mail.submission_port(),
        ),
        env: vec![(
            "SILTA_TEST_MAIL_PASSWORD".into(),
            mail.password().to_owned(),
        )],
        ..Config::default()
    }
}

/// A customer's message as their mail client would write it.
pub struct Mail<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub message_id: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// Extra header lines (`In-Reply-To`, `References`).
    pub headers: &'a [(&'a str, &'a str)],
}

impl Mail<'_> {
    pub fn raw(&self) -> Vec<u8> {
        let mut out = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 24 Nov 2026 09:00:00 +0200\r\n\
             Message-ID: <{id}>\r\nMIME-Version: 1.0\r\n",
            from = self.from,
            to = self.to,
            subject = self.subject,
            id = self.message_id,
        );
        for (name, value) in self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        out.push_str(self.text);
        out.push_str("\r\n");
        out.into_bytes()
    }

    /// Hand the message to Postfix as another mail server would (port 25
    /// style, no AUTH).
    pub async fn send(&self, mail: &MailServers) -> anyhow::Result<()> {
        let transport =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
                .port(mail.smtp_port())
                .build();
        // `From` may carry a display name: `Aino <aino@example.fi>`.
        let sender = self
            .from
            .rsplit_once('<')
            .map_or(self.from, |(_, address)| address.trim_end_matches('>'));
        let envelope =
            lettre::address::Envelope::new(Some(sender.parse()?), vec![self.to.parse()?])?;
        transport.send_raw(&envelope, &self.raw()).await?;
        Ok(())
    }
}
