/*
 * labeler.c - the labeling screen's reads (and its task's adoption), each in
 * one short transaction of its own (see labeler.h).
 */
#include "core/labeler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/knn.h"
#include "core/metrics.h"
#include "core/thumb.h"
#include "core/util.h"

/* ---- the task */

int core_labeler_task_get(zs_store *st, const char *name, core_schema *out, int *in_ws,
                          uint32_t *n_galaxies, char *err, size_t errlen)
{
    zs_txn *txn;
    *in_ws = 0;
    *n_galaxies = 0;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    char names[16][32];
    const char *task = name;
    if (!task) {
        int n = core_schema_ws_tasks(txn, names, 16);
        task = n > 0 ? names[0] : "interest";
    }
    int got = core_schema_ws_get(txn, task, out, err, errlen);
    *n_galaxies = store_galaxy_count(txn);
    store_read_end(txn);
    if (got == 0) {
        *in_ws = 1;
        return 0;
    }
    return core_schema_resolve(task, out, err, errlen) == 0 ? 0 : -1;
}

typedef struct {
    const core_schema *s;
    const char *text;
    int added;
    char err[300];
} adopt_ctx;

static int adopt_fn(zs_txn *txn, void *p)
{
    adopt_ctx *a = p;
    return core_schema_ws_add(txn, a->s, a->text, &a->added, a->err, sizeof a->err) ? STORE_EABORT : 0;
}

int core_labeler_task_adopt(zs_store *st, const core_schema *s, const char *path, int *added,
                            char *err, size_t errlen)
{
    *added = 0;
    char *text = core_schema_read_text(path, err, errlen);
    if (!text) return -1;
    adopt_ctx a = {.s = s, .text = text};
    int rc = store_is_readonly(st) ? 0 : store_write(st, adopt_fn, &a);
    free(text);
    if (rc == STORE_EABORT) {
        snprintf(err, errlen, "%s: %s", path, a.err);
        return -1;
    }
    if (rc) return rc;
    *added = a.added;
    return 0;
}

int core_labeler_has_prior(zs_store *st, const core_schema *s, char *src, size_t len)
{
    zs_txn *txn;
    if (store_read_begin(st, &txn) != 0) return 0;
    char **names = NULL;
    int nf = 0;
    if (store_featset_list(txn, &names, &nf) != 0) nf = 0;
    for (int i = 0; i < nf; i++) free(names[i]);
    free(names);
    int np = nf > 0 ? core_learn_prior_source(txn, s, src, len) : 0;
    store_read_end(txn);
    if (np < 0) snprintf(src, len, "the catalog's columns");
    return np != 0;
}

/* ---- the model */

void core_labeler_model_init(core_labeler_model *m)
{
    memset(m, 0, sizeof *m);
    m->truth_state = -1;
    m->truth_auc = NAN;
}

/* A demo workspace knows the truth (zoosh demo imports the simulator's ring
 * column as galaxy metadata true_ring): on the ring task, the AUC of the
 * stored predictions against it, once per model version (O(n log n) over
 * every galaxy; a workspace whose first galaxy has no true_ring is never
 * scanned). */
static void read_truth(zs_txn *txn, const core_schema *s, core_labeler_model *m)
{
    if (m->truth_have_v && m->truth_v == m->info.version) return;
    m->truth_have_v = 1;
    m->truth_v = m->info.version;
    m->truth_auc = NAN;
    if (m->truth_state < 0) {
        m->truth_state = 0;
        uint32_t max = strcmp(s->name, "ring") == 0 ? store_galaxy_max(txn) : 0;
        for (uint32_t gid = 1; gid <= max; gid++) {
            store_galaxy g;
            if (store_galaxy_get(txn, gid, &g)) continue;
            for (int k = 0; k < g.n_meta; k++)
                if (strcmp(g.meta_key[k], "true_ring") == 0) m->truth_state = 1;
            store_galaxy_free(&g);
            break;
        }
    }
    double auc;
    int n = 0;
    if (m->truth_state == 1 && core_metrics_truth_auc(txn, s, "ring_yes", "true_ring", &auc, &n) == 0 && n > 0)
        m->truth_auc = auc;
}

