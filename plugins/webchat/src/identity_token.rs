//! A signed-in user's identity token: a compact JWS (a JWT) signed by the
//! customer's site with HMAC-SHA256 (`HS256`) and the secret it shares
//! with Silta (`identity-secret`). Any JWT library can make one.
//!
//! Claims: `sub` (the site's user id, required), `exp` (seconds since the
//! epoch, required), and optionally `email`, `phone_number` (E.164) and
//! `name`. Only `HS256` is accepted, so a token can never choose its own,
//! weaker algorithm (`none`) or be checked with the wrong kind of key.
//!
//! The expiry is compared with the time the gateway received the event,
//! not the clock, so replaying the event from the journal gives the same
//! answer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use silta_sdk::types::{PluginError, Timestamp};

/// The secret (by its manifest name) the site signs tokens with.
pub const SECRET: &str = "identity-secret";
/// The longest token accepted.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// What a verified token says about the user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// The site's id for the user.
    pub sub: String,
    /// When the token stops being valid (seconds since the epoch).
    pub exp: u64,
    /// The user's email address, as the site knows it.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's phone number (E.164).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// The token's claims once its signature and expiry check out.
///
/// `verify(data, mac)` checks an HMAC-SHA256 `mac` over `data` with the
/// identity secret (in the plugin: the host, which holds the secret). A
/// malformed token, a wrong signature or an expired token is
/// `unauthorized`, with the reason.
pub fn verify(
    token: &str,
    received_at: Timestamp,
    verify: impl Fn(&[u8], &[u8]) -> Result<bool, PluginError>,
) -> Result<Claims, PluginError> {
    let refuse = |why: &str| PluginError::unauthorized(format!("identity token refused: {why}"));
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refuse("longer than 4096 bytes"));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(refuse("not a compact JWS (header.payload.signature)"));
    };
    let decode = |segment: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| refuse(&format!("its {what} is not base64url")))
    };
    let header: Header = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|_| refuse("its header is not a JWS header"))?;
    if header.alg != "HS256" {
        return Err(refuse(&format!(
            "it is signed with {:?}; only HS256 is accepted",
            header.alg
        )));
    }
    let mac = decode(signature, "signature")?;
    let signed = &token[..token.len() - signature.len() - 1];
    if !verify(signed.as_bytes(), &mac)? {
        return Err(refuse("the signature does not match the identity secret"));
    }
    let claims: Claims = serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|error| refuse(&format!("its claims are unreadable: {error}")))?;
    if claims.sub.trim().is_empty() || claims.sub.len() > 256 {
        return Err(refuse("`sub` must be 1–256 characters"));
    }
    if claims.exp <= received_at.seconds {
        return Err(refuse(&format!(
            "it expired at {} (seconds since the epoch)",
            claims.exp
        )));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp {
        seconds: 1_790_000_000,
        nanoseconds: 0,
    };

    /// A stand-in MAC: the data's length, so tests need no crypto.
    fn fake_mac(data: &[u8]) -> Vec<u8> {
        data.len().to_be_bytes().to_vec()
    }

    fn token(header: &str, claims: &str) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mac = URL_SAFE_NO_PAD.encode(fake_mac(signed.as_bytes()));
        format!("{signed}.{mac}")
    }

    fn check(token: &str) -> Result<Claims, PluginError> {
        verify(token, NOW, |data, mac| Ok(fake_mac(data) == mac))
    }

    #[test]
    fn a_good_token_gives_its_claims() {
        let claims = check(&token(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"u-42","exp":1790000600,"email":"aino@example.fi","name":"Aino"}"#,
        ))
        .expect("valid");
        assert_eq!(claims.sub, "u-42");
        assert_eq!(claims.email.as_deref(), Some("aino@example.fi"));
    }

    #[test]
    fn bad_tokens_are_refused_with_the_reason() {
        let reason = |t: &str| check(t).expect_err(t).message().to_owned();
        let claims = r#"{"sub":"u-42","exp":1790000600}"#;
        assert!(reason(&token(r#"{"alg":"none"}"#, claims)).contains("only HS256"));
        assert!(reason(&token(r#"{"alg":"HS256"}"#, r#"{"sub":"u","exp":1}"#)).contains("expired"));
        assert!(reason("abc.def").contains("compact JWS"));
        let mut forged = token(r#"{"alg":"HS256"}"#, claims);
        forged.push('A');
        assert!(reason(&forged).contains("signature"));
        let swapped = token(r#"{"alg":"HS256"}"#, claims).replacen(
            &URL_SAFE_NO_PAD.encode(claims),
            &URL_SAFE_NO_PAD.encode(r#"{"sub":"admin","exp":1790000600}"#),
            1,
        );
        assert!(reason(&swapped).contains("signature"));
    }
}
