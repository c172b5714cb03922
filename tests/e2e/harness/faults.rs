//! A fault-injecting proxy in front of a real registry (a test helper): every request is
//! passed through unchanged unless a rule matches it, in which case the proxy answers itself —
//! an error status, 429 with Retry-After, or a body of its own (hostile content served in the
//! registry's name) — or passes it through badly: the registry's answer cut off or reset in
//! the middle, or only after a stall. A rule may apply to its first N matches only (a
//! transient fault). One request per connection (`Connection: close` both ways). Stopped on
//! drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy answers instead of the registry.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with a Distribution-style error body.
    Status(u16),
    /// 200 with this content type and body (and the sha256 of the body as Docker-Content-Digest).
    Body { content_type: String, body: Vec<u8> },
    /// 429 with `Retry-After: secs`.
    TooMany { retry_after: u64 },
    /// The registry's answer, closed after its first `after` bytes (head included).
    Cut { after: usize },
    /// The registry's answer, reset (TCP RST) after its first `after` bytes.
    Reset { after: usize },
    /// The registry's answer, after this long.
    Stall(Duration),
}

#[derive(Debug, Clone)]
struct Rule {
    /// `GET`, `HEAD`, … or empty for any.
    method: String,
    /// Matches when the request path contains it (empty: every request).
    path: String,
    fault: Fault,
    /// Matches left before the rule stops applying (None: forever).
    left: Option<usize>,
}

struct Shared {
    target: String,
    rules: Mutex<Vec<Rule>>,
    stop: AtomicBool,
    faults: AtomicUsize,
    /// `METHOD /path -> fault|pass` of every request.
    seen: Mutex<Vec<String>>,
}

pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// A proxy to `target` (`127.0.0.1:PORT`); with no rule it passes everything through.
    pub fn start(target: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            target: target.to_owned(),
            rules: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            faults: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        FaultProxy { port, shared }
    }

    /// Answers requests of `method` (empty: any) whose path contains `path` with `fault`.
    pub fn on(&self, method: &str, path: &str, fault: Fault) -> &FaultProxy {
        let rule = Rule { method: method.to_owned(), path: path.to_owned(), fault, left: None };
        self.shared.rules.lock().unwrap().push(rule);
        self
    }

    /// Like [`on`](Self::on), for the first `times` matching requests only.
    pub fn on_times(&self, method: &str, path: &str, fault: Fault, times: usize) -> &FaultProxy {
        let rule = Rule { method: method.to_owned(), path: path.to_owned(), fault, left: Some(times) };
        self.shared.rules.lock().unwrap().push(rule);
        self
    }

    /// Removes every rule: everything passes from now on.
    pub fn clear(&self) {
        self.shared.rules.lock().unwrap().clear();
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `METHOD /path -> fault|pass` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Requests answered with a fault so far.
    pub fn faults(&self) -> usize {
        self.shared.faults.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(client: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => head.push(line),
        }
    }
    let Some(request_line) = head.first().cloned() else { return };
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let rule = {
        let mut rules = shared.rules.lock().unwrap();
        let found = rules
            .iter_mut()
            .find(|r| (r.method.is_empty() || r.method == method) && path.contains(&r.path) && r.left != Some(0));
        found.map(|r| {
            r.left = r.left.map(|n| n - 1);
            r.clone()
        })
    };
    let mut client = client;
    let verdict = if rule.is_some() { "fault" } else { "pass" };
    shared.seen.lock().unwrap().push(format!("{method} {path} -> {verdict}"));
    if rule.is_some() {
        shared.faults.fetch_add(1, Ordering::SeqCst);
    }
    // Faults that pass the request through, badly.
    let mut cut = None;
    match rule.as_ref().map(|r| &r.fault) {
        Some(Fault::Stall(d)) => std::thread::sleep(*d),
        Some(Fault::Cut { after }) => cut = Some((*after, false)),
        Some(Fault::Reset { after }) => cut = Some((*after, true)),
        _ => {}
    }
    if let Some(rule) =
        rule.filter(|r| matches!(r.fault, Fault::Status(_) | Fault::Body { .. } | Fault::TooMany { .. }))
    {
        let answer = match rule.fault {
            Fault::TooMany { retry_after } => {
                let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"injected fault"}]}"#;
                let mut a = response(429, "application/json", body, method == "HEAD", None);
                let at = a.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 2;
                a.splice(at..at, format!("Retry-After: {retry_after}\r\n").into_bytes());
                a
            }
            Fault::Status(status) => {
                let body = r#"{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}"#.as_bytes().to_vec();
                response(status, "application/json", &body, method == "HEAD", None)
            }
            Fault::Body { content_type, body } => {
                let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)));
                response(200, &content_type, &body, method == "HEAD", Some(&digest))
            }
            _ => unreachable!("filtered above"),
        };
        let _ = client.write_all(&answer);
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    // Pass through: the head with `Connection: close`, then bytes both ways until closed.
    let Ok(mut upstream) = TcpStream::connect(&shared.target) else { return };
    let mut rewritten = String::new();
    for line in &head {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            rewritten.push_str(line);
        }
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    if upstream.write_all(rewritten.as_bytes()).is_err() {
        return;
    }
    let buffered = reader.buffer().to_vec();
    let _ = upstream.write_all(&buffered);
    let (mut from_client, mut to_upstream) = (reader.into_inner(), upstream.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_upstream);
    });
    match cut {
        None => {
            let _ = std::io::copy(&mut upstream, &mut client);
        }
        Some((after, reset)) => {
            let _ = std::io::copy(&mut (&mut upstream).take(after as u64), &mut client);
            if reset {
                // Linger 0 makes the close an RST; the copy thread holds a clone of the
                // socket, so end its reads first and close the last handle after it.
                let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                let _ = client.shutdown(Shutdown::Read);
                let _ = upstream.shutdown(Shutdown::Both);
                let _ = up.join();
                drop(client);
                return;
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
    let _ = up.join();
}

fn response(status: u16, content_type: &str, body: &[u8], head: bool, digest: Option<&str>) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} Fault\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(d) = digest {
        out.push_str(&format!("Docker-Content-Digest: {d}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head {
        bytes.extend_from_slice(body);
    }
    bytes
}
