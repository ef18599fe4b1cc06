/*
 * hpcpipe/node.h - the API for node authors: the values that flow between
 * nodes (tables, arrays, groups), read-only configuration trees (a node's
 * `args` and its `params:` inputs), the node context, and registration of
 * node types by builtins and plugins alike.
 *
 * A node function is `int fn(hp_node_ctx *ctx)`: it reads its inputs,
 * builds its outputs, hands each one over with hp_node_output() and returns
 * HP_OK, or returns hp_node_fail(ctx, ...) with a message. It runs on one
 * rank, single-threaded; inputs are borrowed until it returns.
 */
#ifndef HPCPIPE_NODE_H
#define HPCPIPE_NODE_H

#include <stddef.h>
#include <stdint.h>

#ifndef HP_EXTERN
#define HP_EXTERN __attribute__((visibility("default")))
#endif

/* ---- values ------------------------------------------------------------ */

typedef enum hp_kind { HP_TABLE = 1, HP_ARRAY = 2, HP_GROUP = 3 } hp_kind;

/* Element types. Tables hold int64, float64, bool (one byte, 0 or 1),
 * string (plain or dictionary-encoded) and timestamp columns; arrays hold
 * int64 or float64; group attributes hold int64, float64 or string. A
 * timestamp is an int64 count of nanoseconds since 1970-01-01T00:00:00 UTC
 * (numpy's datetime64[ns]). */
typedef enum hp_dtype {
  HP_INT64 = 1,
  HP_FLOAT64 = 2,
  HP_BOOL = 3,
  HP_STRING = 4,
  HP_TIMESTAMP = 5
} hp_dtype;

typedef struct hp_value hp_value;

HP_EXTERN hp_kind hp_value_kind(const hp_value *v);
/* Rows of a table, first dimension of an array, 0 for a group. */
HP_EXTERN size_t hp_value_rows(const hp_value *v);
/* A deep copy; the caller owns it. */
HP_EXTERN hp_value *hp_value_copy(const hp_value *v);
/* Frees v and everything in it; NULL is a no-op. */
HP_EXTERN void hp_value_free(hp_value *v);
HP_EXTERN const char *hp_dtype_name(hp_dtype t); /* "int64", ... */

/* Tables: named, typed columns of equal length. */
HP_EXTERN hp_value *hp_table_new(void);
/* Adds a column of nrows values copied from data: int64_t[] (int64 and
 * timestamp), double[], uint8_t[] (bool) or const char *const [] (string). data may be NULL:
 * zeros, or empty strings. Every column must have the same row count, and
 * names must be unique: HP_EINVAL otherwise. */
HP_EXTERN int hp_table_add_column(hp_value *t, const char *name, hp_dtype type,
                                  const void *data, size_t nrows);
HP_EXTERN size_t hp_table_ncols(const hp_value *t);
HP_EXTERN const char *hp_table_colname(const hp_value *t, size_t col);
HP_EXTERN hp_dtype hp_table_coltype(const hp_value *t, size_t col);
/* Index of the column called name, or -1. */
HP_EXTERN long hp_table_find(const hp_value *t, const char *name);
/* The column's elements (int64_t, double or uint8_t); NULL for strings. */
HP_EXTERN const void *hp_table_column(const hp_value *t, size_t col);
/* Writable access to a numeric or bool column of a table you own. */
HP_EXTERN void *hp_table_column_mut(hp_value *t, size_t col);
/* Row `row` of a string column (plain or dictionary), NUL-terminated; ""
 * for other types and for null rows. */
HP_EXTERN const char *hp_table_str(const hp_value *t, size_t col, size_t row);

/* Nulls. A column may carry a validity mask: valid[r] is 1 where row r has
 * a value, 0 where it is null. NULL means every row is valid. A float NaN
 * also counts as null (pandas' isnull). */
HP_EXTERN const uint8_t *hp_table_valid(const hp_value *t, size_t col);
/* Copies nrows bytes of valid (any nonzero byte = valid) into the column's
 * mask; NULL removes the mask. HP_EINVAL for a bad column. */
HP_EXTERN int hp_table_set_valid(hp_value *t, size_t col, const uint8_t *valid);

/* Dictionary-encoded strings: row r is dict[codes[r]]. The dictionary's
 * entries must be distinct; codes must be in [0, ndict) (HP_EINVAL
 * otherwise). Reads like any string column through hp_table_str. */
HP_EXTERN int hp_table_add_dict_column(hp_value *t, const char *name,
                                       const int32_t *codes, size_t nrows,
                                       const char *const *dict, size_t ndict);
/* The codes of a dictionary-encoded column, or NULL for any other column. */
HP_EXTERN const int32_t *hp_table_dict_codes(const hp_value *t, size_t col);
HP_EXTERN size_t hp_table_dict_size(const hp_value *t, size_t col);
HP_EXTERN const char *hp_table_dict_str(const hp_value *t, size_t col,
                                        size_t k);

