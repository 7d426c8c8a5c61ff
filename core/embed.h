/*
 * embed.h - the workspace side of zoosh embed and zoosh similar that
 * core/repr.h does not cover by itself: a PCA with the provenance it
 * stored, and a similarity search from a catalog id to the neighbours'
 * ids and files.  Each opens its own short transactions.
 */
#ifndef ZOOSH_CORE_EMBED_H
#define ZOOSH_CORE_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

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
