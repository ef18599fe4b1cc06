/*
 * scaffold.h - `hpcpipe new NAME` (a project that builds and runs as
 * created) and `hpcpipe pipeline create NAME` (a pipeline added to one).
 */
#ifndef HP_SCAFFOLD_H
#define HP_SCAFFOLD_H

#include "error.h"

/* Creates directory `name` (its last component is the project name): conf/
 * (base, local), jobs/ (a node plugin and its CMakeLists.txt finding the
 * installed hpcpipe), slurm/run.sbatch, data/ layers, README.md and
 * .gitignore. Errors: HP_EUSAGE (a bad name, the directory exists),
 * HP_EIO. */
int hp__scaffold_project(const char *name, hp_error *err);

/* In the project whose configuration is confdir: appends pipeline `name`
 * to base/pipelines.yml, its plugin to base/hpcpipe.yml and
 * jobs/CMakeLists.txt, and writes jobs/<name>.c,
 * base/parameters_<name>.yml and tests/test_<name>.sh. Errors: HP_EUSAGE
 * (bad or taken name, not a project), HP_ECONFIG (files it cannot append
 * to safely), HP_EIO. */
int hp__scaffold_pipeline(const char *confdir, const char *name,
                          hp_error *err);

#endif
