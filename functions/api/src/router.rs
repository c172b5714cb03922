//! The route table and path matching: which endpoint a method and path mean, with the path
//! parameters; unknown paths and wrong methods as their error responses.

use tailor_guest::HttpResponse;

/// What a request asks for, one variant per row of [`ROUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    OpenApi,
    Token,
    ListCustomizations,
    CreateCustomization,
    GetCustomization,
    ReplaceCustomization,
    PatchCustomization,
    DeleteCustomization,
    CopyCustomization,
    ListBuilds,
    TriggerBuild,
    GetBuild,
    GetLog,
    ListRepositories,
    ListTags,
    ListPackages,
    ListUpstreams,
    ListMirrors,
    CreateMirror,
    GetMirror,
    PatchMirror,
    DeleteMirror,
    ListSyncs,
    TriggerSync,
    GetSync,
    GetSyncLog,
    ListCharts,
    CreateChart,
    GetChart,
    ReplaceChart,
    PatchChart,
    DeleteChart,
    ListChartBuilds,
    TriggerChartBuild,
    GetChartBuild,
    GetChartBuildLog,
    ListFiles,
    ListReferences,
    ListExtensions,
    CreateExtension,
    GetExtension,
    PatchExtension,
    DeleteExtension,
}

/// What a route's `{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Customization,
    Mirror,
    Chart,
    Extension,
}

impl Endpoint {
    /// What the route's `{id}` is (its 404s speak of it).
    pub fn resource(self) -> Resource {
        use Endpoint::*;
        match self {
            GetMirror | PatchMirror | DeleteMirror | ListSyncs | TriggerSync | GetSync | GetSyncLog => Resource::Mirror,
            GetChart | ReplaceChart | PatchChart | DeleteChart | ListChartBuilds | TriggerChartBuild
            | GetChartBuild | GetChartBuildLog => Resource::Chart,
            GetExtension | PatchExtension | DeleteExtension => Resource::Extension,
            _ => Resource::Customization,
        }
    }
}

/// One route: a method, an OpenAPI path template and what it does.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// OpenAPI path template; `{param}` matches one path segment, except [`MULTI_SEGMENT`].
    pub path: &'static str,
    pub endpoint: Endpoint,
}

/// The parameter that may span several segments: a repository path below the org
/// (`/v1/orgs/acme/repositories/team/app/tags` → `team/app`).
pub const MULTI_SEGMENT: &str = "name";

const fn route(method: &'static str, path: &'static str, endpoint: Endpoint) -> Route {
    Route { method, path, endpoint }
}

const CUSTOMIZATION: &str = "/v1/orgs/{org}/customizations/{id}";
const MIRROR: &str = "/v1/orgs/{org}/mirrors/{id}";
const CHART: &str = "/v1/orgs/{org}/chart-customizations/{id}";
const EXTENSION: &str = "/v1/orgs/{org}/extensions/{id}";

