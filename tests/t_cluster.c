/*
 * t_cluster.c - k-means (core/cluster.h): a hand-worked case, the fast fit
 * against the naive Lloyd loop, determinism by seed, k-means++ seeds, and
 * the clusters' show order and walk.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "core/util.h"
#include "zt.h"

/* n rows (n, d) around `centres` well-spread blobs of sd 1 (a fixed rng). */
static float *blobs(int n, int d, int centres, uint64_t seed)
{
    core_rng r;
    core_rng_seed(&r, seed);
    float *mu = xmalloc((size_t)centres * d * sizeof *mu);
    for (int i = 0; i < centres * d; i++) mu[i] = (float)(core_rng_normal(&r) * 4);
    float *x = xmalloc((size_t)n * d * sizeof *x);
    for (int i = 0; i < n; i++) {
        int c = (int)core_rng_below(&r, (uint32_t)centres);
        for (int j = 0; j < d; j++) x[(size_t)i * d + j] = mu[c * d + j] + (float)core_rng_normal(&r);
    }
    free(mu);
    return x;
}

static void two_groups_by_hand(void)
{
    /* three rows near (0,0), three near (10,10): the means are (1/3, 1/3)
     * and (31/3, 31/3); inertia = 2 * (2*(1/3)^2*... ) worked below */
    const float x[] = {0, 0, 1, 0, 0, 1, 10, 10, 11, 10, 10, 11};
    core_kmeans km;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        ZT_OK(core_kmeans_fit(x, 6, 2, 2, seed, 0, &km));
        ZT_CHECK(km.assign[0] == km.assign[1] && km.assign[1] == km.assign[2], "seed %llu: the first three together",
                 (unsigned long long)seed);
        ZT_CHECK(km.assign[3] == km.assign[4] && km.assign[4] == km.assign[5] && km.assign[3] != km.assign[0],
                 "seed %llu: the last three together, apart", (unsigned long long)seed);
        const float *lo = km.centroid + 2 * km.assign[0], *hi = km.centroid + 2 * km.assign[3];
        ZT_CHECK(fabsf(lo[0] - 1.0f / 3) < 1e-6f && fabsf(lo[1] - 1.0f / 3) < 1e-6f, "centroid (%g, %g)", lo[0], lo[1]);
        ZT_CHECK(fabsf(hi[0] - 31.0f / 3) < 1e-5f && fabsf(hi[1] - 31.0f / 3) < 1e-5f, "centroid (%g, %g)", hi[0], hi[1]);
        /* each group: (1/3)^2*2 + (2/3)^2+(1/3)^2 twice = 2/9 + 5/9 + 5/9 = 4/3 */
        ZT_CHECK(fabs(km.inertia - 8.0 / 3) < 1e-5, "inertia %.7f, by hand 8/3", km.inertia);
        ZT_CHECK(km.size[km.assign[0]] == 3 && km.size[km.assign[3]] == 3, "sizes 3 and 3");
        core_kmeans_free(&km);
    }
    ZT_CHECK(core_kmeans_fit(x, 6, 2, 7, 1, 0, &km) == -1 && !km.assign, "k > n is refused");
    ZT_CHECK(core_kmeans_fit(x, 6, 2, 0, 1, 0, &km) == -1, "k 0 is refused");
}

