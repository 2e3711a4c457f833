//! [`Tryton`]: a real Tryton 8.2 ERP (trytond with the `party` and `sale`
//! modules, SQLite) on a free loopback port, one temp dir per instance.
//!
//! `tests/peers/install-tryton.sh` installs trytond into a venv and builds, once,
//! a template database `silta` (admin / `AdminPass123`, the EUR currency and a
//! company the admin belongs to, so sale orders can be made). Each instance
//! copies that template, so a start takes about a second instead of the
//! 15-45 s `trytond-admin` needs. JSON-RPC is served at
//! `http://127.0.0.1:PORT/silta/rpc/` and accepts HTTP Basic credentials.
//!
//! The seeding helpers talk JSON-RPC with a session (a Basic request costs a
//! password hash, about 0.3 s).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::http::{Answer, Call};
use crate::instance::{p, render};
use crate::ports::{free_port, poll};
use crate::process::{ServerProcess, log_tail};

const CONF_TEMPLATE: &str = include_str!("../templates/tryton.conf");
const DATABASE: &str = "silta";
const USER: &str = "admin";
const PASSWORD: &str = "AdminPass123";
/// Loading the database pool takes about a second; slow CI machines get more.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a start is retried when another process took the free port
/// between our probe and trytond's bind.
const START_ATTEMPTS: usize = 5;
/// Long enough for a Basic request's password hash on a busy machine.
const RPC_TIMEOUT: Duration = Duration::from_secs(30);
/// A readiness login: short, so a port answered by someone else (who
/// accepts and never answers) costs little before trytond's exit shows.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A running Tryton for one test; dropping it stops trytond, waits for its
/// port to close and removes the temp dir with the database.
///
/// Hold it in the test (a `static` is never dropped). [`Tryton::stop`] and
/// [`Tryton::start_again`] take it down and bring it back on the same port
/// with the same data, for tests of an ERP that goes away.
///
/// ```no_run
/// let tryton = silta_test_peers::Tryton::start()?;
/// let party = tryton.create_party("Aino Virtanen", Some("aino@example.fi"), Some("+358401234567"))?;
/// let line = silta_test_peers::SaleLine { description: "Widget", quantity: 2.0, unit_price: "10.50" };
/// let sale = tryton.create_sale(party, "Order 1", Some("2026-11-20"), &[line])?;
/// tryton.quote_sale(sale)?;
/// // point a client at tryton.rpc_url() with tryton.user() / tryton.password()
/// # anyhow::Ok(())
/// ```
pub struct Tryton {
    server: ServerProcess,
    port: u16,
    trytond: PathBuf,
    /// `Session <base64>` of the last readiness login, for the helpers.
    session: String,
    // Dropped last: the server must be gone before its files are.
    dir: TempDir,
}

/// One line of a sale order, for [`Tryton::create_sale`]: free text, no product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaleLine<'a> {
    /// What the line says.
    pub description: &'a str,
    /// How many.
    pub quantity: f64,
    /// Price of one, as a decimal string (`"10.50"`).
    pub unit_price: &'a str,
}

// === impl Tryton ===

impl Tryton {
    /// Copies the template database into a fresh temp dir, starts trytond on
    /// a free port and returns once a login on the database works.
    ///
    /// Fails, naming the script to run, when `install-tryton.sh` has not run;
    /// retries with a new port when the port was taken meanwhile. Errors
    /// carry the tail of trytond's log.
    pub fn start() -> Result<Tryton> {
        let (trytond, template) = installation()?;
        let mut attempt = 1;
        loop {
            match Self::start_once(&trytond, &template, free_port()?) {
                Ok(tryton) => return Ok(tryton),
                Err(e) if attempt < START_ATTEMPTS && port_was_taken(&e) => attempt += 1,
                Err(e) => return Err(e.context("starting the test Tryton")),
            }
        }
    }

    fn start_once(trytond: &Path, template: &Path, port: u16) -> Result<Tryton> {
        let dir = tempfile::Builder::new()
            .prefix("silta-peers-tryton-")
            .tempdir()
            .context("creating the Tryton temp dir")?;
        let db = dir.path().join("db");
        fs::create_dir(&db)?;
        fs::copy(template, db.join(format!("{DATABASE}.sqlite")))
            .with_context(|| format!("copying the template database {}", template.display()))?;
        let conf = render(
            CONF_TEMPLATE,
            &[("DB_DIR", p(&db)), ("PORT", port.to_string())],
        )?;
        fs::write(dir.path().join("trytond.conf"), conf)?;
        let mut tryton = Tryton {
            server: ServerProcess::new("trytond", vec![port]),
            port,
            trytond: trytond.to_path_buf(),
            session: String::new(),
            dir,
        };
        tryton.start_again()?;
        Ok(tryton)
    }

