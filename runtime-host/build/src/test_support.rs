//! What the packages tests share: a static file server on loopback (`python3 -m http.server`)
//! and the entries of a pushed image's layer.

#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tailor_oci::{Client, Digest};

/// Serves the files under a directory; `.1` is its `http://127.0.0.1:PORT`.
pub(crate) struct Server(Child, pub(crate) String);

impl Server {
    pub(crate) fn start(root: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Server(child, url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One entry of a layer.
pub(crate) struct LayerEntry {
    pub(crate) path: String,
    pub(crate) mode: u32,
    /// A symlink's target.
    pub(crate) link: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// The entries of layer `n` (0: the base) of the image `digest` in `repo`.
pub(crate) fn layer(client: &Client, repo: &str, digest: &Digest, n: usize) -> Vec<LayerEntry> {
    let m: serde_json::Value =
        serde_json::from_slice(&client.get_manifest(repo, digest.as_str()).unwrap().bytes).unwrap();
    let d: Digest = m["layers"][n]["digest"].as_str().unwrap().parse().unwrap();
    let blob = client.read_blob(repo, &d, 1 << 30).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&blob[..]));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            LayerEntry {
                path: e.path().unwrap().display().to_string(),
                mode: e.header().mode().unwrap(),
                link: e.link_name().unwrap().map(|l| l.display().to_string()),
                data,
            }
        })
        .collect()
}
