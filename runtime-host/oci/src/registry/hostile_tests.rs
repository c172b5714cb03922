//! The client against a scripted loopback server giving broken, odd or hostile answers: every
//! case must end in a clear error (or the right result), never a panic or a hang. Real-registry
//! behaviour is tested in `tests/e2e/registry_client.rs`.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::registry::{RegistryConfig, RegistryStore};
use crate::store::Backend;
use crate::{BlobSource, Digest, Error, Quiet, Scope};

/// Serves `answers` in order, one per connection (the last one repeats); records request lines.
struct Script {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Script {
    fn start(answers: Vec<Vec<u8>>) -> Script {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let mut length = 0usize;
                let mut auth = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    let lower = h.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        auth = format!(" [Authorization: {}]", h.split_once(':').map_or("", |kv| kv.1.trim()));
                    }
                }
                let _ = reader.by_ref().take(length as u64).read_to_end(&mut Vec::new());
                log.lock().unwrap().push(format!("{}{auth}", line.trim()));
                let answer = &answers[i.min(answers.len() - 1)];
                let _ = stream.write_all(answer);
                let _ = stream.flush();
            }
        });
        Script { port, seen }
    }

    fn store(&self) -> RegistryStore {
        self.store_with(RegistryConfig::new(self.url()).with_credentials("user", "hunter2"))
    }

    fn store_with(&self, config: RegistryConfig) -> RegistryStore {
        RegistryStore::new(config, &Scope::new(["acme"], ["acme/out"])).unwrap()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

const MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#;

#[test]
fn retries_5xx_then_succeeds() {
    let s = Script::start(vec![
        answer("503 Service Unavailable", &[], b""),
        answer("502 Bad Gateway", &[], b"<html>bad gateway</html>"),
        answer("200 OK", &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")], MANIFEST),
    ]);
    let m = s.store().get_manifest("acme/x", "v1").unwrap();
    assert_eq!(m.bytes, MANIFEST);
    assert_eq!(m.media_type, crate::media::OCI_MANIFEST);
    assert_eq!(s.seen().len(), 3);
}

#[test]
fn persistent_5xx_names_method_url_and_registry_error() {
    let body = br#"{"errors":[{"code":"UNKNOWN","message":"storage is on fire"}]}"#;
    let s = Script::start(vec![answer("500 Internal Server Error", &[("Content-Type", "application/json")], body)]);
    let e = s.store().list_tags("acme/x").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Http { status: 500, .. }), "{msg}");
    assert!(msg.contains("GET http://127.0.0.1:") && msg.contains("/v2/acme/x/tags/list"), "{msg}");
    assert!(msg.contains("UNKNOWN: storage is on fire"), "{msg}");
    assert_eq!(s.seen().len(), 4, "at most four attempts");
}

