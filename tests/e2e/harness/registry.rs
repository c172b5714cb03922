//! A real Distribution registry (`docker-registry serve`) on a free loopback port, with its
//! storage in a temporary directory; killed (with its process group) on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tailor_oci::RegistryConfig;

use super::token::{TokenRequest, TokenServer};
use super::{free_port, require_tool, run};

/// The `service` and `issuer` of token-auth registries.
pub const TOKEN_SERVICE: &str = "tailor-e2e-registry";
pub const TOKEN_ISSUER: &str = "tailor-e2e-token-issuer";

/// How to configure a [`Registry`].
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// The one user (name, password). Without `token_auth`: htpasswd (Basic) auth. With
    /// `token_auth`: the credentials the token server accepts.
    pub htpasswd: Option<(String, String)>,
    /// Bearer-token auth through a [`TokenServer`] in this process. Without `htpasswd` the
    /// token server gives tokens to anyone (still exercising the bearer flow).
    pub token_auth: bool,
    /// `notifications.endpoints[0].url`: where the registry POSTs its events.
    pub notifications_url: Option<String>,
    /// Headers the registry sends with each notification (e.g. `Authorization: Bearer …`).
    pub notifications_headers: Vec<(String, String)>,
}

impl RegistryOptions {
    /// Notifications of every push to the `reg` webhook (secret `reg-secret`) of a service
    /// listening on `port`.
    pub fn notifying(port: u16) -> RegistryOptions {
        RegistryOptions {
            notifications_url: Some(format!("http://127.0.0.1:{port}/v1/hooks/reg")),
            notifications_headers: vec![("Authorization".into(), "Bearer reg-secret".into())],
            ..RegistryOptions::default()
        }
    }
}

pub struct Registry {
    port: u16,
    // Declared before `dir` so the process stops before its storage is deleted.
    child: Child,
    token: Option<TokenServer>,
    options: RegistryOptions,
    dir: tempfile::TempDir,
}

impl Registry {
    /// An anonymous registry with deletes enabled.
    pub fn start() -> Registry {
        Registry::start_with(RegistryOptions::default())
    }

    pub fn start_with(options: RegistryOptions) -> Registry {
        require_tool("docker-registry", "docker-registry");
        let dir = tempfile::Builder::new().prefix("tailor-registry-").tempdir().expect("creating a temp dir");
        let token = options.token_auth.then(|| TokenServer::start(dir.path(), TOKEN_ISSUER, options.htpasswd.clone()));
        if let (Some((user, pass)), false) = (&options.htpasswd, options.token_auth) {
            require_tool("htpasswd", "apache2-utils");
            let out = run(Command::new("htpasswd").args(["-Bbn", user, pass]));
            std::fs::write(dir.path().join("htpasswd"), out.stdout).expect("writing htpasswd");
        }
        let config_path = dir.path().join("config.yml");
        let log_path = dir.path().join("registry.log");
        let mut last_log = String::new();
        // The port is free when chosen but may be taken before the registry binds it: retry.
        for _ in 0..5 {
            let port = free_port();
            std::fs::write(&config_path, config_yaml(dir.path(), port, &options, token.as_ref()))
                .expect("writing the registry config");
            let mut child = spawn(&config_path, &log_path);
            match wait_ready(&mut child, port, &log_path) {
                Ok(()) => {
                    return Registry { port, child, token, options, dir };
                }
                Err(log) => {
                    kill_group(&mut child);
                    if !log.contains("address already in use") {
                        panic!("docker-registry did not start (config {}):\n{log}", config_path.display());
                    }
                    last_log = log;
                }
            }
        }
        panic!("docker-registry did not start; last log:\n{last_log}");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, for image references (`127.0.0.1:PORT/acme/x:tag`).
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The configured user, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.options.htpasswd.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// A client configuration for this registry with its credentials (if any).
    pub fn client_config(&self) -> RegistryConfig {
        let config = RegistryConfig::new(self.url());
        match self.credentials() {
            Some((u, p)) => config.with_credentials(u, p),
            None => config,
        }
    }

    /// The registry's storage root (`…/docker/registry/v2/{blobs,repositories}` below it).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where the registry keeps the bytes of a blob (`sha256:<hex>`).
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage_dir().join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    /// Stores `bytes` as the manifest of `repo:tag` by writing the registry's storage directly
    /// (as its filesystem driver lays it out), bypassing its checks: a hostile registry's
    /// content — an oversized manifest, one naming blobs that do not exist — served by the real
    /// registry. Returns the digest.
    pub fn store_manifest_directly(&self, repo: &str, tag: &str, bytes: &[u8]) -> String {
        let hex = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        let digest = format!("sha256:{hex}");
        let v2 = self.storage_dir().join("docker/registry/v2");
        let data = v2.join("blobs/sha256").join(&hex[..2]).join(&hex).join("data");
        let manifests = v2.join("repositories").join(repo).join("_manifests");
        let links = [
            manifests.join("revisions/sha256").join(&hex).join("link"),
            manifests.join("tags").join(tag).join("current/link"),
            manifests.join("tags").join(tag).join("index/sha256").join(&hex).join("link"),
        ];
        std::fs::create_dir_all(data.parent().unwrap()).unwrap();
        std::fs::write(&data, bytes).unwrap();
        for link in links {
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::fs::write(link, &digest).unwrap();
        }
        digest
    }

    /// Live upload sessions the registry holds for `repo` (`_uploads/<id>` with a `startedat`).
    /// Distribution 2.8 leaves `_uploads/<id>/hashstates/` behind after a cancelled (DELETEd)
    /// session; that session is gone for the API (404), so it is not counted.
    pub fn open_uploads(&self, repo: &str) -> Vec<String> {
        let dir = self.storage_dir().join("docker/registry/v2/repositories").join(repo).join("_uploads");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("startedat").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Requests the token server answered (token-auth registries only; else empty).
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.token.as_ref().map(TokenServer::requests).unwrap_or_default()
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// Ready when the registry logged that it listens and `GET /v2/` gets any HTTP answer (200,
/// or 401 with auth). Err(log) otherwise.
fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let read_log = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}\n{}", read_log()));
        }
        // Another process may hold the port: only our registry's own log line counts.
        if read_log().contains(&format!("listening on 127.0.0.1:{port}")) && http_answers(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("no answer on port {port} within 30 s\n{}", read_log()))
}

