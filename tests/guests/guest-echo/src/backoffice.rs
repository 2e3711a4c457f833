//! A back office with one known customer and records that always succeed,
//! and one customer whose lookup takes five seconds.

use guest_kit::silta::connector::types::{Background, BackofficeLink, Identity, IdentityKind};

/// The system name on every link this plugin returns.
pub const SYSTEM: &str = "echo-crm";

/// The one email address the back office knows.
pub const KNOWN_EMAIL: &str = "known@example.test";

/// An email address whose lookup takes [`SLOW_LOOKUP`] (a host call).
pub const SLOW_EMAIL: &str = "slow@example.test";

/// How long a lookup of [`SLOW_EMAIL`] takes.
pub const SLOW_LOOKUP: std::time::Duration = std::time::Duration::from_secs(5);

/// `Known Customer`, contact `42`, when any identity is [`KNOWN_EMAIL`].
pub fn lookup(identities: &[Identity]) -> Option<Background> {
    if identities
        .iter()
        .any(|identity| matches!(identity.kind, IdentityKind::Email) && identity.value == SLOW_EMAIL)
    {
        std::thread::sleep(SLOW_LOOKUP);
    }
    let known = identities.iter().any(|identity| {
        matches!(identity.kind, IdentityKind::Email) && identity.value == KNOWN_EMAIL
    });
    known.then(|| Background {
        display_name: Some("Known Customer".to_owned()),
        identities: Vec::new(),
        links: vec![link("contact", "42".to_owned())],
        attributes: Vec::new(),
    })
}

/// A bare link to a record of `object_type` in [`SYSTEM`].
pub fn link(object_type: &str, remote_id: String) -> BackofficeLink {
    BackofficeLink {
        system: SYSTEM.to_owned(),
        object_type: object_type.to_owned(),
        remote_id,
        url: None,
        snapshot: Vec::new(),
    }
}
