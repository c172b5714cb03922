#!/usr/bin/env python3
"""Chart customization benchmarks (issue F), with figures appended to BENCHMARKS.md.

What it measures (2 cores, everything on loopback, release builds):
  1. customize: a generated chart of about 200 files with three subcharts (two unpacked, one
     packed) and 12 image references, VERSIONS versions of it pushed by real Helm; then
     `tailor chart build` of all of them, RUNS times after a first build (warm: the registry
     holds every target and output). Per version = the command's time / VERSIONS. Every run
     resolves, customizes, packages and pushes each version (the one-shot command keeps no
     state, so no version is skipped as unchanged). Baseline in the same run: `tar -xzf` +
     `tar -czf` of the same archive VERSIONS times (only unpacking and packing, no edits).
  2. cascade: `tailor up` with the registry's notifications, a chart customization of that
     chart (signed, as every service build); then PUSHES times a mapped image is pushed again
     with new content (`tailor artifact push`) and the time until the customized chart's tag
     moves is measured (HEAD polled every 10 ms): notification, debounce (300 ms), the
     chart build of every version, signing.

How to run (as root, from the repository root):
  cargo build --release -p tailor-cli
  cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook
  tests/bench/chart.py
Needs helm-python-sdk (tests/run.sh installs it into ~/.cache/tailor-test). Environment: RUNS (5),
VERSIONS (5), PUSHES (10), SECTIONS ("customize,cascade"), BENCH_OUT, TAILOR, HELM_PYTHON.
"""

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
VERSIONS = int(os.environ.get("VERSIONS", "5"))
PUSHES = int(os.environ.get("PUSHES", "10"))
SECTIONS = os.environ.get("SECTIONS", "customize,cascade").split(",")
BENCH_OUT = os.environ.get("BENCH_OUT", os.path.join(svc.ROOT, "BENCHMARKS.md"))
HELM_PYTHON = os.environ.get("HELM_PYTHON", os.path.expanduser("~/.cache/tailor-test/helm-python-sdk-0.2.2/bin/python"))
HELM = [HELM_PYTHON, os.path.join(svc.ROOT, "tests/tools/helm.py")]
TAILOR = svc.TAILOR
log = svc.log

IMAGES = [f"vendor/app{i}" for i in range(12)]


def helm(*args):
    return json.loads(subprocess.run([*HELM, *args], check=True, capture_output=True, text=True).stdout)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_chart(root, name, version, images, files, subcharts=()):
    """A chart `name` with `files` templates (ConfigMaps), values naming `images`, and `subcharts`."""
    deps = "".join(f"  - name: {s}\n    version: 1.0.0\n" for s in subcharts)
    write(f"{root}/{name}/Chart.yaml", f"apiVersion: v2\nname: {name}\nversion: {version}\n" + (f"dependencies:\n{deps}" if deps else ""))
    values = [f"# values of {name}"]
    for image in images:
        i = IMAGES.index(image)
        if i % 3 == 0:
            values.append(f"img{i}:\n  registry: docker.io   # registry\n  repository: {image}\n  tag: \"1.{i}\"\n  digest: \"\"")
        elif i % 3 == 1:
            values.append(f"img{i}:\n  repository: {image}   # host in repository\n  tag: '1.{i}'")
        else:
            values.append(f"img{i}: {image}:1.{i}   # a plain string")
    values.append("settings:\n" + "".join(f"  key{k}: value {k}   # setting {k}\n" for k in range(40)))
    write(f"{root}/{name}/values.yaml", "\n".join(values) + "\n")
    for f in range(files):
        write(f"{root}/{name}/templates/cm{f}.yaml",
              f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}-{f}\ndata:\n"
              + "".join(f"  k{k}: {{{{ .Values.settings.key{k} | quote }}}}\n" for k in range(10)))


def package(work, version):
    """The benchmark chart at `version`: ≈200 files, three subcharts (two unpacked, one packed)."""
    root = os.path.join(work, f"chart-{version}")
    shutil.rmtree(root, ignore_errors=True)
    make_chart(root, "big", version, IMAGES[:6], 120, ["sub-a", "sub-b", "sub-c"])
    make_chart(f"{root}/big/charts", "sub-a", "1.0.0", IMAGES[6:8], 30)
    make_chart(f"{root}/big/charts", "sub-b", "1.0.0", IMAGES[8:10], 30)
    make_chart(os.path.join(work, f"packed-{version}"), "sub-c", "1.0.0", IMAGES[10:12], 15)
    helm("package", os.path.join(work, f"packed-{version}", "sub-c"), f"{root}/big/charts")
    return helm("package", f"{root}/big", work)["path"]


def spec_file(work, suffix):
    lines = [f"name: big\nsource: acme/big\ntag_suffix: {suffix}\nreference_mapping:"]
    for image in IMAGES:
        lines.append(f"  - {{from: {image}, to: acme/{image.split('/')[1]}}}")
    path = os.path.join(work, f"spec-{suffix}.yaml")
    write(path, "\n".join(lines) + "\n")
    return path


def push_targets(work, registry, salt):
    d = os.path.join(work, "target-files")
    write(os.path.join(d, "etc/salt"), salt + "\n")
    for i, image in enumerate(IMAGES):
        svc.push(d, f"acme/{image.split('/')[1]}:1.{i}", registry)


