/*
 * metrics.h - how good predictions are: the ROC AUC of scores against 0/1
 * labels, the accuracy of a head's most probable answer per question, the
 * RMSE of predicted ratings (the numbers train, eval and simulate print and
 * the ensembles' out-of-bag metric), and how well a task's stored
 * predictions rank the galaxies against a truth the workspace knows: a 0/1
 * galaxy metadata value (the simulator's true_ring in a zoosh demo
 * workspace).  zoosh demo prints that before and after labeling; the
 * labeler's status line shows it after each retrain.
 */
#ifndef ZOOSH_CORE_METRICS_H
#define ZOOSH_CORE_METRICS_H

#include "core/schema.h"
#include "core/learn.h"
#include "store/store.h"

/* ROC AUC of scores s against 0/1 labels (ties count half, rank-based,
 * O(n log n)); NAN if one class is absent. */
double core_metrics_auc(const float *s, const int *label, int n);

/* Accuracy of probabilities p (n, C) against answer counts y (n, C), C =
 * q_start[n_q]: per question (columns [q_start[q], q_start[q+1])), the share
 * of the rows with votes there whose most probable answer is their most
 * voted one (the first of equals); the mean over the questions that had
 * votes.  *n_used (may be NULL) gets how many did; NAN when none. */
double core_metrics_accuracy(const float *p, const float *y, int n, const int *q_start, int n_q, int *n_used);

/* Root mean squared error of pred (n) against truth (n), each difference
 * taken in float and squared in double; NAN when n == 0. */
double core_metrics_rmse(const float *pred, const float *truth, int n);

/* ROC AUC of the stored prediction of column col ("ring_yes") of task sch
 * against the galaxies' metadata meta_key (atoi != 0 is positive), over every
 * galaxy that has both; *n gets that count (0 before the task's first model
 * or when no galaxy carries meta_key).  0 with *auc (NAN when n == 0 or one
 * class is absent); STORE_ENOTFOUND when col is not a column of sch; another
 * store code when the predictions do not decode. */
int core_metrics_truth_auc(zs_txn *txn, const core_schema *sch, const char *col, const char *meta_key,
                          double *auc, int *n);

/* The demo's report: the stored model of task sch (its info into *info)
 * and core_metrics_truth_auc of its column col against meta_key, in one
 * read transaction of st.  0, STORE_ENOTFOUND before the task's first
 * model, or another store code. */
int core_metrics_model_truth(zs_store *st, const core_schema *sch, const char *col, const char *meta_key,
                             core_model_info *info, double *auc, int *n);

#endif
