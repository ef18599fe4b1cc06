/*
 * synthetic.c - glacier.synthetic: raw data shaped like the World Glacier
 * Monitoring Service's Fluctuations of Glaciers database (the four files
 * the glacier_clustering tutorial reads), generated because there is no
 * network here. Real WGMS files dropped into data/01_raw/ work as well
 * (docs/tutorial.md lists the columns the pipeline uses).
 *
 * One node, four outputs (tables written as CSV by the catalog):
 *
 *   glacier       POLITICAL_UNIT, NAME, WGMS_ID, LATITUDE, LONGITUDE,
 *                 PRIM_CLASSIFIC, FORM, FRONTAL_CHARS, EXPOS_ACC_AREA,
 *                 REMARKS; about 2% of glaciers listed twice (a later
 *                 duplicate with another NAME), 1% without a position, the
 *                 three classification codes missing on 10-20% of rows
 *   mass_balance  POLITICAL_UNIT, NAME, WGMS_ID, YEAR, LOWER_BOUND,
 *                 UPPER_BOUND, AREA, WINTER_BALANCE, SUMMER_BALANCE,
 *                 ANNUAL_BALANCE (mm w.e.): yearly, for ~12% of glaciers;
 *                 the glacier-wide row has bounds 9999, some glaciers also
 *                 have elevation-band rows
 *   change        POLITICAL_UNIT, NAME, WGMS_ID, YEAR, LOWER_BOUND,
 *                 UPPER_BOUND, AREA_CHANGE (1000 m2), THICKNESS_CHG (mm),
 *                 VOLUME_CHANGE (1000 m3): the change since the previous
 *                 survey, for ~70% of glaciers, some band rows, some values
 *                 missing, and a few rows of glaciers glacier.csv lacks
 *   state         POLITICAL_UNIT, NAME, WGMS_ID, YEAR, HIGHEST_ELEVATION,
 *                 MEDIAN_ELEVATION, LOWEST_ELEVATION (m a.s.l.), LENGTH
 *                 (km), AREA (km2): surveys of ~75% of glaciers
 *
 * Each glacier has a hidden regime (one of four thinning rates), so that
 * the clustering has something to find. Rows are ordered by WGMS_ID, then
 * YEAR, as in the WGMS files.
 *
 * args or params (the first input, if any, is a parameter mapping):
 * scale (1.0: 2,000 glaciers; 0.01 .. 10000), seed (0), first_year (1950),
 * last_year (2021). Deterministic: glacier g draws from hp_rng stream g.
 */
#include <hpcpipe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glacier.h"

/* ---- growable columns -------------------------------------------------------
 */

#define COL(n, t) \
  { .name = (n), .type = (t) }

typedef struct col {
  const char *name;
  hp_dtype type; /* HP_INT64, HP_FLOAT64 or HP_STRING */
  void *data;    /* int64_t[], double[] or char *[] (owned strings) */
  uint8_t *valid;
  int any_null;
} col;

typedef struct table {
  col *c;
  size_t nc, n, cap;
  int nomem;
} table;

static void table_init(table *t, col *c, size_t nc) {
  memset(t, 0, sizeof *t);
  t->c = c;
  t->nc = nc;
}

/* Room for one more row; 0 if out of memory. */
static int table_grow(table *t) {
  if (t->nomem) return 0;
  if (t->n < t->cap) return 1;
  size_t cap = t->cap ? t->cap * 2 : 1024;
  for (size_t j = 0; j < t->nc; j++) {
    size_t w = t->c[j].type == HP_STRING ? sizeof(char *) : 8;
    void *d = realloc(t->c[j].data, cap * w);
    uint8_t *v = d ? realloc(t->c[j].valid, cap) : NULL;
    if (d) t->c[j].data = d;
    if (!d || !v) {
      t->nomem = 1;
      return 0;
    }
    t->c[j].valid = v;
  }
  t->cap = cap;
  return 1;
}

