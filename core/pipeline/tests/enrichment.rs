//! The enrichment workers against a real store and a real back-office
//! component (the `echo` test guest): lookups are cached for their TTL,
//! spaced by the rate limit, cut off by the call timeout, and a back office
//! that does not answer leaves the interaction pending, then failed, while
//! nothing waits for it.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use silta_model::{
    Assurance, ChannelAccountId, Enrichment, IdentityKind, InteractionId, PartyId, Timestamp,
};
use silta_pipeline::backoff::Backoff;
use silta_pipeline::enrichment::{Backoffice, BackofficeSettings, Enricher};
use silta_pipeline::linking::{LinkOptions, Linked};
use silta_runtime::grant::Grant;
use silta_runtime::{Plugin, PluginSource, Runtime, RuntimeOptions};
use silta_store::Store;
use silta_store::sqlite::{SqliteOptions, SqliteStore};
use silta_test_harness::guest::Guest;
use silta_test_harness::manifest::manifest;
use support::{identity, message, receive};
use tokio::sync::watch;

/// The guest's plugin id: the back office's name in the store.
const ECHO: &str = "echo";

struct World {
    _dir: tempfile::TempDir,
    _runtime: Runtime,
    store: Arc<dyn Store>,
    plugin: Arc<Plugin>,
    account: ChannelAccountId,
    shutdown: watch::Sender<bool>,
}

