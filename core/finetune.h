/*
 * finetune.h - fine-tuning past the head: `zoosh train --finetune`.  The
 * encoder's last stage and a new linear head (core/ptnet.h) are trained on
 * a task's labelled galaxies, the stem and earlier stages frozen; the
 * result is stored in the workspace per task and re-embeds every galaxy as
 * the task's own feature set, which the task's head (core/learn.h) then
 * trains and ranks on.
 *
 * Stored (one write transaction, after the set is whole):
 *   MODELS "<task>/encoder"      the fine-tuned encoder, a safetensors file
 *                                with timm's names (core_learn_encoder_get);
 *                                its metadata names the base file, the
 *                                labels, the epochs and the seed
 *   feature set "ft_<task>_emb"  every galaxy embedded by it
 *   feature set "ft_<task>"      the fine-tuned head's logits (one column per
 *                                answer, named in its provenance) of every
 *                                galaxy: what the task's head ranks on
 *   meta "learn.<task>.features" "ft_<task>": the set the task's retrains
 *                                use (zoosh train, rank, the labeler), until
 *                                core_ft_off
 *
 * Labels: each galaxy's counted answers (core_answers_counted); where a
 * galaxy has none, its catalog prior (a 0/1 column named after the task,
 * vote counts or fractions), never a prior computed from the features.
 * Targets are per-question answer fractions; a one-question task weighs its
 * classes to balance them, as the head does.
 *
 * Images are prepared as `zoosh embed` prepares them for the base encoder
 * (the stored thumbnail, the file's centre crop and input size), then
 * augmented: one of the 8 rotations / flips of the square and a small
 * brightness and colour jitter.  A seeded split holds out val_frac of the
 * labels; the head trains alone first (head_epochs), then the last stage
 * with it at a smaller rate, stopping when the held-out loss has not
 * improved for `patience` epochs; the best epoch's weights are kept (the
 * head-only network counts as epoch 0, so the last stage changes only when
 * it helps on held-out answers).
 *
 * Deterministic given the seed: every random draw comes from one seeded
 * generator on the calling thread, and core/ptnet.c's threads change no
 * number, so any thread count gives the same file, byte for byte.
 */
#ifndef ZOOSH_CORE_FINETUNE_H
#define ZOOSH_CORE_FINETUNE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define CORE_FT_SET_PREFIX "ft_"
#define CORE_FT_MAX_LABELS 4000      /* labelled galaxies used at most (a seeded draw) */

typedef struct {
    const char *task;
    const char *weights;    /* the base encoder (a zoosh or timm ConvNeXt safetensors file) */
    int epochs;             /* most epochs of the last stage (20) */
    int head_epochs;        /* epochs of the head alone first (15) */
    int batch;              /* 16 */
    float lr, lr_head, wd;  /* 2e-4, 2e-3, 0.05 (AdamW) */
    float val_frac;         /* held out for early stopping (0.2) */
    int patience;           /* epochs without a better held-out loss before stopping (4) */
    float jitter;           /* brightness / colour jitter strength (0.5; 0 = none) */
    uint64_t seed;          /* 1 */
    int threads;            /* 2 */
    int embed;              /* 1: embed every galaxy and store (the default); 0: train only */
    volatile int *cancel;   /* polled between batches; may be NULL */
} core_ft_opts;

void core_ft_opts_default(core_ft_opts *o);

typedef struct {
    int n_train, n_val;     /* labelled galaxies trained on / held out */
    int epochs_run, best_epoch;
    float loss_start;       /* training loss (no augmentation) of the base encoder + new head */
    float loss_head;        /* ... after the head alone */
    float loss_end;         /* ... of the kept network */
    float val_head, val_best; /* held-out loss after the head alone / the kept one (NAN without) */
    size_t trainable;       /* parameters trained in the last stage's phase */
    double seconds, images_per_s;  /* training time and speed (training steps only) */
    int rows;               /* galaxies embedded */
    char set[STORE_FEATNAME_MAX + 1];   /* the task's feature set */
} core_ft_result;

/* Fine-tunes, stores, embeds (see above).  0; 1 cancelled; -1 with err
 * (no or too few labels, the base does not load, an image that does not
 * read: err says which); a store code when the workspace cannot be
 * written. */
int core_ft_run(zs_store *st, const core_ft_opts *o, core_ft_result *out, char *err, size_t errlen);

/* Writes the task's stored encoder to path (a safetensors file), after
 * checking it parses as one.  0; STORE_ENOTFOUND none stored; -1 damaged or
 * not written, with err. */
int core_ft_export(zs_store *st, const char *task, const char *path, char *err, size_t errlen);

/* 1 when the task's retrains use its fine-tuned set (zoosh train
 * --finetune made it and --no-finetune has not turned it off) and, base not
 * NULL, its stored encoder was fine-tuned from base (its metadata says so;
 * the file it names is never opened here), else 0. */
int core_ft_in_use(zs_store *st, const char *task, const char *base);

/* Stops the task using its fine-tuned set (drops meta learn.<task>.features;
 * the stored encoder stays for export).  0 or a store code. */
int core_ft_off(zs_store *st, const char *task);

#endif
