//! Registry authentication: `WWW-Authenticate` challenges, Basic credentials and bearer tokens
//! (fetched from the challenge's realm, cached per scope).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};

use super::Credentials;
use super::credentials::{ENV_PASSWORD, ENV_USER};
use super::http::{Http, Request, read_error_message, status_error};
use super::url::{check_followed, query_escape, redact};
use crate::{Error, Result};

/// A token response body is small; refuse more.
const TOKEN_BODY_LIMIT: u64 = 1024 * 1024;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String>, error: Option<String> },
}

/// Parse every challenge of a `WWW-Authenticate` value we can answer (`Basic`, `Bearer` with a
/// realm). Unknown schemes and malformed parameters are skipped, never an error.
pub(crate) fn parse_challenges(value: &str) -> Vec<Challenge> {
    enum Item {
        Scheme(String),
        Param(String, String),
    }
    let mut items = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let mut token = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != ',' && *c != '=') {
            token.push(c);
        }
        if token.is_empty() {
            match chars.next() {
                None => break,
                Some(_) => continue, // a stray '='
            }
        }
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            items.push(Item::Scheme(token));
            continue;
        }
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut v = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => v.extend(chars.next()),
                    c => v.push(c),
                }
            }
        } else {
            // token68 values may end in '=' padding.
            while let Some(c) = chars.next_if(|c| *c != ',' && !c.is_whitespace()) {
                v.push(c);
            }
        }
        items.push(Item::Param(token.to_ascii_lowercase(), v));
    }

    let mut out = Vec::new();
    let mut current: Option<(String, HashMap<String, String>)> = None;
    let mut finish = |c: Option<(String, HashMap<String, String>)>| {
        let Some((scheme, mut params)) = c else {
            return;
        };
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => out.push(Challenge::Basic),
            "bearer" => {
                if let Some(realm) = params.remove("realm").filter(|r| !r.is_empty()) {
                    out.push(Challenge::Bearer {
                        realm,
                        service: params.remove("service"),
                        scope: params.remove("scope"),
                        error: params.remove("error"),
                    });
                }
            }
            _ => {}
        }
    };
    for item in items {
        match item {
            Item::Scheme(s) => finish(current.replace((s, HashMap::new()))),
            Item::Param(k, v) => {
                if let Some((_, params)) = current.as_mut() {
                    params.entry(k).or_insert(v);
                }
            }
        }
    }
    finish(current);
    out
}

#[derive(Debug, Clone)]
enum Mode {
    /// No challenge seen yet: requests go out anonymously.
    Unknown,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

struct Token {
    value: String,
    expires: Instant,
}

struct State {
    mode: Mode,
    tokens: HashMap<String, Token>,
}

/// What the client knows about authenticating at one registry. Shared by threads.
pub(crate) struct Auth {
    registry: String,
    /// `docker login HOST` in hints.
    host: String,
    credentials: Option<Credentials>,
    insecure: bool,
    state: Mutex<State>,
}

/// The `Authorization` header sent with a request, remembered to judge a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    Nothing,
    Basic,
    Bearer,
}

