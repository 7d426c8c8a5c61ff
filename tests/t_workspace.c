/*
 * t_workspace.c - core/workspace.h without the command line: the task list
 * a new workspace gets, init's meta, stats' tallies (retractions, favourites,
 * per user, progress), check's schema half, and a backup's report.
 */
#include "core/workspace.h"
#include "store/store.h"
#include "tests/zt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK(expr) do { int rc_ = (expr); if (rc_ != 0) zt_fail_at(__FILE__, __LINE__, "%s: %s (%d) %s", \
    #expr, store_strerror(rc_), rc_, store_last_error()); } while (0)

/* A workspace "ws" with tasks ring + interest and three galaxies. */
static zs_store *make_ws(void)
{
    core_workspace_tasks t;
    memset(&t, 0, sizeof t);
    char err[256];
    ZT_OK(core_workspace_tasks_add(&t, "ring", err, sizeof err));
    ZT_OK(core_workspace_tasks_finish(&t, 1, err, sizeof err));
    zs_store *st = NULL;
    OK(store_open(&st, "ws", STORE_CREATE | STORE_NOSYNC));
    OK(core_workspace_init(st, &t));
    core_workspace_tasks_free(&t);
    return st;
}

static int put_galaxies(zs_txn *txn, void *ctx)
{
    (void)ctx;
    for (int i = 1; i <= 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "G%d", i);
        store_galaxy g = {0};
        g.id_str = id;
        g.file = "x.png";
        int rc = store_galaxy_put(txn, &g, NULL, NULL);
        if (rc) return rc;
    }
    return 0;
}

typedef struct { const char *user, *task, *answer; uint32_t gid; int kind, rating; uint64_t retracts; } ans;

static int put_answers(zs_txn *txn, void *ctx)
{
    for (const ans *a = ctx; a->user; a++) {
        store_answer r;
        memset(&r, 0, sizeof r);
        r.gid = a->gid;
        r.kind = (uint8_t)a->kind;
        r.rating = (int8_t)a->rating;
        r.retracts = a->retracts;
        snprintf(r.user, sizeof r.user, "%s", a->user);
        snprintf(r.task, sizeof r.task, "%s", a->task);
        if (a->answer) {
            r.n_steps = 1;
            strcpy(r.steps[0].question, "ring");
            snprintf(r.steps[0].answer, sizeof r.steps[0].answer, "%s", a->answer);
        }
        int rc = store_answer_append(txn, &r, NULL);
        if (rc) return rc;
    }
    return 0;
}

static void task_list(void)
{
    core_workspace_tasks t;
    memset(&t, 0, sizeof t);
    char err[512];
    ZT_OK(core_workspace_tasks_finish(&t, 0, err, sizeof err));
    ZT_CHECK(t.n == 2 && !strcmp(t.s[0]->name, "gz-decals") && !strcmp(t.s[1]->name, "interest"),
             "no schema asked: gz-decals then interest, got %d", t.n);
    core_workspace_tasks_free(&t);

    ZT_OK(core_workspace_tasks_add(&t, "interest", err, sizeof err));
    ZT_OK(core_workspace_tasks_add(&t, "ring", err, sizeof err));
    ZT_OK(core_workspace_tasks_add(&t, "ring", err, sizeof err));
    ZT_CHECK(t.n == 1, "interest is implied and a built-in twice is one task: %d", t.n);
    ZT_OK(core_workspace_tasks_finish(&t, 1, err, sizeof err));
    ZT_CHECK(t.n == 2 && !strcmp(t.s[1]->name, "interest"), "interest last");
    core_workspace_tasks_free(&t);

    int rc = core_workspace_tasks_add(&t, "gz-nope", err, sizeof err);
    ZT_CHECK(rc == CORE_WORKSPACE_EBAD && strstr(err, "gz-decals"), "unknown name: %d '%s'", rc, err);
    for (int i = 0; i < CORE_WORKSPACE_MAX_TASKS - 1; i++) {
        char path[32];
        snprintf(path, sizeof path, "s%d.schema", i);
        FILE *f = fopen(path, "w");
        ZT_CHECK(f != NULL, "fopen");
        fprintf(f, "task t%d\nquestion q \"Q?\"\n  answer yes\n  answer no\n", i);
        fclose(f);
        ZT_OK(core_workspace_tasks_add(&t, path, err, sizeof err));
        ZT_CHECK(t.text[t.n - 1] && strstr(t.text[t.n - 1], "task t"), "a file's text is kept");
    }
    rc = core_workspace_tasks_add(&t, "ring", err, sizeof err);
    ZT_CHECK(rc == CORE_WORKSPACE_EMANY && !strcmp(err, "more than 15 schemas"), "%d '%s'", rc, err);
    core_workspace_tasks_free(&t);
    ZT_OK(core_workspace_tasks_add(&t, "s0.schema", err, sizeof err));
    rc = core_workspace_tasks_add(&t, "s0.schema", err, sizeof err);
    ZT_CHECK(rc == CORE_WORKSPACE_EBAD && !strcmp(err, "two schemas are named 't0' (s0.schema)"), "%d '%s'", rc, err);
    core_workspace_tasks_free(&t);
}