impl World {
    async fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("silta.db"), &SqliteOptions::default()).await?,
        );
        let runtime = Runtime::new(RuntimeOptions::default())?;
        // The guest's own deadline is longer than its slow lookup, so only
        // the enricher's call timeout can cut it off.
        let manifest = manifest(Guest::Echo)
            .capabilities(&["log"])
            .deadline_ms(30_000)
            .build();
        let plugin = runtime
            .load(PluginSource {
                wasm: Guest::Echo.bytes(),
                origin: Guest::Echo.path(),
                grant: Grant::all_requested(&manifest),
                manifest,
            })
            .await?;
        Ok(Self {
            _dir: dir,
            _runtime: runtime,
            store,
            plugin,
            account: ChannelAccountId::new(),
            shutdown: watch::channel(false).0,
        })
    }

    /// Start the workers with these settings for the echo back office.
    fn enrich(&self, settings: BackofficeSettings) {
        let backoffice = Arc::new(Backoffice::new(Arc::clone(&self.plugin), settings));
        let backoff = Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        };
        Enricher::new(Arc::clone(&self.store), vec![backoffice], backoff)
            .spawn(self.shutdown.subscribe());
    }

    /// A message from `email`, linked and queued for the echo back office;
    /// returns its interaction and party.
    async fn receive(&self, email: &str, id: &str) -> anyhow::Result<(InteractionId, PartyId)> {
        let sender = identity(IdentityKind::Email, email, Assurance::ChannelAsserted)?;
        let interaction = message(self.account, "webhook", id, &sender, Timestamp::now())?;
        let options = LinkOptions {
            backoffice_plugins: vec![ECHO.to_owned()],
            ..LinkOptions::default()
        };
        let linked = receive(
            &*self.store,
            interaction,
            &sender,
            "webhook",
            self.account,
            &options,
        )
        .await?;
        match linked {
            Linked::Created {
                interaction, party, ..
            } => Ok((interaction, party)),
            other => anyhow::bail!("expected a new interaction, got {other:?}"),
        }
    }

    async fn enrichment(&self, interaction: InteractionId) -> anyhow::Result<Option<Enrichment>> {
        Ok(self
            .store
            .interaction(interaction)
            .await?
            .and_then(|i| i.enrichment))
    }

    /// The interaction's enrichment once it is no longer pending.
    async fn settled(
        &self,
        interaction: InteractionId,
        limit: Duration,
    ) -> anyhow::Result<Enrichment> {
        let started = Instant::now();
        loop {
            match self.enrichment(interaction).await? {
                Some(Enrichment::Pending) | None => {}
                Some(settled) => return Ok(settled),
            }
            anyhow::ensure!(
                started.elapsed() < limit,
                "interaction {interaction} still pending after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// When the party's stored lookup expires (milliseconds): moves only
    /// when the back office is asked again.
    async fn lookup_expires(&self, party: PartyId) -> anyhow::Result<i64> {
        self.store
            .lookup_expires(party, ECHO)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no lookup stored for {party}"))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

fn settings() -> BackofficeSettings {
    BackofficeSettings {
        snapshot_ttl: Duration::from_secs(3600),
        calls_per_second: 1000.0,
        call_timeout: Duration::from_secs(10),
        max_attempts: 3,
        ..BackofficeSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_is_reused_for_its_ttl_and_asked_again_after() -> anyhow::Result<()> {
    let world = World::new().await?;
    world.enrich(BackofficeSettings {
        snapshot_ttl: Duration::from_millis(1500),
        ..settings()
    });
    let (first, party) = world.receive("known@example.test", "m1").await?;
    assert_eq!(
        world.settled(first, Duration::from_secs(10)).await?,
        Enrichment::Done
    );
    let looked_up = world.lookup_expires(party).await?;
    let links = world.store.party_links(party).await?;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].remote_id, "42");

    // Within the TTL: the stored answer serves, the back office is not asked.
    let (second, _) = world.receive("known@example.test", "m2").await?;
    world.settled(second, Duration::from_secs(10)).await?;
    assert_eq!(world.lookup_expires(party).await?, looked_up);

    // After it: asked again.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (third, _) = world.receive("known@example.test", "m3").await?;
    world.settled(third, Duration::from_secs(10)).await?;
    assert!(world.lookup_expires(party).await? > looked_up);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_one_back_office_are_spaced_by_its_rate_limit() -> anyhow::Result<()> {
    let world = World::new().await?;
    let mut messages = Vec::new();
    for n in 0..5 {
        messages.push(
            world
                .receive(&format!("customer-{n}@example.test"), &format!("m{n}"))
                .await?,
        );
    }
    world.enrich(BackofficeSettings {
        calls_per_second: 4.0,
        ..settings()
    });
    let mut asked = Vec::new();
    for (interaction, party) in &messages {
        world.settled(*interaction, Duration::from_secs(10)).await?;
        asked.push(world.lookup_expires(*party).await?);
    }
    asked.sort_unstable();
    // Five calls at four a second: the last at least a second after the
    // first (250 ms apart; a little slack for the clock's rounding).
    let spread = asked[4] - asked[0];
    assert!(spread >= 950, "five lookups within {spread} ms: {asked:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_office_that_does_not_answer_is_cut_off_retried_and_given_up() -> anyhow::Result<()>
{
    let world = World::new().await?;
    world.enrich(BackofficeSettings {
        call_timeout: Duration::from_millis(300),
        max_attempts: 3,
        ..settings()
    });
    // The guest's lookup of this address takes five seconds.
    let started = Instant::now();
    let (slow, _) = world.receive("slow@example.test", "m1").await?;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "linking never waits for a back office"
    );
    assert_eq!(world.enrichment(slow).await?, Some(Enrichment::Pending));
    // Another customer is enriched meanwhile.
    let (known, _) = world.receive("known@example.test", "m2").await?;
    let settled = world.settled(slow, Duration::from_secs(10)).await?;
    let Enrichment::Failed { reason } = settled else {
        panic!("expected failed, got {settled:?}");
    };
    assert!(reason.contains("no answer within 300 ms"), "{reason}");
    // Three attempts of 300 ms each, with backoff: far less than one full
    // five-second lookup per attempt.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the call was not cut off: {:?}",
        started.elapsed()
    );
    assert_eq!(
        world.settled(known, Duration::from_secs(10)).await?,
        Enrichment::Done
    );
    Ok(())
}
