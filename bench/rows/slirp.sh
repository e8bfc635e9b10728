#!/usr/bin/env bash
# bench/rows/slirp.sh: one `synfin fuzz --target slirp` process beside the raw slirp loop
# (bench_slirp's raw-fresh row: libslirp driven directly, a new instance per case, one
# handshake and close per case), run in turns in the same sitting; the median of ROUNDS
# turns of each. Prints TSV lines: metric, synfin value, baseline value, unit.
#
# The campaign starts from the seed corpus (cold) in a fresh directory every turn, with
# its findings directory kept across turns (a finding is minimised once). libslirp's
# crash is recovered in the worker (fuzz/recover.c), so a turn is one campaign; should a
# campaign end early all the same (--no-recover, a sanitizer build), the turn goes on with
# a new one on the same corpus until SECONDS of libFuzzer time are used, as -fork would.
#
# Usage: bench/rows/slirp.sh [BUILD_DIR] [SECONDS] [ROUNDS]   (defaults: build, 10, 3)
set -u
BUILD=${1:-build}
SECS=${2:-10}
ROUNDS=${3:-3}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SYNFIN=$(cd "$BUILD" && pwd)/fuzz/synfin
RAW=$(cd "$BUILD" && pwd)/bench/bench_slirp
for b in "$SYNFIN" "$RAW"; do
	[ -x "$b" ] || { echo "bench/rows/slirp.sh: $b not built" >&2; exit 2; }
done
if ! "$SYNFIN" targets | grep -q "^slirp *available"; then
	echo "bench/rows/slirp.sh: the slirp target is not available here" >&2
	exit 2
fi
TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/bench-slirp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$SYNFIN" fuzz --target slirp --seeds "$SRC/corpus/seeds" --export "$TMP/seeds" >/dev/null

# One campaign turn: execs/s over the libFuzzer time of its runs.
fuzz_turn() {
	local dir=$1 seed=$2 execs=0 t=0 left line n r
	rm -rf "$dir/corpus" && cp -r "$TMP/seeds" "$dir/corpus"
	while awk -v t="$t" -v s="$SECS" 'BEGIN { exit !(t < s - 0.5) }'; do
		left=$(awk -v t="$t" -v s="$SECS" 'BEGIN { printf "%d", s - t + 0.5 }')
		[ "$left" -ge 1 ] || break
		line=$("$SYNFIN" fuzz --target slirp --out "$dir/out" --seeds "$SRC/corpus/seeds" \
			--progress 0 "$dir/corpus" -- -max_total_time="$left" -seed="$seed" 2>&1 |
			grep 'synfin fuzz: done')
		n=$(echo "$line" | sed -n 's/.*| \([0-9]*\) execs (\([0-9]*\)\/s).*/\1/p')
		r=$(echo "$line" | sed -n 's/.*| \([0-9]*\) execs (\([0-9]*\)\/s).*/\2/p')
		[ -n "$n" ] && [ -n "$r" ] && [ "$r" -gt 0 ] || break
		execs=$((execs + n))
		t=$(awk -v t="$t" -v n="$n" -v r="$r" 'BEGIN { print t + n / r }')
		seed=$((seed + 1))
	done
	awk -v e="$execs" -v t="$t" 'BEGIN { printf "%.0f", (t > 0 ? e / t : 0) }'
}

# One raw turn: about SECS seconds of the raw loop (its rate from a short run first).
raw_turn() {
	local probe cases
	probe=$("$RAW" 2000 2>/dev/null | awk '$1 == "raw-fresh" { print $6 }')
	cases=$(awk -v p="${probe:-20000}" -v s="$SECS" 'BEGIN { printf "%d", p * s / 2 }')
	"$RAW" "$cases" 2>/dev/null | awk '$1 == "raw-fresh" { print $6 }'
}

median() { sort -n | awk '{ v[n++] = $1 } END { print (n ? (n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0) }'; }

mkdir -p "$TMP/fuzz"
fz=""
rw=""
for i in $(seq 1 "$ROUNDS"); do
	rw="$rw$(raw_turn)
"
	fz="$fz$(fuzz_turn "$TMP/fuzz" "$i")
"
done
printf "slirp_fuzz_one_process\t%s\t%s\texecs/s\n" "$(printf "%s" "$fz" | median)" \
	"$(printf "%s" "$rw" | median)"
