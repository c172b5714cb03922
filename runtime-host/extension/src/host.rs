//! What a guest imports: `tailor:extension/image` (answered by the build's view, through a
//! channel to the thread that holds it: the store owns only `'static` state), and inert WASI —
//! no preopened directories, no network, an empty environment, frozen clocks — with stdout
//! and stderr captured into bounded pipes.

use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use tailor_build::checks::{FileInfo, FileKind};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../../wit/extension",
    world: "policy",
    imports: { default: trappable },
});

pub use tailor::extension::types as wit;

/// A question to the build's view of the image.
pub enum Ask {
    Config,
    Packages,
    Files { prefix: String, after: Option<String>, limit: u32 },
    Read { path: String, offset: u64, length: u32 },
}

/// The view's answer.
pub enum Answer {
    Config(String),
    Packages(Vec<(String, String)>),
    Files(Result<Vec<FileInfo>, String>),
    Read(Result<Vec<u8>, String>),
    /// The view could not be read (not the guest's fault): the call stops.
    Broken(String),
}

/// A store's state: the channel to the view, WASI, and what the limits saw.
pub struct State {
    pub(crate) ask: Sender<Ask>,
    pub(crate) answer: Receiver<Answer>,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: usize,
    /// Set when a grow was refused (memory_limit), when the deadline passed (timeout), when
    /// the view broke.
    pub(crate) memory_denied: bool,
    pub(crate) timed_out: bool,
    pub(crate) broken: Option<String>,
    /// Guest time so far excludes host calls (a first read of a large base is not the guest's).
    pub(crate) started: Instant,
    pub(crate) in_host: Duration,
    pub(crate) deadline: Duration,
}

impl State {
    /// A state whose guest may write `log` bytes to each of stdout and stderr (a write past
    /// that fails, which fails the call); the pipes to read them back.
    pub(crate) fn new(
        ask: Sender<Ask>,
        answer: Receiver<Answer>,
        memory: usize,
        deadline: Duration,
        log: usize,
    ) -> (State, [MemoryOutputPipe; 2]) {
        let (out, err) = (MemoryOutputPipe::new(log), MemoryOutputPipe::new(log));
        let mut b = WasiCtx::builder();
        b.stdout(out.clone())
            .stderr(err.clone())
            .wall_clock(Frozen)
            .monotonic_clock(Frozen)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let state = State {
            ask,
            answer,
            wasi: b.build(),
            table: ResourceTable::new(),
            memory,
            memory_denied: false,
            timed_out: false,
            broken: None,
            started: Instant::now(),
            in_host: Duration::ZERO,
            deadline,
        };
        (state, [out, err])
    }

    /// Asks the view; the time it takes is not the guest's.
    fn ask(&mut self, q: Ask) -> wasmtime::Result<Answer> {
        let t = Instant::now();
        let answer = self.ask.send(q).ok().and_then(|()| self.answer.recv().ok());
        self.in_host += t.elapsed();
        match answer {
            Some(Answer::Broken(why)) => {
                self.broken = Some(why.clone());
                Err(wasmtime::format_err!("the image could not be read: {why}"))
            }
            Some(a) => Ok(a),
            None => {
                self.broken = Some("the build's view of the image is gone".into());
                Err(wasmtime::format_err!("the build's view of the image is gone"))
            }
        }
    }

    /// The guest's share of the time so far.
    pub(crate) fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.in_host)
    }
}

/// Clocks that never move: a verdict must not depend on when it was asked for.
struct Frozen;

impl HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wasmtime::ResourceLimiter for State {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.memory_denied = true;
            return Err(wasmtime::format_err!(
                "linear memory would grow to {desired} bytes, over the limit of {}",
                self.memory
            ));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > 1_000_000 {
            self.memory_denied = true;
            return Err(wasmtime::format_err!("a table would grow to {desired} elements"));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        100
    }
    fn tables(&self) -> usize {
        100
    }
    fn memories(&self) -> usize {
        10
    }
}

impl wit::Host for State {}

fn kind(k: FileKind) -> wit::FileKind {
    match k {
        FileKind::File => wit::FileKind::File,
        FileKind::Directory => wit::FileKind::Directory,
        FileKind::Symlink => wit::FileKind::Symlink,
        FileKind::Hardlink => wit::FileKind::Hardlink,
        FileKind::Other => wit::FileKind::Other,
    }
}

impl tailor::extension::image::Host for State {
    fn config_json(&mut self) -> wasmtime::Result<String> {
        match self.ask(Ask::Config)? {
            Answer::Config(c) => Ok(c),
            _ => Err(wasmtime::format_err!("unexpected answer")),
        }
    }

    fn packages(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        match self.ask(Ask::Packages)? {
            Answer::Packages(p) => Ok(p),
            _ => Err(wasmtime::format_err!("unexpected answer")),
        }
    }

    fn files(&mut self, prefix: String, after: Option<String>, limit: u32) -> wasmtime::Result<Vec<wit::FileInfo>> {
        match self.ask(Ask::Files { prefix, after, limit })? {
            // A bad prefix (`..`) is the guest's own question: no paths.
            Answer::Files(Err(_)) => Ok(Vec::new()),
            Answer::Files(Ok(files)) => Ok(files
                .into_iter()
                .map(|f| wit::FileInfo {
                    path: f.path,
                    kind: kind(f.kind),
                    mode: f.mode,
                    uid: f.uid,
                    gid: f.gid,
                    size: f.size,
                    link_target: f.link_target,
                })
                .collect()),
            _ => Err(wasmtime::format_err!("unexpected answer")),
        }
    }

    fn read(&mut self, path: String, offset: u64, length: u32) -> wasmtime::Result<Result<Vec<u8>, String>> {
        match self.ask(Ask::Read { path, offset, length })? {
            Answer::Read(r) => Ok(r),
            _ => Err(wasmtime::format_err!("unexpected answer")),
        }
    }
}
