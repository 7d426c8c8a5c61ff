/*
 * learn.c - the active-learning loop (see learn.h): gather a task's answers
 * and features from the workspace, train the head (an ensemble, warm-started
 * from the "pretrained" head fitted on the catalog's prior votes), fit the
 * interest GP on ratings, score every galaxy, rank by the chosen order, and
 * store queue, predictions and model.
 *
 * DESIGN (threads): core_learn_run may run on the labeler's background
 * thread with the UI's zs_store.  It keeps no global state; everything it
 * reads is copied out of short read transactions (features, answers,
 * priors, the stored prior head) before any training starts, and everything
 * it stores goes in one short write transaction at the end (queue, pred and
 * head together, so a reader never sees a queue from one version with
 * predictions from another).  It never prints: errors go to err.  The cancel
 * flag is polled between stages and between ensemble members / forest trees.
 *
 * Stored blobs (little-endian, this machine's float layout):
 *   info header (128 bytes): "ZQI1", u32 version, i64 time_us, i32 n_train,
 *     char metric[16], f64 value, char order[16], char features[64], pad
 *   SCORES "<task>/queue": info, u32 n, u32 gids[n] (best first)
 *   SCORES "<task>/pred":  "ZPR1", u32 C, u32 max_gid, u32 0, then float
 *     p[(max_gid + 1) * C] indexed by gid (NAN for galaxies without
 *     features).  For a rating task C = 2: predicted rating and its sd.
 *   MODELS "<task>/head":  info, u32 kind bits (1 head, 2 gp), u32 ens_len,
 *     ens bytes (core_ens_save), core_gp_hyper when a GP was fitted
 *   MODELS "<task>/head.prior": info, u32 fingerprint of what it was fitted on
 *     (prior_fingerprint: the features and the priors), u32 ens_len, ens bytes
 *   SCORES "anomaly/<features>": u32 n, float score[n] (isolation forest)
 *   SCORES "<task>/curve": the last 256 models, 24 bytes each: u32 version,
 *     i32 n_train, f64 held-out value, i64 time_us (for the status sparkline)
 */
#include "core/learn.h"
#include "core/acquire.h"
#include "core/answers.h"
#include "core/anomaly.h"
#include "core/pca.h"
#include "core/rank.h"
#include "core/repr.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFO_BYTES 128
#define ENS_MEMBERS 5
#define PRIOR_FRACTION_VOTES 10.0f   /* a vote fraction counts as this many votes */
#define PRIOR_MAX_ROWS 20000         /* the prior head trains on at most this many galaxies */
#define DIVERSITY_HEAD 2000          /* guarded queue positions */
#define DIVERSITY_BATCH 20
#define DIVERSITY_FRAC 0.05f         /* near-duplicate: closer than 5% of the mean pair distance */
#define EI_XI 0.5f
#define CURVE_REC 24                 /* u32 version, i32 n_train, f64 value, i64 time_us */
#define CURVE_MAX 256

/* ------------------------------------------------------------ blob formats */

static void info_pack(uint8_t *b, const core_model_info *in)
{
    memset(b, 0, INFO_BYTES);
    memcpy(b, "ZQI1", 4);
    memcpy(b + 4, &in->version, 4);
    memcpy(b + 8, &in->time_us, 8);
    int32_t nt = in->n_train;
    memcpy(b + 16, &nt, 4);
    memcpy(b + 20, in->metric, 16);
    memcpy(b + 36, &in->value, 8);
    memcpy(b + 44, in->order, 16);
    memcpy(b + 60, in->features, 64);
}

static int info_unpack(const uint8_t *b, size_t len, core_model_info *out)
{
    if (len < INFO_BYTES || memcmp(b, "ZQI1", 4) != 0) return STORE_ECORRUPT;
    memset(out, 0, sizeof *out);
    memcpy(&out->version, b + 4, 4);
    memcpy(&out->time_us, b + 8, 8);
    int32_t nt;
    memcpy(&nt, b + 16, 4);
    out->n_train = nt;
    memcpy(out->metric, b + 20, 16);
    out->metric[15] = 0;
    memcpy(&out->value, b + 36, 8);
    memcpy(out->order, b + 44, 16);
    out->order[15] = 0;
    memcpy(out->features, b + 60, 64);
    out->features[63] = 0;
    return 0;
}

static void blob_key(char *buf, size_t len, const char *task, const char *what)
{
    snprintf(buf, len, "%.31s/%s", task, what);
}

int core_queue_get(zs_txn *txn, const char *task, uint32_t **gids, int *n, core_model_info *info)
{
    char key[64];
    const void *data;
    size_t len;
    *gids = NULL;
    *n = 0;
    blob_key(key, sizeof key, task, "queue");
    int rc = store_blob_get(txn, STORE_DB_SCORES, key, &data, &len);
    if (rc != 0) return rc;
    core_model_info tmp;
    if (info_unpack(data, len, info ? info : &tmp) != 0 || len < INFO_BYTES + 4) return STORE_ECORRUPT;
    uint32_t m;
    memcpy(&m, (const uint8_t *)data + INFO_BYTES, 4);
    if ((len - INFO_BYTES - 4) / 4 < m) return STORE_ECORRUPT;
    *gids = xmalloc((size_t)(m ? m : 1) * sizeof(uint32_t));
    memcpy(*gids, (const uint8_t *)data + INFO_BYTES + 4, (size_t)m * 4);
    *n = (int)m;
    return 0;
}

int core_pred_get(zs_txn *txn, const char *task, uint32_t gid, float *p, int max, int *n)
{
    char key[64];
    const void *data;
    size_t len;
    *n = 0;
    blob_key(key, sizeof key, task, "pred");
    int rc = store_blob_get(txn, STORE_DB_SCORES, key, &data, &len);
    if (rc != 0) return rc;
    const uint8_t *b = data;
    uint32_t C, maxg;
    if (len < 16 || memcmp(b, "ZPR1", 4) != 0) return STORE_ECORRUPT;
    memcpy(&C, b + 4, 4);
    memcpy(&maxg, b + 8, 4);
    if (C > 4096 || (len - 16) / 4 / (C ? C : 1) < (size_t)maxg + 1) return STORE_ECORRUPT;
    if (gid > maxg) return STORE_ENOTFOUND;
    int k = (int)C < max ? (int)C : max;
    memcpy(p, b + 16 + ((size_t)gid * C) * 4, (size_t)(k > 0 ? k : 0) * 4);
    *n = (int)C;
    return 0;
}

int core_model_info_get(zs_txn *txn, const char *task, core_model_info *info)
{
    char key[64];
    const void *data;
    size_t len;
    blob_key(key, sizeof key, task, "head");
    int rc = store_blob_get(txn, STORE_DB_MODELS, key, &data, &len);
    if (rc != 0) return rc;
    return info_unpack(data, len, info);
}

int core_learn_curve_get(zs_txn *txn, const char *task, int *n_train, double *value, int max, int *n)
{
    char key[64];
    const void *data;
    size_t len;
    *n = 0;
    blob_key(key, sizeof key, task, "curve");
    int rc = store_blob_get(txn, STORE_DB_SCORES, key, &data, &len);
    if (rc != 0) return rc;
    if (len % CURVE_REC != 0) return STORE_ECORRUPT;
    int m = (int)(len / CURVE_REC), first = m > max ? m - max : 0;
    for (int i = first; i < m; i++) {
        const uint8_t *r = (const uint8_t *)data + (size_t)i * CURVE_REC;
        int32_t nt;
        memcpy(&nt, r + 4, 4);
        if (n_train) n_train[i - first] = nt;
        if (value) memcpy(&value[i - first], r + 8, 8);
    }
    *n = m - first;
    return 0;
}

