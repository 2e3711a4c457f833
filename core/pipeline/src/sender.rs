//! The outbox sender: render, send, interpret, retry or dead-letter.
//!
//! Each due outbox item goes through its channel's plugin (`render`), the
//! host transport ([`HttpClient`]), and the plugin again
//! (`interpret-response`). The result is written in one unit of work: the
//! delivery step on the interaction, the outbox item's new state, a dead
//! letter when it gives up, and the events. Retryable failures (a 5xx or
//! 429 from the provider, a network error, a deadline) come back after
//! [`Backoff`] with jitter, up to `max_attempts`; permanent ones are
//! dead-lettered at once.
//!
//! Messages to one recipient on one channel account leave in the order they
//! were queued: the store lists an item only when no earlier one to the same
//! recipient is still pending ([`Store::outbox_due`]), so a reply waiting for
//! a retry or a rate-limit slot is never overtaken by a later one. Different
//! recipients go in parallel.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use silta_model::{ContentHash, DeliveryEvent, DeliveryState, Part, Timestamp};
use silta_runtime::contract::{
    AttachmentBytes, DeliveryOutcome, EmailRequest, HttpRequest, HttpResponse, OutboundMessage,
    TransportRequest, TransportResponse,
};
use silta_store::records::{DeadLetterSource, NewDeadLetter, OutboxItem, OutboxState};
use silta_store::{Store, transact};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::channels::{ChannelAccount, Channels};
use crate::error::{PipelineError, Result};
use crate::failure::Failure;
use crate::http_client::HttpClient;
use crate::{events, metrics};

/// Tuning of the sender.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// Messages in flight at once.
    pub concurrency: usize,
    /// Attempts before a retryable failure is dead-lettered.
    pub max_attempts: u32,
    /// Delays between attempts.
    pub backoff: Backoff,
    /// How often the outbox is checked without being woken.
    pub poll_interval: Duration,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            max_attempts: 10,
            backoff: Backoff::default(),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What one attempt ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The provider took it.
    Sent {
        /// The provider's id for it.
        provider_message_id: Option<String>,
    },
    /// It will be tried again.
    Retrying {
        /// Attempts so far.
        attempts: u32,
        /// Why.
        reason: String,
        /// After how long.
        after: Duration,
    },
    /// Given up: failed permanently or out of attempts; dead-lettered.
    DeadLettered {
        /// The dead letter.
        dead_letter: i64,
        /// Why.
        reason: String,
    },
}

/// The outbox sender.
pub struct Sender {
    store: Arc<dyn Store>,
    channels: Channels,
    client: Arc<HttpClient>,
    options: SenderOptions,
    wake: Arc<Notify>,
    in_flight: Mutex<HashSet<i64>>,
}

/// How an attempt failed, before it is recorded.
struct AttemptFailure {
    stage: &'static str,
    kind: String,
    message: String,
    retryable: bool,
    retry_after: Option<Duration>,
    provider_code: Option<String>,
}

impl AttemptFailure {
    fn permanent(stage: &'static str, kind: &str, message: String) -> Self {
        Self {
            stage,
            kind: kind.to_owned(),
            message,
            retryable: false,
            retry_after: None,
            provider_code: None,
        }
    }

    fn plugin(stage: &'static str, err: &silta_runtime::Error) -> Self {
        let failure = Failure::of(err);
        Self {
            stage,
            kind: failure.kind,
            message: failure.message,
            retryable: failure.retryable,
            retry_after: failure.retry_after,
            provider_code: None,
        }
    }
}

/// The content hashes the attachment parts of `parts` name.
fn attachment_hashes(parts: &[Part]) -> impl Iterator<Item = &ContentHash> {
    parts.iter().filter_map(|part| match part {
        Part::Attachment(attachment) => attachment.content_hash.as_ref(),
        _ => None,
    })
}

/// The delivery step an attempt adds to the interaction's history.
struct Step {
    state: DeliveryState,
    provider_code: Option<String>,
    detail: Option<String>,
    provider_message_id: Option<String>,
}

impl Step {
    fn of(state: DeliveryState, provider_code: Option<String>, detail: Option<String>) -> Self {
        Self {
            state,
            provider_code,
            detail,
            provider_message_id: None,
        }
    }
}

