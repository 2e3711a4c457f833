//! One customer across channels with the back office beside every contact:
//! a real `silta run` reading a Dovecot mailbox and the webhook channel,
//! enriching from a real Tryton (ERP) and a real django-crm (BottleCRM),
//! all on loopback.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use silta_test_peers::{Crm, MailServers, SaleLine, Tryton};
use support::mail::{Mail, SUPPORT, email_config};
use support::{Client, Config, KEY, Silta, eventually, webhook};

/// How long a back-office round (lookup, activity) may take here.
const ENRICHED: Duration = Duration::from_secs(90);

/// The node: the support mailbox, the webhook channel (from
/// [`email_config`]) and both back offices, with their secrets in the
/// environment only.
fn config(mail: &MailServers, tryton: &Tryton, crm: &Crm) -> Config {
    let mut config = email_config(mail);
    config.extra_toml.push_str(&format!(
        r#"
[[plugins]]
id = "tryton"
capabilities = ["log", "config", "secrets", "http"]
allowed_hosts = [{tryton_url:?}]
secrets = {{ credentials = {{ env = "SILTA_TRYTON_CREDENTIALS" }} }}
config = {{ url = {tryton_url:?}, database = {database:?}, max_orders = "5", default_phone_region = "FI" }}

[[plugins]]
id = "bottlecrm"
capabilities = ["log", "config", "secrets", "http"]
allowed_hosts = [{crm_url:?}]
secrets = {{ api-token = {{ env = "SILTA_BOTTLECRM_TOKEN" }} }}
config = {{ url = {crm_url:?}, create_contacts = "false" }}

[[backoffice]]
plugin = "tryton"
max_attempts = 1000

[[backoffice]]
plugin = "bottlecrm"
record_activities = true
max_attempts = 1000
"#,
        tryton_url = tryton.base_url(),
        database = tryton.database(),
        crm_url = crm.base_url(),
    ));
    config.env.extend([
        (
            "SILTA_TRYTON_CREDENTIALS".to_owned(),
            tryton.basic_credentials(),
        ),
        ("SILTA_BOTTLECRM_TOKEN".to_owned(), crm.token().to_owned()),
    ]);
    config
}

fn id(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an id: {value}"))
}

/// The party's links of `system`/`object_type`.
fn links<'a>(party: &'a Value, system: &str, object_type: &str) -> Vec<&'a Value> {
    party["backoffice_links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["system"] == system && l["object_type"] == object_type)
        .collect()
}

/// The party once it holds a link of each `(system, object_type)`.
async fn party_with_links(client: &Client, party: &str, wanted: &[(&str, &str)]) -> Value {
    let path = format!("/v1/parties/{party}");
    eventually(ENRICHED, "the party's back-office links", || async {
        let party = client.get_json(&path).await;
        wanted
            .iter()
            .all(|(system, kind)| !links(&party, system, kind).is_empty())
            .then_some(party)
    })
    .await
}

/// The interaction once every back office has answered for it.
async fn enriched(client: &Client, interaction: &str) -> Value {
    let path = format!("/v1/interactions/{interaction}");
    eventually(ENRICHED, "the interaction's enrichment", || async {
        let interaction = client.get_json(&path).await;
        (interaction["enrichment"]["state"] != "pending").then_some(interaction)
    })
    .await
}

