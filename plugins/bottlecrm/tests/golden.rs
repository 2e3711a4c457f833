//! What each operation returns, as JSON golden files in
//! `tests/fixtures/golden/`, from recorded BottleCRM answers. `BLESS=1`
//! rewrites them after an intended change (review the diff).

mod support;

use std::path::PathBuf;

use serde_json::{Value, json};
use silta_plugin_bottlecrm::mapping::comment;
use silta_plugin_bottlecrm::ops::{activity, lookup, ticket};
use silta_plugin_bottlecrm::transport::Method::{Get, Post};
use silta_plugin_test::golden;
use silta_sdk::json::ToJson;
use silta_sdk::types::{Background, BackofficeLink, IdentityKind};
use support::*;

fn link_json(link: &BackofficeLink) -> Value {
    json!({
        "system": link.system,
        "object-type": link.object_type,
        "remote-id": link.remote_id,
        "url": link.url,
        "snapshot": link.snapshot.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<serde_json::Map<_, _>>(),
    })
}

fn background_json(background: &Background) -> Value {
    json!({
        "display-name": background.display_name,
        "identities": background.identities.iter()
            .map(ToJson::to_json)
            .collect::<Vec<_>>(),
        "links": background.links.iter().map(link_json).collect::<Vec<_>>(),
        "attributes": background.attributes.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<serde_json::Map<_, _>>(),
    })
}

fn check(name: &str, value: &Value) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/golden")
        .join(format!("{name}.expected.json"));
    let text = serde_json::to_string_pretty(value).expect("JSON") + "\n";
    golden::check(&path, &text).map_err(|message| format!("{name}: {message}"))
}

#[test]
fn what_the_operations_return() {
    let lookup = {
        let crm = Scripted::new(vec![expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-email.json"),
        )]);
        let identities = [identity(IdentityKind::Email, "aino@example.fi")];
        let found = lookup::lookup(&crm, &settings(false), &identities)
            .expect("lookup")
            .expect("found");
        background_json(&found)
    };

    let recorded = {
        let text = comment::text(&activity()).expect("text");
        let mut detail = fixture_json("contact-detail.json");
        detail["comments"] = json!([]);
        let mut after = detail.clone();
        after["comments"] = json!([{"id": 12, "comment": text,
                                    "commented_on": "2026-11-24T02:24:41.110000+05:30"}]);
        let crm = Scripted::new(vec![
            expect(Get, "/contacts/1/", ok_json(&detail)),
            expect(Post, "/contacts/1/", ok_json(&after)),
        ]);
        link_json(&activity::record(&crm, &settings(false), &activity()).expect("record"))
    };

    let upserted = {
        let search = "/cases/?name=Where%20is%20my%20order%3F&limit=100";
        let made = json!({"cases": [{"id": 4, "name": "Where is my order?", "status": "New",
            "priority": "High", "description": "…\n\n[silta case 01936f4e-8a52-7c3e-9d4f-0000c0ffee01]"}]});
        let crm = Scripted::new(vec![
            expect(Get, search, ok_json(&json!({"cases": []}))),
            expect(Post, "/cases/", answer(200, r#"{"error":false}"#)),
            expect(Get, search, ok_json(&made)),
        ]);
        link_json(
            &ticket::upsert(&crm, &settings(false), &support::ticket(), "2026-11-24")
                .expect("upsert"),
        )
    };

    golden::assert_all([
        check("lookup-party", &lookup),
        check("record-activity", &recorded),
        check("upsert-ticket", &upserted),
    ]);
}
