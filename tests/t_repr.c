/* t_repr.c - combined feature sets (core_repr_combine, the default
 * representation morph + convnext): the concatenation on a real LMDB store,
 * the block weights against the naive sums, and the PCA of a combined set
 * against a PCA with the weights given by hand. */
#include "tests/zt.h"
#include "core/morph.h"
#include "core/pca.h"
#include "core/repr.h"
#include "core/util.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Naive: block b's weights are its base weights (core_morph_weight for a
 * morph block, else 1) over the root of their sum of squares. */
static void block_weights_naive(const int *width, const int *is_morph, int nb, float *w)
{
    int off = 0;
    for (int b = 0; b < nb; b++) {
        double ss = 0;
        for (int j = 0; j < width[b]; j++) {
            double u = is_morph[b] ? core_morph_weight(j) : 1.0;
            ss += u * u;
        }
        for (int j = 0; j < width[b]; j++)
            w[off + j] = (float)((is_morph[b] ? core_morph_weight(j) : 1.0) / sqrt(ss));
        off += width[b];
    }
}

static void block_weights_balance_every_block(void)
{
    int md = core_morph_dim();
    int width[3] = {md, 256, 7}, morph[3] = {1, 0, 0};
    int d = md + 256 + 7;
    float *w = xmalloc(sizeof(float) * (size_t)d), *wn = xmalloc(sizeof(float) * (size_t)d);
    core_repr_block_weights(width, morph, 3, w);
    block_weights_naive(width, morph, 3, wn);
    for (int j = 0; j < d; j++) ZT_CHECK(fabsf(w[j] - wn[j]) <= 1e-6f * fabsf(wn[j]) + 1e-9f, "weight %d: %g vs %g", j, w[j], wn[j]);
    int off = 0;
    for (int b = 0; b < 3; b++) {
        double ss = 0;
        for (int j = 0; j < width[b]; j++) ss += (double)w[off + j] * w[off + j];
        ZT_CHECK(fabs(ss - 1) < 1e-5, "block %d carries total variance %g, not 1", b, ss);
        off += width[b];
    }
    ZT_CHECK(fabsf(w[md] - 1 / 16.0f) < 1e-7f, "a 256-wide plain block weighs 1/16 per column: %g", w[md]);
    /* inside the morph block the ratios are core_morph_weight's */
    for (int j = 1; j < md; j++)
        ZT_CHECK(fabsf(w[j] / w[0] - core_morph_weight(j) / core_morph_weight(0)) < 1e-5f, "morph column %d", j);
    free(w);
    free(wn);
}

static void provenance_parses_and_refuses_garbage(void)
{
    int w[8], m[8];
    ZT_CHECK(core_repr_combine_parse(CORE_REPR_COMBINE_VERSION " morph:270:m convnext:256", w, m, 8) == 2, "two blocks");
    ZT_CHECK(w[0] == 270 && m[0] == 1 && w[1] == 256 && m[1] == 0, "%d:%d %d:%d", w[0], m[0], w[1], m[1]);
    ZT_CHECK(core_repr_combine_parse("morph v1 (thumbnail)", w, m, 8) == 0, "not a combined set");
    ZT_CHECK(core_repr_combine_parse(NULL, w, m, 8) == 0, "NULL is not one either");
    ZT_CHECK(core_repr_combine_parse(CORE_REPR_COMBINE_VERSION " morph:x", w, m, 8) == -1, "bad width");
    ZT_CHECK(core_repr_combine_parse(CORE_REPR_COMBINE_VERSION " morph", w, m, 8) == -1, "no width");
    ZT_CHECK(core_repr_combine_parse(CORE_REPR_COMBINE_VERSION " a:1:q", w, m, 8) == -1, "unknown flag");
    ZT_CHECK(core_repr_combine_parse(CORE_REPR_COMBINE_VERSION " a:1 b:1 c:1", w, m, 2) == -1, "too many blocks");
}

/* Two sets on galaxies 1..n: "a" (random, da dims, morph provenance when
 * da == core_morph_dim()), "b" (db dims) missing galaxy `hole`. */
