/*
 * session.c - the labeling rules: who sees which galaxy, and every write a labeler makes
 * (see session.h for the rules).  No terminal here: tests drive it directly.
 *
 * Counts come from the answers log through the one rule training and export
 * use (core/answers.h: per galaxy, user and kind, the latest answer not
 * retracted): one walk at open, then an incremental walk from the last seq
 * seen after each commit and on the screen's idle tick, so other labelers'
 * answers retire galaxies while this one runs.  Two counters take the log:
 * this task's answers (retirement, "answered by me") and this user's stars.
 *
 * Claims (meta "claims/<task>", see the claims section) say which galaxy
 * each labeler of the task has on screen.  No threads: a session belongs to
 * the labeler's UI thread; other labelers are other processes, and LMDB
 * serialises their writes.
 */
#include "core/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/answers.h"
#include "core/util.h"

#define CLAIMS_MAX 4096       /* claim lines of one task kept (a page claims each of its galaxies) */
#define CLAIM_TTL_S 900       /* seconds a claim counts without being renewed */
#define CLAIM_SKEW_S 60       /* a claim dated later than now + this is not believed */

typedef struct {
    uint32_t gid;
    uint64_t seq;       /* the committed record; 0 for a skip */
    int      skip;
    int      n;         /* steps of the record (tree) */
    int      q[STORE_STEPS_MAX], a[STORE_STEPS_MAX];
    int      rating;
    int      page;      /* committed as a page (core_session_answer_page): its number; 0 = alone */
} hist_entry;

struct core_session {
    zs_store *st;
    core_schema schema;
    char user[STORE_USER_MAX];
    int retire;

    uint32_t max_gid;
    uint8_t  *skipped;      /* (max_gid + 1) skipped in this session */
    core_answers *votes;    /* this task's answers (kind 0 tree, 1 rating) */
    core_answers *stars;    /* this user's FAVOURITE records (kind 0) */
    int me;                 /* this user's id in votes */
    int me_star;            /* and in stars */

    uint32_t *queue;        /* gids, best first */
    int n_queue, qpos;
    uint32_t *pending;      /* stack of gids to show before the queue */
    int n_pending, cap_pending;

    uint32_t gid;           /* current galaxy, 0 = none left */
    int given[CORE_SCHEMA_MAX_Q];
    int path_q[STORE_STEPS_MAX], path_a[STORE_STEPS_MAX];
    int n_path;

    hist_entry *hist;
    int n_hist, cap_hist;

    int answers, retractions;
    int pages;              /* pages committed this session (numbers hist_entry.page) */
    uint32_t *undone;       /* the page the last undo retracted, in page order */
    int *undone_choice;     /* and each galaxy's answer */
    int n_undone, cap_undone;
    char msg[200];

    uint32_t *others;               /* galaxies other labelers of this task have on screen now, sorted */
    int n_others, cap_others;
    uint32_t *claimed;              /* the galaxies this session's claim names */
    int n_claimed, cap_claimed;
    double claim_t;                 /* when it was written (core_mono_s) */
};

/* ---- counts from the log */

static int votes_on(const core_session *s, uint32_t gid) { return core_answers_votes(s->votes, gid); }

static int mine(const core_session *s, uint32_t gid) { return core_answers_user_counts(s->votes, gid, s->me); }

static uint64_t star_seq(const core_session *s, uint32_t gid) { return core_answers_latest_seq(s->stars, gid, s->me_star, 0); }

static int want_task(const store_answer *a, void *ctx)
{
    const core_session *s = ctx;
    if ((a->kind != STORE_ANS_TREE && a->kind != STORE_ANS_RATING) || strcmp(a->task, s->schema.name) != 0) return -1;
    return a->kind == STORE_ANS_RATING;
}

static int want_star(const store_answer *a, void *ctx)
{
    const core_session *s = ctx;
    return a->kind == STORE_ANS_FAVOURITE && strcmp(a->user, s->user) == 0 ? 0 : -1;
}

static void grow_gids(core_session *s, uint32_t max)
{
    if (max <= s->max_gid && s->skipped) return;
    size_t old = s->skipped ? (size_t)s->max_gid + 1 : 0, n = (size_t)max + 1;
    s->skipped = xrealloc(s->skipped, n);
    memset(s->skipped + old, 0, n - old);
    s->max_gid = max;
}