/* Arrays: n-dimensional (1 <= ndim <= 8), row-major, zero-filled. */
HP_EXTERN hp_value *hp_array_new(hp_dtype type, int ndim, const size_t *dims);
HP_EXTERN hp_dtype hp_array_dtype(const hp_value *a);
HP_EXTERN int hp_array_ndim(const hp_value *a);
HP_EXTERN const size_t *hp_array_dims(const hp_value *a);
HP_EXTERN size_t hp_array_size(const hp_value *a); /* number of elements */
HP_EXTERN const void *hp_array_data(const hp_value *a);
HP_EXTERN void *hp_array_data_mut(hp_value *a);

/* Groups: named child values plus scalar attributes (a model, metrics). */
HP_EXTERN hp_value *hp_group_new(void);
/* Adds or replaces child `name`; takes ownership of child, even on error. */
HP_EXTERN int hp_group_set(hp_value *g, const char *name, hp_value *child);
HP_EXTERN size_t hp_group_count(const hp_value *g);
HP_EXTERN const char *hp_group_name(const hp_value *g, size_t i);
HP_EXTERN const hp_value *hp_group_child(const hp_value *g, size_t i);
HP_EXTERN const hp_value *hp_group_get(const hp_value *g, const char *name);
HP_EXTERN int hp_group_set_i64(hp_value *g, const char *name, int64_t x);
HP_EXTERN int hp_group_set_f64(hp_value *g, const char *name, double x);
HP_EXTERN int hp_group_set_str(hp_value *g, const char *name, const char *s);
HP_EXTERN size_t hp_group_nattrs(const hp_value *g);
HP_EXTERN const char *hp_group_attr_name(const hp_value *g, size_t i);
HP_EXTERN hp_dtype hp_group_attr_type(const hp_value *g, size_t i);
/* Attribute lookup by name: HP_OK, or HP_EINVAL if absent or of another
 * type (an int64 attribute reads as f64 too). */
HP_EXTERN int hp_group_attr_i64(const hp_value *g, const char *name,
                                int64_t *out);
HP_EXTERN int hp_group_attr_f64(const hp_value *g, const char *name,
                                double *out);
/* Borrowed until g changes or is freed; NULL if absent or not a string. */
HP_EXTERN const char *hp_group_attr_str(const hp_value *g, const char *name);

/* ---- configuration trees (args, parameters) ------------------------------ */

typedef struct hp_tree hp_tree;
typedef enum hp_tree_kind {
  HP_TREE_NULL = 0,
  HP_TREE_SCALAR = 1,
  HP_TREE_SEQ = 2,
  HP_TREE_MAP = 3
} hp_tree_kind;

HP_EXTERN hp_tree_kind hp_tree_type(const hp_tree *t); /* NULL t: NULL kind */
HP_EXTERN size_t hp_tree_len(const hp_tree *t);        /* seq/map items */
HP_EXTERN const hp_tree *hp_tree_at(const hp_tree *t, size_t i);
HP_EXTERN const char *hp_tree_key(const hp_tree *t, size_t i); /* maps */
/* Looks up a dotted path ("model.lr") through maps; NULL if absent. */
HP_EXTERN const hp_tree *hp_tree_get(const hp_tree *t, const char *path);
/* The text of a scalar; NULL for anything else. */
HP_EXTERN const char *hp_tree_text(const hp_tree *t);
/* Typed reads of a scalar at `path` (NULL or "" for t itself). An absent
 * path gives dflt and HP_OK; a value of the wrong type gives HP_EINVAL. */
HP_EXTERN int hp_tree_i64(const hp_tree *t, const char *path, int64_t dflt,
                          int64_t *out);
HP_EXTERN int hp_tree_f64(const hp_tree *t, const char *path, double dflt,
                          double *out);
HP_EXTERN int hp_tree_bool(const hp_tree *t, const char *path, int dflt,
                           int *out);
/* Borrowed; dflt when absent or not a scalar. */
HP_EXTERN const char *hp_tree_str(const hp_tree *t, const char *path,
                                  const char *dflt);

/* ---- random numbers -------------------------------------------------- */

/* Deterministic streams (GSL's MT19937) named by (seed, stream): the same
 * pair gives the same numbers on every rank and machine, so a node that
 * draws partition p from stream p gives results that do not depend on the
 * rank count. A generator is not shared between threads. */
typedef struct hp_rng hp_rng;

