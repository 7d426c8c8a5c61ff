/*
 * t_answers.c - the answers that count (core/answers.c): the counter fed in
 * pieces, core_answers_counted over the whole log and a naive reading of the
 * rule (per galaxy, user and kind the newest answer not retracted) agree on
 * random logs with repeats, retractions (of retractions too) and answers that
 * take no part; a retracted latest answer brings back the one before;
 * foreign records (a retraction of another user's answer, a name under a
 * second uid, the old form after the new) take no part; "can't tell" on a
 * yes/no question replaces the user's earlier answer, counts toward
 * retirement and votes for no answer.
 */
#include <stdlib.h>
#include <string.h>

#include "core/answers.h"
#include "core/schema.h"
#include "core/session.h"
#include "core/util.h"
#include "store/store.h"
#include "tests/zt.h"
#include "tests/zt_ws.h"

#define N_GAL 12
#define N_USERS 4
#define N_REC 600
static const char *const users[N_USERS] = {"ann", "ben", "cat", "dan"};


typedef struct { store_answer *a; int n; } put_ctx;

static int put_fn(zs_txn *txn, void *p)
{
    put_ctx *c = p;
    for (int i = 0; i < c->n; i++) {
        int rc = store_answer_append(txn, &c->a[i], &c->a[i].seq);
        if (rc) return rc;
    }
    return 0;
}

/* Task "t" tree answers are kind 0, its ratings kind 1; task "u" takes no part. */
static int want(const store_answer *a, void *ctx)
{
    (void)ctx;
    if (strcmp(a->task, "t") != 0) return -1;
    return a->kind == STORE_ANS_TREE ? 0 : a->kind == STORE_ANS_RATING ? 1 : -1;
}

static int user_of(const char *name)
{
    for (int u = 0; u < N_USERS; u++)
        if (strcmp(name, users[u]) == 0) return u;
    return -1;
}

/* The rule read naively off the first n records: latest[g][u][k] is the seq
 * that counts, 0 none. */
static void naive(const store_answer *log, int n, uint64_t latest[N_GAL + 1][N_USERS][2])
{
    memset(latest, 0, sizeof(uint64_t) * (N_GAL + 1) * N_USERS * 2);
    for (int i = n - 1; i >= 0; i--) {
        int k = want(&log[i], NULL);
        if (k < 0 || log[i].kind == STORE_ANS_RETRACT) continue;
        int retracted = 0;
        /* only the answer's author retracts it: another user's retraction is a foreign record */
        for (int j = 0; j < n; j++)
            retracted |= log[j].kind == STORE_ANS_RETRACT && log[j].retracts == log[i].seq && !strcmp(log[j].user, log[i].user);
        uint64_t *l = &latest[log[i].gid][user_of(log[i].user)][k];
        if (!retracted && *l == 0) *l = log[i].seq;
    }
}

typedef struct { uint64_t latest[N_GAL + 1][N_USERS][2]; int n, stop_at; } emitted;

static int emit_fn(const store_answer *a, void *p)
{
    emitted *e = p;
    int k = want(a, NULL);
    ZT_CHECK(k >= 0, "seq %llu takes no part but was emitted", (unsigned long long)a->seq);
    uint64_t *l = &e->latest[a->gid][user_of(a->user)][k];
    ZT_CHECK(*l == 0, "two answers count for gid %u %s kind %d", a->gid, a->user, k);
    *l = a->seq;
    return ++e->n == e->stop_at ? 42 : 0;
}

