//! Layer compression. Output is a sequence of gzip members, one per fixed-size chunk of the
//! tar, so chunks compress in parallel on every core while the bytes stay the same on any
//! machine (they depend only on the input and the fixed chunk size and level). Every gzip
//! reader used for layers (Go's, zlib's, `gzip -d`) reads concatenated members.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use flate2::Compression;
use flate2::GzBuilder;
use flate2::read::MultiGzDecoder;

/// Uncompressed bytes per gzip member.
pub const CHUNK: usize = 1 << 20;
/// Fixed deflate level (part of the builder's identity: changing it changes digests).
pub const LEVEL: u32 = 6;

fn chunks(data: &[u8]) -> Vec<&[u8]> {
    if data.is_empty() { vec![data] } else { data.chunks(CHUNK).collect() }
}

/// Compress `data` deterministically using up to `threads` threads.
pub fn gzip(data: &[u8], threads: usize) -> Vec<u8> {
    let chunks = chunks(data);
    let threads = threads.clamp(1, chunks.len());
    let mut parts: Vec<Vec<u8>> = vec![Vec::new(); chunks.len()];
    std::thread::scope(|s| {
        let mut slots: Vec<Vec<(usize, &mut Vec<u8>)>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, slot) in parts.iter_mut().enumerate() {
            slots[i % threads].push((i, slot));
        }
        for work in slots {
            let chunks = &chunks;
            s.spawn(move || {
                for (i, out) in work {
                    *out = gzip_member(chunks[i]);
                }
            });
        }
    });
    parts.concat()
}

fn gzip_member(chunk: &[u8]) -> Vec<u8> {
    let mut enc = GzBuilder::new().mtime(0).write(Vec::with_capacity(chunk.len() / 2 + 64), Compression::new(LEVEL));
    // Writing into a Vec cannot fail.
    enc.write_all(chunk).unwrap_or_else(|_| unreachable!());
    enc.finish().unwrap_or_else(|_| unreachable!())
}

/// Tars compressed ahead of time, one thread for all of them, while the build still decides
/// whether each is the tar it needs. Finishing one ([`Ahead::finish`]) shares its remaining
/// chunks with the finishing threads, so no chunk is compressed twice; the output is exactly
/// [`gzip`]'s. Dropping one stops its work.
pub struct Ahead {
    job: Arc<Job>,
}

struct Job {
    tar: Vec<u8>,
    members: Vec<OnceLock<Vec<u8>>>,
    next: AtomicUsize,
    stop: AtomicBool,
}

impl Job {
    /// Compresses unclaimed chunks until none is left (or the job is abandoned).
    fn work(&self) {
        let chunks = chunks(&self.tar);
        while !self.stop.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = chunks.get(i) else { return };
            let _ = self.members[i].set(gzip_member(chunk));
        }
    }
}

impl Ahead {
    /// Starts compressing `tars`, in order, on one thread.
    pub fn start(tars: Vec<Vec<u8>>) -> Vec<Ahead> {
        let jobs: Vec<Arc<Job>> = tars
            .into_iter()
            .map(|tar| {
                let n = chunks(&tar).len();
                Arc::new(Job {
                    tar,
                    members: (0..n).map(|_| OnceLock::new()).collect(),
                    next: AtomicUsize::new(0),
                    stop: AtomicBool::new(false),
                })
            })
            .collect();
        let mine = jobs.clone();
        // Without a thread the finishing threads do all the work.
        let _ = std::thread::Builder::new().name("compress-ahead".into()).spawn(move || {
            idle_priority();
            for job in mine {
                job.work();
            }
        });
        jobs.into_iter().map(|job| Ahead { job }).collect()
    }

    /// The tar being compressed.
    pub fn tar(&self) -> &[u8] {
        &self.job.tar
    }

    /// The gzip of the tar, with up to `threads` threads (this one included) joining in.
    pub fn finish(self, threads: usize) -> Vec<u8> {
        let job = &*self.job;
        std::thread::scope(|s| {
            for _ in 1..threads.clamp(1, job.members.len()) {
                s.spawn(|| job.work());
            }
            job.work();
        });
        // Chunks the ahead thread took are being finished by it.
        job.members.iter().map(|m| m.wait().as_slice()).collect::<Vec<_>>().concat()
    }
}

/// Work done ahead may turn out unused: it yields to everything else (nice 19), so it only
/// takes cores nothing else wants, in a `tailor build` as in a worker running several builds.
fn idle_priority() {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.job.stop.store(true, Ordering::Relaxed);
    }
}

/// Default number of compression threads: every core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A reader of a gzip (one or more members) stream.
pub fn gunzip<R: Read>(r: R) -> MultiGzDecoder<io::BufReader<R>> {
    MultiGzDecoder::new(io::BufReader::with_capacity(256 * 1024, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_ahead_is_compressed_the_same() {
        let data: Vec<u8> = (0..5 * CHUNK + 777).map(|i| (i % 253) as u8 ^ (i / 4099) as u8).collect();
        let small = b"a small tar".to_vec();
        for threads in [1, 2, 4] {
            let mut ahead = Ahead::start(vec![data.clone(), small.clone(), Vec::new()]).into_iter();
            let (big, little, empty) = (ahead.next().unwrap(), ahead.next().unwrap(), ahead.next().unwrap());
            assert_eq!(big.tar(), &data[..]);
            if threads == 2 {
                std::thread::sleep(std::time::Duration::from_millis(50)); // some chunks done ahead
            }
            assert_eq!(little.finish(threads), gzip(&small, 1));
            assert_eq!(big.finish(threads), gzip(&data, 1));
            assert_eq!(empty.finish(threads), gzip(&[], 1));
        }
    }

    #[test]
    fn an_abandoned_tar_stops_and_the_next_one_still_finishes() {
        let data: Vec<u8> = (0..8 * CHUNK).map(|i| (i % 241) as u8 ^ (i / 3001) as u8).collect();
        let mut ahead = Ahead::start(vec![data.clone(), data.clone()]).into_iter();
        let (first, second) = (ahead.next().unwrap(), ahead.next().unwrap());
        let job = first.job.clone();
        drop(first);
        assert_eq!(second.finish(2), gzip(&data, 2));
        // The abandoned one was not compressed to the end.
        assert!(job.members.iter().any(|m| m.get().is_none()));
    }

    #[test]
    fn parallel_output_is_independent_of_threads_and_round_trips() {
        let data: Vec<u8> = (0..3 * CHUNK + 12345).map(|i| (i % 251) as u8 ^ (i / 7919) as u8).collect();
        let one = gzip(&data, 1);
        assert_eq!(one, gzip(&data, 2));
        assert_eq!(one, gzip(&data, 8));
        let mut back = Vec::new();
        gunzip(&one[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        let mut empty = Vec::new();
        gunzip(&gzip(&[], 2)[..]).read_to_end(&mut empty).unwrap();
        assert!(empty.is_empty());
    }
}
