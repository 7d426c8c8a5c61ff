/*
 * cmd_ws.c - the workspace commands: init, stats, check, backup.
 *
 *   zoosh init WS [--schema NAME|FILE ...] [--share GROUP]   create a workspace
 *   zoosh stats WS                           counts per task and per user, progress
 *   zoosh check WS                           verify integrity (exit 3 when damaged)
 *   zoosh backup WS DEST                     consistent compacted copy
 *
 * Each parses its arguments, makes one core/workspace.h call and prints
 * its report; what init writes and what stats and check count is there.
 * Exit codes as tui/cmd.h.
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"

#include "core/acquire.h"
#include "core/learn.h"
#include "core/util.h"
#include "core/workspace.h"
#include "store/store.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ init */

static void init_usage(FILE *f)
{
    fprintf(f, "usage: zoosh init WS [--schema NAME|FILE ...] [--share GROUP]\n\n"
               "Creates the workspace directory WS (one LMDB environment).\n"
               "  --share GROUP       for the Unix group GROUP (you must be a member): WS gets the\n"
               "                      group, set-group-id and the sticky bit, mode rwxrws--T, its\n"
               "                      files rw for the group whatever the umask; others get nothing.\n"
               "                      Without it WS is private as your umask says (umask 077: yours only).\n"
               "  --schema NAME|FILE  enable a task: a built-in tree (gz-decals, gz2, gz2-kaggle,\n"
               "                      ring) or a schema file (format: docs/workspace.md, \"Schema files\"); repeat\n"
               "                      or separate with commas.  Default: gz-decals.  The 0-5\n"
               "                      'interest' rating is always enabled.  A schema file is\n"
               "                      stored inside the workspace, which stays self-contained.\n"
               "Refuses a directory that already holds a workspace.\n"
               "exit: 0 ok, 1 bad schema or failure, 2 usage, 3 workspace problem\n");
}

/* The message and exit status for a core_workspace_tasks_* failure RC. */
static int task_failed(int rc, const char *err)
{
    if (!rc) return 0;
    fprintf(stderr, "zoosh init: %s\n", err);
    return rc == CORE_WORKSPACE_EMANY ? EXIT_USAGE : 1;
}

