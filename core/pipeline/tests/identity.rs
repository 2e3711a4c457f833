//! Identity resolution, cases across channels, and merge/unmerge against a
//! real store.

mod support;

use std::sync::Arc;
use std::time::Duration;

use silta_model::{
    AgentId, Assurance, ChannelAccountId, FieldDecision, Identity, IdentityKind, InteractionId,
    MergeDecider, MergeEvidence, PartyId, Timestamp,
};
use silta_pipeline::identity_resolution::attach_backoffice_identities;
use silta_pipeline::linking::{LinkOptions, Linked};
use silta_pipeline::merge::{MergeRequest, merge, unmerge};
use silta_store::records::InteractionsOf;
use silta_store::sqlite::{SqliteOptions, SqliteStore};
use silta_store::{Store, transact};
use support::{aborted, identity, message, receive};

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    email: ChannelAccountId,
    webhook: ChannelAccountId,
    options: LinkOptions,
}

impl World {
    async fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("silta.db"), &SqliteOptions::default()).await?,
        );
        Ok(Self {
            _dir: dir,
            store,
            email: ChannelAccountId::new(),
            webhook: ChannelAccountId::new(),
            options: LinkOptions::default(),
        })
    }

    fn plugin_of(&self, account: ChannelAccountId) -> &'static str {
        if account == self.email {
            "email"
        } else {
            "webhook"
        }
    }

    /// A message from `sender` on `account`, linked; returns what linking did.
    async fn receive(
        &self,
        account: ChannelAccountId,
        sender: &Identity,
        provider_id: &str,
        at: Timestamp,
    ) -> anyhow::Result<Created> {
        let plugin = self.plugin_of(account);
        let interaction = message(account, plugin, provider_id, sender, at)?;
        let linked = receive(
            &*self.store,
            interaction,
            sender,
            plugin,
            account,
            &self.options,
        )
        .await?;
        match linked {
            Linked::Created {
                interaction,
                party,
                case,
                ..
            } => Ok(Created {
                interaction,
                party,
                case,
            }),
            other => anyhow::bail!("expected a new interaction, got {other:?}"),
        }
    }

    /// What a back office says it knows about `party`.
    async fn backoffice_says(
        &self,
        party: PartyId,
        identities: Vec<Identity>,
    ) -> anyhow::Result<()> {
        transact(&*self.store, move |tx| {
            Box::pin(async move {
                attach_backoffice_identities(tx, party, "tryton", &identities)
                    .await
                    .map_err(aborted)
            })
        })
        .await?;
        Ok(())
    }

    async fn events_of_type(&self, event_type: &str) -> anyhow::Result<Vec<serde_json::Value>> {
        Ok(self
            .store
            .events_after(0, 10_000)
            .await?
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .map(|e| e.data)
            .collect())
    }

    /// Everything a party holds, by id, for before/after comparisons.
    async fn holdings(&self, party: PartyId) -> anyhow::Result<Holdings> {
        let mut identities: Vec<String> = self
            .store
            .party_identities(party)
            .await?
            .iter()
            .map(|i| format!("{}:{}:{:?}", i.id, i.value(), i.assurance))
            .collect();
        identities.sort();
        let mut interactions: Vec<String> = self
            .store
            .interactions(InteractionsOf::Party(party), None, 500)
            .await?
            .items
            .iter()
            .map(|i| format!("{}:{:?}:{:?}", i.id, i.conversation_id, i.case_id))
            .collect();
        interactions.sort();
        let mut cases: Vec<String> = self
            .store
            .party_cases(party)
            .await?
            .iter()
            .map(|c| format!("{}:{:?}", c.id, c.conversation_ids))
            .collect();
        cases.sort();
        let stored = self
            .store
            .party_as_stored(party)
            .await?
            .ok_or_else(|| anyhow::anyhow!("party {party} is gone"))?;
        Ok(Holdings {
            identities,
            interactions,
            cases,
            display_name: stored.display_name,
            status: format!("{:?}/{:?}", stored.status, stored.merged_into),
        })
    }
}

#[derive(Debug, PartialEq)]
struct Holdings {
    identities: Vec<String>,
    interactions: Vec<String>,
    cases: Vec<String>,
    display_name: Option<String>,
    status: String,
}

struct Created {
    interaction: InteractionId,
    party: PartyId,
    case: silta_model::CaseId,
}

fn hours_ago(hours: u64) -> Timestamp {
    let now = Timestamp::now().unix_seconds();
    Timestamp::from_unix("t", now - hours * 3600, 0).expect("in range")
}

#[tokio::test]
async fn the_same_claim_again_is_the_same_party() -> anyhow::Result<()> {
    let world = World::new().await?;
    let aino = identity(
        IdentityKind::Email,
        "aino@example.fi",
        Assurance::ChannelAsserted,
    )?;
    let first = world
        .receive(world.email, &aino, "m1", Timestamp::now())
        .await?;
    let second = world
        .receive(world.email, &aino, "m2", Timestamp::now())
        .await?;
    assert_eq!(first.party, second.party);
    let explained = world
        .store
        .interaction(second.interaction)
        .await?
        .and_then(|i| i.linking)
        .expect("linking recorded");
    assert_eq!(explained.party.rule, "known-identity");
    assert_eq!(explained.party.identity, Some(aino.key()));
    assert_eq!(explained.case.rule, "open-case-of-party");
    Ok(())
}

