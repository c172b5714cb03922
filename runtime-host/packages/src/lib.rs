//! OS package metadata for tailor's `contents.packages` (issue 5): pure parsing and comparison,
//! no I/O and no network.
//!
//! - [`deb`]: Debian version ordering (dpkg's), dependency relations, deb822 control stanzas,
//!   `Packages` indexes, `/var/lib/dpkg/status`, `Release` files and the OpenPGP cleartext
//!   framing of `InRelease`.
//! - [`apk`]: Alpine version ordering (apk-tools'), dependency atoms and `APKINDEX` entries
//!   (which also reads the package part of `/lib/apk/db/installed`).
//!
//! Every parser reports what is wrong and where (line, field, package); no input can panic.

pub mod apk;
pub mod deb;
mod digest;

pub use digest::{DigestError, Sha256Digest};
