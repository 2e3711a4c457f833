//! The durable pipeline, driven through a real `silta run` process: crashes
//! lose nothing that was acknowledged and duplicate nothing, bad input
//! writes nothing, replies are delivered with retries, and plugin failures
//! land in the dead-letter queue and can be replayed.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use support::{ACCOUNT, Config, KEY, Receiver, Silta, TOKEN, eventually, message};

/// The provider message id an interaction was stored under.
fn provider_id(interaction: &Value) -> String {
    interaction["idempotency_key"]["provider_message_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no provider_message_id in {interaction}"))
        .to_owned()
}

const ROUNDS: usize = 6;
const SENDERS: usize = 8;
const CUSTOMERS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_test_every_accepted_message_once_and_no_event_lost() {
    let started = Instant::now();
    let mut silta = Silta::new(&Config {
        signing_key: true,
        receiver: None,
        ..Config::default()
    });
    let next = Arc::new(AtomicUsize::new(0));
    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
    let port = silta.port;
    for round in 0..ROUNDS {
        silta.start().await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut senders = Vec::new();
        for _ in 0..SENDERS {
            let (next, accepted, unexpected, stop) = (
                Arc::clone(&next),
                Arc::clone(&accepted),
                Arc::clone(&unexpected),
                Arc::clone(&stop),
            );
            senders.push(tokio::spawn(async move {
                let client = support::Client { port };
                while !stop.load(Ordering::Acquire) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let id = format!("m-{n}");
                    let body = message(&id, n % CUSTOMERS, &format!("message {n}"));
                    match client.ingest(body, KEY).await {
                        Ok(reply) if reply.status == 202 => {
                            assert_eq!(reply.json()["items"], 1, "{}", reply.text());
                            accepted.lock().expect("accepted").insert(id);
                        }
                        Ok(reply) => unexpected.lock().expect("unexpected").push(format!(
                            "{id}: {} {}",
                            reply.status,
                            reply.text()
                        )),
                        // Killed mid-request: may or may not be stored.
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            }));
        }
        let delay = rand::rng().random_range(500..2500);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        silta.kill();
        stop.store(true, Ordering::Release);
        for sender in senders {
            sender.await.expect("sender");
        }
        eprintln!(
            "round {round}: killed after {delay} ms; {} sent, {} accepted so far",
            next.load(Ordering::Relaxed),
            accepted.lock().expect("accepted").len()
        );
    }
    let unexpected = unexpected.lock().expect("unexpected").clone();
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:#?}");
    let accepted = accepted.lock().expect("accepted").clone();
    let sent = next.load(Ordering::Relaxed);

    silta.start().await;
    // Drained: nothing pending in the journal, and every accepted message
    // is in the store.
    let stored = eventually(
        Duration::from_secs(120),
        "the pipeline to drain",
        || async {
            let pending = silta.metric("silta_queue_depth", "journal_pending").await?;
            if pending > 0.0 {
                return None;
            }
            let stored = silta.all_interactions().await;
            let ids: HashSet<String> = stored.iter().map(provider_id).collect();
            accepted.is_subset(&ids).then_some(stored)
        },
    )
    .await;

    let mut counts: HashMap<String, usize> = HashMap::new();
    for interaction in &stored {
        *counts.entry(provider_id(interaction)).or_default() += 1;
    }
    let twice: BTreeMap<_, _> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let missing: Vec<_> = accepted
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "accepted but not stored: {missing:?}");
    for id in counts.keys() {
        let n: usize = id[2..].parse().expect("our id");
        assert!(n < sent, "stored an id never sent: {id}");
    }

    let events = silta.events(0, Duration::from_secs(3)).await;
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| {
            e.id.as_deref()
                .expect("event id")
                .parse()
                .expect("numeric id")
        })
        .collect();
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    if seqs != expected {
        let gaps: Vec<_> = seqs
            .windows(2)
            .filter(|w| w[1] != w[0] + 1)
            .map(|w| (w[0], w[1]))
            .collect();
        panic!(
            "event seqs are not 1..={}: first {:?}, gaps {gaps:?}",
            seqs.len(),
            seqs.first()
        );
    }
    let mut created: HashMap<String, usize> = HashMap::new();
    for event in &events {
        let data: Value = serde_json::from_str(&event.data).expect("event data");
        assert_eq!(
            event.event.as_deref(),
            data["type"].as_str(),
            "event type vs CloudEvent type"
        );
        if event.event.as_deref() == Some("silta.interaction.created") {
            *created
                .entry(provider_id(&data["data"]["interaction"]))
                .or_default() += 1;
        }
    }
    let created_twice: BTreeMap<_, _> = created.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        created_twice.is_empty(),
        "interaction.created more than once: {created_twice:?}"
    );
    let not_announced: Vec<_> = accepted
        .iter()
        .filter(|id| !created.contains_key(*id))
        .collect();
    assert!(
        not_announced.is_empty(),
        "accepted without interaction.created: {not_announced:?}"
    );
    assert_eq!(
        created.len(),
        stored.len(),
        "one interaction.created per stored interaction"
    );
    // Resuming with Last-Event-ID gives exactly the rest.
    let half = seqs.len() as i64 / 2;
    let rest = silta
        .events_resumed(half, Duration::from_secs(3))
        .await
        .iter()
        .map(|e| e.id.as_deref().expect("id").parse().expect("numeric id"))
        .collect::<Vec<i64>>();
    assert_eq!(rest, seqs[half as usize..], "resumed after {half}");
    eprintln!(
        "{sent} sent, {} accepted, {} stored, {} events, {:.1} s",
        accepted.len(),
        stored.len(),
        events.len(),
        started.elapsed().as_secs_f64()
    );
}

