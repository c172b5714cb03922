#!/usr/bin/env bash
# Org extensions (issue G): what running the three example extensions costs a build, and how
# soon a runaway extension is stopped.
#
# What it measures (wall-clock, median of $RUNS runs, default 7):
#   overhead  the warm reference build (tests/bench/reference.sh's customization, inputs cached,
#             APP_ENV edited each run) with and without `--extension` for deny-packages,
#             required-labels and no-setuid (settings that pass on the Debian base, so every
#             checkpoint runs to its end: no-setuid lists the whole image). Runs alternate
#             between the two, one untimed warm-up each (the compiled components are cached by
#             digest in the cache directory, as the worker caches them).
#   deadline  `tailor extension test` of the hostile test extension looping in its first check
#             (fuel unlimited for the purpose) with --extension-deadline D, minus the same
#             command with the extension trapping at once in that check (the same path:
#             the call fails, nothing else runs): the time from the call's start to its end,
#             as a multiple of D (goal ≤ 1.5×).
#
# How to run (as root, from the repository root, with target/release/tailor built):
#   tests/bench/extensions.sh
# Environment: as tests/bench/reference.sh (BENCH_CACHE, RUNS, TAILOR, BENCH_OUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAILOR=${TAILOR:-$ROOT/target/release/tailor}
BENCH_CACHE=${BENCH_CACHE:-/var/cache/tailor-bench}
RUNS=${RUNS:-7}
BENCH_OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
log() { printf '== %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap)" >&2; exit 1; }
[ -x "$TAILOR" ] || { echo "no tailor binary at $TAILOR (build it first)" >&2; exit 1; }
for tool in debootstrap docker-registry; do
  command -v "$tool" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done

log "building the extensions (wasm32-wasip2)"
(cd "$ROOT" && cargo build -q --profile wasm --target wasm32-wasip2 -p tailor-extension-deny-packages \
  -p tailor-extension-required-labels -p tailor-extension-no-setuid -p tailor-test-hostile-extension)
WASM=${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-wasip2/wasm

# shellcheck source=tests/bench/reference-setup.sh
. "$ROOT/tests/bench/reference-setup.sh"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
set_env() { sed -i "s/^environment: .*/environment: {APP_ENV: $1}/" "$W/ref.yaml"; }
EXT=(
  --extension "$WASM/tailor_extension_deny_packages.wasm={\"packages\": [\"telnet\", \"netcat-*\", \"openssh-server\"]}"
  --extension "$WASM/tailor_extension_required_labels.wasm={\"labels\": [\"com.acme.team\"]}"
  --extension "$WASM/tailor_extension_no_setuid.wasm={\"allow\": [\"usr/bin/*\", \"usr/sbin/unix_chkpwd\"]}"
)
build() {  # build [ARGS...]: one warm build, ms on stdout
  local t0 t1
  t0=$(now_ns)
  "$TAILOR" build -f "$W/ref.yaml" --registry "$URL" --cache "$W/cache" --output json -q "$@" >"$W/last.json"
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000000 ))
}
log "warm-up"
set_env warm; build >/dev/null
set_env warm-ext; build "${EXT[@]}" >/dev/null
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); x=r.get("extensions") or []; assert len(x)==3 and all(e["verdict"]=="pass" for e in x), x' "$W/last.json"
PLAIN=() WITH=()
log "overhead ($RUNS runs each, alternating)"
for i in $(seq "$RUNS"); do
  set_env "plain$i"; PLAIN+=("$(build)")
  set_env "ext$i"; WITH+=("$(build "${EXT[@]}")")
done
FUEL=$(python3 -c 'import json,sys; print(", ".join("%s %d" % (e["name"], e["fuel"]) for e in json.load(open(sys.argv[1]))["extensions"]))' "$W/last.json")
pm=$(printf '%s\n' "${PLAIN[@]}" | median); wm=$(printf '%s\n' "${WITH[@]}" | median)

mkdir -p "$W/tiny/etc"; echo 'root:x:0:0:root:/root:/bin/sh' >"$W/tiny/etc/passwd"
"$TAILOR" artifact push "$W/tiny" --tag acme/tiny:1 --platform linux/amd64 --registry "$URL" -q >/dev/null
cat >"$W/spec.yaml" <<'EOS'
name: deadline
source: acme/tiny:1
tag_suffix: x
platforms: [linux/amd64]
EOS
ext_test() {  # ext_test DO DEADLINE: ms on stdout
  local t0 t1
  t0=$(now_ns)
  "$TAILOR" extension test "$WASM/tailor_test_hostile_extension.wasm" --spec "$W/spec.yaml" \
    --registry "$URL" --settings "{\"do\": \"$1\"}" --extension-fuel 1000000000000000 --extension-deadline "$2" -q \
    >/dev/null 2>&1 || true
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000000 ))
}
ext_test trap 1s >/dev/null
DEADLINE_ROWS=()
for d in 250 1000 2000; do
  log "deadline ${d} ms ($RUNS runs)"
  L=() F=()
  for i in $(seq "$RUNS"); do L+=("$(ext_test loop "${d}ms")"); F+=("$(ext_test trap "${d}ms")"); done
  lm=$(printf '%s\n' "${L[@]}" | median); fm=$(printf '%s\n' "${F[@]}" | median)
  stop=$(awk -v a="$lm" -v b="$fm" 'BEGIN {print a - b}')
  DEADLINE_ROWS+=("| ${d} ms | ${lm} ms | ${fm} ms | ${stop} ms | $(awk -v s="$stop" -v d="$d" 'BEGIN {printf "%.2f", s / d}')× |")
done

{
  echo "## Org extensions: overhead and deadline (issue G)"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, kernel $(uname -r)"
  echo "- Command: \`tests/bench/extensions.sh\` (as root; RUNS=$RUNS, median reported); the reference customization of \`tests/bench/reference.sh\`, warm"
  echo
  echo "| warm reference build | median | raw (ms) |"
  echo "|---|---|---|"
  echo "| no extensions | $pm ms | ${PLAIN[*]} |"
  echo "| deny-packages + required-labels + no-setuid | $wm ms | ${WITH[*]} |"
  echo "| **overhead of the three** | **$((wm - pm)) ms** (goal ≤ 20 ms) | fuel per build: $FUEL |"
  echo
  echo "A check looping forever (fuel unlimited) against its deadline: \`tailor extension test\` looping minus the same trapping at once."
  echo
  echo "| deadline | looping | trapping | stopped after | / deadline (goal ≤ 1.5×) |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${DEADLINE_ROWS[@]}"
  echo
} >"$W/report.md"
cat "$W/report.md"
if [ "$BENCH_OUT" != /dev/null ]; then cat "$W/report.md" >>"$BENCH_OUT"; fi
