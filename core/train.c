/*
 * train.c - the workspace side of zoosh train and zoosh rank (see
 * train.h): option checks against the task's schema, the meta keys the
 * learning loop reads, and rankings with their catalog ids.
 */
#include "core/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn.h"
#include "core/schema.h"
#include "core/util.h"

int core_train_check_target(zs_store *st, const char *task, const char *target, char *err, size_t errlen)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    core_schema *s = xmalloc(sizeof *s);
    char col[160];
    int status = -1;
    if (core_schema_ws_get(txn, task, s, err, errlen) != 0) {
        status = -1;
    } else if (s->kind != CORE_TASK_TREE) {
        snprintf(err, errlen, "--target: task '%s' has no answers to choose from", task);
        status = -2;
    } else {
        int nc = core_schema_n_columns(s), found = 0;
        for (int i = 0; i < nc && !found; i++) {
            core_schema_column(s, i, col, sizeof col, NULL, NULL);
            found = strcmp(col, target) == 0;
        }
        if (found) {
            status = 0;
        } else {
            size_t l = (size_t)snprintf(err, errlen, "--target %s: not an answer of task '%s' (one of:", target, task);
            for (int i = 0; i < nc && i < 12 && l < errlen; i++) {
                core_schema_column(s, i, col, sizeof col, NULL, NULL);
                l += (size_t)snprintf(err + l, errlen - l, " %s", col);
            }
            if (l < errlen) snprintf(err + l, errlen - l, "%s)", nc > 12 ? " ..." : "");
            status = -3;
        }
    }
    free(s);
    store_read_end(txn);
    return status;
}

typedef struct { const char *k[3], *v[3]; } meta_ctx;
static int meta_fn(zs_txn *txn, void *p)
{
    meta_ctx *m = p;
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        if (m->k[i]) rc = store_meta_put(txn, m->k[i], m->v[i]);
    return rc;
}

int core_train_remember(zs_store *st, const char *task, int hidden, const char *target, const char *l2)
{
    if (hidden < 0 && !target && !l2) return 0;
    char k1[96], k2[96], k3[96], hv[16];
    snprintf(k1, sizeof k1, "learn.%s.hidden", task);
    snprintf(k2, sizeof k2, "learn.%s.target", task);
    snprintf(k3, sizeof k3, "learn.%s.l2", task);
    snprintf(hv, sizeof hv, "%d", hidden);
    meta_ctx m = {{hidden >= 0 ? k1 : NULL, target ? k2 : NULL, l2 ? k3 : NULL}, {hv, target, l2}};
    return store_write(st, meta_fn, &m);
}

int core_train_prior_set(zs_store *st, const char *task, const char *features, const char *spec, int *n_prior,
                         char *err, size_t errlen)
{
    core_learn_data D;
    *n_prior = 0;
    if (core_learn_load(st, task, features, &D, err, errlen) != 0) return -1;
    int none = strcmp(spec, "none") == 0, rc = 0;
    if (strlen(spec) >= sizeof D.prior_src) {
        snprintf(err, errlen, "--prior-from '%.40s...': longer than %zu characters", spec, sizeof D.prior_src - 1);
        rc = -2;
    } else if (!none) {
        char why[512];
        if (core_learn_prior_use(st, &D, spec, why, sizeof why) != 0) {
            snprintf(err, errlen, "--prior-from %s: %s", spec, why);
            rc = -1;
        }
    }
    if (rc == 0) {
        char key[96];
        snprintf(key, sizeof key, "learn.%s.prior", task);
        meta_ctx m = {{key}, {spec}};
        rc = store_write(st, meta_fn, &m);
        *n_prior = D.n_prior;
    }
    core_learn_data_free(&D);
    return rc;
}

/* Fills r->id[i] with the catalog id of gids[idx[i]] (gids[i] when idx is
 * NULL), NULL where a galaxy does not read. */
static void ranking_ids(zs_txn *txn, const uint32_t *gids, const int *idx, core_train_ranking *r)
{
    r->id = xcalloc((size_t)(r->n ? r->n : 1), sizeof *r->id);
    for (int i = 0; i < r->n; i++) {
        store_galaxy g;
        if (store_galaxy_get(txn, gids[idx ? idx[i] : i], &g) == 0) {
            r->id[i] = xstrdup(g.id_str);
            store_galaxy_free(&g);
        }
    }
}

int core_train_rank(zs_store *st, const char *task, const char *order, const char *features, uint64_t seed,
                    int top, core_train_ranking *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    core_learn_data D;
    if (core_learn_load(st, task, features, &D, err, errlen) != 0) return -1;
    core_learn_result R;
    core_ens *warm = NULL;
    core_ens_info pinfo;
    if (D.prior) core_learn_prior_fit(&D, seed, NULL, &warm, &pinfo);
    int rc = core_learn_fit_rank(&D, order, seed, warm, NULL, NULL, &R, err, errlen);
    core_ens_free(warm);
    if (rc != 0) {
        core_learn_data_free(&D);
        return -1;
    }
    out->n = D.n < top ? D.n : top;
    snprintf(out->features, sizeof out->features, "%s", D.features);
    out->score = xmalloc((size_t)(out->n ? out->n : 1) * sizeof(double));
    for (int i = 0; i < out->n; i++) out->score[i] = R.score[R.rank[i]];
    zs_txn *txn;
    if (store_read_begin(st, &txn) == 0) {
        ranking_ids(txn, D.gids, R.rank, out);
        store_read_end(txn);
    } else {   /* the ranking without its ids is no ranking: none */
        out->n = 0;
    }
    core_learn_result_free(&R);
    core_learn_data_free(&D);
    return 0;
}

int core_train_rank_stored(zs_store *st, const char *task, int top, core_train_ranking *out)
{
    memset(out, 0, sizeof *out);
    zs_txn *txn;
    uint32_t *gids = NULL;
    int n = 0;
    core_model_info info;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = core_queue_get(txn, task, &gids, &n, &info);
    if (rc == 0) {
        out->n = n < top ? n : top;
        snprintf(out->features, sizeof out->features, "%s", info.features);
        ranking_ids(txn, gids, NULL, out);
    }
    store_read_end(txn);
    free(gids);
    return rc;
}

void core_train_ranking_free(core_train_ranking *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) free(r->id[i]);
    free(r->id);
    free(r->score);
    memset(r, 0, sizeof *r);
}
