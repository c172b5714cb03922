//! The Spin entry point (wasm32 only): Spin's HTTP trigger → [`crate::handle`] over the
//! component's default `spin:sqlite` database.
//!
//! The `#[http_service]` expansion (wit-bindgen's export glue) does not trip the workspace's
//! `forbid(unsafe_code)`, so no `allow` is needed here.

use tailor_guest::spin::{SpinDb, serve, variable};
use tailor_guest::{HttpResponse, now_ms};

#[spin_sdk::http_service]
async fn handle(req: spin_sdk::http::Request) -> impl spin_sdk::http::IntoResponse {
    // A missing variable means no upstream is declared (every mirror source is refused).
    let settings = crate::Settings::from_variables(&variable("upstream_hosts").await.unwrap_or_default());
    serve(req, async |request| match SpinDb::open().await {
        Ok(db) => crate::handle_with(&db, &settings, request, now_ms()).await,
        Err(e) => HttpResponse::error(
            500,
            "internal",
            format!("store: {e}; try again later, and tell the operator if it persists"),
            vec![],
        ),
    })
    .await
}