/* ------------------------------------------------------------ loading */

int core_learn_prior_from(core_learn_data *D, const float *p, uint32_t len, int *pos, int *neg, char *err,
                          size_t errlen)
{
    if (D->schema.kind != CORE_TASK_TREE || D->schema.n_questions != 1 || D->C != 2) {
        core_set_err(err, errlen, "task '%s' is not one yes/no question: a prior from one number needs that",
                     D->schema.name);
        return -1;
    }
    int a = D->pos_col >= 0 ? D->pos_col : 0, b = 1 - a, n = 0;
    float *pr = xcalloc((size_t)D->n * 2, sizeof(float));
    for (int i = 0; i < D->n; i++) {
        uint32_t g = D->gids[i];
        if (g >= len || !isfinite(p[g])) continue;
        float v = p[g] < 0 ? 0 : p[g] > 1 ? 1 : p[g];
        pr[(size_t)i * 2 + a] = v * PRIOR_FRACTION_VOTES;
        pr[(size_t)i * 2 + b] = (1 - v) * PRIOR_FRACTION_VOTES;
        n++;
    }
    if (n == 0) {
        free(pr);
        core_set_err(err, errlen, "no galaxy of task '%s' has a value to start from", D->schema.name);
        return -1;
    }
    free(D->prior);
    D->prior = pr;
    D->n_prior = n;
    if (pos) *pos = a;
    if (neg) *neg = b;
    return 0;
}

void core_learn_data_free(core_learn_data *D)
{
    if (!D) return;
    free(D->x); free(D->gids); free(D->row); free(D->y); free(D->prior); free(D->rating);
    memset(D, 0, sizeof *D);
}

/* ---- a task's answers as training targets ------------------------------- */
typedef struct {
    const core_schema *s;
    int colstart[CORE_SCHEMA_MAX_Q];
    core_learn_data *D;
    float *rsum, *rcnt;   /* (D->n) */
} ans_walk;

/* The head's columns a tree answer of this task votes for; 0 when none. */
static int tree_cols(const ans_walk *w, const store_answer *a, int16_t *col)
{
    if (a->kind != STORE_ANS_TREE || w->s->kind != CORE_TASK_TREE || strcmp(a->task, w->s->name) != 0) return 0;
    int n = 0;
    for (int i = 0; i < a->n_steps && i < STORE_STEPS_MAX; i++) {
        int q = core_schema_question(w->s, a->steps[i].question);
        if (q < 0) continue;
        int an = core_schema_answer(w->s, q, a->steps[i].answer);
        if (an < 0) continue;
        col[n++] = (int16_t)(w->colstart[q] + an);
    }
    return n;
}

/* Which answers compete: ratings (0..5, for the GP) are kind 1 -- a rating
 * task's own, or for a tree the user's interest ratings (its interest
 * order) -- and this task's tree answers kind 0.  Another rating task's
 * ratings are not counted: with them, the later rating of a galaxy by the
 * same user, in whichever task, replaced the other. */
static int ans_want(const store_answer *a, void *ctx)
{
    ans_walk *w = ctx;
    int16_t col[STORE_STEPS_MAX];
    if (a->gid > w->D->max_gid || w->D->row[a->gid] < 0) return -1;   /* no features: not trained on */
    if (a->kind == STORE_ANS_RATING) {
        const char *rated = w->D->schema.kind == CORE_TASK_RATING ? w->D->schema.name : "interest";
        return strcmp(a->task, rated) == 0 && a->rating >= 0 && a->rating <= 5 ? 1 : -1;
    }
    return tree_cols(w, a, col) > 0 ? 0 : -1;
}

static int ans_count(const store_answer *a, void *ctx)
{
    ans_walk *w = ctx;
    core_learn_data *D = w->D;
    int row = D->row[a->gid];
    if (a->kind == STORE_ANS_RATING) { w->rsum[row] += a->rating; w->rcnt[row] += 1; return 0; }
    int16_t col[STORE_STEPS_MAX];
    int n = tree_cols(w, a, col);
    for (int k = 0; k < n; k++) D->y[(size_t)row * D->C + col[k]] += 1;
    return 0;
}


/* Keeps the columns' relative scales (a PCA's variances): one global scale so
 * that the mean column variance is 1, columns centred. */
static void scale_global(float *x, int n, int d)
{
    double tv = 0;
    for (int k = 0; k < d; k++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) m += x[(size_t)i * d + k];
        m = n ? m / n : 0;
        for (int i = 0; i < n; i++) { double t = x[(size_t)i * d + k] - m; v += t * t; x[(size_t)i * d + k] = (float)t; }
        tv += n ? v / n : 0;
    }
    double sc = tv > 0 ? sqrt(d / tv) : 1;
    for (size_t i = 0; i < (size_t)n * d; i++) x[i] = (float)(x[i] * sc);
}

static void standardise(float *x, int n, int d)
{
    for (int k = 0; k < d; k++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) m += x[(size_t)i * d + k];
        m = n ? m / n : 0;
        for (int i = 0; i < n; i++) { double t = x[(size_t)i * d + k] - m; v += t * t; }
        double sd = n > 1 ? sqrt(v / n) : 1;
        if (sd < 1e-12) sd = 1;
        for (int i = 0; i < n; i++) x[(size_t)i * d + k] = (float)((x[(size_t)i * d + k] - m) / sd);
    }
}

/* The catalog's prior column for answer column c of s among names[nn]:
 * "<q>_<a>" (vote counts), "<q>_<a>_fraction" (*scale PRIOR_FRACTION_VOTES),
 * or, for a task of one yes/no question, the question's key (0/1 labels,
 * *label01 = 1); NULL when there is none.  *a gets the answer index. */
static const char *catalog_column(const core_schema *s, int c, char *const *names, int nn, int *a, float *scale,
                                  int *label01)
{
    char col[128], frac[160];
    int q;
    core_schema_column(s, c, col, sizeof col, &q, a);
    snprintf(frac, sizeof frac, "%s_fraction", col);
    *scale = 1;
    *label01 = 0;
    for (int k = 0; k < nn; k++) if (strcmp(names[k], col) == 0) return names[k];
    *scale = PRIOR_FRACTION_VOTES;
    for (int k = 0; k < nn; k++) if (strcmp(names[k], frac) == 0) return names[k];
    *scale = 1;
    *label01 = 1;
    if (s->q[q].n_answers == 2 && s->n_questions == 1)
        for (int k = 0; k < nn; k++) if (strcmp(names[k], s->q[q].key) == 0) return names[k];
    return NULL;
}

/* What a task's priors come from: the spec `zoosh train --prior-from` chose
 * (meta learn.<task>.prior; "none" turns it off, the catalog's count again),
 * else, when the catalog gave none, the schema's `prior` (ring:
 * votes:Class8.1, gz2: votes).  "" for none. */
static void prior_spec(zs_txn *txn, const core_schema *s, int have_catalog, char *spec, size_t len)
{
    char key[96], *v = NULL;
    snprintf(key, sizeof key, "learn.%s.prior", s->name);
    spec[0] = 0;
    if (store_meta_get(txn, key, &v) == 0) snprintf(spec, len, "%s", strcmp(v, "none") ? v : "");
    else if (!have_catalog) snprintf(spec, len, "%s", s->prior);
    free(v);
    if (s->kind != CORE_TASK_TREE) spec[0] = 0;
}

