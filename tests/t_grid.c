/*
 * t_grid.c - pages of galaxies labelled at once (core/grid.h over
 * core/session.h), on a real workspace: which galaxies a page holds
 * (against a naive walk of the queue), a committed page as one record per
 * tile in the log (yes for marked, no for the others, this user's), undo
 * retracting the whole page and bringing it back marked, the tasks a
 * page cannot label, two labelers' pages (never the same galaxy), and
 * cluster pages (one cluster each, nearest its centre first, every
 * unlabelled galaxy once).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "core/grid.h"
#include "core/session.h"
#include "store/store.h"
#include "tests/zt.h"
#include "tests/zt_ws.h"

#define LOG_MAX 256

typedef struct { int n; store_answer a[LOG_MAX]; uint64_t seq[LOG_MAX]; } log_t;

static int log_fn(const store_answer *a, void *ctx)
{
    log_t *l = ctx;
    if (l->n < LOG_MAX) { l->a[l->n] = *a; l->seq[l->n] = a->seq; l->n++; }
    return 0;
}

static log_t *read_log(zs_store *st)
{
    log_t *l = calloc(1, sizeof *l);
    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(store_answer_each(txn, 1, log_fn, l));
    store_read_end(txn);
    return l;
}

/* The naive reference: the queue walked from its start, skipping what
 * this user answered (answered[gid]), the first n. */
static int naive_page(const uint32_t *queue, int nq, const int *answered, uint32_t *out, int n)
{
    int k = 0;
    for (int i = 0; i < nq && k < n; i++)
        if (!answered[queue[i]]) out[k++] = queue[i];
    return k;
}

static void a_page_is_the_queue_s_next_unanswered_galaxies(void)
{
    zs_store *st = make_ws(30);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    uint32_t queue[30];
    for (int i = 0; i < 30; i++) queue[i] = (uint32_t)((i * 7) % 30 + 1);   /* a permutation of 1..30 */
    core_session_set_queue(ses, queue, 30);
    core_session_first(ses);
    int answered[31] = {0};
    /* three answered one at a time first: the page starts after them */
    for (int i = 0; i < 3; i++) {
        answered[core_session_gid(ses)] = 1;
        ZT_OK(core_session_answer(ses, 1));
    }
    core_grid *g = core_grid_new(ses, &s, 12);
    uint32_t want[12];
    int nw = naive_page(queue, 30, answered, want, 12);
    ZT_CHECK(core_grid_fill_queue(g, 0) == nw && nw == 12, "page of %d, the reference %d", core_grid_n(g), nw);
    for (int i = 0; i < nw; i++)
        ZT_CHECK(core_grid_gid(g, i) == want[i], "tile %d: gid %u, the queue's next %u", i, core_grid_gid(g, i), want[i]);
    ZT_CHECK(core_grid_fill_queue(g, 5) == 5 && core_grid_gid(g, 4) == want[4], "a page of 5 is the first 5");
    /* after a page is committed, the next page is the queue's next unanswered */
    core_grid_fill_queue(g, 12);
    for (int i = 0; i < 12; i++) answered[core_grid_gid(g, i)] = 1;
    ZT_OK(core_grid_commit(g, 12));
    nw = naive_page(queue, 30, answered, want, 12);
    ZT_CHECK(core_grid_n(g) == nw && nw == 12, "the next page: %d tiles, the reference %d", core_grid_n(g), nw);
    for (int i = 0; i < nw; i++)
        ZT_CHECK(core_grid_gid(g, i) == want[i], "next page tile %d: gid %u, the reference %u", i, core_grid_gid(g, i), want[i]);
    ZT_CHECK(core_session_gid(ses) == want[0], "the session moved on to the page's first (%u)", core_session_gid(ses));
    /* the last page is short; then none */
    for (int i = 0; i < core_grid_n(g); i++) answered[core_grid_gid(g, i)] = 1;
    ZT_OK(core_grid_commit(g, 12));
    ZT_CHECK(core_grid_n(g) == 3, "3 galaxies left for the last page, got %d", core_grid_n(g));
    ZT_OK(core_grid_commit(g, 12));
    ZT_CHECK(core_grid_n(g) == 0 && core_session_gid(ses) == 0, "nothing left");
    ZT_CHECK(core_grid_commit(g, 12) == 1, "an empty page saves nothing");
    core_grid_free(g);
    core_session_free(ses);
    store_close(st);
}

