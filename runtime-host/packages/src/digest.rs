//! SHA-256 digests as written in package indexes (64 hex digits).

use std::fmt;

use sha2::{Digest as _, Sha256};

/// A SHA-256 digest, parsed from (and displayed as) 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest([u8; 32]);

/// Text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a SHA-256 digest (64 hex digits)")]
pub struct DigestError {
    /// The offending text.
    pub text: String,
}

impl Sha256Digest {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// Parses 64 hex digits (either case).
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| DigestError { text: text.to_owned() })?;
        Ok(Self(bytes))
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, as in index files.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl From<[u8; 32]> for Sha256Digest {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

text_form!(Sha256Digest, DigestError);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn digest_of_empty_input_round_trips_through_hex() {
        let empty = Sha256Digest::of(b"");
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(empty.to_string(), hex);
        assert_eq!(Sha256Digest::parse(&hex.to_uppercase()).unwrap(), empty);
        assert_eq!(serde_json::to_string(&empty).unwrap(), format!("\"{hex}\""));
    }

    #[test]
    fn digest_rejects_wrong_length_and_non_hex() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(66)] {
            let err = Sha256Digest::parse(bad).unwrap_err();
            assert!(err.to_string().contains("not a SHA-256 digest"), "{err}");
        }
    }
}
