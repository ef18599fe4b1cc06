#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in WORK/build and runs each for
# SECONDS (default 10) from its seed corpus in tests/fuzz/corpus/. A crash,
# a leak, a sanitizer report, a timeout (10 s per input) or an input using
# more than 2 GB fails the run; the input is saved as WORK/crash-<target>-*.
#   tests/fuzz/run.sh SRC WORK [SECONDS]
# Longer runs: docs/fuzzing.md.
set -u
SRC=$(cd "$1" && pwd) W=$2 T=${3:-${HPCPIPE_FUZZ_SECONDS:-10}}
mkdir -p "$W"
command -v clang >/dev/null || {
  echo "FAIL: clang is missing (.ci/install-deps.sh installs clang and libclang-rt-14-dev)"; exit 1; }
if ! { CC=clang cmake -S "$SRC" -B "$W/build" -DHPCPIPE_FUZZ=ON -DBUILD_TESTING=OFF \
         -DCMAKE_BUILD_TYPE=Debug && \
       cmake --build "$W/build" -j2 --target fuzz_conf fuzz_csv fuzz_expr; } >"$W/build.log" 2>&1; then
  echo "FAIL: the fuzz targets do not build:"; tail -30 "$W/build.log"; exit 1
fi
fails=0
for t in conf csv expr; do
  rm -rf "$W/corpus/$t" && mkdir -p "$W/corpus/$t" && cp "$SRC/tests/fuzz/corpus/$t/"* "$W/corpus/$t/"
  if "$W/build/tests/fuzz/fuzz_$t" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$W/crash-$t-" "$W/corpus/$t" >"$W/$t.log" 2>&1; then
    echo "ok: fuzz_$t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$t.log") inputs in $T s," \
      "corpus $(ls "$W/corpus/$t" | wc -l) files"
  else
    echo "FAIL: fuzz_$t found a problem (input saved as $W/crash-$t-*):"; grep -v '^#' "$W/$t.log" | tail -40
    fails=$((fails + 1))
  fi
done
exit $((fails > 0))
