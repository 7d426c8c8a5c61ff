/*
 * workspace.c - a whole workspace at once (see workspace.h): the tasks a
 * new one gets, its statistics, its check and its backup.  The store knows
 * bytes; what a task, an answer's place in its tree or a thumbnail's codec
 * mean is core's, so those halves live here.
 *
 * init records the enabled tasks in meta "tasks" (space-separated; interest
 * is always added) and the text of every custom schema file in meta
 * "schema/<name>", so the workspace needs no outside file later (see
 * core_schema_ws_get).
 */
#include "core/workspace.h"

#include "core/answers.h"
#include "core/learn.h"
#include "core/repr.h"
#include "core/schema.h"
#include "core/thumb.h"
#include "core/util.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TASKS CORE_WORKSPACE_MAX_TASKS

/* ------------------------------------------------------------ init */

int core_workspace_tasks_add(core_workspace_tasks *c, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "interest") == 0) return 0;   /* always there */
    if (c->n == MAX_TASKS - 1) {
        snprintf(err, errlen, "more than %d schemas", MAX_TASKS - 1);
        return CORE_WORKSPACE_EMANY;
    }
    core_schema *s = xmalloc(sizeof *s);
    char e[512];
    int builtin = core_schema_builtin(arg, s) == 0;
    if (!builtin && core_schema_resolve(arg, s, e, sizeof e) != 0) {
        snprintf(err, errlen, "%s", e);
        free(s);
        return CORE_WORKSPACE_EBAD;
    }
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i]->name, s->name) == 0) {
            if (builtin && !c->text[i]) { free(s); return 0; }   /* the same built-in twice */
            snprintf(err, errlen, "two schemas are named '%s' (%s)", s->name, arg);
            free(s);
            return CORE_WORKSPACE_EBAD;
        }
    c->text[c->n] = builtin ? NULL : core_schema_read_text(arg, err, errlen);
    if (!builtin && !c->text[c->n]) {
        free(s);
        return CORE_WORKSPACE_EBAD;
    }
    c->s[c->n++] = s;
    return 0;
}

int core_workspace_tasks_finish(core_workspace_tasks *c, int asked, char *err, size_t errlen)
{
    if (c->n == 0 && !asked) {   /* --schema interest: just that */
        int rc = core_workspace_tasks_add(c, "gz-decals", err, errlen);
        if (rc) return rc;
    }
    c->s[c->n] = xmalloc(sizeof(core_schema));
    core_schema_builtin("interest", c->s[c->n]);
    c->text[c->n++] = NULL;
    return 0;
}

void core_workspace_tasks_free(core_workspace_tasks *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) { free(c->s[i]); free(c->text[i]); }
    memset(c, 0, sizeof *c);
}

static int init_write(zs_txn *txn, void *p)
{
    const core_workspace_tasks *c = p;
    for (int i = 0; i < c->n; i++) {
        int added, rc = core_schema_ws_add(txn, c->s[i], c->text[i], &added, NULL, 0);
        if (rc) return rc < 0 ? STORE_EINVAL : rc;
    }
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char created[128];
    snprintf(created, sizeof created, "%s by %s", when, store_current_user());
    return store_meta_put(txn, "created", created);
}

int core_workspace_init(zs_store *st, const core_workspace_tasks *t)
{
    return store_write(st, init_write, (void *)t);
}

int core_workspace_name_ok(const char *name, size_t max) { return store_name_ok(name, max); }

/* ------------------------------------------------------------ stats */

typedef struct {
    char name[STORE_TASK_MAX];
    uint64_t answers, retracted, retractions, favourites, skips;
} task_tally;

typedef struct {
    char name[STORE_USER_MAX];
    uint64_t *per_task;     /* (n_tasks) live answers */
    uint64_t total;
} user_tally;

typedef struct {
    /* one entry per seq (index seq-1) */
    uint32_t *gid;          /* (n) */
    uint16_t *task;         /* (n) task index */
    uint16_t *user;         /* (n) user index */
    uint8_t  *kind;         /* (n) answer kind; 0 = retracted */
    uint64_t n, cap;
    task_tally tasks[64];
    int n_tasks;
    user_tally *users;
    int n_users;
    uint64_t retract_bad;
    core_answers *rule;     /* the counting rule's verdict on foreign records */
    uint64_t foreign;
} tally;

