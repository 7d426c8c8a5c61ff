/*
 * acquire.c - the order table, each order's scoring, and the acquisition
 * functions (see acquire.h).
 */
#include "core/acquire.h"
#include "core/rank.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EI_XI 0.5f                   /* EI counts improvements of more than half a rating step */
#define ANOMALY_HANDOVER 20.0f       /* ratings at which anomaly and predicted interest weigh the same */

enum { ANOM_NEVER, ANOM_ALWAYS, ANOM_WITHOUT_GP };

typedef int (*score_fn)(const core_acquire_in *in, float *score, int *rank);

static int score_uncertain(const core_acquire_in *in, float *score, int *rank);
static int score_likely(const core_acquire_in *in, float *score, int *rank);
static int score_interest(const core_acquire_in *in, float *score, int *rank);
static int score_anomaly(const core_acquire_in *in, float *score, int *rank);
static int score_random(const core_acquire_in *in, float *score, int *rank);
static int score_catalog(const core_acquire_in *in, float *score, int *rank);
static int score_mixed(const core_acquire_in *in, float *score, int *rank);

static const struct {
    const char *name;
    const char *help;
    score_fn score;
    int anomaly;                     /* ANOM_*: when it ranks by anomaly scores */
} orders[CORE_ORDER_N] = {
    [CORE_ORDER_UNCERTAIN] = {"uncertain", "where the model is least sure (BALD)", score_uncertain, ANOM_NEVER},
    [CORE_ORDER_LIKELY]    = {"likely", "most likely to show the feature first", score_likely, ANOM_NEVER},
    [CORE_ORDER_INTEREST]  = {"interest", "most likely to interest you (GP of your ratings)", score_interest,
                              ANOM_WITHOUT_GP},
    [CORE_ORDER_ANOMALY]   = {"anomaly", "the oddest-looking first, then by predicted interest", score_anomaly,
                              ANOM_ALWAYS},
    [CORE_ORDER_RANDOM]    = {"random", "a random order (a fair sample)", score_random, ANOM_NEVER},
    [CORE_ORDER_CATALOG]   = {"catalog", "the catalog's own order", score_catalog, ANOM_NEVER},
    [CORE_ORDER_MIXED]     = {"mixed", "70% likely, 20% uncertain, 10% random", score_mixed, ANOM_NEVER},
};

int core_order_parse(const char *name, core_order *out)
{
    for (int i = 0; i < CORE_ORDER_N; i++)
        if (name && strcmp(name, orders[i].name) == 0) { *out = (core_order)i; return 0; }
    return -1;
}

const char *core_order_name(core_order o) { return o >= 0 && o < CORE_ORDER_N ? orders[o].name : "?"; }
const char *core_order_help(core_order o) { return o >= 0 && o < CORE_ORDER_N ? orders[o].help : "?"; }
const char *core_order_names(void) { return "uncertain, likely, interest, anomaly, random, catalog, mixed"; }

int core_order_needs_anomaly(core_order o, int have_gp)
{
    if (o < 0 || o >= CORE_ORDER_N) return 0;
    return orders[o].anomaly == ANOM_ALWAYS || (orders[o].anomaly == ANOM_WITHOUT_GP && !have_gp);
}

int core_acquire_rank(core_order o, const core_acquire_in *in, float *score, int *rank)
{
    if (o < 0 || o >= CORE_ORDER_N) return -1;
    return orders[o].score(in, score, rank);
}

/* ------------------------------------------------------------ the orders' scores */

/* The scores of a ranking that has none of its own: (n - position) / n. */
static void score_by_position(const int *rank, int n, float *score)
{
    for (int i = 0; i < n; i++) score[rank[i]] = (float)(n - i) / n;
}

/* score (n) copied from s, rank by it */
static int score_as(const float *s, int n, float *score, int *rank)
{
    memcpy(score, s, (size_t)n * sizeof(float));
    core_rank_by_score(score, n, rank);
    return 1;
}

