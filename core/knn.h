/*
 * knn.h - exact k-nearest-neighbour search over a matrix of feature vectors
 * (similar galaxies: `zoosh similar`, the labeler's `s` grid).
 *
 * Brute force, but at memory speed: the matrix is streamed once per query in
 * blocks of rows, the dot products of a block come from BLAS (sgemv; sgemm
 * for batches of queries), distances use squared norms computed once
 * (|x - q|^2 = |x|^2 - 2 x.q + |q|^2), and a small max-heap per thread keeps
 * the k best.  Two threads split the rows.  The winners' distances are then
 * recomputed directly, so the reported numbers are exact.
 *
 * Metrics: CORE_KNN_EUCLIDEAN reports the Euclidean distance;
 * CORE_KNN_COSINE reports 1 - cos(x, q) (0 = same direction, 2 = opposite; a
 * zero vector is at distance 1 from everything).
 * Results are sorted by distance, ties by the smaller row index.
 */
#ifndef ZOOSH_CORE_KNN_H
#define ZOOSH_CORE_KNN_H

#include <stddef.h>

enum core_knn_metric { CORE_KNN_EUCLIDEAN = 0, CORE_KNN_COSINE = 1 };

/* Parses "euclidean" / "cosine"; -1 for anything else. */
int core_knn_metric_parse(const char *s);
const char *core_knn_metric_name(int metric);

/* One-shot search: the k rows of x (n, d) nearest to q (d).  idx (k) and
 * dist (k) receive them, nearest first.  Returns how many were found
 * (min(k, n)), or -1 on bad arguments. */
int core_knn_topk(const float *x, int n, int d, const float *q, int k, int metric,
                  int *idx, float *dist);
/* The reference: a plain loop over every row, a full sort. */
int core_knn_topk_naive(const float *x, int n, int d, const float *q, int k, int metric,
                        int *idx, float *dist);

/* A prepared index: norms computed once.  x is BORROWED (not copied): it must
 * stay alive and unchanged until core_knn_free.  Queries may run from several
 * threads at once. */
typedef struct core_knn core_knn;
int  core_knn_new(core_knn **out, const float *x, int n, int d, int metric);
void core_knn_free(core_knn *ix);    /* NULL is a no-op */

/* k nearest rows to q (d); the row `exclude` (e.g. the query galaxy itself)
 * is skipped, -1 skips none.  Returns the number found or -1. */
int core_knn_query(const core_knn *ix, const float *q, int k, int exclude, int *idx, float *dist);
/* m queries at once (q (m, d)) through sgemm; idx, dist (m, k); exclude (m)
 * or NULL.  Rows of the output past the number found are -1 / INFINITY. */
int core_knn_query_batch(const core_knn *ix, const float *q, int m, int k, const int *exclude,
                         int *idx, float *dist);

#endif
