/* t_knn.c - exact k-NN: the fast path against the naive loop and against
 * numpy; the workspace-level search (core/repr.h) on a real LMDB store. */
#include "tests/zt.h"
#include "core/knn.h"
#include "core/repr.h"
#include "core/util.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static float *random_matrix(int n, int d, uint64_t seed)
{
    core_rng r;
    core_rng_seed(&r, seed);
    float *x = xmalloc(sizeof(float) * (size_t)n * d);
    for (size_t i = 0; i < (size_t)n * d; i++) x[i] = (float)core_rng_normal(&r);
    return x;
}

/* Same neighbours, or a swap among (near-)equal distances. */
static void same_result(const int *i1, const float *d1, const int *i2, const float *d2, int k, const char *what)
{
    for (int i = 0; i < k; i++) {
        ZT_CHECK(fabsf(d1[i] - d2[i]) <= 1e-4f * (1 + fabsf(d2[i])), "%s: distance %d: %g vs %g", what, i, d1[i], d2[i]);
        if (i1[i] != i2[i]) {
            int found = 0;
            for (int j = 0; j < k; j++) found |= i1[i] == i2[j];
            ZT_CHECK(found && fabsf(d1[i] - d2[i]) < 1e-5f * (1 + fabsf(d2[i])),
                     "%s: neighbour %d is row %d, the naive loop says %d", what, i, i1[i], i2[i]);
        }
    }
}

static void fast_equals_naive(void)
{
    const int n = 120000, d = 40, k = 20;   /* large enough for two threads */
    float *x = random_matrix(n, d, 1);
    int i1[20], i2[20];
    float d1[20], d2[20];
    for (int metric = 0; metric < 2; metric++) {
        core_knn *ix;
        ZT_OK(core_knn_new(&ix, x, n, d, metric));
        for (int t = 0; t < 6; t++) {
            const int row = t * 19997 % n;
            const float *q = x + (size_t)row * d;
            int f1 = core_knn_query(ix, q, k, -1, i1, d1);
            int f2 = core_knn_topk_naive(x, n, d, q, k, metric, i2, d2);
            ZT_CHECK(f1 == k && f2 == k, "found %d / %d", f1, f2);
            same_result(i1, d1, i2, d2, k, core_knn_metric_name(metric));
            ZT_CHECK(i1[0] == row && d1[0] < 1e-3f, "%s: the query row is its own nearest (%d, %g)",
                     core_knn_metric_name(metric), i1[0], d1[0]);
        }
        core_knn_free(ix);
    }
    free(x);
}

static void equals_numpy(void)
{
    if (access("/usr/bin/python3", X_OK) != 0) zt_skip("no /usr/bin/python3 for the numpy peer");
    const int n = 20000, d = 24, k = 10;
    float *x = random_matrix(n, d, 2);
    FILE *f = fopen("x.f32", "wb");
    ZT_CHECK(f && fwrite(x, sizeof(float), (size_t)n * d, f) == (size_t)n * d, "write");
    fclose(f);
    int st = zt_sh("py.out",
        "/usr/bin/python3 -c \"\n"
        "import numpy as np\n"
        "x = np.fromfile('x.f32', np.float32).reshape(%d, %d).astype(np.float64)\n"
        "q = x[123] * 0.5 + x[4567] * 0.5\n"
        "e = np.sqrt(((x - q) ** 2).sum(1))\n"
        "c = 1 - (x @ q) / np.linalg.norm(x, axis=1) / np.linalg.norm(q)\n"
        "np.concatenate([np.argsort(e, kind='stable')[:%d], np.argsort(c, kind='stable')[:%d]]).astype(np.int32).tofile('idx.i32')\n"
        "\"", n, d, k, k);
    if (st != 0) zt_skip("numpy peer failed (exit %d)", st);
    size_t len;
    int *ni = (int *)zt_slurp("idx.i32", &len);
    ZT_CHECK(ni && len == sizeof(int) * 2 * k, "numpy output");
    float q[24];
    for (int j = 0; j < d; j++) q[j] = x[123 * d + j] * 0.5f + x[4567 * d + j] * 0.5f;
    int idx[10];
    float dist[10];
    for (int metric = 0; metric < 2; metric++) {
        ZT_CHECK(core_knn_topk(x, n, d, q, k, metric, idx, dist) == k, "found k");
        for (int i = 0; i < k; i++)
            ZT_CHECK(idx[i] == ni[metric * k + i], "%s neighbour %d: ours %d numpy %d",
                     core_knn_metric_name(metric), i, idx[i], ni[metric * k + i]);
    }
    free(ni);
    free(x);
}

