#!/usr/bin/env bash
# Two tailor binaries on the reference customization, interleaved run by run (A, B, A, B, …)
# so that drift of the machine weighs on both alike: the check that a change did not slow
# tailor down (issue J: "within 5 %"). Same world as tests/bench/reference.sh (its setup is
# sourced: private registry, Debian 12 minbase base, two ~4 MB artifacts); tailor only, no
# buildah. Scenarios as in reference.sh: cold (base re-pushed before each run, --no-cache),
# warm (each binary its own warmed --cache, APP_ENV edited each run) and warm signed (--key).
#
# How to run (as root, from the repository root):
#   A=/path/to/tailor-before B=/path/to/tailor-after RUNS=15 tests/bench/compare.sh
# Prints the median of each scenario for A and B and B/A; writes nothing else.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
A=${A:?A=path of the first tailor binary}
B=${B:?B=path of the second tailor binary}
RUNS=${RUNS:-15}
BENCH_CACHE=${BENCH_CACHE:-/var/cache/tailor-bench}
TAILOR=$A
log() { printf '== %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { echo "run as root (as tests/bench/reference.sh)" >&2; exit 1; }
# shellcheck source=tests/bench/reference-setup.sh
. "$ROOT/tests/bench/reference-setup.sh"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A TIMES
run() {  # run KEY BINARY ARGS...   (timed: only the tailor process)
  local key=$1 bin=$2 t0 t1; shift 2
  t0=$(now_ns)
  "$bin" build -f "$W/ref.yaml" --registry "$URL" --output json -q "$@" >/dev/null
  t1=$(now_ns)
  TIMES[$key]+="$(( (t1 - t0) / 1000000 )) "
}
set_env() { sed -i "s/^environment: .*/environment: {APP_ENV: $1}/" "$W/ref.yaml"; }

"$A" key generate --out "$W/keys" >/dev/null
for side in A B; do
  set_env "warmup-$side"
  "${!side}" build -f "$W/ref.yaml" --registry "$URL" -q --cache "$W/cache-$side" >/dev/null
done
log "interleaved: $RUNS runs of each scenario for A=$A and B=$B"
# Warm and signed first (the base unchanged), then cold (the base re-pushed before each run).
for i in $(seq "$RUNS"); do
  for side in A B; do
    set_env "warm-$i-$side"
    run "warm_$side" "${!side}" --cache "$W/cache-$side"
    set_env "signed-$i-$side"
    run "signed_$side" "${!side}" --cache "$W/cache-$side" --key "$W/keys/tailor.key"
  done
done
for i in $(seq "$RUNS"); do
  for side in A B; do
    push_base "compare-cold-$i-$side-$(now_ns)"
    run "cold_$side" "${!side}" --no-cache
  done
done
echo "| scenario | A median | B median | B/A | raw A (ms) | raw B (ms) |"
echo "|---|---|---|---|---|---|"
for s in cold warm signed; do
  a=$(tr ' ' '\n' <<<"${TIMES[${s}_A]}" | grep . | median)
  b=$(tr ' ' '\n' <<<"${TIMES[${s}_B]}" | grep . | median)
  printf '| %s | %s ms | %s ms | %s | %s| %s|\n' "$s" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')" \
    "${TIMES[${s}_A]}" "${TIMES[${s}_B]}"
done
