//! Webhook subscription handshakes the host answers for a plugin.
//!
//! Some providers check a webhook URL before they send anything to it:
//! Meta (WhatsApp, Messenger, Instagram) sends
//! `GET ?hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<n>` and
//! expects `<n>` back when the token is the one configured on both sides.
//! Such a handshake is a fixed protocol, not a mapping, so a manifest
//! declares it and the host answers it without waking the sandbox:
//!
//! ```toml
//! secrets = ["verify-token"]
//!
//! [webhook_handshake]
//! style = "hub-challenge"
//! secret = "verify-token"
//! ```
//!
//! The token is compared in constant time with the operator's secret; the
//! challenge is echoed only when it is short plain text.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::grant::Policy;

/// The longest challenge echoed back (Meta sends a number).
pub const MAX_CHALLENGE_LEN: usize = 256;

/// A handshake a manifest declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookHandshake {
    /// Which protocol.
    pub style: HandshakeStyle,
    /// The secret (by its name under `secrets`) holding the verify token.
    pub secret: String,
}

/// The handshake protocols the host knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandshakeStyle {
    /// Meta's `hub.mode` / `hub.verify_token` / `hub.challenge`.
    HubChallenge,
}

/// Why a handshake was not answered; each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeRefusal {
    /// The plugin declares no handshake.
    #[error("plugin `{plugin}` declares no webhook handshake; its provider sends events with POST")]
    NotDeclared {
        /// The plugin.
        plugin: String,
    },
    /// The operator has not configured the token's secret.
    #[error("secret `{secret}` (the webhook verify token) is not configured for plugin `{plugin}`")]
    NoToken {
        /// The plugin.
        plugin: String,
        /// The secret's name.
        secret: String,
    },
    /// A parameter is missing or wrong.
    #[error("{0}")]
    BadRequest(String),
    /// The token does not match.
    #[error("`hub.verify_token` is not the verify token configured for this channel account")]
    WrongToken,
}

// === impl WebhookHandshake ===

impl WebhookHandshake {
    /// What is wrong with this declaration in a manifest that requests
    /// `secrets`, if anything.
    pub(crate) fn problem(&self, secrets: &std::collections::BTreeSet<String>) -> Option<String> {
        (!secrets.contains(&self.secret)).then(|| {
            format!(
                "webhook_handshake.secret `{}` is not listed under `secrets`",
                self.secret
            )
        })
    }

    /// The body to answer a handshake request with (its query parameters,
    /// decoded), or why not.
    pub fn answer(
        &self,
        plugin: &str,
        policy: &Policy,
        query: &HashMap<String, String>,
    ) -> Result<String, HandshakeRefusal> {
        match self.style {
            HandshakeStyle::HubChallenge => self.hub_challenge(plugin, policy, query),
        }
    }

    fn hub_challenge(
        &self,
        plugin: &str,
        policy: &Policy,
        query: &HashMap<String, String>,
    ) -> Result<String, HandshakeRefusal> {
        let param = |name: &str| {
            query.get(name).ok_or_else(|| {
                HandshakeRefusal::BadRequest(format!("query parameter `{name}` is missing"))
            })
        };
        let mode = param("hub.mode")?;
        if mode != "subscribe" {
            return Err(HandshakeRefusal::BadRequest(format!(
                "`hub.mode` is `{mode}`; only `subscribe` is answered"
            )));
        }
        let challenge = param("hub.challenge")?;
        if challenge.is_empty()
            || challenge.len() > MAX_CHALLENGE_LEN
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        {
            return Err(HandshakeRefusal::BadRequest(format!(
                "`hub.challenge` must be 1 to {MAX_CHALLENGE_LEN} letters, digits, `-`, `_`, `.` or `~`"
            )));
        }
        let presented = param("hub.verify_token")?;
        let expected = policy
            .secret(&self.secret)
            .ok_or_else(|| HandshakeRefusal::NoToken {
                plugin: plugin.to_owned(),
                secret: self.secret.clone(),
            })?;
        if bool::from(expected.expose().ct_eq(presented.as_bytes())) {
            Ok(challenge.clone())
        } else {
            Err(HandshakeRefusal::WrongToken)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::{Grant, SecretValue};
    use crate::manifest::Manifest;
    use std::path::Path;

    const MANIFEST: &str = r#"
manifest_version = 1
id = "meta"
version = "1.0.0"
worlds = ["channel"]
capabilities = ["secrets"]
secrets = ["verify-token"]

[webhook_handshake]
style = "hub-challenge"
secret = "verify-token"
"#;

    fn setup(token: Option<&[u8]>) -> (WebhookHandshake, Policy) {
        let manifest = Manifest::parse(MANIFEST, Path::new("m")).expect("valid");
        let mut grant = Grant::all_requested(&manifest);
        if let Some(token) = token {
            grant
                .secrets
                .insert("verify-token".into(), SecretValue::new(token.to_vec()));
        }
        let handshake = manifest.webhook_handshake.clone().expect("declared");
        (handshake, Policy::new(&manifest, &grant))
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn echoes_the_challenge_for_the_right_token_only() {
        let (handshake, policy) = setup(Some(b"tok3n"));
        let good = query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "tok3n"),
            ("hub.challenge", "1158201444"),
        ]);
        assert_eq!(
            handshake.answer("meta", &policy, &good).as_deref(),
            Ok("1158201444")
        );
        let mut wrong = good.clone();
        wrong.insert("hub.verify_token".into(), "tok3".into());
        assert_eq!(
            handshake.answer("meta", &policy, &wrong),
            Err(HandshakeRefusal::WrongToken)
        );
    }

    #[test]
    fn refuses_bad_requests_with_a_reason() {
        let (handshake, policy) = setup(Some(b"tok3n"));
        for (pairs, reason) in [
            (
                vec![("hub.verify_token", "tok3n"), ("hub.challenge", "1")],
                "`hub.mode` is missing",
            ),
            (
                vec![
                    ("hub.mode", "unsubscribe"),
                    ("hub.verify_token", "tok3n"),
                    ("hub.challenge", "1"),
                ],
                "only `subscribe`",
            ),
            (
                vec![
                    ("hub.mode", "subscribe"),
                    ("hub.verify_token", "tok3n"),
                    ("hub.challenge", "<script>"),
                ],
                "`hub.challenge` must be",
            ),
            (
                vec![("hub.mode", "subscribe"), ("hub.challenge", "1")],
                "`hub.verify_token` is missing",
            ),
        ] {
            let refusal = handshake
                .answer("meta", &policy, &query(&pairs))
                .unwrap_err();
            assert!(refusal.to_string().contains(reason), "{refusal}");
        }
        let (handshake, unconfigured) = setup(None);
        let refusal = handshake
            .answer(
                "meta",
                &unconfigured,
                &query(&[
                    ("hub.mode", "subscribe"),
                    ("hub.verify_token", ""),
                    ("hub.challenge", "1"),
                ]),
            )
            .unwrap_err();
        assert!(
            matches!(refusal, HandshakeRefusal::NoToken { .. }),
            "{refusal}"
        );
    }

    #[test]
    fn the_secret_must_be_requested() {
        let text = MANIFEST.replace("secret = \"verify-token\"", "secret = \"other\"");
        let error = Manifest::parse(&text, Path::new("m")).unwrap_err();
        assert!(
            error.to_string().contains("not listed under `secrets`"),
            "{error}"
        );
    }
}
