/*
 * ptloss.h - the extra heads and losses of `zoosh pretrain` that sit on the
 * encoder's embedding (core/ptnet.h's `feat`), beside the network's own vote
 * head: a dense layer with its AdamW (a head for another catalog's targets,
 * or a layer of the projection), binary cross-entropy for 0/1 tags, and
 * SimCLR's NT-Xent over a small projection of the embedding.  Every
 * function returns its loss and the gradient at its input, which the caller
 * adds into the dfeat it hands to core_pt_net_backward.
 *
 * Single-threaded plain loops (the layers are a few hundred wide on batches
 * of 64-128 rows, microseconds next to the network): the same numbers on
 * any thread count.
 */
#ifndef ZOOSH_CORE_PTLOSS_H
#define ZOOSH_CORE_PTLOSS_H

#include <stddef.h>
#include <stdint.h>

/* ---- a dense layer y = x W^T + b, with its gradients and AdamW moments */

typedef struct core_pt_dense core_pt_dense;

/* W (out, in) normal with std 1/sqrt(in), b = 0. */
int  core_pt_dense_new(core_pt_dense **d, int in, int out, uint64_t seed);
void core_pt_dense_free(core_pt_dense *d);   /* NULL is fine */
/* y (B, out) from x (B, in). */
void core_pt_dense_forward(const core_pt_dense *d, const float *x, int B, float *y);
/* Gradients of W and b set from dy (B, out) at the input x (B, in) of the
 * forward; dx (B, in) set, may be NULL. */
void core_pt_dense_backward(core_pt_dense *d, const float *x, const float *dy, int B, float *dx);
/* AdamW as core_pt_net_adamw (betas 0.9, 0.999, decay on W only), step t >= 1. */
void core_pt_dense_adamw(core_pt_dense *d, float lr, float wd, int t);
/* Parameters and gradients as flat arrays (W then b). */
float *core_pt_dense_params(core_pt_dense *d, size_t *count);
float *core_pt_dense_grads(core_pt_dense *d, size_t *count);
int  core_pt_dense_out(const core_pt_dense *d);

/* ---- binary cross-entropy on 0/1 tags */

/* logits and t (B, K): loss = -(1/B) sum over rows and tags of t log s(z) +
 * (1 - t) log(1 - s(z)), s the logistic; a row whose first target is
 * negative has no tags (left out: adds nothing).  dlogits (B, K) set
 * ((s(z) - t) / B, 0 on rows left out), may be NULL. */
float core_pt_bce_grad(const float *logits, const float *t, int B, int K, float *dlogits);

/* ---- SimCLR: projection MLP (dim -> hidden, ReLU, -> proj), L2-normalised,
 * NT-Xent at temperature tau over N = 2 B embeddings where rows i and
 * i + B are two views of one galaxy: each row's partner must be nearer
 * than the other 2 B - 2 rows.
 *   L = (1/N) sum_i -log(exp(s(i, p(i)) / tau) / sum_{k != i} exp(s(i, k) / tau))
 * s the cosine similarity of the projections. */

typedef struct core_pt_ssl core_pt_ssl;

int  core_pt_ssl_new(core_pt_ssl **s, int dim, int hidden, int proj, float tau, uint64_t seed);
void core_pt_ssl_free(core_pt_ssl *s);
/* feat (N, dim), N even: the loss; the projection's gradients set, dfeat
 * (N, dim) set to dL/dfeat (may be NULL).  NAN if N < 4 or odd. */
float core_pt_ssl_grad(core_pt_ssl *s, const float *feat, int N, float *dfeat);
void core_pt_ssl_adamw(core_pt_ssl *s, float lr, float wd, int t);
/* The two layers (0, 1), for gradient checks. */
core_pt_dense *core_pt_ssl_layer(core_pt_ssl *s, int k);

#endif
