/*
 * store.c - the only file that includes <hdf5.h>: values to and from HDF5
 * files. A table is a group with one 1-D dataset per column, an array a
 * dataset, a group a group with attributes; each file is written whole by
 * one process under a temporary name and renamed into place. Loading also
 * accepts files written by other tools (h5py, pandas-like layouts,
 * compound datasets). HDF5's error stack is converted into hp_error here.
 */
#define _POSIX_C_SOURCE 200809L

#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <hdf5.h>
#include <pthread.h>
#include <signal.h>

#include "fs.h"
#include "mem.h"
#include "value.h"

#define MAX_DEPTH 64
#define RESERVED  "hpcpipe_"

/* Columns that need more than HDF5's type: an attribute on the dataset
 * (timestamps: int64 ns; dictionaries: an int32 enum whose member names
 * are the strings), and the validity masks of columns with nulls, as
 * uint8 datasets named after their columns in this subgroup. */
#define DTYPE_ATTR     "hpcpipe_dtype"
#define DTYPE_TS       "timestamp[ns]"
#define DTYPE_DICT     "dictionary"
#define VALID_GROUP    ".valid"
/* A stitched master's description of its parts (see "partition layouts") */
#define LAYOUT_ATTR    "hpcpipe_layout"
#define LAYOUT_MAGIC   "hpcpipe-layout 1"
/* An enum's members live in its dataset's object header, whose messages
 * must stay under 64 KiB: larger dictionaries are written as plain
 * strings (and read back plain). */
#define ENUM_MAX_BYTES 49152

/* Row r of string column c, "" for a null. */
static const char *col_str(const hp_column *c, size_t r) {
  if (c->valid && !c->valid[r]) return "";
  if (c->dict) return c->chars + c->offs[((const int32_t *)c->data)[r]];
  return c->chars + c->offs[r];
}

static int col_has_null(const hp_column *c, size_t n) {
  return c->valid && n && memchr(c->valid, 0, n) != NULL;
}

/* ---- errors -------------------------------------------------------------- */

static int h5_ready;

void hp__h5_init(void) {
  if (h5_ready) return;
  /* No close-everything at exit: a file whose close failed (a full disk)
   * stays half-open inside HDF5, and closing it again at exit crashes in
   * HDF5 1.10. hpcpipe closes what it opens, and removes what it could
   * not finish. */
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  h5_ready = 1;
}

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  char *out = data;
  (void)n;
  if (!out[0] && e->desc && e->desc[0]) snprintf(out, 256, "%s", e->desc);
  return 0;
}

/* The innermost description on HDF5's error stack (then cleared). */
static const char *h5_msg(char *buf) {
  buf[0] = '\0';
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
  H5Eclear2(H5E_DEFAULT);
  if (!buf[0]) snprintf(buf, 256, "unknown HDF5 error");
  return buf;
}

/* "path: what: <innermost HDF5 message>" as HP_EHDF5. */
static int h5_fail(hp_error *err, const char *path, const char *what) {
  char m[256];
  int e = errno;
  h5_msg(m);
  /* a full disk or a file-size limit says more than HDF5's stack */
  if (e == ENOSPC || e == EFBIG || e == EDQUOT || e == EIO)
    snprintf(m, sizeof m, "%s", strerror(e));
  return hp__fail(err, HP_EHDF5, "%s: %s%s%s", path, what ? what : "",
                  what ? ": " : "", m);
}

/* Closes any HDF5 identifier that is open. */
static void h5_close(hid_t id) {
  if (id < 0) return;
  switch (H5Iget_type(id)) {
  case H5I_FILE:
    H5Fclose(id);
    break;
  case H5I_GROUP:
    H5Gclose(id);
    break;
  case H5I_DATASET:
    H5Dclose(id);
    break;
  case H5I_DATATYPE:
    H5Tclose(id);
    break;
  case H5I_DATASPACE:
    H5Sclose(id);
    break;
  case H5I_ATTR:
    H5Aclose(id);
    break;
  case H5I_GENPROP_LST:
    H5Pclose(id);
    break;
  default:
    break;
  }
}

static void vl_reclaim(hid_t type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

/* ---- files and directories ----------------------------------------------- */


/* ---- writing ------------------------------------------------------------- */

typedef struct wctx {
  const char *path; /* final path, for messages */
  hid_t vstr;       /* variable-length UTF-8 string */
  hid_t boolt;      /* enum int8 {FALSE = 0, TRUE = 1}, as h5py writes */
  hid_t scalar;     /* scalar dataspace */
  hid_t gcpl;       /* groups: link and attribute creation order tracked */
  hid_t dcpl;       /* datasets: no timestamps */
  hid_t lcpl;       /* links: intermediate groups created */
  hp_error *err;
} wctx;

/* "path: what 'name': <HDF5 message>" */
static int wfail(wctx *w, const char *what, const char *name) {
  char m[320];
  snprintf(m, sizeof m, "%s '%s'", what, name);
  return h5_fail(w->err, w->path, m);
}

static int attr_write(wctx *w, hid_t obj, const char *name, hid_t ftype,
                      hid_t mtype, const void *buf) {
  hid_t a = H5Acreate2(obj, name, ftype, w->scalar, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return wfail(w, "attribute", name);
  herr_t st = H5Awrite(a, mtype, buf);
  H5Aclose(a);
  return st < 0 ? wfail(w, "attribute", name) : HP_OK;
}

static int attr_str(wctx *w, hid_t obj, const char *name, const char *s) {
  return attr_write(w, obj, name, w->vstr, w->vstr, &s);
}

static int attr_i64(wctx *w, hid_t obj, const char *name, int64_t x) {
  return attr_write(w, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &x);
}

static int attr_f64(wctx *w, hid_t obj, const char *name, double x) {
  return attr_write(w, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &x);
}

/* Link names HDF5 can hold: non-empty, no '/', not ".". */
static int check_name(wctx *w, const char *what, const char *name) {
  if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0)
    return hp__fail(w->err, HP_EHDF5,
                    "%s: %s name '%s' cannot be an HDF5 link name", w->path,
                    what, name);
  return HP_OK;
}

/* Writes nrows values from mtype-typed buf as a 1-D (or dims) dataset;
 * buf NULL: only creates it (the caller writes it, *out must be given). */
static int write_dataset(wctx *w, hid_t loc, const char *name, hid_t ftype,
                         hid_t mtype, int ndim, const hsize_t *dims,
                         const void *buf, hid_t *out) {
  hid_t space = H5Screate_simple(ndim, dims, NULL);
  if (space < 0) return wfail(w, "dataset", name);
  hid_t d = H5Dcreate2(loc, name, ftype, space, w->lcpl, w->dcpl, H5P_DEFAULT);
  H5Sclose(space);
  if (d < 0) return wfail(w, "dataset", name);
  hsize_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= dims[i];
  if (n && buf && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    H5Dclose(d);
    return wfail(w, "dataset", name);
  }
  if (out)
    *out = d;
  else
    H5Dclose(d);
  return HP_OK;
}

static int nomem_col(wctx *w, const hp_column *c) {
  return hp__fail(w->err, HP_ENOMEM, "%s: column '%s': out of memory",
                  w->path, c->name);
}

/* A dataset of type ftype/mtype and its hpcpipe_dtype attribute. */
static int write_typed(wctx *w, hid_t g, const hp_column *c, hid_t ftype,
                       hid_t mtype, size_t n, const void *buf,
                       const char *dtype) {
  hsize_t dims[1] = {n};
  hid_t d = -1;
  HP_TRY(write_dataset(w, g, c->name, ftype, mtype, 1, dims, buf, &d));
  int rc = attr_str(w, d, DTYPE_ATTR, dtype);
  H5Dclose(d);
  return rc;
}

/* The enum type of a dictionary, or -1 when it cannot be one (empty, too
 * large, or a name HDF5 refuses). */
static hid_t dict_enum(const hp_column *c) {
  size_t bytes = 0;
  for (size_t k = 0; k < c->ndict; k++)
    bytes += (size_t)(c->offs[k + 1] - c->offs[k]) + 8;
  if (c->ndict == 0 || bytes > ENUM_MAX_BYTES) return -1;
  hid_t et = H5Tenum_create(H5T_NATIVE_INT32);
  for (size_t k = 0; et >= 0 && k < c->ndict; k++) {
    int32_t v = (int32_t)k;
    if (H5Tenum_insert(et, c->chars + c->offs[k], &v) < 0) {
      H5Tclose(et);
      et = -1;
    }
  }
  H5Eclear2(H5E_DEFAULT);
  return et;
}

static int write_strings(wctx *w, hid_t g, const hp_column *c, size_t n) {
  hsize_t dims[1] = {n};
  if (c->dict) {
    hid_t et = dict_enum(c);
    if (et >= 0) {
      int rc = write_typed(w, g, c, et, et, n, c->data, DTYPE_DICT);
      H5Tclose(et);
      return rc;
    }
  }
  const char **ptrs = malloc(n ? n * sizeof *ptrs : 1);
  if (!ptrs) return nomem_col(w, c);
  for (size_t i = 0; i < n; i++)
    ptrs[i] = col_str(c, i);
  int rc = write_dataset(w, g, c->name, w->vstr, w->vstr, 1, dims, ptrs, NULL);
  free(ptrs);
  return rc;
}

/* A float column with nulls, written as NaN (which readers take for
 * null) a block at a time through one small buffer: a copy of the whole
 * column would be fresh memory, whose first touch costs more than the
 * write (merged at 100x: 14 such columns of 15 MB). */
static int write_f64_nulls(wctx *w, hid_t g, const hp_column *c, size_t n) {
  enum { BLOCK = 32768 };
  hsize_t dims[1] = {n};
  double *x = malloc(BLOCK * sizeof *x);
  if (!x) return nomem_col(w, c);
  hid_t d = -1;
  int rc = write_dataset(w, g, c->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                         dims, NULL, &d);
  hid_t fs = rc == HP_OK ? H5Dget_space(d) : -1;
  if (rc == HP_OK && fs < 0) rc = wfail(w, "dataset", c->name);
  const double *v = c->data;
  for (size_t i0 = 0; rc == HP_OK && i0 < n; i0 += BLOCK) {
    size_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
    hp__f64_null_nan(x, v + i0, c->valid + i0, m);
    hsize_t off[1] = {i0}, cnt[1] = {m};
    hid_t ms = H5Screate_simple(1, cnt, NULL);
    if (ms < 0 ||
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
        H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, x) < 0)
      rc = wfail(w, "dataset", c->name);
    if (ms >= 0) H5Sclose(ms);
  }
  if (fs >= 0) H5Sclose(fs);
  if (d >= 0) H5Dclose(d);
  free(x);
  return rc;
}

static int write_column(wctx *w, hid_t g, const hp_column *c, size_t n) {
  HP_TRY(check_name(w, "column", c->name));
  hsize_t dims[1] = {n};
  switch (c->type) {
  case HP_INT64:
    return write_dataset(w, g, c->name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1,
                         dims, c->data, NULL);
  case HP_TIMESTAMP:
    return write_typed(w, g, c, H5T_STD_I64LE, H5T_NATIVE_INT64, n, c->data,
                       DTYPE_TS);
  case HP_FLOAT64: {
    if (!col_has_null(c, n))
      return write_dataset(w, g, c->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                           1, dims, c->data, NULL);
    return write_f64_nulls(w, g, c, n);
  }
  case HP_BOOL:
    return write_dataset(w, g, c->name, w->boolt, w->boolt, 1, dims, c->data,
                         NULL);
  default:
    return write_strings(w, g, c, n);
  }
}

static int open_group(wctx *w, hid_t loc, const char *name, hid_t *out);

/* The masks of columns with nulls (but floats) under VALID_GROUP. */
static int write_masks(wctx *w, hid_t g, const hp_value *v) {
  hid_t vg = -1;
  int rc = HP_OK;
  hsize_t dims[1] = {v->nrows};
  for (size_t i = 0; rc == HP_OK && i < v->ncols; i++) {
    const hp_column *c = &v->cols[i];
    if (c->type == HP_FLOAT64 || !col_has_null(c, v->nrows)) continue;
    if (vg < 0) rc = open_group(w, g, VALID_GROUP, &vg);
    if (rc == HP_OK)
      rc = write_dataset(w, vg, c->name, H5T_STD_U8LE, H5T_NATIVE_UINT8, 1,
                         dims, c->valid, NULL);
  }
  h5_close(vg);
  return rc;
}

static int write_lineage(wctx *w, hid_t obj, const hp_value *v,
                         const hp_lineage *lin) {
  if (lin->node) HP_TRY(attr_str(w, obj, "hpcpipe_node", lin->node));
  if (lin->func) HP_TRY(attr_str(w, obj, "hpcpipe_function", lin->func));
  char fp[17];
  snprintf(fp, sizeof fp, "%016" PRIx64, lin->fingerprint);
  HP_TRY(attr_str(w, obj, "hpcpipe_fingerprint", fp));
  HP_TRY(attr_i64(w, obj, "hpcpipe_rows", (int64_t)hp_value_rows(v)));
  HP_TRY(attr_str(w, obj, "hpcpipe_version", hp_version()));
  if (lin->time) HP_TRY(attr_str(w, obj, "hpcpipe_time", lin->time));
  if (lin->run) HP_TRY(attr_str(w, obj, "hpcpipe_run", lin->run));
  return HP_OK;
}

static int write_value(wctx *w, hid_t obj, const hp_value *v, int depth);

