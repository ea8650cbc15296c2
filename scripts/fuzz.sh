#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ (or those in FUZZ_TARGETS) for FUZZ_SECONDS each
# (default 600), FUZZ_JOBS at a time (default 1). Installs cargo-fuzz when missing; with a stable toolchain
# the nightly flags cargo-fuzz passes are allowed by RUSTC_BOOTSTRAP=1. The corpus grows in
# fuzz/corpus/TARGET; a crash is written to fuzz/artifacts/TARGET and named at the end.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-600}"
jobs="${FUZZ_JOBS:-1}"
if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz not found: installing it (cargo install cargo-fuzz --locked)"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
mkdir -p artifacts/logs
run() {
  local t="$1" log="artifacts/logs/$1.log" extra=()
  # GStreamer's init keeps GLib allocations that LeakSanitizer reports at exit: off for
  # the target that initialises GStreamer, in libFuzzer and in ASan's own exit check.
  local asan="${ASAN_OPTIONS:-}"
  if [ "$t" = sdp_caps ]; then
    extra=(-detect_leaks=0)
    asan="detect_leaks=0${asan:+:$asan}"
  fi
  mkdir -p "corpus/$t"
  if ASAN_OPTIONS="$asan" cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" \
      -print_final_stats=1 "${extra[@]}" > "$log" 2>&1; then
    echo "$t: $(awk '/^stat::number_of_executed_units/ {print $2}' "$log") runs in $seconds s, no crash"
  else
    echo "$t: CRASH (fuzz/artifacts/$t, log fuzz/$log)"
  fi
}
export -f run
export seconds
# FUZZ_TARGETS (space-separated) runs only those.
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run {}' | tee artifacts/logs/summary.txt
! grep -q CRASH artifacts/logs/summary.txt
