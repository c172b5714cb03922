//! Debian (`.deb`) package metadata, as dpkg and apt read it.
//!
//! - [`Version`]: `[epoch:]upstream[-revision]` with dpkg's ordering.
//! - [`Relation`], [`Dependency`]: `Depends`/`Pre-Depends`/`Provides`/`Conflicts`/`Breaks` fields.
//! - [`Stanzas`]: deb822 control paragraphs, the syntax of every file below.
//! - [`Package`] ([`parse_packages`]): the entries of a `Packages` index.
//! - [`InstalledPackage`] ([`parse_status`]): the entries of `/var/lib/dpkg/status`.
//! - [`Release`]: a `Release` file, or the body of an `InRelease` file, whose OpenPGP cleartext
//!   framing [`ClearSigned`] takes apart; [`verify_inrelease`] checks its signature against a
//!   [`Keyring`].
//! - [`resolve`]: which packages to install for a request, as apt would choose them.
//! - [`DebArchive`]: a `.deb` read (control files, maintainer scripts, the data tar).
//! - [`install`]: dpkg's database (status and `info/`) with new packages installed.

mod archive;
mod clearsign;
mod control;
mod database;
mod fields;
mod index;
mod lazy;
mod relation;
mod release;
mod resolve;
mod status;
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod test_support;
mod verify;
mod version;

pub use archive::{DebArchive, DebControl, MaintainerScript};
pub use clearsign::{ClearSigned, ClearSignedError};
pub(crate) use control::excerpt;
pub use control::{ControlError, Field, Stanza, Stanzas, parse_stanzas};
pub use database::{Database, DatabaseError, Unpacked, install};
pub use fields::{FieldProblem, MultiArch, PackageError};
pub use index::{Package, parse_packages, parse_packages_parallel};
pub use relation::{
    ArchQualifier, Dependency, Op, Relation, RelationError, Restriction, VersionConstraint, parse_dependencies,
    parse_provides, parse_relations,
};
pub use release::{Release, ReleaseError, ReleaseFile};
pub use resolve::{Plan, Request, ResolveError, Universe, resolve};
pub use status::{Flag, InstalledPackage, State, Status, Want, parse_status};
pub use verify::{
    Keyring, Verified, VerifyError, verify_detached, verify_detached_at, verify_inrelease, verify_inrelease_at,
    verify_release,
};
pub use version::{Version, VersionError};
