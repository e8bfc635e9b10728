#!/usr/bin/env bash
# Install what synfin needs to build and test on Debian 12. Idempotent: packages already
# present are not fetched again. Needs root (or sudo).
set -euo pipefail
pkgs=(clang-14 libfuzzer-14-dev libclang-rt-14-dev cmake make pkg-config
      libpcap-dev libnet1-dev liblwip-dev libslirp-dev iproute2 tshark)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "synfin setup: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
