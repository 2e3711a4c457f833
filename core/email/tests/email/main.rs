//! Integration tests of the email transports against real servers: Dovecot
//! and Postfix from `silta-test-peers`, one fresh pair per test on free
//! loopback ports. The only double is the sink ([`support::MemorySink`]),
//! standing in for the pipeline's journal.
//!
//! Needs root and the packages of `tests/peers/install.sh`.

mod imap;
mod smtp;
mod support;