static int walk_fn(const store_answer *a, void *ctx)
{
    core_session *s = ctx;
    core_answers_feed(s->votes, a);
    core_answers_feed(s->stars, a);
    return 0;
}

int core_session_refresh(core_session *s)
{
    zs_txn *txn;
    int rc = store_read_begin(s->st, &txn);
    if (rc) return rc;
    uint32_t max = store_galaxy_max(txn);
    if (max > s->max_gid) grow_gids(s, max);
    rc = store_answer_each(txn, core_answers_last_seq(s->votes) + 1, walk_fn, s);
    store_read_end(txn);
    return rc;
}

/* ---- claims: which galaxy each labeler has on screen
 *
 * meta "claims/<task>" holds one line per labeler, "user gid unix-time",
 * rewritten in a write transaction (LMDB serialises them) whenever the
 * galaxy on screen changes.  A galaxy someone else is answering now counts
 * towards its retirement, so with --retire 1 two volunteers are not shown
 * the same galaxy.  A claim older than CLAIM_TTL_S (a labeler left idle, or
 * killed) no longer counts, nor one dated in the future (any group member
 * can write the meta value: a claim dated year 5138 must not hold a galaxy
 * for ever); a rewrite drops both. */

static void advance(core_session *s);

static void claims_key(const core_session *s, char *k, size_t n) { snprintf(k, n, "claims/%s", s->schema.name); }

/* 1 when claim line ln ("user gid unix-time") is another labeler's and
 * still counts at `now`, with its galaxy in *gid. */
static int claim_live(const char *ln, const char *me, long now, unsigned long *gid)
{
    char user[STORE_USER_MAX];
    long t;
    _Static_assert(STORE_USER_MAX == 256, "the width below reads a whole user name");
    if (sscanf(ln, "%255s %lu %ld", user, gid, &t) != 3) return 0;
    return strcmp(user, me) != 0 && t <= now + CLAIM_SKEW_S && now - t <= CLAIM_TTL_S;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The live claim lines of other labelers in meta value v (may be NULL)
 * into s->others, sorted; with out != NULL, the lines are also copied
 * there (the rewrite keeps them), *len advanced.  Returns how many lines
 * name gid (0: none asked). */
static int parse_claims(core_session *s, char *v, uint32_t gid, char *out, size_t cap, size_t *len)
{
    s->n_others = 0;
    int on_gid = 0;
    long now = (long)(core_now_us() / 1000000);
    char *save = NULL;
    for (char *ln = v ? strtok_r(v, "\n", &save) : NULL; ln && s->n_others < CLAIMS_MAX;
         ln = strtok_r(NULL, "\n", &save)) {
        unsigned long g;
        if (!claim_live(ln, s->user, now, &g) || g == 0 || g > UINT32_MAX) continue;
        if (s->n_others == s->cap_others) {
            s->cap_others = s->cap_others ? 2 * s->cap_others : 64;
            s->others = xrealloc(s->others, (size_t)s->cap_others * sizeof *s->others);
        }
        s->others[s->n_others++] = (uint32_t)g;
        on_gid += gid && g == gid;
        if (out) *len += (size_t)snprintf(out + *len, cap - *len, "%s\n", ln);
    }
    qsort(s->others, (size_t)s->n_others, sizeof *s->others, cmp_u32);
    return on_gid;
}

static void load_claims(core_session *s)
{
    zs_txn *txn;
    if (store_read_begin(s->st, &txn) != 0) { s->n_others = 0; return; }
    char key[64], *v = NULL;
    claims_key(s, key, sizeof key);
    parse_claims(s, store_meta_get(txn, key, &v) == 0 ? v : NULL, 0, NULL, 0, NULL);
    free(v);
    store_read_end(txn);
}

/* How many other labelers have gid on screen (s->others is sorted). */
static int held_by_others(const core_session *s, uint32_t gid)
{
    int lo = 0, hi = s->n_others;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (s->others[mid] < gid) lo = mid + 1;
        else hi = mid;
    }
    int n = 0;
    while (lo + n < s->n_others && s->others[lo + n] == gid) n++;
    return n;
}

static int pick_page(core_session *s, const uint32_t *cand, int n_cand, uint32_t *page, int k);