/* Creates group `name` in loc (or uses loc itself when name is NULL). */
static int open_group(wctx *w, hid_t loc, const char *name, hid_t *out) {
  if (!name) {
    *out = H5Gopen2(loc, ".", H5P_DEFAULT);
    return *out < 0 ? wfail(w, "group", "/") : HP_OK;
  }
  *out = H5Gcreate2(loc, name, w->lcpl, w->gcpl, H5P_DEFAULT);
  return *out < 0 ? wfail(w, "group", name) : HP_OK;
}

static int write_table(wctx *w, hid_t g, const hp_value *v) {
  hp_buf cols = {0};
  for (size_t i = 0; i < v->ncols; i++) {
    if (i) hp__buf_putc(&cols, ',');
    hp__buf_puts(&cols, v->cols[i].name);
  }
  int rc = attr_str(w, g, "hpcpipe_kind", "table");
  if (rc == HP_OK)
    rc = attr_str(w, g, "hpcpipe_columns", cols.data ? cols.data : "");
  hp__buf_free(&cols);
  for (size_t i = 0; rc == HP_OK && i < v->ncols; i++)
    rc = write_column(w, g, &v->cols[i], v->nrows);
  if (rc == HP_OK) rc = write_masks(w, g, v);
  return rc;
}

static int write_array(wctx *w, hid_t loc, const char *name, const hp_value *v,
                       hid_t *out) {
  hsize_t dims[HP_MAX_NDIM];
  for (int i = 0; i < v->ndim; i++)
    dims[i] = v->dims[i];
  int f = v->dtype == HP_FLOAT64;
  hid_t d = -1;
  HP_TRY(write_dataset(w, loc, name, f ? H5T_IEEE_F64LE : H5T_STD_I64LE,
                       f ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, v->ndim, dims,
                       v->data, &d));
  int rc = attr_str(w, d, "hpcpipe_kind", "array");
  if (rc == HP_OK && out)
    *out = d;
  else
    H5Dclose(d);
  return rc;
}

static int write_group(wctx *w, hid_t g, const hp_value *v, int depth) {
  HP_TRY(attr_str(w, g, "hpcpipe_kind", "group"));
  for (size_t i = 0; i < v->nattrs; i++) {
    const hp_attr *a = &v->attrs[i];
    if (strncmp(a->name, RESERVED, strlen(RESERVED)) == 0)
      return hp__fail(w->err, HP_EHDF5,
                      "%s: attribute name '%s' is reserved for hpcpipe",
                      w->path, a->name);
    if (a->type == HP_STRING)
      HP_TRY(attr_str(w, g, a->name, a->s));
    else if (a->type == HP_FLOAT64)
      HP_TRY(attr_f64(w, g, a->name, a->f));
    else
      HP_TRY(attr_i64(w, g, a->name, a->i));
  }
  for (size_t i = 0; i < v->nchild; i++) {
    const hp_value *c = v->children[i];
    const char *name = v->names[i];
    HP_TRY(check_name(w, "child", name));
    if (c->kind == HP_ARRAY) {
      HP_TRY(write_array(w, g, name, c, NULL));
      continue;
    }
    hid_t sub;
    HP_TRY(open_group(w, g, name, &sub));
    int rc = write_value(w, sub, c, depth + 1);
    H5Gclose(sub);
    HP_TRY(rc);
  }
  return HP_OK;
}

/* Writes a table or group into the open group obj. */
static int write_value(wctx *w, hid_t obj, const hp_value *v, int depth) {
  if (depth > MAX_DEPTH)
    return hp__fail(w->err, HP_EINVAL, "%s: groups nested too deeply", w->path);
  return v->kind == HP_TABLE ? write_table(w, obj, v)
                             : write_group(w, obj, v, depth);
}

static int wctx_open(wctx *w) {
  w->vstr = H5Tcopy(H5T_C_S1);
  if (w->vstr < 0 || H5Tset_size(w->vstr, H5T_VARIABLE) < 0 ||
      H5Tset_cset(w->vstr, H5T_CSET_UTF8) < 0)
    return h5_fail(w->err, w->path, "string type");
  w->boolt = H5Tenum_create(H5T_NATIVE_INT8);
  int8_t f = 0, t = 1;
  if (w->boolt < 0 || H5Tenum_insert(w->boolt, "FALSE", &f) < 0 ||
      H5Tenum_insert(w->boolt, "TRUE", &t) < 0)
    return h5_fail(w->err, w->path, "bool type");
  w->scalar = H5Screate(H5S_SCALAR);
  w->gcpl = H5Pcreate(H5P_GROUP_CREATE);
  w->dcpl = H5Pcreate(H5P_DATASET_CREATE);
  w->lcpl = H5Pcreate(H5P_LINK_CREATE);
  if (w->scalar < 0 || w->gcpl < 0 || w->dcpl < 0 || w->lcpl < 0 ||
      H5Pset_create_intermediate_group(w->lcpl, 1) < 0 ||
      H5Pset_link_creation_order(w->gcpl, H5P_CRT_ORDER_TRACKED |
                                              H5P_CRT_ORDER_INDEXED) < 0 ||
      H5Pset_attr_creation_order(w->gcpl, H5P_CRT_ORDER_TRACKED) < 0 ||
      H5Pset_obj_track_times(w->gcpl, 0) < 0 ||
      H5Pset_obj_track_times(w->dcpl, 0) < 0)
    return h5_fail(w->err, w->path, "property lists");
  return HP_OK;
}

static void wctx_close(wctx *w) {
  h5_close(w->vstr);
  h5_close(w->boolt);
  h5_close(w->scalar);
  h5_close(w->gcpl);
  h5_close(w->dcpl);
  h5_close(w->lcpl);
}

/* Creates the file's content: v at key, lineage on it. */
static int write_file(wctx *w, hid_t file, const char *key, const hp_value *v,
                      const hp_lineage *lin) {
  int root = !key || !key[0] || strcmp(key, "/") == 0;
  hid_t obj = -1, rootg = -1;
  int rc = HP_OK;
  if (v->kind == HP_ARRAY) {
    if (root) {
      rc = open_group(w, file, NULL, &rootg);
      if (rc == HP_OK) rc = attr_str(w, rootg, "hpcpipe_kind", "array");
    }
    if (rc == HP_OK)
      rc = write_array(w, root ? rootg : file, root ? "data" : key, v, &obj);
  } else {
    if (root) {
      rc = open_group(w, file, NULL, &obj);
    } else {
      rc = open_group(w, file, key, &obj);
    }
    if (rc == HP_OK) rc = write_value(w, obj, v, 0);
  }
  if (rc == HP_OK && lin) rc = write_lineage(w, obj, v, lin);
  h5_close(obj);
  h5_close(rootg);
  return rc;
}

/* Whether a file of about `bytes` fits beside path: under the file-size
 * limit (ulimit -f) and in the free space of its file system. HDF5 1.10
 * cannot recover from a write that fails half way (the file stays
 * half-open and the library crashes when it shuts down), so a full disk is
 * reported before writing. Errors: HP_EIO "path: File too large (...)" or
 * "path: No space left on device (...)". */
static int room_for(const char *path, size_t bytes, hp_error *err) {
  double need = (double)bytes * 1.01 + 65536.0; /* metadata, slack */
  struct rlimit rl;
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      need > (double)rl.rlim_cur)
    return hp__fail(err, HP_EIO,
                    "%s: %s (about %.1f MB to write, file-size limit %.1f MB)",
                    path, strerror(EFBIG), need / 1e6,
                    (double)rl.rlim_cur / 1e6);
  char *dir = hp__xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  struct statvfs sv;
  int ok = statvfs(slash ? dir : ".", &sv) != 0 ||
           (double)sv.f_bavail * (double)sv.f_frsize >= need;
  double avail = ok ? 0 : (double)sv.f_bavail * (double)sv.f_frsize;
  free(dir);
  if (!ok)
    return hp__fail(err, HP_EIO,
                    "%s: %s (about %.1f MB to write, %.1f MB free)", path,
                    strerror(ENOSPC), need / 1e6, avail / 1e6);
  return HP_OK;
}

/* Ends a save of the closed temporary file tmp (freed here): moved to
 * path if rc is HP_OK (hp__fs_replace, with writeback), else removed.
 * Returns rc or the move's error. */
static int commit_tmp(char *tmp, const char *path, int rc, int writeback,
                      hp_error *err) {
  if (rc == HP_OK && hp__fs_replace(tmp, path, writeback) != 0)
    rc = hp__fail(err, HP_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                  strerror(errno));
  if (rc != HP_OK) {
    unlink(tmp);
    H5Eclear2(H5E_DEFAULT);
  }
  free(tmp);
  return rc;
}

static int h5_save(const char *path, const char *key, const hp_value *v,
                const hp_lineage *lin, hp_error *err) {
  if (!path || !v || v->kind < HP_TABLE || v->kind > HP_GROUP)
    return hp__fail(err, HP_EINVAL, "%s: nothing to save",
                    path ? path : "(null)");
  hp__h5_init();
  if (hp__mkdir_parents(path) != 0)
    return hp__fail(err, HP_EIO, "%s: cannot create directory: %s", path,
                    strerror(errno));
  HP_TRY(room_for(path, hp__value_size_hint(v), err));
  char *tmp = hp__fs_tmp_name(path);
  errno = 0;
  wctx w = {.path = path,
            .vstr = -1,
            .boolt = -1,
            .scalar = -1,
            .gcpl = -1,
            .dcpl = -1,
            .lcpl = -1,
            .err = err};
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
  hid_t file = -1;
  int rc = wctx_open(&w);
  if (rc == HP_OK &&
      (fcpl < 0 || fapl < 0 ||
       H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED |
                                            H5P_CRT_ORDER_INDEXED) < 0 ||
       H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED) < 0 ||
       H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0))
    rc = h5_fail(err, path, "property lists");
  if (rc == HP_OK) {
    file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (file < 0) rc = h5_fail(err, path, "cannot create file");
  }
  if (rc == HP_OK) rc = write_file(&w, file, key, v, lin);
  if (rc == HP_OK && H5Fflush(file, H5F_SCOPE_LOCAL) < 0)
    rc = h5_fail(err, path, "flush");
  if (file >= 0 && H5Fclose(file) < 0 && rc == HP_OK)
    rc = h5_fail(err, path, "close");
  h5_close(fcpl);
  h5_close(fapl);
  wctx_close(&w);
  /* an output meant to stay goes to disk early, a spill file not */
  return commit_tmp(tmp, path, rc, lin != NULL, err);
}

/* ---- reading ------------------------------------------------------------- */

typedef struct rctx {
  const char *path;
  hp_error *err;
  /* a projection of the top table: only these columns (none: the first
   * one, for its row count); ignored when project is 0 */
  const char *const *cols;
  size_t ncols;
  int project;
  /* rows [row0, row1) of the top table's columns (ranged set), read by
   * hyperslab; full: the columns' length in the file */
  int want_range, ranged;
  int range_depth; /* the depth of the object the range applies to */
  int64_t row0, row1;
  size_t full;
  int fd; /* the file, opened for mapping on first need; -1 */
} rctx;

/* Rows [row0, min(row1, len)) of an extent of len rows: their count. */
static size_t range_rows(const rctx *r, size_t len) {
  int64_t hi = r->row1 < (int64_t)len ? r->row1 : (int64_t)len;
  return hi > r->row0 ? (size_t)(hi - r->row0) : 0;
}

/* Reads n elements of dataset d into buf: all of it, or for a ranged read
 * the rows (along axis 0) from row0 on. */
static herr_t dread(const rctx *r, hid_t d, hid_t mt, void *buf, size_t n) {
  if (!r->ranged)
    return H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK], all = n;
  hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &all, NULL);
  int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
  herr_t st = -1;
  if (nd >= 1 && ms >= 0 && H5Sget_simple_extent_dims(fs, count, NULL) >= 0) {
    size_t row = 1;
    for (int i = 1; i < nd; i++)
      row *= (size_t)count[i];
    start[0] = (hsize_t)r->row0;
    count[0] = row ? n / row : 0;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0)
      st = H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf);
  }
  if (fs >= 0)
    H5Sclose(fs);
  if (ms >= 0)
    H5Sclose(ms);
  return st;
}

/* Data buffers of at least this many bytes are mapped from the file when
 * they can be (HPCPIPE_MAP_MIN overrides). A read copies the bytes out of
 * the page cache at ~4-7 GB/s, and a node then reads them again; mapped,
 * the node's first pass reads them in place. Since grouped reductions
 * take one pass over the rows, mapping the W1 queries' 0.35-0.7 MB
 * columns is 1.2-1.5x faster than reading them (it was not before, with
 * a pass per column); below ~64 KB the mapping's system calls cost more
 * than the copy saves. */
static size_t map_min(void) {
  return hp__env_size("HPCPIPE_MAP_MIN", (size_t)64 << 10);
}

/* The n elements (of 8 bytes, from row0 on for a ranged read) of dataset d
 * mapped from the file rather than read: when d is stored contiguously,
 * uncompressed, in this machine's representation (ft equal to mt), in the
 * file HDF5 reads with its default driver, at an aligned offset. NULL
 * otherwise (the caller reads). */
/* 1 if dataset d's values lie in one contiguous run of the file at path,
 * with *addr their offset from the file's start (userblock included):
 * stored contiguously, not in external files, in the file HDF5 reads with
 * its default driver, and that file is path itself (a dataset reached
 * through an external link lives in another one). */
