//! Requests to tailor's API with the signed-in token: every answer outside 2xx becomes an
//! [`Error::Api`] carrying the API's code, message and field paths; a server that does not
//! answer like the API is a [`Error::Transport`] naming the URL.

use std::cell::OnceCell;
use std::io::Read;
use std::time::Duration;

use serde_json::Value;
use ureq::Body as UreqBody;

use crate::error::Detail;
use crate::{Error, Login};

/// The largest answer read (a build log can be long).
const MAX_ANSWER: u64 = 64 << 20;

/// A request body and its media type.
#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Body {
    pub fn json(value: &Value) -> Body {
        Body { content_type: "application/json", bytes: value.to_string().into_bytes() }
    }

    pub fn merge_patch(value: &Value) -> Body {
        Body { content_type: "application/merge-patch+json", bytes: value.to_string().into_bytes() }
    }

    pub fn yaml(text: String) -> Body {
        Body { content_type: "application/yaml", bytes: text.into_bytes() }
    }
}

/// A 2xx answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Vec<u8>,
    url: String,
}

impl Answer {
    pub fn json(&self) -> Result<Value, Error> {
        serde_json::from_slice(&self.body).map_err(|e| not_api(&self.url, self.status, &format!("not JSON ({e})")))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn not_api(url: &str, status: u16, what: &str) -> Error {
    Error::Transport(format!(
        "{url} answered {status} with {what}: is --server tailor's address (what `tailor up` prints)?"
    ))
}

/// `text` with every byte outside `A-Za-z0-9-._~` (and `/` when `slash`) percent-encoded.
pub fn encode(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub struct Api {
    login: Login,
    agent: ureq::Agent,
    token_info: OnceCell<Value>,
}

impl Api {
    pub fn new(login: Login) -> Api {
        let loopback =
            login.server.split("://").nth(1).is_some_and(|rest| {
                rest.starts_with("127.") || rest.starts_with("localhost") || rest.starts_with("[::1]")
            });
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("tailor/", env!("CARGO_PKG_VERSION")))
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(120)));
        if loopback {
            config = config.proxy(None);
        }
        Api { login, agent: config.build().new_agent(), token_info: OnceCell::new() }
    }

    pub fn server(&self) -> &str {
        &self.login.server
    }

    /// `GET /v1/token`: the org and role of the token (asked once).
    pub fn token_info(&self) -> Result<&Value, Error> {
        if let Some(v) = self.token_info.get() {
            return Ok(v);
        }
        let v = self.get("/v1/token")?;
        if !v["org"].is_string() {
            return Err(not_api(&format!("{}/v1/token", self.login.server), 200, "no org"));
        }
        Ok(self.token_info.get_or_init(|| v))
    }

    /// The token's org.
    pub fn org(&self) -> Result<String, Error> {
        Ok(self.token_info()?["org"].as_str().unwrap_or_default().to_owned())
    }

    /// `/v1/orgs/{org}{rest}`.
    pub fn org_path(&self, rest: &str) -> Result<String, Error> {
        Ok(format!("/v1/orgs/{}{rest}", encode(&self.org()?, false)))
    }

    pub fn get(&self, path: &str) -> Result<Value, Error> {
        self.send("GET", path, None, None)?.json()
    }

    pub fn get_text(&self, path: &str) -> Result<String, Error> {
        Ok(self.send("GET", path, None, None)?.text())
    }

    /// Sends a request; a 2xx answer, else the API's error.
    pub fn send(&self, method: &str, path: &str, body: Option<Body>, if_match: Option<&str>) -> Result<Answer, Error> {
        let url = format!("{}{path}", self.login.server);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.login.token))
            .header("accept", "application/json, text/plain");
        if let Some(m) = if_match {
            builder = builder.header("if-match", m);
        }
        let result = match body {
            Some(b) => {
                let request = builder
                    .header("content-type", b.content_type)
                    .body(b.bytes)
                    .map_err(|e| Error::Input(format!("{method} {url}: {e}")))?;
                self.agent.run(request)
            }
            None => {
                let request = builder.body(()).map_err(|e| Error::Input(format!("{method} {url}: {e}")))?;
                self.agent.run(request)
            }
        };
        let mut response = result.map_err(|e| transport(&self.login.server, &e))?;
        let status = response.status().as_u16();
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json") || c.contains("+json"));
        let mut bytes = Vec::new();
        let body: &mut UreqBody = response.body_mut();
        body.with_config()
            .limit(MAX_ANSWER)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Transport(format!("{method} {url}: reading the answer: {e}")))?;
        if (200..300).contains(&status) {
            return Ok(Answer { status, etag, body: bytes, url });
        }
        Err(api_error(&url, status, is_json, &bytes))
    }
}

fn transport(server: &str, e: &ureq::Error) -> Error {
    let hint = match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            " (connection refused: is `tailor up` running there?)"
        }
        ureq::Error::ConnectionFailed => " (is `tailor up` running there?)",
        ureq::Error::Timeout(_) => " (no answer in time)",
        _ => "",
    };
    Error::Transport(format!("cannot reach {server}: {e}{hint}"))
}

/// The error of a non-2xx answer: the API's `{"error": …}` when it is one.
fn api_error(url: &str, status: u16, is_json: bool, bytes: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        code: String,
        message: String,
        #[serde(default)]
        details: Vec<Detail>,
    }
    if is_json && let Ok(Envelope { error }) = serde_json::from_slice::<Envelope>(bytes) {
        return Error::Api { status, code: error.code, message: error.message, details: error.details };
    }
    if (300..400).contains(&status) {
        return not_api(url, status, "a redirect");
    }
    let snippet: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
    let message = format!(
        "{url} answered {status}{}",
        if snippet.trim().is_empty() { String::new() } else { format!(": {}", snippet.trim()) }
    );
    Error::Api { status, code: format!("http_{status}"), message, details: vec![] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_the_api_s_code_message_and_fields() {
        let body =
            br#"{"error":{"code":"invalid_spec","message":"bad","details":[{"field":"name","problem":"empty"}]}}"#;
        let e = api_error("http://x/v1/y", 422, true, body);
        assert!(
            matches!(&e, Error::Api { status: 422, code, details, .. } if code == "invalid_spec" && details[0].field == "name")
        );
        let proxy = api_error("http://x/v1/y", 502, false, b"<html>Bad Gateway</html>");
        assert!(
            matches!(&proxy, Error::Api { status: 502, code, message, .. } if code == "http_502" && message.contains("Bad Gateway"))
        );
        assert!(matches!(api_error("http://x/v1/y", 301, false, b""), Error::Transport(_)));
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode("team/app", true), "team/app");
        assert_eq!(encode("a b/c?d#", false), "a%20b%2Fc%3Fd%23");
        assert_eq!(encode("1.2.3_x-y~", false), "1.2.3_x-y~");
    }
}
