/*
 * cmd_ws.c - the workspace commands: init, stats, check, backup.
 *
 *   zoosh init WS [--schema NAME|FILE ...]   create a workspace
 *   zoosh stats WS                           counts per task and per user, progress
 *   zoosh check WS                           verify integrity (exit 3 when damaged)
 *   zoosh backup WS DEST                     consistent compacted copy
 *
 * init records the enabled tasks in meta "tasks" (space-separated; interest
 * is always added) and the text of every custom schema file in meta
 * "schema/<name>", so the workspace needs no outside file later (see
 * core_schema_ws_get).  Exit codes as tui/cmd.h.
 */
#include "tui/cmd/cmd.h"

#include "core/learn.h"
#include "core/schema.h"
#include "core/thumb.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TASKS 16

/* ------------------------------------------------------------ init */

static void init_usage(FILE *f)
{
    fprintf(f, "usage: zoosh init WS [--schema NAME|FILE ...]\n\n"
               "Creates the workspace directory WS (one LMDB environment).\n"
               "  --schema NAME|FILE  enable a task: a built-in decision tree (gz-decals, gz2, ring)\n"
               "                      or a schema file (format in README / core/schema.c); repeat\n"
               "                      or separate with commas.  Default: gz-decals.  The 0-5\n"
               "                      'interest' rating is always enabled.  A schema file is\n"
               "                      stored inside the workspace, which stays self-contained.\n"
               "Refuses a directory that already holds a workspace.\n"
               "exit: 0 ok, 1 bad schema or failure, 2 usage, 3 workspace problem\n");
}

typedef struct {
    int n;
    core_schema *s[MAX_TASKS];
    char *text[MAX_TASKS];       /* custom schema file text, NULL for built-ins */
} init_ctx;

static int init_write(zs_txn *txn, void *p)
{
    init_ctx *c = p;
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

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, k;
    char *b = xmalloc(cap);
    while ((k = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 >= cap) { cap *= 2; b = xrealloc(b, cap); }
    }
    fclose(f);
    b[n] = 0;
    return b;
}

/* Adds one task (built-in name or file); 0 ok, else the exit status. */
static int add_task(init_ctx *c, const char *arg)
{
    if (strcmp(arg, "interest") == 0) return 0;   /* always there */
    if (c->n == MAX_TASKS - 1) {
        fprintf(stderr, "zoosh init: more than %d schemas\n", MAX_TASKS - 1);
        return EXIT_USAGE;
    }
    core_schema *s = xmalloc(sizeof *s);
    char err[512];
    int builtin = core_schema_builtin(arg, s) == 0;
    if (!builtin && core_schema_resolve(arg, s, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh init: %s\n", err);
        free(s);
        return 1;
    }
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i]->name, s->name) == 0) {
            if (builtin && !c->text[i]) { free(s); return 0; }   /* the same built-in twice */
            fprintf(stderr, "zoosh init: two schemas are named '%s' (%s)\n", s->name, arg);
            free(s);
            return 1;
        }
    c->text[c->n] = builtin ? NULL : slurp(arg);
    if (!builtin && !c->text[c->n]) {
        fprintf(stderr, "zoosh init: %s: %s\n", arg, strerror(errno));
        free(s);
        return 1;
    }
    c->s[c->n++] = s;
    return 0;
}