typedef struct { int n, da, db; uint32_t hole; const float *xa, *xb; } two_sets;

static int fill_two(zs_txn *txn, void *arg)
{
    two_sets *c = arg;
    int rc = store_featset_put(txn, "a", c->da, c->da == core_morph_dim() ? CORE_MORPH_VERSION " test" : "test a");
    if (rc == 0) rc = store_featset_put(txn, "b", c->db, "test b");
    for (int i = 0; i < c->n && rc == 0; i++) {
        char id[32], file[64];
        snprintf(id, sizeof id, "G%03d", i);
        snprintf(file, sizeof file, "/nonexistent/%s.png", id);
        store_galaxy g = {.id_str = id, .file = file, .ra = NAN, .dec = NAN};
        uint32_t gid;
        int created;
        if ((rc = store_galaxy_put(txn, &g, &gid, &created))) break;
        rc = store_feature_put(txn, "a", gid, c->xa + (size_t)i * c->da, c->da);
        if (rc == 0 && gid != c->hole) rc = store_feature_put(txn, "b", gid, c->xb + (size_t)i * c->db, c->db);
    }
    if (rc == 0) rc = store_meta_put(txn, CORE_REPR_META_DEFAULT, "a");
    return rc;
}

static float *randn(int n, int d, uint64_t seed, float scale)
{
    core_rng r;
    core_rng_seed(&r, seed);
    float *x = xmalloc(sizeof(float) * (size_t)n * d);
    for (size_t i = 0; i < (size_t)n * d; i++) x[i] = scale * (float)core_rng_normal(&r);
    return x;
}

static void combine_concatenates_and_becomes_the_default(void)
{
    const int n = 40, da = core_morph_dim(), db = 6;
    float *xa = randn(n, da, 1, 1), *xb = randn(n, db, 2, 100);
    zs_store *st;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    two_sets c = {n, da, db, 7, xa, xb};
    ZT_OK(store_write(st, fill_two, &c));
    const char *sets[] = {"a", "b"};
    char err[256] = "";
    int rows = 0, missing = 0;
    ZT_OK(core_repr_combine(st, sets, 2, "a+b", &rows, &missing, err, sizeof err));
    ZT_CHECK(rows == n - 1 && missing == 1, "rows %d missing %d", rows, missing);
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    int dim = 0;
    char *prov = NULL, def[64];
    ZT_OK(store_featset_get(txn, "a+b", &dim, &prov));
    ZT_CHECK(dim == da + db, "dim %d", dim);
    char want[128];
    snprintf(want, sizeof want, "%s a:%d:m b:%d", CORE_REPR_COMBINE_VERSION, da, db);
    ZT_CHECK(prov && strcmp(prov, want) == 0, "provenance '%s', want '%s'", prov ? prov : "", want);
    free(prov);
    ZT_OK(core_repr_default_set(txn, def, sizeof def));
    ZT_CHECK(strcmp(def, "a+b") == 0, "default set %s", def);
    const float *v;
    int vd;
    ZT_CHECK(store_feature_get(txn, "a+b", 7, &v, &vd) == STORE_ENOTFOUND, "the galaxy without b is left out");
    for (uint32_t g = 1; g <= (uint32_t)n; g++) {
        if (g == 7) continue;
        ZT_OK(store_feature_get(txn, "a+b", g, &v, &vd));
        float row[512];
        memcpy(row, v, sizeof(float) * (size_t)vd);
        ZT_CHECK(memcmp(row, xa + (size_t)(g - 1) * da, sizeof(float) * (size_t)da) == 0, "gid %u: a part", g);
        ZT_CHECK(memcmp(row + da, xb + (size_t)(g - 1) * db, sizeof(float) * (size_t)db) == 0, "gid %u: b part", g);
    }
    store_read_end(txn);

    /* errors: a missing set, a single set */
    const char *bad[] = {"a", "nope"};
    ZT_CHECK(core_repr_combine(st, bad, 2, "x", NULL, NULL, err, sizeof err) == STORE_ENOTFOUND, "missing set");
    ZT_CHECK(strstr(err, "nope") != NULL, "names it: %s", err);
    ZT_CHECK(core_repr_combine(st, sets, 1, "x", NULL, NULL, err, sizeof err) == STORE_EINVAL, "one set");
    store_close(st);
    free(xa);
    free(xb);
}

