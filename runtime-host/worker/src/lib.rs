//! tailor's build worker (DESIGN.md §2, §6): claims build requests from the store, resolves
//! the inputs, skips when the fingerprint is unchanged, builds with the engine through a
//! client scoped to the org's namespace, records the result and the log; and polls the tags
//! customizations depend on, for registries that send no notification or dropped one.
//!
//! Mirrors (DESIGN.md §9) run through the same queue: a claimed run of a mirror is a sync, and
//! the worker polls the mirrors whose interval is due.
//!
//! Synchronous (threads): the engine is synchronous, and the store's SQLite is local.

mod catalog;
mod chart;
mod extensions;
mod fingerprint;
mod job;
mod listings;
mod mirror;
mod mirror_poll;
mod poll;
mod target;
mod worker;

pub use catalog::refresh as refresh_catalog;
pub use fingerprint::fingerprint;
pub use mirror::endpoints as mirror_endpoints;
pub use mirror_poll::poll_mirrors;
pub use target::Target;
pub use worker::{Worker, WorkerConfig, WorkerHandle};
