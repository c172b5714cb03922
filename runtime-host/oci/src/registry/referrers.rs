//! The OCI 1.1 referrers API: `GET /v2/<name>/referrers/<digest>[?artifactType=…]`, an image
//! index per page, pages linked by `Link: <…>; rel="next"`.

use std::collections::HashSet;

use ::http::{Method, StatusCode};

use super::http::{Request, header, status_error};
use super::url::{add_query, redact};
use super::{RegistryStore, next_link};
use crate::media::OCI_INDEX;
use crate::referrers::parse_index;
use crate::{Digest, Error, Referrer, Result};

/// Referrers pages larger than this are refused.
const PAGE_LIMIT: u64 = 4 * 1024 * 1024;
/// More pages than this are refused (the answer is then incomplete).
const MAX_PAGES: usize = 1000;

impl RegistryStore {
    /// Every page of the referrers of `repo@digest`, filtered here too (a registry may ignore the
    /// filter; `OCI-Filters-Applied` would say it did not). 404 and 405 on the first page mean
    /// the registry has no referrers API: a registry that has one never answers 404.
    pub(super) fn list_referrers(
        &self,
        repo: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Referrer>>> {
        let what = format!("referrers of {repo}@{digest} in {}", self.base.display());
        let mut url = self.url(repo, &format!("referrers/{digest}"));
        if let Some(t) = artifact_type {
            url = add_query(&url, "artifactType", t);
        }
        let mut out: Vec<Referrer> = Vec::new();
        let mut have = HashSet::new();
        let mut seen = HashSet::new();
        while seen.insert(url.clone()) {
            if seen.len() > MAX_PAGES {
                return Err(Error::InvalidManifest(format!("{what}: more than {MAX_PAGES} pages")));
            }
            let req = Request::new(Method::GET, url.clone()).header("accept", OCI_INDEX);
            let resp = self.send(&req, &self.access(repo))?;
            match resp.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED if seen.len() == 1 => return Ok(None),
                _ => return Err(status_error(&req, resp)),
            }
            let next = header(&resp, "link").and_then(next_link);
            let body = resp.into_body().into_with_config().limit(PAGE_LIMIT).read_to_vec().map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    Error::InvalidManifest(format!("{what}: a page is larger than {PAGE_LIMIT} bytes"))
                }
                other => Self::transport(&req, other),
            })?;
            let page = parse_index(&body, artifact_type)
                .map_err(|e| Error::InvalidManifest(format!("{what}: the answer is not an OCI image index: {e}")))?;
            out.extend(page.into_iter().filter(|r| have.insert(r.digest.clone())));
            let Some(next) = next else { break };
            url = self.base.resolve(&url, &next)?;
            if !self.same_origin(&url) {
                return Err(Self::transport(
                    &req,
                    format!("refusing to follow a Link to another host: {}", redact(&url)),
                ));
            }
        }
        Ok(Some(out))
    }
}
