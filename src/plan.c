/*
 * plan.c - from a configuration bundle to a validated plan: settings,
 * plugins, catalog, pipelines, graph, filters, functions, parameters and
 * dataset definitions. Every rank builds the same plan from the same bytes,
 * so every rank reaches the same verdict and messages.
 */
#define _POSIX_C_SOURCE 200809L
#include "plan.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "tree.h"
#include "value.h"

static const char *settings_keys[] = {"store", "plugins", "inline_max",
                                      "retries", NULL};

static int check_settings(const hp_conf *c, hp_error *err) {
  const hp_tree *s = c->settings;
  for (size_t i = 0; s && s->kind == HP_TREE_MAP && i < s->n; i++) {
    const char *k = s->keys[i]->text;
    int ok = 0;
    for (const char **a = settings_keys; *a; a++)
      ok |= strcmp(*a, k) == 0;
    if (!ok) {
      char loc[300];
      return hp__fail(err, HP_ECONFIG,
                      "%s: unknown setting '%s' (known: store, plugins, "
                      "inline_max, retries)",
                      hp__tree_loc(s->keys[i], loc, sizeof loc), k);
    }
  }
  return HP_OK;
}

static int load_plugins(hp_plan *p, hp_error *err) {
  const hp_tree *pl = hp__tree_find(p->conf->settings, "plugins");
  if (!pl)
    return HP_OK;
  char loc[300];
  if (pl->kind != HP_TREE_SEQ)
    return hp__fail(err, HP_ECONFIG, "%s: 'plugins' must be a list",
                    hp__tree_loc(pl, loc, sizeof loc));
  const char *env = getenv("HPCPIPE_PLUGIN_PATH");
  /* then the project's build/jobs and jobs, then the jobs/ beside the
   * hpcpipe executable (a build tree's own plugins, for the examples) */
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash)
    *slash = '\0';
  char *search = hp__xasprintf("%s%s%s/build/jobs:%s/jobs%s%s/jobs",
                               env ? env : "", env ? ":" : "", p->conf->root,
                               p->conf->root, slash ? ":" : "",
                               slash ? exe : "");
  int rc = HP_OK;
  for (size_t i = 0; i < pl->n && rc == HP_OK; i++) {
    const hp_tree *it = pl->items[i];
    if (it->kind != HP_TREE_SCALAR) {
      rc = hp__fail(err, HP_ECONFIG, "%s: a plugin is a name or a path",
                    hp__tree_loc(it, loc, sizeof loc));
      break;
    }
    char *spec = strchr(it->text, '/') ? hp__conf_path(p->conf, it->text)
                                       : hp__xstrdup(it->text);
    rc = hp__registry_load(p->reg, spec, search, err);
    if (rc != HP_OK)
      hp__error_prefix(err, "%s: ", hp__tree_loc(it, loc, sizeof loc));
    free(spec);
  }
  free(search);
  return rc;
}

/* Setting `key` as an integer >= 0 (dflt when absent). */
static int count_setting(const hp_tree *s, const char *key, int64_t dflt,
                         int64_t *out, hp_error *err) {
  const hp_tree *v = hp__tree_find(s, key);
  if (!v || hp__tree_is_null(v)) { /* `retries:` alone: the default */
    *out = dflt;
    return HP_OK;
  }
  if (hp_tree_i64(v, NULL, dflt, out) != HP_OK || *out < 0) {
    char loc[300];
    return hp__fail(err, HP_ECONFIG, "%s: '%s' must be an integer >= 0",
                    hp__tree_loc(v, loc, sizeof loc), key);
  }
  return HP_OK;
}

static int read_settings(hp_plan *p, const hp_plan_opts *o, hp_error *err) {
  HP_TRY(check_settings(p->conf, err));
  const hp_tree *s = p->conf->settings;
  const hp_tree *st = hp__tree_find(s, "store");
  if (st && !hp__tree_is_null(st) && /* `store:` alone: the default */
      (st->kind != HP_TREE_SCALAR || !st->text[0])) {
    char loc[300];
    return hp__fail(err, HP_ECONFIG, "%s: 'store' must be a directory's path",
                    hp__tree_loc(st, loc, sizeof loc));
  }
  int64_t im, rt;
  HP_TRY(count_setting(s, "inline_max", 65536, &im, err));
  HP_TRY(count_setting(s, "retries", 0, &rt, err));
  p->store_dir = o->store ? hp__xstrdup(o->store) : hp__conf_store_dir(p->conf);
  p->inline_max = (size_t)im;
  p->default_retries = (int)rt;
  return HP_OK;
}

