//! Alpine (`.apk`) package metadata, as apk-tools reads it.
//!
//! - [`Version`]: `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]` with apk-tools' ordering.
//! - [`Dependency`], [`Provide`]: the atoms of `D:`/`i:` and `p:` lines.
//! - [`Checksum`]: the `C:` identity of a package (`Q1` + base64 SHA-1 of its control segment).
//! - [`Package`] ([`parse_index`]): the entries of an `APKINDEX` (also the package part of
//!   `/lib/apk/db/installed`).
//! - [`verify_signed`], [`verify_package`]: RSA signatures of indexes and packages ([`ApkKeys`]).
//! - [`resolve`]: which packages to install for a request, as `apk add` would.
//! - [`ApkArchive`]: a `.apk` read (`.PKGINFO`, scripts, the data tar).
//! - [`install_apk`]: `/lib/apk/db/installed` and `/etc/apk/world` with new packages installed.

mod archive;
mod checksum;
mod database;
mod dependency;
mod index;
mod resolve;
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod test_support;
mod verify;
mod version;

pub use archive::{APK_SCRIPTS, ApkArchive, ApkSignature, PkgInfo, PkgInfoError};
pub use checksum::{Checksum, ChecksumError};
pub use database::{ApkDatabase, ApkFile, FileKind, UnpackedApk, install_apk};
pub use dependency::{Constraint, Dependency, DependencyError, Provide, VersionOp, parse_dependencies, parse_provides};
pub use index::{IndexError, Package, ValueProblem, parse_index};
pub use resolve::{Plan, Request, ResolveError, Universe, resolve};
pub use verify::{Algorithm, ApkKeys, Verified, VerifiedPackage, VerifyError, verify_package, verify_signed};
pub use version::{Version, VersionError, compare};
