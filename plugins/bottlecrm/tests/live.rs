//! Plugin `bottlecrm` in the real runtime against a real BottleCRM
//! (`silta_test_peers::Crm`, django-crm 0.9.0 on a free loopback port; needs
//! `tests/peers/install-crm.sh`). What the plugin writes is checked through
//! BottleCRM's own API.

use std::path::PathBuf;

use silta_plugin_test::contract::{Activity, Background, Ticket};
use silta_plugin_test::{Harness, PluginUnderTest};
use silta_runtime::{Error, PluginError};
use silta_sdk::model::{
    Assurance, BackofficeLink, Direction, Identity, IdentityKind, IdentityScope, InteractionId,
    NormalizeOptions, Timestamp,
};
use silta_test_peers::Crm;

/// A CRM with Aino in it (contact 1), and the plugin pointed at it.
async fn setup(create_contacts: bool) -> (Crm, PluginUnderTest) {
    let crm = Crm::start().expect("start the CRM");
    let aino = crm
        .create_contact("Aino", "Virtanen", "aino@example.fi", Some("+358401234567"))
        .expect("seed Aino");
    assert_eq!(aino, 1);
    let plugin = plugin(&crm, create_contacts).await;
    (crm, plugin)
}

async fn plugin(crm: &Crm, create_contacts: bool) -> PluginUnderTest {
    Harness::for_crate(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .secret("api-token", crm.token())
        .config("url", &crm.base_url())
        .config("create_contacts", &create_contacts.to_string())
        // Live: requests go to the CRM; without a file nothing is recorded.
        .record()
        .start()
        .await
}

fn identity(kind: IdentityKind, value: &str, name: Option<&str>) -> Identity {
    let mut identity = Identity::new(
        kind,
        value,
        IdentityScope::Global,
        Assurance::ChannelAsserted,
        &NormalizeOptions::default(),
    )
    .expect("a valid identity");
    identity.display_name = name.map(str::to_owned);
    identity
}

async fn lookup(plugin: &PluginUnderTest, identities: &[Identity]) -> Option<Background> {
    plugin.lookup_party(identities).await.expect("lookup")
}

fn contact_link(background: &Background) -> BackofficeLink {
    background.links[0].clone()
}

fn activity(interaction: InteractionId, link: BackofficeLink) -> Activity {
    Activity {
        interaction_id: interaction,
        case_id: None,
        party_links: vec![link],
        direction: Direction::Outbound,
        channel: "whatsapp".into(),
        occurred_at: Timestamp::parse_rfc3339("t", "2026-11-23T21:05:00Z").expect("time"),
        subject: None,
        text: "Your kettle ships tomorrow.".into(),
    }
}

fn ticket(link: BackofficeLink) -> Ticket {
    Ticket {
        remote_id: None,
        case_id: InteractionId::new().to_string(),
        party_links: vec![link],
        title: "Kettle not delivered".into(),
        description: "Ordered Monday, not arrived.".into(),
        status: "open".into(),
        priority: Some("urgent".into()),
    }
}

#[tokio::test]
async fn lookup_finds_contacts_by_email_and_phone_and_nobody_else() {
    let (_crm, plugin) = setup(false).await;
    let by_email = lookup(
        &plugin,
        &[identity(IdentityKind::Email, "AINO@example.fi", None)],
    )
    .await
    .expect("found by email");
    assert_eq!(by_email.display_name.as_deref(), Some("Aino Virtanen"));
    assert_eq!(contact_link(&by_email).remote_id, "1");
    let by_phone = lookup(
        &plugin,
        &[identity(IdentityKind::Phone, "+358 40 1234567", None)],
    )
    .await
    .expect("found by phone");
    assert_eq!(contact_link(&by_phone).remote_id, "1");
    // A substring of Aino's number and address is somebody else.
    assert_eq!(
        lookup(
            &plugin,
            &[identity(IdentityKind::Phone, "+35840123456", None)]
        )
        .await,
        None
    );
    assert_eq!(
        lookup(
            &plugin,
            &[identity(IdentityKind::Email, "ino@example.fi", None)]
        )
        .await,
        None
    );
}

#[tokio::test]
async fn create_contacts_makes_a_contact_for_a_stranger_once() {
    let (crm, plugin) = setup(true).await;
    // Another Aino: BottleCRM wants first names unique.
    let stranger = [
        identity(
            IdentityKind::Email,
            "aino.koski@example.fi",
            Some("Aino Koski"),
        ),
        identity(IdentityKind::Phone, "+358409876543", None),
    ];
    let created = lookup(&plugin, &stranger).await.expect("created");
    let id: u64 = contact_link(&created).remote_id.parse().expect("an id");
    let contact = crm.contact(id).expect("read").expect("exists");
    assert_eq!(contact.first_name, "Aino (aino.koski@example.fi)");
    assert_eq!(contact.last_name, "Koski");
    assert_eq!(contact.phone.as_deref(), Some("+358409876543"));

    let again = lookup(&plugin, &stranger).await.expect("found");
    assert_eq!(contact_link(&again).remote_id, id.to_string());
    assert_eq!(crm.contacts().expect("list").len(), 2, "no second contact");

    // Without a name nothing is created.
    let nameless = [identity(IdentityKind::Email, "anon@example.fi", None)];
    assert_eq!(lookup(&plugin, &nameless).await, None);
    assert_eq!(crm.contacts().expect("list").len(), 2);
}

#[tokio::test]
async fn an_activity_shows_on_the_contact_once() {
    let (crm, plugin) = setup(false).await;
    let aino = lookup(
        &plugin,
        &[identity(IdentityKind::Email, "aino@example.fi", None)],
    )
    .await
    .expect("found");
    let interaction = InteractionId::new();
    let recorded = plugin
        .record_activity(&activity(interaction, contact_link(&aino)))
        .await
        .expect("recorded");
    let comments = crm.comments(1).expect("comments");
    assert_eq!(comments.len(), 1);
    let text = &comments[0].comment;
    assert!(
        text.starts_with("Outbound whatsapp, 2026-11-23 21:05 UTC\n"),
        "{text}"
    );
    assert!(text.contains("Your kettle ships tomorrow."), "{text}");
    assert!(text.ends_with(&format!("[silta {interaction}]")), "{text}");
    assert_eq!(recorded.remote_id, comments[0].id.to_string());

    let retried = plugin
        .record_activity(&activity(interaction, contact_link(&aino)))
        .await
        .expect("retried");
    assert_eq!(retried.remote_id, recorded.remote_id);
    assert_eq!(crm.comments(1).expect("comments").len(), 1);
}

#[tokio::test]
async fn a_ticket_becomes_a_case_and_follows_its_status() {
    let (crm, plugin) = setup(false).await;
    let aino = lookup(
        &plugin,
        &[identity(IdentityKind::Email, "aino@example.fi", None)],
    )
    .await
    .expect("found");
    let mut ticket = ticket(contact_link(&aino));
    let created = plugin.upsert_ticket(&ticket).await.expect("created");
    let id: u64 = created.remote_id.parse().expect("an id");
    let case = crm.case(id).expect("cases").expect("listed");
    assert_eq!(case.name, "Kettle not delivered");
    assert_eq!(
        (case.status.as_str(), case.priority.as_str()),
        ("New", "Urgent")
    );
    assert_eq!(case.case_type, "Question");
    assert_eq!(case.contact_ids, vec![1]);
    assert!(
        case.description
            .starts_with("Ordered Monday, not arrived.\n\n[silta case ")
    );

    // A second ticket with the same title gets a tagged name.
    let twin = plugin
        .upsert_ticket(&self::ticket(contact_link(&aino)))
        .await
        .expect("twin created");
    let twin = crm
        .case(twin.remote_id.parse().expect("id"))
        .expect("cases")
        .expect("listed");
    assert!(
        twin.name.starts_with("Kettle not delivered #"),
        "{}",
        twin.name
    );

    ticket.remote_id = Some(created.remote_id.clone());
    ticket.status = "pending".into();
    ticket.priority = None;
    plugin.upsert_ticket(&ticket).await.expect("pending");
    let case = crm.case(id).expect("cases").expect("listed");
    assert_eq!(
        (case.status.as_str(), case.priority.as_str()),
        ("Pending", "Urgent")
    );

    ticket.status = "closed".into();
    let closed = plugin.upsert_ticket(&ticket).await.expect("closed");
    assert_eq!(closed.snapshot["status"], "Closed");
    let case = crm.case(id).expect("cases").expect("listed");
    assert_eq!(case.status, "Closed");
    assert_eq!(case.closed_on, closed.snapshot["closed_on"]);
    assert_eq!(crm.cases().expect("cases").len(), 2);

    // A case deleted in BottleCRM (here: never there) is permanent.
    ticket.remote_id = Some("999".into());
    match plugin.upsert_ticket(&ticket).await {
        Err(Error::Plugin {
            error: PluginError::Permanent(reason),
            ..
        }) => assert!(reason.contains("999"), "{reason}"),
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stopped_crm_is_retryable() {
    let (mut crm, plugin) = setup(false).await;
    let aino = [identity(IdentityKind::Email, "aino@example.fi", None)];
    crm.stop().expect("stop the CRM");
    match plugin.lookup_party(&aino).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { message, .. },
            ..
        }) => assert!(message.contains("127.0.0.1"), "{message}"),
        other => panic!("expected retryable, got {other:?}"),
    }
    crm.start_again().expect("start it again");
    assert!(lookup(&plugin, &aino).await.is_some());
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let crm = Crm::start().expect("start the CRM");
    let plugin = Harness::for_crate(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .secret(
            "api-token",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.forged",
        )
        .config("url", &crm.base_url())
        .record()
        .start()
        .await;
    let refused = plugin
        .lookup_party(&[identity(IdentityKind::Email, "aino@example.fi", None)])
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Plugin {
                error: PluginError::Unauthorized(_),
                ..
            })
        ),
        "{refused:?}"
    );
}