static void counter_rule_and_naive_reading_agree_on_random_logs(void)
{
    zs_store *st = make_ws(N_GAL);
    store_answer *log = xcalloc(N_REC, sizeof *log);
    core_rng r;
    core_rng_seed(&r, 17);
    core_answers *c = core_answers_new(want, NULL);
    int ids[N_USERS];
    for (int u = 0; u < N_USERS; u++) ids[u] = core_answers_user_id(c, users[u]);
    int n = 0;
    while (n < N_REC) {
        /* a batch of records, appended in one transaction */
        int batch = 1 + (int)core_rng_below(&r, 40), from = n;
        for (; n < N_REC && n - from < batch; n++) {
            store_answer *a = &log[n];
            a->gid = 1 + core_rng_below(&r, N_GAL);
            snprintf(a->user, sizeof a->user, "%s", users[core_rng_below(&r, N_USERS)]);
            snprintf(a->task, sizeof a->task, "%s", core_rng_below(&r, 6) ? "t" : "u");
            uint32_t what = core_rng_below(&r, 10);
            if (what < 3 && n > 0) {
                a->kind = STORE_ANS_RETRACT;
                a->retracts = (uint64_t)(1 + core_rng_below(&r, (uint32_t)n));   /* seqs are 1..n so far */
            } else if (what < 5) {
                a->kind = STORE_ANS_RATING;
                a->rating = (int8_t)core_rng_below(&r, 6);
            } else if (what < 6) {
                a->kind = core_rng_below(&r, 2) ? STORE_ANS_SKIP : STORE_ANS_FAVOURITE;
            } else {
                a->kind = STORE_ANS_TREE;
                a->n_steps = 1;
                snprintf(a->steps[0].question, sizeof a->steps[0].question, "q");
                snprintf(a->steps[0].answer, sizeof a->steps[0].answer, "a");
            }
        }
        put_ctx pc = {log + from, n - from};
        ZT_OK(store_write(st, put_fn, &pc));
        for (int i = from; i < n; i++) ZT_CHECK(log[i].seq == (uint64_t)i + 1, "seq %llu at %d", (unsigned long long)log[i].seq, i);

        /* the counter reads only what is new; the rule and the naive reading see everything */
        zs_txn *txn;
        ZT_OK(store_read_begin(st, &txn));
        ZT_OK(core_answers_read(c, txn));
        emitted e;
        memset(&e, 0, sizeof e);
        ZT_OK(core_answers_counted(txn, want, emit_fn, &e));
        store_read_end(txn);
        ZT_CHECK(core_answers_last_seq(c) == (uint64_t)n, "read up to %llu of %d", (unsigned long long)core_answers_last_seq(c), n);
        uint64_t expect[N_GAL + 1][N_USERS][2];
        naive(log, n, expect);
        for (uint32_t g = 1; g <= N_GAL; g++) {
            int votes = 0;
            for (int u = 0; u < N_USERS; u++) {
                for (int k = 0; k < 2; k++) {
                    ZT_CHECK(e.latest[g][u][k] == expect[g][u][k], "after %d: counted gid %u %s kind %d: %llu, naive %llu", n, g,
                             users[u], k, (unsigned long long)e.latest[g][u][k], (unsigned long long)expect[g][u][k]);
                    ZT_CHECK(core_answers_latest_seq(c, g, ids[u], k) == expect[g][u][k], "after %d: counter gid %u %s kind %d", n,
                             g, users[u], k);
                    votes += expect[g][u][k] != 0;
                }
                int counts = expect[g][u][0] || expect[g][u][1];
                ZT_CHECK(core_answers_user_counts(c, g, ids[u]) == counts, "after %d: gid %u %s", n, g, users[u]);
            }
            ZT_CHECK(core_answers_votes(c, g) == votes, "after %d: gid %u has %d votes, counter %d", n, g, votes,
                     core_answers_votes(c, g));
        }
        for (int u = 0; u < N_USERS; u++) {
            uint32_t gal = 0;
            for (uint32_t g = 1; g <= N_GAL; g++) gal += expect[g][u][0] || expect[g][u][1];
            ZT_CHECK(core_answers_user_galaxies(c, ids[u]) == gal, "after %d: %s on %u galaxies, counter %u", n, users[u], gal,
                     core_answers_user_galaxies(c, ids[u]));
        }
    }
    /* feeding a record again changes nothing */
    int before = core_answers_votes(c, log[N_REC - 1].gid);
    core_answers_feed(c, &log[N_REC - 1]);
    ZT_CHECK(core_answers_votes(c, log[N_REC - 1].gid) == before, "a record fed twice counted twice");
    core_answers_free(c);
    free(log);
    store_close(st);
}

