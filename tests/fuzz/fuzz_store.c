/*
 * fuzz_store.c - fuzz target: the store's record decoders.  The input's
 * first byte picks a database (answers, galaxies, thumbs, featsets,
 * features, priors, ids, the meta magic); the rest is written there raw with
 * liblmdb into a fresh small workspace, which is then read through every
 * store getter and store_check.  Nothing may crash; a damaged record reads
 * as STORE_ECORRUPT (or, for the magic, a refused open).  A thumbnail that
 * parses is also decoded through core_thumb_get (raw or JPEG, the readers'
 * one path), which must give w x h pixels or a reason.
 */
#include "core/thumb.h"
#include "store/store.h"
#include "tests/fuzz/fuzz.h"

#include <lmdb.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fstore_setup(zs_txn *txn, void *ctx)
{
    (void)ctx;
    store_galaxy g = {0};
    g.id_str = "G1";
    g.file = "g.png";
    int rc = store_galaxy_put(txn, &g, NULL, NULL);
    if (!rc) rc = store_featset_put(txn, "f", 2, "fuzz");
    float v[2] = {1, 2};
    if (!rc) rc = store_feature_put(txn, "f", 1, v, 2);
    if (!rc) rc = store_prior_put(txn, 1, "c", 0.5);
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = 1;
    a.kind = STORE_ANS_RATING;
    a.rating = 3;
    strcpy(a.task, "interest");
    if (!rc) rc = store_answer_append(txn, &a, NULL);
    return rc;
}

static int fstore_count(const store_answer *a, void *ctx) { (void)a; (*(int *)ctx)++; return 0; }

static void fstore_rm(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    char dir[256];
    fuzz_tmp_path(dir, sizeof dir, "store");
    fstore_rm(dir);
    setenv("ZOOSH_MAPSIZE", "1m", 1);
    zs_store *st = NULL;
    if (store_open(&st, dir, STORE_CREATE | STORE_NOSYNC) || store_write(st, fstore_setup, NULL)) abort();
    store_close(st);

    static const struct { const char *db; const char *key; size_t klen; } fstore_t[] = {
        {"answers", "\0\0\0\0\0\0\0\1", 8},
        {"answers", "\0\0\0\0\0\0\0\2", 8},
        {"galaxies", "\0\0\0\1", 4},
        {"thumbs", "\0\0\0\1", 4},
        {"featsets", "f", 1},
        {"features", "f\0\0\0\0\1", 6},
        {"priors", "c\0\0\0\0\1", 6},
        {"ids", "G1", 2},
        {"meta", "zoosh", 5},
    };
    int pick = data[0] % (int)(sizeof fstore_t / sizeof fstore_t[0]);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (mdb_env_create(&env)) abort();
    mdb_env_set_maxdbs(env, 20);
    if (mdb_env_open(env, dir, MDB_NOSYNC, 0664) || mdb_txn_begin(env, NULL, 0, &txn) ||
        mdb_dbi_open(txn, fstore_t[pick].db, 0, &dbi)) abort();
    MDB_val k = {fstore_t[pick].klen, (void *)fstore_t[pick].key}, v = {size - 1, (void *)(data + 1)};
    int prc = mdb_put(txn, dbi, &k, &v, 0);
    if (prc == 0) prc = mdb_txn_commit(txn); else mdb_txn_abort(txn);
    mdb_env_close(env);

    if (prc == 0 && store_open(&st, dir, STORE_RDONLY) == 0) {
        zs_txn *t;
        if (store_read_begin(st, &t) == 0) {
            store_answer a;
            store_answer_get(t, 1, &a);
            store_answer_get(t, 2, &a);
            int n = 0;
            store_answer_each(t, 1, fstore_count, &n);
            store_galaxy g;
            if (store_galaxy_get(t, 1, &g) == 0) store_galaxy_free(&g);
            uint32_t gid;
            store_galaxy_find(t, "G1", &gid);
            int w, h, dim;
            const uint8_t *px;
            store_thumb th;
            if (store_thumb_get(t, 1, &th) == 0 && th.bytes[th.len - 1] == 0x5a) n++;
            uint8_t owned;
            char terr[256];
            int trc = core_thumb_get(t, 1, &w, &h, &px, &owned, terr, sizeof terr);
            if (trc == 0) {
                if (w < 1 || h < 1 || !px) abort();
                if (px[(size_t)w * h * 3 - 1] == 0x5a) n++;   /* the whole (h, w, 3) is there */
                if (owned) free((void *)px);
            } else if (trc == STORE_ECORRUPT && memchr(terr, 0, sizeof terr) == NULL)
                abort();
            char *prov = NULL;
            store_featset_get(t, "f", &dim, &prov);
            free(prov);
            const float *fv;
            if (store_feature_get(t, "f", 1, &fv, &dim) == 0) {
                float last;
                memcpy(&last, (const char *)fv + (size_t)(dim - 1) * sizeof(float), sizeof last);
                (void)last;
            }
            float *x = NULL;
            uint32_t *gids = NULL;
            store_features_load(t, "f", &x, &gids, &n, &dim);
            free(x);
            free(gids);
            char **names = NULL;
            if (store_prior_columns(t, &names, &n) == 0) {
                for (int i = 0; i < n; i++) free(names[i]);
                free(names);
            }
            double *col = NULL;
            uint32_t len;
            store_prior_column(t, "c", &col, &len);
            free(col);
            store_read_end(t);
        }
        char rep[2048];
        int np;
        store_check(st, rep, sizeof rep, &np);
        store_close(st);
    }
    fstore_rm(dir);
    return 0;
}
