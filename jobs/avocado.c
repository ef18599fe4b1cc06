/*
 * avocado.c - avocado.generate, the data of examples/avocado: weekly
 * avocado sales shaped like Kaggle's "Avocado Prices" table (the dataset
 * behind Dataiku's avocado_transactions), generated instead of downloaded.
 * Built as a plugin (libhpcpipe_avocado.so) that only uses the public API.
 *
 * avocado.generate is a source node (HP_MODE_SOURCE): one partition per
 * year. Partition p holds year start_year + p: for every Sunday of that
 * year, every region and both types (conventional, organic),
 * rows_per_week rows of
 *
 *   date           timestamp, the Sunday (00:00:00)
 *   year           int64
 *   region         string, one of Kaggle's 54 region names (the first
 *                  args.regions of them)
 *   type           string, conventional | organic
 *   volume         float64, avocados sold, 2 decimals
 *   average_price  float64, USD per avocado, 2 decimals
 *
 * Prices: a base per type (about 1.16 conventional, 1.65 organic), an
 * offset per region, a yearly cycle that peaks in autumn, a trend per
 * year and noise. Volumes: a size per region (log-uniform), organic about
 * 3.5% of conventional, a cycle that peaks in early summer, noise.
 *
 * Deterministic: region effects come from hpcpipe's random stream (seed,
 * 1000 + region), the rows of partition p from stream (seed, year), so a
 * partition is the same whichever rank makes it and however many there
 * are.
 *
 * args (all optional): start_year 2015, years 4, regions 54 (1..54),
 * rows_per_week 1 (1..1000), seed 0.
 */
#include <hpcpipe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const regions[] = {"Albany",
                                      "Atlanta",
                                      "BaltimoreWashington",
                                      "Boise",
                                      "Boston",
                                      "BuffaloRochester",
                                      "California",
                                      "Charlotte",
                                      "Chicago",
                                      "CincinnatiDayton",
                                      "Columbus",
                                      "DallasFtWorth",
                                      "Denver",
                                      "Detroit",
                                      "GrandRapids",
                                      "GreatLakes",
                                      "HarrisburgScranton",
                                      "HartfordSpringfield",
                                      "Houston",
                                      "Indianapolis",
                                      "Jacksonville",
                                      "LasVegas",
                                      "LosAngeles",
                                      "Louisville",
                                      "MiamiFtLauderdale",
                                      "Midsouth",
                                      "Nashville",
                                      "NewOrleansMobile",
                                      "NewYork",
                                      "Northeast",
                                      "NorthernNewEngland",
                                      "Orlando",
                                      "Philadelphia",
                                      "PhoenixTucson",
                                      "Pittsburgh",
                                      "Plains",
                                      "Portland",
                                      "RaleighGreensboro",
                                      "RichmondNorfolk",
                                      "Roanoke",
                                      "Sacramento",
                                      "SanDiego",
                                      "SanFrancisco",
                                      "Seattle",
                                      "SouthCarolina",
                                      "SouthCentral",
                                      "Southeast",
                                      "Spokane",
                                      "StLouis",
                                      "Syracuse",
                                      "Tampa",
                                      "TotalUS",
                                      "West",
                                      "WestTexNewMexico"};
#define NREGIONS (sizeof regions / sizeof regions[0])

static const char *const types[] = {"conventional", "organic"};

static double round2(double x) {
  return round(x * 100.0) / 100.0;
}

/* ---- calendar ---------------------------------------------------------------
 */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* ---- arguments
 * --------------------------------------------------------------- */

typedef struct gen_args {
  int64_t start_year, years, regions, rows_per_week, seed;
} gen_args;

static int read_args(const hp_tree *a, gen_args *g, char *msg, size_t len) {
  if (hp_tree_i64(a, "start_year", 2015, &g->start_year) != HP_OK ||
      hp_tree_i64(a, "years", 4, &g->years) != HP_OK ||
      hp_tree_i64(a, "regions", (int64_t)NREGIONS, &g->regions) != HP_OK ||
      hp_tree_i64(a, "rows_per_week", 1, &g->rows_per_week) != HP_OK ||
      hp_tree_i64(a, "seed", 0, &g->seed) != HP_OK) {
    snprintf(msg, len,
             "args start_year, years, regions, rows_per_week and "
             "seed must be integers");
    return 1;
  }
  if (g->start_year < 1971 || g->start_year > 2200 || g->years < 1 ||
      g->years > 100) {
    snprintf(msg, len,
             "args.start_year must be in 1971..2200 and args.years "
             "in 1..100");
    return 1;
  }
  if (g->regions < 1 || g->regions > (int64_t)NREGIONS) {
    snprintf(msg, len, "args.regions must be in 1..%zu", NREGIONS);
    return 1;
  }
  if (g->rows_per_week < 1 || g->rows_per_week > 1000) {
    snprintf(msg, len, "args.rows_per_week must be in 1..1000");
    return 1;
  }
  return 0;
}

static int generate_nparts(const hp_tree *args, size_t *n, char *msg,
                           size_t len) {
  gen_args g;
  if (read_args(args, &g, msg, len)) return 1;
  *n = (size_t)g.years;
  return 0;
}

