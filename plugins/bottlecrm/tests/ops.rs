//! The operations' API call sequences, natively, against a scripted
//! BottleCRM answering with recorded answers: which requests in which
//! order, what each answer leads to, and every error case.

mod support;

use serde_json::json;
use silta_plugin_bottlecrm::mapping::case;
use silta_plugin_bottlecrm::ops::{activity, lookup, ticket};
use silta_plugin_bottlecrm::transport::Answer;
use silta_plugin_bottlecrm::transport::Method::{Get, Post, Put};
use silta_sdk::PluginError;
use silta_sdk::types::{IdentityKind, IdentityScope};
use support::*;

const TODAY: &str = "2026-11-24";

fn aino_email() -> Vec<silta_sdk::types::Identity> {
    vec![identity(IdentityKind::Email, "aino@example.fi")]
}

// === lookup-party ===

#[test]
fn lookup_by_email_takes_the_exact_match() {
    let crm = Scripted::new(vec![expect(
        Get,
        "/contacts/?email=aino%40example.fi&limit=50",
        ok("contact-search-email.json"),
    )]);
    let found = lookup::lookup(&crm, &settings(false), &aino_email())
        .unwrap()
        .unwrap();
    assert_eq!(found.links[0].remote_id, "1");
    crm.assert_done();
}

#[test]
fn lookup_tries_the_contact_id_then_email_then_phone() {
    let mut known = identity(IdentityKind::CrmContact, "7");
    known.scope = IdentityScope::App("bottlecrm".into());
    let mut foreign = identity(IdentityKind::CrmContact, "8");
    foreign.scope = IdentityScope::App("hubspot".into());
    let identities = vec![
        identity(IdentityKind::Phone, "+358401234567"),
        foreign,
        identity(IdentityKind::Email, "nobody@example.fi"),
        known,
    ];
    let crm = Scripted::new(vec![
        expect(
            Get,
            "/contacts/7/",
            answer(404, r#"{"detail":"Not found."}"#),
        ),
        expect(
            Get,
            "/contacts/?email=nobody%40example.fi&limit=50",
            ok("contact-search-empty.json"),
        ),
        expect(
            Get,
            "/contacts/?phone=%2B358401234567&limit=50",
            ok("contact-search-email.json"),
        ),
    ]);
    let found = lookup::lookup(&crm, &settings(false), &identities)
        .unwrap()
        .unwrap();
    assert_eq!(found.display_name.as_deref(), Some("Aino Virtanen"));
    crm.assert_done();
}

#[test]
fn lookup_by_contact_id_reads_the_detail() {
    let mut known = identity(IdentityKind::CrmContact, "1");
    known.scope = IdentityScope::App("bottlecrm".into());
    let crm = Scripted::new(vec![expect(Get, "/contacts/1/", ok("contact-detail.json"))]);
    let found = lookup::lookup(&crm, &settings(false), &[known])
        .unwrap()
        .unwrap();
    assert_eq!(found.identities[0].value, "1");
}

#[test]
fn nobody_found_is_none_unless_contacts_are_created() {
    let search = || {
        expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-empty.json"),
        )
    };
    let crm = Scripted::new(vec![search()]);
    assert_eq!(
        lookup::lookup(&crm, &settings(false), &aino_email()).unwrap(),
        None
    );
    // Switched on, but without a name there is nothing to create.
    let crm = Scripted::new(vec![search()]);
    assert_eq!(
        lookup::lookup(&crm, &settings(true), &aino_email()).unwrap(),
        None
    );
    crm.assert_done();
}

#[test]
fn a_stranger_is_created_around_a_taken_first_name() {
    let mut email = identity(IdentityKind::Email, "aino@example.fi");
    email.display_name = Some("Aino Virtanen".into());
    let search = || {
        expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-empty.json"),
        )
    };
    let crm = Scripted::new(vec![
        search(),
        expect(
            Post,
            "/contacts/",
            answer(
                400,
                r#"{"error":true,"errors":{"contact_errors":{"first_name":["Contact already exists with this name"]}}}"#,
            ),
        )
        .with_body(json!({"first_name": "Aino", "last_name": "Virtanen",
                          "email": "aino@example.fi", "description": "Created by Silta."})),
        expect(
            Post,
            "/contacts/",
            answer(200, r#"{"error":false,"message":"Contact created Successfuly"}"#),
        )
        .with_body(json!({"first_name": "Aino (aino@example.fi)", "last_name": "Virtanen",
                          "email": "aino@example.fi", "description": "Created by Silta."})),
        expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-email.json"),
        ),
    ]);
    let created = lookup::lookup(&crm, &settings(true), &[email])
        .unwrap()
        .unwrap();
    assert_eq!(created.links[0].remote_id, "1");
    crm.assert_done();
}

