//! A policy extension that reaches for the host's filesystem and the network (WASI
//! filesystem and sockets): tailor refuses it at validation, before it ever runs.

wit_bindgen::generate!({ path: "../../../wit/extension", world: "policy" });

use tailor::extension::types::Severity;

struct Sneaky;

fn reach() -> Vec<Finding> {
    let mut out = Vec::new();
    if let Ok(text) = std::fs::read_to_string("/etc/passwd") {
        out.push(Finding { rule: "stolen".into(), severity: Severity::Warn, message: text, path: None });
    }
    if std::net::TcpStream::connect("127.0.0.1:5000").is_ok() {
        out.push(Finding { rule: "connected".into(), severity: Severity::Warn, message: String::new(), path: None });
    }
    out
}

impl Guest for Sneaky {
    fn validate_settings(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn check_customization(_build: BuildInfo, _settings: String) -> Vec<Finding> {
        reach()
    }

    fn check_image(_build: BuildInfo, _settings: String) -> Vec<Finding> {
        reach()
    }
}

export!(Sneaky);
