# The reference customization's world, sourced by tests/bench/reference.sh and
# tests/bench/extensions.sh: a private docker-registry on a free 127.0.0.1 port (killed on
# exit), the Debian 12 minbase base (debootstrap once, cached in $BENCH_CACHE) pushed as
# acme/debian:12, two ~4 MB artifacts, and the customization $W/ref.yaml.
# The registry's storage and the caches live under $TMPDIR (default /tmp): the filesystem the
# registry writes to weighs on its CPU per request (BENCHMARKS.md, "The registry's filesystem").
# Needs: TAILOR, BENCH_CACHE, log(). Sets: W, URL, HOST, ROOTFS, REG_PID, push_base, blob_bytes.
W=$(mktemp -d "${TMPDIR:-/tmp}/tailor-bench.XXXXXX")
REG_PID=
cleanup() {
  set +e
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  rm -f "$BENCH_CACHE/rootfs/etc/bench-patch"
  rm -rf "$W"
}
trap cleanup EXIT

# --- 1. the registry ---------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$W/registry"
for attempt in 1 2 3 4 5; do
  PORT=$(free_port)
  cat >"$W/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
  docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break
    kill -0 "$REG_PID" 2>/dev/null || break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break
  kill "$REG_PID" 2>/dev/null || true; REG_PID=
  [ "$attempt" = 5 ] && { cat "$W/registry.log" >&2; exit 1; }
done
URL=http://127.0.0.1:$PORT
HOST=localhost:$PORT
log "registry at $URL (storage $W/registry)"
blob_bytes() { du -sb "$W/registry/docker/registry/v2/blobs" 2>/dev/null | cut -f1 || echo 0; }

# --- 2. the base (debootstrap once, cached) ----------------------------------------------------
MIRROR=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' /etc/apt/sources.list.d/debian.sources)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
if [ ! -d "$BENCH_CACHE/rootfs" ]; then
  log "debootstrap --variant=minbase bookworm ($MIRROR) into $BENCH_CACHE/rootfs"
  mkdir -p "$BENCH_CACHE"
  rm -rf "$BENCH_CACHE/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$BENCH_CACHE/rootfs.tmp" "$MIRROR" >"$BENCH_CACHE/debootstrap.log" 2>&1
  mv "$BENCH_CACHE/rootfs.tmp" "$BENCH_CACHE/rootfs"
fi
ROOTFS=$BENCH_CACHE/rootfs
# An image has no device nodes (the runtime makes /dev): drop debootstrap's, which an artifact refuses.
find "$ROOTFS" -xdev \( -type b -o -type c -o -type p -o -type s \) -delete
rm -f "$ROOTFS/etc/bench-patch"
push_base() {  # push_base [PATCH-TEXT]
  if [ $# -gt 0 ]; then printf '%s\n' "$1" >"$ROOTFS/etc/bench-patch"; else rm -f "$ROOTFS/etc/bench-patch"; fi
  "$TAILOR" artifact push "$ROOTFS" --tag acme/debian:12 --platform linux/amd64 --registry "$URL" -q >/dev/null
}
log "pushing the base as acme/debian:12"
push_base

# --- 3. two artifacts of ~4 MB -----------------------------------------------------------------
make_artifact() {  # make_artifact NAME
  local name=$1 d=$W/artifacts/$1
  mkdir -p "$d/opt/$name/bin" "$d/opt/$name/docs"
  head -c 4M /dev/urandom >"$d/opt/$name/bin/$name"
  chmod 0755 "$d/opt/$name/bin/$name"
  for i in $(seq 0 19); do
    mkdir -p "$d/opt/$name/share/$name/part$i"
    for j in $(seq 0 9); do
      printf '%s part %d file %d\n%s\n' "$name" "$i" "$j" "$(seq -s ' ' 1 $((20 + i * j)))" \
        >"$d/opt/$name/share/$name/part$i/file$j.txt"
    done
  done
  for k in 1 2 3; do seq 1 2000 >"$d/opt/$name/docs/chapter$k.md"; done
  "$TAILOR" artifact push "$d" --tag "acme/$name:1" --platform linux/amd64 --registry "$URL" -q >/dev/null
}
log "pushing acme/art1:1 and acme/art2:1"
make_artifact art1
make_artifact art2

# --- 4. the customization ----------------------------------------------------------------------
cat >"$W/ref.yaml" <<'EOF'
name: reference
source: acme/debian:12
tag_suffix: custom
platforms: [linux/amd64]
contents:
  artifacts:
    - reference: acme/art1:1
      includes: [/opt/art1]
      excludes: [/opt/art1/docs]
    - reference: acme/art2:1
      includes: [/opt/art2]
      excludes: [/opt/art2/docs]
files:
  - {path: /etc/app/app.conf, content: "listen = 0.0.0.0:8080\nlevel = info\n", uid: 1000, gid: 1000, mode: "0640"}
accounts:
  groups: [{name: app, gid: 1000}]
  users: [{name: app, uid: 1000, gid: 1000}]
  run_as: app
environment: {APP_ENV: prod}
labels: {com.acme.team: payments}
cmd: [serve]
EOF

