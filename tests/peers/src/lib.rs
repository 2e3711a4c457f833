//! Real mail servers for tests: Dovecot (IMAP) and Postfix (SMTP) started as plain
//! processes on free 127.0.0.1 ports, each instance in a fresh temp dir.
//!
//! [`MailServers::start`] gives a test its own pair; several tests and test
//! processes may run instances at once (no fixed ports, paths or names). Users
//! [`USERS`] with password [`PASSWORD`] have `<user>@example.test` and
//! `<user>@customer.test`, both delivered into the same Dovecot INBOX;
//! `<user>+tag@...` goes to `<user>`. Nothing is ever relayed off the machine.
//!
//! Needs root and the Debian packages that `tests/peers/install.sh` installs.
//! A start takes about 0.7 s, a drop about 1.2 s (Dovecot waits for its children).
//! The servers are stopped by `Drop`, so a test process killed outright (SIGKILL,
//! `process::exit`) leaves its instance running; its temp dir names it
//! (`$TMPDIR/silta-peers-*`, `postfix -c <dir>/postfix/etc stop`).
//!
//! ```no_run
//! let mail = silta_test_peers::MailServers::start()?;
//! // SMTP to 127.0.0.1:mail.smtp_port(), read over IMAP on mail.imaps_port(),
//! // trusting mail.ca_cert_pem().
//! # anyhow::Ok(())
//! ```

mod accounts;
mod crm;
mod dovecot;
mod http;
mod instance;
mod ports;
mod postfix;
mod process;
mod servers;
mod tls;
mod tryton;

pub use accounts::{DOMAINS, PASSWORD, USERS};
pub use crm::{Crm, CrmCase, CrmComment, CrmContact};
pub use servers::MailServers;
pub use tryton::{SaleLine, Tryton};