static int find_or_add_task(tally *t, const char *name)
{
    for (int i = 0; i < t->n_tasks; i++)
        if (strcmp(t->tasks[i].name, name) == 0) return i;
    if (t->n_tasks == 64) return 63;    /* absurd number of tasks: lump the rest */
    memset(&t->tasks[t->n_tasks], 0, sizeof t->tasks[0]);
    snprintf(t->tasks[t->n_tasks].name, sizeof t->tasks[0].name, "%s", name);
    return t->n_tasks++;
}

static int find_or_add_user(tally *t, const char *name)
{
    for (int i = 0; i < t->n_users; i++)
        if (strcmp(t->users[i].name, name) == 0) return i;
    if (t->n_users >= 65535) return 65534;
    t->users = xrealloc(t->users, (size_t)(t->n_users + 1) * sizeof *t->users);
    user_tally *u = &t->users[t->n_users];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    return t->n_users++;
}

/* Every answer takes part (as one kind): the rule then judges every record. */
static int want_every(const store_answer *a, void *ctx)
{
    (void)a;
    (void)ctx;
    return 0;
}

static int tally_answer(const store_answer *a, void *p)
{
    tally *t = p;
    if (a->seq != t->n + 1) return 0;   /* check's business; stats counts what it can */
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->gid = xrealloc(t->gid, t->cap * sizeof *t->gid);
        t->task = xrealloc(t->task, t->cap * sizeof *t->task);
        t->user = xrealloc(t->user, t->cap * sizeof *t->user);
        t->kind = xrealloc(t->kind, t->cap * sizeof *t->kind);
    }
    uint64_t i = t->n++;
    uint64_t foreign = core_answers_foreign(t->rule);
    core_answers_feed(t->rule, a);
    if (core_answers_foreign(t->rule) != foreign) {   /* counted by nothing: not by stats either */
        t->gid[i] = 0;
        t->task[i] = t->user[i] = 0;
        t->kind[i] = 0;
        t->foreign++;
        return 0;
    }
    t->gid[i] = a->gid;
    t->task[i] = (uint16_t)find_or_add_task(t, a->task);
    t->user[i] = (uint16_t)find_or_add_user(t, a->user);
    t->kind[i] = a->kind;
    task_tally *tt = &t->tasks[t->task[i]];
    switch (a->kind) {
    case STORE_ANS_RETRACT:
        tt->retractions++;
        if (a->retracts >= 1 && a->retracts <= i && t->kind[a->retracts - 1] != 0 &&
            t->kind[a->retracts - 1] != STORE_ANS_RETRACT) {
            task_tally *orig = &t->tasks[t->task[a->retracts - 1]];
            int k = t->kind[a->retracts - 1];
            if (k == STORE_ANS_TREE || k == STORE_ANS_RATING) orig->retracted++;
            /* an unstarred or un-skipped galaxy no longer counts */
            else if (k == STORE_ANS_FAVOURITE && orig->favourites) orig->favourites--;
            else if (k == STORE_ANS_SKIP && orig->skips) orig->skips--;
            t->kind[a->retracts - 1] = 0;
        } else {
            t->retract_bad++;
        }
        break;
    case STORE_ANS_FAVOURITE: tt->favourites++; break;
    case STORE_ANS_SKIP: tt->skips++; break;
    case STORE_ANS_NOTE: break;     /* a note is no answer */
    default: tt->answers++; break;
    }
    return 0;
}

/* What the workspace holds besides its answers: size, counts, feature
 * sets, prior columns and where each enabled task's starting belief
 * comes from. */