static void a_retracted_latest_answer_brings_back_the_one_before(void)
{
    core_answers *c = core_answers_new(want, NULL);
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = 3;
    a.kind = STORE_ANS_TREE;
    snprintf(a.user, sizeof a.user, "ann");
    snprintf(a.task, sizeof a.task, "t");
    int ann = core_answers_user_id(c, "ann");
    ZT_CHECK(core_answers_user_id(c, "ann") == ann && core_answers_user_id(c, "ben") != ann, "one id per user");
    a.seq = 1;
    core_answers_feed(c, &a);
    a.seq = 2;
    core_answers_feed(c, &a);                          /* a changed mind: replaces, does not add */
    ZT_CHECK(core_answers_votes(c, 3) == 1 && core_answers_latest_seq(c, 3, ann, 0) == 2, "one vote, the latest");
    store_answer r = a;
    r.kind = STORE_ANS_RETRACT;
    r.seq = 3;
    r.retracts = 2;
    core_answers_feed(c, &r);
    ZT_CHECK(core_answers_votes(c, 3) == 1 && core_answers_latest_seq(c, 3, ann, 0) == 1, "the first is back");
    r.seq = 4;
    r.retracts = 1;
    core_answers_feed(c, &r);
    ZT_CHECK(core_answers_votes(c, 3) == 0 && core_answers_latest_seq(c, 3, ann, 0) == 0 &&
             core_answers_user_galaxies(c, ann) == 0, "nothing counts once both are retracted");
    a.seq = 2;                                         /* older than the last seq taken: ignored */
    core_answers_feed(c, &a);
    ZT_CHECK(core_answers_votes(c, 3) == 0 && core_answers_last_seq(c) == 4, "an old seq fed again is ignored");
    a.seq = 5;
    a.kind = STORE_ANS_RATING;                         /* the other kind is another vote */
    core_answers_feed(c, &a);
    a.seq = 6;
    a.kind = STORE_ANS_TREE;
    core_answers_feed(c, &a);
    ZT_CHECK(core_answers_votes(c, 3) == 2 && core_answers_user_galaxies(c, ann) == 1 && core_answers_user_counts(c, 3, ann),
             "two kinds: two votes, one galaxy");
    ZT_CHECK(core_answers_votes(c, 99) == 0 && !core_answers_user_counts(c, 99, ann) && core_answers_latest_seq(c, 0, ann, 0) == 0,
             "galaxies never seen count nothing");
    core_answers_free(c);
    core_answers_free(NULL);
}

static void counted_stops_when_fn_says_so(void)
{
    zs_store *st = make_ws(N_GAL);
    store_answer log[5];
    memset(log, 0, sizeof log);
    for (int i = 0; i < 5; i++) {
        log[i].gid = (uint32_t)i + 1;
        log[i].kind = STORE_ANS_RATING;
        snprintf(log[i].user, sizeof log[i].user, "ann");
        snprintf(log[i].task, sizeof log[i].task, "t");
    }
    put_ctx pc = {log, 5};
    ZT_OK(store_write(st, put_fn, &pc));
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    emitted e;
    memset(&e, 0, sizeof e);
    e.stop_at = 2;
    int rc = core_answers_counted(txn, want, emit_fn, &e);
    store_read_end(txn);
    ZT_CHECK(rc == 42 && e.n == 2, "fn's 42 after 2 answers is returned: rc %d, n %d", rc, e.n);
    store_close(st);
}

static void collect_why(const store_answer *a, const char *why, void *ctx)
{
    (void)a;
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 2048 - n, "%s\n", why);
}

/* Records no zoosh command writes, fed straight to a counter: another user's
 * retraction, a name written under a second uid, an old-form record after a
 * new one.  None counts; the author's own retraction does. */