/* A new generator; never NULL (out of memory aborts). */
HP_EXTERN hp_rng *hp_rng_new(uint64_t seed, uint64_t stream);
HP_EXTERN void hp_rng_free(hp_rng *r); /* NULL is a no-op */
/* Uniform on [a, b). */
HP_EXTERN double hp_rng_uniform(hp_rng *r, double a, double b);
/* Normal with mean and standard deviation sd (>= 0). */
HP_EXTERN double hp_rng_normal(hp_rng *r, double mean, double sd);
/* Poisson with mean mu; 0 for mu <= 0. */
HP_EXTERN uint64_t hp_rng_poisson(hp_rng *r, double mu);
/* Uniform integer in [0, n); 0 for n == 0. */
HP_EXTERN uint64_t hp_rng_int(hp_rng *r, uint64_t n);

/* ---- the node context ------------------------------------------------ */

typedef struct hp_node_ctx hp_node_ctx;

HP_EXTERN const char *hp_node_name(const hp_node_ctx *ctx);
HP_EXTERN int hp_node_rank(const hp_node_ctx *ctx);
/* The node's `args:` mapping (NULL kind if it has none). */
HP_EXTERN const hp_tree *hp_node_args(const hp_node_ctx *ctx);

/* Inputs in the order written (a map's entries in order). */
HP_EXTERN size_t hp_node_ninputs(const hp_node_ctx *ctx);
/* The argument name of input i for map inputs, else its dataset name. */
HP_EXTERN const char *hp_node_input_name(const hp_node_ctx *ctx, size_t i);
/* Input i as a value; borrowed until the function returns. HP_EINVAL if
 * input i is a `params:` input (safe for probing: the reason is reported
 * only if the function then fails without a message of its own). */
HP_EXTERN int hp_node_input(hp_node_ctx *ctx, size_t i, const hp_value **out);
/* Input i as a parameter tree (`params:x` or `parameters`); HP_EINVAL if it
 * is a dataset (as hp_node_input, safe for probing). */
HP_EXTERN int hp_node_param(hp_node_ctx *ctx, size_t i, const hp_tree **out);
/* Index of the input with argument or dataset name `name`, or -1. */
HP_EXTERN long hp_node_input_index(const hp_node_ctx *ctx, const char *name);

HP_EXTERN size_t hp_node_noutputs(const hp_node_ctx *ctx);
/* The key of output i for map outputs, else its dataset name. */
HP_EXTERN const char *hp_node_output_name(const hp_node_ctx *ctx, size_t i);
/* Hands v over as output i; takes ownership of v, even on error. Every
 * output must be set exactly once before the function returns HP_OK. */
HP_EXTERN int hp_node_output(hp_node_ctx *ctx, size_t i, hp_value *v);

