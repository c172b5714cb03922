//! The registry behind the test double: blobs, upload sessions, manifests, tags and referrers
//! of every repository, in memory.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::wire::{Request, Response};
use crate::Digest;
use crate::media::{OCI_INDEX, OCI_MANIFEST};

#[derive(Default)]
pub(super) struct State {
    /// (repository, digest) → content.
    blobs: HashMap<(String, String), Vec<u8>>,
    /// Upload id → (repository, content so far).
    uploads: HashMap<u64, (String, Vec<u8>)>,
    next_upload: u64,
    /// (repository, digest) → (media type, bytes).
    manifests: BTreeMap<(String, String), (String, Vec<u8>)>,
    /// (repository, tag) → digest.
    tags: BTreeMap<(String, String), String>,
    /// Manifest pushes answered so far.
    pub(super) manifest_puts: usize,
    /// Error answers (status, code, message) by the number of the manifest push they answer.
    pub(super) refusals: BTreeMap<usize, (u16, String, String)>,
}

pub(super) fn handle(state: &mut State, req: &Request) -> Response {
    let method = req.method.as_str();
    let Some(rest) = req.path.strip_prefix("/v2/") else {
        return Response::error(404, "NOT_FOUND", "not a registry API path");
    };
    if rest.is_empty() {
        return Response::new(200).body("application/json", b"{}".to_vec());
    }
    let route = if let Some(name) = rest.strip_suffix("/tags/list") {
        Some((name, "tags", ""))
    } else {
        ["blobs/uploads", "blobs", "manifests", "referrers"]
            .into_iter()
            .find_map(|kind| rest.rsplit_once(&format!("/{kind}/")).map(|(name, tail)| (name, kind, tail)))
    };
    let Some((name, kind, tail)) = route.filter(|(name, _, tail)| !name.is_empty() && !tail.contains('/')) else {
        return Response::error(404, "NAME_UNKNOWN", "no such route");
    };
    match (kind, method) {
        ("tags", "GET") => state.tags_list(name),
        ("blobs/uploads", "POST") if tail.is_empty() => state.start_upload(name, req),
        ("blobs/uploads", "PATCH") => state.patch_upload(name, tail, req),
        ("blobs/uploads", "PUT") => state.finish_upload(name, tail, req),
        ("blobs/uploads", "DELETE") => match tail.parse().ok().and_then(|id| state.uploads.remove(&id)) {
            Some(_) => Response::new(204),
            None => Response::error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload"),
        },
        ("blobs", "GET" | "HEAD") => match state.blobs.get(&(name.to_string(), tail.to_string())) {
            Some(b) => {
                Response::new(200).body("application/octet-stream", b.clone()).header("docker-content-digest", tail)
            }
            None => Response::error(404, "BLOB_UNKNOWN", "blob unknown to registry"),
        },
        ("manifests", "PUT") => {
            state.manifest_puts += 1;
            match state.refusals.remove(&state.manifest_puts) {
                Some((status, code, message)) => Response::error(status, &code, &message),
                None => state.put_manifest(name, tail, req),
            }
        }
        ("manifests", "GET" | "HEAD") => state.get_manifest(name, tail),
        ("referrers", "GET") => state.referrers(name, tail, req.query("artifactType")),
        _ => Response::error(405, "UNSUPPORTED", "the operation is unsupported"),
    }
}

fn sha256(bytes: &[u8]) -> String {
    Digest::of(bytes).as_str().to_string()
}

fn upload_location(name: &str, id: u64) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

impl State {
    fn knows(&self, name: &str) -> bool {
        self.manifests.keys().chain(self.tags.keys()).chain(self.blobs.keys()).any(|(repo, _)| repo == name)
    }

    fn tags_list(&self, name: &str) -> Response {
        if !self.knows(name) {
            return Response::error(404, "NAME_UNKNOWN", "repository name not known to registry");
        }
        let tags: Vec<&str> = self.tags.keys().filter(|(repo, _)| repo == name).map(|(_, t)| t.as_str()).collect();
        Response::new(200).body("application/json", json!({"name": name, "tags": tags}).to_string().into_bytes())
    }

    /// `POST …/uploads/` opens a session (also for `?mount=&from=`: mounts are not supported);
    /// `POST …/uploads/?digest=` with the whole blob is a single-request upload.
    fn start_upload(&mut self, name: &str, req: &Request) -> Response {
        if let Some(digest) = req.query("digest") {
            return self.store_blob(name, digest, req.body.clone());
        }
        self.next_upload += 1;
        let id = self.next_upload;
        self.uploads.insert(id, (name.to_string(), Vec::new()));
        Response::new(202)
            .header("location", upload_location(name, id))
            .header("docker-upload-uuid", id.to_string())
            .header("range", "0-0")
    }

    fn upload(&mut self, name: &str, id: &str) -> Option<(u64, &mut Vec<u8>)> {
        let id: u64 = id.parse().ok()?;
        self.uploads.get_mut(&id).filter(|(repo, _)| repo == name).map(|(_, data)| (id, data))
    }

