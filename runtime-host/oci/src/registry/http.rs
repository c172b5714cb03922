//! Sending requests: ureq agents shared by the whole process, retries with exponential backoff,
//! error messages.

use std::io::Read;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use http::{Method, Response, StatusCode};
use ureq::Body;

use super::url::redact;
use crate::{Error, Result};

/// Attempts for a retryable request (the first one included).
pub(crate) const MAX_ATTEMPTS: u32 = 4;
/// First backoff; doubled after each failed attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The wait before attempt `attempt + 1` (the first retry waits [`FIRST_BACKOFF`]).
pub(crate) fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF * 2u32.pow(attempt.saturating_sub(1))
}

/// At most this much of an error body is read.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// One request. The body is in memory, so it can be sent again on a retry or after
/// authenticating.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'a [u8],
    /// Whether sending it twice is harmless (GET, HEAD, PUT, DELETE, upload-starting POSTs).
    pub retry: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, url: String) -> Request<'a> {
        let retry = method != Method::PATCH;
        Request { method, url, headers: Vec::new(), body: &[], retry }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn no_retry(mut self) -> Self {
        self.retry = false;
        self
    }

    /// `GET https://…` for messages.
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.method, redact(&self.url))
    }
}

/// Idle connections kept per registry host: enough for every worker's concurrent uploads.
const IDLE_PER_HOST: usize = 32;

pub(crate) struct Http {
    agent: ureq::Agent,
}

impl Http {
    /// The process's agent for clients with these settings. Every client of the process shares
    /// its connection pool: a build (a client per build and org) then reuses the connections of
    /// the builds before it instead of opening one or two per request, which cost the registry
    /// as much CPU as a small request. Connections carry nothing of a client: credentials and
    /// tokens go in each request's `Authorization` header, and ureq keeps no cookies.
    pub(crate) fn shared(insecure: bool, loopback: bool) -> Http {
        type Agents = Vec<((bool, bool), ureq::Agent)>;
        static AGENTS: OnceLock<Mutex<Agents>> = OnceLock::new();
        let mut agents = AGENTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, agent)) = agents.iter().find(|(key, _)| *key == (insecure, loopback)) {
            return Http { agent: agent.clone() };
        }
        let http = Http::new(insecure, loopback);
        agents.push(((insecure, loopback), http.agent.clone()));
        http
    }

    fn new(insecure: bool, loopback: bool) -> Http {
        let tls = ureq::tls::TlsConfig::builder().disable_verification(insecure).build();
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("tailor/", env!("CARGO_PKG_VERSION")))
            // Blobs must arrive byte for byte: never ask for a transfer encoding.
            .accept_encoding("identity")
            .max_redirects(10)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_send_request(Some(Duration::from_secs(60)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .timeout_per_write(Some(Duration::from_secs(120)))
            .max_response_header_size(64 * 1024)
            .max_idle_connections(4 * IDLE_PER_HOST)
            .max_idle_connections_per_host(IDLE_PER_HOST);
        if loopback {
            // A proxy from the environment cannot reach our loopback.
            config = config.proxy(None);
        }
        Http { agent: config.build().new_agent() }
    }

    /// Send `req` (with `authorization` when given), retrying connection failures and 5xx / 429
    /// answers of retryable requests. Any other answer is returned as it is.
    pub(crate) fn send(&self, req: &Request<'_>, authorization: Option<&str>) -> Result<Response<Body>> {
        let attempts = if req.retry { MAX_ATTEMPTS } else { 1 };
        let mut attempt = 1;
        loop {
            let last = attempt >= attempts;
            match self.send_once(req, authorization) {
                Ok(resp) => {
                    let status = resp.status();
                    let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if !transient || last {
                        return Ok(resp);
                    }
                    let wait = retry_after(&resp).unwrap_or(backoff(attempt));
                    drop(resp);
                    std::thread::sleep(wait);
                }
                Err(e) if !last && is_transient(&e) => std::thread::sleep(backoff(attempt)),
                Err(e) => return Err(transport_error(req, &e)),
            }
            attempt += 1;
        }
    }

    /// Send `req` once with `body` streamed as it is read (no retry: the stream is consumed).
    pub(crate) fn send_stream(
        &self,
        req: &Request<'_>,
        authorization: Option<&str>,
        body: &mut dyn Read,
    ) -> Result<Response<Body>> {
        let mut builder = http::Request::builder().method(req.method.clone()).uri(req.url.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(auth) = authorization {
            builder = builder.header(http::header::AUTHORIZATION, auth);
        }
        let request = builder.body(ureq::SendBody::from_reader(body)).map_err(|e| transport_error(req, &e.into()))?;
        self.agent.run(request).map_err(|e| transport_error(req, &e))
    }

    fn send_once(&self, req: &Request<'_>, authorization: Option<&str>) -> Result<Response<Body>, ureq::Error> {
        let mut builder = http::Request::builder().method(req.method.clone()).uri(req.url.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(auth) = authorization {
            builder = builder.header(http::header::AUTHORIZATION, auth);
        }
        let request = builder.body(req.body)?;
        self.agent.run(request)
    }
}

/// Connection-level failures worth another try. TLS, URL and redirect problems are not.
fn is_transient(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::Timeout(_) | ureq::Error::Protocol(_))
}

/// `Retry-After` in seconds, capped at 10 s.
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    let secs: u64 = header(resp, "retry-after")?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(10)))
}

