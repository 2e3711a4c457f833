//! The contact graph through the API of a real `silta run`: why an
//! interaction is linked where it is, an unconfirmed claim kept apart with
//! a conflict, merge and unmerge by an agent, and case status and
//! messages on the case's channel.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Config, KEY, Silta, eventually};

fn webhook(id: &str, sender: Value, text: &str) -> Vec<u8> {
    json!({ "id": id, "sender": sender, "text": text })
        .to_string()
        .into_bytes()
}

async fn interaction_of(client: &Client, provider_id: &str) -> Value {
    let id = provider_id.to_owned();
    eventually(Duration::from_secs(20), "the interaction is linked", || {
        let id = id.clone();
        async move {
            client.all_interactions().await.into_iter().find(|i| {
                i["idempotency_key"]["provider_message_id"] == id.as_str()
                    && i["party_id"].is_string()
            })
        }
    })
    .await
}

async fn post(client: &Client, path: &str, body: Value) -> support::Reply {
    client
        .call(
            "POST",
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_why_and_merge_unmerge_and_answer_on_the_case() {
    let mut silta = Silta::new(&Config {
        signing_key: true,
        ..Config::default()
    });
    silta.start().await;
    let client = Client { port: silta.port };

    // A verified phone and an email claimed by the same shop system.
    let verified =
        json!({"kind": "phone", "value": "+358401234567", "name": "Aino", "verified": true});
    assert_eq!(
        client
            .ingest(webhook("w-1", verified.clone(), "hello"), KEY)
            .await
            .unwrap()
            .status,
        202
    );
    let first = interaction_of(&client, "w-1").await;
    let email = json!({"kind": "email", "value": "aino@example.fi"});
    assert_eq!(
        client
            .ingest(webhook("w-2", email, "it's me again"), KEY)
            .await
            .unwrap()
            .status,
        202
    );
    let second = interaction_of(&client, "w-2").await;
    let (aino, other) = (first["party_id"].clone(), second["party_id"].clone());
    assert_ne!(
        aino, other,
        "different identities, no evidence: two parties"
    );

    // Explain: the rule, the identity and the case decision.
    let explained = client
        .get_json(&format!(
            "/v1/interactions/{}/explain",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        explained["party"]["decision"]["rule"], "new-party",
        "{explained}"
    );
    assert_eq!(explained["party"]["decision"]["identity"]["kind"], "phone");
    assert_eq!(
        explained["conversation"]["decision"]["rule"],
        "new-conversation"
    );
    assert_eq!(explained["case"]["decision"]["rule"], "new-case");

    // Merge (an agent decides), then the old id resolves to the survivor.
    let before_other = client
        .get_json(&format!("/v1/parties/{}", other.as_str().unwrap()))
        .await;
    let agent = "019a0000-0000-7000-8000-000000000001";
    let merged = post(
        &client,
        "/v1/parties/merge",
        json!({"survivor": aino, "merged": [other], "agent_id": agent,
               "evidence": [{"description": "customer confirmed by phone"}]}),
    )
    .await;
    assert_eq!(merged.status, 201, "{}", merged.text());
    let record = merged.json()["merge"].clone();
    assert_eq!(
        record["moved"][0]["interactions"].as_array().unwrap().len(),
        1
    );
    let resolved = client
        .get_json(&format!("/v1/parties/{}", other.as_str().unwrap()))
        .await;
    assert_eq!(resolved["party"]["id"], aino);
    let timeline = client
        .all_pages(&format!("/v1/parties/{}/timeline", aino.as_str().unwrap()))
        .await;
    assert_eq!(timeline.len(), 2);
    let explained = client
        .get_json(&format!(
            "/v1/interactions/{}/explain",
            second["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        explained["merges"][0]["merge_id"], record["id"],
        "{explained}"
    );
    // Merging a merged party again is refused with a reason.
    let again = post(
        &client,
        "/v1/parties/merge",
        json!({"survivor": aino, "merged": [other], "agent_id": agent}),
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.text());

    // Unmerge restores exactly what was there.
    let undone = post(
        &client,
        &format!("/v1/merges/{}/unmerge", record["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(undone.status, 200, "{}", undone.text());
    let after_other = client
        .get_json(&format!("/v1/parties/{}", other.as_str().unwrap()))
        .await;
    assert_eq!(after_other["identities"], before_other["identities"]);
    assert_eq!(after_other["party"]["status"], "active");
    assert_eq!(
        client
            .all_pages(&format!("/v1/parties/{}/timeline", other.as_str().unwrap()))
            .await
            .len(),
        1
    );
    let twice = post(
        &client,
        &format!("/v1/merges/{}/unmerge", record["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(twice.status, 409);

    // Cases: status is kept, a message on the case goes out on the
    // customer's last channel (queued in the outbox: 202).
    let case_id = first["case_id"].as_str().unwrap().to_owned();
    let patched = client
        .call(
            "PATCH",
            &format!("/v1/cases/{case_id}"),
            "application/json",
            json!({"status": "pending"}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json()["case"]["status"], "pending");
    let queued = post(
        &client,
        &format!("/v1/cases/{case_id}/messages"),
        json!({"text": "Your order ships today."}),
    )
    .await;
    assert_eq!(queued.status, 202, "{}", queued.text());
    assert_eq!(
        queued.json()["conversation_id"],
        first["conversation_id"],
        "answered in the customer's conversation on the channel used last"
    );
    let bad = post(
        &client,
        &format!("/v1/cases/{case_id}/messages"),
        json!({"txt": "x"}),
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    let ticket = post(
        &client,
        &format!("/v1/cases/{case_id}/ticket"),
        json!({"plugin": "nope"}),
    )
    .await;
    assert_eq!(ticket.status, 404, "{}", ticket.text());
    silta.terminate().await;
}
