//! The plugin test harness, exercised with the echo guest component.

use silta_plugin_test::Harness;
use silta_plugin_test::contract::Normalized;
use silta_plugin_test::recording::Recordings;
use silta_test_harness::guest::Guest;
use silta_test_harness::http::LoopbackServer;
use silta_test_harness::manifest::manifest;

fn text(out: &[Normalized]) -> String {
    match out.first() {
        Some(Normalized::Interaction(i)) => i.interaction.text(),
        other => panic!("expected an interaction, got {other:?}"),
    }
}

fn write_manifest(dir: &std::path::Path, hosts: &[&str]) -> std::path::PathBuf {
    let path = dir.join("echo.toml");
    std::fs::write(
        &path,
        manifest(Guest::Echo)
            .allowed_hosts(hosts)
            .secrets(&["token"])
            .toml(),
    )
    .expect("write manifest");
    path
}

const RECORDINGS: &str = r#"{
  "exchanges": [
    { "request": { "method": "GET", "url": "https://api.example.test/ping" },
      "response": { "status": 200, "body": "pong" } },
    { "request": { "method": "GET", "url": "https://api.example.test/ping" },
      "response": { "status": 503, "body": "busy" } }
  ]
}"#;

#[tokio::test]
async fn replays_recorded_exchanges_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings.json");
    std::fs::write(&recordings, RECORDINGS).unwrap();
    let plugin = Harness::for_component(
        Guest::Echo.path(),
        write_manifest(dir.path(), &["https://api.example.test"]),
    )
    .secret("token", "t0k3n")
    .recordings(&recordings)
    .start()
    .await;
    let body = br#"{"action":"http","url":"https://api.example.test/ping"}"#;
    assert_eq!(
        text(&plugin.normalize_http(body, &[]).await.unwrap()),
        "status=200 body=pong"
    );
    assert_eq!(
        text(&plugin.normalize_http(body, &[]).await.unwrap()),
        "status=503 body=busy"
    );
}

#[tokio::test]
#[should_panic(expected = "has no recording:\n\nGET https://api.example.test/other")]
async fn an_unrecorded_request_fails_the_test_showing_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings.json");
    std::fs::write(&recordings, RECORDINGS).unwrap();
    let plugin = Harness::for_component(
        Guest::Echo.path(),
        write_manifest(dir.path(), &["https://api.example.test"]),
    )
    .recordings(&recordings)
    .start()
    .await;
    let _ = plugin
        .normalize_http(
            br#"{"action":"http","url":"https://api.example.test/other"}"#,
            &[],
        )
        .await;
}

#[tokio::test]
async fn records_live_exchanges_without_secrets() {
    let server = LoopbackServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recorded.json");
    let origin = server.base_url();
    {
        let plugin =
            Harness::for_component(Guest::Echo.path(), write_manifest(dir.path(), &[&origin]))
                .secret("token", "t0k3n")
                .recordings(&recordings)
                .record()
                .start()
                .await;
        let body =
            format!(r#"{{"action":"http","url":"{origin}/echo-auth","header_secret":"token"}}"#);
        let out = plugin.normalize_http(body.as_bytes(), &[]).await.unwrap();
        assert_eq!(text(&out), "status=200 body=Bearer t0k3n");
    }
    let saved = Recordings::load(&recordings).unwrap();
    assert_eq!(saved.exchanges.len(), 1);
    assert_eq!(
        saved.exchanges[0].request.url,
        format!("{origin}/echo-auth")
    );
    assert!(
        !saved.exchanges[0]
            .request
            .headers
            .contains_key("authorization")
    );
    assert!(
        !serde_json::to_string(&saved.exchanges[0].request)
            .unwrap()
            .contains("t0k3n")
    );

    // And the recording replays.
    let plugin = Harness::for_component(Guest::Echo.path(), write_manifest(dir.path(), &[&origin]))
        .secret("token", "t0k3n")
        .recordings(&recordings)
        .start()
        .await;
    drop(server);
    let body = format!(r#"{{"action":"http","url":"{origin}/echo-auth","header_secret":"token"}}"#);
    let out = plugin.normalize_http(body.as_bytes(), &[]).await.unwrap();
    assert_eq!(text(&out), "status=200 body=Bearer t0k3n");
}
