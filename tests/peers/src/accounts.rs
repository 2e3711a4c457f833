//! Mail users, the shared password, and the system accounts the servers run as.

use std::fs;

use anyhow::{Context, Result};

/// The password of every test user.
pub const PASSWORD: &str = "secret";

/// The domains whose addresses are delivered locally.
pub const DOMAINS: [&str; 2] = ["example.test", "customer.test"];

/// The mail users: each has `<user>@example.test` and `<user>@customer.test`.
pub const USERS: [&str; 5] = ["support", "alice", "bob", "carol", "dave"];

/// Uid and gid of a system user, read from /etc/passwd (no libc needed).
pub(crate) fn system_user(name: &str) -> Result<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        })
        .flatten()
        .next()
        .with_context(|| {
            format!("system user {name:?} not found; run tests/peers/install.sh as root")
        })
}
