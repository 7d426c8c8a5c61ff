/*
 * t_session.c - the labeling rules without a terminal (core/session.c) on a
 * real workspace: commits, undo as retractions, trees as one record, retire,
 * several users, skip, star; and that what the session counts (retirement,
 * "answered by me") is what core_answers_counted, the rule training and
 * export share, counts, at open and after incremental refreshes.
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


typedef struct { int tree, rating, retract, skip, fav, total; store_answer last; } tally;

static int tally_fn(const store_answer *a, void *ctx)
{
    tally *t = ctx;
    t->total++;
    t->tree += a->kind == STORE_ANS_TREE;
    t->rating += a->kind == STORE_ANS_RATING;
    t->retract += a->kind == STORE_ANS_RETRACT;
    t->skip += a->kind == STORE_ANS_SKIP;
    t->fav += a->kind == STORE_ANS_FAVOURITE;
    t->last = *a;
    return 0;
}

static tally count_log(zs_store *st)
{
    tally t;
    memset(&t, 0, sizeof t);
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(store_answer_each(txn, 1, tally_fn, &t));
    store_read_end(txn);
    return t;
}


/* ---- session */

static void ring_answer_is_committed_at_once(void)
{
    zs_store *st = make_ws(5);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    ZT_CHECK(core_session_gid(ses) == 1, "starts with gid 1 in catalog order, got %u", core_session_gid(ses));
    ZT_CHECK(core_session_question(ses) == 0, "asks the ring question");
    ZT_OK(core_session_answer(ses, 0));
    tally t = count_log(st);
    ZT_CHECK(t.tree == 1 && t.total == 1, "one record, got %d", t.total);
    ZT_CHECK(t.last.gid == 1 && t.last.n_steps == 1 && strcmp(t.last.steps[0].question, "ring") == 0 &&
             strcmp(t.last.steps[0].answer, "yes") == 0, "ring=yes for gid 1");
    ZT_CHECK(strcmp(t.last.user, "alice") == 0 && strcmp(t.last.task, "ring") == 0, "user %s task %s", t.last.user, t.last.task);
    ZT_CHECK(core_session_gid(ses) == 2, "moved on to gid 2");
    /* 3 is "can't tell" on a yes/no question (t_answers); 4 is no answer */
    ZT_CHECK(core_session_answer(ses, 3) == 1 && count_log(st).total == 1, "answer 4 of 2 refused, nothing written");
    core_session_free(ses);
    store_close(st);
}

static void gz_decals_path_is_one_record_when_complete(void)
{
    zs_store *st = make_ws(3);
    core_schema s = schema_of("gz-decals");
    core_session *ses = open_as(st, &s, "alice", 5);
    int steps = 0, q;
    /* always the second answer ("featured" first): a long path through the tree */
    while (core_session_gid(ses) == 1 && (q = core_session_question(ses)) >= 0) {
        ZT_CHECK(count_log(st).total == 0, "something committed after %d steps", steps);
        int choice = s.q[q].n_answers > 1 ? 1 : 0;
        ZT_OK(core_session_answer(ses, choice));
        steps++;
        ZT_CHECK(steps <= STORE_STEPS_MAX, "runaway tree");
    }
    tally t = count_log(st);
    ZT_CHECK(t.total == 1 && t.tree == 1, "exactly one record, got %d", t.total);
    ZT_CHECK(t.last.n_steps == steps && steps >= 3, "the whole path (%d steps) in it: %d", steps, t.last.n_steps);
    ZT_CHECK(strcmp(t.last.steps[0].question, s.q[0].key) == 0, "starts at the first question");
    ZT_CHECK(core_session_gid(ses) == 2, "then the next galaxy");
    core_session_free(ses);
    store_close(st);
}

