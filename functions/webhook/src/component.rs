//! The Spin component (wasm32 only): the endpoints from the variable `webhook_endpoints`, the
//! default `spin:sqlite` database, and [`crate::handle`] for every request.

use spin_sdk::http::{IntoResponse, Request};
use tailor_guest::spin::{SpinDb, serve, variable};
use tailor_guest::{HttpResponse, now_ms};

use crate::Endpoints;

#[spin_sdk::http_service]
async fn handle(req: Request) -> impl IntoResponse {
    // A missing variable means no endpoints (every delivery gets 404 unknown_endpoint).
    let text = variable("webhook_endpoints").await.unwrap_or_default();
    let upstreams = variable("webhook_upstreams").await.unwrap_or_default();
    let endpoints = match Endpoints::parse(&text).and_then(|e| e.with_upstreams(&upstreams)) {
        Ok(endpoints) => endpoints,
        Err(problem) => {
            return serve(req, async |_| {
                HttpResponse::error(
                    500,
                    "misconfigured",
                    format!("the variables webhook_endpoints / webhook_upstreams are not valid: {problem}"),
                    vec![],
                )
            })
            .await;
        }
    };
    let db = match SpinDb::open().await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("webhook: opening the database failed: {e}");
            return serve(req, async |_| {
                HttpResponse::error(500, "internal", "the store is unavailable; deliver again later", vec![])
            })
            .await;
        }
    };
    serve(req, async |r| crate::handle(&db, &endpoints, r, now_ms()).await).await
}
