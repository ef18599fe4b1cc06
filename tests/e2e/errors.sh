#!/usr/bin/env bash
# Bad input through the CLI: each case exits with the documented code and
# one located message, in-process and on several ranks, with no MPI noise.
. "$(dirname "$0")/lib.bash"

# mini DIR: a small project with builtins only.
mini() {
  rm -rf "$1" && mkdir -p "$1/conf/base" "$1/data"
  cat >"$1/conf/base/catalog.yml" <<'Y'
a: {type: memory}
Y
  cat >"$1/conf/base/parameters.yml" <<'Y'
k: 1
Y
  cat >"$1/conf/base/pipelines.yml" <<'Y'
pipelines:
  __default__:
    - {node: first, func: core.noop, outputs: a}
    - {node: second, func: core.identity, inputs: a, outputs: b}
    - {node: third, func: core.noop, inputs: [b, params:k], outputs: c}
Y
}

# case NAME CODE TEXT NP ARGS...: runs and checks code, message, noise.
case_() {
  local name=$1 code=$2 text=$3 np=$4; shift 4
  hp "$np" "$@"
  expect_rc "$code" "$name (np=$np)"
  expect_err "$text" "$name (np=$np): message"
  no_mpi_noise "$name (np=$np)"
}

P=$SCRATCH/m
for np in 1 3; do
  mini "$P"
  case_ "valid mini project" 0 "" "$np" run "$P/conf"

  mini "$P"; printf 'pipelines:\n  __default__: [\n' >"$P/conf/base/pipelines.yml"
  case_ "broken YAML" 2 "conf/base/pipelines.yml:3:1:" "$np" run "$P/conf"

  mini "$P"; sed -i 's/core.identity/core.nope/' "$P/conf/base/pipelines.yml"
  case_ "unknown function" 2 "conf/base/pipelines.yml:4:7: node 'second': unknown function 'core.nope'" "$np" check "$P/conf"

  mini "$P"; sed -i 's/outputs: a}/inputs: c, outputs: a}/' "$P/conf/base/pipelines.yml"
  case_ "cycle" 2 "first -> second -> third -> first" "$np" run "$P/conf"

  mini "$P"
  case_ "unknown node filter" 2 "['nope']" "$np" run "$P/conf" --nodes nope
  case_ "empty selection" 2 "no nodes" "$np" run "$P/conf" --from-nodes third --to-nodes first
  case_ "unknown option" 2 "unknown option '--frobnicate'" "$np" run "$P/conf" --frobnicate
  case_ "missing env" 2 "prod" "$np" run "$P/conf" --env prod
  case_ "bad --params" 2 "--params" "$np" run "$P/conf" --params novalue
  case_ "missing conf" 2 "nowhere" "$np" run "$SCRATCH/nowhere/conf"

  mini "$P"; sed -i 's/params:k/params:missing/' "$P/conf/base/pipelines.yml"
  case_ "unknown parameter" 2 "parameter 'missing'" "$np" check "$P/conf"

  mini "$P"; printf 'a: {type: parquet}\n' >"$P/conf/base/catalog.yml"
  case_ "unknown dataset type" 2 "conf/base/catalog.yml:1:" "$np" run "$P/conf"

  mini "$P"; rm "$P/conf/base/catalog.yml"; ln -s "$SCRATCH/nothing" "$P/conf/base/catalog.yml"
  case_ "catalog a dangling link" 2 "conf/base/catalog.yml: not a regular file (a link to nothing)" "$np" run "$P/conf"
  mini "$P"; rm "$P/conf/base/catalog.yml"; mkdir "$P/conf/base/catalog.yml"
  case_ "catalog a directory" 2 "conf/base/catalog.yml: not a regular file (a directory)" "$np" check "$P/conf"

  mini "$P"; printf 'store: ""\n' >"$P/conf/base/hpcpipe.yml"
  case_ "empty store setting" 2 "conf/base/hpcpipe.yml:1:8: 'store' must be" "$np" check "$P/conf"
  mini "$P"; printf 'store: [a]\n' >"$P/conf/base/hpcpipe.yml"
  case_ "store setting a list" 2 "conf/base/hpcpipe.yml:1:8: 'store' must be" "$np" run "$P/conf"
  mini "$P"; printf 'inline_max: 10\nretries: 1.5\n' >"$P/conf/base/hpcpipe.yml"
  case_ "bad retries" 2 "conf/base/hpcpipe.yml:2:10: 'retries' must be an integer >= 0" "$np" run "$P/conf"

  mini "$P"; printf 'a: &a [*a]\n' >"$P/conf/base/catalog.yml"
  hp "$np" run "$P/conf"; expect_rc 2 "recursive alias (np=$np)"; no_mpi_noise "recursive alias"

  mini "$P"
  python3 -c "print('x: ' + '['*5000 + ']'*5000)" >"$P/conf/base/parameters.yml"
  case_ "deep nesting" 2 "conf/base/parameters.yml:1:" "$np" run "$P/conf"

  mini "$P"
  printf 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n' >"$P/conf/base/parameters.yml"
  case_ "alias bomb" 2 "conf/base/parameters.yml" "$np" run "$P/conf"

  mini "$P"; head -c 3000 /dev/urandom >"$P/conf/base/catalog.yml"
  hp "$np" run "$P/conf"; expect_rc 2 "garbage catalog (np=$np)"; no_mpi_noise "garbage"

  # A failing node: exit 1, the node and rank named once, committed outputs kept.
  mini "$P"
  cat >"$P/conf/base/catalog.yml" <<'Y'
