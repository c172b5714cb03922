//! A policy extension that misbehaves on purpose; its settings `{"do": WHAT}` choose how:
//!
//! - `loop-validate`: never returns from `validate-settings` (its initialization);
//! - `loop`: never returns from a check;
//! - `grow`: allocates until memory runs out;
//! - `recurse`: recurses without end (stack overflow);
//! - `findings`: returns 100,000 findings;
//! - `trap`: panics;
//! - `log`: writes megabytes to stdout;
//! - `escape`: reads through `..`, absolute and symlinked paths and reports, as warnings,
//!   what each read gave (the test checks nothing outside the image came back);
//! - `fine`: one warning, so the test sees it ran.

wit_bindgen::generate!({ path: "../../../wit/extension", world: "policy" });

use std::hint::black_box;

use tailor::extension::image;
use tailor::extension::types::Severity;

struct Hostile;

fn what(settings: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(settings).unwrap_or_default();
    v["do"].as_str().unwrap_or("fine").to_owned()
}

fn warn(rule: &str, message: String, path: Option<String>) -> Finding {
    Finding { rule: rule.into(), severity: Severity::Warn, message, path }
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let pad = black_box([depth; 64]);
    recurse(black_box(depth + 1)) + pad[(depth % 64) as usize]
}

/// What a read of `path` gave, for the report.
fn tried(path: &str) -> Finding {
    let message = match image::read(path, 0, 4096) {
        Ok(bytes) => format!("read {path}: {} bytes: {}", bytes.len(), String::from_utf8_lossy(&bytes)),
        Err(e) => format!("read {path}: refused: {e}"),
    };
    warn("escape", message, Some(path.to_owned()))
}

fn misbehave(settings: &str) -> Vec<Finding> {
    match what(settings).as_str() {
        "loop" => spin(),
        "grow" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(black_box(vec![1u8; 1 << 20]));
            }
        }
        "recurse" => vec![warn("depth", recurse(0).to_string(), None)],
        "findings" => (0..100_000).map(|i| warn("many", format!("finding {i}"), None)).collect(),
        "trap" => panic!("this extension panics on purpose"),
        "log" => {
            let line = "x".repeat(1023);
            for _ in 0..(8 << 10) {
                println!("{line}");
            }
            Vec::new()
        }
        "escape" => {
            let mut out: Vec<Finding> = [
                "../../../../etc/passwd",
                "/../../etc/passwd",
                "etc/../../../etc/passwd",
                "/escape-link",
                "/escape-dir/passwd",
                "/proc/self/environ",
                "/etc/hostname",
            ]
            .into_iter()
            .map(tried)
            .collect();
            for prefix in ["../", "/..", "/escape-dir/"] {
                let listed = image::files(prefix, None, 100);
                let names: Vec<String> = listed.into_iter().map(|f| f.path).collect();
                out.push(warn("escape", format!("files {prefix}: {names:?}"), Some(prefix.to_owned())));
            }
            out
        }
        _ => vec![warn("ran", "the hostile extension ran and behaved".into(), None)],
    }
}

impl Guest for Hostile {
    fn validate_settings(settings: String) -> Result<(), String> {
        if what(&settings) == "loop-validate" {
            spin()
        }
        Ok(())
    }

    fn check_customization(_build: BuildInfo, settings: String) -> Vec<Finding> {
        misbehave(&settings)
    }

    fn check_image(_build: BuildInfo, settings: String) -> Vec<Finding> {
        misbehave(&settings)
    }
}

export!(Hostile);
