//! The package catalog of a source image's OS variant.

use serde_json::json;
use tailor_store::{
    CatalogPackage, ImageVariant, block_on, claim_listings, record_push, record_variant, replace_packages, store_data,
};

use crate::*;

fn package(name: &str, version: &str, summary: &str) -> CatalogPackage {
    CatalogPackage { name: name.into(), version: version.into(), summary: summary.into() }
}

fn variant(platform: &str, variant: &str, arch: &str) -> ImageVariant {
    ImageVariant { platform: platform.into(), variant: variant.into(), arch: arch.into() }
}

fn list(db: &SqliteDb, query: &str, token: &str) -> HttpResponse {
    send(db, request("GET", &format!("/v1/orgs/acme/packages?{query}"), token))
}

/// acme/debian:12 is bookworm on amd64 and arm64 (the arm64 catalog not read yet).
fn catalog() -> SqliteDb {
    let db = store();
    block_on(record_variant(&db, "acme/debian", "12", &variant("linux/arm64", "debian:bookworm", "arm64"), NOW))
        .expect("the store");
    block_on(record_variant(&db, "acme/debian", "12", &variant("linux/amd64", "debian:bookworm", "amd64"), NOW))
        .expect("the store");
    let packages = [
        package("curl", "7.88.1-10+deb12u8", "command line tool for transferring data with URL syntax"),
        package("libcurl4", "7.88.1-10+deb12u8", "easy-to-use client-side URL transfer library (OpenSSL flavour)"),
        package("jq", "1.6-2.1", "lightweight and flexible command-line JSON processor"),
        package("wget", "1.21.3-1+b2", "retrieves files from the web"),
    ];
    block_on(replace_packages(&db, "debian:bookworm", "amd64", "sha256:abc", &packages, NOW, 0)).expect("the store");
    db
}

#[test]
fn lists_and_searches_the_packages_of_the_source_variant() {
    let db = catalog();
    let found = list(&db, "source=acme/debian:12&q=curl", MEMBER);
    assert_eq!(found.status, 200, "{}", String::from_utf8_lossy(&found.body));
    assert_eq!(
        body(&found),
        json!({
            "source": "acme/debian:12",
            "platform": "linux/amd64",
            "variant": "debian:bookworm",
            "arch": "amd64",
            "index": {"digest": "sha256:abc", "packages": 4, "updated_at": NOW_TEXT},
            "query": "curl",
            "total": 2,
            "packages": [
                {"name": "curl", "version": "7.88.1-10+deb12u8", "summary": "command line tool for transferring data with URL syntax"},
                {"name": "libcurl4", "version": "7.88.1-10+deb12u8", "summary": "easy-to-use client-side URL transfer library (OpenSSL flavour)"},
            ],
        })
    );
    let all = body(&list(&db, "source=acme%2Fdebian%3A12&limit=2&offset=1", OWNER));
    assert_eq!((all["total"].as_i64(), all["packages"].as_array().map(Vec::len)), (Some(4), Some(2)));
    assert_eq!(all["packages"][0]["name"], "jq", "by name, one page: {all}");
    let json_tools = body(&list(&db, "source=acme/debian:12&q=JSON", MEMBER));
    assert_eq!(json_tools["packages"][0]["name"], "jq", "summaries are searched, any case");
}

#[test]
fn unknown_images_catalogs_and_bad_parameters_are_clear() {
    let db = catalog();
    let arm = list(&db, "source=acme/debian:12&platform=linux/arm64", MEMBER);
    assert_eq!(error(&arm), (404, "not_indexed".into()));
    assert!(
        body(&arm)["error"]["message"].as_str().unwrap().contains("debian:bookworm (arm64) is being read by a worker")
    );
    assert_eq!(arm.header("retry-after"), Some("2"));
    let unknown = list(&db, "source=acme/debian:13", MEMBER);
    assert_eq!(error(&unknown), (404, "not_found".into()));
    assert!(body(&unknown)["error"]["message"].as_str().unwrap().contains("no tag `13` of repository `acme/debian`"));
    // Pushed, never built from: asking has a worker read its OS (not indexed until then) …
    block_on(record_push(&db, "acme/files", "1", Some("sha256:f1"), NOW)).expect("the store");
    let reading = list(&db, "source=acme/files:1", MEMBER);
    assert_eq!(error(&reading), (404, "not_indexed".into()));
    assert_eq!(reading.header("retry-after"), Some("1"));
    let claimed = block_on(claim_listings(&db, NOW, 60_000, 10)).expect("the store");
    let os = claimed.iter().find(|l| l.kind == "os").expect("the OS was asked for");
    assert_eq!((os.repository.as_str(), os.tag.as_str()), ("acme/files", "1"));
    assert_eq!(error(&list(&db, "source=acme/files:1", MEMBER)), (404, "not_indexed".into()), "being read");
    // … which found no package database: said so.
    block_on(store_data(&db, os, "sha256:f1", &json!({"variants": {}}), NOW)).expect("the store");
    let none = list(&db, "source=acme/files:1", MEMBER);
    assert_eq!(error(&none), (404, "no_package_database".into()));
    assert_eq!(fields(&none), vec!["source".to_string()]);
    let riscv = list(&db, "source=acme/debian:12&platform=linux/riscv64", MEMBER);
    assert_eq!(error(&riscv), (400, "bad_parameter".into()));
    assert!(body(&riscv)["error"]["message"].as_str().unwrap().contains("known: linux/amd64, linux/arm64"));
    for (query, field) in [
        ("q=curl", "source"),
        ("source=", "source"),
        ("source=acme/debian", "source"),
        ("source=acme/debian@sha256:0123", "source"),
        ("source=Acme/De bian:12", "source"),
        ("source=acme/debian:12&limit=0", "limit"),
        ("source=acme/debian:12&offset=-1", "offset"),
        ("source=acme/debian:12&offset=x", "offset"),
    ] {
        let r = list(&db, query, MEMBER);
        assert_eq!((error(&r), fields(&r)), ((400, "bad_parameter".into()), vec![field.to_string()]), "{query}");
    }
    let foreign = list(&db, "source=globex/debian:12", MEMBER);
    assert_eq!(error(&foreign), (404, "not_found".into()));
    let other_org = send(&db, request("GET", "/v1/orgs/acme/packages?source=acme/debian:12", OTHER));
    assert_eq!(error(&other_org), (404, "not_found".into()));
    let anonymous = send(&db, HttpRequest::new("GET", "/v1/orgs/acme/packages?source=acme/debian:12"));
    assert_eq!(anonymous.status, 401);
}
