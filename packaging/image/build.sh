#!/usr/bin/env bash
# tailor's own container image, built by tailor: a Debian 12 minbase base (debootstrap),
# for linux/amd64 and, given a cross-built binary, linux/arm64,
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
#                                  ${XDG_CACHE_HOME:-~/.cache}/tailor-image/debian-bookworm-ARCH)
#   --platforms LIST    PLATFORMS  comma-separated (default linux/amd64), e.g.
#                                  linux/amd64,linux/arm64; each architecture ARCH other than
#                                  this machine's needs --binary-ARCH FILE (BINARY_ARCH, e.g. a
#                                  cross-built target/aarch64-unknown-linux-gnu/release/tailor)
#                                  and its base, --rootfs-ARCH DIR (ROOTFS_ARCH) or made by
#                                  debootstrap --arch ARCH (needs qemu-user-static)
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
PLATFORMS=${PLATFORMS:-linux/amd64}
OUTPUT=text
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) REGISTRY=$2; shift 2 ;;
    --key) KEY=$2; shift 2 ;;
    --repository) REPOSITORY=$2; shift 2 ;;
    --binary) BINARY=$2; shift 2 ;;
    --rootfs) ROOTFS=$2; shift 2 ;;
    --platforms) PLATFORMS=$2; shift 2 ;;
    --binary-*) declare "BINARY_${1#--binary-}=$2"; shift 2 ;;
    --rootfs-*) declare "ROOTFS_${1#--rootfs-}=$2"; shift 2 ;;
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

HOST_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
BASE_ARGS=() BINARY_ARGS=() PLATFORM_LIST=()
IFS=, read -r -a WANTED <<<"$PLATFORMS"
for platform in "${WANTED[@]}"; do
  case "$platform" in linux/*) ;; *) echo "build.sh: --platforms $platform: give linux/ARCH" >&2; exit 2 ;; esac
  arch=${platform#linux/}; arch=${arch%%/*}
  binvar=BINARY_$arch rootvar=ROOTFS_$arch
  bin=${!binvar:-}; root=${!rootvar:-}
  if [ "$arch" = "$HOST_ARCH" ]; then bin=${bin:-$BINARY}; root=${root:-$ROOTFS}; fi
  [ -n "$bin" ] || { echo "build.sh: $platform needs its binary: --binary-$arch FILE" >&2; exit 2; }
  [ -f "$bin" ] || { echo "build.sh: --binary-$arch $bin: no such file" >&2; exit 2; }

  # 1. The base: Debian 12 minbase, made once per architecture. No device nodes in an image.
  if [ -z "$root" ]; then
    root=${XDG_CACHE_HOME:-$HOME/.cache}/tailor-image/debian-bookworm-$arch
    if [ ! -x "$root/bin/sh" ]; then
      command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is needed (apt-get install debootstrap)" >&2; exit 2; }
      log "debootstrap --variant=minbase --arch $arch bookworm into $root (once)"
      rm -rf "$root.tmp"; mkdir -p "$(dirname "$root")"
      debootstrap --variant=minbase --arch "$arch" bookworm "$root.tmp" http://deb.debian.org/debian >/dev/null ||
        { echo "build.sh: debootstrap --arch $arch failed (another architecture needs qemu-user-static)" >&2; exit 1; }
      find "$root.tmp" -xdev \( -type b -o -type c -o -type p -o -type s \) -delete
      mv "$root.tmp" "$root"
    fi
  fi
  [ -x "$root/bin/sh" ] || { echo "build.sh: the base of $platform, $root, is not a Debian root filesystem" >&2; exit 2; }
  BASE_ARGS+=("$platform=$root")

  # 2. The binary as an artifact image: /usr/local/bin/tailor, without debug information.
  d=$W/binary-$arch
  mkdir -p "$d/usr/local/bin"
  cp "$bin" "$d/usr/local/bin/tailor"
  strip_tool=strip
  [ "$arch" = arm64 ] && command -v aarch64-linux-gnu-strip >/dev/null && strip_tool=aarch64-linux-gnu-strip
  if command -v "$strip_tool" >/dev/null; then "$strip_tool" --strip-debug "$d/usr/local/bin/tailor"; fi
  chmod 0755 "$d/usr/local/bin/tailor"
  BINARY_ARGS+=("$platform=$d")
  PLATFORM_LIST+=("\"$platform\"")
done
join() { local IFS=,; echo "$*"; }
log "pushing the base $REPOSITORY-base:$VERSION ($PLATFORMS)"
"$TAILOR" artifact push --tag "$REPOSITORY-base:$VERSION" --platform "$(join "${BASE_ARGS[@]}")" --registry "$REGISTRY" -q >/dev/null
log "pushing the binary $REPOSITORY-binary:$VERSION"
"$TAILOR" artifact push --tag "$REPOSITORY-binary:$VERSION" --platform "$(join "${BINARY_ARGS[@]}")" --registry "$REGISTRY" -q >/dev/null

# 3. The customization.
sed -e "s|@REPOSITORY@|$REPOSITORY|g" -e "s|@VERSION@|$VERSION|g" -e "s|@REVISION@|$REVISION|g" \
  -e "s|@PLATFORMS@|$(join "${PLATFORM_LIST[@]}")|g" \
  "$HERE/tailor.yaml" >"$W/tailor.yaml"
log "building $REPOSITORY:${VERSION}_debian12 (signed)"
if [ "$OUTPUT" = json ]; then
  "$TAILOR" build -f "$W/tailor.yaml" --registry "$REGISTRY" --key "$KEY" --output json -q
else
  "$TAILOR" build -f "$W/tailor.yaml" --registry "$REGISTRY" --key "$KEY"
fi
