//! Golden fixtures: every widget frame under `tests/fixtures/{valid,
//! malformed}/` beside the normalized JSON it must produce
//! (`<name>.expected.json`), as the gateway hands it over. Identity tokens
//! in the fixtures are signed with the compliance suite's secret; the MAC
//! check the host does in the plugin is done here natively.
//!
//! `BLESS=1 cargo test -p silta-plugin-webchat --test golden` rewrites the
//! expected files; review the diff before committing it.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use silta_plugin_test::payload_fixtures::{Outcome, PayloadFixtures, http_event, other_event};
use silta_plugin_webchat::mapping;
use silta_sdk::types::{Normalized, PluginError};

const SECRET: &[u8] = b"compliance-identity-secret";
const GATEWAY: &[(&str, &str)] = &[
    ("gateway", "webchat"),
    ("visitor", "v-0123456789abcdef0123456789abcdef"),
];

fn verify(data: &[u8], mac: &[u8]) -> Result<bool, PluginError> {
    let mut expected = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).expect("any key size");
    expected.update(data);
    Ok(expected.verify_slice(mac).is_ok())
}

fn normalize(body: Vec<u8>) -> Outcome {
    mapping::normalize(&other_event(GATEWAY, body), verify)
}

fn fixtures() -> PayloadFixtures<fn(Vec<u8>) -> Outcome> {
    PayloadFixtures::of_crate(env!("CARGO_MANIFEST_DIR"), normalize)
}

#[test]
fn valid_frames_normalize_as_expected() {
    fixtures().assert_valid_group(8);
}

#[test]
fn malformed_frames_are_bad_input_with_a_reason() {
    fixtures().assert_malformed_group(10);
}

#[test]
fn the_same_frame_normalizes_the_same_way_twice() {
    fixtures().assert_deterministic();
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/valid")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn a_frame_posted_to_the_ingest_api_is_refused() {
    let error = mapping::normalize(&http_event("/v1/ingest/site", fixture("text.json")), verify)
        .expect_err("refused");
    assert_eq!(error.kind(), "unauthorized", "{error:?}");
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let error = mapping::normalize(
        &other_event(GATEWAY, fixture("signed-in-email.json")),
        |_, _| Ok(false),
    )
    .expect_err("refused");
    assert_eq!(error.kind(), "unauthorized", "{error:?}");
    assert!(error.message().contains("signature"), "{error:?}");
}

#[test]
fn a_resent_message_keeps_its_provider_message_id() {
    let id = |body: Vec<u8>| match normalize(body).expect("normalizes").as_slice() {
        [Normalized::Interaction(message)] => message.provider_message_id.clone(),
        other => panic!("one interaction, got {other:?}"),
    };
    assert_eq!(id(fixture("text.json")), id(fixture("text.json")));
    assert_eq!(
        id(fixture("text.json")),
        "v-0123456789abcdef0123456789abcdef:c-0193b6a0-1"
    );
}
