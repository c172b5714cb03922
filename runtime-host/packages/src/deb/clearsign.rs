//! The OpenPGP cleartext signature framework (RFC 4880 §7), as used by `InRelease`: splits the
//! signed text from the armored signature. Verifying the signature is not done here.

use super::control::excerpt;

const BEGIN_MESSAGE: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const BEGIN_SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----";
const END_SIGNATURE: &str = "-----END PGP SIGNATURE-----";

/// A cleartext-signed message taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClearSigned {
    /// The values of the `Hash:` armor headers (like `SHA512`), in order.
    pub hashes: Vec<String>,
    /// The signed text, dash-escaping removed, every line ending in `\n` (as the `Release`
    /// file it carries would be written).
    pub text: String,
    /// The 1-based line of the input where `text` starts (to report lines of the input).
    pub text_line: usize,
    /// The ASCII-armored signature, from `-----BEGIN PGP SIGNATURE-----` to
    /// `-----END PGP SIGNATURE-----` inclusive, lines ending in `\n`.
    pub signature: String,
}

/// Input that is not exactly one OpenPGP cleartext-signed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearSignedError {
    #[error("not an OpenPGP cleartext-signed message: no \"{BEGIN_MESSAGE}\" line")]
    NotClearSigned,
    #[error("line {line}: unexpected {text:?} outside the signed message")]
    OutsideMessage { line: usize, text: String },
    #[error("line {line}: invalid armor header {text:?} (expected \"Name: value\")")]
    BadHeader { line: usize, text: String },
    #[error("line {line}: line {text:?} starts with '-' but is not dash-escaped (\"- \")")]
    UnescapedDash { line: usize, text: String },
    #[error("the signed text is not followed by \"{BEGIN_SIGNATURE}\"")]
    MissingSignature,
    #[error("line {line}: the signature block has no \"{END_SIGNATURE}\" line")]
    UnterminatedSignature { line: usize },
}

/// Lines without their `\n` and any `\r`, numbered from 1.
fn numbered_lines(input: &str) -> impl Iterator<Item = (usize, &str)> {
    input.lines().enumerate().map(|(i, line)| (i + 1, line))
}

impl ClearSigned {
    /// Splits `input`. Only blank lines may surround the message; armor headers must be
    /// `Name: value`; every signed line starting with `-` must be dash-escaped.
    pub fn parse(input: &str) -> Result<ClearSigned, ClearSignedError> {
        let mut lines = numbered_lines(input);
        loop {
            match lines.next() {
                None => return Err(ClearSignedError::NotClearSigned),
                Some((_, line)) if line.trim().is_empty() => {}
                Some((_, line)) if line.trim_end() == BEGIN_MESSAGE => break,
                Some((number, line)) if !line.starts_with("-----BEGIN ") => {
                    return Err(ClearSignedError::OutsideMessage { line: number, text: excerpt(line) });
                }
                Some(_) => return Err(ClearSignedError::NotClearSigned),
            }
        }
        let mut hashes = Vec::new();
        let mut text_line = 0;
        for (number, line) in lines.by_ref() {
            if line.trim().is_empty() {
                text_line = number + 1;
                break;
            }
            let Some((name, value)) = line.split_once(": ") else {
                return Err(ClearSignedError::BadHeader { line: number, text: excerpt(line) });
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(ClearSignedError::BadHeader { line: number, text: excerpt(line) });
            }
            if name == "Hash" {
                hashes.extend(value.split(',').map(|hash| hash.trim().to_owned()).filter(|hash| !hash.is_empty()));
            }
        }
        if text_line == 0 {
            return Err(ClearSignedError::MissingSignature);
        }
        let mut text = String::new();
        let mut found_signature = None;
        for (number, line) in lines.by_ref() {
            if line.trim_end() == BEGIN_SIGNATURE {
                found_signature = Some(number);
                break;
            }
            let unescaped = match line.strip_prefix("- ") {
                Some(rest) => rest,
                None if line.starts_with('-') => {
                    return Err(ClearSignedError::UnescapedDash { line: number, text: excerpt(line) });
                }
                None => line,
            };
            text.push_str(unescaped);
            text.push('\n');
        }
        let Some(begin_line) = found_signature else { return Err(ClearSignedError::MissingSignature) };
        let mut signature = format!("{BEGIN_SIGNATURE}\n");
        let mut terminated = false;
        for (_, line) in lines.by_ref() {
            signature.push_str(line.trim_end());
            signature.push('\n');
            if line.trim_end() == END_SIGNATURE {
                terminated = true;
                break;
            }
        }
        if !terminated {
            return Err(ClearSignedError::UnterminatedSignature { line: begin_line });
        }
        for (number, line) in lines {
            if !line.trim().is_empty() {
                return Err(ClearSignedError::OutsideMessage { line: number, text: excerpt(line) });
            }
        }
        Ok(ClearSigned { hashes, text, text_line, signature })
    }