#[test]
fn garbage_and_huge_answers_are_errors() {
    let huge = format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n", "a".repeat(200_000)).into_bytes();
    for bad in [
        b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
        huge,
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n{".to_vec(),
        vec![],
    ] {
        let s = Script::start(vec![bad]);
        let e = s.store().get_manifest("acme/x", "v1").unwrap_err();
        assert!(matches!(e, Error::Transport { .. } | Error::InvalidManifest(_)), "{e}");
        assert!(!e.to_string().contains("hunter2"));
    }
}

#[test]
fn odd_manifest_answers() {
    // application/json: the type comes from the body.
    let s = Script::start(vec![answer("200 OK", &[("Content-Type", "application/json")], MANIFEST)]);
    assert_eq!(s.store().get_manifest("acme/x", "v1").unwrap().media_type, crate::media::OCI_MANIFEST);
    // Not a manifest at all.
    let s = Script::start(vec![answer("200 OK", &[("Content-Type", "application/json")], b"[1,2,3]")]);
    let e = s.store().get_manifest("acme/x", "v1").unwrap_err();
    assert!(e.to_string().contains("not a manifest"), "{e}");
    // Larger than 4 MiB.
    let big = vec![b' '; 5 << 20];
    let s =
        Script::start(vec![answer("200 OK", &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")], &big)]);
    let e = s.store().get_manifest("acme/x", "v1").unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    // A Docker-Content-Digest that is not the body's.
    let wrong = Digest::of(b"other");
    let s = Script::start(vec![answer("200 OK", &[("Docker-Content-Digest", wrong.as_str())], MANIFEST)]);
    assert!(matches!(s.store().get_manifest("acme/x", "v1").unwrap_err(), Error::DigestMismatch { .. }));
    // HEAD without a digest header falls back to GET.
    let s = Script::start(vec![
        answer("200 OK", &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")], b""),
        answer("200 OK", &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")], MANIFEST),
    ]);
    let head = s.store().head_manifest("acme/x", "v1").unwrap().unwrap();
    assert_eq!((head.digest, head.size), (Digest::of(MANIFEST), MANIFEST.len() as u64));
    assert!(s.seen()[0].starts_with("HEAD ") && s.seen()[1].starts_with("GET "), "{:?}", s.seen());
    // 404 with a text body.
    let s = Script::start(vec![answer("404 Not Found", &[("Content-Type", "text/plain")], b"404 page not found")]);
    assert!(s.store().get_manifest("acme/x", "v1").unwrap_err().is_not_found());
    assert_eq!(s.store().head_manifest("acme/x", "v1").unwrap(), None);
}

#[test]
fn uploads_without_location_fail_clearly() {
    let s = Script::start(vec![
        answer("202 Accepted", &[], b""),  // POST without Location
        answer("404 Not Found", &[], b""), // the whole upload is tried twice: did it get through?
        answer("202 Accepted", &[], b""),
    ]);
    let data: Arc<[u8]> = Arc::from(&b"hello"[..]);
    let e = s.store().put_blob("acme/out", &Digest::of(b"hello"), 5, &BlobSource::Bytes(data), &Quiet).unwrap_err();
    assert!(e.to_string().contains("without a Location header"), "{e}");
    assert_eq!(s.seen().len(), 3, "POST, HEAD, POST: {:?}", s.seen());
}

/// Bytes in memory are checked as they are (not copied first): a wrong digest or a wrong size
/// is refused before any request, and the message says which.
#[test]
fn bytes_unlike_their_digest_or_size_are_never_sent() {
    let s = Script::start(vec![]);
    let data: Arc<[u8]> = Arc::from(&b"hello"[..]);
    let wrong = s.store().put_blob("acme/out", &Digest::of(b"world"), 5, &BlobSource::Bytes(data.clone()), &Quiet);
    assert!(matches!(wrong, Err(Error::DigestMismatch { .. })), "{wrong:?}");
    let long = s.store().put_blob("acme/out", &Digest::of(b"hello"), 4, &BlobSource::Bytes(data.clone()), &Quiet);
    assert!(long.as_ref().is_err_and(|e| e.to_string().contains("more than")), "{long:?}");
    let short = s.store().put_blob("acme/out", &Digest::of(b"hello"), 6, &BlobSource::Bytes(data), &Quiet);
    assert!(short.as_ref().is_err_and(|e| e.to_string().contains("has 5 bytes, expected 6")), "{short:?}");
    assert!(s.seen().is_empty(), "nothing sent: {:?}", s.seen());
}

#[test]
fn unauthorized_without_challenge_or_with_bad_token_server() {
    let s = Script::start(vec![answer("401 Unauthorized", &[], b"")]);
    let e = s.store().list_tags("acme/x").unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("no Basic or Bearer challenge") && !e.to_string().contains("hunter2"), "{e}");

    // The realm answers garbage.
    let token = Script::start(vec![answer("200 OK", &[], b"<html>")]);
    let challenge =
        format!(r#"Bearer realm="http://127.0.0.1:{}/token",service="svc",scope="repository:acme/x:pull""#, token.port);
    let s = Script::start(vec![answer("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b"")]);
    let e = s.store().list_tags("acme/x").unwrap_err();
    assert!(e.to_string().contains("not a token response"), "{e}");
    let asked = token.seen();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].contains("service=svc&scope=repository%3Aacme%2Fx%3Apull&account=user"), "{asked:?}");
    assert!(asked[0].contains("[Authorization: Basic "), "{asked:?}");

    // Basic challenge: credentials sent once; refused again → Unauthorized naming the user.
    let basic = answer("401 Unauthorized", &[("WWW-Authenticate", r#"Basic realm="r""#)], b"");
    let s = Script::start(vec![basic]);
    let e = s.store().list_tags("acme/x").unwrap_err();
    assert!(e.to_string().contains("refused for user `user`"), "{e}");
    assert_eq!(s.seen().len(), 2);
    assert!(s.seen()[1].contains("Authorization: Basic"), "{:?}", s.seen());
}

#[test]
fn tag_pages_follow_links_and_stop_on_loops() {
    let s = Script::start(vec![
        answer("200 OK", &[("Link", r#"</v2/acme/x/tags/list?last=b&n=2>; rel="next""#)], br#"{"tags":["b","a"]}"#),
        answer("200 OK", &[("Link", r#"</v2/acme/x/tags/list?last=b&n=2>; rel="next""#)], br#"{"tags":["c"]}"#),
    ]);
    assert_eq!(s.store().list_tags("acme/x").unwrap(), vec!["a", "b", "c"]);
    assert_eq!(s.seen().len(), 2);
    let s = Script::start(vec![answer(
        "200 OK",
        &[("Link", "<https://elsewhere.example/x>; rel=next")],
        br#"{"tags":null}"#,
    )]);
    assert!(s.store().list_tags("acme/x").unwrap_err().to_string().contains("another host"));
}

#[test]
fn connection_refused_says_so() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = RegistryStore::new(RegistryConfig::new(format!("http://127.0.0.1:{port}")), &Scope::default()).unwrap();
    let e = store.blob_exists("acme/x", &Digest::of(b"x")).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
    assert!(e.to_string().starts_with(&format!("HEAD http://127.0.0.1:{port}/v2/acme/x/blobs/sha256:")), "{e}");
}

#[test]
fn referrers_pages_follow_links() {
    let subject = Digest::of(b"subject");
    let entry = |d: &Digest, t: &str| {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":9,"artifactType":"{t}"}}"#
        )
    };
    let (a, b, c) = (Digest::of(b"a"), Digest::of(b"b"), Digest::of(b"c"));
    let page1 = format!(r#"{{"schemaVersion":2,"manifests":[{},{}]}}"#, entry(&a, "x/sig"), entry(&b, "x/sbom"));
    let page2 = format!(r#"{{"schemaVersion":2,"manifests":[{}]}}"#, entry(&c, "x/sig"));
    let next = format!(r#"</v2/acme/x/referrers/{subject}?n=2&last=b>; rel="next""#);
    let index = ("Content-Type", "application/vnd.oci.image.index.v1+json");
    let s = Script::start(vec![
        answer("200 OK", &[index, ("Link", &next)], page1.as_bytes()),
        answer("200 OK", &[index], page2.as_bytes()),
    ]);
    let got = s.store().referrers("acme/x", &subject, None).unwrap().unwrap();
    assert_eq!(got.iter().map(|r| r.digest.clone()).collect::<Vec<_>>(), vec![a.clone(), b, c.clone()]);
    let seen = s.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].starts_with(&format!("GET /v2/acme/x/referrers/{subject} ")), "{seen:?}");
    assert!(seen[1].starts_with(&format!("GET /v2/acme/x/referrers/{subject}?n=2&last=b ")), "{seen:?}");

    // The registry ignored the filter (no OCI-Filters-Applied): filtered here.
    let s = Script::start(vec![
        answer("200 OK", &[index, ("Link", &next)], page1.as_bytes()),
        answer("200 OK", &[index], page2.as_bytes()),
    ]);
    let sigs = s.store().referrers("acme/x", &subject, Some("x/sig")).unwrap().unwrap();
    assert_eq!(sigs.iter().map(|r| r.digest.clone()).collect::<Vec<_>>(), vec![a, c]);
    assert!(s.seen()[0].contains("?artifactType=x%2Fsig "), "{:?}", s.seen());

    // A Link to another host is not followed.
    let s =
        Script::start(vec![answer("200 OK", &[("Link", "<https://elsewhere.example/x>; rel=next")], page2.as_bytes())]);
    let e = s.store().referrers("acme/x", &subject, None).unwrap_err();
    assert!(e.to_string().contains("another host"), "{e}");
}

#[test]
fn referrers_unsupported_broken_or_failing() {
    let subject = Digest::of(b"subject");
    // The Distribution 2.8 registry: 404 text/plain. Also 405.
    for unsupported in [
        answer("404 Not Found", &[("Content-Type", "text/plain; charset=utf-8")], b"404 page not found\n"),
        answer("405 Method Not Allowed", &[], b""),
    ] {
        let s = Script::start(vec![unsupported]);
        assert_eq!(s.store().referrers("acme/x", &subject, None).unwrap(), None);
        assert_eq!(s.seen().len(), 1);
    }
    // A server error (after the retries).
    let s = Script::start(vec![answer("500 Internal Server Error", &[], b"boom")]);
    let e = s.store().referrers("acme/x", &subject, None).unwrap_err();
    assert!(matches!(e, Error::Http { status: 500, .. }), "{e}");
    assert!(e.to_string().contains("/v2/acme/x/referrers/sha256:") && e.to_string().contains("boom"), "{e}");
    // Garbage with 200: an error naming the repository.
    for garbage in [&b"<html>hello</html>"[..], br#"{"schemaVersion":2,"config":{},"layers":[]}"#, b"[]"] {
        let s = Script::start(vec![answer("200 OK", &[], garbage)]);
        let e = s.store().referrers("acme/x", &subject, None).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::InvalidManifest(_)), "{msg}");
        assert!(msg.contains(&format!("referrers of acme/x@{subject} in http://127.0.0.1:")), "{msg}");
        assert!(msg.contains("not an OCI image index"), "{msg}");
    }
    // More than 4 MiB.
    let big = format!(r#"{{"manifests":[],"pad":"{}"}}"#, "x".repeat(5 << 20));
    let s = Script::start(vec![answer("200 OK", &[], big.as_bytes())]);
    let e = s.store().referrers("acme/x", &subject, None).unwrap_err();
    assert!(e.to_string().contains("larger than 4194304 bytes"), "{e}");
    // A bad repository name never reaches the network.
    assert!(s.store().referrers("acme/../x", &subject, None).is_err());
}
