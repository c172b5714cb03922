//! One wasmtime engine for extensions (fuel, epoch interruption, the on-disk compilation
//! cache), the linker with what a guest may import, and compiled components by digest.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::call::Loaded;
use crate::host::{Policy, PolicyPre, State};
use crate::{Error, Limits};

/// How often the epoch ticks: the granularity of deadlines.
pub const TICK: Duration = Duration::from_millis(5);
/// Compiled components kept in memory.
const LOADED: usize = 64;

pub struct Runtime {
    pub(crate) engine: Engine,
    linker: Linker<State>,
    pub(crate) limits: Limits,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
}

impl Runtime {
    /// An engine for extensions; `cache`: where compiled code is kept across restarts.
    pub fn new(limits: Limits, cache: Option<&Path>) -> Result<Runtime, Error> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(1 << 20);
        if let Some(dir) = cache {
            std::fs::create_dir_all(dir).map_err(|e| Error::invalid(format!("{}: {e}", dir.display())))?;
            let mut c = wasmtime::CacheConfig::new();
            c.with_directory(dir);
            let cache = wasmtime::Cache::new(c).map_err(|e| Error::invalid(format!("the compilation cache: {e}")))?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(|e| Error::invalid(format!("the extension engine: {e}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| Error::invalid(e.to_string()))?;
        Policy::add_to_linker::<_, wasmtime::component::HasSelf<State>>(&mut linker, |s| s)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("extension-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| Error::invalid(format!("the epoch thread: {e}")))?;
        Ok(Runtime { engine, linker, limits, loaded: Mutex::new(HashMap::new()) })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The component of `digest`, when it is compiled already.
    pub fn loaded(&self, digest: &str) -> Option<Arc<Loaded>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(digest).cloned()
    }

    /// The component of `digest` (`bytes` are its content), compiled and checked once.
    pub fn load(&self, digest: &str, bytes: &[u8]) -> Result<Arc<Loaded>, Error> {
        if let Some(l) = self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(digest) {
            return Ok(l.clone());
        }
        if bytes.len() as u64 > self.limits.component {
            return Err(Error::invalid(format!(
                "the component is {} bytes, over the limit of {}",
                bytes.len(),
                self.limits.component
            )));
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| Error::invalid(format!("not a WebAssembly component tailor can run: {}", first_line(&e))))?;
        crate::validate::imports(&self.engine, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| Error::invalid(format!("its imports cannot be satisfied: {}", first_line(&e))))?;
        let pre = PolicyPre::new(pre).map_err(|e| {
            Error::invalid(format!("it is not the world tailor:extension/policy@0.1.0: {}", first_line(&e)))
        })?;
        let loaded = Arc::new(Loaded { digest: digest.to_owned(), pre });
        let mut map = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= LOADED {
            map.clear();
        }
        map.insert(digest.to_owned(), loaded.clone());
        Ok(loaded)
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// An error's first line and its causes (no wasm backtrace).
pub(crate) fn first_line(e: &wasmtime::Error) -> String {
    let mut text: Vec<String> = Vec::new();
    for cause in e.chain() {
        let line = cause.to_string().lines().next().unwrap_or_default().trim().to_owned();
        if !line.is_empty() && !text.contains(&line) {
            text.push(line);
        }
    }
    text.join(": ")
}
