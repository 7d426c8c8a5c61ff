/*
 * knn.c - exact top-k search (see knn.h).
 *
 * Legend: n = rows, d = dimension, k = neighbours wanted, m = queries in a
 * batch, BR = rows per block.
 *
 * DESIGN (threads): a query's rows are cut into chunks that the threads
 * take in turn from a shared atomic counter (the only shared write).  Each
 * thread reads the shared matrix and norms (read-only), writes only its own
 * block buffer and heap, and the caller merges the heaps after joining.  Nothing is locked; a core_knn is immutable after core_knn_new,
 * so any number of queries may run at once.
 */
#include "core/knn.h"
#include "core/util.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Rows per block: the block of dot products stays in L1/L2, and a block's
 * sgemv (BR x d) stays under OpenBLAS's threading threshold so the BLAS
 * call runs in the calling thread (we do the threading ourselves). */
#define KNN_BLOCK_ELEMS 8192
#define KNN_MIN_ROWS_PER_THREAD 32768
#define KNN_MAX_THREADS 16
#define KNN_CHUNK_ROWS 32768   /* rows per chunk the threads take turns at */

static const int knn_threads = 2;   /* the machines we target have 2 cores */

int core_knn_metric_parse(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "euclidean") == 0 || strcmp(s, "l2") == 0) return CORE_KNN_EUCLIDEAN;
    if (strcmp(s, "cosine") == 0 || strcmp(s, "cos") == 0) return CORE_KNN_COSINE;
    return -1;
}

const char *core_knn_metric_name(int metric)
{
    return metric == CORE_KNN_COSINE ? "cosine" : "euclidean";
}

struct core_knn {
    const float *x;     /* (n, d) borrowed */
    int n, d, metric;
    float *sqn;         /* (n) squared norms (euclidean) */
    float *invn;        /* (n) 1 / norm, 0 for a zero row (cosine) */
};

/* ---- exact distances ------------------------------------------------------ */
static float dist_exact(const float *x, const float *q, int d, int metric)
{
    if (metric == CORE_KNN_COSINE) {
        double xy = 0, xx = 0, qq = 0;
        for (int j = 0; j < d; j++) { xy += (double)x[j] * q[j]; xx += (double)x[j] * x[j]; qq += (double)q[j] * q[j]; }
        if (xx <= 0 || qq <= 0) return 1.0f;
        double c = xy / sqrt(xx * qq);
        if (c > 1) c = 1;
        if (c < -1) c = -1;
        return (float)(1 - c);
    }
    double s = 0;
    for (int j = 0; j < d; j++) { double t = (double)x[j] - q[j]; s += t * t; }
    return (float)sqrt(s);
}

/* ---- a max-heap of (key, idx): the root is the worst kept ----------------- */
typedef struct { float key; int idx; } item;

static int worse(item a, item b)   /* a is worse than b */
{
    return a.key > b.key || (a.key == b.key && a.idx > b.idx);
}

static void heap_sift_down(item *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && worse(h[l], h[w])) w = l;
        if (r < n && worse(h[r], h[w])) w = r;
        if (w == i) return;
        item t = h[i]; h[i] = h[w]; h[w] = t;
        i = w;
    }
}

static void heap_push(item *h, int *n, int cap, item it)
{
    if (*n < cap) {
        int i = (*n)++;
        h[i] = it;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(h[i], h[p])) break;
            item t = h[i]; h[i] = h[p]; h[p] = t;
            i = p;
        }
    } else if (worse(h[0], it)) {
        h[0] = it;
        heap_sift_down(h, *n, 0);
    }
}

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->key < y->key) return -1;
    if (x->key > y->key) return 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* ---- the scan ---------------------------------------------------------------- */
typedef struct {
    const core_knn *ix;
    const float *q;      /* (d) */
    float qscale;        /* cosine: 1/|q| ; euclidean: unused */
    int r0, r1, k, exclude;
    int *next;           /* shared: next chunk to take (atomic), NULL = scan r0..r1 */
    int nchunks, chunk;  /* with next: rows [c*chunk, min(n, (c+1)*chunk)) per chunk c */
    item *heap;          /* (k) */
    int nheap;
} scan_job;