/// What becomes of the outbox item after an attempt.
enum Verdict {
    Sent {
        provider_message_id: Option<String>,
    },
    Retry {
        reason: String,
        after: Duration,
    },
    Dead {
        stage: &'static str,
        kind: String,
        reason: String,
    },
}

impl Sender {
    /// A sender over `store`, woken through `wake` when messages are queued.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        channels: Channels,
        client: Arc<HttpClient>,
        options: SenderOptions,
        wake: Arc<Notify>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            channels,
            client,
            options,
            wake,
            in_flight: Mutex::new(HashSet::new()),
        })
    }

    /// Run until `shutdown` turns true; then wait for attempts in flight.
    pub fn spawn(
        self: &Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(this.options.concurrency.max(1)));
            let mut attempts = JoinSet::new();
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let now = Timestamp::now().as_datetime().timestamp_millis();
                match this.store.outbox_due(now, 64).await {
                    Ok(items) => {
                        for item in items {
                            if !lock(&this.in_flight).insert(item.id) {
                                continue;
                            }
                            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                                break;
                            };
                            let sender = Arc::clone(&this);
                            attempts.spawn(async move {
                                let id = item.id;
                                if let Err(err) = sender.attempt_within_limits(item).await {
                                    tracing::error!(outbox = id, error = %err, "recording an attempt failed; it will be retried");
                                }
                                lock(&sender.in_flight).remove(&id);
                                drop(permit);
                            });
                        }
                    }
                    Err(err) => tracing::error!(error = %err, "reading the outbox failed"),
                }
                let wait = match this.store.outbox_next_due().await {
                    Ok(Some(due)) => {
                        let now = Timestamp::now().as_datetime().timestamp_millis();
                        let ms = u64::try_from(due.saturating_sub(now)).unwrap_or(0);
                        Duration::from_millis(ms.max(5)).min(this.options.poll_interval)
                    }
                    _ => this.options.poll_interval,
                };
                tokio::select! {
                    () = this.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    Some(_) = attempts.join_next() => {}
                    _ = shutdown.changed() => {}
                }
            }
            while attempts.join_next().await.is_some() {}
            tracing::info!("outbound sender drained");
        })
    }

    /// Attempt `item` once its channel account's rate limits allow; one
    /// that would wait longer than [`RATE_LIMIT_HOLD`] is put back in the
    /// outbox for its slot instead of holding a sending slot.
    async fn attempt_within_limits(&self, listed: OutboxItem) -> Result<()> {
        // The list may have been read before another attempt at this item
        // finished (sent, retried later or deferred): only a still-due item
        // is sent, so none goes out twice.
        let (id, now_ms) = (listed.id, Timestamp::now().as_datetime().timestamp_millis());
        let Some(item) = self.store.outbox_item_due(id, now_ms).await? else {
            return Ok(());
        };
        let channel = self.channels.by_id(item.channel_account)?;
        let recipient = recipient_of(&item);
        loop {
            match channel
                .limiter
                .try_take(&recipient, std::time::Instant::now())
            {
                Ok(()) => break,
                Err(wait) if wait <= RATE_LIMIT_HOLD => tokio::time::sleep(wait).await,
                Err(wait) => return self.defer(&channel, &item, wait).await,
            }
        }
        self.attempt(item).await.map(|_| ())
    }

    /// Put `item` back, unattempted, until `after` from now.
    async fn defer(
        &self,
        channel: &ChannelAccount,
        item: &OutboxItem,
        after: Duration,
    ) -> Result<()> {
        metrics::rate_limited(&channel.record.name);
        let due = Timestamp::now()
            .as_datetime()
            .timestamp_millis()
            .saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX));
        let (id, attempts, last_error) = (item.id, item.attempts, item.last_error.clone());
        transact(&*self.store, move |tx| {
            Box::pin(async move {
                tx.update_outbox(
                    id,
                    OutboxState::Pending,
                    attempts,
                    due,
                    last_error.as_deref(),
                )
                .await
            })
        })
        .await
        .map_err(PipelineError::from)
    }

    /// Make one attempt at `item` now, whatever the rate limits, and record
    /// its result.
    pub async fn attempt(&self, item: OutboxItem) -> Result<Attempt> {
        let channel = self.channels.by_id(item.channel_account)?;
        let attempt_no = item.attempts + 1;
        let result = self.try_send(&channel, &item).await;
        self.record(&channel, item, attempt_no, result).await
    }

    async fn try_send(
        &self,
        channel: &ChannelAccount,
        item: &OutboxItem,
    ) -> std::result::Result<DeliveryOutcome, AttemptFailure> {
        let message: OutboundMessage =
            serde_json::from_value(item.payload.clone()).map_err(|err| {
                AttemptFailure::permanent(
                    "render",
                    "invalid_payload",
                    format!("outbox payload: {err}"),
                )
            })?;
        let attachments = self.attachment_bytes(&message).await?;
        let rendered = channel
            .plugin
            .render_with(&message, &attachments)
            .await
            .map_err(|err| AttemptFailure::plugin("render", &err))?;
        let response = match &rendered {
            TransportRequest::Http(http) => self.send_http(channel, http).await?,
            TransportRequest::Email(email) => Self::send_email(channel, email).await?,
        };
        let code = match &response {
            TransportResponse::Http(http) => http.status,
            TransportResponse::Smtp { code, .. } => *code,
        };
        // The plugin sees the request as it rendered it, without secrets.
        channel
            .plugin
            .interpret_response(&rendered, &response)
            .await
            .map_err(|err| {
                let mut failure = AttemptFailure::plugin("deliver", &err);
                failure.provider_code = Some(code.to_string());
                failure
            })
    }

    /// The stored bytes of the message's attachments. The API accepted the
    /// message only when every hash it names was stored, so a missing one
    /// means the store lost it: permanent. A read error is retried.
    async fn attachment_bytes(
        &self,
        message: &OutboundMessage,
    ) -> std::result::Result<AttachmentBytes, AttemptFailure> {
        let mut bytes = AttachmentBytes::new();
        for hash in attachment_hashes(&message.parts) {
            if bytes.contains_key(hash) {
                continue;
            }
            match self.store.blob(hash).await {
                Ok(Some(content)) => {
                    bytes.insert(hash.clone(), content);
                }
                Ok(None) => {
                    return Err(AttemptFailure::permanent(
                        "render",
                        "missing_attachment",
                        format!("attachment {hash} is not in the blob store"),
                    ));
                }
                Err(err) => {
                    let mut failure = AttemptFailure::permanent(
                        "render",
                        "store",
                        format!("reading attachment {hash}: {err}"),
                    );
                    failure.retryable = true;
                    return Err(failure);
                }
            }
        }
        Ok(bytes)
    }

    /// Send a rendered HTTP request, its secret placeholders filled, to an
    /// origin granted to the plugin.
    async fn send_http(
        &self,
        channel: &ChannelAccount,
        http: &HttpRequest,
    ) -> std::result::Result<TransportResponse, AttemptFailure> {
        let Some(request) = channel.plugin.outbound_request(http) else {
            return Err(AttemptFailure::permanent(
                "send",
                "origin_not_granted",
                format!(
                    "{} is not an origin granted to plugin {}; add it to the plugin's `allowed_hosts` in the configuration",
                    http.url,
                    channel.plugin.id()
                ),
            ));
        };
        if let Some(local) = &channel.local {
            // Silta's own channel: answered in process, never on a network.
            return local
                .send(http)
                .await
                .map(TransportResponse::Http)
                .map_err(|message| AttemptFailure {
                    stage: "send",
                    kind: "unreachable".into(),
                    message,
                    retryable: true,
                    retry_after: None,
                    provider_code: None,
                });
        }
        let response = self
            .client
            .send(request)
            .await
            .map_err(|err| AttemptFailure {
                stage: "send",
                kind: "unreachable".into(),
                message: err.to_string(),
                retryable: true,
                retry_after: None,
                provider_code: None,
            })?;
        Ok(TransportResponse::Http(HttpResponse {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
                .collect(),
            body: response.body,
        }))
    }

    /// Send a rendered email through the channel account's SMTP server.
    async fn send_email(
        channel: &ChannelAccount,
        email: &EmailRequest,
    ) -> std::result::Result<TransportResponse, AttemptFailure> {
        let Some(smtp) = &channel.smtp else {
            return Err(AttemptFailure::permanent(
                "send",
                "no_transport",
                format!(
                    "the plugin rendered an email but channel account {} has no `smtp` server configured",
                    channel.record.name
                ),
            ));
        };
        let reply = smtp
            .send(&email.envelope_from, &email.envelope_to, &email.raw)
            .await;
        Ok(TransportResponse::Smtp {
            code: reply.code,
            text: reply.text,
        })
    }

    /// What an attempt's result means: the delivery step to record and
    /// what becomes of the outbox item.
    fn judge(
        &self,
        result: std::result::Result<DeliveryOutcome, AttemptFailure>,
        attempt_no: u32,
    ) -> (Step, Verdict) {
        match result {
            Ok(outcome)
                if matches!(
                    outcome.state,
                    DeliveryState::Failed | DeliveryState::Bounced
                ) =>
            {
                let code = outcome.provider_code.as_deref().map(|c| format!(" ({c})"));
                let detail = outcome.detail.as_deref().map(|d| format!(": {d}"));
                let reason = format!(
                    "the provider refused the message{}{}",
                    code.unwrap_or_default(),
                    detail.unwrap_or_default()
                );
                let step = Step::of(outcome.state, outcome.provider_code, outcome.detail);
                let verdict = Verdict::Dead {
                    stage: "deliver",
                    kind: "failed".into(),
                    reason,
                };
                (step, verdict)
            }
            Ok(outcome) => {
                let provider_message_id = outcome.provider_message_id.clone();
                let step = Step::of(outcome.state, outcome.provider_code, outcome.detail);
                (
                    Step {
                        provider_message_id: provider_message_id.clone(),
                        ..step
                    },
                    Verdict::Sent {
                        provider_message_id,
                    },
                )
            }
            Err(failure) if failure.retryable && attempt_no < self.options.max_attempts => {
                let after = self
                    .options
                    .backoff
                    .delay_with_hint(attempt_no, failure.retry_after);
                let detail = format!(
                    "attempt {attempt_no} failed at {}: {}; retrying in {} ms",
                    failure.stage,
                    failure.message,
                    after.as_millis()
                );
                let step = Step::of(DeliveryState::Queued, failure.provider_code, Some(detail));
                let verdict = Verdict::Retry {
                    reason: failure.message,
                    after,
                };
                (step, verdict)
            }
            Err(failure) => {
                let reason = if failure.retryable {
                    format!("gave up after {attempt_no} attempts: {}", failure.message)
                } else {
                    failure.message
                };
                let step = Step::of(
                    DeliveryState::Failed,
                    failure.provider_code,
                    Some(reason.clone()),
                );
                let verdict = Verdict::Dead {
                    stage: failure.stage,
                    kind: failure.kind,
                    reason,
                };
                (step, verdict)
            }
        }
    }

    async fn record(
        &self,
        channel: &ChannelAccount,
        item: OutboxItem,
        attempt_no: u32,
        result: std::result::Result<DeliveryOutcome, AttemptFailure>,
    ) -> Result<Attempt> {
        let now = Timestamp::now();
        let now_ms = now.as_datetime().timestamp_millis();
        let (step, verdict) = self.judge(result, attempt_no);
        let (state, next_ms, last_error, letter) = match &verdict {
            Verdict::Sent { .. } => (OutboxState::Done, now_ms, None, None),
            Verdict::Retry { after, .. } => (
                OutboxState::Pending,
                now_ms.saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX)),
                step.detail.clone(),
                None,
            ),
            Verdict::Dead {
                stage,
                kind,
                reason,
            } => (
                OutboxState::Dead,
                now_ms,
                Some(reason.clone()),
                Some(self.letter(channel, &item, stage, kind, reason, now)),
            ),
        };
        let provider_message_id = step.provider_message_id;
        let delivery = DeliveryEvent {
            state: step.state,
            provider_code: step.provider_code,
            detail: step.detail,
            at: now,
            attempt: attempt_no,
            provider_message_id: provider_message_id.clone(),
        };
        let (item_id, interaction_id) = (item.id, item.interaction_id);
        let stored_letter = letter.clone();
        let dead_id = transact(&*self.store, move |tx| {
            Box::pin(async move {
                if let Some(mut interaction) = tx.interaction(interaction_id).await? {
                    interaction.delivery.push(delivery);
                    tx.update_interaction(&interaction, provider_message_id.as_deref())
                        .await?;
                    tx.append_event(&events::delivery_updated(&interaction))
                        .await?;
                }
                tx.update_outbox(item_id, state, attempt_no, next_ms, last_error.as_deref())
                    .await?;
                match stored_letter {
                    Some(letter) => {
                        let id = tx.put_dead_letter(&letter).await?;
                        tx.append_event(&events::dead_lettered(id, &letter)).await?;
                        Ok(Some(id))
                    }
                    None => Ok(None),
                }
            })
        })
        .await
        .map_err(PipelineError::from)?;
        let name = &channel.record.name;
        Ok(match verdict {
            Verdict::Dead {
                stage,
                kind,
                reason,
            } => {
                metrics::outbound(name, "dead_lettered");
                metrics::dead_letter("outbound", stage, &kind);
                tracing::warn!(outbox = item_id, %reason, "outbound message dead-lettered");
                Attempt::DeadLettered {
                    dead_letter: dead_id.unwrap_or_default(),
                    reason,
                }
            }
            Verdict::Retry { reason, after } => {
                metrics::outbound(name, "retry");
                tracing::info!(outbox = item_id, attempt = attempt_no, %reason, after_ms = after.as_millis(), "outbound attempt failed; will retry");
                Attempt::Retrying {
                    attempts: attempt_no,
                    reason,
                    after,
                }
            }
            Verdict::Sent {
                provider_message_id,
            } => {
                metrics::outbound(name, "sent");
                Attempt::Sent {
                    provider_message_id,
                }
            }
        })
    }

    fn letter(
        &self,
        channel: &ChannelAccount,
        item: &OutboxItem,
        stage: &str,
        kind: &str,
        message: &str,
        at: Timestamp,
    ) -> NewDeadLetter {
        NewDeadLetter {
            source: DeadLetterSource::Outbound,
            journal_seq: None,
            outbox_id: Some(item.id),
            channel_account: channel.record.id,
            plugin: channel.plugin.id().to_string(),
            stage: stage.to_owned(),
            error_kind: kind.to_owned(),
            message: message.to_owned(),
            at,
        }
    }

    /// Put a dead-lettered outbox item back in the queue and try it once
    /// now (for `silta dlq replay`).
    pub async fn replay(&self, outbox_id: i64, dead_letter: i64) -> Result<Attempt> {
        let item = transact(&*self.store, move |tx| {
            Box::pin(async move {
                let item = tx.outbox_item(outbox_id).await?;
                if item.is_some() {
                    let now = Timestamp::now().as_datetime().timestamp_millis();
                    tx.update_outbox(outbox_id, OutboxState::Pending, 0, now, None)
                        .await?;
                    tx.remove_dead_letter(dead_letter).await?;
                }
                Ok(item)
            })
        })
        .await?
        .ok_or_else(|| PipelineError::NotFound {
            what: "outbox item",
            id: outbox_id.to_string(),
        })?;
        let fresh = OutboxItem {
            attempts: 0,
            ..item
        };
        if !lock(&self.in_flight).insert(fresh.id) {
            return Err(PipelineError::Invalid(format!(
                "outbox item {outbox_id} is being sent right now"
            )));
        }
        // A replay waits for its rate limit's slot rather than being put back.
        if let Ok(channel) = self.channels.by_id(fresh.channel_account) {
            channel.limiter.take(&recipient_of(&fresh)).await;
        }
        let result = self.attempt(fresh).await;
        lock(&self.in_flight).remove(&outbox_id);
        result
    }
}

/// Longest a send waits for its rate limit's slot while holding a sending
/// slot; a longer wait puts it back in the outbox.
const RATE_LIMIT_HOLD: Duration = Duration::from_millis(250);

/// The recipient's identity value, the key of per-recipient rate limits.
fn recipient_of(item: &OutboxItem) -> String {
    item.payload
        .pointer("/recipient/value")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
