#!/usr/bin/env bash
# Fuzz synfin's own inputs for a bounded time: every libFuzzer entry fuzz/fuzz_*.c that
# is not a campaign entry (scenario text and binary forms, report.json, ...), as built in
# BUILD_DIR (default build-san: ASan+UBSan). Each runs SECONDS (default 30) from a fresh
# copy of its seeds (corpus/fuzz/NAME/ if present, and corpus/seeds); nothing in the
# tree is written. Prints one line per entry (inputs, coverage); exits 1 if one fails,
# with the input that did it kept under the work directory it names.
#   tools/fuzz_inputs.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-san}
secs=${2:-30}
campaign=" model lwip slirp linux naive "
work=$(mktemp -d /tmp/synfin-fuzz-inputs-XXXXXX)
failed=0
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  short=${name#fuzz_}
  [[ $campaign == *" $short "* ]] && continue
  exe=$build/fuzz/$name
  [[ -x $exe ]] || exe=$(find "$build" -name "$name" -type f -perm -u+x -print -quit)
  if [[ -z $exe || ! -x $exe ]]; then
    echo "fuzz_inputs: $name: not built in $build (libFuzzer missing?)" >&2
    failed=1
    continue
  fi
  mkdir -p "$work/$short/corpus" "$work/$short/crashes"
  seeds=(corpus/seeds)
  [[ -d corpus/fuzz/$short ]] && seeds+=("corpus/fuzz/$short")
  log=$work/$short/log
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$work/$short/crashes/" \
    "$work/$short/corpus" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_inputs: $name: ${runs:-?} inputs in ${secs} s, ${cov:-cov: ?}, no failure"
  else
    echo "fuzz_inputs: $name FAILED; its log: $log, the input: $work/$short/crashes/" >&2
    grep -E 'ERROR|SUMMARY|runtime error|fuzz_[a-z_]*:' "$log" | head -20 >&2 || true
    failed=1
  fi
done
if [[ $failed == 0 ]]; then
  rm -rf "$work"
fi
exit $failed