/* The feature set a spec names ("SET:COLUMN" or "SET") into set[len];
 * returns the ':' before the column, NULL for a whole set. */
static const char *spec_set(const char *spec, char *set, size_t len)
{
    const char *colon = strrchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(set, len, "%.*s", (int)(n < len ? n : len - 1), spec);
    return colon;
}

/* D's priors from spec: SET:COLUMN, one number per galaxy, for a task of one
 * yes/no question (core_learn_prior_from); SET, a feature set with one
 * column per answer of the task in its column order (each question's
 * fractions summing to 1, as the votes zoosh's encoder predicts for gz2),
 * each fraction counting PRIOR_FRACTION_VOTES votes.  0, or -1 with a reason
 * (D unchanged). */
static int apply_spec(zs_txn *txn, core_learn_data *D, const char *spec, char *err, size_t errlen)
{
    char set[96];
    const char *colon = spec_set(spec, set, sizeof set);
    if (colon) {
        float *p = NULL;
        uint32_t len = 0;
        if (colon == spec || core_repr_column(txn, set, colon + 1, &p, &len, err, errlen) != 0) {
            if (colon == spec) core_set_err(err, errlen, "'%s': want SET:COLUMN or SET", spec);
            return -1;
        }
        int rc = core_learn_prior_from(D, p, len, NULL, NULL, err, errlen);
        free(p);
        return rc;
    }
    if (D->C < 1) {
        core_set_err(err, errlen, "task '%s' has no answers to start from a set", D->schema.name);
        return -1;
    }
    float *x = NULL;
    uint32_t *g = NULL;
    int n = 0, d = 0, rc = store_features_load(txn, set, &x, &g, &n, &d);
    if (rc) {
        core_set_err(err, errlen, rc == STORE_ENOTFOUND ? "no feature set '%s' (zoosh embed it first)"
                                                        : "feature set '%s': cannot read it", set);
        return -1;
    }
    if (d != D->C) {
        free(x); free(g);
        core_set_err(err, errlen, "feature set '%s' has %d columns, task '%s' %d answers: a prior set needs one per answer%s",
                     set, d, D->schema.name, D->C, D->C == 2 ? " (or name one column: SET:COLUMN)" : "");
        return -1;
    }
    float *pr = xcalloc((size_t)D->n * D->C, sizeof(float));
    int np = 0;
    for (int k = 0; k < n; k++) {
        if (g[k] > D->max_gid || D->row[g[k]] < 0) continue;
        const float *v = x + (size_t)k * d;
        float *o = pr + (size_t)D->row[g[k]] * D->C;
        int ok = 1;
        for (int c = 0; c < d; c++) ok &= isfinite(v[c]) != 0;
        if (!ok) continue;
        for (int c = 0; c < d; c++) o[c] = (v[c] < 0 ? 0 : v[c] > 1 ? 1 : v[c]) * PRIOR_FRACTION_VOTES;
        np++;
    }
    free(x); free(g);
    if (np == 0) {
        free(pr);
        core_set_err(err, errlen, "no galaxy of task '%s' has a vector in '%s'", D->schema.name, set);
        return -1;
    }
    free(D->prior);
    D->prior = pr;
    D->n_prior = np;
    return 0;
}

/* D's priors from its prior spec, read at every load so they follow the
 * set when the workspace is embedded again; a set the workspace does not
 * have (not embedded yet) leaves D as it is. */
static void prior_column(zs_txn *txn, core_learn_data *D)
{
    char spec[sizeof D->prior_src], err[256];
    prior_spec(txn, &D->schema, D->prior != NULL, spec, sizeof spec);
    if (spec[0] && apply_spec(txn, D, spec, err, sizeof err) == 0)
        snprintf(D->prior_src, sizeof D->prior_src, "%s", spec);
}

int core_learn_prior_use(zs_store *st, core_learn_data *D, const char *spec, char *err, size_t errlen)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) { core_set_err(err, errlen, "workspace: %s", store_strerror(rc)); return -1; }
    rc = apply_spec(txn, D, spec, err, errlen);
    store_read_end(txn);
    if (rc == 0) snprintf(D->prior_src, sizeof D->prior_src, "%s", spec);
    return rc;
}

int core_learn_prior_source(zs_txn *txn, const core_schema *s, char *src, size_t len)
{
    src[0] = 0;
    int C = s->kind == CORE_TASK_TREE ? core_schema_n_columns(s) : 0, have_catalog = 0;
    if (C == 0) return 0;
    char **names = NULL;
    int nn = 0;
    if (store_prior_columns(txn, &names, &nn) == 0)
        for (int c = 0; c < C && !have_catalog; c++) {
            int a, label01;
            float scale;
            have_catalog = catalog_column(s, c, names, nn, &a, &scale, &label01) != NULL;
        }
    for (int k = 0; k < nn; k++) free(names[k]);
    free(names);
    char spec[64], set[96];
    int n = 0, dim = 0;
    prior_spec(txn, s, have_catalog, spec, sizeof spec);
    const char *colon = spec_set(spec, set, sizeof set);
    if (spec[0] && colon) {
        float *p = NULL;
        uint32_t plen = 0;
        char err[256];
        if (C == 2 && s->n_questions == 1 && core_repr_column(txn, set, colon + 1, &p, &plen, err, sizeof err) == 0) {
            for (uint32_t g = 0; g < plen; g++) n += isfinite(p[g]) != 0;
            free(p);
        }
    } else if (spec[0] && store_featset_get(txn, set, &dim, NULL) == 0 && dim == C) {
        uint32_t cnt = 0;
        if (store_feature_count(txn, set, &cnt) == 0) n = (int)cnt;
    }
    if (n > 0) { snprintf(src, len, "%s", spec); return n; }
    if (have_catalog) { snprintf(src, len, "catalog"); return -1; }
    return 0;
}

/* The feature set: the one asked for; else the PCA-40 of the workspace's
 * default set ("pca40", or "<default>_pca40" as zoosh embed names the PCA of
 * another set); else the default set itself; else the first set. */
static int pick_features(zs_txn *txn, const char *want, char *out, size_t outlen)
{
    int dim;
    char *v = NULL;
    if (want && *want) {
        snprintf(out, outlen, "%s", want);
        return store_featset_get(txn, want, &dim, NULL);
    }
    if (store_featset_get(txn, "pca40", &dim, NULL) == 0) {
        snprintf(out, outlen, "pca40");
        return 0;
    }
    if (store_meta_get(txn, "features.default", &v) == 0) {
        char pca[64];
        snprintf(pca, sizeof pca, "%.50s_pca40", v);
        if (store_featset_get(txn, pca, &dim, NULL) == 0) snprintf(out, outlen, "%.63s", pca);
        else snprintf(out, outlen, "%.63s", v);
        free(v);
        if (store_featset_get(txn, out, &dim, NULL) == 0) return 0;
    }
    char **names = NULL;
    int n = 0, rc = store_featset_list(txn, &names, &n);
    if (rc == 0 && n > 0) snprintf(out, outlen, "%s", names[0]);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc != 0 ? rc : n > 0 ? 0 : STORE_ENOTFOUND;
}

