//! [`Crm`]: a real django-crm 0.9.0 (MicroPyramid BottleCRM) REST API on a
//! free loopback port, one temp dir per instance.
//!
//! `tests/peers/install-crm.sh` installs django-crm into a venv and builds,
//! once, a migrated template database with the administrator
//! `admin@example.test` / `AdminPass123`. Each instance copies that template,
//! so a start takes about a second (Django's start plus one login)
//! instead of the 7-15 s `migrate` needs. The API is served under
//! [`Crm::api_url`] by Django's dev server (one process) and takes
//! `Authorization: JWT <token>`; [`Crm::token`] is one, from a login at start.
//! Notification e-mails are queued in memory and never sent.
//!
//! The helpers talk to the API the way a client does: JSON over HTTP with
//! the instance's own `Host` and the administrator's JWT.
//!
//! ```no_run
//! let crm = silta_test_peers::Crm::start()?;
//! let id = crm.create_contact("Aino", "Virtanen", "aino@example.fi", Some("+358401234567"))?;
//! // point a client at crm.base_url() with `Authorization: JWT {crm.token()}`
//! assert_eq!(crm.contact(id)?.map(|c| c.email), Some("aino@example.fi".to_owned()));
//! # anyhow::Ok(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::http::{Answer, Call};
use crate::ports::{free_port, poll};
use crate::process::{ServerProcess, log_tail};

/// The administrator's login (role `ADMIN`, superuser).
const ADMIN_EMAIL: &str = "admin@example.test";
/// The administrator's password.
const ADMIN_PASSWORD: &str = "AdminPass123";

const SETTINGS: &str = include_str!("../templates/crm_settings.py");
const SERVER: &str = include_str!("../templates/crm_server.py");
/// Django starts in about a second; slow CI machines get more.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a start is retried when another process took the free port
/// between our probe and the dev server's bind.
const START_ATTEMPTS: usize = 5;
/// Long enough for a login's password hash on a busy machine.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A running BottleCRM for one test; dropping it stops the server, waits for
/// its port to close and removes the temp dir with the database.
///
/// Hold it in the test (a `static` is never dropped). [`Crm::stop`] and
/// [`Crm::start_again`] take it down and bring it back on the same port with
/// the same data, for tests of a CRM that goes away.
pub struct Crm {
    server: ServerProcess,
    port: u16,
    /// A host name only this instance's server accepts.
    host: String,
    python: PathBuf,
    token: String,
    // Dropped last: the server must be gone before its files are.
    dir: TempDir,
}

/// A contact as the CRM lists it. Deserializes from BottleCRM's JSON for a
/// contact (its `address` object gives the city).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CrmContact {
    /// The contact's id.
    pub id: u64,
    /// First name (unique in BottleCRM, case-insensitively).
    #[serde(default, deserialize_with = "text")]
    pub first_name: String,
    /// Last name.
    #[serde(default, deserialize_with = "text")]
    pub last_name: String,
    /// Email address (unique).
    #[serde(default, deserialize_with = "text")]
    pub email: String,
    /// E.164 phone number (unique), if any.
    #[serde(default)]
    pub phone: Option<String>,
    /// City of its address ("" when none).
    #[serde(default, rename = "address", deserialize_with = "address_city")]
    pub city: String,
    /// Description ("" when none).
    #[serde(default, deserialize_with = "text")]
    pub description: String,
}

/// A comment on a contact: what an agent sees in the contact's history.
/// Deserializes from BottleCRM's JSON for a comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CrmComment {
    /// The comment's id.
    pub id: u64,
    /// Its text (at most 255 characters).
    #[serde(default, deserialize_with = "text")]
    pub comment: String,
    /// When it was made (RFC 3339, in the CRM's time zone, `+05:30`).
    #[serde(default, deserialize_with = "text")]
    pub commented_on: String,
}

