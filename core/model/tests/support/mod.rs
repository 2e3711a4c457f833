//! Sample records shared by the integration tests: one of each top-level
//! type, with every optional field filled in so round-trips cover them.

#![allow(dead_code)]

use std::collections::BTreeMap;

use silta_model::{
    AgentId, AgentPresence, Assurance, Attachment, BackofficeLink, Case, CaseId, CaseStatus,
    ChannelAccount, ChannelAccountId, ChannelWindow, Consent, ConsentStatus, ContentHash,
    Conversation, ConversationId, DeliveryEvent, DeliveryState, DeliveryUpdate, Direction,
    EmailHeaders, FieldDecision, IdempotencyKey, Identity, IdentityId, IdentityKey, IdentityKind,
    IdentityScope, Interaction, InteractionId, InteractionKind, InteractiveReply, LanguageTag,
    Location, MergeDecider, MergeEvidence, MergeId, MergeRecord, NormalizeOptions, Part, Party,
    PartyRecords, PartyStatus, PresenceStatus, Provenance, RateLimit, Reaction, Region, SenderRole,
    SlaClock, SlaPolicy, SlaPolicyId, Template, ThreadKey, Timestamp, WorkItem, WorkItemId,
};

pub fn at(seconds: u64) -> Timestamp {
    Timestamp::from_unix("at", seconds, 123_000_000).expect("in range")
}

pub fn finnish() -> NormalizeOptions {
    NormalizeOptions {
        default_region: Some(Region::FI),
    }
}

pub fn email_key(raw: &str) -> IdentityKey {
    IdentityKey::new(
        IdentityKind::Email,
        raw,
        IdentityScope::Global,
        &NormalizeOptions::default(),
    )
    .expect("valid email")
}

pub fn party() -> Party {
    let mut party = Party::new(at(1_795_000_000));
    party.display_name = Some("Aino Virtanen".into());
    party.names.given = Some("Aino".into());
    party.names.family = Some("Virtanen".into());
    party.languages = vec![
        LanguageTag::parse("languages[0]", "fi").expect("valid"),
        LanguageTag::parse("languages[1]", "sv-fi").expect("valid"),
    ];
    party.organization_refs = vec!["tryton:party.party:42".into()];
    party.set_attribute(
        "customer_tier",
        serde_json::json!({"tier": "gold", "since": 2019}),
        "tryton",
        at(1_795_000_100),
    );
    party
}

pub fn identity() -> Identity {
    let mut identity = Identity::new(
        IdentityKind::Whatsapp,
        "358401234567",
        IdentityScope::Global,
        Assurance::ChannelAttested,
        &finnish(),
    )
    .expect("valid whatsapp id")
    .with_display_name("Aino");
    identity.consent = Some(Consent {
        status: ConsentStatus::Granted,
        basis: Some("opt-in via web form".into()),
        at: at(1_794_000_000),
    });
    identity.window = Some(ChannelWindow {
        open_until: Some(at(1_795_086_400)),
    });
    identity.party_id = Some(party().id);
    identity
}

pub fn channel_account() -> ChannelAccount {
    ChannelAccount {
        id: ChannelAccountId::new(),
        name: "Support mailbox".into(),
        channel: "email".into(),
        plugin_id: "silta.email".into(),
        address: Some("support@example.fi".into()),
        limits: Some(RateLimit {
            per_second: 0.5,
            burst: 10,
        }),
    }
}

pub fn backoffice_link() -> BackofficeLink {
    BackofficeLink {
        system: "tryton".into(),
        object_type: "project.work".into(),
        remote_id: "T-1001".into(),
        url: Some("https://erp.example.fi/#work/1001".into()),
        snapshot: BTreeMap::from([
            ("state".to_owned(), "open".to_owned()),
            ("owner".to_owned(), "Matti".to_owned()),
        ]),
        fetched_at: Some(at(1_795_000_200)),
        expires_at: Some(at(1_795_000_500)),
    }
}

pub fn sla_policy() -> SlaPolicy {
    SlaPolicy {
        id: SlaPolicyId::new(),
        name: "Standard".into(),
        first_response_seconds: 3600,
        resolution_seconds: 3 * 86_400,
    }
}

