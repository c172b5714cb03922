//! Typed sha256 digests and a reader that verifies one while streaming.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// A `sha256:<64 lowercase hex>` content digest. Other algorithms are refused at parse time.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(bytes))
    }

    pub(crate) fn from_hasher(h: Sha256) -> Digest {
        Digest(format!("sha256:{}", hex::encode(h.finalize())))
    }

    /// The 64 hex characters after `sha256:`.
    pub fn hex(&self) -> &str {
        &self.0[7..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `s` is a well-formed sha256 digest string.
    pub fn is_valid(s: &str) -> bool {
        s.strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if Digest::is_valid(s) {
            Ok(Digest(s.to_string()))
        } else {
            Err(Error::InvalidDigest(s.chars().take(80).collect()))
        }
    }
}

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = Error;
    fn try_from(d: &oci_spec::image::Digest) -> Result<Self> {
        d.to_string().parse()
    }
}

impl From<&Digest> for oci_spec::image::Digest {
    fn from(d: &Digest) -> Self {
        // Always valid: our digests are well-formed sha256 strings.
        oci_spec::image::Digest::from_str(d.as_str()).unwrap_or_else(|_| unreachable!())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Hashes everything read through it; at end of stream fails with
/// `InvalidData` unless the content has the expected digest (and size, when known).
/// A consumer therefore never sees a successful EOF on tampered content.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: Digest,
    expected_size: Option<u64>,
    read: u64,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, expected_size: Option<u64>) -> Self {
        VerifyingReader { inner, hasher: Sha256::new(), expected, expected_size, read: 0, done: false }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(size) = self.expected_size
            && self.read > size
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {} is larger than its descriptor's size {size}", self.expected),
            ));
        }
        if n > 0 {
            self.hasher.update(&buf[..n]);
            return Ok(n);
        }
        self.done = true;
        let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if actual != self.expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob content does not match its digest: expected {}, got {actual}", self.expected),
            ));
        }
        if let Some(size) = self.expected_size
            && size != self.read
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {} is {} bytes, its descriptor says {size}", self.expected, self.read),
            ));
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_sha256() {
        let d = Digest::of(b"hello");
        assert_eq!(d.as_str(), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert!(d.as_str().parse::<Digest>().is_ok());
        assert!("sha512:abcd".parse::<Digest>().is_err());
        assert!("sha256:ABCD".parse::<Digest>().is_err());
        assert!(format!("sha256:{}", "A".repeat(64)).parse::<Digest>().is_err());
    }

    #[test]
    fn verifying_reader_accepts_and_rejects() {
        let good = Digest::of(b"payload");
        let mut out = Vec::new();
        VerifyingReader::new(&b"payload"[..], good.clone(), Some(7)).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"payload");

        let err = VerifyingReader::new(&b"payloaX"[..], good.clone(), None).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("does not match its digest"), "{err}");

        let err = VerifyingReader::new(&b"payload"[..], good, Some(3)).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
    }
}
