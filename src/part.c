/*
 * part.c - from the user's selected nodes to the task graph. Walks the
 * user graph in topological order, knowing how many partitions each
 * dataset comes in: a mapped node yields one task per partition of its
 * first input, a reduction its partials, a fixed combine tree and a
 * finish, a source node as many tasks as its args ask for, and each
 * partitioned output that is persistent (or read whole by a later node) a
 * stitch task. Partition p of dataset d is the task-level dataset "d[p]",
 * stored beside d (<stem>-parts/part-NNNNN.<ext>).
 */
#define _POSIX_C_SOURCE 200809L
#include "part.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "log.h"
#include "map.h"
#include "mem.h"
#include "plan.h"
#include "store.h"
#include "tree.h"

typedef struct owned {
  hp_pipeline pipe; /* the tasks; every string in it is owned */
  size_t cap;
  hp_task *task;
  const hp_node_type **fn; /* [tasks] what each task runs */
  hp_map *defs;        /* task dataset name -> const hp_dsdef * */
  hp_dsdef **mydefs;   /* the definitions made here */
  size_t nmydefs, capdefs;
  hp_node_type *types; /* combine and finish entries of reductions */
  size_t ntypes;
  hp_dsdef partial; /* what partials are: memory */
  /* the user-level arrays the task level replaced */
  const hp_dsdef **uds;
  const hp_node_type **ufn;
  const hp_tree **uparam;
  char **uload_version;
  uint32_t *uprio;
  hp_h5_layout **layout; /* [user nds] of stitched inputs (see raw) */
} owned;

static const hp_node_type stitch_type = {
    .abi = HP_NODE_ABI, .name = "core.stitch", .doc = "joins partitions"};

typedef struct xp {
  hp_plan *p;
  owned *o;
  int32_t *np;       /* [user nds] partitions; 0 = not known yet */
  char ***files;     /* [user nds] source files of csv directories/globs */
  int64_t *step;     /* [user nds] source read in ranges of this many bytes
                        (csv) or rows (hdf5); 0: not in ranges */
  int64_t *total;    /* [user nds] rows of an hdf5 source read in ranges */
  hp_cols *need;     /* [user nds] columns the run reads of each dataset */
  uint8_t *stitched; /* [user nds] */
  hp_error *err;
} xp;

static int first_input(const hp_plan *p, size_t n);
static int32_t producer(const xp *x, int32_t ud);

static hp_node_mode mode_of(const hp_plan *p, size_t n) {
  hp_node_mode m = p->fn[n]->mode;
  if (m == HP_MODE_WHOLE && p->upipe->nodes[n].partitioned)
    m = HP_MODE_MAP;
  return m;
}

/* ---- building the task pipeline ---------------------------------------- */

static hp_node *add_task(xp *x, char *name, int32_t unode, int32_t part,
                         int32_t nparts, hp_phase phase, int32_t uds,
                         const hp_node_type *fn) {
  owned *o = x->o;
  if (o->pipe.n == o->cap) {
    size_t c1 = o->cap, c2 = o->cap;
    hp__grow(&o->pipe.nodes, &c1, o->pipe.n + 1, sizeof *o->pipe.nodes);
    hp__grow(&o->fn, &c2, o->pipe.n + 1, sizeof *o->fn);
    hp__grow(&o->task, &o->cap, o->pipe.n + 1, sizeof *o->task);
  }
  o->fn[o->pipe.n] = fn;
  const hp_node *u = &x->p->upipe->nodes[unode];
  hp_node *t = &o->pipe.nodes[o->pipe.n];
  memset(t, 0, sizeof *t);
  t->name = name;
  t->func = hp__xstrdup(phase == HP_PHASE_STITCH ? stitch_type.name : u->func);
  t->ns = u->ns ? hp__xstrdup(u->ns) : NULL;
  t->args = u->args;
  t->partitioned = u->partitioned;
  t->retries = u->retries;
  t->where = u->where;
  o->task[o->pipe.n] = (hp_task){.unode = unode, .uds = uds, .part = part,
                                 .nparts = nparts, .phase = (uint8_t)phase};
  o->pipe.n++;
  return t;
}

static void set_io(hp_io **io, size_t *n, size_t count) {
  *io = hp__xcalloc(count + 1, sizeof **io);
  *n = count;
}

