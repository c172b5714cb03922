//! Authentication of a delivery against its endpoint's secret, any one of:
//! `Authorization: Bearer <secret>` (Distribution sends configured headers),
//! `X-Tailor-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, or the secret as the last
//! path segment (`/v1/hooks/{name}/{secret}`, for senders that can do neither, like Docker Hub).
//! Every comparison takes the same time whatever the input.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tailor_guest::HttpRequest;

use crate::endpoints::Endpoint;

/// The header carrying the body's HMAC.
pub const SIGNATURE_HEADER: &str = "x-tailor-signature";

/// How a delivery proved it knows the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Bearer,
    Signature,
    PathToken,
}

/// The first presented credential that matches `endpoint`'s secret, if any. `path_token` is
/// the decoded secret segment of the path, when the route has one.
pub fn authenticate(endpoint: &Endpoint, req: &HttpRequest, path_token: Option<&str>) -> Option<Method> {
    let secret = endpoint.secret.as_bytes();
    let values = |name: &'static str| {
        req.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    };
    // Evaluate every presented credential, so the time taken does not say which one matched.
    let mut found = None;
    for value in values("authorization") {
        if bearer_token(value).is_some_and(|token| secret_eq(token.as_bytes(), secret)) {
            found = found.or(Some(Method::Bearer));
        }
    }
    for value in values(SIGNATURE_HEADER) {
        if signature_ok(secret, &req.body, value) {
            found = found.or(Some(Method::Signature));
        }
    }
    if path_token.is_some_and(|token| secret_eq(token.as_bytes(), secret)) {
        found = found.or(Some(Method::PathToken));
    }
    found
}

/// The token of an `Authorization: Bearer <token>` value (scheme in any case).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Whether `value` is `sha256=<hex>` with the HMAC-SHA256 of `body` under `secret`.
fn signature_ok(secret: &[u8], body: &[u8], value: &str) -> bool {
    let Some((algorithm, hex_mac)) = value.trim().split_once('=') else { return false };
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return false;
    }
    let Ok(given) = hex::decode(hex_mac) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// `hex(HMAC-SHA256(secret, body))`, what a sender puts after `sha256=`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length: this cannot fail.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Compares in constant time, also hiding the lengths: both sides are hashed first and the
/// digests compared without an early exit.
fn secret_eq(given: &[u8], secret: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(secret));
    let diff = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint { name: "reg".into(), secret: "s3cr3t".into(), upstream: None }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_do_not_count() {
        let e = endpoint();
        let req = |v: &str| HttpRequest::new("POST", "/v1/hooks/reg").with_header("Authorization", v);
        assert_eq!(authenticate(&e, &req("Bearer s3cr3t"), None), Some(Method::Bearer));
        assert_eq!(authenticate(&e, &req("bearer   s3cr3t "), None), Some(Method::Bearer));
        assert_eq!(authenticate(&e, &req("Basic s3cr3t"), None), None);
        assert_eq!(authenticate(&e, &req("Bearer s3cr3t2"), None), None);
        assert_eq!(authenticate(&e, &req("Bearer"), None), None);
        assert_eq!(authenticate(&e, &req("s3cr3t"), None), None);
    }

    #[test]
    fn signature_must_cover_the_exact_body() {
        let e = endpoint();
        let body = br#"{"events":[]}"#;
        let sig = sign("s3cr3t", body);
        assert_eq!(sig.len(), 64);
        let req = |v: &str, b: &[u8]| {
            HttpRequest::new("POST", "/v1/hooks/reg").with_header(SIGNATURE_HEADER, v).with_body(b.to_vec())
        };
        assert_eq!(authenticate(&e, &req(&format!("sha256={sig}"), body), None), Some(Method::Signature));
        assert_eq!(
            authenticate(&e, &req(&format!("SHA256={}", sig.to_uppercase()), body), None),
            Some(Method::Signature)
        );
        assert_eq!(authenticate(&e, &req(&format!("sha256={sig}"), b"{\"events\":[] }"), None), None);
        assert_eq!(authenticate(&e, &req(&format!("sha1={sig}"), body), None), None);
        assert_eq!(authenticate(&e, &req(&sig, body), None), None);
        assert_eq!(authenticate(&e, &req("sha256=zz", body), None), None);
        assert_eq!(authenticate(&e, &req(&format!("sha256={}", &sig[..62]), body), None), None);
        let other = sign("other", body);
        assert_eq!(authenticate(&e, &req(&format!("sha256={other}"), body), None), None);
    }

    #[test]
    fn path_token_and_any_matching_credential() {
        let e = endpoint();
        let plain = HttpRequest::new("POST", "/v1/hooks/reg/s3cr3t");
        assert_eq!(authenticate(&e, &plain, Some("s3cr3t")), Some(Method::PathToken));
        assert_eq!(authenticate(&e, &plain, Some("s3cr3")), None);
        assert_eq!(authenticate(&e, &plain, Some("")), None);
        assert_eq!(authenticate(&e, &plain, None), None);
        // A wrong bearer next to a right path token: one matching credential is enough.
        let both = plain.with_header("authorization", "Bearer nope");
        assert_eq!(authenticate(&e, &both, Some("s3cr3t")), Some(Method::PathToken));
    }

    #[test]
    fn secret_eq_compares_exactly() {
        assert!(secret_eq(b"abc", b"abc"));
        assert!(!secret_eq(b"abc", b"abd"));
        assert!(!secret_eq(b"abc", b"abcd"));
        assert!(!secret_eq(b"", b"abc"));
    }
}
