/*
 * learn.c - the active-learning loop (see learn.h): gather a task's answers
 * and features from the workspace, train the head (an ensemble, warm-started
 * from the "pretrained" head fitted on the catalog's prior votes), fit the
 * interest GP on ratings, score every galaxy, rank by the chosen order
 * (core/acquire.c), and store queue, predictions and model (the blobs are
 * learn_store.c's).
 *
 * DESIGN (threads): core_learn_run may run on the labeler's background
 * thread with the UI's zs_store.  It keeps no global state; everything it
 * reads is copied out of short read transactions (features, answers,
 * priors, the stored prior head) before any training starts, and everything
 * it stores goes in one short write transaction at the end (queue, pred and
 * head together, so a reader never sees a queue from one version with
 * predictions from another).  It never prints: errors go to err.  The cancel
 * flag is polled between stages and between ensemble members / forest trees.
 */
#include "core/learn.h"
#include "core/acquire.h"
#include "core/answers.h"
#include "core/anomaly.h"
#include "core/rank.h"
#include "core/repr.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENS_MEMBERS 5
#define PRIOR_MAX_ROWS 20000         /* the prior head trains on at most this many galaxies */
#define DIVERSITY_HEAD 2000          /* guarded queue positions */
#define DIVERSITY_BATCH 20
#define DIVERSITY_FRAC 0.05f         /* near-duplicate: closer than 5% of the mean pair distance */

/* ------------------------------------------------------------ loading */

