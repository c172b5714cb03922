//! `tailor up` (the whole service: functions + worker), `tailor worker` (the worker alone)
//! and `tailor token create`. Settings come from flags, else the `--config` TOML file, else
//! defaults; everything lives in the data directory.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Deserialize;
use tailor_build::cache::Cache;
use tailor_oci::{Credentials, RegistryConfig};
use tailor_worker::{Target, Worker, WorkerConfig};

use crate::store::host_of;

/// Options shared by `tailor up` and `tailor worker`.
#[derive(Args, Debug, Clone)]
pub struct ServiceArgs {
    /// Data directory: the SQLite store, compiled components, build cache and the embedded
    /// image layouts [default: .tailor].
    #[arg(long, value_name = "DIR", env = "TAILOR_DATA")]
    pub data: Option<PathBuf>,
    /// The store: `postgres://USER:PASSWORD@HOST:PORT/DATABASE` to run many `tailor serve` and
    /// `tailor worker` processes on one PostgreSQL, or a SQLite file [default: DATA/tailor.db].
    #[arg(long, value_name = "URL|FILE", env = "TAILOR_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Registry for images (default: the embedded OCI layout store, DATA/layout).
    #[arg(long, value_name = "URL", env = "TAILOR_REGISTRY")]
    pub registry: Option<String>,
    /// Directory of OCI image layouts (`DIR/<namespace>/<repo>`) instead of a registry.
    #[arg(long, value_name = "DIR", conflicts_with = "registry")]
    pub layout: Option<PathBuf>,
    /// Allow plain HTTP to non-loopback registries and skip TLS certificate checks.
    #[arg(long)]
    pub insecure: bool,
    /// How often to poll the tags customizations depend on and the package repositories of the
    /// OS variants seen (their catalogs; a repository that published rebuilds what installs
    /// from it) (`30s`, `5m`, `1h`; `0` = never) [default: 5m].
    #[arg(long, value_name = "DURATION")]
    pub poll_interval: Option<String>,
    /// Quiet time after a push before its rebuild starts, so a burst of pushes makes one
    /// build (at most 10× this after the first push) [default: 300ms].
    #[arg(long, value_name = "DURATION")]
    pub debounce: Option<String>,
    /// How long a worker's claim on a build lasts without a heartbeat (renewed every third of
    /// it): another worker takes over the build of a worker that died this long ago [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub lease: Option<String>,
    /// Build attempts before a build is failed [default: 3].
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<i64>,
    /// Signing key (PKCS#8 PEM) for every build [default: TAILOR_SIGNING_KEY, else DATA/keys/tailor.key,
    /// generated on first start].
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// OS package repositories (YAML: `debian:`/`alpine:` lists of url, suite/branch,
    /// components, keys) [default: the official repositories of each base's release].
    #[arg(long, value_name = "FILE")]
    pub repositories: Option<PathBuf>,
    /// An upstream registry mirrors may copy from, `HOST=URL` (repeatable), e.g.
    /// `dhi.io=https://dhi.io`: tenants name the host, the service reaches only the URL declared
    /// here. Credentials: TAILOR_UPSTREAM_<HOST>_USER / _PASSWORD (the host uppercased, other
    /// characters as `_`), else docker's config.json entry for the host, else anonymous.
    #[arg(long = "upstream", value_name = "HOST=URL")]
    pub upstreams: Vec<String>,
    /// A TOML file with any of: data, database, registry, layout, insecure, poll_interval, debounce, max_attempts,
    /// listen, workers, manifest, a [webhooks] table of NAME = "SECRET", an [upstreams] table of
    /// HOST = "URL", a [webhook_upstreams] table of NAME = "HOST" and a [variables] table of the
    /// Spin application's variables.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub extension_limits: crate::extension::LimitArgs,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Build workers in this process [default: 1; 0 = serve only].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// `tailor serve`: the functions without workers (stateless; run any number of them).
#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Address to serve HTTP on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// A webhook endpoint `NAME=SECRET` at /v1/hooks/NAME (repeatable).
    #[arg(long = "webhook", value_name = "NAME=SECRET")]
    pub webhooks: Vec<String>,
    /// Binds webhook endpoint NAME to a declared upstream HOST (repeatable): point that
    /// upstream registry's notifications at /v1/hooks/NAME, and its pushes sync the mirrors of
    /// the pushed repository within seconds.
    #[arg(long = "webhook-upstream", value_name = "NAME=HOST")]
    pub webhook_upstreams: Vec<String>,
    /// Serve the functions of this Spin manifest (a checkout's spin.toml and its built
    /// components) [default: those this binary carries].
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Time limit of one request to a function; a request over it is stopped with a 500.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub request_timeout: String,
    /// Memory limit of one request's function instance, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub request_memory: usize,
    /// Largest request body accepted (bytes); larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body: usize,
    /// PostgreSQL connections the functions may hold open at once (spin:postgres), across all
    /// requests of this process.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub database_connections: usize,
    /// PostgreSQL transactions the functions may have open at once (spin:postgres), across all
    /// requests of this process, each on a connection of its own (on top of
    /// --database-connections); the others wait their turn here. tailor's transactions each
    /// take the store's write lock, so more than one at a time only makes them wait inside
    /// PostgreSQL, which costs more (BENCHMARKS.md, issue I).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub database_transactions: usize,
    /// Failed authentications (answers of 401) one client address may have per minute; past
    /// it, that address is answered 429 with Retry-After for the rest of the minute. 0: no
    /// limit (behind a proxy every client has the proxy's address: limit there instead).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub auth_failures: u32,
    /// Threads that answer requests [default: the CPUs this process may use, a container's CPU
    /// limit included]. Where replicas share a machine's cores, one thread each (`--threads 1`,
    /// one replica per core) saves the wake-ups between threads (BENCHMARKS.md, issue I).
    #[arg(long, value_name = "N", env = "TAILOR_THREADS")]
    pub threads: Option<std::num::NonZeroUsize>,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Build workers in this process, each claiming one build at a time.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub workers: usize,
    /// Serve /healthz, /readyz and /metrics on this address (e.g. 0.0.0.0:9090 in a pod).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// `tailor migrate`, and the store options of commands that only open the store.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = crate::Output::Text)]
    pub output: crate::Output,
}

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Data directory of `tailor up` [default: .tailor].
    #[arg(long, value_name = "DIR", env = "TAILOR_DATA")]
    pub data: Option<PathBuf>,
    /// The store: a `postgres://` URL, or a SQLite file [default: DATA/tailor.db].
    #[arg(long, value_name = "URL|FILE", env = "TAILOR_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
}