static void set_i(table *t, size_t j, int64_t x) {
  ((int64_t *)t->c[j].data)[t->n] = x;
  t->c[j].valid[t->n] = 1;
}

static void set_f(table *t, size_t j, double x) {
  ((double *)t->c[j].data)[t->n] = x;
  t->c[j].valid[t->n] = 1;
}

/* A null: an empty string under the mask for a string column (every
 * string entry is owned, so the column can be handed over as it is). */
static void set_null(table *t, size_t j) {
  if (t->c[j].type == HP_STRING) {
    char *e = calloc(1, 1);
    if (!e) t->nomem = 1;
    ((char **)t->c[j].data)[t->n] = e;
  } else
    ((int64_t *)t->c[j].data)[t->n] = 0;
  t->c[j].valid[t->n] = 0;
  t->c[j].any_null = 1;
}

static void set_s(table *t, size_t j, const char *s) {
  char *d = malloc(strlen(s) + 1);
  if (!d) {
    t->nomem = 1;
    set_null(t, j);
    return;
  }
  strcpy(d, s);
  ((char **)t->c[j].data)[t->n] = d;
  t->c[j].valid[t->n] = 1;
}

static void table_free(table *t) {
  for (size_t j = 0; j < t->nc; j++) {
    if (t->c[j].type == HP_STRING)
      for (size_t r = 0; r < t->n; r++)
        free(((char **)t->c[j].data)[r]);
    free(t->c[j].data);
    free(t->c[j].valid);
  }
}

/* The finished table as a value (NULL if out of memory). A null string is
 * written as an empty field, which reads back as a null. */
static hp_value *table_value(table *t) {
  if (t->nomem) return NULL;
  hp_value *v = hp_table_new();
  for (size_t j = 0; j < t->nc; j++) {
    col *c = &t->c[j];
    int rc = hp_table_add_column(v, c->name, c->type, c->data, t->n);
    if (rc == HP_OK && c->any_null)
      rc = hp_table_set_valid(v, hp_table_ncols(v) - 1, c->valid);
    if (rc != HP_OK) {
      hp_value_free(v);
      return NULL;
    }
  }
  return v;
}

/* ---- the glaciers
 * -------------------------------------------------------------- */

static const struct unit {
  const char *code;
  double lat0, lat1, lon0, lon1;
} units[] = {
    {"CH", 45.8, 47.8, 6.0, 10.5},      {"AT", 46.6, 47.5, 9.5, 13.5},
    {"IT", 45.5, 46.9, 6.8, 12.5},      {"FR", 44.8, 46.1, 6.0, 7.2},
    {"NO", 59.5, 70.5, 5.5, 25.0},      {"SE", 66.0, 68.5, 15.5, 19.0},
    {"IS", 63.5, 66.0, -24.0, -14.0},   {"CA", 49.0, 82.0, -140.0, -60.0},
    {"US", 36.0, 70.0, -160.0, -105.0}, {"NZ", -45.5, -41.0, 167.0, 173.0},
    {"AR", -55.0, -30.0, -73.5, -68.0}, {"CL", -55.0, -30.0, -75.0, -69.0},
    {"NP", 27.5, 30.5, 81.0, 88.5},     {"CN", 28.0, 45.0, 75.0, 100.0},
    {"KG", 39.5, 43.0, 69.0, 80.0},     {"RU", 42.5, 81.0, 40.0, 170.0},
    {"GL", 60.0, 83.0, -73.0, -12.0},
};
#define NUNITS (sizeof units / sizeof units[0])

static const char *const syl[] = {"AL",   "BER", "CHA", "DOR", "EG",  "FORN",
                                  "GRI",  "HOH", "IS",  "JOS", "KAL", "LUN",
                                  "MOR",  "NIG", "OB",  "PAS", "RHO", "SIL",
                                  "TSCH", "UNT", "VAD", "WEI", "ZIN"};
