//! A bearer token server for Distribution's `auth.token`: minimal HTTP/1.1 on 127.0.0.1 in a
//! thread of the test process, Basic credentials checked, ES256 JWTs signed with a self-signed
//! P-256 certificate (made by openssl) that the registry trusts as its `rootcertbundle`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;

use super::{require_tool, run};

/// One request the token server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The Basic user name sent, if any.
    pub user: Option<String>,
    /// `scope=` parameters, in order.
    pub scopes: Vec<String>,
    pub service: Option<String>,
    /// Whether a token was issued (false: 401).
    pub granted: bool,
}

struct Shared {
    key: SigningKey,
    /// Base64 (standard) DER of the certificate: the JWT `x5c`.
    cert_b64: String,
    issuer: String,
    credentials: Option<(String, String)>,
    requests: Mutex<Vec<TokenRequest>>,
    counter: AtomicU64,
}

pub struct TokenServer {
    port: u16,
    cert_path: PathBuf,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenServer {
    /// Make a key and certificate in `dir` and serve tokens from `issuer`. With `credentials`,
    /// only that user and password get tokens; without, anyone does.
    pub fn start(dir: &Path, issuer: &str, credentials: Option<(String, String)>) -> TokenServer {
        require_tool("openssl", "openssl");
        let key_path = dir.join("token-key.pem");
        let cert_path = dir.join("token-cert.pem");
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .arg("-keyout")
            .arg(&key_path)
            .arg("-out")
            .arg(&cert_path)
            .args(["-days", "3650", "-subj", "/CN=tailor e2e token issuer"]));
        let key_pem = std::fs::read_to_string(&key_path).expect("reading the token key");
        let key = SigningKey::from_pkcs8_pem(&key_pem).expect("openssl wrote a PKCS#8 P-256 key");
        let cert_pem = std::fs::read_to_string(&cert_path).expect("reading the token certificate");
        // The PEM body is the base64 of the DER certificate: exactly what x5c wants.
        let cert_b64: String = cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();

        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the token server");
        let port = listener.local_addr().expect("token server address").port();
        let shared = Arc::new(Shared {
            key,
            cert_b64,
            issuer: issuer.to_string(),
            credentials,
            requests: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let shared = shared.clone();
                        std::thread::spawn(move || handle(stream, &shared));
                    }
                }
            })
        };
        TokenServer { port, cert_path, shared, stop, thread: Some(thread) }
    }

    /// The realm to configure: `http://127.0.0.1:PORT/token`.
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The certificate the registry must trust (`auth.token.rootcertbundle`).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.shared.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(reader_stream) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader_stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_string());
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/token" {
        respond(&mut stream, "404 Not Found", "text/plain", "not found\n");
        return;
    }
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let scopes: Vec<String> = params.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.clone()).collect();
    let service = params.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone());
    let sent = authorization.as_deref().and_then(basic_credentials);
    let granted = match &shared.credentials {
        None => true,
        Some(expected) => sent.as_ref() == Some(expected),
    };
    let user = sent.map(|(u, _)| u);
    shared.requests.lock().unwrap_or_else(|p| p.into_inner()).push(TokenRequest {
        user: user.clone(),
        scopes: scopes.clone(),
        service: service.clone(),
        granted,
    });
    if !granted {
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"wrong user name or password"}]}"#;
        respond(&mut stream, "401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"token\"", "application/json", body);
        return;
    }
    let token = jwt(shared, user.as_deref().unwrap_or(""), service.as_deref().unwrap_or(""), &scopes);
    let body = serde_json::json!({ "token": token, "access_token": token, "expires_in": 300 }).to_string();
    respond(&mut stream, "200 OK", "application/json", &body);
}

/// `status` may carry extra header lines after the reason phrase.
fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An ES256 JWT granting every requested action: header with `x5c`, claims as Distribution
/// 2.8 checks them (`iss`, `aud` = service, `exp`, `nbf`, `access`), signature raw r||s.
fn jwt(shared: &Shared, subject: &str, service: &str, scopes: &[String]) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .flat_map(|s| s.split(' '))
        .filter_map(|s| {
            // type:name:actions, where the name may itself contain ':' (host:port/repo).
            let (kind, rest) = s.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
            Some(serde_json::json!({ "type": kind, "name": name, "actions": actions }))
        })
        .collect();
    let header = serde_json::json!({ "typ": "JWT", "alg": "ES256", "x5c": [shared.cert_b64] });
    let claims = serde_json::json!({
        "iss": shared.issuer,
        "sub": subject,
        "aud": service,
        "exp": now + 300,
        "nbf": now.saturating_sub(30),
        "iat": now,
        "jti": format!("tailor-e2e-{}-{now}", shared.counter.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature: Signature = shared.key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

#[test]
fn token_server_percent_decoding() {
    assert_eq!(percent_decode("repository%3Aacme%2Fx%3Apull%2Cpush"), "repository:acme/x:pull,push");
    assert_eq!(percent_decode("a+b%2"), "a b%2");
    assert_eq!(percent_decode("%zz%"), "%zz%");
}