static void stats_contents(zs_store *st, zs_txn *txn, char (*tnames)[32], int nt, core_workspace_stats *s)
{
    size_t mapsize;
    store_map_info(st, &mapsize, &s->used);
    store_meta_get(txn, "created", &s->created);
    s->layout = store_layout(txn);
    s->galaxies = store_galaxy_count(txn);
    s->thumbnails = store_thumb_count(txn);

    char **names = NULL;
    int n = 0;
    if (store_featset_list(txn, &names, &n) == 0) {
        char used[STORE_FEATNAME_MAX + 1] = "";
        if (core_repr_pick_set(txn, NULL, used, sizeof used, NULL) != 0) used[0] = 0;
        s->have_featsets = 1;
        s->n_featsets = n;
        s->featsets = xcalloc((size_t)n + 1, sizeof *s->featsets);
        for (int i = 0; i < n; i++) {
            core_workspace_featset *f = &s->featsets[i];
            f->name = names[i];
            store_featset_get(txn, names[i], &f->dim, &f->provenance);
            store_feature_count(txn, names[i], &f->vectors);
            f->used = strcmp(names[i], used) == 0;
        }
        free(names);
    }
    if (store_prior_columns(txn, &names, &n) == 0) {
        s->have_priors = 1;
        s->n_priors = n;
        s->priors = names;
    }
    s->sources = xcalloc((size_t)nt + 1, sizeof *s->sources);
    for (int i = 0; i < nt; i++) {   /* where each task's starting belief comes from */
        core_schema sc;
        char e[256];
        if (core_schema_ws_get(txn, tnames[i], &sc, e, sizeof e) != 0) continue;
        core_workspace_prior *p = &s->sources[s->n_sources++];
        snprintf(p->name, sizeof p->name, "%s", tnames[i]);
        p->n = core_learn_prior_source(txn, &sc, p->source, sizeof p->source);
    }
}

/* The answers log tallied per task and per user, with each task's progress
 * (galaxies with at least one live answer of it) and model. */
static void stats_answers(zs_txn *txn, char (*tnames)[32], int nt, core_workspace_stats *s)
{
    tally t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < nt; i++) find_or_add_task(&t, tnames[i]);
    t.rule = core_answers_new(want_every, NULL);
    int rc = store_answer_each(txn, 1, tally_answer, &t);
    core_answers_free(t.rule);
    s->foreign = t.foreign;
    if (rc) {
        s->answers_rc = rc;
        snprintf(s->answers_detail, sizeof s->answers_detail, "%s", store_last_error());
    }
    s->records = t.n;
    for (int i = 0; i < t.n_tasks; i++) {
        s->live += t.tasks[i].answers - t.tasks[i].retracted;
        s->retractions += t.tasks[i].retractions;
    }

    uint32_t gmax = store_galaxy_max(txn);
    uint8_t *hit = xcalloc((size_t)gmax + 1, 1);   /* (gmax+1) */
    s->n_tasks = t.n_tasks;
    s->tasks = xcalloc((size_t)t.n_tasks + 1, sizeof *s->tasks);
    for (int k = 0; k < t.n_tasks; k++) {
        memset(hit, 0, (size_t)gmax + 1);
        uint32_t done = 0;
        for (uint64_t i = 0; i < t.n; i++) {
            if (t.task[i] != k || (t.kind[i] != STORE_ANS_TREE && t.kind[i] != STORE_ANS_RATING)) continue;
            uint32_t g = t.gid[i];
            if (g <= gmax && !hit[g]) { hit[g] = 1; done++; }
        }
        int enabled = 0;
        for (int i = 0; i < nt; i++) enabled |= strcmp(tnames[i], t.tasks[k].name) == 0;
        task_tally *tt = &t.tasks[k];
        core_workspace_task *o = &s->tasks[k];
        snprintf(o->name, sizeof o->name, "%s", tt->name);
        o->enabled = enabled;
        o->answers = tt->answers - tt->retracted;
        o->retracted = tt->retracted;
        o->retractions = tt->retractions;
        o->favourites = tt->favourites;
        o->skips = tt->skips;
        o->done = done;
        o->has_model = core_model_info_get(txn, tt->name, &o->model) == 0;
    }
    free(hit);

    s->n_users = t.n_users;
    s->users = xcalloc((size_t)t.n_users + 1, sizeof *s->users);
    for (int u = 0; u < t.n_users; u++) {
        snprintf(s->users[u].name, sizeof s->users[u].name, "%s", t.users[u].name);
        s->users[u].per_task = xcalloc((size_t)t.n_tasks + 1, sizeof(uint64_t));
    }
    for (uint64_t i = 0; i < t.n; i++)
        if (t.kind[i] == STORE_ANS_TREE || t.kind[i] == STORE_ANS_RATING) {
            s->users[t.user[i]].per_task[t.task[i]]++;
            s->users[t.user[i]].total++;
        }
    free(t.gid);
    free(t.task);
    free(t.user);
    free(t.kind);
    free(t.users);
}

