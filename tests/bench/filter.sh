#!/usr/bin/env bash
# Filter benchmark: the cost of filtering one big artifact layer.
#
# What it measures (wall-clock, median of $RUNS runs, default 3):
#   an artifact of ~300 MB (compressible copies of /usr/lib files, 60 MiB of random data, and a
#   ~30 MB /data/skip subtree) pushed once with `tailor artifact push` into an OCI layout; then
#   - tailor:   `tailor build --layout L --no-cache` of a customization keeping /data minus
#               /data/skip (flatten, filter, recompress, digest, write the result into the layout);
#   - baseline: `gzip -dc LAYER | tar -x` into a temp dir, then `tar -c` of the same kept subset
#               `| gzip -6` to a file (no digest computed, nothing written to a layout).
# How to run (from the repository root, target/release/tailor already built; root not required):
#   tests/bench/filter.sh
# Environment: BENCH_CACHE (default /var/cache/tailor-bench: the artifact tree, made once), RUNS
#   (default 3), TAILOR (default target/release/tailor), BENCH_OUT (default BENCHMARKS.md at the
#   repository root; /dev/null to skip writing it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAILOR=${TAILOR:-$ROOT/target/release/tailor}
BENCH_CACHE=${BENCH_CACHE:-/var/cache/tailor-bench}
RUNS=${RUNS:-3}
BENCH_OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
log() { printf '== %s\n' "$*" >&2; }
[ -x "$TAILOR" ] || { echo "no tailor binary at $TAILOR (build it first)" >&2; exit 1; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 1; }

W=$(mktemp -d /tmp/tailor-filter.XXXXXX)
trap 'rm -rf "$W"' EXIT

# --- the artifact tree (cached) ----------------------------------------------------------------
BIG=$BENCH_CACHE/big-artifact
if [ ! -d "$BIG" ]; then
  log "making the ~300 MB artifact tree in $BIG"
  rm -rf "$BIG.tmp"; mkdir -p "$BIG.tmp/data/lib" "$BIG.tmp/data/blob" "$BIG.tmp/data/skip"
  # ~220 MB of regular files from /usr/lib (sorted, so the same machine gives the same tree).
  find /usr/lib -type f -size -4M -readable -print0 | sort -z | python3 -c '
import os, shutil, sys
dst = sys.argv[1]; total = 0; limit = 220 * 1000 * 1000
for p in sys.stdin.buffer.read().split(b"\0"):
    if not p: continue
    p = p.decode("utf-8", "surrogateescape")
    try: size = os.path.getsize(p)
    except OSError: continue
    t = os.path.join(dst, os.path.relpath(p, "/usr/lib"))
    os.makedirs(os.path.dirname(t), exist_ok=True)
    try: shutil.copyfile(p, t)
    except OSError: continue
    os.chmod(t, 0o644); total += size
    if total >= limit: break
' "$BIG.tmp/data/lib"
  for i in 1 2 3 4 5 6; do head -c 10M /dev/urandom >"$BIG.tmp/data/blob/rand$i"; done
  for i in 1 2 3; do head -c 10M /dev/urandom >"$BIG.tmp/data/skip/rand$i"; done
  mv "$BIG.tmp" "$BIG"
fi
SIZE=$(du -sb "$BIG" | cut -f1)
KEPT=$(( SIZE - $(du -sb "$BIG/data/skip" | cut -f1) ))

