#!/usr/bin/env bash
# Row: the reference model's own speed (bench_model): judged steps per second of the
# model as the oracle of a stack, beside a raw loop that copies a TCB as many times.
# Usage: model.sh BUILD_DIR SECONDS. Prints TSV rows (bench/all.sh).
set -u
BUILD=$1
SECS=${2:-10}
B=$BUILD/bench/bench_model
[ -x "$B" ] || { echo "model.sh: $B not built" >&2; exit 0; }
per=$(awk -v s="$SECS" 'BEGIN { x = s / 10; print (x < 0.5 ? 0.5 : x) }')
"$B" "$per" | awk '
/^model as oracle/ { for (i = 1; i <= NF; i++) if ($i == "steps/s") o = $(i - 1) }
/^model as stack/ { for (i = 1; i <= NF; i++) if ($i == "steps/s") s = $(i - 1) }
/^raw TCB memcpy/ { for (i = 1; i <= NF; i++) if ($i == "copies/s") r = $(i - 1) }
END {
	if (o) printf "model as oracle (step+judge+commit) vs raw TCB copy\t%s\t%s\tsteps/s\n", o, r
	if (s) printf "model as stack (step+commit) vs raw TCB copy\t%s\t%s\tsteps/s\n", s, r
}'
