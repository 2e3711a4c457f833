//! Golden fixtures: every `tests/fixtures/<group>/NAME.eml` beside the
//! normalized JSON it must produce (`NAME.json`, the `silta_sdk::json`
//! rendering of `mapping::normalize`'s result). Groups are by provenance:
//! `rfc/`, `clients/`, `charsets/`, `attachments/`, `dsn/`,
//! `auto-replies/`, `malformed/`. Every message must normalize, except the
//! `malformed/unreadable-*` ones, which must give a bad-input error with a
//! reason.
//!
//! `BLESS=1 cargo test -p silta-plugin-email --test golden` rewrites the
//! expected files; review the diff before committing it.

use std::path::{Path, PathBuf};

use silta_plugin_email::mapping::{self, Settings};
use silta_sdk::json::to_pretty_string;
use silta_sdk::types::{
    Assurance, DeliveryState, ImapMeta, InboundEvent, Interaction, InteractionKind, Normalized,
    Part, SenderRole, ThreadKey, Timestamp, TransportMeta,
};

/// The channel account every fixture arrives on.
const CHANNEL_ACCOUNT: &str = "01890a5d-ac96-7000-8000-00000000c0de";

/// When every fixture arrived: 2026-11-23T20:00:00Z.
const RECEIVED_AT: Timestamp = Timestamp {
    seconds: 1_795_464_000,
    nanoseconds: 0,
};

/// Our address, as the operator configures it.
const OUR_ADDRESS: &str = "support@example.test";

const GROUPS: &[&str] = &[
    "rfc",
    "clients",
    "charsets",
    "attachments",
    "dsn",
    "auto-replies",
    "malformed",
];

fn event(body: Vec<u8>) -> InboundEvent {
    InboundEvent {
        channel_account: CHANNEL_ACCOUNT.to_owned(),
        received_at: RECEIVED_AT,
        transport: TransportMeta::Imap(ImapMeta {
            mailbox: "INBOX".to_owned(),
            uid_validity: 1_700_000_000,
            uid: 42,
            flags: vec!["\\Recent".to_owned()],
        }),
        body,
    }
}

fn settings() -> Settings {
    Settings {
        address: Some(OUR_ADDRESS.to_owned()),
    }
}

fn normalize(body: Vec<u8>) -> Result<Vec<Normalized>, silta_sdk::PluginError> {
    mapping::normalize(&event(body), &settings())
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `.eml` fixtures of a group, sorted.
fn fixtures(group: &str) -> Vec<PathBuf> {
    let dir = fixtures_dir().join(group);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
}

fn unreadable(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("unreadable-"))
}