    /// Starts trytond again after [`Tryton::stop`], on the same port with the
    /// same data; returns once a login works. Does nothing when it runs.
    pub fn start_again(&mut self) -> Result<()> {
        if self.server.is_running() {
            return Ok(());
        }
        let child = self.server.spawn(
            Command::new(&self.trytond)
                .arg("-c")
                .arg(self.dir.path().join("trytond.conf"))
                .arg("-d")
                .arg(DATABASE),
            &self.dir.path().join("trytond.log"),
            "tests/peers/install-tryton.sh",
        )?;
        let port = self.port;
        let mut session = None;
        let ready = poll(READY_TIMEOUT, || {
            if let Some(status) = child.try_wait()? {
                bail!("trytond exited ({status})");
            }
            session = login(port).ok();
            Ok(session.is_some())
        });
        match (ready, session) {
            (Ok(()), Some(session)) => {
                self.session = session;
                Ok(())
            }
            (ready, _) => {
                let tail = self.logs();
                self.server.halt().ok();
                let why = ready.err().map(|e| format!("{e:#}")).unwrap_or_default();
                bail!("trytond did not become ready on 127.0.0.1:{port}: {why}\n{tail}");
            }
        }
    }

    /// Stops trytond (its port closed when this returns); the database is kept.
    pub fn stop(&mut self) -> Result<()> {
        self.server.stop().with_context(|| self.logs())
    }

    /// Whether trytond runs (between [`Tryton::stop`] and
    /// [`Tryton::start_again`] it does not).
    pub fn is_running(&self) -> bool {
        self.server.is_running()
    }

    /// The port trytond listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, what a client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The JSON-RPC endpoint of the database: `http://127.0.0.1:PORT/silta/rpc/`.
    pub fn rpc_url(&self) -> String {
        format!("{}/{DATABASE}/rpc/", self.base_url())
    }

    /// The database name: `"silta"`.
    pub fn database(&self) -> &str {
        DATABASE
    }

    /// The administrator's login: `"admin"`.
    pub fn user(&self) -> &str {
        USER
    }

    /// The administrator's password: `"AdminPass123"`.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// `base64("admin:AdminPass123")`: what follows `Basic ` in an
    /// `Authorization` header.
    pub fn basic_credentials(&self) -> String {
        BASE64.encode(format!("{USER}:{PASSWORD}"))
    }

    /// Calls `method` with `params` (a JSON array, as text) as the
    /// administrator and returns the JSON text of its `result` (compact, as
    /// `serde_json` writes it). A Tryton error (`{"error": [...]}`) or a
    /// non-200 answer is an error with the answer in it; `params` that are not
    /// JSON are an error before anything is sent.
    ///
    /// ```no_run
    /// # let tryton = silta_test_peers::Tryton::start()?;
    /// let ids = tryton.rpc("model.party.party.search", r#"[[["name", "=", "Aino"]], 0, null, null, {}]"#)?;
    /// # anyhow::Ok(())
    /// ```
    pub fn rpc(&self, method: &str, params: &str) -> Result<String> {
        let params = serde_json::from_str(params)
            .with_context(|| format!("{method}: the params are not JSON: {params}"))?;
        Ok(self.call(method, params)?.to_string())
    }

    /// [`Tryton::rpc`] on JSON values: what the helpers use.
    fn call(&self, method: &str, params: Value) -> Result<Value> {
        let request = json!({"id": 1, "method": method, "params": params});
        let answer = post(self.port, Some(&self.session), &request, RPC_TIMEOUT)
            .with_context(|| format!("calling {method} on Tryton 127.0.0.1:{}", self.port))?;
        if answer.status != 200 {
            bail!(
                "{method}: Tryton answered HTTP {}: {}",
                answer.status,
                answer.body
            );
        }
        let mut members: serde_json::Map<String, Value> = serde_json::from_str(&answer.body)
            .with_context(|| {
                format!(
                    "{method}: Tryton's answer is not a JSON object: {}",
                    answer.body
                )
            })?;
        if let Some(error) = members.get("error") {
            bail!("{method}: Tryton answered an error: {error}");
        }
        members
            .remove("result")
            .with_context(|| format!("{method}: Tryton's answer has no result: {}", answer.body))
    }

