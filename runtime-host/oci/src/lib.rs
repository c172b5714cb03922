//! OCI core for tailor: typed digests verified while streaming, media types, manifests,
//! and one capability-scoped [`Client`] over a Distribution registry or an OCI layout directory.

mod client;
mod digest;
mod error;
mod known;
mod layout;
pub mod media;
mod referrers;
pub mod registry;
mod scope;
mod store;
#[cfg(any(test, feature = "test-double"))]
pub mod testing;

pub use client::Client;
pub use digest::{Digest, VerifyingReader};
pub use error::{Error, Result};
pub use oci_spec;
pub use referrers::{Referrer, parse_referrers};
pub use registry::{Credentials, RegistryConfig};
pub use scope::Scope;
pub use store::{BlobSource, ManifestHead, Opener, Progress, Quiet, RawManifest};
