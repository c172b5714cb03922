//! Embeds the built web app (`web/dist`, committed: see web/README.md) into the component:
//! every file with its content type and, when it pays, a gzip of it made here once.

use std::io::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, root, out);
        } else {
            out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("../../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    walk(&dist, &dist, &mut files);
    if !files.iter().any(|f| f == Path::new("index.html")) {
        panic!(
            "{}/index.html is missing: the web app is built from web/ (`npm ci && npm run build` there) and its dist/ is committed",
            dist.display()
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut code = String::from("pub static FILES: &[crate::Asset] = &[\n");
    for (i, f) in files.iter().enumerate() {
        let abs = dist.join(f);
        println!("cargo:rerun-if-changed={}", abs.display());
        let bytes = std::fs::read(&abs).unwrap_or_default();
        let path = f.to_string_lossy().replace('\\', "/");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).unwrap_or_default();
        let gz = gz.finish().unwrap_or_default();
        let gz_expr = if bytes.len() > 256 && gz.len() < bytes.len() * 9 / 10 {
            let name = format!("f{i}.gz");
            std::fs::write(out.join(&name), &gz).unwrap_or_default();
            format!("Some(include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\")))")
        } else {
            "None".to_owned()
        };
        code.push_str(&format!(
            "    crate::Asset {{ path: {path:?}, content_type: {:?}, bytes: include_bytes!({:?}), gzip: {gz_expr} }},\n",
            content_type(&path),
            abs.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("files.rs"), code).unwrap_or_default();
}