a: {type: hdf5, filepath: data/a.h5}
Y
  sed -i 's/core.identity, inputs: a/core.fail, args: {message: boom}, inputs: a/' "$P/conf/base/pipelines.yml"
  case_ "failing node" 1 "node 'second' (rank " "$np" run "$P/conf"
  expect_err "boom" "failing node message (np=$np)"
  [ -s "$P/data/a.h5" ] || fail "output committed before the failure was lost (np=$np)"

  # A misused builtin is a node failure too (exit 1), not a usage error.
  mini "$P"; sed -i 's/inputs: a, outputs: b/inputs: [a, params:k], outputs: [b, b2]/' "$P/conf/base/pipelines.yml"
  case_ "builtin given a parameter" 1 "node 'second' (rank " "$np" run "$P/conf"
done

# A node that crashes: one line naming node and rank, exit 1, no hang, on
# every rank count (AddressSanitizer builds print their own report).
C=$SCRATCH/c && mkdir -p "$C/conf/base"
cat >"$C/crash.c" <<'CC'
#include <hpcpipe.h>
#include <signal.h>
static int crash_run(hp_node_ctx *ctx) { (void)ctx; raise(SIGSEGV); return 0; }
static const hp_node_type t[] = {{.abi = HP_NODE_ABI, .name = "t.crash", .run = crash_run}};
HP_EXTERN int hp_plugin_init(hp_registry *reg);
HP_EXTERN int hp_plugin_init(hp_registry *reg) { return hp_register_nodes(reg, t, 1); }
CC
build_plugin "$C/crash.c" "$C/libcrash.so"
printf 'plugins: [%s/libcrash.so]\n' "$C" >"$C/conf/base/hpcpipe.yml"
printf 'pipelines:\n  __default__:\n    - {node: boom, func: t.crash, outputs: x}\n' >"$C/conf/base/pipelines.yml"
for np in 1 2 3; do
  hp "$np" run "$C/conf"
  if ldd "$HPCPIPE" | grep -q libasan; then
    [ "$RC" != 0 ] || fail "crash under ASan exits non-zero"
  else
    expect_rc 1 "crashing node (np=$np)"
    expect_err "node 'boom' (rank " "crashing node named (np=$np)"
    no_mpi_noise "crashing node (np=$np)"
  fi
done
finish
