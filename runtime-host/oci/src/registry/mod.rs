//! Distribution (OCI) registry API v2 client: manifests, blobs (monolithic and chunked
//! uploads, cross-repository mounts), tag lists, OCI 1.1 referrers; Basic and bearer-token
//! authentication.
//!
//! Files: `http` sends requests (retries, error messages), `auth` answers challenges,
//! `credentials` finds credentials, `upload` pushes blobs, `referrers` lists referrers, `url`
//! handles URLs.

mod auth;
mod credentials;
mod http;
mod referrers;
mod resume;
mod upload;
mod url;
pub use url::query_escape as percent_encode;

use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::sync::Arc;

use ::http::{Method, Response, StatusCode};
use ureq::Body;

use self::auth::Auth;
pub use self::credentials::Credentials;
use self::http::{Http, Request, header, read_error_message, status_error};
use self::url::{BaseUrl, redact};
use crate::media::{MANIFEST_ACCEPT, sniff_manifest_type};
use crate::store::Backend;
use crate::{BlobSource, Digest, Error, ManifestHead, Progress, RawManifest, Referrer, Result, Scope};

/// Manifests and indexes larger than this are refused.
const MANIFEST_LIMIT: u64 = 4 * 1024 * 1024;
/// Tag list pages larger than this are refused.
const TAG_PAGE_LIMIT: u64 = 16 * 1024 * 1024;

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// `http://127.0.0.1:5000` or `https://registry.example`. Plain `http` is accepted for
    /// loopback hosts, otherwise only with `insecure`.
    pub base_url: String,
    /// Basic credentials (also used at a bearer token endpoint). None = from the environment
    /// or docker's config (see [`Credentials::lookup`]), else anonymous.
    pub credentials: Option<Credentials>,
    /// Allow plain HTTP to any host and skip TLS certificate verification.
    pub insecure: bool,
    /// Without `credentials`: stay anonymous instead of looking credentials up. An upstream's
    /// client must never pick up the org registry's credentials from the environment.
    pub anonymous: bool,
}

impl RegistryConfig {
    /// A secure configuration for `base_url`, credentials looked up when needed.
    pub fn new(base_url: impl Into<String>) -> RegistryConfig {
        RegistryConfig { base_url: base_url.into(), credentials: None, insecure: false, anonymous: false }
    }

    pub fn with_credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> RegistryConfig {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    pub fn with_insecure(mut self, insecure: bool) -> RegistryConfig {
        self.insecure = insecure;
        self
    }
}

pub(crate) struct RegistryStore {
    base: BaseUrl,
    http: Arc<Http>,
    auth: Arc<Auth>,
    scope: Scope,
    insecure: bool,
}

impl RegistryStore {
    pub(crate) fn new(config: RegistryConfig, scope: &Scope) -> Result<RegistryStore> {
        let base = BaseUrl::parse(&config.base_url, config.insecure)?;
        let credentials = match (config.credentials, config.anonymous) {
            (Some(c), _) => Some(c),
            (None, true) => None,
            (None, false) => Credentials::lookup(base.authority()),
        };
        let http = Http::shared(config.insecure, base.is_loopback());
        let auth = Auth::new(base.display(), base.authority().to_string(), credentials, config.insecure);
        Ok(RegistryStore {
            base,
            http: Arc::new(http),
            auth: Arc::new(auth),
            scope: scope.clone(),
            insecure: config.insecure,
        })
    }

    /// `…/v2/<repo>/<tail>`.
    fn url(&self, repo: &str, tail: &str) -> String {
        self.base.join(&format!("/v2/{repo}/{tail}"))
    }

    /// Token scopes for touching `repo`: push too when this client may write it, so one token
    /// serves the reads and writes of a publish.
    fn access(&self, repo: &str) -> Vec<String> {
        if self.scope.can_write(repo) { push_scope(repo) } else { vec![format!("repository:{repo}:pull")] }
    }

    /// Send with authentication: answer a 401 challenge once, then give up with a clear error.
    fn send(&self, req: &Request<'_>, scopes: &[String]) -> Result<Response<Body>> {
        send_authenticated(&self.http, &self.auth, req, scopes)
    }