/* One rewrite of the claims: others' live lines kept, this labeler's
 * replaced by one line per galaxy of gids[0..n) -- or, when pick, by the
 * page chosen (pick_page) in this same transaction, after the others'
 * claims were read: LMDB has one writer at a time, so two labelers' pages
 * never share a galaxy. */
typedef struct {
    core_session *s;
    const uint32_t *gids;
    int n;
    int others_on;          /* other labelers' lines naming gids[0] */
    int pick;               /* choose the page: */
    const uint32_t *cand;   /* from these (NULL: the queue) */
    int n_cand;
    uint32_t *page;         /* (k) the page chosen */
    int k;
} claim_ctx;

static int claim_cb(zs_txn *txn, void *p)
{
    claim_ctx *c = p;
    char key[64], *v = NULL;
    claims_key(c->s, key, sizeof key);
    int rc = store_meta_get(txn, key, &v);
    if (rc && rc != STORE_ENOTFOUND) return rc;
    long now = (long)(core_now_us() / 1000000);
    int mine_n = c->pick ? c->k : c->n;
    size_t cap = (v ? strlen(v) : 0) + (size_t)(mine_n + 1) * (STORE_USER_MAX + 40), len = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    c->others_on = parse_claims(c->s, v, c->n > 0 ? c->gids[0] : 0, out, cap, &len);
    if (c->pick) {
        c->n = pick_page(c->s, c->cand, c->n_cand, c->page, c->k);
        c->gids = c->page;
    }
    for (int i = 0; i < c->n; i++) len += (size_t)snprintf(out + len, cap - len, "%s %u %ld\n", c->s->user, c->gids[i], now);
    rc = store_meta_put(txn, key, out);
    free(out);
    free(v);
    return rc;
}

/* This session's claim now names gids[0..n). */
static void claimed_set(core_session *s, const uint32_t *gids, int n)
{
    if (n > s->cap_claimed) {
        s->cap_claimed = n;
        s->claimed = xrealloc(s->claimed, (size_t)n * sizeof *s->claimed);
    }
    if (n > 0) memcpy(s->claimed, gids, (size_t)n * sizeof *gids);
    s->n_claimed = n;
    s->claim_t = core_mono_s();
}

/* 1 when the claim names gids[0..n) already and was written recently
 * enough (renewed a few times within the TTL while it stays on screen). */
static int claim_fresh(const core_session *s, const uint32_t *gids, int n)
{
    if (n != s->n_claimed || (n > 0 && memcmp(gids, s->claimed, (size_t)n * sizeof *gids) != 0)) return 0;
    return n == 0 || core_mono_s() - s->claim_t < CLAIM_TTL_S / 3;
}

int core_session_claim(core_session *s, uint32_t gid)
{
    if (claim_fresh(s, &gid, gid ? 1 : 0) || store_is_readonly(s->st)) return 0;
    claim_ctx c = {.s = s, .gids = &gid, .n = gid ? 1 : 0};
    if (store_write(s->st, claim_cb, &c) != 0) return 0;
    claimed_set(s, &gid, c.n);
    /* two labelers shown the same galaxy in the same instant: the writes are
     * serialised, and the later one, not yet answering it, moves on */
    if (gid && gid == s->gid && s->n_path == 0 && gid <= s->max_gid && votes_on(s, gid) + c.others_on >= s->retire) {
        advance(s);
        return s->gid != gid;
    }
    return 0;
}

int core_session_claim_gids(core_session *s, const uint32_t *gids, int n)
{
    if (n < 0) n = 0;
    if (claim_fresh(s, gids, n) || store_is_readonly(s->st)) return 0;
    claim_ctx c = {.s = s, .gids = gids, .n = n};
    int rc = store_write(s->st, claim_cb, &c);
    if (rc == 0) claimed_set(s, gids, n);
    return rc;
}

int core_session_claim_page(core_session *s, const uint32_t *cand, int n_cand, uint32_t *page, int k)
{
    if (k <= 0) return 0;
    if (store_is_readonly(s->st)) {       /* nothing to write: the claims as they are */
        load_claims(s);
        return pick_page(s, cand, n_cand, page, k);
    }
    claim_ctx c = {.s = s, .pick = 1, .cand = cand, .n_cand = n_cand, .page = page, .k = k};
    if (store_write(s->st, claim_cb, &c) != 0) {   /* claims unwritable: the page all the same */
        load_claims(s);
        return pick_page(s, cand, n_cand, page, k);
    }
    claimed_set(s, page, c.n);
    return c.n;
}

