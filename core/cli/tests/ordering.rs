//! Messages of one party are processed in the order they were accepted,
//! while other parties' messages are processed beside them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{free_port, sign};

const TOKEN: &str = "order-token";
const KEY: &str = "order-key";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request; returns the status code and body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

fn ingest(port: u16, id: &str, sender: &str) {
    let body = format!(
        r#"{{"id":"{id}","sender":{{"kind":"email","value":"{sender}"}},"text":"message {id}"}}"#
    );
    let headers = [
        ("authorization", format!("Bearer {TOKEN}")),
        ("x-silta-signature", sign(body.as_bytes(), KEY)),
        ("content-type", "application/json".to_owned()),
    ];
    let (status, answer) =
        request(port, "POST", "/v1/ingest/shop", &headers, &body).expect("ingest answers");
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn one_partys_messages_are_processed_in_acceptance_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = dir.path().join("silta.toml");
    std::fs::write(
        &config,
        format!(
            r#"config_version = 1
data_dir = {data:?}
[api]
listen = "127.0.0.1:{port}"
tokens = ["{TOKEN}"]
[pipeline]
workers = 4
[[plugins]]
id = "webhook"
capabilities = ["log", "secrets", "config"]
secrets = {{ signing-key = {{ env = "SILTA_ORDER_TEST_KEY" }} }}
[[channel_accounts]]
name = "shop"
plugin = "webhook"
"#,
            data = dir.path().join("data").display().to_string()
        ),
    )
    .expect("config");
    let child = Command::new(env!("CARGO_BIN_EXE_silta"))
        .args(["run", "--config"])
        .arg(&config)
        .env("SILTA_ORDER_TEST_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn silta");
    let _running = Running(child);
    let started = Instant::now();
    while request(port, "GET", "/readyz", &[], "").map(|r| r.0) != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "silta did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    const ORDERED: usize = 120;
    const NOISE: usize = 120;
    let noise: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                for n in 0..NOISE {
                    ingest(
                        port,
                        &format!("n{t}-{n:03}"),
                        &format!("noise{}@example.fi", n % 40),
                    );
                }
            })
        })
        .collect();
    for n in 0..ORDERED {
        ingest(port, &format!("o-{n:03}"), "ordered@example.fi");
    }
    for t in noise {
        t.join().expect("noise sender");
    }

    // Read the event log from the start until every interaction is there.
    let expected = ORDERED + 2 * NOISE;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        stream,
        "GET /v1/events?after=0 HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\n\r\n"
    )
    .expect("request events");
    let mut reader = BufReader::new(stream);
    let mut ordered_ids = Vec::new();
    let mut created = 0;
    let mut line = String::new();
    while created < expected {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .expect("event stream stays open");
        assert!(
            read > 0,
            "the event stream ended after {created} interactions"
        );
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let event: serde_json::Value = serde_json::from_str(data.trim()).expect("CloudEvent JSON");
        if event["type"] != "silta.interaction.created" {
            continue;
        }
        created += 1;
        let interaction = &event["data"]["interaction"];
        if interaction["sender"]["value"] == "ordered@example.fi" {
            let id = interaction["provenance"]["provider_message_id"]
                .as_str()
                .expect("provider message id")
                .to_owned();
            ordered_ids.push(id);
        }
    }
    let want: Vec<String> = (0..ORDERED).map(|n| format!("o-{n:03}")).collect();
    assert_eq!(
        ordered_ids, want,
        "one party's messages were processed out of order"
    );
}