static void undo_steps_back_then_retracts(void)
{
    zs_store *st = make_ws(5);
    core_schema s = schema_of("gz-decals");
    core_session *ses = open_as(st, &s, "alice", 5);
    /* finish galaxy 1 with a path of >= 2 steps */
    int q0 = core_session_question(ses);
    ZT_OK(core_session_answer(ses, 1));
    int q1 = core_session_question(ses);
    ZT_CHECK(q1 != q0 && q1 >= 0, "a second question");
    ZT_OK(core_session_undo(ses));
    ZT_CHECK(core_session_question(ses) == q0 && count_log(st).total == 0, "undo mid-tree: back, nothing written");
    ZT_OK(core_session_answer(ses, 1));
    int path_len = 1;
    while (core_session_gid(ses) == 1) { ZT_OK(core_session_answer(ses, 0)); path_len++; }
    tally t = count_log(st);
    ZT_CHECK(t.tree == 1, "committed");
    uint64_t committed = t.last.seq;
    int last_q = t.last.n_steps > 0 ? core_schema_question(&s, t.last.steps[t.last.n_steps - 1].question) : -1;
    /* undo now retracts galaxy 1's record and shows it at its last question */
    ZT_OK(core_session_undo(ses));
    t = count_log(st);
    ZT_CHECK(t.total == 2 && t.retract == 1 && t.last.retracts == committed, "one retraction of seq %llu",
             (unsigned long long)committed);
    ZT_CHECK(core_session_gid(ses) == 1, "back on galaxy 1");
    ZT_CHECK(core_session_question(ses) == last_q, "at its last question %d, got %d", last_q, core_session_question(ses));
    core_session_stats ss;
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.n_path == path_len - 1 && ss.done_user == 0 && ss.answers == 0, "path %d done %u answers %d",
             ss.n_path, ss.done_user, ss.answers);
    /* answering again commits a new record; galaxy 2 comes back after it */
    ZT_OK(core_session_answer(ses, 0));
    ZT_CHECK(count_log(st).tree == 2 && core_session_gid(ses) == 2, "re-answered, gid %u", core_session_gid(ses));
    ZT_OK(core_session_undo(ses));                   /* retracts the new record of galaxy 1 */
    for (int i = 0; i < path_len - 1; i++) ZT_OK(core_session_undo(ses));   /* its steps */
    ZT_CHECK(core_session_undo(ses) == 1, "nothing more to undo before the first galaxy");
    ZT_CHECK(count_log(st).retract == 2, "two retractions in all");
    core_session_free(ses);
    store_close(st);
}

static void fifty_answers_five_undos_leave_45_and_5(void)
{
    zs_store *st = make_ws(60);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    for (int i = 0; i < 50; i++) ZT_OK(core_session_answer(ses, i % 2));
    for (int i = 0; i < 5; i++) ZT_OK(core_session_undo(ses));
    tally t = count_log(st);
    ZT_CHECK(t.tree == 50 && t.retract == 5, "tree %d retract %d", t.tree, t.retract);
    core_session_stats ss;
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.answers == 45 && ss.retractions == 5 && ss.done_user == 45, "answers %d done %u", ss.answers, ss.done_user);
    ZT_CHECK(core_session_gid(ses) == 46, "back at galaxy 46, got %u", core_session_gid(ses));
    core_session_free(ses);
    /* a new session of the same user starts where the net answers end */
    ses = open_as(st, &s, "alice", 5);
    ZT_CHECK(core_session_gid(ses) == 46, "reopened at 46, got %u", core_session_gid(ses));
    core_session_free(ses);
    store_close(st);
}

static void users_see_only_unanswered_and_galaxies_retire(void)
{
    zs_store *st = make_ws(6);
    core_schema s = schema_of("ring");
    core_session *a = open_as(st, &s, "alice", 2);
    core_session *b = open_as(st, &s, "bob", 2);
    for (int i = 0; i < 3; i++) ZT_OK(core_session_answer(a, 0));   /* alice: 1, 2, 3 */
    ZT_CHECK(core_session_gid(b) == 1, "bob still sees gid 1 (1 answer < retire 2)");
    ZT_OK(core_session_answer(b, 1));                                 /* bob: 1 -> gid 1 has 2 */
    core_session *c = open_as(st, &s, "carol", 2);
    ZT_CHECK(core_session_gid(c) == 2, "carol skips retired gid 1, got %u", core_session_gid(c));
    core_session_free(a);
    a = open_as(st, &s, "alice", 2);
    ZT_CHECK(core_session_gid(a) == 4, "alice never sees her own galaxies again, got %u", core_session_gid(a));
    /* bob undoes: gid 1 has one answer again and carol, refreshing, can get it back */
    ZT_OK(core_session_undo(b));
    ZT_OK(core_session_refresh(c));
    ZT_CHECK(core_session_available(c) == 6, "after the retraction all 6 are open to carol: %u", core_session_available(c));
    ZT_CHECK(core_session_available(a) == 3, "alice has 3 left: %u", core_session_available(a));
    core_session_free(a);
    core_session_free(b);
    core_session_free(c);
    store_close(st);
}

