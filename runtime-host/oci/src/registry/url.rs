//! Registry URLs: the base URL (scheme rules), `Location` resolution, query strings, redaction.

use std::io;
use std::net::IpAddr;

use crate::{Error, Result};

/// A registry's base URL, checked: `http` or `https`, no credentials, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    scheme: &'static str,
    /// `host[:port]` as written (IPv6 literals keep their brackets).
    authority: String,
    /// Host without port or brackets, lowercase.
    host: String,
    /// Path prefix without trailing slash; normally empty.
    prefix: String,
}

fn config_error(msg: String) -> Error {
    Error::io("registry configuration", io::Error::new(io::ErrorKind::InvalidInput, msg))
}

impl BaseUrl {
    /// Parse `base_url`; plain `http` is accepted for loopback hosts, otherwise only when `insecure`.
    pub(crate) fn parse(base_url: &str, insecure: bool) -> Result<BaseUrl> {
        let raw = base_url.trim();
        let (scheme, rest) = if let Some(r) = raw.strip_prefix("https://") {
            ("https", r)
        } else if let Some(r) = raw.strip_prefix("http://") {
            ("http", r)
        } else {
            return Err(config_error(format!(
                "registry URL `{}` must start with http:// or https:// (for example https://registry.example or http://127.0.0.1:5000)",
                redact(raw)
            )));
        };
        if rest.contains(['?', '#']) {
            return Err(config_error(format!("registry URL `{}` must not have a query or fragment", redact(raw))));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(config_error(format!(
                "registry URL `{}` must not contain credentials: pass them separately (TAILOR_REGISTRY_USER / TAILOR_REGISTRY_PASSWORD or docker login)",
                redact(raw)
            )));
        }
        let host = host_of(authority)
            .filter(|h| !h.is_empty())
            .ok_or_else(|| config_error(format!("registry URL `{raw}` has no valid host")))?;
        // Let the http crate check the remaining syntax (ports, characters).
        format!("{scheme}://{authority}/")
            .parse::<http::Uri>()
            .map_err(|e| config_error(format!("registry URL `{raw}` is not a valid URL: {e}")))?;
        let prefix = path.trim_end_matches('/').to_string();
        let prefix = prefix.strip_suffix("/v2").unwrap_or(&prefix).to_string();
        let base = BaseUrl { scheme, authority: authority.to_string(), host, prefix };
        if scheme == "http" && !insecure && !is_loopback(&base.host) {
            return Err(config_error(format!(
                "registry URL `{raw}` uses plain HTTP to a host that is not loopback; use https:// or pass --insecure"
            )));
        }
        Ok(base)
    }

    pub(crate) fn is_loopback(&self) -> bool {
        is_loopback(&self.host)
    }

    /// `host[:port]`, the key for docker's `config.json`.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// `scheme://authority`.
    pub(crate) fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// The full URL of `path` (which starts with `/v2/`).
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{}{}", self.origin(), self.prefix, path)
    }

    /// For messages.
    pub(crate) fn display(&self) -> String {
        format!("{}{}", self.origin(), self.prefix)
    }

    /// Resolve a `Location` (or `Link`) header against the URL of the request that returned it.
    pub(crate) fn resolve(&self, request_url: &str, location: &str) -> Result<String> {
        let loc = location.trim();
        if loc.is_empty() {
            return Err(config_error(format!("empty Location header in the answer to {}", redact(request_url))));
        }
        if loc.starts_with("http://") || loc.starts_with("https://") {
            return Ok(loc.to_string());
        }
        if let Some(rest) = loc.strip_prefix("//") {
            return Ok(format!("{}://{rest}", self.scheme));
        }
        if loc.starts_with('/') {
            return Ok(format!("{}{loc}", self.origin()));
        }
        if loc.contains("://") {
            return Err(config_error(format!("unsupported Location `{}` from {}", redact(loc), redact(request_url))));
        }
        // Relative to the directory of the request path.
        let no_query = request_url.split(['?', '#']).next().unwrap_or(request_url);
        let dir = match no_query.rfind('/') {
            Some(i) if i + 1 > no_query.find("://").map_or(0, |s| s + 3) => &no_query[..=i],
            _ => return Ok(format!("{no_query}/{loc}")),
        };
        Ok(format!("{dir}{loc}"))
    }
}

/// Check that a URL we are about to follow (an upload `Location`, a token realm) may be used.
pub(crate) fn check_followed(url: &str, insecure: bool, what: &str) -> Result<()> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    match scheme {
        "https" => Ok(()),
        "http" if insecure || host_of(authority).is_some_and(|h| is_loopback(&h)) => Ok(()),
        "http" => Err(config_error(format!(
            "{what} `{}` uses plain HTTP to a host that is not loopback; pass --insecure to allow it",
            redact(url)
        ))),
        _ => Err(config_error(format!("{what} `{}` is not an http(s) URL", redact(url)))),
    }
}

/// Host (lowercase, IPv6 without brackets) of `host[:port]`.
fn host_of(authority: &str) -> Option<String> {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.starts_with(':')) {
            return None;
        }
        h
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            Some(_) => return None,
            None => authority,
        }
    };
    Some(host.to_ascii_lowercase())
}

