/*
 * embed.h - the workspace side of zoosh embed and zoosh similar that
 * core/repr.h does not cover by itself: the encoders by name (morph,
 * pixels, or a ConvNeXt from its weights) and the vote fractions a
 * ConvNeXt's head predicts, a PCA with the provenance it stored, and a
 * similarity search from a catalog id to the neighbours' ids and files.
 * Each opens its own short transactions.
 *
 * Adding an encoder = one more branch in core_embed_encoder_new that fills
 * a core_repr_encoder (and frees its state in core_embed_encoder_free).
 */
#ifndef ZOOSH_CORE_EMBED_H
#define ZOOSH_CORE_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "core/repr.h"
#include "store/store.h"

#define CORE_EMBED_VOTES_SET "votes"   /* the vote fractions an encoder's head predicts */

typedef struct {
    const char *method;     /* "morph" or "pixels" when weights is NULL */
    const char *set;        /* feature set to write; NULL = the method's ("convnext" for weights) */
    const char *weights;    /* ConvNeXt safetensors (core/convnext.h), NULL = none */
    const char *arch;       /* its architecture; NULL = read from the tensor shapes */
    int size;               /* ConvNeXt input pixels; 0 = the weights' own, else 224 */
    int views;              /* ConvNeXt test-time views (1, 2, 4, 8) */
    float crop;             /* ConvNeXt centre crop; 0 = the weights' own */
    int threads;            /* worker threads */
    int new_only;           /* only galaxies without a vector in the set yet */
} core_embed_opts;

/* An encoder with the state it needs while core_repr_embed runs (a loaded
 * model, its provenance text). */
typedef struct core_embed_encoder core_embed_encoder;

/* 0; -1 the weights do not load (err: why; the CLI names the file); -3 an
 * unknown method (err standing alone, a usage error). */
int  core_embed_encoder_new(core_embed_encoder **out, const core_embed_opts *o, char *err, size_t errlen);
void core_embed_encoder_free(core_embed_encoder *e);   /* NULL is a no-op */
/* Borrowed; valid until core_embed_encoder_free. */
const core_repr_encoder *core_embed_encoder_repr(const core_embed_encoder *e);

/* A ConvNeXt with a vote head (zoosh pretrain's): the vote fractions it
 * predicts from the embeddings just stored (core_repr_map), as set "votes"
 * ("<set>_votes" when the embedding has another name than "convnext"),
 * into out_set; *answers gets the head's answers (0: no head, nothing
 * done), *rows the galaxies.  0 or core_repr_map's store code. */
int core_embed_votes(zs_store *st, const core_embed_encoder *e, char *out_set, size_t out_len, int *answers,
                     int *rows, char *err, size_t errlen);

/* core_repr_pca_fit of set with k components; name gets the projections'
 * set, *prov (malloc'ed, NULL when it does not read; caller frees) the
 * provenance stored with it.  0 or core_repr_pca_fit's store code. */
int core_embed_pca(zs_store *st, const char *set, int k, char *name, size_t name_len, char **prov, char *err,
                   size_t errlen);

/* Where core_embed_similar stopped. */
typedef enum {
    CORE_EMBED_AT_READ = 1,   /* the read transaction did not begin */
    CORE_EMBED_AT_FIND,       /* looking up the id (STORE_ENOTFOUND: no such galaxy) */
    CORE_EMBED_AT_INDEX,      /* loading the set (STORE_ENOTFOUND: no such set / no features) */
    CORE_EMBED_AT_QUERY,      /* the query (STORE_ENOTFOUND: the galaxy has no vector in the set) */
} core_embed_stage;

typedef struct {
    core_embed_stage failed_at;   /* when the call did not return 0 */
    char set[STORE_FEATNAME_MAX + 1]; /* the set searched (once it loaded) */
    int rows;                     /* galaxies in it */
    double seconds;               /* the query alone */
    int n;                        /* neighbours found, nearest first */
    uint32_t *gid;                /* (n) */
    float *dist;                  /* (n) */
    char **id;                    /* (n) catalog ids (owned), NULL where a galaxy did not read */
    char **file;                  /* (n) image files (owned), "" when none, NULL with id */
} core_embed_hits;

/* The k galaxies nearest to the galaxy with catalog id `id` in set (NULL =
 * core_repr_similar_set) by metric (core/knn.h), itself excluded.  0, or a
 * store code with out->failed_at set.  core_embed_hits_free in every case. */
int  core_embed_similar(zs_store *st, const char *id, const char *set, int metric, int k, core_embed_hits *out);
void core_embed_hits_free(core_embed_hits *h);

#endif
