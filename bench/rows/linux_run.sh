#!/usr/bin/env bash
# Row: `synfin run -q` of the seed scenarios on the linux target beside packetdrill
# playing the same scenarios, exported as packetdrill scripts (`synfin export
# --packetdrill`), each script in a network namespace of its own as packetdrill's own
# tests run them. Both are given the same set: the seeds whose script packetdrill ends
# within PD_LIMIT seconds (a script waits in real time: a 2MSL expiry takes minutes).
# synfin runs the set three times, before, between and after two packetdrill passes;
# medians. Rates are scenarios (scripts) per second of wall time.
# Usage: linux_run.sh BUILD_DIR [SECONDS]. Prints TSV rows (bench/all.sh); exit 77 when
# it cannot run here (no root, no /dev/net/tun, no packetdrill: PACKETDRILL names one).
set -u
BUILD=$1
SYNFIN=$BUILD/fuzz/synfin
PD=${PACKETDRILL:-$BUILD/packetdrill/packetdrill}
PD_LIMIT=${PD_LIMIT:-15}
if [ "$(id -u)" != 0 ] || [ ! -w /dev/net/tun ]; then
	echo "linux_run.sh: skipped: needs root and /dev/net/tun" >&2
	exit 77
fi
for b in "$SYNFIN" "$PD"; do
	[ -x "$b" ] || { echo "linux_run.sh: skipped: $b not built" >&2; exit 77; }
done
command -v unshare >/dev/null || { echo "linux_run.sh: skipped: no unshare" >&2; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-linux-run.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{ v[n++] = $1 } END { print n ? v[int((n - 1) / 2)] : 0 }'; }

# the scripts, and the seeds packetdrill plays to the end within the limit
set_files=""
for f in corpus/seeds/*.scn; do
	b=$(basename "$f" .scn)
	"$SYNFIN" export --packetdrill "$f" -o "$TMP/$b.pkt" >/dev/null 2>&1 || continue
	timeout "$PD_LIMIT" unshare -n sh -c "ip link set lo up && exec '$PD' '$TMP/$b.pkt'" \
		>/dev/null 2>&1
	[ $? -eq 124 ] && continue
	set_files="$set_files $f"
done
n=$(echo "$set_files" | wc -w)
[ "$n" -gt 0 ] || { echo "linux_run.sh: no seed could be exported and played" >&2; exit 0; }

synfin_rate() {
	local t0 t1
	t0=$(now)
	# shellcheck disable=SC2086
	"$SYNFIN" run -q $set_files --target linux >/dev/null 2>&1
	t1=$(now)
	awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }'
}
pd_rate() {
	local t0 t1 f b
	t0=$(now)
	for f in $set_files; do
		b=$(basename "$f" .scn)
		timeout "$PD_LIMIT" unshare -n sh -c \
			"ip link set lo up && exec '$PD' '$TMP/$b.pkt'" >/dev/null 2>&1
	done
	t1=$(now)
	awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }'
}
{
	echo "s $(synfin_rate)"
	echo "p $(pd_rate)"
	echo "s $(synfin_rate)"
	echo "p $(pd_rate)"
	echo "s $(synfin_rate)"
} >"$TMP/rounds"
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/rounds" | median; }
echo "linux_run.sh: $n seeds (those packetdrill ends within $PD_LIMIT s)" >&2
printf "synfin run -q seeds --target linux vs packetdrill, same scenarios\t%s\t%s\tscenarios/s\n" \
	"$(m s)" "$(m p)"
exit 0
