#!/usr/bin/env bash
# Benchmark (issue D): what adding `curl` adds to a build of the Debian base, the package
# indexes, packages and packages layer already in tailor's cache (warm: the signed InRelease
# files are still fetched and verified, the indexes parsed and curl resolved on every build).
# Same run, same base, same registry: `tailor build` of a spec without packages against the
# same spec with `packages: [curl]`, RUNS times each (default 5), medians; the difference is
# the figure — from a loopback repository of the curl closure, and (when deb.debian.org is
# reachable) from the official archive, the default repositories of the base's release.
#
# Needs what tests/run.sh prepares: TAILOR_TEST_ROOTFS (debootstrap minbase bookworm) and
# TAILOR_TEST_CURL_DEBS (what apt-get --download-only fetches for curl on it), plus
# docker-registry, apt-ftparchive, gpg and python3. TAILOR defaults to target/release/tailor.
# Prints the figures; BENCH_OUT (default: BENCHMARKS.md) gets them appended (/dev/null: not).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAILOR=${TAILOR:-$ROOT/target/release/tailor}
RUNS=${RUNS:-5}
BENCH_OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
ROOTFS=${TAILOR_TEST_ROOTFS:-${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/debian-bookworm}
DEBS=${TAILOR_TEST_CURL_DEBS:-${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/curl-debs}
[ -x "$TAILOR" ] || { echo "no tailor binary at $TAILOR (cargo build --release -p tailor-cli)" >&2; exit 1; }
[ -x "$ROOTFS/bin/sh" ] && ls "$DEBS"/curl_*.deb >/dev/null || { echo "run tests/run.sh first (it prepares $ROOTFS and $DEBS)" >&2; exit 1; }

W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

RPORT=$(free_port)
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' "$W" "$RPORT" >"$W/registry.yml"
docker-registry serve "$W/registry.yml" >/dev/null 2>&1 & PIDS+=($!)
URL=http://127.0.0.1:$RPORT
for _ in $(seq 100); do curl -fs "$URL/v2/" >/dev/null && break; sleep 0.05; done

# The repository: the curl debs, apt-ftparchive, signed by a key made here.
mkdir -p "$W/repo/pool" "$W/repo/dists/stable/main/binary-amd64" "$W/gnupg"
chmod 700 "$W/gnupg"
cp "$DEBS"/*.deb "$W/repo/pool/"
(cd "$W/repo" && apt-ftparchive packages pool >dists/stable/main/binary-amd64/Packages && xz -k dists/stable/main/binary-amd64/Packages \
  && apt-ftparchive -o APT::FTPArchive::Release::Suite=stable release dists/stable >dists/stable/Release)
export GNUPGHOME=$W/gnupg
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key 'bench <b@example.org>' ed25519 sign never
gpg --batch --quiet --armor --export >"$W/repo.asc"
gpg --batch --quiet --yes --clearsign -o "$W/repo/dists/stable/InRelease" "$W/repo/dists/stable/Release"
HPORT=$(free_port)
(cd "$W/repo" && exec python3 -m http.server --bind 127.0.0.1 "$HPORT" >/dev/null 2>&1) & PIDS+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$HPORT/dists/stable/InRelease" >/dev/null && break; sleep 0.05; done
printf 'debian:\n  - {url: "http://127.0.0.1:%s", suite: stable, components: [main], keys: ["%s"]}\n' "$HPORT" "$W/repo.asc" >"$W/repos.yaml"

"$TAILOR" artifact push "$ROOTFS" --tag acme/debian:12 --platform linux/amd64 --registry "$URL" -q >/dev/null
spec() { printf 'name: b\nsource: acme/debian:12\ntag_suffix: %s\nplatforms: [linux/amd64]\nenvironment: {A: b}\n%s' "$1" "$2" >"$W/$1.yaml"; }
spec plain ""
spec curl $'contents:\n  packages: [curl]\n'
ARGS=(--registry "$URL" --repositories "$W/repos.yaml" --cache "$W/cache" -q --output json)
# Warm: each spec built once untimed (base index, package indexes and packages cached).
for s in plain curl; do "$TAILOR" build -f "$W/$s.yaml" "${ARGS[@]}" >"$W/$s.json"; done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T
for s in plain curl; do
  for _ in $(seq "$RUNS"); do
    a=$(date +%s%N); "$TAILOR" build -f "$W/$s.yaml" "${ARGS[@]}" >/dev/null; b=$(date +%s%N)
    T[$s]+="$(( (b - a) / 1000000 )) "
  done
done
# The same from the official archive (the default repositories of the base's release:
# bookworm, bookworm-updates, bookworm-security; tens of thousands of packages to read), when
# deb.debian.org is reachable.
OFFICIAL=""
if curl -fs -o /dev/null --max-time 10 http://deb.debian.org/debian/dists/bookworm/InRelease; then
  OARGS=(--registry "$URL" --cache "$W/cache-official" -q --output json)
  "$TAILOR" build -f "$W/curl.yaml" "${OARGS[@]}" >"$W/official.json"
  for _ in $(seq "$RUNS"); do
    a=$(date +%s%N); "$TAILOR" build -f "$W/curl.yaml" "${OARGS[@]}" >/dev/null; b=$(date +%s%N)
    T[official]+="$(( (b - a) / 1000000 )) "
  done
  mo=$(median ${T[official]})
  no=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$W/official.json")
  OFFICIAL="| with \`packages: [curl]\` from the official archive ($no packages) | $mo ms | |
| added by the packages, official archive | $((mo - $(median ${T[plain]}))) ms | ≤ 500 ms (issue L) |
"
else
  echo "deb.debian.org unreachable: the official-archive rows are left out" >&2
fi
mp=$(median ${T[plain]}); mc=$(median ${T[curl]})
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$W/curl.json")
report="## Packages: adding curl to the Debian base (issue D)

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores; command: \`tests/bench/packages.sh\` (RUNS=$RUNS, medians; release build)
- Base: debootstrap minbase bookworm pushed with \`tailor artifact push\`; repository: the $n packages apt downloads for curl on it, on loopback (apt-ftparchive, gpg-signed); indexes and packages warm in tailor's cache (only InRelease is fetched).

| build | median | goal |
|---|---|---|
| without packages | $mp ms | |
| with \`packages: [curl]\` ($n packages) | $mc ms | |
| added by the packages | $((mc - mp)) ms | ≤ 1000 ms |
$OFFICIAL
Raw (ms): without: ${T[plain]}; with curl: ${T[curl]}; official archive: ${T[official]:-}
"
echo "$report"
if [ "$BENCH_OUT" != /dev/null ]; then printf '\n%s' "$report" >>"$BENCH_OUT"; fi
