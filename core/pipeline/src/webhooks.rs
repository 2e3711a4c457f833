//! Webhook subscriptions: every published event POSTed to each subscriber,
//! in order, signed, retried until it is accepted.
//!
//! A subscription is a URL, an HMAC secret, the event types it wants
//! (none listed: all) and a cursor, the seq of the last event it
//! acknowledged, kept in the store. [`WebhookDeliverer::run`] keeps one
//! task per subscription. Each reads the event log after its cursor and
//! POSTs every wanted event as a structured-mode CloudEvent
//! ([`crate::cloudevents`]) with a [`SIGNATURE_HEADER`] over the body.
//!
//! Guarantees, and what receivers must do about them:
//!
//! - **Order.** Events reach a subscriber in log order, one at a time;
//!   the next is not sent until the previous one was accepted.
//! - **Nothing is skipped.** A non-2xx answer or a transport error retries
//!   the *same* event, with exponential backoff and full jitter capped at
//!   [`WebhookOptions::max_backoff`], forever. A subscriber that is down
//!   for a day gets the day's events, in order, when it is back. Events of
//!   types it did not ask for are passed over (and the cursor moves past
//!   them), never sent. Redirects are not followed: a 3xx is a failure
//!   like any other non-2xx, so fix the subscription's URL instead.
//! - **At least once.** The cursor moves (durably) only after a 2xx, so a
//!   crash or shutdown between the POST and the cursor update sends that
//!   event again after restart. Receivers dedup by the CloudEvent `id`
//!   (with `source`).
//! - **Authenticity.** Verify [`SIGNATURE_HEADER`] with
//!   [`crate::cloudevents::verify_signature`] (or its equivalent in the
//!   receiver's language) and reject old timestamps to stop replays.
//!
//! A new subscription starts at the newest event when it is created:
//! subscribers get events from then on, not the history.
//!
//! The tasks wake on the store's event watch when events are published
//! and poll every [`WebhookOptions::poll_interval`] besides; the
//! subscription list is re-read every
//! [`WebhookOptions::refresh_interval`] to start tasks for new
//! subscriptions and stop those of deleted ones.
//!
//! Metrics: `silta_webhook_deliveries_total{subscription}` counts accepted
//! POSTs, `silta_webhook_retries_total{subscription}` failed attempts.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use silta_model::Timestamp;
use silta_runtime::capabilities::transport::{OutboundHeader, OutboundRequest};
use silta_store::records::{StoredEvent, WebhookSubscription};
use silta_store::{Store, transact};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::cloudevents::{CONTENT_TYPE, SIGNATURE_HEADER, signature_header, to_cloudevent};
use crate::error::{PipelineError, Result};
use crate::http_client::{HttpClient, loggable_url};

/// The `user-agent` of webhook POSTs.
const USER_AGENT: &str = concat!("silta/", env!("CARGO_PKG_VERSION"));

/// Accepted deliveries, per subscription.
const DELIVERIES_METRIC: &str = "silta_webhook_deliveries_total";

/// Failed delivery attempts (each followed by a retry), per subscription.
const RETRIES_METRIC: &str = "silta_webhook_retries_total";

/// How a [`WebhookDeliverer`] paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookOptions {
    /// Events read from the log at a time, per subscription.
    pub batch: u32,
    /// The upper bound of the first retry's delay; each further failure
    /// of the same event doubles it, up to `max_backoff`. The actual delay
    /// is drawn uniformly below the bound (full jitter), so subscribers
    /// coming back are not hit by every sender at once.
    pub initial_backoff: Duration,
    /// The largest retry delay bound.
    pub max_backoff: Duration,
    /// How often an idle subscription looks for new events when no
    /// notification arrives (the store's event watch is the fast path).
    pub poll_interval: Duration,
    /// How often the subscription list is re-read to start and stop
    /// tasks for added and deleted subscriptions.
    pub refresh_interval: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            batch: 100,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            refresh_interval: Duration::from_secs(5),
        }
    }
}

/// Delivers events to every webhook subscription; see the [module
/// docs](self).
pub struct WebhookDeliverer {
    store: Arc<dyn Store>,
    client: Arc<HttpClient>,
    source: Arc<str>,
    options: WebhookOptions,
}

/// A running subscription task.
struct Running {
    /// What the task was started with (the cursor aside).
    subscription: WebhookSubscription,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

/// Why a subscription task stopped early.
#[derive(Debug)]
struct Stopped;

// === impl WebhookDeliverer ===

impl WebhookDeliverer {
    /// A deliverer reading `store` and sending with `client`. `source` is
    /// the CloudEvents `source` of this node (`urn:silta:<node>`).
    ///
    /// A `batch` of 0 is read as 1.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        client: Arc<HttpClient>,
        source: String,
        options: WebhookOptions,
    ) -> Self {
        Self {
            store,
            client,
            source: source.into(),
            options: WebhookOptions {
                batch: options.batch.max(1),
                ..options
            },
        }
    }

