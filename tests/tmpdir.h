/*
 * tmpdir.h - a scratch directory for one unit test program: made by
 * tmpdir_make("/tmp/hp_x_XXXXXX"), files named by in_dir("a.csv"), all
 * removed by tmpdir_remove(). Include once per test (static state).
 * Needs _XOPEN_SOURCE 700 (mkdtemp, nftw) before any system header.
 */
#ifndef HP_TEST_TMPDIR_H
#define HP_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"

static char dir[64];

/* dir/name, in one of 8 rotating buffers (so several can be in use). */
static char *in_dir(const char *name) {
  static char buf[8][256];
  static int k;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static void tmpdir_make(const char *tmpl) {
  snprintf(dir, sizeof dir, "%s", tmpl);
  CHECK(mkdtemp(dir) != NULL);
}

static int rm_cb(const char *p, const struct stat *st, int flag,
                 struct FTW *f) {
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

static void tmpdir_remove(void) {
  CHECK_EQ(nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
}

#endif
