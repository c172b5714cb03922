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
mod charts;
#[cfg(target_arch = "wasm32")]
mod component;
mod customizations;
mod errors;
mod extensions;
mod listings;
mod mirrors;
mod openapi;
mod packages;
mod router;
mod syncs;
mod views;

use tailor_guest::{HttpRequest, HttpResponse};
use tailor_store::{Db, TokenInfo};

pub use body::MAX_BODY;
pub use openapi::OPENAPI;
pub use router::{Endpoint, ROUTES, Route};

use errors::Reply;
use router::Params;

/// What the operator configured (Spin variables).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Registry hosts mirrors may copy from (`upstream_hosts`: `dhi.io,127.0.0.1:5001`).
    pub upstream_hosts: Vec<String>,
}

impl Settings {
    /// From the variable `upstream_hosts`: hosts separated by commas, spaces or newlines.
    pub fn from_variables(upstream_hosts: &str) -> Settings {
        let mut hosts: Vec<String> = upstream_hosts
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        hosts.sort();
        hosts.dedup();
        Settings { upstream_hosts: hosts }
    }
}

/// Answers one API request; `now` is the time in Unix milliseconds.
pub async fn handle<D: Db>(db: &D, req: HttpRequest, now: i64) -> HttpResponse {
    handle_with(db, &Settings::default(), req, now).await
}

/// [`handle`] with the operator's settings.
pub async fn handle_with<D: Db>(db: &D, settings: &Settings, req: HttpRequest, now: i64) -> HttpResponse {
    match serve(db, settings, &req, now).await {
        Ok(response) | Err(response) => response,
    }
}

async fn serve<D: Db>(db: &D, settings: &Settings, req: &HttpRequest, now: i64) -> Reply {
    let (endpoint, params) = router::find(&req.method, &req.segments())?;
    body::check_size(req)?;
    if endpoint == Endpoint::OpenApi {
        return Ok(openapi::document());
    }
    if endpoint == Endpoint::GetCustomization {
        return customizations::get(db, req, &params).await;
    }
    let caller = auth::authenticate(db, req).await?;
    auth::check_org(&caller, &params, endpoint.resource())?;
    let ctx = Ctx { db, settings, req, now, caller, params, endpoint };
    match endpoint {
        Endpoint::OpenApi => Ok(openapi::document()),
        Endpoint::Token => Ok(auth::whoami(&ctx.caller)),
        Endpoint::ListCustomizations => customizations::list(&ctx).await,
        Endpoint::CreateCustomization => customizations::create(&ctx).await,
        Endpoint::GetCustomization => customizations::get(ctx.db, ctx.req, &ctx.params).await,
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
        Endpoint::ListFiles => listings::files(&ctx).await,
        Endpoint::ListReferences => listings::references(&ctx).await,
        Endpoint::ListPackages => packages::list(&ctx).await,
        Endpoint::ListUpstreams => mirrors::upstreams(&ctx),
        Endpoint::ListExtensions => extensions::list(&ctx).await,
        Endpoint::CreateExtension => extensions::create(&ctx).await,
        Endpoint::GetExtension => extensions::get(&ctx).await,
        Endpoint::PatchExtension => extensions::patch(&ctx).await,
        Endpoint::DeleteExtension => extensions::delete(&ctx).await,
        Endpoint::ListMirrors => mirrors::list(&ctx).await,
        Endpoint::CreateMirror => mirrors::create(&ctx).await,
        Endpoint::GetMirror => mirrors::get(&ctx).await,
        Endpoint::PatchMirror => mirrors::patch(&ctx).await,
        Endpoint::DeleteMirror => mirrors::delete(&ctx).await,
        Endpoint::ListSyncs => syncs::list(&ctx).await,
        Endpoint::TriggerSync => syncs::trigger(&ctx).await,
        Endpoint::GetSync => syncs::get(&ctx).await,
        Endpoint::GetSyncLog => syncs::log(&ctx).await,
        Endpoint::ListCharts => charts::list(&ctx).await,
        Endpoint::CreateChart => charts::create(&ctx).await,
        Endpoint::GetChart => charts::get(&ctx).await,
        Endpoint::ReplaceChart => charts::replace(&ctx).await,
        Endpoint::PatchChart => charts::patch(&ctx).await,
        Endpoint::DeleteChart => charts::delete(&ctx).await,
        Endpoint::ListChartBuilds => builds::list(&ctx).await,
        Endpoint::TriggerChartBuild => builds::trigger(&ctx).await,
        Endpoint::GetChartBuild => builds::get(&ctx).await,
        Endpoint::GetChartBuildLog => builds::log(&ctx).await,
    }
}

/// One authenticated request to a route of the caller's org.
struct Ctx<'a, D> {
    db: &'a D,
    settings: &'a Settings,
    req: &'a HttpRequest,
    now: i64,
    caller: TokenInfo,
    params: Params,
    endpoint: Endpoint,
}

impl<D> Ctx<'_, D> {
    /// The org of the path (the caller's).
    fn org(&self) -> &str {
        self.params.get("org")
    }

    /// The customization (or mirror) id of the path.
    fn id(&self) -> &str {
        self.params.get("id")
    }
}