/* Every stored model blob by key and size. */
static void stats_blobs(zs_txn *txn, core_workspace_stats *s)
{
    char **names = NULL;
    int n = 0;
    if (store_blob_list(txn, STORE_DB_MODELS, &names, &n) != 0) return;
    s->have_blobs = 1;
    s->n_blobs = n;
    s->blobs = xcalloc((size_t)n + 1, sizeof *s->blobs);
    for (int i = 0; i < n; i++) {
        const void *d;
        size_t len = 0;
        store_blob_get(txn, STORE_DB_MODELS, names[i], &d, &len);
        s->blobs[i].key = names[i];
        s->blobs[i].bytes = len;
    }
    free(names);
}

static int stats_walk(zs_store *st, core_workspace_stats *out);
static int walk_dies(zs_store *st, int (*walk)(zs_store *own, void *ctx), void *ctx, char *why, size_t len);

static int stats_probe(zs_store *own, void *ctx)
{
    (void)ctx;
    core_workspace_stats s;
    int rc = stats_walk(own, &s);
    core_workspace_stats_free(&s);
    return rc;
}

int core_workspace_stats_get(zs_store *st, core_workspace_stats *out)
{
    memset(out, 0, sizeof *out);
    if (walk_dies(st, stats_probe, NULL, out->damaged, sizeof out->damaged)) return STORE_ECORRUPT;
    return stats_walk(st, out);
}

static int stats_walk(zs_store *st, core_workspace_stats *out)
{
    memset(out, 0, sizeof *out);
    zs_txn *txn = NULL;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    char tnames[MAX_TASKS][32];
    int nt = core_schema_ws_tasks(txn, tnames, MAX_TASKS);
    stats_contents(st, txn, tnames, nt, out);
    stats_answers(txn, tnames, nt, out);
    stats_blobs(txn, out);
    store_read_end(txn);
    return 0;
}