static void pca_of_a_combined_set_balances_its_blocks(void)
{
    /* block b is 100 times larger and 3 columns: unbalanced, it would take
     * the first component; balanced, both blocks count the same */
    const int n = 60, da = 20, db = 3, d = da + db;
    float *xa = randn(n, da, 3, 1), *xb = randn(n, db, 4, 100);
    zs_store *st;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    two_sets c = {n, da, db, 0, xa, xb};
    ZT_OK(store_write(st, fill_two, &c));
    const char *sets[] = {"a", "b"};
    char err[256] = "", name[64] = "";
    ZT_OK(core_repr_combine(st, sets, 2, "a+b", NULL, NULL, err, sizeof err));
    ZT_OK(core_repr_pca_fit(st, "a+b", 8, name, sizeof name, err, sizeof err));
    ZT_CHECK(strcmp(name, "pca8") == 0, "the default set's PCA is pca8: %s", name);

    /* by hand: concatenate, weights 1/sqrt(20) and 1/sqrt(3), weighted PCA */
    float *x = xmalloc(sizeof(float) * (size_t)n * d), w[23];
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * d, xa + (size_t)i * da, sizeof(float) * da);
        memcpy(x + (size_t)i * d + da, xb + (size_t)i * db, sizeof(float) * db);
    }
    for (int j = 0; j < d; j++) w[j] = j < da ? 1 / sqrtf((float)da) : 1 / sqrtf((float)db);
    core_pca *p;
    ZT_OK(core_pca_fit_weighted(x, n, d, 8, 1, w, &p, err, sizeof err));
    float y[8];
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    char *prov = NULL;
    int dim;
    ZT_OK(store_featset_get(txn, "pca8", &dim, &prov));
    ZT_CHECK(prov && strstr(prov, "blocks balanced"), "provenance says so: %s", prov ? prov : "");
    free(prov);
    for (int i = 0; i < n; i++) {
        core_pca_transform(p, x + (size_t)i * d, 1, y);
        const float *v;
        int vd;
        ZT_OK(store_feature_get(txn, "pca8", (uint32_t)i + 1, &v, &vd));
        float got[8];
        memcpy(got, v, sizeof got);
        for (int k = 0; k < 8; k++)
            ZT_CHECK(fabsf(got[k] - y[k]) < 1e-4f * (1 + fabsf(y[k])), "galaxy %d component %d: %g vs %g", i, k, got[k], y[k]);
    }
    /* the stored PCA's scale holds sd_j / w_j: each block's total variance is 1 */
    const float *sc = core_pca_scale(p);
    double va = 0, vb = 0;
    for (int j = 0; j < d; j++) {
        double m = 0, s2 = 0;
        for (int i = 0; i < n; i++) m += x[(size_t)i * d + j];
        m /= n;
        for (int i = 0; i < n; i++) s2 += (x[(size_t)i * d + j] - m) * (x[(size_t)i * d + j] - m);
        double var = s2 / n / ((double)sc[j] * sc[j]);   /* the scale is the ddof-0 sd */
        if (j < da) va += var; else vb += var;
    }
    ZT_CHECK(fabs(va - 1) < 1e-3 && fabs(vb - 1) < 1e-3, "block variances %g and %g", va, vb);
    store_read_end(txn);
    core_pca_free(p);
    store_close(st);
    free(x);
    free(xa);
    free(xb);
}

const zt_case zt_suite_repr[] = {
    {"block weights give every block a total variance of 1 (fast = naive)", block_weights_balance_every_block, 0},
    {"a combined set's provenance parses; malformed ones are refused", provenance_parses_and_refuses_garbage, 0},
    {"combine concatenates the sets of the galaxies in all of them and becomes the default",
     combine_concatenates_and_becomes_the_default, 0},
    {"the PCA of a combined set balances its blocks (equals a PCA weighted by hand)",
     pca_of_a_combined_set_balances_its_blocks, 0},
    {0},
};