impl DatabaseArgs {
    /// Opens (and migrates) the store.
    pub fn open(&self) -> Result<tailor_store::NativeDb> {
        let location = match self.database.clone().filter(|d| !d.trim().is_empty()) {
            Some(d) => d,
            None => {
                let data = self.data.clone().unwrap_or_else(|| PathBuf::from(".tailor"));
                std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
                data.join("tailor.db").display().to_string()
            }
        };
        let db = tailor_store::NativeDb::open(&location)?;
        tailor_store::block_on(tailor_store::migrate(&db)).with_context(|| format!("migrating {}", db.location()))?;
        Ok(db)
    }
}

pub fn migrate(args: MigrateArgs) -> Result<()> {
    let db = args.store.open()?;
    match args.output {
        crate::Output::Json => println!(
            "{}",
            serde_json::json!({"database": db.location(), "schema_version": tailor_store::SCHEMA_VERSION})
        ),
        crate::Output::Text => println!("{}: schema version {}", db.location(), tailor_store::SCHEMA_VERSION),
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data: Option<PathBuf>,
    database: Option<String>,
    registry: Option<String>,
    layout: Option<PathBuf>,
    insecure: Option<bool>,
    poll_interval: Option<String>,
    debounce: Option<String>,
    max_attempts: Option<i64>,
    listen: Option<SocketAddr>,
    workers: Option<usize>,
    manifest: Option<PathBuf>,
    #[serde(default)]
    webhooks: BTreeMap<String, String>,
    /// Declared upstream registries, HOST = "URL".
    #[serde(default)]
    upstreams: BTreeMap<String, String>,
    /// Webhook endpoints bound to an upstream, NAME = "HOST".
    #[serde(default)]
    webhook_upstreams: BTreeMap<String, String>,
    /// Values of the Spin application's variables (after `SPIN_VARIABLE_<NAME>`).
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

fn read_config(path: Option<&Path>) -> Result<ConfigFile> {
    let Some(path) = path else { return Ok(ConfigFile::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: not a valid tailor config", path.display()))
}

/// `30s`, `5m`, `2h`, `500ms`, or `0`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().with_context(|| format!("{text:?}: expected a number with a unit, e.g. 30s or 5m"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "" if n == 0 => Duration::ZERO,
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => bail!("{text:?}: unknown unit; use ms, s, m or h"),
    })
}

/// Settings after flags, config file and defaults.
pub struct Settings {
    pub data: PathBuf,
    pub worker: WorkerConfig,
    /// The store's location: a SQLite file or a `postgres://` URL.
    pub database: String,
    file: ConfigFile,
}

/// What a process runs: `Serve` needs neither the signing key nor a build's machinery.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Up,
    Serve,
    Worker,
}