void core_workspace_stats_free(core_workspace_stats *s)
{
    if (!s) return;
    free(s->created);
    for (int i = 0; i < s->n_featsets; i++) { free(s->featsets[i].name); free(s->featsets[i].provenance); }
    free(s->featsets);
    for (int i = 0; i < s->n_priors; i++) free(s->priors[i]);
    free(s->priors);
    free(s->sources);
    free(s->tasks);
    for (int u = 0; u < s->n_users; u++) free(s->users[u].per_task);
    free(s->users);
    for (int i = 0; i < s->n_blobs; i++) free(s->blobs[i].key);
    free(s->blobs);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------ check */

#define CHECK_REPORT_CAP (1 << 16)

/* The second half of check: answers against their tasks' schemas (the
 * store knows bytes; whether "bar=strong" is an answer of gz-decals is
 * core's business). */
typedef struct {
    zs_txn *txn;
    core_schema *s;          /* (MAX_TASKS) cache */
    char (*names)[32];       /* (MAX_TASKS) */
    int *ok;                 /* (MAX_TASKS) 1 resolvable, 0 not */
    int n;
    char *rep;
    size_t cap, len;
    int problems;
} sem_ctx;

static void sem_problem(sem_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sem_problem(sem_ctx *c, const char *fmt, ...)
{
    c->problems++;
    if (c->problems > 50 || c->len + 2 >= c->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(c->rep + c->len, c->cap - c->len - 1, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    c->len += (size_t)k < c->cap - c->len - 1 ? (size_t)k : c->cap - c->len - 2;
    c->rep[c->len++] = '\n';
    c->rep[c->len] = 0;
}

static const core_schema *sem_schema(sem_ctx *c, const char *task)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->names[i], task) == 0) return c->ok[i] ? &c->s[i] : NULL;
    if (c->n == MAX_TASKS) return NULL;
    int i = c->n++;
    snprintf(c->names[i], 32, "%s", task);
    char err[256];
    c->ok[i] = core_schema_ws_get(c->txn, task, &c->s[i], err, sizeof err) == 0;
    if (!c->ok[i]) sem_problem(c, "tasks: %s", err);
    return c->ok[i] ? &c->s[i] : NULL;
}

static int sem_answer(const store_answer *a, void *p)
{
    sem_ctx *c = p;
    unsigned long long seq = (unsigned long long)a->seq;
    if (a->kind != STORE_ANS_TREE && a->kind != STORE_ANS_RATING) return 0;
    const core_schema *s = sem_schema(c, a->task);
    if (!s) return 0;
    if (a->kind == STORE_ANS_RATING) {
        if (s->kind != CORE_TASK_RATING) sem_problem(c, "answers: answer %llu is a rating for '%s', a decision tree", seq, a->task);
        else if (a->rating < s->rating_min || a->rating > s->rating_max)
            sem_problem(c, "answers: answer %llu rates %d, outside %d..%d", seq, a->rating, s->rating_min, s->rating_max);
        return 0;
    }
    if (s->kind != CORE_TASK_TREE) { sem_problem(c, "answers: answer %llu is a tree path for the rating task '%s'", seq, a->task); return 0; }
    int given[CORE_SCHEMA_MAX_Q];
    for (int i = 0; i < CORE_SCHEMA_MAX_Q; i++) given[i] = -1;
    for (int k = 0; k < a->n_steps; k++) {
        int q = core_schema_question(s, a->steps[k].question);
        int an = q >= 0 ? core_schema_answer(s, q, a->steps[k].answer) : -1;
        if (q < 0) { sem_problem(c, "answers: answer %llu: '%s' is not a question of %s", seq, a->steps[k].question, a->task); return 0; }
        if (an < 0 && s->q[q].n_answers == 2 && strcmp(a->steps[k].answer, CORE_ANSWERS_CANT_TELL) == 0)
            an = 2;     /* can't tell: a yes/no question's abstention (core/answers.h) */
        if (an < 0) { sem_problem(c, "answers: answer %llu: '%s' is not an answer to %s", seq, a->steps[k].answer, a->steps[k].question); return 0; }
        const core_question *qq = &s->q[q];
        if (given[q] >= 0) { sem_problem(c, "answers: answer %llu answers %s twice", seq, qq->key); return 0; }
        if (qq->parent_q >= 0 && given[qq->parent_q] != qq->parent_a) {
            sem_problem(c, "answers: answer %llu: %s is asked only after %s_%s", seq, qq->key, s->q[qq->parent_q].key,
                        s->q[qq->parent_q].answers[qq->parent_a].key);
            return 0;
        }
        given[q] = an;
    }
    return 0;
}

/* Records no zoosh command writes (core_answers' foreign rule, the one
 * the counting applies), and records whose user name and writer's uid are
 * both users of this machine but not the same one. */
typedef struct {
    sem_ctx *c;
    uint32_t uid[32];
    char name[32][STORE_USER_MAX];   /* "" = the uid is no user here */
    int n;
} owner_check;

static const char *uid_name(owner_check *o, uint32_t uid)
{
    for (int i = 0; i < o->n; i++)
        if (o->uid[i] == uid) return o->name[i];
    struct passwd pw, *res = NULL;
    char buf[4096];
    int i = o->n < 32 ? o->n++ : 31;
    o->uid[i] = uid;
    o->name[i][0] = 0;
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 && res) snprintf(o->name[i], STORE_USER_MAX, "%s", res->pw_name);
    return o->name[i];
}

static void sem_foreign(const store_answer *a, const char *why, void *p)
{
    (void)a;
    sem_problem(p, "answers: %s (a record no zoosh command writes: not counted)", why);
}

static int sem_owner(const store_answer *a, void *p)
{
    owner_check *o = p;
    if (a->uid == STORE_UID_NONE) return 0;
    const char *writer = uid_name(o, a->uid);
    if (!*writer || strcmp(writer, a->user) == 0) return 0;
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(a->user, &pw, buf, sizeof buf, &res) != 0 || !res) return 0;   /* not a user here: a copy from elsewhere */
    sem_problem(o->c, "answers: answer %llu is by '%s' (uid %u here) but was written by uid %u ('%s' here)",
                (unsigned long long)a->seq, a->user, (unsigned)res->pw_uid, a->uid, writer);
    return 0;
}

