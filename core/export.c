/*
 * export.c - a workspace out as CSV (features and predictions also as
 * Zoobot's HDF5); see export.h.  One read transaction for the whole export:
 * what it writes is one consistent state of the workspace.  Every output
 * file goes through core_out_open (made O_EXCL beside its target, renamed
 * into place), the HDF5 built in memory first (core_feat_save_hdf5).
 */
#include "core/export.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/csv.h"
#include "core/featio.h"
#include "core/answers.h"
#include "core/notes.h"
#include "core/learn.h"
#include "core/repr.h"
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
    if (a->kind == STORE_ANS_TREE && g->counts) return agg_cols(g, a, col) > 0 || core_answers_abstains(a) ? 0 : -1;
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
    core_answers *rule;   /* the counting rule, fed every record: which are foreign */
} logctx;

static const char *kind_name(int k)
{
    switch (k) {
    case STORE_ANS_TREE: return "tree";
    case STORE_ANS_RATING: return "rating";
    case STORE_ANS_RETRACT: return "retract";
    case STORE_ANS_FAVOURITE: return "favourite";
    case STORE_ANS_SKIP: return "skip";
    case STORE_ANS_NOTE: return "note";
    default: return "unknown";
    }
}

/* Every answer takes part: the log export only asks which records are foreign. */
static int want_every(const store_answer *a, void *ctx)
{
    (void)a;
    (void)ctx;
    return 0;
}