/* ---- choosing galaxies */

static int eligible(const core_session *s, uint32_t gid)
{
    return gid >= 1 && gid <= s->max_gid && !mine(s, gid) &&
           votes_on(s, gid) + held_by_others(s, gid) < s->retire && !s->skipped[gid];
}

static void reset_path(core_session *s)
{
    s->n_path = 0;
    for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) s->given[i] = -1;
}

static void push_pending(core_session *s, uint32_t gid)
{
    if (gid == 0) return;
    if (s->n_pending == s->cap_pending) {
        s->cap_pending = s->cap_pending ? s->cap_pending * 2 : 16;
        s->pending = xrealloc(s->pending, (size_t)s->cap_pending * sizeof *s->pending);
    }
    s->pending[s->n_pending++] = gid;
}

static void advance(core_session *s)
{
    uint32_t prev = s->gid;
    reset_path(s);
    load_claims(s);
    while (s->n_pending > 0) {
        uint32_t g = s->pending[--s->n_pending];
        if (g != prev && eligible(s, g)) { s->gid = g; return; }
    }
    while (s->qpos < s->n_queue) {
        uint32_t g = s->queue[s->qpos++];
        if (g != prev && eligible(s, g)) { s->gid = g; return; }
    }
    s->gid = 0;
}

/* Appends to out[0..n) the galaxies that would follow the current one
 * (the pending stack, then the queue) that it may show and that are not
 * there yet, up to k in all; with unheld, none another labeler has on
 * screen either.  Returns the new count. */
static int follow(const core_session *s, uint32_t *out, int n, int k, int unheld)
{
    for (int pass = 0; pass < 2; pass++) {
        int from = pass == 0 ? s->n_pending - 1 : s->qpos, to = pass == 0 ? -1 : s->n_queue, step = pass == 0 ? -1 : 1;
        for (int i = from; i != to && n < k; i += step) {
            uint32_t g = pass == 0 ? s->pending[i] : s->queue[i];
            int dup = g == s->gid;
            for (int j = 0; j < n; j++) dup |= out[j] == g;
            if (!dup && eligible(s, g) && !(unheld && held_by_others(s, g))) out[n++] = g;
        }
    }
    return n;
}

int core_session_peek(const core_session *s, uint32_t *out, int k) { return follow(s, out, 0, k, 0); }

/* A page (see core_session_claim_page) from s->others as they are now. */
static int pick_page(core_session *s, const uint32_t *cand, int n_cand, uint32_t *page, int k)
{
    int n = 0;
    if (!cand) {
        if (s->gid && eligible(s, s->gid) && !held_by_others(s, s->gid)) page[n++] = s->gid;
        return follow(s, page, n, k, 1);
    }
    for (int i = 0; i < n_cand && n < k; i++) {
        uint32_t g = cand[i];
        int dup = 0;
        for (int j = 0; j < n; j++) dup |= page[j] == g;
        if (!dup && eligible(s, g) && !held_by_others(s, g)) page[n++] = g;
    }
    return n;
}

int core_session_unlabelled(const core_session *s, uint32_t gid)
{
    return gid >= 1 && gid <= s->max_gid && !mine(s, gid) && votes_on(s, gid) < s->retire && !s->skipped[gid];
}

void core_session_set_queue(core_session *s, const uint32_t *gids, int n)
{
    free(s->queue);
    if (gids && n > 0) {
        s->queue = xmalloc((size_t)n * sizeof *s->queue);
        memcpy(s->queue, gids, (size_t)n * sizeof *s->queue);
        s->n_queue = n;
    } else {
        s->n_queue = (int)s->max_gid;
        s->queue = xmalloc(((size_t)s->n_queue + 1) * sizeof *s->queue);
        for (int i = 0; i < s->n_queue; i++) s->queue[i] = (uint32_t)i + 1;
    }
    s->qpos = 0;
    if (s->gid == 0) advance(s);
}

void core_session_first(core_session *s)
{
    s->gid = 0;
    s->qpos = 0;
    advance(s);
}

