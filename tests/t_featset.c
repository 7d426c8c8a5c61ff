/* t_featset.c - which feature set the commands use (core_repr_pick_set) and
 * how a user chooses it (core/featset.h), on a real LMDB store: the stored
 * choice wins over the fallback order, a choice whose set is gone falls
 * back, --pca stores a new set and chooses it, training loads the chosen set,
 * and an import adopts its set only in a workspace without another. */
#include "tests/zt.h"
#include "core/featset.h"
#include "core/learn.h"
#include "core/repr.h"
#include "core/util.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NG 30

typedef struct {
    const char *sets[4];    /* names to create (NULL ends) */
    int dims[4];
    const char *def;        /* meta features.default, NULL = none */
} ws_spec;

static int fill(zs_txn *txn, void *arg)
{
    const ws_spec *w = arg;
    core_rng r;
    core_rng_seed(&r, 7);
    int rc = 0;
    for (int s = 0; s < 4 && w->sets[s] && rc == 0; s++) rc = store_featset_put(txn, w->sets[s], w->dims[s], "test");
    for (int i = 0; i < NG && rc == 0; i++) {
        char id[32];
        snprintf(id, sizeof id, "G%03d", i);
        store_galaxy g = {.id_str = id, .file = "/nonexistent.png", .ra = NAN, .dec = NAN};
        uint32_t gid;
        int created;
        if ((rc = store_galaxy_put(txn, &g, &gid, &created))) break;
        for (int s = 0; s < 4 && w->sets[s] && rc == 0; s++) {
            float v[16];
            for (int k = 0; k < w->dims[s]; k++) v[k] = (float)core_rng_normal(&r);
            rc = store_feature_put(txn, w->sets[s], gid, v, w->dims[s]);
        }
    }
    if (rc == 0 && w->def) rc = store_meta_put(txn, CORE_REPR_META_DEFAULT, w->def);
    return rc;
}

static zs_store *make(const ws_spec *w)
{
    zs_store *st = NULL;
    ZT_OK(store_open(&st, "ws", STORE_CREATE));
    ZT_OK(store_write(st, fill, (void *)w));
    return st;
}

typedef struct { const char *k, *v; } kv;
static int put_kv(zs_txn *txn, void *p)
{
    const kv *c = p;
    return store_meta_put(txn, c->k, c->v);
}

/* The pick and how it was made, in a read transaction of its own. */
static int pick(zs_store *st, const char *want, char *name, size_t len, int *how)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    rc = core_repr_pick_set(txn, want, name, len, how);
    store_read_end(txn);
    return rc;
}

static void the_stored_choice_wins_over_the_fallback(void)
{
    ws_spec w = {{"morph", "pca40", "zoobot", NULL}, {6, 3, 8, 0}, "morph"};
    zs_store *st = make(&w);
    char name[STORE_FEATNAME_MAX + 1];
    int how = -1;
    ZT_OK(pick(st, NULL, name, sizeof name, &how));
    ZT_CHECK(strcmp(name, "pca40") == 0 && how == CORE_REPR_PICK_FALLBACK, "nothing chosen: %s (how %d)", name, how);
    kv c = {CORE_REPR_META_USE, "zoobot"};
    ZT_OK(store_write(st, put_kv, &c));
    ZT_OK(pick(st, NULL, name, sizeof name, &how));
    ZT_CHECK(strcmp(name, "zoobot") == 0 && how == CORE_REPR_PICK_CHOSEN, "chosen zoobot: got %s (how %d)", name, how);
    ZT_OK(pick(st, "morph", name, sizeof name, &how));
    ZT_CHECK(strcmp(name, "morph") == 0 && how == CORE_REPR_PICK_ASKED, "asked for morph: %s", name);
    ZT_CHECK(pick(st, "nosuch", name, sizeof name, &how) == STORE_ENOTFOUND, "a set asked for that is not there");
    /* a choice whose set is gone: the fallback, and it says so */
    kv gone = {CORE_REPR_META_USE, "gone"};
    ZT_OK(store_write(st, put_kv, &gone));
    ZT_OK(pick(st, NULL, name, sizeof name, &how));
    ZT_CHECK(strcmp(name, "pca40") == 0 && how == CORE_REPR_PICK_STALE, "stale choice: %s (how %d)", name, how);
    /* --reset: back to the fallback */
    ZT_OK(core_featset_reset(st));
    ZT_OK(pick(st, NULL, name, sizeof name, &how));
    ZT_CHECK(strcmp(name, "pca40") == 0 && how == CORE_REPR_PICK_FALLBACK, "after reset: %s (how %d)", name, how);
    store_close(st);
}

