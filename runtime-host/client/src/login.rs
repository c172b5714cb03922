//! Where the service is and which token to use: `--server`/`--token` (or `TAILOR_SERVER` and
//! `TAILOR_TOKEN`), else what `tailor login` saved — in `$TAILOR_CONFIG`, or
//! `$XDG_CONFIG_HOME/tailor/login.toml`, or `~/.config/tailor/login.toml`, readable by its
//! owner only. A saved token is only ever sent to the server it was saved for.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// `http://127.0.0.1:8080`: scheme, host, port and an optional path prefix, no trailing `/`.
    pub server: String,
    pub token: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("server", &self.server).field("token", &"<redacted>").finish()
    }
}

/// Where the login in use came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginSource {
    /// Flags or environment variables.
    Given,
    /// The file `tailor login` wrote.
    Saved(PathBuf),
}

/// The file `tailor login` writes, from the environment given as a lookup.
pub fn config_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(p) = set("TAILOR_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base =
        set("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| set("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("tailor").join("login.toml"))
}

/// `server` as a base URL: `http`/`https`, a host, no credentials, query or fragment; the
/// trailing `/` dropped. A bare `host:port` is refused (say which scheme).
pub fn normalize_server(server: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::Input(format!("--server `{server}`: {why}; e.g. http://127.0.0.1:8080"));
    let s = server.trim();
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| bad("give the scheme, http:// or https://"))?;
    let uri: http::Uri = s.parse().map_err(|_| bad("not a URL"))?;
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("credentials do not go in the URL: pass --token"));
    }
    if authority.host().is_empty() {
        return Err(bad("no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("no query or fragment"));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// The login to use: `server` and `token` as given (flags or environment), completed from
/// `saved` — whose token is used only for its own server.
pub fn resolve(
    server: Option<&str>,
    token: Option<&str>,
    saved: Option<(Login, PathBuf)>,
) -> Result<(Login, LoginSource), Error> {
    let server = server.filter(|s| !s.is_empty()).map(normalize_server).transpose()?;
    let token = token.filter(|t| !t.is_empty()).map(str::to_owned);
    let how = "sign in with `tailor login --server URL --token TOKEN`, or set TAILOR_SERVER and TAILOR_TOKEN";
    match (server, token, saved) {
        (Some(server), Some(token), _) => Ok((Login { server, token }, LoginSource::Given)),
        (None, Some(token), Some((s, _))) => Ok((Login { server: s.server, token }, LoginSource::Given)),
        (None, None, Some((s, path))) => Ok((s, LoginSource::Saved(path))),
        (Some(server), None, Some((s, path))) if s.server == server => Ok((s, LoginSource::Saved(path))),
        (Some(server), None, _) => Err(Error::NotSignedIn(format!("no token for {server}: {how}"))),
        (None, _, None) => Err(Error::NotSignedIn(format!("not signed in: {how}"))),
    }
}

/// The saved login, if any.
pub fn load(path: &Path) -> Result<Option<Login>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Input(format!("{}: {e}", path.display()))),
    };
    let login: Login = toml::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "{}: not a login file ({}); sign in again with `tailor login`",
            path.display(),
            e.message()
        ))
    })?;
    normalize_server(&login.server)
        .map_err(|e| Error::Input(format!("{}: {e}; sign in again with `tailor login`", path.display())))?;
    Ok(Some(login))
}

/// Saves `login` for later commands: written whole (a temporary file renamed), mode 0600, in a
/// directory only its owner can enter.
pub fn save(path: &Path, login: &Login) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Input(format!("saving the login to {}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let text = toml::to_string(login).map_err(|e| Error::Input(format!("encoding the login: {e}")))?;
    let tmp = dir.join(format!(".login.{}.tmp", std::process::id()));
    write_private(&tmp, text.as_bytes()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 && dir.file_name().is_some_and(|n| n == "tailor") {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Forgets the saved login; whether there was one.
pub fn remove(path: &Path) -> Result<bool, Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::Input(format!("{}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(server: &str, token: &str) -> Login {
        Login { server: server.into(), token: token.into() }
    }

    #[test]
    fn servers_are_base_urls() {
        assert_eq!(normalize_server("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(normalize_server("https://tailor.example/api").unwrap(), "https://tailor.example/api");
        for bad in
            ["127.0.0.1:8080", "ftp://x", "http://", "http://u:p@host", "http://h/?a=1", "http://h/#x", "http://a b"]
        {
            let e = normalize_server(bad).unwrap_err();
            assert!(matches!(&e, Error::Input(m) if m.contains(bad)), "{bad}: {e:?}");
        }
    }

    #[test]
    fn a_saved_token_goes_only_to_its_own_server() {
        let saved = || Some((login("http://a:1", "tok-a"), PathBuf::from("/cfg")));
        let (l, src) = resolve(None, None, saved()).unwrap();
        assert_eq!((l, src), (login("http://a:1", "tok-a"), LoginSource::Saved("/cfg".into())));
        assert_eq!(resolve(Some("http://a:1/"), None, saved()).unwrap().0.token, "tok-a");
        let other = resolve(Some("http://b:2"), None, saved()).unwrap_err();
        assert!(matches!(&other, Error::NotSignedIn(m) if m.contains("no token for http://b:2")), "{other:?}");
        assert_eq!(resolve(None, Some("t2"), saved()).unwrap().0, login("http://a:1", "t2"));
        assert_eq!(resolve(Some("http://b:2"), Some("t"), None).unwrap().1, LoginSource::Given);
        assert!(matches!(resolve(None, None, None), Err(Error::NotSignedIn(_))));
        assert!(matches!(resolve(None, Some("t"), None), Err(Error::NotSignedIn(_))));
        assert!(!format!("{:?}", login("http://a", "secret")).contains("secret"));
    }

    #[test]
    fn the_login_file_is_private_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/tailor/login.toml");
        assert_eq!(load(&path).unwrap(), None);
        save(&path, &login("http://a:1", "one")).unwrap();
        save(&path, &login("http://a:1", "two")).unwrap();
        assert_eq!(load(&path).unwrap(), Some(login("http://a:1", "two")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o077, 0);
        }
        std::fs::write(&path, "server = 3\n").unwrap();
        assert!(matches!(load(&path), Err(Error::Input(m)) if m.contains("not a login file")));
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
        let env = |k: &str| match k {
            "XDG_CONFIG_HOME" => Some("/x".to_owned()),
            "HOME" => Some("/h".to_owned()),
            _ => None,
        };
        assert_eq!(config_path(env), Some(PathBuf::from("/x/tailor/login.toml")));
        assert_eq!(config_path(|k| (k == "HOME").then(|| "/h".into())), Some("/h/.config/tailor/login.toml".into()));
        assert_eq!(config_path(|k| (k == "TAILOR_CONFIG").then(|| "/c.toml".into())), Some("/c.toml".into()));
    }
}
