/*
 * labeler.h - what the labeling screen (tui/label/) reads from a workspace
 * and the one thing it writes besides answers (its task, when it comes from
 * a schema file).  Each function takes the labeler's zs_store and opens its
 * own short transaction, so the screen never holds a read transaction
 * between keys (LMDB caveats) and never calls the store itself.  Answers go
 * through core/session.h; training through core/learn.h.
 */
#ifndef ZOOSH_CORE_LABELER_H
#define ZOOSH_CORE_LABELER_H

#include <stddef.h>
#include <stdint.h>

#include "core/learn.h"
#include "core/repr.h"
#include "core/schema.h"
#include "store/store.h"

/* ---- the task */

/* The labeler's task: NAME, or when NAME is NULL the workspace's first task
 * (else "interest").  A task of the workspace is read from it (*in_ws = 1);
 * any other name is a built-in schema name or a schema file
 * (core_schema_resolve, *in_ws = 0: not a task of the workspace yet, see
 * core_labeler_task_adopt).  *n_galaxies gets the workspace's galaxy count.
 * Returns 0; -1 with the reason in err when NAME is no task at all; or the
 * store's code when the workspace cannot be read (store_strerror). */
int core_labeler_task_get(zs_store *st, const char *name, core_schema *out, int *in_ws,
                          uint32_t *n_galaxies, char *err, size_t errlen);

/* Makes S, parsed from the schema file PATH, a task of the workspace (its
 * text stored with it, core_schema_ws_add), so every stored answer names a
 * task the workspace knows.  A workspace this user may not write is left as
 * it is (*added = 0, returns 0).  *added = 1 when the task was new.
 * Returns 0; -1 with the reason in err ("PATH: ..." when the file cannot be
 * read or the workspace has another tree of that name); or the store's code
 * of the write. */
int core_labeler_task_adopt(zs_store *st, const core_schema *s, const char *path, int *added,
                            char *err, size_t errlen);

/* 1 when task S has priors (the catalog's, or a column such as the ring
 * fraction the encoder predicts) and the workspace has features to train
 * on, so a first model can rank the queue before anyone answers; their
 * source into src ("the catalog's columns" when it is not told).  0 when
 * not, or when the workspace cannot be read. */
int core_labeler_has_prior(zs_store *st, const core_schema *s, char *src, size_t len);

/* ---- the model */

#define CORE_LABELER_CURVE_N 12     /* models the status line's sparkline shows */

/* What the status line says about the task's model.  Caller-owned; set up
 * with core_labeler_model_init, refreshed by core_labeler_model_read.  The
 * truth fields cache the demo's AUC against true_ring once per version. */
typedef struct {
    int have_model;                 /* a model was ever read (info is valid) */
    core_model_info info;           /* the latest model */
    double curve[CORE_LABELER_CURVE_N]; /* held-out metric of the last models, oldest first (NAN: none) */
    int n_curve;                    /* 0 when fewer than two models */
    double truth_auc;               /* the model's AUC against true_ring (ring task), NAN when none */
    int truth_state;                /* -1 not looked yet, 0 no truth here, 1 the galaxies carry true_ring */
    int truth_have_v;               /* truth_auc is of model version truth_v */
    uint32_t truth_v;
} core_labeler_model;

void core_labeler_model_init(core_labeler_model *m);

/* In one read transaction: task S's model into m (left as it was when none
 * is stored), its learning curve, the truth AUC of a demo workspace (once
 * per model version), and, when queue is not NULL, the stored ranked queue
 * (*queue malloc'ed, caller frees; *n_queue = 0 and *queue = NULL when none)
 * with the model that ranked it in *queue_info.  Returns 0, or the store's
 * code when the workspace cannot be read (m, *queue untouched then). */
int core_labeler_model_read(zs_store *st, const core_schema *s, core_labeler_model *m,
                            uint32_t **queue, int *n_queue, core_model_info *queue_info);

/* The model's predicted probabilities of galaxy gid, one per schema column
 * (core_pred_get): 0 with p[0..*n), *n <= max; else a store code. */
int core_labeler_pred_get(zs_store *st, const char *task, uint32_t gid, float *p, int max, int *n);

/* ---- galaxies */

/* A galaxy's catalog text as stored (not sanitised: the screen does that). */
typedef struct {
    int found;                      /* 0: no such galaxy (or it does not decode) */
    char id[STORE_ID_MAX + 1];
    double ra, dec;                 /* NAN when the catalog had none */
    char survey[256];               /* the "survey" column (any case), "" when none; cut at 255 bytes */
} core_labeler_galaxy;

/* Galaxy gid's catalog text into out.  Returns 0 (out->found says whether
 * it exists), or the store's code when the workspace cannot be read. */
int core_labeler_galaxy_get(zs_store *st, uint32_t gid, core_labeler_galaxy *out);
/* The gid of catalog id ID: 0, or STORE_ENOTFOUND / another store code. */
int core_labeler_galaxy_find(zs_store *st, const char *id, uint32_t *gid);
/* Galaxy gid's thumbnail as RGB8 (h, w, 3), *rgb malloc'ed (caller frees),
 * at most 4096 pixels a side.  Returns 0; else nonzero with *rgb = NULL and
 * the reason in why when the thumbnail is missing or does not decode ("" when
 * the workspace could not be read or the image is too large). */
int core_labeler_thumb_get(zs_store *st, uint32_t gid, uint8_t **rgb, int *w, int *h,
                           char *why, size_t whylen);
/* Feature set `set` (NULL = the workspace's default, core_repr_pick_set)
 * as a Euclidean k-NN index (core_repr.h; the caller frees it with
 * core_repr_index_free).  0, or a store code. */
int core_labeler_similar_open(zs_store *st, const char *set, core_repr_index **out);
/* 0 when the workspace has feature set `set`, STORE_ENOTFOUND when not, or
 * a store code. */
int core_labeler_features_check(zs_store *st, const char *set);

#endif
