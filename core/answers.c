/*
 * answers.c - the answers that count (see answers.h): one counter, fed the
 * answer log in order, that both core_answers_counted and the labeler's
 * session use.
 *
 * A vote is (galaxy, user, kind), keyed gid << 32 | user << 1 | kind (0 is
 * never a key: every gid is >= 1).  Each wanted answer is an entry (kept in
 * seq order, so a retraction finds its answer by binary search) linked to
 * the previous entry of its vote; the vote keeps its newest entry and how
 * many of its entries are not retracted.  A vote counts while that number
 * is > 0, and the answer that counts is the newest entry not retracted.
 * Per galaxy the counter keeps the votes that count, per user the galaxies
 * where one of theirs does, both updated as votes start or stop counting.
 *
 * Foreign records (answers.h) are skipped before any of that.  A user
 * name's uid is the uid of its first record of the second form; the rule
 * reads the log alone, never this machine's user database, so a copy of
 * the workspace counts the same anywhere.
 */
#include "core/answers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct {
    uint64_t seq;
    uint32_t vote;      /* index into votes */
    int32_t  prev;      /* the vote's previous entry, -1 none */
    uint32_t uid;       /* the record's writer (STORE_UID_NONE: first form) */
    uint8_t  retracted;
    uint8_t  counts;    /* core_answers_counted: this one is emitted */
} entry;

typedef struct {
    uint64_t key;
    int32_t  head;      /* newest entry */
    uint32_t n_live;    /* entries not retracted */
} vote;

struct core_answers {
    core_answers_want_fn want;
    void *ctx;
    uint64_t last_seq;

    entry *e;
    size_t n_e, cap_e;
    vote *v;
    size_t n_v, cap_v;
    uint32_t *slot;     /* (cap_slot) open addressing: vote index + 1, 0 empty */
    size_t cap_slot;

    uint32_t *on;       /* (cap_gid) votes that count per gid */
    size_t cap_gid;

    char **users;       /* interned names (the map borrows them) */
    uint32_t *user_gal; /* (n_users) galaxies where the user has a vote that counts */
    uint32_t *user_uid; /* (n_users) the name's uid, STORE_UID_NONE until a second-form record */
    int n_users, cap_users;
    core_strmap umap;

    int seen_v2;        /* a record of the second form was taken */
    uint64_t n_foreign;
    core_answers_foreign_fn on_foreign;
    void *foreign_ctx;
};

static uint64_t vote_key(uint32_t gid, int user, int kind)
{
    return ((uint64_t)gid << 32) | ((uint64_t)(uint32_t)user << 1) | (uint64_t)(kind & 1);
}

static size_t slot_of(uint64_t key, size_t cap) { return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1); }

static const vote *vote_find(const core_answers *c, uint64_t key)
{
    if (!c->cap_slot) return NULL;
    for (size_t h = slot_of(key, c->cap_slot); c->slot[h]; h = (h + 1) & (c->cap_slot - 1))
        if (c->v[c->slot[h] - 1].key == key) return &c->v[c->slot[h] - 1];
    return NULL;
}

/* The vote of key, added (counting nothing yet) when new. */
static uint32_t vote_get(core_answers *c, uint64_t key)
{
    if (2 * (c->n_v + 1) > c->cap_slot) {
        size_t cap = c->cap_slot ? c->cap_slot * 2 : 1024;
        uint32_t *slot = xcalloc(cap, sizeof *slot);
        for (size_t i = 0; i < c->n_v; i++) {
            size_t h = slot_of(c->v[i].key, cap);
            while (slot[h]) h = (h + 1) & (cap - 1);
            slot[h] = (uint32_t)i + 1;
        }
        free(c->slot);
        c->slot = slot;
        c->cap_slot = cap;
    }
    size_t h = slot_of(key, c->cap_slot);
    for (; c->slot[h]; h = (h + 1) & (c->cap_slot - 1))
        if (c->v[c->slot[h] - 1].key == key) return c->slot[h] - 1;
    if (c->n_v == c->cap_v) {
        c->cap_v = c->cap_v ? c->cap_v * 2 : 1024;
        c->v = xrealloc(c->v, c->cap_v * sizeof *c->v);
    }
    c->v[c->n_v] = (vote){.key = key, .head = -1, .n_live = 0};
    c->slot[h] = (uint32_t)c->n_v + 1;
    return (uint32_t)c->n_v++;
}

