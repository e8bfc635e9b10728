#!/usr/bin/env bash
# CI's check of the ClusterFuzzLite layout: build.sh under the OSS-Fuzz variables (clang-14,
# -fsanitize=fuzzer-no-link,address, LIB_FUZZING_ENGINE=-fsanitize=fuzzer), then each
# produced fuzzer for a bounded number of inputs, its crash logs grouped the way a
# stack-frame-deduping engine groups them (dedup.py): every divergence signature must be
# a crash of its own.
#
# usage: .clusterfuzzlite/check.sh [INPUTS] [SPEC...]
#   INPUTS  inputs per fuzzer (default 10000; the linux entry, real-time, gets 1/100)
#   SPEC    extra runs of fuzz_model on other specs (default model:fault=tw-ignore-fin)
# A crash ends a libFuzzer run; the next run (another -seed) starts from the corpus so
# far, with SYNFIN_FUZZ_OUT keeping what was found so that a signature crashes once, until
# INPUTS inputs have run in all (or 40 runs).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inputs=${1:-10000}
shift || true
specs=("$@")
((${#specs[@]})) || specs=(model:fault=tw-ignore-fin)
keep=${WORK:+1} # a WORK given is kept; a temporary one is removed at the end
work=${WORK:-$(mktemp -d /tmp/synfin-cfl.XXXXXX)}
export OUT=$work/out WORK=$work/work CC=clang-14 CXX=clang++-14
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS=$CFLAGS LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export ASAN_OPTIONS=detect_leaks=0:symbolize=1 PATH=$PATH:/usr/lib/llvm-14/bin
"$here/build.sh" || { echo "check.sh: build.sh failed"; exit 1; }
fuzzers=$(cd "$OUT" && ls fuzz_* | grep -v '\.' )
echo "check.sh: fuzzers produced: $(echo $fuzzers)"

fail=0
run_one() { # NAME BINARY SPEC INPUTS
  local name=$1 bin=$2 spec=$3 n=$4 d=$work/run-$1 total=0 round=0
  rm -rf "$d"; mkdir -p "$d/corpus" "$d/findings" "$d/logs"
  unzip -q -o "$OUT/${bin}_seed_corpus.zip" -d "$d/corpus"
  while ((total < n && round < 40)); do
    round=$((round + 1))
    local log=$d/logs/run-$round.log
    SYNFIN_FUZZ_TARGET=$spec SYNFIN_FUZZ_OUT=$d/findings timeout 300 \
      "$OUT/$bin" -runs=$((n - total)) -seed=$round -dict="$OUT/$bin.dict" -max_len=2241 \
      -timeout=25 -print_final_stats=1 -artifact_prefix="$d/" "$d/corpus" >"$log" 2>&1
    local rc=$? ran
    ran=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    total=$((total + ${ran:-0}))
    if ((rc == 0)); then rm -f "$log"; break; fi
    if ! grep -q "ERROR: " "$log"; then
      echo "check.sh: $name: run $round ended with $rc and no crash report:"; tail -5 "$log"
      fail=1; return
    fi
    ((${ran:-0} == 0)) && total=$((total + 1)) # a crash before the stats: count it
  done
  echo "== $name ($spec): $total inputs, $round runs"
  if ls "$d"/logs/*.log >/dev/null 2>&1; then
    python3 "$here/dedup.py" "$d"/logs/*.log || fail=1
  else
    echo "0 distinct crashes"
  fi
}
for f in $fuzzers; do
  t=${f#fuzz_} n=$inputs
  [ "$t" = linux ] && n=$((inputs / 100 > 0 ? inputs / 100 : 1))
  if [ "$t" = linux ] && [ "$(id -u)" != 0 ]; then echo "== $f: skipped (needs root)"; continue; fi
  run_one "$f" "$f" "$t" "$n"
done
for s in "${specs[@]}"; do
  run_one "fuzz_model-${s//[:=]/_}" fuzz_model "$s" "$inputs"
done
[ -n "$keep" ] || rm -rf "$work"
exit $fail
