//! Plugin `bottlecrm` as the host runs it: the crate built to a component,
//! loaded into the real runtime with its manifest's capabilities, its HTTP
//! answered from `tests/fixtures/recordings*.json`.
//!
//! The recordings are real BottleCRM exchanges. To make them again (needs
//! `tests/peers/install-crm.sh`):
//!
//! ```sh
//! SILTA_RECORD=1 cargo test -p silta-plugin-bottlecrm --test component
//! ```
//!
//! which starts a [`Crm`], seeds it, runs the same calls against it and
//! rewrites the files. The live server's port is replaced by [`URL`]'s, and
//! the bodies of case writes are left out of the match: they carry today's
//! date (`closed_on`), which differs on replay.

use std::path::PathBuf;

use silta_plugin_test::contract::{Activity, Ticket};
use silta_plugin_test::recording::Recordings;
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};
use silta_sdk::model::{
    Assurance, BackofficeLink, Direction, Identity, IdentityKind, IdentityScope, InteractionId,
    NormalizeOptions, Timestamp,
};
use silta_test_peers::Crm;

/// Where the recorded BottleCRM lived, as far as replay is concerned.
const URL: &str = "http://127.0.0.1:18001";
const RECORDINGS: &str = "tests/fixtures/recordings.json";
const RECORDINGS_UNAUTHORIZED: &str = "tests/fixtures/recordings-unauthorized.json";
const INTERACTION: &str = "01936f4e-8a52-7c3e-9d4f-123456789abc";

