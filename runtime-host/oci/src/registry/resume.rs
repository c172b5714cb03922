//! A blob's body that survives a connection dropped in the middle: the rest is asked for again
//! with `Range: bytes=N-` (a registry that ignores it answers 200, and the first N bytes are
//! skipped), with backoff, up to the request attempts. A body that ends before its
//! Content-Length is such a drop too. What is read is still verified by the caller's
//! [`VerifyingReader`](crate::VerifyingReader).

use std::io::{self, Read};
use std::sync::Arc;

use ::http::{Method, Response, StatusCode};
use ureq::Body;

use super::auth::Auth;
use super::http::{Http, MAX_ATTEMPTS, Request, backoff, header, status_error};
use super::send_authenticated;
use super::url::redact;

/// How to ask for the blob again.
pub(crate) struct Reopen {
    pub http: Arc<Http>,
    pub auth: Arc<Auth>,
    pub url: String,
    pub scopes: Vec<String>,
}

pub(crate) struct Resuming {
    reopen: Reopen,
    body: Box<dyn Read + Send>,
    /// Bytes given out so far.
    read: u64,
    /// The whole body's length, when the registry said it.
    length: Option<u64>,
    attempts: u32,
}

impl Resuming {
    pub(crate) fn new(resp: Response<Body>, reopen: Reopen) -> Resuming {
        let length = header(&resp, "content-length").and_then(|v| v.trim().parse().ok());
        Resuming { reopen, body: Box::new(resp.into_body().into_reader()), read: 0, length, attempts: 1 }
    }

    /// The rest of the body from byte `self.read`, or why not.
    fn reopen(&mut self, why: &io::Error) -> io::Result<()> {
        let url = redact(&self.reopen.url);
        let failed = |m: String| io::Error::other(format!("reading {url}: {why}; then {m}"));
        let req = Request::new(Method::GET, self.reopen.url.clone()).header("range", format!("bytes={}-", self.read));
        let resp = send_authenticated(&self.reopen.http, &self.reopen.auth, &req, &self.reopen.scopes)
            .map_err(|e| failed(e.to_string()))?;
        match resp.status() {
            StatusCode::PARTIAL_CONTENT => {
                let start = header(&resp, "content-range")
                    .and_then(|v| v.strip_prefix("bytes ")?.split('-').next()?.trim().parse::<u64>().ok());
                if start != Some(self.read) {
                    return Err(failed(format!("the registry resumed at {start:?}, not at byte {}", self.read)));
                }
                self.body = Box::new(resp.into_body().into_reader());
            }
            StatusCode::OK => {
                let mut body = resp.into_body().into_reader();
                let skipped = io::copy(&mut (&mut body).take(self.read), &mut io::sink())?;
                if skipped != self.read {
                    return Err(failed(format!("the body ended again after {skipped} bytes")));
                }
                self.body = Box::new(body);
            }
            _ => return Err(failed(status_error(&req, resp).to_string())),
        }
        Ok(())
    }
}

impl Read for Resuming {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = match self.body.read(buf) {
                Ok(0) if !buf.is_empty() && self.length.is_some_and(|l| self.read < l) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the body ended after {} bytes", self.read),
                )),
                other => other,
            };
            match result {
                Ok(n) => {
                    self.read += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.attempts < MAX_ATTEMPTS => {
                    std::thread::sleep(backoff(self.attempts));
                    self.attempts += 1;
                    if let Err(again) = self.reopen(&e)
                        && self.attempts >= MAX_ATTEMPTS
                    {
                        return Err(again);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
