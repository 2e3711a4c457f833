//! Golden fixtures: every webhook under `tests/fixtures/{valid,malformed}/`
//! beside the normalized JSON it must produce (`<name>.expected.json`, the
//! `silta_sdk::json` rendering of `mapping::normalize`'s interactions and
//! delivery updates). Valid payloads must normalize; malformed ones must
//! give a bad-input error.
//!
//! The signature and the window marks need the host and are not part of
//! these fixtures (see `tests/graph.rs` and the compliance suite).
//!
//! `BLESS=1 cargo test -p silta-plugin-whatsapp --test golden` rewrites the
//! expected files; review the diff before committing it.

use std::path::Path;

use silta_plugin_test::payload_fixtures::{Outcome, PayloadFixtures, http_event};
use silta_plugin_whatsapp::mapping;
use silta_sdk::types::Normalized;

fn fixtures() -> PayloadFixtures<impl Fn(Vec<u8>) -> Outcome> {
    PayloadFixtures::of_crate(env!("CARGO_MANIFEST_DIR"), |body| {
        mapping::normalize(&http_event("/v1/ingest/whatsapp", body))
            .map(|inbound| inbound.normalized)
    })
}

#[test]
fn valid_payloads_normalize_as_expected() {
    fixtures().assert_valid_group(18);
}

#[test]
fn malformed_payloads_are_bad_input_with_a_reason() {
    fixtures().assert_malformed_group(20);
}

#[test]
fn the_same_payload_normalizes_the_same_way_twice() {
    fixtures().assert_deterministic();
}

#[test]
fn one_webhook_gives_every_message_and_status() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/valid/batch-two-customers-and-a-status.json");
    let inbound = mapping::normalize(&http_event(
        "/v1/ingest/whatsapp",
        std::fs::read(path).expect("fixture"),
    ))
    .expect("ok");
    let kinds: Vec<&str> = inbound
        .normalized
        .iter()
        .map(|n| match n {
            Normalized::Interaction(_) => "interaction",
            Normalized::DeliveryUpdate(_) => "delivery-update",
        })
        .collect();
    assert_eq!(kinds, ["interaction", "interaction", "delivery-update"]);
    let customers: Vec<&str> = inbound.contacts.iter().map(|c| c.wa_id.as_str()).collect();
    assert_eq!(customers, ["358401234567", "16315551234"]);
}
