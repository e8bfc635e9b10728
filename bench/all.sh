#!/usr/bin/env bash
# all.sh: every benchmark beside its baseline, in one table.
#
# Runs each bench/rows/*.sh in turn. A row script measures synfin and its baseline
# interleaved in the same sitting (so load on the machine hits both alike) and prints
# one TSV line per metric:
#     metric<TAB>synfin_value<TAB>baseline_value<TAB>unit
# (baseline_value "-" when a metric has none). all.sh prints them as one table with the
# ratio synfin / baseline, and below it the machine and its load. Rows that cannot run
# here (a target not built, no root for linux) print nothing and say why on stderr.
#
# Usage: bench/all.sh [BUILD_DIR] [SECONDS]        (defaults: build, 10)
#        BENCH_ROWS="replay lwip_fuzz" runs only those rows (file names without .sh);
#        BENCH_FORMAT=md prints a Markdown table (docs/performance.md).
set -u
BUILD=${1:-build}
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -d "$BUILD" ] || { echo "all.sh: no build directory $BUILD (tools/build.sh)" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-all.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

rows=""
if [ -n "${BENCH_ROWS:-}" ]; then
	for r in $BENCH_ROWS; do rows="$rows $HERE/rows/$r.sh"; done
else
	rows=$(ls "$HERE"/rows/*.sh)
fi
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
for r in $rows; do
	[ -f "$r" ] || { echo "all.sh: no row script $r" >&2; continue; }
	echo "all.sh: $(basename "$r" .sh) ..." >&2
	(cd "$HERE/.." && bash "$r" "$BUILD" "$SECS") >>"$TMP/rows.tsv"
	rc=$? # 77: the row cannot run here, and said why
	[ $rc -eq 0 ] || [ $rc -eq 77 ] || echo "all.sh: $(basename "$r") failed (exit $rc)" >&2
done
t1=$(date +%s)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

awk -F'\t' -v md="${BENCH_FORMAT:-}" '
function num(x) { return x ~ /^[-+]?[0-9.]*[0-9][0-9.]*([eE][-+]?[0-9]+)?$/ }
function show(x) {
	if (!num(x)) return x
	if (x >= 100) return sprintf("%.0f", x)
	if (x >= 1) return sprintf("%.2f", x)
	return sprintf("%.3g", x)
}
NF >= 4 {
	ratio = (num($2) && num($3) && $3 > 0) ? sprintf("%.3g", $2 / $3) : "-"
	if (md == "md")
		printf "| %s | %s | %s | %s | %s |\n", $1, show($2), show($3), ratio, $4
	else
		printf "%-64s %10s %10s %8s  %s\n", $1, show($2), show($3), ratio, $4
	next
}
BEGIN {
	if (md == "md") {
		print "| metric | synfin | baseline | ratio | unit |"
		print "|---|---:|---:|---:|---|"
	} else
		printf "%-64s %10s %10s %8s  %s\n", "metric", "synfin", "baseline", "ratio", "unit"
}' "$TMP/rows.tsv"
echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)," \
	"$(uname -sr); load average $load0 before, $load1 after ($((t1 - t0)) s)"