static void put_io(hp_io *io, const char *arg, const char *ds) {
  io->arg = arg ? hp__xstrdup(arg) : NULL;
  io->ds = hp__xstrdup(ds);
}

static void own_def(xp *x, const char *name, const hp_dsdef *d) {
  hp__map_put(x->o->defs, name, (void *)d);
}

/* <filepath without .h5/.hdf5/.csv>-parts/part-NNNNN.<ext>, or for a csv
 * directory (trailing '/') or pattern ('*'), the file of partition k. */
static char *part_path(const hp_dsdef *d, int32_t k) {
  const char *fp = d->filepath;
  size_t n = strlen(fp);
  int csv = d->type == HP_DS_CSV;
  if (csv && n && fp[n - 1] == '/')
    return hp__xasprintf("%spart-%05d.csv", fp, (int)k);
  const char *star = csv ? strchr(fp, '*') : NULL;
  if (star)
    return hp__xasprintf("%.*s%05d%s", (int)(star - fp), fp, (int)k, star + 1);
  static const char *exts[] = {".h5", ".hdf5", ".csv", NULL};
  for (const char **e = exts; *e; e++) {
    size_t el = strlen(*e);
    if (n > el && strcmp(fp + n - el, *e) == 0) {
      n -= el;
      break;
    }
  }
  return hp__xasprintf("%.*s-parts/part-%05d.%s", (int)n, fp, (int)k,
                       csv ? "csv" : "h5");
}

/* The task-level name of partition k of user dataset ud ("ts[3]"), with its
 * definition registered. */
static char *part_name(xp *x, int32_t ud, int32_t k) {
  const hp_plan *p = x->p;
  char *name = hp__xasprintf("%s[%d]", p->ug->dsname[ud], (int)k);
  const hp_dsdef *D = p->ds[ud];
  if (D->type == HP_DS_MEMORY) {
    own_def(x, name, D);
    return name;
  }
  owned *o = x->o;
  hp_dsdef *d = hp__xcalloc(1, sizeof *d);
  d->name = hp__xstrdup(name);
  d->type = D->type == HP_DS_STORE ? HP_DS_HDF5 : D->type;
  if (x->files[ud]) {
    d->filepath = hp__xstrdup(x->files[ud][k]);
    if (k > 0) d->like = hp__xstrdup(x->files[ud][0]);
  } else if (x->step[ud]) { /* a range of the file itself */
    d->filepath = hp__xstrdup(D->filepath);
    d->row0 = (int64_t)k * x->step[ud];
    d->row1 = d->row0 + x->step[ud];
    if (x->total[ud] > 0 && d->row1 > x->total[ud])
      d->row1 = x->total[ud];
  } else {
    d->filepath = part_path(D, k);
    if (producer(x, ud) < 0) /* the stitched file as it is */
      d->raw = hp__h5_layout_part(x->o->layout[ud], (size_t)k);
  }
  d->key = D->key ? hp__xstrdup(D->key) : NULL;
  const hp_cols *need = &x->need[ud];
  if (producer(x, ud) < 0 && !need->all &&
      (d->type == HP_DS_HDF5 || d->type == HP_DS_CSV)) {
    d->project = 1; /* read only what the run uses */
    d->ncols = need->n;
    d->cols = hp__xcalloc(need->n + 1, sizeof *d->cols);
    for (size_t i = 0; i < need->n; i++)
      d->cols[i] = hp__xstrdup(need->v[i]);
  }
  d->entry = D->entry;
  d->entry_borrowed = 1;
  d->where = D->where;
  hp__grow(&o->mydefs, &o->capdefs, o->nmydefs + 1, sizeof *o->mydefs);
  o->mydefs[o->nmydefs++] = d;
  own_def(x, name, d);
  return name;
}

static int32_t producer(const xp *x, int32_t ud) {
  int32_t n = x->p->ug->producer[ud];
  return n >= 0 && x->p->ukeep[n] ? n : -1;
}

void hp__cols_add(hp_cols *c, const char *name) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->v[i], name) == 0)
      return;
  hp__grow(&c->v, &c->cap, c->n + 1, sizeof *c->v);
  c->v[c->n++] = hp__xstrdup(name);
}

