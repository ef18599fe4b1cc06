/*
 * dataset.h - loading and saving a dataset by its catalog definition:
 * dispatch on type (csv, hdf5, the store), versioned paths
 * (<filepath>/<version>/<basename>), and the existence checks used by
 * runs. Memory datasets and parameters never come here.
 */
#ifndef HP_DATASET_H
#define HP_DATASET_H

#include "catalog.h"
#include "error.h"
#include "store.h"

/* The path a versioned dataset is saved to in this run, or the plain path
 * for an unversioned one; a new string. */
char *hp__ds_save_path(const hp_dsdef *d, const char *version);

/* The path to load from: unversioned -> filepath; versioned -> the given
 * version if `version` is non-NULL, else the newest existing version
 * directory (lexicographic). Errors: HP_EIO "dataset 'x': no versions
 * found under <path>". */
int hp__ds_load_path(const hp_dsdef *d, const char *version, char **out,
                     hp_error *err);

/* Loads a dataset. Errors name the dataset: "dataset 'x': <cause>". fp
 * (may be NULL): what hp__ds_fingerprint says of what was read, found in
 * the same opening of the file. */
int hp__ds_load(const hp_dsdef *d, const char *version, hp_value **out,
                uint64_t *fp, hp_error *err);

/* Saves atomically; HDF5 outputs get the lineage attributes. A versioned
 * save to an existing version is an error. Errors name the dataset. */
int hp__ds_save(const hp_dsdef *d, const char *version, const hp_value *v,
                const hp_lineage *lin, hp_error *err);

/* A cheap fingerprint of what loading d would read, without reading it:
 * the lineage fingerprint of an hpcpipe HDF5 output, else the file's size
 * and modification time (hp__fs_stamp), with the partition's range. 0
 * when nothing is there. */
uint64_t hp__ds_fingerprint(const hp_dsdef *d, const char *version);

/* The stamp (hp__fs_stamp: sizes and times) of d's committed file, the
 * newest version of a versioned one; 0 for memory, parameters or nothing
 * there. What the journal records to recognise a file unchanged. */
uint64_t hp__ds_stamp(const hp_dsdef *d);
/* The same for a path already known (hp__ds_save_path after a save, or
 * hp__ds_load_path): no lookup of the newest version. */
uint64_t hp__ds_stamp_at(const hp_dsdef *d, const char *path);

/* Joins the committed partitions parts[0..n) of dataset d (csv.h and
 * store.h write each one) into what readers open: for hdf5 and the store,
 * a master file whose datasets are HDF5 virtual datasets over the
 * partition files (h5py sees one table), carrying lineage; for csv, one
 * file (the partitions concatenated, one header), or for a directory or
 * pattern, nothing but removing files of partitions that no longer exist.
 * Errors name the dataset. */
int hp__ds_stitch(const hp_dsdef *d, const char *version,
                  const hp_dsdef *const *parts, size_t n,
                  const hp_lineage *lin, hp_error *err);

#endif