static int write_log_row(const store_answer *a, void *ctx)
{
    logctx *l = ctx;
    uint64_t before = core_answers_foreign(l->rule);
    core_answers_feed(l->rule, a);   /* every task's: foreignness depends on the whole log */
    int foreign = core_answers_foreign(l->rule) != before;
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
    fprintf(l->out, ",%d\n", foreign);
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
    [CORE_EXPORT_PREDICTIONS] = "predictions", [CORE_EXPORT_NOTES] = "notes",
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

void core_export_legend_path(const char *path, char *buf, size_t len)
{
    size_t n = strlen(path);
    if (n > 4 && strcasecmp(path + n - 4, ".csv") == 0) n -= 4;
    snprintf(buf, len, "%.*s.legend.csv", (int)n, path);
}

int core_export_path_normal(const char *path, char *buf, size_t len)
{
    char tmp[PATH_MAX * 2];
    if (path[0] == '/') snprintf(tmp, sizeof tmp, "%s", path);
    else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return -1;
        snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
    }
    if (len < 2) return -1;
    size_t o = 0;   /* buf[0..o): the path so far, "" for the root */
    for (char *save = NULL, *seg = strtok_r(tmp, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (!strcmp(seg, ".")) continue;
        if (!strcmp(seg, "..")) {
            while (o > 0 && buf[o - 1] != '/') o--;
            if (o > 0) o--;
            continue;
        }
        size_t sl = strlen(seg);
        if (o + 1 + sl + 1 > len) return -1;
        buf[o++] = '/';
        memcpy(buf + o, seg, sl);
        o += sl;
    }
    if (o == 0) buf[o++] = '/';
    buf[o] = 0;
    return 0;
}

/* An image's file_loc: normalised, relative to rel (a normalised folder)
 * when rel is set.  -1 when the image is not under rel. */
static int file_loc(const char *file, const char *rel, char *buf, size_t len)
{
    char norm[PATH_MAX * 2];
    if (!file || !file[0]) { snprintf(buf, len, "%s", ""); return 0; }
    if (core_export_path_normal(file, norm, sizeof norm)) snprintf(norm, sizeof norm, "%s", file);
    if (!rel) { snprintf(buf, len, "%s", norm); return 0; }
    size_t rl = strlen(rel);
    if (strcmp(rel, "/") == 0) { snprintf(buf, len, "%s", norm + 1); return 0; }
    if (strncmp(norm, rel, rl) != 0 || norm[rl] != '/') return -1;
    snprintf(buf, len, "%s", norm + rl + 1);
    return 0;
}

/* Column i of sc as Zoobot names it: "<question>_<answer>", the question
 * key with "-SUFFIX" when suffix is set (gz-decals -> -dr5 / -dr8). */
static void col_name(const core_schema *sc, int i, const char *suffix, char *buf, size_t len)
{
    int q, a;
    core_schema_column(sc, i, NULL, 0, &q, &a);
    snprintf(buf, len, "%s%s%s_%s", sc->q[q].key, suffix ? "-" : "", suffix ? suffix : "", sc->q[q].answers[a].key);
}

/* The galaxy's id and file_loc as the first two CSV fields. */
static int put_galaxy(FILE *out, zs_txn *txn, uint32_t gid, const char *rel, char *err, size_t errlen)
{
    store_galaxy gal;
    int rc = store_galaxy_get(txn, gid, &gal);
    if (rc) return rc;
    char loc[PATH_MAX * 2];
    if (file_loc(gal.file, rel, loc, sizeof loc)) {
        core_set_err(err, errlen, "galaxy %s: its image %s is not under --relative-to %s", gal.id_str, gal.file, rel);
        store_galaxy_free(&gal);
        return -1;
    }
    core_csv_put(out, gal.id_str); fputc(',', out);
    core_csv_put(out, loc);
    store_galaxy_free(&gal);
    return 0;
}

/* n rows x[n][dim] of galaxies gids as Zoobot's HDF5 to out (the stream of
 * of, else standard output).  0, CORE_EXPORT_EINPUT or _EWORKSPACE. */
static int put_hdf5(FILE *out, const core_outfile *of, const char *outp, zs_txn *txn, const uint32_t *gids, int n,
                    int dim, float *x, char *const *cols, char *err, size_t errlen)
{
    core_featset h = {.n = n, .dim = dim, .x = x};
    h.ids = xcalloc((size_t)(n ? n : 1), sizeof(char *));
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        store_galaxy gal;
        if ((rc = store_galaxy_get(txn, gids[i], &gal))) break;
        h.ids[i] = xstrdup(gal.id_str);
        store_galaxy_free(&gal);
    }
    char e[600];
    const char *hp = of->tmp ? of->tmp : of->path ? of->path : "stdout";
    int bad = !rc && core_feat_save_hdf5(out, hp, &h, cols, e, sizeof e);
    for (int i = 0; i < n; i++) free(h.ids[i]);
    free(h.ids);
    if (rc) {
        core_set_err(err, errlen, "%s %s", store_strerror(rc), store_last_error());
        return CORE_EXPORT_EWORKSPACE;
    }
    if (bad) {      /* the reason names the temporary file: name the output */
        size_t hl = strlen(hp);
        core_set_err(err, errlen, "%s: %s", outp ? outp : "stdout", strncmp(e, hp, hl) == 0 && e[hl] == ':' ? e + hl + 2 : e);
        return CORE_EXPORT_EINPUT;
    }
    return 0;
}

/* What galaxy gid's row of an aggregated export holds: -2 none (no
 * answer, or a labels tie), else labels' answer index (*from_cat when it
 * comes from the catalog's cat[]), -1 for zoobot and interest. */
static int row_pick(const agg *g, const int *cat, uint32_t gid, int labels, int *from_cat)
{
    const int *c = g->counts ? g->counts + (size_t)gid * (size_t)g->ncol : NULL;
    int any = 0;
    *from_cat = 0;
    if (c) for (int i = 0; i < g->ncol; i++) any |= c[i] != 0;
    else any = g->rn[gid] > 0;
    if (!any && cat && cat[gid] >= 0) { *from_cat = 1; return cat[gid]; }
    if (!any) return -2;
    if (!labels) return -1;
    int best = -1, bc = 0, tie = 0;
    for (int a = 0; a < g->sc->q[0].n_answers; a++) {
        int v = c[g->colof[0][a]];
        if (v > bc) { bc = v; best = a; tie = 0; }
        else if (v == bc && v > 0) tie = 1;
    }
    return tie || best < 0 ? -2 : best;
}

