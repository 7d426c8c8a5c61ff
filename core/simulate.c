/*
 * simulate.c - the active-learning replay (see simulate.h).  The replay
 * edits its own copy of the task's data: the answers (or ratings) start
 * empty and each shown galaxy gets the oracle's one, as a labeler's would.
 */
#include "core/simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acquire.h"
#include "core/anomaly.h"
#include "core/gp.h"
#include "core/learn.h"
#include "core/metrics.h"
#include "core/plot.h"
#include "core/rank.h"
#include "core/util.h"

/* Dimension letters: n galaxies with features, C answer columns (0 for a
 * rating task), P curve points. */
struct core_simulate {
    core_simulate_opts o;
    core_learn_data D;
    char order[32];
    int *lab;               /* (n) the oracle's 0/1 label, -1 = none */
    float *truth;           /* (n) its rating (or the label), NAN = none */
    unsigned char *test;    /* (n) 1 = in the fixed holdout */
    int neg_col;            /* the answer the oracle's "no" goes to */
    core_ens *warm;         /* --prior-from's head, NULL = from nothing */
    int n_pool, n_pos, budget;
    double *cx, *cy;        /* (P) the curve of the last run */
    int n_points;
};

/* The oracle: a prior column (votes, labels), or else a numeric catalog
 * column kept with the galaxies (e.g. human_interesting); out[gid], NAN
 * where a galaxy has none. */
static int oracle_column(zs_store *st, const char *col, const core_learn_data *D, double **out, uint32_t *len)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    *out = NULL;
    rc = store_prior_column(txn, col, out, len);
    int any = 0;
    if (rc == 0)
        for (uint32_t g = 0; g < *len && !any; g++) any = isfinite((*out)[g]);
    if (rc == STORE_ENOTFOUND || (rc == 0 && !any)) {
        free(*out);
        *len = D->max_gid + 1;
        *out = xmalloc((size_t)*len * sizeof(double));
        for (uint32_t g = 0; g < *len; g++) (*out)[g] = NAN;
        rc = 0;
        for (int i = 0; i < D->n; i++) {
            store_galaxy g;
            if (store_galaxy_get(txn, D->gids[i], &g) != 0) continue;
            for (int k = 0; k < g.n_meta; k++) {
                if (strcmp(g.meta_key[k], col) != 0) continue;
                char *e;
                double v = strtod(g.meta_val[k], &e);
                if (e != g.meta_val[k] && *e == 0) (*out)[D->gids[i]] = v;
            }
            store_galaxy_free(&g);
        }
    }
    store_read_end(txn);
    return rc;
}

/* The truth per row from the oracle column oc (by gid, olen entries): label
 * 0/1 (-1 = unknown) and, for ratings, a rating. */
static void truth_from(core_simulate *sim, const double *oc, uint32_t olen)
{
    const core_learn_data *D = &sim->D;
    int n = D->n, is01 = 1;
    sim->lab = xmalloc((size_t)(n ? n : 1) * sizeof(int));
    sim->truth = xmalloc((size_t)(n ? n : 1) * sizeof(float));
    for (int i = 0; i < n; i++) {
        double v = D->gids[i] < olen ? oc[D->gids[i]] : NAN;
        if (isfinite(v) && v != 0 && v != 1) is01 = 0;
    }
    core_rng rr;
    core_rng_seed(&rr, sim->o.seed ^ 0x72617465ULL);
    for (int i = 0; i < n; i++) {
        double v = D->gids[i] < olen ? oc[D->gids[i]] : NAN;
        if (!isfinite(v)) { sim->lab[i] = -1; sim->truth[i] = NAN; continue; }
        if (sim->o.rating) {
            float r = is01 ? (v > 0.5 ? 4.0f + (float)core_rng_below(&rr, 2) : (float)core_rng_below(&rr, 2))
                           : (float)(v < 0 ? 0 : v > 5 ? 5 : v);
            sim->truth[i] = r;
            sim->lab[i] = r >= 4;
        } else {
            sim->lab[i] = v > 0.5;
            sim->truth[i] = (float)sim->lab[i];
        }
        sim->n_pool++;
        sim->n_pos += sim->lab[i];
    }
}

