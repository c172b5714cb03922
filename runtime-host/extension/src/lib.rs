//! Org policy extensions (DESIGN.md §11): WebAssembly components implementing
//! `tailor:extension@0.1.0` (`wit/extension/world.wit`), stored as OCI artifacts in the org's
//! namespace ([`artifact`]), checked before use ([`validate`]), and run by the worker at a
//! build's checkpoints ([`checks`]) — each call in a fresh instance with fuel, a wall-clock
//! deadline, a memory cap and bounded output ([`limits`], [`call`]), seeing only the build at
//! hand through the `image` interface ([`host`]). A misbehaving extension fails only the build
//! it ran in, with a classified error that names it.

pub mod artifact;
pub mod call;
pub mod checks;
pub mod error;
pub mod host;
pub mod limits;
pub mod runtime;
pub mod validate;

pub use call::{CallOutcome, Loaded};
pub use checks::{OrgChecks, Registered};
pub use error::{Error, Failure};
pub use limits::Limits;
pub use runtime::Runtime;
