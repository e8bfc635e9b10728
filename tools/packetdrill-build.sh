#!/bin/sh
# Build packetdrill from upstream's source SRC (gtests/net/packetdrill) in DIR: copied
# there first, since the source tree beside the project is read-only and never vendored.
# Quiet when it works; the whole log when it does not. Used by tests/CMakeLists.txt.
set -eu
src=$1
dir=$2
rm -rf "$dir"
cp -r "$src" "$dir"
cd "$dir"
if ! { env -u CFLAGS -u LDFLAGS ./configure && make -j2; } >build.log 2>&1; then
  cat build.log
  echo "packetdrill: build failed (log: $dir/build.log)" >&2
  exit 1
fi
