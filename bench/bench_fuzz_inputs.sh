#!/usr/bin/env bash
# bench_fuzz_inputs.sh: long runs of the fuzzers of synfin's own inputs (fuzz/fuzz_*.c
# that are not campaign entries: scenario text and binary forms, report.json, ...).
#
# Each entry runs SECONDS in the plain build (libFuzzer only: the baseline) and then
# SECONDS in the sanitizer build (ASan+UBSan: what CI runs, tools/fuzz_inputs.sh), one
# after the other so machine noise hits both alike, each from a fresh copy of its seeds.
# Printed per entry: inputs, execs/s, coverage, corpus size, and the sanitizer build's
# rate as a ratio to the baseline's. A failure (crash, leak, UB, broken property) ends
# the script with exit 1 and keeps the input under the work directory it names.
#
# Usage: bench/bench_fuzz_inputs.sh [SECONDS] [PLAIN_BUILD] [SAN_BUILD]
#        (defaults: 600, build, build-san; build both with tools/build.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
plain=${2:-build}
san=${3:-build-san}
campaign=" model lwip slirp linux naive "
work=$(mktemp -d /tmp/synfin-bench-inputs-XXXXXX)
failed=0

# run BUILD NAME SHORT: sets runs, rate, cov, corp; 1 on failure
run() {
  local exe=$1/fuzz/$2 dir=$work/$1-$3
  [[ -x $exe ]] || { echo "bench_fuzz_inputs: $exe not built" >&2; return 1; }
  mkdir -p "$dir/corpus" "$dir/crashes"
  local seeds=(corpus/seeds)
  [[ -d corpus/fuzz/$3 ]] && seeds+=("corpus/fuzz/$3")
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
    "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/" "$dir/corpus" "${seeds[@]}" \
    >"$dir/log" 2>&1; then
    echo "bench_fuzz_inputs: $2 ($1) FAILED: $dir/log, input in $dir/crashes/" >&2
    return 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  local t=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
  rate=${t:-0}
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
  corp=$(ls "$dir/corpus" | wc -l)
}

printf '%-18s %-10s %12s %9s %6s %7s %s\n' ENTRY BUILD INPUTS EXECS/S COV CORPUS RATIO
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  short=${name#fuzz_}
  [[ $campaign == *" $short "* ]] && continue
  if ! run "$plain" "$name" "$short"; then failed=1; continue; fi
  base=$rate
  printf '%-18s %-10s %12s %9s %6s %7s %s\n' "$name" "$plain" "$runs" "$rate" "$cov" "$corp" 1.00
  if ! run "$san" "$name" "$short"; then failed=1; continue; fi
  ratio=$(awk -v a="$rate" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf '%-18s %-10s %12s %9s %6s %7s %s\n' "$name" "$san" "$runs" "$rate" "$cov" "$corp" "$ratio"
done
[[ $failed == 0 ]] && rm -rf "$work"
exit $failed