fn recording() -> bool {
    std::env::var("SILTA_RECORD").is_ok_and(|v| v == "1")
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A live, seeded CRM when recording; `None` on replay.
fn live_crm() -> Option<Crm> {
    recording().then(|| {
        let crm = Crm::start().expect("start the CRM to record against");
        crm.create_contact("Aino", "Virtanen", "aino@example.fi", Some("+358401234567"))
            .expect("seed Aino");
        crm
    })
}

async fn start(crm: Option<&Crm>, token: &str, recordings: &str) -> PluginUnderTest {
    let url = crm.map_or_else(|| URL.to_owned(), Crm::base_url);
    let token = crm.map_or(token, Crm::token);
    Harness::for_crate(crate_dir())
        .secret("api-token", token)
        .config("url", &url)
        .recordings(recordings)
        .start()
        .await
}

/// After recording: the live port becomes [`URL`]'s, and case writes match
/// on method and URL only.
fn portable(crm: Option<&Crm>, file: &str) {
    let Some(crm) = crm else { return };
    let path = crate_dir().join(file);
    let text = std::fs::read_to_string(&path).expect("recorded file");
    let live = format!("127.0.0.1:{}", crm.port());
    let text = text.replace(&live, URL.trim_start_matches("http://"));
    let mut recordings: Recordings = serde_json::from_str(&text).expect("recordings");
    for exchange in &mut recordings.exchanges {
        let request = &mut exchange.request;
        if request.url.contains("/api/cases/") && request.method != "GET" {
            request.body = None;
        }
    }
    recordings.save(&path).expect("save recordings");
}

fn identity(kind: IdentityKind, value: &str) -> Identity {
    Identity::new(
        kind,
        value,
        IdentityScope::Global,
        Assurance::ChannelAsserted,
        &NormalizeOptions::default(),
    )
    .expect("a valid identity")
}

fn contact_link(id: &str) -> BackofficeLink {
    BackofficeLink {
        system: "bottlecrm".into(),
        object_type: "contact".into(),
        remote_id: id.into(),
        url: None,
        snapshot: Default::default(),
        fetched_at: None,
        expires_at: None,
    }
}

fn activity() -> Activity {
    Activity {
        interaction_id: InteractionId::parse("interaction", INTERACTION).expect("uuid"),
        case_id: None,
        party_links: vec![contact_link("1")],
        direction: Direction::Inbound,
        channel: "email".into(),
        occurred_at: Timestamp::parse_rfc3339("t", "2026-11-23T20:54:41Z").expect("time"),
        subject: Some("Where is my order?".into()),
        text: "Hello, I ordered a blue kettle on Monday. It has not arrived.".into(),
    }
}

fn ticket() -> Ticket {
    Ticket {
        remote_id: None,
        case_id: "01936f4e-8a52-7c3e-9d4f-0000c0ffee01".into(),
        party_links: vec![contact_link("1")],
        title: "Where is my order?".into(),
        description: "The kettle has not arrived.".into(),
        status: "open".into(),
        priority: Some("high".into()),
    }
}

#[tokio::test]
async fn the_component_serves_all_three_operations() {
    let crm = live_crm();
    let plugin = start(crm.as_ref(), "recorded-token", RECORDINGS).await;

    // lookup-party: by email, by phone, and a stranger.
    let found = plugin
        .lookup_party(&[identity(IdentityKind::Email, "aino@example.fi")])
        .await
        .expect("lookup by email")
        .expect("Aino is in the CRM");
    assert_eq!(found.display_name.as_deref(), Some("Aino Virtanen"));
    let link = &found.links[0];
    assert_eq!(
        (link.system.as_str(), link.remote_id.as_str()),
        ("bottlecrm", "1")
    );
    let url = crm.as_ref().map_or_else(|| URL.to_owned(), Crm::base_url);
    assert_eq!(link.url, Some(format!("{url}/api/contacts/1/")));
    assert_eq!(link.snapshot["phone"], "+358401234567");
    let kinds: Vec<&IdentityKind> = found.identities.iter().map(|i| i.kind()).collect();
    assert_eq!(
        kinds,
        [
            &IdentityKind::CrmContact,
            &IdentityKind::Email,
            &IdentityKind::Phone
        ]
    );
    assert_eq!(
        found.identities[0].scope(),
        &IdentityScope::App("bottlecrm".into())
    );
    assert_eq!(found.identities[0].assurance, Assurance::ChannelAttested);

    let by_phone = plugin
        .lookup_party(&[identity(IdentityKind::Phone, "+358401234567")])
        .await
        .expect("lookup by phone");
    assert_eq!(
        by_phone.map(|b| b.links[0].remote_id.clone()).as_deref(),
        Some("1")
    );

    let stranger = plugin
        .lookup_party(&[identity(IdentityKind::Email, "nobody@example.fi")])
        .await
        .expect("lookup of a stranger");
    assert_eq!(stranger, None);

    // record-activity: a comment, once.
    let comment = plugin.record_activity(&activity()).await.expect("record");
    assert_eq!(comment.object_type, "contact-comment");
    assert!(comment.snapshot["comment"].ends_with(&format!("[silta {INTERACTION}]")));
    let again = plugin
        .record_activity(&activity())
        .await
        .expect("record again");
    assert_eq!(again.remote_id, comment.remote_id);

    // upsert-ticket: create, then close.
    let case = plugin
        .upsert_ticket(&ticket())
        .await
        .expect("create the case");
    assert_eq!(case.object_type, "case");
    assert_eq!(case.snapshot["status"], "New");
    assert_eq!(case.snapshot["priority"], "High");
    let mut closing = ticket();
    closing.remote_id = Some(case.remote_id.clone());
    closing.status = "closed".into();
    let closed = plugin
        .upsert_ticket(&closing)
        .await
        .expect("close the case");
    assert_eq!(closed.remote_id, case.remote_id);
    assert_eq!(closed.snapshot["status"], "Closed");

    drop(plugin);
    portable(crm.as_ref(), RECORDINGS);
}

#[tokio::test]
async fn a_refused_token_is_unauthorized() {
    let crm = live_crm();
    let url = crm.as_ref().map_or_else(|| URL.to_owned(), Crm::base_url);
    let plugin = Harness::for_crate(crate_dir())
        .secret("api-token", "not-a-jwt")
        .config("url", &url)
        .recordings(RECORDINGS_UNAUTHORIZED)
        .start()
        .await;
    let refused = plugin
        .lookup_party(&[identity(IdentityKind::Email, "aino@example.fi")])
        .await;
    match refused {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(reason),
            ..
        }) => assert!(reason.contains("api-token"), "{reason}"),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    drop(plugin);
    portable(crm.as_ref(), RECORDINGS_UNAUTHORIZED);
}

#[tokio::test]
async fn missing_configuration_is_permanent_and_names_the_key() {
    let plugin = Harness::for_crate(crate_dir())
        .secret("api-token", "t")
        .start()
        .await;
    match plugin.upsert_ticket(&ticket()).await {
        Err(Error::Plugin {
            error: PluginError::Permanent(reason),
            ..
        }) => assert!(reason.contains("`url`"), "{reason}"),
        other => panic!("expected permanent, got {other:?}"),
    }
}