# --- the layout: a tiny base and the big artifact ---------------------------------------------
L=$W/layout
mkdir -p "$W/base/etc"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$W/base/etc/passwd"
printf 'root:x:0:\n' >"$W/base/etc/group"
"$TAILOR" artifact push "$W/base" --tag acme/tiny:1 --layout "$L" -q >/dev/null
t0=$(date +%s%N)
"$TAILOR" artifact push "$BIG" --tag acme/big:1 --layout "$L" -q >/dev/null
t1=$(date +%s%N)
PUSH_MS=$(( (t1 - t0) / 1000000 ))
# The big artifact's layer blob: index → manifest → layers[0].
blob() { printf '%s/blobs/sha256/%s' "$1" "${2#sha256:}"; }
REPO=$L/acme/big
M=$(jq -r '.manifests[0].digest' "$REPO/index.json")
M=$(blob "$REPO" "$M")
if [ "$(jq -r '.mediaType // empty' "$M")" = application/vnd.oci.image.index.v1+json ] || jq -e '.manifests' "$M" >/dev/null 2>&1; then
  M=$(blob "$REPO" "$(jq -r '.manifests[0].digest' "$M")")
fi
LAYER=$(blob "$REPO" "$(jq -r '.layers[0].digest' "$M")")
LAYER_SIZE=$(stat -c %s "$LAYER")
log "artifact: $SIZE bytes unpacked, layer $LAYER_SIZE bytes gzip, pushed in $PUSH_MS ms"

cat >"$W/filter.yaml" <<'EOF'
name: filter
source: acme/tiny:1
tag_suffix: filtered
platforms: [linux/amd64]
contents:
  artifacts:
    - reference: acme/big:1
      includes: [/data]
      excludes: [/data/skip]
EOF

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
T_TAILOR=; T_BASE=
for i in $(seq "$RUNS"); do
  t0=$(date +%s%N)
  "$TAILOR" build -f "$W/filter.yaml" --layout "$L" --no-cache -q --output json >"$W/tailor.json"
  t1=$(date +%s%N)
  tt=$(( (t1 - t0) / 1000000 )); T_TAILOR+="$tt "
  # Only the first build writes new blobs; later ones find the same (deterministic) blobs there.
  if [ "$i" = 1 ]; then TAILOR_UP=$(jq -r '.bytes_uploaded' "$W/tailor.json"); fi
  rm -rf "$W/x" "$W/out.tar.gz"; mkdir "$W/x"
  t0=$(date +%s%N)
  gzip -dc "$LAYER" | tar -x -C "$W/x"
  tar -c -C "$W/x" --exclude=data/skip data | gzip -6 >"$W/out.tar.gz"
  t1=$(date +%s%N)
  tb=$(( (t1 - t0) / 1000000 )); T_BASE+="$tb "
  log "run $i: tailor $tt ms, baseline $tb ms"
done
OUT_SIZE=$(stat -c %s "$W/out.tar.gz")
TM=$(tr ' ' '\n' <<<"$T_TAILOR" | grep . | median)
BM=$(tr ' ' '\n' <<<"$T_BASE" | grep . | median)
{
  echo "## Filtering one ~300 MB artifact layer"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, kernel $(uname -r); command: \`tests/bench/filter.sh\` (RUNS=$RUNS, median reported)"
  echo "- Artifact: $SIZE bytes unpacked ($KEPT kept: /data minus /data/skip), one gzip layer of $LAYER_SIZE bytes (\`tailor artifact push\` took $PUSH_MS ms);"
  echo "  output: tailor's first build wrote $TAILOR_UP bytes (\`bytes_uploaded\`: the filtered layer, config and manifests; later builds wrote 0, the blobs being identical); baseline gzip -6 of the kept subset: $OUT_SIZE bytes."
  echo
  echo "| operation | median | raw (ms) |"
  echo "|---|---|---|"
  echo "| \`tailor build --layout --no-cache\` (includes [/data], excludes [/data/skip]) | $TM ms | $T_TAILOR|"
  echo "| \`gzip -dc LAYER \\| tar -x\` then \`tar -c KEPT \\| gzip -6\` | $BM ms | $T_BASE|"
  echo "| ratio baseline/tailor | $(awk -v a="$BM" -v b="$TM" 'BEGIN {printf "%.2f", a / b}')× | |"
  echo
} >"$W/report.md"
cat "$W/report.md"
if [ "$BENCH_OUT" != /dev/null ]; then cat "$W/report.md" >>"$BENCH_OUT"; fi