/* ---- writes */

typedef struct { store_answer a; uint64_t seq; } append_ctx;

/* An empty record of `kind` on galaxy gid (append() adds user and task). */
static store_answer record(uint32_t gid, int kind)
{
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = gid;
    a.kind = (uint8_t)kind;
    return a;
}

static int append_cb(zs_txn *txn, void *ctx)
{
    append_ctx *c = ctx;
    return store_answer_append(txn, &c->a, &c->seq);
}

static void say_error(core_session *s, const char *what, int rc)
{
    if (rc == STORE_ENOSPC)
        snprintf(s->msg, sizeof s->msg, "disk full: %s NOT saved (nothing half-written); free space and try again", what);
    else
        snprintf(s->msg, sizeof s->msg, "could not save %s: %s (nothing written)", what, store_strerror(rc));
}

/* The record as this user's, on this task. */
static void stamp(const core_session *s, store_answer *a)
{
    snprintf(a->user, sizeof a->user, "%s", s->user);
    snprintf(a->task, sizeof a->task, "%s", s->schema.name);
}

/* Appends a record of kind for the current user and task; *seq gets its seq. */
static int append(core_session *s, store_answer *a, uint64_t *seq)
{
    append_ctx c;
    c.a = *a;
    c.seq = 0;
    stamp(s, &c.a);
    int rc = store_write(s->st, append_cb, &c);
    if (rc == 0) {
        *seq = c.seq;
        core_session_refresh(s);
    }
    return rc;
}

static hist_entry *hist_push(core_session *s)
{
    if (s->n_hist == s->cap_hist) {
        s->cap_hist = s->cap_hist ? s->cap_hist * 2 : 64;
        s->hist = xrealloc(s->hist, (size_t)s->cap_hist * sizeof *s->hist);
    }
    hist_entry *h = &s->hist[s->n_hist++];
    memset(h, 0, sizeof *h);
    return h;
}

static int commit_tree(core_session *s)
{
    store_answer a = record(s->gid, STORE_ANS_TREE);
    a.n_steps = s->n_path;
    for (int i = 0; i < s->n_path; i++) {
        const core_question *q = &s->schema.q[s->path_q[i]];
        snprintf(a.steps[i].question, sizeof a.steps[i].question, "%s", q->key);
        snprintf(a.steps[i].answer, sizeof a.steps[i].answer, "%s",
                 s->path_a[i] < q->n_answers ? q->answers[s->path_a[i]].key : CORE_ANSWERS_CANT_TELL);
    }
    uint64_t seq;
    int rc = append(s, &a, &seq);
    if (rc) return rc;
    hist_entry *h = hist_push(s);
    h->gid = s->gid;
    h->seq = seq;
    h->n = s->n_path;
    memcpy(h->q, s->path_q, sizeof h->q);
    memcpy(h->a, s->path_a, sizeof h->a);
    s->answers++;
    return 0;
}

int core_session_answer(core_session *s, int choice)
{
    s->msg[0] = 0;
    if (s->gid == 0) return 1;
    if (s->schema.kind == CORE_TASK_RATING) {
        if (choice < s->schema.rating_min || choice > s->schema.rating_max) {
            snprintf(s->msg, sizeof s->msg, "rate from %d to %d", s->schema.rating_min, s->schema.rating_max);
            return 1;
        }
        store_answer a = record(s->gid, STORE_ANS_RATING);
        a.rating = (int8_t)choice;
        uint64_t seq;
        int rc = append(s, &a, &seq);
        if (rc) { say_error(s, "the rating", rc); return rc; }
        hist_entry *h = hist_push(s);
        h->gid = s->gid;
        h->seq = seq;
        h->rating = choice;
        s->answers++;
        advance(s);
        return 0;
    }
    int q = core_session_question(s);
    if (q < 0) return 1;
    int n_choices = s->schema.q[q].n_answers + core_session_can_abstain(s);
    if (choice < 0 || choice >= n_choices) {
        snprintf(s->msg, sizeof s->msg, "answers are 1 to %d", n_choices);
        return 1;
    }
    s->path_q[s->n_path] = q;
    s->path_a[s->n_path] = choice;
    s->n_path++;
    s->given[q] = choice;
    /* can't tell (choice n_answers) leads to none of the questions that
     * follow from the question's answers; the others are still asked */
    if (core_schema_next(&s->schema, s->given) >= 0 && s->n_path < STORE_STEPS_MAX) return 0;
    int rc = commit_tree(s);
    if (rc) {
        say_error(s, "the answer", rc);
        s->n_path--;
        s->given[q] = -1;
        return rc;
    }
    advance(s);
    return 0;
}