static int local_addr(hid_t d, const char *path, haddr_t *addr) {
  *addr = H5Dget_offset(d); /* HADDR_UNDEF unless contiguous */
  hid_t f = -1, fapl = -1, dcpl = H5Dget_create_plist(d);
  char name[4096];
  ssize_t nl;
  int ok = *addr != HADDR_UNDEF && dcpl >= 0 &&
           H5Pget_external_count(dcpl) == 0 &&
           (f = H5Iget_file_id(d)) >= 0 &&
           (fapl = H5Fget_access_plist(f)) >= 0 &&
           H5Pget_driver(fapl) == H5FD_SEC2 &&
           (nl = H5Fget_name(f, name, sizeof name)) > 0 &&
           (size_t)nl < sizeof name && strcmp(name, path) == 0;
  h5_close(fapl);
  h5_close(f);
  h5_close(dcpl);
  H5Eclear2(H5E_DEFAULT);
  return ok;
}

static void *map_elems(rctx *r, hid_t d, hid_t ft, hid_t mt, size_t n,
                       size_t esz) {
  if (n == 0 || n > SIZE_MAX / esz || n * esz < map_min() ||
      H5Tequal(ft, mt) <= 0)
    return NULL;
  haddr_t addr;
  void *p = NULL;
  size_t skip = 0;
  if (!local_addr(d, r->path, &addr))
    goto done;
  if (r->ranged) {
    hid_t s = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int nd = s >= 0 ? H5Sget_simple_extent_dims(s, dims, NULL) : -1;
    size_t row = 1;
    for (int i = 1; i < nd; i++)
      row *= (size_t)dims[i];
    h5_close(s);
    if (nd < 1) goto done;
    skip = (size_t)r->row0 * row;
  }
  uint64_t off = (uint64_t)addr + (uint64_t)skip * esz;
  if (off % esz != 0 || H5Dget_storage_size(d) < (skip + n) * esz)
    goto done;
  if (r->fd < 0)
    r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
  struct stat st; /* the metadata could promise more than the file holds */
  if (r->fd >= 0 && fstat(r->fd, &st) == 0 && (uint64_t)st.st_size >= off &&
      (uint64_t)st.st_size - off >= (uint64_t)n * esz)
    p = hp__mem_map(r->fd, off, n * esz);
done:
  H5Eclear2(H5E_DEFAULT);
  return p;
}

/* Keeps the names the projection asks for, in file order. */
static void project_names(const rctx *r, char **names, size_t *n) {
  size_t k = 0;
  for (size_t i = 0; i < *n; i++) {
    if (hp__table_projects(r->cols, r->ncols, k, names[i]))
      names[k++] = names[i];
    else
      free(names[i]);
  }
  *n = k;
}

/* "path: 'name': what: <HDF5 message>" */
static int rfail(rctx *r, const char *name, const char *what) {
  char m[320];
  snprintf(m, sizeof m, "'%s'%s%s", name, what ? ": " : "", what ? what : "");
  return h5_fail(r->err, r->path, m);
}

static int unsupported(rctx *r, const char *name, const char *why) {
  H5Eclear2(H5E_DEFAULT);
  return hp__fail(r->err, HP_EHDF5, "%s: '%s': %s", r->path, name, why);
}

/* A string attribute (variable or fixed length) as a new string, or NULL. */
static char *attr_read_str(hid_t obj, const char *name) {
  if (H5Aexists(obj, name) <= 0) return NULL;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  char *out = NULL;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      hid_t m = H5Tcopy(H5T_C_S1);
      H5Tset_size(m, H5T_VARIABLE);
      H5Tset_cset(m, H5Tget_cset(t));
      char *s = NULL;
      if (H5Aread(a, m, &s) >= 0 && s) {
        out = hp__xstrdup(s);
        H5free_memory(s);
      }
      H5Tclose(m);
    } else {
      size_t n = H5Tget_size(t);
      char *s = hp__xcalloc(n + 1, 1);
      if (H5Aread(a, t, s) >= 0)
        out = s;
      else
        free(s);
    }
  }
  h5_close(t);
  h5_close(a);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

/* 1 if t is h5py's bool: an enum of two members FALSE = 0 and TRUE. */
static int is_bool_enum(hid_t t) {
  if (H5Tget_class(t) != H5T_ENUM || H5Tget_nmembers(t) != 2 ||
      H5Tget_size(t) > 8)
    return 0;
  int ok = 1;
  for (unsigned i = 0; i < 2 && ok; i++) {
    char *name = H5Tget_member_name(t, i);
    unsigned char val[8] = {0};
    if (!name || H5Tget_member_value(t, i, val) < 0) {
      ok = 0;
    } else {
      int zero = 1;
      for (int j = 0; j < 8; j++)
        zero &= val[j] == 0;
      if (strcasecmp(name, "false") == 0)
        ok = zero;
      else if (strcasecmp(name, "true") == 0)
        ok = !zero;
      else
        ok = 0;
    }
    if (name) H5free_memory(name);
  }
  return ok;
}

/* The hp type a dataset or member of HDF5 type t reads as; 0 if none. */
static hp_dtype column_type(hid_t t) {
  switch (H5Tget_class(t)) {
  case H5T_INTEGER:
    return HP_INT64;
  case H5T_FLOAT:
    return HP_FLOAT64;
  case H5T_STRING:
    return HP_STRING;
  case H5T_ENUM: /* other enums read as dictionary strings */
    return is_bool_enum(t) ? HP_BOOL : HP_STRING;
  default:
    return (hp_dtype)0;
  }
}

/* The hp type of dataset d (file type ft) as a table column: what its
 * hpcpipe_dtype attribute says (a timestamp, or a dictionary even when its
 * strings are FALSE and TRUE), else by the type alone. */
static hp_dtype dataset_type(hid_t d, hid_t ft) {
  hp_dtype t = column_type(ft);
  char *dt = attr_read_str(d, DTYPE_ATTR);
  if (dt && t == HP_INT64 && strcmp(dt, DTYPE_TS) == 0) t = HP_TIMESTAMP;
  if (dt && H5Tget_class(ft) == H5T_ENUM && strcmp(dt, DTYPE_DICT) == 0)
    t = HP_STRING;
  free(dt);
  return t;
}

/* A read type for member `member` of a compound (or mt itself). */
static hid_t read_type(hid_t mt, const char *member) {
  if (mt < 0) return -1;
  if (!member) return H5Tcopy(mt);
  hid_t rt = H5Tcreate(H5T_COMPOUND, H5Tget_size(mt));
  if (rt >= 0 && H5Tinsert(rt, member, 0, mt) < 0) {
    H5Tclose(rt);
    rt = -1;
  }
  return rt;
}

/* Reads an enum column as a dictionary: the member names are the strings,
 * and HDF5 converts each value to the index of its member (a value that is
 * no member reads as a null). */
/* The int32 enum an enum file type ft reads into (member i has value i),
 * its members added to set (when set is non-NULL); -1 on failure. */
static hid_t dict_memtype(hid_t ft, hp_strset *set) {
  int nm = H5Tget_nmembers(ft);
  hid_t mt = nm >= 0 ? H5Tenum_create(H5T_NATIVE_INT32) : -1;
  for (int i = 0; mt >= 0 && i < nm; i++) {
    char *mn = H5Tget_member_name(ft, (unsigned)i);
    int32_t v = i;
    if (!mn || H5Tenum_insert(mt, mn, &v) < 0) {
      H5Tclose(mt);
      mt = -1;
    } else if (set) {
      hp__strset_add(set, mn, strlen(mn), SIZE_MAX);
    }
    if (mn) H5free_memory(mn);
  }
  return mt;
}

/* Codes outside 0..nm-1 (values no member has) become nulls of c (code
 * 0); -1 if there are such codes but no members. One pass the compiler
 * vectorises finds whether there are any. */
static int codes_to_nulls(int32_t *codes, size_t n, int nm, hp_column *c) {
  unsigned bad = 0;
  for (size_t i = 0; i < n; i++)
    bad |= (uint32_t)codes[i] >= (uint32_t)nm;
  for (size_t i = 0; bad && i < n; i++) {
    if (codes[i] >= 0 && codes[i] < nm) continue;
    if (nm == 0) return -1;
    if (!c->valid) {
      c->valid = hp__xmalloc(n);
      memset(c->valid, 1, n);
    }
    c->valid[i] = 0;
    codes[i] = 0;
  }
  return 0;
}

static int read_dict(rctx *r, hid_t d, const char *member, hid_t ft, size_t n,
                     hp_column *c, const char *name) {
  int nm = H5Tget_nmembers(ft);
  hp_strset set = {0};
  hid_t mt = dict_memtype(ft, &set);
  hid_t rt = read_type(mt, member);
  int32_t *codes = NULL;
  int rc = HP_OK;
  if (rt < 0) {
    rc = rfail(r, name, "enum datatype");
  } else if (!member && (codes = map_elems(r, d, ft, mt, n, 4)) != NULL) {
    /* the file's enum is this one (values 0..nm-1 in member order, as
     * hpcpipe writes them): its values are the codes, mapped */
  } else if (!(codes = malloc(n ? n * sizeof *codes : 1))) {
    rc = hp__fail(r->err, HP_ENOMEM, "%s: '%s': out of memory (%zu elements)",
                  r->path, name, n);
  } else if (n && dread(r, d, rt, codes, n) < 0) {
    rc = rfail(r, name, "read");
  }
  /* values outside the enum read as nulls */
  if (rc == HP_OK && codes_to_nulls(codes, n, nm, c) != 0)
    rc = unsupported(r, name, "enum without members");
  H5Eclear2(H5E_DEFAULT);
  h5_close(rt);
  h5_close(mt);
  if (rc != HP_OK) {
    hp__mem_free(codes);
    hp__strset_free(&set);
    return rc;
  }
  c->data = codes;
  hp__strset_to_dict(&set, c);
  return HP_OK;
}

/* n bools (0/1 bytes, malloc'd) from n values of esz bytes: true when any
 * byte is nonzero (whatever the byte order); NULL if out of memory. */
static uint8_t *bools_of(const void *buf, size_t n, size_t esz) {
  uint8_t *b = malloc(n ? n : 1);
  const unsigned char *src = buf;
  for (size_t i = 0; b && i < n; i++) {
    unsigned char any = 0;
    for (size_t j = 0; j < esz; j++)
      any |= src[i * esz + j];
    b[i] = any != 0;
  }
  return b;
}

/* Reads n elements of file type ft from dataset d into c (type already
 * set); `member` names a compound member to read, or is NULL. */
static int read_elems(rctx *r, hid_t d, const char *member, hid_t ft, size_t n,
                      hp_column *c, const char *name) {
  if (c->type == HP_STRING && H5Tget_class(ft) == H5T_ENUM)
    return read_dict(r, d, member, ft, n, c, name);
  hid_t mt = -1, rt = -1, space = -1;
  void *buf = NULL;
  int rc = HP_OK, vl = 0;
  size_t esz = 8;
  /* unsigned 64-bit integers read as such, then checked: HDF5 would cap
   * those above INT64_MAX without a word */
  int u64 = c->type == HP_INT64 && H5Tget_class(ft) == H5T_INTEGER &&
            H5Tget_sign(ft) == H5T_SGN_NONE && H5Tget_size(ft) >= 8;
  if (u64) {
    mt = H5Tcopy(H5T_NATIVE_UINT64);
  } else if (c->type == HP_INT64 || c->type == HP_TIMESTAMP) {
    mt = H5Tcopy(H5T_NATIVE_INT64);
  } else if (c->type == HP_FLOAT64) {
    mt = H5Tcopy(H5T_NATIVE_DOUBLE);
  } else if (c->type == HP_BOOL) {
    mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
    esz = mt >= 0 ? H5Tget_size(mt) : 1;
  } else if (H5Tis_variable_str(ft) > 0) {
    vl = 1;
    mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    esz = sizeof(char *);
  } else {
    mt = H5Tcopy(ft);
    esz = H5Tget_size(ft);
  }
  rt = read_type(mt, member);
  if (mt < 0 || rt < 0) {
    rc = rfail(r, name, "datatype");
    goto done;
  }
  if (!member && !u64 &&
      (c->type == HP_INT64 || c->type == HP_FLOAT64 ||
       c->type == HP_TIMESTAMP) &&
      (c->data = map_elems(r, d, ft, rt, n, 8)) != NULL)
    goto done;
  /* H5Dread fills every element (calloc only for n == 0) */
  buf = !n ? calloc(1, esz) : n <= SIZE_MAX / esz ? malloc(n * esz) : NULL;
  if (!buf) {
    rc = hp__fail(r->err, HP_ENOMEM, "%s: '%s': out of memory (%zu elements)",
                  r->path, name, n);
    goto done;
  }
  if (n && dread(r, d, rt, buf, n) < 0) {
    rc = rfail(r, name, "read");
    goto done;
  }
  for (size_t i = 0; u64 && i < n; i++)
    if (((const uint64_t *)buf)[i] > (uint64_t)INT64_MAX) {
      rc = hp__fail(r->err, HP_EIO,
                    "%s: '%s': element %zu is %llu, above the largest int64 "
                    "(unsigned 64-bit values read as int64)",
                    r->path, name, i,
                    (unsigned long long)((const uint64_t *)buf)[i]);
      goto done;
    }
  if (c->type == HP_INT64 || c->type == HP_FLOAT64 ||
      c->type == HP_TIMESTAMP) {
    c->data = buf;
    buf = NULL;
  } else if (c->type == HP_BOOL) {
    if (!(c->data = bools_of(buf, n, esz))) {
      rc = hp__fail(r->err, HP_ENOMEM, "%s: out of memory", r->path);
      goto done;
    }
  } else {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
      const char *s = vl ? ((char **)buf)[i] : (char *)buf + i * esz;
      total += (vl ? (s ? strlen(s) : 0) : strnlen(s, esz)) + 1;
    }
    c->offs = malloc((n + 1) * sizeof *c->offs);
    c->chars = malloc(total ? total : 1);
    if (!c->offs || !c->chars) {
      rc = hp__fail(r->err, HP_ENOMEM, "%s: out of memory", r->path);
    } else {
      size_t at = 0;
      for (size_t i = 0; i < n; i++) {
        const char *s = vl ? ((char **)buf)[i] : (char *)buf + i * esz;
        size_t len = vl ? (s ? strlen(s) : 0) : strnlen(s, esz);
        c->offs[i] = (int64_t)at;
        if (len) memcpy(c->chars + at, s, len);
        c->chars[at + len] = '\0';
        at += len + 1;
      }
      c->offs[n] = (int64_t)at;
    }
    if (vl && n) { /* the memory space of what was read */
      hsize_t cnt = n;
      space = H5Screate_simple(1, &cnt, NULL);
      vl_reclaim(rt, space, buf);
    }
  }