    /// Creates a party with an address (a sale needs one) and, when given,
    /// an `email` and a `phone` contact mechanism. Tryton stores a phone
    /// number in international format with spaces (`+358 40 1234567`).
    /// Returns the party's id.
    pub fn create_party(
        &self,
        name: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<u64> {
        let mechanisms: Vec<Value> = [("email", email), ("phone", phone)]
            .into_iter()
            .filter_map(|(kind, value)| Some(json!({"type": kind, "value": value?})))
            .collect();
        let party = json!({
            "name": name,
            "contact_mechanisms": [["create", mechanisms]],
            "addresses": [["create", [{"street": "1 Test Street", "city": "Testville"}]]],
        });
        one_id(&self.call("model.party.party.create", json!([[party], {}]))?)
    }

    /// Adds a contact mechanism of `kind` (`email`, `phone`, `mobile`,
    /// `website`, ...) to a party; returns its id.
    pub fn add_contact_mechanism(&self, party: u64, kind: &str, value: &str) -> Result<u64> {
        let mechanism = json!({"party": party, "type": kind, "value": value});
        one_id(&self.call(
            "model.party.contact_mechanism.create",
            json!([[mechanism], {}]),
        )?)
    }

    /// Creates a draft sale order for `party` (its first address, the
    /// template's company, EUR) with these lines; `sale_date` is
    /// `YYYY-MM-DD` or none (Tryton leaves a draft's date empty). Returns
    /// the sale's id.
    pub fn create_sale(
        &self,
        party: u64,
        description: &str,
        sale_date: Option<&str>,
        lines: &[SaleLine<'_>],
    ) -> Result<u64> {
        let search = |model: &str, domain: Value| {
            let method = format!("model.{model}.search");
            first_id(&self.call(&method, json!([domain, 0, 1, null, {}]))?)
        };
        let address = search("party.address", json!([["party", "=", party]]))?
            .with_context(|| format!("party {party} has no address"))?;
        let company = search("company.company", json!([]))?
            .context("the template has no company; rerun tests/peers/install-tryton.sh")?;
        let currency = search("currency.currency", json!([["code", "=", "EUR"]]))?
            .context("the template has no EUR currency")?;
        let lines: Vec<Value> = lines
            .iter()
            .map(|line| {
                json!({
                    "type": "line",
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": {"__class__": "Decimal", "decimal": line.unit_price},
                })
            })
            .collect();
        let mut sale = json!({
            "party": party,
            "company": company,
            "currency": currency,
            "invoice_address": address,
            "shipment_address": address,
            "description": description,
            "lines": [["create", lines]],
        });
        if let Some(date) = sale_date {
            sale["sale_date"] = json_date(date)?;
        }
        one_id(&self.call("model.sale.sale.create", json!([[sale], {}]))?)
    }

    /// Moves a draft sale to `quotation`, which gives it a number.
    pub fn quote_sale(&self, sale: u64) -> Result<()> {
        self.call("model.sale.sale.quote", json!([[sale], {}]))?;
        Ok(())
    }

    /// The temp dir with `trytond.conf`, `trytond.log` and `db/silta.sqlite`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The tail of trytond's log, for a failing test's message.
    pub fn logs(&self) -> String {
        log_tail(&[&self.dir.path().join("trytond.log")], 40)
    }
}

impl Drop for Tryton {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("silta-test-peers: {e:#}");
        }
    }
}

// === installation ===

/// trytond in the venv and the template database, as install-tryton.sh left them.
fn installation() -> Result<(PathBuf, PathBuf)> {
    let cache = std::env::var_os("SILTA_PEERS_CACHE")
        .map_or_else(|| PathBuf::from("/var/cache/silta-peers"), PathBuf::from);
    let trytond = cache.join("tryton-venv/bin/trytond");
    let template = cache.join("tryton-template");
    if !trytond.is_file() || !template.join("stamp").is_file() {
        bail!(
            "Tryton is not installed in {}: run tests/peers/install-tryton.sh \
             (as root, or with SILTA_PEERS_CACHE set to a writable directory)",
            cache.display()
        );
    }
    Ok((trytond, template.join(format!("{DATABASE}.sqlite"))))
}

/// Whether a start failed because another process holds our port.
fn port_was_taken(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("Address already in use")
}

// === JSON-RPC over HTTP ===

/// Logs in as the administrator; `Ok` (with the `Authorization` value of the
/// session) only once the database answers.
fn login(port: u16) -> Result<String> {
    /// `[user_id, "session key", bus url or null]`.
    #[derive(Deserialize)]
    struct Login {
        result: (u64, String, Option<String>),
    }
    let request = json!({
        "id": 0,
        "method": "common.db.login",
        "params": [USER, {"password": PASSWORD}, "en"],
    });
    let answer = post(port, None, &request, LOGIN_TIMEOUT)?;
    let login = serde_json::from_str::<Login>(&answer.body)
        .ok()
        .filter(|_| answer.status == 200)
        .with_context(|| format!("login answered HTTP {}: {}", answer.status, answer.body))?;
    let (user_id, key, _bus) = login.result;
    Ok(format!(
        "Session {}",
        BASE64.encode(format!("{USER}:{user_id}:{key}"))
    ))
}