static void a_committed_page_is_one_record_per_tile_yes_for_marked(void)
{
    zs_store *st = make_ws(20);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    core_grid *g = core_grid_new(ses, &s, 8);
    ZT_CHECK(core_grid_fill_queue(g, 8) == 8 && core_grid_gid(g, 0) == 1 && core_grid_gid(g, 7) == 8, "page 1..8");
    core_grid_toggle(g, 2);
    core_grid_toggle(g, 5);
    core_grid_toggle(g, 6);
    core_grid_toggle(g, 6);          /* toggled twice: not marked */
    ZT_CHECK(core_grid_n_marked(g) == 2 && core_grid_marked(g, 2) && core_grid_marked(g, 5) && !core_grid_marked(g, 6),
             "marks on tiles 3 and 6");
    ZT_OK(core_grid_commit(g, 8));
    log_t *l = read_log(st);
    ZT_CHECK(l->n == 8, "8 records, got %d", l->n);
    for (int i = 0; i < l->n; i++) {
        const store_answer *a = &l->a[i];
        const char *want = (a->gid == 3 || a->gid == 6) ? "yes" : "no";
        ZT_CHECK(a->kind == STORE_ANS_TREE && a->gid == (uint32_t)i + 1 && a->n_steps == 1, "record %d: a ring tree record for gid %d", i, i + 1);
        ZT_CHECK(strcmp(a->steps[0].question, "ring") == 0 && strcmp(a->steps[0].answer, want) == 0,
                 "gid %u: ring=%s, want %s", a->gid, a->steps[0].answer, want);
        ZT_CHECK(strcmp(a->user, "alice") == 0 && strcmp(a->task, "ring") == 0, "gid %u by %s on %s", a->gid, a->user, a->task);
    }
    core_session_stats ss;
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.answers == 8 && ss.done_user == 8, "8 answers this session, 8 galaxies done, got %d / %u", ss.answers, ss.done_user);
    ZT_CHECK(core_grid_gid(g, 0) == 9 && core_grid_n_marked(g) == 0, "the next page starts at 9, unmarked");
    free(l);
    core_grid_free(g);
    core_session_free(ses);
    store_close(st);
}

static void undo_retracts_the_whole_page_and_brings_it_back_marked(void)
{
    zs_store *st = make_ws(20);
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    ZT_OK(core_session_answer(ses, 0));          /* gid 1 alone, before the page */
    core_grid *g = core_grid_new(ses, &s, 6);
    core_grid_fill_queue(g, 6);                  /* 2..7 */
    core_grid_toggle(g, 0);
    core_grid_toggle(g, 4);
    ZT_OK(core_grid_commit(g, 6));
    ZT_OK(core_session_answer(ses, 1));          /* gid 8 alone, after it */
    /* the first undo takes back gid 8 only */
    ZT_OK(core_grid_undo(g, 6));
    log_t *l = read_log(st);
    ZT_CHECK(l->n == 9 && l->a[8].kind == STORE_ANS_RETRACT && l->a[8].retracts == l->seq[7],
             "one retraction of gid 8's record, got %d records", l->n);
    ZT_CHECK(core_grid_gid(g, 0) == 8 && core_grid_n_marked(g) == 0, "gid 8 comes back first, unmarked");
    free(l);
    /* the second: the whole page in one write, back with its marks */
    ZT_OK(core_grid_undo(g, 6));
    l = read_log(st);
    ZT_CHECK(l->n == 15, "6 more retractions, got %d records", l->n);
    for (int i = 0; i < 6; i++)
        ZT_CHECK(l->a[9 + i].kind == STORE_ANS_RETRACT && l->a[9 + i].retracts == l->seq[1 + i] &&
                 strcmp(l->a[9 + i].user, "alice") == 0, "retraction %d retracts the page's record %d", i, i);
    for (int i = 0; i < 6; i++)
        ZT_CHECK(core_grid_gid(g, i) == (uint32_t)(2 + i), "the page is back: tile %d gid %u", i, core_grid_gid(g, i));
    ZT_CHECK(core_grid_n_marked(g) == 2 && core_grid_marked(g, 0) && core_grid_marked(g, 4), "with its marks");
    core_session_stats ss;
    core_session_stats_get(ses, &ss);
    ZT_CHECK(ss.answers == 1 && ss.done_user == 1 && ss.retractions == 7, "net 1 answer (gid 1), got %d / %u / %d",
             ss.answers, ss.done_user, ss.retractions);
    ZT_CHECK(!core_session_answered(ses, 2) && core_session_answered(ses, 1), "the page's galaxies are open again");
    /* committed again, then the one before the page is undone alone */
    core_grid_toggle(g, 1);
    ZT_OK(core_grid_commit(g, 6));
    ZT_CHECK(core_session_answered(ses, 3) && core_grid_gid(g, 0) == 8, "recommitted; the next page starts at 8");
    ZT_OK(core_grid_undo(g, 6));
    ZT_OK(core_grid_undo(g, 6));
    ZT_CHECK(core_grid_gid(g, 0) == 1 && core_session_gid(ses) == 1 && core_grid_n_marked(g) == 0, "then gid 1 alone");
    ZT_CHECK(core_grid_undo(g, 6) == 1, "nothing more to undo");
    free(l);
    core_grid_free(g);
    core_session_free(ses);
    store_close(st);
}

