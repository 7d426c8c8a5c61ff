/*
 * cluster.c - k-means (k-means++ seeds, Lloyd with Hamerly's bounds, and
 * the naive Lloyd reference), the clusters' show order and the walk the
 * labeler's cluster pages take (see cluster.h).  No store, no terminal.
 */
#include "core/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_ITER_DEFAULT 100
#define K_MAX 64
#define WALK_SAMPLE 8192      /* rows the walk fits its centroids on */
#define WALK_ITER 30          /* and its iterations, at most */

/* Four floats as one vector register (GCC and Clang vector extensions;
 * SSE on x86-64, NEON on arm64, plain code elsewhere). */
typedef float v4sf __attribute__((vector_size(16)));

/* Squared Euclidean distance of a (d) and b (d), summed in float over four
 * lanes in one fixed order: the naive and the fast fit compare the same
 * numbers, on every machine. */
static float dist2(const float *a, const float *b, int d)
{
    v4sf acc = {0, 0, 0, 0};
    int j = 0;
    for (; j + 4 <= d; j += 4) {
        v4sf x, y;
        memcpy(&x, a + j, sizeof x);     /* rows need not be 16-byte aligned */
        memcpy(&y, b + j, sizeof y);
        v4sf t = x - y;
        acc += t * t;
    }
    float s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
    for (; j < d; j++) {
        float t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* ---- seeds */

void core_kmeans_seed(const float *x, int n, int d, int k, uint64_t seed, float *centroid)
{
    core_rng r;
    core_rng_seed(&r, seed);
    double *best = xmalloc((size_t)n * sizeof *best);     /* (n) squared distance to the nearest seed */
    int first = (int)core_rng_below(&r, (uint32_t)n);
    memcpy(centroid, x + (size_t)first * d, (size_t)d * sizeof *x);
    double total = 0;
    for (int i = 0; i < n; i++) total += best[i] = dist2(x + (size_t)i * d, centroid, d);
    for (int c = 1; c < k; c++) {
        int pick = n - 1;
        if (total > 0) {                 /* a row with probability best[i] / total */
            double t = core_rng_uniform(&r) * total, acc = 0;
            for (int i = 0; i < n; i++) {
                acc += best[i];
                if (acc > t && best[i] > 0) { pick = i; break; }
            }
        } else {                         /* every row is a seed already: any */
            pick = (int)core_rng_below(&r, (uint32_t)n);
        }
        float *cc = centroid + (size_t)c * d;
        memcpy(cc, x + (size_t)pick * d, (size_t)d * sizeof *x);
        total = 0;
        for (int i = 0; i < n; i++) {
            double e = dist2(x + (size_t)i * d, cc, d);
            if (e < best[i]) best[i] = e;
            total += best[i];
        }
    }
    free(best);
}

/* ---- shared steps */

static int fit_begin(const float *x, int n, int d, int k, uint64_t seed, core_kmeans *out)
{
    memset(out, 0, sizeof *out);
    if (!x || n < 1 || d < 1 || k < 1 || k > n) return -1;
    out->n = n;
    out->d = d;
    out->k = k;
    out->centroid = xmalloc((size_t)k * d * sizeof *out->centroid);
    out->assign = xmalloc((size_t)n * sizeof *out->assign);
    out->size = xcalloc((size_t)k, sizeof *out->size);
    core_kmeans_seed(x, n, d, k, seed, out->centroid);
    return 0;
}

/* The nearest centroid of row xi (ties: the lower index), its squared
 * distance in *d1 and the second nearest's in *d2. */
static int nearest(const float *xi, const float *cen, int k, int d, float *d1, float *d2)
{
    int a = 0;
    float b1 = INFINITY, b2 = INFINITY;
    for (int c = 0; c < k; c++) {
        float e = dist2(xi, cen + (size_t)c * d, d);
        if (e < b1) { b2 = b1; b1 = e; a = c; }
        else if (e < b2) b2 = e;
    }
    *d1 = b1;
    *d2 = b2;
    return a;
}

/* Centroids as the means of their rows (an empty cluster keeps its own);
 * sizes counted.  sum (k, d) is scratch. */
static void update_centroids(const float *x, core_kmeans *km, double *sum)
{
    int n = km->n, d = km->d, k = km->k;
    memset(sum, 0, (size_t)k * d * sizeof *sum);
    memset(km->size, 0, (size_t)k * sizeof *km->size);
    for (int i = 0; i < n; i++) {
        int a = km->assign[i];
        km->size[a]++;
        const float *xi = x + (size_t)i * d;
        double *s = sum + (size_t)a * d;
        for (int j = 0; j < d; j++) s[j] += xi[j];
    }
    for (int c = 0; c < k; c++)
        if (km->size[c] > 0)
            for (int j = 0; j < d; j++) km->centroid[(size_t)c * d + j] = (float)(sum[(size_t)c * d + j] / km->size[c]);
}

static void fit_end(const float *x, core_kmeans *km)
{
    km->inertia = 0;
    for (int i = 0; i < km->n; i++)
        km->inertia += dist2(x + (size_t)i * km->d, km->centroid + (size_t)km->assign[i] * km->d, km->d);
}

/* ---- naive Lloyd */

int core_kmeans_fit_naive(const float *x, int n, int d, int k, uint64_t seed, int max_iter, core_kmeans *out)
{
    if (fit_begin(x, n, d, k, seed, out)) return -1;
    if (max_iter <= 0) max_iter = MAX_ITER_DEFAULT;
    double *sum = xmalloc((size_t)k * d * sizeof *sum);   /* (k, d) */
    for (int i = 0; i < n; i++) out->assign[i] = -1;
    for (int it = 0; it < max_iter; it++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float d1, d2;
            int a = nearest(x + (size_t)i * d, out->centroid, k, d, &d1, &d2);
            changed += a != out->assign[i];
            out->assign[i] = a;
        }
        out->iters = it + 1;
        if (!changed) break;
        update_centroids(x, out, sum);
    }
    free(sum);
    fit_end(x, out);
    return 0;
}

/* ---- Hamerly: per row an upper bound on the distance to its centroid and
 * a lower bound on the distance to any other; a row whose upper bound is
 * below both its lower bound and half the distance from its centroid to
 * the nearest other centroid cannot change cluster, and costs nothing. */

int core_kmeans_fit(const float *x, int n, int d, int k, uint64_t seed, int max_iter, core_kmeans *out)
{
    if (fit_begin(x, n, d, k, seed, out)) return -1;
    if (max_iter <= 0) max_iter = MAX_ITER_DEFAULT;
    double *sum = xmalloc((size_t)k * d * sizeof *sum);     /* (k, d) */
    float *old = xmalloc((size_t)k * d * sizeof *old);      /* (k, d) the centroids before the update */
    double *upper = xmalloc((size_t)n * sizeof *upper);     /* (n) */
    double *lower = xmalloc((size_t)n * sizeof *lower);     /* (n) */
    double *half = xmalloc((size_t)k * sizeof *half);       /* (k) half the distance to the nearest other centroid */
    double *moved = xmalloc((size_t)k * sizeof *moved);     /* (k) */
    for (int i = 0; i < n; i++) {
        float d1, d2;
        out->assign[i] = nearest(x + (size_t)i * d, out->centroid, k, d, &d1, &d2);
        upper[i] = sqrt(d1);
        lower[i] = sqrt(d2);
    }
    out->iters = 1;
    for (int it = 1; it < max_iter; it++) {
        memcpy(old, out->centroid, (size_t)k * d * sizeof *old);
        update_centroids(x, out, sum);
        double m1 = 0, m2 = 0;
        int arg1 = -1;
        for (int c = 0; c < k; c++) {
            moved[c] = sqrt(dist2(old + (size_t)c * d, out->centroid + (size_t)c * d, d));
            if (moved[c] > m1) { m2 = m1; m1 = moved[c]; arg1 = c; }
            else if (moved[c] > m2) m2 = moved[c];
        }
        for (int c = 0; c < k; c++) {
            double h = INFINITY;
            for (int o = 0; o < k; o++)
                if (o != c) {
                    double e = sqrt(dist2(out->centroid + (size_t)c * d, out->centroid + (size_t)o * d, d));
                    if (e < h) h = e;
                }
            half[c] = h / 2;
        }
        int changed = 0;
        for (int i = 0; i < n; i++) {
            int a = out->assign[i];
            upper[i] += moved[a];
            lower[i] -= a == arg1 ? m2 : m1;
            double bound = half[a] > lower[i] ? half[a] : lower[i];
            if (upper[i] < bound) continue;
            const float *xi = x + (size_t)i * d;
            upper[i] = sqrt(dist2(xi, out->centroid + (size_t)a * d, d));
            if (upper[i] < bound) continue;
            float d1, d2;
            int b = nearest(xi, out->centroid, k, d, &d1, &d2);
            upper[i] = sqrt(d1);
            lower[i] = sqrt(d2);
            changed += b != a;
            out->assign[i] = b;
        }
        out->iters = it + 1;
        if (!changed) break;
    }
    update_centroids(x, out, sum);
    free(sum);
    free(old);
    free(upper);
    free(lower);
    free(half);
    free(moved);
    fit_end(x, out);
    return 0;
}

void core_kmeans_free(core_kmeans *km)
{
    if (!km) return;
    free(km->centroid);
    free(km->assign);
    free(km->size);
    memset(km, 0, sizeof *km);
}

/* ---- which cluster first */

int core_cluster_default_k(int n)
{
    int k = (int)lround(sqrt(n / 2.0));
    if (k < 2) k = 2;
    if (k > K_MAX) k = K_MAX;
    return k < n ? k : n;
}

void core_cluster_unusual(const core_kmeans *km, double *unusual)
{
    for (int c = 0; c < km->k; c++) {
        double s = 0;
        int m = 0;
        for (int o = 0; o < km->k && km->size[c] > 0; o++) {
            if (o == c || km->size[o] == 0) continue;
            s += sqrt(dist2(km->centroid + (size_t)c * km->d, km->centroid + (size_t)o * km->d, km->d));
            m++;
        }
        unusual[c] = m ? s / m : 0;
    }
}

int core_cluster_order(const int *size, const double *unusual, int k, int *order, int *why)
{
    uint8_t *placed = xcalloc((size_t)(k > 0 ? k : 1), 1);
    int total = 0, n = 0;
    for (int c = 0; c < k; c++) {
        placed[c] = size[c] <= 0;
        total += size[c] > 0;
    }
    for (int turn = 0; n < total; turn ^= 1) {
        int best = -1;
        for (int c = 0; c < k; c++) {
            if (placed[c]) continue;
            if (best < 0 || (turn == CORE_CLUSTER_LARGEST ? size[c] > size[best] : unusual[c] > unusual[best])) best = c;
        }
        placed[best] = 1;
        if (why) why[n] = turn;
        order[n++] = best;
    }
    free(placed);
    return n;
}

/* ---- the walk */

struct core_cluster_walk {
    core_kmeans km;
    int n_clusters;
    int *order, *why;        /* (k) show order and the turn each was placed on */
    double *unusual;         /* (k) by cluster index */
    int *start;              /* (k + 1) each cluster's members in gids[] / dist[], by cluster index */
    uint32_t *gids;          /* (n) grouped by cluster, nearest the centroid first */
    float *dist;             /* (n) */
};

typedef struct { float dist; uint32_t gid; int cluster; } member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
    if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
    return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* sample (m) gets m of the n row indices, ascending, drawn from seed. */
static void draw_sample(int n, int m, uint64_t seed, int *sample)
{
    int *idx = xmalloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++) idx[i] = i;
    core_rng r;
    core_rng_seed(&r, seed ^ 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < m; i++) {            /* a partial Fisher-Yates shuffle */
        int j = i + (int)core_rng_below(&r, (uint32_t)(n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    uint8_t *in = xcalloc((size_t)n, 1);
    for (int i = 0; i < m; i++) in[idx[i]] = 1;
    for (int i = 0, o = 0; i < n; i++)
        if (in[i]) sample[o++] = i;
    free(in);
    free(idx);
}

/* The walk's fit: on all rows up to WALK_SAMPLE, else on a sample of that
 * many, every row then assigned to its nearest centroid (the sample's
 * centroids, sizes counted over all rows). */
static int walk_fit(const float *x, int n, int d, int k, uint64_t seed, core_kmeans *km)
{
    if (n <= WALK_SAMPLE) return core_kmeans_fit(x, n, d, k, seed, WALK_ITER, km);
    int *sample = xmalloc(WALK_SAMPLE * sizeof *sample);
    draw_sample(n, WALK_SAMPLE, seed, sample);
    float *xs = xmalloc((size_t)WALK_SAMPLE * d * sizeof *xs);   /* (WALK_SAMPLE, d) */
    for (int i = 0; i < WALK_SAMPLE; i++) memcpy(xs + (size_t)i * d, x + (size_t)sample[i] * d, (size_t)d * sizeof *x);
    free(sample);
    core_kmeans fit;
    int rc = core_kmeans_fit(xs, WALK_SAMPLE, d, k, seed, WALK_ITER, &fit);
    free(xs);
    if (rc) return rc;
    *km = fit;
    km->n = n;
    km->assign = xrealloc(km->assign, (size_t)n * sizeof *km->assign);
    memset(km->size, 0, (size_t)k * sizeof *km->size);
    for (int i = 0; i < n; i++) {
        float d1, d2;
        km->assign[i] = nearest(x + (size_t)i * d, km->centroid, k, d, &d1, &d2);
        km->size[km->assign[i]]++;
    }
    fit_end(x, km);
    return 0;
}

core_cluster_walk *core_cluster_walk_new(const float *x, const uint32_t *gids, int n, int d, int k, uint64_t seed)
{
    if (n < 1 || d < 1) return NULL;
    if (k <= 0) k = core_cluster_default_k(n);
    if (k > n) k = n;
    core_cluster_walk *w = xcalloc(1, sizeof *w);
    if (walk_fit(x, n, d, k, seed, &w->km) != 0) {
        free(w);
        return NULL;
    }
    w->order = xmalloc((size_t)k * sizeof *w->order);
    w->why = xmalloc((size_t)k * sizeof *w->why);
    w->unusual = xmalloc((size_t)k * sizeof *w->unusual);
    core_cluster_unusual(&w->km, w->unusual);
    w->n_clusters = core_cluster_order(w->km.size, w->unusual, k, w->order, w->why);
    member *m = xmalloc((size_t)n * sizeof *m);
    for (int i = 0; i < n; i++) {
        int c = w->km.assign[i];
        m[i] = (member){sqrtf(dist2(x + (size_t)i * d, w->km.centroid + (size_t)c * d, d)), gids[i], c};
    }
    qsort(m, (size_t)n, sizeof *m, member_cmp);
    w->start = xcalloc((size_t)k + 1, sizeof *w->start);
    w->gids = xmalloc((size_t)n * sizeof *w->gids);
    w->dist = xmalloc((size_t)n * sizeof *w->dist);
    for (int i = 0; i < n; i++) {
        w->gids[i] = m[i].gid;
        w->dist[i] = m[i].dist;
        w->start[m[i].cluster + 1]++;
    }
    for (int c = 0; c < k; c++) w->start[c + 1] += w->start[c];
    free(m);
    return w;
}

void core_cluster_walk_free(core_cluster_walk *w)
{
    if (!w) return;
    core_kmeans_free(&w->km);
    free(w->order);
    free(w->why);
    free(w->unusual);
    free(w->start);
    free(w->gids);
    free(w->dist);
    free(w);
}

int core_cluster_walk_n(const core_cluster_walk *w) { return w ? w->n_clusters : 0; }

int core_cluster_walk_get(const core_cluster_walk *w, int i, const uint32_t **gids, const float **dist, int *why,
                          double *unusual)
{
    if (!w || i < 0 || i >= w->n_clusters) return 0;
    int c = w->order[i];
    if (gids) *gids = w->gids + w->start[c];
    if (dist) *dist = w->dist + w->start[c];
    if (why) *why = w->why[i];
    if (unusual) *unusual = w->unusual[c];
    return w->start[c + 1] - w->start[c];
}

int core_cluster_walk_find(const core_cluster_walk *w, uint32_t gid)
{
    for (int i = 0; w && i < w->n_clusters; i++) {
        int c = w->order[i];
        for (int j = w->start[c]; j < w->start[c + 1]; j++)
            if (w->gids[j] == gid) return i;
    }
    return -1;
}

const core_kmeans *core_cluster_walk_fit(const core_cluster_walk *w) { return w ? &w->km : NULL; }