static void skip_is_recorded_and_undone(void)
{
    zs_store *st = make_ws(4);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    ZT_OK(core_session_skip(ses));
    ZT_CHECK(core_session_gid(ses) == 2, "skipped to 2");
    tally t = count_log(st);
    ZT_CHECK(t.skip == 1 && t.tree == 0, "a SKIP record, no answer");
    uint32_t next[4];
    int n = core_session_peek(ses, next, 4);
    ZT_CHECK(n == 2 && next[0] == 3 && next[1] == 4, "skipped galaxy not coming back this session: n=%d", n);
    ZT_OK(core_session_undo(ses));
    ZT_CHECK(core_session_gid(ses) == 1 && count_log(st).retract == 0, "undo of a skip: back to 1, nothing retracted");
    core_session_free(ses);
    store_close(st);
}

static void favourite_toggles_through_a_retraction(void)
{
    zs_store *st = make_ws(2);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    core_session_stats ss;
    ZT_OK(core_session_favourite(ses));
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.favourite == 1 && count_log(st).fav == 1, "starred");
    ZT_OK(core_session_favourite(ses));
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.favourite == 0 && count_log(st).retract == 1, "unstarred by a retraction");
    ZT_CHECK(core_session_gid(ses) == 1, "a star does not move on");
    core_session_free(ses);
    store_close(st);
}

static void interest_commits_a_rating(void)
{
    zs_store *st = make_ws(3);
    core_schema s = schema_of("interest");
    core_session *ses = open_as(st, &s, "alice", 5);
    ZT_CHECK(core_session_question(ses) == -1, "a rating task has no question");
    ZT_CHECK(core_session_answer(ses, 6) == 1, "6 refused");
    ZT_OK(core_session_answer(ses, 0));
    ZT_OK(core_session_answer(ses, 5));
    tally t = count_log(st);
    ZT_CHECK(t.rating == 2 && t.last.rating == 5 && t.last.gid == 2 && strcmp(t.last.task, "interest") == 0, "ratings");
    core_session_free(ses);
    store_close(st);
}

static void queue_order_and_jump(void)
{
    zs_store *st = make_ws(6);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    ZT_OK(core_session_answer(ses, 0));              /* gid 1 */
    uint32_t q[] = {5, 1, 3, 6};
    core_session_set_queue(ses, q, 4);
    ZT_CHECK(core_session_gid(ses) == 2, "the shown galaxy stays when the queue changes");
    ZT_OK(core_session_answer(ses, 0));
    ZT_CHECK(core_session_gid(ses) == 5, "then the new queue: 5, got %u", core_session_gid(ses));
    uint32_t next[4];
    int n = core_session_peek(ses, next, 4);
    ZT_CHECK(n == 2 && next[0] == 3 && next[1] == 6, "peek skips answered gid 1: n=%d", n);
    ZT_OK(core_session_jump(ses, 4));
    ZT_CHECK(core_session_gid(ses) == 4, "jumped");
    ZT_OK(core_session_answer(ses, 1));
    ZT_CHECK(core_session_gid(ses) == 5, "back to where the jump left, got %u", core_session_gid(ses));
    ZT_CHECK(core_session_jump(ses, 99) == 1, "no gid 99");
    core_session_free(ses);
    store_close(st);
}

static void commits_survive_a_reopen(void)
{
    zs_store *st = make_ws(4);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, NULL, 5);
    ZT_OK(core_session_answer(ses, 0));
    ZT_OK(core_session_answer(ses, 1));
    core_session_free(ses);
    store_close(st);
    ZT_OK(store_open(&st, "ws", 0));
    tally t = count_log(st);
    ZT_CHECK(t.tree == 2 && strcmp(t.last.user, store_current_user()) == 0, "2 answers by the Unix user");
    store_close(st);
}

