//! Test doubles (behind the `test-double` feature): [`ReferrersRegistry`], a minimal in-memory
//! OCI 1.1 registry for tests of code that pushes artifacts and lists referrers.
//!
//! Files: `wire` reads requests and writes answers, `routes` is the registry itself.

mod routes;
mod wire;

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// A minimal in-memory OCI 1.1 registry on 127.0.0.1 (a test double; never for production).
///
/// Without authentication it serves `GET /v2/`; blobs (`HEAD`/`GET`, uploads by `POST` then
/// `PATCH`es and a final `PUT ?digest=`, or a single `POST ?digest=`; mount requests open a plain
/// upload session); manifests (`PUT`/`GET`/`HEAD` by tag or digest, answering `OCI-Subject` when
/// the manifest has a `subject`); tag lists; and `GET /v2/<name>/referrers/<digest>` with the
/// `artifactType` filter.
pub struct ReferrersRegistry {
    addr: SocketAddr,
    shared: Arc<Shared>,
    listener: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<routes::State>,
    requests: Mutex<Vec<String>>,
    stop: AtomicBool,
    /// Open connections, shut down when the registry is dropped.
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReferrersRegistry {
    /// Bind 127.0.0.1 on a free port and serve on background threads (one per connection,
    /// HTTP/1.1 keep-alive). Panics when no loopback port can be bound.
    pub fn start() -> ReferrersRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 for the test registry");
        let addr = listener.local_addr().expect("the test registry's address");
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let handle = std::thread::Builder::new()
            .name("test-registry".to_string())
            .spawn(move || accept(&listener, &serving))
            .expect("starting the test registry's thread");
        ReferrersRegistry { addr, shared, listener: Some(handle) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answer the `nth` manifest push from now (1: the next one) with this registry error
    /// instead of storing it — to test how callers recover from, or report, a refusal (e.g.
    /// Distribution's transient `MANIFEST_BLOB_UNKNOWN`).
    pub fn refuse_manifest_put(&self, nth: usize, status: u16, code: &str, message: &str) {
        let mut state = lock(&self.shared.state);
        let at = state.manifest_puts + nth.max(1);
        state.refusals.insert(at, (status, code.to_string(), message.to_string()));
    }

    /// The `METHOD /path?query` lines of every request so far, in order.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for ReferrersRegistry {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread.
        let _ = TcpStream::connect(self.addr);
        if let Some(handle) = self.listener.take() {
            let _ = handle.join();
        }
        for (_, stream) in lock(&self.shared.connections).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let shared = shared.clone();
        let _ = std::thread::Builder::new().name(format!("test-registry-{id}")).spawn(move || {
            serve(stream, &shared);
            lock(&shared.connections).remove(&id);
        });
    }
}

/// Answer the requests of one connection until it closes.
fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let req = match wire::read_request(&mut reader, &mut writer) {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(message) => {
                let _ = wire::write_response(
                    &mut writer,
                    false,
                    &wire::Response::error(400, "UNSUPPORTED", &message),
                    false,
                );
                return;
            }
        };
        lock(&shared.requests).push(format!("{} {}", req.method, req.target));
        let resp = routes::handle(&mut lock(&shared.state), &req);
        if wire::write_response(&mut writer, req.method == "HEAD", &resp, req.keep_alive).is_err() || !req.keep_alive {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