void hp__cols_free(hp_cols *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->v[i]);
  free(c->v);
  memset(c, 0, sizeof *c);
}

static void cols_union(hp_cols *c, const hp_cols *o) {
  c->all |= o->all;
  for (size_t i = 0; i < o->n && !c->all; i++)
    hp__cols_add(c, o->v[i]);
}

/* Which columns of each dataset the selected nodes read, from the last
 * node back: a saved output keeps every column; a builtin says what it
 * reads of its first input given what its outputs must keep (a filter
 * passes its consumers' needs through); anything else reads everything. */
static void projection(xp *x) {
  const hp_plan *p = x->p;
  const hp_graph *ug = p->ug;
  for (size_t d = 0; d < ug->nds; d++)
    if (producer(x, (int32_t)d) >= 0 && p->ds[d]->type != HP_DS_MEMORY)
      x->need[d].all = 1;
  for (size_t i = ug->nnodes; i-- > 0;) {
    int32_t n = ug->order[i];
    if (!p->ukeep[n])
      continue;
    hp_cols keep = {0};
    for (size_t k = ug->out_off[n]; k < ug->out_off[n + 1]; k++)
      cols_union(&keep, &x->need[ug->out_ds[k]]);
    if (ug->out_off[n] == ug->out_off[n + 1])
      keep.all = 1;
    int table = 0; /* which dataset input this is: 0 the first */
    for (size_t s = 0; s < p->upipe->nodes[n].nin; s++) {
      int32_t ud = ug->in_ds[ug->in_off[n] + s];
      if (hp__is_param(ug->dsname[ud]))
        continue;
      hp_cols in = {0};
      hp__frame_columns(p->fn[n], p->upipe->nodes[n].args, table++, &keep,
                        &in);
      cols_union(&x->need[ud], &in);
      hp__cols_free(&in);
    }
    hp__cols_free(&keep);
  }
}

/* Partitions of a csv file: a directory or pattern has one per file; a
 * single file with `blocksize`, one per block of bytes. */
static int csv_parts(xp *x, int32_t ud, size_t *n) {
  const hp_dsdef *D = x->p->ds[ud];
  if (hp__fs_list(D->filepath, ".csv", &x->files[ud], n, x->err) != HP_OK) {
    char loc[300];
    hp__error_prefix(x->err, "%s: dataset '%s': ",
                     hp__tree_loc(D->where, loc, sizeof loc), D->name);
    return x->err->code;
  }
  int64_t bs = hp__ds_blocksize(D);
  struct stat st;
  if (!x->files[ud] && bs > 0 && stat(D->filepath, &st) == 0 &&
      st.st_size > bs) {
    *n = (size_t)((st.st_size + bs - 1) / bs);
    x->step[ud] = bs;
  }
  return HP_OK;
}

/* Partitions of an existing hdf5 file: those of a stitched master, else
 * row ranges of `partition_rows` (or `chunks`). */
static void h5_parts(xp *x, int32_t ud, size_t *n) {
  const hp_dsdef *D = x->p->ds[ud];
  int64_t np, rows, pr = hp__ds_partition_rows(D);
  hp_h5_layout *l = NULL;
  if (hp__h5_info(D->filepath, D->key, &np, &rows, &l) != HP_OK)
    return;
  if (np > 1) {
    *n = (size_t)np;
    x->o->layout[ud] = l;
    l = NULL;
  } else if (pr > 0 && rows > pr) {
    *n = (size_t)((rows + pr - 1) / pr);
    x->step[ud] = pr;
    x->total[ud] = rows;
  }
  hp__h5_layout_free(l);
}

/* Partitions of user dataset ud as an input. */
static int nparts_of(xp *x, int32_t ud, int32_t *out) {
  if (!x->np[ud]) {
    const hp_dsdef *D = x->p->ds[ud];
    size_t n = 1;
    if (D->type == HP_DS_CSV && !D->versioned)
      HP_TRY(csv_parts(x, ud, &n));
    else if ((D->type == HP_DS_HDF5 || D->type == HP_DS_STORE) &&
             !D->versioned)
      h5_parts(x, ud, &n);
    if (n > INT32_MAX / 2)
      return hp__fail(x->err, HP_ECONFIG, "%s: too many partitions",
                      D->filepath);
    x->np[ud] = (int32_t)n;
  }
  *out = x->np[ud];
  return HP_OK;
}

