#!/usr/bin/env bash
# Take Debian's linux-image-amd64 kernel (6.1 LTS on Debian 12) without installing it on
# this machine: `apt-get download` the image package it depends on, `dpkg -x` it into DIR.
# Prints the unpacked kernel's version. Only the modules tap:'s VM loads are kept, and
# boot/vmlinux-VERSION is the kernel uncompressed (faster to boot under TCG). Usage: tools/vm/fetch-kernel.sh DIR
set -euo pipefail
dir=${1:?usage: fetch-kernel.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# linux-image-amd64 is a metapackage; the image is the linux-image-VERSION-amd64 it
# depends on.
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "fetch-kernel: no linux-image-amd64 in apt's lists (apt-get update?)" >&2; exit 2; }
if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes to the current directory; _apt may not be able to: chmod it.
  chmod 777 "$tmp"
  (cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
  dpkg -x "$tmp"/"$pkg"_*.deb "$dir"
  # Keep the kernel and the modules the VM needs (tools/vm/mkinitramfs.sh): virtio, the
  # failover pair virtio_net depends on, sock_diag for TCP. The rest is ~400 MB.
  find "$dir"/lib/modules -name '*.ko' ! -name 'virtio*' ! -name '*failover.ko' \
    ! -name 'inet_diag.ko' ! -name 'tcp_diag.ko' -delete
  find "$dir"/lib/modules -type d -empty -delete
fi
vmlinuz=$(ls "$dir"/boot/vmlinuz-* | head -1)
version=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
# The uncompressed kernel beside it: QEMU boots an ELF vmlinux through its PVH entry
# (CONFIG_PVH=y), which skips the bzImage's XZ decompression, half of a TCG boot here.
vmlinux=$dir/boot/vmlinux-$version
if [ ! -s "$vmlinux" ]; then
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1 || true)
  # xz complains about what follows the stream in the bzImage: judge by the ELF magic.
  [ -z "$off" ] || tail -c +$((off + 1)) "$vmlinuz" | xz -dcq > "$vmlinux.tmp" 2>/dev/null || true
  if [ "$(head -c 4 "$vmlinux.tmp" 2>/dev/null | od -An -c | tr -d ' ')" = "177ELF" ]; then
    mv "$vmlinux.tmp" "$vmlinux"
  else
    rm -f "$vmlinux.tmp" # QEMU boots the bzImage then
  fi
fi
echo "$version"
