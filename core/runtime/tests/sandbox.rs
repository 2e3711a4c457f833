//! The sandbox's guarantees, each checked with a real guest component built
//! once per test run by `silta-test-harness`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use silta_model::{ChannelAccountId, Timestamp};
use silta_runtime::cache::CompileOutcome;
use silta_runtime::contract::{InboundEvent, Normalized, TransportMeta};
use silta_runtime::engine::{Allocation, EngineOptions};
use silta_runtime::grant::{Grant, SecretValue};
use silta_runtime::manifest::Capability;
use silta_runtime::{Error, Plugin, PluginError, PluginSource, Runtime, RuntimeOptions};
use silta_test_harness::guest::Guest;
use silta_test_harness::http::LoopbackServer;
use silta_test_harness::manifest::{ManifestBuilder, manifest};

/// One compiled-code cache for the whole test binary, so each guest is
/// compiled once.
fn cache_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
        .path()
        .to_path_buf()
}

fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions {
        cache_dir: Some(cache_dir()),
        ..RuntimeOptions::default()
    })
    .expect("runtime")
}

async fn load(rt: &Runtime, guest: Guest, m: ManifestBuilder, grant: Option<Grant>) -> Arc<Plugin> {
    try_load(rt, guest, m, grant).await.expect("plugin loads")
}

async fn try_load(
    rt: &Runtime,
    guest: Guest,
    m: ManifestBuilder,
    grant: Option<Grant>,
) -> silta_runtime::Result<Arc<Plugin>> {
    let manifest = m.build();
    let grant = grant.unwrap_or_else(|| Grant::all_requested(&manifest));
    rt.load(PluginSource {
        wasm: guest.bytes(),
        origin: guest.path(),
        manifest,
        grant,
    })
    .await
}

fn account() -> ChannelAccountId {
    static ID: OnceLock<ChannelAccountId> = OnceLock::new();
    *ID.get_or_init(ChannelAccountId::new)
}

fn event(body: impl Into<Vec<u8>>) -> InboundEvent {
    InboundEvent {
        channel_account: account(),
        received_at: Timestamp::now(),
        transport: TransportMeta::Http {
            method: "POST".into(),
            path: "/hook".into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
        },
        body: body.into(),
    }
}

fn first_text(out: &[Normalized]) -> String {
    texts(out).into_iter().next().expect("a text part")
}

