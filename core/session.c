/*
 * session.c - the labeling rules: who sees which galaxy, and every write a labeler makes
 * (see session.h for the rules).  No terminal here: tests drive it directly.
 *
 * Counts come from the answers log: one walk at open, then an incremental
 * walk from the last seq seen after each commit and on the screen's idle
 * tick, so other labelers' answers retire galaxies while this one runs.  An
 * index (seq -> galaxy, kind, whether it is ours) of this task's answers lets
 * a retraction find what it retracts without a second lookup.
 */
#include "core/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define CLAIMS_MAX 256        /* labelers of one task at once, as far as claims go */
#define CLAIM_TTL_S 900       /* seconds a claim counts without being renewed */

enum { IDX_ANSWER = 1, IDX_FAV = 2 };

typedef struct {
    uint64_t seq;
    uint32_t gid;
    uint8_t  what;      /* IDX_* */
    uint8_t  mine;
    uint8_t  retracted;
} idx_entry;

typedef struct {
    uint32_t gid;
    uint64_t seq;       /* the committed record; 0 for a skip */
    int      skip;
    int      n;         /* steps of the record (tree) */
    int      q[STORE_STEPS_MAX], a[STORE_STEPS_MAX];
    int      rating;
} hist_entry;

struct core_session {
    zs_store *st;
    core_schema schema;
    char user[STORE_USER_MAX];
    int retire;

    uint32_t max_gid;
    uint16_t *n_total;      /* (max_gid + 1) net answers by everyone */
    uint16_t *n_mine;       /* (max_gid + 1) net answers by this user */
    uint64_t *fav_seq;      /* (max_gid + 1) this user's live FAVOURITE record, 0 = none */
    uint8_t  *skipped;      /* (max_gid + 1) skipped in this session */
    uint32_t done_user;     /* gids with n_mine > 0 */
    uint64_t seen_seq;      /* log read up to here */

    idx_entry *idx;         /* this task's answers and this user's favourites, by seq */
    size_t n_idx, cap_idx;

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
    char msg[200];

    uint32_t others[CLAIMS_MAX];   /* galaxies other labelers of this task have on screen now */
    int n_others;
    uint32_t claimed;               /* the galaxy this session's claim names (0 = none) */
    double claim_t;                 /* when it was written (core_mono_s) */
};

/* ---- claims: which galaxy each labeler has on screen
 *
 * meta "claims/<task>" holds one line per labeler, "user gid unix-time",
 * rewritten in a write transaction (LMDB serialises them) whenever the
 * galaxy on screen changes.  A galaxy someone else is answering now counts
 * towards its retirement, so with --retire 1 two volunteers are not shown
 * the same galaxy.  A claim older than CLAIM_TTL_S (a labeler left idle, or
 * killed) no longer counts. */

static void advance(core_session *s);

static void claims_key(const core_session *s, char *k, size_t n) { snprintf(k, n, "claims/%s", s->schema.name); }

static void load_claims(core_session *s)
{
    s->n_others = 0;
    zs_txn *txn;
    if (store_read_begin(s->st, &txn) != 0) return;
    char key[64], *v = NULL;
    claims_key(s, key, sizeof key);
    long now = (long)(core_now_us() / 1000000);
    if (store_meta_get(txn, key, &v) == 0) {
        char *save = NULL;
        for (char *ln = strtok_r(v, "\n", &save); ln && s->n_others < CLAIMS_MAX; ln = strtok_r(NULL, "\n", &save)) {
            char user[STORE_USER_MAX];
            unsigned long gid;
            long t;
            if (sscanf(ln, "%31s %lu %ld", user, &gid, &t) != 3) continue;
            if (strcmp(user, s->user) == 0 || now - t > CLAIM_TTL_S || gid == 0) continue;
            s->others[s->n_others++] = (uint32_t)gid;
        }
        free(v);
    }
    store_read_end(txn);
}

static int held_by_others(const core_session *s, uint32_t gid)
{
    int n = 0;
    for (int i = 0; i < s->n_others; i++) n += s->others[i] == gid;
    return n;
}

typedef struct { core_session *s; uint32_t gid; int others_on; } claim_ctx;

