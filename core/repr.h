/*
 * repr.h - the workspace's representations: computing a feature set for
 * every galaxy from its stored thumbnail (any encoder: morphology features,
 * a ConvNeXt, ...), the PCA of a set, and similarity search over it.  The
 * glue between core/morph.h, core/pca.h, core/knn.h and the store.
 *
 * What is stored (see store/store.h):
 *   feature set "<name>"        one vector per galaxy, dim + provenance
 *   meta "features.default"     the set everything uses unless told
 *                               (set by the first embed or import)
 *   feature set "pca<K>"        the default set projected on its first K
 *                               principal components (standardised first)
 *   meta "features.pca"         the name of that PCA set ("pca40")
 *   meta "features.use"         the set every command uses unless told
 *                               (zoosh features --use; core_repr_pick_set)
 *   STORE_DB_MODELS "pca/<set>" the fitted PCA of <set> (core_pca_save blob:
 *                               mean, scale, components) so a new galaxy can be
 *                               projected: core_repr_project
 *
 * Similar galaxies (the labeler's `s` grid and `zoosh similar`):
 *   core_repr_similar(txn, gid, k, out_gids, out_dist)
 * searches the set every command uses (core_repr_pick_set).  For many queries keep a
 * core_repr_index (loads the set once, ~4 bytes x dim per galaxy).
 */
#ifndef ZOOSH_CORE_REPR_H
#define ZOOSH_CORE_REPR_H

#include <stddef.h>
#include <stdint.h>

#include "core/image.h"
#include "store/store.h"

#define CORE_REPR_META_DEFAULT "features.default"
#define CORE_REPR_META_PCA     "features.pca"
#define CORE_REPR_META_USE     "features.use"
#define CORE_REPR_PCA_K        40     /* default number of components */

/* ---- computing a feature set ------------------------------------------- */

/* An encoder: turns n images into n vectors of dim floats.  fn is called
 * from `threads` worker threads at once, each with its own slice of the
 * batch (so it must be re-entrant; an encoder that threads itself, like the
 * ConvNeXt, sets threads = 1 and batch to what it likes).  The images are
 * the stored thumbnails (px borrowed from the map: read only, valid during
 * the call).  fn returns 0, or -1 with a reason in err (the galaxy is then
 * reported and skipped). */
typedef struct {
    const char *set;          /* feature set to write, e.g. "morph" */
    const char *provenance;   /* stored with the set, e.g. "morph v1 thumb" */
    int dim;
    int threads;              /* worker threads calling fn (>= 1) */
    int batch;                /* images per call of fn (>= 1) */
    int (*fn)(void *ctx, const core_image *imgs, int n, float *out /* (n, dim) */,
              char *err, size_t errlen);
    void *ctx;
    int new_only;             /* 1: skip galaxies that already have a vector in set
                                 (after importing more; same encoder assumed) */
} core_repr_encoder;

/* The built-in morphology encoder (core/morph.h), set "morph". */
void core_repr_morph_encoder(core_repr_encoder *enc, int threads);
/* Raw pixels, the floor: the central half of the thumbnail area-averaged to
 * 32x32 RGB (3072 numbers in 0..1), set "pixels". */
void core_repr_pixels_encoder(core_repr_encoder *enc, int threads);

typedef struct {
    uint32_t n_done;          /* vectors written */
    uint32_t n_missing;       /* galaxies with neither thumbnail nor readable image */
    uint32_t n_failed;        /* galaxies the encoder refused */
    uint32_t n_skipped;       /* new_only: galaxies that already had a vector */
    double   seconds;         /* wall time */
    char     first_problem[256]; /* "J0026...: no thumbnail and ..." (empty if none) */
} core_repr_stats;

/* Called after each batch with (done, total); may be NULL. */
typedef void (*core_repr_progress_fn)(void *ctx, uint32_t done, uint32_t total);

/* Compute enc's vectors for every galaxy and store them (set created or
 * checked for dim; batches of vectors are written in one store_write each).
 * A galaxy without a thumbnail is read from its image file instead.
 * Sets meta "features.default" to enc->set when it was unset.
 * cancel (may be NULL) is polled between batches: STORE_EABORT.
 * Returns 0 or a store error code; err has a one-line reason. */