#[test]
fn a_contact_created_meanwhile_is_the_answer() {
    let mut email = identity(IdentityKind::Email, "aino@example.fi");
    email.display_name = Some("Aino".into());
    let crm = Scripted::new(vec![
        expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-empty.json"),
        ),
        expect(
            Post,
            "/contacts/",
            answer(400, fixture("contact-create-taken.json")),
        ),
        expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-email.json"),
        ),
    ]);
    let found = lookup::lookup(&crm, &settings(true), &[email])
        .unwrap()
        .unwrap();
    assert_eq!(found.links[0].remote_id, "1");
}

#[test]
fn a_contact_bottlecrm_refuses_is_bad_input() {
    let mut email = identity(IdentityKind::Email, "aino@example.fi");
    email.display_name = Some("Aino".into());
    let crm = Scripted::new(vec![
        expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            ok("contact-search-empty.json"),
        ),
        expect(
            Post,
            "/contacts/",
            answer(400, fixture("contact-create-invalid.json")),
        ),
    ]);
    let error = lookup::lookup(&crm, &settings(true), &[email]).unwrap_err();
    assert_eq!(error.kind(), "bad-input");
    assert!(
        error.message().contains("Enter a valid email address."),
        "{error:?}"
    );
}

#[test]
fn lookup_errors_keep_their_case() {
    for (answer, kind) in [
        (answer(401, fixture("unauthorized.json")), "unauthorized"),
        (answer(502, "<html>Bad Gateway</html>"), "retryable"),
        (answer(200, "not json"), "bad-input"),
        (answer(200, r#"{"contact_obj_list": 3}"#), "bad-input"),
    ] {
        let crm = Scripted::new(vec![expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            answer,
        )]);
        let error = lookup::lookup(&crm, &settings(false), &aino_email()).unwrap_err();
        assert_eq!(error.kind(), kind, "{error:?}");
    }
    let crm = Scripted::new(vec![support::Step {
        answer: Err(PluginError::retryable("connection refused")),
        ..expect(
            Get,
            "/contacts/?email=aino%40example.fi&limit=50",
            answer(0, ""),
        )
    }]);
    let error = lookup::lookup(&crm, &settings(false), &aino_email()).unwrap_err();
    assert_eq!(error.kind(), "retryable");
}

// === record-activity ===

fn detail_with(comments: serde_json::Value) -> Answer {
    let mut detail = fixture_json("contact-detail.json");
    detail["comments"] = comments;
    ok_json(&detail)
}

#[test]
fn an_activity_becomes_a_comment_once() {
    let text = silta_plugin_bottlecrm::mapping::comment::text(&activity()).unwrap();
    let made = json!([{"id": 12, "comment": text, "commented_on": "2026-11-24T02:24:41+05:30"}]);
    let crm = Scripted::new(vec![
        expect(Get, "/contacts/1/", detail_with(json!([]))),
        expect(Post, "/contacts/1/", detail_with(made.clone()))
            .with_body(json!({ "comment": text })),
    ]);
    let link = activity::record(&crm, &settings(false), &activity()).unwrap();
    assert_eq!(
        (link.object_type.as_str(), link.remote_id.as_str()),
        ("contact-comment", "12")
    );
    crm.assert_done();

    // A retry finds it and posts nothing.
    let crm = Scripted::new(vec![expect(Get, "/contacts/1/", detail_with(made))]);
    let again = activity::record(&crm, &settings(false), &activity()).unwrap();
    assert_eq!(again, link);
    crm.assert_done();
}

#[test]
fn activity_errors() {
    let mut unlinked = activity();
    unlinked.party_links.clear();
    let crm = Scripted::new(vec![]);
    let error = activity::record(&crm, &settings(false), &unlinked).unwrap_err();
    assert_eq!(error.kind(), "bad-input");
    assert!(error.message().contains("lookup-party"), "{error:?}");

    let crm = Scripted::new(vec![expect(Get, "/contacts/1/", answer(404, "{}"))]);
    let error = activity::record(&crm, &settings(false), &activity()).unwrap_err();
    assert_eq!(error.kind(), "permanent");

    // A comment BottleCRM silently drops (it keeps 255 characters at most).
    let crm = Scripted::new(vec![
        expect(Get, "/contacts/1/", detail_with(json!([]))),
        expect(Post, "/contacts/1/", detail_with(json!([]))),
    ]);
    let error = activity::record(&crm, &settings(false), &activity()).unwrap_err();
    assert_eq!(error.kind(), "permanent");
    assert!(error.message().contains("did not keep it"), "{error:?}");
}

// === upsert-ticket ===

fn case_list(cases: serde_json::Value) -> Answer {
    ok_json(&json!({"search": true, "cases_count": 1, "cases": cases}))
}

fn our_case(id: u64, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "status": "New", "priority": "High",
           "case_type": "Question", "closed_on": TODAY,
           "description": case::description(&ticket()), "contacts": [{"id": 1}],
           "assigned_to": []})
}

const SEARCH: &str = "/cases/?name=Where%20is%20my%20order%3F&limit=100";
const CREATED: &str = r#"{"error":false,"message":"Case Created Successfully"}"#;
const UPDATED: &str = r#"{"error":false,"message":"Case Updated Successfully"}"#;

