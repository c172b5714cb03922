#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the tests' own inputs: the specs and webhook
bodies written in the tests (raw string literals), the examples, real Debian packages and a
debootstrap base (the test command's caches), tailor's own chart and the chart fixtures,
and small layers, manifests and apks made here. Adds to fuzz/corpus/TARGET/ (not committed; what fuzzing found is kept there);
fuzz/regressions/TARGET/ (committed: every input that once crashed) is copied in too.

    python3 fuzz/seed.py        # then: cargo +nightly fuzz run TARGET fuzz/corpus/TARGET
"""
import gzip, hashlib, io, json, os, re, tarfile, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "tailor-test"
ROOTFS = pathlib.Path(os.environ.get("TAILOR_TEST_ROOTFS", CACHE / "debian-bookworm"))
DEBS = pathlib.Path(os.environ.get("TAILOR_TEST_DEBS", CACHE / "debs"))


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def literals(paths):
    """Raw string literals (r"…", r#"…"#) of Rust sources."""
    for p in paths:
        text = p.read_text()
        for m in re.finditer(r'r(#*)"(.*?)"\1', text, re.S):
            yield m.group(2)


def tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, body in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, body
                t.addfile(info)
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, body
                t.addfile(info)
            else:
                info.size, info.mode = len(body), 0o4755 if name.endswith("su") else 0o644
                t.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def tar_dir(path, arcname):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        t.add(path, arcname=arcname)
    return buf.getvalue()


def main():
    # spec: one selector byte (bit 0: JSON; bits 1-2: customization, chart, mirror, extension).
    specs = list(literals((ROOT / "functions/spec/src/tests").glob("*.rs")))
    specs.append((ROOT / "examples/python-rootca.yaml").read_text())
    for s in specs:
        json_ = s.lstrip().startswith("{")
        for kind in range(4):
            put("spec", bytes([kind << 1 | json_]) + s.encode())
    # webhook: the bodies of the webhook tests.
    for s in literals((ROOT / "functions/webhook/src").glob("*.rs")):
        if s.lstrip().startswith("{"):
            put("webhook", s)
    d = "sha256:" + "b" * 64
    target = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 708, "digest": d, "length": 708,
              "repository": "acme/debian", "url": "http://127.0.0.1:5000/v2/acme/debian/manifests/" + d, "tag": "12"}
    event = {"id": "e1", "timestamp": "2025-01-20T10:11:12.123456789Z", "action": "push", "target": target,
             "request": {"id": "r", "addr": "127.0.0.1:1", "host": "127.0.0.1:5000", "method": "PUT", "useragent": "skopeo"},
             "actor": {}, "source": {"addr": "registry:5000", "instanceID": "i"}}
    put("webhook", json.dumps({"events": [event, dict(event, id="e2", action="pull"),
                                          dict(event, id="e3", target=dict(target, tag="sha256-" + "c" * 64 + ".sig"))]}))
    put("webhook", json.dumps({"push_data": {"tag": "12", "pushed_at": 1700000000, "pusher": "acme"},
                               "repository": {"repo_name": "acme/debian", "namespace": "acme", "name": "debian"},
                               "callback_url": "https://registry.hub.docker.com/u/acme/debian/hook/x/"}))
    # layer: plain tars with links, whiteouts and an opaque directory; PAX and GNU.
    files = [("etc", "dir", None), ("etc/passwd", "file", b"root:x:0:0::/root:/bin/sh\n"),
             ("bin/su", "file", b"\x7fELF"), ("bin/sudo", "hard", "bin/su"), ("usr/bin/sh", "sym", "../../bin/su"),
             ("a/b/c/" + "long" * 40, "file", b"x")]
    put("layer", tar(files))
    put("layer", tar(files, tarfile.GNU_FORMAT))
    put("layer", tar([("etc/.wh.passwd", "file", b""), ("var/.wh..wh..opq", "file", b""), ("var/x", "file", b"y")]))
    if (ROOTFS / "etc").is_dir():
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for name in ("etc/passwd", "etc/group", "etc/os-release", "usr/bin/dpkg", "etc/alternatives"):
                if (ROOTFS / name).exists():
                    t.add(ROOTFS / name, arcname=name, recursive=False)
        put("layer", buf.getvalue())
    # manifest: an image manifest, an index, a config, a referrers list.
    d = "sha256:" + "a" * 64
    put("manifest", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": 3}]}))
    put("manifest", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": 9,
                       "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}))
    put("manifest", json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"], "User": "0"},
        "rootfs": {"type": "layers", "diff_ids": [d]}, "history": [{"created_by": "x"}]}))
    # deb: real packages; the base's dpkg status; apt's InRelease files.
    for deb in sorted(DEBS.glob("*.deb"))[:3]:
        put("deb", deb.read_bytes())
    status = ROOTFS / "var/lib/dpkg/status"
    if status.exists():
        text = status.read_text(errors="replace")
        put("deb", text[:20000])
        put("os_database", text[:20000])
    for rel in sorted(pathlib.Path("/var/lib/apt/lists").glob("*InRelease"))[:1]:
        put("deb", rel.read_bytes()[:20000])
    for name in ("etc/os-release", "usr/lib/os-release"):
        if (ROOTFS / name).exists():
            put("os_database", (ROOTFS / name).read_bytes())
    put("os_database", "P:busybox\nV:1.36.1-r2\nA:x86_64\nF:bin\nR:busybox\na:0:0:755\n\nP:musl\nV:1.2.4-r2\n")
    # apk: signature, control and data gzip streams; an APKINDEX; a PKGINFO.
    pkginfo = b"pkgname = hello\npkgver = 2.12-r0\narch = x86_64\nsize = 4\ndepend = so:libc.musl-x86_64.so.1\nprovides = cmd:hello=2.12-r0\n"
    sig = gzip.compress(tar([(".SIGN.RSA.acme.rsa.pub", "file", b"sig")], tarfile.GNU_FORMAT)[:-1024])
    control = gzip.compress(tar([(".PKGINFO", "file", pkginfo)], tarfile.GNU_FORMAT)[:-1024])
    data = gzip.compress(tar([("usr/bin/hello", "file", b"\x7fELF")], tarfile.GNU_FORMAT))
    put("apk", sig + control + data)
    put("apk", pkginfo)
    put("apk", "C:Q1" + "A" * 27 + "=\nP:hello\nV:2.12-r0\nA:x86_64\nS:4\nI:4\nD:so:libc.musl-x86_64.so.1 !foo\np:cmd:hello=2.12-r0\n\n")
    # chart: selector byte 0 = archive (tailor's own chart, the fixtures), 1 = a values file.
    put("chart", b"\x00" + tar_dir(ROOT / "packaging/helm/tailor", "tailor"))
    for c in sorted((ROOT / "tests/fixtures/charts").iterdir()):
        put("chart", b"\x00" + tar_dir(c, c.name))
        for v in c.rglob("values.yaml"):
            put("chart", b"\x01" + v.read_bytes())
    put("chart", b"\x01" + (ROOT / "packaging/helm/tailor/values.yaml").read_bytes())
    # Every input that once crashed a target.
    for d in sorted((ROOT / "fuzz/regressions").glob("*")):
        for f in d.iterdir():
            put(d.name, f.read_bytes())
    for d in sorted(OUT.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} seeds")


main()
