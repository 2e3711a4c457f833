//! Twilio's webhook body: `application/x-www-form-urlencoded` parameters
//! (<https://www.twilio.com/docs/messaging/guides/webhook-request>), read
//! into [`Params`] once.
//!
//! Twilio sends every value as text; parameter names are ASCII
//! (`MessageSid`, `MediaUrl0`, `FromCountry`). A body that is not UTF-8, or
//! has a pair without `=`, or a name that is not a plausible parameter
//! name (a JSON document, say) is refused as bad input before anything
//! reads it. A parameter the mapping reads must appear at most once.

use silta_sdk::PluginError;

type Result<T, E = PluginError> = std::result::Result<T, E>;

/// The parameters of one webhook, in body order, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

// === impl Params ===

impl Params {
    /// Reads a form body strictly: see the module documentation.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(body).map_err(|_| {
            PluginError::bad_input(
                "the body is not form data (application/x-www-form-urlencoded): it is not UTF-8",
            )
        })?;
        for (n, pair) in text.split('&').enumerate() {
            if pair.is_empty() && text.is_empty() {
                break;
            }
            let Some((name, _)) = pair.split_once('=') else {
                return Err(PluginError::bad_input(format!(
                    "the body is not form data (application/x-www-form-urlencoded): pair {n} has no `=`"
                )));
            };
            if !plausible_name(name) {
                return Err(PluginError::bad_input(format!(
                    "the body is not form data (application/x-www-form-urlencoded): pair {n} has no usable parameter name"
                )));
            }
        }
        Ok(Self::lenient(body))
    }

    /// Reads a form body as Twilio's signature covers it: every pair,
    /// percent- and `+`-decoded, never failing (what cannot be decoded is
    /// replaced, and then cannot match a signature made over the real
    /// values).
    #[must_use]
    pub fn lenient(body: &[u8]) -> Self {
        Self {
            pairs: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// Every pair, in body order.
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether parameter `name` is present (even empty).
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }

    /// Whether any parameter's name starts with `prefix`.
    pub fn names_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .map(|(key, _)| key.as_str())
            .filter(move |key| key.starts_with(prefix))
    }

    /// The value of `name`, if present; bad input when it appears twice
    /// (Twilio sends each parameter once).
    pub fn get(&self, name: &str) -> Result<Option<&str>> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(PluginError::bad_input(format!(
                "`{name}` appears more than once"
            )));
        }
        Ok(first)
    }

    /// The value of `name`; bad input naming it when absent.
    pub fn require(&self, name: &str) -> Result<&str> {
        self.get(name)?.ok_or_else(|| PluginError::missing(name))
    }

    /// The value of `name`, trimmed, when present and not blank.
    pub fn non_blank(&self, name: &str) -> Result<Option<&str>> {
        Ok(self.get(name)?.map(str::trim).filter(|v| !v.is_empty()))
    }
}

/// A form parameter name as Twilio writes them, still percent-encoded:
/// letters, digits and a few punctuation marks, no JSON or spaces.
fn plausible_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Whether `raw` is a Twilio SID: the two-letter `prefix` and 32 hex
/// digits (`SM` + 32 for a message, `AC` for an account).
#[must_use]
pub fn is_sid(raw: &str, prefixes: &[&str]) -> bool {
    raw.len() == 34
        && prefixes.iter().any(|prefix| raw.starts_with(prefix))
        && raw
            .get(2..)
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let params =
            Params::parse(b"Body=Hei+%C3%A4%C3%B6+%F0%9F%98%80&From=%2B358401234567&Empty=")
                .expect("form");
        assert_eq!(params.get("Body").expect("once"), Some("Hei äö 😀"));
        assert_eq!(params.require("From").expect("present"), "+358401234567");
        assert_eq!(params.get("Empty").expect("once"), Some(""));
        assert_eq!(params.non_blank("Empty").expect("once"), None);
        assert_eq!(params.get("Nope").expect("absent"), None);
    }

    #[test]
    fn refuses_what_is_not_a_form() {
        for (body, reason) in [
            (&br#"{"MessageSid":"SM1"}"#[..], "no `=`"),
            (b"MessageSid", "no `=`"),
            (b"Message Sid=1", "parameter name"),
            (b"=x", "parameter name"),
            (b"\xff\xfe=1", "not UTF-8"),
        ] {
            let error = Params::parse(body).unwrap_err();
            assert_eq!(error.kind(), "bad-input");
            assert!(error.message().contains(reason), "{error:?}");
        }
        assert!(Params::parse(b"").expect("empty").pairs().is_empty());
    }

    #[test]
    fn a_repeated_parameter_is_refused_when_read() {
        let params = Params::parse(b"From=%2B1&From=%2B2").expect("form");
        let error = params.get("From").unwrap_err();
        assert!(error.message().contains("more than once"), "{error:?}");
    }

    #[test]
    fn sids_have_a_prefix_and_32_hex_digits() {
        let sid = format!("SM{}", "a1".repeat(16));
        assert!(is_sid(&sid, &["SM", "MM"]));
        assert!(!is_sid(&sid, &["AC"]));
        assert!(!is_sid("SM123", &["SM"]));
        assert!(!is_sid(&format!("SM{}", "g1".repeat(16)), &["SM"]));
        assert!(!is_sid(&format!("SMé{}", "a".repeat(30)), &["SM"]));
    }
}
