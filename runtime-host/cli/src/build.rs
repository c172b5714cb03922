//! `tailor build -f FILE`.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use tailor_build::cache::Cache;
use tailor_build::tarfs::Limits;
use tailor_build::{BuildError, Options};
use tailor_oci::Scope;
use tailor_spec::{Customization, Problem, SpecError};

use crate::Output;
use crate::store::{StoreArgs, default_cache_dir, log, progress};

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The customization file (YAML, or JSON when it ends in .json).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Cache directory for layers and indexes [default: $XDG_CACHE_HOME/tailor or ~/.cache/tailor].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Do not read or write the cache.
    #[arg(long, conflicts_with = "cache")]
    pub no_cache: bool,
    /// Refuse input layers that decompress to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_layer_bytes)]
    pub max_layer_size: u64,
    /// Sign the result (cosign format) with this ECDSA P-256 key (PKCS#8 PEM); default: the PEM
    /// in TAILOR_SIGNING_KEY, else unsigned.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// OS package repositories (YAML: `debian:`/`alpine:` lists of url, suite/branch,
    /// components, keys) [default: the official repositories of the base's release].
    #[arg(long, value_name = "FILE")]
    pub repositories: Option<PathBuf>,
    /// Run this policy extension at the build's checkpoints, enforcing: FILE.wasm, or
    /// FILE.wasm=SETTINGS_JSON (repeatable). A deny stops the build before anything is published.
    #[arg(long = "extension", value_name = "FILE.wasm[=SETTINGS]")]
    pub extensions: Vec<String>,
    #[command(flatten)]
    pub extension_limits: crate::extension::LimitArgs,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn print_problems(output: Output, file: &str, problems: &[Problem]) {
    match output {
        Output::Json => {
            println!("{}", serde_json::json!({ "error": { "code": "invalid", "file": file, "details": problems } }))
        }
        Output::Text => {
            eprintln!(
                "error: {file}: the customization is invalid ({} problem{}):",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            for p in problems {
                eprintln!("  - {p}");
            }
        }
    }
}

fn fail(output: Output, code: &str, message: &str) -> u8 {
    match output {
        Output::Json => println!("{}", serde_json::json!({ "error": { "code": code, "message": message } })),
        Output::Text => eprintln!("error: {message}"),
    }
    1
}

pub fn run(args: Args) -> u8 {
    let file = args.file.display().to_string();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return fail(args.output, "io", &format!("cannot read {file}: {e}")),
    };
    let parsed =
        if file.ends_with(".json") { Customization::parse_json(&text) } else { Customization::parse_yaml(&text) };
    let spec = match parsed {
        Ok(s) => s,
        Err(e @ (SpecError::Parse(_) | SpecError::Invalid(_))) => {
            print_problems(args.output, &file, &e.problems());
            return 2;
        }
    };
    let source = spec.source_ref();
    let scope = Scope::new([source.namespace().to_string()], [spec.destination_repository()]);
    let (client, host) = match args.store.client(source.registry.as_deref(), scope) {
        Ok(c) => c,
        Err(e) => return fail(args.output, "store", &format!("{e:#}")),
    };
    let cache = match (args.no_cache, args.cache.clone().or_else(default_cache_dir)) {
        (false, Some(dir)) => Cache::at(dir),
        _ => Cache::disabled(),
    };
    let signer = match crate::signing::explicit_key(args.key.as_deref()) {
        Ok(k) => k,
        Err(e) => return fail(args.output, "key", &format!("{e:#}")),
    };
    let cache_dir = (!args.no_cache).then(|| args.cache.clone().or_else(default_cache_dir)).flatten();
    let packages =
        match crate::packages::source(args.repositories.as_deref(), cache_dir.map(|d| d.join("packages")).as_deref()) {
            Ok(p) => p,
            Err(e) => return fail(args.output, "repositories", &format!("{e:#}")),
        };
    let quiet = args.quiet;
    let checks = match crate::extension::build_checks(&args.extensions, &args.extension_limits, &spec, log(quiet)) {
        Ok(c) => c,
        Err(e) => return fail(args.output, "extension", &format!("{e:#}")),
    };
    let opts = Options {
        checks: checks.clone(),
        packages: Some(packages),
        signer,
        cache,
        limits: Limits { max_layer_bytes: args.max_layer_size },
        progress: progress(quiet),
        log: log(quiet),
        registry_host: host,
        ..Options::default()
    };
    match tailor_build::build(&spec, &client, &opts) {
        Ok(report) => {
            match args.output {
                Output::Json => println!("{}", serde_json::to_string(&report).unwrap_or_default()),
                Output::Text => {
                    println!("built {} ({})", report.tag, report.index_digest);
                    for (p, d) in &report.manifests {
                        println!("  {p}: {d}");
                    }
                    println!(
                        "  uploaded {} bytes, reused {} bytes, {} ms",
                        report.bytes_uploaded, report.bytes_reused, report.duration_ms
                    );
                    for s in report.signatures.iter().flatten() {
                        println!("  signature: {s}");
                    }
                    for a in report.attestations.iter().flatten() {
                        println!("  attestation: {a}");
                    }
                    if !report.overridden_base_paths.is_empty() {
                        println!(
                            "warning: these base paths were replaced; the image may break at run time if the base relies on them:"
                        );
                        for p in &report.overridden_base_paths {
                            println!("  {p}");
                        }
                    }
                }
            }
            0
        }
        Err(BuildError::Invalid { problems }) => {
            print_problems(args.output, &file, &problems);
            2
        }
        Err(BuildError::Denied(why)) => {
            let runs = checks.map(|c| c.runs()).unwrap_or_default();
            match args.output {
                Output::Json => {
                    println!("{}", serde_json::json!({"error": {"code": "denied", "message": why, "extensions": runs}}))
                }
                Output::Text => {
                    for line in tailor_build::checks::log_lines(&runs) {
                        eprintln!("{line}");
                    }
                    eprintln!("error: {why}; nothing was published");
                }
            }
            1
        }
        Err(e) => fail(args.output, "build", &format!("build failed: {e}")),
    }
}
