//! The request and response model of the handlers, and the JSON error format
//! `{"error": {"code", "message", "details": [{"field", "problem"}]}}`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// Path without the query, as received (percent-encoding kept).
    pub path: String,
    pub query: Option<String>,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: &str, path_and_query: &str) -> HttpRequest {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        HttpRequest { method: method.to_ascii_uppercase(), path, query, headers: Vec::new(), body: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> HttpRequest {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> HttpRequest {
        self.body = body.into();
        self
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// The path split into percent-decoded segments (empty ones dropped).
    pub fn segments(&self) -> Vec<String> {
        self.path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One problem of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    pub field: String,
    pub problem: String,
}

impl Detail {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Detail {
        Detail { field: field.into(), problem: problem.into() }
    }
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(status: u16, value: &impl Serialize) -> HttpResponse {
        let mut body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
        body.push(b'\n');
        HttpResponse { status, headers: vec![("content-type".into(), "application/json".into())], body }
    }

    pub fn text(status: u16, text: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: text.into().into_bytes(),
        }
    }

    pub fn empty(status: u16) -> HttpResponse {
        HttpResponse { status, headers: Vec::new(), body: Vec::new() }
    }

    /// The error format: `code` is a stable snake_case word, `message` says what to do.
    pub fn error(status: u16, code: &str, message: impl Into<String>, details: Vec<Detail>) -> HttpResponse {
        HttpResponse::json(
            status,
            &serde_json::json!({"error": {"code": code, "message": message.into(), "details": details}}),
        )
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `content-length` to send with this response to a `method` request: the body's
    /// length, unless the response has one, or must not have one (1xx, 204, 304), or answers a
    /// HEAD (whose length is the GET's).
    pub fn content_length(&self, method: &str) -> Option<usize> {
        let bodiless = matches!(self.status, 100..=199 | 204 | 304);
        (!bodiless && self.header("content-length").is_none() && !method.eq_ignore_ascii_case("HEAD"))
            .then_some(self.body.len())
    }
}

/// Milliseconds since the Unix epoch (the WASI wall clock in a component).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `2 * n` hex digits from the platform's random source (WASI `random` in a component, via
/// std's hash keys).
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(2 * n);
    while out.len() < 2 * n {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(out.len());
        for b in h.finish().to_le_bytes() {
            if out.len() < 2 * n {
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_segments_decode() {
        let r = HttpRequest::new("get", "/v1/orgs/acme/customizations?source_repository=acme%2Fdebian&x");
        assert_eq!(r.method, "GET");
        assert_eq!(r.segments(), ["v1", "orgs", "acme", "customizations"]);
        assert_eq!(r.query_param("source_repository").as_deref(), Some("acme/debian"));
        assert_eq!(r.query_param("x").as_deref(), Some(""));
        assert_eq!(r.query_param("y"), None);
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn the_content_length_is_the_bodys_where_one_may_be_sent() {
        let ok = HttpResponse::text(200, "hello");
        assert_eq!(ok.content_length("GET"), Some(5));
        assert_eq!(HttpResponse::empty(201).content_length("POST"), Some(0));
        assert_eq!(ok.content_length("HEAD"), None, "a HEAD's length is the GET's");
        assert_eq!(HttpResponse::empty(204).content_length("DELETE"), None);
        assert_eq!(HttpResponse::empty(304).content_length("GET"), None);
        assert_eq!(ok.clone().with_header("Content-Length", "5").content_length("GET"), None, "given already");
    }

    #[test]
    fn random_hex_has_the_length_and_varies() {
        let a = random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16));
    }
}