static void add_stitch(xp *x, int32_t ud) {
  x->stitched[ud] = 1;
  const hp_plan *p = x->p;
  int32_t P = x->np[ud];
  const char *dn = p->ug->dsname[ud];
  hp_node *t = add_task(x, hp__xasprintf("stitch(%s)", dn), producer(x, ud),
                        0, P, HP_PHASE_STITCH, ud, &stitch_type);
  set_io(&t->in, &t->nin, (size_t)P);
  for (int32_t k = 0; k < P; k++) {
    char *pn = hp__xasprintf("%s[%d]", dn, (int)k);
    put_io(&t->in[k], NULL, pn);
    free(pn);
  }
  set_io(&t->out, &t->nout, 1);
  put_io(&t->out[0], NULL, dn);
}

/* The task-level name under which ud is read whole. */
static const char *whole_name(xp *x, int32_t ud) {
  if (x->np[ud] > 1 && producer(x, ud) >= 0 && !x->stitched[ud])
    add_stitch(x, ud);
  return x->p->ug->dsname[ud];
}

/* The input a node's partitions follow: its first dataset input; none
 * for a source, whose partitions are its own (every input whole). */
static int first_input(const hp_plan *p, size_t n) {
  const hp_node *u = &p->upipe->nodes[n];
  if (mode_of(p, n) == HP_MODE_SOURCE)
    return -1;
  for (size_t i = 0; i < u->nin; i++)
    if (!hp__is_param(u->in[i].ds))
      return (int)i;
  return -1;
}

static int node_fail(xp *x, size_t n, const char *fmt, const char *what) {
  char loc[300];
  const hp_node *u = &x->p->upipe->nodes[n];
  return hp__fail(x->err, HP_ECONFIG, "%s: node '%s': %s%s",
                  hp__tree_loc(u->where, loc, sizeof loc), u->name, fmt,
                  what ? what : "");
}

/* Makes the stitch tasks of the inputs node n reads whole, before any of
 * n's tasks exist (adding tasks moves the task array). */
static void prepare_whole(xp *x, size_t n, int first, int32_t P) {
  const hp_node *u = &x->p->upipe->nodes[n];
  const hp_graph *ug = x->p->ug;
  for (size_t i = 0; i < u->nin; i++)
    if ((int)i != first || P <= 1)
      (void)whole_name(x, ug->in_ds[ug->in_off[n] + i]);
}

/* A user node's inputs for partition k of P (P <= 1: all whole). */
static void task_inputs(xp *x, size_t n, hp_node *t, int first, int32_t k,
                        int32_t P) {
  const hp_plan *p = x->p;
  const hp_node *u = &p->upipe->nodes[n];
  const hp_graph *ug = p->ug;
  set_io(&t->in, &t->nin, u->nin);
  for (size_t i = 0; i < u->nin; i++) {
    int32_t ud = ug->in_ds[ug->in_off[n] + i];
    if ((int)i == first && P > 1) {
      char *pn = part_name(x, ud, k);
      put_io(&t->in[i], u->in[i].arg, pn);
      free(pn);
    } else {
      put_io(&t->in[i], u->in[i].arg, whole_name(x, ud));
    }
  }
}

/* A user node's outputs, as partition k of P. */
static void task_outputs(xp *x, size_t n, hp_node *t, int32_t k, int32_t P) {
  const hp_plan *p = x->p;
  const hp_node *u = &p->upipe->nodes[n];
  const hp_graph *ug = p->ug;
  set_io(&t->out, &t->nout, u->nout);
  for (size_t i = 0; i < u->nout; i++) {
    int32_t ud = ug->out_ds[ug->out_off[n] + i];
    x->np[ud] = P;
    if (P > 1) {
      char *pn = part_name(x, ud, k);
      put_io(&t->out[i], u->out[i].arg, pn);
      free(pn);
    } else {
      put_io(&t->out[i], u->out[i].arg, ug->dsname[ud]);
    }
  }
}

static char *task_name(const hp_node *u, int32_t k, int32_t P) {
  return P > 1 ? hp__xasprintf("%s[%d]", u->name, (int)k)
               : hp__xstrdup(u->name);
}