/// Everything an agent sees of these parties: the parties with their
/// identities and links, their timelines and their cases. Leaves out the
/// parties' `updated_at`, which truthfully says when the unmerge wrote them.
async fn state_of(client: &Client, parties: &[&str]) -> Vec<Value> {
    let mut state = Vec::new();
    for party in parties {
        let mut seen = client.get_json(&format!("/v1/parties/{party}")).await;
        seen["party"]
            .as_object_mut()
            .expect("a party")
            .remove("updated_at");
        state.push(seen);
        state.push(Value::Array(
            client
                .all_pages(&format!("/v1/parties/{party}/timeline"))
                .await,
        ));
        state.push(client.get_json(&format!("/v1/parties/{party}/cases")).await);
    }
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_is_one_party_across_channels_with_erp_and_crm_beside_every_contact()
-> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut tryton = Tryton::start()?;
    let crm = Crm::start()?;

    // Aino is a customer in the ERP (with a quoted order) and the CRM;
    // Matti only in the ERP.
    let aino_erp = tryton.create_party(
        "Aino Virtanen",
        Some("aino.virtanen@example.fi"),
        Some("+358401234567"),
    )?;
    let order = tryton.create_sale(
        aino_erp,
        "Blue kettle",
        Some("2026-11-20"),
        &[SaleLine {
            description: "Blue kettle",
            quantity: 1.0,
            unit_price: "39.90",
        }],
    )?;
    tryton.quote_sale(order)?;
    let aino_crm = crm.create_contact(
        "Aino",
        "Virtanen",
        "aino.virtanen@example.fi",
        Some("+358401234567"),
    )?;
    let matti_erp = tryton.create_party("Matti Meikäläinen", Some("matti@example.fi"), None)?;

    let mut silta = Silta::new(&config(&mail, &tryton, &crm));
    silta.start().await;
    let client = Client { port: silta.port };

    // 1. Aino emails support. Email senders are not attested, so she is a
    //    new party; the back offices find her by the address.
    Mail {
        from: "Aino Virtanen <aino.virtanen@example.fi>",
        to: SUPPORT,
        message_id: "kettle-1@example.fi",
        subject: "Where is my kettle?",
        text: "Hello, my order of a blue kettle has not arrived.",
        headers: &[],
    }
    .send(&mail)
    .await?;
    let email = client.linked_interaction("kettle-1@example.fi").await;
    let aino = id(&email["party_id"]).to_owned();
    let party = party_with_links(
        &client,
        &aino,
        &[
            ("tryton", "party.party"),
            ("tryton", "sale.sale"),
            ("bottlecrm", "contact"),
        ],
    )
    .await;
    assert_eq!(
        links(&party, "tryton", "party.party")[0]["remote_id"],
        aino_erp.to_string()
    );
    let sale = links(&party, "tryton", "sale.sale")[0];
    assert_eq!(sale["remote_id"], order.to_string(), "{party}");
    assert_eq!(sale["snapshot"]["state"], "quotation");
    assert_eq!(sale["snapshot"]["sale_date"], "2026-11-20");
    assert_eq!(sale["snapshot"]["total_amount"], "39.90");
    assert!(sale["snapshot"]["number"].is_string(), "{sale}");
    assert!(sale["expires_at"].is_string(), "a snapshot has a TTL");
    assert_eq!(
        links(&party, "bottlecrm", "contact")[0]["remote_id"],
        aino_crm.to_string()
    );
    let identities = party["identities"].as_array().expect("identities");
    let held = |kind: &str, value: &str| {
        identities
            .iter()
            .find(|i| i["kind"] == kind && i["value"] == value)
            .cloned()
    };
    assert!(
        held("erp_customer", &aino_erp.to_string()).is_some(),
        "{party}"
    );
    assert!(held("crm_contact", &aino_crm.to_string()).is_some());
    let phone = held("phone", "+358401234567").expect("the ERP's phone number");
    assert_eq!(phone["assurance"], "channel_attested");
    assert_eq!(party["party"]["display_name"], "Aino Virtanen");
    assert_eq!(
        party["party"]["attributes"]["bottlecrm.contact_id"]["value"],
        aino_crm.to_string(),
        "attributes are kept under the plugin's id"
    );

    // 2. Aino writes on the webhook channel from her verified phone: the
    //    same party and case, in a new conversation.
    let verified =
        json!({"kind": "phone", "value": "+358 40 123 4567", "name": "Aino", "verified": true});
    let accepted = client
        .ingest(
            webhook("chat-1", verified, "Any news about the kettle?"),
            KEY,
        )
        .await?;
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let chat = client.linked_interaction("chat-1").await;
    assert_eq!(chat["party_id"], email["party_id"], "{chat}");
    assert_eq!(chat["case_id"], email["case_id"]);
    assert_ne!(chat["conversation_id"], email["conversation_id"]);
    let explained = client
        .get_json(&format!("/v1/interactions/{}/explain", id(&chat["id"])))
        .await;
    assert_eq!(
        explained["party"]["decision"]["rule"], "attested-identity-match",
        "{explained}"
    );
    let case_id = id(&email["case_id"]).to_owned();
    let in_case = client
        .all_pages(&format!("/v1/cases/{case_id}/interactions"))
        .await;
    let channels: Vec<&Value> = in_case
        .iter()
        .map(|i| &i["provenance"]["plugin_id"])
        .collect();
    assert_eq!(channels, ["email", "webhook"], "every channel, in order");

    // 3. The CRM holds an activity for each of Aino's interactions.
    for interaction in [&email, &chat] {
        let done = enriched(&client, id(&interaction["id"])).await;
        assert_eq!(done["enrichment"]["state"], "done", "{done}");
    }
    let comments = crm.comments(aino_crm)?;
    for interaction in [&email, &chat] {
        let marker = format!("[silta {}]", id(&interaction["id"]));
        assert_eq!(
            comments
                .iter()
                .filter(|c| c.comment.contains(&marker))
                .count(),
            1,
            "one CRM comment for {marker}: {comments:?}"
        );
    }

    // 4. A ticket made through Silta appears in the CRM, for her contact.
    let ticket = client
        .post_json(
            &format!("/v1/cases/{case_id}/ticket"),
            &json!({"plugin": "bottlecrm", "title": "Kettle not delivered", "priority": "high"}),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text());
    let ticket = ticket.json()["ticket"].clone();
    let remote: u64 = id(&ticket["remote_id"]).parse()?;
    let crm_case = crm.case(remote)?.expect("the case is in the CRM");
    assert!(
        crm_case.name.contains("Kettle not delivered"),
        "{crm_case:?}"
    );
    assert_eq!(crm_case.priority, "High");
    assert_eq!(crm_case.contact_ids, [aino_crm]);
    let case = client.get_json(&format!("/v1/cases/{case_id}")).await;
    assert_eq!(case["backoffice_ticket"]["remote_id"], ticket["remote_id"]);

    // 5. Someone else claims her address, unverified: a separate party and
    //    a conflict with the evidence; her CRM contact is not touched.
    let claim = json!({"kind": "email", "value": "aino.virtanen@example.fi", "name": "A. V."});
    let accepted = client
        .ingest(webhook("claim-1", claim, "Change my delivery address"), KEY)
        .await?;
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let claimed = client.linked_interaction("claim-1").await;
    let other = id(&claimed["party_id"]).to_owned();
    assert_ne!(other, aino, "an unverified claim is kept apart");
    let events = client.events(0, Duration::from_secs(1)).await;
    let conflict = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("silta.identity.conflict"))
        .map(|e| serde_json::from_str::<Value>(&e.data).expect("event JSON"))
        .find(|e| e["data"]["party"] == other.as_str())
        .unwrap_or_else(|| panic!("no conflict for {other}: {events:?}"));
    assert_eq!(
        conflict["data"]["existing_party"],
        aino.as_str(),
        "{conflict}"
    );
    assert_eq!(
        conflict["data"]["evidence"]["held"]["assurance"],
        "channel_attested"
    );
    assert_eq!(
        conflict["data"]["evidence"]["claimed"]["assurance"],
        "channel_asserted"
    );
    enriched(&client, id(&claimed["id"])).await;
    let stranger = client.get_json(&format!("/v1/parties/{other}")).await;
    assert_eq!(
        stranger["backoffice_links"],
        json!([]),
        "a claim kept apart is not looked up"
    );
    assert_eq!(crm.comments(aino_crm)?.len(), comments.len());

    // 6. An agent merges the two, then undoes it: the exact state returns.
    let before = state_of(&client, &[&aino, &other]).await;
    let merged = client
        .post_json(
            "/v1/parties/merge",
            &json!({"survivor": aino, "merged": [other],
                    "agent_id": "019a0000-0000-7000-8000-000000000001",
                    "evidence": [{"description": "same person, confirmed by phone"}]}),
        )
        .await;
    assert_eq!(merged.status, 201, "{}", merged.text());
    let merge = merged.json()["merge"].clone();
    let resolved = client.get_json(&format!("/v1/parties/{other}")).await;
    assert_eq!(resolved["party"]["id"], aino.as_str(), "old ids resolve");
    assert_eq!(
        client
            .all_pages(&format!("/v1/parties/{aino}/timeline"))
            .await
            .len(),
        3
    );
    let undone = client
        .post_json(
            &format!("/v1/merges/{}/unmerge", id(&merge["id"])),
            &json!({}),
        )
        .await;
    assert_eq!(undone.status, 200, "{}", undone.text());
    assert_eq!(state_of(&client, &[&aino, &other]).await, before);

    // 7. The ERP goes away: ingestion goes on, enrichment waits, and
    //    catches up when the ERP is back.
    tryton.stop()?;
    Mail {
        from: "Matti Meikäläinen <matti@example.fi>",
        to: SUPPORT,
        message_id: "invoice-1@example.fi",
        subject: "Invoice",
        text: "Please send me a copy of my invoice.",
        headers: &[],
    }
    .send(&mail)
    .await?;
    let during = client.linked_interaction("invoice-1@example.fi").await;
    let matti = id(&during["party_id"]).to_owned();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let waiting = client
        .get_json(&format!("/v1/interactions/{}", id(&during["id"])))
        .await;
    assert_eq!(waiting["enrichment"]["state"], "pending", "{waiting}");
    tryton.start_again()?;
    let done = enriched(&client, id(&during["id"])).await;
    assert_eq!(done["enrichment"]["state"], "done", "{done}");
    let party = party_with_links(&client, &matti, &[("tryton", "party.party")]).await;
    assert_eq!(
        links(&party, "tryton", "party.party")[0]["remote_id"],
        matti_erp.to_string()
    );
    assert!(
        client
            .events(0, Duration::from_secs(1))
            .await
            .iter()
            .any(|e| e.event.as_deref() == Some("silta.party.enriched") && e.data.contains(&matti)),
        "an update event follows the snapshot"
    );

    silta.terminate().await;
    Ok(())
}