static void a_failed_write_keeps_the_galaxy_and_says_so(void)
{
    zs_store *st = make_ws(3);
    store_close(st);
    ZT_OK(store_open(&st, "ws", STORE_RDONLY));     /* every write now fails */
    core_schema s = schema_of("gz-decals");
    core_session *ses = open_as(st, &s, "alice", 5);
    int steps = 0;
    int rc = 0;
    while (steps < STORE_STEPS_MAX && (rc = core_session_answer(ses, 0)) == 0 && core_session_gid(ses) == 1) steps++;
    ZT_CHECK(rc != 0 && rc != 1, "the commit failed with a store code (%d)", rc);
    ZT_CHECK(core_session_gid(ses) == 1, "still on galaxy 1 after a failed commit");
    ZT_CHECK(strstr(core_session_message(ses), "not") || strstr(core_session_message(ses), "NOT"),
             "the user is told: '%s'", core_session_message(ses));
    core_session_stats ss;
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.n_path == steps && ss.answers == 0, "the last step is to be given again: path %d of %d", ss.n_path, steps);
    ZT_CHECK(core_session_skip(ses) != 0 && core_session_gid(ses) == 1, "a failed skip does not move on either");
    core_session_free(ses);
    store_close(st);
    ZT_OK(store_open(&st, "ws", 0));
    ZT_CHECK(count_log(st).total == 0, "nothing was written");
    store_close(st);
}

/* ---- the session counts by the one rule */

typedef struct { store_answer a; uint64_t seq; } put_ctx;

static int put_fn(zs_txn *txn, void *p)
{
    put_ctx *c = p;
    return store_answer_append(txn, &c->a, &c->seq);
}

/* Appends one record (a ring=yes tree answer, a rating, a retraction of
 * `retracts`, a skip or a star) and returns its seq. */
static uint64_t put(zs_store *st, const char *user, const char *task, int kind, uint32_t gid, uint64_t retracts)
{
    put_ctx c;
    memset(&c, 0, sizeof c);
    c.a.gid = gid;
    c.a.kind = (uint8_t)kind;
    c.a.retracts = retracts;
    c.a.rating = 3;
    snprintf(c.a.user, sizeof c.a.user, "%s", user);
    snprintf(c.a.task, sizeof c.a.task, "%s", task);
    if (kind == STORE_ANS_TREE) {
        c.a.n_steps = 1;
        snprintf(c.a.steps[0].question, sizeof c.a.steps[0].question, "ring");
        snprintf(c.a.steps[0].answer, sizeof c.a.steps[0].answer, "yes");
    }
    ZT_OK(store_write(st, put_fn, &c));
    return c.seq;
}

#define N_GAL 8
#define N_USERS 5
static const char *const users[N_USERS] = {"alice", "bob", "carol", "dave", "zed"};

/* What core_answers_counted counts for task "ring" (tree kind 0, rating kind
 * 1, as export does): per galaxy, and per galaxy and user. */
typedef struct { int on[N_GAL + 1]; int by[N_USERS][N_GAL + 1]; } counted;

static int ring_want(const store_answer *a, void *ctx)
{
    (void)ctx;
    if (strcmp(a->task, "ring") != 0 || (a->kind != STORE_ANS_TREE && a->kind != STORE_ANS_RATING)) return -1;
    return a->kind == STORE_ANS_RATING;
}

static int counted_fn(const store_answer *a, void *ctx)
{
    counted *c = ctx;
    ZT_CHECK(a->gid >= 1 && a->gid <= N_GAL, "gid %u", a->gid);
    c->on[a->gid]++;
    for (int u = 0; u < N_USERS; u++) c->by[u][a->gid] += strcmp(a->user, users[u]) == 0;
    return 0;
}

static counted count_by_the_rule(zs_store *st)
{
    counted c;
    memset(&c, 0, sizeof c);
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(core_answers_counted(txn, ring_want, counted_fn, &c));
    store_read_end(txn);
    return c;
}

/* The galaxies a session would still show: the current one and those after it. */
static int shown(core_session *ses, int *in)
{
    memset(in, 0, (N_GAL + 1) * sizeof *in);
    uint32_t g = core_session_gid(ses), next[N_GAL + 1];
    if (g == 0) return 0;
    in[g] = 1;
    int n = core_session_peek(ses, next, N_GAL + 1);
    for (int i = 0; i < n; i++) in[next[i]] = 1;
    return n + 1;
}