/* Persistent partitioned outputs are stitched whether or not anyone reads
 * them whole: that is the file users open. */
static int stitch_outputs(xp *x, size_t n) {
  const hp_plan *p = x->p;
  const hp_graph *ug = p->ug;
  for (size_t k = ug->out_off[n]; k < ug->out_off[n + 1]; k++) {
    int32_t ud = ug->out_ds[k];
    const hp_dsdef *D = p->ds[ud];
    if (x->np[ud] <= 1 || D->type == HP_DS_MEMORY || x->stitched[ud])
      continue;
    if (D->versioned)
      return node_fail(x, n, "a partitioned output cannot be versioned: ",
                       D->name);
    add_stitch(x, ud);
  }
  return HP_OK;
}

static int expand_map(xp *x, size_t n, int32_t P) {
  const hp_node *u = &x->p->upipe->nodes[n];
  int first = first_input(x->p, n);
  prepare_whole(x, n, first, P);
  for (int32_t k = 0; k < P; k++) {
    hp_node *t = add_task(x, task_name(u, k, P), (int32_t)n, k, P,
                          HP_PHASE_RUN, -1, x->p->fn[n]);
    task_inputs(x, n, t, first, k, P);
    task_outputs(x, n, t, k, P);
  }
  return stitch_outputs(x, n);
}

static int expand_reduce(xp *x, size_t n, int32_t P) {
  owned *o = x->o;
  const hp_node *u = &x->p->upipe->nodes[n];
  int first = first_input(x->p, n);
  const hp_node_type *ty = x->p->fn[n];
  hp_node_type *comb = &o->types[o->ntypes++];
  hp_node_type *fin = &o->types[o->ntypes++];
  *comb = *ty;
  comb->run = ty->combine;
  *fin = *ty;
  fin->run = ty->finish;
  prepare_whole(x, n, first, P);
  char **level = hp__xcalloc((size_t)P + 1, sizeof *level);
  size_t nl = (size_t)P;
  for (int32_t k = 0; k < P; k++) {
    hp_node *t = add_task(x, hp__xasprintf("%s[%d]", u->name, (int)k),
                          (int32_t)n, k, P, HP_PHASE_RUN, -1, ty);
    task_inputs(x, n, t, first, k, P);
    level[k] = hp__xasprintf("%s[%d]#partial", u->name, (int)k);
    own_def(x, level[k], &o->partial);
    set_io(&t->out, &t->nout, 1);
    put_io(&t->out[0], NULL, level[k]);
  }
  /* first partial index of each entry, for hp_node_part of combines */
  int32_t *first_part = hp__xcalloc((size_t)P + 1, sizeof *first_part);
  for (int32_t k = 0; k < P; k++)
    first_part[k] = k;
  for (int depth = 1; nl > 1; depth++) {
    size_t m = 0;
    for (size_t i = 0; i < nl; i += HP_COMBINE_FANIN) {
      size_t g = nl - i < HP_COMBINE_FANIN ? nl - i : HP_COMBINE_FANIN;
      if (g == 1) {
        level[m] = level[i];
        first_part[m++] = first_part[i];
        continue;
      }
      size_t j = i / HP_COMBINE_FANIN;
      hp_node *t = add_task(
          x, hp__xasprintf("%s[combine %d.%zu]", u->name, depth, j),
          (int32_t)n, first_part[i], P, HP_PHASE_COMBINE, -1, comb);
      set_io(&t->in, &t->nin, g);
      for (size_t a = 0; a < g; a++) {
        put_io(&t->in[a], NULL, level[i + a]);
        free(level[i + a]);
      }
      char *out = hp__xasprintf("%s[combine %d.%zu]#partial", u->name, depth, j);
      own_def(x, out, &o->partial);
      set_io(&t->out, &t->nout, 1);
      put_io(&t->out[0], NULL, out);
      first_part[m] = first_part[i];
      level[m++] = out;
    }
    nl = m;
  }
  hp_node *t = add_task(x, hp__xstrdup(u->name), (int32_t)n, 0, P,
                        HP_PHASE_FINISH, -1, fin);
  set_io(&t->in, &t->nin, 1);
  put_io(&t->in[0], NULL, level[0]);
  free(level[0]);
  free(level);
  free(first_part);
  task_outputs(x, n, t, 0, 1);
  return HP_OK;
}

