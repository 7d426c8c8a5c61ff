/*
 * learn.h - the active-learning loop as the labeler and the CLI see it:
 * train a task's head on the workspace's answers (and the catalog's prior
 * votes), score every galaxy, and store the ranked queue, the per-galaxy
 * predictions and the model with its metrics.  The labeler only reads what
 * this stores; it never waits for training.
 *
 * What it stores, and the readers of it (core_queue_get, core_pred_get,
 * core_model_info_get, core_learn_curve_get), are in learn_store.h.
 */
#ifndef ZOOSH_CORE_LEARN_H
#define ZOOSH_CORE_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "core/answers.h"   /* core_answers_counted: the answers training counts */
#include "core/gp.h"
#include "core/head.h"
#include "core/interest.h"
#include "core/learn_store.h"
#include "core/schema.h"
#include "store/store.h"

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

/* ---- the pieces core_learn_run is made of, for simulate / eval / benches
 * (the labeler needs only the above). */

/* A task's data: features of every galaxy that has them and the labels. */
typedef struct {
    core_schema schema;
    char features[64];    /* feature set name */
    int n, d;
    float *x;             /* (n, d) features, each column standardised */
    uint32_t *gids;       /* (n) gid of each row, ascending */
    uint32_t max_gid;
    int *row;             /* (max_gid + 1) row of a gid, -1 when it has no features */
    int C;                /* answer columns (0 for a rating task) */
    float *y;             /* (n, C) answer counts from the log, retractions dropped */
    float *prior;         /* (n, C) the catalog's prior votes / labels, NULL when none */
    int n_prior;          /* rows with prior votes */
    char prior_src[64];   /* where they came from: "catalog", or the SET:COLUMN of
                           * a yes/no task's prior (votes:Class8.1); "" none */
    float *rating;        /* (n) mean interest rating (any task's RATING answers), NAN = none */
    int n_answered;       /* rows with answers for this task */
    int n_rated;          /* rows with ratings */
    int pos_col;          /* the "chosen answer" column for likely / AUC, -1 none */
    int hidden;           /* hidden units of the head (0 = linear) */
    float l2;             /* weight decay (meta learn.<task>.l2; default 0.05) */
    int has_gp_start;     /* 1: start the GP's hyperparameter search at gp_start */
    core_gp_hyper gp_start; /* (core_learn_run: the last stored model's) */
    core_interest_feat gf;  /* the interest GP's blocked features (core/interest.h); gf.x NULL = x */
} core_learn_data;

/* Reads features, answers and priors in short read transactions (a yes/no
 * task's prior column included: meta learn.<task>.prior, else the catalog's
 * priors, else the schema's `prior`).  features
 * NULL = the set every command uses (core_repr_pick_set: the one chosen by
 * zoosh features --use, else the PCA of the default set, ...), unless the
 * task has its own (meta learn.<task>.features: zoosh train --finetune);
 * "" = the workspace's set even then (eval and simulate: a fine-tuned set
 * has seen the labels they hold out). */
int  core_learn_load(zs_store *st, const char *task, const char *features, core_learn_data *D,
                     char *err, size_t errlen);
void core_learn_data_free(core_learn_data *D);
/* D->gf for the interest GP (core_interest_load): with it the GP is a
 * block fit on the blocked features (simulate --gp-blocks); without it
 * (the default: on the HSC candidates the block fit did not beat the
 * isotropic GP, docs/learn.md) the GP reads D->x. */
void core_learn_interest_load(zs_store *st, core_learn_data *D);
/* The head core_learn_run trains on D: one softmax group per question of the
 * task's tree (each gated by its parent answer), Dirichlet loss for a tree of
 * several questions, cross-entropy for one; D's hidden units and l2. */
void core_learn_head_cfg(const core_learn_data *D, core_head_cfg *cfg);

/* ---- priors (core/learn_prior.c) */
/* D->prior from the catalog's prior columns ("<q>_<a>" counts,
 * "<q>_<a>_fraction", or a 0/1 column named after a yes/no question), then
 * the task's prior spec over them; sets D->n_prior and D->prior_src.
 * core_learn_load calls it inside its read transaction. */
void core_learn_prior_load(zs_txn *txn, core_learn_data *D);
/* Replace D's priors by one number per galaxy: p (indexed by gid, len
 * entries, NAN = none) is the fraction of the task's positive answer
 * (pos_col), 1 - p the other's, each counting as PRIOR_FRACTION_VOTES
 * votes as a catalog's <q>_<a>_fraction columns do: e.g. the ring fraction
 * zoosh's encoder predicts (set votes, Class8.1) starts a ring task before
 * anyone has answered.  Only for a task of one yes/no question.  *pos /
 * *neg (may be NULL) get the two columns.  0, or -1 with a reason. */
int core_learn_prior_from(core_learn_data *D, const float *p, uint32_t len, int *pos, int *neg, char *err,
                          size_t errlen);
/* Replace D's priors by those of spec, as a task's prior spec gives them
 * (meta learn.<task>.prior or the schema's `prior`): "SET:COLUMN" for a task
 * of one yes/no question (core_learn_prior_from), "SET" (a feature set with a
 * column per answer, in the task's column order) for any tree.  Sets
 * D->prior_src.  0, or -1 with a reason. */
int core_learn_prior_use(zs_store *st, core_learn_data *D, const char *spec, char *err, size_t errlen);
/* Where task s's priors come from, as core_learn_load decides: src gets the
 * spec of its prior (returns how many galaxies have a value), or "catalog"
 * (returns -1), or "" (returns 0: none). */
int core_learn_prior_source(zs_txn *txn, const core_schema *s, char *src, size_t len);

/* How far the anomaly prior ranks the interest ratings (what `zoosh stats`
 * prints): *rho the rank correlation of the stored isolation-forest scores
 * with the ratings (core_acquire_trust; NAN under CORE_TRUST_MIN ratings),
 * *m the rated galaxies it used, *w the weight the anomaly order gives the
 * prior now (core_acquire_prior_weight).  0, or -1 when there are no
 * ratings, no features, or no stored scores (no interest or anomaly
 * ranking has run yet). */
int core_learn_prior_trust(zs_store *st, double *rho, int *m, double *w);

typedef struct {
    core_ens *ens;        /* the head (NULL for rating tasks / no labels) */
    core_gp  *gp;         /* GP on the ratings (NULL with < 2 ratings) */
    float *p;             /* (n, C) predicted probabilities (NULL when C == 0) */
    float *mu, *sd;       /* (n) predicted rating and its sd (NULL without gp) */
    float *score;         /* (n) the order's score (higher first) */
    int   *rank;          /* (n) rows, best first */
    int    n_train;
    char   metric[16];
    double value;         /* out-of-bag metric, NAN when none */
} core_learn_result;

/* Trains on D (y / rating as they are: simulate edits them), warm-started
 * from warm (may be NULL), scores every row and ranks them by
 * order.  anomaly (n) may be NULL (computed when the order needs it).
 * Returns 0, 1 when cancelled, -1 with err. */
int  core_learn_fit_rank(const core_learn_data *D, const char *order, uint64_t seed,
                         const core_ens *warm, const float *anomaly, volatile int *cancel,
                         core_learn_result *R, char *err, size_t errlen);
void core_learn_result_free(core_learn_result *R);
/* The "pretrained" head: an ensemble trained on the catalog's prior votes
 * (D->prior; at most 20,000 galaxies sampled).  -1 without priors, 1 cancelled. */
int  core_learn_prior_fit(const core_learn_data *D, uint64_t seed, volatile int *cancel,
                          core_ens **out, core_ens_info *info);

#endif