pub fn case() -> Case {
    let mut sla = SlaClock::start(&sla_policy(), at(1_795_000_000)).expect("in range");
    sla.first_responded_at = Some(at(1_795_000_900));
    sla.paused_since = Some(at(1_795_001_000));
    Case {
        id: CaseId::new(),
        party_id: party().id,
        status: CaseStatus::Pending,
        subject: Some("Laskun eräpäivä".into()),
        opened_at: at(1_795_000_000),
        closed_at: Some(at(1_795_100_000)),
        sla: Some(sla),
        backoffice_ticket: Some(backoffice_link()),
        conversation_ids: vec![ConversationId::new(), ConversationId::new()],
        last_activity_at: None,
        last_inbound_channel: None,
        last_outbound_channel: None,
    }
}

pub fn conversation() -> Conversation {
    Conversation {
        id: ConversationId::new(),
        channel_account_id: ChannelAccountId::new(),
        party_id: party().id,
        case_id: Some(CaseId::new()),
        thread_keys: vec![
            ThreadKey::MessageId("<m1@example.fi>".into()),
            ThreadKey::ReplyToken("rt-8f2".into()),
        ],
        threading_reason: Some("in_reply_to matched <m1@example.fi>".into()),
        subject: Some("Re: Lasku".into()),
        opened_at: at(1_795_000_000),
        last_activity_at: at(1_795_000_300),
    }
}

/// An interaction with one part of every kind and every optional field set.
pub fn interaction() -> Interaction {
    let account = ChannelAccountId::new();
    Interaction {
        id: InteractionId::new(),
        kind: InteractionKind::Message,
        direction: Direction::Outbound,
        sender_role: SenderRole::Agent,
        sender: email_key("support@example.fi"),
        recipients: vec![
            email_key("Aino.Virtanen@Example.FI"),
            IdentityKey::new(
                IdentityKind::Phone,
                "040 123 4567",
                IdentityScope::Global,
                &finnish(),
            )
            .expect("valid phone"),
            IdentityKey::new(
                IdentityKind::Messenger,
                "6543210987",
                IdentityScope::ChannelAccount(account.to_string()),
                &NormalizeOptions::default(),
            )
            .expect("valid psid"),
        ],
        conversation_id: Some(ConversationId::new()),
        case_id: Some(CaseId::new()),
        party_id: Some(party().id),
        subject: Some("Re: Lasku".into()),
        parts: vec![
            Part::Text("Hei Aino, lasku on liitteenä.".into()),
            Part::Html("<p>Hei Aino, lasku on liitteenä.</p>".into()),
            Part::Quoted("> Missä laskuni on?".into()),
            Part::Attachment(Attachment {
                filename: Some("lasku.pdf".into()),
                media_type: "application/pdf".into(),
                size_bytes: Some(3),
                content_hash: Some(ContentHash::of(b"pdf")),
                url: Some("https://files.example.fi/lasku.pdf".into()),
                content_id: Some("<logo@example.fi>".into()),
                inline: true,
            }),
            Part::Location(Location {
                latitude: 60.1699,
                longitude: 24.9384,
                name: Some("Helsinki".into()),
                address: Some("Mannerheimintie 1".into()),
            }),
            Part::Interactive(InteractiveReply {
                id: "pay_now".into(),
                title: "Maksa nyt".into(),
            }),
            Part::Template(Template {
                name: "invoice_reminder".into(),
                language: LanguageTag::parse("template.language", "fi").expect("valid"),
                parameters: vec!["Aino".into(), "42,00 €".into()],
            }),
            Part::Reaction(Reaction {
                emoji: "👍".into(),
                provider_message_id: "wamid.HBgL".into(),
            }),
        ],
        email: Some(EmailHeaders {
            message_id: Some("<m2@example.fi>".into()),
            in_reply_to: vec!["<m1@example.fi>".into()],
            references: vec!["<m0@example.fi>".into(), "<m1@example.fi>".into()],
            subject: Some("Re: Lasku".into()),
            auto_submitted: Some("no".into()),
            reply_to: vec![
                IdentityKey::new(
                    IdentityKind::Email,
                    "aino.koti@example.fi",
                    IdentityScope::Global,
                    &NormalizeOptions::default(),
                )
                .expect("valid"),
            ],
        }),
        thread_keys: vec![
            ThreadKey::MessageId("<m2@example.fi>".into()),
            ThreadKey::InReplyTo("<m1@example.fi>".into()),
            ThreadKey::References("<m0@example.fi>".into()),
            ThreadKey::ReplyToken("rt-8f2".into()),
            ThreadKey::ProviderThread("thread-77".into()),
            ThreadKey::ReplyToProviderMessage("wamid.HBgK".into()),
        ],
        occurred_at: at(1_795_000_300),
        received_at: at(1_795_000_301),
        delivery: vec![
            DeliveryEvent {
                state: DeliveryState::Sent,
                provider_code: Some("250".into()),
                detail: Some("2.0.0 Ok: queued".into()),
                at: at(1_795_000_302),
                attempt: 1,
                provider_message_id: None,
            },
            DeliveryEvent {
                state: DeliveryState::Bounced,
                provider_code: Some("5.1.1".into()),
                detail: Some("mailbox unknown".into()),
                at: at(1_795_000_400),
                attempt: 1,
                provider_message_id: None,
            },
        ],
        provenance: Provenance {
            plugin_id: "silta.email".into(),
            plugin_version: "0.1.0".into(),
            provider: "smtp".into(),
            provider_message_id: "<m2@example.fi>".into(),
            raw_blob_ref: Some(ContentHash::of(b"raw").to_string()),
        },
        idempotency_key: IdempotencyKey::new(account, "smtp", "<m2/x@example.fi>")
            .expect("valid key"),
        threading_reason: Some("reply to <m1@example.fi>".into()),
        attributes: BTreeMap::from([("smtp.queue_id".to_owned(), "4F2A1".to_owned())]),
        linking: None,
        enrichment: None,
        backoffice_links: Vec::new(),
    }
}