/* Logs one line on stderr, prefixed with the node name and rank. */
HP_EXTERN void hp_node_log(hp_node_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Records why the node failed and returns HP_ENODE: `return
 * hp_node_fail(ctx, "column '%s' missing", name);` */
HP_EXTERN int hp_node_fail(hp_node_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- cores (docs/node-api.md#using-several-cores) ----
 * A node may run the items of a loop on several cores: fn(arg, i) runs
 * for each i in [0, n), on the calling thread and on helper threads, and
 * hp_node_parallel returns when all have run. How many cores: the rank's
 * own (HPCPIPE_THREADS; in-process, the CPUs the process may use; on a
 * worker, 1) and, under mpirun, those of idle workers on the same host
 * that rank 0 lends the task while nothing else is ready to run. Items
 * run in any order on any thread: each must write results of its own
 * (combine them in index order afterwards, so results do not depend on
 * the core count) and call no hp_node_* function but hp_node_parallel,
 * which runs a nested loop on the calling thread. */
typedef void (*hp_parallel_fn)(void *arg, size_t i);
HP_EXTERN void hp_node_parallel(hp_node_ctx *ctx, size_t n, hp_parallel_fn fn,
                                void *arg);
/* The cores the running task has now (at least 1): what a loop of as
 * many items or more would run on, called from the task's thread. */
HP_EXTERN int hp_node_cores(const hp_node_ctx *ctx);

/* ---- registration -------------------------------------------------------- */

#define HP_NODE_ABI 2

typedef int (*hp_node_fn)(hp_node_ctx *ctx);

/* How a node type meets partitioned inputs (DESIGN.md section 3). */
typedef enum hp_node_mode {
  /* Runs once on whole inputs; a partitioned input arrives stitched. A node
   * with `partitioned: true` in YAML runs as HP_MODE_MAP instead. */
  HP_MODE_WHOLE = 0,
  /* Runs once per partition of its first input (the others whole); its
   * outputs are partitioned the same way. */
  HP_MODE_MAP = 1,
  /* A reduction: `run` makes one partial per partition of the first input
   * (its single output); `combine` merges the partials given as its inputs
   * (in partition order) into one; `finish` turns the last partial (input
   * 0) into the node's outputs. The tree of combines has a fixed shape, so
   * results do not depend on rank count or finishing order. */
  HP_MODE_REDUCE = 2,
  /* Makes partitioned outputs from nothing (synthetic data): `nparts` says
   * how many partitions the node's args call for, and `run` makes one. */
  HP_MODE_SOURCE = 3,
  /* A shuffle (a join): with Q the largest partition count of its dataset
   * inputs, `split` cuts each partition of each such input into Q pieces
   * (its Q outputs; hp_node_split_input says which input it cuts), piece q
   * of every partition is gathered, and `run` then runs once per q on whole
   * inputs (bucket q of each), making partition q of the outputs. When
   * every input but the first is whole and `broadcast` says yes for the
   * args, the node runs as HP_MODE_MAP instead. */
  HP_MODE_SHUFFLE = 4
} hp_node_mode;

typedef struct hp_node_type {
  int abi;           /* HP_NODE_ABI */
  const char *name;  /* "core.identity": what `func:` names in YAML */
  hp_node_fn run;    /* required */
  const char *doc;   /* one line describing it (optional) */
  hp_node_mode mode; /* HP_MODE_WHOLE (0) unless set */
  hp_node_fn combine; /* HP_MODE_REDUCE */
  hp_node_fn finish;  /* HP_MODE_REDUCE */
  /* HP_MODE_SOURCE: the partition count for these args; on a bad argument
   * returns nonzero with a message in msg. */
  int (*nparts)(const hp_tree *args, size_t *n, char *msg, size_t msglen);
  hp_node_fn split;                   /* HP_MODE_SHUFFLE */
  int (*broadcast)(const hp_tree *args); /* HP_MODE_SHUFFLE (optional) */
} hp_node_type;

/* The partition this call handles (0-based) and how many there are: 0 and
 * 1 for a whole run; for a combine, the index of the first partial. */
HP_EXTERN size_t hp_node_part(const hp_node_ctx *ctx);
HP_EXTERN size_t hp_node_nparts(const hp_node_ctx *ctx);
/* In a shuffle's split: the index of the input being cut (its only dataset
 * input is that input's partition hp_node_part). */
HP_EXTERN size_t hp_node_split_input(const hp_node_ctx *ctx);

typedef struct hp_registry hp_registry;

/* Registers n node types; the table must outlive the process (static).
 * HP_EINVAL for a wrong ABI or a name already registered. */
HP_EXTERN int hp_register_nodes(hp_registry *reg, const hp_node_type *types,
                                size_t n);

/* ---- hooks (docs/node-api.md#hooks) ----
 * A plugin may register functions called when things happen in a run, on
 * the rank where they happen. Order for one task: before_node_run (inputs
 * loaded) -> the node's function -> after_node_run (function succeeded,
 * outputs not yet saved) -> after_dataset_saved once per persistent output,
 * in output order; on_node_error instead when loading, the function or a
 * save fails (before a retry, if any). before_pipeline_run and
 * after_pipeline_run run on rank 0 around all tasks. Hooks of one kind run
 * in registration order (plugins in hpcpipe.yml order). A hook must not
 * call back into the run; it cannot fail it. */
typedef enum hp_hook_kind {
  HP_HOOK_BEFORE_PIPELINE_RUN = 0,
  HP_HOOK_AFTER_PIPELINE_RUN = 1,
  HP_HOOK_BEFORE_NODE_RUN = 2,
  HP_HOOK_AFTER_NODE_RUN = 3,
  HP_HOOK_ON_NODE_ERROR = 4,
  HP_HOOK_AFTER_DATASET_SAVED = 5,
  HP_HOOK_KINDS = 6
} hp_hook_kind;

typedef struct hp_hook_event {
  const char *run;     /* the run id */
  int rank;            /* where the event happens */
  const char *node;    /* node events: the task ("clean" or "clean[3]") */
  int attempt;         /* node events: 1, 2, ... with retries */
  double seconds;      /* after_node_run: time in the function;
                          after_pipeline_run: the run's */
  const char *dataset; /* after_dataset_saved: its name */
  const char *path;    /* after_dataset_saved: the file written */
  const char *status;  /* after_pipeline_run: "finished", "failed" or
                          "interrupted"; on_node_error: the message */
} hp_hook_event;

typedef void (*hp_hook_fn)(hp_hook_kind kind, const hp_hook_event *ev,
                           void *data);

/* Registers fn for events of `kind`, called with data. HP_EINVAL for an
 * unknown kind or a NULL fn. */
HP_EXTERN int hp_register_hook(hp_registry *reg, hp_hook_kind kind,
                               hp_hook_fn fn, void *data);

/* A plugin is a shared library exporting exactly this symbol. */
typedef int (*hp_plugin_init_fn)(hp_registry *reg);
#define HP_PLUGIN_ENTRY "hp_plugin_init"

#endif