fn texts(out: &[Normalized]) -> Vec<String> {
    let Some(Normalized::Interaction(i)) = out.first() else {
        panic!("expected an interaction, got {out:?}");
    };
    i.interaction
        .parts
        .iter()
        .filter_map(|p| match p {
            silta_model::Part::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

async fn echo(rt: &Runtime) -> Arc<Plugin> {
    load(
        rt,
        Guest::Echo,
        manifest(Guest::Echo).capabilities(&["log", "kv", "config"]),
        None,
    )
    .await
}

async fn echo_works(plugin: &Plugin) {
    let out = plugin
        .normalize(&event(
            r#"{"action":"echo","from":" Aino@Example.FI ","text":"hei","id":"m1"}"#,
        ))
        .await
        .expect("echo works");
    assert_eq!(first_text(&out), "hei");
}

// === well-behaved plugin ===

#[tokio::test]
async fn echo_normalizes_into_the_contact_format() {
    let rt = runtime();
    let plugin = echo(&rt).await;
    assert_eq!(plugin.info().id, "echo");
    let out = plugin
        .normalize(&event(
            r#"{"action":"echo","from":" Aino.Virtanen@Example.FI ","text":"Hei!","id":"m-1"}"#,
        ))
        .await
        .expect("normalize");
    let Some(Normalized::Interaction(n)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(
        n.sender.value(),
        "Aino.Virtanen@example.fi",
        "email normalized at construction"
    );
    assert_eq!(n.interaction.idempotency_key.provider_message_id(), "m-1");
    assert_eq!(n.interaction.idempotency_key.channel_account(), account());
    assert_eq!(n.interaction.idempotency_key.provider(), "echo");
    assert_eq!(n.interaction.provenance.plugin_id, "echo");
}

#[tokio::test]
async fn plugin_errors_are_values_not_traps() {
    let rt = runtime();
    let plugin = echo(&rt).await;
    match plugin.normalize(&event(r#"{"action":"bad"}"#)).await {
        Err(Error::Plugin {
            plugin,
            error: PluginError::BadInput(msg),
        }) => {
            assert_eq!(plugin.as_str(), "echo");
            assert!(msg.contains("text"), "{msg}");
        }
        other => panic!("expected bad input, got {other:?}"),
    }
    match plugin.normalize(&event(r#"{"action":"retry"}"#)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { retry_after, .. },
            ..
        }) => {
            assert_eq!(retry_after, Some(Duration::from_millis(1500)));
        }
        other => panic!("expected retryable, got {other:?}"),
    }
    match plugin.normalize(&event("not json")).await {
        Err(Error::Plugin {
            error: PluginError::BadInput(_),
            ..
        }) => {}
        other => panic!("expected bad input, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_plugin_output_is_rejected_naming_the_field() {
    let rt = runtime();
    let plugin = echo(&rt).await;
    match plugin
        .normalize(&event(
            r#"{"action":"echo","from":"not-an-email","text":"x","id":"m"}"#,
        ))
        .await
    {
        Err(Error::InvalidOutput { plugin, source }) => {
            assert_eq!(plugin.as_str(), "echo");
            assert_eq!(source.field(), "interactions[0].sender.value", "{source}");
        }
        other => panic!("expected invalid output, got {other:?}"),
    }
}

#[tokio::test]
async fn kv_config_and_log_capabilities() {
    let rt = runtime();
    let manifest = manifest(Guest::Echo).capabilities(&["log", "kv", "config"]);
    let mut grant = Grant::all_requested(&manifest.build());
    grant
        .config
        .insert("endpoint".into(), "https://example.test/in".into());
    let plugin = load(&rt, Guest::Echo, manifest, Some(grant)).await;
    let out = plugin
        .normalize(&event(r#"{"action":"kv","key":"cursor","value":"42"}"#))
        .await
        .expect("kv");
    assert_eq!(first_text(&out), "42");
    let out = plugin
        .normalize(&event(r#"{"action":"config","key":"endpoint"}"#))
        .await
        .expect("config");
    assert_eq!(first_text(&out), "https://example.test/in");
    let out = plugin
        .normalize(&event(r#"{"action":"log","message":"hello from wasm"}"#))
        .await
        .expect("log");
    assert_eq!(first_text(&out), "logged");
}

#[tokio::test]
async fn capabilities_not_granted_are_denied() {
    let rt = runtime();
    let manifest = manifest(Guest::Echo).capabilities(&["log", "kv", "config"]);
    let mut grant = Grant::all_requested(&manifest.build());
    grant.capabilities.remove(&Capability::Kv);
    grant.capabilities.remove(&Capability::Config);
    grant.config.insert("endpoint".into(), "secret-ish".into());
    let plugin = load(&rt, Guest::Echo, manifest, Some(grant)).await;
    match plugin
        .normalize(&event(r#"{"action":"kv","key":"k","value":"v"}"#))
        .await
    {
        Err(Error::Plugin {
            error: PluginError::Permanent(msg),
            ..
        }) => assert!(msg.contains("Denied"), "{msg}"),
        other => panic!("expected kv denied, got {other:?}"),
    }
    let out = plugin
        .normalize(&event(r#"{"action":"config","key":"endpoint"}"#))
        .await
        .expect("config");
    assert_eq!(first_text(&out), "<none>");
}

#[tokio::test]
async fn secrets_sign_and_fill_headers_but_never_leak() {
    let server = LoopbackServer::start().await.expect("server");
    let rt = runtime();
    let origin = server.base_url();
    let manifest = manifest(Guest::Echo)
        .allowed_hosts(&[&origin])
        .secrets(&["token"]);
    let mut grant = Grant::all_requested(&manifest.build());
    grant
        .secrets
        .insert("token".into(), SecretValue::new(*b"s3cr3t"));
    let plugin = load(&rt, Guest::Echo, manifest, Some(grant)).await;

    let out = plugin
        .normalize(&event(
            r#"{"action":"sign","secret":"token","data":"what do ya want for nothing?"}"#,
        ))
        .await
        .expect("sign");
    let parts = texts(&out);
    // HMAC-SHA256("s3cr3t", data), computed by the host.
    assert_eq!(parts[0].len(), 64);
    assert_eq!(parts[1], "verified=true");
    assert!(
        !parts[2].contains("s3cr3t"),
        "the placeholder must not contain the secret"
    );

    let body = format!(r#"{{"action":"http","url":"{origin}/echo-auth","header_secret":"token"}}"#);
    let out = plugin.normalize(&event(body)).await.expect("http");
    assert_eq!(first_text(&out), "status=200 body=Bearer s3cr3t");
    assert_eq!(
        server.seen()[0].authorization.as_deref(),
        Some("Bearer s3cr3t")
    );

    // In the URL's path and query too (a bot token in the path).
    let body =
        format!(r#"{{"action":"http","url":"{origin}/ok?key={{secret}}","url_secret":"token"}}"#);
    let out = plugin.normalize(&event(body)).await.expect("http");
    assert_eq!(first_text(&out), "status=200 body=hello");
    assert_eq!(server.seen()[1].path, "/ok?key=s3cr3t");

    // HTTP Basic credentials: the user and the secret, filled in by the host.
    let body = format!(
        r#"{{"action":"http","url":"{origin}/echo-auth","basic_secret":"token","basic_user":"AC123"}}"#
    );
    let out = plugin.normalize(&event(body)).await.expect("http");
    // base64("AC123:s3cr3t")
    assert_eq!(first_text(&out), "status=200 body=Basic QUMxMjM6czNjcjN0");

    // Other hash functions (since 0.2.1): RFC 2202 case 2 for SHA-1.
    let out = plugin
        .normalize(&event(
            r#"{"action":"sign","secret":"token","algorithm":"sha1","data":"what do ya want for nothing?"}"#,
        ))
        .await
        .expect("sign");
    let parts = texts(&out);
    assert_eq!(parts[0].len(), 40, "a SHA-1 MAC: {parts:?}");
    assert_eq!(parts[1], "verified=true");
}

/// A plugin built against `silta:connector@0.2.0` (a prebuilt echo guest)
/// loads and runs in this 0.2.1 host unchanged: 0.2.1 only added host
/// functions it does not import.
#[tokio::test]
async fn a_plugin_built_against_an_older_contract_of_the_line_still_runs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/guests/prebuilt/guest-echo-contract-0.2.0.wasm");
    let wasm = std::fs::read(&path).expect("the prebuilt 0.2.0 guest");
    let manifest = manifest(Guest::Echo).secrets(&["token"]).build();
    let mut grant = Grant::all_requested(&manifest);
    grant
        .secrets
        .insert("token".into(), SecretValue::new(*b"s3cr3t"));
    let plugin = runtime()
        .load(PluginSource {
            wasm,
            origin: path,
            manifest,
            grant,
        })
        .await
        .expect("a 0.2.0 plugin loads in a 0.2.1 host");
    let out = plugin
        .normalize(&event(
            r#"{"action":"echo","from":"aino@example.fi","text":"hei","id":"old-1"}"#,
        ))
        .await
        .expect("normalize");
    assert_eq!(first_text(&out), "hei");
    let out = plugin
        .normalize(&event(
            r#"{"action":"sign","secret":"token","data":"what do ya want for nothing?"}"#,
        ))
        .await
        .expect("its 0.2.0 imports still work");
    assert_eq!(texts(&out)[1], "verified=true");
}

#[tokio::test]
async fn unknown_secrets_are_refused() {
    let rt = runtime();
    let manifest = manifest(Guest::Echo).secrets(&["token"]);
    let plugin = load(&rt, Guest::Echo, manifest, None).await;
    let result = plugin
        .normalize(&event(r#"{"action":"sign","secret":"other","data":"x"}"#))
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Plugin {
                error: PluginError::Permanent(_),
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn backoffice_world_calls() {
    let rt = runtime();
    let plugin = echo(&rt).await;
    let known = silta_model::Identity::new(
        silta_model::IdentityKind::Email,
        "known@example.test",
        silta_model::IdentityScope::Global,
        silta_model::Assurance::ChannelAsserted,
        &Default::default(),
    )
    .expect("identity");
    let bg = plugin
        .lookup(std::slice::from_ref(&known))
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(bg.display_name.as_deref(), Some("Known Customer"));
    assert_eq!(bg.links[0].remote_id, "42");
}

// === misbehaving plugins ===

/// On a single-threaded runtime: the healthy plugin is served only if the
/// spinning one yields to tokio at every epoch tick.
#[tokio::test(flavor = "current_thread")]
async fn a_spinning_plugin_is_stopped_at_its_deadline_while_others_serve() {
    let rt = runtime();
    let deadline = Duration::from_millis(500);
    let spin = load(
        &rt,
        Guest::Spin,
        manifest(Guest::Spin).deadline_ms(500),
        None,
    )
    .await;
    let healthy = echo(&rt).await;
    let started = Instant::now();
    let spinning = tokio::spawn({
        let spin = spin.clone();
        async move {
            let r = spin.normalize(&event("{}")).await;
            (r, Instant::now())
        }
    });
    let mut served = 0;
    while !spinning.is_finished() {
        echo_works(&healthy).await;
        served += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (result, stopped) = spinning.await.expect("join");
    match result {
        Err(Error::DeadlineExceeded { plugin, limit }) => {
            assert_eq!(plugin.as_str(), "spin");
            assert_eq!(limit, deadline);
        }
        other => panic!("expected deadline exceeded, got {other:?}"),
    }
    let overshoot = stopped.duration_since(started).saturating_sub(deadline);
    assert!(
        overshoot < Duration::from_millis(100),
        "stopped {overshoot:?} after its deadline"
    );
    assert!(
        served >= 5,
        "the healthy plugin served only {served} calls meanwhile"
    );
    echo_works(&healthy).await;
}

#[tokio::test]
async fn an_allocating_plugin_is_stopped_at_its_memory_cap() {
    let rt = runtime();
    let cap = 16 << 20;
    let alloc = load(
        &rt,
        Guest::Alloc,
        manifest(Guest::Alloc).memory_bytes(cap),
        None,
    )
    .await;
    match alloc.normalize(&event("{}")).await {
        Err(Error::MemoryCapExceeded {
            plugin,
            limit_bytes,
            requested_bytes,
        }) => {
            assert_eq!(plugin.as_str(), "alloc");
            assert_eq!(limit_bytes, cap);
            assert!(requested_bytes > cap);
        }
        other => panic!("expected memory cap exceeded, got {other:?}"),
    }
    echo_works(&*echo(&rt).await).await;
}

#[tokio::test]
async fn a_panicking_plugin_traps_with_its_message() {
    let rt = runtime();
    let panic = load(&rt, Guest::Panic, manifest(Guest::Panic), None).await;
    match panic.normalize(&event("{}")).await {
        Err(Error::Trapped { plugin, message }) => {
            assert_eq!(plugin.as_str(), "panic");
            assert!(message.contains("guest panicked on purpose"), "{message}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    // The same plugin still serves the next call (fresh instance per call).
    assert!(matches!(
        panic.normalize(&event("{}")).await,
        Err(Error::Trapped { .. })
    ));
    echo_works(&*echo(&rt).await).await;
}

#[tokio::test]
async fn http_only_to_allowed_hosts_and_every_redirect_is_checked() {
    let allowed = LoopbackServer::start().await.expect("server");
    let forbidden = LoopbackServer::start().await.expect("server");
    let rt = runtime();
    let m = manifest(Guest::ForbiddenHttp).allowed_hosts(&[&allowed.base_url()]);
    let plugin = load(&rt, Guest::ForbiddenHttp, m, None).await;

    let out = plugin
        .normalize(&event(format!("{}/ok", allowed.base_url())))
        .await
        .expect("allowed");
    assert_eq!(first_text(&out), "status=200 body=hello");

    match plugin
        .normalize(&event(format!("{}/ok", forbidden.base_url())))
        .await
    {
        Err(Error::Plugin {
            plugin,
            error: PluginError::Permanent(msg),
        }) => {
            assert_eq!(plugin.as_str(), "forbidden-http");
            assert!(msg.contains("HttpRequestDenied"), "{msg}");
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert!(
        forbidden.seen().is_empty(),
        "the forbidden host must see no request"
    );

    // A redirect from an allowed host to a forbidden one is refused at the hop.
    let hop = format!(
        "{}/redirect?to={}/ok",
        allowed.base_url(),
        forbidden.base_url()
    );
    match plugin.normalize(&event(hop)).await {
        Err(Error::Plugin {
            error: PluginError::Permanent(msg),
            ..
        }) => assert!(msg.contains("HttpRequestDenied"), "{msg}"),
        other => panic!("expected the redirect hop to be denied, got {other:?}"),
    }
    assert!(
        forbidden.seen().is_empty(),
        "the redirect target must see no request"
    );
    assert_eq!(plugin.egress_counts(), (2, 2));
}

#[tokio::test]
async fn http_needs_the_operator_grant_too() {
    let server = LoopbackServer::start().await.expect("server");
    let rt = runtime();
    let m = manifest(Guest::ForbiddenHttp).allowed_hosts(&[&server.base_url()]);
    let mut grant = Grant::all_requested(&m.build());
    grant.allowed_hosts.clear();
    let plugin = load(&rt, Guest::ForbiddenHttp, m, Some(grant)).await;
    let result = plugin
        .normalize(&event(format!("{}/ok", server.base_url())))
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Plugin {
                error: PluginError::Permanent(_),
                ..
            })
        ),
        "{result:?}"
    );
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn no_files_and_no_environment() {
    let rt = runtime();
    let plugin = load(&rt, Guest::FsEnv, manifest(Guest::FsEnv), None).await;
    let out = plugin
        .normalize(&event("{}"))
        .await
        .expect("fs-env reports");
    assert_eq!(first_text(&out), "fs=denied dir=denied env=denied vars=0");
}

#[tokio::test]
async fn huge_output_is_refused_at_the_output_cap() {
    let rt = runtime();
    let m = manifest(Guest::BigOutput)
        .memory_bytes(512 << 20)
        .output_bytes(4 << 20);
    let plugin = load(&rt, Guest::BigOutput, m, None).await;
    match plugin.normalize(&event("{}")).await {
        Err(Error::OutputTooLarge {
            plugin,
            limit_bytes,
            actual_bytes,
        }) => {
            assert_eq!(plugin.as_str(), "big-output");
            assert_eq!(limit_bytes, 4 << 20);
            assert!(actual_bytes >= 100 << 20, "{actual_bytes}");
        }
        other => panic!("expected output too large, got {other:?}"),
    }
    echo_works(&*echo(&rt).await).await;
}

#[tokio::test]
async fn a_host_call_past_the_deadline_is_cut_off() {
    let rt = runtime();
    let deadline = Duration::from_millis(300);
    let plugin = load(
        &rt,
        Guest::SlowHost,
        manifest(Guest::SlowHost).deadline_ms(300),
        None,
    )
    .await;
    let started = Instant::now();
    match plugin.normalize(&event("10000")).await {
        Err(Error::DeadlineExceeded { plugin, limit }) => {
            assert_eq!(plugin.as_str(), "slow-host");
            assert_eq!(limit, deadline);
        }
        other => panic!("expected deadline exceeded, got {other:?}"),
    }
    let overshoot = started.elapsed().saturating_sub(deadline);
    assert!(
        overshoot < Duration::from_millis(100),
        "cut off {overshoot:?} late"
    );
    // A short sleep within the deadline is fine.
    let out = plugin.normalize(&event("10")).await.expect("short sleep");
    assert_eq!(first_text(&out), "woke");
}

#[tokio::test]
async fn a_slow_http_server_counts_against_the_deadline() {
    let server = LoopbackServer::start().await.expect("server");
    let rt = runtime();
    let m = manifest(Guest::ForbiddenHttp)
        .allowed_hosts(&[&server.base_url()])
        .deadline_ms(300);
    let plugin = load(&rt, Guest::ForbiddenHttp, m, None).await;
    let result = plugin
        .normalize(&event(format!("{}/slow?ms=5000", server.base_url())))
        .await;
    assert!(
        matches!(result, Err(Error::DeadlineExceeded { .. })),
        "{result:?}"
    );
}

// === loading ===

#[tokio::test]
async fn the_manifest_must_match_the_component() {
    let rt = runtime();
    let wrong_world = try_load(
        &rt,
        Guest::Spin,
        manifest(Guest::Spin).worlds(&["backoffice"]),
        None,
    )
    .await;
    match wrong_world {
        Err(Error::Contract { reason, .. }) => assert!(reason.contains("backoffice"), "{reason}"),
        other => panic!("expected a contract error, got {other:?}"),
    }
    let wrong_id = try_load(&rt, Guest::Echo, manifest(Guest::Echo).id("not-echo"), None).await;
    match wrong_id {
        Err(Error::Contract { reason, .. }) => assert!(reason.contains("describe()"), "{reason}"),
        other => panic!("expected a contract error, got {other:?}"),
    }
}

#[tokio::test]
async fn foreign_files_get_a_clear_error() {
    let rt = runtime();
    let manifest = manifest(Guest::Echo).build();
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let result = rt
        .load(PluginSource {
            wasm: core_module,
            origin: "core.wasm".into(),
            grant: Grant::all_requested(&manifest),
            manifest,
        })
        .await;
    match result {
        Err(e @ Error::NotAComponent { .. }) => {
            assert!(e.to_string().contains("wasm32-wasip2"), "{e}")
        }
        other => panic!("expected not-a-component, got {other:?}"),
    }
}

#[tokio::test]
async fn compiled_code_is_cached_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = || RuntimeOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..RuntimeOptions::default()
    };
    let first = Runtime::new(options()).expect("runtime");
    let p = load(&first, Guest::Panic, manifest(Guest::Panic), None).await;
    assert_eq!(p.compile_outcome(), CompileOutcome::Compiled);
    drop((p, first));
    let second = Runtime::new(options()).expect("runtime");
    let p = load(&second, Guest::Panic, manifest(Guest::Panic), None).await;
    assert_eq!(p.compile_outcome(), CompileOutcome::Cached);
    // The loaded code is mapped from the artifact, which Silta never
    // writes in place; the corruption below happens while Silta is down.
    drop((p, second));
    // A corrupted artifact is detected and recompiled, never loaded.
    for entry in std::fs::read_dir(dir.path()).expect("cache dir").flatten() {
        if entry.path().extension().is_some_and(|e| e == "cwasm") {
            std::fs::write(entry.path(), b"garbage").expect("corrupt");
        }
    }
    let third = Runtime::new(options()).expect("runtime");
    let p = load(&third, Guest::Panic, manifest(Guest::Panic), None).await;
    assert_eq!(p.compile_outcome(), CompileOutcome::Compiled);
}

#[tokio::test]
async fn pooling_falls_back_to_on_demand_when_the_pool_cannot_be_reserved() {
    let impossible = EngineOptions {
        // Far more address space than any 64-bit host can reserve.
        pool_instances: 4_000_000,
        max_memory_bytes: 1 << 32,
        ..EngineOptions::default()
    };
    let rt = Runtime::new(RuntimeOptions {
        engine: impossible,
        cache_dir: Some(cache_dir()),
        ..RuntimeOptions::default()
    })
    .expect("runtime falls back");
    assert_eq!(rt.engine().allocation(), Allocation::OnDemand);
    echo_works(&*echo(&rt).await).await;
    assert_eq!(runtime().engine().allocation(), Allocation::Pooling);
}

// === instance reuse ===

#[tokio::test]
async fn warm_instances_are_reused_only_after_clean_calls() {
    let rt = runtime();
    let plugin = echo(&rt).await;
    for _ in 0..20 {
        echo_works(&plugin).await;
    }
    assert_eq!(
        plugin.warm_instances(),
        1,
        "sequential calls share one warm instance"
    );
    // A plugin-level error is a normal return: the instance stays warm.
    let _ = plugin.normalize(&event(r#"{"action":"bad"}"#)).await;
    assert_eq!(plugin.warm_instances(), 1);

    let panic = load(&rt, Guest::Panic, manifest(Guest::Panic), None).await;
    let _ = panic.normalize(&event("{}")).await;
    assert_eq!(
        panic.warm_instances(),
        0,
        "a trapped instance is never reused"
    );

    let slow = load(
        &rt,
        Guest::SlowHost,
        manifest(Guest::SlowHost).deadline_ms(200),
        None,
    )
    .await;
    let _ = slow.normalize(&event("5")).await.expect("short sleep");
    assert_eq!(slow.warm_instances(), 1);
    let _ = slow.normalize(&event("5000")).await;
    assert_eq!(
        slow.warm_instances(),
        0,
        "an instance stopped at its deadline is dropped"
    );
    let out = slow
        .normalize(&event("5"))
        .await
        .expect("a fresh instance serves the next call");
    assert_eq!(first_text(&out), "woke");
}

#[tokio::test]
async fn an_instance_grown_past_half_its_cap_is_not_kept() {
    let rt = runtime();
    let m = manifest(Guest::BigOutput)
        .memory_bytes(192 << 20)
        .output_bytes(4 << 20);
    let plugin = load(&rt, Guest::BigOutput, m, None).await;
    let _ = plugin.normalize(&event("{}")).await;
    assert_eq!(plugin.warm_instances(), 0);
}

// === rendered requests ===

#[tokio::test]
async fn rendered_requests_go_only_to_origins_the_operator_granted() {
    use silta_runtime::allowed_hosts::AllowedHost;
    use silta_runtime::contract::{OutboundMessage, TransportRequest};
    let rt = runtime();
    let message = OutboundMessage {
        channel_account: account().to_string(),
        interaction_id: silta_model::InteractionId::new(),
        recipient: silta_model::Identity::new(
            silta_model::IdentityKind::Email,
            "aino@example.fi",
            silta_model::IdentityScope::Global,
            silta_model::Assurance::ChannelAsserted,
            &Default::default(),
        )
        .expect("identity"),
        sender: None,
        subject: None,
        parts: vec![silta_model::Part::Text("Hei".into())],
        thread_keys: vec![],
        reply_to_provider_message_id: None,
        reply_to_email: None,
        reply_token: "tok".into(),
    };
    let m = manifest(Guest::Echo).capabilities(&["log"]);
    let mut grant = Grant::all_requested(&m.build());
    let ungranted = load(&rt, Guest::Echo, m.clone(), Some(grant.clone())).await;
    let TransportRequest::Http(mut request) = ungranted.render(&message).await.expect("render")
    else {
        panic!("expected an HTTP request");
    };
    assert!(
        !ungranted.prepare_http_request(&mut request),
        "not granted: must not be sent"
    );
    grant.allowed_hosts = vec![AllowedHost::parse("https://api.example.test").expect("pattern")];
    let granted = load(&rt, Guest::Echo, m, Some(grant)).await;
    let TransportRequest::Http(mut request) = granted.render(&message).await.expect("render")
    else {
        panic!("expected an HTTP request");
    };
    assert!(granted.prepare_http_request(&mut request));
    assert_eq!(request.url, "https://api.example.test/send");
}