#[tokio::test]
async fn an_attested_phone_on_a_new_channel_joins_the_party_and_its_open_case() -> anyhow::Result<()>
{
    let world = World::new().await?;
    let email = identity(
        IdentityKind::Email,
        "aino@example.fi",
        Assurance::ChannelAsserted,
    )?;
    let by_mail = world
        .receive(world.email, &email, "m1", hours_ago(2))
        .await?;
    // The ERP knows the customer's phone: an attested identity of the party.
    let erp_phone = identity(
        IdentityKind::Phone,
        "+358401234567",
        Assurance::ChannelAttested,
    )?;
    world
        .backoffice_says(by_mail.party, vec![erp_phone])
        .await?;

    let verified = identity(
        IdentityKind::Phone,
        "+358 40 1234567",
        Assurance::ChannelAttested,
    )?;
    let by_webhook = world
        .receive(world.webhook, &verified, "w1", Timestamp::now())
        .await?;
    assert_eq!(by_webhook.party, by_mail.party, "same party");
    assert_eq!(by_webhook.case, by_mail.case, "same case, new channel");
    let linking = world
        .store
        .interaction(by_webhook.interaction)
        .await?
        .and_then(|i| i.linking)
        .expect("linking recorded");
    assert_eq!(linking.party.rule, "attested-identity-match");
    assert_eq!(linking.conversation.rule, "new-conversation");
    let case = world.store.case(by_mail.case).await?.expect("case");
    assert_eq!(
        case.conversation_ids.len(),
        2,
        "one conversation per channel"
    );
    assert_eq!(case.last_inbound_channel, Some(world.webhook));
    assert!(
        world
            .events_of_type("silta.identity.conflict")
            .await?
            .is_empty()
    );

    // A WhatsApp number attested by its channel matches the same phone.
    let whatsapp = identity(
        IdentityKind::Whatsapp,
        "+358401234567",
        Assurance::ChannelAttested,
    )?;
    let by_whatsapp = world
        .receive(world.webhook, &whatsapp, "w2", Timestamp::now())
        .await?;
    assert_eq!(by_whatsapp.party, by_mail.party);
    Ok(())
}

#[tokio::test]
async fn an_unverified_matching_claim_stays_a_separate_party_with_a_conflict() -> anyhow::Result<()>
{
    let world = World::new().await?;
    let email = identity(
        IdentityKind::Email,
        "aino@example.fi",
        Assurance::ChannelAsserted,
    )?;
    let customer = world
        .receive(world.email, &email, "m1", Timestamp::now())
        .await?;
    // The CRM confirms the address: attested now.
    let crm_email = identity(
        IdentityKind::Email,
        "aino@example.fi",
        Assurance::ChannelAttested,
    )?;
    world
        .backoffice_says(customer.party, vec![crm_email])
        .await?;

    let claim = identity(
        IdentityKind::Email,
        "aino@EXAMPLE.fi",
        Assurance::ChannelAsserted,
    )?;
    let stranger = world
        .receive(world.webhook, &claim, "w1", Timestamp::now())
        .await?;
    assert_ne!(stranger.party, customer.party, "kept apart");
    assert_ne!(stranger.case, customer.case);
    let conflicts = world.events_of_type("silta.identity.conflict").await?;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["existing_party"], customer.party.to_string());
    assert_eq!(conflicts[0]["party"], stranger.party.to_string());
    assert_eq!(
        conflicts[0]["evidence"]["held"]["assurance"],
        "channel_attested"
    );
    assert_eq!(
        conflicts[0]["evidence"]["claimed"]["assurance"],
        "channel_asserted"
    );

    // The same claimant again: the same separate party, no second conflict.
    let again = world
        .receive(world.webhook, &claim, "w2", Timestamp::now())
        .await?;
    assert_eq!(again.party, stranger.party);
    assert_eq!(
        world.events_of_type("silta.identity.conflict").await?.len(),
        1
    );
    let linking = world
        .store
        .interaction(again.interaction)
        .await?
        .and_then(|i| i.linking)
        .expect("linking recorded");
    assert_eq!(linking.party.rule, "unconfirmed-claim");

    // An attested claim on one side only (a web form vouches, the stored
    // address is only asserted) is not enough either.
    let other = identity(
        IdentityKind::Email,
        "eero@example.fi",
        Assurance::ChannelAsserted,
    )?;
    let eero = world
        .receive(world.email, &other, "m2", Timestamp::now())
        .await?;
    let vouched = identity(
        IdentityKind::Email,
        "eero@example.fi",
        Assurance::HmacVerified,
    )?;
    let claimant = world
        .receive(world.webhook, &vouched, "w3", Timestamp::now())
        .await?;
    assert_ne!(claimant.party, eero.party);
    Ok(())
}