int core_learn_load(zs_store *st, const char *task, const char *features, core_learn_data *D,
                    char *err, size_t errlen)
{
    memset(D, 0, sizeof *D);
    D->pos_col = -1;
    zs_txn *txn = NULL;
    int rc = store_read_begin(st, &txn);
    if (rc != 0) { snprintf(err, errlen, "workspace: %s", store_strerror(rc)); return -1; }
    char serr[256] = "";
    if (core_schema_ws_get(txn, task, &D->schema, serr, sizeof serr) != 0 &&
        core_schema_resolve(task, &D->schema, serr, sizeof serr) != 0) {
        snprintf(err, errlen, "%s", serr);
        goto fail;
    }
    rc = pick_features(txn, features, D->features, sizeof D->features);
    if (rc != 0) {
        if (features && *features)
            snprintf(err, errlen, "no feature set '%s' in this workspace (zoosh embed WS makes one)", features);
        else
            snprintf(err, errlen, "the workspace has no features yet (run zoosh embed WS, or import feat_N columns)");
        goto fail;
    }
    int is_pca = strncmp(D->features, "pca", 3) == 0 || strstr(D->features, "_pca") != NULL;
    {
        int fdim;
        char *prov = NULL;
        if (store_featset_get(txn, D->features, &fdim, &prov) == 0 && prov && strncmp(prov, "pca", 3) == 0) is_pca = 1;
        free(prov);
    }
    rc = store_features_load(txn, D->features, &D->x, &D->gids, &D->n, &D->d);
    if (rc != 0 || D->n < 1) {
        snprintf(err, errlen, "feature set '%s': %s", D->features, rc ? store_strerror(rc) : "empty");
        goto fail;
    }
    D->max_gid = store_galaxy_max(txn);
    for (int i = 0; i < D->n; i++) if (D->gids[i] > D->max_gid) D->max_gid = D->gids[i];
    D->row = xmalloc(((size_t)D->max_gid + 1) * sizeof(int));
    for (uint32_t g = 0; g <= D->max_gid; g++) D->row[g] = -1;
    for (int i = 0; i < D->n; i++) D->row[D->gids[i]] = i;
    /* settings */
    char key[96], *v = NULL;
    snprintf(key, sizeof key, "learn.%s.hidden", D->schema.name);
    if (store_meta_get(txn, key, &v) == 0) { D->hidden = atoi(v); free(v); v = NULL; }
    if (D->hidden < 0 || D->hidden > CORE_HEAD_MAX_HIDDEN) D->hidden = 0;
    D->l2 = 0.05f;
    snprintf(key, sizeof key, "learn.%s.l2", D->schema.name);
    if (store_meta_get(txn, key, &v) == 0) { D->l2 = strtof(v, NULL); free(v); v = NULL; }
    if (!(D->l2 >= 0 && D->l2 < 1e3)) D->l2 = 0.05f;
    D->C = D->schema.kind == CORE_TASK_TREE ? core_schema_n_columns(&D->schema) : 0;
    if (D->C > CORE_HEAD_MAX_C || D->schema.n_questions > CORE_HEAD_MAX_Q) {
        snprintf(err, errlen, "task '%s' has too many answers for a head", D->schema.name);
        goto fail;
    }
    if (D->C > 0) {
        snprintf(key, sizeof key, "learn.%s.target", D->schema.name);
        char col[128];
        if (store_meta_get(txn, key, &v) == 0) {
            for (int i = 0; i < D->C; i++) {
                core_schema_column(&D->schema, i, col, sizeof col, NULL, NULL);
                if (strcmp(col, v) == 0) D->pos_col = i;
            }
            free(v);
            v = NULL;
        }
        for (int i = 0; i < D->C && D->pos_col < 0; i++) {
            int q, a;
            core_schema_column(&D->schema, i, col, sizeof col, &q, &a);
            if (strcmp(D->schema.q[q].answers[a].key, "yes") == 0) D->pos_col = i;
        }
        if (D->pos_col < 0) D->pos_col = 0;
    }
    store_read_end(txn);
    txn = NULL;
    /* a PCA projection keeps its components' relative variances (whitening
     * them lifts the noise components to the signal's level: on the ring
     * set the head's CV AUC fell from 0.73 to 0.62); raw features, whose
     * blocks differ by orders of magnitude, are standardised per column */
    if (is_pca) scale_global(D->x, D->n, D->d);
    else standardise(D->x, D->n, D->d);

    /* answers: one vote per user per galaxy (core_answers_counted: a
     * user's latest answer not retracted; a changed mind replaces, a second
     * session does not double; as export --format labels / zoobot) */
    if (D->C > 0) D->y = xcalloc((size_t)D->n * D->C, sizeof(float));
    D->rating = xmalloc((size_t)D->n * sizeof(float));
    float *rsum = xcalloc((size_t)D->n, sizeof(float)), *rcnt = xcalloc((size_t)D->n, sizeof(float));
    ans_walk w = {.s = &D->schema, .D = D, .rsum = rsum, .rcnt = rcnt};
    for (int q = 0, c = 0; q < D->schema.n_questions; q++) { w.colstart[q] = c; c += D->schema.q[q].n_answers; }
    rc = store_read_begin(st, &txn);
    if (rc == 0) rc = core_answers_counted(txn, ans_want, ans_count, &w);
    if (rc != 0) {
        snprintf(err, errlen, "reading answers: %s", store_strerror(rc));
        free(rsum); free(rcnt);
        goto fail;
    }
    for (int i = 0; i < D->n; i++) {
        D->rating[i] = rcnt[i] > 0 ? rsum[i] / rcnt[i] : NAN;
        D->n_rated += rcnt[i] > 0;
        if (D->C > 0) {
            float s = 0;
            for (int a = 0; a < D->C; a++) s += D->y[(size_t)i * D->C + a];
            D->n_answered += s > 0;
        }
    }
    if (D->schema.kind == CORE_TASK_RATING) D->n_answered = D->n_rated;
    free(rsum); free(rcnt);

    /* priors: "<q>_<a>" counts, "<q>_<a>_fraction", or a 0/1 column named after a binary question */
    if (D->C > 0) {
        store_read_end(txn);
        txn = NULL;
        rc = store_read_begin(st, &txn);
        if (rc != 0) { snprintf(err, errlen, "workspace: %s", store_strerror(rc)); goto fail; }
        char **names = NULL;
        int nn = 0;
        if (store_prior_columns(txn, &names, &nn) == 0 && nn > 0) {
            for (int c = 0; c < D->C; c++) {
                float scale;
                int a, label01;
                const char *use = catalog_column(&D->schema, c, names, nn, &a, &scale, &label01);
                if (!use) continue;
                double *colv = NULL;
                uint32_t len = 0;
                if (store_prior_column(txn, use, &colv, &len) != 0) continue;
                if (!D->prior) D->prior = xcalloc((size_t)D->n * D->C, sizeof(float));
                for (int i = 0; i < D->n; i++) {
                    uint32_t g = D->gids[i];
                    if (g >= len || !isfinite(colv[g]) || colv[g] < 0) continue;
                    float val = (float)colv[g];
                    if (label01) val = (a == (D->pos_col >= 0 ? D->pos_col : 0)) ? (val > 0.5f) : (val <= 0.5f);
                    D->prior[(size_t)i * D->C + c] = val * scale;
                }
                free(colv);
            }
        }
        for (int k = 0; k < nn; k++) free(names[k]);
        free(names);
        if (D->prior)
            for (int i = 0; i < D->n; i++) {
                float s = 0;
                for (int a = 0; a < D->C; a++) s += D->prior[(size_t)i * D->C + a];
                D->n_prior += s > 0;
            }
        if (D->prior && D->n_prior == 0) { free(D->prior); D->prior = NULL; }
        if (D->prior) snprintf(D->prior_src, sizeof D->prior_src, "catalog");
        prior_column(txn, D);
    }
    store_read_end(txn);
    return 0;
fail:
    store_read_end(txn);
    core_learn_data_free(D);
    return -1;
}

