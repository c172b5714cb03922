//! `tailor extension push|test` (authors), and `--extension` for `tailor build`: org policy
//! extensions as files, run by the same runtime the worker uses. The service's registrations
//! are `tailor extension list|get|create|edit|delete` (client.rs).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::json;
use tailor_build::cache::Cache;
use tailor_build::checks::view::{LayeredView, Source};
use tailor_build::checks::{Checkpoint, Checks, ExtensionRun, NoImage};
use tailor_extension::call::BuildInfo;
use tailor_extension::{Limits, OrgChecks, Registered, Runtime};
use tailor_oci::{Digest, Scope};
use tailor_spec::{Customization, Reference};

use crate::Output;
use crate::store::{StoreArgs, default_cache_dir, log};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Push a component as an extension artifact (CNCF wasm format) after checking that tailor
    /// can run it: ORG/REPO:TAG in --registry or --layout.
    Push(PushArgs),
    /// Run an extension on a customization locally — built in memory, nothing published — or
    /// on an existing image (--image), and print its findings.
    Test(TestArgs),
    /// The org's registered extensions in the service.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    List(crate::client::extensions::ListArgs),
    /// One registered extension (by id or name): its digest, status, settings.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Get(crate::client::extensions::GetArgs),
    /// Register an extension (owners): name, reference, settings, mode, applies_to.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Create(crate::client::extensions::CreateArgs),
    /// Change a registered extension (owners): a --patch of its fields.
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Edit(crate::client::extensions::EditArgs),
    /// Remove a registered extension (owners).
    #[command(after_help = crate::client::EXIT_STATUSES)]
    Delete(crate::client::extensions::DeleteArgs),
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// The component (`cargo build --target wasm32-wasip2` of a crate using the world in
    /// wit/extension/world.wit).
    pub file: PathBuf,
    /// Where to push it, ORG/REPO:TAG.
    #[arg(long, value_name = "REF")]
    pub tag: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The component to run.
    pub file: PathBuf,
    /// The customization file it checks (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// Check this image as it is (every platform the spec names) instead of building the spec.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// The extension's settings (JSON).
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub settings: String,
    /// The org the build is for (what the extension is told) [default: the spec's source namespace].
    #[arg(long)]
    pub org: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The limits of one call of an extension (`tailor up`, `tailor worker`).
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Fuel per call of an extension (about one unit per WebAssembly instruction).
    #[arg(long, value_name = "N", default_value_t = Limits::default().fuel)]
    pub extension_fuel: u64,
    /// Wall-clock time per call of an extension (its own time: not the host's reads).
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub extension_deadline: String,
    /// Linear memory of an extension's instance, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = (Limits::default().memory >> 20) as u64)]
    pub extension_memory: u64,
    /// Findings one call may return.
    #[arg(long, value_name = "N", default_value_t = Limits::default().findings)]
    pub extension_findings: usize,
    /// Bytes of stdout and of stderr one call may write (into the build log).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().log)]
    pub extension_log: usize,
}

impl LimitArgs {
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let deadline = crate::service::parse_duration(&self.extension_deadline)
            .map_err(|e| anyhow::anyhow!("--extension-deadline: {e}"))?;
        if deadline.is_zero() || self.extension_fuel == 0 || self.extension_memory == 0 {
            anyhow::bail!("--extension-deadline, --extension-fuel and --extension-memory must be more than 0");
        }
        Ok(Limits {
            fuel: self.extension_fuel,
            deadline,
            memory: (self.extension_memory as usize).saturating_mul(1 << 20),
            findings: self.extension_findings,
            log: self.extension_log,
            ..Limits::default()
        })
    }
}

fn fail(output: Output, code: u8, kind: &str, message: &str) -> u8 {
    match output {
        Output::Json => println!("{}", json!({"error": {"code": kind, "message": message}})),
        Output::Text => eprintln!("error: {message}"),
    }
    code
}

/// The runtime for extensions run by this process (compiled code cached under the cache dir).
pub fn runtime(limits: &LimitArgs) -> anyhow::Result<Arc<Runtime>> {
    let dir = default_cache_dir().map(|d| d.join("extensions"));
    Ok(Arc::new(Runtime::new(limits.limits()?, dir.as_deref())?))
}

/// `FILE.wasm` or `FILE.wasm=SETTINGS` (`tailor build --extension`).
fn split_arg(arg: &str) -> (PathBuf, String) {
    match arg.find(".wasm=") {
        Some(i) => (PathBuf::from(&arg[..i + 5]), arg[i + 6..].to_owned()),
        None => (PathBuf::from(arg), "{}".to_owned()),
    }
}

