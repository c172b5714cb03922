#!/usr/bin/env python3
"""Memory of `tailor up` under load and over a compressed soak (issue J), appended to BENCHMARKS.md.

What it measures (2 cores, loopback, release builds; the reference customization of
tests/bench/reference.sh: Debian 12 minbase base, two ~4 MB artifacts, signed and attested):
  1. under load: FANOUT (default 1000) customizations are created and built (`--workers 4`)
     while wrk (-t2 -c16) GETs a customization the whole time. The resident memory (VmRSS) of
     the `tailor up` process is sampled every 100 ms; reported: before, peak (VmHWM), after.
  2. soak: SOAK_ROUNDS (default 5) times a patched base is pushed, so every customization is
     rebuilt (FANOUT builds a round), while wrk keeps requesting until the round has made at
     least SOAK_REQUESTS / SOAK_ROUNDS requests (default 200,000 in all). The RSS at the end of
     each round (idle, IDLE seconds after its last build: the service gives the allocator's free
     memory back every 10 s) shows whether anything grows.

How to run (as root, from the repository root; tests/bench/reference.sh makes the Debian rootfs once):
  cargo build --release -p tailor-cli
  cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook
  tests/bench/memory.py
Environment: TAILOR, BENCH_CACHE, FANOUT, SOAK_ROUNDS, SOAK_REQUESTS, IDLE, BENCH_OUT (/dev/null: print only).
"""

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service  # noqa: E402  (the service benchmark's helpers: registry, tailor up, specs)

FANOUT = int(os.environ.get("FANOUT", "1000"))
SOAK_ROUNDS = int(os.environ.get("SOAK_ROUNDS", "5"))
SOAK_REQUESTS = int(os.environ.get("SOAK_REQUESTS", "200000"))
IDLE = float(os.environ.get("IDLE", "11"))
BENCH_OUT = os.environ.get("BENCH_OUT", os.path.join(service.ROOT, "BENCHMARKS.md"))
log = service.log


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