int core_simulate_new(core_simulate **out, zs_store *st, const core_simulate_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    core_simulate *sim = xcalloc(1, sizeof *sim);
    sim->o = *o;
    snprintf(sim->order, sizeof sim->order, "%s", o->order ? o->order : o->rating ? "interest" : "uncertain");
    sim->o.order = sim->order;
    core_learn_data *D = &sim->D;
    double *oc = NULL;
    uint32_t olen = 0;
    float *pfrom = NULL;   /* (n, C) --prior-from's priors */
    int npfrom = 0, status = 0;
    if (core_learn_load(st, o->task, o->features ? o->features : "", D, err, errlen) != 0) {
        free(sim);
        return -1;
    }
    int rc = oracle_column(st, o->oracle, D, &oc, &olen);
    /* the session's one prior: --prior-from (the catalog's are dropped below) */
    if (rc == 0 && o->prior_from) {
        char why[512];
        if (core_learn_prior_use(st, D, o->prior_from, why, sizeof why) != 0) {
            snprintf(err, errlen, "--prior-from %s: %s", o->prior_from, why);
            status = -1;
            goto end;
        }
        pfrom = D->prior;
        npfrom = D->n_prior;
        D->prior = NULL;
    }
    if (rc) {
        snprintf(err, errlen, "reading column '%s': %s", o->oracle, store_strerror(rc));
        status = -1;
        goto end;
    }
    if (!o->rating && D->C == 0) {
        snprintf(err, errlen, "task '%s' is a rating task: use --rate-from COLUMN", o->task);
        status = -3;
        goto end;
    }
    int n = D->n, C = D->C;
    truth_from(sim, oc, olen);
    if (sim->n_pool == 0) {
        snprintf(err, errlen, "catalog column '%s' has no numeric value for any galaxy "
                 "with features (neither a prior column nor a catalog column of that name)", o->oracle);
        status = -1;
        goto end;
    }
    /* the answer the oracle's "no" goes to: the pos column's first sibling */
    sim->neg_col = -1;
    if (C > 0) {
        const core_schema *s = &D->schema;
        for (int q = 0, c0 = 0; q < s->n_questions; c0 += s->q[q].n_answers, q++)
            if (D->pos_col >= c0 && D->pos_col < c0 + s->q[q].n_answers)
                sim->neg_col = D->pos_col == c0 ? c0 + 1 : c0;
    }
    /* a fresh session: no answers, no ratings, no priors */
    if (D->y) memset(D->y, 0, (size_t)n * C * sizeof(float));
    for (int i = 0; i < n; i++) D->rating[i] = NAN;
    D->n_rated = D->n_answered = 0;
    if (o->rating && o->gp_blocks) core_learn_interest_load(st, D);
    free(D->prior);
    D->prior = NULL;
    D->n_prior = 0;
    if (pfrom) {   /* a head pretrained on it starts every retrain, as in zoosh train */
        core_ens_info pinfo;
        D->prior = pfrom;
        D->n_prior = npfrom;
        int r2 = core_learn_prior_fit(D, o->seed, NULL, &sim->warm, &pinfo);
        D->prior = NULL;   /* the answers are the oracle's from here on */
        D->n_prior = 0;
        if (r2 != 0) {
            snprintf(err, errlen, "--prior-from %s: the prior head did not train", o->prior_from);
            status = -1;
            goto end;
        }
    }
    /* fixed holdout */
    sim->test = xcalloc((size_t)(n ? n : 1), 1);
    if (o->holdout > 0) {
        int *perm = xmalloc((size_t)(n ? n : 1) * sizeof(int));
        core_rank_random(n, o->seed ^ 0x686f6c64ULL, perm);
        int want = (int)lround(o->holdout * sim->n_pool), got = 0;
        for (int i = 0; i < n && got < want; i++)
            if (sim->lab[perm[i]] >= 0) { sim->test[perm[i]] = 1; got++; }
        free(perm);
    }
    int avail = 0;
    for (int i = 0; i < n; i++) avail += sim->lab[i] >= 0 && !sim->test[i];
    sim->budget = o->budget < avail ? o->budget : avail;
    if (sim->budget == 0) {
        snprintf(err, errlen, "no galaxy is left to show (%d with a label%s)", sim->n_pool,
                 o->holdout > 0 ? ", all of them in the --holdout; give a smaller fraction" : "");
        status = -1;
        goto end;
    }
end:
    free(oc);
    free(pfrom);
    if (status) core_simulate_free(sim);
    else *out = sim;
    return status;
}

void core_simulate_free(core_simulate *sim)
{
    if (!sim) return;
    core_learn_data_free(&sim->D);
    core_ens_free(sim->warm);
    free(sim->lab);
    free(sim->truth);
    free(sim->test);
    free(sim->cx);
    free(sim->cy);
    free(sim);
}

void core_simulate_info_get(const core_simulate *sim, core_simulate_info *info)
{
    info->order = sim->order;
    info->features = sim->D.features;
    info->d = sim->D.d;
    info->n_pool = sim->n_pool;
    info->n_pos = sim->n_pos;
    info->budget = sim->budget;
}

/* The curve point after a retrain: precision among the top 30 of the order
 * not yet rated and the RMSE (ratings), or the AUC and accuracy of the
 * chosen answer; over the galaxies not shown (the holdout when there is one). */
