/*
 * metrics.h - how well a task's stored predictions rank the galaxies against
 * a truth the workspace knows: a 0/1 galaxy metadata value (the simulator's
 * true_ring in a zoosh demo workspace).  zoosh demo prints it before and
 * after labeling; the labeler's status line shows it after each retrain.
 */
#ifndef ZOOSH_CORE_METRICS_H
#define ZOOSH_CORE_METRICS_H

#include "core/schema.h"
#include "store/store.h"

/* ROC AUC of scores s against 0/1 labels (ties count half, rank-based,
 * O(n log n)); NAN if one class is absent. */
double core_metrics_auc(const float *s, const int *label, int n);

/* ROC AUC of the stored prediction of column col ("ring_yes") of task sch
 * against the galaxies' metadata meta_key (atoi != 0 is positive), over every
 * galaxy that has both; *n gets that count (0 before the task's first model
 * or when no galaxy carries meta_key).  0 with *auc (NAN when n == 0 or one
 * class is absent); STORE_ENOTFOUND when col is not a column of sch; another
 * store code when the predictions do not decode. */
int core_metrics_truth_auc(zs_txn *txn, const core_schema *sch, const char *col, const char *meta_key,
                          double *auc, int *n);

#endif
