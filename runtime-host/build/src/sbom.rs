//! The SPDX 2.3 SBOM tailor attests for each platform manifest: the image, the base it
//! descends from, the base's installed OS packages (from its package database), the artifact
//! images files were taken from, and every file of the layers tailor added (one package with
//! its files analyzed), with SHA-1 and SHA-256 (SPDX 2.3 requires SHA-1 on files). Later
//! layers win: a file replaced by a later artifact or by the spec's `files` is listed once,
//! from where it finally came.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use tailor_oci::Digest;

use crate::base::FileIndex;
use crate::os::purl;

/// A regular file's digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub sha1: String,
}

impl FileSum {
    pub fn of(path: &str, data: &[u8]) -> FileSum {
        FileSum {
            path: path.to_owned(),
            size: data.len() as u64,
            sha256: hex::encode(Sha256::digest(data)),
            sha1: hex::encode(Sha1::digest(data)),
        }
    }
}

/// An image the SBOM names: a repository reference and a manifest digest.
pub struct ImageRef<'a> {
    /// `registry/repo` (or `repo`).
    pub name: &'a str,
    pub digest: &'a Digest,
}

/// What one platform of a build is made of.
pub struct Contents<'a> {
    pub image: ImageRef<'a>,
    pub platform: &'a str,
    pub base: ImageRef<'a>,
    pub base_index: &'a FileIndex,
    /// Each artifact image with the files taken from it, in layer order.
    pub artifacts: Vec<(ImageRef<'a>, &'a [FileSum])>,
    /// Files tailor wrote itself (the spec's `files`, the merged account files), written last.
    pub files: &'a [FileSum],
    /// OS packages tailor installed (the packages layer).
    pub added: &'a [crate::os::Package],
    /// RFC 3339, seconds precision (`2026-11-26T10:00:00Z`).
    pub created: &'a str,
}

/// `pkg:oci/<name>@<digest>?repository_url=<repo>&arch=…`.
fn oci_purl(r: &ImageRef, platform: &str) -> String {
    let last = r.name.rsplit('/').next().unwrap_or(r.name);
    let arch = platform.split('/').nth(1).unwrap_or("");
    format!(
        "pkg:oci/{last}@{}?repository_url={}&arch={arch}",
        r.digest.as_str().replace(':', "%3A"),
        r.name.replace(':', "%3A")
    )
}

fn container(id: &str, r: &ImageRef, platform: &str) -> Value {
    json!({
        "SPDXID": id,
        "name": r.name,
        "versionInfo": r.digest.as_str(),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": r.digest.hex()}],
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": oci_purl(r, platform),
        }],
    })
}

fn relationship(from: &str, kind: &'static str, to: &str) -> Relationship {
    Relationship { related: to.to_owned(), kind, from: from.to_owned() }
}

/// The SPDX 2.3 JSON document. Serialized, it is byte for byte what `serde_json` makes of the
/// same document as a `Value` (keys sorted: the fields are declared in that order), without
/// building a map for each of its hundreds of files and relationships.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    #[serde(rename = "creationInfo")]
    creation_info: Value,
    #[serde(rename = "dataLicense")]
    data_license: &'static str,
    #[serde(rename = "documentNamespace")]
    document_namespace: String,
    files: Vec<File<'a>>,
    name: String,
    packages: Vec<Value>,
    relationships: Vec<Relationship>,
    #[serde(rename = "spdxVersion")]
    spdx_version: &'static str,
}

/// A file of the layers tailor added (fields in sorted order, as in [`Document`]).
#[derive(Debug, Serialize)]
struct File<'a> {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    checksums: [Checksum<'a>; 2],
    #[serde(rename = "copyrightText")]
    copyright_text: &'static str,
    #[serde(rename = "fileName")]
    file_name: String,
    #[serde(rename = "licenseConcluded")]
    license_concluded: &'static str,
}

#[derive(Debug, Serialize)]
struct Checksum<'a> {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct Relationship {
    #[serde(rename = "relatedSpdxElement")]
    related: String,
    #[serde(rename = "relationshipType")]
    kind: &'static str,
    #[serde(rename = "spdxElementId")]
    from: String,
}