static void stats_tally(void)
{
    zs_store *st = make_ws();
    OK(store_write(st, put_galaxies, NULL));
    ans log[] = {
        {"alice", "ring", "yes", 1, STORE_ANS_TREE, 0, 0},
        {"alice", "ring", "no", 2, STORE_ANS_TREE, 0, 0},
        {"bob", "ring", "yes", 2, STORE_ANS_TREE, 0, 0},
        {"bob", "ring", NULL, 2, STORE_ANS_RETRACT, 0, 3},
        {"bob", "interest", NULL, 3, STORE_ANS_RATING, 4, 0},
        {"bob", "interest", NULL, 3, STORE_ANS_FAVOURITE, 0, 0},
        {0},
    };
    OK(store_write(st, put_answers, log));
    core_workspace_stats s;
    OK(core_workspace_stats_get(st, &s));
    ZT_CHECK(s.created && strstr(s.created, " by "), "created is recorded: %s", s.created ? s.created : "(none)");
    /* answers of the second form (uid, whole user name) make the layout 3 */
    ZT_CHECK(s.layout == 3 && s.galaxies == 3 && s.thumbnails == 0, "layout %d galaxies %u", s.layout, s.galaxies);
    ZT_CHECK(s.answers_rc == 0 && s.records == 6 && s.live == 3 && s.retractions == 1,
             "records %llu live %llu", (unsigned long long)s.records, (unsigned long long)s.live);
    ZT_CHECK(s.n_tasks == 2 && !strcmp(s.tasks[0].name, "ring") && s.tasks[0].enabled, "tasks %d", s.n_tasks);
    ZT_CHECK(s.tasks[0].answers == 2 && s.tasks[0].retracted == 1 && s.tasks[0].done == 2,
             "ring: %llu answers, %u done", (unsigned long long)s.tasks[0].answers, s.tasks[0].done);
    ZT_CHECK(s.tasks[1].answers == 1 && s.tasks[1].favourites == 1 && s.tasks[1].done == 1, "interest");
    ZT_CHECK(s.n_users == 2 && !strcmp(s.users[0].name, "alice") && s.users[0].total == 2 &&
             s.users[1].per_task[0] == 0 && s.users[1].per_task[1] == 1, "per user");
    ZT_CHECK(s.have_featsets && s.n_featsets == 0 && s.have_blobs && s.n_blobs == 0, "no features, no models");
    core_workspace_stats_free(&s);
    store_close(st);
}

static void check_schema_half(void)
{
    zs_store *st = make_ws();
    OK(store_write(st, put_galaxies, NULL));
    core_workspace_check_report r;
    OK(core_workspace_check(st, 1, &r));
    ZT_CHECK(r.n_problems == 0 && r.text[0] == 0, "a fresh workspace is clean: %s", r.text);
    core_workspace_check_report_free(&r);
    ans log[] = {{"carol", "ring", "maybe", 1, STORE_ANS_TREE, 0, 0}, {0}};
    OK(store_write(st, put_answers, log));
    int rc = core_workspace_check(st, 0, &r);
    ZT_CHECK(rc == STORE_ECORRUPT && r.n_problems == 1 &&
             !strcmp(r.text, "answers: answer 1: 'maybe' is not an answer to ring\n"), "%d: %s", rc, r.text);
    core_workspace_check_report_free(&r);
    store_close(st);
}

static void backup_report(void)
{
    zs_store *st = make_ws();
    double bytes, secs;
    OK(core_workspace_backup(st, "copy", &bytes, &secs));
    ZT_CHECK(bytes > 0 && secs >= 0, "bytes %g", bytes);
    ZT_CHECK(core_workspace_backup(st, "copy", &bytes, &secs) == STORE_EEXIST && bytes == 0, "a second copy is refused");
    store_close(st);
}

const zt_case zt_suite_workspace[] = {
    {"a new workspace's tasks: gz-decals by default, interest last, 15 schemas at most", task_list, 0},
    {"stats tallies answers per task and user, net of retractions", stats_tally, 0},
    {"check adds the answers that do not fit their schema", check_schema_half, 0},
    {"backup reports the copy's size and refuses a second one", backup_report, 0},
    {0},
};