/* retire[r] is a session of "eve" (no answers) with --retire r + 1; mine[u]
 * one of users[u] that never retires a galaxy.  Both are refreshed, then
 * checked against core_answers_counted: a galaxy is shown to eve with
 * --retire R exactly when fewer than R answers count on it, and is
 * "answered" for a user exactly when one of theirs counts. */
static void session_agrees(core_session **retire, core_session **mine, const counted *c)
{
    for (int r = 0; r < N_USERS; r++) {
        ZT_OK(core_session_refresh(retire[r]));
        core_session_first(retire[r]);
        int in[N_GAL + 1];
        shown(retire[r], in);
        for (uint32_t g = 1; g <= N_GAL; g++)
            ZT_CHECK(in[g] == (c->on[g] < r + 1), "--retire %d, gid %u: %d answers count, shown %d", r + 1, g, c->on[g],
                     in[g]);
    }
    for (int u = 0; u < N_USERS; u++) {
        ZT_OK(core_session_refresh(mine[u]));
        uint32_t n = 0;
        for (uint32_t g = 1; g <= N_GAL; g++) {
            ZT_CHECK(c->by[u][g] <= 1, "%s: %d answers count on gid %u", users[u], c->by[u][g], g);
            ZT_CHECK(core_session_answered(mine[u], g) == c->by[u][g], "%s, gid %u: answered %d, counts %d", users[u], g,
                     core_session_answered(mine[u], g), c->by[u][g]);
            n += (uint32_t)c->by[u][g];
        }
        core_session_stats ss;
        core_session_stats_get(mine[u], &ss);
        ZT_CHECK(ss.done_user == n, "%s: done %u, counted %u", users[u], ss.done_user, n);
    }
}

static void open_sessions(zs_store *st, const core_schema *s, core_session **retire, core_session **mine)
{
    for (int r = 0; r < N_USERS; r++) retire[r] = open_as(st, s, "eve", r + 1);
    for (int u = 0; u < N_USERS; u++) mine[u] = open_as(st, s, users[u], 1000);
}

static void close_sessions(core_session **retire, core_session **mine)
{
    for (int i = 0; i < N_USERS; i++) {
        core_session_free(retire[i]);
        core_session_free(mine[i]);
    }
}

/* The first half of the log: repeated answers by one user, a retraction
 * that brings an earlier answer back, answers that are not this task's.
 * *undo gets records the second half retracts. */
static void log_first_half(zs_store *st, uint64_t *undo)
{
    put(st, "alice", "ring", STORE_ANS_TREE, 1, 0);        /* alice answers gid 1 in two sessions: 1 */
    put(st, "alice", "ring", STORE_ANS_TREE, 1, 0);
    undo[0] = put(st, "bob", "ring", STORE_ANS_TREE, 1, 0);
    put(st, "carol", "ring", STORE_ANS_TREE, 2, 0);        /* carol's second is retracted: the first counts */
    uint64_t again = put(st, "carol", "ring", STORE_ANS_TREE, 2, 0);
    put(st, "carol", "ring", STORE_ANS_RETRACT, 2, again);
    uint64_t d = put(st, "dave", "ring", STORE_ANS_TREE, 2, 0);
    put(st, "dave", "ring", STORE_ANS_RETRACT, 2, d);
    for (int i = 0; i < 3; i++) put(st, "carol", "ring", STORE_ANS_TREE, 3, 0);
    put(st, "alice", "ring", STORE_ANS_TREE, 3, 0);
    undo[1] = put(st, "bob", "ring", STORE_ANS_TREE, 3, 0);
    put(st, "alice", "interest", STORE_ANS_RATING, 5, 0); /* another task */
    put(st, "bob", "ring", STORE_ANS_SKIP, 6, 0);
    put(st, "carol", "ring", STORE_ANS_FAVOURITE, 6, 0);
    uint64_t a1 = put(st, "alice", "ring", STORE_ANS_TREE, 7, 0);
    uint64_t a2 = put(st, "alice", "ring", STORE_ANS_TREE, 7, 0);
    put(st, "alice", "ring", STORE_ANS_RETRACT, 7, a2);
    put(st, "alice", "ring", STORE_ANS_RETRACT, 7, a1);
}