static void fast_fit_equals_the_naive_lloyd_loop(void)
{
    const struct { int n, d, k, blobs; uint64_t seed; } cases[] = {
        {3000, 8, 12, 10, 1}, {2000, 40, 30, 25, 2}, {500, 3, 40, 5, 3}, {4000, 16, 64, 64, 4}, {50, 2, 7, 7, 5},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int n = cases[t].n, d = cases[t].d, k = cases[t].k;
        float *x = blobs(n, d, cases[t].blobs, cases[t].seed);
        core_kmeans a, b;
        ZT_OK(core_kmeans_fit(x, n, d, k, cases[t].seed * 7, 0, &a));
        ZT_OK(core_kmeans_fit_naive(x, n, d, k, cases[t].seed * 7, 0, &b));
        int differ = 0;
        for (int i = 0; i < n; i++) differ += a.assign[i] != b.assign[i];
        ZT_CHECK(differ == 0, "case %zu: %d of %d rows in another cluster than the naive fit's", t, differ, n);
        ZT_CHECK(a.iters == b.iters, "case %zu: %d iterations, naive %d", t, a.iters, b.iters);
        ZT_CHECK(memcmp(a.centroid, b.centroid, (size_t)k * d * sizeof(float)) == 0, "case %zu: the same centroids", t);
        ZT_CHECK(fabs(a.inertia - b.inertia) <= 1e-9 * b.inertia, "case %zu: inertia %g vs %g", t, a.inertia, b.inertia);
        /* Lloyd's fixed point: every row's centroid is its nearest */
        for (int i = 0; i < n; i++) {
            const float *xi = x + (size_t)i * d;
            double own = 0;
            for (int j = 0; j < d; j++) own += pow(xi[j] - a.centroid[a.assign[i] * d + j], 2);
            for (int c = 0; c < k; c++) {
                double e = 0;
                for (int j = 0; j < d; j++) e += pow(xi[j] - a.centroid[c * d + j], 2);
                ZT_CHECK(e >= own - 1e-3 * (1 + own) || a.iters == 100, "case %zu row %d: cluster %d nearer (%g < %g)", t, i, c, e, own);
            }
        }
        int total = 0;
        for (int c = 0; c < k; c++) total += a.size[c];
        ZT_CHECK(total == n, "sizes add up to n");
        core_kmeans_free(&a);
        core_kmeans_free(&b);
        free(x);
    }
}

static void same_seed_same_clusters_and_seeds_are_rows(void)
{
    int n = 1500, d = 10, k = 20;
    float *x = blobs(n, d, 15, 11);
    core_kmeans a, b, c;
    ZT_OK(core_kmeans_fit(x, n, d, k, 42, 0, &a));
    ZT_OK(core_kmeans_fit(x, n, d, k, 42, 0, &b));
    ZT_OK(core_kmeans_fit(x, n, d, k, 43, 0, &c));
    ZT_CHECK(memcmp(a.assign, b.assign, (size_t)n * sizeof(int)) == 0 && a.inertia == b.inertia, "seed 42 twice: the same fit");
    float *s1 = xmalloc((size_t)k * d * sizeof *s1), *s2 = xmalloc((size_t)k * d * sizeof *s2);
    core_kmeans_seed(x, n, d, k, 42, s1);
    core_kmeans_seed(x, n, d, k, 43, s2);
    ZT_CHECK(memcmp(s1, s2, (size_t)k * d * sizeof *s1) != 0, "another seed, other seeds");
    for (int c0 = 0; c0 < k; c0++) {      /* each seed is a row of x, and no row twice */
        int row = -1;
        for (int i = 0; i < n && row < 0; i++)
            if (memcmp(x + (size_t)i * d, s1 + (size_t)c0 * d, (size_t)d * sizeof *x) == 0) row = i;
        ZT_CHECK(row >= 0, "seed %d is a row of x", c0);
        for (int o = 0; o < c0; o++)
            ZT_CHECK(memcmp(s1 + (size_t)o * d, s1 + (size_t)c0 * d, (size_t)d * sizeof *x) != 0, "seeds %d and %d differ", o, c0);
    }
    /* 15 blobs of sd 1 with centres of sd 4: one cluster leaves about
     * 17 n d, the blobs found leave n d; overlapping blobs cost some */
    double pp = 0;
    for (uint64_t s = 1; s <= 5; s++) {
        core_kmeans t;
        ZT_OK(core_kmeans_fit(x, n, d, 15, s, 0, &t));
        pp += t.inertia / 5;
        core_kmeans_free(&t);
    }
    ZT_CHECK(pp < 2.0 * n * d, "k-means++ fits 15 blobs of sd 1: inertia %g, n*d = %d", pp, n * d);
    free(s1);
    free(s2);
    core_kmeans_free(&a);
    core_kmeans_free(&b);
    core_kmeans_free(&c);
    free(x);
}