    /// The bytes the signature covers (RFC 4880 §7.1): the text's lines with trailing spaces
    /// and tabs removed, joined by CR LF, without a final line ending.
    pub fn signed_data(&self) -> Vec<u8> {
        let lines: Vec<&str> = self.text.lines().map(|line| line.trim_end_matches([' ', '\t'])).collect();
        lines.join("\r\n").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SIGNATURE: &str = "\
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEEpyNohvPMyq0Uiif4DphATThvodkFAmX3ZfEACgkQDphATThv
odnM1Q/9GWxbqsyD8Wlsd/xxAsDDJoDkemZLtrQxY0ldLeBq2YBsXVF3c8WQ5J9X
=H0cT
-----END PGP SIGNATURE-----
";

    fn message(body: &str) -> String {
        format!("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{body}{SIGNATURE}")
    }

    #[test]
    fn clearsigned_splits_text_and_signature() {
        let input = message("Origin: Debian\nDescription: x  \n- -----dashed\n- plain escaped\n");
        let signed = ClearSigned::parse(&input).unwrap();
        assert_eq!(signed.hashes, ["SHA512"]);
        assert_eq!(signed.text_line, 4);
        assert_eq!(signed.text, "Origin: Debian\nDescription: x  \n-----dashed\nplain escaped\n");
        assert_eq!(signed.signature, SIGNATURE);
        assert_eq!(signed.signed_data(), b"Origin: Debian\r\nDescription: x\r\n-----dashed\r\nplain escaped");
    }

    #[test]
    fn clearsigned_accepts_crlf_surrounding_blank_lines_and_several_hashes() {
        let input = format!("\n{}\n\n", message("a\n").replace('\n', "\r\n")).replace("SHA512", "SHA256, SHA512");
        let signed = ClearSigned::parse(&input).unwrap();
        assert_eq!(signed.hashes, ["SHA256", "SHA512"]);
        assert_eq!(signed.text, "a\n");
        assert_eq!(signed.text_line, 5);
        assert_eq!(signed.signature, SIGNATURE);
    }

    #[test]
    fn clearsigned_errors_name_the_line() {
        let cases = [
            ("Origin: Debian\n".to_owned(), "line 1: unexpected \"Origin: Debian\" outside the signed message"),
            (String::new(), "no \"-----BEGIN PGP SIGNED MESSAGE-----\" line"),
            ("-----BEGIN PGP SIGNATURE-----\n".to_owned(), "not an OpenPGP cleartext-signed message"),
            (message("-unescaped\n"), "line 4: line \"-unescaped\" starts with '-' but is not dash-escaped"),
            (message("a\n").replace("Hash: SHA512", "Hash SHA512"), "line 2: invalid armor header \"Hash SHA512\""),
            ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\na\n".to_owned(), "not followed by"),
            ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n".to_owned(), "not followed by"),
            (message("a\n").replace("-----END PGP SIGNATURE-----\n", ""), "line 5: the signature block has no"),
            (format!("{}trailing\n", message("a\n")), "line 11: unexpected \"trailing\" outside"),
            (
                format!("{}{}", message("a\n"), message("b\n")),
                "line 11: unexpected \"-----BEGIN PGP SIGNED MESSAGE-----\"",
            ),
        ];
        for (input, expected) in cases {
            let err = ClearSigned::parse(&input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }
}