int cmd_init(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { init_usage(stdout); return 0; }
    const char *ws = NULL;
    init_ctx c;
    memset(&c, 0, sizeof c);
    int status = 0, schema_given = 0;
    for (int i = 1; i < argc && !status; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--schema") == 0 || strcmp(a, "-s") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "zoosh init: %s needs NAME or FILE\n", a); status = EXIT_USAGE; break; }
            val = argv[++i];
        } else if (strncmp(a, "--schema=", 9) == 0) {
            val = a + 9;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "zoosh init: unknown option '%s' (zoosh init --help)\n", a);
            status = EXIT_USAGE;
            break;
        } else if (!ws) {
            ws = a;
            continue;
        } else {
            fprintf(stderr, "zoosh init: unexpected argument '%s' (one workspace at a time)\n", a);
            status = EXIT_USAGE;
            break;
        }
        char *list = xstrdup(val), *save = NULL;
        int any = 0;
        schema_given = 1;
        for (char *t = strtok_r(list, ",", &save); t && !status; t = strtok_r(NULL, ",", &save)) {
            any = 1;
            status = add_task(&c, t);
        }
        if (!any && !status) { fprintf(stderr, "zoosh init: empty --schema\n"); status = EXIT_USAGE; }
        free(list);
    }
    if (!status && !ws) { init_usage(stderr); status = EXIT_USAGE; }
    if (!status && c.n == 0 && !schema_given) status = add_task(&c, "gz-decals");   /* --schema interest: just that */
    if (!status) {
        init_ctx *cp = &c;
        cp->s[cp->n] = xmalloc(sizeof(core_schema));
        core_schema_builtin("interest", cp->s[cp->n]);
        cp->text[cp->n++] = NULL;
        zs_store *st = NULL;
        int rc = store_open(&st, ws, STORE_CREATE);
        if (rc == STORE_EEXIST) {
            /* also the loser of two inits at the same instant (store_open
             * creates data.mdb exclusively) */
            fprintf(stderr, "zoosh init: %s already holds a workspace: it already exists (or another LMDB "
                            "database is there); choose another directory, it was left as it was\n", ws);
            status = 1;
        } else if (rc) {
            status = cmd_ws_failed("init", ws, rc);
        } else {
            rc = store_write(st, init_write, &c);
            if (rc) {
                fprintf(stderr, "zoosh init: %s: %s %s\n", ws, store_strerror(rc), store_last_error());
                status = 1;
            } else {
                printf("created workspace %s with tasks:", ws);
                for (int i = 0; i < c.n; i++) printf(" %s", c.s[i]->name);
                printf("\n");
            }
            store_close(st);
        }
    }
    for (int i = 0; i < c.n; i++) { free(c.s[i]); free(c.text[i]); }
    return status;
}

/* ------------------------------------------------------------ stats */

static void stats_usage(FILE *f)
{
    fprintf(f, "usage: zoosh stats WS\n\n"
               "Prints what the workspace holds: galaxies, thumbnails, feature sets (dimension,\n"
               "provenance), prior columns, answers per task and per user, retractions,\n"
               "progress (galaxies with at least one answer / all, per task) and stored models.\n"
               "exit: 0 ok, 1 failure, 2 usage, 3 workspace problem\n");
}

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
    default: tt->answers++; break;
    }
    return 0;
}