void core_learn_data_free(core_learn_data *D)
{
    if (!D) return;
    free(D->x); free(D->gids); free(D->row); free(D->y); free(D->prior); free(D->rating);
    core_interest_free(&D->gf);
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
    if (tree_cols(w, a, col) > 0) return 0;
    return core_answers_abstains(a) && strcmp(a->task, w->s->name) == 0 ? 0 : -1;   /* can't tell: replaces, adds nothing */
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

/* The task's schema (the workspace's, else a built-in name or a file) and
 * its feature set, into D with the gid -> row map; *is_pca says whether the
 * set is a PCA projection (scaled, not standardised).  0, or -1 with err. */
static int load_features(zs_txn *txn, const char *task, const char *features, core_learn_data *D, int *is_pca,
                         char *err, size_t errlen)
{
    char serr[256] = "";
    if (core_schema_ws_get(txn, task, &D->schema, serr, sizeof serr) != 0 &&
        core_schema_resolve(task, &D->schema, serr, sizeof serr) != 0) {
        snprintf(err, errlen, "%s", serr);
        return -1;
    }
    int rc = -1;
    if (!features) {   /* the task's own set (zoosh train --finetune), while it exists; "": the workspace's */
        char key[96], *own = NULL;
        snprintf(key, sizeof key, "learn.%s.features", D->schema.name);
        if (store_meta_get(txn, key, &own) == 0 && own && own[0])
            rc = core_repr_pick_set(txn, own, D->features, sizeof D->features, NULL);
        free(own);
    }
    if (rc != 0) rc = core_repr_pick_set(txn, features, D->features, sizeof D->features, NULL);
    if (rc != 0) {
        if (features && *features)
            snprintf(err, errlen, "no feature set '%s' in this workspace (zoosh features WS lists them)", features);
        else
            snprintf(err, errlen, "the workspace has no features yet (run zoosh embed WS, or import feat_N columns)");
        return -1;
    }
    *is_pca = strncmp(D->features, "pca", 3) == 0 || strstr(D->features, "_pca") != NULL;
    {
        int fdim;
        char *prov = NULL;
        if (store_featset_get(txn, D->features, &fdim, &prov) == 0 && prov && strncmp(prov, "pca", 3) == 0) *is_pca = 1;
        free(prov);
    }
    rc = store_features_load(txn, D->features, &D->x, &D->gids, &D->n, &D->d);
    if (rc != 0 || D->n < 1) {
        snprintf(err, errlen, "feature set '%s': %s", D->features, rc ? store_strerror(rc) : "empty");
        return -1;
    }
    D->max_gid = store_galaxy_max(txn);
    for (int i = 0; i < D->n; i++) if (D->gids[i] > D->max_gid) D->max_gid = D->gids[i];
    D->row = xmalloc(((size_t)D->max_gid + 1) * sizeof(int));
    for (uint32_t g = 0; g <= D->max_gid; g++) D->row[g] = -1;
    for (int i = 0; i < D->n; i++) D->row[D->gids[i]] = i;
    return 0;
}

/* The chosen answer column (likely's target, the AUC's positive): meta
 * learn.<task>.target names it, else the first "yes", else column 0. */
static void pick_pos_col(zs_txn *txn, core_learn_data *D)
{
    char key[96], col[128], *v = NULL;
    snprintf(key, sizeof key, "learn.%s.target", D->schema.name);
    if (store_meta_get(txn, key, &v) == 0) {
        for (int i = 0; i < D->C; i++) {
            core_schema_column(&D->schema, i, col, sizeof col, NULL, NULL);
            if (strcmp(col, v) == 0) D->pos_col = i;
        }
        free(v);
    }
    for (int i = 0; i < D->C && D->pos_col < 0; i++) {
        int q, a;
        core_schema_column(&D->schema, i, col, sizeof col, &q, &a);
        if (strcmp(D->schema.q[q].answers[a].key, "yes") == 0) D->pos_col = i;
    }
    if (D->pos_col < 0) D->pos_col = 0;
}

/* The head's settings (meta learn.<task>.hidden and .l2), its answer
 * columns and the chosen one.  0, or -1 with err when the task has more
 * answers than a head takes. */
static int load_settings(zs_txn *txn, core_learn_data *D, char *err, size_t errlen)
{
    char key[96], *v = NULL;
    snprintf(key, sizeof key, "learn.%s.hidden", D->schema.name);
    if (store_meta_get(txn, key, &v) == 0) { D->hidden = atoi(v); free(v); v = NULL; }
    if (D->hidden < 0 || D->hidden > CORE_HEAD_MAX_HIDDEN) D->hidden = 0;
    /* the default weight decay: 1 for a one-question task (ring, a tag),
     * chosen on the choose sets of docs/encoder.md (GZ2 ring votes and the
     * DECaLS tags agreed, +0.01 to +0.04 AUC at 50 and 160-200 labels
     * against 0.05); 0.05 for trees and ratings, which those sets do not
     * measure */
    float l2_default = D->schema.kind == CORE_TASK_TREE && D->schema.n_questions == 1 ? 1.0f : 0.05f;
    D->l2 = l2_default;
    snprintf(key, sizeof key, "learn.%s.l2", D->schema.name);
    if (store_meta_get(txn, key, &v) == 0) { D->l2 = strtof(v, NULL); free(v); v = NULL; }
    if (!(D->l2 >= 0 && D->l2 < 1e3)) D->l2 = l2_default;
    D->C = D->schema.kind == CORE_TASK_TREE ? core_schema_n_columns(&D->schema) : 0;
    if (D->C > CORE_HEAD_MAX_C || D->schema.n_questions > CORE_HEAD_MAX_Q) {
        snprintf(err, errlen, "task '%s' has too many answers for a head", D->schema.name);
        return -1;
    }
    if (D->C > 0) pick_pos_col(txn, D);
    return 0;
}

/* D->y and D->rating from the answers that count: one vote per user per
 * galaxy (core_answers_counted: a user's latest answer not retracted; a
 * changed mind replaces, a second session does not double; as export
 * --format labels / zoobot).  Its own read transaction.  0, or -1 with err. */
static int load_answers(zs_store *st, core_learn_data *D, char *err, size_t errlen)
{
    if (D->C > 0) D->y = xcalloc((size_t)D->n * D->C, sizeof(float));
    D->rating = xmalloc((size_t)D->n * sizeof(float));
    float *rsum = xcalloc((size_t)D->n, sizeof(float)), *rcnt = xcalloc((size_t)D->n, sizeof(float));
    ans_walk w = {.s = &D->schema, .D = D, .rsum = rsum, .rcnt = rcnt};
    for (int q = 0, c = 0; q < D->schema.n_questions; q++) { w.colstart[q] = c; c += D->schema.q[q].n_answers; }
    zs_txn *txn = NULL;
    int rc = store_read_begin(st, &txn);
    if (rc == 0) {
        rc = core_answers_counted(txn, ans_want, ans_count, &w);
        store_read_end(txn);
    }
    if (rc != 0) {
        snprintf(err, errlen, "reading answers: %s", store_strerror(rc));
        free(rsum); free(rcnt);
        return -1;
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
    return 0;
}

/* Answer column c's catalog priors (the prior column `use`), into D->prior
 * (allocated on the first). */
int core_learn_load(zs_store *st, const char *task, const char *features, core_learn_data *D,
                    char *err, size_t errlen)
{
    memset(D, 0, sizeof *D);
    D->pos_col = -1;
    zs_txn *txn = NULL;
    int is_pca = 0, rc = store_read_begin(st, &txn);
    if (rc != 0) { snprintf(err, errlen, "workspace: %s", store_strerror(rc)); return -1; }
    rc = load_features(txn, task, features, D, &is_pca, err, errlen);
    if (rc == 0) rc = load_settings(txn, D, err, errlen);
    store_read_end(txn);
    if (rc != 0) goto fail;
    /* a PCA projection keeps its components' relative variances (whitening
     * them lifts the noise components to the signal's level: on the ring
     * set the head's CV AUC fell from 0.73 to 0.62); raw features, whose
     * blocks differ by orders of magnitude, are standardised per column */
    if (is_pca) scale_global(D->x, D->n, D->d);
    else standardise(D->x, D->n, D->d);
    if (load_answers(st, D, err, errlen) != 0) goto fail;
    if (D->C > 0) {
        rc = store_read_begin(st, &txn);
        if (rc != 0) { snprintf(err, errlen, "workspace: %s", store_strerror(rc)); goto fail; }
        core_learn_prior_load(txn, D);
        store_read_end(txn);
    }
    return 0;
fail:
    core_learn_data_free(D);
    return -1;
}

void core_learn_interest_load(zs_store *st, core_learn_data *D)
{
    zs_txn *txn;
    core_interest_free(&D->gf);
    if (store_read_begin(st, &txn) != 0) return;
    (void)core_interest_load(txn, D->features, D->gids, D->n, &D->gf);
    store_read_end(txn);
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

void core_learn_head_cfg(const core_learn_data *D, core_head_cfg *cfg)
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

/* k-fold RMSE of GP predictions at fixed hyperparameters */
static double gp_cv_rmse(const core_learn_data *D, const int *rows, int m, const core_gp_hyper *hp)
{
    if (m < 5) return NAN;
    int k = 5, d = D->gf.x ? D->gf.d : D->d;
    const float *X = D->gf.x ? D->gf.x : D->x;
    core_gp_blocks bl, *blp = D->gf.x ? &bl : NULL;
    core_interest_blocks(&D->gf, &bl);
    double se = 0;
    int cnt = 0;
    float *xt = xmalloc((size_t)m * d * sizeof(float)), *yt = xmalloc((size_t)m * sizeof(float));
    for (int f = 0; f < k; f++) {
        int nt = 0;
        for (int i = 0; i < m; i++) {
            if (i % k == f) continue;
            memcpy(xt + (size_t)nt * d, X + (size_t)rows[i] * d, (size_t)d * sizeof(float));
            yt[nt++] = D->rating[rows[i]];
        }
        core_gp *g;
        if (core_gp_fit_fixed_blocks(&g, xt, yt, nt, d, blp, hp) != 0) continue;
        for (int i = f; i < m; i += k) {
            float mu;
            core_gp_predict(g, X + (size_t)rows[i] * d, 1, &mu, NULL);
            se += (mu - D->rating[rows[i]]) * (mu - D->rating[rows[i]]);
            cnt++;
        }
        core_gp_free(g);
    }
    free(xt); free(yt);
    return cnt ? sqrt(se / cnt) : NAN;
}

/* Fits the ensemble on the m answered rows, warm-started from warm when it
 * has the same shape; R->n_train and the out-of-bag metric with it.
 * 0, 1 cancelled, -1 with err. */
static int ens_fit_answered(const core_learn_data *D, const core_head_cfg *cfg, int m, uint64_t seed,
                            const core_ens *warm, volatile int *cancel, core_learn_result *R, char *err,
                            size_t errlen)
{
    int n = D->n, d = D->d, C = D->C;
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
                        core_ens_config(warm)->hidden == cfg->hidden ? warm : NULL;
    int bin = cfg->n_q == 1 && cfg->q_start[1] == 2;
    int rc = core_ens_fit(&R->ens, cfg, ENS_MEMBERS, xt, yt, m, w, seed, bin ? D->pos_col : -1, cancel, &info);
    free(xt);
    free(yt);
    if (rc != 0) {
        if (rc < 0) snprintf(err, errlen, "training the head failed");
        return rc;
    }
    R->n_train = m;
    snprintf(R->metric, sizeof R->metric, "%s", info.metric);
    R->value = info.oob_metric;
    return 0;
}

/* The head of a tree task: fitted on the answered rows, or a copy of warm
 * while nothing is answered; then R->p (n, C) and *bald (n, malloc'ed) for
 * every row.  0, 1 cancelled, -1 with err. */
static int fit_head(const core_learn_data *D, uint64_t seed, const core_ens *warm, volatile int *cancel,
                    core_learn_result *R, float **bald, char *err, size_t errlen)
{
    int n = D->n, C = D->C, m = 0;
    for (int i = 0; i < n; i++) {
        float s = 0;
        for (int a = 0; a < C; a++) s += D->y[(size_t)i * C + a];
        m += s > 0;
    }
    core_head_cfg cfg;
    core_learn_head_cfg(D, &cfg);
    if (m > 0) {
        int rc = ens_fit_answered(D, &cfg, m, seed, warm, cancel, R, err, errlen);
        if (rc != 0) return rc;
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
        *bald = xmalloc((size_t)n * sizeof(float));
        core_ens_predict(R->ens, D->x, n, R->p, *bald, NULL, NULL);
    }
    return 0;
}

/* The interest GP on the rated rows: on the task's set (isotropic RQ), or
 * with D->gf loaded (simulate --gp-blocks) a block fit on the blocked
 * features (core_gp_fit_blocks, core/interest.h) (three starts; the first at the
 * previous hyperparameters when there are some): R->gp and R->mu / R->sd
 * for every row; for a rating task also the training size and the
 * cross-validated RMSE.  Nothing when fewer than 2 are rated or it fails. */
static void fit_gp(const core_learn_data *D, uint64_t seed, core_learn_result *R)
{
    int n = D->n, d = D->gf.x ? D->gf.d : D->d, m = 0;
    const float *X = D->gf.x ? D->gf.x : D->x;   /* the blocked features, else the task's set */
    core_gp_blocks bl;
    core_interest_blocks(&D->gf, &bl);
    if (D->n_rated < 2) return;
    int *rows = xmalloc((size_t)D->n_rated * sizeof(int));
    float *xt = xmalloc((size_t)D->n_rated * d * sizeof(float)), *yt = xmalloc((size_t)D->n_rated * sizeof(float));
    for (int i = 0; i < n; i++) {
        if (isnan(D->rating[i])) continue;
        rows[m] = i;
        memcpy(xt + (size_t)m * d, X + (size_t)i * d, (size_t)d * sizeof(float));
        yt[m++] = D->rating[i];
    }
    const core_gp_hyper *start = D->has_gp_start ? &D->gp_start : NULL;
    if ((D->gf.x ? core_gp_fit_blocks(&R->gp, xt, yt, m, d, &bl, 3, seed, start)
                 : core_gp_fit_from(&R->gp, xt, yt, m, d, CORE_KERNEL_RQ, 3, seed, start)) == 0) {
        R->mu = xmalloc((size_t)n * sizeof(float));
        R->sd = xmalloc((size_t)n * sizeof(float));
        core_gp_predict(R->gp, X, n, R->mu, R->sd);
        if (D->C == 0) {
            core_gp_hyper hp;
            core_gp_hyper_get(R->gp, &hp);
            R->n_train = m;
            snprintf(R->metric, sizeof R->metric, "rmse");
            R->value = gp_cv_rmse(D, rows, m, &hp);
        }
    }
    free(rows); free(xt); free(yt);
}

/* R->score and R->rank by ord (core_acquire_rank) from the head's
 * predictions, or a rating task's GP; a model's ranking then goes through
 * the diversity guard.  anomaly (n) may be NULL: computed when the order
 * needs it.  0, or 1 cancelled. */
static int rank_rows(const core_learn_data *D, core_order ord, uint64_t seed, const float *bald,
                     const float *anomaly, volatile int *cancel, core_learn_result *R)
{
    int n = D->n, d = D->d, C = D->C;
    float *anom = NULL, *likely = NULL;
    R->score = xmalloc((size_t)n * sizeof(float));
    R->rank = xmalloc((size_t)n * sizeof(int));
    core_acquire_in in = {.n = n, .seed = seed, .anomaly = anomaly, .n_rated = D->n_rated, .rating = D->rating};
    if (!anomaly && core_order_needs_anomaly(ord, R->gp != NULL)) {
        anom = xmalloc((size_t)n * sizeof(float));
        if (core_iforest_score(D->x, n, d, 100, 256, seed, cancel, anom) != 0) { free(anom); return 1; }
        in.anomaly = anom;
    }
    if (R->gp) {
        in.mu = R->mu;
        in.sd = R->sd;
        in.best = core_gp_best(R->gp);
    }
    if (R->p) {
        likely = xmalloc((size_t)n * sizeof(float));
        for (int i = 0; i < n; i++) likely[i] = R->p[(size_t)i * C + D->pos_col];
        in.likely = likely;
        in.unc = bald;
    } else if (R->gp) {
        in.likely = R->mu;
        in.unc = R->sd;
    }
    if (core_acquire_rank(ord, &in, R->score, R->rank) == 1) {
        float thr = core_rank_dup_threshold(D->x, n, d, DIVERSITY_FRAC, seed);
        core_rank_diversify(R->rank, n, D->x, d, DIVERSITY_BATCH, thr, DIVERSITY_HEAD);
    }
    free(likely);
    free(anom);
    return 0;
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
    float *bald = NULL;   /* (n) the head's BALD */
    int rc = 0;
    if (D->C > 0) rc = fit_head(D, seed, warm, cancel, R, &bald, err, errlen);
    if (rc == 0 && cancel && *cancel) rc = 1;
    if (rc == 0) fit_gp(D, seed, R);
    if (rc == 0 && cancel && *cancel) rc = 1;
    if (rc == 0) rc = rank_rows(D, ord, seed, bald, anomaly, cancel, R);
    free(bald);
    if (rc != 0) core_learn_result_free(R);
    return rc;
}

/* ------------------------------------------------------------ the pretrained head, and the run */

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
    core_learn_head_cfg(D, &cfg);
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

/* The pretrained head on the catalog's priors: the stored one when it was
 * fitted on the same feature set, fingerprint and shape, else trained and
 * stored. */
static core_ens *prior_head(zs_store *st, const core_learn_data *D, uint64_t seed,
                            volatile int *cancel, core_model_info *pinfo)
{
    core_ens *e = NULL;
    core_model_info in;
    uint32_t fp = prior_fingerprint(D);
    if (core_learn_store_prior_get(st, D->schema.name, D->features, fp, &e, &in) == 0) {
        const core_head_cfg *c = core_ens_config(e);
        if (c->d == D->d && core_head_cfg_ncols(c) == D->C && c->hidden == D->hidden) {
            *pinfo = in;
            return e;
        }
        core_ens_free(e);
        e = NULL;
    }
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
    /* a cache: failing to store it only costs a retrain */
    (void)core_learn_store_prior_put(st, D->schema.name, e, fp, pinfo);
    return e;
}

int core_learn_prior_trust(zs_store *st, double *rho, int *m, double *w)
{
    core_learn_data D;
    char err[256];
    *rho = NAN;
    *m = 0;
    *w = 1;
    if (core_learn_load(st, "interest", NULL, &D, err, sizeof err) != 0) return -1;
    float *anom = D.n_rated > 0 ? core_learn_store_anomaly_get(st, D.features, D.n) : NULL;
    int rc = -1;
    if (anom) {
        *rho = core_acquire_trust(anom, D.rating, D.n, m);
        *w = core_acquire_prior_weight(D.n_rated, *rho);
        rc = 0;
    }
    free(anom);
    core_learn_data_free(&D);
    return rc;
}

/* The isolation-forest scores of D's feature set, for the orders that
 * need them: the cached ones, else computed (*is_new: to be cached).
 * 0 with *anom (malloc'ed, NULL when the order needs none), or 1 cancelled. */
static int run_anomaly(zs_store *st, const core_learn_data *D, core_order ord, volatile int *cancel,
                       float **anom, int *is_new)
{
    *anom = NULL;
    *is_new = 0;
    if (!core_order_needs_anomaly(ord, D->n_rated >= 2)) return 0;
    *anom = core_learn_store_anomaly_get(st, D->features, D->n);
    if (*anom) return 0;
    *anom = xmalloc((size_t)D->n * sizeof(float));
    *is_new = 1;
    return core_iforest_score(D->x, D->n, D->d, 100, 256, 12345, cancel, *anom) != 0;
}

/* With nothing answered the pretrained head is the model: its training
 * size and metric are the run's.  Fitted to a function of the features
 * themselves (anything but the catalog's votes), it scores itself perfectly
 * out of bag: that says nothing, so then no metric. */
static void prior_is_the_model(const core_learn_data *D, const core_model_info *pinfo, core_learn_result *R)
{
    R->n_train = pinfo->n_train;
    snprintf(R->metric, sizeof R->metric, "%s", pinfo->metric);
    R->value = pinfo->value;
    if (strcmp(D->prior_src, "catalog") != 0) { snprintf(R->metric, sizeof R->metric, "prior"); R->value = NAN; }
}

/* The stored queue: the ranked galaxies, then any without features (not
 * embedded yet) in catalog order, so that it holds every galaxy.
 * malloc'ed, *nq entries. */
static uint32_t *queue_make(const core_learn_data *D, const core_learn_result *R, int *nq)
{
    uint32_t *queue = xmalloc(((size_t)D->max_gid + 1) * sizeof(uint32_t));
    int m = 0;
    for (int i = 0; i < D->n; i++) queue[m++] = D->gids[R->rank[i]];
    for (uint32_t g = 1; g <= D->max_gid; g++)
        if (D->row[g] < 0) queue[m++] = g;
    *nq = m;
    return queue;
}

/* The stored predictions, (max_gid + 1, *C) indexed by gid, NAN for
 * galaxies without features: a tree task's column probabilities, or a
 * rating task's predicted rating and its sd (*C = 2).  NULL (and *C 0)
 * without a model. */
static float *pred_make(const core_learn_data *D, const core_learn_result *R, uint32_t *C)
{
    float *pred = NULL;
    *C = 0;
    if (R->p) {
        *C = (uint32_t)D->C;
        pred = xmalloc(((size_t)D->max_gid + 1) * D->C * sizeof(float));
        for (size_t i = 0; i < ((size_t)D->max_gid + 1) * D->C; i++) pred[i] = NAN;
        for (int i = 0; i < D->n; i++)
            memcpy(pred + (size_t)D->gids[i] * D->C, R->p + (size_t)i * D->C, (size_t)D->C * sizeof(float));
    } else if (R->mu && D->C == 0) {
        *C = 2;
        pred = xmalloc(((size_t)D->max_gid + 1) * 2 * sizeof(float));
        for (size_t i = 0; i < ((size_t)D->max_gid + 1) * 2; i++) pred[i] = NAN;
        for (int i = 0; i < D->n; i++) {
            pred[(size_t)D->gids[i] * 2] = R->mu[i];
            pred[(size_t)D->gids[i] * 2 + 1] = R->sd[i];
        }
    }
    return pred;
}

/* Stores what the run made (learn_store.c, one write transaction); *info
 * gets the stored model's info.  0 or a store error code. */
static int run_store(zs_store *st, const core_learn_data *D, const core_learn_result *R, const char *order,
                     const float *anom_new, int warm, int prior_only, core_model_info *info)
{
    core_learn_record w;
    uint8_t *eb = NULL;
    memset(&w, 0, sizeof w);
    w.task = D->schema.name;
    w.info.time_us = core_now_us();
    w.info.n_train = R->n_train;
    snprintf(w.info.metric, sizeof w.info.metric, "%s", R->metric);
    w.info.value = R->value;
    snprintf(w.info.order, sizeof w.info.order, "%s", order);
    snprintf(w.info.features, sizeof w.info.features, "%s", D->features);
    w.info.n_prior = warm ? D->n_prior : 0;
    w.info.prior_only = warm && prior_only;
    uint32_t *queue = queue_make(D, R, &w.nq);
    float *pred = pred_make(D, R, &w.C);
    w.queue = queue;
    w.pred = pred;
    w.max_gid = D->max_gid;
    if (R->ens) core_ens_save(R->ens, &eb, &w.ens_len);
    w.ens = eb;
    if (R->gp) { w.has_gp = 1; core_gp_hyper_get(R->gp, &w.hp); }
    if (anom_new) { w.anom = anom_new; w.n_anom = D->n; }
    w.features = D->features;
    int rc = core_learn_store_put(st, &w);
    if (rc == 0) *info = w.info;
    free(eb);
    free(queue);
    free(pred);
    return rc;
}

int core_learn_run(zs_store *st, const core_learn_opts *opts, core_model_info *out,
                   char *err, size_t errlen)
{
    core_learn_data D;
    core_learn_result R;
    core_ens *warm = NULL;
    core_model_info pinfo, info;
    float *anom = NULL;
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
    /* the last model's GP hyperparameters start this fit */
    D.has_gp_start = core_learn_store_gp_start(st, D.schema.name, &D.gp_start) == 0;
    if (D.prior && D.C > 0) {
        warm = prior_head(st, &D, opts->seed, opts->cancel, &pinfo);
        if (opts->cancel && *opts->cancel) { rc = 1; goto end; }
    }
    if ((rc = run_anomaly(st, &D, ord, opts->cancel, &anom, &anom_new)) != 0) goto end;
    rc = core_learn_fit_rank(&D, order, opts->seed, warm, anom, opts->cancel, &R, err, errlen);
    if (rc != 0) goto end;
    int prior_only = R.n_train == 0 && warm && R.ens;
    if (prior_only) prior_is_the_model(&D, &pinfo, &R);
    if (opts->cancel && *opts->cancel) { rc = 1; goto end; }
    int src = run_store(st, &D, &R, order, anom_new ? anom : NULL, warm != NULL, prior_only, &info);
    if (src != 0) {
        snprintf(err, errlen, "storing the model: %s", store_strerror(src));
        rc = -1;
        goto end;
    }
    if (out) *out = info;
end:
    free(anom);
    core_ens_free(warm);
    core_learn_result_free(&R);
    core_learn_data_free(&D);
    return rc;
}
