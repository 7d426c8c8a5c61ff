/*
 * learn.h - the active-learning loop as the labeler and the CLI see it:
 * train a task's head on the workspace's answers (and the catalog's prior
 * votes), score every galaxy, and store the ranked queue, the per-galaxy
 * predictions and the model with its metrics.  The labeler only reads what
 * this stores; it never waits for training.
 *
 * Stored (store blobs, STORE_DB_SCORES / STORE_DB_MODELS):
 *   "<task>/queue"  the ranked gids of the last re-rank (see core_queue_get)
 *   "<task>/pred"   per-galaxy predicted probabilities, one per schema column
 *   "<task>/head"   the model, with version, time, training size, metrics
 */
#ifndef ZOOSH_CORE_LEARN_H
#define ZOOSH_CORE_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct {
    uint32_t version;       /* increments with each retrain */
    int64_t  time_us;       /* when it was trained */
    int      n_train;       /* labelled galaxies it saw */
    char     metric[16];    /* "auc", "accuracy", ... ("" when none yet) */
    double   value;         /* held-out value of metric (NAN when none) */
    char     order[16];     /* the order the stored queue was ranked by */
    char     features[64];  /* feature set it was trained on */
} core_model_info;

/* The ranked queue of a task: *gids malloc'ed (caller frees), best first.
 * STORE_ENOTFOUND when nothing was ranked yet (the labeler then shows
 * galaxies in catalog order). */
int core_queue_get(zs_txn *txn, const char *task, uint32_t **gids, int *n, core_model_info *info);
/* The model's predicted probability for each schema column of one galaxy
 * (p[i] for column i of core_schema_column); STORE_ENOTFOUND without a model. */
int core_pred_get(zs_txn *txn, const char *task, uint32_t gid, float *p, int max, int *n);
int core_model_info_get(zs_txn *txn, const char *task, core_model_info *info);

typedef struct {
    const char *task;       /* schema name or file */
    const char *order;      /* "uncertain", "likely", "interest", "anomaly", "random", "catalog", "mixed" */
    const char *features;   /* feature set name; NULL = the workspace default */
    uint64_t    seed;
    volatile int *cancel;   /* polled between batches; may be NULL */
} core_learn_opts;

/* Train + score + rank + store (several short write transactions).  Safe to
 * call from a background thread with the labeler's zs_store.  err gets a
 * one-line reason on failure. */
int core_learn_run(zs_store *st, const core_learn_opts *opts, core_model_info *out,
                   char *err, size_t errlen);

#endif
