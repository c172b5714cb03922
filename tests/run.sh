#!/usr/bin/env bash
# The test command (README "Run all tests"): installs what the tests need on a fresh
# Debian machine, then runs every test. Nothing is skipped: a missing tool is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in docker-registry skopeo umoci apache2-utils openssl python3-venv gpg xz-utils zstd gzip apt-utils debootstrap chromium fonts-dejavu-core binutils postgresql sqlite3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#need[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The package resolver is checked against apt itself, on apt's own lists.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  echo "tests/run.sh: apt-get update (the package tests read apt's lists)"
  $SUDO apt-get update -qq
fi
# Real Debian packages for the archive tests.
export TAILOR_TEST_DEBS="${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/debs"
if ! ls "$TAILOR_TEST_DEBS"/*.deb >/dev/null 2>&1; then
  echo "tests/run.sh: apt-get download of a few packages into $TAILOR_TEST_DEBS"
  mkdir -p "$TAILOR_TEST_DEBS"
  (cd "$TAILOR_TEST_DEBS" && apt-get download -qq hello jq libjq1 libonig5 zstd 2>/dev/null)
fi
# A Debian base for the package tests: debootstrap minbase bookworm, made once.
export TAILOR_TEST_ROOTFS="${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/debian-bookworm"
if [ ! -x "$TAILOR_TEST_ROOTFS/bin/sh" ]; then
  echo "tests/run.sh: debootstrap --variant=minbase bookworm into $TAILOR_TEST_ROOTFS"
  rm -rf "$TAILOR_TEST_ROOTFS.tmp"
  $SUDO debootstrap --variant=minbase bookworm "$TAILOR_TEST_ROOTFS.tmp" http://deb.debian.org/debian >/dev/null
  # An image holds no device nodes, sockets or pipes (tailor artifact push refuses them).
  $SUDO find "$TAILOR_TEST_ROOTFS.tmp" -xdev \( -type b -o -type c -o -type p -o -type s \) -delete
  $SUDO mv "$TAILOR_TEST_ROOTFS.tmp" "$TAILOR_TEST_ROOTFS"
fi
# The packages apt installs with curl on that base, downloaded once (the loopback repository).
export TAILOR_TEST_CURL_DEBS="${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/curl-debs"
if ! ls "$TAILOR_TEST_CURL_DEBS"/curl_*.deb >/dev/null 2>&1; then
  echo "tests/run.sh: apt-get --download-only curl for that base into $TAILOR_TEST_CURL_DEBS"
  mkdir -p "$TAILOR_TEST_CURL_DEBS/partial"
  $SUDO apt-get install -qq -d -y --no-install-recommends -o Dir::State::status="$TAILOR_TEST_ROOTFS/var/lib/dpkg/status" \
    -o Dir::Cache::archives="$TAILOR_TEST_CURL_DEBS" curl >/dev/null
fi
rustup target add wasm32-wasip2 >/dev/null
# A clean build gains nothing from incremental state, which would add ~9 GB to target/.
export CARGO_INCREMENTAL=0
# The SPDX project's validator (PyPI spdx-tools), an independent reader of tailor's SBOMs.
spdx_venv="${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/spdx-tools-0.8.5"
if [ ! -x "$spdx_venv/bin/pyspdxtools" ]; then
  echo "tests/run.sh: installing spdx-tools 0.8.5 into $spdx_venv"
  rm -rf "$spdx_venv"
  python3 -m venv "$spdx_venv"
  "$spdx_venv/bin/pip" install -q --disable-pip-version-check spdx-tools==0.8.5
fi
export TAILOR_PYSPDXTOOLS="$spdx_venv/bin/pyspdxtools"
# Real Helm for the chart tests: PyPI's helm-python-sdk (Helm's v4 Go SDK in a wheel, no binary).
helm_venv="${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/helm-python-sdk-0.2.2"
if [ ! -x "$helm_venv/bin/python" ] || ! "$helm_venv/bin/python" -c "import helm_python" 2>/dev/null; then
  echo "tests/run.sh: installing helm-python-sdk 0.2.2 into $helm_venv"
  rm -rf "$helm_venv"
  python3 -m venv "$helm_venv"
  "$helm_venv/bin/pip" install -q --disable-pip-version-check helm-python-sdk==0.2.2
fi
export TAILOR_TEST_HELM_PYTHON="$helm_venv/bin/python"
# schemathesis (PyPI) for the API contract test (tests/e2e/contract).
st_venv="${XDG_CACHE_HOME:-$HOME/.cache}/tailor-test/schemathesis-4.32.5"
if [ ! -x "$st_venv/bin/schemathesis" ]; then
  echo "tests/run.sh: installing schemathesis 4.32.5 into $st_venv"
  rm -rf "$st_venv"
  python3 -m venv "$st_venv"
  "$st_venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5
fi
export TAILOR_TEST_SCHEMATHESIS="$st_venv/bin/schemathesis"
# The web UI's tests run in Node (20.19 or newer: Vite 8) and drive Debian's Chromium.
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?"yes":"no")' 2>/dev/null || echo no)
if [ "$node_ok" != yes ]; then
  echo "tests/run.sh: Node.js 20.19 or newer and npm are needed for web/ (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
(cd web && npm ci --no-audit --no-fund --loglevel=error)

# The functions (and the test component the host's limits are tested with), the example
# extensions and the hostile ones the sandbox is tested with are WASM components: build them
# for wasm32-wasip2 (the e2e tests serve and run them with `tailor up`).
cargo build --locked --profile wasm --target wasm32-wasip2 -p tailor-api -p tailor-webhook -p tailor-ui -p tailor-test-misbehave \
  -p tailor-extension-deny-packages -p tailor-extension-required-labels -p tailor-extension-no-setuid \
  -p tailor-test-hostile-extension -p tailor-test-sneaky-extension
# A throwaway PostgreSQL cluster (loopback, free port), stopped at the end: the store's tests
# run once more on it, and the scale-out tests run tailor on it.
pg_dir=$(mktemp -d)
log=$(mktemp)
web_log=$(mktemp)
fuzz_log=$(mktemp)
cleanup() { tests/postgres.sh stop "$pg_dir" 2>/dev/null || true; rm -rf "$pg_dir" "$log" "$web_log" "$fuzz_log"; }
trap cleanup EXIT
TAILOR_TEST_POSTGRES=$(tests/postgres.sh start "$pg_dir")
export TAILOR_TEST_POSTGRES
# Unit and end-to-end tests (the e2e tests start the real registry, skopeo and umoci).
cargo test --locked --workspace 2>&1 | tee "$log"
# Every store test again, on PostgreSQL.
TAILOR_TEST_STORE=postgres cargo test --locked -p tailor-store --features postgres 2>&1 | tee -a "$log"
# The web UI: its API types are current, its committed build is the build of its sources,
# and the browser tests (Chromium + axe) pass against `tailor up` with the real registry.
cargo build --locked -q -p tailor-cli
(cd web && npm run -s check:api && npm run -s check:dist)
(cd web && npm test) 2>&1 | tee "$web_log"
# Every fuzz target for 20 s from the seeded corpora (fuzz/run.sh, RELIABILITY.md): a crash,
# a hang or running out of memory fails the run.
FUZZ_SECONDS=${FUZZ_SECONDS:-20} fuzz/run.sh 2>&1 | tee "$fuzz_log"
# One closing line for the whole run (cargo's last line is the empty doc-test summary; node
# --test ends with `# pass N` and `# fail N`).
awk '/^test result:/ { p += $4; f += $6 } /^# pass / { p += $3 } /^# fail / { f += $3 } /^fuzz .*, no crash$/ { p += 1 }
     END { printf "all tests: %d passed, %d failed\n", p, f }' "$log" "$web_log" "$fuzz_log"