/* Scan rows [r0, r1) into the job's heap (nh / thr carried across calls). */
static void scan_range(scan_job *j, int r0_, int r1, float *dots, int br, int *nh, float *thr)
{
    const core_knn *ix = j->ix;
    const int d = ix->d;
    item *h = j->heap;
    const int cosine = ix->metric == CORE_KNN_COSINE;
    const float qs = j->qscale;
    for (int r0 = r0_; r0 < r1; r0 += br) {
        int b = r1 - r0 < br ? r1 - r0 : br;
        /* dots (b) = X[r0:r0+b] (b, d) @ q (d) */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, b, d, 1.0f, ix->x + (size_t)r0 * d, d, j->q, 1,
                    0.0f, dots, 1);
        /* key = squared distance - |q|^2 (euclidean) or 1 - cos (cosine);
         * one pass: most rows fail the threshold test and cost one compare */
        const float *aux = cosine ? ix->invn + r0 : ix->sqn + r0;
        for (int i = 0; i < b; i++) {
            float key = cosine ? 1.0f - dots[i] * aux[i] * qs : aux[i] - 2.0f * dots[i];
            if (key <= *thr || *nh < j->k) {   /* ties: heap_push prefers the smaller row */
                int row = r0 + i;
                if (row == j->exclude) continue;
                item it = {key, row};
                heap_push(h, nh, j->k, it);
                if (*nh == j->k) *thr = h[0].key;
            }
        }
    }
}

static void *scan_rows(void *arg)
{
    scan_job *j = arg;
    const int d = j->ix->d;
    int br = KNN_BLOCK_ELEMS / (d > 0 ? d : 1);
    if (br < 16) br = 16;
    float *dots = xmalloc(sizeof(float) * (size_t)br);   /* (BR) */
    int nh = 0;
    float thr = INFINITY;
    if (!j->next) {
        scan_range(j, j->r0, j->r1, dots, br, &nh, &thr);
    } else {
        /* chunks taken from a shared counter: a thread that the OS delays
         * (a loaded machine) takes fewer, instead of holding up the query */
        for (;;) {
            int c = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED);
            if (c >= j->nchunks) break;
            int a = c * j->chunk, b = a + j->chunk;
            if (b > j->ix->n) b = j->ix->n;
            scan_range(j, a, b, dots, br, &nh, &thr);
        }
    }
    free(dots);
    j->nheap = nh;
    return NULL;
}

/* Merge the threads' heaps, recompute exact distances, sort. */
static int finish(const core_knn *ix, const float *q, scan_job *jobs, int nj, int k, int *idx, float *dist)
{
    int tot = 0;
    for (int t = 0; t < nj; t++) tot += jobs[t].nheap;
    item *all = xmalloc(sizeof(item) * (size_t)(tot > 0 ? tot : 1));
    int m = 0;
    for (int t = 0; t < nj; t++)
        for (int i = 0; i < jobs[t].nheap; i++) {
            item it = jobs[t].heap[i];
            it.key = dist_exact(ix->x + (size_t)it.idx * ix->d, q, ix->d, ix->metric);
            all[m++] = it;
        }
    qsort(all, (size_t)m, sizeof(item), cmp_item);
    int found = m < k ? m : k;
    for (int i = 0; i < found; i++) { idx[i] = all[i].idx; dist[i] = all[i].key; }
    free(all);
    return found;
}

int core_knn_query(const core_knn *ix, const float *q, int k, int exclude, int *idx, float *dist)
{
    if (!ix || !q || k < 1 || !idx || !dist) return -1;
    if (ix->n == 0) return 0;
    /* keep one extra so that skipping `exclude` never costs a neighbour */
    int nt = knn_threads;
    if ((long)ix->n < (long)nt * KNN_MIN_ROWS_PER_THREAD) nt = (int)(ix->n / KNN_MIN_ROWS_PER_THREAD);
    if (nt < 1) nt = 1;
    scan_job jobs[KNN_MAX_THREADS];
    pthread_t th[KNN_MAX_THREADS];
    item *heaps = xmalloc(sizeof(item) * (size_t)k * nt);
    float qn = 0;
    for (int j = 0; j < ix->d; j++) qn += q[j] * q[j];
    int next = 0;
    const int chunk = KNN_CHUNK_ROWS;
    for (int t = 0; t < nt; t++) {
        jobs[t] = (scan_job){
            .ix = ix, .q = q, .qscale = qn > 0 ? 1.0f / sqrtf(qn) : 0.0f,
            .r0 = 0, .r1 = ix->n, .k = k, .exclude = exclude,
            .next = nt > 1 ? &next : NULL, .nchunks = (ix->n + chunk - 1) / chunk, .chunk = chunk,
            .heap = heaps + (size_t)k * t, .nheap = 0,
        };
    }
    int started = 0;
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&th[t], NULL, scan_rows, &jobs[t]) != 0) break;
        started = t;
    }
    scan_rows(&jobs[0]);
    for (int t = 1; t <= started; t++) pthread_join(th[t], NULL);
    for (int t = started + 1; t < nt; t++) scan_rows(&jobs[t]);   /* could not start: run here */
    int found = finish(ix, q, jobs, nt, k, idx, dist);
    free(heaps);
    return found;
}

