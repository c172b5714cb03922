//! Just enough HTTP/1.1 for the test registry: requests with `Content-Length` or chunked
//! bodies, `Expect: 100-continue`, keep-alive; answers always carry `Content-Length`.

use std::io::{self, BufRead, Read, Write};

/// Request and header lines longer than this are refused.
const LINE_LIMIT: u64 = 64 * 1024;
/// Request bodies larger than this are refused.
const BODY_LIMIT: u64 = 256 * 1024 * 1024;
const HEADER_COUNT_LIMIT: usize = 200;

pub(super) struct Request {
    pub method: String,
    /// `/path?query` as sent.
    pub target: String,
    pub path: String,
    /// Decoded `key=value` pairs of the query string.
    pub query: Vec<(String, String)>,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

pub(super) struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Response {
        self.body = body;
        self.header("content-type", content_type)
    }

    /// A registry error answer: `{"errors":[{"code","message"}]}`.
    pub fn error(status: u16, code: &str, message: &str) -> Response {
        let body = serde_json::json!({"errors": [{"code": code, "message": message}]});
        Response::new(status).body("application/json", body.to_string().into_bytes())
    }
}

/// Read one request. `Ok(None)`: the connection is closed (or broke); `Err`: a malformed
/// request, to be answered with 400 before closing.
pub(super) fn read_request(reader: &mut impl BufRead, writer: &mut impl Write) -> Result<Option<Request>, String> {
    let Some(line) = read_line(reader)? else { return Ok(None) };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line `{}`", line.chars().take(100).collect::<String>()));
    };
    let mut headers = Vec::new();
    loop {
        let Some(h) = read_line(reader)? else { return Ok(None) };
        if h.is_empty() {
            break;
        }
        if headers.len() >= HEADER_COUNT_LIMIT {
            return Err("too many headers".to_string());
        }
        let (name, value) = h.split_once(':').ok_or_else(|| "malformed header line".to_string())?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, parse_query(q)),
        None => (target, Vec::new()),
    };
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        path: path.to_string(),
        query,
        keep_alive: version == "HTTP/1.1",
        headers,
        body: Vec::new(),
    };
    if req.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
        req.keep_alive = false;
    }
    let expects_continue = req.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    if expects_continue && writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").and_then(|()| writer.flush()).is_err() {
        return Ok(None);
    }
    let chunked = req.header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    req.body = if chunked {
        match read_chunked(reader)? {
            Some(b) => b,
            None => return Ok(None),
        }
    } else {
        let length: u64 = match req.header("content-length") {
            None => 0,
            Some(v) => v.parse().map_err(|_| format!("bad Content-Length `{v}`"))?,
        };
        if length > BODY_LIMIT {
            return Err(format!("body larger than {BODY_LIMIT} bytes"));
        }
        let mut body = Vec::new();
        match reader.take(length).read_to_end(&mut body) {
            Ok(n) if n as u64 == length => body,
            _ => return Ok(None),
        }
    };
    Ok(Some(req))
}

/// A line without its CRLF; `Ok(None)` at the end of the stream or on an I/O error.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, String> {
    let mut line = Vec::new();
    match reader.take(LINE_LIMIT).read_until(b'\n', &mut line) {
        Ok(0) | Err(_) => return Ok(None),
        Ok(_) => {}
    }
    if line.last() != Some(&b'\n') {
        return Err("line too long or cut short".to_string());
    }
    let text = String::from_utf8(line).map_err(|_| "a request line is not UTF-8".to_string())?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else { return Ok(None) };
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size `{size_text}`"))?;
        if size == 0 {
            // Trailers up to the empty line.
            while let Some(t) = read_line(reader)? {
                if t.is_empty() {
                    return Ok(Some(body));
                }
            }
            return Ok(None);
        }
        if body.len() as u64 + size > BODY_LIMIT {
            return Err(format!("body larger than {BODY_LIMIT} bytes"));
        }
        let before = body.len();
        match reader.take(size).read_to_end(&mut body) {
            Ok(n) if n as u64 == size && body.len() == before + n => {}
            _ => return Ok(None),
        }
        if read_line(reader)?.is_none() {
            return Ok(None);
        }
    }
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Write an answer; a `HEAD` gets the headers (with the body's length) and no body.
pub(super) fn write_response(w: &mut impl Write, head_only: bool, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let reason = match resp.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", resp.status);
    let has_length = resp.headers.iter().any(|(k, _)| *k == "content-length");
    if !has_length {
        out.push_str(&format!("content-length: {}\r\n", resp.body.len()));
    }
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(if keep_alive { "connection: keep-alive\r\n\r\n" } else { "connection: close\r\n\r\n" });
    w.write_all(out.as_bytes())?;
    if !head_only {
        w.write_all(&resp.body)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests() {
        let raw = b"PUT /v2/a/b/blobs/uploads/1?digest=sha256%3Aab&x HTTP/1.1\r\nHost: h\r\n\
Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext\r\nde\r\n0\r\n\r\nGET /v2/ HTTP/1.0\r\n\r\n";
        let mut reader = io::BufReader::new(&raw[..]);
        let mut sink = Vec::new();
        let req = read_request(&mut reader, &mut sink).unwrap().unwrap();
        assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v2/a/b/blobs/uploads/1"));
        assert_eq!(req.query("digest"), Some("sha256:ab"));
        assert_eq!(req.query("x"), Some(""));
        assert_eq!(req.header("host"), Some("h"));
        assert_eq!(req.body, b"abcde");
        assert!(req.keep_alive);
        let req = read_request(&mut reader, &mut sink).unwrap().unwrap();
        assert_eq!(req.target, "/v2/");
        assert!(!req.keep_alive);
        assert!(read_request(&mut reader, &mut sink).unwrap().is_none());
        let mut bad = io::BufReader::new(&b"GARBAGE\r\n\r\n"[..]);
        assert!(read_request(&mut bad, &mut sink).is_err());
        assert_eq!(percent_decode("a%2Fb%zz+c%4"), "a/b%zz c%4");
    }
}
