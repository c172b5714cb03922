//! Tests with real data: the InRelease files apt fetched on this machine with Debian's archive
//! keyring, and keys and signatures made by the `gpg` CLI in a temporary GNUPGHOME.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::*;

const LISTS: &str = "/var/lib/apt/lists";
const ARCHIVE_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const SUITES: [&str; 3] = [
    "deb.debian.org_debian_dists_bookworm_InRelease",
    "deb.debian.org_debian_dists_bookworm-updates_InRelease",
    "deb.debian.org_debian-security_dists_bookworm-security_InRelease",
];

fn read(path: &Path, install: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|err| panic!("cannot read {}: {err}; {install}", path.display()))
}

fn archive_keyring() -> Keyring {
    let bytes = read(Path::new(ARCHIVE_KEYRING), "install it with `apt-get install debian-archive-keyring`");
    Keyring::from_bytes(ARCHIVE_KEYRING, &bytes).unwrap()
}

fn inrelease(name: &str) -> String {
    let path = Path::new(LISTS).join(name);
    let bytes = read(&path, "run `apt-get update` on this Debian bookworm machine to fetch it");
    String::from_utf8(bytes).unwrap()
}

#[test]
fn real_inrelease_files_verify_with_the_debian_archive_keyring() {
    let keyring = archive_keyring();
    assert!(keyring.len() >= 3, "{keyring:?}");
    let fingerprints = keyring.fingerprints();
    for name in SUITES {
        let (release, verified) =
            verify_inrelease(&inrelease(name), &keyring).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(release.codename.as_deref().unwrap().starts_with("bookworm"), "{name}: {:?}", release.codename);
        assert!(release.files.len() > 10, "{name}");
        assert!(fingerprints.contains(&verified.fingerprint), "{name}: {verified:?}");
        assert_eq!(verified.keyring, ARCHIVE_KEYRING);
        assert!(verified.user_id.as_deref().unwrap().contains("Debian"), "{verified:?}");
        assert!(verified.created.is_some());
        assert!(verified.to_string().contains(&verified.fingerprint));
    }
}

#[test]
fn real_inrelease_verifies_with_the_armored_keys_of_trusted_gpg_d() {
    let dir = Path::new("/etc/apt/trusted.gpg.d");
    let mut keyring = Keyring::new();
    for name in ["debian-archive-bookworm-automatic.asc", "debian-archive-bookworm-stable.asc"] {
        let path = dir.join(name);
        let bytes = read(&path, "install it with `apt-get install debian-archive-keyring`");
        keyring.merge(Keyring::from_bytes(&path.display().to_string(), &bytes).unwrap());
    }
    assert_eq!(keyring.files().len(), 2);
    let (_, verified) = verify_inrelease(&inrelease(SUITES[0]), &keyring).unwrap();
    assert!(verified.keyring.starts_with("/etc/apt/trusted.gpg.d/"), "{verified:?}");
}

