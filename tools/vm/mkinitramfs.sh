#!/usr/bin/env bash
# A tiny initramfs for tap:'s VM: the static synfin-agent as /init, the kernel modules it
# needs (virtio PCI, network, console; sock_diag for TCP) in dependency order with
# /modules.list naming them, and nothing else (no shell, no busybox).
# Usage: tools/vm/mkinitramfs.sh KERNEL_DIR AGENT OUT.cpio.gz
#   KERNEL_DIR  what tools/vm/fetch-kernel.sh unpacked (holds lib/modules/VERSION/)
#   AGENT       the static synfin-agent (build/agent/synfin-agent)
set -euo pipefail
kdir=${1:?usage: mkinitramfs.sh KERNEL_DIR AGENT OUT}
agent=${2:?usage: mkinitramfs.sh KERNEL_DIR AGENT OUT}
out=${3:?usage: mkinitramfs.sh KERNEL_DIR AGENT OUT}
mods=$(ls -d "$kdir"/lib/modules/*/kernel | head -1)
[ -d "$mods" ] || { echo "mkinitramfs: no lib/modules/*/kernel under $kdir" >&2; exit 2; }
file "$agent" 2>/dev/null | grep -q "statically linked" ||
  ldd "$agent" 2>&1 | grep -q "not a dynamic executable" ||
  { echo "mkinitramfs: $agent is not a static executable" >&2; exit 2; }
command -v cpio >/dev/null || { echo "mkinitramfs: needs cpio (apt-get install cpio)" >&2; exit 2; }

# name -> path of NAME.ko (module names treat - and _ alike)
declare -A path
while IFS= read -r f; do
  n=$(basename "$f" .ko); path[${n//-/_}]=$f
done < <(find "$mods" -name '*.ko')
declare -A done_
order=()
# Depth-first over each module's "depends=" (its .modinfo section): dependencies first.
add() {
  local n=${1//-/_}
  [ -n "${done_[$n]:-}" ] && return
  done_[$n]=1
  local f=${path[$n]:-}
  [ -n "$f" ] || return 0 # built in
  local deps
  deps=$(grep -a -o 'depends=[a-z0-9_,-]*' "$f" | head -1 | cut -d= -f2)
  local d
  for d in ${deps//,/ }; do add "$d"; done
  order+=("$n")
}
for m in virtio_pci virtio_net virtio_console tcp_diag; do add "$m"; done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/lib/modules" "$root/dev" "$root/proc" "$root/sys"
cp "$agent" "$root/init"
chmod 755 "$root/init"
: > "$root/modules.list"
for n in "${order[@]}"; do
  cp "${path[$n]}" "$root/lib/modules/$n.ko"
  echo "$n" >> "$root/modules.list"
done
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -9) > "$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out: /init (synfin-agent) + ${#order[@]} modules: ${order[*]}" >&2
