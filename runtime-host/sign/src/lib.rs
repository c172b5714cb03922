//! Signing for tailor (DESIGN.md §7): ECDSA P-256 keys in PEM (PKCS#8 private, SPKI public),
//! cosign-compatible simple-signing payloads and signatures, and DSSE envelopes for in-toto
//! attestations, stored in a registry under cosign's tags or as OCI 1.1 referrers.

mod attest;
mod carrier;
mod cosign;
mod dsse;
mod error;
pub mod intoto;
mod keys;
mod simplesigning;

#[cfg(test)]
mod referrers_tests;
#[cfg(test)]
mod tests;

pub use attest::{attach_attestations, attach_attestations_gated, verify_attestations};
pub use carrier::{Gate, Kind, Storage, Subject};
pub use cosign::{
    DSSE_MEDIA_TYPE, FoundSignature, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLESIGNING_MEDIA_TYPE,
    attestation_tag, sign_image, sign_image_gated, signature_tag, signatures, verify_image,
};
pub use dsse::{Envelope, EnvelopeSignature, IN_TOTO_PAYLOAD_TYPE, pae};
pub use error::{Result, SignError};
pub use keys::{PrivateKey, PublicKey, write_key_pair};
pub use simplesigning::{COSIGN_SIGNATURE_TYPE, Payload, payload};