#[tokio::test]
async fn an_old_open_case_is_not_reused_outside_the_case_window() -> anyhow::Result<()> {
    let mut world = World::new().await?;
    world.options.case_window = Duration::from_secs(24 * 3600);
    let phone = identity(
        IdentityKind::Phone,
        "+358401234567",
        Assurance::ChannelAttested,
    )?;
    let old = world
        .receive(world.webhook, &phone, "w1", hours_ago(48))
        .await?;
    let new = world
        .receive(
            world.email,
            &identity(
                IdentityKind::Email,
                "x@example.fi",
                Assurance::ChannelAsserted,
            )?,
            "m1",
            Timestamp::now(),
        )
        .await?;
    assert_ne!(old.party, new.party);
    let recent = world
        .receive(world.webhook, &phone, "w2", Timestamp::now())
        .await?;
    assert_eq!(recent.party, old.party);
    // A new message on the same (webhook) channel but without thread keys
    // starts a new conversation; its party's case is two days quiet.
    assert_ne!(recent.case, old.case, "outside the window: a new case");
    Ok(())
}

#[tokio::test]
async fn merge_then_unmerge_restores_the_exact_state() -> anyhow::Result<()> {
    let world = World::new().await?;
    let aino_mail = identity(
        IdentityKind::Email,
        "aino@example.fi",
        Assurance::ChannelAsserted,
    )?
    .with_display_name("Aino Virtanen");
    let aino_phone = identity(
        IdentityKind::Phone,
        "+358401234567",
        Assurance::ChannelAsserted,
    )?;
    let a = world
        .receive(world.email, &aino_mail, "m1", Timestamp::now())
        .await?;
    world
        .receive(world.email, &aino_mail, "m2", Timestamp::now())
        .await?;
    let b = world
        .receive(world.webhook, &aino_phone, "w1", Timestamp::now())
        .await?;
    assert_ne!(a.party, b.party);
    let before_a = world.holdings(a.party).await?;
    let before_b = world.holdings(b.party).await?;

    let agent = AgentId::new();
    let record = merge(
        &world.store,
        MergeRequest {
            survivor: b.party,
            merged: vec![a.party],
            field_decisions: vec![FieldDecision {
                field: "display_name".into(),
                kept_from: a.party,
                reason: None,
            }],
            evidence: vec![MergeEvidence {
                identity: None,
                description: "confirmed on the phone".into(),
            }],
            decided_by: MergeDecider::Agent(agent),
        },
    )
    .await?;
    assert_eq!(record.moved.len(), 1);
    assert_eq!(record.moved[0].interactions.len(), 2);
    // Old ids resolve to the survivor; the survivor holds everything.
    let resolved = world.store.party(a.party).await?.expect("resolves");
    assert_eq!(resolved.id, b.party);
    assert_eq!(resolved.display_name.as_deref(), Some("Aino Virtanen"));
    let merged = world.holdings(b.party).await?;
    assert_eq!(merged.interactions.len(), 3);
    assert_eq!(merged.identities.len(), 2);
    assert!(world.store.party_identities(a.party).await?.is_empty());
    // A message after the merge stays with the survivor.
    let after = world
        .receive(world.email, &aino_mail, "m3", Timestamp::now())
        .await?;
    assert_eq!(after.party, b.party);
    // A second undo of a live merge is refused only after the first.
    let reverted = unmerge(&world.store, record.id).await?;
    assert!(reverted.reverted_at.is_some());
    assert!(matches!(
        unmerge(&world.store, record.id).await,
        Err(silta_pipeline::PipelineError::Conflict(_))
    ));

    assert_eq!(
        world.holdings(a.party).await?,
        before_a,
        "merged party restored"
    );
    let mut survivor = world.holdings(b.party).await?;
    // Only the message that arrived after the merge is new on the survivor.
    assert_eq!(survivor.interactions.len(), before_b.interactions.len() + 1);
    survivor
        .interactions
        .retain(|i| !i.starts_with(&after.interaction.to_string()));
    survivor.cases = before_b.cases.clone();
    assert_eq!(survivor, before_b, "survivor restored");
    assert_eq!(world.events_of_type("silta.party.merged").await?.len(), 1);
    assert_eq!(world.events_of_type("silta.party.unmerged").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_new_interaction_is_queued_for_every_back_office_in_its_commit() -> anyhow::Result<()> {
    let mut world = World::new().await?;
    world.options.backoffice_plugins = vec!["tryton".into(), "bottlecrm".into()];
    let aino = identity(
        IdentityKind::Email,
        "aino@example.fi",
        Assurance::ChannelAsserted,
    )?;
    let created = world
        .receive(world.email, &aino, "m1", Timestamp::now())
        .await?;
    let stored = world
        .store
        .interaction(created.interaction)
        .await?
        .expect("stored");
    assert_eq!(stored.enrichment, Some(silta_model::Enrichment::Pending));
    for plugin in ["tryton", "bottlecrm"] {
        let due = world.store.enrichment_due(plugin, i64::MAX, 10).await?;
        assert_eq!(due.len(), 1, "{plugin}");
        assert_eq!(due[0].interaction_id, created.interaction);
    }
    Ok(())
}
