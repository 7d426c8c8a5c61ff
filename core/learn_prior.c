/*
 * learn_prior.c - what a task knows before anyone answers (see learn.h):
 * the catalog's prior columns ("<q>_<a>" vote counts, "<q>_<a>_fraction",
 * or a 0/1 column named after a yes/no question) and the prior spec
 * (`train --prior-from SET[:COLUMN]`, or the schema's `prior`, e.g. the
 * encoder's predicted ring votes), turned into D->prior for the prior head.
 */
#include "core/learn.h"
#include "core/repr.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRIOR_FRACTION_VOTES 10.0f   /* a vote fraction counts as this many votes */

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
 * column per answer of the task in its column order, or the 37 Kaggle
 * answers for a task whose columns are among them (core_schema_prior_map:
 * gz2's 30), each question's fractions summing to 1 as the votes zoosh's
 * encoder predicts,
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
    int *map = xmalloc(sizeof(int) * (size_t)D->C);   /* (C) the set's column of each answer */
    if (core_schema_prior_map(&D->schema, d, map)) {
        free(x); free(g); free(map);
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
        for (int c = 0; c < D->C; c++) {
            float f = v[map[c]];
            o[c] = (f < 0 ? 0 : f > 1 ? 1 : f) * PRIOR_FRACTION_VOTES;
        }
        np++;
    }
    free(x); free(g); free(map);
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
    } else if (spec[0] && store_featset_get(txn, set, &dim, NULL) == 0) {
        int *map = xmalloc(sizeof(int) * (size_t)C);
        uint32_t cnt = 0;
        if (core_schema_prior_map(s, dim, map) == 0 && store_feature_count(txn, set, &cnt) == 0) n = (int)cnt;
        free(map);
    }
    if (n > 0) { snprintf(src, len, "%s", spec); return n; }
    if (have_catalog) { snprintf(src, len, "catalog"); return -1; }
    return 0;
}

static void catalog_prior_put(zs_txn *txn, core_learn_data *D, int c, const char *use, int a, float scale,
                              int label01)
{
    double *colv = NULL;
    uint32_t len = 0;
    if (store_prior_column(txn, use, &colv, &len) != 0) return;
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

/* D->prior: the catalog's "<q>_<a>" counts, "<q>_<a>_fraction", or a 0/1
 * column named after a binary question; then the task's prior spec
 * (prior_column) over them. */
void core_learn_prior_load(zs_txn *txn, core_learn_data *D)
{
    char **names = NULL;
    int nn = 0;
    if (store_prior_columns(txn, &names, &nn) == 0 && nn > 0) {
        for (int c = 0; c < D->C; c++) {
            float scale;
            int a, label01;
            const char *use = catalog_column(&D->schema, c, names, nn, &a, &scale, &label01);
            if (use) catalog_prior_put(txn, D, c, use, a, scale, label01);
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

