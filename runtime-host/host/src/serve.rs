//! The HTTP server of `tailor up`: routes each request to its component by the manifest's
//! routes, caps the body (413), runs the component, turns traps and timeouts into a JSON 500
//! (the host lives on), and stops accepting on shutdown while in-flight requests finish.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::component::{Limits, Served};
use crate::engine;
use crate::manifest::Manifest;
use crate::routes::Router;
use crate::sqlite::Pool;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Where the application comes from.
#[derive(Debug, Clone)]
pub enum ManifestSource {
    /// A `spin.toml` on disk; component sources resolve against its directory.
    File(PathBuf),
    /// A manifest and its components carried by the binary (`source` → bytes).
    Embedded { text: &'static str, files: &'static [(&'static str, &'static [u8])] },
}

impl ManifestSource {
    fn load(&self) -> Result<Manifest> {
        match self {
            ManifestSource::File(path) => Manifest::load(path),
            ManifestSource::Embedded { text, files } => {
                Manifest::embedded(text, files).context("the embedded spin.toml")
            }
        }
    }
}

/// What `tailor up` serves and how.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub manifest: ManifestSource,
    /// The SQLite file behind `spin:sqlite` database `default` (None: the components use
    /// PostgreSQL, and `spin:sqlite` refuses to open).
    pub database: Option<PathBuf>,
    /// The compilation cache directory.
    pub cache_dir: PathBuf,
    /// Application variable values set by the host (after `SPIN_VARIABLE_*`, before defaults).
    pub variables: BTreeMap<String, String>,
    pub max_body: usize,
    pub limits: Limits,
    /// PostgreSQL connections open at once across all components (`spin:postgres`).
    pub postgres_connections: usize,
    /// Transactions the functions may have open at once per database (spin:postgres).
    pub postgres_transactions: usize,
    /// Readiness and metrics of the process (None: /readyz and /metrics are not served).
    pub ops: Option<OpsHandle>,
    /// Answers of 401 to one client address per minute before it is answered 429 for the rest
    /// of the minute (0: never).
    pub auth_failures: u32,
}

/// The process's [`Ops`](crate::Ops), for [`ServeOptions`].
#[derive(Clone)]
pub struct OpsHandle(pub Arc<dyn crate::Ops>);

impl std::fmt::Debug for OpsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpsHandle")
    }
}

impl ServeOptions {
    pub fn new(manifest: ManifestSource, data_dir: &std::path::Path) -> ServeOptions {
        ServeOptions {
            manifest,
            database: Some(data_dir.join("tailor.db")),
            cache_dir: data_dir.join("wasm-cache"),
            variables: BTreeMap::new(),
            max_body: 1 << 20,
            limits: Limits { memory: 64 << 20, timeout: Duration::from_secs(10) },
            postgres_connections: 64,
            postgres_transactions: 1,
            ops: None,
            auth_failures: 30,
        }
    }
}

/// The loaded application, ready to serve.
pub struct App {
    router: Router<String>,
    ops: Option<crate::ops::OpsState>,
    http: Arc<crate::ops::HttpMetrics>,
    components: HashMap<String, Served>,
    max_body: usize,
    timeout: Duration,
    throttle: crate::throttle::Throttle,
    pub pooling: bool,
}

impl App {
    /// Reads the manifest, compiles and pre-instantiates every component (each is instantiated
    /// once as a probe, so a broken component fails here rather than on the first request).
    pub async fn load(opts: &ServeOptions) -> Result<Arc<App>> {
        let manifest = opts.manifest.load()?;
        for c in manifest.components.values() {
            if c.wasm.is_none() && !c.source.is_file() {
                anyhow::bail!(
                    "component {}: {} does not exist; build the components first: \
                     cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook",
                    c.id,
                    c.source.display()
                );
            }
        }
        let needs_db = manifest.components.values().any(|c| c.sqlite);
        let pool = match &opts.database {
            Some(path) if needs_db => Some(Pool::new(path)?),
            _ => None,
        };
        let postgres = crate::postgres::Pools::new(opts.postgres_connections, opts.postgres_transactions);
        let load_all = |engine: &wasmtime::Engine| -> Result<HashMap<String, Served>> {
            let mut out = HashMap::new();
            for c in manifest.components.values() {
                out.insert(
                    c.id.clone(),
                    Served::load(engine, &manifest, c, pool.clone(), postgres.clone(), &opts.variables, opts.limits)?,
                );
            }
            Ok(out)
        };
        let handle = tokio::runtime::Handle::current();
        // Compiled (or loaded from the cache) once; instantiated once as a probe of the engine.
        let mut loaded = None;
        let probe = |engine: &wasmtime::Engine| -> Result<()> {
            let components = load_all(engine)?;
            for served in components.values() {
                let probe = served.handler.state().probe();
                tokio::task::block_in_place(|| handle.block_on(probe))
                    .with_context(|| format!("component {}: instantiating", served.id))?;
            }
            loaded = Some(components);
            Ok(())
        };
        let choice = engine::build(&opts.cache_dir, opts.limits.memory, probe)?;
        engine::start_ticker(&choice.engine);
        let components = loaded.ok_or_else(|| anyhow::anyhow!("no components were loaded"))?;
        let router = Router::new(manifest.routes.iter().cloned());
        let http = Arc::new(crate::ops::HttpMetrics::default());
        let ops = opts.ops.as_ref().map(|o| crate::ops::OpsState {
            ops: o.0.clone(),
            http: Some(http.clone()),
            postgres: Some(postgres.clone()),
        });
        Ok(Arc::new(App {
            router,
            ops,
            http,
            components,
            max_body: opts.max_body,
            timeout: opts.limits.timeout,
            throttle: crate::throttle::Throttle::new(opts.auth_failures, Duration::from_secs(60)),
            pooling: choice.pooling,
        }))
    }