impl Settings {
    pub fn resolve(args: &ServiceArgs, role: Role) -> Result<Settings> {
        let file = read_config(args.config.as_deref())?;
        let data = args.data.clone().or_else(|| file.data.clone()).unwrap_or_else(|| PathBuf::from(".tailor"));
        std::fs::create_dir_all(&data).with_context(|| format!("creating the data directory {}", data.display()))?;
        let data = std::fs::canonicalize(&data).with_context(|| format!("the data directory {}", data.display()))?;
        let insecure = args.insecure || file.insecure.unwrap_or(false);
        let registry =
            args.registry.clone().or_else(|| if args.layout.is_some() { None } else { file.registry.clone() });
        let target = match (registry, args.layout.clone().or_else(|| file.layout.clone())) {
            (Some(url), _) => {
                let mut config = RegistryConfig::new(url.clone()).with_insecure(insecure);
                config.credentials = Credentials::lookup(&host_of(&url));
                Target::Registry(config)
            }
            (None, Some(dir)) => Target::Layout(dir),
            (None, None) => Target::Layout(data.join("layout")),
        };
        let database = args
            .database
            .clone()
            .or_else(|| file.database.clone())
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| data.join("tailor.db").display().to_string());
        let mut worker = WorkerConfig::new(database.clone(), target, Cache::at(data.join("build-cache")));
        if role != Role::Serve {
            worker.signer = Some(crate::signing::service_key(args.key.as_deref(), &data)?);
            worker.builder_id = format!("https://tailor.dev/builder/{}", hostname());
            worker.packages =
                Some(crate::packages::source(args.repositories.as_deref(), Some(&data.join("package-cache")))?);
            let limits = args.extension_limits.limits()?;
            worker.extensions =
                Some(std::sync::Arc::new(tailor_extension::Runtime::new(limits, Some(&data.join("extension-cache")))?));
        }
        let mut upstreams: BTreeMap<String, String> = file.upstreams.clone();
        for u in &args.upstreams {
            let Some((host, url)) = u.split_once('=') else { bail!("--upstream {u:?}: expected HOST=URL") };
            upstreams.insert(host.trim().to_owned(), url.trim().to_owned());
        }
        let declarations: Vec<String> = upstreams.iter().map(|(h, u)| format!("{h}={u}")).collect();
        worker.upstreams = tailor_mirror::Upstreams::parse(&declarations, insecure)?;
        let poll = args.poll_interval.clone().or_else(|| file.poll_interval.clone()).unwrap_or_else(|| "5m".into());
        let poll = parse_duration(&poll).context("--poll-interval")?;
        worker.poll_interval = (!poll.is_zero()).then_some(poll);
        if let Some(lease) = &args.lease {
            let lease = parse_duration(lease).context("--lease")?;
            if lease < Duration::from_secs(1) {
                bail!("--lease must be at least 1s");
            }
            worker.lease_ms = lease.as_millis() as i64;
        }
        if let Some(n) = args.max_attempts.or(file.max_attempts) {
            if n < 1 {
                bail!("--max-attempts must be at least 1");
            }
            worker.max_attempts = n;
        }
        let debounce = args.debounce.clone().or_else(|| file.debounce.clone()).unwrap_or_else(|| "300ms".into());
        let debounce = parse_duration(&debounce).context("--debounce")?;
        let db = tailor_store::NativeDb::open(&database)?;
        tailor_store::block_on(tailor_store::migrate(&db)).with_context(|| format!("migrating {}", db.location()))?;
        tailor_store::block_on(tailor_store::set_setting(
            &db,
            tailor_store::DEBOUNCE,
            &debounce.as_millis().to_string(),
        ))?;
        Ok(Settings { data, worker, database, file })
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Starts `n` workers named `<kind>:<host>:<pid>:<i>`, after releasing the leases of dead
/// processes of this host (a `kill -9`), so their builds resume now.
fn start_workers(
    cfg: &WorkerConfig,
    kind: &str,
    n: usize,
) -> Result<Vec<(tailor_worker::WorkerHandle, std::thread::JoinHandle<()>)>> {
    let host = hostname();
    let mut out = Vec::new();
    for i in 0..n {
        let worker = Worker::new(cfg.clone(), format!("{kind}:{host}:{}:{i}", std::process::id()))?;
        if i == 0 {
            for owner in
                tailor_store::block_on(tailor_store::lease_owners(&tailor_store::NativeDb::open(&cfg.database)?))?
            {
                let mut parts = owner.split(':');
                let (Some(_), Some(h), Some(pid)) = (parts.next(), parts.next(), parts.next()) else { continue };
                let alive = Path::new("/proc").join(pid).exists();
                if h == host && (!alive || pid == std::process::id().to_string()) {
                    let n = worker.recover(&owner)?;
                    eprintln!("tailor: resumed {n} build(s) of {owner}, which is no longer running");
                }
            }
        }
        let handle = worker.handle();
        let thread = std::thread::Builder::new().name(format!("worker-{i}")).spawn(move || worker.run())?;
        out.push((handle, thread));
    }
    Ok(out)
}

fn stop_workers(workers: Vec<(tailor_worker::WorkerHandle, std::thread::JoinHandle<()>)>) {
    for (h, _) in &workers {
        h.stop();
    }
    for (_, t) in workers {
        let _ = t.join();
    }
}

async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The variable `webhook_upstreams` from `--webhook-upstream NAME=HOST` and the file's table; each
/// host must be a declared upstream and each name a webhook endpoint.
fn webhook_upstreams_variable(
    flags: &[String],
    file: &BTreeMap<String, String>,
    endpoints: &str,
    upstreams: &tailor_mirror::Upstreams,
) -> Result<String> {
    let mut bound = file.clone();
    for w in flags {
        let Some((name, host)) = w.split_once('=') else { bail!("--webhook-upstream {w:?}: expected NAME=HOST") };
        bound.insert(name.trim().to_owned(), host.trim().to_owned());
    }
    for (name, host) in &bound {
        if upstreams.get(host).is_none() {
            bail!(
                "--webhook-upstream {name}={host}: {host} is not a declared upstream (declare it with --upstream {host}=URL)"
            );
        }
    }
    let text: Vec<String> = bound.iter().map(|(n, h)| format!("{n}={h}")).collect();
    let text = text.join("\n");
    tailor_webhook::Endpoints::parse(endpoints)
        .and_then(|e| e.with_upstreams(&text))
        .map_err(|e| anyhow::anyhow!("webhook endpoints: {e}"))?;
    Ok(text)
}

fn webhook_variable(flags: &[String], file: &BTreeMap<String, String>) -> Result<String> {
    let mut endpoints = file.clone();
    for w in flags {
        let Some((name, secret)) = w.split_once('=') else { bail!("--webhook {w:?}: expected NAME=SECRET") };
        endpoints.insert(name.trim().to_owned(), secret.trim().to_owned());
    }
    let text: Vec<String> = endpoints.iter().map(|(n, s)| format!("{n}={s}")).collect();
    let text = text.join("\n");
    tailor_webhook::Endpoints::parse(&text).map_err(|e| anyhow::anyhow!("webhook endpoints: {e}"))?;
    Ok(text)
}

/// How often a long-running process gives the allocator's free memory back (without it,
/// glibc keeps what builds freed and the resident size creeps up with every fan-out).
const TRIM_EVERY: Duration = Duration::from_secs(10);

pub fn up(args: UpArgs) -> Result<()> {
    let workers = args.workers;
    serve_functions(args.serve, Role::Up, workers)
}

/// `tailor serve`: the functions alone; builds are left to `tailor worker` processes.
pub fn serve(args: ServeArgs) -> Result<()> {
    serve_functions(args, Role::Serve, Some(0))
}

fn serve_functions(args: ServeArgs, role: Role, workers: Option<usize>) -> Result<()> {
    let name = if role == Role::Up { "tailor up" } else { "tailor serve" };
    let settings = Settings::resolve(&args.service, role)?;
    let file = &settings.file;
    let listen = args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let manifest = match args.manifest.clone().or_else(|| file.manifest.clone()) {
        Some(path) => tailor_host::ManifestSource::File(path),
        None => crate::embedded::source(),
    };
    let workers = workers.or(file.workers).unwrap_or(1);
    let mut opts = tailor_host::ServeOptions::new(manifest, &settings.data);
    opts.limits.timeout = parse_duration(&args.request_timeout).context("--request-timeout")?;
    if opts.limits.timeout.is_zero() {
        bail!("--request-timeout must be more than 0");
    }
    opts.limits.memory = args.request_memory << 20;
    opts.max_body = args.max_body;
    opts.postgres_connections = args.database_connections.max(1);
    opts.postgres_transactions = args.database_transactions.max(1);
    opts.auth_failures = args.auth_failures;
    opts.variables.extend(file.variables.clone());
    let endpoints = webhook_variable(&args.webhooks, &file.webhooks)?;
    let upstreams = &settings.worker.upstreams;
    let bound = webhook_upstreams_variable(&args.webhook_upstreams, &file.webhook_upstreams, &endpoints, upstreams)?;
    opts.variables.insert("webhook_endpoints".into(), endpoints);
    opts.variables.insert("webhook_upstreams".into(), bound);
    opts.variables.insert("upstream_hosts".into(), upstreams.hosts().join(","));
    if tailor_store::is_postgres_url(&settings.database) {
        // The functions open PostgreSQL themselves (spin:postgres), allowed only this host.
        opts.variables.insert("database_url".into(), settings.database.clone());
        opts.variables.insert("database_host".into(), tailor_store::postgres_host_port(&settings.database)?);
        opts.database = None;
    } else {
        opts.database = Some(PathBuf::from(&settings.database));
    }
    opts.ops = Some(tailor_host::OpsHandle(crate::ops::StoreOps::open(
        &settings.database,
        if role == Role::Up { "up" } else { "serve" },
    )?));
    tailor_trim::every(TRIM_EVERY)?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.get());
    }
    let runtime = runtime.enable_all().build()?;
    runtime.block_on(async {
        let app = tailor_host::App::load(&opts).await?;
        let (listener, addr) = tailor_host::bind(listen).await?;
        let running = start_workers(&settings.worker, "up", workers)?;
        eprintln!(
            "{name}: data in {}; store {}; images in {}; {} worker(s); {} allocator; upstreams: {}",
            settings.data.display(),
            tailor_store::redact_url(&settings.database),
            settings.worker.target.describe(),
            workers,
            if app.pooling { "pooling" } else { "on-demand" },
            if upstreams.is_empty() { "none".to_owned() } else { upstreams.hosts().join(", ") }
        );
        println!("listening on http://{addr}");
        app.serve(listener, terminated()).await?;
        eprintln!("{name}: stopping (finishing builds in progress)");
        tokio::task::spawn_blocking(move || stop_workers(running)).await?;
        anyhow::Ok(())
    })
}