static int check_functions(hp_plan *p, hp_error *err) {
  p->fn = hp__xcalloc(p->g->nnodes + 1, sizeof *p->fn);
  for (size_t i = 0; i < p->g->nnodes; i++) {
    const hp_node *nd = &p->pipe->nodes[i];
    p->fn[i] = hp__registry_find(p->reg, nd->func);
    if (!p->fn[i]) {
      char loc[300];
      return hp__fail(err, HP_ECONFIG,
                      "%s: node '%s': unknown function '%s' (not a builtin "
                      "and no plugin registers it)",
                      hp__tree_loc(nd->where, loc, sizeof loc), nd->name,
                      nd->func);
    }
  }
  return HP_OK;
}

/* A consumer of dataset d, for messages. */
static const hp_node *consumer(const hp_plan *p, int32_t d) {
  const hp_graph *g = p->g;
  return &p->pipe->nodes[g->cons[g->cons_off[d]]];
}

static int resolve_datasets(hp_plan *p, hp_error *err) {
  const hp_graph *g = p->g;
  p->ds = hp__xcalloc(g->nds + 1, sizeof *p->ds);
  p->param = hp__xcalloc(g->nds + 1, sizeof *p->param);
  p->load_version = hp__xcalloc(g->nds + 1, sizeof *p->load_version);
  char loc[300];
  for (size_t d = 0; d < g->nds; d++) {
    HP_TRY(hp__catalog_resolve(p->cat, g->dsname[d], &p->ds[d], err));
    const hp_dsdef *def = p->ds[d];
    if (def->type == HP_DS_PARAM) {
      const char *name = g->dsname[d];
      p->param[d] = strcmp(name, "parameters") == 0
                        ? p->conf->params
                        : hp_tree_get(p->conf->params, name + 7);
      if (!p->param[d]) {
        const hp_node *nd = consumer(p, (int32_t)d);
        return hp__fail(err, HP_ECONFIG,
                        "%s: node '%s': parameter '%s' is not defined in "
                        "the parameters",
                        hp__tree_loc(nd->where, loc, sizeof loc), nd->name,
                        name + 7);
      }
      continue;
    }
    if (g->producer[d] < 0 && def->type == HP_DS_STORE) {
      const hp_node *nd = consumer(p, (int32_t)d);
      return hp__fail(err, HP_ECONFIG,
                      "%s: node '%s': input '%s' is not produced by any "
                      "node and not defined in the catalog",
                      hp__tree_loc(nd->where, loc, sizeof loc), nd->name,
                      g->dsname[d]);
    }
  }
  return HP_OK;
}

static int parse_load_versions(hp_plan *p, const char *spec, hp_error *err) {
  if (!spec)
    return HP_OK;
  char *s = hp__xstrdup(spec), *save = NULL;
  int rc = HP_OK;
  for (char *it = strtok_r(s, ",", &save); it && rc == HP_OK;
       it = strtok_r(NULL, ",", &save)) {
    char *colon = strrchr(it, ':');
    if (!colon || colon == it || !colon[1]) {
      rc = hp__fail(err, HP_EUSAGE,
                    "--load-versions: item '%s' must be dataset:version", it);
      break;
    }
    *colon = '\0';
    const char *ver = colon + 1;
    int32_t d = hp__graph_ds(p->g, it);
    if (d < 0 || !p->ds[d]->versioned)
      rc = hp__fail(err, HP_EUSAGE,
                    "--load-versions: '%s' is not a versioned dataset of "
                    "this pipeline",
                    it);
    else if (p->g->producer[d] >= 0 && p->keep[p->g->producer[d]])
      rc = hp__fail(err, HP_EUSAGE,
                    "--load-versions: '%s' is produced by node '%s' in this "
                    "run; its consumers read that version",
                    it, p->pipe->nodes[p->g->producer[d]].name);
    else if (strchr(ver, '/') || strcmp(ver, ".") == 0 ||
             strcmp(ver, "..") == 0)
      rc = hp__fail(err, HP_EUSAGE, "--load-versions: bad version '%s'", ver);
    else {
      free(p->load_version[d]);
      p->load_version[d] = hp__xstrdup(ver);
    }
  }
  free(s);
  return rc;
}


