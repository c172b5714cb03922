//! Blob uploads (`POST` a session, then one `PUT ?digest=`, or `PATCH` chunks and a final
//! `PUT`) and cross-repository mounts.

use std::borrow::Cow;
use std::io::{self, Read};
use std::time::Duration;

use ::http::{Method, StatusCode};
use sha2::{Digest as _, Sha256};

use super::http::{Request, header, status_error};
use super::url::{add_query, check_followed};
use super::{RegistryStore, push_scope};
use crate::{BlobSource, Digest, Error, Progress, Result};

/// Blobs up to this size go up in one `PUT`; larger ones in `PATCH` chunks of this size.
const CHUNK: u64 = 16 * 1024 * 1024;
/// Whole uploads tried at most this often (a failed `PATCH` cannot be resent alone).
const UPLOAD_ATTEMPTS: u32 = 2;

const OCTET_STREAM: &str = "application/octet-stream";

impl RegistryStore {
    pub(super) fn upload_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
    ) -> Result<()> {
        let what = digest.as_str();
        let mut attempt = 1;
        loop {
            // Callers check for big blobs themselves; a retry checks whether the failed
            // attempt got through after all.
            if attempt > 1 && crate::store::Backend::blob_exists(self, repo, digest)?.is_some() {
                progress.transfer(what, size, size);
                return Ok(());
            }
            match self.upload_once(repo, digest, size, source, progress) {
                Ok(()) => return Ok(()),
                Err(e) if attempt < UPLOAD_ATTEMPTS && retryable(&e) => {
                    std::thread::sleep(Duration::from_millis(500));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Start a session, send the bytes, and cancel the session when anything fails. A small
    /// blob is read and checked before the session starts; a large one while it is sent.
    fn upload_once(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
    ) -> Result<()> {
        let whole = if size <= CHUNK { Some(read_whole(repo, digest, size, source)?) } else { None };
        let scopes = push_scope(repo);
        let req = Request::new(Method::POST, self.url(repo, "blobs/uploads/"));
        let resp = self.send(&req, &scopes)?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&req, resp));
        }
        let mut session = self.location(&req, header(&resp, "location"))?;
        drop(resp);
        let result = match (&whole, source) {
            (Some(body), _) => self.finish(&session, digest, body, &scopes),
            (None, BlobSource::Stream { .. }) => {
                self.send_stream(&mut session, repo, digest, size, source, progress, &scopes)
            }
            (None, _) => self.send_chunks(&mut session, repo, digest, size, source, progress, &scopes),
        };
        if result.is_err() {
            self.cancel(&session, &scopes);
        } else if whole.is_some() {
            progress.transfer(digest.as_str(), size, size);
        }
        result
    }

    /// `PATCH` chunks of at most [`CHUNK`] bytes, each to the `Location` the previous one
    /// returned, then the final `PUT`. The content is checked against `digest` before that.
    #[allow(clippy::too_many_arguments)]
    fn send_chunks(
        &self,
        session: &mut String,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
        scopes: &[String],
    ) -> Result<()> {
        let mut reader = source.open()?;
        let mut hasher = Sha256::new();
        let mut offset: u64 = 0;
        loop {
            let mut chunk = Vec::new();
            (&mut reader).take(CHUNK).read_to_end(&mut chunk).map_err(|e| read_error(repo, digest, e))?;
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len() as u64;
            if offset + len > size {
                return Err(too_long(repo, digest, size));
            }
            hasher.update(&chunk);
            let req = Request::new(Method::PATCH, session.clone())
                .header("content-type", OCTET_STREAM)
                .header("content-range", format!("{offset}-{}", offset + len - 1))
                .body(&chunk);
            let resp = self.send(&req, scopes)?;
            if resp.status() != StatusCode::ACCEPTED {
                return Err(status_error(&req, resp));
            }
            *session = self.location(&req, header(&resp, "location"))?;
            offset += len;
            progress.transfer(digest.as_str(), offset, size);
        }
        check_content(repo, digest, size, source, offset, Digest::from_hasher(hasher))?;
        self.finish(session, digest, &[], scopes)
    }

    /// One `PATCH` whose body is the stream as it arrives (a blob read from another registry is
    /// sent while it is read), then the final `PUT`. The content is counted and hashed on the way
    /// and checked against `size` and `digest` before that `PUT`.
    #[allow(clippy::too_many_arguments)]
    fn send_stream(
        &self,
        session: &mut String,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
        scopes: &[String],
    ) -> Result<()> {
        let mut body =
            Hashing { inner: source.open()?, hasher: Sha256::new(), read: 0, size, progress, what: digest.as_str() };
        let req = Request::new(Method::PATCH, session.clone())
            .header("content-type", OCTET_STREAM)
            .header("content-length", size.to_string());
        let resp = self.send_streaming(&req, &mut body, scopes)?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&req, resp));
        }
        *session = self.location(&req, header(&resp, "location"))?;
        let read = body.read;
        check_content(repo, digest, size, source, read, Digest::from_hasher(body.hasher))?;
        self.finish(session, digest, &[], scopes)
    }

    /// `PUT <session>&digest=…` with the rest of the content (all of it for a monolithic upload).
    fn finish(&self, session: &str, digest: &Digest, body: &[u8], scopes: &[String]) -> Result<()> {
        let req = Request::new(Method::PUT, add_query(session, "digest", digest.as_str()))
            .header("content-type", OCTET_STREAM)
            .body(body);
        let resp = self.send(&req, scopes)?;
        if !resp.status().is_success() {
            return Err(status_error(&req, resp));
        }
        Ok(())
    }

    /// `POST …/blobs/uploads/?mount=<digest>&from=<from>`: 201 = mounted; 202 = the registry
    /// opened an upload session instead, which is cancelled.
    pub(super) fn mount(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        let mut scopes = push_scope(repo);
        if from != repo {
            scopes.push(format!("repository:{from}:pull"));
        }
        let url = add_query(&add_query(&self.url(repo, "blobs/uploads/"), "mount", digest.as_str()), "from", from);
        let req = Request::new(Method::POST, url);
        let resp = self.send(&req, &scopes)?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                if let Ok(session) = self.location(&req, header(&resp, "location")) {
                    drop(resp);
                    self.cancel(&session, &scopes);
                }
                Ok(false)
            }
            _ => Err(status_error(&req, resp)),
        }
    }

    /// The absolute URL of a `Location` answer header.
    fn location(&self, req: &Request<'_>, location: Option<&str>) -> Result<String> {
        let location = location.ok_or_else(|| Error::Transport {
            method: req.method.to_string(),
            url: super::url::redact(&req.url),
            message: format!("the registry answered without a Location header (at {})", self.base.display()),
        })?;
        let url = self.base.resolve(&req.url, location)?;
        check_followed(&url, self.insecure, "upload location")?;
        Ok(url)
    }

    /// Best effort: `DELETE` an upload session so it does not linger.
    fn cancel(&self, session: &str, scopes: &[String]) {
        let req = Request::new(Method::DELETE, session.to_string()).no_retry();
        let _ = self.send(&req, scopes);
    }
}

