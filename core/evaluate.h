/*
 * evaluate.h - k-fold cross-validation of a task's head on the workspace's
 * current answers (zoosh eval): each fold a fresh ensemble (or, for interest
 * ratings, a Gaussian process) trained on the other folds.  Binary questions
 * score ROC AUC per fold and pooled; trees the accuracy of the most-voted
 * answer per question, pooled over the out-of-fold predictions; ratings the
 * RMSE.  Without answers the catalog's prior votes are evaluated instead.
 *
 * core_evaluate_new reads the workspace (short read transactions, the store
 * may be closed afterwards); core_evaluate_run does the folds in memory.
 *
 * Errors: -1 with err about the workspace's data (the CLI puts the
 * workspace's name in front), -2 with err standing alone.
 */
#ifndef ZOOSH_CORE_EVALUATE_H
#define ZOOSH_CORE_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct core_evaluate core_evaluate;

typedef struct {
    const char *task;       /* schema name or file */
    const char *features;   /* feature set; NULL = as core_learn_load picks */
    int k;                  /* folds, >= 2 */
    uint64_t seed;          /* the fold split and the fits */
} core_evaluate_opts;

typedef struct {
    int m;                  /* labelled galaxies cross-validated */
    int d;                  /* feature dimensions */
    const char *features;   /* the feature set (owned by the evaluation) */
    const char *source;     /* "answers", "catalog priors" or "priors from SPEC" (owned) */
    const char *metric;     /* per-fold metric: "auc" or "rmse" (static) */
    int rating;             /* 1: a rating task (GP, RMSE) */
    int binary;             /* 1: one yes/no question (AUC per fold and pooled) */
} core_evaluate_info;

typedef struct {
    int fold;               /* 1-based */
    int n_train, n_held;
    double metric;          /* AUC or RMSE on the held-out fold; NAN when none (a tree) */
} core_evaluate_fold;

typedef struct {
    int n_metric;           /* folds with a finite metric */
    double mean, sd;        /* of those folds' metrics (sd 0 for one fold) */
    double pooled_auc;      /* binary: AUC of the pooled out-of-fold predictions, else NAN */
    double pooled_accuracy; /* trees and binary: core_metrics_accuracy pooled, NAN for ratings */
    int n_questions;        /* questions with votes in pooled_accuracy */
} core_evaluate_summary;

typedef void (*core_evaluate_fold_fn)(const core_evaluate_fold *f, void *ctx);

/* Loads the task's data and picks the labelled rows.  -1 when it does not
 * load, -2 when fewer than 2 k galaxies are labelled ("task T has N
 * labelled galaxies: too few for K folds"). */
int  core_evaluate_new(core_evaluate **out, zs_store *st, const core_evaluate_opts *o, char *err, size_t errlen);
void core_evaluate_free(core_evaluate *ev);   /* NULL is a no-op */
void core_evaluate_info_get(const core_evaluate *ev, core_evaluate_info *info);

/* Runs the k folds in order, calling fold_fn (may be NULL) after each, then
 * fills *s.  0, or -2 when a fold's fit fails ("training failed on fold F",
 * "GP fit failed on fold F"; the folds before it were reported). */
int  core_evaluate_run(core_evaluate *ev, core_evaluate_fold_fn fold_fn, void *ctx, core_evaluate_summary *s,
                       char *err, size_t errlen);

#endif
