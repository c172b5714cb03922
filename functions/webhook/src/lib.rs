//! tailor's webhook receiver (DESIGN.md §6): registry notifications and Docker Hub webhooks
//! arrive at `POST /v1/hooks/{name}` (or `/v1/hooks/{name}/{secret}`), are authenticated
//! against the endpoint's secret, validated whole, deduplicated by event id, recorded in the
//! catalog and turned into build requests for the customizations that build from the pushed
//! tag — record and enqueue only, so the answer comes in milliseconds.
//!
//! [`handle`] is written against [`HttpRequest`]/[`HttpResponse`] and the [`Db`] trait and is
//! tested natively over SQLite; `component` (wasm32 only) wires it to Spin.

mod auth;
mod distribution;
mod dockerhub;
mod endpoints;
mod payload;

#[cfg(target_arch = "wasm32")]
mod component;

#[cfg(test)]
mod tests;

use serde::Serialize;
use tailor_guest::{Detail, HttpRequest, HttpResponse};
use tailor_store::{Db, notify_push, notify_upstream_push};

pub use auth::{Method, SIGNATURE_HEADER, authenticate, sign};
pub use distribution::{MANIFEST_MEDIA_TYPES, MAX_EVENTS};
pub use endpoints::{Endpoint, Endpoints};
pub use payload::{Delivery, Push, parse as parse_body};

/// Bodies above this size are refused (413) before anything else is done with them.
pub const MAX_BODY: usize = 1024 * 1024;

/// The 202 answer.
#[derive(Debug, Serialize)]
struct Accepted {
    /// Events in the delivery.
    events: usize,
    /// Events that are manifest pushes under a tag (duplicates included).
    relevant: usize,
    /// Events ignored (pulls, mounts, deletes, blob pushes, digest-only pushes).
    ignored: usize,
    /// Relevant events seen before (redeliveries): nothing was done for them.
    duplicates: usize,
    /// The builds queued or joined, each once.
    builds: Vec<QueuedBuild>,
    /// For an upstream's endpoint: the mirror syncs queued or joined, each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    syncs: Vec<QueuedSync>,
}

#[derive(Debug, PartialEq, Serialize)]
struct QueuedSync {
    mirror_id: String,
    sync: i64,
}

#[derive(Debug, PartialEq, Serialize)]
struct QueuedBuild {
    customization_id: String,
    build: i64,
}

/// Serves one delivery to `endpoints` at time `now` (Unix milliseconds).
pub async fn handle<D: Db>(db: &D, endpoints: &Endpoints, req: HttpRequest, now: i64) -> HttpResponse {
    let Some((name, path_token)) = route(&req.path) else {
        return HttpResponse::error(
            404,
            "route_not_found",
            format!("no route for {}: deliveries go to POST /v1/hooks/{{endpoint}}", req.path),
            vec![],
        );
    };
    if req.method != "POST" {
        return HttpResponse::error(
            405,
            "method_not_allowed",
            format!("{} is not allowed here: deliveries are POSTed", req.method),
            vec![],
        )
        .with_header("allow", "POST");
    }
    let Some(endpoint) = endpoints.get(&name) else {
        return HttpResponse::error(
            404,
            "unknown_endpoint",
            format!(
                "there is no webhook endpoint {name:?}: endpoints are configured in the variable webhook_endpoints"
            ),
            vec![Detail::new("endpoint", "not configured")],
        );
    };
    if req.body.len() > MAX_BODY {
        return HttpResponse::error(
            413,
            "body_too_large",
            format!("the body has {} bytes; at most {MAX_BODY} are accepted", req.body.len()),
            vec![],
        );
    }
    if authenticate(endpoint, &req, path_token.as_deref()).is_none() {
        return HttpResponse::error(
            401,
            "unauthorized",
            format!(
                "authenticate with the secret of endpoint {name}: an Authorization: Bearer header, an \
                 {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body> header, or /v1/hooks/{name}/<secret>"
            ),
            vec![],
        )
        .with_header("www-authenticate", "Bearer realm=\"tailor webhook\"");
    }
    let delivery = match payload::parse(&req.body) {
        Ok(delivery) => delivery,
        Err(details) => {
            return HttpResponse::error(
                400,
                "malformed_body",
                "the body is not a Distribution notification envelope or a Docker Hub webhook; nothing was recorded",
                details,
            );
        }
    };
    // The org registry's signature pushes are no input of anything; an upstream's are news for
    // its mirrors.
    let pushes: Vec<&Push> = delivery.pushes.iter().filter(|p| endpoint.upstream.is_some() || !p.attachment).collect();
    let mut accepted = Accepted {
        events: delivery.events,
        relevant: pushes.len(),
        ignored: delivery.events.saturating_sub(pushes.len()),
        duplicates: 0,
        builds: Vec::new(),
        syncs: Vec::new(),
    };
    // One transaction per event: after a failure, a redelivery skips the recorded ones.
    for push in pushes {
        let recorded = match &endpoint.upstream {
            None => notify_push(db, &name, &push.event_id, &push.repository, &push.tag, push.digest.as_deref(), now)
                .await
                .map(|outcome| {
                    for (customization_id, build) in outcome.builds {
                        let queued = QueuedBuild { customization_id, build };
                        if !accepted.builds.contains(&queued) {
                            accepted.builds.push(queued);
                        }
                    }
                    outcome.duplicate
                }),
            Some(host) => {
                notify_upstream_push(db, &name, &push.event_id, host, &push.repository, &push.tag, push.attachment, now)
                    .await
                    .map(|outcome| {
                        for (mirror_id, sync) in outcome.syncs {
                            let queued = QueuedSync { mirror_id, sync };
                            if !accepted.syncs.contains(&queued) {
                                accepted.syncs.push(queued);
                            }
                        }
                        outcome.duplicate
                    })
            }
        };
        match recorded {
            Ok(duplicate) => accepted.duplicates += usize::from(duplicate),
            Err(e) => {
                eprintln!("webhook {name}: recording event {:?} failed: {e}", push.event_id);
                let (status, code, why) = match e {
                    tailor_store::StoreError::Full(_) => (507, "storage_full", "the service's storage is full"),
                    _ => (500, "internal", "the store failed"),
                };
                return HttpResponse::error(
                    status,
                    code,
                    format!(
                        "{why}: event {:?} and those after it were not recorded; deliver it again later",
                        push.event_id
                    ),
                    vec![],
                );
            }
        }
    }
    HttpResponse::json(202, &accepted)
}

/// `/v1/hooks/{name}[/{secret}]` → (name, secret), decoded.
fn route(path: &str) -> Option<(String, Option<String>)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["v1", "hooks", name] => Some((percent_decode(name), None)),
        ["v1", "hooks", name, token] => Some((percent_decode(name), Some(percent_decode(token)))),
        _ => None,
    }
}

/// Decodes `%XX` escapes of a path segment (`+` stays `+`: this is a path, not a query).
fn percent_decode(segment: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod route_tests {
    use super::*;

    #[test]
    fn routes_and_decoding() {
        assert_eq!(route("/v1/hooks/reg"), Some(("reg".into(), None)));
        assert_eq!(route("/v1/hooks/reg/"), Some(("reg".into(), None)));
        assert_eq!(route("/v1/hooks/reg/a%2Bb+c%zz%4"), Some(("reg".into(), Some("a+b+c%zz%4".into()))));
        assert_eq!(route("/v1/hooks"), None);
        assert_eq!(route("/v1/hooks/reg/s/x"), None);
        assert_eq!(route("/v2/hooks/reg"), None);
        assert_eq!(percent_decode("%41%"), "A%");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