static void clusters_alternate_largest_and_most_unusual(void)
{
    /* sizes 50, 10, 40, 0, 5; unusual 1, 3, 2, 9 (empty: never shown), 4:
     * largest 0, most unusual 4, next largest 2, next unusual 1 */
    const int size[] = {50, 10, 40, 0, 5};
    const double unusual[] = {1, 3, 2, 9, 4};
    int order[5], why[5];
    int n = core_cluster_order(size, unusual, 5, order, why);
    ZT_CHECK(n == 4, "4 non-empty clusters, got %d", n);
    const int want[] = {0, 4, 2, 1};
    for (int i = 0; i < 4; i++) ZT_CHECK(order[i] == want[i], "place %d: cluster %d, want %d", i, order[i], want[i]);
    ZT_CHECK(why[0] == CORE_CLUSTER_LARGEST && why[1] == CORE_CLUSTER_UNUSUAL && why[2] == CORE_CLUSTER_LARGEST,
             "turns alternate");
    /* unusual by hand: centroids 0, 3 and 10 on a line */
    core_kmeans km = {.n = 3, .d = 1, .k = 3};
    float cen[] = {0, 3, 10};
    int sz[] = {1, 1, 1};
    km.centroid = cen;
    km.size = sz;
    double u[3];
    core_cluster_unusual(&km, u);
    ZT_CHECK(fabs(u[0] - 6.5) < 1e-6 && fabs(u[1] - 5) < 1e-6 && fabs(u[2] - 8.5) < 1e-6, "unusual %g %g %g, by hand 6.5 5 8.5",
             u[0], u[1], u[2]);
    ZT_CHECK(core_cluster_default_k(100000) == 64 && core_cluster_default_k(200) == 10 && core_cluster_default_k(3) == 2 &&
             core_cluster_default_k(1) == 1, "default k: 64, 10, 2, 1");
}

static void the_walk_lists_every_galaxy_once_nearest_first(void)
{
    int n = 900, d = 6;
    float *x = blobs(n, d, 6, 5);
    uint32_t *gids = xmalloc((size_t)n * sizeof *gids);
    for (int i = 0; i < n; i++) gids[i] = (uint32_t)(3 * i + 7);
    core_cluster_walk *w = core_cluster_walk_new(x, gids, n, d, 0, 9);
    ZT_CHECK(w && core_cluster_walk_fit(w)->k == core_cluster_default_k(n), "k %d", w ? core_cluster_walk_fit(w)->k : -1);
    uint8_t *seen = xcalloc((size_t)3 * n + 8, 1);
    int total = 0, prev_size = 1 << 30;
    for (int i = 0; i < core_cluster_walk_n(w); i++) {
        const uint32_t *g;
        const float *dist;
        int why;
        int m = core_cluster_walk_get(w, i, &g, &dist, &why, NULL);
        ZT_CHECK(m > 0, "cluster %d is not empty", i);
        if (why == CORE_CLUSTER_LARGEST) {
            ZT_CHECK(m <= prev_size, "the largest turns come in falling size");
            prev_size = m;
        }
        for (int j = 0; j < m; j++) {
            int ours = g[j] >= 7 && (g[j] - 7) / 3 * 3 == g[j] - 7;
            ZT_CHECK(!seen[g[j]] && ours, "gid %u once, one of ours", g[j]);
            seen[g[j]] = 1;
            ZT_CHECK(j == 0 || dist[j] >= dist[j - 1], "members nearest the centroid first");
        }
        total += m;
    }
    ZT_CHECK(total == n, "%d galaxies walked, %d clustered", total, n);
    ZT_CHECK(core_cluster_walk_get(w, core_cluster_walk_n(w), NULL, NULL, NULL, NULL) == 0, "past the end: none");
    core_cluster_walk_free(w);
    ZT_CHECK(core_cluster_walk_new(x, gids, 0, d, 0, 1) == NULL, "no rows: no walk");
    free(seen);
    free(gids);
    free(x);
}

const zt_case zt_suite_cluster[] = {
    {"two groups by hand", two_groups_by_hand, 0},
    {"the fast fit equals the naive Lloyd loop", fast_fit_equals_the_naive_lloyd_loop, 0},
    {"the same seed gives the same clusters; seeds are rows", same_seed_same_clusters_and_seeds_are_rows, 0},
    {"clusters alternate largest and most unusual", clusters_alternate_largest_and_most_unusual, 0},
    {"the walk lists every galaxy once, nearest first", the_walk_lists_every_galaxy_once_nearest_first, 0},
    {0},
};