int core_answers_user_id(core_answers *c, const char *user)
{
    int k = core_strmap_get(&c->umap, user);
    if (k >= 0) return k;
    if (c->n_users == c->cap_users) {
        c->cap_users = c->cap_users ? c->cap_users * 2 : 16;
        c->users = xrealloc(c->users, (size_t)c->cap_users * sizeof *c->users);
        c->user_gal = xrealloc(c->user_gal, (size_t)c->cap_users * sizeof *c->user_gal);
        c->user_uid = xrealloc(c->user_uid, (size_t)c->cap_users * sizeof *c->user_uid);
    }
    c->users[c->n_users] = xstrdup(user);
    c->user_gal[c->n_users] = 0;
    c->user_uid[c->n_users] = STORE_UID_NONE;
    core_strmap_put(&c->umap, c->users[c->n_users], c->n_users);
    return c->n_users++;
}

/* A vote starts (+1) or stops (-1) counting. */
static void vote_turns(core_answers *c, const vote *v, int delta)
{
    uint32_t gid = (uint32_t)(v->key >> 32);
    int user = (int)((v->key >> 1) & 0x7FFFFFFF);
    if (gid >= c->cap_gid) {
        size_t cap = c->cap_gid ? c->cap_gid : 1024;
        while (cap <= gid) cap *= 2;
        c->on = xrealloc(c->on, cap * sizeof *c->on);
        memset(c->on + c->cap_gid, 0, (cap - c->cap_gid) * sizeof *c->on);
        c->cap_gid = cap;
    }
    c->on[gid] = (uint32_t)((int64_t)c->on[gid] + delta);
    /* the user's galaxy changes only when their other kind does not count there */
    const vote *other = vote_find(c, v->key ^ 1);
    if (!other || other->n_live == 0) c->user_gal[user] = (uint32_t)((int64_t)c->user_gal[user] + delta);
}

static entry *entry_find(core_answers *c, uint64_t seq)
{
    size_t lo = 0, hi = c->n_e;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->e[mid].seq < seq) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->n_e && c->e[lo].seq == seq ? &c->e[lo] : NULL;
}

/* Why a is a record no zoosh command writes (into why), or NULL.  Binds a
 * user name to the uid of its first second-form record. */
static const char *foreign_why(core_answers *c, const store_answer *a, int user, char *why, size_t cap)
{
    unsigned long long seq = (unsigned long long)a->seq;
    if (a->uid == STORE_UID_NONE) {
        if (!c->seen_v2) return NULL;
        snprintf(why, cap, "answer %llu is of the old record form, which no zoosh writes after the new one", seq);
        return why;
    }
    c->seen_v2 = 1;
    if (c->user_uid[user] == STORE_UID_NONE) c->user_uid[user] = a->uid;
    else if (c->user_uid[user] != a->uid) {
        snprintf(why, cap, "answer %llu is by user name '%s' but was written by uid %u; that name's answers are by uid %u",
                 seq, a->user, a->uid, c->user_uid[user]);
        return why;
    }
    if (a->kind != STORE_ANS_RETRACT) return NULL;
    const entry *e = entry_find(c, a->retracts);
    if (!e) return NULL;
    int target = (int)((c->v[e->vote].key >> 1) & 0x7FFFFFFF);
    if (target != user || (e->uid != STORE_UID_NONE && e->uid != a->uid)) {
        snprintf(why, cap, "answer %llu by '%s' retracts answer %llu by '%s': only an answer's author retracts it", seq,
                 a->user, (unsigned long long)a->retracts, c->users[target]);
        return why;
    }
    return NULL;
}

void core_answers_feed(core_answers *c, const store_answer *a)
{
    if (a->seq <= c->last_seq) return;
    c->last_seq = a->seq;
    char why[STORE_USER_MAX * 2 + 200];
    if (foreign_why(c, a, core_answers_user_id(c, a->user), why, sizeof why)) {
        c->n_foreign++;
        if (c->on_foreign) c->on_foreign(a, why, c->foreign_ctx);
        return;
    }
    if (a->kind == STORE_ANS_RETRACT) {
        entry *e = entry_find(c, a->retracts);
        if (!e || e->retracted) return;
        e->retracted = 1;
        vote *v = &c->v[e->vote];
        if (--v->n_live == 0) vote_turns(c, v, -1);
        return;
    }
    if (a->gid == 0) return;
    int kind = c->want(a, c->ctx);
    if (kind < 0) return;
    uint32_t vi = vote_get(c, vote_key(a->gid, core_answers_user_id(c, a->user), kind));
    if (c->n_e == c->cap_e) {
        c->cap_e = c->cap_e ? c->cap_e * 2 : 1024;
        c->e = xrealloc(c->e, c->cap_e * sizeof *c->e);
    }
    vote *v = &c->v[vi];
    c->e[c->n_e] = (entry){.seq = a->seq, .vote = vi, .prev = v->head, .uid = a->uid};
    v->head = (int32_t)c->n_e++;
    if (v->n_live++ == 0) vote_turns(c, v, +1);
}

