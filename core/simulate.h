/*
 * simulate.h - the active-learning replay (zoosh simulate): a labeling
 * session with a catalog column as the user, without writing to the
 * workspace.  Shows `budget` galaxies in batches in the order's ranking,
 * reveals their labels, retrains after each batch (from nothing, or from
 * --prior-from's head) and measures a learning curve on the galaxies not yet
 * shown (or on a fixed random holdout of them, never shown):
 *   yes/no oracle:  labels  auc  accuracy  positives_shown
 *   ratings:        ratings  precision_top30  rmse  positives_shown
 * The oracle column is a prior column (votes, labels) or else a numeric
 * catalog column kept with the galaxies; 0/1 (or a fraction, > 0.5 = yes)
 * for the task's chosen answer.  With rating = 1 it becomes 0-5 interest
 * ratings (a 0/1 column: 1 -> 4 or 5, 0 -> 0 or 1, drawn from the seed;
 * rating >= 4 counts as positive).
 *
 * core_simulate_new reads the workspace (short read transactions; the store
 * may be closed afterwards); core_simulate_run replays in memory.
 *
 * Errors: -1 with err about the workspace's data (the CLI puts the
 * workspace's name in front), -2 with err standing alone, -3 the options do
 * not fit the task (a usage error, err standing alone).
 */
#ifndef ZOOSH_CORE_SIMULATE_H
#define ZOOSH_CORE_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct core_simulate core_simulate;

typedef struct {
    const char *task;        /* schema name or file */
    const char *features;    /* feature set; NULL = as core_learn_load picks */
    const char *oracle;      /* the column that answers */
    int rating;              /* 1: the column gives interest ratings */
    const char *order;       /* NULL = uncertain (interest when rating) */
    const char *prior_from;  /* SET:COLUMN or SET to start from; NULL = nothing */
    int gp_blocks;           /* 1: the interest GP is a block fit on the blocked features (core/interest.h) */
    int budget, batch;       /* galaxies shown in all, per retrain (>= 1) */
    uint64_t seed;
    double holdout;          /* fraction of the labelled ones set aside, 0 <= h < 1 */
} core_simulate_opts;

typedef struct {
    const char *order;       /* the order replayed (owned by the replay) */
    const char *features;    /* the feature set (owned) */
    int d;                   /* its dimensions */
    int n_pool, n_pos;       /* galaxies with a label, positive ones */
    int budget;              /* galaxies that will be shown (the budget, or fewer when fewer are left) */
} core_simulate_info;

typedef struct {
    int shown;               /* galaxies shown so far */
    double score;            /* AUC (yes/no) or precision among the top 30 not yet rated */
    double score2;           /* accuracy (yes/no) or RMSE of the predicted rating */
    int pos_shown;           /* positives among the shown */
} core_simulate_point;

typedef struct {
    int shown, pos_shown;    /* at the end */
    int n_pool, n_pos;
} core_simulate_summary;

typedef void (*core_simulate_point_fn)(const core_simulate_point *p, void *ctx);

/* Loads the task's data, the oracle column and the prior; -1 (load, oracle
 * column, prior, nothing labelled, nothing left to show), -3 a rating task
 * without rating. */
int  core_simulate_new(core_simulate **out, zs_store *st, const core_simulate_opts *o, char *err, size_t errlen);
void core_simulate_free(core_simulate *sim);   /* NULL is a no-op */
void core_simulate_info_get(const core_simulate *sim, core_simulate_info *info);

/* Replays: a retrain, a curve point (point_fn, may be NULL; none before
 * the first batch), the next batch shown, until the budget is shown.  *s is
 * filled also on failure.  0, or -2 when a retrain fails. */
int  core_simulate_run(core_simulate *sim, core_simulate_point_fn point_fn, void *ctx, core_simulate_summary *s,
                       char *err, size_t errlen);

/* The curve of the last run (score against shown) as a PNG: y from 0.4
 * (AUC) or 0 (precision) to 1.  0, or -1 with a reason in err. */
int  core_simulate_plot(const core_simulate *sim, const char *path, char *err, size_t errlen);

#endif