/// A case (BottleCRM's ticket). Deserializes from BottleCRM's JSON for a
/// case (its `contacts` objects give the ids).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CrmCase {
    /// The case's id.
    pub id: u64,
    /// Its name (unique, at most 64 characters).
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    /// `New`, `Assigned`, `Pending`, `Closed`, `Rejected` or `Duplicate`.
    #[serde(default, deserialize_with = "text")]
    pub status: String,
    /// `Low`, `Normal`, `High` or `Urgent`.
    #[serde(default, deserialize_with = "text")]
    pub priority: String,
    /// `Question`, `Incident` or `Problem` ("" when none).
    #[serde(default, deserialize_with = "text")]
    pub case_type: String,
    /// `YYYY-MM-DD`; BottleCRM requires it even for open cases.
    #[serde(default, deserialize_with = "text")]
    pub closed_on: String,
    /// Description ("" when none).
    #[serde(default, deserialize_with = "text")]
    pub description: String,
    /// Ids of the contacts it concerns.
    #[serde(default, rename = "contacts", deserialize_with = "contact_ids")]
    pub contact_ids: Vec<u64>,
}

// === impl Crm ===

impl Crm {
    /// Copies the template database into a fresh temp dir, starts the dev
    /// server on a free port and returns once the administrator can log in.
    ///
    /// Fails, naming the script to run, when `install-crm.sh` has not run;
    /// retries with a new port when the port was taken meanwhile. Errors
    /// carry the tail of the server's log.
    pub fn start() -> Result<Crm> {
        let (python, template) = installation()?;
        let mut attempt = 1;
        loop {
            match Self::start_once(&python, &template) {
                Ok(crm) => return Ok(crm),
                Err(e) if attempt < START_ATTEMPTS && port_was_taken(&e) => attempt += 1,
                Err(e) => return Err(e.context("starting the test CRM")),
            }
        }
    }

    fn start_once(python: &Path, template: &Path) -> Result<Crm> {
        let dir = tempfile::Builder::new()
            .prefix("silta-peers-crm-")
            .tempdir()
            .context("creating the CRM temp dir")?;
        fs::copy(template, dir.path().join("crm.sqlite3"))
            .with_context(|| format!("copying the template database {}", template.display()))?;
        fs::create_dir(dir.path().join("media"))?;
        fs::write(dir.path().join("crm_settings.py"), SETTINGS)?;
        fs::write(dir.path().join("crm_server.py"), SERVER)?;
        let suffix = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let host = format!(
            "{}-{}.crm.test",
            std::process::id(),
            suffix.trim_start_matches("silta-peers-crm-")
        )
        .replace(
            |c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "-",
        );
        let port = free_port()?;
        let mut crm = Crm {
            server: ServerProcess::new("the CRM's dev server", vec![port]),
            port,
            host,
            python: python.to_path_buf(),
            token: String::new(),
            dir,
        };
        crm.start_again()?;
        Ok(crm)
    }

    /// Starts the server again after [`Crm::stop`], on the same port with the
    /// same data; returns once a login works. Does nothing when it runs.
    pub fn start_again(&mut self) -> Result<()> {
        if self.server.is_running() {
            return Ok(());
        }
        let child = self.server.spawn(
            Command::new(&self.python)
                .arg(self.dir.path().join("crm_server.py"))
                .arg(self.port.to_string())
                // Upstream logging writes ./server.log.
                .current_dir(self.dir.path())
                .env("PYTHONPATH", self.dir.path())
                .env("SILTA_CRM_DIR", self.dir.path())
                .env("SILTA_CRM_HOST", &self.host)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            &self.dir.path().join("runserver.log"),
            "tests/peers/install-crm.sh",
        )?;
        let probe = Call {
            port: self.port,
            method: "GET",
            path: "/swagger.json",
            host: Some(&self.host),
            authorization: None,
            json: None,
            timeout: CALL_TIMEOUT,
        };
        // Only our own server accepts our host name: a 200 here is ours.
        let ready = poll(READY_TIMEOUT, || {
            if let Some(status) = child.try_wait()? {
                bail!("the CRM's dev server exited ({status})");
            }
            Ok(probe.send().is_ok_and(|a| a.status == 200))
        });
        let token = ready.and_then(|()| self.login());
        match token {
            Ok(token) => {
                self.token = token;
                Ok(())
            }
            Err(e) => {
                let tail = self.logs();
                self.server.halt().ok();
                bail!(
                    "the CRM did not become ready on 127.0.0.1:{}: {e:#}\n{tail}",
                    self.port
                );
            }
        }
    }

    /// Stops the server (its port closed when this returns); the database is kept.
    pub fn stop(&mut self) -> Result<()> {
        self.server.stop().with_context(|| self.logs())
    }