static int claim_cb(zs_txn *txn, void *p)
{
    claim_ctx *c = p;
    char key[64], *v = NULL;
    claims_key(c->s, key, sizeof key);
    int rc = store_meta_get(txn, key, &v);
    if (rc && rc != STORE_ENOTFOUND) return rc;
    long now = (long)(core_now_us() / 1000000);
    size_t cap = (v ? strlen(v) : 0) + 128, len = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    int kept = 0;
    if (v) {
        char *save = NULL;
        for (char *ln = strtok_r(v, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
            char user[STORE_USER_MAX];
            unsigned long gid;
            long t;
            if (sscanf(ln, "%31s %lu %ld", user, &gid, &t) != 3) continue;
            if (strcmp(user, c->s->user) == 0 || now - t > CLAIM_TTL_S || kept >= CLAIMS_MAX - 1) continue;
            len += (size_t)snprintf(out + len, cap - len, "%s\n", ln);
            kept++;
            c->others_on += c->gid && gid == c->gid;
        }
    }
    if (c->gid) snprintf(out + len, cap - len, "%s %u %ld\n", c->s->user, c->gid, now);
    rc = store_meta_put(txn, key, out);
    free(out);
    free(v);
    return rc;
}

int core_session_claim(core_session *s, uint32_t gid)
{
    double now = core_mono_s();
    /* unchanged: renewed a few times within the TTL while it stays on screen */
    if ((gid == s->claimed && (gid == 0 || now - s->claim_t < CLAIM_TTL_S / 3)) || store_is_readonly(s->st)) return 0;
    claim_ctx c = {s, gid, 0};
    if (store_write(s->st, claim_cb, &c) != 0) return 0;
    s->claimed = gid;
    s->claim_t = now;
    /* two labelers shown the same galaxy in the same instant: the writes are
     * serialised, and the later one, not yet answering it, moves on */
    if (gid && gid == s->gid && s->n_path == 0 && gid <= s->max_gid && s->n_total[gid] + c.others_on >= s->retire) {
        advance(s);
        return s->gid != gid;
    }
    return 0;
}

/* ---- counts from the log */

static void grow_gids(core_session *s, uint32_t max)
{
    if (max <= s->max_gid && s->n_total) return;
    size_t old = s->n_total ? (size_t)s->max_gid + 1 : 0, n = (size_t)max + 1;
    s->n_total = xrealloc(s->n_total, n * sizeof *s->n_total);
    s->n_mine = xrealloc(s->n_mine, n * sizeof *s->n_mine);
    s->fav_seq = xrealloc(s->fav_seq, n * sizeof *s->fav_seq);
    s->skipped = xrealloc(s->skipped, n);
    memset(s->n_total + old, 0, (n - old) * sizeof *s->n_total);
    memset(s->n_mine + old, 0, (n - old) * sizeof *s->n_mine);
    memset(s->fav_seq + old, 0, (n - old) * sizeof *s->fav_seq);
    memset(s->skipped + old, 0, n - old);
    s->max_gid = max;
}

static idx_entry *idx_find(core_session *s, uint64_t seq)
{
    size_t lo = 0, hi = s->n_idx;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->idx[mid].seq < seq) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n_idx && s->idx[lo].seq == seq ? &s->idx[lo] : NULL;
}

static void idx_add(core_session *s, uint64_t seq, uint32_t gid, int what, int mine)
{
    if (s->n_idx == s->cap_idx) {
        s->cap_idx = s->cap_idx ? s->cap_idx * 2 : 1024;
        s->idx = xrealloc(s->idx, s->cap_idx * sizeof *s->idx);
    }
    s->idx[s->n_idx++] = (idx_entry){.seq = seq, .gid = gid, .what = (uint8_t)what, .mine = (uint8_t)mine};
}

static void count(core_session *s, uint32_t gid, int mine, int delta)
{
    if (gid == 0 || gid > s->max_gid) return;
    if (delta > 0 || s->n_total[gid] > 0) s->n_total[gid] = (uint16_t)(s->n_total[gid] + delta);
    if (!mine) return;
    if (delta > 0) {
        if (s->n_mine[gid]++ == 0) s->done_user++;
    } else if (s->n_mine[gid] > 0) {
        if (--s->n_mine[gid] == 0) s->done_user--;
    }
}

static int walk_fn(const store_answer *a, void *ctx)
{
    core_session *s = ctx;
    s->seen_seq = a->seq;
    int mine = strcmp(a->user, s->user) == 0;
    switch (a->kind) {
    case STORE_ANS_TREE:
    case STORE_ANS_RATING:
        if (strcmp(a->task, s->schema.name) != 0) break;
        idx_add(s, a->seq, a->gid, IDX_ANSWER, mine);
        count(s, a->gid, mine, +1);
        break;
    case STORE_ANS_FAVOURITE:
        if (!mine) break;
        idx_add(s, a->seq, a->gid, IDX_FAV, 1);
        if (a->gid <= s->max_gid) s->fav_seq[a->gid] = a->seq;
        break;
    case STORE_ANS_RETRACT: {
        idx_entry *e = idx_find(s, a->retracts);
        if (!e || e->retracted) break;
        e->retracted = 1;
        if (e->what == IDX_ANSWER) count(s, e->gid, e->mine, -1);
        else if (e->gid <= s->max_gid && s->fav_seq[e->gid] == e->seq) s->fav_seq[e->gid] = 0;
        break;
    }
    default:
        break;
    }
    return 0;
}

