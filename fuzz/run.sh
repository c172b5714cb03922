#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS each (default 30) from seeded corpora;
# the test command runs it with the default. A crash, hang (-timeout) or out-of-memory
# (-rss_limit_mb) fails the run and leaves the input in fuzz/artifacts/TARGET/: fix it,
# then keep it in fuzz/regressions/TARGET/ and as a unit test where the bug was.
#   fuzz/run.sh [TARGET…]          FUZZ_SECONDS=600 fuzz/run.sh layer
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-30}
# libFuzzer needs the nightly compiler's flags; without a nightly toolchain the pinned
# stable one is told to accept them.
if rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
python3 seed.py >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
cargo "${toolchain[@]}" fuzz build -O
for t in "${targets[@]}"; do
  log=$(mktemp); mkdir -p "corpus/$t"
  if ! cargo "${toolchain[@]}" fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 >"$log" 2>&1; then
    grep -m1 -A2 -E "panicked at|ERROR: libFuzzer|SUMMARY: " "$log" | cut -c1-2000 >&2 || tail -20 "$log" >&2
    echo "fuzz/run.sh: target $t failed; the input is in fuzz/artifacts/$t/" >&2
    rm -f "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  echo "fuzz $t: ${seconds}s, $runs runs, coverage $cov, corpus $(ls "corpus/$t" | wc -l), no crash"
  rm -f "$log"
done
