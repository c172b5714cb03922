//! DSSE envelopes (https://github.com/secure-systems-lab/dsse): the signature covers the
//! pre-authentication encoding `DSSEv1 SP len(type) SP type SP len(body) SP body`.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Result, SignError};
use crate::keys::{PrivateKey, PublicKey};

pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// PAE(type, body).
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = pae_header(payload_type, body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// What PAE puts before the body.
fn pae_header(payload_type: &str, body_len: usize) -> String {
    format!("DSSEv1 {} {payload_type} {body_len} ", payload_type.len())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    /// Base64 DER ECDSA signature of the PAE.
    pub sig: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload_type: String,
    /// Base64 of the body.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

impl Envelope {
    /// Signs `body` of `payload_type` with `key`.
    pub fn sign(key: &PrivateKey, payload_type: &str, body: &[u8]) -> Envelope {
        // SHA-256 of the PAE, hashed in parts rather than copying the body behind its header.
        let pae_hash = Sha256::new().chain_update(pae_header(payload_type, body.len())).chain_update(body);
        Envelope {
            payload_type: payload_type.to_owned(),
            payload: base64::engine::general_purpose::STANDARD.encode(body),
            signatures: vec![EnvelopeSignature { keyid: String::new(), sig: key.sign_digest_base64(pae_hash) }],
        }
    }

    /// The envelope as JSON, in one buffer sized for it (its payload is most of it).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + self.payload_type.len() + 256);
        serde_json::to_writer(&mut out, self).map(|()| out).unwrap_or_default()
    }

    /// The body, if at least one signature verifies with `key`.
    pub fn verify(&self, key: &PublicKey) -> Result<Vec<u8>> {
        let body = base64::engine::general_purpose::STANDARD
            .decode(&self.payload)
            .map_err(|e| SignError::Invalid(format!("the envelope's payload is not base64 ({e})")))?;
        if self.signatures.is_empty() {
            return Err(SignError::Invalid("the envelope has no signature".into()));
        }
        let message = pae(&self.payload_type, &body);
        let mut last = None;
        for s in &self.signatures {
            match key.verify_base64(&message, &s.sig) {
                Ok(()) => return Ok(body),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| SignError::Invalid("no signature".into())))
    }
}