#[test]
fn a_ticket_becomes_a_new_case() {
    let body = case::new_case(&ticket(), vec![1], TODAY).unwrap().body();
    let crm = Scripted::new(vec![
        expect(Get, SEARCH, case_list(json!([]))),
        expect(Post, "/cases/", answer(200, CREATED)).with_body(body),
        expect(
            Get,
            SEARCH,
            case_list(json!([our_case(4, "Where is my order?")])),
        ),
    ]);
    let link = ticket::upsert(&crm, &settings(false), &ticket(), TODAY).unwrap();
    assert_eq!(
        (link.object_type.as_str(), link.remote_id.as_str()),
        ("case", "4")
    );
    crm.assert_done();
}

#[test]
fn a_taken_case_name_gets_a_tag() {
    let crm = Scripted::new(vec![
        expect(Get, SEARCH, case_list(json!([]))),
        expect(
            Post,
            "/cases/",
            answer(400, fixture("case-create-taken.json")),
        ),
        expect(Post, "/cases/", answer(200, CREATED)),
        expect(
            Get,
            SEARCH,
            case_list(json!([our_case(5, "Where is my order? #c0ffee01")])),
        ),
    ]);
    let link = ticket::upsert(&crm, &settings(false), &ticket(), TODAY).unwrap();
    assert_eq!(link.remote_id, "5");
    assert_eq!(crm.body(2)["name"], "Where is my order? #c0ffee01");
    assert!(
        link.snapshot
            .contains(&("name".to_owned(), "Where is my order? #c0ffee01".to_owned()))
    );
}

#[test]
fn a_case_made_by_an_earlier_try_is_updated() {
    let crm = Scripted::new(vec![
        expect(
            Get,
            SEARCH,
            case_list(json!([our_case(6, "Where is my order?")])),
        ),
        expect(Put, "/cases/6/", answer(200, UPDATED)),
    ]);
    let link = ticket::upsert(&crm, &settings(false), &ticket(), TODAY).unwrap();
    assert_eq!(link.remote_id, "6");
    crm.assert_done();
}

#[test]
fn a_ticket_with_a_remote_id_updates_its_case() {
    let mut closing = ticket();
    closing.remote_id = Some("1".into());
    closing.status = "closed".into();
    closing.priority = None;
    let crm = Scripted::new(vec![
        expect(Get, "/cases/1/", ok("case-detail.json")),
        expect(Put, "/cases/1/", answer(200, UPDATED)),
    ]);
    let link = ticket::upsert(&crm, &settings(false), &closing, TODAY).unwrap();
    let body = crm.body(1);
    assert_eq!(body["status"], "Closed");
    assert_eq!(body["priority"], "Low", "kept from the case");
    assert_eq!(
        body["closed_on"], "2026-11-25",
        "already closed: the date stays"
    );
    assert_eq!(body["contacts"], "[1]");
    assert_eq!(link.remote_id, "1");
}

#[test]
fn a_missing_case_is_permanent_and_a_sick_server_retryable() {
    let mut update = ticket();
    update.remote_id = Some("99".into());
    let html = || answer(500, fixture("server-error.html"));
    let crm = Scripted::new(vec![
        expect(Get, "/cases/99/", html()),
        expect(Get, "/cases/?status=New&limit=1", case_list(json!([]))),
    ]);
    let error = ticket::upsert(&crm, &settings(false), &update, TODAY).unwrap_err();
    assert_eq!(error.kind(), "permanent");
    assert!(
        error.message().contains("case 99 is not in BottleCRM"),
        "{error:?}"
    );

    let crm = Scripted::new(vec![
        expect(Get, "/cases/99/", html()),
        expect(Get, "/cases/?status=New&limit=1", html()),
    ]);
    let error = ticket::upsert(&crm, &settings(false), &update, TODAY).unwrap_err();
    assert_eq!(error.kind(), "retryable");

    update.remote_id = Some("../1".into());
    let error = ticket::upsert(&crm, &settings(false), &update, TODAY).unwrap_err();
    assert_eq!(error.kind(), "bad-input");
}

#[test]
fn bad_tickets_are_refused_before_any_request() {
    let crm = Scripted::new(vec![]);
    for change in [
        |t: &mut silta_sdk::types::Ticket| t.status = "someday".into(),
        |t: &mut silta_sdk::types::Ticket| t.priority = Some("p0".into()),
        |t: &mut silta_sdk::types::Ticket| t.title = " ".into(),
        |t: &mut silta_sdk::types::Ticket| t.case_id = String::new(),
        |t: &mut silta_sdk::types::Ticket| t.party_links[0].remote_id = "x".into(),
    ] {
        let mut bad = ticket();
        change(&mut bad);
        let error = ticket::upsert(&crm, &settings(false), &bad, TODAY).unwrap_err();
        assert_eq!(error.kind(), "bad-input", "{error:?}");
    }
}
