#!/usr/bin/env bash
# Reference benchmark: tailor build versus buildah bud + push, for the same customization.
#
# What it measures (wall-clock, median of $RUNS runs, default 5):
#   cold  "the base was just patched, nothing cached": before each run (untimed) a patched base
#         (the cached Debian 12 minbase rootfs plus /etc/bench-patch holding the run number) is
#         pushed as acme/debian:12. Timed: `tailor build --no-cache` (resolve, filter, layers,
#         push) versus `buildah bud --layers=false` + `buildah push` after
#         `buildah rmi --all -f` and deleting buildah's blob-info cache.
#   warm  inputs unchanged and cached, only the customization edited (APP_ENV changes each run).
#         tailor: `--cache DIR` warmed by one untimed run. buildah: images already pulled and
#         `--layers=true` (buildah's layer cache: the COPY/RUN layers are reused, only the ENV and
#         later instructions are recomputed), warmed by one untimed run.
#   signed  (issue C) the warm tailor build again with `--key`: the cost of signing.
#   bytes uploaded: tailor's own JSON report (bytes_uploaded / bytes_reused), and for both tools
#         the growth of the registry's blob directory during the timed command (new blobs only).
#
# How to run (as root, from the repository root, with target/release/tailor already built):
#   tests/bench/reference.sh
# Environment: BENCH_CACHE (default /var/cache/tailor-bench: the debootstrap rootfs, made once,
#   ~1 min), RUNS (default 5), TAILOR (default target/release/tailor), BENCH_OUT (default
#   BENCHMARKS.md at the repository root; set to /dev/null to skip writing it).
# It installs buildah, debootstrap and crun with apt-get when missing, starts a private
# docker-registry on a free 127.0.0.1 port (killed on exit) and leaves buildah's storage with
# only its own images removed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAILOR=${TAILOR:-$ROOT/target/release/tailor}
BENCH_CACHE=${BENCH_CACHE:-/var/cache/tailor-bench}
RUNS=${RUNS:-5}
BENCH_OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
BUILDAH=(buildah --storage-driver overlay)

log() { printf '== %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "run as root (buildah overlay storage, debootstrap)" >&2; exit 1; }
[ -x "$TAILOR" ] || { echo "no tailor binary at $TAILOR (build it first)" >&2; exit 1; }

missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v crun >/dev/null || missing+=(crun)
command -v docker-registry >/dev/null || missing+=(docker-registry)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# shellcheck source=tests/bench/reference-setup.sh
. "$ROOT/tests/bench/reference-setup.sh"

# --- 5. the equivalent Dockerfile --------------------------------------------------------------
mkdir -p "$W/ctx"
printf 'listen = 0.0.0.0:8080\nlevel = info\n' >"$W/ctx/app.conf"
cat >"$W/ctx/Dockerfile" <<EOF
FROM $HOST/acme/debian:12
COPY --from=$HOST/acme/art1:1 /opt/art1/bin /opt/art1/bin
COPY --from=$HOST/acme/art1:1 /opt/art1/share /opt/art1/share
COPY --from=$HOST/acme/art2:1 /opt/art2/bin /opt/art2/bin
COPY --from=$HOST/acme/art2:1 /opt/art2/share /opt/art2/share
COPY --chown=1000:1000 --chmod=0640 app.conf /etc/app/app.conf
RUN groupadd -g 1000 app && useradd -u 1000 -g 1000 -M -s /usr/sbin/nologin app
ENV APP_ENV=prod
LABEL com.acme.team=payments
USER app
CMD ["serve"]
EOF

BUD_ISOLATION=${BUD_ISOLATION:-}
buildah_reset() {
  "${BUILDAH[@]}" rm --all >/dev/null 2>&1 || true
  "${BUILDAH[@]}" rmi --all -f >/dev/null 2>&1 || true
  rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
}
buildah_build() {  # buildah_build true|false
  (cd "$W/ctx" && "${BUILDAH[@]}" bud -q --layers="$1" --tls-verify=false ${BUD_ISOLATION:+--isolation "$BUD_ISOLATION"} \
    -t "$HOST/acme/debian:12_buildah" -f Dockerfile . >/dev/null) &&
    "${BUILDAH[@]}" push -q --tls-verify=false "$HOST/acme/debian:12_buildah" "docker://$HOST/acme/debian:12_buildah" >/dev/null
}
# RUN needs a runtime: try the default (crun/runc), then chroot isolation.
if [ -z "$BUD_ISOLATION" ]; then
  buildah_reset
  if ! buildah_build false 2>"$W/bud.err"; then
    log "buildah bud with the default isolation failed ($(tail -1 "$W/bud.err")); using --isolation chroot"
    BUD_ISOLATION=chroot
    buildah_build false
  fi
fi
log "buildah isolation: ${BUD_ISOLATION:-default}"

# --- 6. the scenarios --------------------------------------------------------------------------
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A TIMES BYTES JSON
measure() {  # measure KEY -- command...   (appends ms to TIMES[KEY], registry growth to BYTES[KEY])
  local key=$1; shift; shift
  local b0 t0 t1 b1
  b0=$(blob_bytes); t0=$(now_ns)
  "$@"
  t1=$(now_ns); b1=$(blob_bytes)
  TIMES[$key]+="$(( (t1 - t0) / 1000000 )) "
  BYTES[$key]+="$(( b1 - b0 )) "
}
tailor_build() {  # tailor_build KEY ARGS...   (timed: only the tailor process)
  local key=$1; shift
  "$TAILOR" build -f "$W/ref.yaml" --registry "$URL" --output json -q "$@" >"$W/$key.json"
}
tailor_report() {  # tailor_report KEY   (untimed: reads the JSON report of the last tailor_build)
  local key=$1
  JSON[$key]+="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%s/%s" % (r.get("bytes_uploaded"), r.get("bytes_reused")))' "$W/$key.json") "
}
set_env() { sed -i "s/^environment: .*/environment: {APP_ENV: $1}/" "$W/ref.yaml"; sed -i "s/^ENV APP_ENV=.*/ENV APP_ENV=$1/" "$W/ctx/Dockerfile"; }

