/*
 * registry.c - a name -> hp_node_type map filled by the builtins and by
 * plugins. Plugins are shared libraries exporting hp_plugin_init; they are
 * loaded once per process and stay loaded until exit.
 */
#define _POSIX_C_SOURCE 200809L
#include "registry.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"
#include "mem.h"

struct hp_registry {
  hp_map *types;   /* name -> const hp_node_type * */
  hp_error *err;   /* where hp_register_nodes reports, during a load */
  char *loading;   /* plugin being loaded, for messages */
  void **handles;
  size_t nhandles, caphandles;
};

hp_registry *hp__registry_new(void) {
  hp_registry *r = hp__xcalloc(1, sizeof *r);
  r->types = hp__map_new();
  if (hp__nodes_register_builtins(r) != HP_OK ||
      hp__frame_register(r) != HP_OK || hp__join_register(r) != HP_OK ||
      hp__sort_register(r) != HP_OK || hp__array_register(r) != HP_OK) {
    hp__registry_free(r);
    return NULL;
  }
  return r;
}

void hp__registry_free(hp_registry *r) {
  if (!r)
    return;
  hp__map_free(r->types, NULL);
  /* Handles stay open: values and messages may still point into them. */
  free(r->handles);
  free(r);
}

int hp_register_nodes(hp_registry *reg, const hp_node_type *types, size_t n) {
  if (!reg || (!types && n))
    return HP_EINVAL;
  for (size_t i = 0; i < n; i++) {
    const hp_node_type *t = &types[i];
    const char *who = reg->loading ? reg->loading : "builtin";
    if (t->abi != HP_NODE_ABI)
      return hp__fail(reg->err, HP_EINVAL,
                      "plugin '%s': node type %zu has ABI %d, expected %d",
                      who, i, t->abi, HP_NODE_ABI);
    if (!t->name || !*t->name || !t->run)
      return hp__fail(reg->err, HP_EINVAL,
                      "plugin '%s': node type %zu needs a name and a run "
                      "function",
                      who, i);
    if ((t->mode == HP_MODE_REDUCE && (!t->combine || !t->finish)) ||
        (t->mode == HP_MODE_SOURCE && !t->nparts) ||
        (t->mode == HP_MODE_SHUFFLE && !t->split) ||
        (unsigned)t->mode > HP_MODE_SHUFFLE)
      return hp__fail(reg->err, HP_EINVAL,
                      "plugin '%s': node type '%s': a reduction needs "
                      "combine and finish, a source nparts, a shuffle split",
                      who, t->name);
    if (hp__map_has(reg->types, t->name))
      return hp__fail(reg->err, HP_EINVAL,
                      "plugin '%s': node type '%s' is already registered",
                      who, t->name);
    hp__map_put(reg->types, t->name, (void *)(uintptr_t)t);
  }
  return HP_OK;
}

const hp_node_type *hp__registry_find(const hp_registry *r, const char *name) {
  return hp__map_get(r->types, name);
}

/* Finds lib<name>.so in the ':'-separated search path; a new string. */
static char *find_plugin(const char *spec, const char *search) {
  if (strchr(spec, '/') || strstr(spec, ".so"))
    return hp__xstrdup(spec);
  if (search) {
    const char *p = search;
    while (*p) {
      size_t n = strcspn(p, ":");
      if (n) {
        char *cand = hp__xasprintf("%.*s/lib%s.so", (int)n, p, spec);
        if (access(cand, R_OK) == 0)
          return cand;
        free(cand);
      }
      p += n;
      if (*p == ':')
        p++;
    }
  }
  return hp__xasprintf("lib%s.so", spec);
}

int hp__registry_load(hp_registry *r, const char *spec, const char *search,
                      hp_error *err) {
  char *path = find_plugin(spec, search);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    int rc = hp__fail(err, HP_ECONFIG, "plugin '%s': cannot load: %s", spec,
                      dlerror());
    free(path);
    return rc;
  }
  free(path);
  hp_plugin_init_fn init;
  *(void **)&init = dlsym(h, HP_PLUGIN_ENTRY);
  if (!init) {
    dlclose(h);
    return hp__fail(err, HP_ECONFIG, "plugin '%s': no symbol %s", spec,
                    HP_PLUGIN_ENTRY);
  }
  hp__grow(&r->handles, &r->caphandles, r->nhandles + 1, sizeof *r->handles);
  r->handles[r->nhandles++] = h;
  r->err = err;
  r->loading = (char *)spec;
  int rc = init(r);
  r->err = NULL;
  r->loading = NULL;
  if (rc != HP_OK)
    return hp__fail(err, HP_ECONFIG, "plugin '%s': %s() failed: %s", spec,
                    HP_PLUGIN_ENTRY, hp_strerror(rc));
  return HP_OK;
}
