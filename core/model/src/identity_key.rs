//! The uniqueness key of an identity, and how values are normalized by kind.

use schemars::JsonSchema;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::email::EmailAddress;
use crate::error::{ModelError, Result};
use crate::identity_kind::IdentityKind;
use crate::options::NormalizeOptions;
use crate::phone::PhoneNumber;
use crate::scope::IdentityScope;
use crate::text::clean_token;

/// What makes an identity unique: kind, scope and normalized value.
///
/// Building one normalizes the value, so two spellings of one address or
/// number give equal keys. Interactions refer to their sender and recipients
/// by key, which exists before the identity is looked up or created. Errors
/// name the fields `kind`, `scope` and `value`; prefix them with
/// [`ModelError::in_field`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityKey {
    /// What the value is.
    kind: IdentityKind,
    /// Where the value is unique.
    scope: IdentityScope,
    /// The normalized value: an email address with a lower-case domain, an
    /// E.164 number for phone and WhatsApp, otherwise the trimmed text.
    value: String,
}

// === impl IdentityKey ===

impl IdentityKey {
    /// Normalizes `raw_value` for `kind` and checks the scope.
    ///
    /// - email: see [`EmailAddress`];
    /// - phone: E.164, national numbers read in `options.default_region`;
    /// - whatsapp: WhatsApp ids are international numbers without the `+`,
    ///   so digits alone are read as `+<digits>` first, then as a national
    ///   number in the default region;
    /// - others: trimmed, not empty, no control characters, case kept.
    pub fn new(
        kind: IdentityKind,
        raw_value: &str,
        scope: IdentityScope,
        options: &NormalizeOptions,
    ) -> Result<Self> {
        let kind = match kind {
            IdentityKind::Custom(name) => IdentityKind::Custom(clean_token("kind", &name)?),
            other => other,
        };
        let scope = match scope {
            IdentityScope::Global => IdentityScope::Global,
            IdentityScope::ChannelAccount(name) => {
                IdentityScope::ChannelAccount(clean_token("scope", &name)?)
            }
            IdentityScope::App(name) => IdentityScope::App(clean_token("scope", &name)?),
        };
        let value = normalize_value(&kind, raw_value, options)?;
        Ok(Self { kind, scope, value })
    }

    /// Reassembles a key from parts that came out of [`IdentityKey::new`]
    /// (stored in an [`Identity`](crate::Identity)).
    pub(crate) fn from_normalized(kind: IdentityKind, scope: IdentityScope, value: String) -> Self {
        Self { kind, scope, value }
    }

    /// What the value is.
    #[must_use]
    pub fn kind(&self) -> &IdentityKind {
        &self.kind
    }

    /// Where the value is unique.
    #[must_use]
    pub fn scope(&self) -> &IdentityScope {
        &self.scope
    }

    /// The normalized value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The same value in another scope: how an unconfirmed claim of an
    /// identity that another party holds is kept apart (scoped to the
    /// channel account that made it).
    #[must_use]
    pub fn in_scope(&self, scope: IdentityScope) -> Self {
        Self {
            kind: self.kind.clone(),
            scope,
            value: self.value.clone(),
        }
    }

    /// Whether this is an unconfirmed claim kept apart by
    /// [`IdentityKey::in_scope`]: a value of a [global](IdentityKind::is_global)
    /// kind held in one channel account's scope. Such a claim says nothing
    /// about who the person is elsewhere, so it is not looked up in back
    /// offices.
    #[must_use]
    pub fn is_kept_apart_claim(&self) -> bool {
        self.kind.is_global() && matches!(self.scope, IdentityScope::ChannelAccount(_))
    }