/* ------------------------------------------------------------ train, score, rank */

void core_learn_result_free(core_learn_result *R)
{
    if (!R) return;
    core_ens_free(R->ens);
    core_gp_free(R->gp);
    free(R->p); free(R->mu); free(R->sd); free(R->score); free(R->rank);
    memset(R, 0, sizeof *R);
}

static void head_cfg_for(const core_learn_data *D, core_head_cfg *cfg)
{
    const core_schema *s = &D->schema;
    core_head_cfg_default(cfg, D->d, 2);
    cfg->n_q = s->n_questions;
    int c = 0;
    for (int q = 0; q < s->n_questions; q++) {
        cfg->q_start[q] = c;
        c += s->q[q].n_answers;
    }
    cfg->q_start[s->n_questions] = c;
    for (int q = 0; q < s->n_questions; q++) {
        int pq = s->q[q].parent_q, pa = s->q[q].parent_a;
        cfg->parent_col[q] = pq >= 0 ? cfg->q_start[pq] + pa : -1;
    }
    cfg->loss = s->n_questions > 1 ? CORE_LOSS_DIRICHLET : CORE_LOSS_CE;
    cfg->hidden = D->hidden;
    cfg->l2 = D->l2;
}

/* rank normalisation: score -> (position from the bottom) / (n - 1) */
static void rank_norm(const float *s, int n, float *out)
{
    int *idx = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    core_rank_by_score(s, n, idx);
    for (int i = 0; i < n; i++) out[idx[i]] = n > 1 ? (float)(n - 1 - i) / (n - 1) : 1;
    free(idx);
}

/* k-fold RMSE of GP predictions at fixed hyperparameters */
static double gp_cv_rmse(const core_learn_data *D, const int *rows, int m, const core_gp_hyper *hp)
{
    if (m < 5) return NAN;
    int k = 5, d = D->d;
    double se = 0;
    int cnt = 0;
    float *xt = xmalloc((size_t)m * d * sizeof(float)), *yt = xmalloc((size_t)m * sizeof(float));
    for (int f = 0; f < k; f++) {
        int nt = 0;
        for (int i = 0; i < m; i++) {
            if (i % k == f) continue;
            memcpy(xt + (size_t)nt * d, D->x + (size_t)rows[i] * d, (size_t)d * sizeof(float));
            yt[nt++] = D->rating[rows[i]];
        }
        core_gp *g;
        if (core_gp_fit_fixed(&g, xt, yt, nt, d, hp) != 0) continue;
        for (int i = f; i < m; i += k) {
            float mu;
            core_gp_predict(g, D->x + (size_t)rows[i] * d, 1, &mu, NULL);
            se += (mu - D->rating[rows[i]]) * (mu - D->rating[rows[i]]);
            cnt++;
        }
        core_gp_free(g);
    }
    free(xt); free(yt);
    return cnt ? sqrt(se / cnt) : NAN;
}

