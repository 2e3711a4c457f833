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
//! password hash, about 0.3 s); the wire code here is deliberately small:
//! requests are written as JSON text and only a response's top-level
//! `result` or `error` is picked out, as JSON text.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::instance::{p, render};
use crate::ports::{poll, wait_closed};
use crate::process::{log_tail, terminate};

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
    child: Option<Child>,
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
            child: None,
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
        if self.child.is_some() {
            return Ok(());
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let child = Command::new(&self.trytond)
            .arg("-c")
            .arg(self.dir.path().join("trytond.conf"))
            .arg("-d")
            .arg(DATABASE)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (see tests/peers/install-tryton.sh)",
                    self.trytond.display()
                )
            })?;
        let child = self.child.insert(child);
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
                self.halt().ok();
                let why = ready.err().map(|e| format!("{e:#}")).unwrap_or_default();
                bail!("trytond did not become ready on 127.0.0.1:{port}: {why}\n{tail}");
            }
        }
    }

    /// Stops trytond (its port closed when this returns); the database is kept.
    pub fn stop(&mut self) -> Result<()> {
        if self.halt()? {
            wait_closed(&[self.port], Duration::from_secs(20))
                .with_context(|| format!("stopping trytond\n{}", self.logs()))?;
        }
        Ok(())
    }

    /// Stops trytond without waiting for the port (after a failed start it may
    /// belong to someone else). Returns whether it was running.
    fn halt(&mut self) -> Result<bool> {
        let Some(mut child) = self.child.take() else {
            return Ok(false);
        };
        terminate(&mut child, Duration::from_secs(10))?;
        Ok(true)
    }

    /// Whether trytond runs (between [`Tryton::stop`] and
    /// [`Tryton::start_again`] it does not).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
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
        base64(format!("{USER}:{PASSWORD}").as_bytes())
    }

    /// Calls `method` with `params` (a JSON array, as text) as the
    /// administrator and returns the JSON text of its `result`. A Tryton
    /// error (`{"error": [...]}`) or a non-200 answer is an error with the
    /// answer in it.
    ///
    /// ```no_run
    /// # let tryton = silta_test_peers::Tryton::start()?;
    /// let ids = tryton.rpc("model.party.party.search", r#"[[["name", "=", "Aino"]], 0, null, null, {}]"#)?;
    /// # anyhow::Ok(())
    /// ```
    pub fn rpc(&self, method: &str, params: &str) -> Result<String> {
        let body = format!(
            r#"{{"id":1,"method":{},"params":{params}}}"#,
            json_string(method)
        );
        let path = format!("/{DATABASE}/rpc/");
        let (status, answer) = post(self.port, &path, Some(&self.session), &body, RPC_TIMEOUT)
            .with_context(|| format!("calling {method} on Tryton 127.0.0.1:{}", self.port))?;
        if status != 200 {
            bail!("{method}: Tryton answered HTTP {status}: {answer}");
        }
        let members = object_members(&answer)
            .with_context(|| format!("{method}: Tryton's answer is not a JSON object: {answer}"))?;
        if let Some((_, error)) = members.iter().find(|(key, _)| key == "error") {
            bail!("{method}: Tryton answered an error: {error}");
        }
        match members.into_iter().find(|(key, _)| key == "result") {
            Some((_, result)) => Ok(result.to_owned()),
            None => bail!("{method}: Tryton's answer has no result: {answer}"),
        }
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
        let mechanisms: Vec<String> = [("email", email), ("phone", phone)]
            .into_iter()
            .filter_map(|(kind, value)| {
                value.map(|v| format!(r#"{{"type":"{kind}","value":{}}}"#, json_string(v)))
            })
            .collect();
        let params = format!(
            r#"[[{{"name":{},"contact_mechanisms":[["create",[{}]]],"addresses":[["create",[{{"street":"1 Test Street","city":"Testville"}}]]]}}],{{}}]"#,
            json_string(name),
            mechanisms.join(",")
        );
        one_id(&self.rpc("model.party.party.create", &params)?)
    }

    /// Adds a contact mechanism of `kind` (`email`, `phone`, `mobile`,
    /// `website`, ...) to a party; returns its id.
    pub fn add_contact_mechanism(&self, party: u64, kind: &str, value: &str) -> Result<u64> {
        let params = format!(
            r#"[[{{"party":{party},"type":{},"value":{}}}],{{}}]"#,
            json_string(kind),
            json_string(value)
        );
        one_id(&self.rpc("model.party.contact_mechanism.create", &params)?)
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
        let address = first_id(&self.rpc(
            "model.party.address.search",
            &format!(r#"[[["party","=",{party}]],0,1,null,{{}}]"#),
        )?)?
        .with_context(|| format!("party {party} has no address"))?;
        let company = first_id(&self.rpc("model.company.company.search", "[[],0,1,null,{}]")?)?
            .context("the template has no company; rerun tests/peers/install-tryton.sh")?;
        let currency = first_id(&self.rpc(
            "model.currency.currency.search",
            r#"[[["code","=","EUR"]],0,1,null,{}]"#,
        )?)?
        .context("the template has no EUR currency")?;
        let date = match sale_date {
            Some(date) => format!(r#","sale_date":{}"#, json_date(date)?),
            None => String::new(),
        };
        let lines: Vec<String> = lines
            .iter()
            .map(|line| {
                format!(
                    r#"{{"type":"line","description":{},"quantity":{:?},"unit_price":{{"__class__":"Decimal","decimal":{}}}}}"#,
                    json_string(line.description),
                    line.quantity,
                    json_string(line.unit_price)
                )
            })
            .collect();
        let params = format!(
            r#"[[{{"party":{party},"company":{company},"currency":{currency},"invoice_address":{address},"shipment_address":{address},"description":{}{date},"lines":[["create",[{}]]]}}],{{}}]"#,
            json_string(description),
            lines.join(",")
        );
        one_id(&self.rpc("model.sale.sale.create", &params)?)
    }

    /// Moves a draft sale to `quotation`, which gives it a number.
    pub fn quote_sale(&self, sale: u64) -> Result<()> {
        self.rpc("model.sale.sale.quote", &format!("[[{sale}],{{}}]"))?;
        Ok(())
    }

    /// The temp dir with `trytond.conf`, `trytond.log` and `db/silta.sqlite`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The tail of trytond's log, for a failing test's message.
    pub fn logs(&self) -> String {
        log_tail(&[&self.log_path()], 40)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("trytond.log")
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

/// A port nobody listens on right now (bind 127.0.0.1:0, then release it).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Whether a start failed because another process holds our port.
fn port_was_taken(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("Address already in use")
}

// === JSON-RPC over HTTP/1.1 ===

/// Logs in as the administrator; `Ok` (with the `Authorization` value of the
/// session) only once the database answers.
fn login(port: u16) -> Result<String> {
    let body = format!(
        r#"{{"id":0,"method":"common.db.login","params":[{},{{"password":{}}},"en"]}}"#,
        json_string(USER),
        json_string(PASSWORD)
    );
    let (status, answer) = post(
        port,
        &format!("/{DATABASE}/rpc/"),
        None,
        &body,
        LOGIN_TIMEOUT,
    )?;
    let result = object_members(&answer)?
        .into_iter()
        .find(|(key, _)| key == "result")
        .map(|(_, value)| value);
    let Some(result) = result.filter(|_| status == 200) else {
        bail!("login answered HTTP {status}: {answer}");
    };
    // [user_id, "session token", bus url]
    let inner = result
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .with_context(|| format!("login result {result}"))?;
    let mut parts = inner.splitn(3, ',');
    let user_id = parts.next().unwrap_or_default().trim();
    let token = parts.next().unwrap_or_default().trim().trim_matches('"');
    Ok(format!(
        "Session {}",
        base64(format!("{USER}:{user_id}:{token}").as_bytes())
    ))
}

/// One `POST` with `Connection: close`; returns the status and the body.
fn post(
    port: u16,
    path: &str,
    authorization: Option<&str>,
    body: &str,
    timeout: Duration,
) -> Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(timeout))?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(value) = authorization {
        let _ = write!(request, "Authorization: {value}\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .with_context(|| format!("not an HTTP answer: {answer:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        bail!("chunked answers are not read here: {head:?}");
    }
    Ok((status, body.to_owned()))
}

/// The members of a top-level JSON object: each key and its value as JSON
/// text. Keys are taken as written (Tryton's have no escapes).
fn object_members(text: &str) -> Result<Vec<(String, &str)>> {
    let bytes = text.as_bytes();
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        bail!("not a JSON object");
    }
    let mut members = Vec::new();
    loop {
        i = skip_space(bytes, i + 1);
        match bytes.get(i) {
            Some(b'}') => return Ok(members),
            Some(b'"') => {}
            _ => bail!("expected a key at byte {i}"),
        }
        let key_end = value_end(bytes, i)?;
        let key = text[i + 1..key_end - 1].to_owned();
        i = skip_space(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            bail!("expected ':' at byte {i}");
        }
        let start = skip_space(bytes, i + 1);
        let end = value_end(bytes, start)?;
        members.push((key, text[start..end].trim_end()));
        i = skip_space(bytes, end);
        match bytes.get(i) {
            Some(b',') => {}
            Some(b'}') => return Ok(members),
            _ => bail!("expected ',' or '}}' at byte {i}"),
        }
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Where the JSON value starting at `start` ends (exclusive).
fn value_end(bytes: &[u8], start: usize) -> Result<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = start;
    while let Some(&c) = bytes.get(i) {
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Ok(i + 1);
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth == 0 => return Ok(i),
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i + 1);
                    }
                }
                b',' if depth == 0 => return Ok(i),
                _ => {}
            }
        }
        i += 1;
    }
    if depth > 0 || in_string {
        bail!("the JSON text ends inside a value");
    }
    Ok(i)
}

