//! Golden fixtures: every payload under `tests/fixtures/{valid,malformed}/`
//! beside the normalized JSON it must produce (`<name>.expected.json`, the
//! `silta_sdk::json` rendering of `mapping::normalize`'s result). Valid
//! payloads must normalize; malformed ones must give a bad-input error.
//!
//! The signature is checked before the mapping, in the component; it needs
//! the host and is not part of these fixtures.
//!
//! `BLESS=1 cargo test -p silta-plugin-webhook --test golden` rewrites the
//! expected files; review the diff before committing it.

use silta_plugin_test::payload_fixtures::{Outcome, PayloadFixtures, http_event};
use silta_plugin_webhook::mapping;

fn fixtures() -> PayloadFixtures<impl Fn(Vec<u8>) -> Outcome> {
    PayloadFixtures::of_crate(env!("CARGO_MANIFEST_DIR"), |body| {
        mapping::normalize(&http_event("/hooks/webhook", body))
    })
}

#[test]
fn valid_payloads_normalize_as_expected() {
    fixtures().assert_valid_group(6);
}

#[test]
fn malformed_payloads_are_bad_input_with_a_reason() {
    fixtures().assert_malformed_group(6);
}

#[test]
fn the_same_payload_normalizes_the_same_way_twice() {
    fixtures().assert_deterministic();
}
