#!/usr/bin/env bash
# Build the netstack shim (shims/netstack/, Go) from Debian's packages: golang-go and
# golang-inet-netstack-dev (GOPATH mode over /usr/share/gocode, nothing downloaded).
# Usage: tools/build-netstack.sh [BUILD_DIR]   -> BUILD_DIR/shims/netstack/synfin-shim-netstack
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/inet.af/netstack ]; then
  echo "synfin: the netstack shim needs golang-go and golang-inet-netstack-dev" \
    "(apt-get install golang-go golang-inet-netstack-dev)" >&2
  exit 2
fi
out="$dir/shims/netstack"
mkdir -p "$out"
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="${GOCACHE:-$dir/.gocache}"
go build -o "$out/synfin-shim-netstack" ./shims/netstack/main.go
cp shims/netstack/netstack.profile "$out/netstack.profile"
echo "synfin: built $out/synfin-shim-netstack"
