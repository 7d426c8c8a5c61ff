/*
 * train.h - what zoosh train and zoosh rank do to a workspace besides
 * core_learn_run: check and remember a task's training options (meta
 * learn.<task>.hidden / .target / .l2 / .prior, read again at every
 * retrain, the labeler's included), and rank the galaxies by an order,
 * trained in memory or as the last train stored them, with their catalog
 * ids.  Each opens its own short transactions.
 *
 * Errors: 0 success; a store code (STORE_E*, or a positive errno) when the
 * workspace cannot be read or written; -1 with err about the workspace's
 * data (the CLI puts the workspace's name in front); -2 with err standing
 * alone; -3 with err standing alone when the option does not fit the task
 * (a usage error).
 */
#ifndef ZOOSH_CORE_TRAIN_H
#define ZOOSH_CORE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* --target: 0 when target is an answer column (QUESTION_ANSWER) of task;
 * -1 the task's schema does not read; -2 the task has no answers (a rating
 * task); -3 not one of them (err lists the first 12). */
int core_train_check_target(zs_store *st, const char *task, const char *target, char *err, size_t errlen);

/* Remembers the head's options for the task's retrains from now on:
 * hidden units (< 0 leaves it), the answer 'likely' hunts and the weight
 * decay (NULL leaves them), in one write.  0 or a store code. */
int core_train_remember(zs_store *st, const char *task, int hidden, const char *target, const char *l2);

/* --prior-from: checks spec on the task's data (core_learn_prior_use;
 * "none" turns the priors off) and remembers it (meta learn.<task>.prior).
 * *n_prior gets how many galaxies it gives a prior.  0; -1 the data or the
 * spec do not load; -2 spec is too long; a store code from the write. */
int core_train_prior_set(zs_store *st, const char *task, const char *features, const char *spec, int *n_prior,
                         char *err, size_t errlen);

/* The best galaxies of an order, best first. */
typedef struct {
    int n;
    char **id;        /* (n) catalog ids (owned), NULL where a galaxy did not read */
    double *score;    /* (n) the order's score; NULL for a stored queue (its place is the index + 1) */
    char features[64];/* the feature set it was ranked on */
} core_train_ranking;

/* The first `top` of the order, trained in memory on the current answers
 * from the catalog's priors (nothing is written).  0, or -1 with err. */
int  core_train_rank(zs_store *st, const char *task, const char *order, const char *features, uint64_t seed,
                     int top, core_train_ranking *out, char *err, size_t errlen);
/* The first `top` of the queue the last train stored.  0,
 * STORE_ENOTFOUND when none was stored, or another store code. */
int  core_train_rank_stored(zs_store *st, const char *task, int top, core_train_ranking *out);
void core_train_ranking_free(core_train_ranking *r);

#endif
