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
//! The helpers talk to the API the way a client does and read its answers
//! with a small JSON reader of their own (this crate stays free of serde).
//!
//! ```no_run
//! let crm = silta_test_peers::Crm::start()?;
//! let id = crm.create_contact("Aino", "Virtanen", "aino@example.fi", Some("+358401234567"))?;
//! // point a client at crm.base_url() with `Authorization: JWT {crm.token()}`
//! assert_eq!(crm.contact(id)?.map(|c| c.email), Some("aino@example.fi".to_owned()));
//! # anyhow::Ok(())
//! ```

mod http;
mod json;

use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use self::http::{Answer, Call};
use self::json::{Json, string};
use crate::ports::{poll, wait_closed};
use crate::process::{log_tail, terminate};

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
    child: Option<Child>,
    port: u16,
    /// A host name only this instance's server accepts.
    host: String,
    python: PathBuf,
    token: String,
    // Dropped last: the server must be gone before its files are.
    dir: TempDir,
}

/// A contact as the CRM lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmContact {
    /// The contact's id.
    pub id: u64,
    /// First name (unique in BottleCRM, case-insensitively).
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email address (unique).
    pub email: String,
    /// E.164 phone number (unique), if any.
    pub phone: Option<String>,
    /// City of its address ("" when none).
    pub city: String,
    /// Description ("" when none).
    pub description: String,
}

/// A comment on a contact: what an agent sees in the contact's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmComment {
    /// The comment's id.
    pub id: u64,
    /// Its text (at most 255 characters).
    pub comment: String,
    /// When it was made (RFC 3339, in the CRM's time zone, `+05:30`).
    pub commented_on: String,
}

