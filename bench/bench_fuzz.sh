#!/usr/bin/env bash
# bench_fuzz.sh: synfin's fuzzing rate and time to first finding, each beside a baseline.
#
#  1. execs/s per target (model, lwip, slirp) through libFuzzer: `synfin fuzz` (scenario
#     decode, runner, model, oracle, transition coverage, findings) beside fuzz_naive, a
#     naive libFuzzer harness putting raw segments into the same target adapter (no
#     model, no oracle), run the same way for the same time; and their ratio. Both run
#     in-process (no -fork); when a stack crashes, libFuzzer stops as it always does and
#     the run is restarted on the same corpus and findings until the time is used up,
#     which is what -fork does for a long campaign. (synfin on lwip recovers from lwIP's
#     assertions in-process, fuzz/README.md, so its runs rarely restart; fuzz_naive's do.) Rates are executions over the time
#     libFuzzer ran (start-up and corpus loading included, crash-file triage excluded).
#     "cold" starts from the seeds with an empty findings directory (every new signature
#     is minimised, verified and written); "warm" runs again on the grown corpus and
#     findings, the steady state of a long campaign.
#     Per input, synfin decodes a scenario (up to 64 events), resets the target, plays its
#     segments, calls and waits (lwIP: virtual time, timers run) beside the model, judges
#     every step and feeds coverage; fuzz_naive resets the target to a listener and
#     injects 6 segments read raw from the input (no handshake, no calls, no waits, no
#     coverage beyond libFuzzer's own), built by the same wire code (harness/wire.c).
#     Both sides share the wire builder, so its speed moves both rates.
#  2. time to first finding for each seeded fault of the model target: a campaign is
#     started and the findings directory polled until a finding with the fault's rule
#     and kind appears (the table of tests/fuzz/test_fuzz_faults.c); from the full seed
#     corpus, and from only the two handshake seeds (the mutator has to build the rest).
#
# Usage: bench/bench_fuzz.sh [BUILD_DIR] [SECONDS]     (defaults: build, 20)
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
TMP=$(mktemp -d /tmp/bench-fuzz.XXXXXX)
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

# naive_run TARGET DIR SECONDS SEED: the same for the naive harness.
naive_run() {
	local target=$1 dir=$2 secs=$3 seed=$4 execs=0 t=0 left n t0 t1
	mkdir -p "$dir/corpus"
	while awk -v t="$t" -v s="$secs" 'BEGIN { exit !(t < s - 0.5) }'; do
		left=$(awk -v t="$t" -v s="$secs" 'BEGIN { printf "%d", s - t + 0.5 }')
		[ "$left" -ge 1 ] || break
		t0=$(now)
		n=$(cd "$dir" && SYNFIN_NAIVE_TARGET=$target "$NAIVE" corpus -max_total_time="$left" \
			-seed="$seed" -print_final_stats=1 -artifact_prefix="$dir/" 2>&1 |
			sed -n 's/^stat::number_of_executed_units: *//p')
		t1=$(now)
		[ -n "$n" ] || break
		execs=$((execs + n))
		t=$(awk -v t="$t" -v a="$t0" -v b="$t1" 'BEGIN { print t + b - a }')
		seed=$((seed + 1))
	done
	echo "$execs $t"
}

echo "== execs/s through libFuzzer, ${SECS} s per run ($(nproc) CPUs)"
printf "%-7s %-5s %14s %14s %8s %12s\n" target phase "synfin/s" "naive/s" ratio signatures
for target in model lwip slirp; do
	if ! "$SYNFIN" targets | grep -q "^$target *available"; then
		echo "$target: not available here"
		continue
	fi
	d="$TMP/rate-$target"
	read -r ne nt <<<"$(naive_run "$target" "$d/naive" "$SECS" 1)"
	nrate=$(awk -v e="$ne" -v t="$nt" 'BEGIN { print (t > 0 ? e / t : 0) }')
	for phase in cold warm; do
		read -r se st <<<"$(synfin_run "$target" "$d/synfin" "$SECS" 1)"
		srate=$(awk -v e="$se" -v t="$st" 'BEGIN { print (t > 0 ? e / t : 0) }')
		sigs=$(find "$d/synfin/out" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
		printf "%-7s %-5s %14s %14s %7s%% %12s\n" "$target" "$phase" "$(fmt "$srate")" \
			"$(fmt "$nrate")" "$(awk -v s="$srate" -v n="$nrate" \
			'BEGIN { printf "%.0f", (n > 0 ? 100 * s / n : 0) }')" "$sigs"
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
