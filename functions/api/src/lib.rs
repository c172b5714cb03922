//! tailor's `/v1` REST API, a Spin component (spin-sdk 7, wasm32-wasip2).
//!
//! The whole API is [`handle`]: plain Rust over the [`HttpRequest`]/[`HttpResponse`] model and
//! the [`Db`] trait, so it is tested natively over SQLite; `component.rs` (wasm32 only) wires
//! it to Spin's HTTP trigger and `spin:sqlite`. The routes are [`ROUTES`], described by
//! the OpenAPI 3.1 document `openapi.json` served at `GET /v1/openapi.json`.
//!
//! Every route but the document needs `Authorization: Bearer <token>`; a token sees only its
//! own org (anything else is 404), members may do everything but delete, which owners may.

mod auth;
mod body;
mod builds;
mod catalog;
#[cfg(target_arch = "wasm32")]
mod component;
mod customizations;
mod errors;
mod openapi;
mod packages;
mod router;
mod views;

use tailor_guest::{HttpRequest, HttpResponse};
use tailor_store::{Db, TokenInfo};

pub use body::MAX_BODY;
pub use openapi::OPENAPI;
pub use router::{Endpoint, ROUTES, Route};

use errors::Reply;
use router::Params;

/// Answers one API request; `now` is the time in Unix milliseconds.
pub async fn handle<D: Db>(db: &D, req: HttpRequest, now: i64) -> HttpResponse {
    match serve(db, &req, now).await {
        Ok(response) | Err(response) => response,
    }
}

async fn serve<D: Db>(db: &D, req: &HttpRequest, now: i64) -> Reply {
    let (endpoint, params) = router::find(&req.method, &req.segments())?;
    body::check_size(req)?;
    if endpoint == Endpoint::OpenApi {
        return Ok(openapi::document());
    }
    let caller = auth::authenticate(db, req).await?;
    auth::check_org(&caller, &params)?;
    let ctx = Ctx { db, req, now, caller, params };
    match endpoint {
        Endpoint::OpenApi => Ok(openapi::document()),
        Endpoint::Token => Ok(auth::whoami(&ctx.caller)),
        Endpoint::ListCustomizations => customizations::list(&ctx).await,
        Endpoint::CreateCustomization => customizations::create(&ctx).await,
        Endpoint::GetCustomization => customizations::get(&ctx).await,
        Endpoint::ReplaceCustomization => customizations::replace(&ctx).await,
        Endpoint::PatchCustomization => customizations::patch(&ctx).await,
        Endpoint::DeleteCustomization => customizations::delete(&ctx).await,
        Endpoint::CopyCustomization => customizations::copy(&ctx).await,
        Endpoint::ListBuilds => builds::list(&ctx).await,
        Endpoint::TriggerBuild => builds::trigger(&ctx).await,
        Endpoint::GetBuild => builds::get(&ctx).await,
        Endpoint::GetLog => builds::log(&ctx).await,
        Endpoint::ListRepositories => catalog::repositories(&ctx).await,
        Endpoint::ListTags => catalog::tags(&ctx).await,
        Endpoint::ListPackages => packages::list(&ctx).await,
    }
}

/// One authenticated request to a route of the caller's org.
struct Ctx<'a, D> {
    db: &'a D,
    req: &'a HttpRequest,
    now: i64,
    caller: TokenInfo,
    params: Params,
}

impl<D> Ctx<'_, D> {
    /// The org of the path (the caller's).
    fn org(&self) -> &str {
        self.params.get("org")
    }

    /// The customization id of the path.
    fn id(&self) -> &str {
        self.params.get("id")
    }
}