/// A case (BottleCRM's ticket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmCase {
    /// The case's id.
    pub id: u64,
    /// Its name (unique, at most 64 characters).
    pub name: String,
    /// `New`, `Assigned`, `Pending`, `Closed`, `Rejected` or `Duplicate`.
    pub status: String,
    /// `Low`, `Normal`, `High` or `Urgent`.
    pub priority: String,
    /// `Question`, `Incident` or `Problem` ("" when none).
    pub case_type: String,
    /// `YYYY-MM-DD`; BottleCRM requires it even for open cases.
    pub closed_on: String,
    /// Description ("" when none).
    pub description: String,
    /// Ids of the contacts it concerns.
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
        let mut crm = Crm {
            child: None,
            port: free_port()?,
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
        if self.child.is_some() {
            return Ok(());
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("runserver.log"))?;
        let child = Command::new(&self.python)
            .arg(self.dir.path().join("crm_server.py"))
            .arg(self.port.to_string())
            // Upstream logging writes ./server.log.
            .current_dir(self.dir.path())
            .env("PYTHONPATH", self.dir.path())
            .env("SILTA_CRM_DIR", self.dir.path())
            .env("SILTA_CRM_HOST", &self.host)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (see tests/peers/install-crm.sh)",
                    self.python.display()
                )
            })?;
        let child = self.child.insert(child);
        let call = |path| Call {
            port: self.port,
            host: &self.host,
            method: "GET",
            path,
            authorization: None,
            json_body: None,
            timeout: CALL_TIMEOUT,
        };
        // Only our own server accepts our host name: a 200 here is ours.
        let ready = poll(READY_TIMEOUT, || {
            if let Some(status) = child.try_wait()? {
                bail!("the CRM's dev server exited ({status})");
            }
            Ok(call("/swagger.json").send().is_ok_and(|a| a.status == 200))
        });
        let token = ready.and_then(|()| self.login());
        match token {
            Ok(token) => {
                self.token = token;
                Ok(())
            }
            Err(e) => {
                let tail = self.logs();
                self.halt().ok();
                bail!(
                    "the CRM did not become ready on 127.0.0.1:{}: {e:#}\n{tail}",
                    self.port
                );
            }
        }
    }

    /// Stops the server (its port closed when this returns); the database is kept.
    pub fn stop(&mut self) -> Result<()> {
        if self.halt()? {
            wait_closed(&[self.port], Duration::from_secs(20))
                .with_context(|| format!("stopping the CRM\n{}", self.logs()))?;
        }
        Ok(())
    }

    /// Stops the server without waiting for the port (after a failed start it
    /// may belong to someone else). Returns whether it was running.
    fn halt(&mut self) -> Result<bool> {
        let Some(mut child) = self.child.take() else {
            return Ok(false);
        };
        terminate(&mut child, Duration::from_secs(10))?;
        Ok(true)
    }

    /// Whether the server runs (between [`Crm::stop`] and
    /// [`Crm::start_again`] it does not).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
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
        let body = format!(
            r#"{{"email":{},"password":{}}}"#,
            string(ADMIN_EMAIL),
            string(ADMIN_PASSWORD)
        );
        let answer = self.call("POST", "/api/auth/login/", None, Some(&body))?;
        let json = ok_json(&answer, "login")?;
        json.get("token")
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("login answered without a token: {}", answer.body))
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
        let phone = phone.map(|p| format!(r#","phone":{}"#, string(p)));
        let body = format!(
            r#"{{"first_name":{},"last_name":{},"email":{}{}}}"#,
            string(first_name),
            string(last_name),
            string(email),
            phone.unwrap_or_default()
        );
        let answer = self.call("POST", "/api/contacts/", Some(&self.token), Some(&body))?;
        ok_json(&answer, "creating a contact")?;
        // The answer carries no id: find the contact by its (unique) email.
        self.contacts()?
            .into_iter()
            .find(|c| c.email.eq_ignore_ascii_case(email))
            .map(|c| c.id)
            .with_context(|| format!("the contact {email} was created but is not listed"))
    }

    /// Every contact, newest first.
    pub fn contacts(&self) -> Result<Vec<CrmContact>> {
        let json = self.get_json("/api/contacts/?limit=1000")?;
        Ok(json
            .get("contact_obj_list")
            .items()
            .iter()
            .filter_map(contact)
            .collect())
    }

    /// The contact `id`, or `None` when there is none (the API's 404).
    pub fn contact(&self, id: u64) -> Result<Option<CrmContact>> {
        let answer = self.get(&format!("/api/contacts/{id}/"))?;
        if answer.0 == 404 {
            return Ok(None);
        }
        let json = ok_json(&Answer::from(answer), "reading a contact")?;
        Ok(contact(json.get("contact_obj")))
    }

    /// The comments on contact `id`, oldest first: where the bottlecrm plugin
    /// records activities.
    pub fn comments(&self, contact_id: u64) -> Result<Vec<CrmComment>> {
        let json = self.get_json(&format!("/api/contacts/{contact_id}/"))?;
        Ok(json
            .get("comments")
            .items()
            .iter()
            .filter_map(|c| {
                Some(CrmComment {
                    id: c.get("id").as_u64()?,
                    comment: c.get("comment").text(),
                    commented_on: c.get("commented_on").text(),
                })
            })
            .collect())
    }

    /// Every case, newest first.
    pub fn cases(&self) -> Result<Vec<CrmCase>> {
        let json = self.get_json("/api/cases/?limit=1000")?;
        Ok(json
            .get("cases")
            .items()
            .iter()
            .filter_map(|c| {
                Some(CrmCase {
                    id: c.get("id").as_u64()?,
                    name: c.get("name").text(),
                    status: c.get("status").text(),
                    priority: c.get("priority").text(),
                    case_type: c.get("case_type").text(),
                    closed_on: c.get("closed_on").text(),
                    description: c.get("description").text(),
                    contact_ids: c
                        .get("contacts")
                        .items()
                        .iter()
                        .filter_map(|c| c.get("id").as_u64())
                        .collect(),
                })
            })
            .collect())
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

    fn get_json(&self, path: &str) -> Result<Json> {
        let answer = self.call("GET", path, Some(&self.token), None)?;
        ok_json(&answer, path)
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        json_body: Option<&str>,
    ) -> Result<Answer> {
        let authorization = token.map(|t| format!("JWT {t}"));
        let host = format!("{}:{}", self.host, self.port);
        Call {
            port: self.port,
            host: &host,
            method,
            path,
            authorization: authorization.as_deref(),
            json_body,
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

impl From<(u16, String)> for Answer {
    fn from((status, body): (u16, String)) -> Self {
        Answer { status, body }
    }
}

/// The body of a 2xx answer that is not BottleCRM's `{"error": true, ...}`.
fn ok_json(answer: &Answer, what: &str) -> Result<Json> {
    let json = Json::parse(&answer.body);
    match json {
        Ok(json)
            if (200..300).contains(&answer.status) && json.get("error") != &Json::Bool(true) =>
        {
            Ok(json)
        }
        _ => bail!("{what}: HTTP {}: {}", answer.status, answer.body),
    }
}

fn contact(c: &Json) -> Option<CrmContact> {
    Some(CrmContact {
        id: c.get("id").as_u64()?,
        first_name: c.get("first_name").text(),
        last_name: c.get("last_name").text(),
        email: c.get("email").text(),
        phone: c.get("phone").as_str().map(str::to_owned),
        city: c.get("address").get("city").text(),
        description: c.get("description").text(),
    })
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

/// A port nobody listens on right now (bind 127.0.0.1:0, then release it).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether a start failed because another process holds our port (Django:
/// "Error: That port is already in use.").
fn port_was_taken(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}");
    text.contains("port is already in use") || text.contains("Address already in use")
}
