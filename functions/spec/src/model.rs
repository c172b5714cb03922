//! The customization spec as data (see DESIGN.md §4). Field names are the
//! snake_case names users write in YAML and send as JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, de};

/// A customization of one hardened source image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customization {
    /// Name of the customization (`[A-Za-z0-9][A-Za-z0-9._-]*`, at most 63 characters).
    pub name: String,
    /// Source image with a tag, e.g. `acme/dhi-python:3.13`; registry host optional.
    pub source: String,
    /// Repository (no tag/digest) for the result; defaults to the source repository.
    #[serde(default)]
    pub destination: Option<String>,
    /// Appended to the source tag: `<source tag>_<tag_suffix>`.
    pub tag_suffix: String,
    /// Platforms to build, `os/arch[/variant]`.
    pub platforms: Vec<String>,
    /// Packages and artifacts to add.
    #[serde(default)]
    pub contents: Contents,
    /// Files to write into the image.
    #[serde(default)]
    pub files: Vec<FileSpec>,
    /// Groups and users to add, and the user to run as.
    #[serde(default)]
    pub accounts: Accounts,
    /// Environment variables to set.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Image config labels to set.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Manifest annotations to set.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Arguments appended to the base ENTRYPOINT.
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// Arguments appended to the base CMD.
    #[serde(default)]
    pub cmd: Vec<String>,
}

/// OS packages and artifacts to add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contents {
    /// `name` or `name=version`, from the base's package manager (apk or deb).
    #[serde(default)]
    pub packages: Vec<String>,
    /// Artifact images whose selected paths are copied in, in order.
    #[serde(default)]
    pub artifacts: Vec<ArtifactSpec>,
}

/// An artifact image and the paths taken from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactSpec {
    /// Image reference with a tag or digest, in the source's registry and namespace.
    pub reference: String,
    /// Absolute paths to copy; nothing is included by default.
    #[serde(default)]
    pub includes: Vec<String>,
    /// Absolute paths to leave out; each lies under an include.
    #[serde(default)]
    pub excludes: Vec<String>,
}

/// A file written into the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Absolute, normalized path.
    pub path: String,
    /// File content (UTF-8 text).
    pub content: String,
    /// Owner user id.
    #[serde(default)]
    pub uid: u64,
    /// Owner group id.
    #[serde(default)]
    pub gid: u64,
    /// Octal permission string, e.g. `"0644"`, `"0755"`, `"4755"`.
    #[serde(default = "default_mode", deserialize_with = "mode_string")]
    pub mode: String,
}

/// Groups and users to add, and the user the image runs as.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    /// Groups to add.
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// Users to add.
    #[serde(default)]
    pub users: Vec<UserSpec>,
    /// A user name (of the base or added) or `uid[:gid]`.
    #[serde(default)]
    pub run_as: Option<String>,
}

/// A group to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u64,
    /// Member user names.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A user to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// User name.
    pub name: String,
    /// User id.
    pub uid: u64,
    /// Primary group id.
    pub gid: u64,
    /// Home directory (absolute path).
    #[serde(default)]
    pub home: Option<String>,
    /// Login shell (absolute path).
    #[serde(default)]
    pub shell: Option<String>,
    /// GECOS (comment) field.
    #[serde(default)]
    pub gecos: Option<String>,
}

fn default_mode() -> String {
    "0644".to_owned()
}

/// Accepts only a string for `mode`, with an error that tells YAML users to quote it
/// (an unquoted `0755` is the decimal integer 755 in YAML 1.2).
fn mode_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct ModeVisitor;
    impl de::Visitor<'_> for ModeVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an octal mode as a quoted string, e.g. \"0755\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
    }
    deserializer.deserialize_str(ModeVisitor)
}
