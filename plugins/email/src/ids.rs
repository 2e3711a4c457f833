//! Message-IDs and reply tokens: one spelling everywhere.
//!
//! A Message-ID is kept without its angle brackets and without surrounding
//! white space, in thread keys, in `email-headers`, as the provider message
//! id and in `email-request.message-id`; only the RFC 5322 header itself
//! puts the brackets back.

use sha2::{Digest, Sha256};

/// The prefix of a reply token inside the local part of a plus address:
/// `support+r-<token>@example.test`.
pub const REPLY_TOKEN_PREFIX: &str = "+r-";

/// Longest Message-ID kept; longer ones are not ids but junk.
const MAX_MESSAGE_ID_BYTES: usize = 512;

/// A Message-ID as this plugin spells it: brackets, white space and a
/// `mailto:`-style comment stripped. `None` when nothing usable is left.
pub fn clean_message_id(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let inner = trimmed
        .strip_prefix('<')
        .map(|rest| rest.split('>').next().unwrap_or(rest))
        .unwrap_or(trimmed)
        .trim();
    let usable = !inner.is_empty()
        && inner.len() <= MAX_MESSAGE_ID_BYTES
        && !inner
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
    usable.then(|| inner.to_owned())
}

/// Every Message-ID in a header value such as `References`, in order,
/// without repeats.
pub fn message_id_list<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for value in raw {
        // mail-parser splits on brackets already; a raw value may still
        // hold several ids separated by white space or commas.
        for piece in value.split(|c: char| c.is_whitespace() || c == ',') {
            if let Some(id) = clean_message_id(piece)
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
    }
    ids
}

/// The provider message id of a message without a usable Message-ID: a
/// hash of its raw bytes, so a replay gives the same id.
pub fn hash_message_id(raw: &[u8]) -> String {
    format!("sha256-{}", hex::encode(Sha256::digest(raw)))
}

/// `sha256:<hex>` of some bytes, the content hash the contract uses.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The reply token in a plus address (`support+r-<token>@example.test`),
/// when the address carries one. With `ours` given (our own address), the
/// base local part and the domain must match it, so a token in someone
/// else's address is not taken for ours.
pub fn reply_token(address: &str, ours: Option<&str>) -> Option<String> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    let (base, token) = local.split_once(REPLY_TOKEN_PREFIX)?;
    if let Some(ours) = ours {
        let (our_local, our_domain) = ours.trim().rsplit_once('@')?;
        let our_base = our_local.split('+').next().unwrap_or(our_local);
        if !base.eq_ignore_ascii_case(our_base) || !domain.eq_ignore_ascii_case(our_domain) {
            return None;
        }
    }
    token_is_usable(token).then(|| token.to_owned())
}

/// True when `address` is `ours` or one of its plus variants
/// (`support+anything@example.test`), compared case-insensitively.
pub fn is_our_address(address: &str, ours: &str) -> bool {
    let Some((local, domain)) = address.trim().rsplit_once('@') else {
        return false;
    };
    let Some((our_local, our_domain)) = ours.trim().rsplit_once('@') else {
        return false;
    };
    let base = local.split('+').next().unwrap_or(local);
    let our_base = our_local.split('+').next().unwrap_or(our_local);
    base.eq_ignore_ascii_case(our_base) && domain.eq_ignore_ascii_case(our_domain)
}

/// A token fits a local part unquoted and survives mail systems.
pub fn token_is_usable(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 64
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='))
        && !token.starts_with('.')
        && !token.ends_with('.')
}

/// `local+r-<token>@domain` for our address `local@domain`.
pub fn reply_address(ours: &str, token: &str) -> Option<String> {
    let (local, domain) = ours.trim().rsplit_once('@')?;
    let base = local.split('+').next().unwrap_or(local);
    Some(format!("{base}{REPLY_TOKEN_PREFIX}{token}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_lose_their_brackets() {
        assert_eq!(clean_message_id(" <a.b@c> ").as_deref(), Some("a.b@c"));
        assert_eq!(clean_message_id("a.b@c").as_deref(), Some("a.b@c"));
        assert_eq!(clean_message_id("<>"), None);
        assert_eq!(clean_message_id("a b@c"), None);
        assert_eq!(
            message_id_list(["<a@x> <b@x>", "<a@x>", "c@x"]),
            ["a@x", "b@x", "c@x"]
        );
    }

    #[test]
    fn reply_tokens_come_from_our_plus_address() {
        assert_eq!(
            reply_token("support+r-abc123@example.test", None).as_deref(),
            Some("abc123")
        );
        assert_eq!(
            reply_token("support+r-abc@example.test", Some("support@example.test")).as_deref(),
            Some("abc")
        );
        assert_eq!(
            reply_token("other+r-abc@example.test", Some("support@example.test")),
            None
        );
        assert_eq!(reply_token("support@example.test", None), None);
        assert_eq!(
            reply_address("support@example.test", "t-1").as_deref(),
            Some("support+r-t-1@example.test")
        );
    }
}
