//! Visitor sessions: an anonymous visitor is an id Silta makes, carried in
//! a token Silta signs, which the widget keeps in the browser's storage.
//!
//! A token is `v1.<visitor id>.<MAC>`, the MAC being HMAC-SHA256 (base64url)
//! with the node's web chat key over a domain string, the channel account
//! and the visitor id. So a token names one visitor of one account, cannot
//! be made without the key, and a token for one site is worthless on
//! another. The widget treats it as opaque.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{Result, WebchatError};

type HmacSha256 = Hmac<Sha256>;

/// What the MAC covers first, so these MACs can never be confused with
/// another use of the key.
const DOMAIN: &[u8] = b"silta webchat visitor v1";

/// The node's key for visitor sessions.
#[derive(Clone)]
pub struct VisitorKeys {
    key: Vec<u8>,
}

impl std::fmt::Debug for VisitorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorKeys(..)")
    }
}

impl VisitorKeys {
    /// Keys from secret bytes (at least 32).
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self> {
        let key = key.into();
        if key.len() < 32 {
            return Err(WebchatError::BadRequest(
                "the web chat key must be at least 32 bytes".into(),
            ));
        }
        Ok(Self { key })
    }

    /// A new visitor of `account`: its id and token.
    #[must_use]
    pub fn new_visitor(&self, account: &str) -> (String, String) {
        let bytes: [u8; 16] = rand::random();
        let visitor = format!("v-{}", hex::encode(bytes));
        let token = self.token(account, &visitor);
        (visitor, token)
    }

    /// The token of `visitor` of `account`.
    #[must_use]
    pub fn token(&self, account: &str, visitor: &str) -> String {
        format!(
            "v1.{visitor}.{}",
            URL_SAFE_NO_PAD.encode(self.mac(account, visitor))
        )
    }

    /// The visitor a token names, if Silta signed it for `account`.
    pub fn verify(&self, account: &str, token: &str) -> Result<String> {
        let refuse = || WebchatError::Unauthorized("the visitor session is not valid".into());
        let rest = token.strip_prefix("v1.").ok_or_else(refuse)?;
        let (visitor, mac) = rest.split_once('.').ok_or_else(refuse)?;
        if !is_visitor_id(visitor) {
            return Err(refuse());
        }
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| refuse())?;
        let expected = self.mac(account, visitor);
        if bool::from(expected.as_slice().ct_eq(&mac)) {
            Ok(visitor.to_owned())
        } else {
            Err(refuse())
        }
    }

    fn mac(&self, account: &str, visitor: &str) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key size");
        for part in [DOMAIN, account.as_bytes(), visitor.as_bytes()] {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// `v-` and 32 lowercase hex digits, as [`VisitorKeys::new_visitor`] makes.
fn is_visitor_id(value: &str) -> bool {
    value.strip_prefix("v-").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> VisitorKeys {
        VisitorKeys::new(vec![7u8; 32]).expect("key")
    }

    #[test]
    fn a_token_names_its_visitor_on_its_account_only() {
        let keys = keys();
        let (visitor, token) = keys.new_visitor("site");
        assert_eq!(keys.verify("site", &token).expect("valid"), visitor);
        assert!(keys.verify("other-site", &token).is_err());
        let other = VisitorKeys::new(vec![8u8; 32]).expect("key");
        assert!(other.verify("site", &token).is_err());
    }

    #[test]
    fn forged_and_garbled_tokens_are_refused() {
        let keys = keys();
        let (_, token) = keys.new_visitor("site");
        let (_, other) = keys.new_visitor("site");
        let forged = format!(
            "{}.{}",
            &token[..token.rfind('.').expect("dot")],
            &other[other.rfind('.').expect("dot") + 1..]
        );
        for bad in [
            forged.as_str(),
            "",
            "v1.",
            "v1.v-00.abc",
            "v2.x.y",
            &token[1..],
        ] {
            assert!(keys.verify("site", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(VisitorKeys::new(vec![1u8; 16]).is_err());
    }
}
