#!/usr/bin/env bash
# hpcpipe installs as a CMake package and a pkg-config module; the example
# plugin builds against the installed copy both ways and runs; a project
# made by `hpcpipe new`, and a pipeline added by `hpcpipe pipeline create`,
# build and run as created.
. "$(dirname "$0")/lib.bash"
BUILD=$(cd "$(dirname "$HPCPIPE")" && pwd)
PREFIX=$SCRATCH/prefix
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null || fail "cmake --install"
[ -x "$PREFIX/bin/hpcpipe" ] || fail "installed hpcpipe binary"

E=$SCRATCH/ex && cp -r "$SRC/examples/plugin" "$E" && rm -rf "$E/build"
cmake -S "$E" -B "$E/build" -DCMAKE_PREFIX_PATH="$PREFIX" >"$SCRATCH/cmake.log" 2>&1 &&
  cmake --build "$E/build" >>"$SCRATCH/cmake.log" 2>&1 || { fail "find_package build"; cat "$SCRATCH/cmake.log" >&2; }
HPCPIPE=$PREFIX/bin/hpcpipe
hp 1 run "$E/conf"
expect_rc 0 "plugin run in-process"
printf 'name,x,n\na,15.0,1\nb,-22.5,2\n' | cmp -s - "$E/data/scaled.csv" || { fail "plugin output"; cat "$E/data/scaled.csv" >&2; }
rm -f "$E/data/scaled.csv"
hp 2 run "$E/conf"
expect_rc 0 "plugin run on 2 ranks"
[ -s "$E/data/scaled.csv" ] || fail "plugin output on 2 ranks"

# pkg-config route
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig:$PREFIX/lib/x86_64-linux-gnu/pkgconfig
gcc -std=c11 -shared -fPIC -o "$SCRATCH/libscale2.so" "$E/scale.c" $(pkg-config --cflags --libs hpcpipe) ||
  fail "pkg-config build"

# --- scaffolding ---------------------------------------------------------------
unset HPCPIPE_PLUGIN_PATH
cd "$SCRATCH" && rm -rf myproj
"$HPCPIPE" new myproj >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "hpcpipe new"
for f in README.md .gitignore conf/base/hpcpipe.yml conf/base/catalog.yml conf/base/parameters.yml \
  conf/base/pipelines.yml conf/local/README.md jobs/CMakeLists.txt jobs/myproj.c slurm/run.sbatch \
  data/01_raw/.gitkeep data/08_reporting/.gitkeep; do
  [ -f "myproj/$f" ] || fail "hpcpipe new: $f missing"
done
grep -q "CMAKE_PREFIX_PATH=$PREFIX" myproj/README.md || fail "README names the install prefix"
bash -n myproj/slurm/run.sbatch || fail "the job script is not valid bash"
cd myproj
cmake -S jobs -B build/jobs -DCMAKE_PREFIX_PATH="$PREFIX" >"$SCRATCH/new.log" 2>&1 &&
  cmake --build build/jobs >>"$SCRATCH/new.log" 2>&1 && ok "the new project's plugin builds" ||
  { fail "the new project's plugin does not build"; cat "$SCRATCH/new.log" >&2; }
for np in 1 3; do
  rm -rf data/store data/08_reporting/summary.csv
  hp "$np" run conf
  expect_rc 0 "np=$np: the new project runs as created"
  [ "$(wc -l <data/08_reporting/summary.csv)" = 27 ] && ok "np=$np: summary.csv has 26 names" ||
    fail "np=$np: summary.csv: $(wc -l <data/08_reporting/summary.csv 2>&1) lines"
done
"$HPCPIPE" pipeline create extra >"$OUT" 2>"$ERR"; RC=$?
expect_rc 0 "hpcpipe pipeline create"
cmake --build build/jobs >>"$SCRATCH/new.log" 2>&1 || fail "rebuild with the new pipeline"
PATH=$PREFIX/bin:$PATH bash tests/test_extra.sh >"$OUT" 2>"$ERR" && ok "the new pipeline's test passes" ||
  { fail "the new pipeline's test"; cat "$OUT" "$ERR" >&2; }
hp 1 run conf
expect_rc 0 "the default pipeline still runs after pipeline create"
"$HPCPIPE" pipeline create extra >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "pipeline create of an existing name"
expect_err "exists already" "pipeline create of an existing name: message"
(cd "$SCRATCH" && "$HPCPIPE" pipeline create extra) >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "pipeline create outside a project"
expect_err "conf/base/pipelines.yml: no such file" "pipeline create outside a project: message"
"$HPCPIPE" new "$SCRATCH/myproj" >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "hpcpipe new over an existing directory"
"$HPCPIPE" new Bad-Name >"$OUT" 2>"$ERR"; RC=$?
expect_rc 2 "hpcpipe new with a bad name"
expect_err "project name 'Bad-Name'" "bad project name: message"
finish
