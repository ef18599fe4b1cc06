/*
 * store.h - the only user of HDF5. Values to and from HDF5 files, as
 * DESIGN.md section 3 maps them: a table is a group with one 1-D dataset
 * per column (strings as variable-length UTF-8), an array a dataset, a
 * group a group with attributes. Writes are atomic (temporary file, flush,
 * close, rename). Committed outputs carry lineage attributes.
 */
#ifndef HP_STORE_H
#define HP_STORE_H

#include <stdint.h>

#include "error.h"
#include "hpcpipe/node.h"

typedef struct hp_lineage {
  const char *node;     /* producing node */
  const char *func;     /* its function */
  uint64_t fingerprint; /* of (function, args, parameters, inputs) */
  const char *time;     /* ISO 8601 UTC */
  const char *run;      /* run id (the run's version timestamp) */
} hp_lineage;

/* Silences HDF5's automatic error printing; call once per process. */
void hp__h5_init(void);
/* 1 if this thread is inside an HDF5 call of this module (every entry
 * point holds one lock: the library is not thread-safe). */
int hp__h5_held(void);

/* Writes v into a new file at path atomically. `key` is the object path
 * inside the file ("/" or NULL: the file's root group holds a table or
 * group; an array goes to "/data"). On the object: attributes
 * hpcpipe_kind ("table"|"array"|"group"), hpcpipe_columns (table column
 * order, comma-separated) and, when lin is given, hpcpipe_node,
 * hpcpipe_function, hpcpipe_fingerprint (16 hex digits), hpcpipe_rows,
 * hpcpipe_version, hpcpipe_time, hpcpipe_run. Creates parent directories.
 * With lin (a run's output), a large new file (none at path before)
 * starts going to disk at once (hp__fs_replace); without lin (spill
 * files, removed after the run) or over an existing file, not.
 * Errors: HP_EHDF5 / HP_EIO, "path: <innermost HDF5 message>". */
int hp__h5_save(const char *path, const char *key, const hp_value *v,
                const hp_lineage *lin, hp_error *err);

/* Reads the value at key ("/" or NULL: the root) of an HDF5 file: a group
 * marked as a table, or any group whose members are 1-D datasets of equal
 * length, reads as a table; a dataset as an array (1-D compound datasets
 * as tables); other groups as groups. Files not written by hpcpipe work
 * too. Errors: HP_EIO (missing file), HP_EHDF5 ("path: not an HDF5 file",
 * unsupported type). */
int hp__h5_load(const char *path, const char *key, hp_value **out,
                hp_error *err);

/* hp__h5_load reading, when `project` is set and the object is a table,
 * only the columns cols[0..ncols) that it has (ncols 0: its first column
 * alone, which still gives the row count); and when row1 > 0 and it is a
 * table, only rows [row0, row1) (by hyperslab; an array is read whole).
 * fp (may be NULL): the object's hpcpipe_fingerprint, 0 when it has none,
 * read in the same opening of the file. */
int hp__h5_load_columns(const char *path, const char *key,
                        const char *const *cols, size_t ncols, int project,
                        int64_t row0, int64_t row1, hp_value **out,
                        uint64_t *fp, hp_error *err);

/* Reads hpcpipe_fingerprint from the object at key; HP_OK and *fp set, or
 * HP_EIO if the file or attribute is missing. */
int hp__h5_fingerprint(const char *path, const char *key, uint64_t *fp);

/* Writes the master file of a partitioned dataset at path, atomically:
 * for every column of the partition tables (or for the array), an HDF5
 * virtual dataset that maps the partitions' rows in order, so readers see
 * one table. Partition paths are stored relative to the master's directory
 * when they lie under it. The object at key carries hpcpipe_partitions
 * (n) and, when lin is given, the lineage attributes. Errors: HP_EHDF5 /
 * HP_EIO naming the file; partitions whose columns differ. */
int hp__h5_stitch(const char *path, const char *key, const char *const *parts,
                  size_t n, const hp_lineage *lin, hp_error *err);

/* The hpcpipe_* attributes of what is stored at key (lineage, kind,
 * partitions), names without the prefix, values as text, in creation
 * order; malloc'd arrays of malloc'd strings. HP_EIO if the file or
 * object is missing. */
int hp__h5_lineage(const char *path, const char *key, char ***names,
                   char ***vals, size_t *n);

/* Where the bytes of one partition file of a stitched table lie, so that
 * a task can read it without opening it through HDF5 (whose opening,
 * metadata and attribute reads cost about as much as the data of a
 * 100,000-row partition). hp__h5_stitch records, for every part, the
 * file's identity (size, modification and change times, inode), its
 * fingerprint, and each column's type, offset and dictionary; a part with
 * a column it cannot describe so (variable-length strings, compression,
 * chunked or foreign-typed storage) has none. Opaque. */
typedef struct hp_h5_layout hp_h5_layout;
typedef struct hp_h5_rawpart hp_h5_rawpart;

/* What part.c needs to partition an existing file: the partition count of
 * a stitched master (hpcpipe_partitions, else 0) and the row count of the
 * table or array at key; with layout non-NULL, also the master's layout
 * of its parts (NULL when it has none: written before hpcpipe recorded
 * them, or not a table; free with hp__h5_layout_free). HP_EIO if the file
 * or object is missing. */
int hp__h5_info(const char *path, const char *key, int64_t *nparts,
                int64_t *rows, hp_h5_layout **layout);
void hp__h5_layout_free(hp_h5_layout *l);
/* Part k's description, or NULL (none, or k out of range). Borrowed. */
const hp_h5_rawpart *hp__h5_layout_part(const hp_h5_layout *l, size_t k);

/* hp__h5_load_columns for a whole partition file (no row range) from the
 * bytes rp says are there, with plain reads: 1 when the file at path is
 * still the one rp describes (same identity) and was read (*out and, when
 * fp is given, *fp set); 0 otherwise, nothing read and no error: the
 * caller reads through HDF5, which names any fault. */
int hp__h5_load_raw(const char *path, const hp_h5_rawpart *rp,
                    const char *const *cols, size_t ncols, int project,
                    hp_value **out, uint64_t *fp);

#endif