/* A memory dataset made here (pieces and buckets of a shuffle). */
static char *mem_name(xp *x, char *name) {
  own_def(x, name, &x->o->partial);
  return name;
}

static int expand_shuffle(xp *x, size_t n) {
  hp_plan *p = x->p;
  owned *o = x->o;
  const hp_node *u = &p->upipe->nodes[n];
  const hp_graph *ug = p->ug;
  int first = first_input(p, n);
  int32_t Q = 1, Pfirst = 1;
  int others_whole = 1;
  int32_t *P = hp__xcalloc(u->nin + 1, sizeof *P);
  for (size_t i = 0; i < u->nin; i++) {
    if (hp__is_param(u->in[i].ds))
      continue;
    HP_TRY(nparts_of(x, ug->in_ds[ug->in_off[n] + i], &P[i]));
    if (P[i] > Q)
      Q = P[i];
    if ((int)i == first)
      Pfirst = P[i];
    else if (P[i] > 1)
      others_whole = 0;
  }
  const hp_node_type *ty = p->fn[n];
  if (Q <= 1 || (others_whole && ty->broadcast && ty->broadcast(u->args))) {
    free(P);
    return expand_map(x, n, Q <= 1 ? 1 : Pfirst);
  }
  hp_node_type *split = &o->types[o->ntypes++];
  *split = *ty;
  split->run = ty->split;
  /* splits: piece q of partition k of input i is "n#i.k>q" */
  for (size_t i = 0; i < u->nin; i++) {
    if (hp__is_param(u->in[i].ds))
      continue;
    int32_t ud = ug->in_ds[ug->in_off[n] + i];
    for (int32_t k = 0; k < P[i]; k++) {
      char *in = P[i] > 1 ? part_name(x, ud, k) : hp__xstrdup(whole_name(x, ud));
      hp_node *t = add_task(x, hp__xasprintf("%s[split %zu.%d]", u->name, i,
                                             (int)k),
                            (int32_t)n, k, P[i], HP_PHASE_SPLIT, (int32_t)i,
                            split);
      set_io(&t->in, &t->nin, 1);
      put_io(&t->in[0], u->in[i].arg, in);
      free(in);
      set_io(&t->out, &t->nout, (size_t)Q);
      for (int32_t q = 0; q < Q; q++) {
        char *pn = mem_name(x, hp__xasprintf("%s#%zu.%d>%d", u->name, i,
                                             (int)k, (int)q));
        put_io(&t->out[q], NULL, pn);
        free(pn);
      }
    }
    /* gathers: bucket q of input i is "n#i>q", its pieces joined */
    for (int32_t q = 0; q < Q && P[i] > 1; q++) {
      hp_node *t = add_task(x, hp__xasprintf("%s[gather %zu.%d]", u->name,
                                             i, (int)q),
                            (int32_t)n, q, Q, HP_PHASE_STITCH, -1,
                            &stitch_type);
      set_io(&t->in, &t->nin, (size_t)P[i]);
      for (int32_t k = 0; k < P[i]; k++) {
        char *pn = hp__xasprintf("%s#%zu.%d>%d", u->name, i, (int)k, (int)q);
        put_io(&t->in[k], NULL, pn);
        free(pn);
      }
      set_io(&t->out, &t->nout, 1);
      char *bn = mem_name(x, hp__xasprintf("%s#%zu>%d", u->name, i, (int)q));
      put_io(&t->out[0], NULL, bn);
      free(bn);
    }
  }
  /* one run per bucket */
  for (int32_t q = 0; q < Q; q++) {
    hp_node *t = add_task(x, task_name(u, q, Q), (int32_t)n, q, Q,
                          HP_PHASE_RUN, -1, ty);
    set_io(&t->in, &t->nin, u->nin);
    for (size_t i = 0; i < u->nin; i++) {
      int32_t ud = ug->in_ds[ug->in_off[n] + i];
      char *in = hp__is_param(u->in[i].ds)
                     ? hp__xstrdup(whole_name(x, ud))
                 : P[i] > 1
                     ? hp__xasprintf("%s#%zu>%d", u->name, i, (int)q)
                     : hp__xasprintf("%s#%zu.0>%d", u->name, i, (int)q);
      put_io(&t->in[i], u->in[i].arg, in);
      free(in);
    }
    task_outputs(x, n, t, q, Q);
  }
  free(P);
  return stitch_outputs(x, n);
}