int core_knn_query_batch(const core_knn *ix, const float *q, int m, int k, const int *exclude,
                         int *idx, float *dist)
{
    if (!ix || !q || m < 0 || k < 1 || !idx || !dist) return -1;
    const int d = ix->d, n = ix->n;
    int br = 65536 / (m > 0 ? m : 1);
    if (br < 64) br = 64;
    if (br > n) br = n > 0 ? n : 1;
    float *g = xmalloc(sizeof(float) * (size_t)br * (m > 0 ? m : 1));   /* (BR, m) */
    item *heaps = xmalloc(sizeof(item) * (size_t)k * (m > 0 ? m : 1));  /* (m, k) */
    int *nh = xcalloc((size_t)(m > 0 ? m : 1), sizeof(int));            /* (m) */
    float *qs = xmalloc(sizeof(float) * (size_t)(m > 0 ? m : 1));       /* (m) */
    for (int a = 0; a < m; a++) {
        float s = 0;
        for (int j = 0; j < d; j++) s += q[(size_t)a * d + j] * q[(size_t)a * d + j];
        qs[a] = s > 0 ? 1.0f / sqrtf(s) : 0.0f;
    }
    for (int r0 = 0; r0 < n && m > 0; r0 += br) {
        int b = n - r0 < br ? n - r0 : br;
        /* g (b, m) = X[r0:r0+b] (b, d) @ Q^T (d, m) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, m, d, 1.0f, ix->x + (size_t)r0 * d, d,
                    q, d, 0.0f, g, m);
        for (int i = 0; i < b; i++) {
            int row = r0 + i;
            const float *gi = g + (size_t)i * m;
            for (int a = 0; a < m; a++) {
                if (exclude && exclude[a] == row) continue;
                float key = ix->metric == CORE_KNN_COSINE ? 1.0f - gi[a] * ix->invn[row] * qs[a]
                                                          : ix->sqn[row] - 2.0f * gi[a];
                item *h = heaps + (size_t)a * k;
                if (nh[a] < k || key < h[0].key) heap_push(h, &nh[a], k, (item){key, row});
            }
        }
    }
    for (int a = 0; a < m; a++) {
        scan_job one = {.heap = heaps + (size_t)a * k, .nheap = nh[a]};
        int f = finish(ix, q + (size_t)a * d, &one, 1, k, idx + (size_t)a * k, dist + (size_t)a * k);
        for (int i = f; i < k; i++) { idx[(size_t)a * k + i] = -1; dist[(size_t)a * k + i] = INFINITY; }
    }
    free(g); free(heaps); free(nh); free(qs);
    return 0;
}

int core_knn_new(core_knn **out, const float *x, int n, int d, int metric)
{
    *out = NULL;
    if (n < 0 || d < 1 || (n > 0 && !x) || (metric != CORE_KNN_EUCLIDEAN && metric != CORE_KNN_COSINE))
        return -1;
    core_knn *ix = xcalloc(1, sizeof *ix);
    ix->x = x;
    ix->n = n;
    ix->d = d;
    ix->metric = metric;
    float *nn = xmalloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * d;
        float s = 0;
        for (int j = 0; j < d; j++) s += r[j] * r[j];
        nn[i] = s;
    }
    if (metric == CORE_KNN_COSINE) {
        for (int i = 0; i < n; i++) nn[i] = nn[i] > 0 ? 1.0f / sqrtf(nn[i]) : 0.0f;
        ix->invn = nn;
    } else {
        ix->sqn = nn;
    }
    *out = ix;
    return 0;
}

void core_knn_free(core_knn *ix)
{
    if (!ix) return;
    free(ix->sqn);
    free(ix->invn);
    free(ix);
}

int core_knn_topk(const float *x, int n, int d, const float *q, int k, int metric, int *idx, float *dist)
{
    core_knn *ix;
    if (core_knn_new(&ix, x, n, d, metric) != 0) return -1;
    int f = core_knn_query(ix, q, k, -1, idx, dist);
    core_knn_free(ix);
    return f;
}

int core_knn_topk_naive(const float *x, int n, int d, const float *q, int k, int metric, int *idx, float *dist)
{
    if (n < 0 || d < 1 || k < 1 || !q || !idx || !dist) return -1;
    if (metric != CORE_KNN_EUCLIDEAN && metric != CORE_KNN_COSINE) return -1;
    item *all = xmalloc(sizeof(item) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) all[i] = (item){dist_exact(x + (size_t)i * d, q, d, metric), i};
    qsort(all, (size_t)n, sizeof(item), cmp_item);
    int found = n < k ? n : k;
    for (int i = 0; i < found; i++) { idx[i] = all[i].idx; dist[i] = all[i].key; }
    free(all);
    return found;
}