done:
  free(buf);
  h5_close(space);
  h5_close(rt);
  h5_close(mt);
  return rc;
}

/* Number of elements of a 1-D (or scalar) dataset; -1 otherwise. */
static long long extent_1d(hid_t d) {
  hid_t s = H5Dget_space(d);
  if (s < 0) return -1;
  long long n = -1;
  int nd = H5Sget_simple_extent_ndims(s);
  H5S_class_t cls = H5Sget_simple_extent_type(s);
  if (cls == H5S_SCALAR) {
    n = 1;
  } else if (cls == H5S_SIMPLE && nd == 1) {
    hsize_t dim;
    H5Sget_simple_extent_dims(s, &dim, NULL);
    n = (long long)dim;
  }
  H5Sclose(s);
  return n;
}

/* Names of the links in group g, in creation order when the group tracks
 * it, else in name order. */
static char **link_names(hid_t g, size_t *count) {
  H5G_info_t info;
  *count = 0;
  if (H5Gget_info(g, &info) < 0) return NULL;
  H5_index_t idx = H5_INDEX_CRT_ORDER;
  if (info.nlinks &&
      H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, 0, NULL, 0, H5P_DEFAULT) < 0)
    idx = H5_INDEX_NAME;
  H5Eclear2(H5E_DEFAULT);
  char **names = hp__xcalloc(info.nlinks ? info.nlinks : 1, sizeof *names);
  for (hsize_t i = 0; i < info.nlinks; i++) {
    ssize_t n =
        H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
    if (n < 0) break;
    names[*count] = hp__xmalloc((size_t)n + 1);
    H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, names[*count],
                       (size_t)n + 1, H5P_DEFAULT);
    (*count)++;
  }
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* 1 if every link of g is a 1-D dataset of a column type, all of one
 * length (and there is at least one). */
static int looks_like_table(hid_t g, char **names, size_t n) {
  if (n == 0) return 0;
  long long len = -1;
  for (size_t i = 0; i < n; i++) {
    hid_t o = H5Oopen(g, names[i], H5P_DEFAULT);
    if (o < 0) {
      H5Eclear2(H5E_DEFAULT);
      return 0;
    }
    int ok = H5Iget_type(o) == H5I_DATASET;
    if (ok) {
      hid_t s = H5Dget_space(o);
      ok = s >= 0 && H5Sget_simple_extent_type(s) == H5S_SIMPLE &&
           H5Sget_simple_extent_ndims(s) == 1;
      h5_close(s);
    }
    long long m = ok ? extent_1d(o) : -1;
    if (ok) {
      hid_t t = H5Dget_type(o);
      ok = t >= 0 && column_type(t) != 0;
      h5_close(t);
    }
    H5Oclose(o);
    if (!ok || m < 0 || (len >= 0 && m != len)) return 0;
    len = m;
  }
  return 1;
}

/* Column order: hpcpipe_columns when it names exactly the links. */
static void column_order(hid_t g, char ***names, size_t *n) {
  char *cols = attr_read_str(g, "hpcpipe_columns");
  if (!cols) return;
  size_t cnt = 0, cap = 0;
  char **order = NULL;
  int ok = 1;
  for (char *p = cols, *e;; p = e + 1) {
    e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len || e || *n) {
      hp__grow(&order, &cap, cnt + 1, sizeof *order);
      order[cnt++] = hp__xstrndup(p, len);
    }
    if (!e) break;
  }
  if (cnt != *n) ok = 0;
  for (size_t i = 0; ok && i < cnt; i++) {
    size_t j = 0;
    while (j < *n && strcmp((*names)[j], order[i]) != 0)
      j++;
    ok = j < *n;
  }
  if (ok) {
    free_names(*names, *n);
    *names = order;
  } else {
    free_names(order, cnt);
  }
  free(cols);
}

/* Removes VALID_GROUP from names when it is a group of g; 1 if it was. */
static int take_valid(hid_t g, char **names, size_t *n) {
  for (size_t i = 0; i < *n; i++) {
    if (strcmp(names[i], VALID_GROUP) != 0) continue;
    H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    herr_t st = H5Oget_info_by_name3(g, names[i], &info, H5O_INFO_BASIC,
                                     H5P_DEFAULT);
#else
    herr_t st = H5Oget_info_by_name2(g, names[i], &info, H5O_INFO_BASIC,
                                     H5P_DEFAULT);
#endif
    if (st < 0 || info.type != H5O_TYPE_GROUP) {
      H5Eclear2(H5E_DEFAULT);
      return 0;
    }
    free(names[i]);
    memmove(names + i, names + i + 1, (*n - i - 1) * sizeof *names);
    (*n)--;
    return 1;
  }
  return 0;
}

/* Mask m (n bytes as stored: nonzero = valid, malloc'd) onto c, which
 * takes it, with the nulls c already has. */
static void mask_onto(hp_column *c, uint8_t *m, size_t n) {
  for (size_t k = 0; k < n; k++)
    m[k] = m[k] != 0 && (!c->valid || c->valid[k]);
  free(c->valid);
  c->valid = m;
}

