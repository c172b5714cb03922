#!/usr/bin/env bash
# `tailor up` start to first served request (issue K): the self-contained binary serving the
# components it carries, against the same binary serving a checkout's spin.toml and built
# components (`--manifest`, the way it always started before), in the same run. Each start
# uses a data directory whose compiled-component cache was filled by one untimed start, as
# every start but an installation's first does. Timed: exec until GET /v1/openapi.json answers 200.
#
# How to run (from the repository root, with target/release/tailor built and the components
# built: cargo build --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook -p tailor-ui):
#   tests/bench/startup.sh
# Environment: RUNS (default 9), TAILOR (default target/release/tailor), BENCH_OUT (default
#   BENCHMARKS.md; /dev/null to skip writing it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAILOR=${TAILOR:-$ROOT/target/release/tailor}
RUNS=${RUNS:-9}
BENCH_OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
[ -x "$TAILOR" ] || { echo "no tailor binary at $TAILOR (build it first)" >&2; exit 1; }
W=$(mktemp -d /tmp/tailor-startup.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
start() {  # start DATA [ARGS...]: ms from exec to the first 200
  local data=$1; shift
  local port t0 t1
  port=$(free_port)
  t0=$(now_ns)
  "$TAILOR" up --data "$data" --listen "127.0.0.1:$port" --workers 0 "$@" >/dev/null 2>&1 &
  PID=$!
  until curl -sf "http://127.0.0.1:$port/v1/openapi.json" >/dev/null 2>&1; do
    kill -0 "$PID" 2>/dev/null || { echo "tailor up exited" >&2; exit 1; }
    sleep 0.002
  done
  t1=$(now_ns)
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  echo $(( (t1 - t0) / 1000000 ))
}
start "$W/embedded" >/dev/null
start "$W/manifest" --manifest "$ROOT/spin.toml" >/dev/null
E=() M=()
for i in $(seq "$RUNS"); do
  E+=("$(start "$W/embedded")")
  M+=("$(start "$W/manifest" --manifest "$ROOT/spin.toml")")
done
em=$(printf '%s\n' "${E[@]}" | median); mm=$(printf '%s\n' "${M[@]}" | median)
{
  echo "## Starting \`tailor up\`: the self-contained binary (issue K)"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores; command: \`tests/bench/startup.sh\` (RUNS=$RUNS, medians, alternating); $("$TAILOR" --version), $(du -h "$TAILOR" | cut -f1) binary"
  echo
  echo "| start → first served request (compiled-component cache warm) | median | raw (ms) |"
  echo "|---|---|---|"
  echo "| embedded components (no files but the binary) | $em ms | ${E[*]} |"
  echo "| \`--manifest spin.toml\` (a checkout's components, as before) | $mm ms | ${M[*]} |"
  echo
} >"$W/report.md"
cat "$W/report.md"
if [ "$BENCH_OUT" != /dev/null ]; then cat "$W/report.md" >>"$BENCH_OUT"; fi