static int expand_node(xp *x, size_t n) {
  hp_plan *p = x->p;
  const hp_node *u = &p->upipe->nodes[n];
  if (hp__frame_check(p->fn[n], u->args, x->err) != HP_OK) {
    char loc[300];
    hp__error_prefix(x->err, "%s: node '%s': ",
                     hp__tree_loc(u->where, loc, sizeof loc), u->name);
    x->err->code = HP_ECONFIG;
    return HP_ECONFIG;
  }
  hp_node_mode mode = mode_of(p, n);
  int first = first_input(p, n);
  const hp_graph *ug = p->ug;
  int32_t P = 1;
  if (mode == HP_MODE_SOURCE) {
    size_t cnt = 1;
    char msg[256] = "";
    if (p->fn[n]->nparts(u->args, &cnt, msg, sizeof msg) != 0)
      return node_fail(x, n, msg, NULL);
    if (cnt < 1 || cnt > (size_t)INT32_MAX / 4)
      return node_fail(x, n, "bad partition count", NULL);
    P = (int32_t)cnt;
  } else if (mode != HP_MODE_WHOLE && mode != HP_MODE_SHUFFLE && first >= 0) {
    HP_TRY(nparts_of(x, ug->in_ds[ug->in_off[n] + (size_t)first], &P));
  } else if (mode == HP_MODE_REDUCE) {
    return node_fail(x, n, "a reduction needs a dataset input", NULL);
  }
  if (mode == HP_MODE_REDUCE)
    return expand_reduce(x, n, P);
  if (mode == HP_MODE_SHUFFLE)
    return expand_shuffle(x, n);
  if (mode == HP_MODE_WHOLE)
    P = 1;
  return expand_map(x, n, P);
}

/* ---- task-level arrays --------------------------------------------------- */

static void bind_task_level(xp *x) {
  hp_plan *p = x->p;
  owned *o = x->o;
  const hp_graph *g = p->g;
  p->ds = hp__xcalloc(g->nds + 1, sizeof *p->ds);
  p->param = hp__xcalloc(g->nds + 1, sizeof *p->param);
  p->load_version = hp__xcalloc(g->nds + 1, sizeof *p->load_version);
  for (size_t d = 0; d < g->nds; d++) {
    const hp_dsdef *def = hp__map_get(o->defs, g->dsname[d]);
    if (def) {
      p->ds[d] = def;
      continue;
    }
    int32_t ud = hp__graph_ds(p->ug, g->dsname[d]);
    p->ds[d] = o->uds[ud];
    p->param[d] = o->uparam[ud];
    if (o->uload_version[ud])
      p->load_version[d] = hp__xstrdup(o->uload_version[ud]);
  }
  p->fn = hp__xcalloc(g->nnodes + 1, sizeof *p->fn);
  memcpy(p->fn, o->fn, g->nnodes * sizeof *p->fn);
  p->keep = hp__xcalloc(g->nnodes + 1, 1);
  memset(p->keep, 1, g->nnodes);
  /* a task has its user node's priority (the longest path in the user's
   * nodes): stitches, gathers and combines are steps of one node, and
   * counting them would put a partitioned node ahead of a whole one
   * that takes as long */
  p->prio = hp__xcalloc(g->nnodes + 1, sizeof *p->prio);
  for (size_t k = g->nnodes; k-- > 0;) {
    int32_t t = g->order[k];
    int32_t u = o->task[t].unode;
    if (p->ukeep[u]) {
      p->prio[t] = o->uprio[u];
      continue;
    }
    /* the stitch of a dataset an earlier run made (its node not
     * selected): just ahead of the tasks that read it */
    p->prio[t] = hp__graph_after(g, NULL, p->prio, t);
  }
}

