//! tailor's web UI, a Spin component (route `/...`): the web app built from `web/` (TypeScript,
//! Vite + Preact; its `dist/` is embedded at compile time) served with immutable caching of its
//! hashed assets, gzip when the browser takes it, a strict Content-Security-Policy, and
//! `index.html` for every other path (the app routes in the browser). It has no privilege: the
//! app talks to the public API with the token the person signs in with.
//!
//! [`respond`] is plain Rust (tested natively); `component.rs` (wasm32 only) wires it to Spin.

#[cfg(target_arch = "wasm32")]
mod component;

mod files {
    include!(concat!(env!("OUT_DIR"), "/files.rs"));
}

/// One file of the built app.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// The gzip of `bytes`, when it is worth sending instead.
    pub gzip: Option<&'static [u8]>,
}

/// A response: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'static [u8],
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What every answer carries: the app loads only its own scripts and styles and talks only to
/// its own origin.
const SECURITY: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

fn file(path: &str) -> Option<&'static Asset> {
    files::FILES.iter().find(|a| a.path == path)
}

/// Answers `method path` (the query is ignored); `accept_encoding` is the request's header.
pub fn respond(method: &str, path: &str, accept_encoding: Option<&str>) -> Response {
    let mut headers: Vec<(&'static str, String)> = SECURITY.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    if method != "GET" && method != "HEAD" {
        headers.push(("allow", "GET, HEAD".into()));
        headers.push(("content-type", "text/plain; charset=utf-8".into()));
        return Response { status: 405, headers, body: b"the web UI is read with GET\n" };
    }
    let path = path.split(['?', '#']).next().unwrap_or("/").trim_start_matches('/');
    let (name, immutable) = match file(path) {
        Some(_) if !path.is_empty() => (path, path.starts_with("assets/")),
        // A file-like path that is not there is a 404; anything else is a page of the app.
        _ if path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|last| last.contains('.')) => {
            headers.push(("content-type", "text/plain; charset=utf-8".into()));
            return Response { status: 404, headers, body: b"no such file in the web UI\n" };
        }
        _ => ("index.html", false),
    };
    let Some(Asset { content_type, bytes, gzip: gz, .. }) = file(name) else {
        headers.push(("content-type", "text/plain; charset=utf-8".into()));
        return Response { status: 500, headers, body: b"the web UI was built without index.html\n" };
    };
    headers.push(("content-type", (*content_type).to_owned()));
    headers.push((
        "cache-control",
        if immutable { "public, max-age=31536000, immutable".into() } else { "no-cache".into() },
    ));
    headers.push(("vary", "accept-encoding".into()));
    let gzip_ok = accept_encoding.is_some_and(|a| {
        a.split(',').any(|e| {
            let mut parts = e.trim().split(';');
            parts.next().is_some_and(|n| n.trim().eq_ignore_ascii_case("gzip"))
                && parts.all(|p| p.trim().replace(' ', "") != "q=0")
        })
    });
    let body = match gz {
        Some(z) if gzip_ok => {
            headers.push(("content-encoding", "gzip".into()));
            *z
        }
        _ => *bytes,
    };
    Response { status: 200, headers, body: if method == "HEAD" { b"" } else { body } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_the_app_and_files_are_files() {
        for path in ["/", "/customizations", "/customizations/cus_1/builds/2", "/wizard?step=3"] {
            let r = respond("GET", path, None);
            assert_eq!((r.status, r.header("content-type")), (200, Some("text/html; charset=utf-8")), "{path}");
            assert_eq!(r.header("cache-control"), Some("no-cache"));
            assert!(r.body.starts_with(b"<!") || r.body.starts_with(b"<html"), "{path}");
        }
        assert_eq!(respond("GET", "/assets/nope.js", None).status, 404);
        assert_eq!(respond("GET", "/favicon-nope.ico", None).status, 404);
        let post = respond("POST", "/", None);
        assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));
        assert!(respond("GET", "/", None).header("content-security-policy").unwrap().contains("script-src 'self'"));
        assert!(respond("HEAD", "/", None).body.is_empty());
    }

    #[test]
    fn assets_are_immutable_and_gzipped_when_taken() {
        for Asset { path, bytes, gzip: gz, .. } in files::FILES.iter().filter(|a| a.path.starts_with("assets/")) {
            let r = respond("GET", &format!("/{path}"), Some("br, gzip;q=0.9"));
            assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
            match gz {
                Some(z) => assert_eq!((r.header("content-encoding"), r.body), (Some("gzip"), *z)),
                None => assert_eq!(r.body, *bytes),
            }
            let plain = respond("GET", &format!("/{path}"), Some("gzip;q=0"));
            assert_eq!((plain.header("content-encoding"), plain.body), (None, *bytes));
        }
    }
}
