//! `tailor up` as a process: the real host serving the real components from the workspace's
//! spin.toml (built for wasm32-wasip2 once per test run), its data directory, tokens, and an
//! HTTP client for it. Stopped (SIGKILL) on drop unless stopped before.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::http::{self, Response};
use super::run;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Builds the functions, the misbehaving test component, the example extensions and the
/// hostile test extensions for wasm32-wasip2, once.
pub fn build_components() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo).current_dir(root()).args([
            "build",
            "-q",
            "--profile",
            "wasm",
            "--target",
            "wasm32-wasip2",
            "-p",
            "tailor-api",
            "-p",
            "tailor-webhook",
            "-p",
            "tailor-ui",
            "-p",
            "tailor-test-misbehave",
            "-p",
            "tailor-extension-deny-packages",
            "-p",
            "tailor-extension-required-labels",
            "-p",
            "tailor-extension-no-setuid",
            "-p",
            "tailor-test-hostile-extension",
            "-p",
            "tailor-test-sneaky-extension",
        ]));
    });
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// The wasm (profile `wasm`, as spin.toml names them) of `crate_snake` (e.g. `tailor_test_misbehave`).
pub fn wasm(crate_snake: &str) -> PathBuf {
    target_dir().join(format!("wasm32-wasip2/wasm/{crate_snake}.wasm"))
}

/// The workspace's spin.toml, unchanged except that its component sources point into the
/// target directory actually used (`CARGO_TARGET_DIR` may move it), written into `dir`.
pub fn workspace_manifest(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("spin.toml")).expect("reading spin.toml");
    let target = format!("source = \"{}/", target_dir().display());
    let text = text.replace("source = \"target/", &target);
    assert!(text.contains(&target), "spin.toml's sources are expected under target/");
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub struct ServiceOptions {
    /// `up` (functions and workers), `serve` (functions only) or `worker` (workers only; it
    /// listens for /healthz, /readyz and /metrics).
    pub command: &'static str,
    /// `--database`: a `postgres://` URL; None = SQLite in the data directory.
    pub database: Option<String>,
    /// `--registry URL`; None = the embedded layout store.
    pub registry: Option<String>,
    pub webhooks: Vec<(String, String)>,
    /// The manifest; None = the workspace's spin.toml.
    pub manifest: Option<PathBuf>,
    pub workers: usize,
    /// `--listen` port; None = a free one.
    pub port: Option<u16>,
    /// `--poll-interval`; None = `0` (never: tests push notifications or ask for builds).
    pub poll_interval: Option<String>,
    pub extra: Vec<String>,
}

impl ServiceOptions {
    /// `tailor up` on `port` storing images in `registry`, whose notifications arrive at the
    /// `reg` webhook (secret `reg-secret`, see [`crate::harness::RegistryOptions::notifying`]).
    pub fn notified_by(registry: &crate::harness::Registry, port: u16) -> ServiceOptions {
        ServiceOptions {
            registry: Some(registry.url()),
            webhooks: vec![("reg".into(), "reg-secret".into())],
            port: Some(port),
            ..ServiceOptions::default()
        }
    }
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            command: "up",
            database: None,
            registry: None,
            webhooks: Vec::new(),
            manifest: None,
            workers: 1,
            port: None,
            poll_interval: None,
            extra: Vec::new(),
        }
    }
}

pub struct Service {
    child: Option<Child>,
    pub addr: String,
    pub data: PathBuf,
    pub database: Option<String>,
    log: PathBuf,
    /// The tokens made for this service and its webhook secrets: on drop, its log is checked
    /// for each (RELIABILITY.md: secrets are never logged — over every e2e test's service).
    secrets: std::sync::Mutex<Vec<String>>,
}

