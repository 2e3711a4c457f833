//! Plugin `tryton` against a real Tryton 8.2 (`silta_test_peers::Tryton`,
//! installed by `tests/peers/install-tryton.sh`): the component in the real
//! runtime, its requests sent to the live server (nothing is recorded).

use std::time::Duration;

use silta_plugin_test::contract::Background;
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_plugin_tryton::client::CREDENTIALS;
use silta_runtime::{Error, PluginError};
use silta_sdk::model::{Assurance, Identity, IdentityKind, IdentityScope, NormalizeOptions};
use silta_test_peers::{SaleLine, Tryton};

async fn plugin(tryton: &Tryton) -> PluginUnderTest {
    Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
        .secret(CREDENTIALS, tryton.basic_credentials())
        .config("url", &tryton.base_url())
        .config("database", tryton.database())
        // Live: no recordings file, so nothing is written.
        .record()
        .start()
        .await
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

fn sale_numbers(background: &Background) -> Vec<(&str, &str)> {
    background
        .links
        .iter()
        .filter(|link| link.object_type == "sale.sale")
        .map(|link| {
            let get = |key: &str| link.snapshot.get(key).map_or("", String::as_str);
            (get("description"), get("total_amount"))
        })
        .collect()
}

#[tokio::test]
async fn looks_a_party_up_by_email_and_by_phone_and_survives_an_outage() {
    let mut tryton = Tryton::start().expect("Tryton (run tests/peers/install-tryton.sh)");
    let seeded = (|| -> anyhow::Result<u64> {
        let party = tryton.create_party(
            "Aino Virtanen",
            Some("aino@example.fi"),
            Some("+358 40 1234567"),
        )?;
        tryton.create_party("Someone Else", Some("other@example.fi"), None)?;
        let line = |price| SaleLine {
            description: "Widget",
            quantity: 1.0,
            unit_price: price,
        };
        let older =
            tryton.create_sale(party, "Older order", Some("2026-01-15"), &[line("10.00")])?;
        tryton.create_sale(party, "Newer order", Some("2026-11-20"), &[line("25.50")])?;
        tryton.quote_sale(older)?;
        Ok(party)
    })();
    let party = seeded.unwrap_or_else(|e| panic!("seeding Tryton: {e:#}\n{}", tryton.logs()));
    let plugin = plugin(&tryton).await;

    for found_by in [
        identity(IdentityKind::Email, "aino@example.fi"),
        identity(IdentityKind::Phone, "+358401234567"),
        identity(IdentityKind::Whatsapp, "+358401234567"),
    ] {
        let background = plugin
            .lookup_party(std::slice::from_ref(&found_by))
            .await
            .unwrap_or_else(|e| panic!("{found_by:?}: {e}\n{}", tryton.logs()))
            .unwrap_or_else(|| panic!("{found_by:?} found nothing"));
        assert_eq!(background.display_name.as_deref(), Some("Aino Virtanen"));
        assert_eq!(background.links[0].remote_id, party.to_string());
        assert_eq!(
            sale_numbers(&background),
            [("Newer order", "25.50"), ("Older order", "10.00")],
            "{found_by:?}"
        );
        let values: Vec<&str> = background.identities.iter().map(Identity::value).collect();
        assert!(values.contains(&"aino@example.fi"), "{values:?}");
        assert!(values.contains(&"+358401234567"), "{values:?}");
    }

    let unknown = plugin
        .lookup_party(&[identity(IdentityKind::Email, "nobody@example.fi")])
        .await
        .expect("lookup");
    assert_eq!(unknown, None);

    // Tryton goes away: a retryable error, and the same lookup works once it is back.
    tryton.stop().expect("stop");
    let refused = plugin
        .lookup_party(&[identity(IdentityKind::Email, "aino@example.fi")])
        .await;
    match refused {
        Err(Error::Plugin {
            error: PluginError::Retryable { message, .. },
            ..
        }) => {
            assert!(message.contains("127.0.0.1"), "{message}");
        }
        other => panic!("expected retryable, got {other:?}"),
    }
    tryton.start_again().expect("start again");
    let again = tokio::time::timeout(
        Duration::from_secs(30),
        plugin.lookup_party(&[identity(IdentityKind::Email, "aino@example.fi")]),
    )
    .await
    .expect("in time")
    .expect("lookup after the restart");
    assert!(again.is_some());
}
