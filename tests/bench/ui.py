#!/usr/bin/env python3
"""Front-end benchmarks (issue H), with figures appended to BENCHMARKS.md.

What it measures (2 cores, everything on loopback, release builds):
  1. search: the wizard's package combobox asks GET /v1/orgs/acme/packages?source=…&q=… as
     the person types. `tailor up` with the default repositories (deb.debian.org's bookworm,
     bookworm-updates and bookworm-security main, ~63k packages) and the Debian 12 minbase
     rootfs pushed as acme/debian:12; once the catalog is read, every prefix of WORDS is asked
     RUNS times over one keep-alive connection, as the browser does (limit 20). Per query:
     median, p95, max. Baseline in the same run: `apt-cache search --names-only WORD` on this
     machine's apt lists (the same archive) for each whole word.
  2. page: the web UI's first page, cold (a new Chromium profile each run, no cache) until the
     token field accepts typing: web/scripts/bench-page.mjs, RUNS runs. Baseline in the same
     run: the same cold browser loading GET /v1/openapi.json from the same server (one request,
     no script). Also the built app's JavaScript and CSS, gzipped (-9), from web/dist.

How to run (as root, from the repository root; the Debian rootfs is made once by
tests/bench/reference.sh's debootstrap step, cached in /var/cache/tailor-bench):
  cargo build --release -p tailor-cli
  cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook -p tailor-ui
  (cd web && npm ci)
  tests/bench/ui.py
Environment: RUNS (5), SECTIONS ("search,page"), BENCH_OUT, TAILOR, BENCH_CACHE.
"""

import glob
import gzip
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service as svc  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))
SECTIONS = os.environ.get("SECTIONS", "search,page").split(",")
BENCH_OUT = os.environ.get("BENCH_OUT", os.path.join(svc.ROOT, "BENCHMARKS.md"))
WORDS = ["curl", "python3", "libssl", "nginx", "json", "zzzz"]
log = svc.log


def start(procs, work):
    registry = svc.start_registry(procs, os.path.join(work, "reg"))
    port = svc.free_port()
    _, token = svc.start_up(procs, work, "data", port,
                            ["--registry", registry, "--poll-interval", "1h", "--debounce", "300ms"])
    return registry, f"127.0.0.1:{port}", token


def search_section(procs, work):
    rootfs = os.path.join(svc.BENCH_CACHE, "rootfs")
    if not os.path.isdir(rootfs):
        sys.exit(f"no {rootfs}: run tests/bench/reference.sh once (it makes the Debian rootfs)")
    registry, addr, token = start(procs, work)
    subprocess.run([svc.TAILOR, "artifact", "push", rootfs, "--tag", "acme/debian:12", "--platform", "linux/amd64",
                    "--registry", registry, "-q"], check=True)
    auth = {"Authorization": f"Bearer {token}"}
    # The catalog learns the tag from a build (this registry sends no notifications).
    svc.create(addr, token, {"name": "s", "source": "acme/debian:12", "tag_suffix": "s", "platforms": ["linux/amd64"]})
    path = "/v1/orgs/acme/packages?source=acme%2Fdebian%3A12&limit=20"
    start_t = time.time()
    while True:
        status, _, body = svc.http_request(addr, "GET", path + "&q=curl", headers=auth)
        if status == 200:
            break
        if time.time() - start_t > 600:
            sys.exit(f"no package catalog after 10 min: {status} {body[:300]}")
        time.sleep(1)
    total = json.loads(body)["index"]["packages"]
    log(f"catalog of {total} packages read in {time.time() - start_t:.0f} s")
    host, port = addr.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    per_query = {}
    for word in WORDS:
        for n in range(1, len(word) + 1):
            q = word[:n]
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                conn.request("GET", f"{path}&q={q}", headers=auth)
                r = conn.getresponse()
                r.read()
                times.append((time.perf_counter() - t) * 1000)
                if r.status != 200:
                    sys.exit(f"q={q}: {r.status}")
            per_query[q] = times
    conn.close()
    baseline = {}
    for word in WORDS:
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            subprocess.run(["apt-cache", "search", "--names-only", word], check=True, capture_output=True)
            times.append((time.perf_counter() - t) * 1000)
        baseline[word] = times
    return total, per_query, baseline


