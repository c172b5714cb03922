//! Reading a large blob on its own thread: the network and the digest check (a verifying
//! reader hashes what it reads) run alongside the consumer's decompression instead of taking
//! turns with it on one core. The bytes, their order and every error reach the consumer
//! unchanged; a digest mismatch still arrives as the error at the end of the stream.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Bytes read per message.
const CHUNK: usize = 256 * 1024;
/// Messages in flight: how far the reader may run ahead of the consumer.
const DEPTH: usize = 8;

/// A reader whose bytes another thread reads (a [`BufRead`]: decompressors read its chunks in
/// place).
pub struct ReadAhead {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// Chunks given back for the reading thread to fill again.
    back: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

/// `inner`, read by a thread of its own; an error when no thread can be started.
pub fn read_ahead(inner: Box<dyn Read + Send>) -> io::Result<ReadAhead> {
    let (tx, rx) = sync_channel(DEPTH);
    let (back, spare) = sync_channel(DEPTH + 2);
    std::thread::Builder::new().name("read-ahead".into()).spawn(move || pump(inner, tx, spare))?;
    Ok(ReadAhead { rx, back, current: Vec::new(), at: 0, done: false })
}

fn pump(mut inner: Box<dyn Read + Send>, tx: SyncSender<io::Result<Vec<u8>>>, spare: Receiver<Vec<u8>>) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        let result = loop {
            match inner.read(&mut buf[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == buf.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buf.truncate(filled);
        let end = filled < CHUNK;
        if filled > 0 && tx.send(Ok(buf)).is_err() {
            return; // the consumer is gone
        }
        if let Err(e) = result {
            let _ = tx.send(Err(e));
            return;
        }
        if end {
            let _ = tx.send(Ok(Vec::new()));
            return;
        }
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.current.len() && !self.done {
            match self.rx.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.current, chunk);
                    self.at = 0;
                    if used.capacity() > 0 {
                        let _ = self.back.try_send(used);
                    }
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(io::Error::other("the blob's reader thread ended early"));
                }
            }
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at = (self.at + n).min(self.current.len());
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let available = self.fill_buf()?;
        let n = out.len().min(available.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing {
        data: Vec<u8>,
        at: usize,
        fail_at: usize,
    }

    impl Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at >= self.fail_at {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "digest mismatch"));
            }
            let n = out.len().min(self.data.len() - self.at).min(self.fail_at - self.at).min(7777);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn passes_every_byte_in_order() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12345] {
            let d = data(len);
            let mut back = Vec::new();
            read_ahead(Box::new(io::Cursor::new(d.clone()))).unwrap().read_to_end(&mut back).unwrap();
            assert_eq!(back, d, "length {len}");
        }
    }

    #[test]
    fn a_decompressor_reads_its_chunks_in_place() {
        let d = data(5 * CHUNK + 999);
        let gz = crate::compress::gzip(&d, 2); // several gzip members
        let mut back = Vec::new();
        flate2::bufread::MultiGzDecoder::new(read_ahead(Box::new(io::Cursor::new(gz))).unwrap())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn an_error_arrives_after_the_bytes_before_it() {
        let d = data(2 * CHUNK + 100);
        let mut r = read_ahead(Box::new(Failing { data: d.clone(), at: 0, fail_at: CHUNK + 50 })).unwrap();
        let mut back = Vec::new();
        let e = r.read_to_end(&mut back).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(e.to_string(), "digest mismatch");
        assert_eq!(back, d[..CHUNK + 50]);
        // And the stream stays ended.
        assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0);
    }

    struct Endless(std::sync::Arc<std::sync::atomic::AtomicBool>);

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            out.fill(7);
            Ok(out.len())
        }
    }

    impl Drop for Endless {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_consumer_that_stops_early_lets_the_thread_end() {
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut r = read_ahead(Box::new(Endless(dropped.clone()))).unwrap();
        let mut first = [0u8; 1000];
        r.read_exact(&mut first).unwrap();
        assert!(first.iter().all(|b| *b == 7));
        drop(r);
        // The pump's next send fails; it returns and drops the inner reader.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !dropped.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "the read-ahead thread did not end");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