/// The SPDX 2.3 JSON document for `c`.
pub fn document<'a>(c: &Contents<'a>) -> Document<'a> {
    let mut packages = vec![container("SPDXRef-Image", &c.image, c.platform)];
    let mut relationships = vec![
        relationship("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"),
        relationship("SPDXRef-Image", "DESCENDANT_OF", "SPDXRef-Base"),
    ];
    packages.push(container("SPDXRef-Base", &c.base, c.platform));
    let os = c.base_index.os.as_ref();
    let installed = c.base_index.packages.iter().map(|p| (p, false)).chain(c.added.iter().map(|p| (p, true)));
    for (i, (p, added)) in installed.enumerate() {
        let id = format!("SPDXRef-Package-{i}");
        let mut v = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl(p, os),
            }],
        });
        if let Some(s) = &p.source {
            v["sourceInfo"] = json!(format!("built from the source package {s}"));
        }
        if let Some(l) = &p.license {
            v["licenseComments"] = json!(format!("the package database declares: {l}"));
        }
        if added {
            v["comment"] = json!("installed by tailor (packages layer)");
        }
        packages.push(v);
        relationships.push(relationship("SPDXRef-Image", "CONTAINS", &id));
    }
    // Final owner of each path: later artifacts, then the spec's files, replace earlier ones.
    let mut owner: BTreeMap<&str, (String, &FileSum)> = BTreeMap::new();
    for (i, (r, files)) in c.artifacts.iter().enumerate() {
        let id = format!("SPDXRef-Artifact-{i}");
        packages.push(container(&id, r, c.platform));
        for f in files.iter() {
            owner.insert(&f.path, (id.clone(), f));
        }
    }
    for f in c.files {
        owner.insert(&f.path, ("SPDXRef-Image".to_string(), f));
    }
    // The files live in the layers tailor added: one package for them, its files analyzed.
    let mut files = Vec::with_capacity(owner.len());
    if !owner.is_empty() {
        let mut sha1s: Vec<&str> = owner.values().map(|(_, f)| f.sha1.as_str()).collect();
        sha1s.sort_unstable();
        packages.push(json!({
            "SPDXID": "SPDXRef-Customization",
            "name": format!("{} (layers added by tailor)", c.image.name),
            "versionInfo": c.image.digest.as_str(),
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": true,
            "packageVerificationCode": {"packageVerificationCodeValue": hex::encode(Sha1::digest(sha1s.concat()))},
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        }));
        relationships.push(relationship("SPDXRef-Image", "CONTAINS", "SPDXRef-Customization"));
    }
    for (i, (path, (from, f))) in owner.iter().enumerate() {
        let id = format!("SPDXRef-File-{i}");
        relationships.push(relationship("SPDXRef-Customization", "CONTAINS", &id));
        if from != "SPDXRef-Image" {
            relationships.push(relationship(&id, "GENERATED_FROM", from));
        }
        files.push(File {
            spdx_id: id,
            checksums: [
                Checksum { algorithm: "SHA1", value: &f.sha1 },
                Checksum { algorithm: "SHA256", value: &f.sha256 },
            ],
            copyright_text: "NOASSERTION",
            file_name: format!("./{path}"),
            license_concluded: "NOASSERTION",
        });
    }
    Document {
        spdx_id: "SPDXRef-DOCUMENT",
        creation_info: json!({
            "created": c.created,
            "creators": [concat!("Tool: tailor-", env!("CARGO_PKG_VERSION"))],
        }),
        data_license: "CC0-1.0",
        document_namespace: format!("https://tailor.dev/spdx/{}/{}", c.image.name, c.image.digest),
        files,
        name: format!("{}@{}", c.image.name, c.image.digest),
        packages,
        relationships,
        spdx_version: "SPDX-2.3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::{OsRelease, Package, PackageKind};

    #[test]
    fn lists_base_packages_artifact_files_and_spec_files_last_writer_wins() {
        let index = FileIndex {
            os: Some(OsRelease { id: "debian".into(), version_id: "12".into(), ..OsRelease::default() }),
            packages: vec![Package {
                kind: PackageKind::Deb,
                name: "libc6".into(),
                version: "2.36-9".into(),
                arch: Some("amd64".into()),
                source: Some("glibc".into()),
                license: None,
                maintainer: None,
            }],
            ..FileIndex::default()
        };
        let (img, base, art) = (Digest::of(b"image"), Digest::of(b"base"), Digest::of(b"artifact"));
        let art_files = [FileSum::of("opt/app/bin", b"binary"), FileSum::of("etc/app.conf", b"from artifact")];
        let spec_files = [FileSum::of("etc/app.conf", b"from spec")];
        let doc = serde_json::to_value(document(&Contents {
            image: ImageRef { name: "r.example/acme/app", digest: &img },
            platform: "linux/amd64",
            base: ImageRef { name: "r.example/acme/base", digest: &base },
            base_index: &index,
            artifacts: vec![(ImageRef { name: "r.example/acme/art", digest: &art }, &art_files)],
            files: &spec_files,
            added: &[],
            created: "2026-11-26T10:00:00Z",
        }))
        .unwrap();
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(doc["creationInfo"]["created"], "2026-11-26T10:00:00Z");
        let packages = doc["packages"].as_array().unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "r.example/acme/app",
                "r.example/acme/base",
                "libc6",
                "r.example/acme/art",
                "r.example/acme/app (layers added by tailor)"
            ]
        );
        let mut sha1s = [art_files[0].sha1.clone(), spec_files[0].sha1.clone()];
        sha1s.sort();
        assert_eq!(
            packages[4]["packageVerificationCode"]["packageVerificationCodeValue"],
            hex::encode(Sha1::digest(sha1s.concat())),
            "SPDX's verification code: SHA-1 of the sorted SHA-1s"
        );
        assert_eq!(
            packages[2]["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc"
        );
        assert_eq!(
            packages[0]["externalRefs"][0]["referenceLocator"],
            format!("pkg:oci/app@sha256%3A{}?repository_url=r.example/acme/app&arch=amd64", img.hex())
        );
        let files = doc["files"].as_array().unwrap();
        assert_eq!(files.len(), 2, "etc/app.conf once: {files:?}");
        assert_eq!(files[0]["fileName"], "./etc/app.conf");
        assert_eq!(files[0]["checksums"][1]["checksumValue"], hex::encode(Sha256::digest(b"from spec")));
        assert_eq!(files[0]["checksums"][0]["algorithm"], "SHA1");
        let rels = doc["relationships"].as_array().unwrap();
        let has = |a: &str, k: &str, b: &str| {
            rels.iter().any(|r| r["spdxElementId"] == a && r["relationshipType"] == k && r["relatedSpdxElement"] == b)
        };
        assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"));
        assert!(has("SPDXRef-Image", "DESCENDANT_OF", "SPDXRef-Base"));
        assert!(has("SPDXRef-Image", "CONTAINS", "SPDXRef-Package-0"));
        assert!(has("SPDXRef-Image", "CONTAINS", "SPDXRef-Customization"));
        assert!(has("SPDXRef-Customization", "CONTAINS", "SPDXRef-File-0"));
        assert!(has("SPDXRef-File-1", "GENERATED_FROM", "SPDXRef-Artifact-0"), "opt/app/bin came from the artifact");
        assert!(!has("SPDXRef-File-0", "GENERATED_FROM", "SPDXRef-Artifact-0"), "the spec's file replaced it");
    }

    /// The statement's bytes are what the `Value` tree made of the same document gave: keys in
    /// sorted order, the same escapes (a quote, a backslash, a control character, non-ASCII).
    #[test]
    fn typed_document_serializes_to_the_bytes_of_its_value_tree() {
        let index = FileIndex {
            packages: (0..3)
                .map(|i| Package {
                    kind: PackageKind::Deb,
                    name: format!("pkg{i}"),
                    version: "1.0-\"1\"".into(),
                    arch: Some("amd64".into()),
                    source: (i == 1).then(|| "src".into()),
                    license: (i == 2).then(|| "GPL-2+ \\ é".into()),
                    maintainer: None,
                })
                .collect(),
            ..FileIndex::default()
        };
        let (img, base, a1, a2) = (Digest::of(b"i"), Digest::of(b"b"), Digest::of(b"1"), Digest::of(b"2"));
        let first = [FileSum::of("opt/a/\"quoted\"", b"x"), FileSum::of("opt/a/tab\there", b"y")];
        let second = [FileSum::of("opt/b/ünï", b"z"), FileSum::of("opt/a/tab\there", b"w")];
        let spec_files = [FileSum::of("etc/app.conf", b"c")];
        let added =
            [Package { kind: PackageKind::Deb, name: "curl".into(), version: "8".into(), ..index.packages[0].clone() }];
        let contents = Contents {
            image: ImageRef { name: "r.example:5000/acme/app", digest: &img },
            platform: "linux/arm64/v8",
            base: ImageRef { name: "r.example:5000/acme/base", digest: &base },
            base_index: &index,
            artifacts: vec![
                (ImageRef { name: "r.example:5000/acme/a1", digest: &a1 }, &first),
                (ImageRef { name: "r.example:5000/acme/a2", digest: &a2 }, &second),
            ],
            files: &spec_files,
            added: &added,
            created: "2026-12-06T01:00:00Z",
        };
        let doc = document(&contents);
        let typed = tailor_sign::intoto::statement_bytes(
            "r.example:5000/acme/app",
            img.hex(),
            "https://spdx.dev/Document",
            &doc,
        );
        let tree = tailor_sign::intoto::statement(
            "r.example:5000/acme/app",
            img.hex(),
            "https://spdx.dev/Document",
            serde_json::to_value(&doc).unwrap(),
        );
        assert_eq!(String::from_utf8(typed).unwrap(), serde_json::to_string(&tree).unwrap());
        assert_eq!(tree["predicate"]["files"].as_array().unwrap().len(), 4, "opt/a/tab\there once: {tree}");
    }
}