/* The masks under VALID_GROUP onto the columns they name. */
static int read_masks(rctx *r, hid_t g, hp_value *t) {
  hid_t vg = H5Gopen2(g, VALID_GROUP, H5P_DEFAULT);
  if (vg < 0) return rfail(r, VALID_GROUP, NULL);
  int rc = HP_OK;
  for (size_t i = 0; rc == HP_OK && i < t->ncols; i++) {
    hp_column *c = &t->cols[i];
    if (H5Lexists(vg, c->name, H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    const char *where = c->name;
    hid_t d = H5Dopen2(vg, c->name, H5P_DEFAULT);
    long long len = d >= 0 ? extent_1d(d) : -1;
    uint8_t *m = NULL;
    if (len < 0)
      rc = rfail(r, where, "mask in " VALID_GROUP ": not a 1-D dataset");
    else if ((size_t)len != (r->ranged ? r->full : t->nrows))
      rc = unsupported(r, where,
                       "mask in " VALID_GROUP " differs in length from the "
                       "column");
    else if (!(m = malloc(t->nrows ? t->nrows : 1)))
      rc = hp__fail(r->err, HP_ENOMEM, "%s: out of memory", r->path);
    else if (t->nrows && dread(r, d, H5T_NATIVE_UINT8, m, t->nrows) < 0)
      rc = rfail(r, where, "reading its mask in " VALID_GROUP);
    h5_close(d);
    if (rc != HP_OK) {
      free(m);
      break;
    }
    mask_onto(c, m, t->nrows);
  }
  H5Gclose(vg);
  return rc;
}

static int read_table(rctx *r, hid_t g, char **names, size_t n,
                      hp_value **out) {
  hp_value *t = hp_table_new();
  t->cols = hp__xcalloc(n ? n : 1, sizeof *t->cols);
  t->capcols = n ? n : 1;
  int rc = HP_OK;
  for (size_t i = 0; rc == HP_OK && i < n; i++) {
    hid_t d = H5Dopen2(g, names[i], H5P_DEFAULT);
    hid_t ft = d >= 0 ? H5Dget_type(d) : -1;
    long long len = d >= 0 ? extent_1d(d) : -1;
    if (ft < 0 || len < 0) {
      rc = rfail(r, names[i], "not a 1-D dataset");
    } else if (i > 0 && (size_t)len != r->full) {
      rc = unsupported(r, names[i], "columns of different lengths");
    } else {
      hp_column *c = &t->cols[t->ncols++];
      c->name = hp__xstrdup(names[i]);
      c->type = dataset_type(d, ft);
      r->full = (size_t)len;
      if (r->ranged)
        len = (long long)range_rows(r, (size_t)len);
      t->nrows = (size_t)len;
      rc = c->type ? read_elems(r, d, NULL, ft, t->nrows, c, names[i])
                   : unsupported(r, names[i], "unsupported column type");
    }
    h5_close(ft);
    h5_close(d);
  }
  if (rc != HP_OK) {
    hp_value_free(t);
    return rc;
  }
  *out = t;
  return HP_OK;
}

/* A 1-D compound dataset as a table, one column per member. */
static int read_compound(rctx *r, hid_t d, hid_t ft, const char *name,
                         hp_value **out) {
  long long len = extent_1d(d);
  int nm = H5Tget_nmembers(ft);
  if (len < 0 || nm < 0)
    return unsupported(r, name, "compound dataset is not 1-D");
  hp_value *t = hp_table_new();
  t->cols = hp__xcalloc(nm ? (size_t)nm : 1, sizeof *t->cols);
  t->capcols = nm ? (size_t)nm : 1;
  r->full = (size_t)len;
  t->nrows = !nm ? 0 : r->ranged ? range_rows(r, (size_t)len) : (size_t)len;
  int rc = HP_OK;
  for (int i = 0; rc == HP_OK && i < nm; i++) {
    char *mname = H5Tget_member_name(ft, (unsigned)i);
    hid_t mt = H5Tget_member_type(ft, (unsigned)i);
    if (!mname || mt < 0) {
      rc = rfail(r, name, "compound member");
    } else {
      hp_column *c = &t->cols[t->ncols++];
      c->name = hp__xstrdup(mname);
      c->type = column_type(mt);
      rc = c->type ? read_elems(r, d, mname, mt, t->nrows, c, mname)
                   : unsupported(r, mname, "unsupported member type");
    }
    if (mname) H5free_memory(mname);
    h5_close(mt);
  }
  if (rc != HP_OK) {
    hp_value_free(t);
    return rc;
  }
  *out = t;
  return HP_OK;
}

static int read_dataset(rctx *r, hid_t d, const char *name, hp_value **out) {
  hid_t ft = H5Dget_type(d), s = H5Dget_space(d);
  int rc = HP_OK;
  if (ft < 0 || s < 0) {
    rc = rfail(r, name, "dataset");
    goto done;
  }
  H5T_class_t cls = H5Tget_class(ft);
  if (cls == H5T_COMPOUND) {
    rc = read_compound(r, d, ft, name, out);
    goto done;
  }
  hp_dtype ct = column_type(ft);
  int nd = H5Sget_simple_extent_ndims(s);
  if (!ct || H5Sget_simple_extent_type(s) == H5S_NULL) {
    rc = unsupported(r, name, "unsupported HDF5 datatype or dataspace");
    goto done;
  }
  if (nd > HP_MAX_NDIM) {
    rc = unsupported(r, name, "more than 8 dimensions");
    goto done;
  }
  hsize_t hd[HP_MAX_NDIM] = {1};
  if (nd > 0)
    H5Sget_simple_extent_dims(s, hd, NULL);
  else
    nd = 1, r->ranged = 0; /* a scalar has no rows to range over */
  size_t dims[HP_MAX_NDIM], n = 1;
  if (r->ranged) /* rows [row0, row1) along axis 0 */
    hd[0] = range_rows(r, (size_t)hd[0]);
  for (int i = 0; i < nd; i++) {
    dims[i] = (size_t)hd[i];
    n *= dims[i];
  }
  hp_column c = {0};
  if (ct == HP_STRING) {
    /* a 1-D string dataset reads as a one-column table */
    if (nd != 1) {
      rc = unsupported(r, name, "string dataset is not 1-D");
      goto done;
    }
    const char *base = strrchr(name, '/');
    base = base && base[1] ? base + 1 : name;
    c.type = HP_STRING;
    rc = read_elems(r, d, NULL, ft, n, &c, name);
    if (rc == HP_OK) {
      hp_value *t = hp_table_new();
      t->cols = hp__xmalloc(sizeof *t->cols);
      t->capcols = t->ncols = 1;
      c.name = hp__xstrdup(base);
      t->cols[0] = c;
      t->nrows = n;
      *out = t;
      memset(&c, 0, sizeof c);
    }
    goto done_col;
  }
  /* arrays hold int64 or float64; bools read as 0/1 integers */
  c.type = ct;
  rc = read_elems(r, d, NULL, ft, n, &c, name);
  if (rc == HP_OK) {
    hp_value *a = hp__xcalloc(1, sizeof *a);
    a->kind = HP_ARRAY;
    a->ndim = nd;
    memcpy(a->dims, dims, sizeof dims[0] * (size_t)nd);
    if (ct == HP_BOOL) {
      int64_t *w = malloc(n ? n * 8 : 1);
      if (!w) {
        free(a);
        rc = hp__fail(r->err, HP_ENOMEM, "%s: out of memory", r->path);
        goto done_col;
      }
      for (size_t i = 0; i < n; i++)
        w[i] = ((uint8_t *)c.data)[i];
      hp__mem_free(c.data);
      c.data = w;
      ct = HP_INT64;
    }
    a->dtype = ct;
    a->data = c.data;
    c.data = NULL;
    *out = a;
  }
done_col:
  free(c.name);
  hp__mem_free(c.data);
  free(c.offs);
  free(c.chars);
done:
  h5_close(ft);
  h5_close(s);
  return rc;
}

static int read_object(rctx *r, hid_t loc, const char *name, int depth,
                       hp_value **out);

/* The group's attributes (but hpcpipe_*) onto v. */
typedef struct attr_walk {
  hp_value *v;
} attr_walk;

static herr_t attr_cb(hid_t obj, const char *name, const H5A_info_t *info,
                      void *data) {
  attr_walk *aw = data;
  (void)info;
  if (strncmp(name, RESERVED, strlen(RESERVED)) == 0) return 0;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  hid_t s = a >= 0 ? H5Aget_space(a) : -1;
  if (t >= 0 && s >= 0 && H5Sget_simple_extent_npoints(s) == 1) {
    switch (H5Tget_class(t)) {
    case H5T_INTEGER: {
      int64_t x;
      if (H5Aread(a, H5T_NATIVE_INT64, &x) >= 0)
        hp_group_set_i64(aw->v, name, x);
      break;
    }
    case H5T_FLOAT: {
      double x;
      if (H5Aread(a, H5T_NATIVE_DOUBLE, &x) >= 0)
        hp_group_set_f64(aw->v, name, x);
      break;
    }
    case H5T_STRING: {
      char *str = attr_read_str(obj, name);
      if (str) hp_group_set_str(aw->v, name, str);
      free(str);
      break;
    }
    case H5T_ENUM:
      if (is_bool_enum(t)) {
        unsigned char raw[8] = {0};
        hid_t mt = H5Tget_native_type(t, H5T_DIR_ASCEND);
        if (mt >= 0 && H5Aread(a, mt, raw) >= 0) {
          int any = 0;
          for (int j = 0; j < 8; j++)
            any |= raw[j];
          hp_group_set_i64(aw->v, name, any != 0);
        }
        h5_close(mt);
      }
      break;
    default: /* other attribute types are not values: skipped */
      break;
    }
  }
  h5_close(s);
  h5_close(t);
  h5_close(a);
  H5Eclear2(H5E_DEFAULT);
  return 0;
}

static int read_group(rctx *r, hid_t g, char **names, size_t n, int depth,
                      hp_value **out) {
  hp_value *v = hp_group_new();
  attr_walk aw = {v};
  hsize_t idx = 0;
  if (H5Aiterate2(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, attr_cb, &aw) < 0) {
    H5Eclear2(H5E_DEFAULT);
    idx = 0;
    H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &aw);
    H5Eclear2(H5E_DEFAULT);
  }
  int rc = HP_OK;
  for (size_t i = 0; rc == HP_OK && i < n; i++) {
    hp_value *c = NULL;
    rc = read_object(r, g, names[i], depth + 1, &c);
    if (rc == HP_OK) rc = hp_group_set(v, names[i], c);
  }
  if (rc != HP_OK) {
    hp_value_free(v);
    return rc;
  }
  *out = v;
  return HP_OK;
}

static int read_object(rctx *r, hid_t loc, const char *name, int depth,
                       hp_value **out) {
  if (depth > MAX_DEPTH)
    return hp__fail(r->err, HP_EHDF5,
                    "%s: '%s': groups nested too deeply (a cycle of links?)",
                    r->path, name);
  hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
  if (o < 0) return rfail(r, name, NULL);
  int rc;
  H5I_type_t ty = H5Iget_type(o);
  if (ty == H5I_DATASET) {
    r->ranged = r->want_range && depth == r->range_depth;
    rc = read_dataset(r, o, name, out);
    r->ranged = 0;
  } else if (ty == H5I_GROUP) {
    char *kind = attr_read_str(o, "hpcpipe_kind");
    size_t n = 0;
    char **names = NULL;
    if (kind && strcmp(kind, "array") == 0) {
      int was = r->range_depth;
      if (depth == r->range_depth) r->range_depth = depth + 1;
      rc = read_object(r, o, "data", depth + 1, out);
      r->range_depth = was;
    } else {
      names = link_names(o, &n);
      int table = kind && strcmp(kind, "table") == 0;
      int masks = (table || !kind) && take_valid(o, names, &n);
      if (!kind) table = looks_like_table(o, names, n);
      if (masks && !table) { /* a plain group with a child ".valid" */
        hp__grow(&names, &n, n + 1, sizeof *names);
        names[n - 1] = hp__xstrdup(VALID_GROUP);
        masks = 0;
      }
      if (table) {
        column_order(o, &names, &n);
        if (r->project && depth == 0)
          project_names(r, names, &n);
        r->ranged = r->want_range && depth == r->range_depth;
        rc = read_table(r, o, names, n, out);
        if (rc == HP_OK && masks) {
          rc = read_masks(r, o, *out);
          if (rc != HP_OK) {
            hp_value_free(*out);
            *out = NULL;
          }
        }
        r->ranged = 0;
      } else {
        rc = read_group(r, o, names, n, depth, out);
      }
    }
    free_names(names, n);
    free(kind);
  } else {
    rc = unsupported(r, name, "not a group or dataset");
  }
  H5Oclose(o);
  return rc;
}

/* Opens path read-only: HP_EIO if missing, HP_EHDF5 if not HDF5. */
static int open_file(const char *path, hid_t *file, hp_error *err) {
  struct stat st;
  if (stat(path, &st) != 0)
    return hp__fail(err, HP_EIO, "%s: %s", path, strerror(errno));
  *file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (*file >= 0) return HP_OK;
  htri_t is = H5Fis_hdf5(path);
  if (is <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return hp__fail(err, HP_EHDF5, "%s: not an HDF5 file", path);
  }
  /* an HDF5 signature but unreadable: most often a file cut short */
  return h5_fail(err, path, "cannot open (truncated or corrupted?)");
}

static int is_root(const char *key) {
  return !key || !key[0] || strcmp(key, "/") == 0;
}

int hp__h5_load(const char *path, const char *key, hp_value **out,
                hp_error *err) {
  return hp__h5_load_columns(path, key, NULL, 0, 0, 0, 0, out, NULL, err);
}

static int read_fingerprint(hid_t file, const char *key, uint64_t *fp);

static int h5_load_columns(const char *path, const char *key,
                        const char *const *cols, size_t ncols, int project,
                        int64_t row0, int64_t row1, hp_value **out,
                        uint64_t *fp, hp_error *err) {
  if (out) *out = NULL;
  if (fp) *fp = 0;
  if (!path || !out)
    return hp__fail(err, HP_EINVAL, "hp__h5_load: bad arguments");
  hp__h5_init();
  hid_t file;
  HP_TRY(open_file(path, &file, err));
  rctx r = {.path = path, .err = err, .cols = cols, .ncols = ncols,
            .project = project, .want_range = row1 > 0, .row0 = row0,
            .row1 = row1, .fd = -1};
  const char *obj = is_root(key) ? "/" : key;
  int rc;
  if (!is_root(key) && H5Lexists(file, obj, H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    rc = hp__fail(err, HP_EIO, "%s: no object '%s' in the file", path, obj);
  } else {
    rc = read_object(&r, file, obj, 0, out);
  }
  if (rc == HP_OK && fp && read_fingerprint(file, key, fp) != HP_OK)
    *fp = 0;
  H5Fclose(file);
  if (r.fd >= 0) close(r.fd);
  return rc;
}

/* The object that carries the lineage of what is stored at key: the
 * object itself, or for an array at the root its /data dataset. */
static hid_t lineage_obj(hid_t file, const char *key) {
  hid_t o = H5Oopen(file, is_root(key) ? "/" : key, H5P_DEFAULT);
  if (o >= 0 && is_root(key) && H5Iget_type(o) == H5I_GROUP) {
    char *kind = attr_read_str(o, "hpcpipe_kind");
    if (kind && strcmp(kind, "array") == 0) {
      H5Oclose(o);
      o = H5Oopen(file, "/data", H5P_DEFAULT);
    }
    free(kind);
  }
  return o;
}

typedef struct attr_list {
  char **names, **vals;
  size_t n, cap;
} attr_list;

static herr_t add_attr(hid_t obj, const char *name, const H5A_info_t *info,
                       void *data) {
  (void)info;
  attr_list *l = data;
  if (strncmp(name, "hpcpipe_", 8) != 0 || strcmp(name, LAYOUT_ATTR) == 0)
    return 0; /* the layout is for reading, not lineage */
  char *text = attr_read_str(obj, name);
  if (!text) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    int64_t i;
    double d;
    if (t >= 0 && H5Tget_class(t) == H5T_INTEGER &&
        H5Aread(a, H5T_NATIVE_INT64, &i) >= 0)
      text = hp__xasprintf("%lld", (long long)i);
    else if (t >= 0 && H5Tget_class(t) == H5T_FLOAT &&
             H5Aread(a, H5T_NATIVE_DOUBLE, &d) >= 0)
      text = hp__xasprintf("%.17g", d);
    h5_close(t);
    h5_close(a);
  }
  if (text) {
    hp__grow(&l->names, &l->cap, l->n + 1, sizeof *l->names);
    l->vals = hp__xrealloc(l->vals, l->cap * sizeof *l->vals);
    l->names[l->n] = hp__xstrdup(name + 8);
    l->vals[l->n++] = text;
  }
  return 0;
}

static int h5_lineage(const char *path, const char *key, char ***names,
                   char ***vals, size_t *n) {
  *names = *vals = NULL;
  *n = 0;
  hp__h5_init();
  hid_t file;
  if (open_file(path, &file, NULL) != HP_OK)
    return HP_EIO;
  hid_t o = lineage_obj(file, key);
  attr_list l = {0};
  if (o >= 0 &&
      H5Aiterate2(o, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, add_attr, &l) < 0) {
    H5Eclear2(H5E_DEFAULT); /* not written by hpcpipe: no creation order */
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, add_attr, &l);
  }
  H5Eclear2(H5E_DEFAULT);
  h5_close(o);
  h5_close(file);
  *names = l.names, *vals = l.vals, *n = l.n;
  return o >= 0 ? HP_OK : HP_EIO;
}

/* hpcpipe_fingerprint of the object at key of an open file; HP_EIO if it
 * has none. */
/* obj's hpcpipe_fingerprint: HP_OK and *fp set, or HP_EIO (missing or
 * not a hexadecimal number). */
static int fingerprint_attr(hid_t obj, uint64_t *fp) {
  int rc = HP_EIO;
  char *hex = obj >= 0 ? attr_read_str(obj, "hpcpipe_fingerprint") : NULL;
  if (hex) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(hex, &end, 16);
    if (!errno && end != hex && !*end) {
      *fp = (uint64_t)x;
      rc = HP_OK;
    }
    free(hex);
  }
  H5Eclear2(H5E_DEFAULT);
  return rc;
}

static int read_fingerprint(hid_t file, const char *key, uint64_t *fp) {
  hid_t o = lineage_obj(file, key);
  int rc = fingerprint_attr(o, fp);
  h5_close(o);
  return rc;
}

static int h5_fingerprint(const char *path, const char *key, uint64_t *fp) {
  if (!path || !fp) return HP_EINVAL;
  hp__h5_init();
  hid_t file;
  if (open_file(path, &file, NULL) != HP_OK) return HP_EIO;
  int rc = read_fingerprint(file, key, fp);
  H5Fclose(file);
  return rc;
}

/* ---- partition layouts: parts read without HDF5 ---------------------------
 * hp__h5_stitch describes each part of a table in the master's attribute
 * LAYOUT_ATTR, as text (a string is <length>:<bytes>, so names may hold
 * any character):
 *   LAYOUT_MAGIC
 *   P <k> <size> <mtime s> <ns> <ctime s> <ns> <inode> <fingerprint hex>
 *     <rows> <columns>, then for each column, in the order a read lists
 *     them: <type letter> <bytes per value> <offset> <mask offset or -1>
 *     <members> <name> [<member>...]; members -1 (and none listed) for a
 *     dictionary equal to that of the column of this name in the record
 *     before, as most partitions share one
 *   P <k> -            (a part that cannot be read so)
 * A reader compares the part file's identity with the record, and reads
 * the bytes at the offsets with pread (or maps them, as map_elems does);
 * any difference and it reads through HDF5 as before. */

typedef struct rawdict { /* an enum's member names, in value order */
  size_t n;
  char **mem;
} rawdict;

typedef struct rawcol {
  char *name;
  hp_dtype type;
  unsigned esz;      /* bytes per value in the file */
  int64_t off, moff; /* the values and the uint8 mask: -1 when none */
  const rawdict *dict; /* a dictionary's, from the layout's pool */
} rawcol;

struct hp_h5_rawpart {
  int64_t size, ino, mts, mtns, cts, ctns; /* the file's identity */
  uint64_t fp;
  size_t rows, ncols;
  rawcol *cols;
};

struct hp_h5_layout {
  size_t n;
  hp_h5_rawpart **parts; /* [n], NULL for parts without a record */
  rawdict **dicts;       /* every dictionary the records hold, owned */
  size_t ndicts, capdicts;
};