/// Every route of the API, in the order of the OpenAPI document.
pub static ROUTES: &[Route] = &[
    route("GET", "/v1/openapi.json", Endpoint::OpenApi),
    route("GET", "/v1/token", Endpoint::Token),
    route("GET", "/v1/orgs/{org}/customizations", Endpoint::ListCustomizations),
    route("POST", "/v1/orgs/{org}/customizations", Endpoint::CreateCustomization),
    route("GET", CUSTOMIZATION, Endpoint::GetCustomization),
    route("PUT", CUSTOMIZATION, Endpoint::ReplaceCustomization),
    route("PATCH", CUSTOMIZATION, Endpoint::PatchCustomization),
    route("DELETE", CUSTOMIZATION, Endpoint::DeleteCustomization),
    route("POST", "/v1/orgs/{org}/customizations/{id}/copy", Endpoint::CopyCustomization),
    route("GET", "/v1/orgs/{org}/customizations/{id}/builds", Endpoint::ListBuilds),
    route("POST", "/v1/orgs/{org}/customizations/{id}/builds", Endpoint::TriggerBuild),
    route("GET", "/v1/orgs/{org}/customizations/{id}/builds/{number}", Endpoint::GetBuild),
    route("GET", "/v1/orgs/{org}/customizations/{id}/builds/{number}/log", Endpoint::GetLog),
    route("GET", "/v1/orgs/{org}/repositories", Endpoint::ListRepositories),
    route("GET", "/v1/orgs/{org}/repositories/{name}/tags", Endpoint::ListTags),
    route("GET", "/v1/orgs/{org}/repositories/{name}/tags/{tag}/files", Endpoint::ListFiles),
    route("GET", "/v1/orgs/{org}/repositories/{name}/tags/{tag}/references", Endpoint::ListReferences),
    route("GET", "/v1/orgs/{org}/packages", Endpoint::ListPackages),
    route("GET", "/v1/upstreams", Endpoint::ListUpstreams),
    route("GET", "/v1/orgs/{org}/mirrors", Endpoint::ListMirrors),
    route("POST", "/v1/orgs/{org}/mirrors", Endpoint::CreateMirror),
    route("GET", MIRROR, Endpoint::GetMirror),
    route("PATCH", MIRROR, Endpoint::PatchMirror),
    route("DELETE", MIRROR, Endpoint::DeleteMirror),
    route("GET", "/v1/orgs/{org}/mirrors/{id}/syncs", Endpoint::ListSyncs),
    route("POST", "/v1/orgs/{org}/mirrors/{id}/syncs", Endpoint::TriggerSync),
    route("GET", "/v1/orgs/{org}/mirrors/{id}/syncs/{number}", Endpoint::GetSync),
    route("GET", "/v1/orgs/{org}/mirrors/{id}/syncs/{number}/log", Endpoint::GetSyncLog),
    route("GET", "/v1/orgs/{org}/chart-customizations", Endpoint::ListCharts),
    route("POST", "/v1/orgs/{org}/chart-customizations", Endpoint::CreateChart),
    route("GET", CHART, Endpoint::GetChart),
    route("PUT", CHART, Endpoint::ReplaceChart),
    route("PATCH", CHART, Endpoint::PatchChart),
    route("DELETE", CHART, Endpoint::DeleteChart),
    route("GET", "/v1/orgs/{org}/chart-customizations/{id}/builds", Endpoint::ListChartBuilds),
    route("POST", "/v1/orgs/{org}/chart-customizations/{id}/builds", Endpoint::TriggerChartBuild),
    route("GET", "/v1/orgs/{org}/chart-customizations/{id}/builds/{number}", Endpoint::GetChartBuild),
    route("GET", "/v1/orgs/{org}/chart-customizations/{id}/builds/{number}/log", Endpoint::GetChartBuildLog),
    route("GET", "/v1/orgs/{org}/extensions", Endpoint::ListExtensions),
    route("POST", "/v1/orgs/{org}/extensions", Endpoint::CreateExtension),
    route("GET", EXTENSION, Endpoint::GetExtension),
    route("PATCH", EXTENSION, Endpoint::PatchExtension),
    route("DELETE", EXTENSION, Endpoint::DeleteExtension),
];

/// Path parameters by name, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The value of `name`, empty when the route has no such parameter.
    pub fn get(&self, name: &str) -> &str {
        self.find(name).unwrap_or_default()
    }

    /// The value of `name`, if the route has such a parameter.
    pub fn find(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// Finds the route of `method` and the path `segments` (as from `HttpRequest::segments`).
/// Errors are the responses: 404 `route_not_found`, 405 `method_not_allowed` with `allow`.
pub fn find(method: &str, segments: &[String]) -> Result<(Endpoint, Params), HttpResponse> {
    let mut allowed: Vec<&str> = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, segments) {
            if route.method == method {
                return Ok((route.endpoint, params));
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method);
            }
        }
    }
    let path = format!("/{}", segments.join("/"));
    if allowed.is_empty() {
        return Err(HttpResponse::error(
            404,
            "route_not_found",
            format!("there is no route {path}: the routes are listed in GET /v1/openapi.json"),
            vec![],
        ));
    }
    let allow = allowed.join(", ");
    Err(HttpResponse::error(
        405,
        "method_not_allowed",
        format!("{method} is not allowed on {path}: use {allow}"),
        vec![],
    )
    .with_header("allow", allow))
}