    /// Deliver until `shutdown` becomes true (or its sender is dropped).
    ///
    /// Shutdown is prompt: retries waiting out a backoff and POSTs in
    /// flight are abandoned (an abandoned POST is sent again next time,
    /// see the module docs on at-least-once delivery).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut running: HashMap<String, Running> = HashMap::new();
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            match self.store.webhook_subscriptions().await {
                Ok(subscriptions) => self.reconcile(&mut running, subscriptions).await,
                Err(err) => tracing::warn!(
                    error = %err,
                    "could not read webhook subscriptions; will retry"
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.refresh_interval) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        // Nobody can tell us to stop any more: stop now.
                        break;
                    }
                }
            }
        }
        for task in running.values() {
            let _ = task.stop.send(true);
        }
        for (id, task) in running {
            if let Err(err) = task.handle.await {
                tracing::error!(subscription = %id, error = %err, "webhook task failed");
            }
        }
    }

    /// Start tasks for new subscriptions, stop those of deleted (or
    /// changed) ones, and restart any that died.
    async fn reconcile(
        &self,
        running: &mut HashMap<String, Running>,
        subscriptions: Vec<WebhookSubscription>,
    ) {
        let wanted: HashMap<String, WebhookSubscription> = subscriptions
            .into_iter()
            .map(|sub| (sub.id.clone(), sub))
            .collect();

        let gone: Vec<String> = running
            .iter()
            .filter(|(id, task)| {
                task.handle.is_finished()
                    || wanted
                        .get(*id)
                        .is_none_or(|sub| !same_target(sub, &task.subscription))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &gone {
            let Some(task) = running.remove(id) else {
                continue;
            };
            let _ = task.stop.send(true);
            match task.handle.await {
                Ok(()) => tracing::info!(subscription = %id, "stopped webhook delivery"),
                Err(err) => tracing::error!(
                    subscription = %id,
                    error = %err,
                    "webhook task failed; restarting it from its stored cursor"
                ),
            }
            // A changed or crashed subscription restarts at the next
            // refresh, from the cursor stored by then.
        }

        for (id, subscription) in wanted {
            if running.contains_key(&id) || gone.contains(&id) {
                continue;
            }
            tracing::info!(
                subscription = %id,
                url = %loggable_url(&subscription.url),
                cursor = subscription.cursor,
                "starting webhook delivery"
            );
            let (stop, stop_rx) = watch::channel(false);
            let worker = SubscriptionWorker {
                store: Arc::clone(&self.store),
                client: Arc::clone(&self.client),
                source: Arc::clone(&self.source),
                options: self.options,
                subscription: subscription.clone(),
                stop: stop_rx,
            };
            let handle = tokio::spawn(worker.run());
            running.insert(
                id,
                Running {
                    subscription,
                    stop,
                    handle,
                },
            );
        }
    }
}

impl std::fmt::Debug for WebhookDeliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDeliverer")
            .field("source", &self.source)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Whether two records of one subscription send the same things to the
/// same place (the cursor moves; that is no change).
fn same_target(a: &WebhookSubscription, b: &WebhookSubscription) -> bool {
    a.url == b.url && a.secret == b.secret && a.types == b.types
}

// === impl SubscriptionWorker ===

/// Delivers one subscription's events.
struct SubscriptionWorker {
    store: Arc<dyn Store>,
    client: Arc<HttpClient>,
    source: Arc<str>,
    options: WebhookOptions,
    subscription: WebhookSubscription,
    stop: watch::Receiver<bool>,
}

impl SubscriptionWorker {
    async fn run(mut self) {
        let Err(Stopped) = self.deliver_forever().await;
    }

    /// Returns only when told to stop.
    async fn deliver_forever(&mut self) -> Result<Infallible, Stopped> {
        let mut events = self.store.event_watch();
        let mut watch_open = true;
        // The last event seq this task has handled (sent or passed over).
        let mut cursor = self.subscription.cursor;
        // The cursor as stored.
        let mut stored = cursor;
        let mut read_failures = 0u32;
        loop {
            if *self.stop.borrow() {
                return Err(Stopped);
            }
            // Mark the newest seq seen before reading, so an event
            // published after the read wakes us below.
            events.borrow_and_update();
            let batch = match self.store.events_after(cursor, self.options.batch).await {
                Ok(batch) => {
                    read_failures = 0;
                    batch
                }
                Err(err) => {
                    read_failures = read_failures.saturating_add(1);
                    let delay = self.backoff(read_failures);
                    tracing::warn!(
                        subscription = %self.subscription.id,
                        error = %err,
                        next_delay_ms = delay.as_millis(),
                        "could not read events for a webhook; will retry"
                    );
                    self.sleep(delay).await?;
                    continue;
                }
            };

            if batch.is_empty() {
                if stored < cursor {
                    stored = self.store_cursor(cursor).await?;
                }
                let mut stop = self.stop.clone();
                tokio::select! {
                    changed = events.changed(), if watch_open => {
                        if changed.is_err() {
                            watch_open = false;
                        }
                    }
                    () = tokio::time::sleep(self.options.poll_interval) => {}
                    _ = stop.wait_for(|stop| *stop) => return Err(Stopped),
                }
                continue;
            }

            let full = batch.len() >= usize::try_from(self.options.batch).unwrap_or(usize::MAX);
            for event in batch {
                if self.wants(&event) {
                    self.deliver(&event).await?;
                    cursor = event.seq;
                    stored = self.store_cursor(cursor).await?;
                } else {
                    cursor = event.seq;
                }
            }
            // Passed-over events at the end of a batch: store the cursor
            // now if no more events follow, so it does not lag behind.
            if !full && stored < cursor {
                stored = self.store_cursor(cursor).await?;
            }
        }
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        let types = &self.subscription.types;
        types.is_empty() || types.contains(&event.event_type)
    }

    /// POST `event` until the subscriber accepts it.
    async fn deliver(&mut self, event: &StoredEvent) -> Result<(), Stopped> {
        let body = to_cloudevent(event, &self.source).to_string().into_bytes();
        let id = self.subscription.id.clone();
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let request = OutboundRequest {
                method: "POST".into(),
                url: self.subscription.url.clone(),
                redacted_url: None,
                headers: vec![
                    header("content-type", CONTENT_TYPE),
                    header("user-agent", USER_AGENT),
                    header(
                        SIGNATURE_HEADER,
                        &signature_header(self.subscription.secret.as_bytes(), unix_now(), &body),
                    ),
                ],
                body: body.clone(),
            };
            let mut stop = self.stop.clone();
            let outcome = tokio::select! {
                outcome = self.client.send(request) => outcome,
                _ = stop.wait_for(|stop| *stop) => return Err(Stopped),
            };
            let failure = match outcome {
                Ok(response) if (200..300).contains(&response.status) => {
                    ::metrics::counter!(DELIVERIES_METRIC, "subscription" => id.clone())
                        .increment(1);
                    tracing::debug!(
                        subscription = %id,
                        seq = event.seq,
                        event_id = %event.id,
                        status = response.status,
                        attempt,
                        "webhook delivered"
                    );
                    return Ok(());
                }
                Ok(response) => format!("answered {}", response.status),
                Err(err) => err.to_string(),
            };
            let delay = self.backoff(attempt);
            ::metrics::counter!(RETRIES_METRIC, "subscription" => id.clone()).increment(1);
            tracing::warn!(
                subscription = %id,
                url = %loggable_url(&self.subscription.url),
                seq = event.seq,
                event_id = %event.id,
                error = %failure,
                attempt,
                next_delay_ms = delay.as_millis(),
                "webhook delivery failed; retrying the same event"
            );
            self.sleep(delay).await?;
        }
    }

    /// Store the cursor durably, retrying until the store takes it.
    /// Returns the stored cursor.
    async fn store_cursor(&mut self, cursor: i64) -> Result<i64, Stopped> {
        let mut attempt = 0u32;
        loop {
            let id = self.subscription.id.clone();
            let result = transact(&*self.store, move |tx| {
                Box::pin(async move { tx.advance_webhook_cursor(&id, cursor).await })
            })
            .await;
            match result {
                Ok(()) => return Ok(cursor),
                Err(err) => {
                    attempt = attempt.saturating_add(1);
                    let delay = self.backoff(attempt);
                    tracing::warn!(
                        subscription = %self.subscription.id,
                        cursor,
                        error = %err,
                        attempt,
                        next_delay_ms = delay.as_millis(),
                        "could not store a webhook cursor; will retry"
                    );
                    self.sleep(delay).await?;
                }
            }
        }
    }

    /// The delay before retry number `attempt` (1-based): uniform in
    /// `[0, min(max_backoff, initial_backoff * 2^(attempt-1))]`.
    fn backoff(&self, attempt: u32) -> Duration {
        full_jitter(
            self.options.initial_backoff,
            self.options.max_backoff,
            attempt,
        )
    }

    /// Sleep for `delay` unless told to stop first.
    async fn sleep(&mut self, delay: Duration) -> Result<(), Stopped> {
        let mut stop = self.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => Ok(()),
            _ = stop.wait_for(|stop| *stop) => Err(Stopped),
        }
    }
}

