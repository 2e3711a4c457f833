//! The contact graph through the API of a real `silta run`: why an
//! interaction is linked where it is, an unconfirmed claim kept apart with
//! a conflict, merge and unmerge by an agent, and case status and
//! messages on the case's channel.

mod support;

use serde_json::json;
use support::{Client, Config, KEY, Silta, webhook};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_why_and_merge_unmerge_and_answer_on_the_case() {
    let mut silta = Silta::new(&Config {
        signing_key: true,
        // A second channel account an agent can pick for a reply.
        extra_toml: "[[channel_accounts]]\nname = \"chat\"\nplugin = \"webhook\"\n".into(),
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
    let first = client.linked_interaction("w-1").await;
    let email = json!({"kind": "email", "value": "aino@example.fi"});
    assert_eq!(
        client
            .ingest(webhook("w-2", email, "it's me again"), KEY)
            .await
            .unwrap()
            .status,
        202
    );
    let second = client.linked_interaction("w-2").await;
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
    let merged = client
        .post_json(
            "/v1/parties/merge",
            &json!({"survivor": aino, "merged": [other], "agent_id": agent,
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
    let again = client
        .post_json(
            "/v1/parties/merge",
            &json!({"survivor": aino, "merged": [other], "agent_id": agent}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text());

    // Unmerge restores exactly what was there.
    let undone = client
        .post_json(
            &format!("/v1/merges/{}/unmerge", record["id"].as_str().unwrap()),
            &json!({}),
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
    let twice = client
        .post_json(
            &format!("/v1/merges/{}/unmerge", record["id"].as_str().unwrap()),
            &json!({}),
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
    let queued = client
        .post_json(
            &format!("/v1/cases/{case_id}/messages"),
            &json!({"text": "Your order ships today."}),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.text());
    assert_eq!(
        queued.json()["conversation_id"],
        first["conversation_id"],
        "answered in the customer's conversation on the channel used last"
    );
    // Or on the channel the agent picks: a new conversation in the case,
    // and the case remembers the channel it last answered on.
    let picked = client
        .post_json(
            &format!("/v1/cases/{case_id}/messages"),
            &json!({"text": "Or chat with us here.", "channel_account": "chat"}),
        )
        .await;
    assert_eq!(picked.status, 202, "{}", picked.text());
    assert_ne!(picked.json()["conversation_id"], first["conversation_id"]);
    let sent = client
        .get_json(&format!(
            "/v1/interactions/{}",
            picked.json()["interaction_id"].as_str().unwrap()
        ))
        .await;
    let case = client.get_json(&format!("/v1/cases/{case_id}")).await;
    assert_eq!(
        case["last_outbound_channel"], sent["idempotency_key"]["channel_account"],
        "{case}"
    );
    assert_ne!(case["last_outbound_channel"], case["last_inbound_channel"]);
    assert!(
        case["conversation_ids"]
            .as_array()
            .unwrap()
            .contains(&picked.json()["conversation_id"])
    );
    let bad = client
        .post_json(
            &format!("/v1/cases/{case_id}/messages"),
            &json!({"txt": "x"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    let ticket = client
        .post_json(
            &format!("/v1/cases/{case_id}/ticket"),
            &json!({"plugin": "nope"}),
        )
        .await;
    assert_eq!(ticket.status, 404, "{}", ticket.text());
    silta.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_move_a_conversation_to_a_new_case_and_back() {
    let mut silta = Silta::new(&Config {
        signing_key: true,
        ..Config::default()
    });
    silta.start().await;
    let client = Client { port: silta.port };
    let aino = json!({"kind": "phone", "value": "+358401234567", "verified": true});
    for (id, text) in [
        ("c-1", "my kettle is late"),
        ("c-2", "and my invoice is wrong"),
    ] {
        let accepted = client
            .ingest(webhook(id, aino.clone(), text), KEY)
            .await
            .unwrap();
        assert_eq!(accepted.status, 202);
    }
    let kettle = client.linked_interaction("c-1").await;
    let invoice = client.linked_interaction("c-2").await;
    assert_eq!(kettle["case_id"], invoice["case_id"], "one open case");
    assert_ne!(kettle["conversation_id"], invoice["conversation_id"]);
    let first_case = kettle["case_id"].as_str().unwrap().to_owned();
    let conversation = invoice["conversation_id"].as_str().unwrap().to_owned();

    // The invoice is another matter: a case of its own.
    let moved = client
        .post_json(
            &format!("/v1/conversations/{conversation}/case"),
            &json!({}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let second_case = moved.json()["case"]["id"].as_str().unwrap().to_owned();
    assert_ne!(second_case, first_case);
    assert_eq!(
        moved.json()["case"]["conversation_ids"],
        json!([conversation])
    );
    let first = client.get_json(&format!("/v1/cases/{first_case}")).await;
    assert_eq!(
        first["conversation_ids"],
        json!([kettle["conversation_id"]])
    );
    let invoice_now = client
        .get_json(&format!(
            "/v1/interactions/{}",
            invoice["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(invoice_now["case_id"], second_case.as_str());

    // And back into the first case.
    let back = client
        .post_json(
            &format!("/v1/conversations/{conversation}/case"),
            &json!({"case_id": first_case}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.text());
    assert_eq!(
        back.json()["case"]["conversation_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Another customer's case is refused with a reason; an unknown one is 404.
    let other = json!({"kind": "email", "value": "matti@example.fi"});
    client
        .ingest(webhook("c-3", other, "hello"), KEY)
        .await
        .unwrap();
    let matti = client.linked_interaction("c-3").await;
    let refused = client
        .post_json(
            &format!("/v1/conversations/{conversation}/case"),
            &json!({"case_id": matti["case_id"]}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    let unknown = client
        .post_json(
            &format!("/v1/conversations/{conversation}/case"),
            &json!({"case_id": "019a0000-0000-7000-8000-000000000009"}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    silta.terminate().await;
}