    /// Whether the server runs (between [`Crm::stop`] and
    /// [`Crm::start_again`] it does not).
    pub fn is_running(&self) -> bool {
        self.server.is_running()
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`: the server's root, what a client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT/api`: where the REST API lives.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base_url())
    }

    /// The administrator's email, the login name: `admin@example.test`.
    pub fn admin_email(&self) -> &str {
        ADMIN_EMAIL
    }

    /// The administrator's password: `AdminPass123`.
    pub fn admin_password(&self) -> &str {
        ADMIN_PASSWORD
    }

    /// The administrator's JWT from the login at start. BottleCRM's tokens
    /// carry no expiry: it stays valid as long as the server's `SECRET_KEY`
    /// and the user do.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Logs in as the administrator (`POST /api/auth/login/`) and returns a
    /// fresh JWT.
    pub fn login(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Login {
            token: String,
        }
        let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
        let answer = self.call("POST", "/api/auth/login/", None, Some(&body))?;
        let login: Login = ok_json(&answer, "login")?;
        Ok(login.token)
    }

    /// Creates a contact and returns its id. BottleCRM refuses a first name
    /// that another contact has (case-insensitively), and a taken email or
    /// phone; the error says which.
    pub fn create_contact(
        &self,
        first_name: &str,
        last_name: &str,
        email: &str,
        phone: Option<&str>,
    ) -> Result<u64> {
        let mut body = json!({"first_name": first_name, "last_name": last_name, "email": email});
        if let Some(phone) = phone {
            body["phone"] = json!(phone);
        }
        let answer = self.call("POST", "/api/contacts/", Some(&self.token), Some(&body))?;
        ok_json::<Value>(&answer, "creating a contact")?;
        // The answer carries no id: find the contact by its (unique) email.
        self.contacts()?
            .into_iter()
            .find(|c| c.email.eq_ignore_ascii_case(email))
            .map(|c| c.id)
            .with_context(|| format!("the contact {email} was created but is not listed"))
    }

    /// Every contact, newest first.
    pub fn contacts(&self) -> Result<Vec<CrmContact>> {
        #[derive(Deserialize)]
        struct Contacts {
            #[serde(default)]
            contact_obj_list: Vec<CrmContact>,
        }
        let list: Contacts = self.get_json("/api/contacts/?limit=1000")?;
        Ok(list.contact_obj_list)
    }

    /// The contact `id`, or `None` when there is none (the API's 404).
    pub fn contact(&self, id: u64) -> Result<Option<CrmContact>> {
        #[derive(Deserialize)]
        struct Detail {
            contact_obj: CrmContact,
        }
        let answer = self.call(
            "GET",
            &format!("/api/contacts/{id}/"),
            Some(&self.token),
            None,
        )?;
        if answer.status == 404 {
            return Ok(None);
        }
        let detail: Detail = ok_json(&answer, "reading a contact")?;
        Ok(Some(detail.contact_obj))
    }

    /// The comments on contact `id`, oldest first: where the bottlecrm plugin
    /// records activities.
    pub fn comments(&self, contact_id: u64) -> Result<Vec<CrmComment>> {
        #[derive(Deserialize)]
        struct Detail {
            #[serde(default)]
            comments: Vec<CrmComment>,
        }
        let detail: Detail = self.get_json(&format!("/api/contacts/{contact_id}/"))?;
        Ok(detail.comments)
    }

    /// Every case, newest first.
    pub fn cases(&self) -> Result<Vec<CrmCase>> {
        #[derive(Deserialize)]
        struct Cases {
            #[serde(default)]
            cases: Vec<CrmCase>,
        }
        let list: Cases = self.get_json("/api/cases/?limit=1000")?;
        Ok(list.cases)
    }

    /// The case `id`, or `None` when there is none. (BottleCRM answers 500
    /// for a case that does not exist, so this reads the list.)
    pub fn case(&self, id: u64) -> Result<Option<CrmCase>> {
        Ok(self.cases()?.into_iter().find(|c| c.id == id))
    }

    /// `GET path` (`/api/...`) as the administrator: the status and the body.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        let answer = self.call("GET", path, Some(&self.token), None)?;
        Ok((answer.status, answer.body))
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let answer = self.call("GET", path, Some(&self.token), None)?;
        ok_json(&answer, path)
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        json: Option<&Value>,
    ) -> Result<Answer> {
        let authorization = token.map(|t| format!("JWT {t}"));
        let host = format!("{}:{}", self.host, self.port);
        Call {
            port: self.port,
            method,
            path,
            host: Some(&host),
            authorization: authorization.as_deref(),
            json,
            timeout: CALL_TIMEOUT,
        }
        .send()
        .with_context(|| format!("{method} {path} on the test CRM"))
    }

    /// The temp dir holding the database, the settings and the logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The tail of the server's logs, for a failing test's message.
    pub fn logs(&self) -> String {
        log_tail(
            &[
                &self.dir.path().join("runserver.log"),
                &self.dir.path().join("server.log"),
            ],
            40,
        )
    }
}

