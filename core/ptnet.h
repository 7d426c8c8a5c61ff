/*
 * ptnet.h - timm's ConvNeXt with a linear head, trainable in C, written like
 * karpathy/llm.c: every layer is a forward/backward pair over activations
 * kept for the backward pass, parameters and gradients each in one
 * allocation, AdamW.  Used by `zoosh pretrain` (core/pretrain.h: vote
 * fractions and other targets) and by fine-tuning on a user's labels.
 *
 * The network is the same maths as core/convnext.h (any depths/dims) plus a
 * linear head with n_out outputs.  The file it saves has timm's names and
 * layouts, so core_convnext_load (and `zoosh embed --weights`) reads the
 * encoder back; the head is saved as head.fc.*.
 *
 * A training step is forward -> (the caller's loss and its gradient with
 * respect to the logits and/or the embedding) -> backward -> AdamW;
 * core_pt_net_grad does the first three for the vote loss below.  Loss on
 * vote fractions (Zoobot's idea; the Kaggle GZ2 catalog has no vote counts,
 * so not its Dirichlet-multinomial): for each question q with answers a,
 * the cumulative fractions f_a (ClassQ.A) sum to w_q, the fraction of
 * volunteers who reached q; the per-question distribution is p_a = f_a /
 * w_q and the loss is sum_q w_q * CE(p_q, softmax(z_q)) = -sum_a f_a log
 * softmax_q(z)_a, averaged over the batch.
 */
#ifndef ZOOSH_CORE_PTNET_H
#define ZOOSH_CORE_PTNET_H

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
/* The same and its gradient dlogits (B, n_out) = (w_q softmax - f) / B: a
 * row of zero fractions adds nothing to either (how rows without votes are
 * left out of a mixed batch). */
float core_pt_loss_grad(const core_pt_questions *q, const float *logits, const float *f, int B, float *dlogits);
/* Forward, vote loss, backward: gradients are set (not accumulated).
 * Returns the loss. */
float core_pt_net_grad(core_pt_net *n, const core_pt_questions *q, const float *x, int B, int S,
                       const float *f);
/* AdamW (decoupled weight decay on weight matrices only), step t >= 1. */
void core_pt_net_adamw(core_pt_net *n, float lr, float wd, int t);

/* After core_pt_net_forward (whose activations the net keeps), the
 * gradients of a loss L (set, not accumulated) from dL/dlogits (B, n_out)
 * and/or dL/dfeat (B, dim), the gradient at the embedding `feat`; either
 * may be NULL (zero).  Only the trainable part gets gradients (see
 * core_pt_net_set_trainable); the rest keep 0.  0, or -1 with no forward. */
int  core_pt_net_backward(core_pt_net *n, const float *dlogits, const float *dfeat);

/* What trains: first_stage 0 = everything (the default); k in 1..nstages-1
 * = stages k.. (with stage k's downsample layer) and the head, the stem
 * and earlier stages frozen; nstages = the head (head.norm and head.fc)
 * alone.  Frozen tensors get no gradient and no AdamW step (no weight
 * decay either).  Returns the number of trainable parameters. */
size_t core_pt_net_set_trainable(core_pt_net *n, int first_stage);

int core_pt_net_n_out(const core_pt_net *n);
int core_pt_net_dim(const core_pt_net *n);     /* the embedding's width */

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
/* The same for the encoder alone: every tensor but head.fc.* (which keeps
 * its values: a new head on a pretrained encoder, e.g. Zoobot's, whose
 * file has no head.fc). */
int  core_pt_net_load_encoder(core_pt_net *n, const char *path, char *err, size_t errlen);
/* A parameter (grad 0) or its gradient (grad 1) by timm name, in timm's
 * layout, into out (may be NULL); *numel its size.  -1 if no such name. */
int  core_pt_net_get(const core_pt_net *n, const char *name, int grad, float *out, size_t *numel);

#endif