static void the_fallback_order(void)
{
    /* no PCA: the default set; no default: the first set by name */
    ws_spec w = {{"b", "a", "zoobot", NULL}, {4, 4, 4, 0}, "zoobot"};
    zs_store *st = make(&w);
    char name[STORE_FEATNAME_MAX + 1];
    ZT_OK(pick(st, NULL, name, sizeof name, NULL));
    ZT_CHECK(strcmp(name, "zoobot") == 0, "the default set without a PCA: %s", name);
    store_close(st);
    ZT_OK(system("rm -rf ws"));
    ws_spec w2 = {{"b", "a", NULL}, {4, 4, 0, 0}, NULL};
    st = make(&w2);
    ZT_OK(pick(st, NULL, name, sizeof name, NULL));
    ZT_CHECK(strcmp(name, "a") == 0, "no default: the first set by name, %s", name);
    store_close(st);
    ZT_OK(system("rm -rf ws"));
    ws_spec w3 = {{NULL}, {0}, NULL};
    st = make(&w3);
    ZT_CHECK(pick(st, NULL, name, sizeof name, NULL) == STORE_ENOTFOUND, "no set at all");
    store_close(st);
}

static void use_with_pca_stores_a_new_set_and_training_loads_it(void)
{
    ws_spec w = {{"morph", "pca40", "zoobot", NULL}, {6, 3, 12, 0}, "morph"};
    zs_store *st = make(&w);
    char used[STORE_FEATNAME_MAX + 1] = "", err[512] = "";
    ZT_CHECK(core_featset_use(st, "nosuch", 0, used, sizeof used, err, sizeof err) == -1 && strstr(err, "nosuch"),
             "an unknown set is refused: %s", err);
    ZT_OK(core_featset_use(st, "zoobot", 5, used, sizeof used, err, sizeof err));
    ZT_CHECK(strcmp(used, "zoobot_pca5") == 0, "the PCA set is %s", used);
    core_learn_data D;
    ZT_OK(core_learn_load(st, "ring", NULL, &D, err, sizeof err));
    ZT_CHECK(strcmp(D.features, "zoobot_pca5") == 0 && D.d == 5 && D.n == NG, "training loads %s (%d-d, %d rows)",
             D.features, D.d, D.n);
    core_learn_data_free(&D);
    ZT_OK(core_featset_use(st, "zoobot", 0, used, sizeof used, err, sizeof err));
    ZT_OK(core_learn_load(st, "ring", NULL, &D, err, sizeof err));
    ZT_CHECK(strcmp(D.features, "zoobot") == 0 && D.d == 12, "then the raw set: %s (%d-d)", D.features, D.d);
    core_learn_data_free(&D);
    ZT_OK(core_learn_load(st, "ring", "morph", &D, err, sizeof err));
    ZT_CHECK(strcmp(D.features, "morph") == 0, "--features still wins: %s", D.features);
    core_learn_data_free(&D);
    core_featset_list l;
    ZT_OK(core_featset_list_get(st, &l));
    int n_used = 0;
    for (int i = 0; i < l.n; i++) {
        n_used += l.sets[i].used;
        ZT_CHECK(l.sets[i].galaxies == NG, "%s covers %u galaxies", l.sets[i].name, l.sets[i].galaxies);
        if (l.sets[i].used) ZT_CHECK(strcmp(l.sets[i].name, "zoobot") == 0, "the list marks %s", l.sets[i].name);
    }
    ZT_CHECK(l.n == 4 && n_used == 1 && l.how == CORE_REPR_PICK_CHOSEN && strcmp(l.chosen, "zoobot") == 0,
             "%d sets, %d marked, how %d, chosen %s", l.n, n_used, l.how, l.chosen);
    core_featset_list_free(&l);
    store_close(st);
}

static void an_import_adopts_its_set_only_when_alone(void)
{
    ws_spec w = {{"zoobot", NULL}, {8, 0}, "zoobot"};
    zs_store *st = make(&w);
    char used[STORE_FEATNAME_MAX + 1] = "";
    int adopted = 0, how = -1;
    ZT_OK(core_featset_adopt(st, "zoobot", &adopted, used, sizeof used));
    ZT_CHECK(adopted && strcmp(used, "zoobot") == 0, "the only set is adopted (%d, %s)", adopted, used);
    char name[STORE_FEATNAME_MAX + 1];
    ZT_OK(pick(st, NULL, name, sizeof name, &how));
    ZT_CHECK(how == CORE_REPR_PICK_CHOSEN && strcmp(name, "zoobot") == 0, "stored as the choice: %s %d", name, how);
    store_close(st);
    ZT_OK(system("rm -rf ws"));
    ws_spec w2 = {{"morph", "pca40", "zoobot", NULL}, {6, 3, 8, 0}, "morph"};
    st = make(&w2);
    ZT_OK(core_featset_adopt(st, "zoobot", &adopted, used, sizeof used));
    ZT_CHECK(!adopted && strcmp(used, "pca40") == 0, "beside an embedding it is not (%d, %s)", adopted, used);
    store_close(st);
}

const zt_case zt_suite_featset[] = {
    {"a stored choice wins over the fallback; a gone one falls back; reset forgets it",
     the_stored_choice_wins_over_the_fallback, 0},
    {"the fallback: the PCA, the default set, the first set by name", the_fallback_order, 0},
    {"--use with --pca stores SET_pcaK and chooses it; training loads the chosen set",
     use_with_pca_stores_a_new_set_and_training_loads_it, 0},
    {"an import adopts its set only in a workspace without another", an_import_adopts_its_set_only_when_alone, 0},
    {0},
};