impl Drop for Crm {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("silta-test-peers: {e:#}");
        }
    }
}

// === JSON ===

/// The body of a 2xx answer that is not BottleCRM's `{"error": true, ...}`,
/// read as `T`.
fn ok_json<T: DeserializeOwned>(answer: &Answer, what: &str) -> Result<T> {
    let failed = || anyhow!("{what}: HTTP {}: {}", answer.status, answer.body);
    let json: Value = serde_json::from_str(&answer.body).map_err(|_| failed())?;
    if !(200..300).contains(&answer.status) || json.get("error") == Some(&Value::Bool(true)) {
        return Err(failed());
    }
    T::deserialize(json).with_context(|| {
        format!(
            "{what}: unexpected answer, HTTP {}: {}",
            answer.status, answer.body
        )
    })
}

/// A string that BottleCRM may send as `null`: "" then.
fn text<'de, D: Deserializer<'de>>(value: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(value)?.unwrap_or_default())
}

/// The city of a contact's `address` object, which may be `null`.
fn address_city<'de, D: Deserializer<'de>>(value: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    struct Address {
        #[serde(default, deserialize_with = "text")]
        city: String,
    }
    Ok(Option::<Address>::deserialize(value)?.map_or_else(String::new, |a| a.city))
}

/// The ids of a case's `contacts` objects.
fn contact_ids<'de, D: Deserializer<'de>>(value: D) -> Result<Vec<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Contact {
        id: u64,
    }
    let contacts = Option::<Vec<Contact>>::deserialize(value)?;
    Ok(contacts.into_iter().flatten().map(|c| c.id).collect())
}

/// The venv's python and the template database; fails, naming the script,
/// when `install-crm.sh` has not run.
fn installation() -> Result<(PathBuf, PathBuf)> {
    let cache = std::env::var_os("SILTA_PEERS_CACHE")
        .map_or_else(|| PathBuf::from("/var/cache/silta-peers"), PathBuf::from);
    let python = cache.join("crm-venv/bin/python");
    let template = cache.join("crm-template");
    if !python.is_file() || !template.join("stamp").is_file() {
        bail!(
            "BottleCRM is not installed in {}: run tests/peers/install-crm.sh \
             (as root, or with SILTA_PEERS_CACHE set to a writable directory)",
            cache.display()
        );
    }
    Ok((python, template.join("crm.sqlite3")))
}

