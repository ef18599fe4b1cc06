/*
 * fuzz_conf.c - libFuzzer target for the configuration loader: the input,
 * cut at "\n%%\n", is conf/base/pipelines.yml, catalog.yml,
 * parameters.yml, hpcpipe.yml and a --params text. They are read as a run
 * reads them (src/conf.c, the YAML parser, the merge and overrides), then
 * the catalog, the __default__ pipeline and its graph are built and every
 * dataset of it resolved through the catalog (patterns included).
 * `plugins:` is refused: a fuzzer must not dlopen what it makes up.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "conf.h"
#include "graph.h"
#include "mem.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], conf[96];

static void put(const char *name, const char *p, size_t n) {
  char path[160];
  snprintf(path, sizeof path, "%s/base/%s", conf, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    abort();
  if (n && fwrite(p, 1, n, f) != n) {
    fprintf(stderr, "fwrite %zu bytes to %s failed\n", n, path);
    abort();
  }
  fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/hpcpipe-fuzz-conf.XXXXXX");
    if (!mkdtemp(dir))
      abort();
    snprintf(conf, sizeof conf, "%s/conf", dir);
    char base[128];
    snprintf(base, sizeof base, "%s/base", conf);
    if (mkdir(conf, 0755) || mkdir(base, 0755))
      abort();
  }
  const char *text = (const char *)data;
  if (memmem(text, size, "plugins", 7))
    return 0;
  static const char *files[] = {"pipelines.yml", "catalog.yml",
                                "parameters.yml", "hpcpipe.yml"};
  const char *p = text, *end = text + size;
  char *params = NULL;
  for (int k = 0; k < 5; k++) {
    const char *cut = p < end ? memmem(p, (size_t)(end - p), "\n%%\n", 4) : NULL;
    size_t n = (size_t)((cut ? cut : end) - p);
    if (p > end)
      n = 0;
    if (k < 4)
      put(files[k], p, n);
    else if (n)
      params = hp__xstrndup(p, n);
    p = cut ? cut + 4 : end + 1;
  }
  hp_buf b = {0};
  hp_error err = HP_ERROR_INIT;
  hp_conf *c = NULL;
  hp_catalog *cat = NULL;
  hp_pipeline *pipe = NULL;
  hp_graph *g = NULL;
  int rc = hp__conf_bundle_read(conf, NULL, &b, &err);
  if (rc == HP_OK)
    rc = hp__conf_load(b.data, b.len, conf, params, &c, &err);
  if (rc == HP_OK)
    rc = hp__catalog_new(c, "/nonexistent/store", &cat, &err);
  if (rc == HP_OK)
    rc = hp__pipeline_build(c->pipelines, NULL, 0, &pipe, &err);
  if (rc == HP_OK)
    rc = hp__graph_build(pipe, &g, &err);
  for (size_t d = 0; rc == HP_OK && d < g->nds; d++) {
    const hp_dsdef *def;
    hp_error e2 = HP_ERROR_INIT;
    if (hp__catalog_resolve(cat, g->dsname[d], &def, &e2) != HP_OK &&
        !e2.msg[0])
      abort();
  }
  if (rc != HP_OK && !err.msg[0])
    abort(); /* every failure carries a message */
  hp__graph_free(g);
  hp__pipeline_free(pipe);
  hp__catalog_free(cat);
  hp__conf_free(c);
  hp__buf_free(&b);
  free(params);
  return 0;
}