/// Matches `segments` against `template`, collecting the parameters.
fn match_path(template: &'static str, segments: &[String]) -> Option<Params> {
    let parts: Vec<&'static str> = template.split('/').filter(|s| !s.is_empty()).collect();
    // Fold the segments that the multi-segment parameter spans into one.
    let folded: Vec<String> = match parts.iter().position(|p| param_name(p) == Some(MULTI_SEGMENT)) {
        Some(at) if segments.len() >= parts.len() => {
            let end = segments.len() - (parts.len() - at - 1);
            let mut folded = segments[..at].to_vec();
            folded.push(segments[at..end].join("/"));
            folded.extend_from_slice(&segments[end..]);
            folded
        }
        _ => segments.to_vec(),
    };
    if folded.len() != parts.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.into_iter().zip(folded) {
        match param_name(part) {
            Some(name) => params.push((name, segment)),
            None if part == segment => {}
            None => return None,
        }
    }
    Some(Params(params))
}

/// `org` for the template part `{org}`.
fn param_name(part: &'static str) -> Option<&'static str> {
    part.strip_prefix('{')?.strip_suffix('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    #[test]
    fn routes_match_with_their_parameters() {
        let (endpoint, params) = find("GET", &segs("/v1/orgs/acme/customizations/cus_1/builds/7/log")).unwrap();
        assert_eq!(endpoint, Endpoint::GetLog);
        assert_eq!((params.get("org"), params.get("id"), params.get("number")), ("acme", "cus_1", "7"));
        let (endpoint, params) = find("DELETE", &segs("/v1/orgs/acme/customizations/cus_1")).unwrap();
        assert_eq!((endpoint, params.get("id")), (Endpoint::DeleteCustomization, "cus_1"));
        assert_eq!(params.get("missing"), "");
    }

    #[test]
    fn a_repository_name_spans_segments() {
        let (endpoint, params) = find("GET", &segs("/v1/orgs/acme/repositories/team/app/tags")).unwrap();
        assert_eq!((endpoint, params.get("org"), params.get("name")), (Endpoint::ListTags, "acme", "team/app"));
        let (_, params) = find("GET", &segs("/v1/orgs/acme/repositories/debian/tags")).unwrap();
        assert_eq!(params.get("name"), "debian");
        assert_eq!(find("GET", &segs("/v1/orgs/acme/repositories/tags")).unwrap_err().status, 404);
        assert_eq!(find("GET", &segs("/v1/orgs/acme/repositories/debian/labels")).unwrap_err().status, 404);
        let (endpoint, params) = find("GET", &segs("/v1/orgs/acme/repositories/team/app/tags/1.0/files")).unwrap();
        assert_eq!((endpoint, params.get("name"), params.get("tag")), (Endpoint::ListFiles, "team/app", "1.0"));
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(find("GET", &segs("/v1/nothing")).unwrap_err().status, 404);
        assert_eq!(find("GET", &segs("/v2/token")).unwrap_err().status, 404);
        assert_eq!(find("GET", &segs("/v1/orgs/acme/customizations/x/y")).unwrap_err().status, 404);
        let err = find("PUT", &segs("/v1/orgs/acme/customizations")).unwrap_err();
        assert_eq!((err.status, err.header("allow")), (405, Some("GET, POST")));
        let err = find("POST", &segs("/v1/orgs/acme/customizations/c")).unwrap_err();
        assert_eq!(err.header("allow"), Some("GET, PUT, PATCH, DELETE"));
    }
}
