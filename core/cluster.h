/*
 * cluster.h - galaxies grouped by their representation, for the labeler's
 * cluster pages (core/grid.h): k-means with k-means++ seeding, and the
 * order the clusters are shown in.
 *
 * k-means: k-means++ seeding (Arthur & Vassilvitskii 2007) drawn from a
 * seeded core_rng, then Lloyd's iterations until no row changes cluster
 * (or max_iter).  The fast fit skips distance computations with Hamerly's
 * bounds (2010) and gives the same clusters as the naive Lloyd loop kept
 * beside it (tests/t_cluster.c holds one against the other).  Same data,
 * k and seed: the same clusters, on every machine.
 *
 * The walk (core_cluster_walk): which cluster a page shows next.  Clusters
 * alternate: the largest not yet placed, then the most unusual not yet
 * placed, and so on.  "Unusual" is the mean Euclidean distance from the
 * cluster's centroid to the other clusters' centroids: a small group far
 * from the rest (rare morphologies, artefacts) comes up early instead of
 * after every big one.  A cluster's members are listed nearest its
 * centroid first (the most typical on the first page).
 *
 * Legend: n rows, d features, k clusters.
 */
#ifndef ZOOSH_CORE_CLUSTER_H
#define ZOOSH_CORE_CLUSTER_H

#include <stdint.h>

typedef struct {
    int n, d, k;
    float *centroid;    /* (k, d) */
    int *assign;        /* (n) each row's cluster */
    int *size;          /* (k) rows in each cluster (0: empty, its centroid kept) */
    double inertia;     /* sum of squared distances of the rows to their centroids */
    int iters;          /* Lloyd iterations run */
} core_kmeans;

/* k-means++ seeds: k rows of x (n, d) copied to centroid (k, d), drawn
 * from seed.  k <= n. */
void core_kmeans_seed(const float *x, int n, int d, int k, uint64_t seed, float *centroid);
/* Fits k clusters (1 <= k <= n) to x (n, d) from core_kmeans_seed's seeds,
 * at most max_iter iterations (<= 0: 100).  out is the caller's, freed
 * with core_kmeans_free.  0, or -1 for a bad n, d or k (out zeroed). */
int core_kmeans_fit(const float *x, int n, int d, int k, uint64_t seed, int max_iter, core_kmeans *out);
/* The same with every distance computed every iteration: the reference. */
int core_kmeans_fit_naive(const float *x, int n, int d, int k, uint64_t seed, int max_iter, core_kmeans *out);
void core_kmeans_free(core_kmeans *km);

/* The k the cluster pages use for n galaxies: sqrt(n / 2), within 2..64
 * (and at most n). */
int core_cluster_default_k(int n);

/* unusual (k): mean distance from each centroid to the other non-empty
 * ones (0 for an empty cluster, or when there is one cluster). */
void core_cluster_unusual(const core_kmeans *km, double *unusual);

enum { CORE_CLUSTER_LARGEST = 0, CORE_CLUSTER_UNUSUAL = 1 };

/* The show order of the non-empty clusters: order (k) gets cluster
 * indices, why (k, may be NULL) CORE_CLUSTER_LARGEST or _UNUSUAL for the
 * turn each was placed on.  Ties go to the lower index.  Returns the
 * number of non-empty clusters. */
int core_cluster_order(const int *size, const double *unusual, int k, int *order, int *why);

/* ---- the walk the cluster pages take */

typedef struct core_cluster_walk core_cluster_walk;

/* Clusters rows x (n, d) of galaxies gids (n) into core_cluster_default_k(n)
 * clusters (k > 0: that many, at most n) with seed; NULL when n < 1 or
 * d < 1.  The walk owns its copies; x and gids may be freed after. */
core_cluster_walk *core_cluster_walk_new(const float *x, const uint32_t *gids, int n, int d, int k, uint64_t seed);
void core_cluster_walk_free(core_cluster_walk *w);
/* Non-empty clusters, in show order. */
int core_cluster_walk_n(const core_cluster_walk *w);
/* The i-th cluster of the show order (0 <= i < core_cluster_walk_n):
 * its members nearest the centroid first (*gids, *dist borrowed from the
 * walk; dist the Euclidean distance to the centroid), returns how many;
 * *why (may be NULL) CORE_CLUSTER_LARGEST / _UNUSUAL, *unusual (may be
 * NULL) its mean distance to the other centroids. */
int core_cluster_walk_get(const core_cluster_walk *w, int i, const uint32_t **gids, const float **dist, int *why,
                          double *unusual);
/* The show-order place of the cluster galaxy gid is in; -1 when it was
 * not clustered.  O(n). */
int core_cluster_walk_find(const core_cluster_walk *w, uint32_t gid);
/* The fit behind the walk (k, iterations, inertia). */
const core_kmeans *core_cluster_walk_fit(const core_cluster_walk *w);

#endif