pub fn worker(args: WorkerArgs) -> Result<()> {
    let settings = Settings::resolve(&args.service, Role::Worker)?;
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    tailor_trim::every(TRIM_EVERY)?;
    let running = start_workers(&settings.worker, "worker", args.workers)?;
    eprintln!(
        "tailor worker: {} worker(s); images in {}; store {}",
        args.workers,
        settings.worker.target.describe(),
        tailor_store::redact_url(&settings.database)
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    runtime.block_on(async {
        if let Some(addr) = args.listen {
            let ops = crate::ops::StoreOps::open(&settings.database, "worker")?;
            let (listener, addr) = tailor_host::bind(addr).await?;
            eprintln!("tailor worker: /healthz, /readyz and /metrics on http://{addr}");
            println!("listening on http://{addr}");
            tailor_host::serve_ops(listener, ops, terminated()).await;
        } else {
            terminated().await;
        }
        anyhow::Ok(())
    })?;
    eprintln!("tailor worker: stopping (finishing the build in progress)");
    stop_workers(running);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{ConfigFile, parse_duration, webhook_variable};
    use std::collections::BTreeMap;
    use std::time::Duration;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn config_file() {
        let c: ConfigFile = toml::from_str(
            "listen = \"127.0.0.1:9000\"\nregistry = \"http://r:5000\"\ndebounce = \"1s\"\n\
             [webhooks]\nreg = \"s1\"\n[variables]\nx = \"y\"\n",
        )
        .unwrap();
        assert_eq!(c.listen.unwrap().port(), 9000);
        assert_eq!(c.webhooks["reg"], "s1");
        assert_eq!(c.variables["x"], "y");
        assert!(toml::from_str::<ConfigFile>("lisen = 1").is_err(), "unknown keys are refused");
        // Flags add to (and override) the file's endpoints; a bad one is refused by name.
        let text = webhook_variable(&["hub=s2".into(), "reg=s3".into()], &c.webhooks).unwrap();
        assert_eq!(text, "hub=s2\nreg=s3");
        assert!(
            webhook_variable(&["nosecret".into()], &BTreeMap::new()).unwrap_err().to_string().contains("NAME=SECRET")
        );
        assert!(webhook_variable(&["Bad Name=x".into()], &BTreeMap::new()).is_err());
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("m").is_err());
    }
}