#define NSYL (sizeof syl / sizeof syl[0])

static const char *const expos[] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"};

typedef struct glacier {
  int64_t id;
  const struct unit *unit;
  char name[64];
  int regime;          /* 0..3: how fast it thins */
  double area, median; /* km2, m a.s.l. at first_year */
} glacier;

/* Thinning per year (mm) of each regime, and the share of area lost. */
static const double thin_rate[] = {-150.0, -450.0, -850.0, -1300.0};
static const double area_rate[] = {-0.001, -0.004, -0.008, -0.013};

/* x to `dec` decimals (dec <= 0: to a multiple of 10^-dec), the double
 * nearest the decimal, so that CSV shows it as written. */
static double round_to(double x, int dec) {
  double p = 1;
  for (int i = 0; i < (dec < 0 ? -dec : dec); i++)
    p *= 10;
  return dec >= 0 ? round(x * p) / p : round(x / p) * p;
}

static void make_name(hp_rng *r, char *out, size_t len, int64_t id) {
  int parts = 1 + (int)hp_rng_int(r, 2);
  size_t k = 0;
  for (int i = 0; i < parts; i++)
    k += (size_t)snprintf(out + k, len - k, "%s", syl[hp_rng_int(r, NSYL)]);
  uint64_t kind = hp_rng_int(r, 40);
  if (kind == 0) /* a name that needs quoting in CSV */
    snprintf(out + k, len - k, ", \"%s\" GL.", syl[id % (int64_t)NSYL]);
  else if (kind < 6)
    snprintf(out + k, len - k, " %d", (int)(id % 97) + 1);
}

typedef struct gen {
  double scale;
  int64_t seed, first, last;
} gen;

static int read_gen(hp_node_ctx *ctx, gen *g) {
  const hp_tree *a = hp_node_args(ctx), *p = NULL;
  if (hp_node_ninputs(ctx) > 0 && hp_node_param(ctx, 0, &p) != HP_OK)
    return hp_node_fail(ctx, "glacier.synthetic: its input must be a "
                             "parameter mapping (params:synthetic)");
  const hp_tree *src = p ? p : a;
  if (hp_tree_f64(src, "scale", 1.0, &g->scale) != HP_OK ||
      hp_tree_i64(src, "seed", 0, &g->seed) != HP_OK ||
      hp_tree_i64(src, "first_year", 1950, &g->first) != HP_OK ||
      hp_tree_i64(src, "last_year", 2021, &g->last) != HP_OK)
    return hp_node_fail(ctx, "glacier.synthetic: scale must be a number and "
                             "seed, first_year, last_year integers");
  if (!(g->scale >= 0.01 && g->scale <= 10000))
    return hp_node_fail(ctx, "glacier.synthetic: scale must be in "
                             "0.01..10000");
  if (g->first < 1800 || g->last > 2100 || g->last - g->first < 10)
    return hp_node_fail(ctx, "glacier.synthetic: years must span at least "
                             "10 years within 1800..2100");
  return HP_OK;
}

enum {
  G_UNIT,
  G_NAME,
  G_ID,
  G_LAT,
  G_LON,
  G_PRIM,
  G_FORM,
  G_FRONT,
  G_EXPOS,
  G_REM,
  G_N
};
enum { K_UNIT, K_NAME, K_ID, K_YEAR, K_LOW, K_UP, K_N }; /* common keys */
enum { M_AREA = K_N, M_WIN, M_SUM, M_ANN, M_N };
enum { C_AREA = K_N, C_THICK, C_VOL, C_N };
enum { S_HIGH = K_LOW, S_MED, S_LOW, S_LEN, S_AREA, S_N }; /* no bounds */

/* The key columns; lo < 0: a table without elevation bounds (state). */
static void keys(table *t, const glacier *g, int64_t year, int64_t lo,
                 int64_t up) {
  set_s(t, K_UNIT, g->unit->code);
  set_s(t, K_NAME, g->name);
  set_i(t, K_ID, g->id);
  set_i(t, K_YEAR, year);
  if (lo >= 0) {
    set_i(t, K_LOW, lo);
    set_i(t, K_UP, up);
  }
}

