//! OCI 1.1 referrers: the manifests that name another one as their `subject`, as listed by a
//! registry's referrers API (an OCI image index).

use std::collections::BTreeMap;

use crate::{Digest, Error, Result};

/// One manifest that refers to another through its `subject` (an entry of the referrers index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

/// Parses a referrers response body (an OCI image index); `artifact_type` filters client-side.
/// Entries whose digest uses another algorithm than sha256 are skipped (this crate cannot
/// address them); a malformed entry is an error.
pub fn parse_referrers(body: &[u8], artifact_type: Option<&str>) -> Result<Vec<Referrer>> {
    parse_index(body, artifact_type)
        .map_err(|e| Error::InvalidManifest(format!("referrers response is not an OCI image index: {e}")))
}

/// [`parse_referrers`] with the reason as text (at most 300 characters), for callers that name
/// the repository.
pub(crate) fn parse_index(body: &[u8], artifact_type: Option<&str>) -> Result<Vec<Referrer>, String> {
    parse(body, artifact_type)
        .map_err(|e| if e.chars().count() > 300 { format!("{}…", e.chars().take(300).collect::<String>()) } else { e })
}

fn parse(body: &[u8], artifact_type: Option<&str>) -> Result<Vec<Referrer>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "mediaType")]
        media_type: String,
        digest: String,
        size: u64,
        #[serde(rename = "artifactType")]
        artifact_type: Option<String>,
        annotations: Option<BTreeMap<String, String>>,
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let Some(object) = value.as_object() else {
        return Err("the body is not a JSON object".to_string());
    };
    if let Some(media_type) = object.get("mediaType")
        && media_type.as_str() != Some(crate::media::OCI_INDEX)
    {
        return Err(format!("its mediaType is {media_type}, expected \"{}\"", crate::media::OCI_INDEX));
    }
    let Some(entries) = object.get("manifests").and_then(|m| m.as_array()) else {
        return Err("it has no `manifests` array".to_string());
    };
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let e: Entry = serde_json::from_value(entry.clone()).map_err(|e| format!("manifests[{i}]: {e}"))?;
        let digest: Digest = match e.digest.parse() {
            Ok(d) => d,
            Err(_) if foreign_digest(&e.digest) => continue,
            Err(err) => return Err(format!("manifests[{i}]: {err}")),
        };
        if artifact_type.is_some_and(|t| e.artifact_type.as_deref() != Some(t)) {
            continue;
        }
        out.push(Referrer {
            digest,
            media_type: e.media_type,
            size: e.size,
            artifact_type: e.artifact_type,
            annotations: e.annotations.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// A well-formed digest of another algorithm (`sha512:…`).
fn foreign_digest(s: &str) -> bool {
    s.split_once(':').is_some_and(|(alg, enc)| {
        alg != "sha256"
            && !alg.is_empty()
            && alg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
            && !enc.is_empty()
            && enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn index() -> String {
        let (a, b) = (Digest::of(b"sig"), Digest::of(b"sbom"));
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{a}","size":10,
                "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",
                "annotations":{{"org.opencontainers.image.created":"2025-01-01T00:00:00Z"}}}},
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{b}","size":20,
                "artifactType":"application/spdx+json"}},
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha512:{}","size":3}}
            ]}}"#,
            "ab".repeat(64)
        )
    }

    #[test]
    fn parses_and_filters_by_artifact_type() {
        let all = parse_referrers(index().as_bytes(), None).unwrap();
        assert_eq!(all.len(), 2, "the sha512 entry is skipped: {all:?}");
        assert_eq!(all[0].digest, Digest::of(b"sig"));
        assert_eq!(all[0].size, 10);
        assert_eq!(all[0].annotations["org.opencontainers.image.created"], "2025-01-01T00:00:00Z");
        assert_eq!(all[1].artifact_type.as_deref(), Some("application/spdx+json"));
        assert!(all[1].annotations.is_empty());
        let sboms = parse_referrers(index().as_bytes(), Some("application/spdx+json")).unwrap();
        assert_eq!(sboms, vec![all[1].clone()]);
        assert!(parse_referrers(index().as_bytes(), Some("application/none")).unwrap().is_empty());
    }

    #[test]
    fn tolerates_missing_optional_fields() {
        let d = Digest::of(b"x");
        let body = format!(r#"{{"manifests":[{{"mediaType":"m","digest":"{d}","size":1,"annotations":null}}]}}"#);
        let got = parse_referrers(body.as_bytes(), None).unwrap();
        assert_eq!(
            got,
            vec![Referrer {
                digest: d,
                media_type: "m".into(),
                size: 1,
                artifact_type: None,
                annotations: BTreeMap::new()
            }]
        );
        assert!(parse_referrers(body.as_bytes(), Some("m")).unwrap().is_empty());
        assert!(parse_referrers(br#"{"schemaVersion":2,"manifests":[]}"#, None).unwrap().is_empty());
    }

    #[test]
    fn rejects_what_is_not_an_index() {
        let cases: [(&[u8], &str); 7] = [
            (b"404 page not found", "not JSON"),
            (b"", "not JSON"),
            (b"[1,2]", "not a JSON object"),
            (br#"{"schemaVersion":2,"config":{},"layers":[]}"#, "no `manifests` array"),
            (
                br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}"#,
                "expected \"application/vnd.oci.image.index.v1+json\"",
            ),
            (br#"{"manifests":[{"mediaType":"m","size":1}]}"#, "manifests[0]: missing field `digest`"),
            (br#"{"manifests":[{"mediaType":"m","digest":"sha256:zz","size":1}]}"#, "manifests[0]: invalid digest"),
        ];
        for (body, want) in cases {
            let e = parse_referrers(body, None).unwrap_err().to_string();
            assert!(e.starts_with("referrers response is not an OCI image index") && e.contains(want), "{e}");
        }
    }
}
