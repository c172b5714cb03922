//! One served component: compiled once, linked once, pre-instantiated once; a fresh store and
//! instance per request (`ProxyHandler` with a one-request worker), with memory and time
//! limits. A trap or timeout ends that instance only.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wasmtime::component::{Component, GuestTaskId, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreContextMut, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::bindings::spin::{postgres::postgres, sqlite::sqlite, variables::variables};
use crate::engine::EPOCH_TICK;
use crate::manifest::{self, Manifest};
use crate::postgres::{PgCtx, PgView, Pools, SpinPostgres};
use crate::sqlite::{Pool, SpinSqlite, SqliteCtx, SqliteView};
use crate::state::{HostState, NoOutbound};
use crate::variables::{SpinVariables, VariablesCtx};

/// Per-request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub memory: usize,
    pub timeout: Duration,
}

pub struct Served {
    pub id: String,
    pub handler: ProxyHandler<Shared>,
}

pub struct Shared {
    engine: Engine,
    pre: ProxyPre<HostState>,
    sqlite: Option<Arc<Pool>>,
    postgres: Arc<Pools>,
    /// `host:port` pairs the component may open PostgreSQL connections to.
    postgres_hosts: Arc<Vec<String>>,
    variables: Arc<VariablesCtx>,
    limits: Limits,
}

fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    sqlite::add_to_linker::<_, SpinSqlite>(&mut linker, |s: &mut HostState| SqliteView {
        ctx: &mut s.sqlite,
        table: &mut s.table,
    })?;
    postgres::add_to_linker::<_, SpinPostgres>(&mut linker, |s: &mut HostState| PgView {
        ctx: &mut s.postgres,
        table: &mut s.table,
    })?;
    variables::add_to_linker::<_, SpinVariables>(&mut linker, |s: &mut HostState| &*s.variables)?;
    Ok(linker)
}

impl Served {
    /// Compiles (or loads from the cache) and pre-instantiates `component`.
    pub fn load(
        engine: &Engine,
        manifest: &Manifest,
        component: &manifest::Component,
        sqlite: Option<Arc<Pool>>,
        postgres: Arc<Pools>,
        host_values: &BTreeMap<String, String>,
        limits: Limits,
    ) -> Result<Served> {
        let id = &component.id;
        let loaded = match &component.wasm {
            Some(bytes) => Component::new(engine, bytes),
            None => Component::from_file(engine, &component.source),
        };
        let wasm = loaded.map_err(anyhow::Error::from).with_context(|| {
            format!(
                "component {id}: loading {} (build it with `cargo build --target wasm32-wasip2 --release`)",
                component.source.display()
            )
        })?;
        let pre = linker(engine)?
            .instantiate_pre(&wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {id}: imports something tailor up does not provide"))?;
        let pre = ProxyPre::P3(
            ServicePre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id}: does not export wasi:http/handler@0.3"))?,
        );
        let variables = Arc::new(VariablesCtx::resolve(manifest, id, host_values)?);
        let sqlite = if component.sqlite { sqlite } else { None };
        let postgres_hosts = Arc::new(postgres_hosts(manifest, component, host_values)?);
        let shared = Shared { engine: engine.clone(), pre, sqlite, postgres, postgres_hosts, variables, limits };
        Ok(Served { id: id.clone(), handler: ProxyHandler::new(shared) })
    }
}

/// The component's `allowed_outbound_hosts`, expanded: `host:port` (port 5432 when absent).
fn postgres_hosts(
    manifest: &Manifest,
    component: &manifest::Component,
    host_values: &BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let app = crate::variables::app_values(manifest, host_values)?;
    let mut out = Vec::new();
    for (i, template) in component.postgres_hosts.iter().enumerate() {
        let at = || format!("component.{}.allowed_outbound_hosts[{i}]", component.id);
        let url = manifest::expand(template, &|n| app.get(n).cloned()).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
        let authority = url.strip_prefix("postgres://").unwrap_or(&url).trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '@', '*', ' ']) {
            anyhow::bail!("{}: {url:?}: expected postgres://HOST:PORT (no paths, users or wildcards)", at());
        }
        let host_port = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            authority.to_ascii_lowercase()
        } else {
            format!("{}:5432", authority.to_ascii_lowercase())
        };
        out.push(host_port);
    }
    Ok(out)
}

impl Shared {
    fn store(&self) -> Store<HostState> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr();
        let state = HostState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks: NoOutbound,
            sqlite: SqliteCtx { pool: self.sqlite.clone() },
            postgres: PgCtx { pools: self.postgres.clone(), allowed: self.postgres_hosts.clone() },
            variables: self.variables.clone(),
            limits: StoreLimitsBuilder::new().memory_size(self.limits.memory).instances(100).build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| s.limiter());
        let ticks = (self.limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
    }

    /// Instantiates once outside any request: proves the component links and fits the limits.
    pub async fn probe(&self) -> Result<()> {
        let mut store = self.store();
        self.pre.instantiate_async(&mut store).await.map(|_| ()).map_err(Into::into)
    }
}

impl HandlerState for Shared {
    type StoreData = HostState;
    type WorkerExpiration = Expiry;
    type WorkerState = OneRequest;

    async fn instantiate(&self) -> wasmtime::Result<Instance<HostState, Expiry, OneRequest>> {
        let mut store = self.store();
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: |s: &mut HostState| wasmtime_wasi_http::WasiHttpView::http(s),
            expiration: Expiry { timeout: self.limits.timeout, since: None, sleep: None },
            state: OneRequest { timeout: self.limits.timeout },
        })
    }
}

/// An instance serves exactly one request.
pub struct OneRequest {
    timeout: Duration,
}

impl WorkerState for OneRequest {
    type StoreData = HostState;
    type RequestData = ();

    fn should_accept_request(&self, _concurrent: usize, total: usize) -> ShouldAccept {
        if total == 0 { ShouldAccept::Yes } else { ShouldAccept::Never }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, HostState>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        Box::pin(tokio::time::sleep(self.timeout))
    }

    fn drop(&self, _store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(e) = result {
            eprintln!("tailor up: component instance ended with an error: {e:#}");
        }
    }
}

/// Expires an instance `timeout` after its request started (also after it answered, for
/// work it goes on doing), and at once when idle.
pub struct Expiry {
    timeout: Duration,
    since: Option<Instant>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WorkerExpiration for Expiry {
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, state: WorkerStatus, start: Instant) -> Poll<()> {
        let this = self.get_mut();
        if state == WorkerStatus::Idle {
            return Poll::Ready(());
        }
        if this.since != Some(start) {
            this.since = Some(start);
            this.sleep = Some(Box::pin(tokio::time::sleep_until((start + this.timeout).into())));
        }
        match this.sleep.as_mut() {
            Some(s) => s.as_mut().poll(cx),
            None => Poll::Ready(()),
        }
    }
}
