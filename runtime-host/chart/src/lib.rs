//! Helm chart customizations (DESIGN.md §10): for every version of a chart repository, the
//! image references the chart deploys — found by parsing its values, Chart.yaml annotations
//! and subcharts, recursively — are mapped to the org's images and pinned to the digests those
//! have now; values.yaml is edited as text (comments, order, quoting survive); the chart is
//! re-versioned `V+suffix`, packaged deterministically, pushed as a Helm OCI artifact, signed
//! and attested, and only then tagged.
//!
//! The data path: `archive` (read with limits, write deterministically) → `discover` (find
//! references) → `customize` (map, pin, edit; free of I/O) → `build` (versions from the
//! registry, push, sign, tag). Free of wasmtime.

pub mod archive;
pub mod build;
pub mod customize;
pub mod discover;
mod error;
pub mod reference;
pub mod yaml;

#[cfg(test)]
mod tests;

pub use build::{Options, Report, VersionReport, build};
pub use customize::{Customized, Pin, Settings, Targets, customize, references};
pub use error::{ChartError, Result};
pub use reference::Mapper;
