/*
 * t_records.c - the answer record's two forms (store/store_records.c):
 * user names of 32 bytes and more are kept whole with the writer's uid,
 * records of the first form (every zoosh before layout 3) still read and
 * count, and names with characters the store does not keep are refused
 * with the field named.
 */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/answers.h"
#include "core/workspace.h"
#include "store/store.h"
#include "tests/zt.h"
#include "tests/zt_ws.h"

typedef struct { store_answer a[4]; int n; const char *why; } batch;

static int put_batch(zs_txn *txn, void *p)
{
    batch *b = p;
    for (int i = 0; i < b->n; i++) {
        int rc = store_answer_append(txn, &b->a[i], &b->a[i].seq);
        if (rc) return rc;
    }
    return 0;
}

static store_answer ring(uint32_t gid, const char *user, const char *yes_no)
{
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = gid;
    a.kind = STORE_ANS_TREE;
    snprintf(a.user, sizeof a.user, "%s", user);
    snprintf(a.task, sizeof a.task, "ring");
    a.n_steps = 1;
    snprintf(a.steps[0].question, sizeof a.steps[0].question, "ring");
    snprintf(a.steps[0].answer, sizeof a.steps[0].answer, "%s", yes_no);
    return a;
}

static int want_ring(const store_answer *a, void *ctx)
{
    (void)ctx;
    return a->kind == STORE_ANS_TREE && !strcmp(a->task, "ring") ? 0 : -1;
}

static int count_fn(const store_answer *a, void *ctx)
{
    (void)a;
    ++*(int *)ctx;
    return 0;
}

static int counted(zs_store *st)
{
    zs_txn *txn;
    int n = 0;
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(core_answers_counted(txn, want_ring, count_fn, &n));
    store_read_end(txn);
    return n;
}

#define A32 "abcdefghijklmnopqrstuvwxyz01234A"
#define B32 "abcdefghijklmnopqrstuvwxyz01234B"

static void names_of_32_bytes_and_more_stay_whole_with_the_uid(void)
{
    zs_store *st = make_ws(2);
    char u255[256];
    memset(u255, 'u', 255);
    u255[255] = 0;
    batch b = {{ring(1, A32, "yes"), ring(1, B32, "no"), ring(2, u255, "yes")}, 3, NULL};
    ZT_OK(store_write(st, put_batch, &b));
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    const char *want[3] = {A32, B32, u255};
    for (uint64_t s = 1; s <= 3; s++) {
        store_answer a;
        ZT_OK(store_answer_get(txn, s, &a));
        ZT_CHECK(!strcmp(a.user, want[s - 1]), "answer %llu by '%s'", (unsigned long long)s, a.user);
        ZT_CHECK(a.uid == (uint32_t)geteuid(), "answer %llu written by uid %u", (unsigned long long)s, a.uid);
    }
    ZT_CHECK(store_layout(txn) == 3, "an answer of the second form makes the layout 3, not %d", store_layout(txn));
    store_read_end(txn);
    ZT_CHECK(counted(st) == 3, "A's yes and B's no on galaxy 1 are two votes: %d counted", counted(st));
    char report[4096];
    int np = 0;
    ZT_CHECK(store_check(st, report, sizeof report, &np) == 0, "check: %s", report);
    /* a name too long for any Unix user is refused, not cut */
    char u256[257];
    memset(u256, 'u', 256);
    u256[256] = 0;
    store_answer *a = &b.a[0];
    *a = ring(1, "x", "yes");
    memcpy(a->user, u256, sizeof a->user);   /* no NUL in the field */
    b.n = 1;
    ZT_CHECK(store_write(st, put_batch, &b) == STORE_EINVAL, "an unterminated user name is refused");
    store_close(st);
}

/* Writes one answer record of the first form: what zoosh wrote before layout 3. */
static void put_v1(const char *dir, uint64_t seq, uint32_t gid, const char *user, const char *answer)
{
    unsigned char v[256];
    size_t n = 0;
    v[n++] = 1;
    for (int i = 0; i < 4; i++) v[n++] = (unsigned char)(gid >> (8 * i));
    for (int i = 0; i < 8; i++) v[n++] = (unsigned char)((uint64_t)1700000000000000ULL >> (8 * i));
    v[n++] = STORE_ANS_TREE;
    v[n++] = 0;
    for (int i = 0; i < 8; i++) v[n++] = 0;
    const char *s[5] = {user, "ring", NULL, "ring", answer};
    for (int i = 0; i < 5; i++) {
        if (!s[i]) { v[n++] = 1; continue; }   /* one step */
        size_t k = strlen(s[i]);
        v[n++] = (unsigned char)k;
        v[n++] = 0;
        memcpy(v + n, s[i], k);
        n += k;
    }
    unsigned char key[8];
    for (int i = 0; i < 8; i++) key[i] = (unsigned char)(seq >> (56 - 8 * i));
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ZT_CHECK(mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 20) == 0 && mdb_env_open(env, dir, 0, 0664) == 0 &&
             mdb_txn_begin(env, NULL, 0, &txn) == 0 && mdb_dbi_open(txn, "answers", 0, &dbi) == 0, "lmdb");
    MDB_val k = {8, key}, val = {n, v};
    ZT_CHECK(mdb_put(txn, dbi, &k, &val, 0) == 0 && mdb_txn_commit(txn) == 0, "put");
    mdb_env_close(env);
}

