//! Proves [`MailServers`] with real clients: lettre for SMTP (STARTTLS, implicit
//! TLS, AUTH), a few lines of IMAP over plain TCP and rustls.

// The helpers below are test code too (clippy exempts only `#[test]` fns): a
// panic there is the failure message.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use silta_test_peers::MailServers;

const WAIT: Duration = Duration::from_secs(20);

// === SMTP ===

fn tls_params(mail: &MailServers) -> TlsParameters {
    let pem = std::fs::read(mail.ca_cert_pem()).unwrap();
    TlsParameters::builder("localhost".into())
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build_rustls()
        .unwrap()
}

fn message(to: &str, subject: &str) -> Message {
    Message::builder()
        .from("Support <support@example.test>".parse::<Mailbox>().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .body(format!("body of {subject}\r\n"))
        .unwrap()
}

/// Submission port: STARTTLS required, then AUTH as `user`.
fn submit(mail: &MailServers, user: &str, to: &str, subject: &str) {
    let transport = SmtpTransport::builder_dangerous("localhost")
        .port(mail.submission_port())
        .tls(Tls::Required(tls_params(mail)))
        .credentials(Credentials::new(user.into(), mail.password().into()))
        .timeout(Some(WAIT))
        .build();
    transport.send(&message(to, subject)).unwrap();
}

/// MX-style port: STARTTLS offered, no AUTH.
fn deliver_mx(mail: &MailServers, to: &str, subject: &str) {
    let transport = SmtpTransport::builder_dangerous("localhost")
        .port(mail.smtp_port())
        .tls(Tls::Opportunistic(tls_params(mail)))
        .timeout(Some(WAIT))
        .build();
    transport.send(&message(to, subject)).unwrap();
}

/// Plain-text SMTP: greeting, EHLO, then `command`; returns the transcript.
fn smtp_dialog(port: u16, command: &str) -> String {
    let mut smtp = BufReader::new(tcp(port));
    let mut transcript = String::new();
    let mut reply = |smtp: &mut BufReader<TcpStream>| loop {
        let mut line = String::new();
        smtp.read_line(&mut line).unwrap();
        transcript.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            break;
        }
    };
    reply(&mut smtp);
    for cmd in ["EHLO client.test", command, "QUIT"] {
        write!(smtp.get_mut(), "{cmd}\r\n").unwrap();
        reply(&mut smtp);
    }
    transcript
}

// === IMAP ===

/// A minimal IMAP client: tagged commands, response collected as text.
struct Imap<S: Read + Write> {
    stream: BufReader<S>,
    tag: u32,
}

impl<S: Read + Write> Imap<S> {
    fn new(stream: S) -> Self {
        let mut imap = Imap {
            stream: BufReader::new(stream),
            tag: 0,
        };
        let greeting = imap.line();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        imap
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stream.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "IMAP server closed the connection");
        line
    }

    /// Sends `cmd`, returns everything up to and including the tagged OK.
    fn cmd(&mut self, cmd: &str) -> String {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.stream.get_mut(), "{tag} {cmd}\r\n").unwrap();
        self.stream.get_mut().flush().unwrap();
        let mut out = String::new();
        loop {
            let line = self.line();
            out.push_str(&line);
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "{cmd} failed: {out}");
                return out;
            }
        }
    }

    /// Logs in, and returns the whole INBOX as text.
    fn inbox(&mut self, user: &str, password: &str) -> String {
        self.cmd(&format!("LOGIN {user} {password}"));
        let select = self.cmd("SELECT INBOX");
        let text = if select.contains("* 0 EXISTS") {
            String::new()
        } else {
            self.cmd("FETCH 1:* BODY.PEEK[]")
        };
        self.cmd("LOGOUT");
        text
    }
}