int core_learn_fit_rank(const core_learn_data *D, const char *order, uint64_t seed,
                        const core_ens *warm, const float *anomaly, volatile int *cancel,
                        core_learn_result *R, char *err, size_t errlen)
{
    memset(R, 0, sizeof *R);
    R->value = NAN;
    core_order ord;
    if (!order) order = D->C > 0 ? "mixed" : "interest";
    if (core_order_parse(order, &ord) != 0) {
        snprintf(err, errlen, "unknown order '%s' (one of: %s)", order, core_order_names());
        return -1;
    }
    int n = D->n, d = D->d, C = D->C;
    float *bald = NULL, *anom = NULL;
    int rc = 0;

    /* the head */
    if (C > 0) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            float s = 0;
            for (int a = 0; a < C; a++) s += D->y[(size_t)i * C + a];
            m += s > 0;
        }
        core_head_cfg cfg;
        head_cfg_for(D, &cfg);
        if (m > 0) {
            float *xt = xmalloc((size_t)m * d * sizeof(float)), *yt = xmalloc((size_t)m * C * sizeof(float));
            int j = 0;
            for (int i = 0; i < n; i++) {
                float s = 0;
                for (int a = 0; a < C; a++) s += D->y[(size_t)i * C + a];
                if (s <= 0) continue;
                memcpy(xt + (size_t)j * d, D->x + (size_t)i * d, (size_t)d * sizeof(float));
                memcpy(yt + (size_t)j * C, D->y + (size_t)i * C, (size_t)C * sizeof(float));
                j++;
            }
            core_ens_info info;
            const core_ens *w = warm && core_ens_config(warm)->d == d &&
                                core_head_cfg_ncols(core_ens_config(warm)) == C &&
                                core_ens_config(warm)->hidden == cfg.hidden ? warm : NULL;
            int bin = cfg.n_q == 1 && cfg.q_start[1] == 2;
            rc = core_ens_fit(&R->ens, &cfg, ENS_MEMBERS, xt, yt, m, w, seed, bin ? D->pos_col : -1,
                              cancel, &info);
            free(xt);
            free(yt);
            if (rc != 0) {
                if (rc < 0) snprintf(err, errlen, "training the head failed");
                goto done;
            }
            R->n_train = m;
            snprintf(R->metric, sizeof R->metric, "%s", info.metric);
            R->value = info.oob_metric;
        } else if (warm) {
            uint8_t *buf;
            size_t len;
            char e2[128];
            core_ens_save(warm, &buf, &len);
            core_ens_load(buf, len, &R->ens, e2, sizeof e2);
            free(buf);
        }
        if (R->ens) {
            R->p = xmalloc((size_t)n * C * sizeof(float));
            bald = xmalloc((size_t)n * sizeof(float));
            core_ens_predict(R->ens, D->x, n, R->p, bald, NULL, NULL);
        }
    }
    if (cancel && *cancel) { rc = 1; goto done; }

    /* the interest GP on ratings */
    if (D->n_rated >= 2) {
        int m = 0;
        int *rows = xmalloc((size_t)D->n_rated * sizeof(int));
        float *xt = xmalloc((size_t)D->n_rated * d * sizeof(float)), *yt = xmalloc((size_t)D->n_rated * sizeof(float));
        for (int i = 0; i < n; i++) {
            if (isnan(D->rating[i])) continue;
            rows[m] = i;
            memcpy(xt + (size_t)m * d, D->x + (size_t)i * d, (size_t)d * sizeof(float));
            yt[m++] = D->rating[i];
        }
        /* three starts; the first at the previous hyperparameters when there are some */
        if (core_gp_fit_from(&R->gp, xt, yt, m, d, CORE_KERNEL_RQ, 3, seed,
                             D->has_gp_start ? &D->gp_start : NULL) == 0) {
            R->mu = xmalloc((size_t)n * sizeof(float));
            R->sd = xmalloc((size_t)n * sizeof(float));
            core_gp_predict(R->gp, D->x, n, R->mu, R->sd);
            if (C == 0) {
                core_gp_hyper hp;
                core_gp_hyper_get(R->gp, &hp);
                R->n_train = m;
                snprintf(R->metric, sizeof R->metric, "rmse");
                R->value = gp_cv_rmse(D, rows, m, &hp);
            }
        }
        free(rows); free(xt); free(yt);
    }
    if (cancel && *cancel) { rc = 1; goto done; }

    /* scores of the order */
    R->score = xmalloc((size_t)n * sizeof(float));
    R->rank = xmalloc((size_t)n * sizeof(int));
    int need_anom = ord == CORE_ORDER_ANOMALY || (ord == CORE_ORDER_INTEREST && !R->gp);
    if (need_anom) {
        anom = xmalloc((size_t)n * sizeof(float));
        if (anomaly) memcpy(anom, anomaly, (size_t)n * sizeof(float));
        else if (core_iforest_score(D->x, n, d, 100, 256, seed, cancel, anom) != 0) { rc = 1; goto done; }
    }
    float *likely = NULL, *unc = NULL;   /* borrowed views */
    float *tmp = NULL;
    if (R->p) {
        tmp = xmalloc((size_t)n * sizeof(float));
        for (int i = 0; i < n; i++) tmp[i] = R->p[(size_t)i * C + D->pos_col];
        likely = tmp;
        unc = bald;
    } else if (R->gp) {
        likely = R->mu;
        unc = R->sd;
    }
    int model_order = 1;
    switch (ord) {
    case CORE_ORDER_UNCERTAIN:
    case CORE_ORDER_LIKELY:
        if (likely) {
            memcpy(R->score, ord == CORE_ORDER_LIKELY ? likely : unc, (size_t)n * sizeof(float));
            core_rank_by_score(R->score, n, R->rank);
            break;
        }
        /* no model yet: start at random */
        __attribute__((fallthrough));
    case CORE_ORDER_RANDOM:
        core_rank_random(n, seed, R->rank);
        for (int i = 0; i < n; i++) R->score[R->rank[i]] = (float)(n - i) / n;
        model_order = 0;
        break;
    case CORE_ORDER_CATALOG:
        for (int i = 0; i < n; i++) { R->rank[i] = i; R->score[i] = (float)(n - i) / n; }
        model_order = 0;
        break;
    case CORE_ORDER_INTEREST:
        if (R->gp) {
            float best = core_gp_best(R->gp);
            for (int i = 0; i < n; i++) R->score[i] = core_acquire_ei(R->mu[i], R->sd[i], best, EI_XI);
        } else {
            memcpy(R->score, anom, (size_t)n * sizeof(float));
        }
        core_rank_by_score(R->score, n, R->rank);
        break;
    case CORE_ORDER_ANOMALY:
        if (R->gp) {
            /* blend the prior with predicted interest as ratings arrive */
            float *a = xmalloc((size_t)n * sizeof(float)), *b = xmalloc((size_t)n * sizeof(float));
            rank_norm(anom, n, a);
            rank_norm(R->mu, n, b);
            float wgt = (float)D->n_rated / (D->n_rated + 20.0f);
            for (int i = 0; i < n; i++) R->score[i] = (1 - wgt) * a[i] + wgt * b[i];
            free(a); free(b);
        } else {
            memcpy(R->score, anom, (size_t)n * sizeof(float));
        }
        core_rank_by_score(R->score, n, R->rank);
        break;
    case CORE_ORDER_MIXED:
        if (!likely) {
            core_rank_random(n, seed, R->rank);
            for (int i = 0; i < n; i++) R->score[R->rank[i]] = (float)(n - i) / n;
            model_order = 0;
            break;
        } else {
            int *l0 = xmalloc((size_t)n * sizeof(int)), *l1 = xmalloc((size_t)n * sizeof(int));
            int *l2 = xmalloc((size_t)n * sizeof(int));
            core_rank_by_score(likely, n, l0);
            core_rank_by_score(unc, n, l1);
            core_rank_random(n, seed, l2);
            int *lists[3] = {l0, l1, l2};
            double frac[3] = {0.7, 0.2, 0.1};
            core_rank_interleave(lists, frac, 3, n, R->rank);
            for (int i = 0; i < n; i++) R->score[R->rank[i]] = (float)(n - i) / n;
            free(l0); free(l1); free(l2);
        }
        break;
    default:
        break;
    }
    free(tmp);
    if (model_order) {
        float thr = core_rank_dup_threshold(D->x, n, d, DIVERSITY_FRAC, seed);
        core_rank_diversify(R->rank, n, D->x, d, DIVERSITY_BATCH, thr, DIVERSITY_HEAD);
    }
done:
    free(bald);
    free(anom);
    if (rc != 0) core_learn_result_free(R);
    return rc;
}

/* ------------------------------------------------------------ the run */

typedef struct {
    const char *task;
    core_model_info info;
    const uint32_t *queue;
    int nq;
    const float *pred;      /* (max_gid + 1, C) */
    uint32_t C, max_gid;
    const uint8_t *ens;
    size_t ens_len;
    int has_gp;
    core_gp_hyper hp;
    const float *anom;      /* (n) to cache, or NULL */
    int n_anom;
    const char *features;
} write_ctx;

static int write_fn(zs_txn *txn, void *vctx)
{
    write_ctx *w = vctx;
    char key[96];
    const void *data;
    size_t len;
    core_model_info old;
    blob_key(key, sizeof key, w->task, "head");
    w->info.version = 1;
    if (store_blob_get(txn, STORE_DB_MODELS, key, &data, &len) == 0 && info_unpack(data, len, &old) == 0)
        w->info.version = old.version + 1;
    /* head */
    size_t hl = INFO_BYTES + 8 + w->ens_len + (w->has_gp ? sizeof w->hp : 0);
    uint8_t *hb = xmalloc(hl);
    info_pack(hb, &w->info);
    uint32_t kind = (w->ens ? 1u : 0u) | (w->has_gp ? 2u : 0u), el = (uint32_t)w->ens_len;
    memcpy(hb + INFO_BYTES, &kind, 4);
    memcpy(hb + INFO_BYTES + 4, &el, 4);
    if (w->ens_len) memcpy(hb + INFO_BYTES + 8, w->ens, w->ens_len);
    if (w->has_gp) memcpy(hb + INFO_BYTES + 8 + w->ens_len, &w->hp, sizeof w->hp);
    int rc = store_blob_put(txn, STORE_DB_MODELS, key, hb, hl);
    free(hb);
    if (rc != 0) return rc;
    /* queue */
    size_t ql = INFO_BYTES + 4 + (size_t)w->nq * 4;
    uint8_t *qb = xmalloc(ql);
    info_pack(qb, &w->info);
    uint32_t nq = (uint32_t)w->nq;
    memcpy(qb + INFO_BYTES, &nq, 4);
    memcpy(qb + INFO_BYTES + 4, w->queue, (size_t)w->nq * 4);
    blob_key(key, sizeof key, w->task, "queue");
    rc = store_blob_put(txn, STORE_DB_SCORES, key, qb, ql);
    free(qb);
    if (rc != 0) return rc;
    /* predictions */
    if (w->pred) {
        size_t pl = 16 + ((size_t)w->max_gid + 1) * w->C * 4;
        uint8_t *pb = xmalloc(pl);
        memcpy(pb, "ZPR1", 4);
        memcpy(pb + 4, &w->C, 4);
        memcpy(pb + 8, &w->max_gid, 4);
        memset(pb + 12, 0, 4);
        memcpy(pb + 16, w->pred, pl - 16);
        blob_key(key, sizeof key, w->task, "pred");
        rc = store_blob_put(txn, STORE_DB_SCORES, key, pb, pl);
        free(pb);
        if (rc != 0) return rc;
    }
    /* the learning curve: the last CURVE_MAX models' (version, n_train, value, time) */
    {
        blob_key(key, sizeof key, w->task, "curve");
        size_t have = 0;
        const uint8_t *old_c = NULL;
        if (store_blob_get(txn, STORE_DB_SCORES, key, &data, &len) == 0 && len % CURVE_REC == 0) {
            old_c = data;
            have = len / CURVE_REC;
        }
        size_t keep = have >= CURVE_MAX ? CURVE_MAX - 1 : have;
        uint8_t *cb = xmalloc((keep + 1) * CURVE_REC);
        if (keep) memcpy(cb, old_c + (have - keep) * CURVE_REC, keep * CURVE_REC);
        uint8_t *r = cb + keep * CURVE_REC;
        int32_t nt = w->info.n_train;
        memcpy(r, &w->info.version, 4);
        memcpy(r + 4, &nt, 4);
        memcpy(r + 8, &w->info.value, 8);
        memcpy(r + 16, &w->info.time_us, 8);
        rc = store_blob_put(txn, STORE_DB_SCORES, key, cb, (keep + 1) * CURVE_REC);
        free(cb);
        if (rc != 0) return rc;
    }
    if (w->anom) {
        size_t al = 4 + (size_t)w->n_anom * 4;
        uint8_t *ab = xmalloc(al);
        uint32_t na = (uint32_t)w->n_anom;
        memcpy(ab, &na, 4);
        memcpy(ab + 4, w->anom, (size_t)w->n_anom * 4);
        snprintf(key, sizeof key, "anomaly/%.60s", w->features);
        rc = store_blob_put(txn, STORE_DB_SCORES, key, ab, al);
        free(ab);
    }
    return rc;
}