/* ---- pages: many galaxies answered at once (core/grid.h), one write */

typedef struct { store_answer *a; uint64_t *seq; int n; } page_ctx;

static int page_cb(zs_txn *txn, void *ctx)
{
    page_ctx *c = ctx;
    for (int i = 0; i < c->n; i++) {
        int rc = store_answer_append(txn, &c->a[i], &c->seq[i]);
        if (rc) return rc;
    }
    return 0;
}

/* Writes the n records a[] in one transaction (all or none); seq[] gets theirs. */
static int append_all(core_session *s, store_answer *a, uint64_t *seq, int n)
{
    for (int i = 0; i < n; i++) stamp(s, &a[i]);
    page_ctx c = {a, seq, n};
    int rc = store_write(s->st, page_cb, &c);
    if (rc == 0) core_session_refresh(s);
    return rc;
}

int core_session_pageable(const core_session *s)
{
    if (s->schema.kind == CORE_TASK_RATING) return 1;
    if (s->schema.kind != CORE_TASK_TREE || s->schema.n_questions < 1) return 0;
    int given[CORE_SCHEMA_MAX_Q];
    for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
    int q = core_schema_next(&s->schema, given);
    if (q < 0) return 0;
    for (int a = 0; a < s->schema.q[q].n_answers; a++) {   /* every answer ends the tree */
        given[q] = a;
        if (core_schema_next(&s->schema, given) >= 0) return 0;
    }
    return 1;
}

int core_session_answer_page(core_session *s, const uint32_t *gids, const int *choice, int n)
{
    s->msg[0] = 0;
    if (n <= 0) { snprintf(s->msg, sizeof s->msg, "an empty page: nothing to save"); return 1; }
    if (!core_session_pageable(s)) {
        snprintf(s->msg, sizeof s->msg, "task %s asks more than one question: label it one galaxy at a time", s->schema.name);
        return 1;
    }
    int rating = s->schema.kind == CORE_TASK_RATING, q = -1;
    if (!rating) {
        int given[CORE_SCHEMA_MAX_Q];
        for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
        q = core_schema_next(&s->schema, given);
    }
    for (int i = 0; i < n; i++) {
        int bad = gids[i] == 0 || gids[i] > s->max_gid ||
                  (rating ? choice[i] < s->schema.rating_min || choice[i] > s->schema.rating_max
                          : choice[i] < 0 || choice[i] >= s->schema.q[q].n_answers);
        for (int j = 0; j < i; j++) bad |= gids[j] == gids[i];
        if (bad) {
            snprintf(s->msg, sizeof s->msg, "page entry %d (gid %u, answer %d) is not valid: nothing saved", i + 1, gids[i], choice[i]);
            return 1;
        }
    }
    store_answer *a = xcalloc((size_t)n, sizeof *a);
    uint64_t *seq = xcalloc((size_t)n, sizeof *seq);
    for (int i = 0; i < n; i++) {
        a[i] = record(gids[i], rating ? STORE_ANS_RATING : STORE_ANS_TREE);
        if (rating) {
            a[i].rating = (int8_t)choice[i];
        } else {
            const core_question *cq = &s->schema.q[q];
            a[i].n_steps = 1;
            snprintf(a[i].steps[0].question, sizeof a[i].steps[0].question, "%s", cq->key);
            snprintf(a[i].steps[0].answer, sizeof a[i].steps[0].answer, "%s", cq->answers[choice[i]].key);
        }
    }
    int rc = append_all(s, a, seq, n);
    if (rc) {
        say_error(s, "the page", rc);
    } else {
        s->pages++;
        for (int i = 0; i < n; i++) {
            hist_entry *h = hist_push(s);
            h->gid = gids[i];
            h->seq = seq[i];
            h->page = s->pages;
            if (rating) {
                h->rating = choice[i];
            } else {
                h->n = 1;
                h->q[0] = q;
                h->a[0] = choice[i];
            }
        }
        s->answers += n;
        snprintf(s->msg, sizeof s->msg, "page saved: %d answer%s", n, n == 1 ? "" : "s");
        if (s->gid && (mine(s, s->gid) || !eligible(s, s->gid))) advance(s);
    }
    free(a);
    free(seq);
    return rc;
}

