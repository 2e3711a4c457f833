//! Engine defaults, in one place.
//!
//! Every plugin runs on one shared [`wasmtime::Engine`] configured here:
//! component model, async calls (so a plugin waiting on I/O never blocks a
//! tokio worker), epoch interruption (so a spinning plugin yields every tick
//! and is stopped at its deadline), and the pooling allocator for
//! microsecond-cheap fresh instances, with a fallback to on-demand allocation
//! when the host cannot reserve the pool's virtual memory (small VMs, strict
//! `ulimit -v`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::{Error, Result};

/// How instances are allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// Pre-reserved pool of instance slots.
    Pooling,
    /// Allocate memories and tables per instance with mmap.
    OnDemand,
}

/// Engine settings an operator may change.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Try the pooling allocator first.
    pub pooling: bool,
    /// Concurrent instances the pool holds (each call uses one).
    pub pool_instances: u32,
    /// Largest linear memory any plugin may have; per-plugin caps are lower.
    pub max_memory_bytes: usize,
    /// How often the epoch advances; a spinning plugin is checked this often.
    pub epoch_tick: Duration,
    /// Idle instances kept per plugin for reuse by later calls (0: a fresh
    /// instance for every call). Each holds a pool slot while idle.
    pub warm_instances_per_plugin: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            pool_instances: 128,
            max_memory_bytes: 1 << 30,
            epoch_tick: Duration::from_millis(5),
            warm_instances_per_plugin: 2,
        }
    }
}

/// The shared engine and what it ended up with.
#[derive(Clone)]
pub struct SiltaEngine {
    engine: Engine,
    allocation: Allocation,
    epoch_tick: Duration,
    epoch: Arc<AtomicU64>,
}

impl SiltaEngine {
    /// Build the engine and start its epoch ticker thread (which stops when
    /// the last clone of the engine is dropped).
    pub fn new(options: &EngineOptions) -> Result<Self> {
        let (engine, allocation) = if options.pooling {
            match Engine::new(&base_config(Some(pooling_config(options)))) {
                Ok(engine) => (engine, Allocation::Pooling),
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "could not reserve the pooling allocator; falling back to on-demand allocation"
                    );
                    (on_demand_engine()?, Allocation::OnDemand)
                }
            }
        } else {
            (on_demand_engine()?, Allocation::OnDemand)
        };
        let epoch = Arc::new(AtomicU64::new(0));
        spawn_epoch_ticker(&engine, options.epoch_tick, epoch.clone());
        Ok(Self {
            engine,
            allocation,
            epoch_tick: options.epoch_tick,
            epoch,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Which allocator is in use.
    pub fn allocation(&self) -> Allocation {
        self.allocation
    }

    /// The epoch tick.
    pub fn epoch_tick(&self) -> Duration {
        self.epoch_tick
    }

    /// Ticks the ticker thread has made (for health checks).
    pub fn epoch_ticks(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }
}

fn on_demand_engine() -> Result<Engine> {
    Engine::new(&base_config(None)).map_err(|e| Error::Engine(e.to_string()))
}

fn base_config(pool: Option<PoolingAllocationConfig>) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    // A plugin's stack overflow must trap, not crash the host.
    config.max_wasm_stack(1 << 20);
    if let Some(pool) = pool {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

fn pooling_config(options: &EngineOptions) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    let n = options.pool_instances;
    pool.total_component_instances(n);
    // A component instance of a Rust guest holds a few core instances
    // (the program, the adapter shims).
    pool.total_core_instances(n * 8);
    pool.total_memories(n * 2);
    pool.total_tables(n * 4);
    pool.max_memories_per_component(4);
    pool.max_tables_per_component(8);
    pool.max_memory_size(options.max_memory_bytes);
    pool.max_core_instances_per_component(16);
    pool.max_component_instance_size(1 << 20);
    pool.max_core_instance_size(1 << 20);
    pool
}

fn spawn_epoch_ticker(engine: &Engine, tick: Duration, counter: Arc<AtomicU64>) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("silta-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                let Some(engine) = weak.upgrade() else { break };
                engine.increment_epoch();
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the epoch ticker; deadlines rely on the call timeout alone");
    }
}