typedef struct {
    const char *key;
    const uint8_t *blob;
    size_t len;
} put_ctx;

static int put_fn(zs_txn *txn, void *vctx)
{
    put_ctx *p = vctx;
    return store_blob_put(txn, STORE_DB_MODELS, p->key, p->blob, p->len);
}

int core_learn_prior_fit(const core_learn_data *D, uint64_t seed, volatile int *cancel,
                         core_ens **out, core_ens_info *info)
{
    *out = NULL;
    if (!D->prior || D->C == 0) return -1;
    /* train on (a sample of) the prior rows */
    int C = D->C, d = D->d, m = 0;
    core_ens *e = NULL;
    int *rows = xmalloc((size_t)D->n * sizeof(int));
    for (int i = 0; i < D->n; i++) {
        float s = 0;
        for (int a = 0; a < C; a++) s += D->prior[(size_t)i * C + a];
        if (s > 0) rows[m++] = i;
    }
    if (m > PRIOR_MAX_ROWS) {
        core_rng r;
        core_rng_seed(&r, seed);
        for (int i = 0; i < PRIOR_MAX_ROWS; i++) {
            int j = i + (int)core_rng_below(&r, (uint32_t)(m - i));
            int t = rows[i]; rows[i] = rows[j]; rows[j] = t;
        }
        m = PRIOR_MAX_ROWS;
    }
    float *xt = xmalloc((size_t)m * d * sizeof(float)), *yt = xmalloc((size_t)m * C * sizeof(float));
    for (int i = 0; i < m; i++) {
        memcpy(xt + (size_t)i * d, D->x + (size_t)rows[i] * d, (size_t)d * sizeof(float));
        memcpy(yt + (size_t)i * C, D->prior + (size_t)rows[i] * C, (size_t)C * sizeof(float));
    }
    core_head_cfg cfg;
    head_cfg_for(D, &cfg);
    int bin = cfg.n_q == 1 && cfg.q_start[1] == 2;
    int rc = core_ens_fit(&e, &cfg, ENS_MEMBERS, xt, yt, m, NULL, seed ^ 0x7072696fULL,
                          bin ? D->pos_col : -1, cancel, info);
    free(rows); free(xt); free(yt);
    if (rc != 0) return rc;
    *out = e;
    return 0;
}

/* A 32-bit fingerprint of the features and priors a prior head is fitted on,
 * so that a stored one is used only for exactly those: embedding the
 * workspace again, or new priors, refit it. */