static void pages_label_one_question_tasks_only(void)
{
    zs_store *st = make_ws(10);
    char why[160];
    core_schema ring = schema_of("ring"), tree = schema_of("gz-decals"), rate = schema_of("interest");
    ZT_CHECK(core_grid_can_label(&ring, why, sizeof why), "ring is one question");
    ZT_CHECK(!core_grid_can_label(&tree, why, sizeof why) && strstr(why, "questions"), "gz-decals is not: %s", why);
    ZT_CHECK(!core_grid_can_label(&rate, why, sizeof why) && strstr(why, "rating"), "interest is not: %s", why);
    core_session *ses = open_as(st, &tree, "alice", 5);
    core_grid *g = core_grid_new(ses, &tree, 4);
    core_grid_fill_queue(g, 4);
    core_grid_toggle(g, 0);
    ZT_CHECK(core_grid_commit(g, 4) == 1, "a gz-decals page is refused");
    uint32_t gids[2] = {1, 2};
    int choice[2] = {0, 1};
    ZT_CHECK(core_session_answer_page(ses, gids, choice, 2) == 1, "and so is answering one");
    log_t *l = read_log(st);
    ZT_CHECK(l->n == 0, "nothing written, got %d", l->n);
    free(l);
    core_grid_free(g);
    core_session_free(ses);
    /* a bad entry writes nothing of the page */
    ses = open_as(st, &ring, "alice", 5);
    uint32_t dup[3] = {1, 2, 1};
    int ch[3] = {0, 1, 0};
    ZT_CHECK(core_session_answer_page(ses, dup, ch, 3) == 1 && strstr(core_session_message(ses), "entry 3"), "a galaxy twice: refused");
    uint32_t far[2] = {1, 99};
    ZT_CHECK(core_session_answer_page(ses, far, ch, 2) == 1, "a gid past the workspace: refused");
    int bad[2] = {0, 2};
    ZT_CHECK(core_session_answer_page(ses, gids, bad, 2) == 1, "answer 3 of 2: refused");
    l = read_log(st);
    ZT_CHECK(l->n == 0, "nothing written, got %d", l->n);
    free(l);
    core_session_free(ses);
    store_close(st);
}


/* The claims meta of task ring: the lines of `user` into gids (sorted by
 * the caller's eye: in the order written); returns how many. */