static void foreign_line(const store_answer *a, const char *why, void *ctx)
{
    (void)a;
    snprintf(ctx, 512, "%s", why);
}

static void first_form_records_read_and_count_as_before(void)
{
    zs_store *st = make_ws(3);
    store_close(st);
    put_v1("ws", 1, 1, "alice", "yes");
    put_v1("ws", 2, 2, "bob", "no");
    ZT_OK(store_open(&st, "ws", 0));
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    store_answer a;
    ZT_OK(store_answer_get(txn, 1, &a));
    ZT_CHECK(a.uid == STORE_UID_NONE && !strcmp(a.user, "alice") && a.gid == 1 && a.n_steps == 1 &&
             !strcmp(a.steps[0].answer, "yes"), "first form: uid %u user %s", a.uid, a.user);
    ZT_CHECK(store_layout(txn) == 1, "reading leaves layout %d", store_layout(txn));
    store_read_end(txn);
    ZT_CHECK(counted(st) == 2, "two old answers count: %d", counted(st));
    /* a new answer joins them in the second form; all three count, check is clean */
    batch b = {{ring(3, "carol", "yes")}, 1, NULL};
    ZT_OK(store_write(st, put_batch, &b));
    ZT_CHECK(b.a[0].seq == 3 && counted(st) == 3, "seq %llu, %d counted", (unsigned long long)b.a[0].seq, counted(st));
    char report[4096];
    int np = 0;
    ZT_CHECK(store_check(st, report, sizeof report, &np) == 0, "check: %s", report);
    store_close(st);
    /* a first-form record after a second-form one: no zoosh writes that */
    put_v1("ws", 4, 3, "carol", "no");
    ZT_OK(store_open(&st, "ws", STORE_RDONLY));
    ZT_CHECK(counted(st) == 3, "the late old-form record is not counted: %d", counted(st));
    char why[512] = "";
    core_answers *c = core_answers_new(want_ring, NULL);
    core_answers_on_foreign(c, foreign_line, why);
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(core_answers_read(c, txn));
    store_read_end(txn);
    ZT_CHECK(core_answers_foreign(c) == 1 && strstr(why, "answer 4 is of the old record form"), "foreign: %s", why);
    core_answers_free(c);
    core_workspace_check_report r;
    ZT_CHECK(core_workspace_check(st, 0, &r) == STORE_ECORRUPT && strstr(r.text, "answer 4 is of the old record form"),
             "check: %s", r.text);
    core_workspace_check_report_free(&r);
    store_close(st);
}

static int put_featset(zs_txn *txn, void *name) { return store_featset_put(txn, name, 2, "test"); }

static void names_with_other_characters_are_refused(void)
{
    zs_store *st = make_ws(1);
    static const struct { const char *user, *task, *answer, *field; } bad[] = {
        {"ali\x1b]0;x\x07", "ring", "yes", "user"},
        {"alice", "ring\x1b[2J", "yes", "task"},
        {"alice", "ring", "y\x1b[31ms", "answer"},
        {"al ice", "ring", "yes", "user"},
        {"-alice", "ring", "yes", "user"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        batch b = {{ring(1, bad[i].user, bad[i].answer)}, 1, NULL};
        snprintf(b.a[0].task, sizeof b.a[0].task, "%s", bad[i].task);
        int rc = store_write(st, put_batch, &b);
        ZT_CHECK(rc == STORE_EINVAL && strstr(store_last_error(), bad[i].field), "case %zu: rc %d, '%s'", i, rc,
                 store_last_error());
    }
    batch ok = {{ring(1, "first.last-2@example.org", "yes")}, 1, NULL};
    ZT_OK(store_write(st, put_batch, &ok));
    ZT_CHECK(store_write(st, put_featset, "n\x1b[31m") == STORE_EINVAL, "a feature set name with an escape");
    ZT_OK(store_write(st, put_featset, "morph_pca40"));
    ZT_OK(store_write(st, put_featset, "morph+convnext"));
    ZT_CHECK(store_name_ok("a", 2) && !store_name_ok("ab", 2) && !store_name_ok("", 9) && !store_name_ok("a/b", 9),
             "store_name_ok's bounds and '/'");
    store_close(st);
}

const zt_case zt_suite_records[] = {
    {"user names of 32 bytes and more stay whole, with the writer's uid (layout 3)",
     names_of_32_bytes_and_more_stay_whole_with_the_uid, 0},
    {"answer records of the first form read and count as before; one after the second form is foreign",
     first_form_records_read_and_count_as_before, 0},
    {"user, task, answer and feature-set names with other characters are refused, the field named",
     names_with_other_characters_are_refused, 0},
    {0},
};