static int feed_fn(const store_answer *a, void *ctx)
{
    core_answers_feed(ctx, a);
    return 0;
}

int core_answers_read(core_answers *c, zs_txn *txn) { return store_answer_each(txn, c->last_seq + 1, feed_fn, c); }

uint64_t core_answers_last_seq(const core_answers *c) { return c->last_seq; }

void core_answers_on_foreign(core_answers *c, core_answers_foreign_fn fn, void *ctx)
{
    c->on_foreign = fn;
    c->foreign_ctx = ctx;
}

uint64_t core_answers_foreign(const core_answers *c) { return c->n_foreign; }

/* The entry that counts for v, -1 when none. */
static int32_t vote_latest(const core_answers *c, const vote *v)
{
    int32_t i = v->head;
    while (i >= 0 && c->e[i].retracted) i = c->e[i].prev;
    return i;
}

int core_answers_votes(const core_answers *c, uint32_t gid) { return gid < c->cap_gid ? (int)c->on[gid] : 0; }

uint64_t core_answers_latest_seq(const core_answers *c, uint32_t gid, int user, int kind)
{
    if (user < 0 || gid == 0) return 0;
    const vote *v = vote_find(c, vote_key(gid, user, kind));
    int32_t i = v ? vote_latest(c, v) : -1;
    return i >= 0 ? c->e[i].seq : 0;
}

int core_answers_user_counts(const core_answers *c, uint32_t gid, int user)
{
    if (user < 0 || gid == 0 || gid >= c->cap_gid || c->on[gid] == 0) return 0;
    for (int kind = 0; kind < 2; kind++) {
        const vote *v = vote_find(c, vote_key(gid, user, kind));
        if (v && v->n_live > 0) return 1;
    }
    return 0;
}

uint32_t core_answers_user_galaxies(const core_answers *c, int user)
{
    return user >= 0 && user < c->n_users ? c->user_gal[user] : 0;
}

core_answers *core_answers_new(core_answers_want_fn want, void *ctx)
{
    core_answers *c = xcalloc(1, sizeof *c);
    c->want = want;
    c->ctx = ctx;
    return c;
}

void core_answers_free(core_answers *c)
{
    if (!c) return;
    free(c->e);
    free(c->v);
    free(c->slot);
    free(c->on);
    for (int k = 0; k < c->n_users; k++) free(c->users[k]);
    free(c->users);
    free(c->user_gal);
    free(c->user_uid);
    core_strmap_free(&c->umap);
    free(c);
}

int core_answers_abstains(const store_answer *a)
{
    if (a->kind != STORE_ANS_TREE) return 0;
    for (int i = 0; i < a->n_steps && i < STORE_STEPS_MAX; i++)
        if (strcmp(a->steps[i].answer, CORE_ANSWERS_CANT_TELL) == 0) return 1;
    return 0;
}

/* ---- the whole log at once */

typedef struct {
    const core_answers *c;
    size_t pos;         /* next entry to compare with the log */
    int (*fn)(const store_answer *a, void *ctx);
    void *ctx;
} emit_walk;

static int emit_fn(const store_answer *a, void *p)
{
    emit_walk *w = p;
    const core_answers *c = w->c;
    while (w->pos < c->n_e && c->e[w->pos].seq < a->seq) w->pos++;
    if (w->pos == c->n_e || c->e[w->pos].seq != a->seq || !c->e[w->pos].counts) return 0;
    w->pos++;
    return w->fn(a, w->ctx);
}

int core_answers_counted(zs_txn *txn, core_answers_want_fn want,
                         int (*fn)(const store_answer *a, void *ctx), void *ctx)
{
    core_answers *c = core_answers_new(want, ctx);
    int rc = core_answers_read(c, txn);
    uint64_t first = 0;
    if (rc == 0) {
        for (size_t i = 0; i < c->n_v; i++) {
            int32_t k = vote_latest(c, &c->v[i]);
            if (k < 0) continue;
            c->e[k].counts = 1;
            if (!first || c->e[k].seq < first) first = c->e[k].seq;
        }
        emit_walk w = {.c = c, .fn = fn, .ctx = ctx};
        if (first) rc = store_answer_each(txn, first, emit_fn, &w);
    }
    core_answers_free(c);
    return rc;
}
