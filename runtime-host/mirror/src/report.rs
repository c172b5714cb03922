//! What a sync did, per tag and in bytes (the sync record's outputs, the one-shot command's JSON).

use serde::Serialize;
use tailor_oci::Digest;

/// What happened to one upstream tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Copied with everything attached; the destination tag moved to it.
    Copied,
    /// The destination tag was at this digest already (attachments brought up to date).
    Unchanged,
    /// Not copied: `verify_keys` found no valid signature. The destination tag stayed.
    Refused,
    /// Not copied: something went wrong (the reason says what). The destination tag stayed.
    Failed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Copied => "copied",
            Action::Unchanged => "unchanged",
            Action::Refused => "refused",
            Action::Failed => "failed",
        }
    }
}

/// One tag's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TagOutcome {
    pub tag: String,
    /// The upstream digest (when it could be resolved).
    pub digest: Option<Digest>,
    /// Where the destination tag pointed before (None: it did not exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Digest>,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Signature, attestation and referrer tags or digests copied for this tag.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// The platforms of an index (`os/arch[/variant]`), for the catalog.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// What a refusal was based on: the digest of the upstream signature tag, or `none`.
    #[serde(skip)]
    pub evidence: Option<String>,
    /// A failure that may go away on another attempt (network, 5xx).
    #[serde(skip)]
    pub transient: bool,
}

impl TagOutcome {
    pub(crate) fn new(tag: &str, digest: Option<Digest>, previous: Option<Digest>, action: Action) -> TagOutcome {
        TagOutcome {
            tag: tag.to_owned(),
            digest,
            previous,
            action,
            reason: None,
            attachments: Vec::new(),
            platforms: Vec::new(),
            evidence: None,
            transient: false,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// `HOST/REPOSITORY` upstream and the destination repository.
    pub source: String,
    pub destination: String,
    pub tags: Vec<TagOutcome>,
    /// Blob bytes sent to the destination (streamed from the upstream).
    pub bytes_copied: u64,
    /// Blob bytes the destination had already.
    pub bytes_existing: u64,
    /// Blob bytes made available by a cross-repository mount (same registry).
    pub bytes_mounted: u64,
    pub blobs_copied: u64,
    pub manifests_copied: u64,
    pub duration_ms: u64,
}

impl SyncReport {
    pub fn count(&self, action: Action) -> usize {
        self.tags.iter().filter(|t| t.action == action).count()
    }

    /// `succeeded` (every tag copied or unchanged), `failed` (every tag failed), else `partial`.
    pub fn status(&self) -> &'static str {
        let bad = self.count(Action::Refused) + self.count(Action::Failed);
        if bad == 0 {
            "succeeded"
        } else if self.count(Action::Failed) == self.tags.len() {
            "failed"
        } else {
            "partial"
        }
    }

    /// One line: what the sync did.
    pub fn summary(&self) -> String {
        format!(
            "{} tag(s): {} copied, {} unchanged, {} refused, {} failed; {} blob(s) copied ({} bytes), {} bytes already there, {} bytes mounted; {} ms",
            self.tags.len(),
            self.count(Action::Copied),
            self.count(Action::Unchanged),
            self.count(Action::Refused),
            self.count(Action::Failed),
            self.blobs_copied,
            self.bytes_copied,
            self.bytes_existing,
            self.bytes_mounted,
            self.duration_ms
        )
    }
}
