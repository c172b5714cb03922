//! The Spin entry point (wasm32 only): Spin's HTTP trigger → [`crate::respond`].

use bytes::Bytes;
use spin_sdk::http::{FullBody, IntoResponse, Request};

#[spin_sdk::http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let accept = req.headers().get("accept-encoding").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let r = crate::respond(req.method().as_str(), req.uri().path(), accept.as_deref());
    let mut builder = http::Response::builder().status(r.status);
    for (name, value) in &r.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(FullBody::new(Bytes::from_static(r.body))).unwrap_or_else(|_| {
        let mut resp = http::Response::new(FullBody::new(Bytes::from_static(b"internal error\n")));
        *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}
