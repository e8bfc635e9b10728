#!/usr/bin/env bash
# The main job: install, build, and run a short fuzz campaign on the default in-process
# target (lwip), then print what it found: progress, one table of root-cause groups
# (known ones marked), and where the files are. At most 60 lines on the console.
# Extra arguments go to `synfin fuzz`.
#
#   SYNFIN_SECONDS  campaign length (default 60)
#   SYNFIN_OUT      output directory (default synfin-out)
#   SYNFIN_QUICK_NO_BUILD=1  skip setup and build (the test of the line budget uses it)
#
# Exit: 0 nothing new, 1 new findings (new root-cause groups), 2 error.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SYNFIN_QUICK_NO_BUILD:-}" ]; then
  tools/setup.sh
  tools/build.sh build
fi
secs=${SYNFIN_SECONDS:-60}
out=${SYNFIN_OUT:-synfin-out}
rm -rf "$out"
mkdir -p "$out"
# One libFuzzer job per CPU. lwIP's own assertions are caught inside each job and
# recorded as crash findings (fuzz/README.md), so the jobs run the whole time.
# libFuzzer's own output and each job's log (fuzz-N.log) go to $out/findings/logs/;
# the console gets synfin's progress lines and the root-cause table, printed once.
bin=${SYNFIN_BIN:-./build/fuzz/synfin}
n=$(nproc)
rc=0
"$bin" fuzz --target lwip --out "$out/findings" "$@" "$out/corpus-lwip" -- \
  -max_total_time="$secs" -jobs="$n" -workers="$n" || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
cat <<EOT
files:
  $out/findings/summary.md     every root-cause group (also summary.json)
  $out/findings/<hash>/        one finding each: scenario.scn, exchange.pcap, report.txt,
                               report.json (docs/report-schema.md)
  $out/findings/logs/          libFuzzer's output and job logs
next: 'build/fuzz/synfin triage $out/findings --new' shows only the new groups;
      list accepted groups in a baseline file for CI (--baseline, see README).
EOT
exit "$rc"
