//! Mirrors (DESIGN.md §9): an upstream repository, on a registry the operator declared, copied
//! into the org's namespace and kept in sync. The model, parsing with field paths, validation
//! that collects every problem, and the tag globs.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Problem, Result, shown};
use crate::reference::{MAX_TAG_LEN, Reference};

/// Polling interval when none is given.
pub const DEFAULT_POLL_INTERVAL_S: u64 = 300;
/// The shortest polling interval (0 = never poll) and the longest.
pub const MIN_POLL_INTERVAL_S: u64 = 30;
pub const MAX_POLL_INTERVAL_S: u64 = 7 * 24 * 3600;
/// At most this many tag globs and verification keys.
pub const MAX_TAG_GLOBS: usize = 100;
pub const MAX_VERIFY_KEYS: usize = 16;

fn default_poll_interval() -> u64 {
    DEFAULT_POLL_INTERVAL_S
}

/// A mirror as submitted (`POST /v1/orgs/{org}/mirrors`) and, with `destination` filled in by
/// [`MirrorSpec::normalized`], as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorSpec {
    /// `HOST/REPOSITORY` on a declared upstream, no tag: `dhi.io/python`.
    pub source: String,
    /// `ORG/NAME` in the org's registry; default `ORG/dhi-<last segment of source>`.
    #[serde(default)]
    pub destination: Option<String>,
    /// Globs over tags (`*`, `?`); empty: every tag.
    #[serde(default)]
    pub tags: Vec<String>,
    /// PEM public keys (ECDSA P-256): a tag is copied only when its digest carries a cosign
    /// signature that one of them verifies.
    #[serde(default)]
    pub verify_keys: Vec<String>,
    /// Seconds between polls of the upstream; 0 = never (notifications and "sync now" only).
    #[serde(default = "default_poll_interval")]
    pub poll_interval_s: u64,
}

impl MirrorSpec {
    /// Parses JSON without validating; syntax, type and unknown-field errors name the field.
    pub fn from_json(text: &str) -> Result<MirrorSpec> {
        crate::parse::json(text)
    }

    /// Parses YAML without validating; errors as for [`MirrorSpec::from_json`].
    pub fn from_yaml(text: &str) -> Result<MirrorSpec> {
        crate::parse::yaml(text)
    }

    /// The parsed source, when it is a valid reference.
    pub fn source_ref(&self) -> Option<Reference> {
        Reference::parse(&self.source).ok()
    }