/* The catalog's prior column NAME by gid (store_prior_column), NULL when
 * no galaxy has a value in it. */
static double *prior_col(zs_txn *txn, const char *name, uint32_t *len)
{
    double *v = NULL;
    *len = 0;
    if (store_prior_column(txn, name, &v, len) != 0) return NULL;
    for (uint32_t k = 1; k < *len; k++)
        if (isfinite(v[k])) return v;
    free(v);
    *len = 0;
    return NULL;
}

/* labels --with-priors: the catalog's answer index for each galaxy of the
 * one-question task sc (-1 none or a tie), from its prior columns: vote
 * counts "<q>_<a>", else fractions "<q>_<a>_fraction", else a 0/1 column
 * named after the task.  (maxgid + 1) ints, malloc'ed. */
static int *catalog_labels(zs_txn *txn, const core_schema *sc, uint32_t maxgid)
{
    int *best = xmalloc(((size_t)maxgid + 1) * sizeof(int));
    for (uint32_t g = 0; g <= maxgid; g++) best[g] = -1;
    const core_question *q = &sc->q[0];
    int na = q->n_answers;
    double **col = xcalloc((size_t)na, sizeof(double *));   /* (na) a column each, by gid */
    uint32_t *clen = xcalloc((size_t)na, sizeof(uint32_t));
    int have = 0;
    for (int form = 0; form < 2 && !have; form++) {
        for (int a = 0; a < na; a++) {
            char name[160];
            snprintf(name, sizeof name, "%s_%s%s", q->key, q->answers[a].key, form ? "_fraction" : "");
            col[a] = prior_col(txn, name, &clen[a]);
            have += col[a] != NULL;
        }
        if (!have) continue;
        for (uint32_t g = 1; g <= maxgid; g++) {
            double bv = -1;
            int b = -1, tie = 0;
            for (int a = 0; a < na; a++) {
                double v = col[a] && g < clen[a] ? col[a][g] : NAN;
                if (!isfinite(v)) continue;
                if (v > bv) { bv = v; b = a; tie = 0; }
                else if (v == bv) tie = 1;
            }
            if (b >= 0 && !tie && bv > 0) best[g] = b;
        }
    }
    double *lab = NULL;
    uint32_t llen = 0;
    int yes = -1, no = -1;
    for (int a = 0; a < na; a++) {
        int yn = yes_no(q->answers[a].key);
        if (yn == 1) yes = a; else if (yn == 0) no = a;
    }
    if (!have && na == 2 && yes >= 0 && no >= 0 && (lab = prior_col(txn, sc->name, &llen)))
        for (uint32_t g = 1; g <= maxgid && g < llen; g++)
            if (isfinite(lab[g]) && lab[g] != 0.5) best[g] = lab[g] > 0.5 ? yes : no;
    free(lab);
    for (int a = 0; a < na; a++) free(col[a]);
    free(col);
    free(clen);
    return best;
}

/* The legend of a labels export of sc to outp: "TASK,answer,text" rows in
 * the file core_export_legend_path names (core_out_open). */
static int put_legend(const core_schema *sc, const char *outp, core_export_report *rep, char *err, size_t errlen)
{
    const core_question *q = &sc->q[0];
    core_outfile lf = {0};
    char path[4096], oerr[512];
    core_export_legend_path(outp, path, sizeof path);
    if (core_out_open(&lf, path, oerr, sizeof oerr)) {
        core_set_err(err, errlen, "%s: %s", path, oerr);
        return -1;
    }
    fprintf(lf.f, "%s,answer,text\n", sc->name);
    for (int a = 0; a < q->n_answers; a++) {
        fprintf(lf.f, "%d,", a);
        core_csv_put(lf.f, q->answers[a].key); fputc(',', lf.f);
        core_csv_put(lf.f, q->answers[a].text); fputc('\n', lf.f);
    }
    if (core_out_close(&lf, 1, oerr, sizeof oerr)) {
        core_set_err(err, errlen, "%s: %s", path, oerr);
        return -1;
    }
    snprintf(rep->legend_file, sizeof rep->legend_file, "%s", path);
    return 0;
}

