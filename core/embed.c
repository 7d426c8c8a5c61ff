/*
 * embed.c - PCA with its provenance and similarity search by catalog id
 * (see embed.h).
 */
#include "core/embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/repr.h"
#include "core/util.h"

int core_embed_pca(zs_store *st, const char *set, int k, char *name, size_t name_len, char **prov, char *err,
                   size_t errlen)
{
    *prov = NULL;
    int rc = core_repr_pca_fit(st, set, k, name, name_len, err, errlen);
    if (rc) return rc;
    zs_txn *txn;
    int dim = 0;
    if (store_read_begin(st, &txn) == 0) {
        store_featset_get(txn, name, &dim, prov);
        store_read_end(txn);
    }
    return 0;
}

int core_embed_similar(zs_store *st, const char *id, const char *set, int metric, int k, core_embed_hits *out)
{
    memset(out, 0, sizeof *out);
    zs_txn *txn = NULL;
    core_repr_index *ix = NULL;
    uint32_t gid;
    int rc = store_read_begin(st, &txn);
    if (rc) { out->failed_at = CORE_EMBED_AT_READ; return rc; }
    if ((rc = store_galaxy_find(txn, id, &gid)) != 0) { out->failed_at = CORE_EMBED_AT_FIND; goto end; }
    if ((rc = core_repr_index_new(txn, set, metric, &ix)) != 0) { out->failed_at = CORE_EMBED_AT_INDEX; goto end; }
    snprintf(out->set, sizeof out->set, "%s", core_repr_index_set(ix));
    out->rows = core_repr_index_rows(ix);
    out->gid = xmalloc(sizeof *out->gid * (size_t)k);
    out->dist = xmalloc(sizeof *out->dist * (size_t)k);
    double t0 = core_mono_s();
    int f = core_repr_index_query(ix, gid, k, out->gid, out->dist);
    out->seconds = core_mono_s() - t0;
    if (f < 0) { rc = f; out->failed_at = CORE_EMBED_AT_QUERY; goto end; }
    out->n = f;
    out->id = xcalloc((size_t)(f ? f : 1), sizeof *out->id);
    out->file = xcalloc((size_t)(f ? f : 1), sizeof *out->file);
    for (int i = 0; i < f; i++) {
        store_galaxy g;
        memset(&g, 0, sizeof g);
        if (store_galaxy_get(txn, out->gid[i], &g) != 0) continue;
        out->id[i] = xstrdup(g.id_str ? g.id_str : "?");
        out->file[i] = xstrdup(g.file ? g.file : "");
        store_galaxy_free(&g);
    }
end:
    core_repr_index_free(ix);
    store_read_end(txn);
    return rc;
}

void core_embed_hits_free(core_embed_hits *h)
{
    if (!h) return;
    for (int i = 0; i < h->n; i++) {
        if (h->id) free(h->id[i]);
        if (h->file) free(h->file[i]);
    }
    free(h->id);
    free(h->file);
    free(h->gid);
    free(h->dist);
    memset(h, 0, sizeof *h);
}