int cmd_init(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { init_usage(stdout); return 0; }
    const char *ws = NULL;
    core_workspace_tasks c_tasks;
    memset(&c_tasks, 0, sizeof c_tasks);
    char err[4096];
    int status = 0, schema_given = 0;
    const char *share = NULL;   /* --share GROUP */
    static const struct option lo[] = {{"schema", required_argument, 0, 's'}, {"share", required_argument, 0, 'S'},
                                       {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while (!status && (c = cmd_getopt(argc, argv, ":s:", lo)) != -1) {
        if (c == 'S') { share = optarg; continue; }
        if (c != 's') { status = cmd_bad_option("init", c, argv, optind); break; }
        char *list = xstrdup(optarg), *save = NULL;
        int any = 0;
        schema_given = 1;
        for (char *t = strtok_r(list, ",", &save); t && !status; t = strtok_r(NULL, ",", &save)) {
            any = 1;
            status = task_failed(core_workspace_tasks_add(&c_tasks, t, err, sizeof err), err);
        }
        if (!any && !status) { fprintf(stderr, "zoosh init: empty --schema\n"); status = EXIT_USAGE; }
        free(list);
    }
    if (!status && optind < argc) ws = argv[optind];
    if (!status && optind + 1 < argc) {
        fprintf(stderr, "zoosh init: unexpected argument '%s' (one workspace at a time)\n", argv[optind + 1]);
        status = EXIT_USAGE;
    }
    if (!status && !ws) { init_usage(stderr); status = EXIT_USAGE; }
    if (!status) status = task_failed(core_workspace_tasks_finish(&c_tasks, schema_given, err, sizeof err), err);
    if (!status) {
        zs_store *st = NULL;
        int rc = store_create_shared(&st, ws, share);
        if (rc == STORE_EEXIST) {
            /* also the loser of two inits at the same instant (store_open
             * creates data.mdb exclusively) */
            fprintf(stderr, "zoosh init: %s already holds a workspace: it already exists (or another LMDB "
                            "database is there); choose another directory, it was left as it was\n", ws);
            status = 1;
        } else if (rc) {
            status = cmd_ws_failed("init", ws, rc);
        } else {
            rc = core_workspace_init(st, &c_tasks);
            if (rc) {
                fprintf(stderr, "zoosh init: %s: %s %s\n", ws, store_strerror(rc), store_last_error());
                status = 1;
            } else {
                printf("created workspace %s with tasks:", ws);
                for (int i = 0; i < c_tasks.n; i++) printf(" %s", c_tasks.s[i]->name);
                printf("\n");
                char access[512], warn[512];
                core_workspace_access(ws, access, sizeof access, warn, sizeof warn);
                printf("access: %s\n", tui_text_safe(access));
            }
            store_close(st);
        }
    }
    core_workspace_tasks_free(&c_tasks);
    return status;
}

/* ------------------------------------------------------------ stats */

static void stats_usage(FILE *f)
{
    fprintf(f, "usage: zoosh stats WS [--json]\n\n"
               "Prints who can read and write the workspace (owner, group, others: from the\n"
               "modes of the folder and its files; a warning for a folder others may write\n"
               "without the sticky bit), then what it holds: galaxies, thumbnails, feature sets (dimension,\n"
               "provenance), prior columns, answers per task and per user, retractions,\n"
               "progress (galaxies with at least one answer / all, per task) and stored models;\n"
               "with interest ratings, how far the anomaly prior (isolation forest) ranks them:\n"
               "its rank correlation with the ratings and the weight the anomaly order gives it.\n"
               "  --json   the same as one JSON object (names escaped, numbers as numbers)\n"
               "exit: 0 ok, 1 failure, 2 usage, 3 workspace problem\n");
}

static void print_bytes(double b)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    printf(i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

/* The models table: each task's head as core/learn describes it. */
static void print_models(const core_workspace_stats *s)
{
    int any_model = 0;
    for (int k = 0; k < s->n_tasks; k++) {
        const core_workspace_task *t = &s->tasks[k];
        if (!t->has_model) continue;
        const core_model_info *mi = &t->model;
        if (!any_model) printf("\n%-20s %7s %20s %8s %-18s %-12s %s\n", "model", "version", "trained (UTC)", "labelled",
                               "held-out metric", "order", "features");
        any_model = 1;
        char when[32] = "?";
        time_t tt = (time_t)(mi->time_us / 1000000);
        struct tm tm;
        if (mi->time_us > 0 && gmtime_r(&tt, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        char metric[48] = "-";
        if (mi->metric[0] && !isnan(mi->value)) snprintf(metric, sizeof metric, "%.15s %.3f", mi->metric, mi->value);
        printf("%-20s %7u %20s %8d %-18s %-12.16s %.64s\n", tui_text_safe(t->name), mi->version, when, mi->n_train,
               tui_text_safe(metric), tui_text_safe(mi->order[0] ? mi->order : "-"),
               tui_text_safe(mi->features[0] ? mi->features : "-"));
    }
}

/* "name": as JSON (escaped: a task name is stored text), with the separator
 * before it unless first. */
static void jkey(const char *name, int first)
{
    if (!first) printf(", ");
    cmd_json_string(stdout, name);
    printf(": ");
}

static void jstr(const char *name, const char *v, int first)
{
    jkey(name, first);
    if (v) cmd_json_string(stdout, v);
    else printf("null");
}

static void jnum(const char *name, double v, int first)
{
    jkey(name, first);
    if (isfinite(v)) printf("%.17g", v);
    else printf("null");
}

/* The same report as JSON on stdout (names escaped by cmd_json_string). */
static void print_json(const char *ws, const core_workspace_stats *s)
{
    printf("{");
    jstr("workspace", ws, 1);
    jnum("layout", s->layout, 0);
    jnum("used_bytes", (double)s->used, 0);
    jstr("created", s->created, 0);
    jnum("galaxies", s->galaxies, 0);
    jnum("thumbnails", s->thumbnails, 0);
    jkey("feature_sets", 0);
    printf("[");
    for (int i = 0; i < s->n_featsets; i++) {
        const core_workspace_featset *f = &s->featsets[i];
        printf("%s{", i ? ", " : "");
        jstr("name", f->name, 1);
        jnum("dim", f->dim, 0);
        jnum("vectors", f->vectors, 0);
        jstr("provenance", f->provenance && *f->provenance ? f->provenance : NULL, 0);
        printf("}");
    }
    printf("]");
    jkey("priors", 0);
    printf("[");
    for (int i = 0; i < s->n_priors; i++) {
        if (i) printf(", ");
        cmd_json_string(stdout, s->priors[i]);
    }
    printf("]");
    jkey("prior_sources", 0);
    printf("[");
    for (int i = 0, k = 0; i < s->n_sources; i++) {
        const core_workspace_prior *p = &s->sources[i];
        if (!p->n) continue;
        printf("%s{", k++ ? ", " : "");
        jstr("task", p->name, 1);
        jstr("source", p->n > 0 ? p->source : "catalog", 0);
        jnum("galaxies", p->n > 0 ? p->n : 0, 0);
        printf("}");
    }
    printf("]");
    jkey("answers", 0);
    printf("{");
    jnum("live", (double)s->live, 1);
    jnum("records", (double)s->records, 0);
    jnum("retractions", (double)s->retractions, 0);
    jstr("error", s->answers_rc ? store_strerror(s->answers_rc) : NULL, 0);
    printf("}");
    jkey("tasks", 0);
    printf("[");
    for (int k = 0; k < s->n_tasks; k++) {
        const core_workspace_task *t = &s->tasks[k];
        printf("%s{", k ? ", " : "");
        jstr("name", t->name, 1);
        jkey("enabled", 0);
        printf(t->enabled ? "true" : "false");
        jnum("answers", (double)t->answers, 0);
        jnum("retracted", (double)t->retracted, 0);
        jnum("favourites", (double)t->favourites, 0);
        jnum("skips", (double)t->skips, 0);
        jnum("galaxies_done", t->done, 0);
        jkey("model", 0);
        if (!t->has_model) {
            printf("null");
        } else {
            const core_model_info *mi = &t->model;
            printf("{");
            jnum("version", mi->version, 1);
            jnum("trained_us", (double)mi->time_us, 0);
            jnum("labelled", mi->n_train, 0);
            jstr("metric", mi->metric[0] ? mi->metric : NULL, 0);
            jnum("value", mi->metric[0] ? mi->value : NAN, 0);
            jstr("order", mi->order[0] ? mi->order : NULL, 0);
            jstr("features", mi->features[0] ? mi->features : NULL, 0);
            printf("}");
        }
        printf("}");
    }
    printf("]");
    jkey("users", 0);
    printf("[");
    for (int u = 0; u < s->n_users; u++) {
        printf("%s{", u ? ", " : "");
        jstr("name", s->users[u].name, 1);
        jnum("answers", (double)s->users[u].total, 0);
        jkey("per_task", 0);
        printf("{");
        for (int k = 0; k < s->n_tasks; k++) jnum(s->tasks[k].name, (double)s->users[u].per_task[k], !k);
        printf("}}");
    }
    printf("]");
    jkey("model_blobs", 0);
    printf("[");
    for (int i = 0; i < s->n_blobs; i++) {
        printf("%s{", i ? ", " : "");
        jstr("key", s->blobs[i].key, 1);
        jnum("bytes", (double)s->blobs[i].bytes, 0);
        printf("}");
    }
    printf("]}\n");
}

int cmd_stats(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { stats_usage(stdout); return 0; }
    int json = 0;
    static const struct option lo[] = {{"json", no_argument, 0, 'j'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":", lo)) != -1) {
        if (c != 'j') return cmd_bad_option("stats", c, argv, optind);
        json = 1;
    }
    if (optind + 1 < argc) { fprintf(stderr, "zoosh stats: unexpected argument '%s' (one workspace)\n", argv[optind + 1]); return EXIT_USAGE; }
    if (optind + 1 != argc) { stats_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[optind];
    zs_store *st = NULL;
    int rc = cmd_open_ws("stats", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    core_workspace_stats s;
    rc = core_workspace_stats_get(st, &s);
    double rho, wp;   /* the anomaly prior, as far as the interest ratings say */
    int nr, trust = rc == 0 && core_learn_prior_trust(st, &rho, &nr, &wp) == 0;
    store_close(st);
    if (rc == STORE_ECORRUPT && s.damaged[0]) {
        fprintf(stderr, "zoosh stats: %s: damaged workspace: %s\n", ws, tui_text_safe(s.damaged));
        core_workspace_stats_free(&s);
        return EXIT_WORKSPACE;
    }
    if (rc) { core_workspace_stats_free(&s); return cmd_ws_failed("stats", ws, rc); }
    int status = 0;
    if (s.answers_rc) {
        fprintf(stderr, "zoosh stats: %s: reading answers: %s %s (run zoosh check %s)\n", ws, store_strerror(s.answers_rc),
                tui_text_safe(s.answers_detail), ws);
        status = s.answers_rc == STORE_ECORRUPT ? EXIT_WORKSPACE : 1;
    }
    if (json) {
        print_json(ws, &s);
        core_workspace_stats_free(&s);
        return status;
    }
    printf("workspace   %s  (layout v%d, ", ws, s.layout);
    print_bytes((double)s.used);
    printf(" used%s%s)\n", s.created ? ", created " : "", tui_text_safe(s.created));
    char access[512], warn[512];
    core_workspace_access(ws, access, sizeof access, warn, sizeof warn);
    printf("access      %s\n", tui_text_safe(access));
    if (*warn) printf("  warning: %s\n", tui_text_safe(warn));
    printf("galaxies    %u\n", s.galaxies);
    printf("thumbnails  %u\n", s.thumbnails);
    if (s.have_featsets) {
        printf("features    %d set%s\n", s.n_featsets, s.n_featsets == 1 ? "" : "s");
        for (int i = 0; i < s.n_featsets; i++) {
            const core_workspace_featset *f = &s.featsets[i];
            printf("  %-20s %5d-d  %u vectors  (%s)%s\n", tui_text_safe(f->name), f->dim, f->vectors,
                   tui_text_safe(f->provenance && *f->provenance ? f->provenance : "no provenance"),
                   f->used ? "  <- the default (zoosh features)" : "");
        }
    }
    if (s.have_priors) {
        printf("priors      %d column%s", s.n_priors, s.n_priors == 1 ? "" : "s");
        for (int i = 0; i < s.n_priors; i++) printf("%s%s", i ? ", " : ": ", tui_text_safe(s.priors[i]));
        printf("\n");
    }
    for (int i = 0; i < s.n_sources; i++) {   /* where each task's starting belief comes from */
        const core_workspace_prior *p = &s.sources[i];
        if (p->n > 0) printf("  %-20s starts from %s (%d galaxies)\n", tui_text_safe(p->name), tui_text_safe(p->source), p->n);
        else if (p->n < 0) printf("  %-20s starts from the catalog's prior columns\n", tui_text_safe(p->name));
    }
    printf("answers     %llu (log of %llu records, %llu retractions) from %d user%s\n",
           (unsigned long long)s.live, (unsigned long long)s.records, (unsigned long long)s.retractions, s.n_users,
           s.n_users == 1 ? "" : "s");
    if (s.foreign)
        printf("            %llu record%s no zoosh command writes, not counted (zoosh check %s lists them)\n",
               (unsigned long long)s.foreign, s.foreign == 1 ? "" : "s", ws);

    /* Progress: galaxies with at least one live answer of the task. */
    printf("\n%-20s %9s %9s %10s %10s %6s  %s\n", "task", "answers", "retracted", "favourites", "skips", "", "progress");
    for (int k = 0; k < s.n_tasks; k++) {
        const core_workspace_task *t = &s.tasks[k];
        printf("%-20s %9llu %9llu %10llu %10llu %6s  %u / %u galaxies (%.1f%%)\n", tui_text_safe(t->name),
               (unsigned long long)t->answers, (unsigned long long)t->retracted,
               (unsigned long long)t->favourites, (unsigned long long)t->skips, t->enabled ? "" : "(off)",
               t->done, s.galaxies, s.galaxies ? 100.0 * t->done / s.galaxies : 0.0);
    }

    if (s.n_users) {
        printf("\n%-20s %9s", "user", "answers");
        for (int k = 0; k < s.n_tasks; k++) printf(" %12.12s", tui_text_safe(s.tasks[k].name));
        printf("\n");
        for (int u = 0; u < s.n_users; u++) {
            printf("%-20s %9llu", tui_text_safe(s.users[u].name), (unsigned long long)s.users[u].total);
            for (int k = 0; k < s.n_tasks; k++) printf(" %12llu", (unsigned long long)s.users[u].per_task[k]);
            printf("\n");
        }
    }

    print_models(&s);
    if (trust) {
        if (isnan(rho))
            printf("\nanomaly prior: not measured yet (%d interest rating%s with a score; %d needed)\n", nr,
                   nr == 1 ? "" : "s", CORE_TRUST_MIN);
        else
            printf("\nanomaly prior: rank correlation %+.2f with %d interest ratings; the anomaly order gives it "
                   "weight %.2f\n", rho, nr, wp);
    }
    if (s.have_blobs) {
        printf("\nmodel blobs %d", s.n_blobs);
        for (int i = 0; i < s.n_blobs; i++) {
            printf("%s%s (", i ? ", " : ": ", tui_text_safe(s.blobs[i].key));
            print_bytes((double)s.blobs[i].bytes);
            printf(")");
        }
        printf("\n");
    }
    core_workspace_stats_free(&s);
    return status;
}

/* ------------------------------------------------------------ check */

static void check_usage(FILE *f)
{
    fprintf(f, "usage: zoosh check WS [--quick]\n"
               "       zoosh check WS --repair DEST\n\n"
               "Walks every record of the workspace: records parse, the id index and the\n"
               "galaxies agree, answers are in sequence, retractions point at earlier answers,\n"
               "feature vectors match their set's dimension, every task's schema loads,\n"
               "each answer's questions and answers (or rating) belong to its task, and every\n"
               "JPEG thumbnail decodes to its recorded size (--quick: not that one, the\n"
               "slowest: about 1 ms a galaxy).  It also lists answer records no zoosh\n"
               "command writes, which nothing counts (a retraction of another user's answer,\n"
               "a user name written by another uid; README: what group write access allows).\n"
               "Lists each problem found.  A check that finds data.mdb's pages damaged leaves\n"
               "WS/check-failed: commands that write refuse WS until a clean check.\n"
               "--repair DEST copies every record that parses and agrees with the others into\n"
               "a new workspace DEST (galaxies and answers renumbered densely, the magic\n"
               "rewritten) and lists what it left behind (forged keys, records that do not\n"
               "parse, incomplete feature sets); WS is not changed.\n"
               "exit: 0 clean (--repair: copy made), 1 --repair failed, 3 damaged or not a\n"
               "workspace, 2 usage\n");
}

static int check_repair(const char *ws, const char *dest)
{
    if (ws[0] == '-' || dest[0] == '-') { check_usage(stderr); return EXIT_USAGE; }
    zs_store *st = NULL;
    int rc = cmd_open_ws("check", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    core_workspace_repair_report r;
    rc = core_workspace_repair(st, dest, &r);
    store_close(st);
    int status = 0;
    if (rc == 0) {
        printf("%s: repaired copy in %s: %ld records kept, %ld left behind\n", tui_text_safe(ws), tui_text_safe(dest), r.kept,
               r.dropped);
        for (char *line = r.text, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (nl) *nl = 0;
            printf("  left behind: %s\n", tui_text_safe(line));
            if (!nl) break;
        }
    } else {
        fprintf(stderr, "zoosh check: %s --repair %s: %s%s%s\n", tui_text_safe(ws), tui_text_safe(dest), store_strerror(rc),
                r.text[0] ? ": " : "", tui_text_safe(r.text));
        status = 1;
    }
    core_workspace_repair_report_free(&r);
    return status;
}

int cmd_check(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { check_usage(stdout); return 0; }
    int quick = 0;
    const char *repair = NULL;   /* --repair DEST */
    static const struct option lo[] = {{"quick", no_argument, 0, 'q'}, {"repair", required_argument, 0, 'r'},
                                       {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":", lo)) != -1) {
        if (c == 'r') { repair = optarg; continue; }
        if (c != 'q') return cmd_bad_option("check", c, argv, optind);
        quick = 1;
    }
    if (optind + 1 != argc) { check_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[optind];
    if (repair) return check_repair(ws, repair);
    zs_store *st = NULL;
    int rc = cmd_open_ws("check", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    core_workspace_check_report r;
    rc = core_workspace_check(st, !quick, &r);
    store_close(st);
    int status = 0;
    if (rc == 0) {
        printf("%s: ok\n", ws);
    } else if (rc == STORE_ECORRUPT) {
        int np = r.n_problems;
        printf("%s: %d problem%s\n", ws, np, np == 1 ? "" : "s");
        for (char *line = r.text, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (nl) *nl = 0;
            printf("  %s\n", tui_text_safe(line));
            if (!nl) break;
        }
        status = EXIT_WORKSPACE;
    } else {
        status = cmd_ws_failed("check", ws, rc);
    }
    core_workspace_check_report_free(&r);
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
    static const struct option lo[] = {{0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    if ((c = cmd_getopt(argc, argv, ":", lo)) != -1) return cmd_bad_option("backup", c, argv, optind);
    if (optind + 2 != argc) { backup_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[optind], *dest = argv[optind + 1];
    zs_store *st = NULL;
    int rc = cmd_open_ws("backup", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    double bytes, seconds;
    rc = core_workspace_backup(st, dest, &bytes, &seconds);
    store_close(st);
    if (rc == STORE_EEXIST) {
        fprintf(stderr, "zoosh backup: %s already holds a workspace; choose a new directory\n", dest);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "zoosh backup: %s -> %s: %s %s\n", ws, dest, store_strerror(rc), store_last_error());
        return 1;
    }
    printf("backed up %s to %s (", ws, dest);
    print_bytes(bytes);
    printf(", %.2f s)\n", seconds);
    return 0;
}
