//! OS packages for tailor's `contents.packages` (issue 5).
//!
//! - [`deb`]: Debian version ordering (dpkg's), dependency relations, deb822 control stanzas,
//!   `Packages` indexes, `/var/lib/dpkg/status`, `Release`/`InRelease` and their OpenPGP
//!   signatures, the resolver, `.deb` archives, and the database writer.
//! - [`apk`]: Alpine version ordering (apk-tools'), dependency atoms, `APKINDEX` entries and
//!   their RSA signatures, the resolver, `.apk` archives, and the database writer.
//! - [`repos`]: the `--repositories` file and the default repositories of a release.
//! - [`fetch`]: indexes and packages over HTTP, trusted through their signatures, cached by hash.
//!
//! Every parser reports what is wrong and where (line, field, package); no input can panic.

pub mod apk;
mod archive;
pub mod deb;
mod digest;
pub mod fetch;
pub mod repos;
mod resolution;

pub use archive::{ArchiveError, ArchiveProblem, Compression, MemberReader};
pub use digest::{DigestError, Sha256Digest};
