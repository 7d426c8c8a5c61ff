/*
 * evaluate.c - k-fold cross-validation of a task's head (see evaluate.h).
 * The rows are shuffled once (core_rank_random from the seed) and row j of
 * the shuffle falls in fold j mod k; fold f trains with seed + f.
 */
#include "core/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gp.h"
#include "core/head.h"
#include "core/learn.h"
#include "core/metrics.h"
#include "core/rank.h"
#include "core/util.h"

/* Dimension letters: n galaxies with features, m labelled ones, d features,
 * C answer columns (0 for a rating task). */
struct core_evaluate {
    core_learn_data D;
    core_evaluate_opts o;
    char src[96];           /* what is evaluated: "answers" or the priors */
    int *rows;              /* (m) labelled rows of D */
    int *perm;              /* (m) the shuffle: perm[j] indexes rows */
    int m;
    core_head_cfg cfg;      /* the head core_learn_run trains (C > 0) */
    int binary;
};

int core_evaluate_new(core_evaluate **out, zs_store *st, const core_evaluate_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    core_evaluate *ev = xcalloc(1, sizeof *ev);
    ev->o = *o;
    core_learn_data *D = &ev->D;
    if (core_learn_load(st, o->task, o->features ? o->features : "", D, err, errlen) != 0) {
        free(ev);
        return -1;
    }
    int n = D->n, C = D->C;
    snprintf(ev->src, sizeof ev->src, "answers");
    if (C > 0 && D->n_answered == 0 && D->prior) {
        free(D->y);
        D->y = D->prior;
        D->prior = NULL;
        if (strcmp(D->prior_src, "catalog") == 0) snprintf(ev->src, sizeof ev->src, "catalog priors");
        else snprintf(ev->src, sizeof ev->src, "priors from %s", D->prior_src);
    }
    ev->rows = xmalloc((size_t)(n ? n : 1) * sizeof(int));
    for (int i = 0; i < n; i++) {
        if (C == 0) { if (!isnan(D->rating[i])) ev->rows[ev->m++] = i; continue; }
        float s = 0;
        for (int c = 0; c < C; c++) s += D->y[(size_t)i * C + c];
        if (s > 0) ev->rows[ev->m++] = i;
    }
    if (ev->m < o->k * 2) {
        snprintf(err, errlen, "task %s has %d labelled galaxies: too few for %d folds", o->task, ev->m, o->k);
        core_evaluate_free(ev);
        return -2;
    }
    ev->perm = xmalloc((size_t)ev->m * sizeof(int));
    core_rank_random(ev->m, o->seed, ev->perm);
    if (C > 0) {
        core_learn_head_cfg(D, &ev->cfg);
        ev->binary = ev->cfg.n_q == 1 && ev->cfg.q_start[1] == 2;
    }
    *out = ev;
    return 0;
}

void core_evaluate_free(core_evaluate *ev)
{
    if (!ev) return;
    core_learn_data_free(&ev->D);
    free(ev->rows);
    free(ev->perm);
    free(ev);
}

void core_evaluate_info_get(const core_evaluate *ev, core_evaluate_info *info)
{
    info->m = ev->m;
    info->d = ev->D.d;
    info->features = ev->D.features;
    info->source = ev->src;
    info->rating = ev->D.C == 0;
    info->metric = info->rating ? "rmse" : "auc";
    info->binary = ev->binary;
}

/* The label of a binary question's row: the positive answer has more than
 * half of its votes. */
static int yes_label(const core_learn_data *D, int row)
{
    const float *yy = D->y + (size_t)row * D->C;
    return yy[D->pos_col] * 2 > yy[0] + yy[1];
}

