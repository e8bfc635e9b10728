#!/usr/bin/env bash
# bench_fuzz.sh: synfin's fuzzing rate and time to first finding, each beside a baseline.
#
#  1. execs/s per target (model, lwip, slirp, and linux when this runs as root) through
#     libFuzzer, single process each (no -jobs, no -fork): `synfin fuzz` (decode, runner,
#     model, oracle, transition coverage, findings, structure-aware mutation) beside two
#     naive libFuzzer harnesses over the same target adapter with no model, no oracle, no
#     coverage feed and libFuzzer's own byte mutation (fuzz/fuzz_naive.c):
#       replay  the same inputs as synfin (its seeds when cold, a copy of its corpus when
#               warm, kept whole with -keep_seed=1), every event played raw into the
#               stack, segment numbers from what the stack last sent on the wire;
#       listen  6 raw segments per input into a listener (no handshake: most of them
#               end at the listener).
#     Rates are executions over the time libFuzzer ran (start-up and corpus loading
#     included). "cold" starts synfin from the seeds with an empty findings directory
#     (every new signature is minimised, verified and written); "warm" runs it again on
#     the grown corpus and findings, the steady state of a long campaign. On lwip both
#     synfin and the replay harness recover from lwIP's assertions in-process; elsewhere
#     a crash ends a run, which is restarted on the same corpus until the time is used,
#     as -fork would (fuzz_naive counts its inputs in a file, so a run a crash ends still
#     counts). Runs of one row follow each other, so machine noise hits them alike.
#  2. time to first finding for each seeded fault of the model target: a campaign is
#     started and the findings directory polled until a finding with the fault's rule
#     and kind appears (the table of tests/fuzz/test_fuzz_faults.c); from the full seed
#     corpus, and from only the two handshake seeds (the mutator has to build the rest).
#
# Usage: bench/bench_fuzz.sh [BUILD_DIR] [SECONDS]     (defaults: build, 20)
#        BENCH_TARGETS="lwip slirp" picks the targets of part 1; BENCH_TTF=0 skips part 2;
#        BENCH_TMPDIR=/dev/shm keeps corpora and findings on tmpfs (a cold campaign writes
#        thousands of files, and on a disk file system creating them can dominate).
# Needs: BUILD_DIR/fuzz/synfin and BUILD_DIR/fuzz/fuzz_naive (SYNFIN_FUZZ=ON, clang).
set -u
BUILD=${1:-build}
SECS=${2:-20}
SRC=$(cd "$(dirname "$0")/.." && pwd)
SYNFIN=$(cd "$BUILD" && pwd)/fuzz/synfin
NAIVE=$(cd "$BUILD" && pwd)/fuzz/fuzz_naive
TTF_MAX=60
for b in "$SYNFIN" "$NAIVE"; do
	[ -x "$b" ] || { echo "bench_fuzz: $b not built (SYNFIN_FUZZ=ON with clang)" >&2; exit 2; }
done
TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/bench-fuzz.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
fmt() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }

# synfin_run TARGET DIR SECONDS SEED: restart until SECONDS of libFuzzer time are used.
# Prints "execs seconds".
synfin_run() {
	local target=$1 dir=$2 secs=$3 seed=$4 execs=0 t=0 left n r
	while awk -v t="$t" -v s="$secs" 'BEGIN { exit !(t < s - 0.5) }'; do
		left=$(awk -v t="$t" -v s="$secs" 'BEGIN { printf "%d", s - t + 0.5 }')
		[ "$left" -ge 1 ] || break
		line=$("$SYNFIN" fuzz --target "$target" --out "$dir/out" --seeds "$SRC/corpus/seeds" \
			--progress 0 "$dir/corpus" -- -max_total_time="$left" -seed="$seed" 2>&1 |
			grep 'synfin fuzz: done')
		n=$(echo "$line" | sed -n 's/.*| \([0-9]*\) execs (\([0-9]*\)\/s).*/\1/p')
		r=$(echo "$line" | sed -n 's/.*| \([0-9]*\) execs (\([0-9]*\)\/s).*/\2/p')
		[ -n "$n" ] && [ -n "$r" ] && [ "$r" -gt 0 ] || break
		execs=$((execs + n))
		t=$(awk -v t="$t" -v n="$n" -v r="$r" 'BEGIN { print t + n / r }')
		seed=$((seed + 1))
	done
	echo "$execs $t"
}