static void exclusion_small_sets_and_ties(void)
{
    /* rows 0..9 on a line; rows 10 and 11 duplicate row 3 */
    float x[12 * 2];
    for (int i = 0; i < 10; i++) { x[2 * i] = (float)i; x[2 * i + 1] = 0; }
    x[20] = 3; x[21] = 0; x[22] = 3; x[23] = 0;
    core_knn *ix;
    ZT_OK(core_knn_new(&ix, x, 12, 2, CORE_KNN_EUCLIDEAN));
    int idx[20];
    float dist[20];
    int f = core_knn_query(ix, x + 6, 4, 3, idx, dist);
    ZT_CHECK(f == 4, "found %d", f);
    ZT_CHECK(idx[0] == 10 && idx[1] == 11 && dist[0] == 0 && dist[1] == 0, "duplicates first, by index: %d %d", idx[0], idx[1]);
    ZT_CHECK((idx[2] == 2 || idx[2] == 4) && fabsf(dist[2] - 1) < 1e-6f, "then a neighbour at 1: %d %g", idx[2], dist[2]);
    ZT_CHECK(idx[2] == 2 && idx[3] == 4, "ties broken by the smaller row: %d %d", idx[2], idx[3]);
    for (int i = 0; i < f; i++) ZT_CHECK(idx[i] != 3, "the excluded row never comes back");
    f = core_knn_query(ix, x, 20, 0, idx, dist);
    ZT_CHECK(f == 11, "k larger than the set gives every other row: %d", f);
    core_knn_free(ix);
    ZT_CHECK(core_knn_topk(x, 12, 2, x, 0, 0, idx, dist) == -1, "k = 0 refused");
    ZT_CHECK(core_knn_topk(x, 12, 0, x, 3, 0, idx, dist) == -1, "d = 0 refused");
    ZT_CHECK(core_knn_topk(x, 12, 2, x, 3, 7, idx, dist) == -1, "unknown metric refused");
    ZT_CHECK(core_knn_topk(x, 0, 2, x, 3, 0, idx, dist) == 0, "an empty matrix finds nothing");
    ZT_CHECK(core_knn_metric_parse("cosine") == CORE_KNN_COSINE && core_knn_metric_parse("manhattan") == -1, "parse");
}

static void cosine_handles_zero_vectors_and_scale(void)
{
    float x[4 * 3] = {0, 0, 0,  1, 0, 0,  10, 0.1f, 0,  0, 1, 0};
    float q[3] = {2, 0, 0};
    int idx[4];
    float dist[4];
    ZT_CHECK(core_knn_topk(x, 4, 3, q, 4, CORE_KNN_COSINE, idx, dist) == 4, "found 4");
    ZT_CHECK(idx[0] == 1 && fabsf(dist[0]) < 1e-6f, "same direction first at 0: %d %g", idx[0], dist[0]);
    ZT_CHECK(idx[1] == 2, "length does not matter under cosine: %d", idx[1]);
    ZT_CHECK(idx[2] == 0 && dist[2] == 1.0f, "a zero vector is at distance 1: %d %g", idx[2], dist[2]);
    ZT_CHECK(idx[3] == 3 && fabsf(dist[3] - 1) < 1e-6f, "orthogonal at 1: %d %g", idx[3], dist[3]);
}

static void batch_equals_single(void)
{
    const int n = 5000, d = 16, m = 7, k = 5;
    float *x = random_matrix(n, d, 9);
    for (int metric = 0; metric < 2; metric++) {
        core_knn *ix;
        ZT_OK(core_knn_new(&ix, x, n, d, metric));
        float q[7 * 16];
        int ex[7], bi[7 * 5], si[5];
        float bd[7 * 5], sd[5];
        for (int a = 0; a < m; a++) { memcpy(q + a * d, x + (size_t)(a * 700) * d, sizeof(float) * d); ex[a] = a * 700; }
        ZT_OK(core_knn_query_batch(ix, q, m, k, ex, bi, bd));
        for (int a = 0; a < m; a++) {
            ZT_CHECK(core_knn_query(ix, q + a * d, k, ex[a], si, sd) == k, "single");
            same_result(bi + a * k, bd + a * k, si, sd, k, "batch");
        }
        core_knn_free(ix);
    }
    free(x);
}

/* ---- workspace level ------------------------------------------------------- */
typedef struct { int n, d; const float *x; } fill_ctx;

static int fill(zs_txn *txn, void *arg)
{
    fill_ctx *c = arg;
    int rc = store_featset_put(txn, "toy", c->d, "test vectors");
    for (int i = 0; i < c->n && rc == 0; i++) {
        char id[32], file[64];
        snprintf(id, sizeof id, "G%03d", i);
        snprintf(file, sizeof file, "/nonexistent/%s.png", id);
        store_galaxy g = {.id_str = id, .file = file, .ra = NAN, .dec = NAN};
        uint32_t gid;
        int created;
        if ((rc = store_galaxy_put(txn, &g, &gid, &created))) break;
        rc = store_feature_put(txn, "toy", gid, c->x + (size_t)i * c->d, c->d);
    }
    if (rc == 0) rc = store_meta_put(txn, CORE_REPR_META_DEFAULT, "toy");
    return rc;
}