/* The dictionaries (member text as written) of the last record written,
 * by column name. */
typedef struct dict_memo {
  char **name, **text;
  size_t n, cap;
} dict_memo;

static const char *memo_get(const dict_memo *m, const char *name) {
  for (size_t i = 0; m && i < m->n; i++)
    if (strcmp(m->name[i], name) == 0) return m->text[i];
  return NULL;
}

static void memo_put(dict_memo *m, const char *name, char *text) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->name[i], name) == 0) {
      free(m->text[i]);
      m->text[i] = text;
      return;
    }
  hp__grow(&m->name, &m->cap, m->n + 1, sizeof *m->name);
  m->text = hp__xrealloc(m->text, m->cap * sizeof *m->text);
  m->name[m->n] = hp__xstrdup(name);
  m->text[m->n++] = text;
}

static void memo_free(dict_memo *m) {
  free_names(m->name, m->n);
  free_names(m->text, m->n);
  memset(m, 0, sizeof *m);
}

static const char raw_types[] = "ITFBS";
static const hp_dtype raw_dtypes[] = {HP_INT64, HP_TIMESTAMP, HP_FLOAT64,
                                      HP_BOOL, HP_STRING};

static void put_lstr(hp_buf *b, const char *s) {
  hp__buf_printf(b, " %zu:", strlen(s));
  hp__buf_puts(b, s);
}

/* The file offset of dataset d's len values of esz bytes when they are
 * all stored, uncompressed, in one run of the file at path (local_addr);
 * -1 for no values; -2 when they cannot be read so. */
static int64_t raw_offset(hid_t d, const char *path, size_t len, size_t esz) {
  if (len == 0) return -1;
  haddr_t addr;
  int ok = local_addr(d, path, &addr) &&
           H5Dget_storage_size(d) == (hsize_t)(len * esz);
  H5Eclear2(H5E_DEFAULT);
  return ok && addr <= (haddr_t)INT64_MAX ? (int64_t)addr : -2;
}

/* The length of a simple 1-D dataset; -1 for anything else. */
static long long simple_1d(hid_t d) {
  hid_t sp = H5Dget_space(d);
  hsize_t dim = 0;
  int ok = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SIMPLE &&
           H5Sget_simple_extent_ndims(sp) == 1 &&
           H5Sget_simple_extent_dims(sp, &dim, NULL) == 1;
  h5_close(sp);
  return ok ? (long long)dim : -1;
}

/* Appends column `name` of table group o (masks in vg, or -1) to rec;
 * 0 if it cannot be read raw or its length is not *rows (set by the
 * first column). A dictionary's member text goes to *dict (malloc'd),
 * and is written as -1 when it equals prev (the record before's). */
static int describe_column(hid_t o, hid_t vg, const char *path,
                           const char *name, long long *rows, hp_buf *rec,
                           const char *prev, char **dict) {
  hid_t d = H5Dopen2(o, name, H5P_DEFAULT), ft = -1, mt = -1;
  long long len = d >= 0 ? simple_1d(d) : -1;
  int ok = len >= 0 && (*rows < 0 || len == *rows) &&
           (ft = H5Dget_type(d)) >= 0;
  hp_dtype t = ok ? dataset_type(d, ft) : (hp_dtype)0;
  size_t esz = 8;
  if (t == HP_INT64 || t == HP_TIMESTAMP)
    ok = ok && H5Tequal(ft, H5T_NATIVE_INT64) > 0;
  else if (t == HP_FLOAT64)
    ok = ok && H5Tequal(ft, H5T_NATIVE_DOUBLE) > 0;
  else if (t == HP_BOOL) /* a bool enum: any nonzero byte is true */
    ok = ok && (esz = H5Tget_size(ft)) >= 1 && esz <= 8;
  else if (t == HP_STRING) { /* a dictionary whose values are the codes */
    esz = 4;
    ok = ok && H5Tget_class(ft) == H5T_ENUM &&
         (mt = dict_memtype(ft, NULL)) >= 0 && H5Tequal(ft, mt) > 0;
  } else {
    ok = 0;
  }
  int64_t off = ok ? raw_offset(d, path, (size_t)len, esz) : -2, moff = -1;
  ok = ok && off >= -1;
  if (ok && vg >= 0 && H5Lexists(vg, name, H5P_DEFAULT) > 0) {
    hid_t m = H5Dopen2(vg, name, H5P_DEFAULT);
    hid_t mft = m >= 0 ? H5Dget_type(m) : -1;
    /* uint8 only: a signed byte's -1 converts to a uint8 0 (null) */
    ok = mft >= 0 && simple_1d(m) == len &&
         H5Tget_class(mft) == H5T_INTEGER && H5Tget_size(mft) == 1 &&
         H5Tget_sign(mft) == H5T_SGN_NONE &&
         (moff = raw_offset(m, path, (size_t)len, 1)) >= -1;
    h5_close(mft);
    h5_close(m);
  }
  int nm = ok && t == HP_STRING ? H5Tget_nmembers(ft) : 0;
  hp_buf mtext = {0};
  hp__buf_puts(&mtext, "");
  for (int i = 0; ok && i < nm; i++) {
    char *mn = H5Tget_member_name(ft, (unsigned)i);
    ok = mn != NULL;
    if (mn) put_lstr(&mtext, mn);
    if (mn) H5free_memory(mn);
  }
  if (ok) {
    *rows = len;
    size_t ti = 0;
    while (raw_dtypes[ti] != t)
      ti++;
    int same = t == HP_STRING && prev && strcmp(prev, mtext.data) == 0;
    hp__buf_printf(rec, "\n%c %zu %" PRId64 " %" PRId64 " %d", raw_types[ti],
                   esz, off, moff, same ? -1 : nm < 0 ? 0 : nm);
    put_lstr(rec, name);
    if (!same) hp__buf_puts(rec, mtext.data);
  }
  if (ok && t == HP_STRING)
    *dict = hp__buf_take(&mtext);
  hp__buf_free(&mtext);
  H5Eclear2(H5E_DEFAULT);
  h5_close(mt);
  h5_close(ft);
  h5_close(d);
  return ok;
}

/* Appends part k's record (table group o of the file at path) to b;
 * last holds the dictionaries of the record before, and takes this
 * one's. */
static void describe_part(hid_t o, const char *path, size_t k, hp_buf *b,
                          dict_memo *last) {
  size_t n = 0;
  char **names = link_names(o, &n);
  int masks = take_valid(o, names, &n);
  column_order(o, &names, &n);
  hid_t vg = masks ? H5Gopen2(o, VALID_GROUP, H5P_DEFAULT) : -1;
  hp_buf rec = {0};
  dict_memo mine = {0};
  long long rows = -1;
  int ok = n > 0 && (!masks || vg >= 0);
  for (size_t i = 0; i < n && ok; i++) {
    char *dict = NULL;
    ok = describe_column(o, vg, path, names[i], &rows, &rec,
                         memo_get(last, names[i]), &dict);
    if (dict) memo_put(&mine, names[i], dict);
  }
  uint64_t fp = 0; /* 0 without one, as hp__h5_load_columns says */
  if (ok && fingerprint_attr(o, &fp) != HP_OK) fp = 0;
  struct stat st;
  ok = ok && stat(path, &st) == 0;
  if (ok)
    hp__buf_printf(b,
                   "\nP %zu %lld %lld %lld %ld %lld %ld %016" PRIx64
                   " %lld %zu%s",
                   k, (long long)st.st_size, (long long)st.st_ino,
                   (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                   (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, fp, rows,
                   n, rec.data);
  else
    hp__buf_printf(b, "\nP %zu -", k);
  if (ok) { /* written: its dictionaries are the ones a -1 refers to next */
    memo_free(last);
    *last = mine;
  } else {
    memo_free(&mine);
  }
  hp__buf_free(&rec);
  h5_close(vg);
  H5Eclear2(H5E_DEFAULT);
  free_names(names, n);
}

static void rawpart_free(hp_h5_rawpart *p) {
  if (!p) return;
  for (size_t i = 0; i < p->ncols; i++)
    free(p->cols[i].name);
  free(p->cols);
  free(p);
}

void hp__h5_layout_free(hp_h5_layout *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++)
    rawpart_free(l->parts[i]);
  for (size_t i = 0; i < l->ndicts; i++) {
    free_names(l->dicts[i]->mem, l->dicts[i]->n);
    free(l->dicts[i]);
  }
  free(l->dicts);
  free(l->parts);
  free(l);
}

const hp_h5_rawpart *hp__h5_layout_part(const hp_h5_layout *l, size_t k) {
  return l && k < l->n ? l->parts[k] : NULL;
}

/* Parsing: each returns 1 and advances *p past what it read, else 0. */
static int lx_i64(const char **p, int64_t *v) {
  char *end;
  errno = 0;
  long long x = strtoll(*p, &end, 10);
  if (end == *p || errno) return 0;
  *p = end;
  *v = x;
  return 1;
}

static int lx_size(const char **p, size_t *v) {
  int64_t x;
  if (!lx_i64(p, &x) || x < 0) return 0;
  *v = (size_t)x;
  return 1;
}

static int lx_str(const char **p, char **out) {
  size_t n;
  if (!lx_size(p, &n) || **p != ':' || strnlen(*p + 1, n) < n) return 0;
  *out = hp__xstrndup(*p + 1, n);
  *p += 1 + n;
  return 1;
}

/* w after any blanks and newlines ("" skips them) */
static int lx_word(const char **p, const char *w) {
  while (**p == ' ' || **p == '\n')
    (*p)++;
  size_t n = strlen(w);
  if (strncmp(*p, w, n) != 0) return 0;
  *p += n;
  return 1;
}

/* A column record into c; prev is the record before (or NULL), whose
 * dictionary a member count of -1 refers to; new dictionaries go to l's
 * pool. */
static int parse_column(const char **p, const char *end, rawcol *c,
                        hp_h5_layout *l, const hp_h5_rawpart *prev) {
  const char *letter;
  int64_t esz, nm;
  if (!lx_word(p, "") || !**p || !(letter = strchr(raw_types, **p)))
    return 0;
  (*p)++;
  c->type = raw_dtypes[letter - raw_types];
  if (!lx_i64(p, &esz) || esz < 1 || esz > 8 || !lx_i64(p, &c->off) ||
      !lx_i64(p, &c->moff) || !lx_i64(p, &nm) || nm < -1 ||
      !lx_word(p, "") || !lx_str(p, &c->name))
    return 0;
  c->esz = (unsigned)esz;
  if (esz != (c->type == HP_STRING ? 4 : c->type == HP_BOOL ? esz : 8))
    return 0; /* the reads size buffers by it */
  if (c->type != HP_STRING) return nm == 0;
  if (nm < 0) { /* the same as the record before's */
    for (size_t i = 0; prev && i < prev->ncols && !c->dict; i++)
      if (strcmp(prev->cols[i].name, c->name) == 0)
        c->dict = prev->cols[i].dict;
    return c->dict != NULL;
  }
  if (nm > end - *p) return 0; /* each takes 3 bytes at least */
  rawdict *d = hp__xcalloc(1, sizeof *d);
  d->mem = hp__xcalloc((size_t)nm + 1, sizeof *d->mem);
  hp__grow(&l->dicts, &l->capdicts, l->ndicts + 1, sizeof *l->dicts);
  l->dicts[l->ndicts++] = d; /* owned by the pool from now on */
  c->dict = d;
  for (; d->n < (size_t)nm; d->n++)
    if (!lx_str(p, &d->mem[d->n])) return 0;
  return 1;
}

/* Part record k ("P" already read); NULL for "-" or a malformed record
 * (*bad set for the latter). prev: the last record before it; the text
 * ends at end. */
static hp_h5_rawpart *parse_part(const char **p, const char *text_end,
                                 size_t k, int *bad, hp_h5_layout *l,
                                 const hp_h5_rawpart *prev) {
  int64_t kk, rows;
  char *end;
  if (!lx_i64(p, &kk) || kk != (int64_t)k) return *bad = 1, NULL;
  if (lx_word(p, "-")) return NULL;
  hp_h5_rawpart *r = hp__xcalloc(1, sizeof *r);
  int ok = lx_i64(p, &r->size) && lx_i64(p, &r->ino) && lx_i64(p, &r->mts) &&
           lx_i64(p, &r->mtns) && lx_i64(p, &r->cts) && lx_i64(p, &r->ctns) &&
           lx_word(p, "");
  if (ok) {
    errno = 0;
    r->fp = (uint64_t)strtoull(*p, &end, 16);
    ok = end == *p + 16 && !errno;
    *p = end;
  }
  ok = ok && lx_i64(p, &rows) && rows >= 0 && lx_size(p, &r->ncols) &&
       r->ncols <= (size_t)(text_end - *p);
  r->rows = ok ? (size_t)rows : 0;
  r->cols = hp__xcalloc(ok ? r->ncols + 1 : 1, sizeof *r->cols);
  size_t i = 0;
  for (; ok && i < r->ncols; i++)
    ok = parse_column(p, text_end, &r->cols[i], l, prev);
  if (!ok) {
    r->ncols = i;
    rawpart_free(r);
    *bad = 1;
    return NULL;
  }
  return r;
}

/* The layout in master object o's attribute, for nparts parts; NULL when
 * there is none or it does not parse. */
static hp_h5_layout *read_layout(hid_t o, int64_t nparts) {
  char *text = nparts > 0 ? attr_read_str(o, LAYOUT_ATTR) : NULL;
  size_t len = text ? strlen(text) : 0;
  if (!text || (uint64_t)nparts > len / 4) { /* a record takes 5 bytes */
    free(text);
    return NULL;
  }
  hp_h5_layout *l = hp__xcalloc(1, sizeof *l);
  l->parts = hp__xcalloc((size_t)nparts, sizeof *l->parts);
  const char *p = text;
  const hp_h5_rawpart *prev = NULL;
  int bad = !lx_word(&p, LAYOUT_MAGIC);
  for (size_t k = 0; !bad && k < (size_t)nparts; k++, l->n = k) {
    if (!lx_word(&p, "P"))
      bad = 1;
    else
      l->parts[k] = parse_part(&p, text + len, k, &bad, l, prev);
    prev = l->parts[k] ? l->parts[k] : prev;
  }
  free(text);
  if (bad) {
    hp__h5_layout_free(l);
    return NULL;
  }
  return l;
}

/* Reads n bytes at off of fd: mapped when they are values of `align`
 * bytes (0: never mapped) at an offset of that alignment and they are
 * many (as map_elems decides), else into a malloc'd buffer; NULL on
 * failure. */
static void *raw_bytes(int fd, int64_t off, size_t n, size_t align) {
  void *p = align && off % (int64_t)align == 0 && n >= map_min()
                ? hp__mem_map(fd, (uint64_t)off, n)
                : NULL;
  if (p) return p;
  char *b = malloc(n ? n : 1);
  for (size_t got = 0; b && got < n;) {
    ssize_t k = pread(fd, b + got, n - got, (off_t)(off + (int64_t)got));
    if (k <= 0 && !(k < 0 && errno == EINTR)) {
      free(b);
      return NULL;
    }
    got += k > 0 ? (size_t)k : 0;
  }
  return b;
}

/* Column rc of a part of `rows` rows into c (name and type set). */
/* 1 if n bytes at off lie inside a file of `size` bytes. */
static int inside(int64_t off, size_t n, int64_t size) {
  return off >= 0 && off <= size && n <= (uint64_t)(size - off);
}

/* Column rc of a part of `rows` rows, in a file of `size` bytes, into c
 * (name and type set); 0 if its record does not fit the file. */
static int raw_column(int fd, int64_t size, const rawcol *rc, size_t rows,
                      hp_column *c) {
  if (rows > SIZE_MAX / 8 || rc->moff < -1 ||
      (rows && (!inside(rc->off, rows * rc->esz, size) ||
                (rc->moff >= 0 && !inside(rc->moff, rows, size)))))
    return 0; /* a mapping past the end would fault when read */
  void *buf = rows ? raw_bytes(fd, rc->off, rows * rc->esz,
                               rc->type == HP_BOOL ? 0 : rc->esz)
                   : calloc(1, 8);
  if (!buf) return 0;
  if (rc->type == HP_BOOL) {
    void *b = bools_of(buf, rows, rc->esz);
    free(buf);
    if (!(buf = b)) return 0;
  } else if (rc->type == HP_STRING) {
    const rawdict *d = rc->dict;
    if (d->n > INT32_MAX || codes_to_nulls(buf, rows, (int)d->n, c) != 0) {
      hp__mem_free(buf);
      return 0;
    }
    hp_strset set = {0};
    int distinct = 1; /* as an enum's names are: code i is member i */
    for (size_t i = 0; i < d->n && distinct; i++)
      distinct = hp__strset_add(&set, d->mem[i], strlen(d->mem[i]),
                                SIZE_MAX) == (int32_t)i;
    if (!distinct) {
      hp__strset_free(&set);
      hp__mem_free(buf);
      return 0;
    }
    hp__strset_to_dict(&set, c);
  }
  c->data = buf;
  if (rc->moff >= 0) {
    uint8_t *m = raw_bytes(fd, rc->moff, rows, 0);
    if (!m) return 0;
    mask_onto(c, m, rows);
  }
  return 1;
}

static int h5_load_raw(const char *path, const hp_h5_rawpart *rp,
                    const char *const *cols, size_t ncols, int project,
                    hp_value **out, uint64_t *fp) {
  struct stat st; /* the file opened is the file compared */
  int fd = rp && path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return 0;
  if (fstat(fd, &st) != 0 || st.st_size != rp->size ||
      (int64_t)st.st_ino != rp->ino || st.st_mtim.tv_sec != rp->mts ||
      st.st_mtim.tv_nsec != rp->mtns || st.st_ctim.tv_sec != rp->cts ||
      st.st_ctim.tv_nsec != rp->ctns) {
    close(fd);
    return 0;
  }
  hp_value *t = hp_table_new();
  t->cols = hp__xcalloc(rp->ncols + 1, sizeof *t->cols);
  t->capcols = rp->ncols + 1;
  int ok = 1;
  for (size_t i = 0; i < rp->ncols && ok; i++) {
    const rawcol *rc = &rp->cols[i];
    if (project && !hp__table_projects(cols, ncols, t->ncols, rc->name)) continue;
    hp_column *c = &t->cols[t->ncols++];
    c->name = hp__xstrdup(rc->name);
    c->type = rc->type;
    ok = raw_column(fd, rp->size, rc, rp->rows, c);
  }
  close(fd);
  t->nrows = t->ncols ? rp->rows : 0;
  if (!ok) {
    hp_value_free(t);
    return 0;
  }
  *out = t;
  if (fp) *fp = rp->fp;
  return 1;
}

/* ---- partitioned datasets: the master file ------------------------------- */

/* The source file name of part as the master at path records it: relative
 * to the master's directory when part lies under it (HDF5 resolves a
 * relative source name against the directory of the virtual dataset's
 * file), else as given. */
static const char *vds_source_name(const char *path, const char *part) {
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) + 1 : 0;
  if (n && strncmp(part, path, n) == 0)
    return part + n;
  return part;
}

