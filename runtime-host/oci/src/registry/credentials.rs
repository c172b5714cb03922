//! Registry credentials: given explicitly, from the environment, or from docker's `config.json`.

use std::path::PathBuf;

use base64::Engine as _;

/// Environment variable naming the registry user (used together with [`ENV_PASSWORD`]).
pub const ENV_USER: &str = "TAILOR_REGISTRY_USER";
/// Environment variable holding the registry password or token.
pub const ENV_PASSWORD: &str = "TAILOR_REGISTRY_PASSWORD";

/// A user name and password (or token) for Basic authentication at a registry or at its
/// bearer token endpoint. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials { username: username.into(), password: password.into() }
    }

    /// Credentials for `registry_host` (`127.0.0.1:5000`, `ghcr.io`): first the environment
    /// (`TAILOR_REGISTRY_USER` + `TAILOR_REGISTRY_PASSWORD`), then docker's `config.json`
    /// (`$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`; only inline `auths`
    /// entries — credential helpers are not run).
    pub fn lookup(registry_host: &str) -> Option<Credentials> {
        if let (Ok(username), Ok(password)) = (std::env::var(ENV_USER), std::env::var(ENV_PASSWORD))
            && !username.is_empty()
        {
            return Some(Credentials { username, password });
        }
        Credentials::from_docker_config(registry_host)
    }

    /// Credentials for `registry_host` from docker's `config.json` only (never the environment).
    pub fn from_docker_config(registry_host: &str) -> Option<Credentials> {
        let path = docker_config_path()?;
        let text = std::fs::read_to_string(path).ok()?;
        from_docker_config(&text, registry_host)
    }

    /// The value of an `Authorization: Basic …` header.
    pub(crate) fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|d| !d.is_empty())?;
    Some(PathBuf::from(home).join(".docker/config.json"))
}

/// The host part of an `auths` key: `https://ghcr.io/v2/` → `ghcr.io`.
fn key_host(key: &str) -> String {
    let k = key.trim();
    let k = k.strip_prefix("https://").or_else(|| k.strip_prefix("http://")).unwrap_or(k);
    k.split('/').next().unwrap_or_default().to_ascii_lowercase()
}

/// Docker Hub is stored under its legacy index address.
fn host_aliases(host: &str) -> Vec<String> {
    let h = host.trim().to_ascii_lowercase();
    let h = key_host(&h);
    match h.as_str() {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => {
            vec!["index.docker.io".into(), "docker.io".into(), "registry-1.docker.io".into()]
        }
        _ => vec![h],
    }
}

/// Credentials for `registry_host` from the text of a docker `config.json`.
pub(crate) fn from_docker_config(json: &str, registry_host: &str) -> Option<Credentials> {
    let doc: serde_json::Value = serde_json::from_str(json).ok()?;
    let auths = doc.get("auths")?.as_object()?;
    let wanted = host_aliases(registry_host);
    // An exact key wins over one that only matches after normalisation.
    let exact = auths.iter().filter(|(k, _)| k.as_str() == registry_host);
    let normalised = auths.iter().filter(|(k, _)| wanted.contains(&key_host(k)));
    exact.chain(normalised).find_map(|(_, entry)| entry_credentials(entry))
}

fn entry_credentials(entry: &serde_json::Value) -> Option<Credentials> {
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()).filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(auth.trim()))
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, pass) = text.split_once(':')?;
        if user.is_empty() {
            return None;
        }
        return Some(Credentials::new(user, pass));
    }
    let user = entry.get("username")?.as_str()?;
    let pass = entry.get("password")?.as_str()?;
    (!user.is_empty()).then(|| Credentials::new(user, pass))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn matches_keys_with_or_without_scheme_and_path() {
        let json = format!(
            r#"{{"auths": {{
                "https://ghcr.io/v2/": {{"auth": "{}"}},
                "127.0.0.1:5000": {{"auth": "{}"}},
                "http://reg.example:8443": {{"username": "u3", "password": "p3"}},
                "https://index.docker.io/v1/": {{"auth": "{}"}}
            }}}}"#,
            b64("u1:p1:with:colons"),
            b64("u2:p2"),
            b64("hub:secret")
        );
        assert_eq!(from_docker_config(&json, "ghcr.io"), Some(Credentials::new("u1", "p1:with:colons")));
        assert_eq!(from_docker_config(&json, "GHCR.io"), Some(Credentials::new("u1", "p1:with:colons")));
        assert_eq!(from_docker_config(&json, "127.0.0.1:5000"), Some(Credentials::new("u2", "p2")));
        assert_eq!(from_docker_config(&json, "reg.example:8443"), Some(Credentials::new("u3", "p3")));
        assert_eq!(from_docker_config(&json, "registry-1.docker.io"), Some(Credentials::new("hub", "secret")));
        assert_eq!(from_docker_config(&json, "127.0.0.1:5001"), None);
        assert_eq!(from_docker_config(&json, "ghcr.io.evil"), None);
    }

    #[test]
    fn ignores_garbage_and_helpers() {
        assert_eq!(from_docker_config("not json", "x"), None);
        assert_eq!(from_docker_config(r#"{"auths": []}"#, "x"), None);
        assert_eq!(from_docker_config(r#"{"credsStore": "desktop"}"#, "x"), None);
        assert_eq!(from_docker_config(r#"{"auths": {"x": {"auth": "%%%"}}}"#, "x"), None);
        assert_eq!(from_docker_config(r#"{"auths": {"x": {"auth": "bm9jb2xvbg=="}}}"#, "x"), None);
        assert_eq!(from_docker_config(r#"{"auths": {"x": {}}}"#, "x"), None);
    }

    #[test]
    fn debug_hides_password() {
        let c = Credentials::new("alice", "hunter2");
        assert_eq!(format!("{c:?}"), "Credentials(alice, ***)");
        assert_eq!(c.basic_header(), format!("Basic {}", b64("alice:hunter2")));
    }
}
