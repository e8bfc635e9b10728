#!/usr/bin/env bash
# CI: pack build DIR (default build/) with `cpack -G DEB`, install the .deb with apt as a
# user would, and run the installed synfin from / (no source tree in sight): `synfin
# targets`, a short campaign that must start from the installed seeds, and a replay of
# the installed regression corpus. The package is removed again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
[ "$(id -u)" -eq 0 ] || { echo "ci_deb: needs root to install a package; skipped"; exit 0; }
if dpkg-query -W -f='${Status}' synfin 2>/dev/null | grep -q "install ok installed"; then
  echo "ci_deb: a synfin package is installed already; not touching it"; exit 1
fi
(cd "$dir" && rm -f synfin_*.deb && cpack -G DEB >cpack.log 2>&1) || { cat "$dir/cpack.log"; exit 1; }
deb=$(ls "$PWD/$dir"/synfin_*.deb)
tmp=$(mktemp -d /tmp/synfin-deb.XXXXXX)
cleanup() { DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq synfin >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; exit 1; }
fail=0
check() { # what, then a command that must succeed
  local what=$1; shift
  if "$@" >"$tmp/out" 2>&1; then echo "ci_deb: ok   $what"; else echo "ci_deb: FAIL $what"; cat "$tmp/out"; fail=1; fi
}
cd /
check "installed at /usr/bin/synfin" test "$(command -v synfin)" = /usr/bin/synfin
check "synfin --version" synfin --version
check "synfin targets lists lwip" sh -c 'synfin targets | grep -q "^lwip .*available"'
check "man page synfin(1)" sh -c 'test -s /usr/share/man/man1/synfin.1 || test -s /usr/share/man/man1/synfin.1.gz'
check "bash completion" test -s /usr/share/bash-completion/completions/synfin
check "a campaign from / starts from the installed seeds" sh -c \
  "synfin fuzz --target model:fault=tw-ignore-fin --out $tmp/f $tmp/corpus -- -runs=3000 -seed=1 >$tmp/fuzz.log 2>&1; rc=\$?; cat $tmp/fuzz.log; grep -q 'corpus .*([1-9][0-9]* seeds)' $tmp/fuzz.log && [ \$rc -eq 1 ]"
check "replay of the installed regression corpus on lwip" \
  synfin replay /usr/share/synfin/regress --target lwip
check "synfin ci from / with no campaign" \
  synfin ci --target lwip --time 0 --out "$tmp/ci" --no-lifecycle
cd - >/dev/null
exit $fail
