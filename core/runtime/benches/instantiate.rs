//! Fresh-instance cost with and without the pooling allocator, and the cost
//! of an empty call into a plugin, each beside a native baseline measured in
//! the same run. Results go to `benches/RESULTS.md` at the repository root.
//!
//! Run: `cargo bench -p silta-runtime --bench instantiate`

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use silta_runtime::engine::{Allocation, EngineOptions};
use silta_runtime::grant::Grant;
use silta_runtime::{Plugin, PluginSource, Runtime, RuntimeOptions};
use silta_test_harness::guest::Guest;
use silta_test_harness::manifest::manifest;

fn load(pooling: bool, rt: &tokio::runtime::Runtime) -> (Runtime, Arc<Plugin>) {
    let runtime = Runtime::new(RuntimeOptions {
        engine: EngineOptions {
            pooling,
            ..EngineOptions::default()
        },
        ..RuntimeOptions::default()
    })
    .expect("runtime");
    let expected = if pooling {
        Allocation::Pooling
    } else {
        Allocation::OnDemand
    };
    assert_eq!(runtime.engine().allocation(), expected);
    let m = manifest(Guest::Echo).capabilities(&["log"]).build();
    let plugin = rt
        .block_on(runtime.load(PluginSource {
            wasm: Guest::Echo.bytes(),
            origin: Guest::Echo.path(),
            grant: Grant::all_requested(&m),
            manifest: m,
        }))
        .expect("load");
    (runtime, plugin)
}

/// What `describe` does, natively: build the same small record.
#[derive(Debug)]
#[allow(dead_code)]
struct NativeInfo {
    id: String,
    version: String,
    name: String,
    description: String,
    kinds: Vec<String>,
}

#[inline(never)]
fn native_describe() -> NativeInfo {
    NativeInfo {
        id: "echo".into(),
        version: "0.1.0".into(),
        name: "Echo".into(),
        description: "Echoes test payloads.".into(),
        kinds: vec!["email".into()],
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let (_pool_rt, pooled) = load(true, &rt);
    let (_od_rt, on_demand) = load(false, &rt);

    let mut g = c.benchmark_group("fresh_instance");
    for (name, plugin) in [("pooling", &pooled), ("on_demand", &on_demand)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        plugin.instantiate_only().await.expect("instantiate");
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("empty_call");
    g.bench_function("wasm_describe", |b| {
        b.iter_custom(|iters| {
            rt.block_on(pooled.time_describe_calls(iters))
                .expect("calls")
        })
    });
    g.bench_function("native_describe", |b| {
        b.iter(|| black_box(native_describe()))
    });
    g.finish();

    let mut g = c.benchmark_group("fresh_instance_and_call");
    g.bench_function("pooling_describe", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(pooled.describe().await.expect("describe"));
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

/// Criterion's mean estimate for one benchmark, in nanoseconds.
fn mean_ns(criterion_dir: &Path, group: &str, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(
        criterion_dir
            .join(group)
            .join(name)
            .join("new/estimates.json"),
    )
    .ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // <target>/<profile>/deps/<bench binary>
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from("target"))
        });
    target.join("criterion")
}

fn fmt(ns: Option<f64>) -> String {
    match ns {
        Some(ns) if ns >= 1000.0 => format!("{:.2} µs", ns / 1000.0),
        Some(ns) => format!("{ns:.1} ns"),
        None => "n/a".into(),
    }
}

fn write_results() {
    let dir = criterion_dir();
    let pool = mean_ns(&dir, "fresh_instance", "pooling");
    let od = mean_ns(&dir, "fresh_instance", "on_demand");
    let call = mean_ns(&dir, "empty_call", "wasm_describe");
    let native = mean_ns(&dir, "empty_call", "native_describe");
    let both = mean_ns(&dir, "fresh_instance_and_call", "pooling_describe");
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "n/a".into(),
    };
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let goal = match pool {
        Some(ns) if ns < 20_000.0 => "met",
        Some(_) => "NOT met",
        None => "not measured",
    };
    let mut md = String::new();
    let _ = writeln!(md, "# Plugin runtime benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `cargo bench -p silta-runtime --bench instantiate` (criterion, mean of samples).\n"
    );
    let _ = writeln!(md, "- Date: {date}");
    let _ = writeln!(md, "- Machine: {machine}, {cores} cores available");
    let _ = writeln!(
        md,
        "- Plugin: `tests/guests/guest-echo` (wasm32-wasip2, opt-level s), wasmtime 48, async, epoch interruption\n"
    );
    let _ = writeln!(md, "| measurement | time | compared with |");
    let _ = writeln!(md, "|---|---|---|");
    let _ = writeln!(
        md,
        "| fresh instance, pooling allocator | {} | on-demand: {} ({} faster) |",
        fmt(pool),
        fmt(od),
        ratio(od, pool)
    );
    let _ = writeln!(
        md,
        "| fresh instance, on-demand allocation | {} | |",
        fmt(od)
    );
    let _ = writeln!(
        md,
        "| empty call (`describe`) into a live instance | {} | native Rust: {} ({} of native) |",
        fmt(call),
        fmt(native),
        ratio(call, native)
    );
    let _ = writeln!(
        md,
        "| fresh instance + `describe` + conversion, pooling | {} | |",
        fmt(both)
    );
    let _ = writeln!(
        md,
        "\nGoal: a fresh instance under 20 µs with pooling — **{goal}**."
    );
    let _ = writeln!(
        md,
        "\nEvery plugin call uses a fresh instance (no state leaks between calls), so the fresh-instance time is a per-call cost."
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/RESULTS.md");
    if let Some(parent) = out.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    match std::fs::write(&out, md) {
        Ok(()) => println!("wrote {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    benches(&mut c);
    c.final_summary();
    write_results();
}
