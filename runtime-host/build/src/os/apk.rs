//! apk's database `/lib/apk/db/installed`: one stanza per package, single-letter keys
//! (`P:` name, `V:` version, `A:` arch, `L:` license, `o:` origin, `m:` maintainer).

use super::{Package, PackageKind, stanzas};

pub fn parse_installed(text: &str) -> Vec<Package> {
    let mut out: Vec<Package> = stanzas(text)
        .iter()
        .filter_map(|s| {
            // Keys are case-sensitive single letters here (`P` name, `p` provides).
            let get = |k: &str| s.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
            let name = get("P")?.to_string();
            let version = get("V")?.to_string();
            Some(Package {
                kind: PackageKind::Apk,
                source: get("o").filter(|o| *o != name).map(str::to_string),
                name,
                version,
                arch: get("A").map(str::to_string),
                license: get("L").map(str::to_string),
                maintainer: get("m").map(str::to_string),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_with_origin_and_license() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:383152\nI:622592\nT:the musl c library\n\
L:MIT\no:musl\nm:Natanael Copa <ncopa@alpinelinux.org>\nF:lib\nR:ld-musl-x86_64.so.1\n\n\
P:libcrypto3\nV:3.3.2-r0\nA:x86_64\nL:Apache-2.0\no:openssl\np:so:libcrypto.so.3=3\n\nV:1\n";
        let p = parse_installed(db);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].source.as_deref()), ("libcrypto3", Some("openssl")));
        assert_eq!((p[1].name.as_str(), p[1].license.as_deref(), p[1].source.as_deref()), ("musl", Some("MIT"), None));
    }
}