fn auth() -> String {
    format!("Bearer {TOKEN}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_4xx_and_writes_nothing() {
    let mut silta = Silta::new(&Config {
        signing_key: true,
        receiver: None,
        ..Config::default()
    });
    silta.start().await;
    let port = silta.port;
    let auth = auth();
    let good = message("m-1", 1, "hello");
    let malformed = br#"{"id": "m-2", "sender": "#.to_vec();
    // (what, path, headers, body, expected status)
    type Case<'a> = (&'a str, String, Vec<(&'a str, String)>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            format!("/v1/ingest/{ACCOUNT}"),
            vec![
                ("authorization", auth.clone()),
                ("x-silta-signature", support::sign(&malformed, KEY)),
            ],
            malformed.clone(),
            400,
        ),
        (
            "wrong signature",
            format!("/v1/ingest/{ACCOUNT}"),
            vec![
                ("authorization", auth.clone()),
                ("x-silta-signature", support::sign(&good, "not-the-key")),
            ],
            good.clone(),
            401,
        ),
        (
            "missing signature",
            format!("/v1/ingest/{ACCOUNT}"),
            vec![("authorization", auth.clone())],
            good.clone(),
            401,
        ),
        (
            "missing token",
            format!("/v1/ingest/{ACCOUNT}"),
            vec![("x-silta-signature", support::sign(&good, KEY))],
            good.clone(),
            401,
        ),
        (
            "invalid token",
            format!("/v1/ingest/{ACCOUNT}"),
            vec![
                ("authorization", "Bearer nope".to_owned()),
                ("x-silta-signature", support::sign(&good, KEY)),
            ],
            good.clone(),
            401,
        ),
        (
            "unknown channel account",
            "/v1/ingest/no-such-shop".to_owned(),
            vec![
                ("authorization", auth.clone()),
                ("x-silta-signature", support::sign(&good, KEY)),
            ],
            good.clone(),
            404,
        ),
    ];
    let mut failures = Vec::new();
    for (what, path, headers, body, status) in cases {
        let mut headers: Vec<(&str, &str)> =
            headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        headers.push(("content-type", "application/json"));
        let reply = support::request(port, "POST", &path, &headers, body)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err:#}"));
        if reply.status != status {
            failures.push(format!(
                "{what}: expected {status}, got {} {}",
                reply.status,
                reply.text()
            ));
            continue;
        }
        match serde_json::from_slice::<Value>(&reply.body) {
            Ok(body)
                if body["error"].as_str().is_some_and(|e| !e.is_empty())
                    && body["message"].as_str().is_some_and(|m| !m.is_empty()) => {}
            _ => failures.push(format!(
                "{what}: {status} without a JSON {{error, message}} body: {:?}",
                reply.text()
            )),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    let parties = silta.get_json("/v1/parties").await;
    assert_eq!(parties["items"], json!([]), "{parties}");
    let events = silta.events(0, Duration::from_secs(1)).await;
    assert!(events.is_empty(), "{events:?}");
    let letters = silta.get_json("/v1/dead-letters").await;
    assert_eq!(letters, json!([]), "{letters}");
}

/// Oversized bodies get 413 with a JSON reason and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_gets_413_and_writes_nothing() {
    let mut silta = Silta::new(&Config {
        signing_key: true,
        receiver: None,
        ..Config::default()
    });
    silta.start().await;
    let reply = silta
        .ingest(message("m-big", 1, &"x".repeat(70_000)), KEY)
        .await
        .expect("ingest");
    assert_eq!(reply.status, 413, "{}", reply.text());
    let reason: serde_json::Value = serde_json::from_str(&reply.text()).expect("a JSON reason");
    assert_eq!(reason["error"], "payload_too_large", "{reason}");
    assert!(
        reason["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_body_bytes")),
        "{reason}"
    );
    let parties = silta.get_json("/v1/parties").await;
    assert_eq!(parties["items"], json!([]), "{parties}");
    let letters = silta.get_json("/v1/dead-letters").await;
    assert_eq!(letters, json!([]), "{letters}");
}

