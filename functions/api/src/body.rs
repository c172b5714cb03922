//! Request bodies: a spec as JSON or YAML by content type, and JSON merge patches (RFC 7386).

use serde_json::Value as Json;
use tailor_guest::{Detail, HttpRequest, HttpResponse};
use tailor_spec::{Customization as Spec, SpecError};

use crate::errors;

/// The largest body accepted (the host caps it too).
pub const MAX_BODY: usize = 1 << 20;

const JSON_TYPES: &[&str] = &["application/json"];
const YAML_TYPES: &[&str] = &["application/yaml", "application/x-yaml", "text/yaml"];
const PATCH_TYPES: &[&str] = &["application/merge-patch+json", "application/json"];

/// 413 `body_too_large` when the body is over [`MAX_BODY`].
pub fn check_size(req: &HttpRequest) -> Result<(), HttpResponse> {
    if req.body.len() <= MAX_BODY {
        return Ok(());
    }
    Err(HttpResponse::error(
        413,
        "body_too_large",
        format!(
            "the body is {} bytes; at most {MAX_BODY} bytes (1 MiB) are accepted: send a smaller one",
            req.body.len()
        ),
        vec![],
    ))
}

/// The media type without parameters, lowercase; `None` without a `content-type` header.
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.header("content-type")?;
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

fn unsupported(given: &str, accepted: &[&str]) -> HttpResponse {
    HttpResponse::error(
        415,
        "unsupported_media_type",
        format!("content type `{given}` is not accepted here: send {}", accepted.join(" or ")),
        vec![Detail::new("Content-Type", format!("expected one of {}", accepted.join(", ")))],
    )
}

/// The body as UTF-8 text; 400 `malformed_body` otherwise.
fn text(req: &HttpRequest) -> Result<&str, HttpResponse> {
    std::str::from_utf8(&req.body)
        .map_err(|e| errors::malformed_body(format!("the body is not UTF-8 text ({e}): send UTF-8"), vec![]))
}

/// A spec body: JSON (`application/json` or no content type) or YAML. Syntax, type and
/// unknown-field errors are 400 `malformed_body` with the field path; not validated here.
pub fn spec(req: &HttpRequest) -> Result<Spec, HttpResponse> {
    parsed(req, Spec::from_json, Spec::from_yaml)
}

/// A body of any spec type, JSON or YAML as for [`spec`].
pub fn parsed<T>(
    req: &HttpRequest,
    from_json: impl Fn(&str) -> Result<T, SpecError>,
    from_yaml: impl Fn(&str) -> Result<T, SpecError>,
) -> Result<T, HttpResponse> {
    let yaml = match media_type(req) {
        None => false,
        Some(t) if JSON_TYPES.contains(&t.as_str()) => false,
        Some(t) if YAML_TYPES.contains(&t.as_str()) => true,
        Some(t) => return Err(unsupported(&t, &[JSON_TYPES, YAML_TYPES].concat())),
    };
    let text = text(req)?;
    let parsed = if yaml { from_yaml(text) } else { from_json(text) };
    parsed.map_err(|e| spec_error(&e, if yaml { "YAML" } else { "JSON" }))
}

/// A spec from a stored JSON document.
pub fn spec_from_json(document: &Json) -> Result<Spec, HttpResponse> {
    Spec::from_json(&document.to_string()).map_err(|e| errors::invalid_spec(e.problems()))
}

/// The stored `document` with the merge patch `patch` applied, read by `parse`. 422
/// `invalid_spec` when the patch removes (`null`) a field the document does not have, or when
/// the result is no spec (a required field removed, a wrong type, an unknown field): the patch
/// itself is well-formed.
pub fn patched<T>(
    mut document: Json,
    patch: &Json,
    parse: impl Fn(&str) -> Result<T, SpecError>,
) -> Result<T, HttpResponse> {
    if let (Some(fields), Some(changes)) = (document.as_object(), patch.as_object()) {
        let unknown: Vec<tailor_spec::Problem> = changes
            .iter()
            .filter(|(k, v)| v.is_null() && !fields.contains_key(*k))
            .map(|(k, _)| tailor_spec::Problem::new(k.as_str(), format!("unknown field `{k}`")))
            .collect();
        if !unknown.is_empty() {
            return Err(errors::invalid_spec(unknown));
        }
    }
    apply_merge_patch(&mut document, patch);
    parse(&document.to_string()).map_err(|e| errors::invalid_spec(e.problems()))
}

/// 400 `malformed_body` for a spec that does not parse.
fn spec_error(error: &SpecError, what: &str) -> HttpResponse {
    let details = error.problems().into_iter().map(|p| Detail::new(p.field, p.problem)).collect();
    errors::malformed_body(format!("the {what} spec does not parse: {error}; fix the field named in details"), details)
}

/// A JSON merge patch body (`application/merge-patch+json`, `application/json` or no content
/// type); `None` for an empty body.
pub fn merge_patch(req: &HttpRequest) -> Result<Option<Json>, HttpResponse> {
    if let Some(t) = media_type(req)
        && !PATCH_TYPES.contains(&t.as_str())
    {
        return Err(unsupported(&t, PATCH_TYPES));
    }
    let text = text(req)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map(Some).map_err(|e| {
        errors::malformed_body(
            format!("the merge patch is not JSON: {e}; send a JSON object of the fields to change"),
            vec![Detail::new("", e.to_string())],
        )
    })
}

/// Applies `patch` to `target` as RFC 7386 says: objects merge member by member, `null`
/// removes a member, anything else replaces.
fn apply_merge_patch(target: &mut Json, patch: &Json) {
    let Json::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Json::Object(serde_json::Map::new());
    }
    if let Json::Object(object) = target {
        for (name, value) in members {
            if value.is_null() {
                object.remove(name);
            } else {
                apply_merge_patch(object.entry(name.clone()).or_insert(Json::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        // The examples of RFC 7386, appendix A (a selection).
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (mut target, patch, expected) in cases {
            apply_merge_patch(&mut target, &patch);
            assert_eq!(target, expected, "patch {patch}");
        }
    }

    #[test]
    fn media_types_ignore_parameters_and_case() {
        let req = HttpRequest::new("POST", "/").with_header("Content-Type", "Application/YAML; charset=utf-8");
        assert_eq!(media_type(&req).as_deref(), Some("application/yaml"));
        assert_eq!(media_type(&HttpRequest::new("POST", "/")), None);
        let empty = HttpRequest::new("POST", "/").with_header("content-type", " ");
        assert_eq!(media_type(&empty), None);
    }
}
