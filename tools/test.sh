#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, build, run every test, then again with
# ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh build
ctest --test-dir build --output-on-failure -j2
# The ClusterFuzzLite build under the OSS-Fuzz variables, each fuzzer for 2000 inputs
# (about 2 minutes), and the .deb installed and run from / (about a minute).
.clusterfuzzlite/check.sh 2000
tools/ci_deb.sh build
tools/build.sh build-san -DSYNFIN_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-san --output-on-failure -j2
# synfin's own inputs (scenario files, binary inputs, report.json...) fuzzed under
# ASan+UBSan, 30 s per entry (docs/security-model.md)
tools/fuzz_inputs.sh build-san 30