/* Virtual dataset `name` in group g (rows stacked in part order) over
 * dataset `src` of each part; rows[i] rows from part i, trailing dims as
 * given. fill: the value of rows no part maps (NULL: HDF5's default). */
static int vds_create(wctx *w, hid_t g, const char *name, hid_t type,
                      int ndim, const hsize_t *tail, const hsize_t *rows,
                      const uint8_t *have, const char *const *parts,
                      const char *src, size_t n, const void *fill) {
  hsize_t dims[8] = {0}, start[8] = {0}, count[8];
  for (size_t i = 0; i < n; i++)
    dims[0] += rows[i];
  for (int k = 1; k < ndim; k++)
    dims[k] = tail[k];
  hid_t vs = H5Screate_simple(ndim, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  int rc = vs >= 0 && dcpl >= 0 ? HP_OK : wfail(w, "virtual dataset", name);
  if (rc == HP_OK && fill && H5Pset_fill_value(dcpl, type, fill) < 0)
    rc = wfail(w, "fill value", name);
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    if (!rows[i] || (have && !have[i])) {
      start[0] += rows[i];
      continue;
    }
    count[0] = rows[i];
    for (int k = 1; k < ndim; k++)
      count[k] = dims[k];
    hid_t ss = H5Screate_simple(ndim, count, NULL);
    if (ss < 0 || H5Sselect_hyperslab(vs, H5S_SELECT_SET, start, NULL, count,
                                      NULL) < 0 ||
        H5Pset_virtual(dcpl, vs, vds_source_name(w->path, parts[i]), src,
                       ss) < 0)
      rc = wfail(w, "virtual mapping", name);
    h5_close(ss);
    start[0] += rows[i];
  }
  if (rc == HP_OK) {
    H5Sselect_all(vs);
    hid_t d = H5Dcreate2(g, name, type, vs, w->lcpl, dcpl, H5P_DEFAULT);
    if (d < 0)
      rc = wfail(w, "virtual dataset", name);
    h5_close(d);
  }
  h5_close(dcpl);
  h5_close(vs);
  return rc;
}

/* Copies the string attribute `a` of object src_name in src to dst. */
static int copy_str_attr(wctx *w, hid_t src, const char *src_name, hid_t dst,
                         const char *a) {
  hid_t o = H5Oopen(src, src_name, H5P_DEFAULT);
  char *s = o >= 0 ? attr_read_str(o, a) : NULL;
  h5_close(o);
  H5Eclear2(H5E_DEFAULT);
  int rc = s ? attr_str(w, dst, a, s) : HP_OK;
  free(s);
  return rc;
}

/* Column types partitions may disagree on, which the master then holds
 * as one materialized column: plain strings and dictionaries, or int64
 * and float64 (promoted, as pandas' concat does). */
static int kind_of(hid_t t) {
  H5T_class_t c = H5Tget_class(t);
  return c == H5T_STRING || c == H5T_ENUM ? 1
         : c == H5T_INTEGER || c == H5T_FLOAT ? 2
                                              : 0;
}

/* A column stored differently across partitions (see kind_of) cannot be
 * one virtual dataset: the master holds the column itself (dictionaries
 * unified into one enum, numbers as float64). */
static int materialize(wctx *w, hid_t master, const char *const *parts,
                       size_t n, const char *key, const char *col) {
  hp_value **cols = hp__xcalloc(n + 1, sizeof *cols);
  hp_value *all = NULL;
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    hp_value *v = NULL; /* that column alone */
    rc = hp__h5_load_columns(parts[i], key, &col, 1, 1, 0, 0, &v, NULL,
                             w->err);
    long c = rc == HP_OK ? hp_table_find(v, col) : -1;
    if (rc == HP_OK && c < 0)
      rc = hp__fail(w->err, HP_EHDF5, "%s: partition %s has no column '%s'",
                    w->path, parts[i], col);
    if (rc == HP_OK) {
      cols[i] = hp_table_new();
      rc = hp__table_move_column(cols[i], v, (size_t)c, NULL);
    }
    hp_value_free(v);
  }
  if (rc == HP_OK)
    rc = hp__value_concat((const hp_value *const *)cols, n, &all, w->err);
  if (rc == HP_OK) /* dictionaries come out unified, as one enum */
    rc = write_column(w, master, &all->cols[0], all->nrows);
  for (size_t i = 0; i < n; i++)
    hp_value_free(cols[i]);
  free(cols);
  hp_value_free(all);
  return rc;
}

typedef struct stitch_src {
  hid_t file0, obj0; /* part 0's file and object at key (open throughout) */
  const char *key;   /* the object's key in every part; NULL for the root */
  size_t n;
} stitch_src;

/* Checks column c of part i (dataset d) against part 0's: sets the
 * part's row count and, for part 0, the column's type, rank and shape;
 * *mixed when the parts store the column in different but joinable ways
 * (strings and a dictionary, two dictionaries, ints and floats). */
static int stitch_check(wctx *w, const char *part0, const char *parti,
                        const char *col, hid_t d, size_t i, hid_t *t0,
                        int *ndim, hsize_t *tail, hsize_t *rows,
                        uint8_t *mixed) {
  hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
  int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  hid_t t = d >= 0 ? H5Dget_type(d) : -1;
  hsize_t dims[8];
  int rc = HP_OK;
  if (nd < 1 || nd > 8 || t < 0) {
    rc = hp__fail(w->err, HP_EHDF5, "%s: partition %s has no dataset '%s'",
                  w->path, parti, col);
  } else {
    H5Sget_simple_extent_dims(sp, dims, NULL);
    *rows = dims[0];
    if (i == 0) {
      *ndim = nd;
      memcpy(tail, dims, sizeof dims[0] * (size_t)nd);
      *t0 = t;
      t = -1;
    } else if (kind_of(t) && kind_of(t) == kind_of(*t0) && !is_bool_enum(t) &&
               !is_bool_enum(*t0) &&
               (H5Tget_class(t) != H5Tget_class(*t0) ||
                (H5Tget_class(*t0) == H5T_ENUM && H5Tequal(t, *t0) <= 0))) {
      /* h5py would read a view of two dictionaries as raw codes */
      *mixed = 1;
    } else if (nd != *ndim ||
               memcmp(tail + 1, dims + 1, sizeof dims[0] * (size_t)(nd - 1)) ||
               H5Tget_class(t) != H5Tget_class(*t0) ||
               (H5Tget_class(*t0) != H5T_ENUM && H5Tequal(t, *t0) <= 0)) {
      rc = hp__fail(w->err, HP_EHDF5,
                    "%s: partitions disagree on column '%s' (%s and %s)",
                    w->path, col, part0, parti);
    }
  }
  h5_close(t);
  h5_close(sp);
  return rc;
}

/* The members (columns, or "data" for an array) listed by part 0, each a
 * dataset in every part with an equal type (enums may differ) and, for
 * tables, one row count per part. Parts are opened one at a time: an
 * open HDF5 file costs about half a megabyte, and a dataset may have
 * tens of thousands of partitions. */
