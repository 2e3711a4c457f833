//! Shared by the native tests: BottleCRM's recorded answers, a scripted
//! [`Transport`] that checks each request and gives the next answer, and
//! builders for the WIT records the operations take.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;

use serde_json::Value;
use silta_plugin_bottlecrm::settings::Settings;
use silta_plugin_bottlecrm::transport::{Answer, Method, Transport};
use silta_sdk::PluginError;
use silta_sdk::types::{
    Activity, Assurance, BackofficeLink, Direction, Identity, IdentityKind, IdentityScope, Ticket,
    Timestamp,
};

/// The API root the scripted CRM pretends to live at.
pub const API: &str = "http://127.0.0.1:18001/api";

/// A real BottleCRM answer from `tests/fixtures/answers/`, as bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/answers")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A real BottleCRM answer, parsed.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture is JSON")
}

/// An answer with `status` and `body`.
pub fn answer(status: u16, body: impl Into<Vec<u8>>) -> Answer {
    Answer {
        status,
        retry_after: None,
        body: body.into(),
    }
}

/// `200` with a fixture's body.
pub fn ok(name: &str) -> Answer {
    answer(200, fixture(name))
}

/// `200` with `value`.
pub fn ok_json(value: &Value) -> Answer {
    answer(200, value.to_string())
}

/// One expected request and the answer to give.
pub struct Step {
    pub method: Method,
    pub path: String,
    /// When set, the request body must equal it.
    pub body: Option<Value>,
    pub answer: Result<Answer, PluginError>,
}

/// A request the scripted CRM expects: `method path`, answered with `answer`.
pub fn expect(method: Method, path: &str, answer: Answer) -> Step {
    Step {
        method,
        path: path.to_owned(),
        body: None,
        answer: Ok(answer),
    }
}

impl Step {
    /// The request must carry exactly this body.
    pub fn with_body(mut self, body: Value) -> Step {
        self.body = Some(body);
        self
    }
}

/// A CRM that answers from a script and fails the test on any other request.
pub struct Scripted {
    steps: RefCell<VecDeque<Step>>,
    /// Bodies of the requests made, in order.
    pub sent: RefCell<Vec<(Method, String, Option<Value>)>>,
}

impl Scripted {
    pub fn new(steps: Vec<Step>) -> Scripted {
        Scripted {
            steps: RefCell::new(steps.into()),
            sent: RefCell::new(Vec::new()),
        }
    }

    /// Fails unless every scripted request was made.
    pub fn assert_done(&self) {
        let left: Vec<String> = self
            .steps
            .borrow()
            .iter()
            .map(|s| format!("{:?} {}", s.method, s.path))
            .collect();
        assert!(left.is_empty(), "requests not made: {left:?}");
    }

    /// The body of the `n`th request.
    pub fn body(&self, n: usize) -> Value {
        self.sent.borrow()[n].2.clone().expect("a body")
    }
}

impl Transport for Scripted {
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, PluginError> {
        self.sent
            .borrow_mut()
            .push((method, path.to_owned(), body.cloned()));
        let step = self
            .steps
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {method:?} {path}"));
        assert_eq!(
            (step.method, step.path.as_str()),
            (method, path),
            "request out of script"
        );
        if let Some(expected) = &step.body {
            assert_eq!(body, Some(expected), "body of {method:?} {path}");
        }
        step.answer
    }
}

/// Settings with `url` = the scripted CRM.
pub fn settings(create_contacts: bool) -> Settings {
    let create = create_contacts.to_string();
    Settings::parse(|key| match key {
        "url" => Some("http://127.0.0.1:18001".to_owned()),
        "create_contacts" => Some(create.clone()),
        _ => None,
    })
    .expect("valid settings")
}

/// An identity as the host passes it.
pub fn identity(kind: IdentityKind, value: &str) -> Identity {
    Identity {
        kind,
        value: value.to_owned(),
        scope: IdentityScope::Global,
        assurance: Assurance::ChannelAsserted,
        display_name: None,
    }
}

/// The link `lookup-party` gives for contact `id`.
pub fn contact_link(id: &str) -> BackofficeLink {
    BackofficeLink {
        system: "bottlecrm".to_owned(),
        object_type: "contact".to_owned(),
        remote_id: id.to_owned(),
        url: None,
        snapshot: Vec::new(),
    }
}

/// 2026-11-23T20:54:41Z
pub const OCCURRED_AT: Timestamp = Timestamp {
    seconds: 1_795_467_281,
    nanoseconds: 0,
};

/// An inbound email on contact 1.
pub fn activity() -> Activity {
    Activity {
        interaction_id: "01936f4e-8a52-7c3e-9d4f-123456789abc".to_owned(),
        case_id: None,
        party_links: vec![contact_link("1")],
        direction: Direction::Inbound,
        channel: "email".to_owned(),
        occurred_at: OCCURRED_AT,
        subject: Some("Where is my order?".to_owned()),
        text: "Hello,\n\nI ordered a blue kettle on Monday.  It has not arrived.".to_owned(),
    }
}

/// A new, open ticket for contact 1.
pub fn ticket() -> Ticket {
    Ticket {
        remote_id: None,
        case_id: "01936f4e-8a52-7c3e-9d4f-0000c0ffee01".to_owned(),
        party_links: vec![contact_link("1")],
        title: "Where is my order?".to_owned(),
        description: "The kettle has not arrived.".to_owned(),
        status: "open".to_owned(),
        priority: Some("high".to_owned()),
    }
}
