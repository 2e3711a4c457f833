//! Golden fixtures: every webhook body under
//! `tests/fixtures/{valid,malformed}/NAME.form` (form-encoded, as Twilio
//! posts it) beside the normalized JSON it must produce
//! (`NAME.expected.json`, the `silta_sdk::json` rendering of
//! `mapping::normalize`'s result). Valid bodies must give one interaction
//! (`sms*`, `mms*`) or one delivery update (`status-*`); malformed ones a
//! bad-input error.
//!
//! The signature check needs the host and is not part of these fixtures
//! (see `tests/rest_api.rs` and the compliance suite, which sign every
//! fixture for a fixed `public_url` and path).
//!
//! `BLESS=1 cargo test -p silta-plugin-twilio --test golden` rewrites the
//! expected files; review the diff before committing it.

use std::path::Path;

use silta_plugin_test::payload_fixtures::{Outcome, PayloadFixtures, form_event};
use silta_plugin_twilio::mapping;
use silta_sdk::types::{DeliveryState, Normalized, Part};

fn normalize(body: Vec<u8>) -> Outcome {
    mapping::normalize(&form_event("/v1/ingest/sms", body))
}

fn fixtures() -> PayloadFixtures<impl Fn(Vec<u8>) -> Outcome> {
    PayloadFixtures::of_crate(env!("CARGO_MANIFEST_DIR"), normalize)
}

fn fixture(group: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(group)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

#[test]
fn valid_payloads_normalize_as_expected() {
    let count = fixtures().check_group("valid", |path, result| {
        let name = name(path);
        match result {
            Ok(out) => match out.as_slice() {
                [Normalized::DeliveryUpdate(_)] if name.starts_with("status-") => {}
                [Normalized::Interaction(_)] if !name.starts_with("status-") => {}
                other => panic!("{name}: unexpected {other:?}"),
            },
            Err(error) => panic!("{name} should normalize: {error:?}"),
        }
    });
    assert!(count >= 16, "only {count} valid fixtures");
}

#[test]
fn malformed_payloads_are_bad_input_with_a_reason() {
    fixtures().assert_malformed_group(25);
}

#[test]
fn the_same_payload_normalizes_the_same_way_twice() {
    fixtures().assert_deterministic();
}

#[test]
fn non_ascii_text_survives_form_decoding() {
    let out = normalize(fixture("valid", "sms-finnish-emoji.form")).expect("normalizes");
    let [Normalized::Interaction(message)] = out.as_slice() else {
        panic!("one interaction");
    };
    assert_eq!(
        message.parts,
        vec![Part::Text(
            "Hei! Missä tilaukseni on? Kiitos paljon, hyvää päivää 😊".into()
        )]
    );
}

#[test]
fn an_mms_carries_each_media_by_url_with_its_type() {
    let out = normalize(fixture("valid", "mms-two-media.form")).expect("normalizes");
    let [Normalized::Interaction(message)] = out.as_slice() else {
        panic!("one interaction");
    };
    assert!(message.provider_message_id.starts_with("MM"));
    let media: Vec<(&str, &str)> = message
        .parts
        .iter()
        .filter_map(|part| match part {
            Part::Attachment(a) => Some((a.media_type.as_str(), a.url.as_deref()?)),
            _ => None,
        })
        .collect();
    assert_eq!(media.len(), 2);
    assert_eq!(media[0].0, "image/jpeg");
    assert_eq!(media[1].0, "image/png");
    assert!(media.iter().all(|(_, url)| url.starts_with(
        "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/"
    )));
}

#[test]
fn a_failed_callback_carries_twilios_error_code() {
    let out = normalize(fixture("valid", "status-failed-30007.form")).expect("normalizes");
    let [Normalized::DeliveryUpdate(update)] = out.as_slice() else {
        panic!("one delivery update");
    };
    assert_eq!(update.state, DeliveryState::Failed);
    assert_eq!(update.provider_code.as_deref(), Some("30007"));
    assert_eq!(
        update.provider_message_id,
        "SMe5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0"
    );
}

#[test]
fn errors_name_the_field() {
    for (name, field) in [
        ("missing-from.form", "`From` is missing"),
        ("num-media-mismatch.form", "`MediaUrl1` is missing"),
        ("media-beyond-num-media.form", "`MediaUrl1` does not match"),
        ("media-url-not-a-url.form", "`MediaUrl0`"),
        ("message-sid-bad-shape.form", "`MessageSid` must be"),
        ("not-form-json.form", "not form data"),
        ("duplicate-from.form", "`From` appears more than once"),
        ("status-error-code-not-a-number.form", "`ErrorCode`"),
    ] {
        let error = normalize(fixture("malformed", name)).unwrap_err();
        assert!(error.message().contains(field), "{name}: {error:?}");
    }
}
