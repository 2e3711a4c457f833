//! Normalizing a 2 KB webhook payload: through the `webhook` component in
//! the real runtime (signature checked by the host, limits on, output
//! converted into the contact format) against the same mapping compiled
//! natively with the same HMAC check, in one run. Results go to
//! `benches/RESULTS.md`.
//!
//! Run: `cargo bench -p silta-plugin-webhook --bench normalize`

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use silta_plugin_test::Harness;
use silta_sdk::types::{HttpMeta, InboundEvent, Timestamp, TransportMeta};
use silta_test_harness::bench_results::{
    criterion_mean_ns, format_ns, machine_and_date, write_section,
};

const KEY: &[u8] = b"bench-signing-key";

fn payload() -> Vec<u8> {
    let text = "Hei! Tilasin viime viikolla kaksi paria kenkiä (tilaus 48213), mutta paketti ei ole vielä tullut. \
                Seurantakoodin mukaan se on ollut Vantaan terminaalissa jo neljä päivää. Voisitteko tarkistaa? "
        .repeat(8);
    let body = serde_json::json!({
        "id": "msg-0001-2kb",
        "thread_id": "conv-42",
        "timestamp": "2026-11-23T22:54:41+02:00",
        "sender": {"kind": "email", "value": "Aino.Virtanen@Example.FI", "name": "Aino Virtanen"},
        "text": &text[..1700.min(text.len())],
        "attachments": [{"url": "https://cdn.example.fi/uploads/receipt.png", "media_type": "image/png", "filename": "receipt.png", "size_bytes": 48213}],
        "reply_to": "msg-0000"
    });
    serde_json::to_vec(&body).expect("json")
}

fn signature(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(KEY).expect("any key size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The native path: the same HMAC check and the same mapping function.
fn native(body: &[u8], sig: &str) -> usize {
    let expected = signature(body);
    assert!(expected.as_bytes() == sig.as_bytes());
    let event = InboundEvent {
        channel_account: "01890a5d-ac96-7000-8000-00000000c0de".into(),
        received_at: Timestamp {
            seconds: 1_795_000_000,
            nanoseconds: 0,
        },
        transport: TransportMeta::Http(HttpMeta {
            method: "POST".into(),
            path: "/v1/ingest".into(),
            query: None,
            headers: vec![("x-silta-signature".into(), sig.to_string())],
        }),
        body: body.to_vec(),
    };
    silta_plugin_webhook::mapping::normalize(&event)
        .expect("native mapping")
        .len()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let plugin = rt.block_on(
        Harness::for_crate(env!("CARGO_MANIFEST_DIR"))
            .secret("signing-key", KEY)
            .start(),
    );
    let body = payload();
    let sig = signature(&body);
    let headers = [("x-silta-signature", sig.as_str())];
    let event = plugin.http_event(&body, &headers);
    assert_eq!(
        rt.block_on(plugin.normalize(&event))
            .expect("wasm normalize")
            .len(),
        1
    );
    assert_eq!(native(&body, &sig), 1);

    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut g = c.benchmark_group("webhook_normalize_2kb");
    g.bench_function("wasm", |b| {
        b.iter(|| {
            rt.block_on(plugin.normalize(black_box(&event)))
                .expect("normalize")
        })
    });
    g.bench_function("native", |b| {
        b.iter(|| native(black_box(&body), black_box(&sig)))
    });
    g.finish();
    c.final_summary();

    let wasm = criterion_mean_ns("webhook_normalize_2kb", "wasm");
    let native_ns = criterion_mean_ns("webhook_normalize_2kb", "native");
    let ratio = match (wasm, native_ns) {
        (Some(w), Some(n)) if n > 0.0 => Some(w / n),
        _ => None,
    };
    let goal = match (wasm, ratio) {
        (Some(w), Some(r)) if w < 5_000.0 && r <= 2.0 => "met".to_string(),
        (Some(w), Some(r)) => format!(
            "NOT met ({}{})",
            if w >= 5_000.0 { "over 5 µs" } else { "" },
            if r > 2.0 {
                if w >= 5_000.0 {
                    ", over 2× native"
                } else {
                    "over 2× native"
                }
            } else {
                ""
            }
        ),
        _ => "not measured".into(),
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Webhook plugin: normalize a {} byte payload\n",
        body.len()
    );
    let _ = writeln!(
        md,
        "`cargo bench -p silta-plugin-webhook --bench normalize` — {}.\n",
        machine_and_date()
    );
    let _ = writeln!(md, "| path | time per payload |");
    let _ = writeln!(md, "|---|---|");
    let _ = writeln!(
        md,
        "| wasm: `Plugin::normalize` (warm instance, deadline + memory cap, host HMAC, conversion to the contact format) | {} |",
        format_ns(wasm)
    );
    let _ = writeln!(
        md,
        "| native: the same HMAC check and `mapping::normalize`, compiled for the host | {} |",
        format_ns(native_ns)
    );
    let _ = writeln!(
        md,
        "\nwasm/native: **{}**. Goal: at most 2× native and under 5 µs per call — **{goal}**.",
        ratio.map_or("n/a".into(), |r| format!("{r:.2}×"))
    );
    write_section("webhook-normalize", &md);
}