/* ---- the generator
 * ------------------------------------------------------------ */

static int generate_run(hp_node_ctx *ctx) {
  gen_args g;
  char msg[200];
  if (read_args(hp_node_args(ctx), &g, msg, sizeof msg))
    return hp_node_fail(ctx, "%s", msg);
  int64_t year = g.start_year + (int64_t)hp_node_part(ctx);
  int64_t jan1 = days_from_civil(year, 1, 1);
  int64_t next = days_from_civil(year + 1, 1, 1);
  int64_t first = jan1 + (7 - (jan1 + 4) % 7) % 7; /* 1970-01-01: Thursday */
  size_t weeks = (size_t)((next - 1 - first) / 7 + 1);
  size_t nreg = (size_t)g.regions, per = (size_t)g.rows_per_week;
  size_t n = weeks * nreg * 2 * per;

  int64_t *date = malloc((n + 1) * sizeof *date);
  int64_t *yr = malloc((n + 1) * sizeof *yr);
  int32_t *reg = malloc((n + 1) * sizeof *reg);
  int32_t *typ = malloc((n + 1) * sizeof *typ);
  double *vol = malloc((n + 1) * sizeof *vol);
  double *price = malloc((n + 1) * sizeof *price);
  if (!date || !yr || !reg || !typ || !vol || !price) {
    free(date), free(yr), free(reg), free(typ), free(vol), free(price);
    return hp_node_fail(ctx, "out of memory for %zu rows", n);
  }

  /* Region effects, the same in every partition. */
  double size[NREGIONS], offset[NREGIONS];
  for (size_t r = 0; r < nreg; r++) {
    hp_rng *rr = hp_rng_new((uint64_t)g.seed, 1000 + r);
    size[r] = exp(hp_rng_uniform(rr, log(2e4), log(2e6)));
    offset[r] = hp_rng_uniform(rr, -0.25, 0.25);
    hp_rng_free(rr);
  }
  if (nreg > 51) size[51] = 3e7; /* TotalUS: the whole country */

  hp_rng *s = hp_rng_new((uint64_t)g.seed, (uint64_t)year);
  double trend = 0.04 * (double)(year - 2015);
  size_t k = 0;
  for (size_t w = 0; w < weeks; w++) {
    int64_t day = first + 7 * (int64_t)w;
    double phase = 6.283185307179586 * (double)(day - jan1) / 365.25;
    for (size_t r = 0; r < nreg; r++)
      for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < per; i++, k++) {
          date[k] = day * 86400LL * 1000000000LL;
          yr[k] = year;
          reg[k] = (int32_t)r;
          typ[k] = t;
          double base = t ? 1.65 : 1.16;
          double p = base + offset[r] + trend +
                     0.15 * sin(phase - 1.8) /* highest in autumn */ +
                     hp_rng_normal(s, 0.0, 0.08);
          price[k] = round2(p < 0.44 ? 0.44 : p);
          double v = size[r] * (t ? 0.035 : 1.0) *
                     (1.0 + 0.2 * sin(phase + 0.3)) *
                     exp(hp_rng_normal(s, 0.0, 0.15)) / (double)per;
          vol[k] = round2(v);
        }
  }
  hp_rng_free(s);

  hp_value *out = hp_table_new();
  int rc = out ? HP_OK : HP_ENOMEM;
  if (rc == HP_OK) rc = hp_table_add_column(out, "date", HP_TIMESTAMP, date, n);
  if (rc == HP_OK) rc = hp_table_add_column(out, "year", HP_INT64, yr, n);
  if (rc == HP_OK)
    rc = hp_table_add_dict_column(out, "region", reg, n, regions, nreg);
  if (rc == HP_OK) rc = hp_table_add_dict_column(out, "type", typ, n, types, 2);
  if (rc == HP_OK) rc = hp_table_add_column(out, "volume", HP_FLOAT64, vol, n);
  if (rc == HP_OK)
    rc = hp_table_add_column(out, "average_price", HP_FLOAT64, price, n);
  free(date), free(yr), free(reg), free(typ), free(vol), free(price);
  if (rc != HP_OK) {
    hp_value_free(out);
    return hp_node_fail(ctx, "could not build the table (%s)", hp_err_name(rc));
  }
  hp_node_log(ctx, "%lld: %zu weeks x %zu regions x 2 types x %zu = %zu rows",
              (long long)year, weeks, nreg, per, n);
  return hp_node_output(ctx, 0, out);
}

static const hp_node_type avocado_nodes[] = {
    {.abi = HP_NODE_ABI,
     .name = "avocado.generate",
     .run = generate_run,
     .mode = HP_MODE_SOURCE,
     .nparts = generate_nparts,
     .doc = "weekly avocado sales per region and type, one partition per "
            "year"},
};

HP_EXTERN int hp_plugin_init(hp_registry *reg);

HP_EXTERN int hp_plugin_init(hp_registry *reg) {
  return hp_register_nodes(reg, avocado_nodes,
                           sizeof avocado_nodes / sizeof avocado_nodes[0]);
}
