/*
 * yaml.h - the only user of libyaml: YAML text to an hp_tree, with the
 * position of every node and libyaml's problem and position in errors.
 */
#ifndef HP_YAML_H
#define HP_YAML_H

#include <stddef.h>

#include "error.h"
#include "tree.h"

/* Limits that keep hostile input (deep nesting, alias bombs) from crashing
 * or hanging the parser: both are errors with a location. */
#define HP_YAML_MAX_DEPTH 64
#define HP_YAML_MAX_NODES 50000000u /* including alias expansions */

/* Parses one YAML document from text[0..len). `file` is used in messages
 * and stored (borrowed) in every node. An empty document gives a NULL-kind
 * tree. Anchors and aliases are expanded by copy; `<<` merge keys are
 * applied. Duplicate keys in one mapping are an error. Errors:
 * HP_ECONFIG, "file:line:col: <problem>". Any rank. */
int hp__yaml_parse(const char *text, size_t len, const char *file,
                   hp_tree **out, hp_error *err);

#endif