static void print_bytes(double b)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    printf(i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

int cmd_stats(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { stats_usage(stdout); return 0; }
    if (argc > 2) { fprintf(stderr, "zoosh stats: unexpected argument '%s' (one workspace)\n", argv[2]); return EXIT_USAGE; }
    if (argc != 2 || argv[1][0] == '-') { stats_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[1];
    zs_store *st = NULL;
    int rc = cmd_open_ws("stats", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    zs_txn *txn = NULL;
    rc = store_read_begin(st, &txn);
    if (rc) { store_close(st); return cmd_ws_failed("stats", ws, rc); }
    int status = 0;
    size_t mapsize, used;
    store_map_info(st, &mapsize, &used);
    char *created = NULL;
    store_meta_get(txn, "created", &created);
    printf("workspace   %s  (layout v%d, ", ws, store_layout(txn));
    print_bytes((double)used);
    printf(" used%s%s)\n", created ? ", created " : "", created ? created : "");
    free(created);

    char tnames[MAX_TASKS][32];
    int nt = core_schema_ws_tasks(txn, tnames, MAX_TASKS);
    uint32_t ng = store_galaxy_count(txn);
    printf("galaxies    %u\n", ng);
    printf("thumbnails  %u\n", store_thumb_count(txn));

    char **names = NULL;
    int n = 0;
    rc = store_featset_list(txn, &names, &n);
    if (rc == 0) {
        printf("features    %d set%s\n", n, n == 1 ? "" : "s");
        for (int i = 0; i < n; i++) {
            int dim = 0;
            char *prov = NULL;
            uint32_t cnt = 0;
            store_featset_get(txn, names[i], &dim, &prov);
            store_feature_count(txn, names[i], &cnt);
            printf("  %-20s %5d-d  %u vectors  (%s)\n", names[i], dim, cnt, prov && *prov ? prov : "no provenance");
            free(prov);
            free(names[i]);
        }
        free(names);
    }
    rc = store_prior_columns(txn, &names, &n);
    if (rc == 0) {
        printf("priors      %d column%s", n, n == 1 ? "" : "s");
        for (int i = 0; i < n; i++) {
            printf("%s%s", i ? ", " : ": ", names[i]);
            free(names[i]);
        }
        printf("\n");
        free(names);
    }
    for (int i = 0; i < nt; i++) {   /* where each task's starting belief comes from */
        core_schema sc;
        char src[64], e[256];
        if (core_schema_ws_get(txn, tnames[i], &sc, e, sizeof e) != 0) continue;
        int np = core_learn_prior_source(txn, &sc, src, sizeof src);
        if (np > 0) printf("  %-20s starts from %s (%d galaxies)\n", tnames[i], src, np);
        else if (np < 0) printf("  %-20s starts from the catalog's prior columns\n", tnames[i]);
    }

    tally t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < nt; i++) find_or_add_task(&t, tnames[i]);
    rc = store_answer_each(txn, 1, tally_answer, &t);
    if (rc) {
        fprintf(stderr, "zoosh stats: %s: reading answers: %s %s (run zoosh check %s)\n", ws, store_strerror(rc),
                store_last_error(), ws);
        status = rc == STORE_ECORRUPT ? EXIT_WORKSPACE : 1;
    }
    uint64_t live = 0, retractions = 0;
    for (int i = 0; i < t.n_tasks; i++) {
        live += t.tasks[i].answers - t.tasks[i].retracted;
        retractions += t.tasks[i].retractions;
    }
    printf("answers     %llu (log of %llu records, %llu retractions) from %d user%s\n",
           (unsigned long long)live, (unsigned long long)t.n, (unsigned long long)retractions, t.n_users,
           t.n_users == 1 ? "" : "s");

    /* Progress: galaxies with at least one live answer of the task. */
    uint32_t gmax = store_galaxy_max(txn);
    uint8_t *hit = xcalloc((size_t)gmax + 1, 1);   /* (gmax+1) */
    printf("\n%-20s %9s %9s %10s %10s %6s  %s\n", "task", "answers", "retracted", "favourites", "skips", "", "progress");
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
        printf("%-20s %9llu %9llu %10llu %10llu %6s  %u / %u galaxies (%.1f%%)\n", tt->name,
               (unsigned long long)(tt->answers - tt->retracted), (unsigned long long)tt->retracted,
               (unsigned long long)tt->favourites, (unsigned long long)tt->skips, enabled ? "" : "(off)",
               done, ng, ng ? 100.0 * done / ng : 0.0);
    }
    free(hit);

    if (t.n_users) {
        for (int u = 0; u < t.n_users; u++) t.users[u].per_task = xcalloc((size_t)t.n_tasks, sizeof(uint64_t));
        for (uint64_t i = 0; i < t.n; i++)
            if (t.kind[i] == STORE_ANS_TREE || t.kind[i] == STORE_ANS_RATING) {
                t.users[t.user[i]].per_task[t.task[i]]++;
                t.users[t.user[i]].total++;
            }
        printf("\n%-20s %9s", "user", "answers");
        for (int k = 0; k < t.n_tasks; k++) printf(" %12.12s", t.tasks[k].name);
        printf("\n");
        for (int u = 0; u < t.n_users; u++) {
            printf("%-20s %9llu", t.users[u].name, (unsigned long long)t.users[u].total);
            for (int k = 0; k < t.n_tasks; k++) printf(" %12llu", (unsigned long long)t.users[u].per_task[k]);
            printf("\n");
            free(t.users[u].per_task);
        }
    }

    /* Models: each task's head as core/learn describes it, then every
     * stored model blob by key and size. */
    int any_model = 0;
    for (int k = 0; k < t.n_tasks; k++) {
        core_model_info mi;
        if (core_model_info_get(txn, t.tasks[k].name, &mi) != 0) continue;
        if (!any_model) printf("\n%-20s %7s %20s %8s %-18s %-12s %s\n", "model", "version", "trained (UTC)", "labelled",
                               "held-out metric", "order", "features");
        any_model = 1;
        char when[32] = "?";
        time_t tt = (time_t)(mi.time_us / 1000000);
        struct tm tm;
        if (mi.time_us > 0 && gmtime_r(&tt, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        char metric[48] = "-";
        if (mi.metric[0] && !isnan(mi.value)) snprintf(metric, sizeof metric, "%.15s %.3f", mi.metric, mi.value);
        printf("%-20s %7u %20s %8d %-18s %-12.16s %.64s\n", t.tasks[k].name, mi.version, when, mi.n_train, metric,
               mi.order[0] ? mi.order : "-", mi.features[0] ? mi.features : "-");
    }
    rc = store_blob_list(txn, STORE_DB_MODELS, &names, &n);
    if (rc == 0) {
        printf("\nmodel blobs %d", n);
        for (int i = 0; i < n; i++) {
            const void *d;
            size_t len = 0;
            store_blob_get(txn, STORE_DB_MODELS, names[i], &d, &len);
            printf("%s%s (", i ? ", " : ": ", names[i]);
            print_bytes((double)len);
            printf(")");
            free(names[i]);
        }
        printf("\n");
        free(names);
    }
    store_read_end(txn);
    store_close(st);
    free(t.gid);
    free(t.task);
    free(t.user);
    free(t.kind);
    free(t.users);
    return status;
}

/* ------------------------------------------------------------ check */

static void check_usage(FILE *f)
{
    fprintf(f, "usage: zoosh check WS [--quick]\n\n"
               "Walks every record of the workspace: records parse, the id index and the\n"
               "galaxies agree, answers are in sequence, retractions point at earlier answers,\n"
               "feature vectors match their set's dimension, every task's schema loads,\n"
               "each answer's questions and answers (or rating) belong to its task, and every\n"
               "JPEG thumbnail decodes to its recorded size (--quick: not that one, the\n"
               "slowest: about 1 ms a galaxy).\n"
               "Lists each problem found.\n"
               "exit: 0 clean, 3 damaged or not a workspace, 2 usage\n");
}

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
        if (thumbs) sem_thumbs(&c);
        store_read_end(c.txn);
    }
    free(c.s);
    free(c.names);
    free(c.ok);
    return c.problems;
}

int cmd_check(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { check_usage(stdout); return 0; }
    int quick = argc == 3 && !strcmp(argv[2], "--quick");
    if (argc == 3 && !strcmp(argv[1], "--quick")) { quick = 1; argv[1] = argv[2]; }
    if ((argc != 2 && !quick) || argv[1][0] == '-') { check_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[1];
    zs_store *st = NULL;
    int rc = cmd_open_ws("check", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    size_t cap = 1 << 16;
    char *rep = xmalloc(cap);
    int np = 0;
    rc = store_check(st, rep, cap, &np);
    if (rc == 0 || rc == STORE_ECORRUPT) {
        int ns = check_semantics(st, rep, cap, strlen(rep), !quick);
        np += ns;
        if (ns && rc == 0) rc = STORE_ECORRUPT;
    }
    store_close(st);
    int status = 0;
    if (rc == 0) {
        printf("%s: ok\n", ws);
    } else if (rc == STORE_ECORRUPT) {
        printf("%s: %d problem%s\n", ws, np, np == 1 ? "" : "s");
        for (char *line = rep, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl) { printf("  %s\n", line); break; }
            printf("  %.*s\n", (int)(nl - line), line);
        }
        status = EXIT_WORKSPACE;
    } else {
        status = cmd_ws_failed("check", ws, rc);
    }
    free(rep);
    return status;
}

/* ------------------------------------------------------------ backup */

static void backup_usage(FILE *f)
{
    fprintf(f, "usage: zoosh backup WS DEST\n\n"
               "Writes a consistent, compacted copy of the workspace WS into the directory DEST\n"
               "(created if missing; must not hold a workspace) while others keep labeling.\n"
               "exit: 0 ok, 1 failure (DEST exists, disk full...), 2 usage, 3 workspace problem\n");
}

int cmd_backup(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { backup_usage(stdout); return 0; }
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') { backup_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[1], *dest = argv[2];
    zs_store *st = NULL;
    int rc = cmd_open_ws("backup", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    double t0 = core_mono_s();
    rc = store_backup(st, dest);
    store_close(st);
    if (rc == STORE_EEXIST) {
        fprintf(stderr, "zoosh backup: %s already holds a workspace; choose a new directory\n", dest);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "zoosh backup: %s -> %s: %s %s\n", ws, dest, store_strerror(rc), store_last_error());
        return 1;
    }
    struct stat sb;
    char path[STORE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/data.mdb", dest);
    printf("backed up %s to %s (", ws, dest);
    print_bytes(stat(path, &sb) == 0 ? (double)sb.st_size : 0);
    printf(", %.2f s)\n", core_mono_s() - t0);
    return 0;
}
