#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: every fuzz entry (fuzz/fuzz_<name>.c) is
# compiled with $CC $CFLAGS and linked with $LIB_FUZZING_ENGINE into $OUT/fuzz_<name>,
# with fuzz_<name>_seed_corpus.zip, fuzz_<name>.dict and fuzz_<name>.options beside it.
#
# The engine sees a divergence from RFC 9293 as a crash: the entries are built with
# SYNFIN_FUZZ_TRAP on, which aborts through stack frames named after the divergence's
# rule, kind, state and event (fuzz/trap.c, fuzz/README.md), so each signature is a
# crash of its own.
#
# Runs in the OSS-Fuzz image ($SRC, $WORK, $OUT set) and on any machine with clang, e.g.
#   CC=clang-14 CXX=clang++-14 CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out WORK=/tmp/work \
#   .clusterfuzzlite/build.sh
src=$(cd "$(dirname "$0")/.." && pwd)
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${CXXFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?OUT must name the output directory}" "${WORK:=$(mktemp -d)}"
mkdir -p "$OUT" "$WORK"
build="$WORK/synfin-build"

# The libraries and entries, instrumented by $CFLAGS; no tests or benchmarks needed.
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DSYNFIN_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" >"$WORK/cmake.log"
entries=()
for f in "$src"/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  # fuzz_naive is the benchmark's baseline (no model, no oracle): nothing to find.
  [ "$name" = fuzz_naive ] && continue
  entries+=("$name")
done
# An entry whose target is switched off in this build has no CMake target: skip it.
targets=$(cmake --build "$build" --target help | sed -n 's/^\.\.\. //p')
built=()
for e in "${entries[@]}"; do
  if grep -qx "$e" <<<"$targets"; then built+=("$e"); else echo "build.sh: $e not built here (its target is off)"; fi
done
cmake --build "$build" -j"$(nproc)" --target synfin "${built[@]}" >"$WORK/build.log" 2>&1 ||
  { cat "$WORK/build.log"; exit 1; }

for e in "${built[@]}"; do
  t=${e#fuzz_}
  cp "$build/fuzz/$e" "$OUT/$e"
  # Seeds and dictionary, encoded for this target by synfin itself. The seeds' text
  # lines name targets as spec; an entry with no target of that name (a new entry over
  # model:fault=...) takes the model's.
  spec=$t
  "$build/fuzz/synfin" targets | grep -q "^$t " || spec=model
  rm -rf "$WORK/seeds-$t"
  ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/synfin" fuzz --target "$spec" --seeds "$src/corpus/seeds" \
    --export "$WORK/seeds-$t" >/dev/null
  (cd "$WORK/seeds-$t" && zip -q -r "$OUT/${e}_seed_corpus.zip" .)
  cp "$WORK/seeds-$t.dict" "$OUT/$e.dict"
  cat >"$OUT/$e.options" <<OPTS
[libfuzzer]
dict = $e.dict
max_len = 2241
timeout = 25
OPTS
  echo "build.sh: $OUT/$e"
done