int core_export_run(zs_store *st, const core_export_opts *o, FILE *out, core_export_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    int fmt = o->format;
    const char *ws = o->ws, *task = o->task, *task_given = o->task, *set = o->set, *outp = o->output;
    const char *suffix = o->suffix;
    if (!task) task = fmt == CORE_EXPORT_LABELS ? "ring" : fmt == CORE_EXPORT_INTEREST ? "interest" : "gz-decals";
    int status = CORE_EXPORT_EINPUT, rc = 0;
    core_outfile of = {0};       /* o->output: written beside it and renamed (core_out_open) */
    zs_txn *txn = NULL;
    agg g;
    memset(&g, 0, sizeof g);
    float *x = NULL, *pv = NULL;
    uint32_t *gids = NULL;
    char **cols = NULL, pick[STORE_FEATNAME_MAX + 1];
    int ncols = 0, *cat = NULL;
    char rel[PATH_MAX * 2], *relp = NULL;
    core_schema *sc = xcalloc(1, sizeof *sc);
    if (o->relative_to) {
        if (core_export_path_normal(o->relative_to, rel, sizeof rel)) {
            core_set_err(err, errlen, "--relative-to %s: path too long", o->relative_to);
            goto end;
        }
        relp = rel;
    }
    if (suffix && strcmp(suffix, "dr5") && strcmp(suffix, "dr8")) {
        core_set_err(err, errlen, "--suffix %s: dr5 or dr8 (Zoobot's GZ DECaLS campaigns)", suffix);
        goto end;
    }
    /* the task: the workspace's own (custom trees live there), else a
     * built-in name or a schema file */
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
    if (suffix && (!need_task || strcmp(sc->name, "gz-decals") != 0)) {
        core_set_err(err, errlen, "--suffix is for the gz-decals task (Zoobot's -dr5 / -dr8 columns), not '%s'",
                     need_task ? sc->name : format_names[fmt]);
        goto end;
    }
    if (o->with_priors && fmt != CORE_EXPORT_LABELS) {
        core_set_err(err, errlen, "--with-priors goes with --format labels");
        goto end;
    }
    if (o->hdf5 && fmt != CORE_EXPORT_FEATURES && fmt != CORE_EXPORT_PREDICTIONS) {
        core_set_err(err, errlen, "--hdf5 is for --format features or predictions");
        goto end;
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
    int hdf5 = (fmt == CORE_EXPORT_FEATURES || fmt == CORE_EXPORT_PREDICTIONS) &&
               (o->hdf5 || core_export_path_is_hdf5(outp));
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
        fprintf(out, "seq,time,user,task,kind,id_str,question,answer,rating,retracts,foreign\n");
        logctx l = {out, txn, task_given, 0, core_answers_new(want_every, NULL)};
        rc = store_answer_each(txn, 1, write_log_row, &l);
        core_answers_free(l.rule);
        if (rc) goto store_fail;
        rows = l.rows;
    } else if (fmt == CORE_EXPORT_NOTES) {
        if ((rc = core_notes_export(txn, out, &rows))) goto store_fail;
    } else if (fmt == CORE_EXPORT_FEATURES) {
        if (!set) {   /* the set every other command uses (zoosh features --use) */
            rc = core_repr_pick_set(txn, NULL, pick, sizeof pick, NULL);
            if (rc == STORE_ENOTFOUND) {
                core_set_err(err, errlen, "%s has no feature set; run zoosh embed or import --features", ws);
                goto end;
            }
            if (rc) goto store_fail;
            set = pick;
        }
        snprintf(rep->set, sizeof rep->set, "%s", set);
        int n = 0, dim = 0;
        rc = store_features_load(txn, set, &x, &gids, &n, &dim);
        if (rc == STORE_ENOTFOUND) { core_set_err(err, errlen, "%s: no feature set '%s'", ws, set); goto end; }
        if (rc) goto store_fail;
        if (hdf5) {
            /* predictions (n, dim, 1), id_str, label_cols: what --features reads back */
            if ((status = put_hdf5(out, &of, outp, txn, gids, n, dim, x, NULL, err, errlen))) goto end;
            status = CORE_EXPORT_EINPUT;
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
        int maxp = ncol > 0 ? ncol : 64, np = -1;
        float *p = xmalloc(sizeof(float) * (size_t)maxp);
        uint32_t maxgid = store_galaxy_max(txn);
        long n = 0, cap = 0;
        for (uint32_t gid = 1; gid <= maxgid; gid++) {
            int k = 0;
            rc = core_pred_get(txn, sc->name, gid, p, maxp, &k);
            if (rc == STORE_ENOTFOUND) continue;
            if (rc) { free(p); goto store_fail; }
            if (k > maxp) {     /* a model of another tree (gz2 had 37 answers before it was Zoobot's 30) */
                free(p);
                core_set_err(err, errlen, "the model for task '%s' predicts %d columns, the task has %d: train it again "
                                          "(zoosh train %s --task %s)", sc->name, k, ncol, ws, sc->name);
                goto end;
            }
            if (np < 0) np = k;
            if (k != np) continue;      /* a stale row of another shape */
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                gids = xrealloc(gids, sizeof(uint32_t) * (size_t)cap);
                pv = xrealloc(pv, sizeof(float) * (size_t)cap * (size_t)(np ? np : 1));
            }
            gids[n] = gid;
            memcpy(pv + (size_t)n * (size_t)np, p, sizeof(float) * (size_t)np);
            n++;
        }
        free(p);
        rc = 0;
        if (n == 0) {
            core_set_err(err, errlen, "the model for task '%s' has no predictions stored yet", sc->name);
            goto end;
        }
        /* label_cols: the task's columns (Zoobot's names), a rating task's
         * predicted rating and its spread */
        ncols = np;
        cols = xcalloc((size_t)ncols, sizeof(char *));
        for (int j = 0; j < np; j++) {
            char cb[200];
            if (sc->kind == CORE_TASK_RATING)
                snprintf(cb, sizeof cb, "%s_%s", sc->name, j == 0 ? "predicted" : j == 1 ? "sd" : "extra");
            else if (j < ncol) col_name(sc, j, suffix, cb, sizeof cb);
            else snprintf(cb, sizeof cb, "%s_%d", sc->name, j);
            cols[j] = xstrdup(cb);
        }
        if (hdf5) {
            if ((status = put_hdf5(out, &of, outp, txn, gids, (int)n, np, pv, cols, err, errlen))) goto end;
            status = CORE_EXPORT_EINPUT;
            rows = n;
        } else {
            fputs("id_str,file_loc", out);
            for (int j = 0; j < np; j++) fprintf(out, sc->kind == CORE_TASK_RATING ? ",%s" : ",%s_pred", cols[j]);
            fputc('\n', out);
            for (long i = 0; i < n; i++) {
                if ((rc = put_galaxy(out, txn, gids[i], relp, err, errlen))) {
                    if (rc < 0) goto end;
                    goto store_fail;
                }
                for (int j = 0; j < np; j++) fprintf(out, ",%.9g", (double)pv[(size_t)i * (size_t)np + (size_t)j]);
                fputc('\n', out);
                rows++;
            }
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
        char cb[200];
        int yesno = 0;   /* labels: the task's answers are yes and no (1 / 0) */
        if (fmt == CORE_EXPORT_LABELS && o->with_priors) cat = catalog_labels(txn, sc, g.maxgid);
        long want = 0;
        for (uint32_t gid = 1; gid <= g.maxgid; gid++) {
            int fc;
            want += row_pick(&g, cat, gid, fmt == CORE_EXPORT_LABELS, &fc) != -2;
        }
        if (want == 0) {    /* said before a byte is written: nothing goes out */
            if (fmt == CORE_EXPORT_INTEREST)
                core_set_err(err, errlen, "nothing to export: no galaxy has a rating for task '%s' yet", sc->name);
            else
                core_set_err(err, errlen, "nothing to export: no galaxy has %sanswers for task '%s' yet%s",
                             fmt == CORE_EXPORT_LABELS ? "a majority of " : "", sc->name,
                             fmt == CORE_EXPORT_LABELS && !o->with_priors ? " (--with-priors adds the catalog's labels)" : "");
            goto end;
        }
        if (fmt == CORE_EXPORT_ZOOBOT) {
            fputs("id_str,file_loc", out);
            for (int i = 0; i < g.ncol; i++) { col_name(sc, i, suffix, cb, sizeof cb); fprintf(out, ",%s", cb); }
            for (int q = 0; q < sc->n_questions; q++)
                fprintf(out, ",%s%s%s_total-votes", sc->q[q].key, suffix ? "-" : "", suffix ? suffix : "");
            for (int i = 0; i < g.ncol; i++) { col_name(sc, i, suffix, cb, sizeof cb); fprintf(out, ",%s_fraction", cb); }
            fputc('\n', out);
        } else if (fmt == CORE_EXPORT_LABELS) {
            fprintf(out, "id_str,file_loc,%s%s\n", sc->name, o->with_priors ? ",source" : "");
            yesno = sc->q[0].n_answers == 2;
            for (int a = 0; a < sc->q[0].n_answers; a++) yesno &= yes_no(sc->q[0].answers[a].key) >= 0;
            if (yesno && yes_no(sc->q[0].answers[0].key) == yes_no(sc->q[0].answers[1].key)) yesno = 0;
            if (!yesno) {   /* "0 = key, 1 = key, ...": the file is written once the labels are */
                size_t n = 0;
                const core_question *q = &sc->q[0];
                for (int a = 0; a < q->n_answers && n < sizeof rep->legend; a++)
                    n += (size_t)snprintf(rep->legend + n, sizeof rep->legend - n, "%s%d = %s", a ? ", " : "", a,
                                          q->answers[a].key);
            }
        } else {
            fprintf(out, "id_str,file_loc,%s_mean,%s_n\n", sc->name, sc->name);
        }
        int qtot[CORE_SCHEMA_MAX_Q];
        for (uint32_t gid = 1; gid <= g.maxgid; gid++) {
            const int *c = g.counts ? g.counts + (size_t)gid * (size_t)g.ncol : NULL;
            int from_cat, best = row_pick(&g, cat, gid, fmt == CORE_EXPORT_LABELS, &from_cat);
            if (best == -2) continue;
            if ((rc = put_galaxy(out, txn, gid, relp, err, errlen))) {
                if (rc < 0) goto end;
                goto store_fail;
            }
            if (fmt == CORE_EXPORT_ZOOBOT) {
                memset(qtot, 0, sizeof qtot);
                for (int i = 0; i < g.ncol; i++) {
                    int q, a;
                    core_schema_column(sc, i, NULL, 0, &q, &a);
                    qtot[q] += c[i];
                    fprintf(out, ",%d", c[i]);
                }
                for (int q = 0; q < sc->n_questions; q++) fprintf(out, ",%d", qtot[q]);
                for (int i = 0; i < g.ncol; i++) {
                    int q, a;
                    core_schema_column(sc, i, NULL, 0, &q, &a);
                    if (qtot[q]) fprintf(out, ",%.6g", (double)c[i] / qtot[q]);
                    else fputc(',', out);
                }
            } else if (fmt == CORE_EXPORT_LABELS) {
                fprintf(out, ",%d", yesno ? yes_no(sc->q[0].answers[best].key) : best);
                if (o->with_priors) fputs(from_cat ? ",catalog" : ",answers", out);
                rep->from_catalog += from_cat;
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
        if (rep->legend[0] && put_legend(sc, outp, rep, err, errlen)) goto end;
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
    free(x); free(pv); free(gids); free(cat);
    for (int j = 0; j < ncols; j++) free(cols[j]);
    free(cols);
    free(sc);
    return status;
}
