#!/usr/bin/env bash
# The stack's side of tap:cmd= for a kernel in a VM: QEMU (TCG) boots KERNEL with
# INITRD (tools/vm/mkinitramfs.sh: synfin-agent as /init). synfin runs this inside its
# private network namespace, where QEMU attaches to the TAP device $SYNFIN_TAP_IF by name
# and carries the control channel (descriptor $SYNFIN_CTL_FD) to the guest's agent as the
# virtio-serial port "synfin.ctl". The guest's console goes to LOG (default /dev/null).
# Usage: tap:settle=MS,cmd=tools/vm/run-vm.sh KERNEL INITRD [LOG]
set -euo pipefail
kernel=${1:?usage: run-vm.sh KERNEL INITRD [LOG]}
initrd=${2:?usage: run-vm.sh KERNEL INITRD [LOG]}
log=${3:-/dev/null}
: "${SYNFIN_TAP_IF:?run by the tap: target of synfin}" "${SYNFIN_CTL_FD:?}" "${SYNFIN_TARGET_MAC:?}"
# The guest addresses eth0 and adds a permanent neighbour entry for synfin's side.
setup="eth0,$SYNFIN_TARGET_IP/$SYNFIN_PREFIX,$SYNFIN_PEER_IP,$SYNFIN_PEER_MAC"
# vnet_hdr=off: no checksum or segmentation offload between guest and TAP, so every
# frame on the TAP is a wire frame (checksummed by the guest, at most one MTU).
exec qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 1 -m 256 \
  -nodefaults -no-user-config -nographic -no-reboot \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off no_timer_check tsc=reliable synfin.setup=$setup synfin.ctl=virtio:synfin.ctl" \
  -serial "file:$log" \
  -netdev "tap,id=n0,ifname=$SYNFIN_TAP_IF,script=no,downscript=no,vnet_hdr=off" \
  -device "virtio-net-pci,netdev=n0,mac=$SYNFIN_TARGET_MAC,romfile=" \
  -chardev "socket,id=ctl,fd=$SYNFIN_CTL_FD" \
  -device virtio-serial-pci -device virtserialport,chardev=ctl,name=synfin.ctl
