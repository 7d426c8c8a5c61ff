/*
 * learn_store.h - what the active-learning loop keeps in the workspace, and
 * the only code that knows those blobs' keys and layouts: the ranked queue,
 * the per-galaxy predictions, the model with its metrics, the learning
 * curve, the cached "pretrained" head and the cached anomaly scores.  The
 * readers take the caller's transaction; the writers open their own short
 * write transaction.  Included by learn.h.
 *
 * Stored (store blobs, STORE_DB_SCORES / STORE_DB_MODELS):
 *   "<task>/queue"       the ranked gids of the last re-rank (core_queue_get)
 *   "<task>/pred"        per-galaxy predicted probabilities, one per schema column
 *   "<task>/head"        the model, with version, time, training size, metrics
 *   "<task>/curve"       training size and held-out value of the last 256 models
 *   "<task>/head.prior"  the head fitted on the catalog's priors (a cache)
 *   "anomaly/<features>" isolation-forest scores of a feature set (a cache)
 *   "<task>/encoder"     the task's fine-tuned encoder (zoosh train --finetune,
 *                        core/finetune.h): a whole safetensors file, timm's names
 */
#ifndef ZOOSH_CORE_LEARN_STORE_H
#define ZOOSH_CORE_LEARN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/gp.h"
#include "core/head.h"
#include "store/store.h"

typedef struct {
    uint32_t version;       /* increments with each retrain */
    int64_t  time_us;       /* when it was trained */
    int      n_train;       /* labelled galaxies it saw */
    char     metric[16];    /* "auc", "accuracy", ... ("" when none yet) */
    double   value;         /* held-out value of metric (NAN when none) */
    char     order[16];     /* the order the stored queue was ranked by */
    char     features[64];  /* feature set it was trained on */
    int      n_prior;       /* galaxies whose priors (catalog columns or a
                             * --prior-from set) the head started from; 0 none */
    int      prior_only;    /* 1: no answers yet, the head is the one fitted
                             * to those priors (n_train counts priors) */
} core_model_info;

/* The ranked queue of a task: *gids malloc'ed (caller frees), best first.
 * STORE_ENOTFOUND when nothing was ranked yet (the labeler then shows
 * galaxies in catalog order). */
int core_queue_get(zs_txn *txn, const char *task, uint32_t **gids, int *n, core_model_info *info);
/* The model's predicted probability for each schema column of one galaxy
 * (p[i] for column i of core_schema_column); STORE_ENOTFOUND without a model. */
int core_pred_get(zs_txn *txn, const char *task, uint32_t gid, float *p, int max, int *n);
int core_model_info_get(zs_txn *txn, const char *task, core_model_info *info);
/* The learning curve for the status line's sparkline: the training size
 * and held-out value (NAN when none) of the last min(max, 256) models, oldest
 * first, into n_train / value (either may be NULL); STORE_ENOTFOUND before
 * the first model. */
int core_learn_curve_get(zs_txn *txn, const char *task, int *n_train, double *value, int max, int *n);

/* ---- for core_learn_run (learn.c) */

/* What one run stores.  Every pointer is borrowed for the call. */
typedef struct {
    const char *task;
    core_model_info info;   /* version: set by core_learn_store_put */
    const uint32_t *queue;  /* (nq) gids, best first */
    int nq;
    const float *pred;      /* (max_gid + 1, C) indexed by gid, NULL = none */
    uint32_t C, max_gid;
    const uint8_t *ens;     /* (ens_len) core_ens_save bytes, NULL = no head */
    size_t ens_len;
    int has_gp;             /* 1: hp are the interest GP's hyperparameters */
    core_gp_hyper hp;
    const float *anom;      /* (n_anom) anomaly scores of `features` to cache, NULL = none */
    int n_anom;
    const char *features;
} core_learn_record;

/* Stores head, queue, predictions, the curve's next point and the anomaly
 * cache in one write transaction, so that a reader never sees a queue of
 * one version with predictions of another.  rec->info.version becomes the
 * stored head's version + 1 (1 for the first).  0 or a store error code. */
int core_learn_store_put(zs_store *st, core_learn_record *rec);
/* The GP hyperparameters of task's stored model: 0 with *hp, or
 * STORE_ENOTFOUND when it has none (or cannot be read). */
int core_learn_store_gp_start(zs_store *st, const char *task, core_gp_hyper *hp);
/* The cached prior head of task, when it was fitted on `features` with
 * this fingerprint: 0 with *e (caller frees) and *info; STORE_ENOTFOUND
 * otherwise. */
int core_learn_store_prior_get(zs_store *st, const char *task, const char *features, uint32_t fingerprint,
                               core_ens **e, core_model_info *info);
/* Caches e as task's prior head (its own write transaction).  0 or a store
 * error code (a failure only costs the next run a refit). */
int core_learn_store_prior_put(zs_store *st, const char *task, const core_ens *e, uint32_t fingerprint,
                               const core_model_info *info);
/* The cached anomaly scores of a feature set of n rows (malloc'ed, caller
 * frees), or NULL when none of that length is stored. */
float *core_learn_store_anomaly_get(zs_store *st, const char *features, int n);

/* The task's fine-tuned encoder (MODELS "<task>/encoder"), the bytes of a
 * safetensors file.  get: borrowed from the map, valid until txn ends;
 * STORE_ENOTFOUND when the task has none.  put replaces it. */
int core_learn_encoder_get(zs_txn *txn, const char *task, const void **bytes, size_t *len);
int core_learn_encoder_put(zs_txn *txn, const char *task, const void *bytes, size_t len);

#endif