static void foreign_records_take_no_part(void)
{
    core_answers *c = core_answers_new(want, NULL);
    char why[2048] = "";
    core_answers_on_foreign(c, collect_why, why);
    int ann = core_answers_user_id(c, "ann");
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = 3;
    a.kind = STORE_ANS_TREE;
    a.uid = 1001;
    snprintf(a.user, sizeof a.user, "ann");
    snprintf(a.task, sizeof a.task, "t");
    a.seq = 1;
    core_answers_feed(c, &a);
    store_answer r = a;                                /* ben (uid 1002) retracts ann's answer */
    r.kind = STORE_ANS_RETRACT;
    r.retracts = 1;
    r.uid = 1002;
    snprintf(r.user, sizeof r.user, "ben");
    r.seq = 2;
    core_answers_feed(c, &r);
    ZT_CHECK(core_answers_latest_seq(c, 3, ann, 0) == 1, "ben's retraction of ann's answer is ignored");
    r.seq = 3;                                         /* ... and in ann's name under his uid */
    snprintf(r.user, sizeof r.user, "ann");
    core_answers_feed(c, &r);
    ZT_CHECK(core_answers_latest_seq(c, 3, ann, 0) == 1, "a retraction in ann's name by uid 1002 is ignored");
    store_answer f = a;                                /* an answer in ann's name by uid 1002 */
    f.seq = 4;
    f.uid = 1002;
    core_answers_feed(c, &f);
    ZT_CHECK(core_answers_latest_seq(c, 3, ann, 0) == 1, "an answer in ann's name by uid 1002 does not replace hers");
    f.seq = 5;                                         /* an old-form record after new ones */
    f.uid = STORE_UID_NONE;
    core_answers_feed(c, &f);
    ZT_CHECK(core_answers_latest_seq(c, 3, ann, 0) == 1 && core_answers_votes(c, 3) == 1, "an old-form record is ignored");
    ZT_CHECK(core_answers_foreign(c) == 4, "%llu foreign records: %s", (unsigned long long)core_answers_foreign(c), why);
    ZT_CHECK(strstr(why, "answer 2 by 'ben' retracts answer 1 by 'ann'") && strstr(why, "answer 4 is by user name 'ann' but was written by uid 1002"),
             "why: %s", why);
    r.seq = 6;                                         /* ann's own retraction counts */
    r.uid = 1001;
    core_answers_feed(c, &r);
    ZT_CHECK(core_answers_latest_seq(c, 3, ann, 0) == 0 && core_answers_votes(c, 3) == 0 && core_answers_foreign(c) == 4,
             "ann retracts her own answer");
    core_answers_free(c);
}

/* As export and training want a task's answers: its tree answers, can't tell included. */
static int want_ring(const store_answer *a, void *ctx)
{
    (void)ctx;
    return a->kind == STORE_ANS_TREE && strcmp(a->task, "ring") == 0 ? 0 : -1;
}

typedef struct { int yes[4], no[4], abstain[4], n; } ring_tally;

static int tally_ring(const store_answer *a, void *p)
{
    ring_tally *t = p;
    t->n++;
    if (a->gid > 3) return 0;
    if (core_answers_abstains(a)) t->abstain[a->gid]++;
    else if (a->n_steps == 1 && strcmp(a->steps[0].answer, "yes") == 0) t->yes[a->gid]++;
    else if (a->n_steps == 1 && strcmp(a->steps[0].answer, "no") == 0) t->no[a->gid]++;
    return 0;
}

