//! Email addresses.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::string_newtype::string_newtype;

/// Characters that RFC 5322 only allows inside a quoted local part. We do
/// not accept quoted local parts, so these mean the input is something else
/// (`Aino <aino@example.fi>`, a list `a@x.fi, b@y.fi`).
const LOCAL_SPECIALS: &[char] = &['<', '>', '(', ')', '[', ']', '\\', ',', ';', ':', '"'];

/// An email address in normalized form: trimmed, the domain in lower case,
/// the local part as given.
///
/// The local part keeps its case because RFC 5321 lets the receiving server
/// treat `Aino` and `aino` as different mailboxes; the domain is case
/// insensitive everywhere. This is a deliberately light check that rejects
/// what is clearly not an address (no `@`, a display name, spaces, a domain
/// without a dot) and accepts the rest; it does not accept quoted local
/// parts or address literals (`user@[192.0.2.1]`). A domain needs a dot,
/// except `localhost`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

// === impl EmailAddress ===

impl EmailAddress {
    /// Normalizes and checks `raw`; `field` names the input in errors.
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        let invalid = |reason: &str| ModelError::InvalidEmail {
            field: field.to_owned(),
            value: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ModelError::Empty {
                field: field.to_owned(),
            });
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                "contains whitespace or control characters; give only the address, without a display name",
            ));
        }
        let (local, domain) = match trimmed.split_once('@') {
            None => return Err(invalid("has no '@'")),
            Some((_, domain)) if domain.contains('@') => {
                return Err(invalid("has more than one '@'"));
            }
            Some(parts) => parts,
        };
        check_local(local).map_err(invalid)?;
        let domain = domain.to_lowercase();
        check_domain(&domain).map_err(invalid)?;
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(invalid("is longer than 254 bytes"));
        }
        Ok(Self(address))
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, as given.
    #[must_use]
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`, lower case.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// Checks the local part; the error is a reason.
fn check_local(local: &str) -> std::result::Result<(), &'static str> {
    if local.is_empty() {
        return Err("nothing before the '@'");
    }
    if local.len() > 64 {
        return Err("the part before the '@' is longer than 64 bytes");
    }
    if local.contains(LOCAL_SPECIALS) {
        return Err(
            "the part before the '@' holds characters such as < > , ; : \" that need quoting; give only the bare address",
        );
    }
    Ok(())
}

/// Checks a lower-cased domain; the error is a reason.
fn check_domain(domain: &str) -> std::result::Result<(), &'static str> {
    if domain.is_empty() {
        return Err("nothing after the '@'");
    }
    if domain.len() > 253 {
        return Err("the domain is longer than 253 bytes");
    }
    if domain.starts_with('[') {
        return Err("address literals such as [192.0.2.1] are not accepted");
    }
    if !domain.contains('.') && domain != "localhost" {
        return Err("the domain has no dot (example.fi)");
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err("the domain has an empty label (a leading, trailing or double dot)");
        }
        if label.len() > 63 {
            return Err("a domain label is longer than 63 bytes");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a domain label starts or ends with '-'");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err("the domain holds characters other than letters, digits, '-' and '.'");
        }
    }
    Ok(())
}

string_newtype! {
    EmailAddress(String),
    description: "An email address: no display name, the domain in lower case.",
    format: Some("email"),
    pattern: None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<String> {
        EmailAddress::parse("email", raw).map(String::from)
    }

    #[test]
    fn trims_and_lowercases_only_the_domain() {
        assert_eq!(
            parse(" Aino.Virtanen@Example.FI ").as_deref(),
            Ok("Aino.Virtanen@example.fi")
        );
        let address = EmailAddress::parse("email", "Aino@Example.FI").expect("valid");
        assert_eq!(address.local_part(), "Aino");
        assert_eq!(address.domain(), "example.fi");
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "user@example.test",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "root@localhost",
            "käyttäjä@esimerkki.fi",
        ] {
            assert!(parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn rejects_what_is_clearly_not_an_address() {
        for bad in [
            "no-at-sign",
            "@example.fi",
            "user@",
            "a@b@example.fi",
            "Aino <aino@example.fi>",
            "aino virtanen@example.fi",
            "aino@example",
            "aino@example..fi",
            "aino@.example.fi",
            "aino@-example.fi",
            "aino@exa_mple.fi",
            "aino@[192.0.2.1]",
            "a,b@example.fi",
        ] {
            assert!(
                matches!(EmailAddress::parse("from", bad), Err(ModelError::InvalidEmail { ref field, .. }) if field == "from"),
                "{bad:?} should be rejected"
            );
        }
        assert!(matches!(
            EmailAddress::parse("from", "   "),
            Err(ModelError::Empty { .. })
        ));
        assert!(parse("x\u{7}y@example.fi").is_err());
    }

    #[test]
    fn length_limits() {
        let local = "a".repeat(65);
        assert!(parse(&format!("{local}@example.fi")).is_err());
        let label = "b".repeat(64);
        assert!(parse(&format!("a@{label}.fi")).is_err());
    }

    #[test]
    fn serde_validates_and_normalizes() {
        let address: EmailAddress =
            serde_json::from_str("\"Aino@Example.FI\"").expect("valid address");
        assert_eq!(address.as_str(), "Aino@example.fi");
        assert!(serde_json::from_str::<EmailAddress>("\"not an address\"").is_err());
    }
}
