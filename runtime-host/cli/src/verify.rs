//! `tailor verify REF --key PUB`: every signature tailor promises on an image — the index and
//! each platform manifest — verified with the public key; non-zero exit naming the problem.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tailor_oci::Scope;
use tailor_sign::intoto::{SLSA_PROVENANCE_V1, SPDX_PREDICATE};
use tailor_sign::{PublicKey, verify_attestations, verify_image};
use tailor_spec::Reference;

use crate::Output;
use crate::store::StoreArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AttestationType {
    /// SLSA provenance v1.
    Slsaprovenance1,
    /// SPDX 2.3 SBOM.
    Spdx,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The image: `repo:tag` or `repo@sha256:…` (registry host optional).
    pub reference: String,
    /// The public key (SPKI PEM, `tailor.pub`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Also verify the attestation of this type.
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<AttestationType>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let key = PublicKey::from_file(&args.key).context("--key")?;
    let reference = Reference::parse(&args.reference).map_err(|e| anyhow::anyhow!("{}: {e}", args.reference))?;
    let repo = reference.repository.clone();
    let (client, _) =
        args.store.client(reference.registry.as_deref(), Scope::new([repo.clone()], Vec::<String>::new()))?;
    let written = reference.digest.clone().or_else(|| reference.tag.clone()).unwrap_or_else(|| "latest".into());
    let raw = client.get_manifest(&repo, &written).with_context(|| args.reference.clone())?;
    // An artifact that is not an image (a Helm chart): its one manifest is what is signed.
    let config_type = serde_json::from_slice::<serde_json::Value>(&raw.bytes)
        .ok()
        .and_then(|m| m["config"]["mediaType"].as_str().map(str::to_owned));
    let artifact =
        config_type.is_some_and(|t| t != tailor_oci::media::OCI_CONFIG && t != tailor_oci::media::DOCKER_CONFIG);
    let (digest, mut targets, platforms) = if artifact {
        (raw.digest.clone(), vec![("artifact".to_string(), raw.digest.clone())], Vec::new())
    } else {
        let image =
            tailor_build::resolve::resolve(&client, "reference", &reference).map_err(|e| anyhow::anyhow!("{e}"))?;
        let platforms: Vec<(String, tailor_oci::Digest)> = image.platforms.clone().into_iter().collect();
        (image.digest.clone(), vec![("index".to_string(), image.digest.clone())], platforms)
    };
    targets.extend(platforms.iter().filter(|(_, d)| *d != digest).map(|(p, d)| (p.clone(), d.clone())));
    let mut checked = Vec::new();
    for (what, digest) in &targets {
        let payload =
            verify_image(&client, &repo, digest, &key).with_context(|| format!("{} ({what})", args.reference))?;
        checked.push(serde_json::json!({"what": what, "digest": digest, "docker_reference": payload.docker_reference}));
    }
    // Provenance and SBOM are attested on each platform manifest.
    let mut attested = Vec::new();
    if let Some(kind) = args.kind {
        let predicate_type = match kind {
            AttestationType::Slsaprovenance1 => SLSA_PROVENANCE_V1,
            AttestationType::Spdx => SPDX_PREDICATE,
        };
        for (what, digest) in targets.iter().filter(|(w, d)| w != "index" || platforms.iter().any(|(_, p)| p == d)) {
            let statements = verify_attestations(&client, &repo, digest, predicate_type, &key)
                .with_context(|| format!("{} ({what})", args.reference))?;
            for s in statements {
                let p = &s["predicate"];
                attested.push(match kind {
                    AttestationType::Slsaprovenance1 => serde_json::json!({
                        "platform": what,
                        "digest": digest,
                        "predicateType": predicate_type,
                        "invocationId": p["runDetails"]["metadata"]["invocationId"],
                        "resolvedDependencies": p["buildDefinition"]["resolvedDependencies"],
                    }),
                    AttestationType::Spdx => serde_json::json!({
                        "platform": what,
                        "digest": digest,
                        "predicateType": predicate_type,
                        "sbom": p,
                    }),
                });
            }
        }
    }
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::json!({
                "reference": args.reference,
                "digest": digest,
                "key": key.fingerprint(),
                "verified": checked,
                "attestations": attested,
            })
        ),
        Output::Text => {
            println!("verified {} ({}) with key {}:", args.reference, digest, key.fingerprint());
            for (what, digest) in &targets {
                println!("  {what}: {digest} signed");
            }
            for a in attested.iter().filter(|a| a["sbom"].is_object()) {
                print_sbom(a["platform"].as_str().unwrap_or(""), &a["sbom"]);
            }
            for a in attested.iter().filter(|a| a["resolvedDependencies"].is_array()) {
                println!("  {} provenance ({}), built from:", a["platform"].as_str().unwrap_or(""), a["invocationId"]);
                for d in a["resolvedDependencies"].as_array().into_iter().flatten() {
                    println!(
                        "    {} sha256:{}",
                        d["uri"].as_str().unwrap_or(""),
                        d["digest"]["sha256"].as_str().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

/// A few lines about an SPDX document: its size and the images it names.
fn print_sbom(platform: &str, doc: &serde_json::Value) {
    let packages = doc["packages"].as_array().map(Vec::as_slice).unwrap_or_default();
    let containers: Vec<&serde_json::Value> =
        packages.iter().filter(|p| p["primaryPackagePurpose"] == "CONTAINER").collect();
    let os_packages =
        packages.iter().filter(|p| p["SPDXID"].as_str().is_some_and(|i| i.starts_with("SPDXRef-Package-")));
    println!(
        "  {platform} SBOM ({}): {} OS package(s), {} file(s) added",
        doc["spdxVersion"].as_str().unwrap_or("?"),
        os_packages.count(),
        doc["files"].as_array().map_or(0, Vec::len)
    );
    for c in containers {
        println!("    {} {}", c["name"].as_str().unwrap_or(""), c["versionInfo"].as_str().unwrap_or(""));
    }
}
