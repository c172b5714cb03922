//! DSSE envelopes (https://github.com/secure-systems-lab/dsse): the signature covers the
//! pre-authentication encoding `DSSEv1 SP len(type) SP type SP len(body) SP body`.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SignError};
use crate::keys::{PrivateKey, PublicKey};

pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// PAE(type, body).
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, body.len()).into_bytes();
    out.extend_from_slice(body);
    out
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
        Envelope {
            payload_type: payload_type.to_owned(),
            payload: base64::engine::general_purpose::STANDARD.encode(body),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: key.sign_base64(&pae(payload_type, body)),
            }],
        }
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
