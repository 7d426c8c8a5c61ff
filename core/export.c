/*
 * export.c - a workspace out as CSV (or a feature set as HDF5); see export.h.
 * One read transaction for the whole export: what it writes is one
 * consistent state of the workspace.
 */
#include "core/export.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/csv.h"
#include "core/featio.h"
#include "core/answers.h"
#include "core/learn.h"
#include "core/schema.h"
#include "core/util.h"

/* The votes of one task (export zoobot / labels / interest), from the
 * answers that count (core_answers_counted: each user's latest answer per
 * galaxy, not retracted). */
typedef struct {
    const core_schema *sc;
    int ncol;
    int (*colof)[CORE_SCHEMA_MAX_A];   /* (n_questions, max answers) column index */
    uint32_t maxgid;
    int *counts;          /* (maxgid + 1, ncol) */
    double *rsum;         /* (maxgid + 1) ratings */
    int *rn;              /* (maxgid + 1) */
} agg;

/* The columns a tree answer of the task votes for (0 when none). */
static int agg_cols(const agg *g, const store_answer *a, int16_t *col)
{
    int n = 0;
    for (int i = 0; i < a->n_steps && i < STORE_STEPS_MAX; i++) {
        int q = core_schema_question(g->sc, a->steps[i].question);
        int an = q >= 0 ? core_schema_answer(g->sc, q, a->steps[i].answer) : -1;
        if (an >= 0) col[n++] = (int16_t)g->colof[q][an];
    }
    return n;
}

static int agg_want(const store_answer *a, void *ctx)
{
    const agg *g = ctx;
    int16_t col[STORE_STEPS_MAX];
    if (a->gid > g->maxgid || strcmp(a->task, g->sc->name) != 0) return -1;
    if (a->kind == STORE_ANS_TREE && g->counts) return agg_cols(g, a, col) > 0 ? 0 : -1;
    if (a->kind == STORE_ANS_RATING && g->rsum) return 1;
    return -1;
}

static int aggregate(const store_answer *a, void *ctx)
{
    agg *g = ctx;
    if (a->kind == STORE_ANS_RATING) {
        g->rsum[a->gid] += a->rating;
        g->rn[a->gid]++;
        return 0;
    }
    int16_t col[STORE_STEPS_MAX];
    int n = agg_cols(g, a, col);
    for (int k = 0; k < n; k++) g->counts[(size_t)a->gid * (size_t)g->ncol + (size_t)col[k]]++;
    return 0;
}

typedef struct {
    FILE *out;
    zs_txn *txn;
    const char *task;     /* only this task's answers, or NULL */
    long rows;
} logctx;

static const char *kind_name(int k)
{
    switch (k) {
    case STORE_ANS_TREE: return "tree";
    case STORE_ANS_RATING: return "rating";
    case STORE_ANS_RETRACT: return "retract";
    case STORE_ANS_FAVOURITE: return "favourite";
    case STORE_ANS_SKIP: return "skip";
    default: return "unknown";
    }
}

