//! The wasmtime engine: component-model async (WASI 0.3), epoch interruption for request
//! time limits, the on-disk compilation cache (so a restart does not recompile), and the
//! pooling allocator when the machine allows it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::{Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch ticks: the granularity of request time limits.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub struct EngineChoice {
    pub engine: Engine,
    pub pooling: bool,
}

fn config(cache_dir: &Path, memory_limit: usize, pooling: bool) -> Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    let mut cache = CacheConfig::new();
    cache.with_directory(cache_dir);
    config.cache(Some(Cache::new(cache).map_err(anyhow::Error::from).context("setting up the compilation cache")?));
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(200)
            .total_core_instances(1000)
            .total_memories(1000)
            .total_tables(1000)
            .max_memory_size(memory_limit)
            // Reset a slot's dirty pages in place instead of unmapping them: fewer syscalls and
            // TLB shootdowns per request (an instance per request).
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(1 << 20)
            .async_stack_keep_resident(1 << 20)
            .decommit_batch_size(32)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Ok(config)
}

/// An engine with the pooling allocator, or with on-demand allocation when the pool cannot
/// be reserved here (e.g. limited virtual memory); `probe` must succeed with the engine.
pub fn build(
    cache_dir: &Path,
    memory_limit: usize,
    mut probe: impl FnMut(&Engine) -> Result<()>,
) -> Result<EngineChoice> {
    std::fs::create_dir_all(cache_dir).with_context(|| format!("creating {}", cache_dir.display()))?;
    let cache_dir = &std::fs::canonicalize(cache_dir).with_context(|| format!("{}", cache_dir.display()))?;
    let pooled = Engine::new(&config(cache_dir, memory_limit, true)?)
        .map_err(anyhow::Error::from)
        .and_then(|e| probe(&e).map(|()| e));
    match pooled {
        Ok(engine) => Ok(EngineChoice { engine, pooling: true }),
        Err(e) => {
            eprintln!("tailor up: pooling allocator unavailable ({e:#}); using on-demand allocation");
            let engine = Engine::new(&config(cache_dir, memory_limit, false)?)?;
            probe(&engine)?;
            Ok(EngineChoice { engine, pooling: false })
        }
    }
}

/// Ticks `engine`'s epoch until the engine is gone.
pub fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}
