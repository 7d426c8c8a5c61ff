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
 * Block ARD (core_gp_fit_blocks): the columns fall into nb blocks (e.g.
 * the colour, profile and shape parts of the morphology features, an
 * encoder's embedding, its predicted votes), each with its own length scale
 * ell_b = ell exp(dev_b): r^2 = sum_b |x_b - x'_b|^2 / ell_b^2 in the same
 * RQ kernel.  The devs have a Normal(0, prior_sd^2) prior and log ell a
 * Normal(log mean distance, 1) one (the fit is MAP on the marginal
 * likelihood), so with few ratings the blocks stay near one
 * shared scale and only a block the ratings clearly follow (or ignore)
 * moves away from it.  A fitted model keeps its rows multiplied by
 * exp(-dev_b), so prediction is the isotropic code on scaled rows.
 * A block fit's kernel also has a linear term, lin <x, x'> on the scaled
 * rows: with tens of ratings the interest in a class of galaxies is mostly
 * a trend across the features, which a stationary kernel alone fits as
 * noise (on the HSC candidates it did: amp went to its floor).
 *
 * Legend: n rated rows, d features, B prediction batch rows, nb blocks.
 */
#ifndef ZOOSH_CORE_GP_H
#define ZOOSH_CORE_GP_H

#include <stdint.h>

typedef enum { CORE_KERNEL_RQ = 1, CORE_KERNEL_MATERN52 = 2 } core_kernel;

#define CORE_GP_MAX_BLOCKS 16

typedef struct {
    core_kernel kernel;
    double amp;      /* signal variance (normalised units) */
    double ell;      /* length scale */
    double alpha;    /* RQ shape (unused for Matern) */
    double noise;    /* white-noise variance (normalised units) */
    double lin;      /* block fits: variance of the linear term lin <x, x'> (0 otherwise) */
    int nb;          /* blocks with their own scale (block fits); 0 = isotropic */
    double dev[CORE_GP_MAX_BLOCKS];   /* block b's length scale is ell exp(dev[b]) */
} core_gp_hyper;

/* The column blocks of a block-ARD GP (RQ kernel only). */
typedef struct {
    int nb;              /* 2..CORE_GP_MAX_BLOCKS */
    const int *block;    /* (d) each column's block, 0..nb-1 */
    double prior_sd;     /* dev_b ~ Normal(0, prior_sd^2) */
} core_gp_blocks;

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
/* Block ARD (see above): amp, ell, alpha, noise, lin and one dev per block
 * by MAP from restarts starts (the first at start when it has the same
 * blocks).  bl NULL or bl->nb < 2: one block.  -1 also for a bad block
 * index. */
int  core_gp_fit_blocks(core_gp **out, const float *x, const float *y, int n, int d, const core_gp_blocks *bl,
                        int restarts, uint64_t seed, const core_gp_hyper *start);
/* Factors with hp over bl's blocks (hp->nb == bl->nb), no optimisation. */
int  core_gp_fit_fixed_blocks(core_gp **out, const float *x, const float *y, int n, int d,
                              const core_gp_blocks *bl, const core_gp_hyper *hp);
void core_gp_free(core_gp *g);
void core_gp_hyper_get(const core_gp *g, core_gp_hyper *hp);
/* Log marginal likelihood of the normalised targets at hyperparameters hp
 * (no prior), and its gradient w.r.t. (log amp, log ell, log alpha,
 * log noise) when grad != NULL (grad[2] = 0 for Matern); for a block fit
 * grad has 5 + nb entries: grad[4] by log lin, grad[5 + b] by dev_b. */
double core_gp_lml(const core_gp *g, const core_gp_hyper *hp, double *grad);
/* The same with the scalar libm loop over the pairs (the reference for the
 * vector one). */
double core_gp_lml_naive(const core_gp *g, const core_gp_hyper *hp, double *grad);

/* Posterior mean and standard deviation of the latent function (rating
 * units) at n rows of x (n, d); sd may be NULL.  Fast (BLAS) and naive. */
void core_gp_predict(const core_gp *g, const float *x, int n, float *mu, float *sd);
void core_gp_predict_naive(const core_gp *g, const float *x, int n, float *mu, float *sd);
/* Largest posterior mean over the rated rows (the incumbent for EI). */
float core_gp_best(const core_gp *g);

#endif