/* The second half: more users, retractions of first-half answers, one twice. */
static void log_second_half(zs_store *st, const uint64_t *undo)
{
    put(st, "bob", "ring", STORE_ANS_RETRACT, 1, undo[0]);
    put(st, "bob", "ring", STORE_ANS_RETRACT, 1, undo[0]);
    put(st, "dave", "ring", STORE_ANS_TREE, 1, 0);
    put(st, "bob", "ring", STORE_ANS_RETRACT, 3, undo[1]);
    put(st, "dave", "ring", STORE_ANS_TREE, 3, 0);
    put(st, "dave", "ring", STORE_ANS_TREE, 3, 0);
    put(st, "zed", "ring", STORE_ANS_TREE, 4, 0);
    put(st, "zed", "ring", STORE_ANS_TREE, 8, 0);
    put(st, "zed", "ring", STORE_ANS_TREE, 8, 0);
    put(st, "dave", "ring", STORE_ANS_TREE, 7, 0);
}

static void session_counts_what_the_rule_counts(void)
{
    zs_store *st = make_ws(N_GAL);
    core_schema s = schema_of("ring");
    uint64_t undo[2];
    log_first_half(st, undo);
    counted c = count_by_the_rule(st);
    static const int want1[N_GAL + 1] = {0, 2, 1, 3, 0, 0, 0, 0, 0};
    for (int g = 1; g <= N_GAL; g++) ZT_CHECK(c.on[g] == want1[g], "gid %d: %d count, expected %d", g, c.on[g], want1[g]);
    ZT_CHECK(c.by[0][1] == 1 && c.by[2][2] == 1 && c.by[2][3] == 1 && c.by[0][7] == 0, "one per user, the retracted out");
    core_session *retire[N_USERS], *mine[N_USERS];
    open_sessions(st, &s, retire, mine);
    session_agrees(retire, mine, &c);
    close_sessions(retire, mine);
    store_close(st);
}

static void session_counts_stay_right_across_refreshes(void)
{
    zs_store *st = make_ws(N_GAL);
    core_schema s = schema_of("ring");
    core_session *retire[N_USERS], *mine[N_USERS];
    open_sessions(st, &s, retire, mine);            /* on an empty log: everything comes by refresh */
    counted c = count_by_the_rule(st);
    session_agrees(retire, mine, &c);
    uint64_t undo[2];
    log_first_half(st, undo);
    c = count_by_the_rule(st);
    session_agrees(retire, mine, &c);
    log_second_half(st, undo);
    c = count_by_the_rule(st);
    static const int want2[N_GAL + 1] = {0, 2, 1, 3, 1, 0, 0, 1, 1};
    for (int g = 1; g <= N_GAL; g++) ZT_CHECK(c.on[g] == want2[g], "gid %d: %d count, expected %d", g, c.on[g], want2[g]);
    session_agrees(retire, mine, &c);
    /* a session opened now, reading the whole log at once, agrees too */
    close_sessions(retire, mine);
    open_sessions(st, &s, retire, mine);
    session_agrees(retire, mine, &c);
    close_sessions(retire, mine);
    store_close(st);
}

static void a_second_answer_by_the_same_user_does_not_retire(void)
{
    zs_store *st = make_ws(3);
    core_schema s = schema_of("ring");
    core_session *a = open_as(st, &s, "alice", 2);
    ZT_OK(core_session_answer(a, 0));                 /* alice: gid 1 */
    ZT_OK(core_session_jump(a, 1));
    ZT_CHECK(strstr(core_session_message(a), "already") != NULL, "told: '%s'", core_session_message(a));
    ZT_OK(core_session_answer(a, 1));                 /* and again: her answer is replaced */
    core_session *b = open_as(st, &s, "bob", 2);
    ZT_CHECK(core_session_gid(b) == 1, "gid 1 has one answer that counts, not 2: bob sees it, got %u", core_session_gid(b));
    core_session_stats ss;
    core_session_stats_get(a, &ss);
    ZT_CHECK(ss.done_user == 1 && ss.answers == 2, "alice: 1 galaxy, 2 records (done %u, answers %d)", ss.done_user,
             ss.answers);
    core_session_free(a);
    core_session_free(b);
    store_close(st);
}

