#!/usr/bin/env bash
# tailor's own container image, built by tailor: a Debian 12 minbase base (debootstrap),
# the tailor binary from an artifact image, a `tailor` user and group whose home is /data
# (the data directory), run as that user, ENTRYPOINT `tailor up` serving on 0.0.0.0:8080 —
# signed, with SLSA provenance and an SPDX SBOM. The same inputs give the same digest.
#
# Usage (from anywhere; as root: debootstrap makes the base once):
#   packaging/image/build.sh --registry http://127.0.0.1:5000 --key keys/tailor.key
# Options (or environment variables):
#   --registry URL      REGISTRY   where to push (default http://127.0.0.1:5000)
#   --key FILE          KEY        signing key (P-256 PKCS#8 PEM; `tailor key generate`)
#   --repository R      REPOSITORY the image's repository (default tailor/tailor); the base and
#                                  the binary's artifact go to R-base and R-binary
#   --binary FILE       BINARY     the tailor binary put in the image (default: the `tailor`
#                                  building it, TAILOR); debug information is stripped
#   --rootfs DIR        ROOTFS     the Debian base's directory (default: made with
#                                  `debootstrap --variant=minbase bookworm` into
#                                  ${XDG_CACHE_HOME:-~/.cache}/tailor-image/debian-bookworm)
#   TAILOR              the tailor that builds (default: `tailor` on PATH)
#   VERSION, REVISION   the labels (default: what `BINARY --version` says)
# Prints the pushed reference and its digest (JSON with --output json).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REGISTRY=${REGISTRY:-http://127.0.0.1:5000}
KEY=${KEY:-}
REPOSITORY=${REPOSITORY:-tailor/tailor}
TAILOR=${TAILOR:-tailor}
BINARY=${BINARY:-}
ROOTFS=${ROOTFS:-}
OUTPUT=text
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) REGISTRY=$2; shift 2 ;;
    --key) KEY=$2; shift 2 ;;
    --repository) REPOSITORY=$2; shift 2 ;;
    --binary) BINARY=$2; shift 2 ;;
    --rootfs) ROOTFS=$2; shift 2 ;;
    --output) OUTPUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
log() { [ "$OUTPUT" = json ] || printf '== %s\n' "$*" >&2; }
[ -n "$KEY" ] || { echo "build.sh: --key is required: the image is signed (make one with \`tailor key generate\`)" >&2; exit 2; }
[ -f "$KEY" ] || { echo "build.sh: --key $KEY: no such file" >&2; exit 2; }
command -v "$TAILOR" >/dev/null || { echo "build.sh: no tailor at $TAILOR (set TAILOR)" >&2; exit 2; }
BINARY=${BINARY:-$(command -v "$TAILOR")}
[ -x "$BINARY" ] || { echo "build.sh: --binary $BINARY is not an executable" >&2; exit 2; }
case "$REPOSITORY" in */*) ;; *) echo "build.sh: --repository $REPOSITORY: give NAMESPACE/NAME" >&2; exit 2 ;; esac

# The version and commit the binary names (`tailor 0.1.0 (commit abc…)`).
said=$("$BINARY" --version)
VERSION=${VERSION:-$(sed -n 's/^tailor \([^ ]*\).*/\1/p' <<<"$said")}
REVISION=${REVISION:-$(sed -n 's/.*(commit \([^)]*\)).*/\1/p' <<<"$said")}
[ -n "$VERSION" ] || { echo "build.sh: $BINARY --version said \"$said\", not tailor's" >&2; exit 2; }

W=$(mktemp -d /tmp/tailor-image.XXXXXX)
trap 'rm -rf "$W"' EXIT

# 1. The base: Debian 12 minbase, made once. Nothing of the host in it: no device nodes.
if [ -z "$ROOTFS" ]; then
  ROOTFS=${XDG_CACHE_HOME:-$HOME/.cache}/tailor-image/debian-bookworm
  if [ ! -x "$ROOTFS/bin/sh" ]; then
    command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is needed (apt-get install debootstrap)" >&2; exit 2; }
    log "debootstrap --variant=minbase bookworm into $ROOTFS (once)"
    rm -rf "$ROOTFS.tmp"; mkdir -p "$(dirname "$ROOTFS")"
    debootstrap --variant=minbase bookworm "$ROOTFS.tmp" http://deb.debian.org/debian >/dev/null
    find "$ROOTFS.tmp" -xdev \( -type b -o -type c -o -type p -o -type s \) -delete
    mv "$ROOTFS.tmp" "$ROOTFS"
  fi
fi
[ -x "$ROOTFS/bin/sh" ] || { echo "build.sh: --rootfs $ROOTFS is not a Debian root filesystem" >&2; exit 2; }
log "pushing the base $REPOSITORY-base:$VERSION"
"$TAILOR" artifact push "$ROOTFS" --tag "$REPOSITORY-base:$VERSION" --platform linux/amd64 --registry "$REGISTRY" -q >/dev/null

# 2. The binary as an artifact image: /usr/local/bin/tailor, without debug information.
mkdir -p "$W/binary/usr/local/bin"
cp "$BINARY" "$W/binary/usr/local/bin/tailor"
if command -v strip >/dev/null; then strip --strip-debug "$W/binary/usr/local/bin/tailor"; fi
chmod 0755 "$W/binary/usr/local/bin/tailor"
touch -d @0 "$W/binary/usr/local/bin/tailor"
log "pushing the binary $REPOSITORY-binary:$VERSION ($(du -h "$W/binary/usr/local/bin/tailor" | cut -f1))"
"$TAILOR" artifact push "$W/binary" --tag "$REPOSITORY-binary:$VERSION" --platform linux/amd64 --registry "$REGISTRY" -q >/dev/null

# 3. The customization.
sed -e "s|@REPOSITORY@|$REPOSITORY|g" -e "s|@VERSION@|$VERSION|g" -e "s|@REVISION@|$REVISION|g" \
  "$HERE/tailor.yaml" >"$W/tailor.yaml"
log "building $REPOSITORY:${VERSION}_debian12 (signed)"
if [ "$OUTPUT" = json ]; then
  "$TAILOR" build -f "$W/tailor.yaml" --registry "$REGISTRY" --key "$KEY" --output json -q
else
  "$TAILOR" build -f "$W/tailor.yaml" --registry "$REGISTRY" --key "$KEY"
fi