int core_repr_embed(zs_store *st, const core_repr_encoder *enc, core_repr_progress_fn progress,
                    void *progress_ctx, volatile int *cancel, core_repr_stats *stats,
                    char *err, size_t errlen);

/* ---- combining sets ------------------------------------------------------ */

/* Provenance prefix of a combined set; the rest names the blocks in order,
 * "combine v1 morph:270:m convnext:256" (":m": a morphology block). */
#define CORE_REPR_COMBINE_VERSION "combine v1"
#define CORE_REPR_COMBINE_MAX 8

/* Concatenate feature sets sets[0..n) into one set `out_set` (one vector per
 * galaxy that has a vector in every one of them; galaxies missing one are
 * counted in *n_missing, may be NULL) and make it the workspace default
 * (meta "features.default").  Nothing is scaled here: core_repr_pca_fit
 * balances the blocks (core_repr_block_weights) when it fits the PCA of a
 * combined set.  Returns 0 or a store error code (STORE_ENOTFOUND: a set is
 * missing, STORE_EINVAL: fewer than 2 sets or no galaxy in all of them). */
int core_repr_combine(zs_store *st, const char *const *sets, int n, const char *out_set, int *n_rows,
                      int *n_missing, char *err, size_t errlen);

/* The PCA weights of a combined set: block b has width[b] columns; for a
 * morphology block (is_morph[b]) column j's base weight is
 * core_morph_weight(j) (its per-annulus blocks balanced), otherwise 1; then
 * every block is scaled so that its standardised columns carry a total
 * variance of 1 (sum of squared weights 1), so a block of 256 encoder
 * features and one of 270 morphology features count the same under one PCA
 * and one L2 penalty however wide they are.  w (sum of widths). */
void core_repr_block_weights(const int *width, const int *is_morph, int nblocks, float *w);

/* Parse a combined set's provenance: block widths and morph flags (at most
 * CORE_REPR_COMBINE_MAX).  Returns the number of blocks, 0 if prov is not a
 * combined set's, -1 if malformed. */
int core_repr_combine_parse(const char *prov, int *width, int *is_morph, int max);

/* ---- a set derived from another ------------------------------------------ */

/* fn maps n rows x (n, in_dim) of the input set to y (n, out_dim). */
typedef void (*core_repr_map_fn)(void *ctx, const float *x, int n, int in_dim, float *y);

/* Store fn of every vector of in_set as set out_set (out_dim wide, with
 * provenance prov; a set of another width under that name is replaced).
 * E.g. the vote fractions the encoder's head predicts from its embedding.
 * *n_rows (may be NULL) gets the number of vectors.  Returns 0 or a store
 * error code (STORE_ENOTFOUND: no in_set). */
int core_repr_map(zs_store *st, const char *in_set, const char *out_set, int out_dim, const char *prov,
                  core_repr_map_fn fn, void *ctx, int *n_rows, char *err, size_t errlen);

/* Column col of every vector of a set: col is an index ("18") or a name
 * the set's provenance lists after "answers " (set votes: "Class8.1").
 * *out (malloc'ed, *len = the largest gid + 1) is indexed by gid, NAN for
 * galaxies without a vector.  0, STORE_ENOTFOUND (no set) or STORE_EINVAL
 * (no such column), with a reason in err. */
int core_repr_column(zs_txn *txn, const char *set, const char *col, float **out, uint32_t *len,
                     char *err, size_t errlen);

/* ---- PCA ----------------------------------------------------------------- */

/* Fit a standardised PCA with k components (fewer when the set's dim is
 * smaller) on feature set `set`, store it as blob "pca/<set>" and the
 * projections as feature set "pca<k>" when `set` is the default set (and
 * meta "features.pca" = that name), "<set>_pca<k>" otherwise; the name is
 * written to out_name.  A morphology set (provenance CORE_MORPH_VERSION)
 * has its per-annulus blocks balanced (core_morph_weight) before the PCA; a
 * combined set (core_repr_combine) its blocks (core_repr_block_weights).
 * The projections are meant to be used as they are (do not standardise
 * them again: that would blow up the noisy last components).
 * Returns 0 or a store error code (STORE_ENOTFOUND: no such set). */