log "cold: tailor ($RUNS runs)"
for i in $(seq "$RUNS"); do
  push_base "tailor-cold-$i-$(now_ns)"
  measure tailor_cold -- tailor_build tailor_cold --no-cache
  tailor_report tailor_cold
done
log "cold: buildah ($RUNS runs)"
for i in $(seq "$RUNS"); do
  push_base "buildah-cold-$i-$(now_ns)"
  buildah_reset
  measure buildah_cold -- buildah_build false
done

log "warm: tailor ($RUNS runs)"
set_env prod
"$TAILOR" build -f "$W/ref.yaml" --registry "$URL" -q --cache "$W/tailor-cache" >/dev/null
for i in $(seq "$RUNS"); do
  set_env "prod$i"
  measure tailor_warm -- tailor_build tailor_warm --cache "$W/tailor-cache"
  tailor_report tailor_warm
done
log "warm, signed: tailor --key ($RUNS runs)"
"$TAILOR" key generate --out "$W/keys" >/dev/null
for i in $(seq "$RUNS"); do
  set_env "signed$i"
  measure tailor_signed -- tailor_build tailor_signed --cache "$W/tailor-cache" --key "$W/keys/tailor.key"
  tailor_report tailor_signed
done
log "warm: buildah ($RUNS runs)"
set_env prod
buildah_build true
for i in $(seq "$RUNS"); do
  set_env "prod$i"
  measure buildah_warm -- buildah_build true
done

# --- 7. the report -----------------------------------------------------------------------------
row() {  # row SCENARIO
  local s=$1 tm bm tb bb
  tm=$(tr ' ' '\n' <<<"${TIMES[tailor_$s]}" | grep . | median)
  bm=$(tr ' ' '\n' <<<"${TIMES[buildah_$s]}" | grep . | median)
  tb=$(tr ' ' '\n' <<<"${BYTES[tailor_$s]}" | grep . | median)
  bb=$(tr ' ' '\n' <<<"${BYTES[buildah_$s]}" | grep . | median)
  printf '| %s | %s ms | %s ms | %sx | %s (tailor report, uploaded/reused: %s) | %s |\n' \
    "$s" "$tm" "$bm" "$(awk -v a="$bm" -v b="$tm" 'BEGIN {printf "%.1f", a / b}')" \
    "$tb" "$(tr ' ' '\n' <<<"${JSON[tailor_$s]}" | grep . | sort | uniq -c | awk '{printf "%s%s×%s", (NR>1?", ":""), $1, $2}')" "$bb"
}
{
  echo "## Reference customization: tailor versus buildah"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, kernel $(uname -r); $("${BUILDAH[@]}" --version); buildah isolation: ${BUD_ISOLATION:-default}"
  echo "- Command: \`tests/bench/reference.sh\` (as root; RUNS=$RUNS, median reported)"
  echo "- Base: Debian 12 minbase (debootstrap) pushed with \`tailor artifact push\` as one layer ($(du -sh "$ROOTFS" | cut -f1) unpacked);"
  echo "  two ~4 MB artifacts (4 MiB random binary + 200 small text files, a docs/ subtree excluded); one file, one user/group, run_as, ENV, LABEL, CMD."
  echo "- Registry bytes: growth of the registry's blob directory during the timed command (median), i.e. new blobs actually stored."
  echo
  echo "| scenario | tailor median | buildah median | buildah/tailor | tailor bytes uploaded (registry growth) | buildah bytes uploaded (registry growth) |"
  echo "|---|---|---|---|---|---|"
  row cold
  row warm
  echo
  echo "Raw times (ms): tailor cold: ${TIMES[tailor_cold]}; buildah cold: ${TIMES[buildah_cold]}; tailor warm: ${TIMES[tailor_warm]}; buildah warm: ${TIMES[buildah_warm]}"
  echo "Raw registry growth (bytes): tailor cold: ${BYTES[tailor_cold]}; buildah cold: ${BYTES[buildah_cold]}; tailor warm: ${BYTES[tailor_warm]}; buildah warm: ${BYTES[buildah_warm]}"
  echo
  ts=$(tr ' ' '\n' <<<"${TIMES[tailor_signed]}" | grep . | median)
  tw=$(tr ' ' '\n' <<<"${TIMES[tailor_warm]}" | grep . | median)
  echo "Signing and attesting (issue C): warm build with \`--key\` (index + 1 platform manifest signed, cosign format; SLSA provenance and SPDX SBOM of the platform manifest in DSSE envelopes; storage detected: cosign tags on this registry): median $ts ms vs $tw ms unsigned: +$((ts - tw)) ms (goal: signing and attesting add ≤ 50 ms). Raw: ${TIMES[tailor_signed]}"
  echo
  echo "Goals (issue): cold ≤ 1 s and ≥ 10× faster than buildah (buildah measured elsewhere at 12.5 s); warm ≤ 120 ms and ≥ 10×; no base-layer byte re-uploaded."
  echo
} >"$W/report.md"
cat "$W/report.md"
if [ "$BENCH_OUT" != /dev/null ]; then cat "$W/report.md" >>"$BENCH_OUT"; fi
buildah_reset