    /// Send once with a streamed body (it cannot be sent again): the token for `scopes` is
    /// the one the upload session was opened with. A 401 or 403 is an error.
    fn send_streaming(&self, req: &Request<'_>, body: &mut dyn Read, scopes: &[String]) -> Result<Response<Body>> {
        let (authorization, _) = self.auth.authorization(&self.http, scopes)?;
        let resp = self.http.send_stream(req, authorization.as_deref(), body)?;
        match resp.status() {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let message = format!("HTTP {}: {}", resp.status().as_u16(), read_error_message(resp));
                Err(self.auth.refused(req, &message))
            }
            _ => Ok(resp),
        }
    }

    fn transport(req: &Request<'_>, e: impl std::fmt::Display) -> Error {
        Error::Transport { method: req.method.to_string(), url: redact(&req.url), message: e.to_string() }
    }

    fn manifest_head_from_get(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>> {
        match self.get_manifest(repo, reference) {
            Ok(m) => Ok(Some(ManifestHead { size: m.bytes.len() as u64, digest: m.digest, media_type: m.media_type })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Same origin as the registry: where we may send its credentials.
    fn same_origin(&self, url: &str) -> bool {
        let origin = self.base.origin();
        url.strip_prefix(origin.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
    }
}

fn push_scope(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull,push")]
}

/// `acme/dhi-python`: lowercase path components of `[a-z0-9]` separated by `.`, `_`, `-`.
fn check_repo(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b.iter().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"._-".contains(x))
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
        });
    if ok { Ok(()) } else { Err(Error::InvalidManifest(format!("`{repo}` is not a valid repository name"))) }
}

/// A tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) or a digest (`algorithm:encoded`).
fn check_reference(reference: &str) -> Result<()> {
    let tag_ok = |t: &str| {
        let b = t.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter().all(|x| x.is_ascii_alphanumeric() || b"_.-".contains(x))
    };
    let digest_ok = |d: &str| {
        d.split_once(':').is_some_and(|(alg, enc)| {
            !alg.is_empty()
                && alg.bytes().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"+._-".contains(&x))
                && enc.len() >= 32
                && enc.bytes().all(|x| x.is_ascii_alphanumeric() || b"=_-".contains(&x))
        })
    };
    if tag_ok(reference) || digest_ok(reference) {
        Ok(())
    } else {
        Err(Error::InvalidManifest(format!(
            "`{}` is not a valid tag or digest",
            reference.chars().take(140).collect::<String>()
        )))
    }
}

/// The media type of a response, without parameters; None when it says nothing useful.
fn media_type_of(resp: &Response<Body>) -> Option<String> {
    let ct = header(resp, "content-type")?.split(';').next()?.trim().to_ascii_lowercase();
    let generic = ct.is_empty() || ct == "application/json" || ct == "text/plain" || ct == "application/octet-stream";
    (!generic).then_some(ct)
}

/// The `Docker-Content-Digest` header when it is a sha256 digest.
fn digest_header(resp: &Response<Body>) -> Option<Digest> {
    header(resp, "docker-content-digest").and_then(|d| d.trim().parse().ok())
}

/// Send with authentication: answer a 401 challenge once, then give up with a clear error.
pub(crate) fn send_authenticated(
    http: &Http,
    auth: &Auth,
    req: &Request<'_>,
    scopes: &[String],
) -> Result<Response<Body>> {
    let mut retried = false;
    loop {
        let (authorization, sent) = auth.authorization(http, scopes)?;
        let resp = http.send(req, authorization.as_deref())?;
        match resp.status() {
            StatusCode::UNAUTHORIZED => {
                let challenges: Vec<String> = resp
                    .headers()
                    .get_all("www-authenticate")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(str::to_string)
                    .collect();
                let message = format!("HTTP 401: {}", read_error_message(resp));
                auth.on_unauthorized(req, &challenges, &message, scopes, &sent, retried)?;
                retried = true;
            }
            StatusCode::FORBIDDEN => {
                let message = format!("HTTP 403: {}", read_error_message(resp));
                return Err(auth.refused(req, &message));
            }
            _ => return Ok(resp),
        }
    }
}

fn content_length(resp: &Response<Body>) -> Option<u64> {
    header(resp, "content-length").and_then(|v| v.trim().parse().ok())
}

/// The `rel="next"` target of a `Link` header: `<url>; rel="next", <url2>; rel="prev"`.
fn next_link(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let target = &after[..end];
        let params_end = after[end + 1..].find('<').map_or(after.len(), |i| end + 1 + i);
        let params = &after[end + 1..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim().trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next && !target.is_empty() {
            return Some(target.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

impl Backend for RegistryStore {
    fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest> {
        check_repo(repo)?;
        check_reference(reference)?;
        let req = Request::new(Method::GET, self.url(repo, &format!("manifests/{reference}")))
            .header("accept", MANIFEST_ACCEPT);
        // A connection dropped in the middle of the body is asked again, like one that failed.
        let mut attempt = 1;
        let (declared_type, declared_digest, bytes) = loop {
            let resp = self.send(&req, &self.access(repo))?;
            match resp.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => {
                    return Err(Error::NotFound {
                        what: format!("manifest {repo}:{reference} in {}", self.base.display()),
                    });
                }
                _ => return Err(status_error(&req, resp)),
            }
            let declared_type = media_type_of(&resp);
            let declared_digest = digest_header(&resp);
            let length = content_length(&resp);
            let read = resp.into_body().into_with_config().limit(MANIFEST_LIMIT).read_to_vec();
            let short = matches!(&read, Ok(b) if length.is_some_and(|l| (b.len() as u64) < l));
            match read {
                Ok(bytes) if !short => break (declared_type, declared_digest, bytes),
                Err(ureq::Error::BodyExceedsLimit(_)) => {
                    return Err(Error::InvalidManifest(format!(
                        "manifest {repo}:{reference} in {} is larger than {MANIFEST_LIMIT} bytes",
                        self.base.display()
                    )));
                }
                Err(e) if attempt >= http::MAX_ATTEMPTS => return Err(Self::transport(&req, e)),
                Ok(_) if attempt >= http::MAX_ATTEMPTS => {
                    return Err(Self::transport(&req, "the body ended before its Content-Length"));
                }
                _ => {}
            }
            std::thread::sleep(http::backoff(attempt));
            attempt += 1;
        };
        let digest = Digest::of(&bytes);
        if let Some(expected) = declared_digest
            && expected != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("manifest {repo}:{reference} from {} (Docker-Content-Digest)", self.base.display()),
                expected,
                actual: digest,
            });
        }
        let media_type = declared_type.or_else(|| sniff_manifest_type(&bytes)).ok_or_else(|| {
            Error::InvalidManifest(format!(
                "{repo}:{reference} in {}: the registry returned something that is not a manifest or index",
                self.base.display()
            ))
        })?;
        Ok(RawManifest { digest, media_type, bytes })
    }

    fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>> {
        check_repo(repo)?;
        check_reference(reference)?;
        let req = Request::new(Method::HEAD, self.url(repo, &format!("manifests/{reference}")))
            .header("accept", MANIFEST_ACCEPT);
        let resp = self.send(&req, &self.access(repo))?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(status_error(&req, resp)),
        }
        match (digest_header(&resp), media_type_of(&resp), content_length(&resp)) {
            (Some(digest), Some(media_type), Some(size)) => Ok(Some(ManifestHead { digest, media_type, size })),
            // Some registries leave these out of HEAD answers: ask for the manifest itself.
            _ => self.manifest_head_from_get(repo, reference),
        }
    }

