//! The `silta` binary, driven as a user would.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use silta_test_harness::guest::Guest;
use silta_test_harness::manifest::manifest;

fn silta() -> Command {
    Command::new(env!("CARGO_BIN_EXE_silta"))
}

#[test]
fn inspect_shows_worlds_exports_imports_and_requested_capabilities() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = dir.path().join("echo.wasm");
    std::fs::copy(Guest::Echo.path(), &wasm).expect("copy");
    let m = manifest(Guest::Echo)
        .capabilities(&["log", "kv"])
        .allowed_hosts(&["https://api.example.com"]);
    std::fs::write(dir.path().join("echo.toml"), m.toml()).expect("manifest");
    let out = silta()
        .args(["plugin", "inspect"])
        .arg(&wasm)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("worlds:    channel, backoffice"),
        "{stdout}"
    );
    assert!(
        stdout.contains("silta:connector/channel-api@0.2.1"),
        "{stdout}"
    );
    assert!(stdout.contains("normalize"), "{stdout}");
    assert!(stdout.contains("silta:connector/kv@0.2.1"), "{stdout}");
    assert!(
        stdout.contains("requested capabilities: http, kv, log")
            || stdout.contains("requested capabilities: log, kv, http"),
        "{stdout}"
    );
    assert!(stdout.contains("https://api.example.com"), "{stdout}");
}

#[test]
fn inspect_refuses_foreign_files_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[u8], &str); 3] = [
        ("core.wasm", b"\0asm\x01\0\0\0", "core WebAssembly module"),
        ("notes.wasm", b"hello, this is text", "magic bytes"),
        (
            "broken.wasm",
            b"\0asm\x0d\0\x01\0\xff\xff\xff",
            "does not validate",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let out = silta()
            .args(["plugin", "inspect"])
            .arg(&path)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} should fail");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let out = silta()
        .args(["plugin", "inspect", "/no/such/file.wasm"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.wasm"));
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn run_serves_health_and_readiness_with_plugins_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let plugin = dir.path().join("echo.wasm");
    std::fs::copy(Guest::Echo.path(), &plugin).expect("copy");
    std::fs::write(
        dir.path().join("echo.toml"),
        manifest(Guest::Echo).capabilities(&["log"]).toml(),
    )
    .expect("manifest");
    let config = dir.path().join("silta.toml");
    std::fs::write(
        &config,
        format!(
            "config_version = 1\ndata_dir = {:?}\n[api]\nlisten = \"127.0.0.1:{port}\"\n[[plugins]]\nid = \"echo\"\npath = {:?}\ncapabilities = [\"log\"]\n",
            dir.path().join("data").display().to_string(),
            plugin.display().to_string()
        ),
    )
    .expect("config");
    let child = silta()
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut running = Running(child);
    let started = Instant::now();
    let health = loop {
        if let Some(r) = get(port, "/healthz") {
            break r;
        }
        if let Ok(Some(status)) = running.0.try_wait() {
            let mut err = String::new();
            running
                .0
                .stderr
                .take()
                .map(|mut e| e.read_to_string(&mut err));
            panic!("silta exited with {status}: {err}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "silta did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = get(port, "/readyz").expect("readyz");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    // Only the configured plugin: the bundled ones are not named.
    assert!(ready.contains("ready: store, 1 plugin(s)"), "{ready}");
    // The compiled plugin was cached under the data directory.
    let cached = std::fs::read_dir(dir.path().join("data/cache/plugins"))
        .expect("cache")
        .count();
    assert!(cached >= 1);
    let _ = running.0.kill();
    let _ = running.0.wait();
    let mut log = String::new();
    running
        .0
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut log));
    // A first start compiles in a child process, so the compiler's memory
    // is not left in the server.
    assert!(
        log.contains("compiling plugins in a child process"),
        "{log}"
    );
    assert!(!log.contains("compiling in this process"), "{log}");
}

#[test]
fn plugin_compile_fills_the_code_cache_for_the_plugins_the_config_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("silta.toml");
    // The webhook plugin is named only by a channel account.
    std::fs::write(
        &config,
        format!(
            "config_version = 1\ndata_dir = {:?}\n[[channel_accounts]]\nname = \"hooks\"\nplugin = \"webhook\"\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .expect("config");
    let compile = || {
        let out = silta()
            .args(["plugin", "compile", "--config"])
            .arg(&config)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let first = compile();
    assert!(first.contains("webhook: compiled in"), "{first}");
    // Nothing else bundled is compiled: nothing names it.
    assert_eq!(first.lines().count(), 2, "{first}");
    let second = compile();
    assert!(
        second.contains("webhook: already in the code cache"),
        "{second}"
    );
    let artifacts = std::fs::read_dir(dir.path().join("data/cache/plugins"))
        .expect("cache")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .count();
    assert_eq!(artifacts, 1);
    let check = silta()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}");
    assert!(stdout.contains("1 plugin(s) load"), "{stdout}");
    assert!(stdout.contains("  webhook "), "{stdout}");
}

#[test]
fn check_rejects_a_bad_config_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("silta.toml");
    std::fs::write(
        &config,
        "config_version = 1\n[[plugins]]\nid = \"x\"\nallowed_hosts = [\"example.com\"]\n",
    )
    .expect("write");
    let out = silta()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not contain a scheme"), "{stderr}");
}
