//! Returning free heap memory to the system.
//!
//! glibc's malloc keeps what a long-running process frees in its arenas (one per busy
//! thread, up to eight per core) instead of giving it back: a service that builds, serves and
//! frees all day shows a resident size that creeps up by about a megabyte per fan-out, long
//! after the memory in use stopped growing (BENCHMARKS.md, "Memory under load and soak":
//! 63 MB of 221 MB were free but resident). [`every`] asks glibc to release it on a timer.
//! Elsewhere (musl, other systems) the allocator returns memory itself and this does nothing.

use std::time::Duration;

/// Releases the allocator's free memory now; `true` when any was returned to the system.
pub fn now() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes a size, no pointers; glibc locks each arena while it walks it.
        #[allow(unsafe_code)]
        let released = unsafe { libc::malloc_trim(0) };
        released == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Calls [`now`] every `period` on a thread of its own, for the life of the process.
pub fn every(period: Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name("trim".into()).spawn(move || {
        loop {
            std::thread::sleep(period);
            now();
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Freed memory that glibc kept is released: at least 16 of the 64 MB freed between
    /// pieces still in use.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_is_given_back() {
        fn rss_kb() -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        }
        // 32 MB a thread (each thread gets an arena) in 64 KB pieces, below the size glibc
        // maps on its own; every other piece kept: holes the top of a heap cannot shrink past.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let pieces: Vec<Vec<u8>> = (0..512).map(|i| vec![i as u8; 64 << 10]).collect();
                    pieces.into_iter().step_by(2).collect::<Vec<_>>()
                })
            })
            .collect();
        let kept: Vec<Vec<Vec<u8>>> = threads.into_iter().map(|t| t.join().unwrap_or_default()).collect();
        assert_eq!(kept.iter().map(Vec::len).sum::<usize>(), 4 * 256);
        let before = rss_kb();
        assert!(super::now(), "nothing was released");
        let after = rss_kb();
        assert!(after + (16 << 10) < before, "resident {before} kB before the trim, {after} kB after");
        drop(kept);
    }
}
