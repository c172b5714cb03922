#!/usr/bin/env python3
"""Real Helm for the e2e tests: the Helm v4 Go SDK of PyPI's helm-python-sdk (libhelm_c.so
behind ctypes). Each subcommand prints exactly one JSON object on stdout; a Helm error exits 1
with {"error": "..."}.

  create NAME DIR                      helm create (the standard starter chart)
  package CHART_DIR DEST_DIR           helm package -> {"path": ".../NAME-VERSION.tgz"}
  push TGZ oci://HOST/NAMESPACE        helm push (plain HTTP)
  pull oci://HOST/REPO VERSION DIR     helm pull (plain HTTP) -> {"path": ...}
  tags HOST/REPO                       the registry's chart versions
  render TGZ VALUES_JSON               load the archive and render -> {"manifests": {path: text}}
  lint TGZ                             helm lint --strict --with-subcharts
  show TGZ                             Chart.yaml metadata and values of the archive
"""
import json
import os
import sys

import helm_python as helm


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "create":
        name, directory = args
        helm.Chart.create(name, directory)
        return {"path": os.path.join(directory, name)}
    if cmd == "package":
        chart_dir, dest = args
        return {"path": helm.package(chart_dir, destination=dest)}
    if cmd == "push":
        tgz, remote = args
        return helm.push(tgz, remote, plain_http=True)
    if cmd == "pull":
        ref, version, dest = args
        os.makedirs(dest, exist_ok=True)
        before = set(os.listdir(dest))
        result = helm.pull(ref, version=version, destination=dest, plain_http=True)
        new = sorted(set(os.listdir(dest)) - before)
        result["path"] = os.path.join(dest, new[0]) if new else None
        return result
    if cmd == "tags":
        (ref,) = args
        return {"tags": helm.RegistryClient(plain_http=True).tags(ref)}
    if cmd == "render":
        tgz, values = args
        with open(tgz, "rb") as f:
            chart = helm.Chart.load_archive(f.read())
        return {"manifests": chart.render(json.loads(values), name="release", namespace="default")}
    if cmd == "lint":
        (tgz,) = args
        return helm.lint(tgz, strict=True, with_subcharts=True)
    if cmd == "show":
        (tgz,) = args
        with open(tgz, "rb") as f:
            chart = helm.Chart.load_archive(f.read())
        return {"metadata": chart.metadata, "values": chart.values}
    raise SystemExit(f"unknown subcommand {cmd!r}")


if __name__ == "__main__":
    try:
        print(json.dumps(main(sys.argv[1:]), default=str))
    except helm.HelmError as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
