//! Mirrors (DESIGN.md §9): copy an upstream repository — images, Helm charts, any OCI
//! artifact — into the org's namespace byte for byte (every digest identical, so the vendor's
//! signatures stay valid), with what is attached to each copied digest (cosign signature,
//! attestation and SBOM tags, OCI 1.1 referrers), refusing tags the vendor did not sign when
//! asked to, and moving each destination tag only after everything it needs is in place.
//!
//! The data path: `upstreams` (which hosts the operator declared, with their credentials) →
//! `plan` (upstream tags, filtered, resolved next to the destination's) → `verify` (verify
//! keys) → `copy` (manifests and blobs, streamed, mounted or skipped) → `attach` (signatures,
//! attestations, referrers) → `sync` (per tag, then the tag moves). Free of wasmtime: the
//! worker and the one-shot command share it.

mod attach;
mod copy;
mod error;
mod parallel;
mod plan;
mod report;
mod sync;
mod upstreams;
mod verify;

#[cfg(test)]
mod tests;

pub use error::{MirrorError, Result};
pub use plan::{Plan, TagState, plan, plan_upstream};
pub use report::{Action, SyncReport, TagOutcome};
pub use sync::{Endpoints, Job, Options, sync};
pub use upstreams::{Upstream, Upstreams, credentials_env};
pub use verify::evidence;
