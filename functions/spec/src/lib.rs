//! The tailor customization spec (DESIGN.md §4): the model, YAML/JSON parsing with field
//! paths on errors, and validation that collects every problem.
//!
//! No filesystem or network use: this crate also builds for `wasm32-wasip2`.

mod chart;
mod derived;
mod error;
mod extension;
mod mirror;
mod model;
mod parse;
mod paths;
mod platform;
mod reference;
mod run_as;
pub(crate) mod validate;

#[cfg(test)]
mod tests;

pub use chart::{ChartSpec, Mapping};
pub use error::{Problem, Result, SpecError};
pub use extension::ExtensionSpec;
pub use mirror::{
    DEFAULT_POLL_INTERVAL_S, MAX_POLL_INTERVAL_S, MIN_POLL_INTERVAL_S, MirrorSpec, check_p256_pem, glob_match,
    is_attachment_tag,
};
pub use model::{Accounts, ArtifactSpec, Contents, Customization, FileSpec, GroupSpec, UserSpec};
pub use paths::{is_under, normalize_check};
pub use platform::{Platform, platform_key};
pub use reference::{MAX_TAG_LEN, Reference, is_valid_repository, is_valid_tag};
pub use run_as::{MAX_ID, RunAs};
