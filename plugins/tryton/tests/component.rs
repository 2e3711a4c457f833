//! Plugin `tryton` as the host runs it: the crate built to a component,
//! loaded into the real runtime with the real limits, its JSON-RPC calls
//! answered from `tests/fixtures/recordings/NAME.json`.
//!
//! The recordings are real exchanges with Tryton 8.2. To record them again
//! (after changing a call), run
//!
//! ```sh
//! tests/peers/install-tryton.sh
//! SILTA_RECORD=1 cargo test -p silta-plugin-tryton --test component
//! ```
//!
//! Each test then starts its own Tryton (`silta_test_peers::Tryton`), seeds
//! [`seed`] into it, sends the plugin's requests there and rewrites the
//! recording with the live server's origin replaced by [`RECORDED_URL`], so
//! replaying needs no server. Credentials are never written.

use std::path::PathBuf;

use silta_plugin_test::contract::{Activity, Background, Direction, Ticket};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_plugin_tryton::client::CREDENTIALS;
use silta_runtime::{Error, PluginError};
use silta_sdk::model::{
    Assurance, Identity, IdentityKind, IdentityScope, InteractionId, NormalizeOptions, Timestamp,
};
use silta_test_peers::{SaleLine, Tryton};

/// The origin the recordings name; replaying sends nothing anywhere.
const RECORDED_URL: &str = "http://127.0.0.1:18000";
/// base64 of `admin:AdminPass123`, the test server's administrator.
const CREDENTIALS_VALUE: &str = "YWRtaW46QWRtaW5QYXNzMTIz";

fn recording(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/recordings/{name}.json"))
}

fn recording_now() -> bool {
    std::env::var("SILTA_RECORD").is_ok_and(|v| v == "1")
}

/// One scenario: the plugin, and while recording the live Tryton behind it.
struct Scenario {
    plugin: Option<PluginUnderTest>,
    /// The `url` the plugin is configured with.
    url: String,
    live: Option<(Tryton, PathBuf)>,
}

impl Scenario {
    async fn start(name: &str, credentials: &str) -> Scenario {
        let live = recording_now().then(|| {
            let tryton = Tryton::start().expect("Tryton (run tests/peers/install-tryton.sh)");
            seed(&tryton);
            (tryton, recording(name))
        });
        let url = live
            .as_ref()
            .map_or(RECORDED_URL.to_owned(), |(t, _)| t.base_url());
        let plugin = Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
            .secret(CREDENTIALS, credentials)
            .config("url", &url)
            .config("database", "silta")
            .config("max_orders", "5")
            .recordings(recording(name))
            .start()
            .await;
        Scenario {
            plugin: Some(plugin),
            url,
            live,
        }
    }

    fn plugin(&self) -> &PluginUnderTest {
        self.plugin.as_ref().expect("running")
    }

    /// Saves a recording (the harness writes it when the plugin is dropped)
    /// with the live server's `127.0.0.1:PORT` replaced by [`RECORDED_URL`]'s.
    fn finish(mut self) {
        drop(self.plugin.take());
        if let Some((tryton, path)) = self.live.take() {
            let text = std::fs::read_to_string(&path).expect("the recording was written");
            let live = format!("127.0.0.1:{}", tryton.port());
            let recorded = RECORDED_URL.trim_start_matches("http://");
            std::fs::write(&path, text.replace(&live, recorded)).expect("rewrite");
        }
    }
}

/// The data every recording was made against, on a fresh template copy:
/// party 2 with an email and a mobile number and two quoted sale orders.
fn seed(tryton: &Tryton) {
    let party = tryton
        .create_party(
            "Aino Virtanen",
            Some("aino.virtanen@example.fi"),
            Some("+358401234567"),
        )
        .expect("party");
    let first = tryton
        .create_sale(
            party,
            "First order",
            Some("2026-10-01"),
            &[SaleLine {
                description: "Widget",
                quantity: 2.0,
                unit_price: "10.50",
            }],
        )
        .expect("sale");
    let second = tryton
        .create_sale(
            party,
            "Second order",
            Some("2026-11-20"),
            &[
                SaleLine {
                    description: "Gadget",
                    quantity: 1.0,
                    unit_price: "99.90",
                },
                SaleLine {
                    description: "Cable",
                    quantity: 3.0,
                    unit_price: "5.00",
                },
            ],
        )
        .expect("sale");
    tryton.quote_sale(first).expect("quote");
    tryton.quote_sale(second).expect("quote");
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

fn snapshot<'a>(background: &'a Background, object_type: &str, key: &str) -> Vec<&'a str> {
    background
        .links
        .iter()
        .filter(|link| link.object_type == object_type)
        .map(|link| link.snapshot.get(key).map_or("", String::as_str))
        .collect()
}