/// The ids of a result such as `[2, 3]`.
fn ids(result: &str) -> Result<Vec<u64>> {
    let inner = result
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .with_context(|| format!("expected a list of ids, got {result}"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse()
                .with_context(|| format!("expected a list of ids, got {result}"))
        })
        .collect()
}

fn first_id(result: &str) -> Result<Option<u64>> {
    Ok(ids(result)?.first().copied())
}

fn one_id(result: &str) -> Result<u64> {
    first_id(result)?.with_context(|| format!("expected one id, got {result}"))
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `YYYY-MM-DD` as Tryton's JSON date.
fn json_date(date: &str) -> Result<String> {
    let parts: Vec<u32> = date
        .split('-')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("sale date {date:?} is not YYYY-MM-DD"))?;
    let [year, month, day] = parts[..] else {
        bail!("sale date {date:?} is not YYYY-MM-DD");
    };
    Ok(format!(
        r#"{{"__class__":"date","year":{year},"month":{month},"day":{day}}}"#
    ))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
                &format!(r#"[[{sale}],["number","state","total_amount"],{{}}]"#),
            )
            .unwrap();
        assert!(
            read.contains(r#""state": "quotation""#) || read.contains(r#""state":"quotation""#),
            "{read}"
        );
        assert!(read.contains("21.00"), "{read}");
        // HTTP Basic, as a client without a session uses it.
        let basic = format!("Basic {}", tryton.basic_credentials());
        let search = r#"{"id":1,"method":"model.party.party.search","params":[[["contact_mechanisms.value_compact","=","+358501112222"]],0,null,null,{}]}"#;
        let (status, answer) =
            post(port, "/silta/rpc/", Some(&basic), search, RPC_TIMEOUT).unwrap();
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(&format!("[{party}]")), "{answer}");
        assert!(
            tryton
                .rpc("model.nothing.here.search", "[[],0,null,null,{}]")
                .is_err()
        );
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
    fn base64_matches_the_rfc_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn picks_the_members_of_an_answer() {
        let answer =
            r#"{"id": 1, "result": [{"name": "A \"b\", c}", "x.": {"y": [1, 2]}}], "z": null}"#;
        let members = object_members(answer).unwrap();
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["id", "result", "z"]);
        assert_eq!(
            members[1].1,
            r#"[{"name": "A \"b\", c}", "x.": {"y": [1, 2]}}]"#
        );
        assert_eq!(members[2].1, "null");
        assert!(object_members("[1]").is_err());
        assert!(object_members(r#"{"a": [1"#).is_err());
    }

    #[test]
    fn reads_ids_and_writes_json() {
        assert_eq!(ids("[2, 3]").unwrap(), [2, 3]);
        assert_eq!(ids("[]").unwrap(), Vec::<u64>::new());
        assert!(ids("null").is_err());
        assert_eq!(json_string("a\"b\\\n"), r#""a\"b\\\u000a""#);
        assert_eq!(
            json_date("2026-11-20").unwrap(),
            r#"{"__class__":"date","year":2026,"month":11,"day":20}"#
        );
        assert!(json_date("20.11.2026").is_err());
    }
}
