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
#define TRUST_FULL 0.5               /* a prior this rank-correlated with the ratings keeps its weight */

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
    [CORE_ORDER_ANOMALY]   = {"anomaly", "the oddest-looking first, then as far as it ranks your ratings",
                              score_anomaly, ANOM_ALWAYS},
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
    if (!in->mu) return score_as(in->anomaly, in->n, score, rank);
    for (int i = 0; i < in->n; i++) score[i] = core_acquire_ei(in->mu[i], in->sd[i], in->best, EI_XI);
    core_rank_by_score(score, in->n, rank);
    return 1;
}

/* the anomaly prior, blended with predicted interest as ratings arrive and
 * as far as the prior has ranked them (core_acquire_prior_weight) */
static int score_anomaly(const core_acquire_in *in, float *score, int *rank)
{
    int n = in->n;
    if (!in->mu) return score_as(in->anomaly, n, score, rank);
    float *a = xmalloc((size_t)n * sizeof(float)), *b = xmalloc((size_t)n * sizeof(float));
    rank_norm(in->anomaly, n, a);
    rank_norm(in->mu, n, b);
    double trust = in->rating ? core_acquire_trust(in->anomaly, in->rating, n, NULL) : NAN;
    float wp = (float)core_acquire_prior_weight(in->n_rated, trust);
    for (int i = 0; i < n; i++) score[i] = wp * a[i] + (1 - wp) * b[i];
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

/* ------------------------------------------------------------ the prior's trust */

/* mid-ranks of v (m): ties share their mean rank */
static void mid_ranks(const float *v, int m, double *r)
{
    int *idx = xmalloc((size_t)(m > 0 ? m : 1) * sizeof(int));
    core_rank_by_score(v, m, idx);   /* highest first */
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && v[idx[j + 1]] == v[idx[i]]) j++;
        for (int k = i; k <= j; k++) r[idx[k]] = 0.5 * (i + j);
        i = j + 1;
    }
    free(idx);
}

double core_acquire_trust(const float *prior, const float *rating, int n, int *m)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += !isnan(rating[i]) && isfinite(prior[i]);
    if (m) *m = k;
    if (k < CORE_TRUST_MIN) return NAN;
    float *p = xmalloc((size_t)k * sizeof(float)), *q = xmalloc((size_t)k * sizeof(float));
    double *rp = xmalloc((size_t)k * sizeof(double)), *rq = xmalloc((size_t)k * sizeof(double));
    for (int i = 0, j = 0; i < n; i++)
        if (!isnan(rating[i]) && isfinite(prior[i])) { p[j] = prior[i]; q[j++] = rating[i]; }
    mid_ranks(p, k, rp);
    mid_ranks(q, k, rq);
    double mp = 0, mq = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < k; i++) { mp += rp[i]; mq += rq[i]; }
    mp /= k;
    mq /= k;
    for (int i = 0; i < k; i++) {
        sxy += (rp[i] - mp) * (rq[i] - mq);
        sxx += (rp[i] - mp) * (rp[i] - mp);
        syy += (rq[i] - mq) * (rq[i] - mq);
    }
    free(p); free(q); free(rp); free(rq);
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

double core_acquire_prior_weight(int n_rated, double trust)
{
    double w = 1 - (double)n_rated / (n_rated + ANOMALY_HANDOVER);
    if (!isnan(trust)) w *= trust <= 0 ? 0 : trust >= TRUST_FULL ? 1 : trust / TRUST_FULL;
    return w;
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
