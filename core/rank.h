/*
 * rank.h - sorting scores into a ranked list, interleaving several lists
 * ("mixed"), and the diversity guard that keeps near-duplicates (in
 * representation space) out of one batch.  The orders themselves are in
 * core/acquire.h.
 */
#ifndef ZOOSH_CORE_RANK_H
#define ZOOSH_CORE_RANK_H

#include <stdint.h>

/* idx (n): positions sorted by score, highest first; ties and NANs keep the
 * lower position first (NAN sorts last). */
void core_rank_by_score(const float *score, int n, int *idx);
/* The same by qsort: the reference the radix sort is tested against. */
void core_rank_by_score_naive(const float *score, int n, int *idx);
/* idx (n): a permutation of 0..n-1 from seed. */
void core_rank_random(int n, uint64_t seed, int *idx);
/* out (n): interleave k ranked lists (each a permutation of 0..n-1) so that
 * every prefix takes list j's next unplaced item in proportion frac[j]. */
void core_rank_interleave(int *const *lists, const double *frac, int k, int n, int *out);

/* Diversity guard: walks idx (n) and places items in batches of `batch`; an
 * item closer than sqrt(min_d2) to one already in the current batch waits
 * for the next batch.  Only the first `head` placements are guarded (the
 * rest keep their order).  x (n_rows, d) indexed by the values in idx.
 * Returns how many items were deferred. */
int core_rank_diversify(int *idx, int n, const float *x, int d, int batch, float min_d2, int head);
/* A near-duplicate threshold (squared distance): (frac * mean distance of
 * random pairs)^2 from seed. */
float core_rank_dup_threshold(const float *x, int n, int d, float frac, uint64_t seed);

#endif
