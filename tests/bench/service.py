#!/usr/bin/env python3
"""Service benchmarks for `tailor up` (issue B), with figures appended to BENCHMARKS.md.

What it measures (2 cores, everything on loopback, release builds):
  1. throughput: `wrk -t2 -c16 -d10s --latency` (3 runs, median) on GET /v1/orgs/acme/customizations/{id}
     (bearer token checked, one SQLite read) and on POST /v1/hooks/reg (a Distribution
     notification with a new event id each time: authenticated, parsed, recorded in one write
     transaction). An instance of the component per request. wrk runs on the same 2 cores.
  2. push -> rebuilt: the reference customization of tests/bench/reference.sh (Debian 12
     minbase base, two ~4 MB artifacts) served by `tailor up --registry` with the Distribution
     registry's notifications pointed at it. PUSHES times (default 20) a new version of
     artifact acme/art1:1 is pushed with `tailor artifact push`, then (BASE_PUSHES, default 10)
     a patched base. Latency = from the push command's exit to the moment the result tag
     `acme/debian:12_custom` points at a new index (HEAD polled every 10 ms). Includes the
     default 300 ms debounce.
  3. fan-out: FANOUT (default 1000) customizations on acme/debian:12 (each its own tag suffix,
     the same artifact filter); after their first builds, a patched base is pushed; time until
     every one of them has a succeeded build from the new base. `--workers 4` (FANOUT_WORKERS):
     builds wait on the registry much of the time (each is signed and attested: ~20 small
     uploads), so more workers than cores pay off.

How to run (as root, from the repository root; the Debian rootfs is made once by
tests/bench/reference.sh's debootstrap step, cached in /var/cache/tailor-bench):
  cargo build --release -p tailor-cli
  cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook
  tests/bench/service.py
Environment: BENCH_CACHE, TAILOR, PUSHES, BASE_PUSHES, FANOUT, BENCH_OUT (/dev/null: do not
write BENCHMARKS.md), SECTIONS (default "throughput,latency,fanout"; a subset is only printed). Needs wrk and docker-registry (installed with apt-get when missing).
"""

import hashlib
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TAILOR = os.environ.get("TAILOR", os.path.join(ROOT, "target/release/tailor"))
BENCH_CACHE = os.environ.get("BENCH_CACHE", "/var/cache/tailor-bench")
PUSHES = int(os.environ.get("PUSHES", "20"))
BASE_PUSHES = int(os.environ.get("BASE_PUSHES", "10"))
FANOUT = int(os.environ.get("FANOUT", "1000"))
FANOUT_WORKERS = os.environ.get("FANOUT_WORKERS", "4")
SECTIONS = os.environ.get("SECTIONS", "throughput,latency,fanout").split(",")
# "pushes": the registry sends manifest pushes only (README's recommended setting); "all": every
# event, pulls and blob pushes included (Distribution's default), which tailor then ignores.
NOTIFY = os.environ.get("NOTIFY", "pushes")
BENCH_OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "BENCHMARKS.md"))
SECRET = "bench-secret"
ALLOCATOR = "?"


