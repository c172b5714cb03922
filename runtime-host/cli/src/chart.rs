//! `tailor chart build -f SPEC`: one chart customization built without the service (every
//! matching version customized, pushed, signed with --key, tagged).

use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use tailor_chart::build::Invocation;
use tailor_spec::{ChartSpec, Problem, SpecError};

use crate::Output;
use crate::store::{StoreArgs, log};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Customize every matching version of a chart repository from a chart customization file:
    /// image references mapped and pinned, pushed as `V_suffix`, signed with --key.
    Build(BuildArgs),
    /// The org's chart customizations in the service.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    List(crate::client::charts::ListArgs),
    /// One chart customization (by id or name).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Get(crate::client::charts::GetArgs),
    /// Create a chart customization in the service; its first build is queued.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Create(crate::client::charts::CreateArgs),
    /// Replace a chart customization's spec (-f) or change some fields (--patch).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Edit(crate::client::charts::EditArgs),
    /// Delete a chart customization (owners).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Delete(crate::client::charts::DeleteArgs),
    /// The image references a chart version deploys (what a reference mapping can map).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    References(crate::client::charts::ReferencesArgs),
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The chart customization file (YAML, or JSON when it ends in .json).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Sign and attest each customized version with this ECDSA P-256 key (PKCS#8 PEM); default:
    /// the PEM in TAILOR_SIGNING_KEY, else unsigned.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn problems(output: Output, file: &str, problems: &[Problem]) -> u8 {
    match output {
        Output::Json => {
            println!("{}", serde_json::json!({"error": {"code": "invalid", "file": file, "details": problems}}))
        }
        Output::Text => {
            eprintln!("error: {file}: the chart customization is invalid ({} problem(s)):", problems.len());
            for p in problems {
                eprintln!("  - {p}");
            }
        }
    }
    2
}

fn fail(output: Output, code: &str, message: &str) -> u8 {
    match output {
        Output::Json => println!("{}", serde_json::json!({"error": {"code": code, "message": message}})),
        Output::Text => eprintln!("error: {message}"),
    }
    1
}

pub fn build(args: BuildArgs) -> u8 {
    let out = args.output;
    let file = args.file.display().to_string();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return fail(out, "io", &format!("cannot read {file}: {e}")),
    };
    let parsed = if file.ends_with(".json") { ChartSpec::from_json(&text) } else { ChartSpec::from_yaml(&text) };
    let spec = match parsed {
        Ok(s) => s,
        Err(e @ (SpecError::Parse(_) | SpecError::Invalid(_))) => return problems(out, &file, &e.problems()),
    };
    let org = tailor_spec::Reference::parse(&spec.source).map(|r| r.namespace().to_owned()).unwrap_or_default();
    if let Err(p) = spec.validate(&org) {
        return problems(out, &file, &p);
    }
    let (client, host) = match args.store.client(None, tailor_chart::build::scope(&org, &spec)) {
        Ok(c) => c,
        Err(e) => return fail(out, "store", &format!("{e:#}")),
    };
    let signer = match crate::signing::explicit_key(args.key.as_deref()) {
        Ok(k) => k,
        Err(e) => return fail(out, "key", &format!("{e:#}")),
    };
    let ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut opts = tailor_chart::Options::new(Invocation {
        id: format!("tailor-chart-build:{}:{ms}", std::process::id()),
        revision: None,
        builder_id: "https://tailor.dev/builder/cli".into(),
    });
    opts.registry_host = host;
    opts.signer = signer;
    opts.log = log(args.quiet);
    let report = match tailor_chart::build(&spec, &client, &opts) {
        Ok(r) => r,
        Err(e) => return fail(out, "build", &format!("chart build failed: {e}")),
    };
    match out {
        Output::Json => println!("{}", serde_json::to_string(&report).unwrap_or_default()),
        Output::Text => {
            for v in &report.versions {
                match &v.error {
                    Some(e) => println!("failed    {} {}: {e}", report.source, v.version),
                    None => println!(
                        "{:<9} {}:{} ({}) {}",
                        v.status,
                        report.destination,
                        v.tag,
                        v.customized_version,
                        v.digest.as_deref().unwrap_or("")
                    ),
                }
                for r in &v.changes.rewrites {
                    println!("  {}:{} {}: {} → {}", r.file, r.line, r.path, r.old, r.new);
                }
                for u in &v.changes.unmapped {
                    println!("  unmapped {}:{} {}: {}", u.file, u.line, u.path, u.reference);
                }
                for l in &v.changes.literal_template_images {
                    println!("  literal image in a template (not rewritten) {}:{}: {}", l.file, l.line, l.reference);
                }
                for n in &v.changes.notes {
                    println!("  note: {n}");
                }
            }
            if report.versions.is_empty() {
                println!("no version of {} matches `versions`", report.source);
            }
            println!("{}", report.summary());
        }
    }
    if report.versions.iter().any(|v| v.status == "failed") { 1 } else { 0 }
}
