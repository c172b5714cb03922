#!/usr/bin/env python3
"""Scale-out benchmarks (issue I): tailor on PostgreSQL against the SQLite single process, in one
run on one machine, with the figures appended to BENCHMARKS.md.

What it measures (2 cores, everything on loopback, release builds, a throwaway PostgreSQL
cluster from tests/postgres.sh with fsync off like the registry's filesystem storage):
  1. throughput: GET /v1/orgs/acme/customizations/{id} and POST /v1/hooks/reg (a Distribution
     event with a new id each time) on two `tailor serve` replicas on PostgreSQL, driven at once by
     two wrk processes (-t1 -c8 -d10s each, one per replica; the sum of their rates), GETs both
     with the default threads and on one thread each (`--threads 1`, one replica per core), against one
     `tailor up --workers 0` on SQLite driven by one wrk (-t2 -c16). 3 runs each, the median.
  2. claim latency: queued → running (the build's started_at − created_at, both written by
     tailor) of CLAIMS customizations created one at a time through the API while the workers
     idle: PostgreSQL (a `tailor worker` woken by LISTEN/NOTIFY) against SQLite (`tailor up`,
     whose worker polls every 50 ms).
  3. fan-out: FANOUT (default 1000) customizations of tests/bench/service.py's reference
     customization on one base; after their first builds, the base is re-pushed and the time until
     every one has a succeeded build from the new base is taken. SQLite: one `tailor up --workers
     4`; PostgreSQL: one `tailor serve` and 1, 2 and 3 `tailor worker --workers 4` processes.
     Where the time goes: the CPU seconds the registry, PostgreSQL (server and backends) and the
     tailor processes used during the rebuild.

How to run (as root, from the repository root, after tests/bench/reference.sh made its rootfs):
  cargo build --release -p tailor-cli
  cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook -p tailor-ui
  tests/bench/scale.py
Environment: FANOUT, FANOUT_SETS (default "sqlite,pg1,pg2,pg3"), CLAIMS (default 50), SECTIONS
(default "throughput,claim,fanout"; a subset is only printed), BENCH_OUT, TAILOR, BENCH_CACHE.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service as S  # noqa: E402  (the service benchmark's helpers: registry, wrk, reference spec)

ROOT = S.ROOT
TAILOR = S.TAILOR
FANOUT = int(os.environ.get("FANOUT", "1000"))
FANOUT_SETS = os.environ.get("FANOUT_SETS", "sqlite,pg1,pg2,pg3").split(",")
CLAIMS = int(os.environ.get("CLAIMS", "50"))
SECTIONS = os.environ.get("SECTIONS", "throughput,claim,fanout").split(",")
BENCH_OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "BENCHMARKS.md"))
SECRET = S.SECRET
log = S.log


class Postgres:
    """A throwaway cluster (tests/postgres.sh); a fresh database per use."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        self.url = subprocess.run([os.path.join(ROOT, "tests/postgres.sh"), "start", self.dir], check=True,
                                  capture_output=True, text=True).stdout.strip()
        self.n = 0

    def database(self):
        self.n += 1
        name = f"bench{self.n}"
        self.psql(self.url, f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name

    @staticmethod
    def psql(url, sql):
        return subprocess.run(["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True).stdout.strip()

    def cpu(self):
        """CPU seconds of the server and its backends (live ones, and those that ended)."""
        pid = int(open(os.path.join(self.dir, "data/postmaster.pid")).readline())
        total = cpu_of(pid, children=True)
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    total += cpu_of(int(p))
        return total

    def stop(self):
        subprocess.run([os.path.join(ROOT, "tests/postgres.sh"), "stop", self.dir], check=False)


def cpu_of(pid, children=False):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def start(procs, work, command, name, port, args, database=None):
    """`tailor up|serve|worker`; its data directory, token (not for workers) and process."""
    data = os.path.join(work, name)
    err = open(os.path.join(work, f"{name}.log"), "w")
    cmd = [TAILOR, command, "--data", data, "--listen", f"127.0.0.1:{port}", *args]
    if command != "worker":
        cmd += ["--manifest", os.path.join(ROOT, "spin.toml")]
    if database:
        cmd += ["--database", database]
    p = procs.start(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on"):
        sys.exit(f"tailor {command} did not start: {open(os.path.join(work, f'{name}.log')).read()}")
    token = None
    if command != "worker":
        t = [TAILOR, "token", "create", "--org", "acme", "--role", "owner", "--data", data]
        if database:
            t += ["--database", database]
        token = subprocess.run(t, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return data, token, p


def wrk_many(targets, headers, script=None, runs=3):
    """wrk on every target at once (-t1 -c8 each), `runs` times; the run with the median total
    rate: (total req/s, worst p50, worst p99, non-2xx, [totals of all runs])."""
    results = []
    for _ in range(runs):
        procs = []
        for i, url in enumerate(targets):
            args = ["wrk", "-t1", "-c8", "-d10s", "--latency"]
            for k, v in headers.items():
                args += ["-H", f"{k}: {v}"]
            if script:
                args += ["-s", script]
            # The script's argument keeps each process's event ids its own.
            procs.append(subprocess.Popen(args + [url, "--", str(i + 1)], stdout=subprocess.PIPE, text=True))
        outs = [p.communicate()[0] for p in procs]
        parsed = [S.parse_wrk(o) for o in outs]
        results.append((sum(r[0] for r in parsed), max(r[1] for r in parsed), max(r[2] for r in parsed),
                        sum(r[3] for r in parsed)))
    results.sort(key=lambda r: r[0])
    return results[len(results) // 2] + ([r[0] for r in results],)


def throughput(procs, work, pg):
    spec = {"name": "t", "source": "acme/base:1", "tag_suffix": "x", "platforms": ["linux/amd64"]}
    lua = S.hook_script(work)
    # SQLite, one process.
    port = S.free_port()
    _, token, _ = start(procs, work, "up", "tput-sqlite", port, ["--workers", "0", "--webhook", f"reg={SECRET}"])
    addr = f"127.0.0.1:{port}"
    cid = S.create(addr, token, spec)
    sqlite_get = S.wrk(f"http://{addr}/v1/orgs/acme/customizations/{cid}", {"Authorization": f"Bearer {token}"})
    sqlite_hook = S.wrk(f"http://{addr}/v1/hooks/reg", {}, lua)
    procs.stop_all()
    # PostgreSQL, two serve replicas with the default threads (a thread per CPU each): GETs and
    # webhooks; then GETs again on one thread each (`--threads 1`, one replica per core).
    db = pg.database()
    ports = [S.free_port(), S.free_port()]
    token = None
    for i, p in enumerate(ports):
        _, t, _ = start(procs, work, "serve", f"tput-pg{i}", p, ["--webhook", f"reg={SECRET}"], db)
        token = token or t
    cid = S.create(f"127.0.0.1:{ports[0]}", token, spec)
    get_urls = [f"http://127.0.0.1:{p}/v1/orgs/acme/customizations/{cid}" for p in ports]
    pg_get_default = wrk_many(get_urls, {"Authorization": f"Bearer {token}"})
    pg_hook = wrk_many([f"http://127.0.0.1:{p}/v1/hooks/reg" for p in ports], {}, lua)
    events = int(Postgres.psql(db, "SELECT COUNT(*) FROM events"))
    procs.stop_all()
    for i, p in enumerate(ports):
        start(procs, work, "serve", f"tput-pg-one{i}", p, ["--threads", "1"], db)
    pg_get = wrk_many(get_urls, {"Authorization": f"Bearer {token}"})
    procs.stop_all()
    return sqlite_get, sqlite_hook, pg_get, pg_hook, events, pg_get_default


def claim_latency(procs, work, pg):
    """queued → running of CLAIMS creations, ms: (sqlite, postgres)."""
    out = {}
    for kind in ["sqlite", "postgres"]:
        registry = S.start_registry(procs, os.path.join(work, f"claim-{kind}"))
        S.push(os.path.join(work, "tiny"), "acme/base:1", registry)
        port = S.free_port()
        common = ["--registry", registry, "--poll-interval", "0"]
        if kind == "sqlite":
            data, token, _ = start(procs, work, "up", "claim-sqlite", port, common + ["--workers", "1"])
            db = None
        else:
            db = pg.database()
            data, token, _ = start(procs, work, "serve", "claim-pg", port, common, db)
            start(procs, work, "worker", "claim-pg-worker", S.free_port(), common, db)
        addr = f"127.0.0.1:{port}"
        for i in range(CLAIMS):
            S.create(addr, token, {"name": f"c{i}", "source": "acme/base:1", "tag_suffix": f"c{i}", "platforms": ["linux/amd64"]})
            time.sleep(0.3)  # the worker is idle again (a tiny build) before the next one
        time.sleep(2)
        sql = "SELECT started_at - created_at FROM builds WHERE started_at IS NOT NULL"
        if db:
            rows = Postgres.psql(db, sql).split()
        else:
            import sqlite3
            rows = [r[0] for r in sqlite3.connect(os.path.join(data, "tailor.db")).execute(sql)]
        out[kind] = sorted(float(r) for r in rows)
        procs.stop_all()
    return out


def fanout(procs, work, rootfs, pg, config):
    port = S.free_port()
    registry = S.start_registry(procs, os.path.join(work, f"fan-{config}"), f"http://127.0.0.1:{port}/v1/hooks/reg")
    S.push_base(rootfs, registry, f"fanout-{config}-0")
    S.push(S.make_artifact(work, "art1", 0), "acme/art1:1", registry)
    S.push(S.make_artifact(work, "art2", 0), "acme/art2:1", registry)
    common = ["--registry", registry, "--poll-interval", "0", "--key", os.path.join(work, "keys/tailor.key")]
    tailors = []
    if config == "sqlite":
        data, token, p = start(procs, work, "up", f"fan-{config}", port, common + ["--webhook", f"reg={SECRET}", "--workers", "4"])
        tailors.append(p)
        db = None
    else:
        db = pg.database()
        data, token, p = start(procs, work, "serve", f"fan-{config}", port, common + ["--webhook", f"reg={SECRET}"], db)
        tailors.append(p)
        for w in range(int(config[2:])):
            tailors.append(start(procs, work, "worker", f"fan-{config}-w{w}", S.free_port(), common + ["--workers", "4"], db)[2])
    reg_proc = next(p for p in procs.procs if p.args[:2] == ["docker-registry", "serve"] and f"fan-{config}" in p.args[2])
    addr = f"127.0.0.1:{port}"
    t0 = time.monotonic()
    for i in range(FANOUT):
        spec = dict(S.REFERENCE, name=f"c{i}", tag_suffix=f"c{i}", environment={"APP_ENV": f"prod{i}"})
        S.create(addr, token, spec)
    created = time.monotonic() - t0

    def done(digest=None):
        if db:
            q = "SELECT COUNT(DISTINCT customization_id) FROM builds WHERE status IN ('succeeded','skipped')"
            if digest:
                q += f" AND (inputs::json)->'source'->>'digest' = '{digest}'"
            return int(Postgres.psql(db, q))
        import sqlite3
        c = sqlite3.connect(f"file:{os.path.join(data, 'tailor.db')}?mode=ro", uri=True, timeout=30)
        q = "SELECT COUNT(DISTINCT customization_id) FROM builds WHERE status IN ('succeeded','skipped')"
        args = ()
        if digest:
            q += " AND json_extract(inputs, '$.source.digest') = ?"
            args = (digest,)
        n = c.execute(q, args).fetchone()[0]
        c.close()
        return n

    while done() < FANOUT:
        if time.monotonic() - t0 > 900:
            sys.exit(f"{config}: first builds: only {done()} of {FANOUT} after 900 s")
        time.sleep(0.2)
    first = time.monotonic() - t0
    cpu0 = (cpu_of(reg_proc.pid), pg.cpu() if db else 0.0, sum(cpu_of(p.pid) for p in tailors))
    S.push_base(rootfs, registry, f"fanout-{config}-1")
    new = S.tag_digest(registry, "acme/debian", "12")
    t0 = time.monotonic()
    while done(new) < FANOUT:
        if time.monotonic() - t0 > 900:
            sys.exit(f"{config}: only {done(new)} of {FANOUT} rebuilt after 900 s")
        time.sleep(0.2)
    rebuilt = time.monotonic() - t0
    cpu1 = (cpu_of(reg_proc.pid), pg.cpu() if db else 0.0, sum(cpu_of(p.pid) for p in tailors))
    cpu = tuple(b - a for a, b in zip(cpu0, cpu1))
    count_failed = "SELECT COUNT(*) FROM builds WHERE status = 'failed'"
    if db:
        failed = int(Postgres.psql(db, count_failed))
    else:
        import sqlite3
        failed = sqlite3.connect(os.path.join(data, "tailor.db")).execute(count_failed).fetchone()[0]
    procs.stop_all()
    return {"created": created, "first": first, "rebuilt": rebuilt, "cpu": cpu, "failed": failed}


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (the Debian rootfs is shared with tests/bench/reference.sh; PostgreSQL runs as postgres)")
    for f in [TAILOR, os.path.join(ROOT, "target/wasm32-wasip2/wasm/tailor_api.wasm")]:
        if not os.path.exists(f):
            sys.exit(f"missing {f}: build it first (see the docstring)")
    S.need([("wrk", "wrk"), ("docker-registry", "docker-registry"), ("psql", "postgresql")])
    rootfs = os.path.join(S.BENCH_CACHE, "rootfs")
    if "fanout" in SECTIONS and not os.path.isdir(rootfs):
        sys.exit(f"no {rootfs}: run tests/bench/reference.sh once (it makes the Debian rootfs)")
    work = tempfile.mkdtemp(prefix="tailor-scale-bench.")
    os.chmod(work, 0o755)
    procs = S.Procs()
    pg = Postgres(work)
    os.makedirs(os.path.join(work, "tiny/etc"))
    with open(os.path.join(work, "tiny/etc/passwd"), "w") as f:
        f.write("root:x:0:0::/root:/bin/sh\n")
    subprocess.run([TAILOR, "key", "generate", "--out", os.path.join(work, "keys")], check=True, capture_output=True)
    results = {}
    try:
        if "throughput" in SECTIONS:
            log("throughput: SQLite single process, then two serve replicas on PostgreSQL")
            results["throughput"] = throughput(procs, work, pg)
            log(f"{results['throughput']}")
        if "claim" in SECTIONS:
            log(f"claim latency ({CLAIMS} creations each)")
            results["claim"] = claim_latency(procs, work, pg)
            log(f"{ {k: statistics.median(v) for k, v in results['claim'].items()} }")
        if "fanout" in SECTIONS:
            results["fanout"] = {}
            for config in FANOUT_SETS:
                log(f"fan-out of {FANOUT}: {config}")
                results["fanout"][config] = fanout(procs, work, rootfs, pg, config)
                log(f"{config}: {results['fanout'][config]}")
    finally:
        procs.stop_all()
        pg.stop()
        try:
            os.remove(os.path.join(rootfs, "etc/bench-patch"))
        except FileNotFoundError:
            pass
        subprocess.run(["rm", "-rf", work], check=False)

    print(json.dumps(results, indent=1, default=str))
    if SECTIONS != ["throughput", "claim", "fanout"] or BENCH_OUT == "/dev/null":
        return
    sg, sh, pgg, pgh, events, pggd = results["throughput"]
    claim = results["claim"]

    def pct(xs, p):
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
    fan = results["fanout"]
    rows = []
    for config in FANOUT_SETS:
        f = fan[config]
        label = "SQLite: `tailor up --workers 4`" if config == "sqlite" else \
            f"PostgreSQL: `tailor serve` + {config[2:]} × `tailor worker --workers 4`"
        reg, db, tl = f["cpu"]
        rows.append(f"| {label} | {f['rebuilt']:.1f} s | {f['first']:.1f} s (created in {f['created']:.1f} s) | "
                    f"registry {reg:.0f} s, PostgreSQL {db:.0f} s, tailor {tl:.0f} s | {f['failed']} |")
    report = f"""## Scale-out on PostgreSQL (issue I)

- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores; command: `tests/bench/scale.py` (as root; release builds; PostgreSQL 15 from tests/postgres.sh, fsync off); everything on the same cores, wrk included.

| measurement | SQLite, one process (baseline) | PostgreSQL | goal |
|---|---|---|---|
| GET /v1/orgs/acme/customizations/{{id}}, an instance per request | {sg[0]:,.0f} req/s (p50 {sg[1]:.2f} ms, p99 {sg[2]:.2f} ms) | two `tailor serve --threads 1`: {pgg[0]:,.0f} req/s together (p50 {pgg[1]:.2f} ms, p99 {pgg[2]:.2f} ms, non-2xx {pgg[3]}); with the default threads: {pggd[0]:,.0f} req/s | ≥ 5,000 req/s |
| POST /v1/hooks/reg (new event id each) | {sh[0]:,.0f} events/s (p50 {sh[1]:.2f} ms) | two `tailor serve`: {pgh[0]:,.0f} events/s together (p50 {pgh[1]:.2f} ms, non-2xx {pgh[3]}; {events:,} events recorded) | ≥ 2,000 events/s |
| claim latency, queued → running ({CLAIMS} builds, idle workers) | p50 {statistics.median(claim['sqlite']):.0f} ms, p95 {pct(claim['sqlite'], 95):.0f} ms (50 ms polling) | p50 {statistics.median(claim['postgres']):.0f} ms, p95 {pct(claim['postgres'], 95):.0f} ms (LISTEN/NOTIFY) | p50 ≤ 20 ms |

Runs (req/s): SQLite GET {' / '.join(f'{x:,.0f}' for x in sg[4])}, webhook {' / '.join(f'{x:,.0f}' for x in sh[4])}; PostgreSQL GET {' / '.join(f'{x:,.0f}' for x in pgg[4])} (default threads {' / '.join(f'{x:,.0f}' for x in pggd[4])}), webhook {' / '.join(f'{x:,.0f}' for x in pgh[4])}.

Fan-out of {FANOUT} signed customizations (the reference customization of tests/bench/service.py, each its own tag), base re-pushed → all rebuilt:

| processes | all rebuilt | first builds of all | CPU during the rebuild | failed |
|---|---|---|---|---|
{chr(10).join(rows)}
"""
    print(report)
    with open(BENCH_OUT, "a") as f:
        f.write("\n" + report)


if __name__ == "__main__":
    main()