static int stitch_columns(wctx *w, hid_t master, const stitch_src *s,
                          const char *const *parts, const char *key,
                          int array, int64_t *total, hp_buf *lay) {
  size_t nc = 0, n = s->n;
  char **cols = array ? NULL : link_names(s->obj0, &nc);
  if (array) {
    cols = hp__xcalloc(2, sizeof *cols);
    cols[0] = hp__xstrdup("data");
    nc = 1;
  }
  hsize_t *rows = hp__xcalloc(nc * n + 1, sizeof *rows);
  uint8_t *have = hp__xcalloc(nc * n + 1, 1);
  uint8_t *mixed = hp__xcalloc(nc + 1, 1), *anyv = hp__xcalloc(nc + 1, 1);
  hid_t *t0 = hp__xcalloc(nc + 1, sizeof *t0);
  int *ndim = hp__xcalloc(nc + 1, sizeof *ndim);
  dict_memo memo = {0}; /* the last layout record's dictionaries */
  hsize_t(*tail)[8] = hp__xcalloc(nc + 1, sizeof *tail);
  for (size_t c = 0; c < nc; c++)
    t0[c] = -1;
  int rc = HP_OK;
  for (size_t i = 0; i < n && rc == HP_OK; i++) {
    hid_t f = s->file0, o = s->obj0;
    if (i > 0) {
      f = -1;
      rc = open_file(parts[i], &f, w->err);
      o = rc == HP_OK ? H5Oopen(f, s->key ? s->key : "/", H5P_DEFAULT) : -1;
      if (rc == HP_OK && o < 0)
        rc = h5_fail(w->err, parts[i], "no object at the dataset's key");
    }
    int valid = !array && rc == HP_OK &&
                H5Lexists(o, ".valid", H5P_DEFAULT) > 0;
    for (size_t c = 0; c < nc && rc == HP_OK; c++) {
      if (strcmp(cols[c], ".valid") == 0)
        continue;
      hid_t d = H5Dopen2(array ? f : o, cols[c], H5P_DEFAULT);
      rc = stitch_check(w, parts[0], parts[i], cols[c], d, i, &t0[c],
                        &ndim[c], tail[c], &rows[c * n + i], &mixed[c]);
      h5_close(d);
      if (valid) {
        char *vname = hp__xasprintf(".valid/%s", cols[c]);
        have[c * n + i] = H5Lexists(o, vname, H5P_DEFAULT) > 0;
        anyv[c] |= have[c * n + i];
        free(vname);
      }
    }
    H5Eclear2(H5E_DEFAULT);
    if (rc == HP_OK && !array)
      describe_part(o, parts[i], i, lay, &memo);
    if (i > 0) {
      h5_close(o);
      h5_close(f);
    }
  }
  memo_free(&memo);
  int64_t first_total = -1;
  for (size_t c = 0; c < nc && rc == HP_OK; c++) {
    if (strcmp(cols[c], ".valid") == 0)
      continue;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += (int64_t)rows[c * n + i];
    if (first_total >= 0 && sum != first_total)
      rc = hp__fail(w->err, HP_EHDF5, "%s: columns of unequal length",
                    w->path);
    first_total = sum;
    if (rc == HP_OK && mixed[c])
      rc = materialize(w, master, parts, n, key, cols[c]);
    else if (rc == HP_OK)
      rc = vds_create(w, master, cols[c], t0[c], ndim[c], tail[c],
                      rows + c * n, NULL, parts, array ? "/data" : cols[c], n,
                      NULL);
    if (rc == HP_OK && !mixed[c]) {
      hid_t d = H5Dopen2(master, cols[c], H5P_DEFAULT);
      if (d >= 0)
        rc = copy_str_attr(w, array ? s->file0 : s->obj0, cols[c], d,
                           DTYPE_ATTR);
      h5_close(d);
    }
    /* null masks: a part without one maps nothing, and the fill says valid */
    if (rc == HP_OK && anyv[c]) {
      char *vname = hp__xasprintf(".valid/%s", cols[c]);
      hid_t vg = H5Lexists(master, ".valid", H5P_DEFAULT) > 0
                     ? H5Gopen2(master, ".valid", H5P_DEFAULT)
                     : H5Gcreate2(master, ".valid", w->lcpl, w->gcpl,
                                  H5P_DEFAULT);
      uint8_t one = 1;
      hsize_t t1[8] = {0};
      rc = vg < 0 ? wfail(w, "group", ".valid")
                  : vds_create(w, vg, cols[c], H5T_STD_U8LE, 1, t1,
                               rows + c * n, have + c * n, parts, vname, n,
                               &one);
      h5_close(vg);
      free(vname);
    }
  }
  *total = first_total < 0 ? 0 : first_total;
  for (size_t c = 0; c < nc; c++)
    h5_close(t0[c]);
  free_names(cols, nc);
  free(rows), free(have), free(mixed), free(anyv), free(t0), free(ndim);
  free(tail);
  return rc;
}

static int h5_stitch(const char *path, const char *key, const char *const *parts,
                  size_t n, const hp_lineage *lin, hp_error *err) {
  if (!path || !parts || n == 0)
    return hp__fail(err, HP_EINVAL, "%s: no partitions to stitch",
                    path ? path : "(null)");
  hp__h5_init();
  int root = !key || !key[0] || strcmp(key, "/") == 0;
  stitch_src s = {.n = n, .key = root ? NULL : key, .file0 = -1, .obj0 = -1};
  int rc = open_file(parts[0], &s.file0, err);
  if (rc == HP_OK) {
    s.obj0 = H5Oopen(s.file0, root ? "/" : key, H5P_DEFAULT);
    if (s.obj0 < 0)
      rc = h5_fail(err, parts[0], "no object at the dataset's key");
  }
  char *kind = rc == HP_OK ? attr_read_str(s.obj0, "hpcpipe_kind") : NULL;
  int array = kind && strcmp(kind, "array") == 0;
  if (rc == HP_OK && (!kind || (!array && strcmp(kind, "table") != 0)))
    rc = hp__fail(err, HP_EHDF5,
                  "%s: only tables and arrays can be partitioned (%s is "
                  "neither)",
                  path, parts[0]);
  if (rc == HP_OK && array && !root)
    rc = hp__fail(err, HP_EHDF5, "%s: a partitioned array needs key '/'",
                  path);
  if (rc == HP_OK && hp__mkdir_parents(path) != 0)
    rc = hp__fail(err, HP_EIO, "%s: cannot create directory: %s", path,
                  strerror(errno));
  char *tmp = hp__fs_tmp_name(path);
  wctx w = {.path = path, .vstr = -1, .boolt = -1, .scalar = -1,
            .gcpl = -1, .dcpl = -1, .lcpl = -1, .err = err};
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), file = -1, obj = -1;
  if (rc == HP_OK)
    rc = wctx_open(&w);
  if (rc == HP_OK &&
      (fcpl < 0 ||
       H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED |
                                            H5P_CRT_ORDER_INDEXED) < 0 ||
       H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED) < 0))
    rc = h5_fail(err, path, "property lists");
  if (rc == HP_OK) {
    file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (file < 0)
      rc = h5_fail(err, path, "cannot create file");
  }
  if (rc == HP_OK)
    rc = open_group(&w, file, root ? NULL : key, &obj);
  int64_t total = 0;
  hp_buf lay = {0};
  hp__buf_puts(&lay, LAYOUT_MAGIC);
  if (rc == HP_OK)
    rc = stitch_columns(&w, array ? file : obj, &s, parts, key, array,
                        &total, &lay);
  if (rc == HP_OK && !array)
    rc = attr_str(&w, obj, LAYOUT_ATTR, lay.data);
  hp__buf_free(&lay);
  if (rc == HP_OK)
    rc = attr_str(&w, obj, "hpcpipe_kind", array ? "array" : "table");
  if (rc == HP_OK && !array)
    rc = copy_str_attr(&w, s.file0, root ? "/" : key, obj,
                       "hpcpipe_columns");
  if (rc == HP_OK)
    rc = attr_i64(&w, obj, "hpcpipe_partitions", (int64_t)n);
  if (rc == HP_OK && lin) {
    char fp[17];
    snprintf(fp, sizeof fp, "%016" PRIx64, lin->fingerprint);
    if (lin->node) rc = attr_str(&w, obj, "hpcpipe_node", lin->node);
    if (rc == HP_OK && lin->func)
      rc = attr_str(&w, obj, "hpcpipe_function", lin->func);
    if (rc == HP_OK) rc = attr_str(&w, obj, "hpcpipe_fingerprint", fp);
    if (rc == HP_OK) rc = attr_i64(&w, obj, "hpcpipe_rows", total);
    if (rc == HP_OK) rc = attr_str(&w, obj, "hpcpipe_version", hp_version());
    if (rc == HP_OK && lin->time)
      rc = attr_str(&w, obj, "hpcpipe_time", lin->time);
    if (rc == HP_OK && lin->run)
      rc = attr_str(&w, obj, "hpcpipe_run", lin->run);
  }
  h5_close(obj);
  if (file >= 0 && H5Fclose(file) < 0 && rc == HP_OK)
    rc = h5_fail(err, path, "close");
  h5_close(fcpl);
  wctx_close(&w);
  h5_close(s.obj0);
  h5_close(s.file0);
  free(kind);
  return commit_tmp(tmp, path, rc, 0, err); /* a master: metadata only */
}

static int h5_info(const char *path, const char *key, int64_t *nparts,
                int64_t *rows, hp_h5_layout **layout) {
  *nparts = 0;
  *rows = -1;
  if (layout) *layout = NULL;
  hp__h5_init();
  hid_t file;
  if (open_file(path, &file, NULL) != HP_OK) {
    H5Eclear2(H5E_DEFAULT);
    return HP_EIO;
  }
  hid_t o = H5Oopen(file, is_root(key) ? "/" : key, H5P_DEFAULT);
  if (o >= 0 && H5Aexists(o, "hpcpipe_partitions") > 0) {
    hid_t a = H5Aopen(o, "hpcpipe_partitions", H5P_DEFAULT);
    int64_t n = 0;
    if (a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &n) >= 0 && n > 0)
      *nparts = n;
    h5_close(a);
    if (layout) *layout = read_layout(o, *nparts);
  }
  if (o >= 0) {
    char *kind = attr_read_str(o, "hpcpipe_kind");
    int array = kind && strcmp(kind, "array") == 0;
    free(kind);
    hid_t d = -1;
    if (array && is_root(key)) {
      d = H5Dopen2(file, "/data", H5P_DEFAULT);
    } else if (H5Iget_type(o) == H5I_DATASET) {
      d = H5Dopen2(file, is_root(key) ? "/" : key, H5P_DEFAULT);
    } else {
      size_t n = 0;
      char **names = link_names(o, &n);
      for (size_t i = 0; i < n && d < 0; i++)
        if (strcmp(names[i], ".valid") != 0)
          d = H5Dopen2(o, names[i], H5P_DEFAULT);
      free_names(names, n);
    }
    hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
    hsize_t dims[8];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (nd >= 1 && nd <= 8) {
      H5Sget_simple_extent_dims(sp, dims, NULL);
      *rows = (int64_t)dims[0];
    }
    h5_close(sp);
    h5_close(d);
  }
  h5_close(o);
  H5Fclose(file);
  H5Eclear2(H5E_DEFAULT);
  return *rows >= 0 ? HP_OK : HP_EIO;
}

/* ---- one thread at a time ------------------------------------------------
 * This HDF5 build is not thread-safe, and outputs are saved by a thread of
 * their own while the next task runs (exec.c): every entry point that
 * calls HDF5 holds this lock (recursive: entry points call each other). */

static pthread_mutex_t h5_mu;
static pthread_once_t h5_mu_once = PTHREAD_ONCE_INIT;

static void h5_mu_init(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&h5_mu, &a);
  pthread_mutexattr_destroy(&a);
}

/* Who holds it (for the crash handler, which must not wait for saves
 * that need it): set while held, the depth counting re-entries. */
static pthread_t h5_owner;
static volatile sig_atomic_t h5_depth;

static void h5_lock(void) {
  pthread_once(&h5_mu_once, h5_mu_init);
  pthread_mutex_lock(&h5_mu);
  h5_owner = pthread_self();
  h5_depth++;
}

static void h5_unlock(void) {
  h5_depth--;
  pthread_mutex_unlock(&h5_mu);
}

int hp__h5_held(void) {
  return h5_depth > 0 && pthread_equal(h5_owner, pthread_self());
}

int hp__h5_save(const char *path, const char *key, const hp_value *v,
                const hp_lineage *lin, hp_error *err) {
  h5_lock();
  int rc = h5_save(path, key, v, lin, err);
  h5_unlock();
  return rc;
}

int hp__h5_load_columns(const char *path, const char *key,
                        const char *const *cols, size_t ncols, int project,
                        int64_t row0, int64_t row1, hp_value **out,
                        uint64_t *fp, hp_error *err) {
  h5_lock();
  int rc = h5_load_columns(path, key, cols, ncols, project, row0, row1, out,
                           fp, err);
  h5_unlock();
  return rc;
}

int hp__h5_lineage(const char *path, const char *key, char ***names,
                   char ***vals, size_t *n) {
  h5_lock();
  int rc = h5_lineage(path, key, names, vals, n);
  h5_unlock();
  return rc;
}

int hp__h5_fingerprint(const char *path, const char *key, uint64_t *fp) {
  h5_lock();
  int rc = h5_fingerprint(path, key, fp);
  h5_unlock();
  return rc;
}

int hp__h5_load_raw(const char *path, const hp_h5_rawpart *rp,
                    const char *const *cols, size_t ncols, int project,
                    hp_value **out, uint64_t *fp) {
  h5_lock();
  int rc = h5_load_raw(path, rp, cols, ncols, project, out, fp);
  h5_unlock();
  return rc;
}

int hp__h5_stitch(const char *path, const char *key, const char *const *parts,
                  size_t n, const hp_lineage *lin, hp_error *err) {
  h5_lock();
  int rc = h5_stitch(path, key, parts, n, lin, err);
  h5_unlock();
  return rc;
}

int hp__h5_info(const char *path, const char *key, int64_t *nparts,
                int64_t *rows, hp_h5_layout **layout) {
  h5_lock();
  int rc = h5_info(path, key, nparts, rows, layout);
  h5_unlock();
  return rc;
}
