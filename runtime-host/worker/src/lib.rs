//! tailor's build worker (DESIGN.md §2, §6): claims build requests from the store, resolves
//! the inputs, skips when the fingerprint is unchanged, builds with the engine through a
//! client scoped to the org's namespace, records the result and the log; and polls the tags
//! customizations depend on, for registries that send no notification or dropped one.
//!
//! Synchronous (threads): the engine is synchronous, and the store's SQLite is local.

mod catalog;
mod fingerprint;
mod job;
mod poll;
mod target;
mod worker;

pub use catalog::refresh as refresh_catalog;
pub use fingerprint::fingerprint;
pub use target::Target;
pub use worker::{Worker, WorkerConfig, WorkerHandle};
