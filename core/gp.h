/*
 * gp.h - Gaussian-process regression of interest ratings on (standardised)
 * features, and the acquisition functions that rank unrated galaxies.
 *
 * Kernel: amp * RQ(r; ell, alpha) + noise * I  (rational quadratic,
 * k = amp (1 + r^2 / (2 alpha ell^2))^-alpha), or amp * Matern-5/2(r; ell) +
 * noise * I.  Targets are normalised (mean 0, variance 1) inside.
 * Hyperparameters maximise the log marginal likelihood: BFGS on the log
 * parameters with the analytic gradient, from a few starts.  The Cholesky
 * factor of the rated set is kept; predictions for many galaxies run in
 * batches: squared distances by cblas_sgemm, then K* alpha and the variance
 * through cblas_strsm against the kept factor.
 *
 * Legend: n rated rows, d features, B prediction batch rows.
 */
#ifndef ZOOSH_CORE_GP_H
#define ZOOSH_CORE_GP_H

#include <stdint.h>

typedef enum { CORE_KERNEL_RQ = 1, CORE_KERNEL_MATERN52 = 2 } core_kernel;

typedef struct {
    core_kernel kernel;
    double amp;      /* signal variance (normalised units) */
    double ell;      /* length scale */
    double alpha;    /* RQ shape (unused for Matern) */
    double noise;    /* white-noise variance (normalised units) */
} core_gp_hyper;

typedef struct core_gp core_gp;

/* Fits hyperparameters by marginal likelihood (restarts >= 1 starts) and
 * factors.  x (n, d) copied.  -1 on n < 1 or a failed factorisation. */
int  core_gp_fit(core_gp **out, const float *x, const float *y, int n, int d, core_kernel k,
                 int restarts, uint64_t seed);
/* The same with the first start at start (e.g. the previous model's
 * hyperparameters: the labeler's retrains converge in a few steps); NULL =
 * core_gp_fit. */
int  core_gp_fit_from(core_gp **out, const float *x, const float *y, int n, int d, core_kernel k,
                      int restarts, uint64_t seed, const core_gp_hyper *start);
/* Factors with the given hyperparameters (no optimisation). */
int  core_gp_fit_fixed(core_gp **out, const float *x, const float *y, int n, int d,
                       const core_gp_hyper *hp);
void core_gp_free(core_gp *g);
void core_gp_hyper_get(const core_gp *g, core_gp_hyper *hp);
/* Log marginal likelihood of the normalised targets at the current
 * hyperparameters, and its gradient w.r.t. (log amp, log ell, log alpha,
 * log noise) when grad != NULL (grad[2] = 0 for Matern). */
double core_gp_lml(const core_gp *g, const core_gp_hyper *hp, double grad[4]);
/* The same with the scalar libm loop over the pairs (the reference for the
 * vector one). */
double core_gp_lml_naive(const core_gp *g, const core_gp_hyper *hp, double grad[4]);

/* Posterior mean and standard deviation of the latent function (rating
 * units) at n rows of x (n, d); sd may be NULL.  Fast (BLAS) and naive. */
void core_gp_predict(const core_gp *g, const float *x, int n, float *mu, float *sd);
void core_gp_predict_naive(const core_gp *g, const float *x, int n, float *mu, float *sd);
/* Largest posterior mean over the rated rows (the incumbent for EI). */
float core_gp_best(const core_gp *g);

#endif