typedef struct { const char *key, *val; } meta_kv;
static int put_meta(zs_txn *txn, void *p)
{
    const meta_kv *kv = p;
    return store_meta_put(txn, kv->key, kv->val);
}

/* Any group member can write meta claims/<task> (issue 21): a claim dated
 * far in the future must not hold its galaxy for ever, while a fresh one by
 * another labeler still does and a stale one does not. */
static void a_claim_dated_in_the_future_holds_nothing(void)
{
    zs_store *st = make_ws(4);
    core_schema s = schema_of("ring");
    long now = (long)(core_now_us() / 1000000);
    char claims[256];
    snprintf(claims, sizeof claims, "ghost1 1 %ld\nghost2 2 99999999999\nghost3 3 %ld\n", now, now - 2000);
    meta_kv kv = {"claims/ring", claims};
    ZT_OK(store_write(st, put_meta, &kv));
    core_session *b = open_as(st, &s, "bob", 1);
    ZT_CHECK(core_session_gid(b) == 2, "gid 1 is held by a fresh claim, gid 2's claim (year 5138) is not believed: "
             "bob sees gid 2, got %u", core_session_gid(b));
    ZT_OK(core_session_answer(b, 0));
    ZT_CHECK(core_session_gid(b) == 3, "a claim 2000 s old has expired: gid 3 next, got %u", core_session_gid(b));
    core_session_free(b);
    store_close(st);
}

/* Two users whose 32-byte names share their first 31 bytes (issue 21): the
 * first one's claim holds its galaxy for the second. */
static void a_claim_by_a_32_byte_name_holds_for_its_twin(void)
{
    zs_store *st = make_ws(4);
    core_schema s = schema_of("ring");
    core_session *a = open_as(st, &s, "abcdefghijklmnopqrstuvwxyz01234A", 1);
    uint32_t ga = core_session_gid(a);
    core_session_claim(a, ga);   /* the labeler claims the galaxy it shows */
    core_session *b = open_as(st, &s, "abcdefghijklmnopqrstuvwxyz01234B", 1);
    ZT_CHECK(ga != 0 && core_session_gid(b) != ga, "B is shown A's claimed galaxy %u", ga);
    core_session_free(a);
    core_session_free(b);
    store_close(st);
}

const zt_case zt_suite_session[] = {
    {"a claim by a 32-byte user name holds for a user whose name differs only in byte 32",
     a_claim_by_a_32_byte_name_holds_for_its_twin, 0},
    {"a claim dated in the future holds nothing; a fresh one holds, a stale one not", a_claim_dated_in_the_future_holds_nothing, 0},
    {"a ring answer is committed at once as one tree record, then the next galaxy", ring_answer_is_committed_at_once, 0},
    {"a gz-decals path is committed as ONE record only when the tree is complete", gz_decals_path_is_one_record_when_complete, 0},
    {"undo steps back a question, then retracts the previous galaxy and shows it again", undo_steps_back_then_retracts, 0},
    {"50 answers and 5 undos leave 50 records, 5 retractions, 45 net", fifty_answers_five_undos_leave_45_and_5, 0},
    {"users see only galaxies they have not answered; galaxies retire after N", users_see_only_unanswered_and_galaxies_retire, 0},
    {"a skip is recorded, not shown again this session, and undone without a retraction", skip_is_recorded_and_undone, 0},
    {"a star toggles through a retraction", favourite_toggles_through_a_retraction, 0},
    {"interest commits 0-5 ratings and refuses 6", interest_commits_a_rating, 0},
    {"a new queue applies after the shown galaxy; jump returns to where it left", queue_order_and_jump, 0},
    {"committed answers survive closing the workspace, under the Unix user", commits_survive_a_reopen, 0},
    {"a failed write (read-only workspace) keeps the galaxy, tells the user, writes nothing", a_failed_write_keeps_the_galaxy_and_says_so, 0},
    {"the session counts what core_answers_counted counts: repeats, retractions, several users", session_counts_what_the_rule_counts, 0},
    {"the session's counts follow the log across refreshes and agree with the rule at each step", session_counts_stay_right_across_refreshes, 0},
    {"a user answering a galaxy again replaces the answer: it does not retire the galaxy", a_second_answer_by_the_same_user_does_not_retire, 0},
    {0},
};
