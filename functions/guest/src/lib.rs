//! What tailor's Spin components (api, webhook) share. Handlers are written against the plain
//! [`HttpRequest`]/[`HttpResponse`] model and the [`tailor_store::Db`] trait, so their logic is
//! tested natively over SQLite; [`spin`] (wasm32 only) adapts them to spin-sdk: the incoming
//! request, `spin:sqlite` and `spin:variables`.

mod message;
#[cfg(target_arch = "wasm32")]
mod pg;
#[cfg(target_arch = "wasm32")]
pub mod spin;

pub use message::{Detail, HttpRequest, HttpResponse, now_ms, random_hex};
