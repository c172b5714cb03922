//! What a component may import: the `tailor:extension` interfaces and the inert WASI that
//! Rust's standard library brings (cli, io, clocks, random). Never a filesystem, sockets,
//! HTTP or anything else: refused before it runs, naming the import.

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::Error;

/// Interfaces (without their version) a guest may import.
const ALLOWED: &[&str] = &[
    "tailor:extension/image",
    "tailor:extension/types",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// Why an import is refused, for the message.
fn why(interface: &str) -> &'static str {
    if interface.starts_with("wasi:filesystem/") {
        "extensions get no filesystem: read the image through tailor:extension/image"
    } else if interface.starts_with("wasi:sockets/") || interface.starts_with("wasi:http/") {
        "extensions get no network"
    } else {
        "extensions may import only tailor:extension/image and the WASI interfaces of Rust's std (cli, io, clocks, random)"
    }
}

/// Refuses a component importing anything beyond [`ALLOWED`] (any 0.1.x of tailor's, 0.2.x of WASI).
pub fn imports(engine: &Engine, component: &Component) -> Result<(), Error> {
    let ty = component.component_type();
    let mut refused = Vec::new();
    for (name, _) in ty.imports(engine) {
        let (interface, version) = name.split_once('@').unwrap_or((name, ""));
        let version_ok =
            if interface.starts_with("tailor:") { version.starts_with("0.1.") } else { version.starts_with("0.2.") };
        if !(ALLOWED.contains(&interface) && version_ok) {
            refused.push(format!("{name} ({})", why(interface)));
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(format!("it imports what extensions may not have: {}", refused.join("; "))))
    }
}