static int claims_of(zs_store *st, const char *user, uint32_t *gids, int max)
{
    zs_txn *txn;
    char *v = NULL;
    int n = 0;
    ZT_OK(store_read_begin(st, &txn));
    if (store_meta_get(txn, "claims/ring", &v) == 0) {
        char *save = NULL;
        for (char *ln = strtok_r(v, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
            char u[256];
            unsigned g;
            long t;
            if (sscanf(ln, "%255s %u %ld", u, &g, &t) == 3 && strcmp(u, user) == 0 && n < max) gids[n++] = g;
        }
        free(v);
    }
    store_read_end(txn);
    return n;
}

static void two_labelers_pages_never_share_a_galaxy(void)
{
    zs_store *st = make_ws(40);
    core_schema ring = schema_of("ring");
    core_session *a = open_as(st, &ring, "alice", 5), *b = open_as(st, &ring, "bob", 5);
    core_grid *ga = core_grid_new(a, &ring, 8), *gb = core_grid_new(b, &ring, 8);
    ZT_CHECK(core_grid_fill_queue(ga, 8) == 8 && core_grid_gid(ga, 0) == 1 && core_grid_gid(ga, 7) == 8, "alice: 1..8");
    uint32_t cl[64];
    int nc = claims_of(st, "alice", cl, 64);
    ZT_CHECK(nc == 8, "alice's page claims its 8 galaxies, got %d claim lines", nc);
    for (int i = 0; i < nc; i++) ZT_CHECK(cl[i] == (uint32_t)i + 1, "claim %d names gid %u", i, cl[i]);
    /* bob, at the same time (--retire 5: one galaxy alone could be shown to both) */
    ZT_CHECK(core_grid_fill_queue(gb, 8) == 8, "bob gets a whole page");
    for (int i = 0; i < 8; i++)
        ZT_CHECK(core_grid_gid(gb, i) == (uint32_t)(9 + i), "bob's tile %d: gid %u, not one of alice's 1..8", i, core_grid_gid(gb, i));
    ZT_OK(core_grid_commit(ga, 8));
    for (int i = 0; i < 8; i++)
        ZT_CHECK(core_grid_gid(ga, i) == (uint32_t)(17 + i), "alice's next page passes bob's: tile %d gid %u", i, core_grid_gid(ga, i));
    nc = claims_of(st, "alice", cl, 64);
    ZT_CHECK(nc == 8 && cl[0] == 17, "the claim moved with the page (%d lines, first %u)", nc, nc ? cl[0] : 0);
    ZT_CHECK(claims_of(st, "bob", cl, 64) == 8, "bob's claim stays");
    /* bob leaves: his galaxies are free again; renewing an unchanged page writes nothing new */
    core_session_claim(b, 0);
    ZT_CHECK(claims_of(st, "bob", cl, 64) == 0, "bob's claim is gone at quit");
    ZT_OK(core_grid_claim(ga));
    ZT_CHECK(claims_of(st, "alice", cl, 64) == 8, "alice's renewed claim: still her 8");
    ZT_OK(core_grid_commit(ga, 8));
    ZT_CHECK(core_grid_gid(ga, 0) == 9, "bob's released galaxies come to alice (first tile %u)", core_grid_gid(ga, 0));
    core_grid_free(ga);
    core_grid_free(gb);
    core_session_free(a);
    core_session_free(b);
    store_close(st);
}

/* Feature set "feat" of 2 numbers: galaxies 1..30 around (0, 0), 31..50
 * around (20, 0), 51..60 around (0, 20), spread by i. */
static int put_features(zs_txn *txn, void *ctx)
{
    (void)ctx;
    int rc = store_featset_put(txn, "feat", 2, "test blobs");
    for (uint32_t g = 1; g <= 60 && rc == 0; g++) {
        float c[2] = {g > 30 && g <= 50 ? 20.0f : 0.0f, g > 50 ? 20.0f : 0.0f};
        float v[2] = {c[0] + (float)(g % 5) * 0.3f, c[1] + (float)(g % 7) * 0.2f};
        rc = store_feature_put(txn, "feat", g, v, 2);
    }
    return rc;
}

static int group_of(uint32_t g) { return g <= 30 ? 0 : g <= 50 ? 1 : 2; }

static void cluster_pages_walk_each_cluster_nearest_first(void)
{
    zs_store *st = make_ws(60);
    core_schema ring = schema_of("ring");
    core_session *ses = open_as(st, &ring, "alice", 5);
    core_grid *g = core_grid_new(ses, &ring, 8);
    char err[200];
    ZT_CHECK(core_grid_clusters_open(g, st, NULL, 1, err, sizeof err) == STORE_ENOTFOUND && strstr(err, "zoosh embed"),
             "no features: %s", err);
    ZT_OK(store_write(st, put_features, NULL));
    ZT_OK(core_session_answer(ses, 0));            /* gids 1 and 2 labelled before the pages */
    ZT_OK(core_session_answer(ses, 1));
    ZT_OK(core_grid_clusters_open(g, st, NULL, 1, err, sizeof err));
    core_grid_cluster ci;
    ZT_CHECK(core_grid_cluster_info(g, &ci) == -1, "no cluster page yet");
    ZT_CHECK(core_grid_fill_cluster(g, 8) == 8, "a full first page");
    ZT_OK(core_grid_cluster_info(g, &ci));
    ZT_CHECK(ci.index == 0 && ci.why == CORE_CLUSTER_LARGEST && ci.n_clusters == 5 && strcmp(ci.set, "feat") == 0,
             "the first page is the largest of 5 clusters of feat (index %d why %d of %d, %s)", ci.index, ci.why,
             ci.n_clusters, ci.set);
    int answered[61] = {0}, pages = 0, prev_index = -1, total = 0;
    answered[1] = answered[2] = 1;
    while (core_grid_n(g) > 0 && pages < 40) {
        ZT_OK(core_grid_cluster_info(g, &ci));
        ZT_CHECK(ci.left >= core_grid_n(g) && ci.left <= ci.size, "page %d: %d left of %d, %d on the page", pages, ci.left,
                 ci.size, core_grid_n(g));
        ZT_CHECK(ci.index != prev_index || ci.n_clusters == 1, "page %d: the next cluster (%d after %d)", pages, ci.index, prev_index);
        for (int i = 0; i < core_grid_n(g); i++) {
            uint32_t gid = core_grid_gid(g, i);
            ZT_CHECK(!answered[gid], "page %d: gid %u is unlabelled", pages, gid);
            ZT_CHECK(group_of(gid) == group_of(core_grid_gid(g, 0)), "page %d: gid %u of the same group as the first tile", pages, gid);
            ZT_CHECK(!isnan(core_grid_dist(g, i)) && (i == 0 || core_grid_dist(g, i) >= core_grid_dist(g, i - 1)),
                     "page %d: tile %d at %g from the centre, nearest first", pages, i, core_grid_dist(g, i));
            answered[gid] = 1;
            if (i % 3 == 0) core_grid_toggle(g, i);
        }
        total += core_grid_n(g);
        prev_index = ci.index;
        if (pages == 1) {          /* undo brings this cluster's page back as it was */
            uint32_t was[8];
            int nw = core_grid_n(g);
            for (int i = 0; i < nw; i++) was[i] = core_grid_gid(g, i);
            ZT_OK(core_grid_commit(g, 8));
            ZT_CHECK(core_grid_next_cluster(g, 8) > 0, "t: a page of yet another cluster");
            ZT_OK(core_grid_undo(g, 8));
            ZT_OK(core_grid_cluster_info(g, &ci));
            ZT_CHECK(ci.index == prev_index && core_grid_n(g) == nw, "undo: cluster %d again (was %d)", ci.index, prev_index);
            for (int i = 0; i < nw; i++) ZT_CHECK(core_grid_gid(g, i) == was[i], "undo: tile %d is gid %u again", i, was[i]);
            ZT_CHECK(core_grid_marked(g, 0) && !core_grid_marked(g, 1), "with its marks");
        }
        ZT_OK(core_grid_commit(g, 8));
        pages++;
    }
    ZT_CHECK(total == 58, "every unlabelled galaxy on one page once: %d of 58", total);
    ZT_CHECK(core_grid_fill_cluster(g, 8) == 0, "none left");
    log_t *l = read_log(st);
    int trees = 0, retracts = 0;
    for (int i = 0; i < l->n; i++) {
        trees += l->a[i].kind == STORE_ANS_TREE;
        retracts += l->a[i].kind == STORE_ANS_RETRACT;
    }
    ZT_CHECK(trees - retracts == 60, "60 answers count in the store (%d records, %d retracted)", trees, retracts);
    free(l);
    core_grid_free(g);
    core_session_free(ses);
    store_close(st);
}

static void a_rating_page_is_rated_at_once(void)
{
    zs_store *st = make_ws(12);
    core_schema rate = schema_of("interest");
    core_session *ses = open_as(st, &rate, "alice", 5);
    core_grid *g = core_grid_new(ses, &rate, 6);
    ZT_CHECK(core_grid_can_rate(&rate) && !core_grid_can_rate(&(core_schema){.kind = CORE_TASK_TREE}), "interest is rated");
    ZT_CHECK(core_grid_fill_queue(g, 6) == 6, "a page of 6");
    ZT_CHECK(core_grid_commit(g, 6) == 1, "nothing rated: nothing saved");
    core_grid_toggle(g, 1);
    core_grid_toggle(g, 4);
    ZT_CHECK(core_grid_rate(g, 5) == 2 && core_grid_n_marked(g) == 0, "5 rates the 2 marked tiles, their marks go");
    ZT_CHECK(core_grid_rate(g, 9) == 0, "9 is out of interest's range");
    ZT_CHECK(core_grid_rate(g, 1) == 4, "1 rates the 4 others");
    ZT_CHECK(core_grid_rate(g, 2) == 0, "every tile rated: nothing more to rate without marks");
    int r;
    ZT_CHECK(core_grid_rating(g, 1, &r) && r == 5 && core_grid_rating(g, 0, &r) && r == 1, "tile 2 rated 5, tile 1 rated 1");
    ZT_OK(core_grid_commit(g, 6));
    log_t *l = read_log(st);
    ZT_CHECK(l->n == 6, "6 records, got %d", l->n);
    for (int i = 0; i < 6 && i < l->n; i++)
        ZT_CHECK(l->a[i].kind == STORE_ANS_RATING && l->a[i].gid == (uint32_t)i + 1 && l->a[i].rating == (i == 1 || i == 4 ? 5 : 1),
                 "record %d: gid %u rated %d", i, l->a[i].gid, l->a[i].rating);
    free(l);
    /* a half-rated page saves its rated tiles only; undo brings the ratings back */
    ZT_CHECK(core_grid_gid(g, 0) == 7 && core_grid_n_rated(g) == 0, "the next page, unrated");
    core_grid_toggle(g, 0);
    core_grid_rate(g, 3);
    ZT_OK(core_grid_commit(g, 6));
    ZT_CHECK(core_grid_gid(g, 0) == 8, "the 5 unrated tiles come again (first %u)", core_grid_gid(g, 0));
    ZT_OK(core_grid_undo(g, 6));
    ZT_CHECK(core_grid_gid(g, 0) == 7 && core_grid_rating(g, 0, &r) && r == 3 && core_grid_n_rated(g) == 1, "undo: gid 7 rated 3 again");
    core_grid_free(g);
    core_session_free(ses);
    store_close(st);
}

const zt_case zt_suite_grid[] = {
    {"a page is the current galaxy and the queue's next unanswered ones (against a naive walk)",
     a_page_is_the_queue_s_next_unanswered_galaxies, 0},
    {"a committed page is one record per tile: yes for marked, no for the others, the user's",
     a_committed_page_is_one_record_per_tile_yes_for_marked, 0},
    {"undo retracts a whole page in one write and brings it back with its marks; single answers undo alone",
     undo_retracts_the_whole_page_and_brings_it_back_marked, 0},
    {"pages label one-question tasks only; a bad entry writes nothing", pages_label_one_question_tasks_only, 0},
    {"two labelers' pages never share a galaxy; a page's claim moves with it", two_labelers_pages_never_share_a_galaxy, 0},
    {"a rating page is rated at once: the marked tiles, else every unrated one", a_rating_page_is_rated_at_once, 0},
    {"cluster pages: one cluster each, nearest its centre first, every unlabelled galaxy once",
     cluster_pages_walk_each_cluster_nearest_first, 0},
    {0},
};
