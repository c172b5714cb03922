//! Layer compression. Output is a sequence of gzip members, one per fixed-size chunk of the
//! tar, so chunks compress in parallel on every core while the bytes stay the same on any
//! machine (they depend only on the input and the fixed chunk size and level). Every gzip
//! reader used for layers (Go's, zlib's, `gzip -d`) reads concatenated members.

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::GzBuilder;
use flate2::read::MultiGzDecoder;

/// Uncompressed bytes per gzip member.
pub const CHUNK: usize = 1 << 20;
/// Fixed deflate level (part of the builder's identity: changing it changes digests).
pub const LEVEL: u32 = 6;

/// Compress `data` deterministically using up to `threads` threads.
pub fn gzip(data: &[u8], threads: usize) -> Vec<u8> {
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![data] } else { data.chunks(CHUNK).collect() };
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