fn transport_error(req: &Request<'_>, e: &ureq::Error) -> Error {
    let mut message = e.to_string();
    if let ureq::Error::Tls(_) = e {
        message.push_str(" (if the registry uses a self-signed certificate, pass --insecure)");
    }
    if let ureq::Error::Io(io) = e
        && io.kind() == std::io::ErrorKind::ConnectionRefused
    {
        message = format!("connection refused: is the registry running? ({io})");
    }
    Error::Transport { method: req.method.to_string(), url: redact(&req.url), message }
}

/// A header's value as text, when present and printable.
pub(crate) fn header<'r>(resp: &'r Response<Body>, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The error for an unexpected answer: method, URL, status and the registry's error codes and
/// messages (or the start of a text body).
pub(crate) fn status_error(req: &Request<'_>, resp: Response<Body>) -> Error {
    let status = resp.status().as_u16();
    Error::Http { method: req.method.to_string(), url: redact(&req.url), status, message: read_error_message(resp) }
}

/// What an error answer says (its body, at most 64 KiB read), else the status's reason phrase.
pub(crate) fn read_error_message(resp: Response<Body>) -> String {
    let status = resp.status();
    let content_type = header(&resp, "content-type").unwrap_or_default().to_string();
    let mut body = Vec::new();
    // A failed read only loses the detail, not the error.
    let _ = resp.into_body().into_reader().take(ERROR_BODY_LIMIT).read_to_end(&mut body);
    let message = error_body_message(&body, &content_type);
    if message.is_empty() { status.canonical_reason().unwrap_or("unexpected status").to_string() } else { message }
}

/// Registry error bodies are `{"errors":[{"code","message","detail"}]}`; anything else is shown
/// as (the start of) its text.
pub(crate) fn error_body_message(body: &[u8], content_type: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: Option<String>,
        message: Option<String>,
    }
    if let Ok(b) = serde_json::from_slice::<Body>(body)
        && !b.errors.is_empty()
    {
        let parts: Vec<String> = b
            .errors
            .iter()
            .take(5)
            .map(|e| {
                let code = clean(e.code.as_deref().unwrap_or("UNKNOWN"), 60);
                match e.message.as_deref().map(|m| clean(m, 200)).filter(|m| !m.is_empty()) {
                    Some(m) => format!("{code}: {m}"),
                    None => code,
                }
            })
            .collect();
        return parts.join("; ");
    }
    let binary = !content_type.is_empty()
        && !content_type.starts_with("text/")
        && !content_type.contains("json")
        && !content_type.contains("xml");
    match std::str::from_utf8(body) {
        Ok(text) if !binary => clean(text, 300),
        _ if body.is_empty() => String::new(),
        _ => format!("{} bytes of {}", body.len(), if content_type.is_empty() { "binary data" } else { content_type }),
    }
}

/// One line of printable text, at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if flat.chars().count() > max { format!("{}…", flat.chars().take(max).collect::<String>()) } else { flat }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_registry_error_bodies() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}"#;
        assert_eq!(error_body_message(body, "application/json"), "MANIFEST_UNKNOWN: manifest unknown");
        let two = br#"{"errors":[{"code":"DENIED","message":"no\nway"},{"code":"UNAUTHORIZED"}]}"#;
        assert_eq!(error_body_message(two, "application/json; charset=utf-8"), "DENIED: no way; UNAUTHORIZED");
        assert_eq!(error_body_message(b"404 page not found\n", "text/plain"), "404 page not found");
        assert_eq!(error_body_message(b"", ""), "");
        assert_eq!(
            error_body_message(&[0xff, 0xfe, 0], "application/octet-stream"),
            "3 bytes of application/octet-stream"
        );
        assert_eq!(error_body_message(&[0xff, 0xfe], ""), "2 bytes of binary data");
        let long = "x".repeat(1000);
        assert_eq!(error_body_message(long.as_bytes(), "text/html").chars().count(), 301);
        assert_eq!(error_body_message(br#"{"errors": "garbage"}"#, "application/json"), r#"{"errors": "garbage"}"#);
        assert_eq!(error_body_message(b"a\x07b", "text/plain"), "a?b");
    }
}