/* A value, or a null with probability p. */
static void maybe_f(table *t, size_t j, hp_rng *r, double p, double x) {
  if (hp_rng_uniform(r, 0, 1) < p)
    set_null(t, j);
  else
    set_f(t, j, x);
}

static void glacier_rows(table *t, hp_rng *r, const glacier *g) {
  int copies = hp_rng_uniform(r, 0, 1) < 0.02 ? 2 : 1;
  for (int c = 0; c < copies && table_grow(t); c++, t->n++) {
    set_s(t, G_UNIT, g->unit->code);
    char name[80];
    snprintf(name, sizeof name, "%s%s", g->name, c ? " (DUPLICATE)" : "");
    set_s(t, G_NAME, name);
    set_i(t, G_ID, g->id);
    if (hp_rng_uniform(r, 0, 1) < 0.01) {
      set_null(t, G_LAT);
      set_null(t, G_LON);
    } else {
      set_f(t, G_LAT,
            round_to(hp_rng_uniform(r, g->unit->lat0, g->unit->lat1), 4));
      set_f(t, G_LON,
            round_to(hp_rng_uniform(r, g->unit->lon0, g->unit->lon1), 4));
    }
    static const size_t code_col[] = {G_PRIM, G_FORM, G_FRONT};
    static const double code_null[] = {0.10, 0.15, 0.20};
    static const int code_max[] = {9, 8, 7};
    for (int k = 0; k < 3; k++) {
      if (hp_rng_uniform(r, 0, 1) < code_null[k])
        set_null(t, code_col[k]);
      else
        set_i(t, code_col[k], (int64_t)hp_rng_int(r, (uint64_t)code_max[k]));
    }
    set_s(t, G_EXPOS, expos[hp_rng_int(r, 8)]);
    if (hp_rng_uniform(r, 0, 1) < 0.15)
      set_s(t, G_REM, c ? "listed twice" : "Data from national inventory");
    else
      set_null(t, G_REM);
  }
}

/* Survey years from a random start, every 1..maxgap years, to g->last. */
static size_t survey_years(hp_rng *r, const gen *G, int64_t start_max,
                           int maxgap, int64_t *ys, size_t cap) {
  int64_t y =
      G->first + (int64_t)hp_rng_int(r, (uint64_t)(start_max - G->first + 1));
  size_t n = 0;
  while (y <= G->last && n < cap) {
    ys[n++] = y;
    y += 1 + (int64_t)hp_rng_int(r, (uint64_t)maxgap);
  }
  return n;
}

static void change_rows(table *t, hp_rng *r, const gen *G, const glacier *g) {
  int64_t ys[300];
  size_t n = survey_years(r, G, G->last - 12, 5, ys, 300);
  int bands = hp_rng_uniform(r, 0, 1) < 0.15;
  for (size_t i = 1; i < n; i++) {
    double dt = (double)(ys[i] - ys[i - 1]);
    double thick =
        thin_rate[g->regime] * dt * (1 + 0.3 * hp_rng_normal(r, 0, 1));
    double darea = area_rate[g->regime] * dt * g->area * 1000.0 *
                   (1 + 0.3 * hp_rng_normal(r, 0, 1));
    if (!table_grow(t)) return;
    keys(t, g, ys[i], 9999, 9999);
    maybe_f(t, C_AREA, r, 0.30, round_to(darea, 1));
    maybe_f(t, C_THICK, r, 0.10, round_to(thick, 0));
    maybe_f(t, C_VOL, r, 0.25, round_to(thick / 1000.0 * g->area * 1000.0, 1));
    t->n++;
    for (int b = 0; bands && b < 4; b++) { /* elevation bands: thickness */
      if (!table_grow(t)) return;
      int64_t lo = (int64_t)round_to(g->median, -2) - 200 + 100 * b;
      keys(t, g, ys[i], lo, lo + 100);
      set_null(t, C_AREA);
      set_f(t, C_THICK, round_to(thick * (1.4 - 0.25 * b), 0));
      set_null(t, C_VOL);
      t->n++;
    }
  }
}

