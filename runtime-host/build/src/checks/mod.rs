//! Checkpoints of a build where an org's policy extensions run (DESIGN.md §11): before
//! anything is built (`check-customization`, per platform) and after a platform's layers and
//! config exist, before anything is published (`check-image`). The engine knows nothing of
//! WebAssembly: it calls a [`Checks`] (the worker's, made by `tailor-extension`) and stops
//! when it says so; [`ImageView`] is what an extension may read of the image at hand.

pub mod output;
pub mod view;

use serde::{Deserialize, Serialize};

/// Where in the build a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checkpoint {
    /// Before anything is built.
    CheckCustomization,
    /// After the platform's image exists, before anything is published.
    CheckImage,
}

impl Checkpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Checkpoint::CheckCustomization => "check-customization",
            Checkpoint::CheckImage => "check-image",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Deny,
    Warn,
}

/// What an extension found, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub checkpoint: Checkpoint,
    /// `linux/amd64`; empty for a chart customization.
    pub platform: String,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One extension over one build (every checkpoint and platform): what the build record,
/// the log and the provenance say of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRun {
    pub name: String,
    /// The repository the component is in (`acme/policies`).
    pub repository: String,
    /// The component's digest (`sha256:…`).
    pub digest: String,
    /// `enforce` or `warn`.
    pub mode: String,
    /// `pass`, `warn` (findings that do not stop the build), `deny` (stopped it) or `error`
    /// (it failed: the build failed closed in enforce mode).
    pub verdict: String,
    pub findings: Vec<Finding>,
    /// Fuel consumed over every call.
    pub fuel: u64,
    /// Why it failed: `timeout`, `out_of_fuel`, `memory_limit`, `trap`, `invalid_output`,
    /// `invalid` (it could not be loaded) — then `: ` and the detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The build's checks. `check` may be called from one thread at a time per build.
pub trait Checks: Send + Sync {
    /// Runs every extension at `checkpoint` for `platform` (the image: `view`).
    fn check(&self, checkpoint: Checkpoint, platform: &str, view: &dyn ImageView);
    /// Every extension's run so far, in registration order.
    fn runs(&self) -> Vec<ExtensionRun>;
    /// Why the build must stop, when it must: a `deny` of an extension in `enforce` mode, or an
    /// enforcing extension that failed (fail closed).
    fn blocked(&self) -> Option<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Directory,
    Symlink,
    Hardlink,
    Other,
}

/// A path of the merged filesystem (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub path: String,
    pub kind: FileKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub link_target: Option<String>,
}

/// Most paths one `files` call returns.
pub const MAX_FILES_PER_CALL: u32 = 1000;
/// Most bytes one `read` call returns.
pub const MAX_READ: u32 = 1 << 20;

/// A read-only view of the image a check is about.
pub trait ImageView: Send + Sync {
    /// The OCI image config JSON (`{}` before the image exists).
    fn config_json(&self) -> String;
    /// Installed OS packages, (name, version): the base's and the added ones.
    fn packages(&self) -> Vec<(String, String)>;
    /// Paths under `prefix`, in order, after `after`, at most `limit` (≤ [`MAX_FILES_PER_CALL`]).
    fn files(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<FileInfo>, String>;
    /// Up to `length` (≤ [`MAX_READ`]) bytes of a regular file from `offset`.
    fn read(&self, path: &str, offset: u64, length: u32) -> Result<Vec<u8>, String>;
}

/// The view before anything is built: no image yet.
pub struct NoImage;

impl ImageView for NoImage {
    fn config_json(&self) -> String {
        "{}".into()
    }
    fn packages(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn files(&self, _: &str, _: Option<&str>, _: u32) -> Result<Vec<FileInfo>, String> {
        Ok(Vec::new())
    }
    fn read(&self, path: &str, _: u64, _: u32) -> Result<Vec<u8>, String> {
        Err(format!("{path}: there is no image yet (check-customization runs before anything is built)"))
    }
}

/// `runs` as the build log's lines: each extension's verdict, then its findings.
pub fn log_lines(runs: &[ExtensionRun]) -> Vec<String> {
    let mut lines = Vec::new();
    for r in runs {
        let short = r.digest.get(..19).unwrap_or(&r.digest);
        lines.push(format!(
            "extension {} ({short}, {}): {}{}",
            r.name,
            r.mode,
            r.verdict,
            r.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default()
        ));
        for f in &r.findings {
            let sev = match f.severity {
                Severity::Deny => "deny",
                Severity::Warn => "warn",
            };
            let at = f.path.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
            let platform = if f.platform.is_empty() { String::new() } else { format!(" {}", f.platform) };
            lines.push(format!("  {sev} [{}{platform}] {}: {}{at}", f.checkpoint.as_str(), f.rule, f.message));
        }
    }
    lines
}