class Sampler(threading.Thread):
    """VmRSS of `pid` every 100 ms while running."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.samples.append(status_kb(self.pid, "VmRSS"))
            time.sleep(0.1)


class Load(threading.Thread):
    """wrk in 5 s runs until stopped and at least `at_least` requests were made."""

    def __init__(self, url, token, at_least=0):
        super().__init__(daemon=True)
        self.url, self.token, self.at_least = url, token, at_least
        self.requests, self.errors, self.stop = 0, 0, threading.Event()

    def run(self):
        while not (self.stop.is_set() and self.requests >= self.at_least):
            out = subprocess.run(["wrk", "-t2", "-c16", "-d5s", "-H", f"Authorization: Bearer {self.token}", self.url],
                                 check=True, capture_output=True, text=True).stdout
            self.requests += int(re.search(r"(\d+) requests in", out).group(1))
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            self.errors += int(m.group(1)) if m else 0


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (the Debian rootfs is shared with tests/bench/reference.sh)")
    service.need([("wrk", "wrk"), ("docker-registry", "docker-registry")])
    rootfs = os.path.join(service.BENCH_CACHE, "rootfs")
    if not os.path.isdir(rootfs):
        sys.exit(f"no {rootfs}: run tests/bench/reference.sh once (it makes the Debian rootfs)")
    work = tempfile.mkdtemp(prefix="tailor-memory-bench.")
    procs = service.Procs()
    try:
        port = service.free_port()
        registry = service.start_registry(procs, os.path.join(work, "reg"), f"http://127.0.0.1:{port}/v1/hooks/reg")
        service.push_base(rootfs, registry, "memory-0")
        service.push(service.make_artifact(work, "art1", 0), "acme/art1:1", registry)
        service.push(service.make_artifact(work, "art2", 0), "acme/art2:1", registry)
        data, token = service.start_up(procs, work, "mem-data", port, [
            "--registry", registry, "--webhook", f"reg={service.SECRET}", "--poll-interval", "0", "--workers", "4"])
        pid = procs.procs[-1].pid
        addr = f"127.0.0.1:{port}"
        first = service.create(addr, token, dict(service.REFERENCE, name="c0", tag_suffix="c0"))
        url = f"http://{addr}/v1/orgs/acme/customizations/{first}"
        db = sqlite3.connect(f"file:{os.path.join(data, 'tailor.db')}?mode=ro", uri=True, timeout=30)

        def built(digest):
            return db.execute("SELECT COUNT(DISTINCT customization_id) FROM builds WHERE status IN ('succeeded','skipped') "
                              "AND json_extract(inputs, '$.source.digest') = ?", (digest,)).fetchone()[0]

        def wait_built(digest, what):
            t0 = time.monotonic()
            while built(digest) < FANOUT:
                if time.monotonic() - t0 > 900:
                    sys.exit(f"{what}: only {built(digest)} of {FANOUT} built after 900 s")
                time.sleep(0.2)
            return time.monotonic() - t0

        time.sleep(IDLE)
        before = status_kb(pid, "VmRSS")
        log(f"under load: {FANOUT} customizations created and built while wrk GETs; RSS before {before} kB")
        sampler, load = Sampler(pid), Load(url, token)
        sampler.start()
        load.start()
        for i in range(1, FANOUT):
            service.create(addr, token, dict(service.REFERENCE, name=f"c{i}", tag_suffix=f"c{i}"))
        took = wait_built(service.tag_digest(registry, "acme/debian", "12"), "first builds")
        load.stop.set()
        load.join()
        sampler.stop.set()
        sampler.join()
        peak = max(max(sampler.samples), status_kb(pid, "VmHWM"))
        time.sleep(IDLE)
        after = status_kb(pid, "VmRSS")
        loaded = (before, peak, after, took, load.requests, load.errors)
        log(f"under load: {loaded}")

        rounds = []
        per_round = SOAK_REQUESTS // max(SOAK_ROUNDS, 1)
        for r in range(1, SOAK_ROUNDS + 1):
            sampler, load = Sampler(pid), Load(url, token, per_round)
            sampler.start()
            load.start()
            service.push_base(rootfs, registry, f"memory-{r}")
            took = wait_built(service.tag_digest(registry, "acme/debian", "12"), f"soak round {r}")
            load.stop.set()
            load.join()
            sampler.stop.set()
            sampler.join()
            time.sleep(IDLE)
            rounds.append((status_kb(pid, "VmRSS"), max(sampler.samples), took, load.requests, load.errors))
            log(f"soak round {r}: {rounds[-1]}")
        failed = db.execute("SELECT COUNT(*) FROM builds WHERE status = 'failed'").fetchone()[0]
        builds = db.execute("SELECT COUNT(*) FROM builds").fetchone()[0]
    finally:
        service.clean_up(procs, rootfs, work)

    mb = lambda kb: kb / 1024  # noqa: E731
    total_requests = loaded[4] + sum(r[3] for r in rounds)
    growth = mb(rounds[-1][0] - rounds[0][0]) if rounds else 0.0
    # The second half: after the process's bounded caches filled (the base-index memo holds 8 bases).
    half = len(rounds) // 2
    late = mb(rounds[-1][0] - rounds[half][0]) if len(rounds) > 1 else 0.0
    rows = "\n".join(f"| {i} | {mb(r[0]):.1f} MB | {mb(r[1]):.0f} MB | {r[2]:.1f} s | {r[3]:,} ({r[4]} non-2xx) |"
                     for i, r in enumerate(rounds, 1))
    report = f"""## Memory under load and soak (`tailor up`)

- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores; command: `tests/bench/memory.py` (as root; release builds); `--workers 4`, every build signed and attested.
- Under load: {FANOUT} customizations created and built ({loaded[3]:.1f} s) while wrk -t2 -c16 GETs one of them ({loaded[4]:,} requests, {loaded[5]} non-2xx). Resident memory of `tailor up`: {mb(loaded[0]):.0f} MB before, **peak {mb(loaded[1]):.0f} MB**, {mb(loaded[2]):.0f} MB after ({IDLE:g} s idle).
- Soak: {SOAK_ROUNDS} rounds of a base push rebuilding all {FANOUT} with wrk running; {builds:,} builds in all ({failed} failed), {total_requests:,} requests in all. RSS at the end of round {SOAK_ROUNDS} minus round 1: **{growth:+.1f} MB**; minus round {half + 1}: **{late:+.1f} MB**.

| soak round | RSS at the end (idle {IDLE:g} s) | peak during | rebuild of all | requests |
|---|---|---|---|---|
{rows}
"""
    service.publish(report, BENCH_OUT)


if __name__ == "__main__":
    main()