/// Kill the child's process group (it leads one: the watchdog shell and the registry).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).stderr(Stdio::null()).status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Start the registry under a watchdog shell in a new process group; the watchdog stops the
/// registry when this test process goes away (even by SIGKILL, when no Drop runs).
fn spawn(config: &Path, log: &Path) -> Child {
    let log_file = std::fs::File::create(log).expect("creating the registry log");
    let log_err = log_file.try_clone().expect("cloning the log handle");
    let watchdog = r#"docker-registry serve "$1" & r=$!
trap 'kill $r 2>/dev/null; exit 0' TERM INT HUP
while kill -0 "$2" 2>/dev/null && kill -0 "$r" 2>/dev/null; do sleep 1; done
kill "$r" 2>/dev/null
wait "$r""#;
    Command::new("sh")
        .arg("-c")
        .arg(watchdog)
        .arg("tailor-e2e-registry")
        .arg(config)
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .expect("starting docker-registry")
}

fn http_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// YAML double-quoted strings accept JSON string syntax.
fn quoted(s: impl AsRef<str>) -> String {
    serde_json::to_string(s.as_ref()).expect("a string serializes")
}

fn config_yaml(dir: &Path, port: u16, options: &RegistryOptions, token: Option<&TokenServer>) -> String {
    let storage = dir.join("storage");
    let mut y = format!(
        "version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: tailor-e2e-http-secret
",
        storage = quoted(storage.to_string_lossy()),
    );
    if let Some(token) = token {
        y.push_str(&format!(
            "auth:
  token:
    realm: {realm}
    service: {service}
    issuer: {issuer}
    rootcertbundle: {cert}
",
            realm = quoted(token.realm()),
            service = quoted(TOKEN_SERVICE),
            issuer = quoted(TOKEN_ISSUER),
            cert = quoted(token.cert_path().to_string_lossy()),
        ));
    } else if options.htpasswd.is_some() {
        y.push_str(&format!(
            "auth:
  htpasswd:
    realm: tailor-e2e
    path: {}
",
            quoted(dir.join("htpasswd").to_string_lossy())
        ));
    }
    if let Some(url) = &options.notifications_url {
        y.push_str(&format!(
            "notifications:
  events:
    includereferences: true
  endpoints:
    - name: tailor
      url: {}
      timeout: 2s
      threshold: 5
      backoff: 1s
",
            quoted(url)
        ));
        if !options.notifications_headers.is_empty() {
            y.push_str("      headers:\n");
            for (name, value) in &options.notifications_headers {
                y.push_str(&format!("        {}: [{}]\n", quoted(name), quoted(value)));
            }
        }
    }
    y
}
