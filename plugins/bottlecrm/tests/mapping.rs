//! The pure translation, natively, against answers recorded from a real
//! BottleCRM (`tests/fixtures/answers/`), including malformed ones.

mod support;

use serde_json::json;
use silta_plugin_bottlecrm::mapping::{case, comment, contact, contact_ids, reply};
use silta_sdk::types::{Assurance, Direction, IdentityKind, IdentityScope};
use support::*;

// === contacts ===

#[test]
fn a_search_answer_reads_and_matches_exactly() {
    let contacts = contact::from_list(&fixture_json("contact-search-email.json")).unwrap();
    // BottleCRM's search matches substrings: kaino@ comes back for aino@.
    assert_eq!(contacts.len(), 2);
    let exact: Vec<u64> = contacts
        .iter()
        .filter(|c| c.has_email("AINO@example.fi"))
        .map(|c| c.id)
        .collect();
    assert_eq!(exact, vec![1]);
    let aino = &contacts[1];
    assert!(aino.has_phone("+358401234567"));
    assert!(!aino.has_phone("+35840123456"));
    assert!(
        contact::from_list(&fixture_json("contact-search-empty.json"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_contact_becomes_the_partys_background() {
    let aino = contact::from_detail(&fixture_json("contact-detail.json")).unwrap();
    let background = contact::background(&aino, &settings(false));
    assert_eq!(background.display_name.as_deref(), Some("Aino Virtanen"));
    let ids: Vec<(IdentityKind, &str, IdentityScope, Assurance)> = background
        .identities
        .iter()
        .map(|i| {
            (
                i.kind.clone(),
                i.value.as_str(),
                i.scope.clone(),
                i.assurance,
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            (
                IdentityKind::CrmContact,
                "1",
                IdentityScope::App("bottlecrm".into()),
                Assurance::ChannelAttested
            ),
            (
                IdentityKind::Email,
                "aino@example.fi",
                IdentityScope::Global,
                Assurance::ChannelAttested
            ),
            (
                IdentityKind::Phone,
                "+358401234567",
                IdentityScope::Global,
                Assurance::ChannelAttested
            ),
        ]
    );
    let link = &background.links[0];
    assert_eq!(
        (
            link.system.as_str(),
            link.object_type.as_str(),
            link.remote_id.as_str()
        ),
        ("bottlecrm", "contact", "1")
    );
    assert_eq!(
        link.url.as_deref(),
        Some("http://127.0.0.1:18001/api/contacts/1/")
    );
    let snapshot: std::collections::BTreeMap<_, _> = link.snapshot.iter().cloned().collect();
    assert_eq!(snapshot["name"], "Aino Virtanen");
    assert_eq!(snapshot["city"], "Helsinki");
    assert_eq!(snapshot["country"], "FI");
    assert_eq!(snapshot["address"], "Mannerheimintie 1, Helsinki, 00100");
    assert_eq!(snapshot["description"], "VIP customer");
    assert!(!snapshot.contains_key("assigned_to"));
    assert_eq!(
        background.attributes,
        vec![("contact_id".to_owned(), "1".to_owned())]
    );
}

#[test]
fn unusable_values_from_the_crm_are_left_out() {
    let odd = contact::from_detail(&json!({"contact_obj": {
        "id": 9, "first_name": "Odd", "last_name": "-", "email": "not-an-email",
        "phone": "12345", "address": null, "assigned_to": [{"email": "agent@example.test"}]
    }}))
    .unwrap();
    let background = contact::background(&odd, &settings(false));
    assert_eq!(background.display_name.as_deref(), Some("Odd"));
    assert_eq!(
        background.identities.len(),
        1,
        "{:?}",
        background.identities
    );
    assert_eq!(
        background.attributes[1],
        ("assigned_to".to_owned(), "agent@example.test".to_owned())
    );
}

#[test]
fn malformed_contact_answers_are_bad_input() {
    for value in [
        json!({}),
        json!({"contact_obj_list": "nope"}),
        json!({"contact_obj_list": [{"first_name": "no id"}]}),
        json!({"contact_obj_list": [{"id": "1"}]}),
        json!({"contact_obj_list": [{"id": 1, "email": 5}]}),
    ] {
        let error = contact::from_list(&value).unwrap_err();
        assert_eq!(error.kind(), "bad-input", "{value}");
        assert!(error.message().contains("contact_obj_list"), "{error:?}");
    }
    assert_eq!(
        contact::from_detail(&json!([])).unwrap_err().kind(),
        "bad-input"
    );
}

#[test]
fn a_new_contact_needs_a_name_and_an_email() {
    let named = |kind, value: &str, name: Option<&str>| {
        let mut i = identity(kind, value);
        i.display_name = name.map(str::to_owned);
        i
    };
    let new = contact::NewContact::from_identities(&[
        named(
            IdentityKind::Phone,
            "+358401234567",
            Some("  Aino  Maria Virtanen "),
        ),
        named(IdentityKind::Email, "aino@example.fi", None),
    ])
    .unwrap();
    assert_eq!(
        (
            new.first_name.as_str(),
            new.last_name.as_str(),
            new.email.as_str()
        ),
        ("Aino Maria", "Virtanen", "aino@example.fi")
    );
    assert_eq!(new.phone.as_deref(), Some("+358401234567"));
    assert_eq!(
        new.body(),
        json!({"first_name": "Aino Maria", "last_name": "Virtanen", "email": "aino@example.fi",
               "phone": "+358401234567", "description": "Created by Silta."})
    );
    assert_eq!(
        new.with_unique_first_name().first_name,
        "Aino Maria (aino@example.fi)"
    );
    assert_eq!(new.without_phone().body().get("phone"), None);

    let single = contact::NewContact::from_identities(&[named(
        IdentityKind::Email,
        "cher@example.fi",
        Some("Cher"),
    )])
    .unwrap();
    assert_eq!(single.last_name, contact::NO_LAST_NAME);

    let no_email = [named(IdentityKind::Phone, "+358401234567", Some("Aino"))];
    assert_eq!(contact::NewContact::from_identities(&no_email), None);
    let no_name = [named(IdentityKind::Email, "aino@example.fi", None)];
    assert_eq!(contact::NewContact::from_identities(&no_name), None);
}

// === comments ===

#[test]
fn an_activity_becomes_a_short_comment_with_a_marker() {
    let text = comment::text(&activity()).unwrap();
    assert_eq!(
        text,
        "Inbound email, 2026-11-23 20:54 UTC: Where is my order?\n\
         Hello, I ordered a blue kettle on Monday. It has not arrived.\n\
         [silta 01936f4e-8a52-7c3e-9d4f-123456789abc]"
    );

    let mut long = activity();
    long.direction = Direction::Outbound;
    long.subject = Some("S".repeat(200));
    long.text = "ä".repeat(1000);
    let text = comment::text(&long).unwrap();
    assert_eq!(text.chars().count(), comment::LIMIT);
    assert!(text.starts_with("Outbound email, 2026-11-23 20:54 UTC: SSS"));
    assert!(
        text.ends_with("ä…\n[silta 01936f4e-8a52-7c3e-9d4f-123456789abc]"),
        "{text}"
    );

    let mut empty = activity();
    empty.text = " \n ".to_owned();
    empty.subject = None;
    assert_eq!(
        comment::text(&empty).unwrap(),
        "Inbound email, 2026-11-23 20:54 UTC\n[silta 01936f4e-8a52-7c3e-9d4f-123456789abc]"
    );
}

#[test]
fn bad_activities_are_bad_input() {
    for id in ["", "has space", "a]b", &"x".repeat(65)] {
        let mut bad = activity();
        bad.interaction_id = id.to_owned();
        assert_eq!(
            comment::text(&bad).unwrap_err().kind(),
            "bad-input",
            "{id:?}"
        );
    }
    let mut far = activity();
    far.occurred_at.seconds = u64::MAX;
    assert_eq!(comment::text(&far).unwrap_err().kind(), "bad-input");
}

#[test]
fn comments_are_found_by_marker() {
    let comments = comment::from_detail(&fixture_json("contact-detail.json")).unwrap();
    assert_eq!(comments.len(), 2);
    assert!(comment::find(&comments, &comment::marker("abc")).is_none());
    let made = comment::find(&comments, "[silta:abc]").unwrap();
    let link = comment::link(made, 1, &settings(false));
    assert_eq!(
        (link.object_type.as_str(), link.remote_id.as_str()),
        ("contact-comment", "1")
    );
    assert_eq!(
        link.url.as_deref(),
        Some("http://127.0.0.1:18001/api/contacts/1/")
    );
    assert_eq!(link.snapshot[0], ("contact_id".to_owned(), "1".to_owned()));
    assert_eq!(
        comment::from_detail(&json!({"comments": [{"comment": "no id"}]}))
            .unwrap_err()
            .kind(),
        "bad-input"
    );
}

#[test]
fn party_links_name_contacts_by_strict_ids() {
    let mut other = contact_link("7");
    other.system = "tryton".into();
    let ids = contact_ids(&[
        other,
        contact_link("3"),
        contact_link("3"),
        contact_link(" 4 "),
    ]);
    assert_eq!(ids.unwrap(), vec![3, 4]);
    for bad in ["", "0", "-1", "1/../2", "1e3", "+5"] {
        let error = contact_ids(&[contact_link(bad)]).unwrap_err();
        assert_eq!(error.kind(), "bad-input", "{bad:?}");
    }
}

// === cases ===

#[test]
fn statuses_and_priorities_map_both_ways() {
    let existing = |status: &str, assigned: bool| case::Case {
        status: Some(status.to_owned()),
        assigned_to: if assigned {
            vec![contact::User {
                email: Some("agent@example.test".into()),
            }]
        } else {
            Vec::new()
        },
        ..case::from_detail(&fixture_json("case-detail.json")).unwrap()
    };
    let cases = [
        ("open", None, "New"),
        ("OPEN", Some(existing("Assigned", true)), "Assigned"),
        ("open", Some(existing("Closed", true)), "Assigned"),
        ("open", Some(existing("Pending", false)), "New"),
        ("pending", None, "Pending"),
        ("resolved", None, "Closed"),
        ("closed", Some(existing("Duplicate", false)), "Duplicate"),
        ("closed", Some(existing("Pending", false)), "Closed"),
        ("Rejected", None, "Rejected"),
    ];
    for (silta, case, expected) in cases {
        assert_eq!(
            case::status(silta, case.as_ref()).unwrap(),
            expected,
            "{silta}"
        );
    }
    assert_eq!(
        case::status("waiting", None).unwrap_err().kind(),
        "bad-input"
    );

    let low = existing("New", false);
    for (silta, expected) in [
        (Some("low"), "Low"),
        (Some("Medium"), "Normal"),
        (Some("high"), "High"),
        (Some("critical"), "Urgent"),
        (None, "Low"),
        (Some(" "), "Low"),
    ] {
        assert_eq!(case::priority(silta, Some(&low)).unwrap(), expected);
    }
    assert_eq!(case::priority(None, None).unwrap(), "Normal");
    assert_eq!(
        case::priority(Some("p1"), None).unwrap_err().kind(),
        "bad-input"
    );
}

#[test]
fn a_new_case_body_is_what_bottlecrm_wants() {
    let fields = case::new_case(&ticket(), vec![1, 5], "2026-11-24").unwrap();
    assert_eq!(
        fields.body(),
        json!({
            "name": "Where is my order?",
            "status": "New",
            "priority": "High",
            "type_of_case": "Question",
            "closed_on": "2026-11-24",
            "description": "The kettle has not arrived.\n\n[silta case 01936f4e-8a52-7c3e-9d4f-0000c0ffee01]",
            "contacts": "[1,5]",
        })
    );
    let link = fields.link(12, &settings(false));
    assert_eq!(
        (link.object_type.as_str(), link.remote_id.as_str()),
        ("case", "12")
    );
    assert_eq!(
        link.url.as_deref(),
        Some("http://127.0.0.1:18001/api/cases/12/")
    );
    assert!(
        link.snapshot
            .contains(&("status".to_owned(), "New".to_owned()))
    );
    assert!(
        link.snapshot
            .contains(&("contact_ids".to_owned(), "1,5".to_owned()))
    );
}

#[test]
fn case_names_fit_and_can_be_made_unique() {
    let mut long = ticket();
    long.title = format!("  {}  ", "Kettle ".repeat(20));
    let name = case::name(&long).unwrap();
    assert_eq!(name.chars().count(), case::NAME_LIMIT);
    assert!(name.ends_with('…'));
    let unique = case::unique_name(&long).unwrap();
    assert_eq!(unique.chars().count(), case::NAME_LIMIT);
    assert!(unique.ends_with(" #c0ffee01"), "{unique}");
    assert!(name.starts_with(&case::search_term(&long)));
    assert!(unique.starts_with(&case::search_term(&long)));
    assert_eq!(
        case::unique_name(&ticket()).unwrap(),
        "Where is my order? #c0ffee01"
    );

    let mut blank = ticket();
    blank.title = "\n ".into();
    assert_eq!(case::name(&blank).unwrap_err().kind(), "bad-input");
    for id in ["", "a b", "x]"] {
        assert_eq!(case::check_case_id(id).unwrap_err().kind(), "bad-input");
    }
}

#[test]
fn an_update_keeps_what_the_ticket_does_not_say() {
    let mut existing = case::from_detail(&fixture_json("case-detail.json")).unwrap();
    existing.case_type = Some("Incident".into());
    existing.status = Some("New".into());
    existing.closed_on = Some("2026-01-01".into());
    existing.contacts = vec![case::ContactRef { id: 9 }];
    existing.name = Some(case::unique_name(&ticket()).unwrap());

    let mut pending = ticket();
    pending.status = "pending".into();
    pending.priority = None;
    let fields = case::updated_case(&pending, &existing, &[1], "2026-11-24").unwrap();
    assert_eq!(fields.name, "Where is my order? #c0ffee01");
    assert_eq!(fields.status, "Pending");
    assert_eq!(fields.priority, "Low");
    assert_eq!(fields.case_type, "Incident");
    assert_eq!(fields.closed_on, "2026-01-01");
    assert_eq!(fields.contacts, vec![9, 1]);

    let mut closed = ticket();
    closed.status = "closed".into();
    closed.title = "Kettle lost".into();
    let fields = case::updated_case(&closed, &existing, &[], "2026-11-24").unwrap();
    assert_eq!(fields.closed_on, "2026-11-24", "closing now sets the date");
    assert_eq!(fields.name, "Kettle lost");
}

#[test]
fn cases_are_found_by_marker_and_malformed_lists_refused() {
    let mut cases = case::from_list(&fixture_json("case-search.json")).unwrap();
    assert_eq!(cases.len(), 1);
    let marker = case::marker(&ticket().case_id);
    assert!(case::find(&cases, &marker).is_none());
    cases[0].description = Some(format!("x\n\n{marker}"));
    assert_eq!(case::find(&cases, &marker).map(|c| c.id), Some(1));
    for value in [
        json!({"cases": {}}),
        json!({"cases": [{"name": "no id"}]}),
        json!(null),
    ] {
        assert_eq!(
            case::from_list(&value).unwrap_err().kind(),
            "bad-input",
            "{value}"
        );
    }
}

// === answers ===

#[test]
fn answers_map_to_the_right_error_case() {
    let cases = [
        (
            answer(401, fixture("unauthorized.json")),
            "unauthorized",
            "Error decoding signature",
        ),
        (
            answer(
                403,
                r#"{"error":true,"errors":"You do not have Permission"}"#,
            ),
            "unauthorized",
            "You do not have Permission",
        ),
        (
            answer(500, fixture("server-error.html")),
            "retryable",
            "Server Error (500)",
        ),
        (answer(503, ""), "retryable", "an empty body"),
        (answer(429, "{}"), "retryable", "429"),
        (
            answer(400, fixture("contact-create-taken.json")),
            "bad-input",
            "contact_errors.first_name: Contact already exists with this name",
        ),
        (
            answer(404, r#"{"detail":"Not found."}"#),
            "permanent",
            "Not found.",
        ),
        (answer(302, ""), "permanent", "redirected"),
        (
            answer(200, "<html>login</html>"),
            "bad-input",
            "not JSON: <html>login</html>",
        ),
        (
            answer(200, r#"{"error":true,"errors":"nope"}"#),
            "permanent",
            "refused the test: nope",
        ),
    ];
    for (answer, kind, says) in cases {
        let error = reply::json(&answer, "the test").unwrap_err();
        assert_eq!(error.kind(), kind, "{}: {error:?}", answer.status);
        assert!(
            error.message().contains(says),
            "{error:?} should say {says:?}"
        );
    }
    let mut later = answer(503, "");
    later.retry_after = Some(std::time::Duration::from_secs(7));
    match reply::error(&later, "x") {
        silta_sdk::PluginError::Retryable(e) => assert_eq!(e.retry_after_ms, Some(7000)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reply::json(&ok("contact-search-empty.json"), "x").unwrap()["contacts_count"],
        json!(0)
    );
}

#[test]
fn validation_errors_are_read_per_field() {
    let taken = answer(400, fixture("case-create-taken.json"));
    let errors = reply::validation_errors(&taken).unwrap();
    assert_eq!(
        reply::field_errors(&errors, &["name"]),
        vec!["Case already exists with this name"]
    );
    assert!(reply::field_errors(&errors, &["status"]).is_empty());
    let invalid = answer(400, fixture("contact-create-invalid.json"));
    let errors = reply::validation_errors(&invalid).unwrap();
    assert_eq!(
        reply::field_errors(&errors, &["contact_errors", "email"]),
        vec!["Enter a valid email address."]
    );
    assert!(reply::validation_errors(&answer(500, fixture("server-error.html"))).is_none());
    assert!(reply::validation_errors(&answer(400, "not json")).is_none());
}
