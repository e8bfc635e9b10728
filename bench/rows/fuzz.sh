#!/usr/bin/env bash
# Rows: one `synfin fuzz` process on the in-process targets (model, lwip) beside the
# naive libFuzzer harnesses over the same target adapter, in the same sitting
# (bench/bench_fuzz.sh: runs of one row follow each other). "replay" plays the same
# inputs raw into the stack (synfin's seeds when cold, a copy of its corpus when warm);
# "listen" is raw segments into a listener (a raw libFuzzer + stack loop).
# Usage: fuzz.sh BUILD_DIR SECONDS. Prints TSV rows (bench/all.sh).
# BENCH_FUZZ_TARGETS overrides the targets (default "model lwip").
set -u
BUILD=$1
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
out=$(BENCH_TARGETS=${BENCH_FUZZ_TARGETS:-model lwip} BENCH_TTF=0 \
	BENCH_TMPDIR=${BENCH_TMPDIR:-/dev/shm} bash "$HERE/../bench_fuzz.sh" "$BUILD" "$SECS" 2>&1)
status=$?
[ $status -eq 0 ] || { echo "fuzz.sh: bench_fuzz.sh failed: $out" >&2; exit 0; }
# "lwip    cold        24881      103948     24%      101250     25%         466"
echo "$out" | awk '$2 == "cold" || $2 == "warm" {
	printf "synfin fuzz --target %s, %s, 1 process vs naive replay\t%s\t%s\texecs/s\n", $1, $2, $3, $4
	printf "synfin fuzz --target %s, %s, 1 process vs raw libFuzzer loop\t%s\t%s\texecs/s\n", $1, $2, $3, $6
}'