static void sem_records(sem_ctx *c)
{
    core_answers *ca = core_answers_new(want_every, NULL);
    core_answers_on_foreign(ca, sem_foreign, c);
    core_answers_read(ca, c->txn);
    core_answers_free(ca);
    owner_check *o = xcalloc(1, sizeof *o);
    o->c = c;
    store_answer_each(c->txn, 1, sem_owner, o);
    free(o);
}

/* Every coded (JPEG) thumbnail decodes to its recorded size: the store can
 * only see that its bytes are there.  A record the store cannot parse is
 * store_check's to report. */
static void sem_thumbs(sem_ctx *c)
{
    uint32_t max = store_galaxy_max(c->txn);
    for (uint32_t g = 1; g <= max; g++) {
        store_thumb t;
        if (store_thumb_get(c->txn, g, &t) != 0 || t.codec == STORE_THUMB_RAW) continue;
        core_image im = {0};
        char err[200];
        if (core_thumb_decode(t.codec, t.w, t.h, t.bytes, t.len, &im, err, sizeof err) == 0) {
            free(im.px);
            continue;
        }
        store_galaxy gal;
        int named = store_galaxy_get(c->txn, g, &gal) == 0;
        sem_problem(c, "thumbnails: galaxy %s (gid %u): %s (zoosh import --thumbs again to rebuild it)",
                    named ? gal.id_str : "?", g, err);
        if (named) store_galaxy_free(&gal);
    }
}

/* 0 or the number of problems (appended to rep). */
static int check_semantics(zs_store *st, char *rep, size_t cap, size_t len, int thumbs)
{
    sem_ctx c;
    memset(&c, 0, sizeof c);
    c.s = xmalloc(sizeof *c.s * MAX_TASKS);
    c.names = xmalloc(sizeof *c.names * MAX_TASKS);
    c.ok = xcalloc(MAX_TASKS, sizeof *c.ok);
    c.rep = rep;
    c.cap = cap;
    c.len = len;
    if (store_read_begin(st, &c.txn) == 0) {
        char names[MAX_TASKS][32];
        int nt = core_schema_ws_tasks(c.txn, names, MAX_TASKS);
        for (int i = 0; i < nt; i++) sem_schema(&c, names[i]);
        store_answer_each(c.txn, 1, sem_answer, &c);
        sem_records(&c);
        if (thumbs) sem_thumbs(&c);
        store_read_end(c.txn);
    }
    free(c.s);
    free(c.names);
    free(c.ok);
    return c.problems;
}

/* The walk itself, on st, into out->text (cap bytes). */
static int check_walk(zs_store *st, int thumbs, core_workspace_check_report *out, size_t cap)
{
    int rc = store_check(st, out->text, cap, &out->n_problems);
    if (rc == 0 || rc == STORE_ECORRUPT) {
        int ns = check_semantics(st, out->text, cap, strlen(out->text), thumbs);
        out->n_problems += ns;
        if (ns && rc == 0) rc = STORE_ECORRUPT;
    }
    return rc;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

static void damaged_why(char *why, size_t len, int sig)
{
    snprintf(why, len, "data.mdb is damaged: reading it stopped the walk (signal %d, %s); the file holds pages "
             "that do not belong together (a torn copy, stale pages after a power loss): restore it from a backup",
             sig, strsignal(sig));
}

/* 1 when walk, run in a child process on its own read-only environment of
 * st's workspace, dies by a signal (LMDB asserting on a damaged page), with
 * the reason in why; 0 when it ran to its end (or no child could be made:
 * the caller then walks itself, as before). */
static int walk_dies(zs_store *st, int (*walk)(zs_store *own, void *ctx), void *ctx, char *why, size_t len)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        zs_store *own = NULL;
        if (store_open(&own, store_dir(st), STORE_RDONLY) == 0) walk(own, ctx);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFSIGNALED(status)) return 0;
    damaged_why(why, len, WTERMSIG(status));
    return 1;
}

/* After a walk that ran to its end with result rc: store_pages_sane's
 * verdict is added as a problem, and the workspace's damage marker is left
 * when the pages do not belong together (then commands that write refuse
 * it) or removed when they do.  Record problems alone (a forged record)
 * leave writing open: commits go on while check --repair is arranged. */