static void cant_tell_replaces_retires_and_votes_for_nothing(void)
{
    zs_store *st = make_ws(N_GAL);
    core_schema ring = schema_of("ring"), gz = schema_of("gz-decals");
    core_session *ann = open_as(st, &ring, "ann", 3), *ben = open_as(st, &ring, "ben", 3);
    ZT_OK(core_session_jump(ann, 1));
    ZT_CHECK(core_session_can_abstain(ann), "ring's yes/no question takes can't tell");
    ZT_CHECK(core_session_answer(ann, 3) == 1, "no 4th answer on a yes/no question");
    ZT_OK(core_session_answer(ann, 0));                     /* yes on galaxy 1 ... */
    ZT_OK(core_session_jump(ann, 1));
    ZT_OK(core_session_answer(ann, 2));                     /* ... then can't tell */
    ZT_OK(core_session_jump(ben, 1));
    ZT_OK(core_session_answer(ben, 1));                     /* ben: no on galaxy 1 */
    ZT_OK(core_session_jump(ben, 2));
    ZT_OK(core_session_answer(ben, 2));                     /* ben: can't tell on galaxy 2 */
    ZT_OK(core_session_jump(ben, 2));
    ZT_OK(core_session_answer(ben, 0));                     /* ... then yes */

    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    store_answer a;
    ZT_OK(store_answer_get(txn, 2, &a));
    ZT_CHECK(a.n_steps == 1 && strcmp(a.steps[0].question, "ring") == 0 &&
             strcmp(a.steps[0].answer, CORE_ANSWERS_CANT_TELL) == 0 && core_answers_abstains(&a),
             "choice 3 on ring is stored as ring/cant-tell: %s/%s", a.steps[0].question, a.steps[0].answer);
    ring_tally t;
    memset(&t, 0, sizeof t);
    ZT_OK(core_answers_counted(txn, want_ring, tally_ring, &t));
    ZT_CHECK(t.n == 3, "three votes count (ann and ben on 1, ben on 2), not %d", t.n);
    ZT_CHECK(t.yes[1] == 0 && t.no[1] == 1 && t.abstain[1] == 1,
             "galaxy 1: ann's can't tell replaced her yes (yes %d no %d abstain %d)", t.yes[1], t.no[1], t.abstain[1]);
    ZT_CHECK(t.yes[2] == 1 && t.abstain[2] == 0, "galaxy 2: ben's later yes replaced his can't tell");
    core_answers *c = core_answers_new(want_ring, NULL);
    ZT_OK(core_answers_read(c, txn));
    ZT_CHECK(core_answers_votes(c, 1) == 2, "can't tell counts toward retirement: 2 votes on galaxy 1, not %d",
             core_answers_votes(c, 1));
    core_answers_free(c);
    store_read_end(txn);

    store_answer r;
    memset(&r, 0, sizeof r);
    r.kind = STORE_ANS_RATING;
    ZT_CHECK(!core_answers_abstains(&r), "a rating never abstains");
    r.kind = STORE_ANS_TREE;
    r.n_steps = 2;
    snprintf(r.steps[0].answer, sizeof r.steps[0].answer, "featured-or-disk");
    snprintf(r.steps[1].answer, sizeof r.steps[1].answer, "yes");
    ZT_CHECK(!core_answers_abstains(&r), "a path without can't tell does not abstain");
    snprintf(r.steps[1].answer, sizeof r.steps[1].answer, CORE_ANSWERS_CANT_TELL);
    ZT_CHECK(core_answers_abstains(&r), "a path with a can't-tell step does");

    core_session *g = open_as(st, &gz, "ann", 3);
    ZT_CHECK(!core_session_can_abstain(g) && core_session_answer(g, 3) == 1,
             "a question of three answers (smooth-or-featured) has no can't tell");
    core_session_free(g);
    /* in a tree, can't tell skips only what follows from the question's answers */
    core_schema gz2 = schema_of("gz2");
    core_session *h = open_as(st, &gz2, "cat", 3);
    uint32_t gid = core_session_gid(h);
    ZT_OK(core_session_answer(h, 1));                        /* featured-or-disk */
    int q = core_session_question(h);
    ZT_CHECK(q >= 0 && strcmp(gz2.q[q].key, "disk-edge-on-gz2") == 0 && core_session_can_abstain(h), "edge-on next");
    ZT_OK(core_session_answer(h, 2));                        /* can't tell */
    q = core_session_question(h);
    ZT_CHECK(core_session_gid(h) == gid && q >= 0 && strcmp(gz2.q[q].key, "has-spiral-arms-gz2") == 0,
             "after can't tell on edge-on the tree goes on at has-spiral-arms (not bulge-shape): %s", q >= 0 ? gz2.q[q].key : "-");
    core_session_free(h);
    core_session_free(ann);
    core_session_free(ben);
    store_close(st);
}

const zt_case zt_suite_answers[] = {
    {"can't tell on a yes/no question replaces an earlier answer, counts toward retirement, votes for no answer",
     cant_tell_replaces_retires_and_votes_for_nothing, 0},
    {"records no zoosh command writes (another's retraction, another uid, the old form after the new) do not count",
     foreign_records_take_no_part, 0},
    {"the counter fed in pieces, core_answers_counted and a naive reading agree on random logs",
     counter_rule_and_naive_reading_agree_on_random_logs, 0},
    {"a retracted latest answer brings back the one before; a second kind is a second vote",
     a_retracted_latest_answer_brings_back_the_one_before, 0},
    {"core_answers_counted stops at fn's first non-zero return and returns it", counted_stops_when_fn_says_so, 0},
    {0},
};
