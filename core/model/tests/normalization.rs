//! Normalization through the public API, as the WIT conversions will use it.

mod support;

use silta_model::{
    Assurance, EmailAddress, Identity, IdentityKind, IdentityScope, ModelError, NormalizeOptions,
    PhoneNumber, Region, Timestamp,
};

#[test]
fn email_is_trimmed_and_domain_lowercased() {
    let address = EmailAddress::parse("from", " Aino.Virtanen@Example.FI ").expect("valid");
    assert_eq!(address.as_str(), "Aino.Virtanen@example.fi");
}

#[test]
fn finnish_phone_with_default_region() {
    let options = NormalizeOptions::with_default_region("FI").expect("known region");
    let identity = Identity::new(
        IdentityKind::Phone,
        "040 123 4567",
        IdentityScope::Global,
        Assurance::ChannelAsserted,
        &options,
    )
    .expect("valid Finnish mobile number");
    assert_eq!(identity.value(), "+358401234567");
}

#[test]
fn uk_number_in_international_form() {
    let number = PhoneNumber::parse("to", "+44 20 7946 0958", None).expect("valid");
    assert_eq!(number.as_str(), "+442079460958");
}

#[test]
fn too_short_phone_names_the_field() {
    let err = PhoneNumber::parse("recipient", "12", Some(Region::FI)).expect_err("invalid");
    assert!(
        matches!(&err, ModelError::InvalidPhone { field, value, .. } if field == "recipient" && value == "12"),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("recipient: \"12\""), "{err}");
}

#[test]
fn whatsapp_id_gets_its_plus() {
    let identity = Identity::new(
        IdentityKind::Whatsapp,
        "358401234567",
        IdentityScope::Global,
        Assurance::ChannelAttested,
        &NormalizeOptions::default(),
    )
    .expect("valid WhatsApp id");
    assert_eq!(identity.value(), "+358401234567");
}

#[test]
fn offsets_become_utc() {
    let at = Timestamp::parse_rfc3339("date", "2026-11-24T01:54:41.5+05:00").expect("valid");
    assert_eq!(at.to_string(), "2026-11-23T20:54:41.500Z");
    assert_eq!(at.unix_seconds(), 1_795_467_281);
    assert_eq!(at.subsec_nanos(), 500_000_000);
}

#[test]
fn invalid_email_in_json_is_rejected() {
    let result = serde_json::from_str::<EmailAddress>("\"aino.virtanen(at)example.fi\"");
    let err = result.expect_err("not an address");
    assert!(err.to_string().contains("email address"), "{err}");
}
