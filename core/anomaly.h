/*
 * anomaly.h - an anomaly prior before anyone has rated anything: an
 * isolation forest in representation space (Liu, Ting & Zhou 2008), the
 * starting point Astronomaly uses.  Galaxies that random axis-aligned cuts
 * isolate quickly score high.
 *
 * Legend: n rows, d features, T trees, psi rows per tree.
 */
#ifndef ZOOSH_CORE_ANOMALY_H
#define ZOOSH_CORE_ANOMALY_H

#include <stdint.h>

/* score (n): 2^(-E[path length] / c(psi)) in (0, 1], higher = more anomalous.
 * x (n, d).  n_trees 100 and psi 256 are the paper's defaults.  Returns 1
 * when *cancel became non-zero (polled between trees), 0 on success. */
int core_iforest_score(const float *x, int n, int d, int n_trees, int psi, uint64_t seed,
                       volatile int *cancel, float *score);

/* Mean Euclidean distance to the k nearest of m reference rows (the brute
 * force k-NN score, O(n m d)): the reference the forest is tested against. */
void core_anomaly_knn_score(const float *x, int n, int d, const float *ref, int m, int k, float *score);

#endif
