#!/usr/bin/env bash
# What signing and attesting cost the machine, not just the clock: the reference customization
# built warm without and with --key, in interleaved batches, measuring per build the
# registry's CPU (/proc/<pid>/stat of the docker-registry process), tailor's CPU (the shell's
# children's rusage, `times`) and the wall time. On a machine with C cores shared by tailor and
# the registry, the added wall time cannot be below (added registry CPU + added tailor CPU) / C
# however the work is overlapped: that floor is printed beside the measured difference
# (issue L, item 2). Same world as tests/bench/reference.sh (its setup is sourced).
#
# How to run (as root, from the repository root):
#   TAILOR=target/release/tailor ROUNDS=3 N=20 tests/bench/signing-cost.sh
# Prints one line per round and the medians; writes nothing else.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAILOR=${TAILOR:-$ROOT/target/release/tailor}
BENCH_CACHE=${BENCH_CACHE:-/var/cache/tailor-bench}
ROUNDS=${ROUNDS:-3}
N=${N:-20}
log() { printf '== %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { echo "run as root (as tests/bench/reference.sh)" >&2; exit 1; }
# shellcheck source=tests/bench/reference-setup.sh
. "$ROOT/tests/bench/reference-setup.sh"
"$TAILOR" key generate --out "$W/keys" >/dev/null
SPEC=$(<"$W/ref.yaml")
# Written with builtins only: every child of this shell but tailor would count as tailor's CPU.
set_env() { printf '%s\n' "${SPEC/APP_ENV: prod/APP_ENV: $1}" >"$W/ref.yaml"; }
set_env warmup
"$TAILOR" build -f "$W/ref.yaml" --registry "$URL" -q --cache "$W/cache" >/dev/null
TICK=$(getconf CLK_TCK)
# Both set globals (no command substitution: a forked subshell would count as tailor's CPU).
registry_ms() { local st; read -r st <"/proc/$REG_PID/stat"; st=${st##*) }; read -ra f <<<"$st"; RMS=$(( (f[11] + f[12]) * 1000 / TICK )); }
children_ms() {  # the second line of `times`: children's user and system time, e.g. 0m1.234s 0m0.456s
  local u s
  times >"$W/times"
  { read -r _; read -r u s; } <"$W/times"
  to_ms "$u"; CMS=$MS; to_ms "$s"; CMS=$(( CMS + MS ))
}
to_ms() { local m=${1%%m*} rest=${1#*m}; rest=${rest%s}; MS=$(( m * 60000 + 10#${rest%.*} * 1000 + 10#${rest#*.} )); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A REG CPU WALL
log "$ROUNDS rounds of $N warm builds without and with --key, interleaved"
for round in $(seq "$ROUNDS"); do
  for kind in plain signed; do
    extra=(); [ "$kind" = signed ] && extra=(--key "$W/keys/tailor.key")
    registry_ms; r0=$RMS; children_ms; c0=$CMS; walls=""
    for i in $(seq "$N"); do
      set_env "$kind-$round-$i"
      s=${EPOCHREALTIME/./}
      "$TAILOR" build -f "$W/ref.yaml" --registry "$URL" -q --cache "$W/cache" "${extra[@]}" >/dev/null
      e=${EPOCHREALTIME/./}
      walls+="$(( (e - s) / 1000 )) "
    done
    registry_ms; r1=$RMS; children_ms; c1=$CMS
    REG[$kind]+="$(awk -v a="$r0" -v b="$r1" -v n="$N" 'BEGIN {printf "%.1f", (b - a) / n}') "
    CPU[$kind]+="$(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN {printf "%.1f", (b - a) / n}') "
    WALL[$kind]+="$(median <<<"$walls") "
  done
  log "round $round: registry CPU ${REG[plain]} / ${REG[signed]} ms, tailor CPU ${CPU[plain]} / ${CPU[signed]} ms (plain / signed)"
done
cores=$(nproc)
echo "| per warm build (ms) | registry CPU | tailor CPU | wall (median) |"
echo "|---|---|---|---|"
for kind in plain signed; do
  printf '| %s | %s | %s | %s |\n' "$kind" "${REG[$kind]% }" "${CPU[$kind]% }" "${WALL[$kind]% }"
done
reg_add=$(awk -v a="$(median <<<"${REG[plain]}")" -v b="$(median <<<"${REG[signed]}")" 'BEGIN {print b - a}')
cpu_add=$(awk -v a="$(median <<<"${CPU[plain]}")" -v b="$(median <<<"${CPU[signed]}")" 'BEGIN {print b - a}')
wall_add=$(awk -v a="$(median <<<"${WALL[plain]}")" -v b="$(median <<<"${WALL[signed]}")" 'BEGIN {print b - a}')
echo
echo "added by signing (medians of the rounds): registry CPU +$reg_add ms, tailor CPU +$cpu_add ms, wall +$wall_add ms"
echo "floor on $cores cores: (registry + tailor) / $cores = $(awk -v r="$reg_add" -v c="$cpu_add" -v n="$cores" 'BEGIN {printf "%.1f", (r + c) / n}') ms"
