#!/usr/bin/env bash
# The main job: install, build, and run a short fuzz campaign on the default in-process
# target (lwip), then print what it found. Extra arguments go to `synfin fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh build
secs=${SYNFIN_SECONDS:-60}
rm -rf synfin-out
# -fork: lwIP's own assertions abort the process; libFuzzer's fork mode records the
# crash as a finding and carries on. Exit 1 means "found something", not failure.
rc=0
./build/fuzz/synfin fuzz --target lwip --out synfin-out/findings "$@" -- \
  -max_total_time="$secs" -fork=2 || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
rc=0
./build/fuzz/synfin triage synfin-out/findings || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
echo "findings: synfin-out/findings/*/ (scenario.scn, exchange.pcap, report.txt, report.json)"