fn fixture(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn every_fixture_normalizes_as_expected() {
    let mut count = 0;
    for group in GROUPS {
        let paths = fixtures(group);
        assert!(
            paths.len() >= 5,
            "only {} fixtures in {group}/",
            paths.len()
        );
        count += paths.len();
        silta_plugin_test::golden::assert_all(paths.iter().map(|path| {
            let body = std::fs::read(path).expect("read fixture");
            let result = normalize(body);
            match (&result, unreadable(path)) {
                (Ok(_), false) => {}
                (Err(error), true) => {
                    assert_eq!(error.kind(), "bad-input", "{}", path.display());
                    assert!(!error.message().is_empty(), "{}: no reason", path.display());
                }
                (other, _) => panic!("{}: unexpected {other:?}", path.display()),
            }
            silta_plugin_test::golden::check(
                &path.with_extension("json"),
                &to_pretty_string(&result),
            )
            .map_err(|message| format!("{}: {message}", path.display()))
        }));
    }
    assert!(count >= 40, "only {count} fixtures");
}

#[test]
fn the_same_message_normalizes_the_same_way_twice() {
    for group in GROUPS {
        for path in fixtures(group) {
            let body = std::fs::read(&path).expect("read fixture");
            assert_eq!(
                normalize(body.clone()),
                normalize(body),
                "{} is not deterministic",
                path.display()
            );
        }
    }
}

fn interaction(relative: &str) -> Interaction {
    match normalize(fixture(relative)).as_deref() {
        Ok([Normalized::Interaction(interaction)]) => interaction.clone(),
        other => panic!("{relative}: expected one interaction, got {other:?}"),
    }
}

fn keys(interaction: &Interaction) -> Vec<ThreadKey> {
    interaction.thread_keys.clone()
}

/// The id of the message Silta sent that the client fixtures reply to.
const OURS: &str = "01890a5d-ac96-7000-8000-0000000000a1@example.test";
const OURS2: &str = "01890a5d-ac96-7000-8000-0000000000b2@example.test";

#[test]
fn replies_thread_by_their_headers_and_reply_tokens() {
    let gmail = interaction("clients/gmail-reply-top-posted.eml");
    assert_eq!(
        gmail.provider_message_id,
        "CAF3x9QnX4e1q0Vb8@mail.gmail.com"
    );
    assert!(keys(&gmail).contains(&ThreadKey::InReplyTo(OURS.into())));
    assert!(keys(&gmail).contains(&ThreadKey::References(OURS.into())));
    assert!(keys(&gmail).contains(&ThreadKey::ReplyToken("q7k2m9x4".into())));
    assert_eq!(
        gmail.parts.first(),
        Some(&Part::Text("Kiitos! Paketti tuli tänään.\n\nAino".into()))
    );
    assert!(matches!(gmail.parts.get(1), Some(Part::Quoted(q)) if q.contains("pahoittelemme")));

    // Outlook: only References, and the history in a Finnish header block.
    let outlook = interaction("clients/outlook-references-only-reply.eml");
    assert_eq!(
        keys(&outlook)
            .into_iter()
            .filter(|k| !matches!(k, ThreadKey::MessageId(_)))
            .collect::<Vec<_>>(),
        [ThreadKey::References(OURS2.into())]
    );
    assert!(matches!(outlook.parts.get(1), Some(Part::Quoted(q)) if q.starts_with("Lähettäjä:")));

    // A changed subject still threads by In-Reply-To, References and token.
    let apple = interaction("clients/apple-mail-reply-changed-subject.eml");
    assert_eq!(apple.subject.as_deref(), Some("Uusi osoite toimitukselle"));
    assert!(keys(&apple).contains(&ThreadKey::InReplyTo(OURS.into())));
    assert!(keys(&apple).contains(&ThreadKey::ReplyToken("a1b2c3d4".into())));

    // A message Silta never saw: keys for the host to match (or not).
    let unknown = interaction("clients/thunderbird-quotes-unknown-message.eml");
    assert!(keys(&unknown).contains(&ThreadKey::InReplyTo("never-seen-2@example.org".into())));
    assert!(keys(&unknown).contains(&ThreadKey::References(
        "never-seen-1@lists.example.org".into()
    )));

    // The token in Cc counts too.
    let cc = interaction("clients/outlook-cc-reply-token.eml");
    assert!(keys(&cc).contains(&ThreadKey::ReplyToken("c0ffee42".into())));
}

#[test]
fn the_same_subject_from_someone_else_does_not_thread() {
    let other = interaction("clients/gmail-same-subject-different-sender.eml");
    assert_eq!(
        keys(&other),
        [ThreadKey::MessageId(
            "CAB9z8Yx7Wv6Ut5Sr4Qp3On2Ml1Kj0Ih@mail.gmail.com".into()
        )]
    );
}

#[test]
fn finnish_text_comes_out_right_in_every_charset() {
    let expected =
        "Hyvää päivää! Äänitiedoston lähetys epäonnistui, öljynvaihto on tehty ja Åbo on Turku.";
    for name in [
        "iso-8859-1-quoted-printable",
        "iso-8859-1-8bit",
        "iso-8859-15-8bit",
        "windows-1252-quoted-printable",
        "windows-1252-base64",
        "windows-1252-declared-as-latin-1",
        "utf-8-base64",
        "utf-8-8bit",
        "utf-8-quoted-printable-soft-breaks",
    ] {
        let message = interaction(&format!("charsets/{name}.eml"));
        let Some(Part::Text(text)) = message.parts.first() else {
            panic!("{name}: no text part: {:?}", message.parts);
        };
        assert!(text.starts_with(expected), "{name}: {text:?}");
    }
    let cp1252 = interaction("charsets/windows-1252-base64.eml");
    assert!(matches!(cp1252.parts.first(), Some(Part::Text(t)) if t.contains("25 € – ”hyvä”")));
    let q = interaction("charsets/encoded-words-q.eml");
    assert_eq!(q.subject.as_deref(), Some("Käyttäjätunnus lukittu"));
    assert_eq!(q.sender.display_name.as_deref(), Some("Seppo Järvinen"));
    let b = interaction("charsets/encoded-words-b.eml");
    assert_eq!(
        b.subject.as_deref(),
        Some("Lasku maksettu kahteen kertaan – palautus €")
    );
    assert_eq!(b.sender.display_name.as_deref(), Some("Äilä Kärkkäinen"));
}

#[test]
fn bounces_are_delivery_updates_about_the_original() {
    let updates = |relative: &str| match normalize(fixture(relative)) {
        Ok(out) => out
            .into_iter()
            .map(|n| match n {
                Normalized::DeliveryUpdate(update) => update,
                Normalized::Interaction(i) => panic!("{relative}: an interaction {i:?}"),
            })
            .collect::<Vec<_>>(),
        Err(error) => panic!("{relative}: {error:?}"),
    };
    let postfix = updates("dsn/postfix-user-unknown.eml");
    assert_eq!(postfix.len(), 1);
    assert_eq!(postfix[0].provider_message_id, OURS);
    assert_eq!(postfix[0].state, DeliveryState::Bounced);
    assert_eq!(postfix[0].provider_code.as_deref(), Some("5.1.1"));
    let exchange = updates("dsn/exchange-ndr-message-rfc822.eml");
    assert_eq!(
        exchange[0].provider_message_id,
        "01890a5d-ac96-7000-8000-0000000000c3@example.test"
    );
    assert_eq!(exchange[0].provider_code.as_deref(), Some("5.1.10"));
    let envelope = updates("dsn/mailbox-full-envelope-id.eml");
    assert_eq!(
        envelope[0].provider_message_id,
        "01890a5d-ac96-7000-8000-0000000000d4@example.test"
    );
    assert!(updates("dsn/delayed-warning.eml").is_empty());
    let two = updates("dsn/two-recipients-one-failed.eml");
    let states: Vec<DeliveryState> = two.iter().map(|u| u.state).collect();
    assert_eq!(states, [DeliveryState::Bounced, DeliveryState::Delivered]);

    let unmatched = interaction("dsn/report-without-original.eml");
    assert_ne!(unmatched.sender_role, SenderRole::Customer);
}

#[test]
fn automatic_messages_are_never_customer_messages() {
    for path in fixtures("auto-replies") {
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let relative = format!("auto-replies/{name}.eml");
        let message = interaction(&relative);
        let automatic = message
            .attributes
            .contains(&("email.auto_reply".to_owned(), "true".to_owned()));
        if name == "auto-submitted-no-is-a-customer" {
            assert!(!automatic, "{name}");
            assert_eq!(message.kind, InteractionKind::Message);
            assert_eq!(message.sender_role, SenderRole::Customer);
        } else {
            assert!(automatic, "{name}");
            assert_eq!(message.kind, InteractionKind::Event, "{name}");
            assert_eq!(message.sender_role, SenderRole::System, "{name}");
        }
    }
    let ooo = interaction("auto-replies/rfc3834-out-of-office-finnish.eml");
    assert!(keys(&ooo).contains(&ThreadKey::InReplyTo(OURS.into())));
}

#[test]
fn attachments_are_referenced_by_content_hash() {
    let cid = interaction("attachments/inline-image-cid.eml");
    let image = cid
        .parts
        .iter()
        .find_map(|p| match p {
            Part::Attachment(a) => Some(a.clone()),
            _ => None,
        })
        .expect("the image");
    assert_eq!(image.media_type, "image/png");
    assert_eq!(image.content_id.as_deref(), Some("ii_lq1x2y3z0"));
    assert!(image.inline);
    assert!(
        image
            .content_hash
            .as_deref()
            .is_some_and(|h| h.starts_with("sha256:"))
    );
    assert!(
        cid.parts
            .iter()
            .any(|p| matches!(p, Part::Html(h) if h.contains("cid:ii_lq1x2y3z0")))
    );
    let named = interaction("attachments/rfc2231-filename.eml");
    let names: Vec<Option<String>> = named
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Attachment(a) => Some(a.filename.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            Some("Sopimus Äänekoski 2026.pdf".to_owned()),
            Some("Liite öljy.docx".to_owned())
        ]
    );
}

