#!/usr/bin/env bash
# hpcpipe installs as a CMake package and a pkg-config module; the example
# plugin builds against the installed copy both ways and runs.
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
finish