def log(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(tools):
    missing = [pkg for tool, pkg in tools if shutil.which(tool) is None]
    if missing:
        log(f"installing {' '.join(missing)}")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()


def start_registry(procs, work, notify=None):
    port = free_port()
    os.makedirs(work, exist_ok=True)
    cfg = os.path.join(work, "registry.yml")
    with open(cfg, "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {work}/registry\n"
                f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n")
        if notify:
            f.write("notifications:\n  endpoints:\n    - name: tailor\n"
                    f"      url: {notify}\n      headers: {{Authorization: [Bearer {SECRET}]}}\n"
                    "      timeout: 2s\n      threshold: 5\n      backoff: 1s\n")
            if NOTIFY == "pushes":
                # The README's recommended registry setting: tailor acts on manifest pushes only.
                f.write("      ignore:\n        mediatypes: [application/octet-stream]\n        actions: [pull]\n")
    procs.start(["docker-registry", "serve", cfg], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "registry.log"), "w"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            http_request(f"127.0.0.1:{port}", "GET", "/v2/")
            return url
        except OSError:
            time.sleep(0.1)
    sys.exit("the registry did not start")


def start_up(procs, work, name, port, args):
    data = os.path.join(work, name)
    err = open(os.path.join(work, f"{name}.log"), "w")
    p = procs.start([TAILOR, "up", "--data", data, "--manifest", os.path.join(ROOT, "spin.toml"),
                     "--listen", f"127.0.0.1:{port}", *args], stdout=subprocess.PIPE, stderr=err, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on"):
        sys.exit(f"tailor up did not start: {open(os.path.join(work, f'{name}.log')).read()}")
    token = subprocess.run([TAILOR, "token", "create", "--org", "acme", "--role", "owner", "--data", data],
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return data, token


def http_request(addr, method, path, body=None, headers=None):
    host, port = addr.split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def create(addr, token, spec):
    status, _, body = http_request(addr, "POST", "/v1/orgs/acme/customizations", json.dumps(spec),
                                   {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    if status != 201:
        sys.exit(f"create: {status} {body[:300]}")
    return json.loads(body)["id"]


def wrk(url, headers, script=None):
    """Three 10 s runs; the run with the median request rate."""
    runs = sorted((wrk_once(url, headers, script) for _ in range(3)), key=lambda r: r[0])
    return runs[1] + ([r[0] for r in runs],)


def wrk_once(url, headers, script=None):
    args = ["wrk", "-t2", "-c16", "-d10s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url, "--", "0"], check=True, capture_output=True, text=True).stdout
    return parse_wrk(out)


def parse_wrk(out):
    """(req/s, p50 ms, p99 ms, non-2xx) of wrk --latency's report."""
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
    def ms(text):
        return float(text[:-2]) if text.endswith("ms") else float(text[:-2]) / 1000 if text.endswith("us") else float(text[:-1]) * 1000
    p50 = ms(next(l.split()[1] for l in out.splitlines() if l.strip().startswith("50%")))
    p99 = ms(next(l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")))
    non2xx = next((int(l.split()[-1]) for l in out.splitlines() if "Non-2xx" in l), 0)
    return rps, p50, p99, non2xx


def throughput(procs, work):
    port = free_port()
    _, token = start_up(procs, work, "tput", port, ["--workers", "0", "--webhook", f"reg={SECRET}"])
    addr = f"127.0.0.1:{port}"
    cid = create(addr, token, {"name": "t", "source": "acme/base:1", "tag_suffix": "x", "platforms": ["linux/amd64"]})
    global ALLOCATOR
    ALLOCATOR = "pooling" if "pooling allocator" in open(os.path.join(work, "tput.log")).read() else "on-demand"
    get = wrk(f"http://{addr}/v1/orgs/acme/customizations/{cid}", {"Authorization": f"Bearer {token}"})
    hook = wrk(f"http://{addr}/v1/hooks/reg", {}, hook_script(work))
    return get, hook


def hook_script(work):
    """A wrk script POSTing Distribution push events, each with a new id and digest. Ids are
    unique across wrk threads (`setup`), wrk processes (the script argument after `--`) and runs
    (the time): Lua's random numbers start from the same seed in every thread, so ids made from
    them alone repeat, and repeats are answered as cheap duplicates."""
    lua = os.path.join(work, "hook.lua")
    with open(lua, "w") as f:
        f.write('local threads = 0\n'
                'function setup(thread)\n  thread:set("tid", threads)\n  threads = threads + 1\nend\n'
                'function init(args)\n'
                '  prefix = string.format("%08x%04x%04x", os.time() % 4294967296, tonumber(args[1]) or 0, tid or 0)\n'
                'end\n'
                'local n = 0\nrequest = function()\n  n = n + 1\n'
                '  local id = prefix .. "-" .. n\n'
                '  local body = \'{"events":[{"id":"\' .. id .. \'","action":"push","target":{"mediaType":'
                '"application/vnd.oci.image.index.v1+json","repository":"acme/base","tag":"1","digest":"sha256:'
                + "a" * 40 + '\' .. prefix .. string.format("%08x", n % 4294967295) .. \'"}}]}\'\n'
                '  return wrk.format("POST", nil, {["Authorization"]="Bearer ' + SECRET + '", '
                '["Content-Type"]="application/vnd.docker.distribution.events.v1+json"}, body)\nend\n')
    return lua


def make_artifact(work, name, version):
    d = os.path.join(work, "artifacts", name)
    if not os.path.isdir(d):
        os.makedirs(os.path.join(d, f"opt/{name}/bin"))
        with open(os.path.join(d, f"opt/{name}/bin/{name}"), "wb") as f:
            f.write(os.urandom(4 << 20))
        for i in range(20):
            part = os.path.join(d, f"opt/{name}/share/{name}/part{i}")
            os.makedirs(part)
            for j in range(10):
                with open(os.path.join(part, f"file{j}.txt"), "w") as f:
                    f.write(f"{name} part {i} file {j}\n" + " ".join(str(k) for k in range(20 + i * j)) + "\n")
        os.makedirs(os.path.join(d, f"opt/{name}/docs"))
        for k in range(3):
            with open(os.path.join(d, f"opt/{name}/docs/chapter{k}.md"), "w") as f:
                f.write("\n".join(str(x) for x in range(2000)))
    with open(os.path.join(d, f"opt/{name}/VERSION"), "w") as f:
        f.write(f"{version}\n")
    return d


def push(path, ref, registry):
    subprocess.run([TAILOR, "artifact", "push", path, "--tag", ref, "--platform", "linux/amd64", "--registry", registry, "-q"],
                   check=True, stdout=subprocess.DEVNULL)


def tag_digest(registry, repo, tag):
    addr = registry.split("://")[1]
    status, headers, _ = http_request(addr, "HEAD", f"/v2/{repo}/manifests/{tag}",
                                      headers={"Accept": "application/vnd.oci.image.index.v1+json"})
    return headers.get("docker-content-digest") if status == 200 else None


def wait_moved(registry, repo, tag, before, timeout=60):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        d = tag_digest(registry, repo, tag)
        if d and d != before:
            return d
        time.sleep(0.01)
    sys.exit(f"{repo}:{tag} did not move within {timeout} s")


REFERENCE = {
    "name": "reference", "source": "acme/debian:12", "tag_suffix": "custom", "platforms": ["linux/amd64"],
    "contents": {"artifacts": [
        {"reference": "acme/art1:1", "includes": ["/opt/art1"], "excludes": ["/opt/art1/docs"]},
        {"reference": "acme/art2:1", "includes": ["/opt/art2"], "excludes": ["/opt/art2/docs"]}]},
    "files": [{"path": "/etc/app/app.conf", "content": "listen = 0.0.0.0:8080\nlevel = info\n", "uid": 1000, "gid": 1000, "mode": "0640"}],
    "accounts": {"groups": [{"name": "app", "gid": 1000}], "users": [{"name": "app", "uid": 1000, "gid": 1000}], "run_as": "app"},
    "environment": {"APP_ENV": "prod"}, "labels": {"com.acme.team": "payments"}, "cmd": ["serve"],
}


def clean_up(procs, rootfs, work):
    """Stops the processes, removes the base's patch file and the work directory."""
    procs.stop_all()
    try:
        os.remove(os.path.join(rootfs, "etc/bench-patch"))
    except FileNotFoundError:
        pass
    shutil.rmtree(work, ignore_errors=True)


def publish(report, out):
    """Prints the report and appends it to `out` (BENCHMARKS.md) unless that is /dev/null."""
    print(report)
    if out != "/dev/null":
        with open(out, "a") as f:
            f.write("\n" + report)


def push_base(rootfs, registry, text):
    with open(os.path.join(rootfs, "etc/bench-patch"), "w") as f:
        f.write(text + "\n")
    push(rootfs, "acme/debian:12", registry)


def latency(procs, work, rootfs):
    port = free_port()
    registry = start_registry(procs, os.path.join(work, "lat"), f"http://127.0.0.1:{port}/v1/hooks/reg")
    push_base(rootfs, registry, "latency-0")
    art1 = make_artifact(work, "art1", 0)
    push(art1, "acme/art1:1", registry)
    push(make_artifact(work, "art2", 0), "acme/art2:1", registry)
    _, token = start_up(procs, work, "lat-data", port, ["--registry", registry, "--webhook", f"reg={SECRET}", "--poll-interval", "0"])
    addr = f"127.0.0.1:{port}"
    create(addr, token, REFERENCE)
    current = wait_moved(registry, "acme/debian", "12_custom", None, 120)
    art, base = [], []
    for i in range(1, PUSHES + 1):
        make_artifact(work, "art1", i)
        push(art1, "acme/art1:1", registry)
        t0 = time.monotonic()
        current = wait_moved(registry, "acme/debian", "12_custom", current)
        art.append((time.monotonic() - t0) * 1000)
    for i in range(1, BASE_PUSHES + 1):
        push_base(rootfs, registry, f"latency-{i}")
        t0 = time.monotonic()
        current = wait_moved(registry, "acme/debian", "12_custom", current)
        base.append((time.monotonic() - t0) * 1000)
    return art, base


def fanout(procs, work, rootfs):
    port = free_port()
    registry = start_registry(procs, os.path.join(work, "fan"), f"http://127.0.0.1:{port}/v1/hooks/reg")
    push_base(rootfs, registry, "fanout-0")
    push(make_artifact(work, "art1", 0), "acme/art1:1", registry)
    push(make_artifact(work, "art2", 0), "acme/art2:1", registry)
    data, token = start_up(procs, work, "fan-data", port,
                           ["--registry", registry, "--webhook", f"reg={SECRET}", "--poll-interval", "0", "--workers", FANOUT_WORKERS])
    addr = f"127.0.0.1:{port}"
    t0 = time.monotonic()
    for i in range(FANOUT):
        spec = dict(REFERENCE, name=f"c{i}", tag_suffix=f"c{i}", environment={"APP_ENV": f"prod{i}"})
        create(addr, token, spec)
    created = time.monotonic() - t0
    db = sqlite3.connect(f"file:{os.path.join(data, 'tailor.db')}?mode=ro", uri=True, timeout=30)

    def done(digest=None):
        q = "SELECT COUNT(DISTINCT customization_id) FROM builds WHERE status IN ('succeeded','skipped')"
        args = ()
        if digest:
            q += " AND json_extract(inputs, '$.source.digest') = ?"
            args = (digest,)
        return db.execute(q, args).fetchone()[0]

    while done() < FANOUT:
        time.sleep(0.2)
    first = time.monotonic() - t0
    push_base(rootfs, registry, "fanout-1")
    new = tag_digest(registry, "acme/debian", "12")
    t0 = time.monotonic()
    while done(new) < FANOUT:
        if time.monotonic() - t0 > 600:
            sys.exit(f"fan-out: only {done(new)} of {FANOUT} rebuilt after 600 s")
        time.sleep(0.1)
    rebuilt = time.monotonic() - t0
    failed = db.execute("SELECT COUNT(*) FROM builds WHERE status = 'failed'").fetchone()[0]
    for cid, number, error in db.execute("SELECT customization_id, number, error FROM builds WHERE status = 'failed'"):
        log(f"failed build {cid}#{number}: {error}")
    retried = db.execute("SELECT COUNT(*) FROM builds WHERE attempts > 1").fetchone()[0]
    if retried:
        log(f"{retried} build(s) needed more than one attempt")
    return created, first, rebuilt, failed


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (the Debian rootfs is shared with tests/bench/reference.sh)")
    for f in [TAILOR, os.path.join(ROOT, "target/wasm32-wasip2/wasm/tailor_api.wasm")]:
        if not os.path.exists(f):
            sys.exit(f"missing {f}: build it first (see the docstring)")
    need([("wrk", "wrk"), ("docker-registry", "docker-registry"), ("debootstrap", "debootstrap")])
    rootfs = os.path.join(BENCH_CACHE, "rootfs")
    if not os.path.isdir(rootfs):
        sys.exit(f"no {rootfs}: run tests/bench/reference.sh once (it makes the Debian rootfs)")
    subprocess.run(["find", rootfs, "-xdev", "(", "-type", "b", "-o", "-type", "c", "-o", "-type", "p", "-o", "-type", "s", ")", "-delete"], check=True)
    work = tempfile.mkdtemp(prefix="tailor-service-bench.")
    procs = Procs()
    try:
        if "throughput" in SECTIONS:
            log("throughput (wrk)")
            get, hook = throughput(procs, work)
            log(f"GET {get}; webhook {hook}")
            procs.stop_all()
        if "latency" in SECTIONS:
            log(f"push -> rebuilt ({PUSHES} artifact pushes, {BASE_PUSHES} base pushes)")
            art, base = latency(procs, work, rootfs)
            log(f"artifact {art}; base {base}")
            procs.stop_all()
        if "fanout" in SECTIONS:
            log(f"fan-out of {FANOUT}")
            fan = fanout(procs, work, rootfs)
            log(f"fan-out {fan}")
    finally:
        clean_up(procs, rootfs, work)

    if SECTIONS != ["throughput", "latency", "fanout"]:
        print(f"sections {SECTIONS}: " + ", ".join(f"{k}={v}" for k, v in
              [("get", locals().get("get")), ("hook", locals().get("hook")), ("artifact", locals().get("art")),
               ("base", locals().get("base")), ("fanout", locals().get("fan"))] if v is not None))
        return

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
    report = f"""## Service (`tailor up`)

- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores; command: `tests/bench/service.py` (as root; release builds); registry notifications: {'manifest pushes only (README setting)' if NOTIFY == 'pushes' else 'every event'}
- wrk -t2 -c16 -d10s on the same 2 cores, 3 runs each, the median run shown (req/s of all runs: GET {' / '.join(f'{x:,.0f}' for x in get[4])}; webhook {' / '.join(f'{x:,.0f}' for x in hook[4])}); an instance of the component per request ({ALLOCATOR} allocator, as `tailor up` reported).

| measurement | result | goal |
|---|---|---|
| GET /v1/orgs/acme/customizations/{{id}} | {get[0]:,.0f} req/s, p50 {get[1]:.2f} ms, p99 {get[2]:.2f} ms, non-2xx {get[3]} | ≥ 5,000 req/s |
| POST /v1/hooks/reg (Distribution event, new id each) | {hook[0]:,.0f} req/s, p50 {hook[1]:.2f} ms, p99 {hook[2]:.2f} ms, non-2xx {hook[3]} | ≥ 2,000 req/s |
| artifact push → result tag moved ({len(art)} pushes) | p50 {pct(art, 50):.0f} ms, p95 {pct(art, 95):.0f} ms | p50 ≤ 1 s |
| base push (Debian 12, 93 MB layer) → result tag moved ({len(base)} pushes) | p50 {pct(base, 50):.0f} ms, p95 {pct(base, 95):.0f} ms | p50 ≤ 1 s |
| fan-out: {FANOUT} customizations on one base, base re-pushed → all rebuilt (`--workers {FANOUT_WORKERS}`, every build signed and attested) | {fan[2]:.1f} s (first builds of all: {fan[1]:.1f} s after creating them in {fan[0]:.1f} s; failed builds: {fan[3]}) | ≤ 60 s |

Raw push → rebuilt (ms): artifact {' '.join(f'{x:.0f}' for x in art)}; base {' '.join(f'{x:.0f}' for x in base)}
"""
    publish(report, BENCH_OUT)


if __name__ == "__main__":
    main()
