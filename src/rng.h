/*
 * rng.h - deterministic random streams (a wrapper over GSL, the only file
 * that includes its headers). A stream is named by (seed, stream): the
 * same pair gives the same numbers on every rank and machine, so partition
 * p of a generated dataset, drawn from stream p, does not depend on which
 * rank makes it or on how many ranks there are.
 */
#ifndef HP_RNG_H
#define HP_RNG_H

/* The functions are public (hpcpipe/node.h, "random numbers"), for
 * plugins that generate data or seed an algorithm the same way. */
#include "hpcpipe/node.h"

#endif