/* Undo of a page: every record of the last page retracted in one write; the
 * page's galaxies come back first, in page order. */
static int undo_page(core_session *s)
{
    int page = s->hist[s->n_hist - 1].page, k = 0;
    while (k < s->n_hist && s->hist[s->n_hist - 1 - k].page == page) k++;
    hist_entry *h = &s->hist[s->n_hist - k];         /* the page's first */
    store_answer *a = xcalloc((size_t)k, sizeof *a);
    uint64_t *seq = xcalloc((size_t)k, sizeof *seq);
    for (int i = 0; i < k; i++) {
        a[i] = record(h[i].gid, STORE_ANS_RETRACT);
        a[i].retracts = h[i].seq;
    }
    int rc = append_all(s, a, seq, k);
    free(a);
    free(seq);
    if (rc) { say_error(s, "the undo", rc); return rc; }
    if (k > s->cap_undone) {
        s->cap_undone = k;
        s->undone = xrealloc(s->undone, (size_t)k * sizeof *s->undone);
        s->undone_choice = xrealloc(s->undone_choice, (size_t)k * sizeof *s->undone_choice);
    }
    for (int i = 0; i < k; i++) {
        s->undone[i] = h[i].gid;
        s->undone_choice[i] = h[i].n > 0 ? h[i].a[0] : h[i].rating;
    }
    s->n_undone = k;
    s->answers -= k;
    s->retractions += k;
    push_pending(s, s->gid);
    for (int i = k - 1; i >= 1; i--) push_pending(s, h[i].gid);
    s->gid = h[0].gid;
    reset_path(s);
    s->n_hist -= k;
    snprintf(s->msg, sizeof s->msg, "page of %d answer%s retracted", k, k == 1 ? "" : "s");
    return 0;
}

int core_session_undone(const core_session *s, uint32_t *gids, int *choice, int max)
{
    int n = s->n_undone < max ? s->n_undone : max;
    for (int i = 0; i < n; i++) {
        gids[i] = s->undone[i];
        choice[i] = s->undone_choice[i];
    }
    return n;
}

int core_session_undo(core_session *s)
{
    s->msg[0] = 0;
    s->n_undone = 0;
    if (s->n_path > 0) {
        s->n_path--;
        s->given[s->path_q[s->n_path]] = -1;
        snprintf(s->msg, sizeof s->msg, "back one question");
        return 0;
    }
    if (s->n_hist == 0) {
        snprintf(s->msg, sizeof s->msg, "nothing to undo");
        return 1;
    }
    hist_entry *h = &s->hist[s->n_hist - 1];
    if (h->page) return undo_page(s);
    if (h->skip) {
        if (h->gid <= s->max_gid) s->skipped[h->gid] = 0;
        snprintf(s->msg, sizeof s->msg, "back to the skipped galaxy");
    } else {
        store_answer a = record(h->gid, STORE_ANS_RETRACT);
        a.retracts = h->seq;
        uint64_t seq;
        int rc = append(s, &a, &seq);
        if (rc) { say_error(s, "the undo", rc); return rc; }
        s->answers--;
        s->retractions++;
        snprintf(s->msg, sizeof s->msg, "previous answer retracted");
    }
    push_pending(s, s->gid);
    s->gid = h->gid;
    reset_path(s);
    /* back at the galaxy's last question: its path minus the last step */
    for (int i = 0; i + 1 < h->n; i++) {
        s->path_q[i] = h->q[i];
        s->path_a[i] = h->a[i];
        s->given[h->q[i]] = h->a[i];
        s->n_path++;
    }
    s->n_hist--;
    return 0;
}

int core_session_skip(core_session *s)
{
    s->msg[0] = 0;
    if (s->gid == 0) return 1;
    store_answer a = record(s->gid, STORE_ANS_SKIP);
    uint64_t seq;
    int rc = append(s, &a, &seq);
    if (rc) { say_error(s, "the skip", rc); return rc; }
    s->skipped[s->gid] = 1;
    hist_entry *h = hist_push(s);
    h->gid = s->gid;
    h->skip = 1;
    advance(s);
    return 0;
}