fn rustls_config(mail: &MailServers) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(mail.ca_cert_pem()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn tls_stream(mail: &MailServers, tcp: TcpStream) -> impl Read + Write {
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(rustls_config(mail), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

fn tcp(port: u16) -> TcpStream {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    tcp
}

/// INBOX of `user` over IMAPS (implicit TLS, certificate checked against the CA).
fn inbox_imaps(mail: &MailServers, user: &str) -> String {
    Imap::new(tls_stream(mail, tcp(mail.imaps_port()))).inbox(user, mail.password())
}

/// INBOX of `user` over plain IMAP (plaintext LOGIN is allowed).
fn inbox_imap(mail: &MailServers, user: &str) -> String {
    Imap::new(tcp(mail.imap_port())).inbox(user, mail.password())
}

/// Polls `read` until the INBOX contains `needle`: delivery is asynchronous.
fn wait_in_inbox(read: impl Fn() -> String, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let inbox = read();
        if inbox.contains(needle) {
            return inbox;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never arrived; INBOX:\n{inbox}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// === tests ===

#[test]
fn submission_with_auth_reaches_the_customers_inbox_over_imaps() {
    let mail = MailServers::start().unwrap();
    submit(&mail, "support", "alice@customer.test", "hello alice");
    let inbox = wait_in_inbox(|| inbox_imaps(&mail, "alice"), "Subject: hello alice");
    assert!(inbox.contains("body of hello alice"), "{inbox}");
    // Plain IMAP reads the same mailbox.
    assert!(inbox_imap(&mail, "alice").contains("Subject: hello alice"));
}

#[test]
fn mx_port_delivers_plus_addresses_to_the_user() {
    let mail = MailServers::start().unwrap();
    deliver_mx(&mail, "support+r-abc@example.test", "reply to ticket abc");
    let inbox = wait_in_inbox(|| inbox_imap(&mail, "support"), "reply to ticket abc");
    assert!(inbox.contains("support+r-abc@example.test"), "{inbox}");
    mail.wait_for_message("support", "reply to ticket abc", WAIT)
        .unwrap();
}

#[test]
fn servers_refuse_what_they_must() {
    let mail = MailServers::start().unwrap();
    // Submission: no AUTH offered and no mail taken before STARTTLS.
    let ehlo = smtp_dialog(mail.submission_port(), "MAIL FROM:<alice@example.test>");
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert!(ehlo.contains("\r\n530 "), "{ehlo}");
    // The MX port offers STARTTLS but no AUTH, and takes mail without either.
    let ehlo = smtp_dialog(mail.smtp_port(), "MAIL FROM:<someone@customer.test>");
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert!(ehlo.contains("\r\n250 2.1.0"), "{ehlo}");
    // Wrong password.
    let wrong = SmtpTransport::builder_dangerous("localhost")
        .port(mail.submission_port())
        .tls(Tls::Required(tls_params(&mail)))
        .credentials(Credentials::new("alice".into(), "wrong".into()))
        .timeout(Some(WAIT))
        .build();
    let err = wrong
        .send(&message("bob@example.test", "bad auth"))
        .unwrap_err();
    assert!(err.to_string().contains("535"), "{err}");
    // SMTPS with AUTH works.
    let smtps = SmtpTransport::builder_dangerous("localhost")
        .port(mail.smtps_port())
        .tls(Tls::Wrapper(tls_params(&mail)))
        .credentials(Credentials::new("bob".into(), "secret".into()))
        .timeout(Some(WAIT))
        .build();
    smtps
        .send(&message("carol@example.test", "via smtps"))
        .unwrap();
    mail.wait_for_message("carol", "via smtps", WAIT).unwrap();
    // The MX port relays nowhere and knows its users.
    let mx = SmtpTransport::builder_dangerous("localhost")
        .port(mail.smtp_port())
        .timeout(Some(WAIT))
        .build();
    let err = mx
        .send(&message("someone@elsewhere.test", "relay"))
        .unwrap_err();
    assert!(err.to_string().contains("Relay access denied"), "{err}");
    let err = mx
        .send(&message("nobody@example.test", "unknown"))
        .unwrap_err();
    assert!(err.to_string().contains("User unknown"), "{err}");
    // IMAP offers STARTTLS.
    let mut imap = Imap::new(tcp(mail.imap_port()));
    assert!(imap.cmd("CAPABILITY").contains("STARTTLS"));
}

#[test]
fn servers_restart_on_the_same_ports_with_the_same_mail() {
    let mut mail = MailServers::start().unwrap();
    let ports = [
        mail.imap_port(),
        mail.imaps_port(),
        mail.smtp_port(),
        mail.submission_port(),
    ];
    deliver_mx(&mail, "bob@example.test", "before restart");
    wait_in_inbox(|| inbox_imap(&mail, "bob"), "before restart");

    mail.stop_smtp().unwrap();
    assert!(TcpStream::connect(("127.0.0.1", mail.smtp_port())).is_err());
    mail.start_smtp().unwrap();
    submit(&mail, "alice", "bob@customer.test", "after smtp restart");
    wait_in_inbox(|| inbox_imaps(&mail, "bob"), "after smtp restart");

    mail.stop_imap().unwrap();
    assert!(TcpStream::connect(("127.0.0.1", mail.imap_port())).is_err());
    // Postfix delivers into the Maildir while Dovecot is down.
    deliver_mx(&mail, "bob@example.test", "while imap down");
    mail.wait_for_message("bob", "while imap down", WAIT)
        .unwrap();
    mail.start_imap().unwrap();
    let inbox = wait_in_inbox(|| inbox_imap(&mail, "bob"), "while imap down");
    assert!(inbox.contains("before restart") && inbox.contains("after smtp restart"));
    submit(&mail, "alice", "bob@example.test", "after imap restart");
    wait_in_inbox(|| inbox_imaps(&mail, "bob"), "after imap restart");

    let after = [
        mail.imap_port(),
        mail.imaps_port(),
        mail.smtp_port(),
        mail.submission_port(),
    ];
    assert_eq!(ports, after);
}

#[test]
fn two_instances_at_once_do_not_collide() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| MailServers::start().unwrap());
        let b = s.spawn(|| MailServers::start().unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    let ports = |m: &MailServers| {
        [
            m.imap_port(),
            m.imaps_port(),
            m.smtp_port(),
            m.submission_port(),
            m.smtps_port(),
        ]
    };
    assert!(ports(&a).iter().all(|p| !ports(&b).contains(p)));
    assert_ne!(a.dir(), b.dir());
    submit(&a, "support", "alice@customer.test", "only in a");
    submit(&b, "support", "alice@customer.test", "only in b");
    let inbox_a = wait_in_inbox(|| inbox_imaps(&a, "alice"), "only in a");
    let inbox_b = wait_in_inbox(|| inbox_imaps(&b, "alice"), "only in b");
    assert!(!inbox_a.contains("only in b") && !inbox_b.contains("only in a"));

    let dir = a.dir().to_owned();
    let imap = a.imap_port();
    drop(a);
    assert!(!dir.exists(), "temp dir removed on drop");
    assert!(
        TcpStream::connect(("127.0.0.1", imap)).is_err(),
        "ports closed on drop"
    );
    // The other instance is unaffected.
    submit(&b, "bob", "alice@example.test", "b still works");
    wait_in_inbox(|| inbox_imap(&b, "alice"), "b still works");
}
