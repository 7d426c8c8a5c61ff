/*
 * metrics.c - the AUC of a task's stored predictions against a truth kept as
 * galaxy metadata (see metrics.h).
 */
#include "core/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/head.h"
#include "core/learn.h"
#include "core/util.h"

int core_metric_truth_auc(zs_txn *txn, const core_schema *sch, const char *col, const char *meta_key,
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
    if (m) *auc = core_metric_auc(score, label, m);
end:
    free(p);
    free(score);
    free(label);
    return rc;
}