    /// Serves on `listener` until `shutdown` resolves, then waits for open connections.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<()> {
        let mut shutdown = std::pin::pin!(shutdown);
        // Each open connection holds a clone; the count tells when they are all done.
        let connections = Arc::new(());
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(s) => s,
                        Err(e) => {
                            eprintln!("tailor up: accept: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let app = self.clone();
                    let guard = connections.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let app = app.clone();
                            async move { Ok::<_, Infallible>(app.handle(req, peer.ip()).await) }
                        });
                        let conn = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service);
                        let _ = conn.await;
                        drop(guard);
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        // In-flight connections hold a clone; wait (bounded) until they are done.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while Arc::strong_count(&connections) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    async fn handle(&self, req: hyper::Request<Incoming>, peer: std::net::IpAddr) -> hyper::Response<Body> {
        if let Some(ops) = &self.ops
            && let Some(answer) = ops.answer(req.method(), req.uri().path()).await
        {
            return answer;
        }
        if let Some(wait) = self.throttle.wait(peer, std::time::Instant::now()) {
            let secs = wait.as_secs() + 1;
            let mut r = error(
                429,
                "too_many_failures",
                &format!("too many failed authentications from {peer}: try again in {secs} s"),
            );
            r.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
            return r;
        }
        let Some(id) = self.router.route(req.uri().path()) else {
            return error(404, "route_not_found", &format!("no route for {}", req.uri().path()));
        };
        let Some(served) = self.components.get(id) else {
            return error(500, "internal", "route points at a component that is not loaded");
        };
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return too_large(self.max_body);
        }
        let (parts, body) = req.into_parts();
        let bytes = match Limited::new(body, self.max_body).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return too_large(self.max_body);
            }
            Err(e) => return error(400, "bad_body", &format!("the request body could not be read: {e}")),
        };
        let body = Full::new(bytes).map_err(|never: Infallible| match never {}).boxed_unsync();
        let request = http::Request::from_parts(parts, body);
        let started = std::time::Instant::now();
        let response = self.run(served, request, started).await;
        self.http.observe(&served.id, response.status().as_u16(), started.elapsed());
        if response.status() == http::StatusCode::UNAUTHORIZED {
            self.throttle.failed(peer, std::time::Instant::now());
        }
        response
    }

    async fn run(
        &self,
        served: &Served,
        request: http::Request<UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>>,
        started: std::time::Instant,
    ) -> hyper::Response<Body> {
        match served.handler.handle((), request).await {
            Ok(response) => response.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync()),
            Err(e) => {
                // A timeout surfaces as an expiration, or as the trap of the epoch deadline.
                let timeout = e.downcast_ref::<wasmtime_wasi_http::handler::ExpirationError>().is_some()
                    || started.elapsed() >= self.timeout.saturating_sub(crate::engine::EPOCH_TICK);
                eprintln!("tailor up: component {} failed: {e:#}", served.id);
                if timeout {
                    error(500, "timeout", "the request took too long and was stopped")
                } else {
                    error(500, "component_failed", "the request handler failed; the error is in the host's log")
                }
            }
        }
    }
}

fn too_large(max: usize) -> hyper::Response<Body> {
    error(413, "body_too_large", &format!("the request body is larger than {max} bytes"))
}

fn error(status: u16, code: &str, message: &str) -> hyper::Response<Body> {
    let body = serde_json::json!({"error": {"code": code, "message": message, "details": []}}).to_string();
    let mut r =
        hyper::Response::new(Full::new(Bytes::from(body)).map_err(|never: Infallible| match never {}).boxed_unsync());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

/// Binds `addr` (reported back, for port 0).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