int core_session_refresh(core_session *s)
{
    zs_txn *txn;
    int rc = store_read_begin(s->st, &txn);
    if (rc) return rc;
    uint32_t max = store_galaxy_max(txn);
    if (max > s->max_gid) grow_gids(s, max);
    rc = store_answer_each(txn, s->seen_seq + 1, walk_fn, s);
    store_read_end(txn);
    return rc;
}

/* ---- choosing galaxies */

static int eligible(const core_session *s, uint32_t gid)
{
    return gid >= 1 && gid <= s->max_gid && s->n_mine[gid] == 0 &&
           s->n_total[gid] + held_by_others(s, gid) < s->retire && !s->skipped[gid];
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

int core_session_peek(const core_session *s, uint32_t *out, int k)
{
    int n = 0;
    for (int i = s->n_pending - 1; i >= 0 && n < k; i--) {
        uint32_t g = s->pending[i];
        int dup = g == s->gid;
        for (int j = 0; j < n; j++) dup |= out[j] == g;
        if (!dup && eligible(s, g)) out[n++] = g;
    }
    for (int i = s->qpos; i < s->n_queue && n < k; i++) {
        uint32_t g = s->queue[i];
        int dup = g == s->gid;
        for (int j = 0; j < n; j++) dup |= out[j] == g;
        if (!dup && eligible(s, g)) out[n++] = g;
    }
    return n;
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

/* Appends a record of kind for the current user and task; *seq gets its seq. */
static int append(core_session *s, store_answer *a, uint64_t *seq)
{
    append_ctx c;
    c.a = *a;
    c.seq = 0;
    snprintf(c.a.user, sizeof c.a.user, "%s", s->user);
    snprintf(c.a.task, sizeof c.a.task, "%s", s->schema.name);
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
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = s->gid;
    a.kind = STORE_ANS_TREE;
    a.n_steps = s->n_path;
    for (int i = 0; i < s->n_path; i++) {
        const core_question *q = &s->schema.q[s->path_q[i]];
        snprintf(a.steps[i].question, sizeof a.steps[i].question, "%s", q->key);
        snprintf(a.steps[i].answer, sizeof a.steps[i].answer, "%s", q->answers[s->path_a[i]].key);
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
        store_answer a;
        memset(&a, 0, sizeof a);
        a.gid = s->gid;
        a.kind = STORE_ANS_RATING;
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
    if (choice < 0 || choice >= s->schema.q[q].n_answers) {
        snprintf(s->msg, sizeof s->msg, "answers are 1 to %d", s->schema.q[q].n_answers);
        return 1;
    }
    s->path_q[s->n_path] = q;
    s->path_a[s->n_path] = choice;
    s->n_path++;
    s->given[q] = choice;
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

int core_session_undo(core_session *s)
{
    s->msg[0] = 0;
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
    if (h->skip) {
        if (h->gid <= s->max_gid) s->skipped[h->gid] = 0;
        snprintf(s->msg, sizeof s->msg, "back to the skipped galaxy");
    } else {
        store_answer a;
        memset(&a, 0, sizeof a);
        a.gid = h->gid;
        a.kind = STORE_ANS_RETRACT;
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
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = s->gid;
    a.kind = STORE_ANS_SKIP;
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
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = s->gid;
    uint64_t seq;
    int starred = s->fav_seq[s->gid] != 0;
    if (starred) {
        a.kind = STORE_ANS_RETRACT;
        a.retracts = s->fav_seq[s->gid];
    } else {
        a.kind = STORE_ANS_FAVOURITE;
    }
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
    if (s->n_mine[gid]) snprintf(s->msg, sizeof s->msg, "you answered this galaxy already: answering adds another answer");
    else if (s->n_total[gid] >= s->retire) snprintf(s->msg, sizeof s->msg, "this galaxy is retired (%d answers)", s->n_total[gid]);
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
    st->done_user = s->done_user;
    st->answers = s->answers;
    st->retractions = s->retractions;
    st->favourite = s->gid && s->fav_seq[s->gid] != 0;
    st->n_path = s->n_path;
}

uint32_t core_session_available(const core_session *s)
{
    uint32_t n = 0;
    for (uint32_t g = 1; g <= s->max_gid; g++) n += (uint32_t)eligible(s, g);
    return n;
}

int core_session_path(const core_session *s, int *q, int *a, int max)
{
    int n = s->n_path < max ? s->n_path : max;
    for (int i = 0; i < n; i++) { q[i] = s->path_q[i]; a[i] = s->path_a[i]; }
    return n;
}

int core_session_answered(const core_session *s, uint32_t gid)
{
    return gid >= 1 && gid <= s->max_gid && s->n_mine[gid] > 0;
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
    free(s->n_total);
    free(s->n_mine);
    free(s->fav_seq);
    free(s->skipped);
    free(s->idx);
    free(s->queue);
    free(s->pending);
    free(s->hist);
    free(s);
}
