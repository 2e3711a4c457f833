//! Back-office enrichment: every new interaction is queued (in its own
//! commit) for each configured back-office plugin; workers here look the
//! party up, attach the records and identities found, and record the
//! interaction as an activity where the operator asked for it.
//!
//! Enrichment never blocks ingestion: the interaction is stored first,
//! marked `enrichment: pending`, and `silta.interaction.enriched` follows
//! once every back office has answered. Per plugin, lookups are cached
//! (a fresh lookup of the party is not repeated within `snapshot_ttl`),
//! rate limited, and time-limited; a slow or failing back office is
//! retried with backoff while the rest of Silta carries on.

use std::sync::Arc;
use std::time::Duration;

use silta_model::{BackofficeLink, Enrichment, Interaction, InteractionId, PartyId, Timestamp};
use silta_runtime::Plugin;
use silta_runtime::contract::{Activity, Background};
use silta_store::records::EnrichmentJob;
use silta_store::{Store, StoreTx, transact};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::error::{Result, into_store_error};
use crate::events;
use crate::failure::Failure;
use crate::identity_resolution::{attach_backoffice_identities, survivor};

/// What a new interaction's enrichment starts as: pending when any back
/// office is configured.
#[must_use]
pub fn initial_state(plugins: &[String]) -> Option<Enrichment> {
    (!plugins.is_empty()).then_some(Enrichment::Pending)
}

/// Queue `interaction` for each back office, due now, in the caller's
/// transaction. Call it after the interaction is inserted: a job
/// references its interaction.
pub async fn queue(
    tx: &mut dyn StoreTx,
    interaction: InteractionId,
    plugins: &[String],
) -> silta_store::Result<()> {
    let due = Timestamp::now().as_datetime().timestamp_millis();
    for plugin in plugins {
        tx.enqueue_enrichment(interaction, plugin, due).await?;
    }
    Ok(())
}

/// How one back-office plugin is used.
#[derive(Debug, Clone)]
pub struct BackofficeSettings {
    /// How long a lookup's answer (found or not) is trusted.
    pub snapshot_ttl: Duration,
    /// Record each interaction as an activity in this system.
    pub record_activities: bool,
    /// At most this many calls per second to the system.
    pub calls_per_second: f64,
    /// Give up a call after this long (the plugin's own deadline may be
    /// shorter).
    pub call_timeout: Duration,
    /// Attempts before a job is given up.
    pub max_attempts: u32,
}

impl Default for BackofficeSettings {
    fn default() -> Self {
        Self {
            snapshot_ttl: Duration::from_secs(900),
            record_activities: false,
            calls_per_second: 10.0,
            call_timeout: Duration::from_secs(10),
            max_attempts: 20,
        }
    }
}

/// A back-office plugin with its settings.
pub struct Backoffice {
    /// The plugin (exports the `backoffice` world).
    pub plugin: Arc<Plugin>,
    /// How it is used.
    pub settings: BackofficeSettings,
    limiter: RateLimiter,
}

impl Backoffice {
    /// `plugin` used as `settings` say.
    #[must_use]
    pub fn new(plugin: Arc<Plugin>, settings: BackofficeSettings) -> Self {
        let limiter = RateLimiter::new(settings.calls_per_second);
        Self {
            plugin,
            settings,
            limiter,
        }
    }

    fn id(&self) -> String {
        self.plugin.id().to_string()
    }
}

/// The enrichment workers.
pub struct Enricher {
    store: Arc<dyn Store>,
    backoffices: Vec<Arc<Backoffice>>,
    backoff: Backoff,
    poll: Duration,
}