/* Before anything changes: 0 when a k-component PCA of the sets (one, or
 * several to be combined first) fits in the memory this process may take
 * (core_pca_mem_check, the loaded rows counted); ENOMEM with the figures in
 * err when not.  core_repr_pca_fit asks it first itself. */
int core_repr_pca_plan(zs_store *st, const char *const *sets, int nsets, int k, char *err, size_t errlen);
int core_repr_pca_fit(zs_store *st, const char *set, int k, char *out_name, size_t out_len,
                      char *err, size_t errlen);

/* Project one vector x (dim of `set`) with the stored PCA of `set`: y gets
 * up to max floats, *k the number of components.  STORE_ENOTFOUND when that
 * set has no PCA, STORE_ECORRUPT when the blob does not parse, STORE_EDIM
 * when dims differ. */
int core_repr_project(zs_txn *txn, const char *set, const float *x, int dim, float *y, int max, int *k);

/* ---- which set ----------------------------------------------------------- */

/* meta "features.default" into name; STORE_ENOTFOUND when unset. */
int core_repr_default_set(zs_txn *txn, char *name, size_t len);
/* How core_repr_pick_set chose. */
enum {
    CORE_REPR_PICK_ASKED = 0,     /* the caller named it */
    CORE_REPR_PICK_CHOSEN = 1,    /* meta "features.use" (zoosh features --use) */
    CORE_REPR_PICK_FALLBACK = 2,  /* none chosen: the fallback order */
    CORE_REPR_PICK_STALE = 3,     /* the chosen set is gone: the fallback order */
};
/* The feature set a command uses (train, rank, similar, simulate, eval, the
 * labeler's trainer and `s` grid): want when given (STORE_ENOTFOUND when
 * the workspace has no such set); else meta "features.use" when that set
 * exists; else, in this order, the PCA of the default set (meta
 * "features.pca", "pca40", "<features.default>_pca40"), the default set,
 * the first set by name.  name gets it (want even when missing, for the
 * message); *how (may be NULL) one of CORE_REPR_PICK_*.  0, STORE_ENOTFOUND
 * when the workspace has no set, or a store code. */
int core_repr_pick_set(zs_txn *txn, const char *want, char *name, size_t len, int *how);
/* core_repr_pick_set(txn, NULL, ...), the set similarity search uses. */
int core_repr_similar_set(zs_txn *txn, char *name, size_t len);

/* ---- similarity search --------------------------------------------------- */

typedef struct core_repr_index core_repr_index;

/* Load feature set `set` (NULL = core_repr_similar_set) into memory and
 * prepare an exact k-NN index with metric CORE_KNN_EUCLIDEAN or
 * CORE_KNN_COSINE (core/knn.h).  The index owns its copy: the transaction
 * may end right after.  Returns 0 or a store error code. */
int  core_repr_index_new(zs_txn *txn, const char *set, int metric, core_repr_index **out);
void core_repr_index_free(core_repr_index *ix);   /* NULL is a no-op */
const char *core_repr_index_set(const core_repr_index *ix);   /* the set's name */
int  core_repr_index_rows(const core_repr_index *ix);        /* galaxies in it */

/* The k galaxies nearest to galaxy gid (itself excluded), nearest first:
 * out_gids (k) and out_dist (k, may be NULL).  Returns how many were found
 * (>= 0; fewer than k when the set is small), or STORE_ENOTFOUND when gid
 * has no vector in the set.  Thread-safe: queries may run concurrently. */
int core_repr_index_query(const core_repr_index *ix, uint32_t gid, int k, uint32_t *out_gids,
                          float *out_dist);

/* One-shot, for the labeler's `s` grid: the k galaxies most similar to gid
 * in the workspace's similarity set (core_repr_similar_set), Euclidean
 * distance (the PCA set is standardised, so Euclidean is the natural one),
 * nearest first, gid itself excluded.  out_gids (k) and out_dist (k, may be
 * NULL) are the caller's.  Returns the number found (>= 0), or a negative
 * store code: STORE_ENOTFOUND when the workspace has no features yet or gid
 * has no vector (the grid then says "run zoosh embed first").  Loads the
 * whole set each call (tens of ms per 100,000 galaxies); a caller asking
 * often should hold a core_repr_index instead. */
int core_repr_similar(zs_txn *txn, uint32_t gid, int k, uint32_t *out_gids, float *out_dist);

#endif