int core_evaluate_run(core_evaluate *ev, core_evaluate_fold_fn fold_fn, void *ctx, core_evaluate_summary *s,
                      char *err, size_t errlen)
{
    const core_learn_data *D = &ev->D;
    int m = ev->m, C = D->C, d = D->d, k = ev->o.k, status = 0;
    const int *rows = ev->rows, *perm = ev->perm;
    s->n_metric = 0;
    s->mean = s->sd = s->pooled_auc = s->pooled_accuracy = NAN;
    s->n_questions = 0;
    float *xt = xmalloc((size_t)m * d * sizeof(float));               /* (m, d) a fold's training rows */
    float *yt = xmalloc((size_t)m * (C ? C : 1) * sizeof(float));     /* (m, C) or (m) ratings */
    float *po = xmalloc((size_t)m * (C ? C : 1) * sizeof(float));     /* (m, C) out-of-fold predictions */
    float *pf = xmalloc((size_t)m * (C ? C : 1) * sizeof(float));     /* (m, C) one fold's predictions */
    float *tf = xmalloc((size_t)m * sizeof(float));                   /* (m) one fold's true ratings */
    int *vi = xmalloc((size_t)m * sizeof(int));                       /* (m) a fold's held-out shuffle slots */
    float *xv = xmalloc((size_t)m * d * sizeof(float));               /* (m, d) its held-out rows */
    float *sc = xmalloc((size_t)m * sizeof(float));                   /* (m) AUC scores */
    int *lb = xmalloc((size_t)m * sizeof(int));                       /* (m) AUC labels */
    double sum = 0, sum2 = 0;
    int nf = 0;
    for (int f = 0; f < k; f++) {
        int nt = 0, nv = 0;
        for (int j = 0; j < m; j++) {
            int r = rows[perm[j]];
            if (j % k == f) { vi[nv++] = j; continue; }
            memcpy(xt + (size_t)nt * d, D->x + (size_t)r * d, (size_t)d * sizeof(float));
            if (C) memcpy(yt + (size_t)nt * C, D->y + (size_t)r * C, (size_t)C * sizeof(float));
            else yt[nt] = D->rating[r];
            nt++;
        }
        for (int j = 0; j < nv; j++)
            memcpy(xv + (size_t)j * d, D->x + (size_t)rows[perm[vi[j]]] * d, (size_t)d * sizeof(float));
        double metric = NAN;
        if (C > 0) {
            core_ens *e;
            if (core_ens_fit(&e, &ev->cfg, 5, xt, yt, nt, NULL, ev->o.seed + (uint64_t)f, -1, NULL, NULL) != 0) {
                snprintf(err, errlen, "training failed on fold %d", f + 1);
                status = -2;
                break;
            }
            core_ens_predict(e, xv, nv, pf, NULL, NULL, NULL);
            core_ens_free(e);
            for (int j = 0; j < nv; j++) memcpy(po + (size_t)vi[j] * C, pf + (size_t)j * C, (size_t)C * sizeof(float));
            if (ev->binary) {
                for (int j = 0; j < nv; j++) {
                    sc[j] = pf[(size_t)j * C + D->pos_col];
                    lb[j] = yes_label(D, rows[perm[vi[j]]]);
                }
                metric = core_metrics_auc(sc, lb, nv);
            }
        } else {
            core_gp *g;
            if (core_gp_fit(&g, xt, yt, nt, d, CORE_KERNEL_RQ, 3, ev->o.seed) != 0) {
                snprintf(err, errlen, "GP fit failed on fold %d", f + 1);
                status = -2;
                break;
            }
            core_gp_predict(g, xv, nv, pf, NULL);
            core_gp_free(g);
            for (int j = 0; j < nv; j++) {
                po[vi[j]] = pf[j];
                tf[j] = D->rating[rows[perm[vi[j]]]];
            }
            metric = core_metrics_rmse(pf, tf, nv);
        }
        if (isfinite(metric)) {
            sum += metric;
            sum2 += metric * metric;
            nf++;
        }
        if (fold_fn) {
            core_evaluate_fold fo = {f + 1, nt, nv, metric};
            fold_fn(&fo, ctx);
        }
    }
    if (status == 0) {
        s->n_metric = nf;
        if (nf > 0) {
            s->mean = sum / nf;
            s->sd = nf > 1 ? sqrt(fmax(0, (sum2 - nf * s->mean * s->mean) / (nf - 1))) : 0;
        }
        if (C > 0) {
            /* pooled out-of-fold accuracy per question and AUC; yt is free now */
            for (int j = 0; j < m; j++)
                memcpy(yt + (size_t)j * C, D->y + (size_t)rows[perm[j]] * C, (size_t)C * sizeof(float));
            s->pooled_accuracy = core_metrics_accuracy(po, yt, m, ev->cfg.q_start, ev->cfg.n_q, &s->n_questions);
            if (ev->binary) {
                for (int j = 0; j < m; j++) {
                    sc[j] = po[(size_t)j * C + D->pos_col];
                    lb[j] = yes_label(D, rows[perm[j]]);
                }
                s->pooled_auc = core_metrics_auc(sc, lb, m);
            }
        }
    }
    free(xt); free(yt); free(po); free(pf); free(tf); free(vi); free(xv); free(sc); free(lb);
    return status;
}
