//! Distribution registry notifications: `{"events": [{id, action, target{mediaType, digest,
//! repository, tag, …}, request, actor, source}, …]}`. Only pushes of manifests under a tag
//! matter; pulls, mounts, deletes, blob pushes and digest-only pushes are ignored.

use serde_json::{Map, Value};
use tailor_guest::Detail;

use crate::payload::{
    Delivery, MAX_EVENT_ID_LEN, Problems, Push, check_digest, check_repository, check_tag, kind, opt_object, opt_str,
};

/// At most this many events in one envelope (Distribution sends one per request).
pub const MAX_EVENTS: usize = 1000;

/// The manifest media types whose push under a tag can change what customizations build from.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Validates an envelope (an object with `events`) and picks the relevant pushes.
pub fn parse(envelope: &Map<String, Value>) -> Result<Delivery, Vec<Detail>> {
    let events = match envelope.get("events") {
        Some(Value::Array(events)) => events,
        Some(other) => return Err(vec![Detail::new("events", format!("expected an array, found {}", kind(other)))]),
        None => return Err(vec![Detail::new("events", "missing")]),
    };
    if events.len() > MAX_EVENTS {
        return Err(vec![Detail::new(
            "events",
            format!("{} events in one envelope; at most {MAX_EVENTS} are accepted", events.len()),
        )]);
    }
    let mut problems = Problems::default();
    let mut pushes = Vec::new();
    for (i, event) in events.iter().enumerate() {
        match parse_event(i, event) {
            Ok(Some(push)) => pushes.push(push),
            Ok(None) => {}
            Err(detail) => problems.add(detail),
        }
    }
    problems.into_result(Delivery { events: events.len(), pushes })
}

/// One event: its problem, or the push it stands for when it is relevant.
fn parse_event(i: usize, event: &Value) -> Result<Option<Push>, Detail> {
    let at = |field: &str| format!("events[{i}]{field}");
    let Value::Object(event) = event else {
        return Err(Detail::new(at(""), format!("expected an object, found {}", kind(event))));
    };
    let id = opt_str(event, "id", &at(".id"))?.ok_or_else(|| Detail::new(at(".id"), "missing"))?;
    if id.is_empty() {
        return Err(Detail::new(at(".id"), "empty"));
    }
    if id.len() > MAX_EVENT_ID_LEN {
        return Err(Detail::new(at(".id"), format!("longer than {MAX_EVENT_ID_LEN} characters")));
    }
    let action = opt_str(event, "action", &at(".action"))?.ok_or_else(|| Detail::new(at(".action"), "missing"))?;
    let Some(target) = opt_object(event, "target", &at(".target"))? else { return Ok(None) };
    let media_type = opt_str(target, "mediaType", &at(".target.mediaType"))?;
    let repository = opt_str(target, "repository", &at(".target.repository"))?;
    let tag = opt_str(target, "tag", &at(".target.tag"))?.filter(|t| !t.is_empty());
    let digest = opt_str(target, "digest", &at(".target.digest"))?;

    let relevant = action == "push" && media_type.is_some_and(is_manifest);
    let (true, Some(tag)) = (relevant, tag) else { return Ok(None) };
    let repository = repository.ok_or_else(|| Detail::new(at(".target.repository"), "missing"))?;
    check_repository(repository, &at(".target.repository"))?;
    check_tag(tag, &at(".target.tag"))?;
    if let Some(digest) = digest {
        check_digest(digest, &at(".target.digest"))?;
    }
    Ok(Some(Push {
        event_id: id.to_owned(),
        repository: repository.to_owned(),
        tag: tag.to_owned(),
        digest: digest.map(str::to_owned),
        attachment: is_cosign_tag(tag),
    }))
}

/// Whether `media_type` (parameters and case ignored) is a manifest or index type.
/// Tags cosign-style signatures and attestations live under (`sha256-<hex>.sig`, `.att`,
/// `.sbom`): pushes of them are not inputs of anything.
pub(crate) fn is_cosign_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-").and_then(|rest| rest.split_once('.')).is_some_and(|(hex, kind)| {
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(kind, "sig" | "att" | "sbom")
    })
}

fn is_manifest(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    MANIFEST_MEDIA_TYPES.iter().any(|m| m.eq_ignore_ascii_case(essence))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse_value(v: Value) -> Result<Delivery, Vec<Detail>> {
        match v {
            Value::Object(o) => parse(&o),
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn media_types_ignore_case_and_parameters() {
        assert!(is_cosign_tag(&format!("sha256-{}.sig", "a".repeat(64))));
        assert!(is_cosign_tag(&format!("sha256-{}.att", "0".repeat(64))));
        assert!(!is_cosign_tag(&format!("sha256-{}.sig", "a".repeat(63))));
        assert!(!is_cosign_tag("sha256-abc.sig"));
        assert!(!is_cosign_tag("1.sig"));
        assert!(is_manifest("application/vnd.oci.image.manifest.v1+json"));
        assert!(is_manifest("Application/VND.docker.distribution.manifest.v2+json; charset=utf-8"));
        assert!(!is_manifest("application/octet-stream"));
        assert!(!is_manifest("application/vnd.docker.distribution.manifest.v1+prettyjws"));
        assert!(!is_manifest(""));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let problems = parse_value(json!({"events": [
            {"id": 1, "action": "push"},
            "x",
            {"action": "push"},
            {"id": "e", "action": "push", "target": []},
            {"id": "e", "action": "push", "target": {"mediaType": "application/vnd.oci.image.index.v1+json",
                "tag": "1", "repository": "Acme/X"}},
            {"id": "e", "action": "push", "target": {"mediaType": "application/vnd.oci.image.index.v1+json",
                "tag": "1", "repository": "acme/x", "digest": "md5:zz!"}},
            {"id": "e", "action": "push", "target": {"mediaType": "application/vnd.oci.image.index.v1+json",
                "tag": "bad tag", "repository": "acme/x"}},
            {"id": "e", "action": "push", "target": {"mediaType": "application/vnd.oci.image.index.v1+json",
                "tag": "1"}},
            {"id": "e", "action": 3},
            {"id": "", "action": "push"},
        ]}))
        .unwrap_err();
        let fields: Vec<_> = problems.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "events[0].id",
                "events[1]",
                "events[2].id",
                "events[3].target",
                "events[4].target.repository",
                "events[5].target.digest",
                "events[6].target.tag",
                "events[7].target.repository",
                "events[8].action",
                "events[9].id",
            ]
        );
    }

    #[test]
    fn fields_of_ignored_events_are_still_type_checked() {
        let problems =
            parse_value(json!({"events": [{"id": "e", "action": "pull", "target": {"tag": 7}}]})).unwrap_err();
        assert_eq!(problems[0].field, "events[0].target.tag");
    }

    #[test]
    fn too_many_events() {
        let events: Vec<Value> = (0..=MAX_EVENTS).map(|i| json!({"id": i.to_string(), "action": "pull"})).collect();
        assert_eq!(parse_value(json!({ "events": events })).unwrap_err()[0].field, "events");
        let events: Vec<Value> = (0..MAX_EVENTS).map(|i| json!({"id": i.to_string(), "action": "pull"})).collect();
        assert_eq!(parse_value(json!({ "events": events })).unwrap().events, MAX_EVENTS);
    }
}