static void curve_point(const core_simulate *sim, const core_learn_result *R, const unsigned char *shown,
                        float *s, float *t, int *l, core_simulate_point *pt)
{
    const core_learn_data *D = &sim->D;
    int n = D->n, C = D->C, ho = sim->o.holdout > 0;
    const int *lab = sim->lab;
    if (sim->o.rating) {
        int top = 0, hit = 0;
        for (int i = 0; i < n && top < 30; i++) {
            int r = R->rank[i];
            if (shown[r] || lab[r] < 0) continue;
            top++;
            hit += lab[r];
        }
        int m = 0;
        if (R->mu)
            for (int i = 0; i < n; i++)
                if (!shown[i] && lab[i] >= 0 && (!ho || sim->test[i])) {
                    s[m] = R->mu[i];
                    t[m++] = sim->truth[i];
                }
        pt->score = top ? (double)hit / top : NAN;
        pt->score2 = core_metrics_rmse(s, t, m);
    } else {
        int m = 0, ok = 0;
        if (R->p)
            for (int i = 0; i < n; i++) {
                if (lab[i] < 0 || shown[i] || (ho && !sim->test[i])) continue;
                s[m] = R->p[(size_t)i * C + D->pos_col];
                l[m] = lab[i];
                ok += (s[m] > 0.5f) == (lab[i] == 1);
                m++;
            }
        pt->score = m ? core_metrics_auc(s, l, m) : NAN;
        pt->score2 = m ? (double)ok / m : NAN;
    }
}

int core_simulate_run(core_simulate *sim, core_simulate_point_fn point_fn, void *ctx, core_simulate_summary *sum,
                      char *err, size_t errlen)
{
    core_learn_data *D = &sim->D;
    int n = D->n, C = D->C, budget = sim->budget, batch = sim->o.batch, status = 0;
    const int *lab = sim->lab;
    int cap = budget / batch + 3;
    free(sim->cx);
    free(sim->cy);
    sim->cx = xmalloc((size_t)cap * sizeof(double));
    sim->cy = xmalloc((size_t)cap * sizeof(double));
    sim->n_points = 0;
    int nshown = 0, pos_shown = 0;
    unsigned char *shown = xcalloc((size_t)(n ? n : 1), 1);   /* (n) 1 = shown */
    float *anom = NULL;                                       /* (n) anomaly scores, when the order needs them */
    core_order ord;
    core_order_parse(sim->order, &ord);
    if (ord == CORE_ORDER_ANOMALY || ord == CORE_ORDER_INTEREST) {
        anom = xmalloc((size_t)n * sizeof(float));
        core_iforest_score(D->x, n, D->d, 100, 256, 12345, NULL, anom);
    }
    float *s = xmalloc((size_t)(n ? n : 1) * sizeof(float));   /* (n) scores of the measured galaxies */
    float *t = xmalloc((size_t)(n ? n : 1) * sizeof(float));   /* (n) their true ratings */
    int *l = xmalloc((size_t)(n ? n : 1) * sizeof(int));       /* (n) their labels */
    for (int round = 0;; round++) {
        core_learn_result R;
        if (core_learn_fit_rank(D, sim->order, sim->o.seed + (uint64_t)round, sim->warm, anom, NULL, &R, err,
                                errlen) != 0) {
            status = -2;
            break;
        }
        if (nshown > 0) {
            core_simulate_point pt = {.shown = nshown, .pos_shown = pos_shown};
            curve_point(sim, &R, shown, s, t, l, &pt);
            sim->cx[sim->n_points] = nshown;
            sim->cy[sim->n_points++] = pt.score;
            if (point_fn) point_fn(&pt, ctx);
        }
        if (R.gp) {   /* the next round starts from these hyperparameters, as the labeler's do */
            core_gp_hyper_get(R.gp, &D->gp_start);
            D->has_gp_start = 1;
        }
        if (nshown >= budget) { core_learn_result_free(&R); break; }
        /* show the next batch: the order's best not yet shown */
        int want = budget - nshown < batch ? budget - nshown : batch;
        for (int i = 0; i < n && want > 0; i++) {
            int r = R.rank[i];
            if (shown[r] || sim->test[r] || lab[r] < 0) continue;
            shown[r] = 1;
            nshown++;
            want--;
            pos_shown += lab[r];
            if (sim->o.rating) {
                D->rating[r] = sim->truth[r];
                D->n_rated++;
            } else {
                D->y[(size_t)r * C + (lab[r] ? D->pos_col : sim->neg_col)] = 1;
                D->n_answered++;
            }
        }
        core_learn_result_free(&R);
    }
    sum->shown = nshown;
    sum->pos_shown = pos_shown;
    sum->n_pool = sim->n_pool;
    sum->n_pos = sim->n_pos;
    free(shown); free(anom); free(s); free(t); free(l);
    return status;
}

int core_simulate_plot(const core_simulate *sim, const char *path, char *err, size_t errlen)
{
    return core_plot_curve(path, sim->cx, sim->cy, NULL, sim->n_points, sim->budget, sim->o.rating ? 0.0 : 0.4, 1.0,
                           0.1, err, errlen);
}
