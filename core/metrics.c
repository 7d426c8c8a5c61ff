/*
 * metrics.c - how good predictions are: the ROC AUC, the per-question
 * accuracy, the RMSE, and the AUC of a task's stored predictions against a
 * truth kept as galaxy metadata (see metrics.h).
 */
#include "core/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/head.h"
#include "core/learn.h"
#include "core/util.h"

typedef struct { float s; int l; } sl_pair;
static int cmp_sl(const void *a, const void *b)
{
    float x = ((const sl_pair *)a)->s, y = ((const sl_pair *)b)->s;
    return x < y ? -1 : x > y;
}

double core_metrics_auc(const float *s, const int *label, int n)
{
    sl_pair *v = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    long npos = 0, nneg = 0;
    for (int i = 0; i < n; i++) { v[i].s = s[i]; v[i].l = label[i]; npos += label[i] != 0; }
    nneg = n - npos;
    if (npos == 0 || nneg == 0) { free(v); return NAN; }
    qsort(v, (size_t)n, sizeof *v, cmp_sl);
    /* rank-sum with average ranks for ties */
    double rsum = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && v[j + 1].s == v[i].s) j++;
        double r = 0.5 * (i + j) + 1;
        for (int k = i; k <= j; k++) if (v[k].l) rsum += r;
        i = j + 1;
    }
    free(v);
    return (rsum - (double)npos * (npos + 1) / 2) / ((double)npos * nneg);
}

double core_metrics_accuracy(const float *p, const float *y, int n, const int *q_start, int n_q, int *n_used)
{
    int C = q_start[n_q];
    double acc = 0;
    int nq = 0;
    for (int q = 0; q < n_q; q++) {
        int a0 = q_start[q], a1 = q_start[q + 1], ok = 0, tot = 0;
        for (int i = 0; i < n; i++) {
            const float *yi = y + (size_t)i * C, *pi = p + (size_t)i * C;
            int ay = -1, ap = a0;
            float by = 0;
            for (int a = a0; a < a1; a++) {
                if (yi[a] > by) { by = yi[a]; ay = a; }
                if (pi[a] > pi[ap]) ap = a;
            }
            if (ay < 0) continue;
            tot++;
            ok += ap == ay;
        }
        if (tot > 0) { acc += (double)ok / tot; nq++; }
    }
    if (n_used) *n_used = nq;
    return nq ? acc / nq : NAN;
}

double core_metrics_rmse(const float *pred, const float *truth, int n)
{
    double se = 0;
    for (int i = 0; i < n; i++) {
        double e = pred[i] - truth[i];
        se += e * e;
    }
    return n > 0 ? sqrt(se / n) : NAN;
}

int core_metrics_truth_auc(zs_txn *txn, const core_schema *sch, const char *col, const char *meta_key,
                          double *auc, int *n)
{
    int ncol = core_schema_n_columns(sch), at = -1, rc = 0;
    *auc = NAN;
    *n = 0;
    for (int i = 0; i < ncol && at < 0; i++) {
        char name[128];
        int q, a;
        if (core_schema_column(sch, i, name, sizeof name, &q, &a) == 0 && strcmp(name, col) == 0) at = i;
    }
    if (at < 0) return STORE_ENOTFOUND;
    uint32_t max = store_galaxy_max(txn);
    float *p = xmalloc(sizeof(float) * (size_t)ncol);           /* (ncol) one galaxy's prediction */
    float *score = xmalloc(sizeof(float) * ((size_t)max + 1));  /* (m) predicted P(col) */
    int *label = xmalloc(sizeof(int) * ((size_t)max + 1));      /* (m) the truth */
    int m = 0, np = 0;
    for (uint32_t gid = 1; gid <= max; gid++) {
        store_galaxy g;
        int truth = -1, prc = core_pred_get(txn, sch->name, gid, p, ncol, &np);
        if (prc == STORE_ENOTFOUND || (prc == 0 && np <= at)) continue;
        if (prc != 0) { rc = prc; goto end; }
        if (store_galaxy_get(txn, gid, &g)) continue;
        for (int k = 0; k < g.n_meta; k++)
            if (strcmp(g.meta_key[k], meta_key) == 0) truth = atoi(g.meta_val[k]) != 0;
        store_galaxy_free(&g);
        if (truth < 0) continue;
        score[m] = p[at];
        label[m++] = truth;
    }
    *n = m;
    if (m) *auc = core_metrics_auc(score, label, m);
end:
    free(p);
    free(score);
    free(label);
    return rc;
}

int core_metrics_model_truth(zs_store *st, const core_schema *sch, const char *col, const char *meta_key,
                             core_model_info *info, double *auc, int *n)
{
    zs_txn *txn;
    *auc = NAN;
    *n = 0;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = core_model_info_get(txn, sch->name, info);
    if (rc == 0) rc = core_metrics_truth_auc(txn, sch, col, meta_key, auc, n);
    store_read_end(txn);
    return rc;
}