#[test]
fn a_changed_byte_in_the_signed_text_is_a_bad_signature() {
    let keyring = archive_keyring();
    let text = inrelease(SUITES[0]);
    let changed = text.replacen("Codename: bookworm", "Codename: bookwork", 1);
    assert_ne!(changed, text);
    let err = verify_inrelease(&changed, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("BAD signature by key "), "{err}");
    assert!(err.to_string().contains("fetch it again"), "{err}");
    // A changed line in the SHA256 list (what an attacker would want) too.
    let at = text.find("SHA256:\n ").unwrap() + 9;
    let mut bytes = text.clone().into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let err = verify_inrelease(&String::from_utf8(bytes).unwrap(), &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
}

#[test]
fn an_unrelated_keyring_fails_naming_the_issuer_and_the_keyring_files() {
    let text = inrelease(SUITES[0]);
    let (_, verified) = verify_inrelease(&text, &archive_keyring()).unwrap();
    let gpg = Gpg::new();
    let fingerprint = gpg.generate("unrelated <u@example>", "ed25519", "sign", "never");
    let keyring = Keyring::from_bytes("unrelated.asc", &gpg.export(&fingerprint, true)).unwrap();
    let err = verify_inrelease(&text, &keyring).unwrap_err();
    let VerifyError::UnknownKey { issuers, keyring: files } = &err else { panic!("{err}") };
    assert!(issuers.contains(&format!("key {}", verified.signing_key)), "{err}");
    assert_eq!(files, &["unrelated.asc"]);
    let message = err.to_string();
    assert!(message.contains(&verified.signing_key), "{message}");
    assert!(message.contains("not in the keyring (unrelated.asc)"), "{message}");
}

/// A `Release` file with a trailing-space line (cleartext signing does not hash the spaces).
const RELEASE: &str = "\
Origin: tailor test
Label: tailor test  
Suite: stable
Codename: test
Architectures: amd64
Components: main
Description: a repository
SHA256:
 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 1234 main/binary-amd64/Packages.xz
";

/// Signs `RELEASE` with `gpg`'s default signing key of `fingerprint` in every form and checks
/// that each verifies with the binary and the armored export; returns the Verified.
fn check_all_forms(gpg: &Gpg, fingerprint: &str) -> Verified {
    let dir = gpg.home.path();
    let release_path = dir.join("Release");
    std::fs::write(&release_path, RELEASE).unwrap();
    let inrelease_path = dir.join("InRelease");
    let gpg_path = dir.join("Release.gpg");
    let asc_path = dir.join("Release.asc");
    for (args, out) in [
        (vec!["--clearsign"], &inrelease_path),
        (vec!["--detach-sign"], &gpg_path),
        (vec!["--armor", "--detach-sign"], &asc_path),
    ] {
        let mut all = vec!["--local-user", fingerprint, "--output", out.to_str().unwrap()];
        all.extend(args);
        all.push(release_path.to_str().unwrap());
        gpg.run(&all);
    }
    let inrelease = std::fs::read_to_string(&inrelease_path).unwrap();
    let mut last = None;
    for armored in [false, true] {
        let keyring = Keyring::from_bytes("test-key", &gpg.export(fingerprint, armored)).unwrap();
        assert_eq!(keyring.fingerprints(), [fingerprint]);
        let (release, verified) = verify_inrelease(&inrelease, &keyring).unwrap();
        assert_eq!(release.codename.as_deref(), Some("test"));
        assert_eq!(release.label.as_deref(), Some("tailor test"));
        assert_eq!(verified.fingerprint, fingerprint);
        for signature in [&gpg_path, &asc_path] {
            let signature = std::fs::read(signature).unwrap();
            // The same key and signer; gpg made each signature at its own second.
            let detached = verify_detached(RELEASE.as_bytes(), &signature, &keyring).unwrap();
            let (a, b) = (detached.created.unwrap_or(0), verified.created.unwrap_or(0));
            assert!(a.abs_diff(b) <= 5, "signature times {a} and {b}");
            assert_eq!(Verified { created: verified.created, ..detached }, verified);
            let (release, _) = verify_release(RELEASE.as_bytes(), &signature, &keyring).unwrap();
            assert_eq!(release.codename.as_deref(), Some("test"));
            let changed = RELEASE.replace("stable", "stablE");
            let err = verify_detached(changed.as_bytes(), &signature, &keyring).unwrap_err();
            assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
        }
        last = Some(verified);
    }
    last.unwrap()
}

#[test]
fn gpg_ed25519_key_clearsigned_and_detached_signatures_verify() {
    let gpg = Gpg::new();
    let fingerprint = gpg.generate("tailor test <t@example>", "ed25519", "sign", "never");
    let verified = check_all_forms(&gpg, &fingerprint);
    assert_eq!(verified.signing_key, fingerprint);
    assert_eq!(verified.user_id.as_deref(), Some("tailor test <t@example>"));
    assert_eq!(verified.keyring, "test-key");
}

#[test]
fn gpg_rsa_signing_subkey_signatures_verify() {
    let gpg = Gpg::new();
    let fingerprint = gpg.generate("tailor subkey <s@example>", "rsa2048", "cert", "never");
    gpg.run(&["--quick-add-key", &fingerprint, "rsa2048", "sign", "never"]);
    let subkey = gpg.fingerprints(&fingerprint)[1].clone();
    let verified = check_all_forms(&gpg, &fingerprint);
    assert_eq!(verified.fingerprint, fingerprint);
    assert_eq!(verified.signing_key, subkey);
    assert!(verified.to_string().contains(&format!("(subkey {subkey})")), "{verified}");
}

#[test]
fn dash_escaped_lines_are_verified_as_signed() {
    let gpg = Gpg::new();
    let fingerprint = gpg.generate("dashes <d@example>", "ed25519", "sign", "never");
    let keyring = Keyring::from_bytes("dashes.asc", &gpg.export(&fingerprint, true)).unwrap();
    let inrelease = gpg.clearsign(&fingerprint, "Origin: x\n-----dashes\t \n- and more\n");
    assert!(inrelease.contains("\n- -----dashes"), "{inrelease}");
    // The signature is good; then the text is no Release file.
    let err = verify_inrelease(&inrelease, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::Release(_)), "{err}");
    let changed = inrelease.replace("- and more", "- and less");
    let err = verify_inrelease(&changed, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
}

#[test]
fn a_keyring_of_several_armored_blocks_holds_every_key() {
    let gpg = Gpg::new();
    let first = gpg.generate("first <f@example>", "ed25519", "sign", "never");
    let second = gpg.generate("second <s@example>", "ed25519", "sign", "never");
    let mut both = gpg.export(&first, true);
    both.extend(gpg.export(&second, true));
    let keyring = Keyring::from_bytes("both.asc", &both).unwrap();
    assert_eq!(keyring.fingerprints(), [first.clone(), second.clone()]);
    // Binary exports concatenated, as in debian-archive-keyring.gpg.
    let mut binary = gpg.export(&second, false);
    binary.extend(gpg.export(&first, false));
    assert_eq!(Keyring::from_bytes("both.gpg", &binary).unwrap().fingerprints(), [second, first]);
}

#[test]
fn an_expired_key_is_refused_with_its_expiry() {
    let gpg = Gpg::new();
    let fingerprint = gpg.generate("short lived <e@example>", "ed25519", "sign", "1d");
    let keyring = Keyring::from_bytes("short.asc", &gpg.export(&fingerprint, true)).unwrap();
    let inrelease = gpg.clearsign(&fingerprint, RELEASE);
    verify_inrelease(&inrelease, &keyring).unwrap();
    let later = SystemTime::now() + Duration::from_secs(3 * 86_400);
    let err = verify_inrelease_at(&inrelease, &keyring, later).unwrap_err();
    assert!(matches!(err, VerifyError::ExpiredKey { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(&format!("key {fingerprint} (short lived <e@example>) from short.asc expired on ")));
    assert!(message.ends_with("get the repository's current key (e.g. a newer archive keyring)"), "{message}");
}

#[test]
fn a_revoked_key_is_refused() {
    let gpg = Gpg::new();
    let fingerprint = gpg.generate("revoked <r@example>", "ed25519", "sign", "never");
    let inrelease = gpg.clearsign(&fingerprint, RELEASE);
    // gpg writes a revocation certificate with the key, its armor line "escaped" by a colon.
    let certificate = gpg.home.path().join("openpgp-revocs.d").join(format!("{fingerprint}.rev"));
    let text = std::fs::read_to_string(&certificate).unwrap().replace(":-----BEGIN", "-----BEGIN");
    let revocation = gpg.home.path().join("revocation.asc");
    std::fs::write(&revocation, text).unwrap();
    gpg.run(&["--import", revocation.to_str().unwrap()]);
    let keyring = Keyring::from_bytes("revoked.asc", &gpg.export(&fingerprint, true)).unwrap();
    let err = verify_inrelease(&inrelease, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::RevokedKey { .. }), "{err}");
    assert!(err.to_string().contains(&format!("key {fingerprint} (revoked <r@example>) from revoked.asc is revoked")));
}

#[test]
fn unsigned_and_malformed_input_is_explained() {
    let keyring = archive_keyring();
    let err = verify_inrelease(RELEASE, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::Unsigned(_)), "{err}");
    assert!(err.to_string().starts_with("the file is not signed"), "{err}");

    let text = inrelease(SUITES[1]);
    let start = text.find("-----BEGIN PGP SIGNATURE-----").unwrap() + 40;
    let mut damaged = text.clone();
    damaged.replace_range(start..start + 8, "!!!!!!!!");
    let err = verify_inrelease(&damaged, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::BadArmor { .. }), "{err}");

    let no_end = text.replace("-----END PGP SIGNATURE-----", "");
    let err = verify_inrelease(&no_end, &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::BadClearSigned(_)), "{err}");

    let err = verify_detached(RELEASE.as_bytes(), b"", &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::NoSignature), "{err}");
    let err = verify_detached(RELEASE.as_bytes(), b"not a signature", &keyring).unwrap_err();
    assert!(matches!(err, VerifyError::BadArmor { .. }), "{err}");

    let err = verify_inrelease(&text, &Keyring::new()).unwrap_err();
    assert_eq!(err, VerifyError::NoKeys);
}

