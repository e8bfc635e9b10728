#!/usr/bin/env bash
# linux_campaign.sh: the rate of a linux fuzzing campaign (`synfin fuzz --target linux`,
# JOBS libFuzzer processes, SECS seconds) beside the raw TUN loop of bench_linux (one
# process: hand-built packets into the namespace's TUN and sockets, no synfin layer), run
# in the same sitting. Prints TSV rows: metric, synfin value, baseline value, unit.
#
#   linux_campaign_execs      campaign executions/s over the whole run (start-up included)
#   linux_campaign_execs_1p   the same with one process (how much a process sleeps)
#
# Usage: bench/rows/linux_campaign.sh [BUILD_DIR]   (default build)
#   LINUX_CAMPAIGN_SECS (30), LINUX_CAMPAIGN_JOBS (64), LINUX_CAMPAIGN_SPEC (linux: the
#   target spec, e.g. linux:jump=0,quickack=0 for the real-time waits of older builds).
# Needs root (a network namespace and /dev/net/tun): without it, says so and exits 77.
set -u
BUILD=${1:-build}
SECS=${LINUX_CAMPAIGN_SECS:-30}
JOBS=${LINUX_CAMPAIGN_JOBS:-64}
SPEC=${LINUX_CAMPAIGN_SPEC:-linux}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SYNFIN=$(cd "$BUILD" 2>/dev/null && pwd)/fuzz/synfin
BENCH=$(cd "$BUILD" 2>/dev/null && pwd)/bench/bench_linux
if [ "$(id -u)" != 0 ]; then
	echo "linux_campaign: skipped: needs root (network namespace, /dev/net/tun)" >&2
	exit 77
fi
for b in "$SYNFIN" "$BENCH"; do
	[ -x "$b" ] || { echo "linux_campaign: $b not built" >&2; exit 2; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-linux-campaign.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# campaign JOBS: prints the execs/s of the "done" line, or nothing
campaign() {
	local jobs=$1 extra=""
	rm -rf "$TMP/out" "$TMP/corpus"
	mkdir -p "$TMP/corpus"
	[ "$jobs" -gt 1 ] && extra="-jobs=$jobs -workers=$jobs"
	# shellcheck disable=SC2086
	"$SYNFIN" fuzz --target "$SPEC" --out "$TMP/out" --seeds "$SRC/corpus/seeds" \
		--progress 0 "$TMP/corpus" -- -max_total_time="$SECS" -seed=1 $extra 2>&1 |
		sed -n 's/.*synfin fuzz: done.*| [0-9]* execs (\([0-9]*\)\/s).*/\1/p' | tail -1
}

# the raw loop's exchanges/s (bench_linux's first figure)
raw() {
	"$BENCH" "${LINUX_CAMPAIGN_RAW_CASES:-5000}" 2>/dev/null |
		sed -n 's/^raw loop[^:]*: *\([0-9.]*\) exchanges.*/\1/p' | head -1
}

raw1=$(raw)
many=$(campaign "$JOBS")
one=$(campaign 1)
raw2=$(raw)
base=$(awk -v a="${raw1:-0}" -v b="${raw2:-0}" 'BEGIN { m = a > b ? a : b; printf "%.0f", m }')
echo "linux_campaign: $SPEC, $JOBS processes and 1 process, $SECS s each; baseline: bench_linux raw TUN loop (1 process), best of 2 around them" >&2
printf 'linux_campaign_execs\t%s\t%s\texecs/s\n' "${many:-0}" "$base"
printf 'linux_campaign_execs_1p\t%s\t%s\texecs/s\n' "${one:-0}" "$base"