/* rank normalisation: score -> (position from the bottom) / (n - 1) */
static void rank_norm(const float *s, int n, float *out)
{
    int *idx = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    core_rank_by_score(s, n, idx);
    for (int i = 0; i < n; i++) out[idx[i]] = n > 1 ? (float)(n - 1 - i) / (n - 1) : 1;
    free(idx);
}

static int score_random(const core_acquire_in *in, float *score, int *rank)
{
    core_rank_random(in->n, in->seed, rank);
    score_by_position(rank, in->n, score);
    return 0;
}

/* without a model yet: start at random */
static int score_uncertain(const core_acquire_in *in, float *score, int *rank)
{
    return in->likely ? score_as(in->unc, in->n, score, rank) : score_random(in, score, rank);
}

static int score_likely(const core_acquire_in *in, float *score, int *rank)
{
    return in->likely ? score_as(in->likely, in->n, score, rank) : score_random(in, score, rank);
}

static int score_catalog(const core_acquire_in *in, float *score, int *rank)
{
    for (int i = 0; i < in->n; i++) rank[i] = i;
    score_by_position(rank, in->n, score);
    return 0;
}

/* expected improvement of the GP's prediction; the anomaly prior before it */
static int score_interest(const core_acquire_in *in, float *score, int *rank)
{
    if (!in->mu) return getenv("ZOOSH_RSTART") ? score_random(in, score, rank) : score_as(in->anomaly, in->n, score, rank);
    const char *e = getenv("ZOOSH_ACQ");
    double kap = e ? atof(e) : -1;
    for (int i = 0; i < in->n; i++)
        score[i] = kap < 0 ? core_acquire_ei(in->mu[i], in->sd[i], in->best, EI_XI) : core_acquire_ucb(in->mu[i], in->sd[i], (float)kap);
    core_rank_by_score(score, in->n, rank);
    return 1;
}

/* the anomaly prior, blended with predicted interest as ratings arrive */
static int score_anomaly(const core_acquire_in *in, float *score, int *rank)
{
    int n = in->n;
    if (!in->mu) return score_as(in->anomaly, n, score, rank);
    float *a = xmalloc((size_t)n * sizeof(float)), *b = xmalloc((size_t)n * sizeof(float));
    rank_norm(in->anomaly, n, a);
    rank_norm(in->mu, n, b);
    float wgt = (float)in->n_rated / (in->n_rated + ANOMALY_HANDOVER);
    for (int i = 0; i < n; i++) score[i] = (1 - wgt) * a[i] + wgt * b[i];
    free(a); free(b);
    core_rank_by_score(score, n, rank);
    return 1;
}

/* 70% likely, 20% uncertain, 10% random, interleaved */
static int score_mixed(const core_acquire_in *in, float *score, int *rank)
{
    int n = in->n;
    if (!in->likely) return score_random(in, score, rank);
    int *l0 = xmalloc((size_t)n * sizeof(int)), *l1 = xmalloc((size_t)n * sizeof(int));
    int *l2 = xmalloc((size_t)n * sizeof(int));
    core_rank_by_score(in->likely, n, l0);
    core_rank_by_score(in->unc, n, l1);
    core_rank_random(n, in->seed, l2);
    int *lists[3] = {l0, l1, l2};
    double frac[3] = {0.7, 0.2, 0.1};
    core_rank_interleave(lists, frac, 3, n, rank);
    score_by_position(rank, n, score);
    free(l0); free(l1); free(l2);
    return 1;
}

/* ------------------------------------------------------------ acquisition functions */

float core_acquire_ei(float mu, float sd, float best, float xi)
{
    float imp = mu - best - xi;
    if (sd <= 1e-9f) return imp > 0 ? imp : 0;
    float z = imp / sd;
    float cdf = 0.5f * erfcf(-z * (float)M_SQRT1_2);
    float pdf = expf(-0.5f * z * z) * 0.39894228f;
    float ei = imp * cdf + sd * pdf;
    return ei > 0 ? ei : 0;
}

float core_acquire_ucb(float mu, float sd, float kappa) { return mu + kappa * sd; }
