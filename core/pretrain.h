/*
 * pretrain.h - training a ConvNeXt encoder in C on Galaxy Zoo vote
 * fractions (`zoosh pretrain`), written like karpathy/llm.c: every layer is
 * a forward/backward pair over activations kept for the backward pass,
 * parameters and gradients each in one allocation, AdamW.
 *
 * The network is timm's ConvNeXt (the same maths as core/convnext.h, any
 * depths/dims) plus a linear head with one output per answer.  The file it
 * saves has timm's names and layouts, so core_convnext_load (and `zoosh
 * embed --weights`) reads the encoder back; the head is saved as head.fc.*.
 *
 * Loss (Zoobot's idea on vote fractions; the Kaggle GZ2 catalog has no vote
 * counts, so not its Dirichlet-multinomial): for each question q with
 * answers a, the cumulative fractions f_a (ClassQ.A) sum to w_q, the
 * fraction of volunteers who reached q; the per-question distribution is
 * p_a = f_a / w_q and the loss is sum_q w_q * CE(p_q, softmax(z_q)) =
 * -sum_a f_a log softmax_q(z)_a, averaged over the batch.
 */
#ifndef ZOOSH_CORE_PRETRAIN_H
#define ZOOSH_CORE_PRETRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/convnext.h"

#define CORE_PT_MAX_OUT 256

/* Answers grouped into questions: answers of question q are the outputs
 * start[q] .. start[q] + len[q] - 1. */
typedef struct {
    int n_q, n_out;
    int start[CORE_PT_MAX_OUT], len[CORE_PT_MAX_OUT];
} core_pt_questions;

typedef struct core_pt_net core_pt_net;

/* A new network, timm's init (trunc-normal std 0.02 weights, zero biases,
 * LayerNorm 1/0, layer scale gamma = ls_init). */
int  core_pt_net_new(core_pt_net **out, const core_convnext_arch *a, int n_out, float ls_init,
                     uint64_t seed);
void core_pt_net_free(core_pt_net *n);    /* NULL is fine */

/* Threads: forward, grad and AdamW use as many threads as OpenBLAS was set
 * to (openblas_set_num_threads; core_pt_run sets --threads), with OpenBLAS
 * itself on one thread during the call; the count changes no number. */

/* x (B, S, S, 3) channels-last floats in [0, 1] (not torch's NCHW).
 * Forward only: logits (B, n_out); feat (B, dim) the encoder's embedding
 * (what core_convnext_forward returns), either may be NULL.  0, or -1 if S < 32. */
int  core_pt_net_forward(core_pt_net *n, const float *x, int B, int S, float *logits, float *feat);
/* The loss of logits (B, n_out) against cumulative fractions f (B, n_out). */
float core_pt_loss(const core_pt_questions *q, const float *logits, const float *f, int B);
/* Forward, loss, backward: gradients are set (not accumulated).  Returns the loss. */
float core_pt_net_grad(core_pt_net *n, const core_pt_questions *q, const float *x, int B, int S,
                       const float *f);
/* AdamW (decoupled weight decay on weight matrices only), step t >= 1. */
void core_pt_net_adamw(core_pt_net *n, float lr, float wd, int t);

/* Parameters and gradients as flat arrays (for gradient checks). */
float *core_pt_net_params(core_pt_net *n, size_t *count);
float *core_pt_net_grads(core_pt_net *n, size_t *count);

/* Save as safetensors with timm's names/layouts (+ head.fc.weight/bias).
 * metadata: NULL or {key, value, ..., NULL}. */
int  core_pt_net_save(const core_pt_net *n, const char *path, const char *const *metadata,
                      char *err, size_t errlen);

/* Set the parameters from a safetensors file with timm's names (every
 * tensor of this architecture, head.fc included); Adam moments reset.
 * 0, or -1 with a reason naming the tensor. */
int  core_pt_net_load(core_pt_net *n, const char *path, char *err, size_t errlen);
/* A parameter (grad 0) or its gradient (grad 1) by timm name, in timm's
 * layout, into out (may be NULL); *numel its size.  -1 if no such name. */
int  core_pt_net_get(const core_pt_net *n, const char *name, int grad, float *out, size_t *numel);

/* ---- the whole run: catalog -> trained encoder file ---------------------- */

typedef struct {
    core_convnext_arch arch;  /* default: depths 1,1,3,1 dims 32,64,128,256 */
    int size;                 /* training resolution, px (64) */
    float crop;               /* centre crop of each image, fraction of its side (0.5) */
    int epochs;               /* 8 */
    int batch;                /* 32 */
    float lr, wd;             /* 2e-3, 0.05 */
    uint64_t seed;            /* 1 */
    int threads;              /* 2 */
    int limit;                /* at most this many galaxies (0 = all) */
    const char *exclude;      /* file of catalog ids (column `id`), one a line, never
                                 trained on nor held out: a validation set kept
                                 unseen (NULL = none) */
    float val_frac;           /* held out for the reported validation loss (0.1) */
    float zoom_lo, zoom_hi;   /* random zoom range of the views (0.9, 1.1; > 1 = closer) */
    float jitter;             /* survey augmentation strength (0 = none): per-view
                                 colour gain and saturation, brightness, gamma
                                 and pixel noise, so the encoder learns shapes
                                 rather than one survey's colour balance */
    int quiet;
} core_pt_opts;

void core_pt_opts_default(core_pt_opts *o);

/* Reads CATALOG (columns `file` and ClassQ.A vote fractions; files relative
 * to the catalog's folder), trains, writes out_path after every epoch.
 * Progress lines go to `log` (may be NULL).  0, or -1 with "FILE[:LINE]:
 * reason" in err. */
int core_pt_run(const char *catalog, const char *out_path, const core_pt_opts *o, void *log_file,
                char *err, size_t errlen);

#endif