/// A local component as a registered, enforcing extension: loaded, settings validated.
fn local(rt: &Runtime, file: &Path, settings: &str) -> anyhow::Result<Registered> {
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let digest = Digest::of(&bytes).to_string();
    let loaded = rt.load(&digest, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if let Err(why) = loaded.validate_settings(rt, settings).value.map_err(|e| e.to_string()).and_then(|r| r) {
        anyhow::bail!("{}: the settings are refused: {why}", file.display());
    }
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "extension".into());
    Ok(Registered {
        name,
        repository: format!("file:{}", file.display()),
        digest,
        mode: "enforce".into(),
        settings: settings.to_owned(),
        component: Ok(loaded),
    })
}

/// The checks of `tailor build --extension …` (None without any).
pub fn build_checks(
    args: &[String],
    limits: &LimitArgs,
    spec: &Customization,
    log: Arc<dyn Fn(&str) + Send + Sync>,
) -> anyhow::Result<Option<Arc<dyn Checks>>> {
    if args.is_empty() {
        return Ok(None);
    }
    let rt = runtime(limits)?;
    let mut registered = Vec::new();
    for a in args {
        let (file, settings) = split_arg(a);
        registered.push(local(&rt, &file, &settings)?);
    }
    let info = BuildInfo {
        org: spec.source_ref().namespace().to_owned(),
        customization: spec.name.clone(),
        spec_json: serde_json::to_string(spec).unwrap_or_default(),
    };
    Ok(Some(Arc::new(OrgChecks::new(rt, info, registered, log))))
}

pub fn push(a: PushArgs) -> u8 {
    let r = match Reference::parse(&a.tag) {
        Ok(r) if r.tag.is_some() && r.digest.is_none() && r.registry.is_none() => r,
        Ok(_) => {
            return fail(
                a.output,
                2,
                "invalid",
                &format!("--tag {}: give ORG/REPO:TAG (no registry host, no digest)", a.tag),
            );
        }
        Err(e) => return fail(a.output, 2, "invalid", &format!("--tag {}: {e}", a.tag)),
    };
    let bytes = match std::fs::read(&a.file) {
        Ok(b) => b,
        Err(e) => return fail(a.output, 2, "invalid", &format!("{}: {e}", a.file.display())),
    };
    // What the worker would refuse is refused here, before anything is pushed.
    let rt = match Runtime::new(Limits::default(), None) {
        Ok(rt) => rt,
        Err(e) => return fail(a.output, 1, "runtime", &e.to_string()),
    };
    if let Err(e) = rt.load(Digest::of(&bytes).as_str(), &bytes) {
        return fail(a.output, 2, "invalid", &format!("{}: {e}", a.file.display()));
    }
    let scope = Scope::new([r.namespace().to_owned()], [r.repository.clone()]);
    let (client, _) = match a.store.client(None, scope) {
        Ok(c) => c,
        Err(e) => return fail(a.output, 1, "store", &format!("{e:#}")),
    };
    let tag = r.tag.clone().unwrap_or_default();
    match tailor_extension::artifact::push(&client, &r.repository, &tag, &bytes) {
        Ok(digest) => {
            match a.output {
                Output::Json => {
                    println!("{}", json!({"reference": a.tag, "digest": digest.as_str(), "bytes": bytes.len()}))
                }
                Output::Text => println!("pushed {} ({digest}, {} bytes)", a.tag, bytes.len()),
            }
            0
        }
        Err(e) => fail(a.output, 1, "push", &format!("pushing {}: {e}", a.tag)),
    }
}

fn read_spec(file: &Path) -> Result<Customization, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let parsed = if file.extension().is_some_and(|e| e == "json") {
        Customization::parse_json(&text)
    } else {
        Customization::parse_yaml(&text)
    };
    parsed.map_err(|e| {
        let problems: Vec<String> = e.problems().iter().map(|p| format!("  - {p}")).collect();
        format!("{}: the customization is invalid:\n{}", file.display(), problems.join("\n"))
    })
}

