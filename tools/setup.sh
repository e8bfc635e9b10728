#!/usr/bin/env bash
# Install what synfin needs to build and test on Debian 12. Idempotent: packages already
# present are not fetched again. Needs root (or sudo).
set -euo pipefail
pkgs=(clang-14 libfuzzer-14-dev libclang-rt-14-dev cmake make pkg-config
      libpcap-dev libnet1-dev liblwip-dev libslirp-dev iproute2 tshark
      bison flex golang-go golang-inet-netstack-dev
      libxml2-utils python3-jsonschema python3-yaml graphviz librsvg2-bin zip unzip dpkg-dev
      qemu-system-x86 cpio)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "synfin setup: installing ${missing[*]}"
  # Quiet when it works (apt's -qq still prints every unpacked package); the whole log
  # when it does not.
  log=$(mktemp /tmp/synfin-setup.XXXXXX)
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log"
    echo "synfin setup: apt-get failed (log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
fi