int hp__part_expand(hp_plan *p, hp_error *err) {
  const hp_graph *ug = p->ug;
  int any = 0;
  for (size_t n = 0; n < ug->nnodes && !any; n++)
    any = p->ukeep[n] && mode_of(p, n) != HP_MODE_WHOLE;
  if (!any)
    return HP_OK;
  owned *o = hp__xcalloc(1, sizeof *o);
  p->part_owned = o;
  o->defs = hp__map_new();
  o->partial.name = (char *)"(partial)"; /* never freed */
  o->partial.type = HP_DS_MEMORY;
  o->partial.spill = 1;
  o->types = hp__xcalloc(2 * ug->nnodes + 2, sizeof *o->types);
  o->layout = hp__xcalloc(ug->nds + 1, sizeof *o->layout);
  xp x = {.p = p, .o = o, .err = err};
  x.np = hp__xcalloc(ug->nds + 1, sizeof *x.np);
  x.files = hp__xcalloc(ug->nds + 1, sizeof *x.files);
  x.stitched = hp__xcalloc(ug->nds + 1, 1);
  x.step = hp__xcalloc(ug->nds + 1, sizeof *x.step);
  x.total = hp__xcalloc(ug->nds + 1, sizeof *x.total);
  x.need = hp__xcalloc(ug->nds + 1, sizeof *x.need);
  projection(&x);
  int rc = HP_OK;
  for (size_t i = 0; i < ug->nnodes && rc == HP_OK; i++) {
    int32_t n = ug->order[i];
    if (p->ukeep[n])
      rc = expand_node(&x, (size_t)n);
  }
  for (size_t d = 0; d < ug->nds; d++)
    hp__fs_list_free(x.files[d]);
  free(x.files);
  free(x.np);
  free(x.stitched);
  free(x.step);
  free(x.total);
  for (size_t d = 0; d < ug->nds; d++)
    hp__cols_free(&x.need[d]);
  free(x.need);
  /* the task level takes over; the user level is kept for freeing */
  o->uds = p->ds;
  o->ufn = p->fn;
  o->uparam = p->param;
  o->uload_version = p->load_version;
  o->uprio = p->prio;
  p->ds = NULL;
  p->fn = NULL;
  p->param = NULL;
  p->load_version = NULL;
  p->prio = NULL;
  p->keep = NULL;
  p->task = o->task;
  p->pipe = &o->pipe;
  if (rc == HP_OK) {
    rc = hp__graph_build(&o->pipe, &p->g, err);
    if (rc != HP_OK)
      hp__error_prefix(err, "partitioned tasks: ");
  }
  if (rc == HP_OK)
    bind_task_level(&x);
  else
    p->g = NULL;
  if (rc == HP_OK)
    hp__log(HP_LOG_DEBUG, "plan: %zu nodes became %zu tasks", p->nsel,
            o->pipe.n);
  return rc;
}

static void free_io(hp_io *io, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(io[i].arg);
    free(io[i].ds);
  }
  free(io);
}

void hp__part_free(hp_plan *p) {
  owned *o = p->part_owned;
  if (!o)
    return;
  for (size_t i = 0; i < o->pipe.n; i++) {
    hp_node *t = &o->pipe.nodes[i];
    free(t->name);
    free(t->func);
    free(t->ns);
    free_io(t->in, t->nin);
    free_io(t->out, t->nout);
  }
  free(o->pipe.nodes);
  free(o->task);
  free(o->fn);
  hp__map_free(o->defs, NULL);
  for (size_t i = 0; i < o->nmydefs; i++) {
    free(o->mydefs[i]->name);
    free(o->mydefs[i]->filepath);
    free(o->mydefs[i]->key);
    free(o->mydefs[i]->like);
    for (size_t k = 0; k < o->mydefs[i]->ncols; k++)
      free(o->mydefs[i]->cols[k]);
    free(o->mydefs[i]->cols);
    free(o->mydefs[i]);
  }
  free(o->mydefs);
  free(o->types);
  free(o->uds);
  free(o->ufn);
  free(o->uparam);
  if (p->ug && o->uload_version)
    for (size_t d = 0; d < p->ug->nds; d++)
      free(o->uload_version[d]);
  free(o->uload_version);
  free(o->uprio);
  for (size_t d = 0; p->ug && o->layout && d < p->ug->nds; d++)
    hp__h5_layout_free(o->layout[d]);
  free(o->layout);
  free(o);
  p->part_owned = NULL;
}
