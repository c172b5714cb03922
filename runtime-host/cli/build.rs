//! Makes `tailor` self-contained: builds the Spin components (api, webhook, ui) for
//! wasm32-wasip2 with the `wasm` profile — in the workspace's target directory, so a checkout
//! that built them already builds nothing here — and hands their paths and spin.toml to
//! `src/embedded.rs`, which includes them. `TAILOR_COMPONENTS=DIR` takes prebuilt
//! `tailor_api.wasm`, `tailor_webhook.wasm` and `tailor_ui.wasm` from DIR instead.
//! Also names the commit for `tailor --version` (`git`, or `TAILOR_COMMIT`).

use std::path::{Path, PathBuf};
use std::process::Command;

const COMPONENTS: &[(&str, &str)] =
    &[("tailor-api", "tailor_api"), ("tailor-webhook", "tailor_webhook"), ("tailor-ui", "tailor_ui")];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().and_then(Path::parent).expect("the workspace root").to_path_buf();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-env-changed=TAILOR_COMPONENTS");
    println!("cargo:rerun-if-env-changed=TAILOR_COMMIT");
    println!("cargo:rerun-if-changed={}", root.join("spin.toml").display());

    let dir = match std::env::var_os("TAILOR_COMPONENTS") {
        Some(dir) => PathBuf::from(dir),
        None => build_components(&root, &out),
    };
    let mut code = String::from("/// The components tailor carries: (source as spin.toml names it, bytes).\n");
    code.push_str("pub const FILES: &[(&str, &[u8])] = &[\n");
    for (_, file) in COMPONENTS {
        let path = dir.join(format!("{file}.wasm"));
        if !path.is_file() {
            panic!("{} is missing: build the components or unset TAILOR_COMPONENTS", path.display());
        }
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    (\"target/wasm32-wasip2/wasm/{file}.wasm\", include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    code.push_str(&format!(
        "/// The Spin manifest they are served by.\npub const SPIN_TOML: &str = include_str!({:?});\n",
        root.join("spin.toml").display().to_string()
    ));
    std::fs::write(out.join("embedded.rs"), code).expect("writing embedded.rs");

    println!("cargo:rustc-env=TAILOR_COMMIT={}", commit(&root));
}

/// `cargo build --profile wasm --target wasm32-wasip2` of the components; the directory of
/// the `.wasm` files.
fn build_components(root: &Path, out: &Path) -> PathBuf {
    for d in ["functions", "wit", "web/dist", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(d).display());
    }
    // The workspace's target directory (OUT_DIR is TARGET/[TRIPLE/]PROFILE/build/PKG-HASH/out),
    // where the tests and the README build the same components; `cargo install` has its own.
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        out.ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "build"))
            .and_then(|b| b.parent()?.parent().map(Path::to_path_buf))
            .map(|t| if t.join("CACHEDIR.TAG").exists() { t } else { t.parent().unwrap_or(&t).to_path_buf() })
            .unwrap_or_else(|| out.join("target"))
    });
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--profile", "wasm", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target);
    for (package, _) in COMPONENTS {
        cmd.args(["-p", package]);
    }
    if std::env::var_os("CARGO_NET_OFFLINE").is_some() {
        cmd.arg("--offline");
    }
    // The outer build's settings are for the host, not for the components.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_NET_OFFLINE")
            || k.starts_with("RUSTC")
            || k == "RUSTFLAGS"
            || k == "RUSTDOCFLAGS"
            || k == "DEBUG"
            || k == "OPT_LEVEL"
            || k == "PROFILE"
            || k == "TARGET"
            || k == "HOST"
            || k == "NUM_JOBS"
            || k == "OUT_DIR"
        {
            cmd.env_remove(&k);
        }
    }
    let status = cmd.status().expect("running cargo to build the components");
    if !status.success() {
        panic!(
            "building the components for wasm32-wasip2 failed (is the target installed? \
             `rustup target add wasm32-wasip2`)"
        );
    }
    target.join("wasm32-wasip2/wasm")
}

/// The commit the binary is built from: `TAILOR_COMMIT`, else git's HEAD, else `unknown`.
fn commit(root: &Path) -> String {
    if let Ok(c) = std::env::var("TAILOR_COMMIT") {
        return c;
    }
    let git = root.join(".git");
    if git.exists() {
        println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(r) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed={}", git.join(r).display());
        }
    }
    let run = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    run(&["rev-parse", "--short=12", "HEAD"]).filter(|c| !c.is_empty()).unwrap_or_else(|| "unknown".into())
}