    /// The keys of other kinds that name the same thing: a phone number
    /// and a WhatsApp number with the same E.164 value.
    #[must_use]
    pub fn equivalents(&self) -> Vec<Self> {
        let others: &[IdentityKind] = match (&self.kind, &self.scope) {
            (IdentityKind::Phone, IdentityScope::Global) => &[IdentityKind::Whatsapp],
            (IdentityKind::Whatsapp, IdentityScope::Global) => &[IdentityKind::Phone],
            _ => &[],
        };
        others
            .iter()
            .map(|kind| Self {
                kind: kind.clone(),
                scope: IdentityScope::Global,
                value: self.value.clone(),
            })
            .collect()
    }

    /// Splits the key into kind, scope and value.
    #[must_use]
    pub fn into_parts(self) -> (IdentityKind, IdentityScope, String) {
        (self.kind, self.scope, self.value)
    }
}

/// The field name used in normalization errors.
const VALUE_FIELD: &str = "value";

/// Normalizes an identity value by kind (see [`IdentityKey::new`]).
fn normalize_value(kind: &IdentityKind, raw: &str, options: &NormalizeOptions) -> Result<String> {
    match kind {
        IdentityKind::Email => EmailAddress::parse(VALUE_FIELD, raw).map(String::from),
        IdentityKind::Phone => {
            PhoneNumber::parse(VALUE_FIELD, raw, options.default_region).map(String::from)
        }
        IdentityKind::Whatsapp => normalize_whatsapp(raw, options).map(String::from),
        _ => clean_token(VALUE_FIELD, raw),
    }
}

/// Reads a WhatsApp id (`358401234567`) or a phone number.
fn normalize_whatsapp(raw: &str, options: &NormalizeOptions) -> Result<PhoneNumber> {
    let trimmed = raw.trim();
    let digits_only = !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit());
    if !digits_only {
        return PhoneNumber::parse(VALUE_FIELD, raw, options.default_region);
    }
    let international = PhoneNumber::parse(VALUE_FIELD, &format!("+{trimmed}"), None);
    match (international, options.default_region) {
        (Ok(number), _) => Ok(number),
        (Err(_), Some(region)) => PhoneNumber::parse(VALUE_FIELD, raw, Some(region)),
        (Err(err), None) => Err(match err {
            // Report the value as given, not with our `+`.
            ModelError::InvalidPhone { field, reason, .. } => ModelError::InvalidPhone {
                field,
                value: raw.to_owned(),
                reason,
            },
            other => other,
        }),
    }
}

/// The JSON shape of an [`IdentityKey`], before normalization.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentityKey {
    kind: IdentityKind,
    scope: IdentityScope,
    value: String,
}