/// What the seeded party looks like, found by any of its identities.
fn assert_aino(background: &Background, url: &str) {
    assert_eq!(background.display_name.as_deref(), Some("Aino Virtanen"));
    let identities: Vec<(String, &str)> = background
        .identities
        .iter()
        .map(|i| (i.kind().name().to_owned(), i.value()))
        .collect();
    assert!(
        identities.contains(&("erp_customer".into(), "2")),
        "{identities:?}"
    );
    assert!(
        identities.contains(&("email".into(), "aino.virtanen@example.fi")),
        "{identities:?}"
    );
    assert!(
        identities.contains(&("phone".into(), "+358401234567")),
        "{identities:?}"
    );
    assert!(
        background
            .identities
            .iter()
            .all(|i| i.assurance == Assurance::ChannelAttested)
    );
    let party = &background.links[0];
    assert_eq!(
        (party.system.as_str(), party.object_type.as_str()),
        ("tryton", "party.party")
    );
    assert_eq!(party.remote_id, "2");
    assert_eq!(
        party.url.as_deref(),
        Some(format!("{url}/#silta/model/party.party/2").as_str())
    );
    assert_eq!(
        party.snapshot.get("phone").map(String::as_str),
        Some("+358 40 1234567")
    );
    // Newest first.
    assert_eq!(snapshot(background, "sale.sale", "number"), ["2", "1"]);
    assert_eq!(
        snapshot(background, "sale.sale", "sale_date"),
        ["2026-11-20", "2026-10-01"]
    );
    assert_eq!(
        snapshot(background, "sale.sale", "total_amount"),
        ["114.90", "21.00"]
    );
    assert_eq!(
        snapshot(background, "sale.sale", "state"),
        ["quotation", "quotation"]
    );
    assert_eq!(
        snapshot(background, "sale.sale", "currency"),
        ["EUR", "EUR"]
    );
}

#[tokio::test]
async fn finds_the_party_and_its_orders_by_email() {
    let scenario = Scenario::start("lookup-by-email", CREDENTIALS_VALUE).await;
    let found = scenario
        .plugin()
        .lookup_party(&[identity(IdentityKind::Email, "Aino.Virtanen@example.fi")])
        .await
        .expect("lookup")
        .expect("a party");
    assert_aino(&found, &scenario.url);
    scenario.finish();
}

#[tokio::test]
async fn finds_the_party_by_its_phone_number() {
    let scenario = Scenario::start("lookup-by-phone", CREDENTIALS_VALUE).await;
    let found = scenario
        .plugin()
        .lookup_party(&[identity(IdentityKind::Phone, "+358 40 123 4567")])
        .await
        .expect("lookup")
        .expect("a party");
    assert_aino(&found, &scenario.url);
    scenario.finish();
}

#[tokio::test]
async fn an_unknown_address_finds_nothing() {
    let scenario = Scenario::start("lookup-unknown", CREDENTIALS_VALUE).await;
    let found = scenario
        .plugin()
        .lookup_party(&[identity(IdentityKind::Email, "nobody@example.fi")])
        .await
        .expect("lookup");
    assert_eq!(found, None);
    scenario.finish();
}

#[tokio::test]
async fn refused_credentials_are_unauthorized() {
    // base64 of `admin:wrong`.
    let scenario = Scenario::start("lookup-refused", "YWRtaW46d3Jvbmc=").await;
    let refused = scenario
        .plugin()
        .lookup_party(&[identity(IdentityKind::Email, "aino.virtanen@example.fi")])
        .await;
    match refused {
        Err(Error::Plugin {
            error: PluginError::Unauthorized(reason),
            ..
        }) => {
            assert!(reason.contains("`credentials`"), "{reason}");
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    scenario.finish();
}

#[tokio::test]
async fn activities_and_tickets_are_not_supported() {
    let scenario = Scenario::start("unsupported", CREDENTIALS_VALUE).await;
    let activity = Activity {
        interaction_id: InteractionId::new(),
        case_id: None,
        party_links: Vec::new(),
        direction: Direction::Inbound,
        channel: "email".into(),
        occurred_at: Timestamp::now(),
        subject: None,
        text: "Where is my order?".into(),
    };
    let ticket = Ticket {
        remote_id: None,
        case_id: "case-1".into(),
        party_links: Vec::new(),
        title: "Order".into(),
        description: "Where is it?".into(),
        status: "open".into(),
        priority: None,
    };
    for result in [
        scenario.plugin().record_activity(&activity).await,
        scenario.plugin().upsert_ticket(&ticket).await,
    ] {
        match result {
            Err(Error::Plugin {
                error: PluginError::Permanent(reason),
                ..
            }) => {
                assert!(
                    reason.contains("not supported by the tryton plugin"),
                    "{reason}"
                );
            }
            other => panic!("expected permanent, got {other:?}"),
        }
    }
    scenario.finish();
}
