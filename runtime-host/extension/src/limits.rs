//! What one call of an extension may use. Each is a flag of `tailor up` / `tailor worker`.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call (about one unit per WebAssembly instruction).
    pub fuel: u64,
    /// Wall-clock time per call (instantiation included), enforced by epoch interruption.
    pub deadline: Duration,
    /// Linear memory of the instance, bytes.
    pub memory: usize,
    /// Findings one call may return.
    pub findings: usize,
    /// Bytes of findings (rule, message, path) one call may return.
    pub output: usize,
    /// Bytes of stdout plus stderr one call may write (kept for the build log).
    pub log: usize,
    /// Size of a component (the wasm artifact's layer).
    pub component: u64,
    /// Bytes one call may read of the image through `image.read`.
    pub reads: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 2_000_000_000,
            deadline: Duration::from_secs(2),
            memory: 64 << 20,
            findings: 1000,
            output: 1 << 20,
            log: 64 << 10,
            component: 32 << 20,
            reads: 64 << 20,
        }
    }
}
