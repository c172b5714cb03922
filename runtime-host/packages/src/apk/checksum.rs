//! apk package checksums (`C:` lines, `><` dependency pins): `Q1`/`Q2` + base64, or `X1`/`X2`
//! + hex, of a SHA-1 (20 bytes) or SHA-256 (32 bytes) digest.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A package checksum: in an `APKINDEX`, the SHA-1 of the package's control segment.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Checksum {
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

/// Text that is not an apk checksum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an apk checksum (Q1 + base64 SHA-1, or Q2 + base64 SHA-256)")]
pub struct ChecksumError {
    pub text: String,
}

impl Checksum {
    /// Parses `Q1…`/`Q2…` (base64) or `X1…`/`X2…` (hex). As apk-tools does, a `1` checksum
    /// long enough to hold a SHA-256 is a SHA-256.
    pub fn parse(text: &str) -> Result<Self, ChecksumError> {
        let bad = || ChecksumError { text: text.to_owned() };
        let encoded = text.get(2..).ok_or_else(bad)?;
        let bytes = match text.get(..2) {
            Some("Q1" | "Q2") => STANDARD.decode(encoded).map_err(|_| bad())?,
            Some("X1" | "X2") => hex::decode(encoded).map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        let sha1_allowed = text.get(1..2) == Some("1");
        if let Ok(sha256) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(Checksum::Sha256(sha256));
        }
        match <[u8; 20]>::try_from(bytes.as_slice()) {
            Ok(sha1) if sha1_allowed => Ok(Checksum::Sha1(sha1)),
            _ => Err(bad()),
        }
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Checksum::Sha1(bytes) => bytes,
            Checksum::Sha256(bytes) => bytes,
        }
    }
}

/// `Q1` + base64 for SHA-1, `Q2` + base64 for SHA-256.
impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self {
            Checksum::Sha1(_) => "Q1",
            Checksum::Sha256(_) => "Q2",
        };
        write!(f, "{prefix}{}", STANDARD.encode(self.as_bytes()))
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

text_form!(Checksum, ChecksumError);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checksum_forms() {
        let sha1 = Checksum::parse("Q1Zq6Rb0aKqPuA8BePxEqlbzyfCOc=").unwrap();
        assert!(matches!(sha1, Checksum::Sha1(_)));
        assert_eq!(sha1.to_string(), "Q1Zq6Rb0aKqPuA8BePxEqlbzyfCOc=");
        let hex = format!("X1{}", hex::encode(sha1.as_bytes()));
        assert_eq!(Checksum::parse(&hex).unwrap(), sha1);
        let sha256 = Checksum::Sha256([7; 32]);
        assert_eq!(Checksum::parse(&sha256.to_string()).unwrap(), sha256);
        let q1_long = format!("Q1{}", STANDARD.encode([7u8; 32]));
        assert_eq!(Checksum::parse(&q1_long).unwrap(), sha256);
        assert_eq!(serde_json::to_string(&sha1).unwrap(), "\"Q1Zq6Rb0aKqPuA8BePxEqlbzyfCOc=\"");
    }

    #[test]
    fn checksum_rejects_other_text() {
        let sha1_b64 = STANDARD.encode([1u8; 20]);
        for bad in ["", "Q", "Q1", "Q1!!!", "Z1abcd", "Q1AAAA", &format!("Q2{sha1_b64}"), "X1zz"] {
            let err = Checksum::parse(bad).unwrap_err();
            assert!(err.to_string().contains("is not an apk checksum"), "{err}");
        }
    }
}