static uint32_t prior_fingerprint(const core_learn_data *D)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)(uint32_t)D->n << 32 | (uint32_t)D->d);
    const float *src[2] = {D->x, D->prior};
    size_t cnt[2] = {(size_t)D->n * D->d, D->prior ? (size_t)D->n * D->C : 0};
    for (int k = 0; k < 2; k++) {
        const float *f = src[k];
        size_t i = 0;
        for (; i + 2 <= cnt[k]; i += 2) {
            uint64_t w;
            memcpy(&w, f + i, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 29;
        }
        if (i < cnt[k]) {
            uint32_t w;
            memcpy(&w, f + i, 4);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
        }
        h ^= (uint64_t)D->n_prior * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 33;
    return (uint32_t)h;
}

/* The pretrained head on the catalog's priors: loaded when stored for the
 * same feature set and fingerprint, else trained and stored. */
static core_ens *prior_head(zs_store *st, const core_learn_data *D, uint64_t seed,
                            volatile int *cancel, core_model_info *pinfo)
{
    char key[96];
    blob_key(key, sizeof key, D->schema.name, "head.prior");
    zs_txn *txn;
    core_ens *e = NULL;
    uint32_t fp = prior_fingerprint(D);
    if (store_read_begin(st, &txn) == 0) {
        const void *data;
        size_t len;
        core_model_info in;
        if (store_blob_get(txn, STORE_DB_MODELS, key, &data, &len) == 0 &&
            info_unpack(data, len, &in) == 0 && len >= INFO_BYTES + 8) {
            uint32_t np, el;
            memcpy(&np, (const uint8_t *)data + INFO_BYTES, 4);
            memcpy(&el, (const uint8_t *)data + INFO_BYTES + 4, 4);
            char e2[128];
            if (np == fp && strcmp(in.features, D->features) == 0 &&
                INFO_BYTES + 8 + (size_t)el <= len &&
                core_ens_load((const uint8_t *)data + INFO_BYTES + 8, el, &e, e2, sizeof e2) == 0) {
                const core_head_cfg *c = core_ens_config(e);
                if (c->d != D->d || core_head_cfg_ncols(c) != D->C || c->hidden != D->hidden) {
                    core_ens_free(e);
                    e = NULL;
                } else {
                    *pinfo = in;
                }
            }
        }
        store_read_end(txn);
    }
    if (e) return e;
    core_ens_info info;
    if (core_learn_prior_fit(D, seed, cancel, &e, &info) != 0) return NULL;
    memset(pinfo, 0, sizeof *pinfo);
    pinfo->version = 1;
    pinfo->time_us = core_now_us();
    pinfo->n_train = info.n_train;
    snprintf(pinfo->metric, sizeof pinfo->metric, "%s", info.metric);
    pinfo->value = info.oob_metric;
    snprintf(pinfo->order, sizeof pinfo->order, "prior");
    snprintf(pinfo->features, sizeof pinfo->features, "%s", D->features);
    uint8_t *eb;
    size_t el;
    core_ens_save(e, &eb, &el);
    size_t bl = INFO_BYTES + 8 + el;
    uint8_t *b = xmalloc(bl);
    info_pack(b, pinfo);
    uint32_t np = fp, e32 = (uint32_t)el;
    memcpy(b + INFO_BYTES, &np, 4);
    memcpy(b + INFO_BYTES + 4, &e32, 4);
    memcpy(b + INFO_BYTES + 8, eb, el);
    put_ctx pc = {key, b, bl};
    store_write(st, put_fn, &pc);    /* a cache: failing to store it only costs a retrain */
    free(eb);
    free(b);
    return e;
}

/* The cached isolation-forest scores of a feature set, or NULL. */
static float *anomaly_cached(zs_store *st, const char *features, int n)
{
    zs_txn *txn;
    float *out = NULL;
    if (store_read_begin(st, &txn) != 0) return NULL;
    char key[96];
    snprintf(key, sizeof key, "anomaly/%.60s", features);
    const void *data;
    size_t len;
    if (store_blob_get(txn, STORE_DB_SCORES, key, &data, &len) == 0 && len >= 4) {
        uint32_t m;
        memcpy(&m, data, 4);
        if ((int)m == n && len == 4 + (size_t)m * 4) {
            out = xmalloc((size_t)(m ? m : 1) * sizeof(float));
            memcpy(out, (const uint8_t *)data + 4, (size_t)m * 4);
        }
    }
    store_read_end(txn);
    return out;
}

int core_learn_run(zs_store *st, const core_learn_opts *opts, core_model_info *out,
                   char *err, size_t errlen)
{
    core_learn_data D;
    core_learn_result R;
    core_ens *warm = NULL;
    core_model_info pinfo;
    float *anom = NULL, *pred = NULL;
    uint32_t *queue = NULL;
    uint8_t *eb = NULL;
    int rc = 0, anom_new = 0;
    memset(&R, 0, sizeof R);
    memset(&pinfo, 0, sizeof pinfo);
    if (err && errlen) err[0] = 0;
    if (!opts || !opts->task) { snprintf(err, errlen, "no task given"); return -1; }
    if (core_learn_load(st, opts->task, opts->features, &D, err, errlen) != 0) return -1;
    const char *order = opts->order ? opts->order : D.C > 0 ? "mixed" : "interest";
    core_order ord;
    if (core_order_parse(order, &ord) != 0) {
        snprintf(err, errlen, "unknown order '%s' (one of: %s)", order, core_order_names());
        rc = -1;
        goto end;
    }
    if (opts->cancel && *opts->cancel) { rc = 1; goto end; }
    {   /* the last model's GP hyperparameters start this fit */
        zs_txn *txn;
        if (store_read_begin(st, &txn) == 0) {
            char key[96];
            const void *data;
            size_t len;
            blob_key(key, sizeof key, D.schema.name, "head");
            if (store_blob_get(txn, STORE_DB_MODELS, key, &data, &len) == 0 && len >= INFO_BYTES + 8) {
                uint32_t kind, el;
                memcpy(&kind, (const uint8_t *)data + INFO_BYTES, 4);
                memcpy(&el, (const uint8_t *)data + INFO_BYTES + 4, 4);
                if ((kind & 2) && INFO_BYTES + 8 + (size_t)el + sizeof(core_gp_hyper) <= len) {
                    memcpy(&D.gp_start, (const uint8_t *)data + INFO_BYTES + 8 + el, sizeof D.gp_start);
                    D.has_gp_start = 1;
                }
            }
            store_read_end(txn);
        }
    }
    if (D.prior && D.C > 0) {
        warm = prior_head(st, &D, opts->seed, opts->cancel, &pinfo);
        if (opts->cancel && *opts->cancel) { rc = 1; goto end; }
    }
    if (ord == CORE_ORDER_ANOMALY || (ord == CORE_ORDER_INTEREST && D.n_rated < 2)) {
        anom = anomaly_cached(st, D.features, D.n);
        if (!anom) {
            anom = xmalloc((size_t)D.n * sizeof(float));
            if (core_iforest_score(D.x, D.n, D.d, 100, 256, 12345, opts->cancel, anom) != 0) { rc = 1; goto end; }
            anom_new = 1;
        }
    }
    rc = core_learn_fit_rank(&D, order, opts->seed, warm, anom, opts->cancel, &R, err, errlen);
    if (rc != 0) goto end;
    if (R.n_train == 0 && warm && R.ens) {   /* the pretrained head is the model */
        R.n_train = pinfo.n_train;
        snprintf(R.metric, sizeof R.metric, "%s", pinfo.metric);
        R.value = pinfo.value;
        /* fitted to a function of the features themselves, it scores itself
         * perfectly out of bag: that says nothing, so no metric */
        if (strcmp(D.prior_src, "catalog") != 0) { snprintf(R.metric, sizeof R.metric, "prior"); R.value = NAN; }
    }
    if (opts->cancel && *opts->cancel) { rc = 1; goto end; }

    write_ctx w;
    memset(&w, 0, sizeof w);
    w.task = D.schema.name;
    w.info.time_us = core_now_us();
    w.info.n_train = R.n_train;
    snprintf(w.info.metric, sizeof w.info.metric, "%s", R.metric);
    w.info.value = R.value;
    snprintf(w.info.order, sizeof w.info.order, "%s", order);
    snprintf(w.info.features, sizeof w.info.features, "%s", D.features);
    /* the ranked galaxies, then any without features (not embedded yet) in
     * catalog order, so the queue still holds every galaxy */
    queue = xmalloc(((size_t)D.max_gid + 1) * sizeof(uint32_t));
    int nq = 0;
    for (int i = 0; i < D.n; i++) queue[nq++] = D.gids[R.rank[i]];
    for (uint32_t g = 1; g <= D.max_gid; g++)
        if (D.row[g] < 0) queue[nq++] = g;
    w.queue = queue;
    w.nq = nq;
    w.max_gid = D.max_gid;
    if (R.p) {
        w.C = (uint32_t)D.C;
        pred = xmalloc(((size_t)D.max_gid + 1) * D.C * sizeof(float));
        for (size_t i = 0; i < ((size_t)D.max_gid + 1) * D.C; i++) pred[i] = NAN;
        for (int i = 0; i < D.n; i++)
            memcpy(pred + (size_t)D.gids[i] * D.C, R.p + (size_t)i * D.C, (size_t)D.C * sizeof(float));
        w.pred = pred;
    } else if (R.mu && D.C == 0) {
        w.C = 2;
        pred = xmalloc(((size_t)D.max_gid + 1) * 2 * sizeof(float));
        for (size_t i = 0; i < ((size_t)D.max_gid + 1) * 2; i++) pred[i] = NAN;
        for (int i = 0; i < D.n; i++) {
            pred[(size_t)D.gids[i] * 2] = R.mu[i];
            pred[(size_t)D.gids[i] * 2 + 1] = R.sd[i];
        }
        w.pred = pred;
    }
    if (R.ens) core_ens_save(R.ens, &eb, &w.ens_len);
    w.ens = eb;
    if (R.gp) { w.has_gp = 1; core_gp_hyper_get(R.gp, &w.hp); }
    if (anom_new) { w.anom = anom; w.n_anom = D.n; }
    w.features = D.features;
    int src = store_write(st, write_fn, &w);
    if (src != 0) {
        snprintf(err, errlen, "storing the model: %s", store_strerror(src));
        rc = -1;
        goto end;
    }
    if (out) *out = w.info;
end:
    free(eb);
    free(queue);
    free(pred);
    free(anom);
    core_ens_free(warm);
    core_learn_result_free(&R);
    core_learn_data_free(&D);
    return rc;
}