impl Auth {
    pub(crate) fn new(registry: String, host: String, credentials: Option<Credentials>, insecure: bool) -> Auth {
        Auth {
            registry,
            host,
            credentials,
            insecure,
            state: Mutex::new(State { mode: Mode::Unknown, tokens: HashMap::new() }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The `Authorization` header for a request needing `scopes`, fetching a token when the
    /// registry is known to want one.
    pub(crate) fn authorization(&self, http: &Http, scopes: &[String]) -> Result<(Option<String>, Sent)> {
        let mode = self.lock().mode.clone();
        match mode {
            Mode::Unknown => Ok((None, Sent::Nothing)),
            Mode::Basic => Ok(match &self.credentials {
                Some(c) => (Some(c.basic_header()), Sent::Basic),
                None => (None, Sent::Nothing),
            }),
            Mode::Bearer { realm, service } => {
                let key = scopes.join(" ");
                if let Some(t) = self.lock().tokens.get(&key).filter(|t| t.expires > Instant::now()) {
                    return Ok((Some(format!("Bearer {}", t.value)), Sent::Bearer));
                }
                let token = self.fetch_token(http, &realm, service.as_deref(), scopes)?;
                let header = format!("Bearer {}", token.value);
                self.lock().tokens.insert(key, token);
                Ok((Some(header), Sent::Bearer))
            }
        }
    }

    /// A request answered 401: learn from the challenge so that sending it again can succeed,
    /// or fail with a message saying what to do. `retried`: this was already the second try.
    pub(crate) fn on_unauthorized(
        &self,
        req: &Request<'_>,
        challenge_headers: &[String],
        registry_message: &str,
        scopes: &[String],
        sent: &Sent,
        retried: bool,
    ) -> Result<()> {
        let challenges: Vec<Challenge> = challenge_headers.iter().flat_map(|h| parse_challenges(h)).collect();
        let bearer = challenges.iter().find(|c| matches!(c, Challenge::Bearer { .. }));
        if let Some(Challenge::Bearer { realm, service, scope: _, error }) = bearer {
            if retried {
                let why = match (sent, error.as_deref()) {
                    (Sent::Bearer, Some("insufficient_scope")) => {
                        format!("the token server did not grant {}", scopes.join(" "))
                    }
                    (Sent::Bearer, _) => "the registry did not accept the token".to_string(),
                    _ => "no token was sent".to_string(),
                };
                return Err(self.refused(req, &format!("{why}: {registry_message}")));
            }
            // A cached token may have expired or lost rights: always fetch a fresh one.
            let mut state = self.lock();
            state.mode = Mode::Bearer { realm: realm.clone(), service: service.clone() };
            state.tokens.remove(&scopes.join(" "));
            return Ok(());
        }
        if challenges.contains(&Challenge::Basic) {
            if retried || self.credentials.is_none() || *sent == Sent::Basic {
                return Err(self.refused(req, registry_message));
            }
            self.lock().mode = Mode::Basic;
            return Ok(());
        }
        Err(self.refused(req, &format!("{registry_message}; no Basic or Bearer challenge to answer")))
    }

    /// `Error::Unauthorized` with what was tried and what to do.
    pub(crate) fn refused(&self, req: &Request<'_>, detail: &str) -> Error {
        let message = match &self.credentials {
            None => format!(
                "{} requires authentication and no credentials were found ({detail}); set {ENV_USER} and {ENV_PASSWORD} or run `docker login {}`",
                req.describe(),
                self.host
            ),
            Some(c) => format!(
                "{} was refused for user `{}` ({detail}); check the user name and password ({ENV_USER} / {ENV_PASSWORD} or `docker login {}`) and that the user may access it",
                req.describe(),
                c.username,
                self.host
            ),
        };
        Error::Unauthorized { registry: self.registry.clone(), message }
    }

    /// `GET realm?service=…&scope=…&scope=…`, with Basic credentials when we have them.
    fn fetch_token(&self, http: &Http, realm: &str, service: Option<&str>, scopes: &[String]) -> Result<Token> {
        check_followed(realm, self.insecure, "token realm")?;
        let mut query: Vec<String> = Vec::new();
        if let Some(s) = service {
            query.push(format!("service={}", query_escape(s)));
        }
        for s in scopes {
            query.push(format!("scope={}", query_escape(s)));
        }
        if let Some(c) = &self.credentials {
            query.push(format!("account={}", query_escape(&c.username)));
        }
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = if query.is_empty() { realm.to_string() } else { format!("{realm}{sep}{}", query.join("&")) };
        let req = Request::new(Method::GET, url).header("accept", "application/json");
        let auth = self.credentials.as_ref().map(Credentials::basic_header);
        let resp = http.send(&req, auth.as_deref())?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let detail = format!("token server {} answered {status}: {}", redact(realm), read_error_message(resp));
            return Err(self.refused(&req, &detail));
        }
        if !status.is_success() {
            return Err(status_error(&req, resp));
        }
        let body =
            resp.into_body().into_with_config().limit(TOKEN_BODY_LIMIT).read_to_vec().map_err(|e| {
                Error::Transport { method: "GET".into(), url: redact(&req.url), message: e.to_string() }
            })?;
        parse_token_response(&body).map_err(|message| Error::Transport {
            method: "GET".into(),
            url: redact(&req.url),
            message: format!("not a token response: {message}"),
        })
    }
}

fn parse_token_response(body: &[u8]) -> std::result::Result<Token, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<serde_json::Value>,
    }
    let a: Answer = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let value = a
        .token
        .filter(|t| !t.is_empty())
        .or(a.access_token.filter(|t| !t.is_empty()))
        .ok_or("neither `token` nor `access_token` is set")?;
    if value.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Err("the token contains characters not allowed in a header".into());
    }
    // The spec's default lifetime is 60 s; keep a margin for clock skew and slow requests.
    let lifetime = a.expires_in.and_then(|v| v.as_u64()).filter(|s| *s > 0).unwrap_or(60);
    let usable = lifetime.saturating_sub(lifetime.min(30) / 2).min(3600);
    Ok(Token { value, expires: Instant::now() + Duration::from_secs(usable.max(1)) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/x:pull,push""#,
        );
        assert_eq!(
            c,
            vec![Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:acme/x:pull,push".into()),
                error: None,
            }]
        );
        assert_eq!(parse_challenges(r#"Basic realm="Registry Realm""#), vec![Challenge::Basic]);
        assert_eq!(parse_challenges("basic"), vec![Challenge::Basic]);
    }

    #[test]
    fn parses_odd_challenges() {
        let c = parse_challenges(
            r#"Negotiate abc==, Basic realm="a, b", BEARER error="insufficient_scope", realm=https://t.example/x , scope="a \"q\"""#,
        );
        assert_eq!(
            c,
            vec![
                Challenge::Basic,
                Challenge::Bearer {
                    realm: "https://t.example/x".into(),
                    service: None,
                    scope: Some(r#"a "q""#.into()),
                    error: Some("insufficient_scope".into()),
                }
            ]
        );
        // No realm: nothing we can answer.
        assert!(parse_challenges(r#"Bearer service="x""#).is_empty());
        for garbage in ["", "=", "===,,,", "\"", "Bearer realm=\"unterminated", "Bearer realm", "a=b=c", "\u{0}\u{7f}é"]
        {
            let _ = parse_challenges(garbage);
        }
        assert_eq!(
            parse_challenges("Bearer realm=\"unterminated"),
            vec![Challenge::Bearer { realm: "unterminated".into(), service: None, scope: None, error: None }]
        );
    }

    #[test]
    fn token_responses() {
        assert_eq!(parse_token_response(br#"{"token":"abc","expires_in":300}"#).unwrap().value, "abc");
        assert_eq!(parse_token_response(br#"{"access_token":"xyz"}"#).unwrap().value, "xyz");
        assert_eq!(parse_token_response(br#"{"token":"","access_token":"xyz"}"#).unwrap().value, "xyz");
        assert!(parse_token_response(br#"{"token":"a\nb"}"#).is_err());
        assert!(parse_token_response(br#"{}"#).is_err());
        assert!(parse_token_response(b"<html>").is_err());
        let t = parse_token_response(br#"{"token":"t","expires_in":"soon"}"#).unwrap();
        assert!(t.expires > Instant::now());
    }
}
