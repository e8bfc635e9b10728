#!/usr/bin/env bash
# The main job: install, build, and run a short fuzz campaign on the default in-process
# target (lwip), then print what it found. Extra arguments go to `synfin fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh build
secs=${SYNFIN_SECONDS:-60}
rm -rf synfin-out
./build/synfin fuzz --target lwip --out synfin-out/findings "$@" -- -max_total_time="$secs" || true
./build/synfin triage synfin-out/findings