impl Enricher {
    /// Workers for `backoffices` over `store`; a failed job is retried
    /// after `backoff`'s delay for its attempt.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        backoffices: Vec<Arc<Backoffice>>,
        backoff: Backoff,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            backoffices,
            backoff,
            poll: Duration::from_millis(200),
        })
    }

    /// The back office of plugin `id`.
    #[must_use]
    pub fn backoffice(&self, id: &str) -> Option<&Arc<Backoffice>> {
        self.backoffices.iter().find(|b| b.id() == id)
    }

    /// Run one worker per back office until `shutdown` turns true.
    pub fn spawn(self: &Arc<Self>, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut workers = JoinSet::new();
            for backoffice in &this.backoffices {
                let this = Arc::clone(&this);
                let backoffice = Arc::clone(backoffice);
                let shutdown = shutdown.clone();
                workers.spawn(async move { this.work(&backoffice, shutdown).await });
            }
            while workers.join_next().await.is_some() {}
        })
    }

    async fn work(&self, backoffice: &Backoffice, mut shutdown: watch::Receiver<bool>) {
        let plugin = backoffice.id();
        while !*shutdown.borrow() {
            let due = self
                .store
                .enrichment_due(
                    &plugin,
                    Timestamp::now().as_datetime().timestamp_millis(),
                    32,
                )
                .await;
            let jobs = match due {
                Ok(jobs) => jobs,
                Err(err) => {
                    tracing::error!(plugin, error = %err, "reading the enrichment queue failed");
                    Vec::new()
                }
            };
            if jobs.is_empty() {
                tokio::select! {
                    () = tokio::time::sleep(self.poll) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for job in jobs {
                if *shutdown.borrow() {
                    return;
                }
                if let Err(err) = self.run_job(backoffice, &job).await {
                    tracing::error!(plugin, job = job.id, error = %err, "enrichment job failed to save");
                    tokio::time::sleep(self.poll).await;
                }
            }
        }
    }

    /// One job: look up (unless fresh), record the activity (if asked),
    /// then finish; a failure schedules a retry or gives up.
    async fn run_job(&self, backoffice: &Backoffice, job: &EnrichmentJob) -> Result<()> {
        let Some(interaction) = self.store.interaction(job.interaction_id).await? else {
            return self.finish(job, None).await;
        };
        let Some(party) = interaction.party_id else {
            return self.finish(job, None).await;
        };
        let party = self
            .store
            .party(party)
            .await?
            .map_or(party, |survivor| survivor.id);
        if let Err(failure) = self.refresh_lookup(backoffice, party).await? {
            return self.failed(backoffice, job, &interaction, failure).await;
        }
        let mut activity = None;
        if backoffice.settings.record_activities {
            match self
                .record_activity(backoffice, &interaction, party)
                .await?
            {
                Ok(link) => activity = link,
                Err(failure) => return self.failed(backoffice, job, &interaction, failure).await,
            }
        }
        self.finish(job, activity).await
    }

    /// Look the party up unless a fresh answer is stored; `Ok(Err(..))`
    /// when the back office failed.
    async fn refresh_lookup(
        &self,
        backoffice: &Backoffice,
        party: PartyId,
    ) -> Result<std::result::Result<(), Failure>> {
        let plugin = backoffice.id();
        let now_ms = Timestamp::now().as_datetime().timestamp_millis();
        let expires = self.store.lookup_expires(party, &plugin).await?;
        if expires.is_some_and(|expires| expires > now_ms) {
            return Ok(Ok(()));
        }
        // A claim kept apart from another party's identity is not evidence
        // of who this party is: looking it up would link the other party's
        // records here.
        let mut identities = self.store.party_identities(party).await?;
        identities.retain(|identity| !identity.key().is_kept_apart_claim());
        backoffice.limiter.wait().await;
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(
            backoffice.settings.call_timeout,
            backoffice.plugin.lookup(&identities),
        )
        .await;
        crate::metrics::backoffice_call(&plugin, "lookup", started.elapsed());
        let background = match answer {
            Ok(Ok(background)) => background,
            Ok(Err(err)) => return Ok(Err(Failure::of(&err))),
            Err(_) => return Ok(Err(timed_out(backoffice))),
        };
        let ttl_ms =
            i64::try_from(backoffice.settings.snapshot_ttl.as_millis()).unwrap_or(i64::MAX);
        let fetched = Timestamp::now();
        let fetched_ms = fetched.as_datetime().timestamp_millis();
        let expires_ms = fetched_ms.saturating_add(ttl_ms);
        let expires_at = u64::try_from(expires_ms / 1000)
            .ok()
            .and_then(|secs| Timestamp::from_unix("expires_at", secs, 0).ok());
        transact(&*self.store, move |tx| {
            Box::pin(async move {
                let Background {
                    display_name,
                    identities,
                    links,
                    attributes,
                } = background.unwrap_or_default();
                let links: Vec<BackofficeLink> = links
                    .into_iter()
                    .map(|mut link| {
                        link.fetched_at = Some(fetched);
                        link.expires_at = expires_at;
                        link
                    })
                    .collect();
                let party = survivor(tx, party).await.map_err(into_store_error)?;
                tx.save_lookup(party, &plugin, fetched_ms, expires_ms, &links)
                    .await?;
                attach_backoffice_identities(tx, party, &plugin, &identities)
                    .await
                    .map_err(into_store_error)?;
                if let Some(mut stored) = tx.party(party).await? {
                    let before = stored.clone();
                    if stored.display_name.is_none() {
                        stored.display_name = display_name;
                    }
                    for (name, value) in attributes {
                        let name = format!("{plugin}.{name}");
                        let value = serde_json::Value::String(value);
                        if stored.attributes.get(&name).map(|a| &a.value) != Some(&value) {
                            stored.set_attribute(name, value, plugin.clone(), fetched);
                        }
                    }
                    if stored != before {
                        tx.update_party(&stored).await?;
                    }
                }
                if !links.is_empty() {
                    tx.append_event(&events::party_enriched(party, &plugin, &links))
                        .await?;
                }
                Ok(())
            })
        })
        .await?;
        Ok(Ok(()))
    }

    /// Record `interaction` as an activity on the party's records in this
    /// system; `Ok(Ok(None))` when the system holds no record of the party.
    async fn record_activity(
        &self,
        backoffice: &Backoffice,
        interaction: &Interaction,
        party: PartyId,
    ) -> Result<std::result::Result<Option<BackofficeLink>, Failure>> {
        let plugin = backoffice.id();
        if interaction
            .backoffice_links
            .iter()
            .any(|l| l.system == plugin)
        {
            return Ok(Ok(None));
        }
        let party_links = self.store.party_links(party).await?;
        if party_links.is_empty() {
            return Ok(Ok(None));
        }
        let channel = interaction.provenance.plugin_id.clone();
        let activity = Activity {
            interaction_id: interaction.id,
            case_id: interaction.case_id.map(|c| c.to_string()),
            party_links,
            direction: interaction.direction,
            channel,
            occurred_at: interaction.occurred_at,
            subject: interaction.subject.clone(),
            text: interaction.text(),
        };
        backoffice.limiter.wait().await;
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(
            backoffice.settings.call_timeout,
            backoffice.plugin.record_activity(&activity),
        )
        .await;
        crate::metrics::backoffice_call(&plugin, "record_activity", started.elapsed());
        Ok(match answer {
            Ok(Ok(link)) => Ok(Some(link)),
            Ok(Err(err)) => Err(Failure::of(&err)),
            Err(_) => Err(timed_out(backoffice)),
        })
    }

    /// The job is done: remove it, keep the activity's link, and mark the
    /// interaction enriched once no job of it is pending.
    async fn finish(&self, job: &EnrichmentJob, activity: Option<BackofficeLink>) -> Result<()> {
        let job = job.clone();
        transact(&*self.store, move |tx| {
            Box::pin(async move {
                tx.finish_enrichment(job.id).await?;
                let Some(mut interaction) = tx.interaction(job.interaction_id).await? else {
                    return Ok(());
                };
                let mut changed = false;
                if let Some(link) = activity {
                    interaction.backoffice_links.push(link);
                    changed = true;
                }
                if tx.pending_enrichment(interaction.id).await? == 0
                    && interaction.enrichment == Some(Enrichment::Pending)
                {
                    interaction.enrichment = Some(Enrichment::Done);
                    tx.update_interaction(&interaction, None).await?;
                    tx.append_event(&events::interaction_enriched(&interaction))
                        .await?;
                } else if changed {
                    tx.update_interaction(&interaction, None).await?;
                }
                Ok(())
            })
        })
        .await?;
        Ok(())
    }

    /// Schedule a retry, or give the job up (and mark the interaction).
    async fn failed(
        &self,
        backoffice: &Backoffice,
        job: &EnrichmentJob,
        interaction: &Interaction,
        failure: Failure,
    ) -> Result<()> {
        let plugin = backoffice.id();
        let attempts = job.attempts.saturating_add(1);
        // Refused credentials heal when the operator fixes them: retried.
        let retryable = failure.retryable || failure.kind == "unauthorized";
        let give_up = !retryable || attempts >= backoffice.settings.max_attempts;
        let delay = self.backoff.delay_with_hint(attempts, failure.retry_after);
        let next_ms = Timestamp::now()
            .as_datetime()
            .timestamp_millis()
            .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        tracing::warn!(plugin, interaction = %interaction.id, attempts, give_up,
            error = %failure.message, "back-office enrichment failed");
        let job_id = job.id;
        let interaction_id = interaction.id;
        let reason = format!("{plugin}: {}", failure.message);
        transact(&*self.store, move |tx| {
            Box::pin(async move {
                tx.fail_enrichment(job_id, attempts, next_ms, &reason, give_up)
                    .await?;
                if give_up && let Some(mut interaction) = tx.interaction(interaction_id).await? {
                    interaction.enrichment = Some(Enrichment::Failed { reason });
                    tx.update_interaction(&interaction, None).await?;
                    tx.append_event(&events::interaction_enriched(&interaction))
                        .await?;
                }
                Ok(())
            })
        })
        .await?;
        Ok(())
    }
}

fn timed_out(backoffice: &Backoffice) -> Failure {
    Failure {
        kind: "timeout".into(),
        message: format!(
            "no answer within {} ms",
            backoffice.settings.call_timeout.as_millis()
        ),
        retryable: true,
        retry_after: None,
    }
}

/// Spaces calls to one back office at most `rate` per second.
struct RateLimiter {
    interval: Duration,
    next: Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    fn new(calls_per_second: f64) -> Self {
        let interval = if calls_per_second > 0.0 {
            Duration::from_secs_f64(1.0 / calls_per_second)
        } else {
            Duration::ZERO
        };
        Self {
            interval,
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Wait for this call's turn.
    async fn wait(&self) {
        let turn = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let turn = (*next).max(now);
            *next = turn + self.interval;
            turn
        };
        tokio::time::sleep_until(turn).await;
    }
}