static void workspace_search_finds_the_twin(void)
{
    const int n = 300, d = 30;
    float *x = random_matrix(n, d, 4);
    /* galaxy 200 (gid 201) is a near twin of galaxy 10 (gid 11) */
    for (int j = 0; j < d; j++) x[200 * d + j] = x[10 * d + j] + 0.01f;
    zs_store *st;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    fill_ctx fc = {n, d, x};
    ZT_OK(store_write(st, fill, &fc));
    zs_txn *txn;
    uint32_t got[5];
    float dist[5];
    ZT_OK(store_read_begin(st, &txn));
    ZT_CHECK(core_repr_similar(txn, 11, 5, got, dist) == 5, "five found over the raw set");
    ZT_CHECK(got[0] == 201, "the twin is nearest (got gid %u)", got[0]);
    for (int i = 0; i < 5; i++) ZT_CHECK(got[i] != 11, "the query galaxy is left out");
    ZT_CHECK(core_repr_similar(txn, 9999, 5, got, dist) == STORE_ENOTFOUND, "an unknown gid is STORE_ENOTFOUND");
    store_read_end(txn);

    /* after a PCA of the default set, similarity searches "pca10" */
    char name[64], err[256];
    ZT_OK(core_repr_pca_fit(st, "toy", 10, name, sizeof name, err, sizeof err));
    ZT_CHECK(strcmp(name, "pca10") == 0, "set name %s", name);
    ZT_OK(store_read_begin(st, &txn));
    char sim[64];
    ZT_OK(core_repr_similar_set(txn, sim, sizeof sim));
    ZT_CHECK(strcmp(sim, "pca10") == 0, "similarity set %s", sim);
    ZT_CHECK(core_repr_similar(txn, 201, 3, got, NULL) == 3 && got[0] == 11, "twin found in PCA space: %u", got[0]);
    /* a new vector projects like the stored one */
    float y[10];
    int k;
    ZT_OK(core_repr_project(txn, "toy", x + 10 * d, d, y, 10, &k));
    const float *v;
    int vd;
    ZT_OK(store_feature_get(txn, "pca10", 11, &v, &vd));
    float vv[10];
    memcpy(vv, v, sizeof vv);
    ZT_CHECK(k == 10 && vd == 10, "k %d dim %d", k, vd);
    for (int j = 0; j < 10; j++) ZT_CHECK(fabsf(vv[j] - y[j]) < 1e-4f, "projection %d: %g vs %g", j, vv[j], y[j]);
    ZT_CHECK(core_repr_project(txn, "nope", x, d, y, 10, &k) == STORE_ENOTFOUND, "no PCA for an unknown set");
    ZT_CHECK(core_repr_project(txn, "toy", x, d - 1, y, 10, &k) == STORE_EDIM, "dimension checked");
    store_read_end(txn);
    ZT_CHECK(core_repr_pca_fit(st, "missing", 10, name, sizeof name, err, sizeof err) == STORE_ENOTFOUND, "missing set");
    ZT_CHECK(strstr(err, "missing") != NULL, "reason names the set: %s", err);
    store_close(st);
    free(x);
}

static void empty_workspace_says_not_found(void)
{
    zs_store *st;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    zs_txn *txn;
    uint32_t got[3];
    ZT_OK(store_read_begin(st, &txn));
    ZT_CHECK(core_repr_similar(txn, 1, 3, got, NULL) == STORE_ENOTFOUND, "no features yet");
    store_read_end(txn);
    store_close(st);
}

/* ---- core_repr_embed with a toy encoder ---------------------------------- */
static int toy_fn(void *ctx, const core_image *imgs, int n, float *out, char *err, size_t errlen)
{
    (void)ctx;
    for (int i = 0; i < n; i++) {
        if (imgs[i].w == 13) { snprintf(err, errlen, "13 pixels wide: refused"); return -1; }
        double s[3] = {0, 0, 0};
        for (int p = 0; p < imgs[i].w * imgs[i].h; p++)
            for (int c = 0; c < 3; c++) s[c] += imgs[i].px[p * 3 + c];
        for (int c = 0; c < 3; c++) out[(size_t)i * 3 + c] = (float)(s[c] / (imgs[i].w * imgs[i].h));
    }
    return 0;
}

typedef struct { int n; } gal_ctx;

