//! The pipeline's metrics, recorded through the `metrics` facade (the
//! binary installs the Prometheus exporter).
//!
//! | name | kind | labels |
//! |------|------|--------|
//! | `silta_ingest_total` | counter | `channel_account`, `outcome` (`accepted`, `bad_input`, `unauthorized`, `plugin_error`, `unknown_channel`, `store_error`) |
//! | `silta_normalize_seconds` | histogram | `plugin` |
//! | `silta_processed_total` | counter | `outcome` (`linked`, `duplicate`, `dead_lettered`) |
//! | `silta_dead_letters_total` | counter | `source`, `stage`, `kind` |
//! | `silta_outbound_total` | counter | `channel_account`, `outcome` (`sent`, `failed`, `retry`, `dead_lettered`) |
//! | `silta_outbound_retries_total` | counter | `channel_account` |
//! | `silta_outbound_rate_limited_total` | counter | `channel_account` (sends put back for a rate limit's free slot) |
//! | `silta_queue_depth` | gauge | `queue` (`journal_pending`, `outbox_pending`, `inbound_workers`) |
//! | `silta_dlq_size` | gauge | |
//! | `silta_backoffice_call_seconds` | histogram | `plugin`, `call` (`lookup`, `record_activity`, `upsert_ticket`) |
//! | `silta_webhook_deliveries_total`, `silta_webhook_retries_total` | counter | `subscription` |

use std::time::Duration;

use silta_store::records::QueueDepths;

/// Count an ingest request by outcome.
pub fn ingest(channel_account: &str, outcome: &'static str) {
    metrics::counter!("silta_ingest_total", "channel_account" => channel_account.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Count a send put back in the outbox for its rate limit.
pub fn rate_limited(channel_account: &str) {
    metrics::counter!("silta_outbound_rate_limited_total", "channel_account" => channel_account.to_owned())
        .increment(1);
}

/// Record one normalize call's latency.
pub fn normalize_latency(plugin: &str, elapsed: Duration) {
    metrics::histogram!("silta_normalize_seconds", "plugin" => plugin.to_owned())
        .record(elapsed.as_secs_f64());
}

/// Record one back-office call's latency.
pub fn backoffice_call(plugin: &str, call: &'static str, elapsed: Duration) {
    metrics::histogram!("silta_backoffice_call_seconds", "plugin" => plugin.to_owned(), "call" => call)
        .record(elapsed.as_secs_f64());
}

/// Count processed journal entries.
pub fn processed(outcome: &'static str, count: u64) {
    metrics::counter!("silta_processed_total", "outcome" => outcome).increment(count);
}

/// Count a dead letter.
pub fn dead_letter(source: &'static str, stage: &str, kind: &str) {
    metrics::counter!("silta_dead_letters_total", "source" => source, "stage" => stage.to_owned(), "kind" => kind.to_owned())
        .increment(1);
}

/// Count an outbound attempt by outcome.
pub fn outbound(channel_account: &str, outcome: &'static str) {
    metrics::counter!("silta_outbound_total", "channel_account" => channel_account.to_owned(), "outcome" => outcome)
        .increment(1);
    if outcome == "retry" {
        metrics::counter!("silta_outbound_retries_total", "channel_account" => channel_account.to_owned())
            .increment(1);
    }
}

/// Publish queue depths as gauges.
#[allow(clippy::cast_precision_loss)]
pub fn queue_depths(depths: &QueueDepths) {
    metrics::gauge!("silta_queue_depth", "queue" => "journal_pending")
        .set(depths.journal_pending as f64);
    metrics::gauge!("silta_queue_depth", "queue" => "outbox_pending")
        .set(depths.outbox_pending as f64);
    metrics::gauge!("silta_dlq_size").set(depths.dead_letters as f64);
}

/// Publish how many entries wait in the inbound workers' queues.
#[allow(clippy::cast_precision_loss)]
pub fn inbound_queue(depth: usize) {
    metrics::gauge!("silta_queue_depth", "queue" => "inbound_workers").set(depth as f64);
}
