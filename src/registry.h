/*
 * registry.h - node types by name: the builtins and the types plugins
 * register from their hp_plugin_init entry point (dlopen'd on every rank).
 */
#ifndef HP_REGISTRY_H
#define HP_REGISTRY_H

#include <stdint.h>

#include "error.h"
#include "hpcpipe/node.h"

/* A new registry holding the builtin node types (core.*). */
hp_registry *hp__registry_new(void);
void hp__registry_free(hp_registry *r);
/* Loads a plugin: `spec` is a path to a shared library, or a bare name
 * looked up as lib<name>.so in each directory of `search` (':'-separated,
 * may be NULL). Errors: HP_ECONFIG "plugin 'x': <dlerror or init
 * message>". */
int hp__registry_load(hp_registry *r, const char *spec, const char *search,
                      hp_error *err);
/* The type registered as name, or NULL. */
const hp_node_type *hp__registry_find(const hp_registry *r, const char *name);
/* The identity of type `name` for fingerprints: its name with hpcpipe's
 * version for a builtin, with a hash of the plugin library's bytes for a
 * plugin's (rebuilding a plugin with changed code changes it). */
uint64_t hp__registry_identity(hp_registry *r, const char *name);
/* Calls the hooks registered for kind, in registration order. */
void hp__registry_fire(const hp_registry *r, hp_hook_kind kind,
                       const hp_hook_event *ev);
int hp__registry_has_hooks(const hp_registry *r, hp_hook_kind kind);
/* The builtin node tables of core.* and datasets.* (nodes.c), registered
 * by hp__registry_new. */
int hp__nodes_register_builtins(hp_registry *r);
/* frame.* (frame.c), frame.join (join.c), frame.sort (sort.c). */
int hp__frame_register(hp_registry *r);
int hp__join_register(hp_registry *r);
int hp__sort_register(hp_registry *r);
int hp__array_register(hp_registry *r); /* array.* (array.c) */

#endif