impl Service {
    /// Starts `tailor up` on `data` and waits until it listens.
    pub fn start(data: &Path, opts: &ServiceOptions) -> Service {
        build_components();
        let port = opts.port.unwrap_or_else(super::free_port);
        std::fs::create_dir_all(data).unwrap();
        // One log per start (a restart on the same data gets a new port, so a new log).
        let log = data.with_extension(format!("log.{port}"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(crate::build::fixtures::tailor_bin());
        cmd.arg(opts.command).arg("--data").arg(data).args(["--listen", &format!("127.0.0.1:{port}")]);
        if opts.command != "worker" {
            let manifest = opts.manifest.clone().unwrap_or_else(|| workspace_manifest(data));
            cmd.arg("--manifest").arg(&manifest);
        }
        if opts.command != "serve" {
            cmd.args(["--workers", &opts.workers.to_string()]);
        }
        if let Some(url) = &opts.database {
            cmd.args(["--database", url]);
        }
        cmd.args(["--poll-interval", opts.poll_interval.as_deref().unwrap_or("0")])
            .env("HOME", std::env::temp_dir())
            .env_remove("TAILOR_REGISTRY_USER")
            .env_remove("TAILOR_REGISTRY_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(log_file);
        if let Some(url) = &opts.registry {
            cmd.args(["--registry", url]);
        }
        for (name, secret) in &opts.webhooks {
            cmd.arg("--webhook").arg(format!("{name}={secret}"));
        }
        cmd.args(&opts.extra);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("starting tailor {}: {e}", opts.command));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("tailor {} did not start:\n{}", opts.command, std::fs::read_to_string(&log).unwrap_or_default());
            }
        };
        let secrets = opts.webhooks.iter().map(|(_, secret)| secret.clone()).collect();
        Service {
            child: Some(child),
            addr,
            data: data.to_owned(),
            database: opts.database.clone(),
            log,
            secrets: std::sync::Mutex::new(secrets),
        }
    }

    /// What the host wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (to signal it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `tailor token create --org ORG --role ROLE` on this service's store: the secret.
    pub fn token(&self, org: &str, role: &str) -> String {
        let mut cmd = Command::new(crate::build::fixtures::tailor_bin());
        cmd.args(["token", "create", "--org", org, "--role", role, "--data"]).arg(&self.data);
        if let Some(url) = &self.database {
            cmd.args(["--database", url]);
        }
        let out = run(&mut cmd);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let token = text.lines().last().expect("a token on the last line").to_owned();
        self.secrets.lock().unwrap().push(token.clone());
        token
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("authorization", a));
        }
        http::request(&self.addr, method, path, &all, body)
    }

    pub fn get(&self, path: &str, token: &str) -> Response {
        self.request("GET", path, Some(token), &[], b"")
    }

    pub fn post_json(&self, path: &str, token: &str, body: &serde_json::Value) -> Response {
        self.request("POST", path, Some(token), &[("content-type", "application/json")], body.to_string().as_bytes())
    }

    /// SIGTERM, then wait (bounded) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        run(Command::new("kill").args(["-TERM", &child.id().to_string()]));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("tailor up did not stop within 60 s of SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL (a crash): no cleanup at all.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Polls `f` every 100 ms until it returns Some, for at most `timeout`.
    pub fn wait_for<T>(&self, what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}\n--- tailor up log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            return;
        }
        let log = self.log();
        for secret in self.secrets.lock().unwrap().iter().filter(|s| s.len() >= 6) {
            assert!(!log.contains(secret.as_str()), "a token or webhook secret is in the service log:\n{log}");
        }
    }
}

/// `tailor artifact push` of a directory made of `files` (path, content) to `registry_url`
/// as `reference` for `platforms` (comma-separated).
pub fn push_files(registry_url: &str, reference: &str, platforms: &str, files: &[(&str, &[u8])]) {
    let src = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = src.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let o = crate::build::fixtures::tailor(
        &[
            "artifact",
            "push",
            src.path().to_str().unwrap(),
            "--tag",
            reference,
            "--platform",
            platforms,
            "--registry",
            registry_url,
            "-q",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", crate::build::fixtures::stderr(&o));
}
