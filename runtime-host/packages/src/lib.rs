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

/// `FromStr` (by `Self::parse`), `Serialize` (the `Display` text) and `Deserialize` (parsed,
/// its error kept) for a value written as text: versions, checksums, digests.
macro_rules! text_form {
    ($t:ty, $err:ty) => {
        impl std::str::FromStr for $t {
            type Err = $err;
            fn from_str(text: &str) -> Result<Self, $err> {
                Self::parse(text)
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// `PartialOrd`, `PartialEq` and `Eq` from the type's `Ord` (versions equal when they compare
/// equal, whatever their text: `1.0` and `1.00`).
macro_rules! eq_by_ord {
    ($t:ty) => {
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }

        impl Eq for $t {}
    };
}

pub mod apk;
mod archive;
pub mod deb;
mod digest;
pub mod fetch;
pub mod repos;
mod resolution;

pub use archive::{ArchiveError, ArchiveProblem, Compression, MemberReader};
pub use digest::{DigestError, Sha256Digest};