/* Logs (at debug level) the time since *t and restarts it. */
static void phase(double *t, const char *what) {
  double n = hp__mono_now();
  hp__log(HP_LOG_DEBUG, "plan: %s %.3f s", what, n - *t);
  *t = n;
}

int hp__plan_build(const char *bundle, size_t len, const hp_plan_opts *o,
                   int rank, int size, hp_plan **out, hp_error *err) {
  double t = hp__mono_now();
  hp_plan *p = hp__xcalloc(1, sizeof *p);
  p->rank = rank;
  p->size = size;
  *out = NULL;
  int rc = hp__conf_load(bundle, len, o->confdir, o->params, &p->conf, err);
  phase(&t, "configuration");
  if (rc == HP_OK)
    rc = read_settings(p, o, err);
  if (rc == HP_OK) {
    p->reg = hp__registry_new();
    rc = load_plugins(p, err);
  }
  if (rc == HP_OK)
    rc = hp__catalog_new(p->conf, p->store_dir, &p->cat, err);
  if (rc == HP_OK)
    rc = hp__pipeline_build(p->conf->pipelines, o->pipelines, o->npipelines,
                            &p->pipe, err);
  phase(&t, "pipelines");
  if (rc == HP_OK)
    rc = hp__graph_build(p->pipe, &p->g, err);
  phase(&t, "graph");
  if (rc == HP_OK)
    rc = check_functions(p, err);
  if (rc == HP_OK)
    rc = resolve_datasets(p, err);
  if (rc == HP_OK) {
    p->keep = hp__xcalloc(p->g->nnodes + 1, 1);
    rc = hp__graph_select(p->g, &o->filter, p->keep, err);
  }
  if (rc == HP_OK)
    rc = parse_load_versions(p, o->load_versions, err);
  phase(&t, "functions, datasets and filters");
  if (rc != HP_OK) {
    hp__plan_free(p);
    return rc;
  }
  for (size_t i = 0; i < p->g->nnodes; i++)
    p->nsel += p->keep[i];
  p->prio = hp__xcalloc(p->g->nnodes + 1, sizeof *p->prio);
  hp__graph_priority(p->g, p->keep, p->prio);
  p->upipe = p->pipe;
  p->ug = p->g;
  p->ukeep = p->keep;
  rc = hp__part_expand(p, err);
  phase(&t, "partitions");
  if (rc != HP_OK) {
    hp__plan_free(p);
    return rc;
  }
  *out = p;
  return HP_OK;
}

int hp__plan_retries(const hp_plan *pl, int32_t n) {
  const hp_node *nd = &pl->pipe->nodes[n];
  return nd->retries >= 0 ? nd->retries : pl->default_retries;
}

void hp__plan_free(hp_plan *p) {
  if (!p)
    return;
  if (p->g && p->load_version)
    for (size_t d = 0; d < p->g->nds; d++)
      free(p->load_version[d]);
  free(p->load_version);
  for (size_t d = 0; p->loaded && d < p->g->nds; d++)
    hp_value_free(p->loaded[d]);
  free(p->loaded);
  free(p->loaded_fp);
  free(p->param);
  free(p->ds);
  free(p->fn);
  free(p->keep);
  free(p->prio);
  if (p->part_owned) {
    hp__graph_free(p->g);
    free(p->ukeep);
  }
  hp__part_free(p);
  hp__graph_free(p->ug ? p->ug : p->g);
  hp__pipeline_free(p->upipe ? p->upipe : p->pipe);
  hp__catalog_free(p->cat);
  hp__registry_free(p->reg);
  hp__conf_free(p->conf);
  free(p->store_dir);
  free(p->version);
  free(p);
}