static int put_galaxies(zs_txn *txn, void *arg)
{
    gal_ctx *c = arg;
    for (int i = 0; i < c->n; i++) {
        char id[32], file[64];
        snprintf(id, sizeof id, "G%03d", i);
        snprintf(file, sizeof file, "/nonexistent/%s.png", id);
        store_galaxy g = {.id_str = id, .file = file, .ra = NAN, .dec = NAN};
        uint32_t gid;
        int created, rc;
        if ((rc = store_galaxy_put(txn, &g, &gid, &created))) return rc;
        if (i % 25 == 24) continue;                 /* no thumbnail, no file: missing */
        int w = i == 7 ? 13 : 16, h = 16;           /* galaxy 7: the encoder refuses it */
        uint8_t px[16 * 16 * 3];
        for (int p = 0; p < w * h; p++) { px[p * 3] = (uint8_t)i; px[p * 3 + 1] = (uint8_t)(2 * i); px[p * 3 + 2] = 7; }
        if ((rc = store_thumb_put(txn, gid, w, h, px))) return rc;
    }
    return 0;
}

static void embed_stores_every_galaxy_and_reports_the_rest(void)
{
    const int n = 1100;   /* more than one chunk of 512 */
    zs_store *st;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    gal_ctx gc = {n};
    ZT_OK(store_write(st, put_galaxies, &gc));
    core_repr_encoder enc = {.set = "toy", .provenance = "toy v1", .dim = 3, .threads = 2, .batch = 5, .fn = toy_fn};
    core_repr_stats stats;
    char err[256] = "";
    ZT_OK(core_repr_embed(st, &enc, NULL, NULL, NULL, &stats, err, sizeof err));
    int missing = n / 25;
    ZT_CHECK(stats.n_missing == (uint32_t)missing, "missing %u, want %d", stats.n_missing, missing);
    ZT_CHECK(stats.n_failed == 1, "refused %u, want 1", stats.n_failed);
    ZT_CHECK(stats.n_done == (uint32_t)(n - missing - 1), "done %u", stats.n_done);
    ZT_CHECK(strstr(stats.first_problem, "G024") && strstr(stats.first_problem, "/nonexistent/"),
             "the first problem names the galaxy and its file: %s", stats.first_problem);
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    char def[64];
    ZT_OK(core_repr_default_set(txn, def, sizeof def));
    ZT_CHECK(strcmp(def, "toy") == 0, "features.default is now %s", def);
    uint32_t cnt;
    ZT_OK(store_feature_count(txn, "toy", &cnt));
    ZT_CHECK(cnt == stats.n_done, "%u vectors stored", cnt);
    for (uint32_t gid = 1; gid <= (uint32_t)n; gid++) {
        const float *v;
        int d;
        int i = (int)gid - 1, rc = store_feature_get(txn, "toy", gid, &v, &d);
        if (i % 25 == 24 || i == 7) { ZT_CHECK(rc == STORE_ENOTFOUND, "gid %u has no vector", gid); continue; }
        ZT_CHECK(rc == 0 && d == 3, "gid %u: rc %d dim %d", gid, rc, d);
        float f[3];
        memcpy(f, v, sizeof f);
        ZT_CHECK(f[0] == (float)(uint8_t)i && f[1] == (float)(uint8_t)(2 * i) && f[2] == 7,
                 "gid %u holds its own galaxy's vector (%g %g %g)", gid, f[0], f[1], f[2]);
    }
    store_read_end(txn);
    /* a set of another dimension is refused with advice */
    enc.dim = 4;
    ZT_CHECK(core_repr_embed(st, &enc, NULL, NULL, NULL, &stats, err, sizeof err) == STORE_EDIM, "dim checked");
    ZT_CHECK(strstr(err, "--set") != NULL, "advice: %s", err);
    /* cancelling before the first batch writes nothing more */
    volatile int cancel = 1;
    enc.dim = 3;
    enc.set = "toy2";
    ZT_CHECK(core_repr_embed(st, &enc, NULL, NULL, &cancel, &stats, err, sizeof err) == STORE_EABORT, "cancelled");
    store_close(st);
}

const zt_case zt_suite_knn[] = {
    {"embed stores every galaxy's vector with two threads and reports the ones it cannot read",
     embed_stores_every_galaxy_and_reports_the_rest, 0},
    {"the fast top-k equals the naive loop (euclidean and cosine, two threads)", fast_equals_naive, 0},
    {"top-k equals numpy's brute force", equals_numpy, 0},
    {"the excluded row is skipped, ties go to the smaller row, k > n is fine", exclusion_small_sets_and_ties, 0},
    {"cosine ignores length and puts zero vectors at distance 1", cosine_handles_zero_vectors_and_scale, 0},
    {"a batch of queries (sgemm) equals single queries", batch_equals_single, 0},
    {"the workspace search finds a galaxy's twin, before and after PCA", workspace_search_finds_the_twin, 0},
    {"an empty workspace says not found", empty_workspace_says_not_found, 0},
    {0, 0, 0},
};