/// A body being sent: counted, hashed and reported as it is read; refuses to go past `size`.
struct Hashing<'a> {
    inner: Box<dyn Read + Send>,
    hasher: Sha256,
    read: u64,
    size: u64,
    progress: &'a dyn Progress,
    what: &'a str,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the source has more than the expected {} bytes", self.size),
            ));
        }
        self.hasher.update(&buf[..n]);
        let step: u64 = 16 << 20;
        if n > 0 && self.read == self.size {
            self.progress.transfer(self.what, self.read, self.size);
        } else if n > 0 && self.read / step != (self.read - n as u64) / step {
            self.progress.transfer(self.what, self.read / step * step, self.size);
        }
        Ok(n)
    }
}

/// A small blob whole, checked against `size` and `digest`: bytes in memory as they are (no
/// copy: an attestation's envelope is hundreds of KB), anything else read into memory.
fn read_whole<'a>(repo: &str, digest: &Digest, size: u64, source: &'a BlobSource) -> Result<Cow<'a, [u8]>> {
    if let BlobSource::Bytes(bytes) = source {
        if bytes.len() as u64 > size {
            return Err(too_long(repo, digest, size));
        }
        check_content(repo, digest, size, source, bytes.len() as u64, Digest::of(bytes))?;
        return Ok(Cow::Borrowed(bytes));
    }
    let mut body = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    source.open()?.take(size + 1).read_to_end(&mut body).map_err(|e| read_error(repo, digest, e))?;
    if body.len() as u64 > size {
        return Err(too_long(repo, digest, size));
    }
    check_content(repo, digest, size, source, body.len() as u64, Digest::of(&body))?;
    Ok(Cow::Owned(body))
}

fn check_content(repo: &str, digest: &Digest, size: u64, source: &BlobSource, read: u64, actual: Digest) -> Result<()> {
    if read != size {
        return Err(read_error(
            repo,
            digest,
            io::Error::new(io::ErrorKind::InvalidData, format!("the source has {read} bytes, expected {size}")),
        ));
    }
    if actual != *digest {
        return Err(Error::DigestMismatch {
            what: format!("blob to upload to {repo} ({})", source.describe()),
            expected: digest.clone(),
            actual,
        });
    }
    Ok(())
}

fn read_error(repo: &str, digest: &Digest, e: io::Error) -> Error {
    Error::io(format!("reading blob {digest} to upload to {repo}"), e)
}

fn too_long(repo: &str, digest: &Digest, size: u64) -> Error {
    let e = io::Error::new(io::ErrorKind::InvalidData, format!("the source has more than the expected {size} bytes"));
    read_error(repo, digest, e)
}

/// Transport failures and 5xx answers may go away on a second try.
/// Whether a whole new upload may succeed. Besides network trouble and 5xx: the session is
/// unknown (404 `BLOB_UPLOAD_UNKNOWN`) when an answer was lost after the registry completed
/// the upload and the request was sent again — or the session expired. The next attempt first
/// asks whether the blob arrived after all.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Transport { .. } => true,
        Error::Http { status, message, .. } => {
            *status >= 500 || (*status == 404 && message.contains("BLOB_UPLOAD_UNKNOWN"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::retryable;
    use crate::Error;

    fn http(status: u16, message: &str) -> Error {
        Error::Http {
            method: "PUT".into(),
            url: "http://r/v2/x/blobs/uploads/1".into(),
            status,
            message: message.into(),
        }
    }

    #[test]
    fn a_lost_upload_session_is_uploaded_again() {
        assert!(retryable(&http(404, "HTTP 404: BLOB_UPLOAD_UNKNOWN: blob upload unknown to registry")));
        assert!(retryable(&http(503, "HTTP 503")));
        assert!(!retryable(&http(404, "HTTP 404: NAME_UNKNOWN")));
        assert!(!retryable(&http(400, "HTTP 400: DIGEST_INVALID")));
    }
}
