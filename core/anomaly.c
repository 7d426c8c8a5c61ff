/*
 * anomaly.c - isolation forest and brute-force k-NN distance scores (see
 * anomaly.h).  Trees are built on psi-row subsamples with random features and
 * uniform split values between the subsample's min and max, up to depth
 * ceil(log2 psi); leaves add c(size), the mean unsuccessful-search path of a
 * binary search tree, as in the paper.
 */
#include "core/anomaly.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int feat;        /* -1 = leaf */
    float split;
    int left, right; /* child node indices */
    int size;        /* rows reaching a leaf */
} if_node;

typedef struct {
    if_node *nodes;
    int n_nodes, cap;
} if_tree;

static double c_of(int n)
{
    if (n <= 1) return 0;
    if (n == 2) return 1;
    return 2 * (log(n - 1.0) + 0.5772156649) - 2.0 * (n - 1) / n;
}

static int node_add(if_tree *t)
{
    if (t->n_nodes == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->nodes = xrealloc(t->nodes, (size_t)t->cap * sizeof(if_node));
    }
    memset(&t->nodes[t->n_nodes], 0, sizeof(if_node));
    return t->n_nodes++;
}

/* rows idx[0..m) of x; returns the node index */
static int build(if_tree *t, const float *x, int d, int *idx, int m, int depth, int max_depth, core_rng *r)
{
    int me = node_add(t);
    t->nodes[me].feat = -1;
    t->nodes[me].size = m;
    if (m <= 1 || depth >= max_depth) return me;
    /* a few tries to find a feature that is not constant on these rows */
    for (int tries = 0; tries < 8; tries++) {
        int f = (int)core_rng_below(r, (uint32_t)d);
        float lo = x[(size_t)idx[0] * d + f], hi = lo;
        for (int i = 1; i < m; i++) {
            float v = x[(size_t)idx[i] * d + f];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (!(hi > lo)) continue;
        float s = lo + (float)core_rng_uniform(r) * (hi - lo);
        int a = 0, b = m - 1;
        while (a <= b) {
            if (x[(size_t)idx[a] * d + f] < s) a++;
            else { int tmp = idx[a]; idx[a] = idx[b]; idx[b] = tmp; b--; }
        }
        if (a == 0 || a == m) continue;
        int L = build(t, x, d, idx, a, depth + 1, max_depth, r);
        int R = build(t, x, d, idx + a, m - a, depth + 1, max_depth, r);
        t->nodes[me].feat = f;
        t->nodes[me].split = s;
        t->nodes[me].left = L;
        t->nodes[me].right = R;
        return me;
    }
    return me;
}

int core_iforest_score(const float *x, int n, int d, int n_trees, int psi, uint64_t seed,
                       volatile int *cancel, float *score)
{
    if (n <= 0) return 0;
    if (psi > n) psi = n;
    if (psi < 2) psi = 2 > n ? n : 2;
    int max_depth = (int)ceil(log2((double)(psi > 1 ? psi : 2)));
    double *path = xcalloc((size_t)n, sizeof(double));   /* (n) summed path lengths */
    int *idx = xmalloc((size_t)psi * sizeof(int));
    core_rng r;
    core_rng_seed(&r, seed);
    if_tree t = {0};
    int rc = 0;
    for (int k = 0; k < n_trees; k++) {
        if (cancel && *cancel) { rc = 1; break; }
        /* subsample without replacement (partial Fisher-Yates over a virtual range
         * is overkill here: rejection on a small sample is fine) */
        for (int i = 0; i < psi; i++) {
            int v, dup;
            do {
                v = (int)core_rng_below(&r, (uint32_t)n);
                dup = 0;
                if (psi * 4 > n) break;      /* dense sample: allow repeats */
                for (int j = 0; j < i; j++) if (idx[j] == v) { dup = 1; break; }
            } while (dup);
            idx[i] = v;
        }
        t.n_nodes = 0;
        build(&t, x, d, idx, psi, 0, max_depth, &r);
        for (int i = 0; i < n; i++) {
            const float *xi = x + (size_t)i * d;
            int nd = 0, depth = 0;
            while (t.nodes[nd].feat >= 0) {
                nd = xi[t.nodes[nd].feat] < t.nodes[nd].split ? t.nodes[nd].left : t.nodes[nd].right;
                depth++;
            }
            path[i] += depth + c_of(t.nodes[nd].size);
        }
    }
    double cn = c_of(psi);
    for (int i = 0; i < n; i++)
        score[i] = (float)pow(2.0, -(path[i] / (n_trees > 0 ? n_trees : 1)) / (cn > 0 ? cn : 1));
    free(t.nodes);
    free(path);
    free(idx);
    return rc;
}

void core_anomaly_knn_score(const float *x, int n, int d, const float *ref, int m, int k, float *score)
{
    if (k < 1) k = 1;
    if (k > m) k = m;
    float *best = xmalloc((size_t)k * sizeof(float));  /* (k) smallest squared distances */
    for (int i = 0; i < n; i++) {
        int have = 0;
        for (int j = 0; j < m; j++) {
            float s = 0;
            for (int t = 0; t < d; t++) {
                float e = x[(size_t)i * d + t] - ref[(size_t)j * d + t];
                s += e * e;
            }
            if (s == 0 && x + (size_t)i * d == ref + (size_t)j * d) continue;   /* itself */
            if (have < k) { best[have++] = s; }
            else {
                int w = 0;
                for (int q = 1; q < k; q++) if (best[q] > best[w]) w = q;
                if (s < best[w]) best[w] = s;
            }
        }
        double acc = 0;
        for (int q = 0; q < have; q++) acc += sqrt(best[q]);
        score[i] = have ? (float)(acc / have) : 0;
    }
    free(best);
}
