#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 600), FUZZ_JOBS at a
# time (default 1). Needs cargo-fuzz (`cargo install cargo-fuzz`); with a stable toolchain
# the nightly flags cargo-fuzz passes are allowed by RUSTC_BOOTSTRAP=1. The corpus grows in
# fuzz/corpus/TARGET; a crash is written to fuzz/artifacts/TARGET and named at the end.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-600}"
jobs="${FUZZ_JOBS:-1}"
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz not found: cargo install cargo-fuzz"; exit 1; }
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
mkdir -p artifacts/logs
run() {
  local t="$1" log="artifacts/logs/$1.log" extra=()
  # GStreamer's init keeps GLib allocations that LeakSanitizer reports at exit.
  [ "$t" = sdp_caps ] && extra=(-detect_leaks=0)
  mkdir -p "corpus/$t"
  if cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -print_final_stats=1 \
      "${extra[@]}" > "$log" 2>&1; then
    echo "$t: $(awk '/^stat::number_of_executed_units/ {print $2}' "$log") runs in $seconds s, no crash"
  else
    echo "$t: CRASH (fuzz/artifacts/$t, log fuzz/$log)"
  fi
}
export -f run
export seconds
cargo fuzz list | xargs -P "$jobs" -I{} bash -c 'run {}' | tee artifacts/logs/summary.txt
! grep -q CRASH artifacts/logs/summary.txt