    fn patch_upload(&mut self, name: &str, id: &str, req: &Request) -> Response {
        let Some((id, data)) = self.upload(name, id) else {
            return Response::error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
        };
        let start = req.header("content-range").and_then(|r| r.split('-').next()).map(|s| s.trim().parse::<usize>());
        if let Some(start) = start
            && start != Ok(data.len())
        {
            return Response::error(416, "BLOB_UPLOAD_INVALID", "Content-Range does not continue the upload");
        }
        data.extend_from_slice(&req.body);
        let range = format!("0-{}", data.len().saturating_sub(1));
        Response::new(202)
            .header("location", upload_location(name, id))
            .header("docker-upload-uuid", id.to_string())
            .header("range", range)
    }

    fn finish_upload(&mut self, name: &str, id: &str, req: &Request) -> Response {
        let Some((id, data)) = self.upload(name, id) else {
            return Response::error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
        };
        data.extend_from_slice(&req.body);
        let content = std::mem::take(data);
        self.uploads.remove(&id);
        match req.query("digest") {
            Some(digest) => self.store_blob(name, digest, content),
            None => Response::error(400, "DIGEST_INVALID", "the digest query parameter is missing"),
        }
    }

    fn store_blob(&mut self, name: &str, digest: &str, content: Vec<u8>) -> Response {
        let actual = sha256(&content);
        if digest != actual {
            return Response::error(
                400,
                "DIGEST_INVALID",
                &format!("provided digest {digest} does not match {actual}"),
            );
        }
        self.blobs.insert((name.to_string(), actual.clone()), content);
        Response::new(201)
            .header("location", format!("/v2/{name}/blobs/{actual}"))
            .header("docker-content-digest", actual)
    }

    fn put_manifest(&mut self, name: &str, reference: &str, req: &Request) -> Response {
        let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(&req.body) else {
            return Response::error(400, "MANIFEST_INVALID", "manifest invalid: not a JSON object");
        };
        let digest = sha256(&req.body);
        let by_digest = reference.contains(':');
        if by_digest && reference != digest {
            return Response::error(
                400,
                "DIGEST_INVALID",
                &format!("the manifest's digest is {digest}, not {reference}"),
            );
        }
        let media_type = req
            .header("content-type")
            .map(str::to_string)
            .or_else(|| json.get("mediaType").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| OCI_MANIFEST.to_string());
        self.manifests.insert((name.to_string(), digest.clone()), (media_type, req.body.clone()));
        if !by_digest {
            self.tags.insert((name.to_string(), reference.to_string()), digest.clone());
        }
        let mut resp = Response::new(201)
            .header("location", format!("/v2/{name}/manifests/{digest}"))
            .header("docker-content-digest", digest);
        if let Some(subject) = json.get("subject").and_then(|s| s.get("digest")).and_then(Value::as_str) {
            resp = resp.header("oci-subject", subject);
        }
        resp
    }

    fn get_manifest(&self, name: &str, reference: &str) -> Response {
        let digest = if reference.contains(':') {
            Some(reference)
        } else {
            self.tags.get(&(name.to_string(), reference.to_string())).map(String::as_str)
        };
        match digest.and_then(|d| self.manifests.get(&(name.to_string(), d.to_string())).map(|m| (d, m))) {
            Some((digest, (media_type, bytes))) => {
                Response::new(200).body(media_type, bytes.clone()).header("docker-content-digest", digest)
            }
            None => Response::error(404, "MANIFEST_UNKNOWN", "manifest unknown to registry"),
        }
    }

    /// Every manifest of `name` whose `subject.digest` is `digest`, as an image index.
    fn referrers(&self, name: &str, digest: &str, artifact_type: Option<&str>) -> Response {
        if !Digest::is_valid(digest) {
            return Response::error(400, "DIGEST_INVALID", "invalid digest");
        }
        let mut manifests = Vec::new();
        for ((repo, d), (stored_type, bytes)) in &self.manifests {
            let Ok(m) = serde_json::from_slice::<Value>(bytes) else { continue };
            if repo != name || m["subject"]["digest"].as_str() != Some(digest) {
                continue;
            }
            let kind = m["artifactType"].as_str().or_else(|| m["config"]["mediaType"].as_str());
            if artifact_type.is_some_and(|t| kind != Some(t)) {
                continue;
            }
            let mut entry = json!({
                "mediaType": m["mediaType"].as_str().unwrap_or(stored_type),
                "digest": d,
                "size": bytes.len(),
            });
            if let Some(kind) = kind {
                entry["artifactType"] = json!(kind);
            }
            if m["annotations"].is_object() {
                entry["annotations"] = m["annotations"].clone();
            }
            manifests.push(entry);
        }
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        let resp = Response::new(200).body(OCI_INDEX, index.to_string().into_bytes());
        if artifact_type.is_some() { resp.header("oci-filters-applied", "artifactType") } else { resp }
    }
}