    fn open_blob(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        check_repo(repo)?;
        let req = Request::new(Method::GET, self.url(repo, &format!("blobs/{digest}")));
        let scopes = self.access(repo);
        let resp = self.send(&req, &scopes)?;
        match resp.status() {
            StatusCode::OK => Ok(Box::new(resume::Resuming::new(
                resp,
                resume::Reopen { http: self.http.clone(), auth: self.auth.clone(), url: req.url.clone(), scopes },
            ))),
            StatusCode::NOT_FOUND => {
                Err(Error::NotFound { what: format!("blob {repo}@{digest} in {}", self.base.display()) })
            }
            _ => Err(status_error(&req, resp)),
        }
    }

    fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        check_repo(repo)?;
        let req = Request::new(Method::HEAD, self.url(repo, &format!("blobs/{digest}")));
        let resp = self.send(&req, &self.access(repo))?;
        match resp.status() {
            StatusCode::OK => content_length(&resp)
                .map(Some)
                .ok_or_else(|| Self::transport(&req, "the registry answered 200 without a valid Content-Length")),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(status_error(&req, resp)),
        }
    }

    fn put_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
    ) -> Result<()> {
        check_repo(repo)?;
        self.upload_blob(repo, digest, size, source, progress)
    }

    fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        check_repo(repo)?;
        check_repo(from)?;
        self.mount(repo, from, digest)
    }

    fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Digest> {
        check_repo(repo)?;
        check_reference(reference)?;
        let digest = Digest::of(bytes);
        if Digest::is_valid(reference) && reference != digest.as_str() {
            return Err(Error::DigestMismatch {
                what: format!("manifest to put as {repo}@{reference}"),
                expected: reference.parse()?,
                actual: digest,
            });
        }
        let req = Request::new(Method::PUT, self.url(repo, &format!("manifests/{reference}")))
            .header("content-type", media_type)
            .body(bytes);
        let resp = self.send(&req, &push_scope(repo))?;
        if !resp.status().is_success() {
            return Err(status_error(&req, resp));
        }
        if let Some(stored) = digest_header(&resp)
            && stored != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("manifest {repo}:{reference} as stored by {}", self.base.display()),
                expected: digest,
                actual: stored,
            });
        }
        Ok(digest)
    }

    fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Page {
            tags: Option<Vec<String>>,
        }
        check_repo(repo)?;
        let mut url = self.url(repo, "tags/list");
        let mut tags = BTreeSet::new();
        let mut seen = HashSet::new();
        while seen.insert(url.clone()) && seen.len() <= 10_000 {
            let req = Request::new(Method::GET, url.clone()).header("accept", "application/json");
            let resp = self.send(&req, &self.access(repo))?;
            match resp.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => {
                    return Err(Error::NotFound { what: format!("repository {repo} in {}", self.base.display()) });
                }
                _ => return Err(status_error(&req, resp)),
            }
            let next = header(&resp, "link").and_then(next_link);
            let body = resp
                .into_body()
                .into_with_config()
                .limit(TAG_PAGE_LIMIT)
                .read_to_vec()
                .map_err(|e| Self::transport(&req, e))?;
            let page: Page =
                serde_json::from_slice(&body).map_err(|e| Self::transport(&req, format!("not a tag list: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            let Some(next) = next else { break };
            url = self.base.resolve(&url, &next)?;
            if !self.same_origin(&url) {
                return Err(Self::transport(
                    &req,
                    format!("refusing to follow a Link to another host: {}", redact(&url)),
                ));
            }
        }
        Ok(tags.into_iter().collect())
    }

    fn referrers(&self, repo: &str, digest: &Digest, artifact_type: Option<&str>) -> Result<Option<Vec<Referrer>>> {
        check_repo(repo)?;
        self.list_referrers(repo, digest, artifact_type)
    }

    fn describe(&self) -> String {
        self.base.display()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_references() {
        assert!(check_repo("acme/dhi-python").is_ok());
        assert!(check_repo("a/b.c/d_e/f__g").is_ok());
        for bad in ["", "Acme/x", "acme//x", "/acme", "acme/", "acme/../x", "acme/x?y", "-a", "a-", "a b"] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
        assert!(check_reference("3.13_custom").is_ok());
        assert!(check_reference("_x").is_ok());
        assert!(check_reference(&format!("sha256:{}", "a".repeat(64))).is_ok());
        for bad in ["", ".x", "-x", "a/b", "a?b", "sha256:short", &"x".repeat(129), "a b"] {
            assert!(check_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/acme/x/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/acme/x/tags/list?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://a/p?x=1,2>; rel="prev", <https://a/n>; rel=next"#).as_deref(),
            Some("https://a/n")
        );
        assert_eq!(next_link(r#"<a>; title="x"; rel="prefetch next""#).as_deref(), Some("a"));
        assert_eq!(next_link(r#"<a>; rel="prev""#), None);
        for garbage in ["", "<", ">", "<<>>", "<a; rel=next", "rel=next", "<>; rel=next"] {
            assert_eq!(next_link(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn new_refuses_bad_urls_without_io() {
        let scope = Scope::new(["acme"], ["acme/out"]);
        let e = RegistryStore::new(RegistryConfig::new("http://registry.example"), &scope).err().unwrap();
        assert!(e.to_string().contains("--insecure"), "{e}");
        let store =
            RegistryStore::new(RegistryConfig::new("https://registry.example/").with_credentials("u", "p"), &scope)
                .unwrap();
        assert_eq!(store.describe(), "https://registry.example");
        assert_eq!(store.access("acme/out"), vec!["repository:acme/out:pull,push"]);
        assert_eq!(store.access("acme/base"), vec!["repository:acme/base:pull"]);
        assert!(store.same_origin("https://registry.example/v2/x"));
        assert!(!store.same_origin("https://registry.example.evil/v2/x"));
    }
}

#[cfg(test)]
mod hostile_tests;