static void state_rows(table *t, hp_rng *r, const gen *G, const glacier *g) {
  int64_t ys[300];
  size_t n = survey_years(r, G, G->last - 10, 7, ys, 300);
  for (size_t i = 0; i < n; i++) {
    double years = (double)(ys[i] - G->first);
    double area = g->area * exp(area_rate[g->regime] * years) *
                  (1 + 0.02 * hp_rng_normal(r, 0, 1));
    double rise = -thin_rate[g->regime] * years / 1000.0; /* m */
    if (!table_grow(t)) return;
    keys(t, g, ys[i], -1, -1);
    double med = g->median + rise * 0.5;
    maybe_f(t, S_HIGH, r, 0.15, round_to(med + 400 + 150 * sqrt(g->area), 0));
    maybe_f(t, S_MED, r, 0.20, round_to(med, 0));
    maybe_f(t, S_LOW, r, 0.15,
            round_to(med - 300 - 100 * sqrt(g->area) + rise, 0));
    maybe_f(t, S_LEN, r, 0.20, round_to(1.4 * sqrt(area), 2));
    maybe_f(t, S_AREA, r, 0.10, round_to(area, 3));
    t->n++;
  }
}

static void mass_rows(table *t, hp_rng *r, const gen *G, const glacier *g) {
  int64_t start = G->last - 15 - (int64_t)hp_rng_int(r, 25);
  int bands = hp_rng_uniform(r, 0, 1) < 0.3;
  for (int64_t y = start; y <= G->last; y++) {
    if (hp_rng_uniform(r, 0, 1) < 0.1) continue; /* a missed year */
    double win = 1200 + 300 * hp_rng_normal(r, 0, 1);
    double sum = -1400 + thin_rate[g->regime] + 400 * hp_rng_normal(r, 0, 1);
    if (!table_grow(t)) return;
    keys(t, g, y, 9999, 9999);
    maybe_f(t, M_AREA, r, 0.2, round_to(g->area, 3));
    maybe_f(t, M_WIN, r, 0.05, round_to(win, 0));
    maybe_f(t, M_SUM, r, 0.05, round_to(sum, 0));
    set_f(t, M_ANN, round_to(win + sum, 0));
    t->n++;
    for (int b = 0; bands && b < 3; b++) {
      if (!table_grow(t)) return;
      int64_t lo = (int64_t)round_to(g->median, -2) - 100 + 100 * b;
      keys(t, g, y, lo, lo + 100);
      set_null(t, M_AREA);
      set_null(t, M_WIN);
      set_null(t, M_SUM);
      set_f(t, M_ANN, round_to((win + sum) * (0.6 + 0.4 * b), 0));
      t->n++;
    }
  }
}