def page_section(procs, work):
    _, addr, _ = start(procs, work)
    script = os.path.join(svc.ROOT, "web/scripts/bench-page.mjs")
    out = subprocess.run(["node", script, f"http://{addr}", str(RUNS)], check=True, capture_output=True, text=True,
                         cwd=os.path.join(svc.ROOT, "web")).stdout
    result = json.loads(out)
    sizes = {}
    for kind in ["js", "css"]:
        raw = gz = 0
        for f in glob.glob(os.path.join(svc.ROOT, "web/dist/assets", f"*.{kind}")):
            data = open(f, "rb").read()
            raw += len(data)
            gz += len(gzip.compress(data, 9))
        sizes[kind] = (raw, gz)
    return result, sizes


def main():
    for f in [svc.TAILOR, os.path.join(svc.ROOT, "target/wasm32-wasip2/wasm/tailor_ui.wasm")]:
        if not os.path.exists(f):
            sys.exit(f"missing {f}: build it first (see the docstring)")
    svc.need([("docker-registry", "docker-registry"), ("apt-cache", "apt")])
    work = tempfile.mkdtemp(prefix="tailor-ui-bench.")
    procs = svc.Procs()
    results = {}
    try:
        if "search" in SECTIONS:
            log("search: the package combobox on the bookworm catalog")
            results["search"] = search_section(procs, work)
            procs.stop_all()
        if "page" in SECTIONS:
            log("page: the first page, cold")
            results["page"] = page_section(procs, work)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median
    def p95(xs):
        q = sorted(xs)
        return q[min(len(q) - 1, round(0.95 * (len(q) - 1)))]
    lines = ["## Front ends (issue H)\n",
             f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores; command: "
             f"`tests/bench/ui.py` (as root; release builds; RUNS={RUNS}, medians)\n",
             "| measurement | result | goal |", "|---|---|---|"]
    if "search" in results:
        total, per_query, baseline = results["search"]
        every = [t for ts in per_query.values() for t in ts]
        medians = [med(ts) for ts in per_query.values()]
        worst_q = max(per_query, key=lambda q: med(per_query[q]))
        base = [med(ts) for ts in baseline.values()]
        lines.append(f"| package search as you type: {len(per_query)} queries (every prefix of {', '.join(WORDS)}) on the "
                     f"{total}-package bookworm catalog, HTTP keep-alive, limit 20 | median {med(every):.1f} ms, p95 "
                     f"{p95(every):.1f} ms, slowest query `{worst_q}` {max(medians):.1f} ms (median); baseline "
                     f"`apt-cache search --names-only` {med(base):.0f} ms | ≤ 100 ms per query |")
    if "page" in results:
        page, sizes = results["page"]
        lines.append(f"| first page interactive, cold Chromium profile, loopback | median {med(page['page_ms']):.0f} ms; "
                     f"baseline GET /v1/openapi.json cold {med(page['baseline_ms']):.0f} ms | ≤ 1 s |")
        lines.append(f"| built UI: JavaScript gzipped (raw) | {sizes['js'][1] / 1024:.1f} KiB ({sizes['js'][0] / 1024:.0f} KiB); "
                     f"CSS {sizes['css'][1] / 1024:.1f} KiB gzipped | ≤ 150 KB |")
    lines.append("")
    if "search" in results:
        _, per_query, baseline = results["search"]
        lines.append("Raw search medians (ms): " + " ".join(f"{q}={med(ts):.1f}" for q, ts in per_query.items()))
        lines.append("Raw apt-cache search (ms): " + " ".join(f"{w}={med(ts):.0f}" for w, ts in baseline.items()))
    if "page" in results:
        page, _ = results["page"]
        lines.append("Raw first page (ms): " + " ".join(f"{x:.0f}" for x in page["page_ms"]) +
                     "; baseline: " + " ".join(f"{x:.0f}" for x in page["baseline_ms"]))
    report = "\n".join(lines) + "\n"
    print(report)
    if BENCH_OUT != "/dev/null" and set(SECTIONS) == {"search", "page"}:
        with open(BENCH_OUT, "a") as f:
            f.write("\n" + report)


if __name__ == "__main__":
    main()
