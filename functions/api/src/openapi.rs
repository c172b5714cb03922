//! The OpenAPI 3.1 document of the API (hand-written `openapi.json`), which also describes the
//! webhook component's `/v1/hooks/...` routes. A test keeps it and [`crate::ROUTES`] in step.

use tailor_guest::HttpResponse;

/// The document, as served.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /v1/openapi.json`
pub fn document() -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: OPENAPI.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value as Json;

    use super::*;
    use crate::ROUTES;

    const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    fn doc() -> Json {
        serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
    }

    /// (METHOD, path) of every operation in the document.
    fn operations(doc: &Json) -> BTreeSet<(String, String)> {
        let paths = doc["paths"].as_object().expect("paths");
        let mut out = BTreeSet::new();
        for (path, item) in paths {
            for method in METHODS {
                if item.get(*method).is_some() {
                    out.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_and_the_routes_agree() {
        let doc = doc();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", doc["openapi"]);
        let documented: BTreeSet<_> =
            operations(&doc).into_iter().filter(|(_, path)| !path.starts_with("/v1/hooks/")).collect();
        let routed: BTreeSet<_> = ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
        assert_eq!(routed.len(), ROUTES.len(), "a route is listed twice");
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(undocumented.is_empty(), "routes missing from openapi.json: {undocumented:?}");
        assert!(unrouted.is_empty(), "openapi.json documents routes the router lacks: {unrouted:?}");
    }

    #[test]
    fn the_webhook_routes_are_documented() {
        let ops = operations(&doc());
        for path in ["/v1/hooks/{endpoint}", "/v1/hooks/{endpoint}/{secret}"] {
            assert!(ops.contains(&("POST".to_owned(), path.to_owned())), "{path}");
        }
    }

    /// Every `$ref` points at something in the document.
    #[test]
    fn references_resolve() {
        fn walk(node: &Json, doc: &Json, refs: &mut usize) {
            match node {
                Json::Object(members) => {
                    if let Some(Json::String(target)) = members.get("$ref") {
                        let pointer = target.strip_prefix('#').expect("local reference");
                        assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
                        *refs += 1;
                    }
                    members.values().for_each(|v| walk(v, doc, refs));
                }
                Json::Array(items) => items.iter().for_each(|v| walk(v, doc, refs)),
                _ => {}
            }
        }
        let doc = doc();
        let mut refs = 0;
        walk(&doc, &doc, &mut refs);
        assert!(refs > 50, "only {refs} references");
    }

    /// Every `{param}` of a path is declared as a path parameter, on the path or the operation,
    /// and every operation but the document itself answers 401 or has its own security.
    #[test]
    fn path_parameters_and_security_are_declared() {
        let doc = doc();
        let resolve = |p: &Json| -> Json {
            match p.get("$ref").and_then(Json::as_str) {
                Some(target) => doc.pointer(&target[1..]).cloned().unwrap_or(Json::Null),
                None => p.clone(),
            }
        };
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let wanted: BTreeSet<&str> =
                path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                let op = &item[*method];
                let declared: BTreeSet<String> = [&item["parameters"], &op["parameters"]]
                    .into_iter()
                    .filter_map(Json::as_array)
                    .flatten()
                    .map(resolve)
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                let declared: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
                assert_eq!(declared, wanted, "{method} {path}");
                let secured = op.get("security").is_some() || op["responses"].get("401").is_some();
                assert!(secured, "{method} {path} neither declares security nor answers 401");
                assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
            }
        }
    }

    #[test]
    fn the_document_is_served_as_json() {
        let response = document();
        assert_eq!((response.status, response.header("content-type")), (200, Some("application/json")));
        assert_eq!(response.body, OPENAPI.as_bytes());
    }
}
