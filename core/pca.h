/*
 * pca.h - principal component analysis of a feature set, stored with its
 * mean, scale and components so new galaxies can be projected later.
 *
 * Exact: the covariance (d x d, double) of the standardised data is
 * accumulated in blocks of rows (dsyrk) and decomposed with LAPACK's dsyevd
 * (OpenBLAS).  With fewer rows than features (n < d) the n x n Gram matrix
 * is decomposed instead (the same components, no d x d matrix: a 100,000-
 * feature set of a few thousand galaxies fits in memory).  A plain cyclic Jacobi eigen-solver is kept next to it as the
 * reference (core_pca_eigen_jacobi) and the tests hold one against the other.
 *
 * Standardisation (recommended; morphology blocks differ in scale by orders
 * of magnitude): each feature is centred and divided by its standard
 * deviation (population, ddof 0, as sklearn's StandardScaler); a constant
 * feature keeps scale 1.  Without it only the mean is removed.
 *
 * Signs: each component is flipped so that its largest-magnitude entry is
 * positive (deterministic across runs and machines).
 */
#ifndef ZOOSH_CORE_PCA_H
#define ZOOSH_CORE_PCA_H

#include <stddef.h>
#include <stdint.h>

typedef struct core_pca core_pca;

/* Fit k components to x (n, d) row-major.  k is clipped to min(d, n).
 * standardise: 1 = divide by the standard deviation, 0 = centre only.
 * Returns 0, or -1 with a reason in err (n < 2, d < 1, LAPACK failure). */
int  core_pca_fit(const float *x, int n, int d, int k, int standardise, core_pca **out,
                  char *err, size_t errlen);
/* The same with a weight per feature (d, > 0) applied after standardising:
 * feature j enters as w_j (x_j - mean_j) / sd_j, so a block of many
 * correlated features can be given the weight of a few (morphology's
 * per-annulus blocks: core_morph_weight).  The weight is folded into the
 * stored scale, so core_pca_transform applies it to new rows too. */
int  core_pca_fit_weighted(const float *x, int n, int d, int k, int standardise, const float *weights,
                           core_pca **out, char *err, size_t errlen);
void core_pca_free(core_pca *p);   /* NULL is a no-op */
/* About the bytes core_pca_fit_weighted allocates for n rows, d features,
 * k components. */
size_t core_pca_fit_bytes(int n, int d, int k);
/* 0 when that plus `extra` bytes (the caller's data) fits in the memory
 * this process may still take (MemAvailable; ulimit -v; the hidden knob
 * ZOOSH_MEM_MB, for tests, lowers it); else -1 with the figures in err.
 * Callers ask before they change anything. */
int  core_pca_mem_check(int n, int d, int k, double extra, char *err, size_t errlen);

int  core_pca_dim(const core_pca *p);        /* d, input dimension */
int  core_pca_k(const core_pca *p);          /* k, output dimension */
const float *core_pca_scale(const core_pca *p);      /* (d) 1 when not standardised */
const float *core_pca_components(const core_pca *p); /* (k, d) rows = unit eigenvectors */
const double *core_pca_variance(const core_pca *p);  /* (k) eigenvalues, ddof 1, descending */
double core_pca_total_variance(const core_pca *p);   /* trace of the covariance */

/* y (n, k) = ((x - mean) / scale) @ components^T, through sgemm. */
void core_pca_transform(const core_pca *p, const float *x, int n, float *y);

/* Serialise to a self-describing little-endian blob ("ZPCA" magic, version,
 * d, k, then mean, scale, variance, components); *buf malloc'ed. */
int  core_pca_save(const core_pca *p, void **buf, size_t *len);
/* Parse a blob written by core_pca_save; checks magic, version and every
 * length; -1 with a reason in err when it does not parse. */
int  core_pca_load(const void *buf, size_t len, core_pca **out, char *err, size_t errlen);

/* Eigen-decomposition of a symmetric (d, d) matrix a (row-major, doubles):
 * eigenvalues w (d) in descending order and eigenvectors as the rows of
 * v (d, d).  The LAPACK path and the Jacobi reference; 0 on success. */
int  core_pca_eigen(const double *a, int d, double *w, double *v);
int  core_pca_eigen_jacobi(const double *a, int d, double *w, double *v);

#endif
