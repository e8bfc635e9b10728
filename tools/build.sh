#!/usr/bin/env bash
# Configure and build synfin with clang into DIR (default build/); extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# Quiet when it works; the whole log when it does not.
log="$dir/build.log"
if ! cmake --build "$dir" -j"$(nproc)" >"$log" 2>&1; then
  cat "$log"
  echo "synfin: build failed (log: $log)" >&2
  exit 1
fi
echo "synfin: built in $dir/ (the command: $dir/fuzz/synfin)"
