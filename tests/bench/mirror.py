#!/usr/bin/env python3
"""Mirror benchmarks (issue E), with figures appended to BENCHMARKS.md.

What it measures (2 cores, everything on loopback, release builds):
  1. copy: a two-platform image of about 100 MB (four 25 MiB layers of random bytes, so nothing
     compresses or deduplicates) mirrored from one Distribution registry to another by
     `tailor mirror copy`, against `skopeo copy --all` of the same image in the same run. Each
     run copies into a fresh, empty destination registry; tailor and skopeo alternate (RUNS
     each, median). Then a re-sync with nothing new (`tailor mirror copy` again, RUNS times).
  2. poll: `tailor up` with MIRRORS mirrors (default 50) of upstream repositories with TAGS
     tags each (default 20), everything synced; then, RUNS times, every mirror is made due at
     once (its next poll time set to 0 in the store) and the time of the worker's poll round
     (list tags + HEAD every tag upstream, concurrently, compared with what the last sync
     recorded) is read from the line the worker logs for it.
  3. latency: an upstream registry notifying `tailor up` (an endpoint bound to that upstream),
     the org registry notifying it too; the Debian 12 minbase base mirrored from the upstream,
     the reference customization (tests/bench/service.py) built on the mirror, signed. Then
     PUSHES times a patched base is pushed upstream with `tailor artifact push`, and the time
     until the customized tag `acme/dhi-debian:12_custom` points at a new index is measured
     (HEAD polled every 10 ms): notification, debounce (300 ms), sync, cascade, build, signing.

How to run (as root, from the repository root; the Debian rootfs is made once by
tests/bench/reference.sh's debootstrap step, cached in /var/cache/tailor-bench):
  cargo build --release -p tailor-cli
  cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook
  tests/bench/mirror.py
Environment: RUNS (5), MIRRORS (50), TAGS (20), PUSHES (10), SECTIONS ("copy,poll,latency"),
BENCH_OUT (/dev/null: do not write BENCHMARKS.md), TAILOR, BENCH_CACHE.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service as svc  # noqa: E402  (the service benchmark's helpers)

RUNS = int(os.environ.get("RUNS", "5"))
MIRRORS = int(os.environ.get("MIRRORS", "50"))
TAGS = int(os.environ.get("TAGS", "20"))
PUSHES = int(os.environ.get("PUSHES", "10"))
SECTIONS = os.environ.get("SECTIONS", "copy,poll,latency").split(",")
BENCH_OUT = os.environ.get("BENCH_OUT", os.path.join(svc.ROOT, "BENCHMARKS.md"))
TAILOR = svc.TAILOR
log = svc.log


def push_blob(addr, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, headers, _ = svc.http_request(addr, "HEAD", f"/v2/{repo}/blobs/{digest}")
    if status == 200:
        return digest
    status, headers, body = svc.http_request(addr, "POST", f"/v2/{repo}/blobs/uploads/")
    assert status == 202, (status, body)
    loc = headers["location"]
    path = loc.split(addr, 1)[1] if loc.startswith("http") else loc
    sep = "&" if "?" in path else "?"
    status, _, body = svc.http_request(addr, "PUT", f"{path}{sep}digest={digest}", data,
                                       {"Content-Type": "application/octet-stream"})
    assert status == 201, (status, body)
    return digest


def push_manifest(addr, repo, ref, media_type, doc):
    body = json.dumps(doc).encode()
    status, _, out = svc.http_request(addr, "PUT", f"/v2/{repo}/manifests/{ref}", body, {"Content-Type": media_type})
    assert status == 201, (status, out)
    return "sha256:" + hashlib.sha256(body).hexdigest(), len(body)


def push_image(addr, repo, tag, layers_per_platform, layer_size, platforms=("amd64", "arm64")):
    """An index of `platforms`, each with its own config and random layers; returns the index digest."""
    entries = []
    for arch in platforms:
        layers = []
        for _ in range(layers_per_platform):
            data = os.urandom(layer_size)
            layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                           "digest": push_blob(addr, repo, data), "size": len(data)})
        config = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                             "salt": os.urandom(8).hex()}).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": push_blob(addr, repo, config), "size": len(config)},
                    "layers": layers}
        digest, size = push_manifest(addr, repo, "sha256:" + hashlib.sha256(json.dumps(manifest).encode()).hexdigest(),
                                     manifest["mediaType"], manifest)
        entries.append({"mediaType": manifest["mediaType"], "digest": digest, "size": size,
                        "platform": {"os": "linux", "architecture": arch}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    return push_manifest(addr, repo, tag, index["mediaType"], index)[0]


def timed(args):
    t0 = time.monotonic()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.monotonic() - t0) * 1000


def copy_section(procs, work):
    upstream = svc.start_registry(procs, os.path.join(work, "up"))
    up = upstream.split("://")[1]
    push_image(up, "vendor/big", "1", 2, 25 << 20)
    tailor_ms, skopeo_ms, resync_ms, sizes = [], [], [], []
    for run in range(RUNS):
        for tool in (["tailor", "skopeo"] if run % 2 == 0 else ["skopeo", "tailor"]):
            d = os.path.join(work, f"down-{run}-{tool}")
            dest = svc.start_registry(procs, d)
            host = dest.split("://")[1]
            if tool == "tailor":
                tailor_ms.append(timed([TAILOR, "mirror", "copy", f"{up}/vendor/big", "acme/big", "--registry", dest, "-q"]))
                for _ in range(1 if run else RUNS):
                    resync_ms.append(timed([TAILOR, "mirror", "copy", f"{up}/vendor/big", "acme/big", "--registry", dest, "-q"]))
            else:
                skopeo_ms.append(timed(["skopeo", "copy", "--all", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
                                        "--src-no-creds", "--dest-no-creds", f"docker://{up}/vendor/big:1", f"docker://{host}/acme/big:1"]))
            sizes.append(subprocess.run(["du", "-sb", os.path.join(d, "registry")], capture_output=True, text=True).stdout.split()[0])
            procs.procs[-1].terminate()
            procs.procs[-1].wait()
            shutil.rmtree(d, ignore_errors=True)
    return tailor_ms, skopeo_ms, resync_ms, sizes


def poll_section(procs, work):
    upstream = svc.start_registry(procs, os.path.join(work, "poll-up"))
    up = upstream.split("://")[1]
    org = svc.start_registry(procs, os.path.join(work, "poll-org"))
    for m in range(MIRRORS):
        repo = f"vendor/app{m}"
        cfg = push_blob(up, repo, json.dumps({"architecture": "amd64", "os": "linux", "m": m}).encode())
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg,
                               "size": len(json.dumps({"architecture": "amd64", "os": "linux", "m": m}).encode())},
                    "layers": []}
        for t in range(TAGS):
            push_manifest(up, repo, f"1.{t}", manifest["mediaType"], manifest)
    port = svc.free_port()
    data, token = svc.start_up(procs, work, "poll-data", port,
                               ["--registry", org, "--upstream", f"{up}={upstream}", "--poll-interval", "0"])
    addr = f"127.0.0.1:{port}"
    ids = []
    for m in range(MIRRORS):
        status, _, body = svc.http_request(addr, "POST", "/v1/orgs/acme/mirrors",
                                           json.dumps({"source": f"{up}/vendor/app{m}", "poll_interval_s": 30}),
                                           {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert status == 201, body
        ids.append(json.loads(body)["id"])
    db = sqlite3.connect(os.path.join(data, "tailor.db"), timeout=30)
    while db.execute("SELECT COUNT(*) FROM builds WHERE status IN ('succeeded') AND customization_id LIKE 'mir_%'").fetchone()[0] < MIRRORS:
        time.sleep(0.2)
    logfile = os.path.join(work, "poll-data.log")
    pattern = re.compile(r"polled (\d+) mirror\(s\) in (\d+) ms: (\d+) tag\(s\) changed, (\d+) sync")
    rounds = []
    for _ in range(RUNS):
        before = len(pattern.findall(open(logfile).read()))
        db.execute("UPDATE mirrors SET next_check = 0")
        db.commit()
        t_end = time.monotonic() + 60
        while time.monotonic() < t_end:
            found = pattern.findall(open(logfile).read())
            if len(found) > before and sum(int(f[0]) for f in found[before:]) >= MIRRORS:
                rounds.append(found[before:])
                break
            time.sleep(0.1)
        else:
            sys.exit("the poll round did not finish within 60 s")
    return rounds


def latency_section(procs, work, rootfs):
    port = svc.free_port()
    upstream = svc.start_registry(procs, os.path.join(work, "lat-up"), f"http://127.0.0.1:{port}/v1/hooks/vendor")
    org = svc.start_registry(procs, os.path.join(work, "lat-org"), f"http://127.0.0.1:{port}/v1/hooks/reg")
    up = upstream.split("://")[1]

    def push_upstream_base(text):
        with open(os.path.join(rootfs, "etc/bench-patch"), "w") as f:
            f.write(text + "\n")
        svc.push(rootfs, "vendor/debian:12", upstream)

    push_upstream_base("mirror-latency-0")
    svc.push(svc.make_artifact(work, "art1", 0), "acme/art1:1", org)
    svc.push(svc.make_artifact(work, "art2", 0), "acme/art2:1", org)
    _, token = svc.start_up(procs, work, "lat-data", port,
                            ["--registry", org, "--webhook", f"reg={svc.SECRET}", "--webhook", f"vendor={svc.SECRET}",
                             "--upstream", f"{up}={upstream}", "--webhook-upstream", f"vendor={up}", "--poll-interval", "0"])
    addr = f"127.0.0.1:{port}"
    status, _, body = svc.http_request(addr, "POST", "/v1/orgs/acme/mirrors",
                                       json.dumps({"source": f"{up}/vendor/debian", "tags": ["12"], "poll_interval_s": 0}),
                                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert status == 201, body
    svc.wait_moved(org, "acme/dhi-debian", "12", None, 120)
    svc.create(addr, token, dict(svc.REFERENCE, source="acme/dhi-debian:12"))
    current = svc.wait_moved(org, "acme/dhi-debian", "12_custom", None, 180)
    times = []
    for i in range(1, PUSHES + 1):
        push_upstream_base(f"mirror-latency-{i}")
        t0 = time.monotonic()
        current = svc.wait_moved(org, "acme/dhi-debian", "12_custom", current)
        times.append((time.monotonic() - t0) * 1000)
    return times


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (the Debian rootfs is shared with tests/bench/reference.sh)")
    for f in [TAILOR, os.path.join(svc.ROOT, "target/wasm32-wasip2/wasm/tailor_api.wasm")]:
        if not os.path.exists(f):
            sys.exit(f"missing {f}: build it first (see the docstring)")
    svc.need([("docker-registry", "docker-registry"), ("skopeo", "skopeo")])
    rootfs = os.path.join(svc.BENCH_CACHE, "rootfs")
    if "latency" in SECTIONS and not os.path.isdir(rootfs):
        sys.exit(f"no {rootfs}: run tests/bench/reference.sh once (it makes the Debian rootfs)")
    work = tempfile.mkdtemp(prefix="tailor-mirror-bench.")
    procs = svc.Procs()
    results = {}
    try:
        if "copy" in SECTIONS:
            log("copy: tailor mirror copy vs skopeo copy --all")
            results["copy"] = copy_section(procs, work)
            log(f"copy {results['copy']}")
            procs.stop_all()
        if "poll" in SECTIONS:
            log(f"poll: {MIRRORS} mirrors × {TAGS} tags")
            results["poll"] = poll_section(procs, work)
            log(f"poll {results['poll']}")
            procs.stop_all()
        if "latency" in SECTIONS:
            log(f"latency: {PUSHES} upstream base pushes")
            results["latency"] = latency_section(procs, work, rootfs)
            log(f"latency {results['latency']}")
    finally:
        svc.clean_up(procs, rootfs, work)

    med = statistics.median
    lines = [f"## Mirrors (issue E)\n",
             f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores; command: "
             f"`tests/bench/mirror.py` (as root; release builds; RUNS={RUNS}, medians)\n",
             "| measurement | result | goal |", "|---|---|---|"]
    if "copy" in results:
        t, s, r, _ = results["copy"]
        lines.append(f"| two-platform image, 4 × 25 MiB random layers (100 MiB), registry → empty registry: `tailor mirror copy` vs "
                     f"`skopeo copy --all` | {med(t):.0f} ms vs {med(s):.0f} ms: {med(t) / med(s):.2f}× skopeo's time | ≤ 0.8× |")
        lines.append(f"| re-sync with nothing new (`tailor mirror copy` again) | {med(r):.0f} ms | ≤ 50 ms |")
    if "poll" in results:
        per_round = [sum(int(x[1]) for x in rnd) for rnd in results["poll"]]
        lines.append(f"| poll of {MIRRORS} mirrors × {TAGS} tags, nothing changed (the worker's round: {MIRRORS} tag lists and "
                     f"{MIRRORS * TAGS} upstream HEADs) | {med(per_round):.0f} ms | ≤ 1 s |")
    if "latency" in results:
        lat = results["latency"]
        q = sorted(lat)
        lines.append(f"| upstream push of a patched base → mirrored → customized tag moved, signed ({len(lat)} pushes) | "
                     f"p50 {med(lat):.0f} ms, p95 {q[min(len(q) - 1, round(0.95 * (len(q) - 1)))]:.0f} ms | p50 ≤ 1.5 s |")
    lines.append("")
    if "copy" in results:
        t, s, r, _ = results["copy"]
        lines.append(f"Raw (ms): tailor copy {' '.join(f'{x:.0f}' for x in t)}; skopeo {' '.join(f'{x:.0f}' for x in s)}; "
                     f"re-sync {' '.join(f'{x:.0f}' for x in r)}")
    if "poll" in results:
        lines.append("Raw poll rounds (ms): " + " ".join(str(sum(int(x[1]) for x in rnd)) for rnd in results["poll"]))
    if "latency" in results:
        lines.append("Raw upstream push → customized tag moved (ms): " + " ".join(f"{x:.0f}" for x in results["latency"]))
    report = "\n".join(lines) + "\n"
    print(report)
    if BENCH_OUT != "/dev/null" and set(SECTIONS) == {"copy", "poll", "latency"}:
        with open(BENCH_OUT, "a") as f:
            f.write("\n" + report)


if __name__ == "__main__":
    main()