/// 127.0.0.0/8, ::1 and `localhost`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes everything but RFC 3986's unreserved characters (query values, purl parts).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Append `key=value` to a URL, keeping its existing query.
pub(crate) fn add_query(url: &str, key: &str, value: &str) -> String {
    let head = url.split('#').next().unwrap_or(url);
    let sep = if !head.contains('?') {
        "?"
    } else if head.ends_with('?') || head.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{head}{sep}{key}={}", query_escape(value))
}

/// A URL fit for messages: no user info, long query strings (upload state tokens) shortened.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), url),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let tail = match tail.split_once('?') {
        Some((path, query)) if query.len() > 80 => {
            let shown: Vec<&str> = query
                .split('&')
                .map(|kv| if kv.len() > 40 { kv.split('=').next().unwrap_or("") } else { kv })
                .collect();
            format!("{path}?{}", shown.join("&"))
        }
        _ => tail.to_string(),
    };
    let mut out = format!("{scheme}{authority}{tail}");
    if out.len() > 300 {
        let mut cut = 300;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        let b = BaseUrl::parse("http://127.0.0.1:5000/", false).unwrap();
        assert_eq!(b.join("/v2/acme/x/tags/list"), "http://127.0.0.1:5000/v2/acme/x/tags/list");
        assert_eq!(b.authority(), "127.0.0.1:5000");
        assert!(BaseUrl::parse("http://localhost:5000", false).is_ok());
        assert!(BaseUrl::parse("http://[::1]:5000", false).is_ok());
        assert!(BaseUrl::parse("http://127.3.4.5", false).is_ok());
        assert!(BaseUrl::parse("https://registry.example", false).is_ok());
        assert_eq!(BaseUrl::parse("https://r.example/v2/", false).unwrap().join("/v2/"), "https://r.example/v2/");

        let e = BaseUrl::parse("http://registry.example:5000", false).unwrap_err().to_string();
        assert!(e.contains("--insecure"), "{e}");
        assert!(BaseUrl::parse("http://registry.example:5000", true).is_ok());
        let e = BaseUrl::parse("ftp://x", false).unwrap_err().to_string();
        assert!(e.contains("must start with http:// or https://"), "{e}");
        let e = BaseUrl::parse("127.0.0.1:5000", false).unwrap_err().to_string();
        assert!(e.contains("must start with http://"), "{e}");
        let e = BaseUrl::parse("https://bob:secret@r.example", false).unwrap_err().to_string();
        assert!(e.contains("must not contain credentials") && !e.contains("secret"), "{e}");
        assert!(BaseUrl::parse("https://", false).is_err());
        assert!(BaseUrl::parse("https://r.example:port", false).is_err());
        assert!(BaseUrl::parse("http://[::1", false).is_err());
    }

    #[test]
    fn resolves_locations() {
        let b = BaseUrl::parse("http://127.0.0.1:5000", false).unwrap();
        let req = "http://127.0.0.1:5000/v2/acme/x/blobs/uploads/";
        assert_eq!(
            b.resolve(req, "/v2/acme/x/blobs/uploads/abc?_state=s").unwrap(),
            "http://127.0.0.1:5000/v2/acme/x/blobs/uploads/abc?_state=s"
        );
        assert_eq!(b.resolve(req, "https://other.example/up/1").unwrap(), "https://other.example/up/1");
        assert_eq!(b.resolve(req, "//cdn.example/up").unwrap(), "http://cdn.example/up");
        assert_eq!(b.resolve(req, "abc?x=1").unwrap(), "http://127.0.0.1:5000/v2/acme/x/blobs/uploads/abc?x=1");
        assert!(b.resolve(req, "  ").is_err());
        assert!(b.resolve(req, "gopher://x/y").is_err());
    }

    #[test]
    fn queries_and_redaction() {
        assert_eq!(
            add_query("http://h/u/1?_state=a%2Bb", "digest", "sha256:ab"),
            "http://h/u/1?_state=a%2Bb&digest=sha256%3Aab"
        );
        assert_eq!(add_query("http://h/u/1", "digest", "sha256:ab"), "http://h/u/1?digest=sha256%3Aab");
        assert_eq!(add_query("http://h/u/1?", "n", "1"), "http://h/u/1?n=1");
        assert_eq!(query_escape("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
        assert_eq!(redact("https://bob:pw@h.example/v2/"), "https://h.example/v2/");
        let long = format!("http://h/v2/x/blobs/uploads/1?_state={}&digest=sha256%3Aab", "s".repeat(200));
        assert_eq!(redact(&long), "http://h/v2/x/blobs/uploads/1?_state&digest=sha256%3Aab");
        assert!(redact(&format!("http://h/{}", "é".repeat(400))).ends_with('…'));
    }

    #[test]
    fn followed_urls() {
        assert!(check_followed("https://auth.example/token", false, "token realm").is_ok());
        assert!(check_followed("http://127.0.0.1:9/token", false, "token realm").is_ok());
        assert!(check_followed("http://localhost/token", false, "token realm").is_ok());
        assert!(check_followed("http://auth.example/token", true, "token realm").is_ok());
        let e = check_followed("http://u:p@auth.example/token", false, "token realm").unwrap_err().to_string();
        assert!(e.contains("--insecure") && !e.contains("u:p"), "{e}");
        assert!(check_followed("file:///etc/passwd", true, "x").is_err());
    }
}
