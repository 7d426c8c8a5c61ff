/*
 * featset.h - the workspace's feature sets as a user chooses them: list
 * them (dimension, provenance, galaxies covered, which one commands use),
 * choose the one every command uses (optionally its PCA, fitted here and
 * stored as a new set), forget that choice, and let a freshly imported set
 * become the choice of a workspace that had none.
 *
 * The rule that picks the set (meta "features.use", else a fallback order)
 * is core_repr_pick_set (core/repr.h); this module stores and reports it.
 * Each call opens its own short transactions.
 */
#ifndef ZOOSH_CORE_FEATSET_H
#define ZOOSH_CORE_FEATSET_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct {
    char name[STORE_FEATNAME_MAX + 1];
    int dim;
    char provenance[256];      /* "" when none */
    uint32_t galaxies;         /* galaxies with a vector in it */
    int used;                  /* 1: the set commands use (core_repr_pick_set) */
} core_featset_entry;

typedef struct {
    int n;
    core_featset_entry *sets;  /* (n) by name; malloc'ed */
    uint32_t galaxies;         /* galaxies in the workspace */
    char used[STORE_FEATNAME_MAX + 1];    /* the set commands use ("" when none) */
    int how;                   /* CORE_REPR_PICK_CHOSEN / _FALLBACK / _STALE */
    char chosen[STORE_FEATNAME_MAX + 1];  /* meta "features.use" as stored ("" none) */
} core_featset_list;

/* Every set and the one in use.  0 or a store code. */
int  core_featset_list_get(zs_store *st, core_featset_list *out);
void core_featset_list_free(core_featset_list *l);   /* NULL is a no-op */

/* Makes set the one every command uses (meta "features.use").  With
 * pca_k > 0 a standardised PCA of pca_k components is fitted on it first
 * (core_repr_pca_fit: "<set>_pca<K>", or "pca<K>" for the default set) and
 * that new set is chosen.  used gets the chosen set's name.  0; -1 with
 * err (no such set, the PCA failed); or a store code from the write. */
int core_featset_use(zs_store *st, const char *set, int pca_k, char *used, size_t used_len, char *err,
                     size_t errlen);

/* Forgets the choice: commands go back to the fallback order.  0 or a
 * store code. */
int core_featset_reset(zs_store *st);

/* After an import of set: when nothing is chosen and set is the
 * workspace's only feature set, it becomes the choice (*adopted = 1).
 * used gets the set commands use afterwards.  0 or a store code. */
int core_featset_adopt(zs_store *st, const char *set, int *adopted, char *used, size_t used_len);

#endif