/// The interaction `id` as the API shows it.
async fn interaction(silta: &Silta, id: &str) -> Value {
    silta.get_json(&format!("/v1/interactions/{id}")).await
}

/// Ingest one message and wait until it is in the store; returns the
/// stored interaction.
async fn ingest_and_find(silta: &Silta, id: &str) -> Value {
    let reply = silta
        .ingest(message(id, 7, "where is my order?"), KEY)
        .await
        .expect("ingest");
    assert_eq!(reply.status, 202, "{}", reply.text());
    silta.linked_interaction(id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_is_delivered_and_retried() {
    let receiver = Receiver::start(|n| {
        if n == 0 {
            (503, r#"{"error":"busy"}"#)
        } else {
            (200, r#"{"id":"prov-1"}"#)
        }
    })
    .await;
    let mut silta = Silta::new(&Config {
        signing_key: true,
        receiver: Some(receiver.port),
        ..Config::default()
    });
    silta.start().await;
    let inbound = ingest_and_find(&silta, "m-1").await;
    let conversation = inbound["conversation_id"]
        .as_str()
        .expect("conversation_id")
        .to_owned();
    assert!(inbound["case_id"].is_string(), "{inbound}");
    let found = silta
        .get_json(&format!("/v1/conversations/{conversation}"))
        .await;
    assert_eq!(found["id"], conversation.as_str(), "{found}");

    let text = "Your order has shipped.";
    let auth = auth();
    let post = || async {
        let reply = support::request(
            silta.port,
            "POST",
            &format!("/v1/conversations/{conversation}/messages"),
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
                ("idempotency-key", "reply-1"),
            ],
            json!({ "text": text }).to_string().into_bytes(),
        )
        .await
        .expect("reply");
        assert_eq!(reply.status, 202, "{}", reply.text());
        reply.json()
    };
    let first = post().await;
    let second = post().await;
    assert_eq!(first["replayed"], false, "{first}");
    assert_eq!(second["replayed"], true, "{second}");
    assert_eq!(first["interaction_id"], second["interaction_id"]);
    assert_eq!(first["conversation_id"], conversation.as_str());
    let id = first["interaction_id"]
        .as_str()
        .expect("interaction_id")
        .to_owned();

    let delivered = eventually(Duration::from_secs(60), "a sent delivery entry", || async {
        let found = interaction(&silta, &id).await;
        let states: Vec<String> = found["delivery"]
            .as_array()?
            .iter()
            .filter_map(|d| d["state"].as_str().map(str::to_owned))
            .collect();
        states
            .iter()
            .any(|s| s == "sent")
            .then_some((found, states))
    })
    .await;
    let (found, states) = delivered;
    assert!(
        states.iter().any(|s| s == "queued"),
        "no queued retry entry: {found}"
    );
    assert_eq!(found["direction"], "outbound", "{found}");

    let received = receiver.received();
    assert!(received.len() >= 2, "{received:?}");
    assert_eq!(received[0].answered, 503);
    assert!(received.iter().any(|r| r.answered == 200), "{received:?}");
    for r in &received {
        assert_eq!(r.path, "/replies");
        let body = String::from_utf8_lossy(&r.body);
        assert!(body.contains(text), "{body}");
        assert_eq!(
            r.signature.as_deref(),
            Some(support::sign(&r.body, KEY).as_str()),
            "signature of {body}"
        );
    }
    // The idempotent POST queued one message, not two.
    let ok = received.iter().filter(|r| r.answered == 200).count();
    assert_eq!(ok, 1, "{received:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_one_customer_leave_in_order_even_when_one_is_retried() {
    // The first attempt fails; the replies written after it must wait.
    let receiver = Receiver::start(|n| {
        if n == 0 {
            (503, r#"{"error":"busy"}"#)
        } else {
            (200, r#"{"id":"prov"}"#)
        }
    })
    .await;
    let mut silta = Silta::new(&Config {
        signing_key: true,
        receiver: Some(receiver.port),
        ..Config::default()
    });
    silta.start().await;
    let inbound = ingest_and_find(&silta, "m-order").await;
    let conversation = inbound["conversation_id"]
        .as_str()
        .expect("conversation_id")
        .to_owned();
    for n in 0..5 {
        silta
            .reply(&conversation, &format!("reply number {n}"))
            .await;
    }
    let received = eventually(Duration::from_secs(60), "six requests", || async {
        let received = receiver.received();
        (received.len() >= 6).then_some(received)
    })
    .await;
    let order: Vec<usize> = received
        .iter()
        .map(|r| {
            let body = String::from_utf8_lossy(&r.body);
            (0..5)
                .find(|n| body.contains(&format!("reply number {n}")))
                .unwrap_or_else(|| panic!("an unexpected request: {body}"))
        })
        .collect();
    assert_eq!(
        order,
        vec![0, 0, 1, 2, 3, 4],
        "in the order written, once each"
    );
    assert_eq!(received[0].answered, 503);
    silta.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_failure_goes_to_the_dead_letter_queue_and_replays() {
    let mut silta = Silta::new(&Config {
        signing_key: false,
        receiver: None,
        ..Config::default()
    });
    silta.start().await;
    let body = message("m-1", 3, "hello without a key");
    let reply = silta.ingest(body, KEY).await.expect("ingest");
    assert_eq!(reply.status, 503, "{}", reply.text());
    let answer = reply.json();
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("signing-key")),
        "{answer}"
    );
    let letters = silta.get_json("/v1/dead-letters").await;
    let letters = letters.as_array().expect("list");
    assert_eq!(letters.len(), 1, "{letters:?}");
    let failure = &letters[0];
    assert_eq!(failure["plugin"], "webhook", "{failure}");
    assert_eq!(failure["stage"], "normalize", "{failure}");
    assert_eq!(failure["error_kind"], "permanent", "{failure}");
    silta.terminate().await;

    silta.configure(&Config {
        signing_key: true,
        receiver: None,
        ..Config::default()
    });
    let run = |args: &[&str]| {
        let out = silta.command(args).output().expect("run silta");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stdout, stderr)
    };
    let (ok, stdout, stderr) = run(&["dlq", "list"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("webhook") && stdout.contains("normalize") && stdout.contains("permanent"),
        "{stdout}"
    );
    assert!(stdout.contains("1 dead letter(s)"), "{stdout}");
    let (ok, stdout, stderr) = run(&["dlq", "replay", "--all"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 replayed, 0 failed"), "{stdout}");
    let (ok, stdout, stderr) = run(&["dlq", "list"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the dead-letter queue is empty"),
        "{stdout}"
    );

    silta.start().await;
    let found = eventually(Duration::from_secs(30), "the replayed message", || async {
        silta
            .all_interactions()
            .await
            .into_iter()
            .find(|i| provider_id(i) == "m-1")
    })
    .await;
    assert_eq!(found["direction"], "inbound", "{found}");
    let letters = silta.get_json("/v1/dead-letters").await;
    assert_eq!(letters, json!([]), "{letters}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_spaced_by_the_channel_rate_limits_without_holding_up_others() {
    let receiver = Receiver::start(|_| (200, r#"{"id":"prov"}"#)).await;
    let mut silta = Silta::new(&Config {
        signing_key: true,
        receiver: Some(receiver.port),
        account_toml: "rate_limits = { messages_per_second = 20, per_recipient_per_second = 2 }"
            .into(),
        ..Config::default()
    });
    silta.start().await;
    let conversation_of = |interaction: &Value| {
        interaction["conversation_id"]
            .as_str()
            .expect("conversation_id")
            .to_owned()
    };
    let busy = conversation_of(&ingest_and_find(&silta, "m-busy").await);
    let accepted = silta
        .ingest(message("m-other", 8, "hello"), KEY)
        .await
        .expect("ingest");
    assert_eq!(accepted.status, 202);
    let other = conversation_of(&silta.linked_interaction("m-other").await);

    // Six replies to one customer, then one to another.
    for n in 0..6 {
        silta.reply(&busy, &format!("busy reply {n}")).await;
    }
    silta.reply(&other, "other reply").await;
    let received = eventually(Duration::from_secs(60), "all seven replies", || async {
        let received = receiver.received();
        (received.len() >= 7).then_some(received)
    })
    .await;
    let bodies: Vec<String> = received
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(received.len(), 7, "each reply once: {bodies:#?}");
    let arrived = |text: &str| {
        received
            .iter()
            .find(|r| String::from_utf8_lossy(&r.body).contains(text))
            .unwrap_or_else(|| panic!("{text} not received: {bodies:#?}"))
            .at
    };
    let busy_times: Vec<Instant> = (0..6)
        .map(|n| arrived(&format!("busy reply {n}")))
        .collect();
    // In the order they were written, two a second to one recipient: at
    // least 500 ms apart (a little slack for the receiver's clock being read
    // after the request arrived).
    for pair in busy_times.windows(2) {
        assert!(
            pair[0] < pair[1],
            "replies to one customer overtook each other"
        );
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(450), "replies {gap:?} apart");
    }
    // The other customer was not queued behind them.
    assert!(
        arrived("other reply") < busy_times[5],
        "the other customer's reply waited for the busy customer's"
    );
    let deferred = silta
        .metric(
            "silta_outbound_rate_limited_total",
            &format!("channel_account=\"{ACCOUNT}\""),
        )
        .await;
    assert!(deferred.is_some_and(|n| n >= 1.0), "{deferred:?}");
    silta.terminate().await;
}