pub fn merge_record() -> MergeRecord {
    MergeRecord {
        id: MergeId::new(),
        survivor: party().id,
        merged: vec![party().id],
        moved: vec![PartyRecords {
            party: Some(party().id),
            identities: vec![IdentityId::new()],
            conversations: vec![ConversationId::new()],
            interactions: vec![InteractionId::new(), InteractionId::new()],
            cases: vec![],
            links: vec![],
        }],
        survivor_before: None,
        field_decisions: vec![FieldDecision {
            field: "display_name".into(),
            kept_from: party().id,
            reason: Some("newer".into()),
        }],
        evidence: vec![MergeEvidence {
            identity: Some(email_key("aino@example.fi")),
            description: "both parties hold the same attested address".into(),
        }],
        rule: "attested-identity-match".into(),
        decided_by: MergeDecider::Agent(AgentId::new()),
        at: at(1_795_000_600),
        reverted_at: Some(at(1_795_000_700)),
    }
}

pub fn delivery_update() -> DeliveryUpdate {
    DeliveryUpdate {
        provider_message_id: "wamid.HBgL".into(),
        state: DeliveryState::Read,
        provider_code: Some("read".into()),
        detail: Some("seen on device".into()),
        at: at(1_795_000_800),
    }
}

pub fn work_item() -> WorkItem {
    WorkItem {
        id: WorkItemId::new(),
        case_id: CaseId::new(),
        queue: "support-fi".into(),
        priority: 5,
        created_at: at(1_795_000_000),
        assigned_to: Some(AgentId::new()),
    }
}

pub fn agent_presence() -> AgentPresence {
    AgentPresence {
        agent_id: AgentId::new(),
        status: PresenceStatus::Available,
        capacity: BTreeMap::from([("email".to_owned(), 5), ("whatsapp".to_owned(), 3)]),
        updated_at: at(1_795_000_000),
    }
}

pub fn merged_party() -> Party {
    let mut party = party();
    party.status = PartyStatus::Merged;
    party.merged_into = Some(party.id);
    party
}