static int write_log_row(const store_answer *a, void *ctx)
{
    logctx *l = ctx;
    if (l->task && strcmp(a->task, l->task) != 0) return 0;
    l->rows++;
    char tbuf[64];
    time_t secs = (time_t)(a->time_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(tbuf + n, sizeof tbuf - n, ".%06ldZ", (long)(a->time_us % 1000000));
    store_galaxy g;
    const char *id = "";
    int have = store_galaxy_get(l->txn, a->gid, &g) == 0;
    if (have) id = g.id_str;
    fprintf(l->out, "%llu,%s,", (unsigned long long)a->seq, tbuf);
    core_csv_put(l->out, a->user); fputc(',', l->out);
    core_csv_put(l->out, a->task); fputc(',', l->out);
    fprintf(l->out, "%s,", kind_name(a->kind));
    core_csv_put(l->out, id); fputc(',', l->out);
    char qs[STORE_STEPS_MAX * (STORE_KEY_MAX + 1) + 1] = "", as[sizeof qs] = "";
    size_t qn = 0, an = 0;
    for (int i = 0; i < a->n_steps && i < STORE_STEPS_MAX; i++) {
        qn += (size_t)snprintf(qs + qn, sizeof qs - qn, "%s%.*s", i ? ";" : "", STORE_KEY_MAX, a->steps[i].question);
        an += (size_t)snprintf(as + an, sizeof as - an, "%s%.*s", i ? ";" : "", STORE_KEY_MAX, a->steps[i].answer);
    }
    core_csv_put(l->out, qs); fputc(',', l->out);
    core_csv_put(l->out, as); fputc(',', l->out);
    if (a->kind == STORE_ANS_RATING) fprintf(l->out, "%d", a->rating);
    fputc(',', l->out);
    if (a->kind == STORE_ANS_RETRACT) fprintf(l->out, "%llu", (unsigned long long)a->retracts);
    fputc('\n', l->out);
    if (have) store_galaxy_free(&g);
    return 0;
}

/* 1 / 0 for yes / no style answers, -1 otherwise. */
static int yes_no(const char *k)
{
    if (!strcasecmp(k, "yes") || !strcmp(k, "1") || !strcasecmp(k, "true")) return 1;
    if (!strcasecmp(k, "no") || !strcmp(k, "0") || !strcasecmp(k, "false")) return 0;
    return -1;
}

static const char *const format_names[] = {
    [CORE_EXPORT_ZOOBOT] = "zoobot", [CORE_EXPORT_LABELS] = "labels", [CORE_EXPORT_ANSWERS] = "answers",
    [CORE_EXPORT_INTEREST] = "interest", [CORE_EXPORT_FEATURES] = "features",
    [CORE_EXPORT_PREDICTIONS] = "predictions",
};

int core_export_format_parse(const char *name)
{
    for (int f = 0; f < (int)(sizeof format_names / sizeof *format_names); f++)
        if (strcmp(name, format_names[f]) == 0) return f;
    return -1;
}

int core_export_path_is_hdf5(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return (n > 3 && strcasecmp(path + n - 3, ".h5") == 0) || (n > 5 && strcasecmp(path + n - 5, ".hdf5") == 0);
}

int core_export_run(zs_store *st, const core_export_opts *o, FILE *out, core_export_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    int fmt = o->format;
    const char *ws = o->ws, *task = o->task, *task_given = o->task, *set = o->set, *outp = o->output;
    if (!task) task = fmt == CORE_EXPORT_LABELS ? "ring" : fmt == CORE_EXPORT_INTEREST ? "interest" : "gz-decals";
    int status = CORE_EXPORT_EINPUT, rc = 0;
    core_outfile of = {0};       /* o->output: written beside it and renamed (core_out_open) */
    zs_txn *txn = NULL;
    agg g;
    memset(&g, 0, sizeof g);
    float *x = NULL;
    uint32_t *gids = NULL;
    char *defset = NULL;
    /* the task: the workspace's own (custom trees live there), else a
     * built-in name or a schema file */
    core_schema *sc = xcalloc(1, sizeof *sc);
    int need_task = fmt == CORE_EXPORT_ZOOBOT || fmt == CORE_EXPORT_LABELS || fmt == CORE_EXPORT_INTEREST ||
                    fmt == CORE_EXPORT_PREDICTIONS;
    if (need_task) {
        char e[512];
        zs_txn *t0 = NULL;
        int found = 0;
        if (store_read_begin(st, &t0) == 0) {
            found = core_schema_ws_get(t0, task, sc, e, sizeof e) == 0;
            store_read_end(t0);
        }
        if (!found && core_schema_resolve(task, sc, e, sizeof e)) {
            core_set_err(err, errlen, "--task %s: %s", task, e);
            goto end;
        }
    }
    if (fmt == CORE_EXPORT_ZOOBOT && sc->kind != CORE_TASK_TREE) {
        core_set_err(err, errlen, "--task %s is a rating task; --format zoobot needs a decision tree", task);
        goto end;
    }
    if (fmt == CORE_EXPORT_LABELS && (sc->kind != CORE_TASK_TREE || sc->n_questions != 1)) {
        core_set_err(err, errlen, "--format labels needs a one-question task (like ring); "
                                  "'%s' has %d questions: use --format zoobot", sc->name, sc->n_questions);
        goto end;
    }
    if (fmt == CORE_EXPORT_INTEREST && sc->kind != CORE_TASK_RATING) {
        core_set_err(err, errlen, "--format interest needs a rating task; '%s' is a tree", sc->name);
        goto end;
    }
    snprintf(rep->task, sizeof rep->task, "%s", sc->name);
    if ((rc = store_read_begin(st, &txn))) {
        core_set_err(err, errlen, "%s: %s", ws, store_strerror(rc));
        status = CORE_EXPORT_EWORKSPACE;
        goto end;
    }
    int hdf5 = fmt == CORE_EXPORT_FEATURES && core_export_path_is_hdf5(outp);
    if (outp && strcmp(outp, "-") != 0) {
        char oerr[512];
        if (core_out_open(&of, outp, oerr, sizeof oerr)) {
            core_set_err(err, errlen, "%s: %s", outp, oerr);
            goto end;
        }
        out = of.f;
    }
    long rows = 0;
    if (fmt == CORE_EXPORT_ANSWERS) {
        fprintf(out, "seq,time,user,task,kind,id_str,question,answer,rating,retracts\n");
        logctx l = {out, txn, task_given, 0};
        if ((rc = store_answer_each(txn, 1, write_log_row, &l))) goto store_fail;
        rows = l.rows;
    } else if (fmt == CORE_EXPORT_FEATURES) {
        if (!set) {
            rc = store_meta_get(txn, "features.default", &defset);
            if (rc == STORE_ENOTFOUND) {
                core_set_err(err, errlen, "%s has no default feature set; name one with --set", ws);
                goto end;
            }
            if (rc) goto store_fail;
            set = defset;
        }
        int n = 0, dim = 0;
        rc = store_features_load(txn, set, &x, &gids, &n, &dim);
        if (rc == STORE_ENOTFOUND) { core_set_err(err, errlen, "%s: no feature set '%s'", ws, set); goto end; }
        if (rc) goto store_fail;
        if (hdf5) {
            /* predictions (n, dim, 1), id_str, label_cols: what --features reads back */
            core_featset h = {.n = n, .dim = dim, .x = x};
            h.ids = xcalloc((size_t)(n ? n : 1), sizeof(char *));
            for (int i = 0; i < n && !rc; i++) {
                store_galaxy gal;
                if ((rc = store_galaxy_get(txn, gids[i], &gal))) break;
                h.ids[i] = xstrdup(gal.id_str);
                store_galaxy_free(&gal);
            }
            char e[600];
            const char *hp = of.tmp ? of.tmp : of.path;
            int bad = !rc && core_feat_save_hdf5(out, hp, &h, e, sizeof e);
            for (int i = 0; i < n; i++) free(h.ids[i]);
            free(h.ids);
            if (rc) goto store_fail;
            if (bad) {      /* the reason names the temporary file: name the output */
                size_t hl = strlen(hp);
                core_set_err(err, errlen, "%s: %s", outp, strncmp(e, hp, hl) == 0 && e[hl] == ':' ? e + hl + 2 : e);
                goto end;
            }
            rows = n;
        } else {
            fputs("id_str", out);
            for (int j = 0; j < dim; j++) fprintf(out, ",feat_%d", j);
            fputc('\n', out);
            for (int i = 0; i < n; i++) {
                store_galaxy gal;
                if ((rc = store_galaxy_get(txn, gids[i], &gal))) goto store_fail;
                core_csv_put(out, gal.id_str);
                store_galaxy_free(&gal);
                const float *v = x + (size_t)i * (size_t)dim;
                for (int j = 0; j < dim; j++) fprintf(out, ",%.9g", (double)v[j]);
                fputc('\n', out);
                rows++;
            }
        }
    } else if (fmt == CORE_EXPORT_PREDICTIONS) {
        core_model_info info;
        rc = core_model_info_get(txn, sc->name, &info);
        if (rc == STORE_ENOTFOUND) {
            core_set_err(err, errlen, "no model for task '%s' yet (train one: zoosh train %s --task %s)", sc->name, ws, sc->name);
            goto end;
        }
        if (rc) goto store_fail;
        int ncol = core_schema_n_columns(sc);
        int maxp = ncol > 0 ? ncol : 64;
        float *p = xmalloc(sizeof(float) * (size_t)maxp);
        uint32_t maxgid = store_galaxy_max(txn);
        int header_done = 0;
        for (uint32_t gid = 1; gid <= maxgid; gid++) {
            int n = 0;
            rc = core_pred_get(txn, sc->name, gid, p, maxp, &n);
            if (rc == STORE_ENOTFOUND) continue;
            if (rc) { free(p); goto store_fail; }
            if (!header_done) {
                fputs("id_str,file_loc", out);
                for (int j = 0; j < n; j++) {
                    char cb[160];
                    if (sc->kind == CORE_TASK_RATING) {   /* the GP's predicted rating and its spread */
                        fprintf(out, ",%s_%s", sc->name, j == 0 ? "predicted" : j == 1 ? "sd" : "extra");
                        continue;
                    }
                    if (j < ncol) core_schema_column(sc, j, cb, sizeof cb, NULL, NULL);
                    else snprintf(cb, sizeof cb, "%s_%d", sc->name, j);
                    fprintf(out, ",%s_prob", cb);
                }
                fputc('\n', out);
                header_done = 1;
            }
            store_galaxy gal;
            if (store_galaxy_get(txn, gid, &gal) != 0) continue;
            core_csv_put(out, gal.id_str); fputc(',', out);
            core_csv_put(out, gal.file ? gal.file : "");
            store_galaxy_free(&gal);
            for (int j = 0; j < n; j++) fprintf(out, ",%.6g", (double)p[j]);
            fputc('\n', out);
            rows++;
        }
        free(p);
        if (!header_done) {
            core_set_err(err, errlen, "the model for task '%s' has no predictions stored yet", sc->name);
            goto end;
        }
    } else {
        /* aggregated answers: zoobot, labels, interest */
        g.sc = sc;
        g.maxgid = store_galaxy_max(txn);
        if (sc->kind == CORE_TASK_TREE) {
            g.ncol = core_schema_n_columns(sc);
            g.colof = xcalloc((size_t)(sc->n_questions ? sc->n_questions : 1), sizeof *g.colof);
            for (int i = 0; i < g.ncol; i++) {
                int q, a;
                char cb[160];
                core_schema_column(sc, i, cb, sizeof cb, &q, &a);
                g.colof[q][a] = i;
            }
            g.counts = xcalloc(((size_t)g.maxgid + 1) * (size_t)(g.ncol ? g.ncol : 1), sizeof(int));
        } else {
            g.rsum = xcalloc((size_t)g.maxgid + 1, sizeof(double));
            g.rn = xcalloc((size_t)g.maxgid + 1, sizeof(int));
        }
        /* a user who answered a galaxy twice (changed their mind, or two
         * sessions) has one vote: their latest answer not retracted, the
         * rule training follows too (core_answers_counted) */
        if ((rc = core_answers_counted(txn, agg_want, aggregate, &g))) goto store_fail;
        char cb[160];
        if (fmt == CORE_EXPORT_ZOOBOT) {
            fputs("id_str,file_loc", out);
            for (int i = 0; i < g.ncol; i++) { core_schema_column(sc, i, cb, sizeof cb, NULL, NULL); fprintf(out, ",%s", cb); }
            for (int i = 0; i < g.ncol; i++) { core_schema_column(sc, i, cb, sizeof cb, NULL, NULL); fprintf(out, ",%s_fraction", cb); }
            fputc('\n', out);
        } else if (fmt == CORE_EXPORT_LABELS) {
            fprintf(out, "id_str,file_loc,%s\n", sc->name);
        } else {
            fprintf(out, "id_str,file_loc,%s_mean,%s_n\n", sc->name, sc->name);
        }
        int qtot[CORE_SCHEMA_MAX_Q];
        for (uint32_t gid = 1; gid <= g.maxgid; gid++) {
            const int *c = g.counts ? g.counts + (size_t)gid * (size_t)g.ncol : NULL;
            int any = 0;
            if (c) for (int i = 0; i < g.ncol; i++) any |= c[i] != 0;
            else any = g.rn[gid] > 0;
            if (!any) continue;
            int best = -1;
            if (fmt == CORE_EXPORT_LABELS) {
                int bc = 0, tie = 0;
                for (int a = 0; a < sc->q[0].n_answers; a++) {
                    int v = c[g.colof[0][a]];
                    if (v > bc) { bc = v; best = a; tie = 0; }
                    else if (v == bc && v > 0) tie = 1;
                }
                if (tie || best < 0) continue;
            }
            store_galaxy gal;
            if ((rc = store_galaxy_get(txn, gid, &gal))) goto store_fail;
            core_csv_put(out, gal.id_str); fputc(',', out);
            core_csv_put(out, gal.file ? gal.file : "");
            store_galaxy_free(&gal);
            if (fmt == CORE_EXPORT_ZOOBOT) {
                memset(qtot, 0, sizeof qtot);
                for (int i = 0; i < g.ncol; i++) {
                    int q, a;
                    core_schema_column(sc, i, cb, sizeof cb, &q, &a);
                    qtot[q] += c[i];
                    fprintf(out, ",%d", c[i]);
                }
                for (int i = 0; i < g.ncol; i++) {
                    int q, a;
                    core_schema_column(sc, i, cb, sizeof cb, &q, &a);
                    if (qtot[q]) fprintf(out, ",%.6g", (double)c[i] / qtot[q]);
                    else fputc(',', out);
                }
            } else if (fmt == CORE_EXPORT_LABELS) {
                const char *key = sc->q[0].answers[best].key;
                int yn = yes_no(key);
                if (yn >= 0) fprintf(out, ",%d", yn);
                else { fputc(',', out); core_csv_put(out, key); }
            } else {
                fprintf(out, ",%.6g,%d", g.rsum[gid] / g.rn[gid], g.rn[gid]);
            }
            fputc('\n', out);
            rows++;
        }
    }
    if (fflush(out) != 0 || ferror(out)) {
        core_set_err(err, errlen, "%s: write error: %s", outp ? outp : "stdout", strerror(errno));
        goto end;
    }
    if (of.f) {
        char oerr[512];
        if (core_out_close(&of, 1, oerr, sizeof oerr)) { core_set_err(err, errlen, "%s: %s", outp, oerr); goto end; }
    }
    rep->rows = rows;
    rep->hdf5 = hdf5;
    status = 0;
    goto end;
store_fail:
    core_set_err(err, errlen, "%s: %s %s", ws, store_strerror(rc), store_last_error());
    status = CORE_EXPORT_EWORKSPACE;
end:
    core_out_close(&of, 0, NULL, 0);     /* a failed export leaves the old file */
    store_read_end(txn);
    free(g.colof); free(g.counts); free(g.rsum); free(g.rn);
    free(x); free(gids); free(defset);
    free(sc);
    return status;
}
