#!/usr/bin/env bash
# The main job: install, build, and run a short fuzz campaign on the default in-process
# target (lwip), then print what it found. Extra arguments go to `synfin fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh build
secs=${SYNFIN_SECONDS:-60}
rm -rf synfin-out
# One libFuzzer job per CPU. lwIP's own assertions are caught inside each job and
# recorded as crash findings (fuzz/README.md), so the jobs run the whole time. libFuzzer
# writes each job's log to fuzz-N.log in the current directory; they are moved to
# synfin-out/ afterwards. Exit 1 means "found something", not failure.
n=$(nproc)
rc=0
./build/fuzz/synfin fuzz --target lwip --out synfin-out/findings "$@" -- \
  -max_total_time="$secs" -jobs="$n" -workers="$n" || rc=$?
mv -f fuzz-*.log synfin-out/ 2>/dev/null || true
[ "$rc" -le 1 ] || exit "$rc"
rc=0
./build/fuzz/synfin triage synfin-out/findings || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
echo "findings: synfin-out/findings/*/ (scenario.scn, exchange.pcap, report.txt, report.json)"