int gl_synthetic_run(hp_node_ctx *ctx) {
  gen G;
  GL_TRY(read_gen(ctx, &G));
  if (hp_node_noutputs(ctx) != 4)
    return hp_node_fail(ctx,
                        "glacier.synthetic has four outputs: glacier, "
                        "mass_balance, change, state (%zu given)",
                        hp_node_noutputs(ctx));
  size_t n = (size_t)llround(2000.0 * G.scale);
  if (n < 20) n = 20;
  col gc[G_N] = {COL("POLITICAL_UNIT", HP_STRING),
                 COL("NAME", HP_STRING),
                 COL("WGMS_ID", HP_INT64),
                 COL("LATITUDE", HP_FLOAT64),
                 COL("LONGITUDE", HP_FLOAT64),
                 COL("PRIM_CLASSIFIC", HP_INT64),
                 COL("FORM", HP_INT64),
                 COL("FRONTAL_CHARS", HP_INT64),
                 COL("EXPOS_ACC_AREA", HP_STRING),
                 COL("REMARKS", HP_STRING)};
#define KEYCOLS                                             \
  COL("POLITICAL_UNIT", HP_STRING), COL("NAME", HP_STRING), \
      COL("WGMS_ID", HP_INT64), COL("YEAR", HP_INT64),      \
      COL("LOWER_BOUND", HP_INT64), COL("UPPER_BOUND", HP_INT64)
  col mc[M_N] = {
      KEYCOLS, COL("AREA", HP_FLOAT64), COL("WINTER_BALANCE", HP_FLOAT64),
      COL("SUMMER_BALANCE", HP_FLOAT64), COL("ANNUAL_BALANCE", HP_FLOAT64)};
  col cc[C_N] = {KEYCOLS, COL("AREA_CHANGE", HP_FLOAT64),
                 COL("THICKNESS_CHG", HP_FLOAT64),
                 COL("VOLUME_CHANGE", HP_FLOAT64)};
  col sc[S_N] = {COL("POLITICAL_UNIT", HP_STRING),
                 COL("NAME", HP_STRING),
                 COL("WGMS_ID", HP_INT64),
                 COL("YEAR", HP_INT64),
                 COL("HIGHEST_ELEVATION", HP_FLOAT64),
                 COL("MEDIAN_ELEVATION", HP_FLOAT64),
                 COL("LOWEST_ELEVATION", HP_FLOAT64),
                 COL("LENGTH", HP_FLOAT64),
                 COL("AREA", HP_FLOAT64)};
#undef KEYCOLS
  table tg, tm, tc, ts;
  table_init(&tg, gc, G_N);
  table_init(&tm, mc, M_N);
  table_init(&tc, cc, C_N);
  table_init(&ts, sc, S_N);
  int64_t id = 0;
  for (size_t i = 0; i < n; i++) {
    hp_rng *r = hp_rng_new((uint64_t)G.seed, i);
    glacier g;
    id += 1 + (int64_t)hp_rng_int(r, 4);
    g.id = id;
    g.unit = &units[hp_rng_int(r, NUNITS)];
    make_name(r, g.name, sizeof g.name, id);
    g.regime = (int)hp_rng_int(r, 4);
    g.area = round_to(exp(hp_rng_normal(r, 0.5, 1.1)) + 0.05, 3);
    g.median = hp_rng_uniform(r, 1500, 4500);
    int orphan = hp_rng_uniform(r, 0, 1) < 0.005; /* only in change.csv */
    if (!orphan) glacier_rows(&tg, r, &g);
    if (hp_rng_uniform(r, 0, 1) < 0.12) mass_rows(&tm, r, &G, &g);
    if (orphan || hp_rng_uniform(r, 0, 1) < 0.70) change_rows(&tc, r, &G, &g);
    if (hp_rng_uniform(r, 0, 1) < 0.75) state_rows(&ts, r, &G, &g);
    hp_rng_free(r);
  }
  table *all[4] = {&tg, &tm, &tc, &ts};
  int rc = HP_OK;
  for (size_t k = 0; k < 4; k++) {
    hp_value *v = rc == HP_OK ? table_value(all[k]) : NULL;
    if (rc == HP_OK && !v)
      rc = hp_node_fail(ctx,
                        "glacier.synthetic: out of memory (%zu "
                        "glaciers)",
                        n);
    else if (rc == HP_OK)
      rc = hp_node_output(ctx, k, v);
  }
  for (size_t k = 0; k < 4; k++)
    table_free(all[k]);
  if (rc == HP_OK)
    hp_node_log(ctx,
                "%zu glaciers: %zu glacier rows, %zu mass balance, %zu "
                "change, %zu state",
                n, tg.n, tm.n, tc.n, ts.n);
  return rc;
}
