/*
 * convnext.h - a Zoobot-compatible ConvNeXt image encoder (inference), in C.
 *
 * Loads the model.safetensors a Zoobot user downloads for
 * hf_hub:mwalmsley/zoobot-encoder-convnext_nano (timm's ConvNeXt created with
 * num_classes=0) and computes the same pooled, normalised feature vector as
 * timm's model.forward(x) on that encoder:
 *   stem (4x4/4 conv, LayerNorm2d) -> stages (downsample: LayerNorm2d, 2x2/2
 *   conv; blocks: 7x7 depthwise conv, LayerNorm, 1x1 conv, GELU(erf), 1x1
 *   conv, layer scale gamma, residual) -> global average pool -> head.norm.
 * Parameter names are timm's (stem.*, stages.N.downsample.*,
 * stages.N.blocks.M.{conv_dw,norm,mlp.fc1,mlp.fc2,gamma}, head.norm.*).
 * head.fc (a classifier), if present, is ignored: the output is the
 * pre-logits embedding.
 *
 * Layouts: images go in as torch does, (N, 3, H, W) floats; inside, each
 * image is channels-last (H, W, C) so 1x1 and patch convolutions are one
 * GEMM each (OpenBLAS) and the depthwise convolution vectorises over C.
 */
#ifndef ZOOSH_CORE_CONVNEXT_H
#define ZOOSH_CORE_CONVNEXT_H

#include <stddef.h>
#include "core/image.h"

#define CORE_CONVNEXT_MAX_STAGES 4

typedef struct {
    char name[32];          /* "convnext_nano", ..., or "custom" when inferred */
    int nstages;
    int depths[CORE_CONVNEXT_MAX_STAGES];
    int dims[CORE_CONVNEXT_MAX_STAGES];
    int mlp_ratio;          /* hidden = mlp_ratio * dim (4 in timm) */
} core_convnext_arch;

typedef struct core_convnext core_convnext;

/* Known timm architectures (atto, femto, pico, nano, tiny, small, base), with
 * or without the "convnext_" prefix.  0 if known, -1 otherwise. */
int core_convnext_arch_lookup(const char *name, core_convnext_arch *out);

/* Load from a safetensors file.  arch NULL: infer depths and dims from the
 * tensor shapes; otherwise every tensor of that architecture must be present
 * with its shape.  0, or -1 with a reason naming the tensor in err. */
int  core_convnext_load(core_convnext **out, const char *safetensors_path, const char *arch,
                        char *err, size_t errlen);
void core_convnext_free(core_convnext *m);          /* NULL is fine */

int  core_convnext_dim(const core_convnext *m);     /* embedding size: last stage width */
const core_convnext_arch *core_convnext_arch_of(const core_convnext *m);
size_t core_convnext_nparams(const core_convnext *m);

/* Worker threads for a batch (default: online CPUs, at most 8; env
 * ZOOSH_THREADS overrides).  Images of a batch are shared among workers, each
 * with single-threaded BLAS; a batch of one uses threaded BLAS instead. */
void core_convnext_set_threads(core_convnext *m, int threads);

/* Lower level: x (n, 3, h, w) floats as the network sees them (Zoobot: pixel
 * values / 255), h, w >= 32.  out (n, dim).  0, or -1 if the size is too small. */
int  core_convnext_forward(core_convnext *m, const float *x, int n, int h, int w, float *out);
/* The same through the naive reference loops (no BLAS, no vectorisation),
 * one thread: the fast path is tested against it. */
int  core_convnext_forward_naive(const core_convnext *m, const float *x, int n, int h, int w,
                                 float *out);

/* Zoobot's preprocessing of one RGB8 image into x (3, size, size): centre crop
 * to a square if not square (and then to `crop` of its side, 1 = none),
 * area-average resample to size x size, / 255 (galaxy_datasets' transforms
 * output floats in [0, 1]; no mean/std). */
void core_convnext_preprocess(const core_image *im, int size, float crop, float *x);

/* What the weights file says about its input (safetensors metadata written
 * by zoosh pretrain: "zoosh_input_size", "zoosh_crop"): the training
 * resolution (0 if unknown: Zoobot's encoders use 224) and centre-crop
 * fraction (1 if unknown).  embed applies the crop; set_crop overrides. */
int   core_convnext_input_size(const core_convnext *m);
float core_convnext_crop(const core_convnext *m);
void  core_convnext_set_crop(core_convnext *m, float crop);

/* Test-time augmentation of embed: the mean embedding over `views` of the
 * 8 symmetries of the square (1 = none, the default; 2, 4 or 8; other
 * values round down).  A galaxy has no preferred orientation, so averaging
 * over them removes the encoder's own orientation noise from the vector. */
void core_convnext_set_views(core_convnext *m, int views);
int  core_convnext_views(const core_convnext *m);
/* View v (0..7) of the square planes x (3, s, s) into y (3, s, s): v & 4 a
 * transpose, then v & 3 quarter turns; v = 0 is the identity. */
void core_convnext_dihedral(const float *x, int s, int v, float *y);

/* Images -> embeddings: preprocess each to size x size (224 for Zoobot's
 * encoders) with the model's crop, forward, out (n, dim).  0, or -1 if size < 32. */
int  core_convnext_embed(core_convnext *m, const core_image *imgs, int n, int size, float *out);

/* The vote head of a file made by zoosh pretrain: head.fc (one output per
 * answer) and metadata "answers" (their names, ClassQ.A).  Zoobot's
 * encoders have none (their head.fc, if any, is ignored): answers 0.
 * head_votes maps embeddings emb (n, dim) to the predicted vote fraction of
 * every answer, out (n, answers): the softmax of the logits within each
 * question (answers sharing the text before their last '.'), so each
 * question's fractions sum to 1; what volunteers would answer, were they
 * asked that question. */
#define CORE_CONVNEXT_MAX_ANSWERS 256
int  core_convnext_head_answers(const core_convnext *m);
const char *core_convnext_head_answer(const core_convnext *m, int a);   /* "Class8.1", NULL out of range */
void core_convnext_head_votes(const core_convnext *m, const float *emb, int n, float *out);

/* GELU as torch's default (exact, erf).  Exposed for tests: the fast
 * vectorised erf against libm's. */
void core_convnext_gelu(float *x, size_t n);
void core_convnext_gelu_naive(float *x, size_t n);

#endif
