//! Chart archives (gzip, tar, nested subchart archives) and the values rewriter: read,
//! list the image references, customize; what is written reads back. The first input byte
//! chooses between the raw bytes as an archive and as a values file inside a valid chart.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use tailor_chart::archive::{self, Limits};
use tailor_chart::{Mapper, Settings, Targets};
use tailor_spec::Mapping;

struct Everything;

impl Targets for Everything {
    fn digest(&self, _: &str, _: &str) -> tailor_chart::Result<Option<String>> {
        Ok(Some(format!("sha256:{}", "a".repeat(64))))
    }
    fn exists(&self, _: &str, _: &str) -> tailor_chart::Result<bool> {
        Ok(true)
    }
}

fn chart(values: &[u8]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, body) in [
        ("web/Chart.yaml", &b"apiVersion: v2\nname: web\nversion: 1.0.0\n"[..]),
        ("web/values.yaml", values),
        ("web/templates/d.yaml", b"image: {{ .Values.image }}\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, body).expect("in memory");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar.into_inner().expect("in memory")).expect("in memory");
    gz.finish().expect("in memory")
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let tgz = if kind & 1 == 0 { rest.to_vec() } else { chart(rest) };
    let limits = Limits { max_entries: 256, max_bytes: 4 << 20, max_file: 1 << 20 };
    if let Ok(a) = archive::read(&tgz, "fuzz.tgz", limits) {
        let written = archive::write(&a).expect("an archive that was read can be written");
        archive::read(&written, "rewritten", limits).expect("tailor's own archive reads back");
    }
    let _ = tailor_chart::references(&tgz, "fuzz.tgz", limits);
    let mapper = Mapper::new(&[
        Mapping { from: "docker.io/".into(), to: "acme/".into() },
        Mapping { from: "*".into(), to: "acme/mirror/".into() },
    ]);
    let settings = Settings { mapper: &mapper, registry_host: Some("registry.acme.example"), limits };
    if let Ok(c) = tailor_chart::customize(&tgz, "fuzz.tgz", "1.0.0+acme", &settings, &Everything) {
        archive::read(&c.archive, "customized", limits).expect("a customized chart reads back");
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(Some(_)) = tailor_chart::yaml::parse(text) {
            let _ = tailor_chart::yaml::apply(text, Vec::new());
        }
    }
});