static int pages_verdict(zs_store *st, core_workspace_check_report *out, size_t cap, int rc)
{
    char why[256];
    int prc = store_pages_sane(st, why, sizeof why);
    int damaged = prc == STORE_ECORRUPT || strstr(out->text, "walk stopped") != NULL;
    if (prc == STORE_ECORRUPT) {
        size_t n = strlen(out->text);
        snprintf(out->text + n, cap - n, "%spages: %s", n && out->text[n - 1] != '\n' ? "\n" : "", why);
        out->n_problems++;
        if (rc == 0) rc = STORE_ECORRUPT;
    }
    if (damaged) store_damage_mark(st, prc == STORE_ECORRUPT ? why : "a database's walk stopped (see zoosh check)");
    else if (rc == 0 || rc == STORE_ECORRUPT) store_damage_clear(st);
    return rc;
}

/* The walk runs in a child process with its own read-only environment (an
 * LMDB environment must not be used across fork): on a damaged data.mdb
 * (stale pages after a power loss, a torn copy) LMDB may assert and abort
 * or fault, and check must then say "damaged" rather than die.  The child
 * sends rc, the problem count and the report through a pipe. */
int core_workspace_check(zs_store *st, int thumbs, core_workspace_check_report *out)
{
    size_t cap = CHECK_REPORT_CAP;
    out->text = xmalloc(cap);
    out->text[0] = 0;
    out->n_problems = 0;
    int fds[2];
    if (pipe(fds) != 0) return check_walk(st, thumbs, out, cap);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return check_walk(st, thumbs, out, cap);
    }
    if (pid == 0) {
        close(fds[0]);
        zs_store *own = NULL;
        int rc = store_open(&own, store_dir(st), STORE_RDONLY);
        if (rc == 0) rc = check_walk(own, thumbs, out, cap);
        /* no store_close: exiting frees it, and nothing here may flush the
         * parent's stdio buffers twice */
        int32_t head[3] = {rc, out->n_problems, (int32_t)strlen(out->text)};
        int ok = write_all(fds[1], head, sizeof head) == 0 && write_all(fds[1], out->text, (size_t)head[2]) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    int32_t head[3] = {0, 0, 0};
    size_t got = read_all(fds[0], head, sizeof head);
    int whole = got == sizeof head && head[2] >= 0 && (size_t)head[2] < cap &&
                read_all(fds[0], out->text, (size_t)head[2]) == (size_t)head[2];
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (whole && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        out->text[head[2]] = 0;
        out->n_problems = head[1];
        return pages_verdict(st, out, cap, head[0]);
    }
    if (WIFSIGNALED(status))
        damaged_why(out->text, cap, WTERMSIG(status));
    else
        snprintf(out->text, cap, "data.mdb could not be walked (the check's reader exited with status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    out->n_problems = 1;
    store_damage_mark(st, out->text);
    return STORE_ECORRUPT;
}

void core_workspace_check_report_free(core_workspace_check_report *r)
{
    if (!r) return;
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ repair */

/* store_salvage in a child process (LMDB may abort on pages that do not
 * belong together, as in check): the child sends rc, the counts and the
 * report through a pipe. */
int core_workspace_repair(zs_store *st, const char *dest, core_workspace_repair_report *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = CHECK_REPORT_CAP;
    out->text = xmalloc(cap);
    out->text[0] = 0;
    int fds[2];
    if (pipe(fds) != 0) return store_salvage(st, dest, out->text, cap, &out->kept, &out->dropped);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return store_salvage(st, dest, out->text, cap, &out->kept, &out->dropped);
    }
    if (pid == 0) {
        close(fds[0]);
        zs_store *own = NULL;
        long kept = 0, dropped = 0;
        int rc = store_open(&own, store_dir(st), STORE_RDONLY);
        if (rc == 0) rc = store_salvage(own, dest, out->text, cap, &kept, &dropped);
        if (rc) snprintf(out->text, cap, "%s", store_last_error());
        int64_t head[4] = {rc, kept, dropped, (int64_t)strlen(out->text)};
        int ok = write_all(fds[1], head, sizeof head) == 0 && write_all(fds[1], out->text, (size_t)head[3]) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    int64_t head[4] = {0, 0, 0, 0};
    size_t got = read_all(fds[0], head, sizeof head);
    int whole = got == sizeof head && head[3] >= 0 && (size_t)head[3] < cap &&
                read_all(fds[0], out->text, (size_t)head[3]) == (size_t)head[3];
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (whole && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        out->text[head[3]] = 0;
        out->kept = head[1];
        out->dropped = head[2];
        return (int)head[0];
    }
    if (WIFSIGNALED(status)) damaged_why(out->text, cap, WTERMSIG(status));
    else snprintf(out->text, cap, "the repair's reader exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char p[STORE_PATH_MAX + 16];   /* what the killed child began */
    snprintf(p, sizeof p, "%s/data.mdb", dest);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dest);
    unlink(p);
    return STORE_ECORRUPT;
}

void core_workspace_repair_report_free(core_workspace_repair_report *r)
{
    if (!r) return;
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ backup */

int core_workspace_backup(zs_store *st, const char *dest, double *bytes, double *seconds)
{
    *bytes = 0;
    *seconds = 0;
    double t0 = core_mono_s();
    int rc = store_backup(st, dest);
    if (rc) return rc;
    struct stat sb;
    char path[STORE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/data.mdb", dest);
    *bytes = stat(path, &sb) == 0 ? (double)sb.st_size : 0;
    *seconds = core_mono_s() - t0;
    return 0;
}

/* ------------------------------------------------------------ access */

/* "rwxrws--T": the nine permission letters with setgid and sticky. */
static void mode_letters(mode_t m, char out[10])
{
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) out[i] = (m & (0400 >> i)) ? rwx[i] : '-';
    if (m & S_ISUID) out[2] = (m & S_IXUSR) ? 's' : 'S';
    if (m & S_ISGID) out[5] = (m & S_IXGRP) ? 's' : 'S';
    if (m & S_ISVTX) out[8] = (m & S_IXOTH) ? 't' : 'T';
    out[9] = 0;
}

void core_workspace_access(const char *dir, char *line, size_t len, char *warn, size_t wlen)
{
    core_set_err(warn, wlen, "%s", "");
    char p[4096];
    struct stat ds, fs, ls;
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    if (stat(dir, &ds) != 0 || lstat(p, &fs) != 0) { core_set_err(line, len, "unknown (%s)", strerror(errno)); return; }
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    int have_lock = lstat(p, &ls) == 0;
    /* shift 6: owner, 3: group, 0: others; x on the folder to reach the
     * files, r on data.mdb to read, w on data.mdb and lock.mdb (or on the
     * folder to make lock.mdb) to write */
    const char *what[3];
    for (int c = 0; c < 3; c++) {
        int sh = 6 - 3 * c;
        int reach = (ds.st_mode >> sh) & 1;
        int rd = reach && ((fs.st_mode >> sh) & 4);
        int wr = rd && ((fs.st_mode >> sh) & 2) && (have_lock ? ((ls.st_mode >> sh) & 2) : ((ds.st_mode >> sh) & 2));
        what[c] = wr ? "read-write" : rd ? "read" : "none";
    }
    char uname[64], gname[64], letters[10];
    struct passwd *pw = getpwuid(fs.st_uid);
    struct group *gr = getgrgid(fs.st_gid);
    if (pw && pw->pw_name) snprintf(uname, sizeof uname, "%s", pw->pw_name);
    else snprintf(uname, sizeof uname, "uid %u", (unsigned)fs.st_uid);
    if (gr && gr->gr_name) snprintf(gname, sizeof gname, "%s", gr->gr_name);
    else snprintf(gname, sizeof gname, "gid %u", (unsigned)fs.st_gid);
    mode_letters(ds.st_mode, letters);
    core_set_err(line, len, "owner %s %s, group %s %s, others %s (folder %s)", uname, what[0], gname, what[1], what[2],
                 letters);
    if ((ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX))
        core_set_err(warn, wlen, "the folder is writable by %s without the sticky bit: one of them can replace "
                                 "the others' files (its owner: chmod +t %s)",
                     (ds.st_mode & S_IWOTH) ? "everyone" : "its group", dir);
}