impl<'de> Deserialize<'de> for IdentityKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawIdentityKey::deserialize(deserializer)?;
        IdentityKey::new(
            raw.kind,
            &raw.value,
            raw.scope,
            &NormalizeOptions::default(),
        )
        .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::Region;

    fn finnish() -> NormalizeOptions {
        NormalizeOptions {
            default_region: Some(Region::FI),
        }
    }

    fn value(kind: IdentityKind, raw: &str, options: &NormalizeOptions) -> Result<String> {
        IdentityKey::new(kind, raw, IdentityScope::Global, options).map(|k| k.value)
    }

    #[test]
    fn email_and_phone_are_normalized() {
        let none = NormalizeOptions::default();
        assert_eq!(
            value(IdentityKind::Email, " Aino.Virtanen@Example.FI ", &none).as_deref(),
            Ok("Aino.Virtanen@example.fi")
        );
        assert_eq!(
            value(IdentityKind::Phone, "040 123 4567", &finnish()).as_deref(),
            Ok("+358401234567")
        );
        assert!(value(IdentityKind::Phone, "040 123 4567", &none).is_err());
    }

    #[test]
    fn only_a_global_value_in_a_channel_scope_is_a_kept_apart_claim() {
        let none = NormalizeOptions::default();
        let email = IdentityKey::new(
            IdentityKind::Email,
            "aino@example.fi",
            IdentityScope::Global,
            &none,
        )
        .expect("valid");
        assert!(!email.is_kept_apart_claim());
        let kept = email.in_scope(IdentityScope::ChannelAccount("shop".into()));
        assert!(kept.is_kept_apart_claim());
        let visitor = IdentityKey::new(
            IdentityKind::WebchatVisitor,
            "v-1",
            IdentityScope::ChannelAccount("site".into()),
            &none,
        )
        .expect("valid");
        assert!(!visitor.is_kept_apart_claim(), "its natural scope");
    }

    #[test]
    fn whatsapp_ids_are_numbers_without_plus() {
        let none = NormalizeOptions::default();
        assert_eq!(
            value(IdentityKind::Whatsapp, "358401234567", &none).as_deref(),
            Ok("+358401234567")
        );
        assert_eq!(
            value(IdentityKind::Whatsapp, "+358 40 123 4567", &none).as_deref(),
            Ok("+358401234567")
        );
        assert_eq!(
            value(IdentityKind::Whatsapp, "0401234567", &finnish()).as_deref(),
            Ok("+358401234567")
        );
        let err = value(IdentityKind::Whatsapp, "12", &none).expect_err("too short");
        assert!(matches!(
            err,
            ModelError::InvalidPhone { ref field, ref value, .. } if field == "value" && value == "12"
        ));
    }

    #[test]
    fn other_kinds_are_trimmed_and_keep_case() {
        let none = NormalizeOptions::default();
        assert_eq!(
            value(IdentityKind::Messenger, "  PSID-AbC ", &none).as_deref(),
            Ok("PSID-AbC")
        );
        assert!(matches!(
            value(IdentityKind::Telegram, "  ", &none),
            Err(ModelError::Empty { .. })
        ));
        assert!(value(IdentityKind::CrmContact, "a\nb", &none).is_err());
    }

    #[test]
    fn scope_and_custom_kind_are_checked() {
        let none = NormalizeOptions::default();
        let key = IdentityKey::new(
            IdentityKind::Custom(" slack_user ".into()),
            "U123",
            IdentityScope::App(" slack ".into()),
            &none,
        )
        .expect("valid key");
        assert_eq!(key.kind(), &IdentityKind::Custom("slack_user".into()));
        assert_eq!(key.scope(), &IdentityScope::App("slack".into()));
        let err = IdentityKey::new(
            IdentityKind::Messenger,
            "123",
            IdentityScope::ChannelAccount(String::new()),
            &none,
        )
        .expect_err("empty scope");
        assert_eq!(err.field(), "scope");
        let err = IdentityKey::new(
            IdentityKind::Custom(String::new()),
            "x",
            IdentityScope::Global,
            &none,
        )
        .expect_err("empty custom kind");
        assert_eq!(err.field(), "kind");
    }

    #[test]
    fn equal_after_normalization() {
        let none = NormalizeOptions::default();
        let a = IdentityKey::new(IdentityKind::Email, "A@X.FI", IdentityScope::Global, &none);
        let b = IdentityKey::new(IdentityKind::Email, "A@x.fi ", IdentityScope::Global, &none);
        assert_eq!(a, b);
        let c = IdentityKey::new(IdentityKind::Email, "a@x.fi", IdentityScope::Global, &none);
        assert_ne!(a, c);
    }

    #[test]
    fn deserialization_normalizes_and_validates() {
        let key: IdentityKey =
            serde_json::from_str(r#"{"kind":"email","scope":"global","value":"Aino@Example.FI"}"#)
                .expect("valid key");
        assert_eq!(key.value(), "Aino@example.fi");
        let bad = serde_json::from_str::<IdentityKey>(
            r#"{"kind":"email","scope":"global","value":"not an address"}"#,
        );
        assert!(bad.is_err());
        let unknown = serde_json::from_str::<IdentityKey>(
            r#"{"kind":"email","scope":"global","value":"a@x.fi","extra":1}"#,
        );
        assert!(unknown.is_err());
    }
}