/// Whether a start failed because another process holds our port (Django:
/// "Error: That port is already in use.").
fn port_was_taken(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}");
    text.contains("port is already in use") || text.contains("Address already in use")
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::ports::is_open;

    #[test]
    fn starts_seeds_reads_stops_and_starts_again_on_the_same_port() {
        let started = Instant::now();
        let mut crm = Crm::start().unwrap();
        eprintln!("started in {:?}", started.elapsed());
        let aino = crm
            .create_contact(
                "Aino \"A\"",
                "Virtanen",
                "aino@example.fi",
                Some("+358401234567"),
            )
            .unwrap();
        let bo = crm
            .create_contact("Bo", "Ek", "bo@example.se", None)
            .unwrap();
        let listed = crm.contacts().unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        let read = crm.contact(aino).unwrap().unwrap();
        assert_eq!(read.first_name, "Aino \"A\"");
        assert_eq!(read.email, "aino@example.fi");
        assert_eq!(read.phone.as_deref(), Some("+358401234567"));
        assert_eq!(crm.contact(bo).unwrap().unwrap().phone, None);
        assert_eq!(crm.contact(999_999).unwrap(), None);
        // The same first name again: refused, with BottleCRM's answer.
        let err = crm
            .create_contact("aino \"a\"", "Other", "other@example.fi", None)
            .unwrap_err();
        assert!(format!("{err:#}").contains("HTTP 400"), "{err:#}");

        let comment = json!({"comment": "Called about order 17"});
        let path = format!("/api/contacts/{aino}/");
        let answer = crm
            .call("POST", &path, Some(crm.token()), Some(&comment))
            .unwrap();
        assert!((200..300).contains(&answer.status), "{}", answer.body);
        let comments = crm.comments(aino).unwrap();
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert_eq!(comments[0].comment, "Called about order 17");
        assert!(!comments[0].commented_on.is_empty());

        let case = json!({
            "name": "Broken widget",
            "status": "New",
            "priority": "High",
            "type_of_case": "Problem",
            "closed_on": "2026-11-20",
            "description": "It broke.",
            "contacts": format!("[{aino},{bo}]"),
        });
        let answer = crm
            .call("POST", "/api/cases/", Some(crm.token()), Some(&case))
            .unwrap();
        ok_json::<Value>(&answer, "creating a case").unwrap();
        let cases = crm.cases().unwrap();
        assert_eq!(cases.len(), 1, "{cases:?}");
        let case = crm.case(cases[0].id).unwrap().unwrap();
        assert_eq!(
            (
                case.name.as_str(),
                case.status.as_str(),
                case.priority.as_str()
            ),
            ("Broken widget", "New", "High")
        );
        assert_eq!(case.case_type, "Problem");
        assert_eq!(case.closed_on, "2026-11-20");
        let mut contact_ids = case.contact_ids.clone();
        contact_ids.sort_unstable();
        assert_eq!(contact_ids, [aino, bo]);
        assert_eq!(crm.case(case.id + 1).unwrap(), None);

        let port = crm.port();
        let token = crm.token().to_owned();
        crm.stop().unwrap();
        assert!(!is_open(port));
        assert!(!crm.is_running());
        crm.start_again().unwrap();
        assert_eq!(crm.port(), port);
        assert_eq!(crm.contact(aino).unwrap(), Some(read));
        // The token from the first start still works.
        let (status, body) = crm.get("/api/contacts/?limit=1").unwrap();
        assert_eq!(status, 200, "{body}");
        assert_ne!(token, "");
        drop(crm);
        assert!(!is_open(port));
    }

    #[test]
    fn reads_only_good_answers() {
        let answer = |status, body: &str| Answer {
            status,
            body: body.to_owned(),
        };
        let ok: Value = ok_json(&answer(200, r#"{"a": 1}"#), "x").unwrap();
        assert_eq!(ok, json!({"a": 1}));
        for (status, body) in [
            (200, r#"{"error": true, "errors": "no"}"#),
            (404, r#"{"a": 1}"#),
            (200, "<html>"),
        ] {
            let err = ok_json::<Value>(&answer(status, body), "x").unwrap_err();
            assert_eq!(err.to_string(), format!("x: HTTP {status}: {body}"));
        }
        let contact: CrmContact = serde_json::from_value(json!({
            "id": 3, "first_name": "A", "last_name": null, "email": "a@b.c",
            "phone": null, "address": null, "description": null, "teams": [],
        }))
        .unwrap();
        assert_eq!(contact.city, "");
        assert_eq!(contact.last_name, "");
        let contact: CrmContact =
            serde_json::from_value(json!({"id": 3, "address": {"city": "Turku"}})).unwrap();
        assert_eq!(contact.city, "Turku");
        let case: CrmCase =
            serde_json::from_value(json!({"id": 1, "contacts": [{"id": 4}, {"id": 5}]})).unwrap();
        assert_eq!(case.contact_ids, [4, 5]);
        let err = ok_json::<CrmCase>(&answer(200, r#"{"id": "x"}"#), "x").unwrap_err();
        assert!(
            format!("{err:#}").starts_with(r#"x: unexpected answer, HTTP 200: {"id": "x"}: "#),
            "{err:#}"
        );
    }
}