    /// The destination repository: as given, else `ORG/dhi-<last segment of the source>`.
    pub fn destination_for(&self, org: &str) -> String {
        if let Some(d) = &self.destination {
            return d.clone();
        }
        let last = self
            .source_ref()
            .map(|r| r.repository.rsplit('/').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        format!("{org}/dhi-{last}")
    }

    /// The spec as stored: the destination filled in.
    pub fn normalized(&self, org: &str) -> MirrorSpec {
        MirrorSpec { destination: Some(self.destination_for(org)), ..self.clone() }
    }

    /// Whether the mirror copies `tag`: it matches a glob (any tag without globs) and is not a
    /// signature, attestation or referrers tag (those are copied with the tags they belong to).
    pub fn copies_tag(&self, tag: &str) -> bool {
        !is_attachment_tag(tag) && (self.tags.is_empty() || self.tags.iter().any(|g| glob_match(g, tag)))
    }

    /// Every problem, with its field: the source must be on one of `upstream_hosts` (declared
    /// by the operator), the destination in `org`'s namespace.
    pub fn validate(&self, org: &str, upstream_hosts: &[String]) -> std::result::Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, text: String| problems.push(Problem::new(field, text));
        match Reference::parse(&self.source) {
            Err(e) => problem("source", e),
            Ok(r) => {
                if r.tag.is_some() || r.digest.is_some() {
                    problem(
                        "source",
                        format!(
                            "{}: a mirror copies a repository; drop the tag or digest and choose tags with `tags`",
                            shown(&self.source)
                        ),
                    );
                }
                match &r.registry {
                    None => problem(
                        "source",
                        format!(
                            "{} names no registry host: write HOST/REPOSITORY on a declared upstream ({})",
                            shown(&self.source),
                            declared(upstream_hosts)
                        ),
                    ),
                    Some(host) if !upstream_hosts.iter().any(|h| h == host) => problem(
                        "source",
                        format!(
                            "registry host {} is not a declared upstream ({})",
                            shown(host),
                            declared(upstream_hosts)
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        let destination = self.destination_for(org);
        match Reference::parse(&destination) {
            Err(e) => problem("destination", e),
            Ok(r) => {
                if r.registry.is_some() {
                    problem(
                        "destination",
                        format!("{}: the destination is in the org's own registry; drop the host", shown(&destination)),
                    );
                } else if r.tag.is_some() || r.digest.is_some() {
                    problem(
                        "destination",
                        format!("{}: give a repository, without tag or digest", shown(&destination)),
                    );
                } else if r.namespace() != org || r.repository == org {
                    problem(
                        "destination",
                        format!(
                            "{} is not in org `{org}`'s namespace: use a repository under `{org}/`",
                            shown(&destination)
                        ),
                    );
                }
            }
        }
        if self.tags.len() > MAX_TAG_GLOBS {
            problem("tags", format!("{} globs; at most {MAX_TAG_GLOBS} are allowed", self.tags.len()));
        }
        for (i, glob) in self.tags.iter().enumerate() {
            if let Err(e) = check_glob(glob) {
                problem(&format!("tags[{i}]"), e);
            } else if let Some(first) = self.tags[..i].iter().position(|g| g == glob) {
                problem(&format!("tags[{i}]"), format!("{} is also tags[{first}]", shown(glob)));
            }
        }
        if self.verify_keys.len() > MAX_VERIFY_KEYS {
            problem("verify_keys", format!("{} keys; at most {MAX_VERIFY_KEYS} are allowed", self.verify_keys.len()));
        }
        for (i, key) in self.verify_keys.iter().enumerate() {
            if let Err(e) = check_p256_pem(key) {
                problem(&format!("verify_keys[{i}]"), e);
            } else if let Some(first) = self.verify_keys[..i].iter().position(|k| k.trim() == key.trim()) {
                problem(&format!("verify_keys[{i}]"), format!("the same key as verify_keys[{first}]"));
            }
        }
        let p = self.poll_interval_s;
        if p != 0 && !(MIN_POLL_INTERVAL_S..=MAX_POLL_INTERVAL_S).contains(&p) {
            problem(
                "poll_interval_s",
                format!(
                    "{p} is out of range: use 0 (never poll) or {MIN_POLL_INTERVAL_S} to {MAX_POLL_INTERVAL_S} seconds"
                ),
            );
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

fn declared(hosts: &[String]) -> String {
    if hosts.is_empty() {
        "none is declared: the operator declares upstreams with `tailor up --upstream HOST=URL`".to_owned()
    } else {
        format!("declared: {}", hosts.join(", "))
    }
}

/// `sha256-<64 hex>` (the OCI referrers tag schema) and cosign's `sha256-<64 hex>.sig`, `.att`,
/// `.sbom` (any suffix): tags that belong to another tag's digest.
pub fn is_attachment_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else { return false };
    let (hex, suffix) = rest.split_at(rest.len().min(64));
    hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (suffix.is_empty() || suffix.starts_with('.'))
}

/// A glob over tags: tag characters, `*` (any run) and `?` (one character).
fn check_glob(glob: &str) -> std::result::Result<(), String> {
    if glob.is_empty() {
        return Err("empty: give a tag or a glob such as `3.13*`".to_owned());
    }
    if glob.len() > MAX_TAG_LEN {
        return Err(format!("{} characters; at most {MAX_TAG_LEN} are allowed", glob.len()));
    }
    if let Some(bad) = glob.chars().find(|c| !(c.is_ascii_alphanumeric() || "._-*?".contains(*c))) {
        return Err(format!(
            "{} has {}: use tag characters (letters, digits, `_`, `.`, `-`) and the wildcards `*` and `?`",
            shown(glob),
            shown(&bad.to_string())
        ));
    }
    Ok(())
}

/// Whether `text` matches `glob` (`*` any run of characters, `?` one), in linear-ish time.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let (g, t): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ti));
                gi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                gi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    gi = sg + 1;
                    ti = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// The DER prefix of an uncompressed ECDSA P-256 SubjectPublicKeyInfo (ecPublicKey, prime256v1).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// The ecPublicKey OID, to tell an EC key on another curve from something else.
const EC_PUBLIC_KEY_OID: [u8; 9] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// Whether `pem` is an ECDSA P-256 public key in SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the
/// form `cosign generate-key-pair` writes. The worker checks the point itself.
pub fn check_p256_pem(pem: &str) -> std::result::Result<(), String> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")
        .and_then(|rest| rest.strip_suffix("-----END PUBLIC KEY-----"))
        .ok_or_else(|| {
            "expected a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----), e.g. cosign.pub"
                .to_owned()
        })?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("the PEM body is not base64 ({e})"))?;
    if der.len() == 91 && der.starts_with(&P256_SPKI_PREFIX) && der[26] == 0x04 {
        return Ok(());
    }
    if der.windows(EC_PUBLIC_KEY_OID.len()).any(|w| w == EC_PUBLIC_KEY_OID) {
        return Err("an EC key on another curve (or compressed): only ECDSA P-256 keys are supported yet".to_owned());
    }
    Err("not an ECDSA P-256 public key: only P-256 keys (cosign's default) are supported yet".to_owned())
}
