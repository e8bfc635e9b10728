#!/usr/bin/env bash
# Row: `synfin replay` and `synfin run` through the command on corpus/seeds + corpus/regress,
# beside bench_replay running the same scenarios in-process (runner, model and oracle; on
# lwip and slirp under the in-process recovery; no file loading, no printing, no child processes).
# The command is given the corpus R times over (40 to 100) so that process start-up does not decide
# the figure; the --fork row is the path where every case of an in-process stack runs in
# a child of its own. Three rounds, each command beside a baseline run; medians.
# Usage: replay.sh BUILD_DIR SECONDS. Prints TSV rows (bench/all.sh).
set -u
BUILD=$1
SECS=${2:-10}
SYNFIN=$BUILD/fuzz/synfin
BENCH=$BUILD/bench/bench_replay
for b in "$SYNFIN" "$BENCH"; do
	[ -x "$b" ] || { echo "replay.sh: $b not built" >&2; exit 0; }
done
DIRS="corpus/seeds corpus/regress"
N=$(find $DIRS -name '*.scn' | wc -l)
now() { date +%s.%N; }
median() { sort -g | awk '{ v[n++] = $1 } END { print n ? v[int((n - 1) / 2)] : 0 }'; }
ROUNDS=$(mktemp "${TMPDIR:-/tmp}/bench-replay.XXXXXX")
trap 'rm -f "$ROUNDS" "$ROUNDS.out" "$ROUNDS.cpu"' EXIT
TIMEIT=""
[ -x /usr/bin/time ] && TIMEIT="/usr/bin/time -o $ROUNDS.cpu -f %U:%S"

# cmd_rate TARGET REPEAT [FLAGS...]: scenarios/s of `synfin replay` over DIRS x REPEAT.
cmd_rate() {
	local target=$1 rep=$2 args="" t0 t1
	shift 2
	for _ in $(seq "$rep"); do args="$args $DIRS"; done
	t0=$(now)
	# shellcheck disable=SC2086
	$TIMEIT "$SYNFIN" replay $args --target "$target" "$@" >"$ROUNDS.out" 2>&1
	t1=$(now)
	# a rate only for a command that played every case ("N passed, M failed[, K skipped]")
	if ! tail -1 "$ROUNDS.out" |
		awk -v n=$((N * rep)) '{ t = $1 + $3 + ($6 == "skipped" ? $5 : 0); exit !(t == n) }'; then
		echo "replay.sh: replay --target $target did not play all $((N * rep)) cases:" \
			"$(tail -1 "$ROUNDS.out")" >&2
		echo 0
		return
	fi
	# the CPU time it took (user + system), where GNU time is here to tell
	[ -n "$TIMEIT" ] && [ $# -eq 0 ] && awk -F: -v n=$((N * rep)) -v t="$target" \
		'NF == 2 && $1 + $2 > 0 { print "cpu-" t, n / ($1 + $2) }' "$ROUNDS.cpu" >>"$ROUNDS"
	awk -v n=$((N * rep)) -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }'
}
# run_rate TARGET REPEAT: the same through `synfin run -q FILE...`.
run_rate() {
	local target=$1 rep=$2 files t0 t1
	files=$(for _ in $(seq "$rep"); do find $DIRS -name '*.scn' | sort; done)
	t0=$(now)
	# shellcheck disable=SC2086
	"$SYNFIN" run -q $files --target "$target" >/dev/null 2>&1
	t1=$(now)
	awk -v n=$((N * rep)) -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }'
}
# base_rate TARGET: bench_replay's in-process scenarios/s on DIRS (median of its rounds).
base_rate() {
	# shellcheck disable=SC2086
	"$BENCH" "$1" "$(awk -v s="$SECS" 'BEGIN { print s / 5 }')" $DIRS 2>/dev/null |
		sed -n 's/.*synfin \([0-9]*\) scenarios\/s.*/\1/p' | median
}

for target in lwip model slirp; do
	"$SYNFIN" targets | grep -q "^$target *available" || continue
	: >"$ROUNDS"
	for _ in 1 2 3; do
		case $target in
		lwip) rep=40 frep=4 ;;
		*) rep=100 frep=100 ;; # replay takes at most 256 directories
		esac
		echo "replay $(cmd_rate "$target" "$rep")" >>"$ROUNDS"
		echo "base $(base_rate "$target")" >>"$ROUNDS"
		echo "run $(run_rate "$target" "$rep")" >>"$ROUNDS"
		[ "$target" = lwip ] && echo "fork $(cmd_rate "$target" "$frep" --fork)" >>"$ROUNDS"
	done
	m() { awk -v k="$1" '$1 == k { print $2 }' "$ROUNDS" | median; }
	base=$(m base)
	printf "synfin replay seeds+regress --target %s\t%s\t%s\tscenarios/s\n" "$target" "$(m replay)" "$base"
	printf "synfin run -q seeds+regress --target %s\t%s\t%s\tscenarios/s\n" "$target" "$(m run)" "$base"
	[ "$target" = lwip ] &&
		printf "synfin replay --fork (a child per case) --target %s\t%s\t%s\tscenarios/s\n" \
			"$target" "$(m fork)" "$base"
	# per CPU-second: what the command costs, whatever else the machine runs
	cpu=$(m "cpu-$target")
	[ -n "$cpu" ] && [ "$cpu" != 0 ] &&
		printf "synfin replay seeds+regress --target %s, per CPU-second\t%s\t-\tscenarios/CPU-s\n" \
			"$target" "$cpu"
done
exit 0
