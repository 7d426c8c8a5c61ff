/*
 * head.h - the task head on frozen features, and ensembles of heads for
 * uncertainty.
 *
 * A head maps a feature row x (d) to one probability vector per question:
 * columns 0..C-1 are grouped into questions [q_start[q], q_start[q+1]).
 * Architecture: linear (W x + b), or one tanh hidden layer (H units).
 * Losses, per question, on answer counts y (n, C) (one-hot for a single
 * answer, several users' votes add up, catalog votes are counts too):
 *   CORE_LOSS_CE         softmax cross-entropy, sum_c y_c * cw_c * -log p_c
 *                        (cw = class weights, "balanced" for rare answers)
 *   CORE_LOSS_DIRICHLET  Dirichlet-multinomial negative log likelihood of the
 *                        counts with alpha = 1 + 100 sigmoid(z) (Zoobot's tree
 *                        finetuning); p = alpha / sum(alpha)
 * plus 0.5 * l2 * |weights|^2 (biases not decayed).  Trained full-batch by
 * L-BFGS (forward and backward through cblas_sgemm) with early stopping on a
 * validation set when one is given.
 *
 * An ensemble (core_ens) is M heads trained on bootstrap resamples; the rows a
 * member never saw (out-of-bag) are its early-stopping set, and the ensemble's
 * out-of-bag predictions give an honest held-out metric without setting a
 * fold aside.  Uncertainty per galaxy: BALD (mutual information between the
 * answer and the member), predictive entropy and margin, each summed over
 * the questions weighted by the probability the question is reached
 * (parent_col chains: Walmsley et al. 2020's expected information over the
 * questions a volunteer would be asked).
 *
 * Dimension letters: n rows, d features, H hidden units, C answer columns,
 * Q questions, M ensemble members.
 */
#ifndef ZOOSH_CORE_HEAD_H
#define ZOOSH_CORE_HEAD_H

#include <stddef.h>
#include <stdint.h>

#define CORE_HEAD_MAX_Q 32
#define CORE_HEAD_MAX_C 256
#define CORE_ENS_MAX_M 16
#define CORE_HEAD_MAX_HIDDEN 1024   /* hidden units of a head (core_learn reads up to this) */

typedef enum { CORE_LOSS_CE = 1, CORE_LOSS_DIRICHLET = 2 } core_head_loss;

typedef struct {
    int d;                               /* input features */
    int hidden;                          /* 0 = linear, else tanh hidden units */
    int n_q;                             /* questions */
    int q_start[CORE_HEAD_MAX_Q + 1];    /* column ranges; C = q_start[n_q] */
    int parent_col[CORE_HEAD_MAX_Q];     /* answer column leading to q, -1 = always asked */
    core_head_loss loss;
    float l2;                            /* weight decay */
    int max_iter;                        /* L-BFGS iterations */
    int patience;                        /* early stopping: iterations without a better val loss */
    int balance;                         /* CE: class weights n/(K n_k) per question from y */
} core_head_cfg;

typedef struct core_head core_head;

/* Fills cfg with defaults for d features and one question of k answers. */
void core_head_cfg_default(core_head_cfg *cfg, int d, int k);
int  core_head_cfg_ncols(const core_head_cfg *cfg);

/* Weights initialised small from seed.  Fails (-1) on a bad cfg. */
int  core_head_new(core_head **out, const core_head_cfg *cfg, uint64_t seed);
void core_head_free(core_head *h);
/* Copies parameters from src (same shapes) - warm start.  -1 on mismatch. */
int  core_head_copy_params(core_head *dst, const core_head *src);

/* Objective (mean weighted loss + penalty) at the current parameters and its
 * gradient (grad may be NULL) w.r.t. the flat parameter vector.
 * x (n, d), y (n, C), w (n) sample weights or NULL, cw (C) class weights or NULL. */
double core_head_objective(core_head *h, const float *x, const float *y, const float *w,
                           const float *cw, int n, float *grad);
/* Flat parameter vector (borrowed, length *np); for gradient checks. */
float *core_head_params(core_head *h, int *np);

typedef struct {
    int iters;           /* L-BFGS iterations run */
    int best_iter;       /* iteration kept (early stopping) */
    double train_obj;    /* objective at the kept parameters */
    double val_loss;     /* validation loss at the kept parameters (NAN without val) */
} core_head_fit_info;

/* Trains from the current parameters.  x_val/y_val may be NULL (n_val 0). */
int core_head_fit(core_head *h, const float *x, const float *y, const float *w, int n,
                  const float *x_val, const float *y_val, int n_val, core_head_fit_info *info);

/* p (n, C): probabilities per question.  Fast path (sgemm) and the naive loop. */
void core_head_predict(const core_head *h, const float *x, int n, float *p);
void core_head_predict_naive(const core_head *h, const float *x, int n, float *p);

/* ---- ensembles */
typedef struct core_ens core_ens;

typedef struct {
    int n_train;
    double oob_metric;     /* AUC (binary) or accuracy, on out-of-bag predictions; NAN if none */
    char metric[16];       /* "auc" / "accuracy" / "" */
    int n_oob;             /* rows that had an out-of-bag prediction */
} core_ens_info;

/* M heads on bootstrap resamples of (x, y).  warm (may be NULL) gives each
 * member its starting parameters (member m of warm, same shapes).  pos_col
 * is the positive answer column for the AUC of a binary question (-1 =
 * accuracy).  Cancels (returns 1) when *cancel becomes non-zero. */
int  core_ens_fit(core_ens **out, const core_head_cfg *cfg, int m, const float *x,
                  const float *y, int n, const core_ens *warm, uint64_t seed, int pos_col,
                  volatile int *cancel, core_ens_info *info);
void core_ens_free(core_ens *e);
const core_head_cfg *core_ens_config(const core_ens *e);

/* Scores n rows in blocks.  p (n, C) mean probabilities; bald, entropy,
 * margin (n) uncertainty scores, higher = more uncertain (any may be NULL).
 * Large n is split over as many threads as OpenBLAS may use (BLAS runs
 * one-threaded meanwhile, process-wide); _threads takes the count (0 = that
 * default).  The numbers do not depend on the thread count. */
void core_ens_predict(const core_ens *e, const float *x, int n, float *p, float *bald,
                      float *entropy, float *margin);
void core_ens_predict_threads(const core_ens *e, const float *x, int n, float *p, float *bald,
                              float *entropy, float *margin, int threads);

/* Serialised form (malloc'ed *buf); load returns -1 with reason on bad bytes. */
int  core_ens_save(const core_ens *e, uint8_t **buf, size_t *len);
int  core_ens_load(const void *buf, size_t len, core_ens **out, char *err, size_t errlen);

#endif