# naive_run MODE TARGET DIR SECONDS SEED [CORPUS]: the same for fuzz_naive; CORPUS (for
# replay) is copied to DIR/corpus first and kept whole.
naive_run() {
	local mode=$1 target=$2 dir=$3 secs=$4 seed=$5 src=${6:-} execs=0 t=0 left n t0 t1
	mkdir -p "$dir/corpus"
	[ -z "$src" ] || cp -r "$src"/. "$dir/corpus/"
	while awk -v t="$t" -v s="$secs" 'BEGIN { exit !(t < s - 0.5) }'; do
		left=$(awk -v t="$t" -v s="$secs" 'BEGIN { printf "%d", s - t + 0.5 }')
		[ "$left" -ge 1 ] || break
		t0=$(now)
		rm -f "$dir/count"
		(cd "$dir" && SYNFIN_NAIVE_MODE=$mode SYNFIN_NAIVE_TARGET=$target \
			SYNFIN_NAIVE_COUNT="$dir/count" "$NAIVE" corpus -max_total_time="$left" \
			-seed="$seed" -keep_seed=1 -max_len="$MAXLEN" -artifact_prefix="$dir/" \
			>/dev/null 2>&1)
		n=$(od -An -t u8 "$dir/count" 2>/dev/null | tr -d ' ')
		t1=$(now)
		[ -n "$n" ] || break
		execs=$((execs + n))
		t=$(awk -v t="$t" -v a="$t0" -v b="$t1" 'BEGIN { print t + b - a }')
		seed=$((seed + 1))
	done
	echo "$execs $t"
}

rate() { awk -v e="$1" -v t="$2" 'BEGIN { print (t > 0 ? e / t : 0) }'; }
pct() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.0f%%", (n > 0 ? 100 * s / n : 0) }'; }

# The longest encoded scenario, as `synfin fuzz` sets -max_len: SFH_MAX_ENCODED, which is
# 1 + SFH_MAX_EVENTS * 35 (harness/scenario.h).
MAXEV=$(sed -n 's/^#define SFH_MAX_EVENTS *\([0-9]*\).*/\1/p' "$SRC/harness/scenario.h")
MAXLEN=$((1 + ${MAXEV:-64} * 35))

echo "== execs/s through libFuzzer, ${SECS} s per run, one process each ($(nproc) CPUs)"
printf "%-7s %-5s %11s %11s %7s %11s %7s %11s\n" target phase "synfin/s" "replay/s" ratio \
	"listen/s" ratio signatures