/* The held-out metric of the last CORE_LABELER_CURVE_N models. */
static void read_curve(zs_txn *txn, const core_schema *s, core_labeler_model *m)
{
    int n_train[256], n = 0;
    double value[256];
    m->n_curve = 0;
    if (core_learn_curve_get(txn, s->name, n_train, value, 256, &n) != 0 || n < 2) return;
    for (int i = n > CORE_LABELER_CURVE_N ? n - CORE_LABELER_CURVE_N : 0; i < n; i++) m->curve[m->n_curve++] = value[i];
}

int core_labeler_model_read(zs_store *st, const core_schema *s, core_labeler_model *m,
                            uint32_t **queue, int *n_queue, core_model_info *queue_info)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    core_model_info info;
    memset(&info, 0, sizeof info);
    if (core_model_info_get(txn, s->name, &info) == 0) {
        m->have_model = 1;
        m->info = info;
        read_truth(txn, s, m);
    }
    read_curve(txn, s, m);
    if (queue) {
        *queue = NULL;
        *n_queue = 0;
        uint32_t *gids = NULL;
        int n = 0;
        if (core_queue_get(txn, s->name, &gids, &n, &info) == 0 && n > 0) {
            *queue = gids;
            *n_queue = n;
            *queue_info = info;
        } else {
            free(gids);
        }
    }
    store_read_end(txn);
    return 0;
}

int core_labeler_pred_get(zs_store *st, const char *task, uint32_t gid, float *p, int max, int *n)
{
    zs_txn *txn;
    *n = 0;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    int got = 0;
    rc = core_pred_get(txn, task, gid, p, max, &got);
    if (rc == 0) *n = got < max ? got : max;
    store_read_end(txn);
    return rc;
}

/* ---- galaxies */

int core_labeler_galaxy_get(zs_store *st, uint32_t gid, core_labeler_galaxy *out)
{
    memset(out, 0, sizeof *out);
    out->ra = out->dec = NAN;
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    store_galaxy g;
    memset(&g, 0, sizeof g);
    if (store_galaxy_get(txn, gid, &g) == 0) {
        out->found = 1;
        snprintf(out->id, sizeof out->id, "%s", g.id_str ? g.id_str : "");
        out->ra = g.ra;
        out->dec = g.dec;
        for (int i = 0; i < g.n_meta; i++)
            if (strcasecmp(g.meta_key[i], "survey") == 0)
                snprintf(out->survey, sizeof out->survey, "%s", g.meta_val[i] ? g.meta_val[i] : "");
        store_galaxy_free(&g);
    }
    store_read_end(txn);
    return 0;
}

int core_labeler_galaxy_find(zs_store *st, const char *id, uint32_t *gid)
{
    zs_txn *txn;
    *gid = 0;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = store_galaxy_find(txn, id, gid);
    store_read_end(txn);
    return rc;
}

int core_labeler_thumb_get(zs_store *st, uint32_t gid, uint8_t **rgb, int *w, int *h,
                           char *why, size_t whylen)
{
    *rgb = NULL;
    *w = *h = 0;
    if (whylen) why[0] = 0;
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    const uint8_t *px;
    int tw, th;
    uint8_t owned;
    rc = core_thumb_get(txn, gid, &tw, &th, &px, &owned, why, whylen);
    if (rc == 0 && tw <= 4096 && th <= 4096) {
        *w = tw;
        *h = th;
        if (owned) *rgb = (uint8_t *)px;               /* decoded for us (JPEG) */
        else {                                          /* raw, borrowed from the map */
            *rgb = xmalloc((size_t)tw * th * 3);
            memcpy(*rgb, px, (size_t)tw * th * 3);
        }
    } else if (rc == 0) {
        if (owned) free((void *)px);
        rc = STORE_EINVAL;
    }
    store_read_end(txn);
    return rc;
}

int core_labeler_features_check(zs_store *st, const char *set)
{
    zs_txn *txn;
    char name[STORE_FEATNAME_MAX + 1];
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = core_repr_pick_set(txn, set, name, sizeof name, NULL);
    store_read_end(txn);
    return rc;
}

int core_labeler_similar_open(zs_store *st, const char *set, core_repr_index **out)
{
    zs_txn *txn;
    *out = NULL;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = core_repr_index_new(txn, set, CORE_KNN_EUCLIDEAN, out);
    if (rc) *out = NULL;
    store_read_end(txn);
    return rc;
}
