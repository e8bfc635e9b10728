#!/usr/bin/env bash
# Cases per second through tap: beside the linux target, in the same sitting: the host
# kernel through tap: + synfin-agent, and (with VM_DIR) Debian's 6.1 kernel in a TCG VM
# through tap:cmd=tools/vm/run-vm.sh. Each rate comes from bench_replay: a raw loop
# (handshake + RST through the target, no model) and the seed corpus replayed through the
# runner; the ratios are to the linux target's figures of the same run. The VM's boot is
# timed separately (bench_replay opens the target once).
# Usage: bench/bench_tap.sh [BUILD_DIR] [SECONDS] [VM_DIR]
#   VM_DIR: holds kernel/ and initrd.gz as test_tap_vm leaves them (<build>/vm).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-6}
vm=${3:-}
bench=$build/bench/bench_replay
[ -x "$bench" ] || { echo "bench_tap: build first ($bench missing)" >&2; exit 2; }

# "raw R scenarios S" averaged over bench_replay's rounds.
rates() {
  awk '/^round/ {r += $4; s += $7; n++} END {if (n) printf "%.0f %.1f\n", r / n, s / n}'
}
run() {
  local name=$1 spec=$2 t0 t1 out
  t0=$(date +%s.%N)
  out=$("$bench" "$spec" "$secs")
  t1=$(date +%s.%N)
  echo "$out" | sed "s/^/  $name: /" >&2
  read -r raw scn < <(echo "$out" | rates)
  printf '%s %s %s %s\n' "$name" "$raw" "$scn" "$(echo "$t1 - $t0" | bc)"
}

base=$(run linux linux)
tap=$(run tap tap)
lines=("$base" "$tap")
if [ -n "$vm" ]; then
  kernel=$(ls "$vm"/kernel/boot/vmlinux-* "$vm"/kernel/boot/vmlinuz-* 2>/dev/null | head -1)
  spec="tap:settle=20,boot=120000,cmd=tools/vm/run-vm.sh $kernel $vm/initrd.gz /dev/null"
  lines+=("$(run vm-6.1 "$spec")")
fi
read -r _ braw bscn _ <<<"$base"
printf '\n%-8s %14s %8s %16s %8s %10s\n' target "raw exch/s" ratio "seed scenarios/s" ratio "wall s"
for l in "${lines[@]}"; do
  read -r name raw scn wall <<<"$l"
  printf '%-8s %14s %8.2f %16s %8.2f %10.1f\n' "$name" "$raw" \
    "$(echo "$raw / $braw" | bc -l)" "$scn" "$(echo "$scn / $bscn" | bc -l)" "$wall"
done
echo "(wall: the whole bench_replay run, $secs s of measurement plus the target's start;"
echo " for the VM that start is its TCG boot)"