#[test]
fn a_25_mb_message_carries_its_attachment_bytes() {
    let raw = silta_plugin_test::samples::large_email();
    assert!(raw.len() >= 25 * 1024 * 1024, "{} bytes", raw.len());
    let out = normalize(raw).expect("normalizes");
    let [Normalized::Interaction(message)] = out.as_slice() else {
        panic!("one interaction: {out:?}");
    };
    let attachment = message
        .parts
        .iter()
        .find_map(|p| match p {
            Part::Attachment(a) => Some(a),
            _ => None,
        })
        .expect("the attachment");
    let content = attachment.content.as_deref().expect("the bytes travel");
    assert!(content.len() > 18 * 1024 * 1024, "{} bytes", content.len());
    assert_eq!(attachment.size_bytes, u64::try_from(content.len()).ok());
    assert_eq!(
        attachment.content_hash.as_deref(),
        Some(silta_plugin_email::ids::content_hash(content).as_str())
    );
}

#[test]
fn reply_to_names_where_answers_go_but_never_us() {
    let form = interaction("clients/web-form-reply-to.eml");
    assert_eq!(form.sender.value, "no-reply@forms.example.com");
    let headers = form.email.expect("email headers");
    let reply_to: Vec<(&str, Option<&str>)> = headers
        .reply_to
        .iter()
        .map(|i| (i.value.as_str(), i.display_name.as_deref()))
        .collect();
    assert_eq!(
        reply_to,
        [("Anna.Lindqvist@customer.test", Some("Anna Lindqvist"))],
        "the customer, domain lowered; our own plus address left out"
    );
    assert!(
        headers
            .reply_to
            .iter()
            .all(|i| i.assurance == Assurance::ChannelAsserted)
    );
}

#[test]
fn eight_bit_mail_that_is_not_the_utf8_it_claims_reads_as_windows_1252() {
    let raw = interaction("charsets/legacy-8bit-headers-and-mislabelled-utf8-body.eml");
    assert_eq!(raw.subject.as_deref(), Some("Pyörän takuu – kysymys"));
    assert_eq!(raw.sender.display_name.as_deref(), Some("Järvinen Päivi"));
    assert!(
        matches!(raw.parts.first(), Some(Part::Text(t)) if t.contains("pyöräni takuu päättyi") && t.contains("499 €")),
        "{:?}",
        raw.parts
    );
    let labelled = interaction("charsets/us-ascii-label-windows-1252-parts.eml");
    let texts: Vec<&str> = labelled
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) | Part::Html(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    for text in texts {
        assert!(text.contains("Lähetys myöhässä – milloin"), "{text}");
        assert!(!text.contains('\u{FFFD}'), "{text}");
    }
}