/// Exponential backoff with full jitter: a delay drawn uniformly from
/// zero to the capped exponential bound ([`Backoff::ceiling`]). Full
/// rather than the outbox's equal jitter: a subscriber coming back after
/// an outage is hit by the senders' retries spread over the whole window.
fn full_jitter(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let bound = Backoff { initial, max }.ceiling(attempt);
    let bound_ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=bound_ms))
}

fn header(name: &str, value: &str) -> OutboundHeader {
    OutboundHeader {
        name: name.to_owned(),
        value: value.as_bytes().to_vec(),
        sensitive: false,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

// === managing subscriptions ===

/// Register a subscriber at `url` for events of `types` (empty: all).
///
/// The URL must be an absolute `http://` or `https://` URL. Without a
/// `secret`, one is made (32 random bytes, hex); the subscriber needs it
/// to verify signatures, so return it to whoever asked. The subscription
/// starts at the newest event: it receives events published from now on.
pub async fn create_subscription(
    store: &dyn Store,
    url: &str,
    types: Vec<String>,
    secret: Option<String>,
) -> Result<WebhookSubscription> {
    validate_url(url)?;
    if types.iter().any(|t| t.trim().is_empty()) {
        return Err(PipelineError::Invalid(
            "webhook event types must not be empty strings; list none to get every type".into(),
        ));
    }
    let secret = match secret {
        Some(secret) if secret.is_empty() => {
            return Err(PipelineError::Invalid(
                "webhook secret must not be empty; leave it out to have one generated".into(),
            ));
        }
        Some(secret) => secret,
        None => hex::encode(rand::random::<[u8; 32]>()),
    };
    let cursor = store.queue_depths().await?.last_event_seq;
    let subscription = WebhookSubscription {
        id: uuid::Uuid::now_v7().to_string(),
        url: url.to_owned(),
        secret,
        types,
        cursor,
        created_at: Timestamp::now(),
    };
    let record = subscription.clone();
    transact(store, move |tx| {
        Box::pin(async move { tx.insert_webhook_subscription(&record).await })
    })
    .await?;
    tracing::info!(
        subscription = %subscription.id,
        url = %loggable_url(&subscription.url),
        cursor,
        "created webhook subscription"
    );
    Ok(subscription)
}

/// Remove a subscription; its deliveries stop at the deliverer's next
/// refresh. [`PipelineError::NotFound`] when there is none with `id`.
pub async fn delete_subscription(store: &dyn Store, id: &str) -> Result<()> {
    let owned = id.to_owned();
    let deleted = transact(store, move |tx| {
        Box::pin(async move { tx.delete_webhook_subscription(&owned).await })
    })
    .await?;
    if deleted {
        tracing::info!(subscription = %id, "deleted webhook subscription");
        Ok(())
    } else {
        Err(PipelineError::NotFound {
            what: "webhook subscription",
            id: id.to_owned(),
        })
    }
}

/// Check `url` is an absolute http(s) URL with a host.
fn validate_url(url: &str) -> Result<()> {
    let invalid = |why: &str| {
        PipelineError::Invalid(format!(
            "webhook url `{url}` {why}; give an absolute http:// or https:// URL \
             such as https://example.com/hooks/silta"
        ))
    };
    let uri: http::Uri = url.trim().parse().map_err(|_| invalid("is not a URL"))?;
    match uri.scheme_str() {
        None => return Err(invalid("has no scheme")),
        Some("http" | "https") => {}
        Some(other) => {
            return Err(invalid(&format!(
                "has scheme `{other}`, which is not supported"
            )));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if url.trim() != url {
        return Err(invalid("has leading or trailing spaces"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_growing_capped_bound() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for attempt in 1..=40 {
            let bound = match attempt {
                1 => 100,
                2 => 200,
                3 => 400,
                4 => 800,
                _ => 1000,
            };
            for _ in 0..50 {
                let delay = full_jitter(initial, max, attempt);
                assert!(
                    delay <= Duration::from_millis(bound),
                    "attempt {attempt}: {delay:?}"
                );
            }
        }
        assert_eq!(
            full_jitter(Duration::ZERO, max, 7),
            Duration::ZERO,
            "a zero backoff stays zero"
        );
    }

    #[test]
    fn urls_are_validated_with_helpful_messages() {
        for ok in [
            "http://127.0.0.1:8080/hook",
            "https://example.com/hooks/silta?x=1",
        ] {
            assert!(validate_url(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("ftp://x", "scheme `ftp`"),
            ("not a url", "is not a URL"),
            ("/relative/path", "has no scheme"),
            ("example.com/hook", "is not a URL"),
            (" https://example.com", "spaces"),
        ] {
            let err = validate_url(bad).expect_err(bad).to_string();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.contains("https://"), "{bad}: {err}");
        }
    }
}
