/*
 * registry.c - a name -> hp_node_type map filled by the builtins and by
 * plugins. Plugins are shared libraries exporting hp_plugin_init; they are
 * loaded once per process and stay loaded until exit.
 */
#define _GNU_SOURCE /* dladdr */
#include "registry.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "map.h"
#include "mem.h"

/* A loaded plugin; its identity is a hash of the library's bytes when it
 * was loaded (a rebuilt plugin is a new function version). */
typedef struct plugin {
  void *handle;
  char *path;
  uint64_t id;
} plugin;

typedef struct entry {
  const hp_node_type *t;
  long plugin; /* index into plugins, -1 for a builtin */
} entry;

typedef struct hook {
  hp_hook_fn fn;
  void *data;
} hook;

struct hp_registry {
  hp_map *types;   /* name -> entry */
  hook *hooks[HP_HOOK_KINDS];
  size_t nhooks[HP_HOOK_KINDS], caphooks[HP_HOOK_KINDS];
  hp_error *err;   /* where hp_register_nodes reports, during a load */
  char *loading;   /* plugin being loaded, for messages */
  long current;    /* its index */
  plugin *plugins;
  size_t nplugins, capplugins;
};

hp_registry *hp__registry_new(void) {
  hp_registry *r = hp__xcalloc(1, sizeof *r);
  r->types = hp__map_new();
  r->current = -1;
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
  hp__map_free(r->types, free);
  /* Handles stay open: values and messages may still point into them. */
  for (size_t i = 0; i < r->nplugins; i++)
    free(r->plugins[i].path);
  for (int k = 0; k < HP_HOOK_KINDS; k++)
    free(r->hooks[k]);
  free(r->plugins);
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
    entry *e = hp__xcalloc(1, sizeof *e);
    e->t = t;
    e->plugin = reg->current;
    hp__map_put(reg->types, t->name, e);
  }
  return HP_OK;
}

int hp_register_hook(hp_registry *reg, hp_hook_kind kind, hp_hook_fn fn,
                     void *data) {
  if (!reg || !fn || (unsigned)kind >= HP_HOOK_KINDS)
    return HP_EINVAL;
  hp__grow(&reg->hooks[kind], &reg->caphooks[kind], reg->nhooks[kind] + 1,
           sizeof *reg->hooks[kind]);
  reg->hooks[kind][reg->nhooks[kind]++] = (hook){fn, data};
  return HP_OK;
}

void hp__registry_fire(const hp_registry *r, hp_hook_kind kind,
                       const hp_hook_event *ev) {
  for (size_t i = 0; r && i < r->nhooks[kind]; i++)
    r->hooks[kind][i].fn(kind, ev, r->hooks[kind][i].data);
}

int hp__registry_has_hooks(const hp_registry *r, hp_hook_kind kind) {
  return r && r->nhooks[kind] > 0;
}

const hp_node_type *hp__registry_find(const hp_registry *r, const char *name) {
  const entry *e = hp__map_get(r->types, name);
  return e ? e->t : NULL;
}

uint64_t hp__registry_identity(hp_registry *r, const char *name) {
  const entry *e = hp__map_get(r->types, name);
  uint64_t h = hp__hash64(name, strlen(name), HP_HASH_SEED);
  if (!e || e->plugin < 0) {
    const char *v = hp_version();
    return hp__hash64(v, strlen(v), h);
  }
  return hp__hash64(&r->plugins[e->plugin].id, sizeof(uint64_t), h);
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
  hp_plugin_init_fn init;
  *(void **)&init = dlsym(h, HP_PLUGIN_ENTRY);
  if (!init) {
    dlclose(h);
    free(path);
    return hp__fail(err, HP_ECONFIG, "plugin '%s': no symbol %s", spec,
                    HP_PLUGIN_ENTRY);
  }
  Dl_info info;
  if (dladdr(*(void **)&init, &info) && info.dli_fname) {
    free(path); /* where the dynamic linker found it */
    path = hp__xstrdup(info.dli_fname);
  }
  /* the bytes loaded now (a rebuild during the run must not change it) */
  char *bytes;
  size_t len;
  hp_error ignore = HP_ERROR_INIT;
  uint64_t id = hp__hash64(path, strlen(path), HP_HASH_SEED) | 1;
  if (hp__fs_read_all(path, 1, &bytes, &len, &ignore) == HP_OK) {
    id = hp__hash64(bytes, len, HP_HASH_SEED) | 1;
    free(bytes);
  }
  hp__grow(&r->plugins, &r->capplugins, r->nplugins + 1, sizeof *r->plugins);
  r->plugins[r->nplugins] = (plugin){.handle = h, .path = path, .id = id};
  r->current = (long)r->nplugins++;
  r->err = err;
  r->loading = (char *)spec;
  int rc = init(r);
  r->err = NULL;
  r->loading = NULL;
  r->current = -1;
  if (rc != HP_OK)
    return hp__fail(err, HP_ECONFIG, "plugin '%s': %s() failed: %s", spec,
                    HP_PLUGIN_ENTRY, hp_strerror(rc));
  return HP_OK;
}