#[test]
fn bad_keyring_files_are_named() {
    let err = Keyring::from_bytes("/etc/tailor/debian.asc", b"hello\n").unwrap_err();
    assert!(matches!(err, VerifyError::BadKeyring { .. } | VerifyError::EmptyKeyring { .. }), "{err}");
    assert!(err.to_string().starts_with("keyring /etc/tailor/debian.asc: "), "{err}");
    let err = Keyring::from_bytes("k.asc", b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n").unwrap_err();
    assert!(matches!(err, VerifyError::BadKeyring { .. }), "{err}");
    let err = Keyring::from_bytes("empty.gpg", b"").unwrap_err();
    assert_eq!(err, VerifyError::EmptyKeyring { file: "empty.gpg".to_owned() });
}

#[test]
fn utc_formats_dates() {
    assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(utc(1_783_764_997), "2026-07-11 10:16:37 UTC");
}

/// A GnuPG home in a temporary directory; its agent is stopped when dropped.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        match Command::new("gpg").arg("--version").stdout(Stdio::null()).status() {
            Ok(status) if status.success() => {}
            _ => panic!("the `gpg` command is missing: install it with `apt-get install gpg` (tests/run.sh does)"),
        }
        let home = tempfile::Builder::new().prefix("tailor-gpg").tempdir_in("/tmp").unwrap();
        Gpg { home }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--quiet",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        command
    }

    fn run(&self, args: &[&str]) -> Vec<u8> {
        let output = self.command().args(args).stdin(Stdio::null()).output().unwrap();
        assert!(output.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }

    /// Generates a key; returns its fingerprint.
    fn generate(&self, user_id: &str, algorithm: &str, usage: &str, expire: &str) -> String {
        self.run(&["--quick-gen-key", user_id, algorithm, usage, expire]);
        self.fingerprints(user_id)[0].clone()
    }

    /// The fingerprints of the key `id` and its subkeys.
    fn fingerprints(&self, id: &str) -> Vec<String> {
        let listing = String::from_utf8(self.run(&["--with-colons", "--fingerprint", id])).unwrap();
        listing
            .lines()
            .filter_map(|line| line.strip_prefix("fpr:"))
            .map(|rest| rest.trim_matches(':').to_owned())
            .collect()
    }

    fn export(&self, fingerprint: &str, armored: bool) -> Vec<u8> {
        if armored { self.run(&["--armor", "--export", fingerprint]) } else { self.run(&["--export", fingerprint]) }
    }

    fn clearsign(&self, fingerprint: &str, text: &str) -> String {
        let path: PathBuf = self.home.path().join("to-sign");
        std::fs::write(&path, text).unwrap();
        let out = self.home.path().join("to-sign.asc");
        let _ = std::fs::remove_file(&out);
        self.run(&[
            "--local-user",
            fingerprint,
            "--output",
            out.to_str().unwrap(),
            "--clearsign",
            path.to_str().unwrap(),
        ]);
        std::fs::read_to_string(out).unwrap()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
