//! Signing for tailor (DESIGN.md §7): ECDSA P-256 keys in PEM (PKCS#8 private, SPKI public),
//! cosign-compatible simple-signing payloads and signatures, and DSSE envelopes for in-toto
//! attestations. Pure computation: no registry access here.

mod cosign;
mod dsse;
mod error;
pub mod intoto;
mod keys;
mod simplesigning;

#[cfg(test)]
mod tests;

pub use cosign::{
    DSSE_MEDIA_TYPE, FoundSignature, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLESIGNING_MEDIA_TYPE,
    attach_attestation, attestation_tag, sign_image, signature_tag, signatures, verify_attestations, verify_image,
};
pub use dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae};
pub use error::{Result, SignError};
pub use keys::{PrivateKey, PublicKey, write_key_pair};
pub use simplesigning::{COSIGN_SIGNATURE_TYPE, Payload, payload};