def customize_section(procs, work):
    registry = svc.start_registry(procs, os.path.join(work, "cust"))
    push_targets(work, registry, "0")
    archives = []
    for v in range(VERSIONS):
        archive = package(work, f"1.{v}.0")
        archives.append(archive)
        helm("push", archive, f"oci://{registry.split('://')[1]}/acme")
    files = int(subprocess.run(["tar", "-tzf", archives[0]], capture_output=True, text=True).stdout.count("\n"))
    spec = spec_file(work, "custom")
    subprocess.run([TAILOR, "chart", "build", "-f", spec, "--registry", registry, "-q"], check=True, stdout=subprocess.DEVNULL)
    tailor_ms, baseline_ms = [], []
    for _ in range(RUNS):
        t0 = time.monotonic()
        out = subprocess.run([TAILOR, "chart", "build", "-f", spec, "--registry", registry, "-q", "--output", "json"],
                             check=True, capture_output=True, text=True).stdout
        tailor_ms.append((time.monotonic() - t0) * 1000)
        report = json.loads(out)
        assert len(report["versions"]) == VERSIONS and all(v["status"] == "built" for v in report["versions"]), out[:500]
        t0 = time.monotonic()
        for a in archives:
            d = tempfile.mkdtemp(dir=work)
            subprocess.run(["tar", "-xzf", a, "-C", d], check=True)
            subprocess.run(["tar", "-czf", os.path.join(d, "out.tgz"), "-C", d, "big"], check=True)
            shutil.rmtree(d)
        baseline_ms.append((time.monotonic() - t0) * 1000)
    rewrites = len(report["versions"][0]["rewrites"])
    return tailor_ms, baseline_ms, files, rewrites


def chart_digest(registry, repo, tag):
    status, headers, _ = svc.http_request(registry.split("://")[1], "HEAD", f"/v2/{repo}/manifests/{tag}",
                                          headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    return headers.get("docker-content-digest") if status == 200 else None


def wait_chart_moved(registry, repo, tag, before, timeout=60):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        d = chart_digest(registry, repo, tag)
        if d and d != before:
            return d
        time.sleep(0.01)
    sys.exit(f"{repo}:{tag} did not move within {timeout} s")


def cascade_section(procs, work):
    port = svc.free_port()
    registry = svc.start_registry(procs, os.path.join(work, "casc"), f"http://127.0.0.1:{port}/v1/hooks/reg")
    push_targets(work, registry, "0")
    helm("push", package(work, "2.0.0"), f"oci://{registry.split('://')[1]}/acme")
    _, token = svc.start_up(procs, work, "casc-data", port, ["--registry", registry, "--webhook", f"reg={svc.SECRET}", "--poll-interval", "0"])
    addr = f"127.0.0.1:{port}"
    with open(spec_file(work, "custom")) as f:
        status, _, body = svc.http_request(addr, "POST", "/v1/orgs/acme/chart-customizations", f.read(),
                                           {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"})
    assert status == 201, body
    current = wait_chart_moved(registry, "acme/big", "2.0.0_custom", None, 120)
    d = os.path.join(work, "moved-files")
    times = []
    for i in range(1, PUSHES + 1):
        write(os.path.join(d, "etc/salt"), f"moved {i}\n")
        svc.push(d, "acme/app0:1.0", registry)
        t0 = time.monotonic()
        current = wait_chart_moved(registry, "acme/big", "2.0.0_custom", current)
        times.append((time.monotonic() - t0) * 1000)
    return times


def main():
    if os.geteuid() != 0:
        sys.exit("run as root")
    for f in [TAILOR, HELM_PYTHON, os.path.join(svc.ROOT, "target/wasm32-wasip2/wasm/tailor_api.wasm")]:
        if not os.path.exists(f):
            sys.exit(f"missing {f}: see the docstring")
    svc.need([("docker-registry", "docker-registry")])
    work = tempfile.mkdtemp(prefix="tailor-chart-bench.")
    procs = svc.Procs()
    results = {}
    try:
        if "customize" in SECTIONS:
            log(f"customize: {VERSIONS} versions")
            results["customize"] = customize_section(procs, work)
            log(f"customize {results['customize']}")
            procs.stop_all()
        if "cascade" in SECTIONS:
            log(f"cascade: {PUSHES} image pushes")
            results["cascade"] = cascade_section(procs, work)
            log(f"cascade {results['cascade']}")
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    lines = ["## Chart customizations (issue F)\n",
             f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} cores; command: "
             f"`tests/bench/chart.py` (as root; release builds; RUNS={RUNS}, medians)\n",
             "| measurement | result | goal |", "|---|---|---|"]
    if "customize" in results:
        t, b, files, rewrites = results["customize"]
        lines.append(f"| `tailor chart build` of {VERSIONS} versions of a chart of {files} archive entries with three subcharts "
                     f"({rewrites} references rewritten and pinned per version), warm | {med(t) / VERSIONS:.0f} ms per version "
                     f"({med(t):.0f} ms in all; baseline `tar -xzf` + `tar -czf` of the same archives: {med(b) / VERSIONS:.0f} ms per version) | ≤ 100 ms per version |")
    if "cascade" in results:
        c = results["cascade"]
        q = sorted(c)
        lines.append(f"| mapped image pushed → customized chart tag moved, signed ({len(c)} pushes) | p50 {med(c):.0f} ms, "
                     f"p95 {q[min(len(q) - 1, round(0.95 * (len(q) - 1)))]:.0f} ms | p50 ≤ 1 s |")
    lines.append("")
    if "customize" in results:
        lines.append("Raw (ms): tailor " + " ".join(f"{x:.0f}" for x in results["customize"][0]) + "; tar baseline "
                     + " ".join(f"{x:.0f}" for x in results["customize"][1]))
    if "cascade" in results:
        lines.append("Raw image pushed → chart tag moved (ms): " + " ".join(f"{x:.0f}" for x in results["cascade"]))
    report = "\n".join(lines) + "\n"
    print(report)
    if BENCH_OUT != "/dev/null" and set(SECTIONS) == {"customize", "cascade"}:
        with open(BENCH_OUT, "a") as f:
            f.write("\n" + report)


if __name__ == "__main__":
    main()
