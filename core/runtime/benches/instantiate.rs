//! Fresh-instance cost with and without the pooling allocator, and the cost
//! of an empty call into a plugin, each beside a native baseline measured in
//! the same run. Results go to `benches/RESULTS.md` at the repository root.
//!
//! Run: `cargo bench -p silta-runtime --bench instantiate`

use std::fmt::Write as _;
use std::hint::black_box;
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

    let mut g = c.benchmark_group("plugin_call");
    g.bench_function("describe_warm", |b| {
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

fn write_results() {
    use silta_test_harness::bench_results::{
        criterion_mean_ns as mean, format_ns as fmt, machine_and_date, write_section,
    };
    let pool = mean("fresh_instance", "pooling");
    let od = mean("fresh_instance", "on_demand");
    let call = mean("empty_call", "wasm_describe");
    let native = mean("empty_call", "native_describe");
    let api = mean("plugin_call", "describe_warm");
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "n/a".into(),
    };
    let goal = match pool {
        Some(ns) if ns < 20_000.0 => "met",
        Some(_) => "NOT met",
        None => "not measured",
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Plugin runtime: instances and calls
"
    );
    let _ = writeln!(
        md,
        "`cargo bench -p silta-runtime --bench instantiate` — {}.",
        machine_and_date()
    );
    let _ = writeln!(
        md,
        "Plugin: `tests/guests/guest-echo` (wasm32-wasip2), wasmtime 48, async, epoch interruption; criterion means.\n"
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
        "| `Plugin::describe()` (warm instance, limits, conversion) | {} | |",
        fmt(api)
    );
    let _ = writeln!(
        md,
        "\nGoal: a fresh instance under 20 µs with pooling — **{goal}**."
    );
    write_section("instantiate", &md);
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
