/*
 * featset.c - listing the workspace's feature sets and storing which one
 * every command uses (see featset.h).  The pick itself is
 * core_repr_pick_set's, so `zoosh features` reports exactly what train,
 * rank, similar, simulate and the labeler will load.
 */
#include "core/featset.h"
#include "core/repr.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_featset_list_get(zs_store *st, core_featset_list *out)
{
    memset(out, 0, sizeof *out);
    zs_txn *txn = NULL;
    char **names = NULL;
    char *chosen = NULL;
    int n = 0, rc = store_read_begin(st, &txn);
    if (rc) return rc;
    if ((rc = store_featset_list(txn, &names, &n)) != 0) goto end;
    out->galaxies = store_galaxy_count(txn);
    out->sets = xcalloc((size_t)(n ? n : 1), sizeof *out->sets);
    for (int i = 0; i < n; i++) {
        core_featset_entry *e = &out->sets[out->n];
        char *prov = NULL;
        if (store_featset_get(txn, names[i], &e->dim, &prov) != 0) continue;
        snprintf(e->name, sizeof e->name, "%s", names[i]);
        snprintf(e->provenance, sizeof e->provenance, "%s", prov ? prov : "");
        free(prov);
        if ((rc = store_feature_count(txn, names[i], &e->galaxies)) != 0) goto end;
        out->n++;
    }
    rc = store_meta_get(txn, CORE_REPR_META_USE, &chosen);
    if (rc == 0 && chosen) snprintf(out->chosen, sizeof out->chosen, "%s", chosen);
    if (rc != 0 && rc != STORE_ENOTFOUND) goto end;
    rc = core_repr_pick_set(txn, NULL, out->used, sizeof out->used, &out->how);
    if (rc == STORE_ENOTFOUND) { out->used[0] = 0; rc = 0; }
    for (int i = 0; i < out->n; i++) out->sets[i].used = out->used[0] && strcmp(out->sets[i].name, out->used) == 0;
end:
    store_read_end(txn);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    free(chosen);
    if (rc) core_featset_list_free(out);
    return rc;
}

void core_featset_list_free(core_featset_list *l)
{
    if (!l) return;
    free(l->sets);
    memset(l, 0, sizeof *l);
}

typedef struct {
    const char *set;     /* the choice; "" forgets it */
    int only_if_alone;   /* adopt: only when nothing is chosen and set is the only set */
    int stored;          /* out: 1 when the choice was written */
} use_ctx;

static int put_use(zs_txn *txn, void *p)
{
    use_ctx *c = p;
    if (c->only_if_alone) {
        char *v = NULL, **names = NULL;
        int n = 0, rc = store_meta_get(txn, CORE_REPR_META_USE, &v);
        int chosen = rc == 0 && v && v[0];
        free(v);
        if (rc != 0 && rc != STORE_ENOTFOUND) return rc;
        if (chosen) return 0;
        if ((rc = store_featset_list(txn, &names, &n)) != 0) return rc;
        int alone = n == 1 && strcmp(names[0], c->set) == 0;
        for (int i = 0; i < n; i++) free(names[i]);
        free(names);
        if (!alone) return 0;
    } else if (c->set[0]) {
        int dim;
        int rc = store_featset_get(txn, c->set, &dim, NULL);   /* not removed since it was checked */
        if (rc) return rc;
    }
    c->stored = 1;
    return store_meta_put(txn, CORE_REPR_META_USE, c->set);
}

/* The set commands use now, into used ("" when none). */
static void used_now(zs_store *st, char *used, size_t len)
{
    zs_txn *txn;
    used[0] = 0;
    if (store_read_begin(st, &txn) != 0) return;
    if (core_repr_pick_set(txn, NULL, used, len, NULL) != 0) used[0] = 0;
    store_read_end(txn);
}

int core_featset_use(zs_store *st, const char *set, int pca_k, char *used, size_t used_len, char *err,
                     size_t errlen)
{
    char name[STORE_FEATNAME_MAX + 1];
    zs_txn *txn;
    int dim = 0, rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = strlen(set) > STORE_FEATNAME_MAX ? STORE_ENOTFOUND : store_featset_get(txn, set, &dim, NULL);
    store_read_end(txn);
    if (rc == STORE_ENOTFOUND) {
        core_set_err(err, errlen, "no feature set '%s' (zoosh features WS lists them)", set);
        return -1;
    }
    if (rc) return rc;
    snprintf(name, sizeof name, "%s", set);
    if (pca_k > 0) {
        char perr[512] = "";
        rc = core_repr_pca_fit(st, set, pca_k, name, sizeof name, perr, sizeof perr);
        if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL || rc == STORE_ECORRUPT) {
            core_set_err(err, errlen, "%s", perr);
            return -1;
        }
        if (rc) return rc;
    }
    use_ctx c = {.set = name};
    rc = store_write(st, put_use, &c);
    if (rc == 0) snprintf(used, used_len, "%s", name);
    return rc;
}

int core_featset_reset(zs_store *st)
{
    use_ctx c = {.set = ""};
    return store_write(st, put_use, &c);
}

int core_featset_adopt(zs_store *st, const char *set, int *adopted, char *used, size_t used_len)
{
    use_ctx c = {.set = set, .only_if_alone = 1};
    *adopted = 0;
    int rc = store_write(st, put_use, &c);
    if (rc == 0 && c.stored) rc = store_sync(st);   /* an import's store is opened STORE_NOSYNC */
    if (rc) return rc;
    *adopted = c.stored;
    used_now(st, used, used_len);
    return 0;
}
