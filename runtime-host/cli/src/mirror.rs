//! `tailor mirror copy SOURCE DESTINATION`: one sync of a mirror, without the service — the
//! same semantics (byte for byte, attachments, verify keys, tags moved last), for CI and scripts.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use tailor_mirror::{Action, Endpoints, Job, Options, Upstreams};
use tailor_oci::Scope;
use tailor_spec::{MirrorSpec, Reference};

use crate::Output;
use crate::store::{StoreArgs, host_of, log, progress};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Mirror a repository once: copy every matching upstream tag byte for byte with its
    /// signatures, attestations and referrers (the semantics of a mirror's sync in the service).
    Copy(CopyArgs),
    /// The org's mirrors in the service.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    List(crate::client::mirrors::ListArgs),
    /// One mirror (by id or destination repository).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Get(crate::client::mirrors::GetArgs),
    /// Create a mirror in the service (owners); its first sync is queued.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Create(crate::client::mirrors::CreateArgs),
    /// Change a mirror (owners): a whole file, or a --patch of some fields.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Edit(crate::client::mirrors::EditArgs),
    /// Delete a mirror (owners); what it copied stays in the registry.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Delete(crate::client::mirrors::DeleteArgs),
    /// Sync a mirror now (owners); --wait for the result of each tag.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Sync(crate::client::mirrors::SyncArgs),
    /// A mirror's syncs, newest first (as `tailor builds list MIRROR`).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Syncs(crate::client::builds::ListArgs),
    /// A sync's log (as `tailor builds logs MIRROR N`).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Logs(crate::client::builds::LogsArgs),
    /// The upstream registry hosts the operator declared (a mirror's source must be on one).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Upstreams(crate::client::mirrors::ListArgs),
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// The upstream repository, HOST/REPOSITORY (e.g. dhi.io/python).
    pub source: String,
    /// The destination repository in --registry or --layout (e.g. acme/dhi-python).
    pub destination: String,
    /// Only tags matching this glob (`*`, `?`; repeatable) [default: every tag].
    #[arg(long = "tag", value_name = "GLOB")]
    pub tags: Vec<String>,
    /// Copy a tag only if its digest carries a cosign signature this public key (PEM, ECDSA
    /// P-256) verifies (repeatable: any of them).
    #[arg(long = "verify-key", value_name = "FILE")]
    pub verify_keys: Vec<PathBuf>,
    /// How to reach the source's host, HOST=URL [default: https://HOST, http:// for loopback hosts].
    /// Credentials: TAILOR_UPSTREAM_<HOST>_USER / _PASSWORD, else docker's config.json.
    #[arg(long = "upstream", value_name = "HOST=URL")]
    pub upstreams: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Blobs and tags in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub threads: usize,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn fail(output: Output, code: u8, kind: &str, message: &str, details: Option<serde_json::Value>) -> u8 {
    match output {
        Output::Json => {
            let mut error = serde_json::json!({"code": kind, "message": message});
            if let Some(d) = details {
                error["details"] = d;
            }
            println!("{}", serde_json::json!({ "error": error }))
        }
        Output::Text => eprintln!("error: {message}"),
    }
    code
}

/// The scheme for a registry host named in a reference.
fn default_url(host: &str) -> String {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if name == "localhost" || name.starts_with("127.") { format!("http://{host}") } else { format!("https://{host}") }
}

pub fn copy(args: CopyArgs) -> u8 {
    let out = args.output;
    let mut keys = Vec::new();
    for path in &args.verify_keys {
        match std::fs::read_to_string(path) {
            Ok(k) => keys.push(k),
            Err(e) => return fail(out, 2, "invalid", &format!("--verify-key {}: {e}", path.display()), None),
        }
    }
    let spec = MirrorSpec {
        source: args.source.clone(),
        destination: Some(args.destination.clone()),
        tags: args.tags.clone(),
        verify_keys: keys,
        poll_interval_s: 0,
    };
    let Some(source) = spec.source_ref() else {
        let e = Reference::parse(&args.source).err().unwrap_or_default();
        return fail(out, 2, "invalid", &format!("SOURCE {}: {e}", args.source), None);
    };
    let host = source.registry.clone().unwrap_or_default();
    let mut declared: Vec<String> = args.upstreams.clone();
    if !declared.iter().any(|d| d.split_once('=').is_some_and(|(h, _)| h.trim() == host)) && !host.is_empty() {
        declared.push(format!("{host}={}", default_url(&host)));
    }
    let upstreams = match Upstreams::parse(&declared, args.store.insecure) {
        Ok(u) => u,
        Err(e) => return fail(out, 2, "invalid", &e.to_string(), None),
    };
    let org = Reference::parse(&args.destination).map(|r| r.namespace().to_owned()).unwrap_or_default();
    if let Err(problems) = spec.validate(&org, &upstreams.hosts()) {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        let message = format!("the mirror is invalid:\n{}", lines.join("\n"));
        return fail(out, 2, "invalid", &message, serde_json::to_value(&problems).ok());
    }
    let job = match Job::new(&spec) {
        Ok(j) => j,
        Err(e) => return fail(out, 2, "invalid", &e.to_string(), None),
    };
    let Some(upstream) = upstreams.get(&host) else {
        return fail(out, 2, "invalid", &format!("{host} is not declared"), None);
    };
    let same_registry = args.store.layout.is_none()
        && host_of(&args.store.registry).eq_ignore_ascii_case(&host_of(&upstream.config.base_url));
    let up = match tailor_oci::Client::registry(
        upstream.config.clone(),
        Scope::repositories([job.source.clone()], Vec::<String>::new()),
    ) {
        Ok(c) => c,
        Err(e) => return fail(out, 1, "upstream", &format!("upstream {host}: {e}"), None),
    };
    let reads = if same_registry { vec![job.source.clone()] } else { Vec::new() };
    let down = match args.store.client(None, Scope::repositories(reads, [job.destination.clone()])) {
        Ok((c, _)) => c,
        Err(e) => return fail(out, 1, "store", &format!("{e:#}"), None),
    };
    let ep = Endpoints { upstream: Arc::new(up), destination: Arc::new(down), same_registry };
    let opts = Options { threads: args.threads.max(1), progress: progress(args.quiet), log: log(args.quiet) };
    let report = match tailor_mirror::sync(&job, &ep, &opts) {
        Ok(r) => r,
        Err(e) => return fail(out, 1, "sync", &format!("mirroring {} failed: {e}", job.source_name), None),
    };
    let status = report.status();
    match out {
        Output::Json => {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["status"] = serde_json::json!(status);
            println!("{v}");
        }
        Output::Text => {
            for t in &report.tags {
                let digest = t.digest.as_ref().map(|d| d.to_string()).unwrap_or_default();
                match &t.reason {
                    Some(r) => println!("{:<9} {}:{} {digest}: {r}", t.action.as_str(), job.destination, t.tag),
                    None => println!("{:<9} {}:{} {digest}", t.action.as_str(), job.destination, t.tag),
                }
            }
            println!("{}: {}", status, report.summary());
        }
    }
    if report.tags.iter().all(|t| matches!(t.action, Action::Copied | Action::Unchanged)) { 0 } else { 1 }
}
