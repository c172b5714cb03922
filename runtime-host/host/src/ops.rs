//! Operations endpoints, answered by the host itself before any route: `GET /healthz` (the
//! process serves), `GET /readyz` (what [`Ops::ready`] says: the store is reachable and its
//! schema current) and `GET /metrics` (Prometheus text: the host's request counters and
//! durations, its PostgreSQL connections, and what [`Ops::metrics`] adds).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// What the process adds to readiness and metrics (the store's view). Both block: the host
/// calls them on a blocking thread.
pub trait Ops: Send + Sync + 'static {
    /// `Err(why)` when the process should get no traffic.
    fn ready(&self) -> Result<(), String>;
    /// Prometheus text exposition lines.
    fn metrics(&self) -> String;
}

/// Request duration buckets, seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Counters of the requests the host served.
#[derive(Default)]
pub struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
}

impl HttpMetrics {
    pub fn observe(&self, component: &str, status: u16, took: Duration) {
        *self.requests.lock().unwrap_or_else(|p| p.into_inner()).entry((component.to_owned(), status)).or_default() +=
            1;
        let mut durations = self.durations.lock().unwrap_or_else(|p| p.into_inner());
        let h = durations.entry(component.to_owned()).or_default();
        if h.counts.is_empty() {
            h.counts = vec![0; BUCKETS.len()];
        }
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP tailor_http_requests_total Requests answered by a function, by component and status.\n");
        out.push_str("# TYPE tailor_http_requests_total counter\n");
        for ((component, status), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "tailor_http_requests_total{{component=\"{component}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP tailor_http_request_duration_seconds Time to answer a request, by component.\n");
        out.push_str("# TYPE tailor_http_request_duration_seconds histogram\n");
        for (component, h) in self.durations.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            for (b, n) in BUCKETS.iter().zip(&h.counts) {
                let _ = writeln!(
                    out,
                    "tailor_http_request_duration_seconds_bucket{{component=\"{component}\",le=\"{b}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "tailor_http_request_duration_seconds_bucket{{component=\"{component}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "tailor_http_request_duration_seconds_sum{{component=\"{component}\"}} {}", h.sum);
            let _ =
                writeln!(out, "tailor_http_request_duration_seconds_count{{component=\"{component}\"}} {}", h.count);
        }
    }
}

/// The host's side of the endpoints.
pub struct OpsState {
    pub ops: Arc<dyn Ops>,
    pub http: Option<Arc<HttpMetrics>>,
    pub postgres: Option<Arc<crate::postgres::Pools>>,
}

fn text(status: u16, content_type: &'static str, body: String) -> hyper::Response<Body> {
    let mut r =
        hyper::Response::new(Full::new(Bytes::from(body)).map_err(|never: Infallible| match never {}).boxed_unsync());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    r.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    r
}

impl OpsState {
    /// The answer when `path` is an operations endpoint.
    pub async fn answer(&self, method: &http::Method, path: &str) -> Option<hyper::Response<Body>> {
        if !matches!(path, "/healthz" | "/readyz" | "/metrics") {
            return None;
        }
        if method != http::Method::GET && method != http::Method::HEAD {
            return Some(text(405, "text/plain; charset=utf-8", format!("{path} answers GET\n")));
        }
        let ops = self.ops.clone();
        Some(match path {
            "/healthz" => text(200, "text/plain; charset=utf-8", "ok\n".into()),
            "/readyz" => match tokio::task::spawn_blocking(move || ops.ready()).await {
                Ok(Ok(())) => text(200, "text/plain; charset=utf-8", "ready\n".into()),
                Ok(Err(why)) => text(503, "text/plain; charset=utf-8", format!("not ready: {why}\n")),
                Err(e) => text(503, "text/plain; charset=utf-8", format!("not ready: {e}\n")),
            },
            _ => {
                let mut out = tokio::task::spawn_blocking(move || ops.metrics()).await.unwrap_or_default();
                if let Some(http) = &self.http {
                    http.render(&mut out);
                }
                if let Some(pools) = &self.postgres {
                    let (open, max) = pools.usage();
                    out.push_str(
                        "# HELP tailor_database_connections The functions' PostgreSQL connections (spin:postgres).\n",
                    );
                    out.push_str("# TYPE tailor_database_connections gauge\n");
                    let _ = writeln!(out, "tailor_database_connections{{state=\"open\"}} {open}");
                    let _ = writeln!(out, "tailor_database_connections{{state=\"max\"}} {max}");
                    let (open, max) = pools.transactions();
                    out.push_str(
                        "# HELP tailor_database_transactions The functions' open PostgreSQL transactions (spin:postgres); max is per database.\n",
                    );
                    out.push_str("# TYPE tailor_database_transactions gauge\n");
                    let _ = writeln!(out, "tailor_database_transactions{{state=\"open\"}} {open}");
                    let _ = writeln!(out, "tailor_database_transactions{{state=\"max\"}} {max}");
                }
                text(200, "text/plain; version=0.0.4; charset=utf-8", out)
            }
        })
    }
}

/// Serves only the operations endpoints (a worker process) until `shutdown` resolves.
pub async fn serve_ops(listener: TcpListener, ops: Arc<dyn Ops>, shutdown: impl Future<Output = ()>) {
    let state = Arc::new(OpsState { ops, http: None, postgres: None });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let state = state.clone();
                        async move {
                            let answer = state.answer(req.method(), req.uri().path()).await;
                            Ok::<_, Infallible>(answer.unwrap_or_else(|| text(404, "text/plain; charset=utf-8", "this address serves /healthz, /readyz and /metrics\n".into())))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            () = &mut shutdown => break,
        }
    }
}