targets="model lwip slirp"
[ "$(id -u)" = 0 ] && targets="$targets linux"
targets=${BENCH_TARGETS:-$targets}
for target in $targets; do
	if ! "$SYNFIN" targets | grep -q "^$target *available"; then
		echo "$target: not available here"
		continue
	fi
	d="$TMP/rate-$target"
	mkdir -p "$d"
	"$SYNFIN" fuzz --target "$target" --seeds "$SRC/corpus/seeds" --export "$d/seeds" >/dev/null
	for phase in cold warm; do
		if [ "$phase" = cold ]; then
			src="$d/seeds"
		else
			rm -rf "$d/start" && cp -r "$d/synfin/corpus" "$d/start" && src="$d/start"
		fi
		read -r se st <<<"$(synfin_run "$target" "$d/synfin" "$SECS" 1)"
		read -r re rt <<<"$(naive_run replay "$target" "$d/replay-$phase" "$SECS" 1 "$src")"
		read -r le lt <<<"$(naive_run listen "$target" "$d/listen-$phase" "$SECS" 1)"
		srate=$(rate "$se" "$st")
		rrate=$(rate "$re" "$rt")
		lrate=$(rate "$le" "$lt")
		sigs=$(find "$d/synfin/out" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
		printf "%-7s %-5s %11s %11s %7s %11s %7s %11s\n" "$target" "$phase" \
			"$(fmt "$srate")" "$(fmt "$rrate")" "$(pct "$srate" "$rrate")" \
			"$(fmt "$lrate")" "$(pct "$srate" "$lrate")" "$sigs"
	done
done

# Expected (rule kind) per fault: the table of tests/fuzz/test_fuzz_faults.c.
FAULTS="no-time-wait:fin.finwait2:state
tw-ignore-fin:timewait.fin.reack:missing-response
rst-out-of-window:seq.unacceptable.rst:state
synrcvd-rst-closed:synrcvd.rst.passive:state
synack-bad-ack:listen.syn:wrong-field
two-way-handshake:listen.syn:state
finwait2-ignore-fin:fin.finwait2:state
closewait-no-fin:send.fin:missing-response
no-simultaneous-open:synsent.syn.simopen:state
ack-future-accepted:ack.future:missing-response
lastack-ignore-ack:lastack.ack.fin:state
rst-answers-rst:seq.unacceptable.rst:unexpected-response"

found() { # OUTDIR RULE KIND
	grep -l "\"rule\": \"$2\"" "$1"/*/report.json 2>/dev/null |
		xargs -r grep -l "\"kind\": \"$3\"" 2>/dev/null | grep -q .
}

# ttf FAULT RULE KIND SEEDS: seconds to the first matching finding, or "-".
ttf() {
	local d t0 pid t=""
	d=$(mktemp -d "$TMP/ttf.XXXXXX")
	t0=$(now)
	setsid "$SYNFIN" fuzz --target "model:fault=$1" --out "$d/out" --seeds "$4" --progress 0 \
		"$d/corpus" -- -max_total_time=$TTF_MAX -seed=1 >"$d/log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if found "$d/out" "$2" "$3"; then
			t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
			kill -TERM -- "-$pid" 2>/dev/null
			break
		fi
		sleep 0.02
	done
	wait "$pid" 2>/dev/null
	if [ -z "$t" ] && found "$d/out" "$2" "$3"; then
		t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
	fi
	echo "${t:--}"
}

stats() { # median and max of the numbers on stdin ("-" counts as not found)
	sort -n | awk '$1 != "-" { v[n++] = $1 } END {
		if (!n) { print "none found"; exit }
		m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "median %.2f s, max %.2f s, found %d/12", m, v[n - 1], n }'
}

[ "${BENCH_TTF:-1}" = 0 ] && exit 0
echo
echo "== time to first finding per seeded fault (model target, limit ${TTF_MAX} s, -seed=1)"
mkdir -p "$TMP/handshake"
cp "$SRC/corpus/seeds/01-passive-open.scn" "$SRC/corpus/seeds/02-active-open.scn" "$TMP/handshake/"
printf "%-22s %-40s %12s %12s\n" fault "expected rule/kind" "all seeds" "handshakes"
all=""
hs=""
while IFS=: read -r fault rule kind; do
	a=$(ttf "$fault" "$rule" "$kind" "$SRC/corpus/seeds")
	h=$(ttf "$fault" "$rule" "$kind" "$TMP/handshake")
	printf "%-22s %-40s %12s %12s\n" "$fault" "$rule/$kind" "$a" "$h"
	all="$all$a
"
	hs="$hs$h
"
done <<<"$FAULTS"
echo "all seeds:       $(printf "%s" "$all" | stats)"
echo "handshakes only: $(printf "%s" "$hs" | stats)"
