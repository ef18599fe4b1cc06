/*
 * synth.h - generated datasets, one partition at a time. The timeseries
 * generator follows Dask's dask.datasets.timeseries: a `timestamp` column
 * at a fixed frequency, then one column per entry of `dtypes` in name
 * order (int: Poisson(1000); float: uniform on [-1, 1); str/category:
 * one of 26 first names, dictionary-encoded). Partition p draws from the
 * random stream (seed, p), so it is the same whichever rank makes it.
 */
#ifndef HP_SYNTH_H
#define HP_SYNTH_H

#include <stddef.h>

#include "error.h"
#include "hpcpipe/node.h"

/* Arguments (all optional; Dask's defaults):
 *   start: "2000-01-01"      first timestamp ("YYYY-MM-DD[ HH:MM:SS]")
 *   end: "2000-01-31"        end, exclusive
 *   freq: "1s"               row spacing: <n><unit>, unit ns|us|ms|L|s|S|
 *                            min|T|h|H|d|D
 *   partition_freq: "1d"     partition length, same syntax
 *   seed: 0                  integer
 *   dtypes: {name: string, id: int, x: float, y: float}
 *                            column: int|int64|float|float64|str|string|
 *                            object|category
 * Partition p holds the rows start + k*freq inside [start + p*partition_
 * freq, min(start + (p+1)*partition_freq, end)). Errors: HP_ECONFIG
 * "args.<name>: ..." for a bad argument. */
int hp__timeseries_nparts(const hp_tree *args, size_t *n, hp_error *err);

/* Partition p (< the partition count) as a new table. Errors as above;
 * HP_EINVAL for p out of range. */
int hp__timeseries_part(const hp_tree *args, size_t p, hp_value **out,
                        hp_error *err);

#endif
