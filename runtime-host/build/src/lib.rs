//! tailor's build engine: spec → resolve → merge → publish (DESIGN.md §5).
//!
//! Free of wasmtime so that its tests compile fast; reaches stores only through a
//! capability-scoped [`tailor_oci::Client`].

pub mod accounts;
pub mod artifact;
pub mod base;
pub mod cache;
pub mod checks;
pub mod compress;
pub mod config;
mod engine;
mod error;
pub mod filter;
pub mod flatten;
pub mod layer;
pub mod listing;
pub mod manifest;
pub mod os;
pub mod packages;
pub mod packages_layer;
pub mod platform;
pub mod provenance;
pub mod publish;
#[cfg(test)]
mod publish_tests;
mod readahead;
pub mod resolve;
pub mod sbom;
pub mod scratch;
mod sign;
pub mod tarfs;
#[cfg(test)]
mod test_support;
pub mod variant;

pub use engine::{Input, Inputs, Options, Report, Resolved, build, build_resolved, check, resolve_inputs};
pub use error::{BuildError, Result};