/// Checks an existing image as it is: each of the spec's platforms it has.
fn test_image(
    checks: &OrgChecks,
    store: &StoreArgs,
    image: &str,
    spec: &Customization,
    log: &Arc<dyn Fn(&str) + Send + Sync>,
) -> anyhow::Result<()> {
    let r = Reference::parse(image).map_err(|e| anyhow::anyhow!("--image {image}: {e}"))?;
    let (client, _) =
        store.client(r.registry.as_deref(), Scope::new([r.namespace().to_owned()], Vec::<String>::new()))?;
    let img = tailor_build::resolve::resolve(&client, "--image", &r)?;
    let cache = default_cache_dir().map(Cache::at).unwrap_or_else(Cache::disabled);
    for p in &spec.platforms {
        checks.check(Checkpoint::CheckCustomization, p, &NoImage);
    }
    for (platform, digest) in &img.platforms {
        if !spec.platforms.iter().any(|p| tailor_spec::Platform::parse(p).is_ok_and(|k| k.key() == *platform)) {
            continue;
        }
        log(&format!("checking {image} ({platform})"));
        let (_, manifest) = tailor_build::resolve::fetch_manifest_cached(&client, &cache, &img, digest)?;
        let config_digest = Digest::try_from(manifest.config().digest())?;
        let config = tailor_build::resolve::read_blob_cached(&client, &cache, &img.repo, &config_digest, 4 << 20)?;
        let limits = tailor_build::tarfs::Limits::default();
        let index = tailor_build::base::file_index(&client, &img.repo, &img.name, &manifest, &cache, limits)?;
        let packages = index.packages.iter().map(|p| (p.name.clone(), p.version.clone())).collect();
        let layers = manifest.layers().iter().cloned().map(|d| Source::Remote(Box::new(d))).collect();
        let view =
            LayeredView::new(&client, cache.clone(), limits, &img.repo, &img.name, layers, config.into(), packages);
        checks.check(Checkpoint::CheckImage, platform, &view);
    }
    Ok(())
}

pub fn test(a: TestArgs) -> u8 {
    let spec = match read_spec(&a.spec) {
        Ok(s) => s,
        Err(m) => return fail(a.output, 2, "invalid", &m),
    };
    if serde_json::from_str::<serde_json::Value>(&a.settings).is_err() {
        return fail(a.output, 2, "invalid", &format!("--settings is not JSON: {}", a.settings));
    }
    let rt = match runtime(&a.limits) {
        Ok(rt) => rt,
        Err(e) => return fail(a.output, 1, "runtime", &format!("{e:#}")),
    };
    let registered = match local(&rt, &a.file, &a.settings) {
        Ok(r) => r,
        Err(e) => return fail(a.output, 2, "invalid", &format!("{e:#}")),
    };
    let log = log(a.quiet);
    let info = BuildInfo {
        org: a.org.clone().unwrap_or_else(|| spec.source_ref().namespace().to_owned()),
        customization: spec.name.clone(),
        spec_json: serde_json::to_string(&spec).unwrap_or_default(),
    };
    let checks = Arc::new(OrgChecks::new(rt, info, vec![registered], log.clone()));
    let outcome: anyhow::Result<()> = match &a.image {
        Some(image) => test_image(&checks, &a.store, image, &spec, &log),
        None => {
            let source = spec.source_ref();
            let scope = Scope::new([source.namespace().to_string()], Vec::<String>::new());
            match a.store.client(source.registry.as_deref(), scope) {
                Ok((client, host)) => {
                    let cache = default_cache_dir().map(Cache::at).unwrap_or_else(Cache::disabled);
                    let opts = tailor_build::Options {
                        cache,
                        log: log.clone(),
                        registry_host: host,
                        checks: Some(checks.clone()),
                        ..tailor_build::Options::default()
                    };
                    match tailor_build::check(&spec, &client, &opts) {
                        Ok(_) | Err(tailor_build::BuildError::Denied(_)) => Ok(()),
                        Err(e) => Err(e.into()),
                    }
                }
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = outcome {
        return fail(a.output, 1, "build", &format!("{e:#}"));
    }
    let run: ExtensionRun = checks.runs().into_iter().next().unwrap_or_else(|| ExtensionRun {
        name: String::new(),
        repository: String::new(),
        digest: String::new(),
        mode: "enforce".into(),
        verdict: "pass".into(),
        findings: Vec::new(),
        fuel: 0,
        error: None,
    });
    match a.output {
        Output::Json => println!("{}", serde_json::to_string(&run).unwrap_or_default()),
        Output::Text => {
            for line in tailor_build::checks::log_lines(std::slice::from_ref(&run)) {
                println!("{line}");
            }
            println!("fuel: {}", run.fuel);
        }
    }
    match run.verdict.as_str() {
        "pass" | "warn" => 0,
        _ => 1,
    }
}