/// One JSON-RPC `POST` to the database's endpoint.
fn post(
    port: u16,
    authorization: Option<&str>,
    request: &Value,
    timeout: Duration,
) -> Result<Answer> {
    Call {
        port,
        method: "POST",
        path: &format!("/{DATABASE}/rpc/"),
        host: None,
        authorization,
        json: Some(request),
        timeout,
    }
    .send()
}

/// The ids of a result such as `[2, 3]`.
fn ids(result: &Value) -> Result<Vec<u64>> {
    Vec::deserialize(result).with_context(|| format!("expected a list of ids, got {result}"))
}

fn first_id(result: &Value) -> Result<Option<u64>> {
    Ok(ids(result)?.first().copied())
}

fn one_id(result: &Value) -> Result<u64> {
    first_id(result)?.with_context(|| format!("expected one id, got {result}"))
}

/// `YYYY-MM-DD` as Tryton's JSON date.
fn json_date(date: &str) -> Result<Value> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .with_context(|| format!("sale date {date:?} is not YYYY-MM-DD"))?;
    Ok(json!({
        "__class__": "date",
        "year": date.year(),
        "month": date.month(),
        "day": date.day(),
    }))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpListener};
    use std::time::Instant;

    use super::*;
    use crate::ports::is_open;

    #[test]
    fn starts_seeds_stops_and_starts_again_on_the_same_port() {
        let started = Instant::now();
        let mut tryton = Tryton::start().unwrap();
        eprintln!("started in {:?}", started.elapsed());
        let party = tryton
            .create_party(
                "Aino \"A\" Virtanen",
                Some("aino@example.fi"),
                Some("+358401234567"),
            )
            .unwrap();
        tryton
            .add_contact_mechanism(party, "mobile", "+358 50 1112222")
            .unwrap();
        let line = SaleLine {
            description: "Widget",
            quantity: 2.0,
            unit_price: "10.50",
        };
        let sale = tryton
            .create_sale(party, "Order", Some("2026-11-20"), &[line])
            .unwrap();
        tryton.quote_sale(sale).unwrap();

        let port = tryton.port();
        let stopped = Instant::now();
        tryton.stop().unwrap();
        eprintln!("stopped in {:?}", stopped.elapsed());
        assert!(!is_open(port));
        assert!(!tryton.is_running());
        tryton.start_again().unwrap();
        assert_eq!(tryton.port(), port);

        let read = tryton
            .rpc(
                "model.sale.sale.read",
                &format!(r#"[[{sale}],["number","state","total_amount","sale_date"],{{}}]"#),
            )
            .unwrap();
        let read: Value = serde_json::from_str(&read).unwrap();
        assert_eq!(read[0]["state"], "quotation", "{read}");
        assert_eq!(read[0]["total_amount"]["decimal"], "21.00", "{read}");
        assert_eq!(read[0]["sale_date"], json_date("2026-11-20").unwrap());
        let names = tryton
            .rpc(
                "model.party.party.read",
                &format!("[[{party}],[\"name\"],{{}}]"),
            )
            .unwrap();
        assert!(names.contains(r#""Aino \"A\" Virtanen""#), "{names}");
        // HTTP Basic, as a client without a session uses it.
        let basic = format!("Basic {}", tryton.basic_credentials());
        let search = json!({
            "id": 1,
            "method": "model.party.party.search",
            "params": [[["contact_mechanisms.value_compact", "=", "+358501112222"]], 0, null, null, {}],
        });
        let answer = post(port, Some(&basic), &search, RPC_TIMEOUT).unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(answer["result"], json!([party]));
        let err = tryton
            .rpc("model.nothing.here.search", "[[],0,null,null,{}]")
            .unwrap_err();
        assert!(format!("{err:#}").contains("model.nothing.here"), "{err:#}");
        assert!(tryton.rpc("model.party.party.search", "[[],").is_err());
        drop(tryton);
        assert!(!is_open(port));
    }

    /// `start` retries on exactly this error, so it must be recognisable.
    #[test]
    fn a_port_taken_meanwhile_is_recognised() {
        let (trytond, template) = installation().unwrap();
        let thief = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = thief.local_addr().unwrap().port();
        let err = Tryton::start_once(&trytond, &template, port).err().unwrap();
        assert!(port_was_taken(&err), "{err:#}");
    }

    #[test]
    fn reads_ids_and_writes_dates() {
        assert_eq!(ids(&json!([2, 3])).unwrap(), [2, 3]);
        assert_eq!(ids(&json!([])).unwrap(), Vec::<u64>::new());
        assert!(ids(&Value::Null).is_err());
        assert_eq!(one_id(&json!([7])).unwrap(), 7);
        assert!(one_id(&json!([])).is_err());
        assert_eq!(
            json_date("2026-11-20").unwrap(),
            json!({"__class__": "date", "year": 2026, "month": 11, "day": 20})
        );
        assert!(json_date("20.11.2026").is_err());
        assert!(json_date("2026-13-01").is_err());
    }
}
