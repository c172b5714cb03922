//! Bearer tokens: who is calling, whether the org of the path is theirs, and what their role
//! allows. Nothing of another org is ever visible: its routes answer 404 like missing things.

use tailor_guest::{HttpRequest, HttpResponse};
use tailor_store::{Db, Role, TokenInfo, lookup_token};

use crate::errors;
use crate::router::Params;

/// The challenge sent with every 401.
pub const CHALLENGE: &str = "Bearer realm=\"tailor\"";

/// The caller's token, from `Authorization: Bearer <token>`; 401 `unauthorized` without a
/// known one.
pub async fn authenticate<D: Db>(db: &D, req: &HttpRequest) -> Result<TokenInfo, HttpResponse> {
    lookup_token(db, secret(req)?).await.map_err(errors::store)?.ok_or_else(unknown_token)
}

/// The secret of the request's `Authorization: Bearer <token>`; 401 `unauthorized` without one.
pub fn secret(req: &HttpRequest) -> Result<&str, HttpResponse> {
    bearer(req).ok_or_else(|| {
        unauthorized("this route needs a token: send `Authorization: Bearer <token>` with a token of your org")
    })
}

/// The 401 for a token the store does not know.
pub fn unknown_token() -> HttpResponse {
    unauthorized("the bearer token is not known: check it, or ask an owner of your org for one")
}

/// The token of an `Authorization: Bearer …` header (scheme in any case).
fn bearer(req: &HttpRequest) -> Option<&str> {
    let (scheme, token) = req.header("authorization")?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn unauthorized(message: &str) -> HttpResponse {
    HttpResponse::error(401, "unauthorized", message, vec![]).with_header("www-authenticate", CHALLENGE)
}

/// 404 unless the path's `{org}` (if the route has one) is the token's org: the same 404 as
/// for a missing customization on routes of one, so another org's customizations cannot be
/// probed.
pub fn check_org(caller: &TokenInfo, params: &Params, resource: crate::router::Resource) -> Result<(), HttpResponse> {
    let Some(org) = params.find("org") else { return Ok(()) };
    if org == caller.org {
        return Ok(());
    }
    Err(match params.get("id") {
        "" => errors::org_not_found(org),
        id => errors::not_found_of(resource, org, id),
    })
}

/// 403 `forbidden` unless the caller is an owner of the org.
pub fn require_owner(caller: &TokenInfo, action: &str) -> Result<(), HttpResponse> {
    match caller.role {
        Role::Owner => Ok(()),
        Role::Member => Err(HttpResponse::error(
            403,
            "forbidden",
            format!(
                "only an owner of org `{}` may {action}; token `{}` is a member: ask an owner",
                caller.org, caller.name
            ),
            vec![],
        )),
    }
}

/// `GET /v1/token`: who the token is.
pub fn whoami(caller: &TokenInfo) -> HttpResponse {
    HttpResponse::json(200, &serde_json::json!({"org": caller.org, "role": caller.role.as_str(), "name": caller.name}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_schemes() {
        let req = |value: &str| HttpRequest::new("GET", "/v1/token").with_header("Authorization", value);
        assert_eq!(bearer(&req("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&req("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(&req("Basic abc")), None);
        assert_eq!(bearer(&req("Bearer ")), None);
        assert_eq!(bearer(&req("Bearer")), None);
        assert_eq!(bearer(&HttpRequest::new("GET", "/v1/token")), None);
    }
}
