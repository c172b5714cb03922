//! `tailor artifact push DIR --tag REF`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tailor_build::Options;
use tailor_build::scratch::push_directories;
use tailor_oci::Scope;
use tailor_spec::{Platform, Reference};

use crate::Output;
use crate::store::{StoreArgs, log, progress};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a FROM-scratch image of a directory (one deterministic layer, an index over the
    /// platforms) and push it — instead of a multi-stage Dockerfile and `docker buildx --push`.
    Push(PushArgs),
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// The directory whose contents become the image's filesystem root (for every platform
    /// given without its own directory).
    pub dir: Option<PathBuf>,
    /// Where to push, e.g. acme/rootca:20250101.
    #[arg(long, value_name = "REF")]
    pub tag: String,
    /// Platforms of the index, comma-separated or repeated; PLATFORM=DIR gives that platform
    /// its own directory (a root filesystem per architecture), else DIR's layer is used.
    #[arg(long, value_delimiter = ',', default_value = "linux/amd64", value_name = "PLATFORM[=DIR]")]
    pub platform: Vec<String>,
    /// Owner uid of every entry.
    #[arg(long, default_value_t = 0)]
    pub uid: u64,
    /// Owner gid of every entry.
    #[arg(long, default_value_t = 0)]
    pub gid: u64,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn push(args: PushArgs) -> u8 {
    let fail = |code: u8, msg: String| {
        match args.output {
            Output::Json => println!("{}", serde_json::json!({ "error": { "message": msg } })),
            Output::Text => eprintln!("error: {msg}"),
        }
        code
    };
    let r = match Reference::parse(&args.tag) {
        Ok(r) if r.tag.is_some() && r.digest.is_none() => r,
        Ok(_) => return fail(2, format!("--tag {}: give a tag, e.g. acme/rootca:1", args.tag)),
        Err(m) => return fail(2, format!("--tag {}: {m}", args.tag)),
    };
    let mut platforms: Vec<(Platform, PathBuf)> = Vec::new();
    for given in &args.platform {
        let (p, dir) = match given.split_once('=') {
            Some((p, dir)) => (p, Some(PathBuf::from(dir))),
            None => (given.as_str(), args.dir.clone()),
        };
        let Some(dir) = dir else {
            return fail(2, format!("--platform {given}: no directory: give DIR, or --platform {given}=DIR"));
        };
        match Platform::parse(p) {
            Ok(p) if platforms.iter().any(|(q, _)| *q == p) => {
                return fail(2, format!("--platform {given}: {p} is given twice"));
            }
            Ok(p) => platforms.push((p, dir)),
            Err(m) => return fail(2, format!("--platform {given}: {m}")),
        }
    }
    // Reproducible by default: SOURCE_DATE_EPOCH when set, else the epoch.
    let mtime = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => match v.parse() {
            Ok(n) => n,
            Err(_) => return fail(2, format!("SOURCE_DATE_EPOCH={v} is not a number of seconds")),
        },
        Err(_) => 0,
    };
    let scope = Scope::new(Vec::<String>::new(), [r.repository.clone()]);
    let (client, _) = match args.store.client(r.registry.as_deref(), scope) {
        Ok(c) => c,
        Err(e) => return fail(1, format!("{e:#}")),
    };
    let opts = Options { progress: progress(args.quiet), log: log(args.quiet), ..Options::default() };
    let tag = r.tag.clone().unwrap_or_default();
    let each: Vec<(Platform, &std::path::Path)> = platforms.iter().map(|(p, d)| (p.clone(), d.as_path())).collect();
    match push_directories(&client, &each, &r.repository, &tag, args.uid, args.gid, mtime, &opts) {
        Ok(report) => {
            match args.output {
                Output::Json => println!("{}", serde_json::to_string(&report).unwrap_or_default()),
                Output::Text => println!("pushed {} ({})", report.tag, report.index_digest),
            }
            0
        }
        Err(e) => fail(e.exit_code() as u8, format!("artifact push failed: {e}")),
    }
}