int core_session_favourite(core_session *s)
{
    s->msg[0] = 0;
    if (s->gid == 0) return 1;
    uint64_t seq;
    uint64_t star = star_seq(s, s->gid);
    int starred = star != 0;
    store_answer a = record(s->gid, starred ? STORE_ANS_RETRACT : STORE_ANS_FAVOURITE);
    a.retracts = star;
    int rc = append(s, &a, &seq);
    if (rc) { say_error(s, "the star", rc); return rc; }
    snprintf(s->msg, sizeof s->msg, starred ? "unstarred" : "starred");
    return 0;
}

int core_session_jump(core_session *s, uint32_t gid)
{
    s->msg[0] = 0;
    if (gid == 0 || gid > s->max_gid) return 1;
    if (gid == s->gid) return 0;
    push_pending(s, s->gid);
    s->gid = gid;
    reset_path(s);
    if (mine(s, gid)) snprintf(s->msg, sizeof s->msg, "you answered this galaxy already: answering again replaces your answer");
    else if (votes_on(s, gid) >= s->retire) snprintf(s->msg, sizeof s->msg, "this galaxy is retired (%d answers)", votes_on(s, gid));
    return 0;
}

/* ---- queries */

uint32_t core_session_gid(const core_session *s) { return s->gid; }

int core_session_question(const core_session *s)
{
    if (s->gid == 0 || s->schema.kind == CORE_TASK_RATING) return -1;
    return core_schema_next(&s->schema, s->given);
}

void core_session_stats_get(const core_session *s, core_session_stats *st)
{
    memset(st, 0, sizeof *st);
    st->total = s->max_gid;
    st->done_user = core_answers_user_galaxies(s->votes, s->me);
    st->answers = s->answers;
    st->retractions = s->retractions;
    st->favourite = s->gid && star_seq(s, s->gid) != 0;
    st->n_path = s->n_path;
}

uint32_t core_session_available(const core_session *s)
{
    uint32_t n = 0;
    for (uint32_t g = 1; g <= s->max_gid; g++) n += (uint32_t)eligible(s, g);
    return n;
}

int core_session_can_abstain(const core_session *s)
{
    int q = s->schema.kind == CORE_TASK_TREE ? core_session_question(s) : -1;
    return q >= 0 && s->schema.q[q].n_answers == 2;
}

int core_session_path(const core_session *s, int *q, int *a, int max)
{
    int n = s->n_path < max ? s->n_path : max;
    for (int i = 0; i < n; i++) { q[i] = s->path_q[i]; a[i] = s->path_a[i]; }
    return n;
}

int core_session_answered(const core_session *s, uint32_t gid)
{
    return gid >= 1 && gid <= s->max_gid && mine(s, gid);
}

const char *core_session_message(const core_session *s) { return s->msg; }

int core_session_open(core_session **out, zs_store *st, const core_schema *schema,
                     const core_session_opts *o, char *err, size_t errlen)
{
    core_session *s = xcalloc(1, sizeof *s);
    s->st = st;
    s->schema = *schema;
    s->retire = o && o->retire > 0 ? o->retire : 5;
    snprintf(s->user, sizeof s->user, "%s", o && o->user && *o->user ? o->user : store_current_user());
    s->votes = core_answers_new(want_task, s);
    s->stars = core_answers_new(want_star, s);
    s->me = core_answers_user_id(s->votes, s->user);
    s->me_star = core_answers_user_id(s->stars, s->user);
    reset_path(s);
    grow_gids(s, 0);
    int rc = core_session_refresh(s);
    if (rc) {
        snprintf(err, errlen, "reading the answers: %s", store_strerror(rc));
        core_session_free(s);
        *out = NULL;
        return rc;
    }
    core_session_set_queue(s, NULL, 0);
    *out = s;
    return 0;
}

void core_session_free(core_session *s)
{
    if (!s) return;
    core_answers_free(s->votes);
    core_answers_free(s->stars);
    free(s->skipped);
    free(s->queue);
    free(s->pending);
    free(s->hist);
    free(s->undone);
    free(s->undone_choice);
    free(s->others);
    free(s->claimed);
    free(s);
}
