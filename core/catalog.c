/*
 * catalog.c - a galaxy catalog in memory: every cell as text
 * (core_catalog_load) or the import catalog, each column given its meaning
 * and every row checked (core_catalog_check); see catalog.h.
 */
#include "core/catalog.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/schema.h"

/* ------------------------------------------------------- problems */

void core_catalog_msgs_add(core_catalog_msgs *m, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->msg = xrealloc(m->msg, sizeof(char *) * (size_t)m->cap);
    }
    m->msg[m->n++] = xstrdup(buf);
}

void core_catalog_msgs_free(core_catalog_msgs *m)
{
    for (int i = 0; i < m->n; i++) free(m->msg[i]);
    free(m->msg);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------- every cell as text */

static int keep_row(const core_csv_row *row, void *ctx)
{
    core_catalog *c = ctx;
    char **cells = xmalloc(sizeof(char *) * (size_t)(row->n ? row->n : 1));
    for (int i = 0; i < row->n; i++) cells[i] = xstrdup(row->f[i]);
    if (row->index == 0) {
        c->n_cols = row->n;
        c->cols = cells;
        return 0;
    }
    long r = c->n_rows++;
    if ((r & (r - 1)) == 0) {   /* grow at powers of two */
        size_t cap = r ? (size_t)r * 2 : 1;
        c->cells = xrealloc(c->cells, sizeof(char **) * cap);
        c->n_fields = xrealloc(c->n_fields, sizeof(int) * cap);
        c->lines = xrealloc(c->lines, sizeof(long) * cap);
    }
    c->cells[r] = cells;
    c->n_fields[r] = row->n;
    c->lines[r] = row->line;
    return 0;
}

int core_catalog_load(const char *path, core_catalog *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = core_csv_read(path, keep_row, out, err, errlen);
    if (rc == 0 && out->n_cols == 0) {
        core_set_err(err, errlen, "%s:1: empty file (no header row)", path);
        rc = -1;
    }
    if (rc) core_catalog_free(out);
    return rc ? -1 : 0;
}

int core_catalog_col(const core_catalog *c, const char *name)
{
    for (int i = 0; i < c->n_cols; i++)
        if (strcmp(c->cols[i], name) == 0) return i;
    return -1;
}

/* ------------------------------------------------------- the import catalog */

/* The names that make a numeric column a prior: for every tree of the
 * built-ins and of the workspace's own tasks, "<question>_<answer>",
 * "..._fraction", "<question>_total-votes", and the task's name when it has
 * one question (a 0/1 label column such as "ring"). */
typedef struct {
    core_strmap map;
    char **names;
    unsigned char *kind;  /* (n) CORE_CATALOG_PRIOR_COUNT, CORE_CATALOG_PRIOR_FRACTION, CORE_CATALOG_PRIOR_LABEL */
    int n, cap;
} vote_names;

static void vote_add(vote_names *v, const char *name, int kind)
{
    if (core_strmap_get(&v->map, name) >= 0) return;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->names = xrealloc(v->names, sizeof(char *) * (size_t)v->cap);
        v->kind = xrealloc(v->kind, (size_t)v->cap);
    }
    v->kind[v->n] = (unsigned char)kind;
    v->names[v->n] = xstrdup(name);
    core_strmap_put(&v->map, v->names[v->n], v->n);
    v->n++;
}

static void vote_add_schema(vote_names *v, const core_schema *s)
{
    if (s->kind != CORE_TASK_TREE) return;
    char buf[160], b2[200];
    if (s->n_questions == 1) vote_add(v, s->name, CORE_CATALOG_PRIOR_LABEL);
    for (int q = 0; q < s->n_questions; q++) {
        snprintf(buf, sizeof buf, "%s_total-votes", s->q[q].key);
        vote_add(v, buf, CORE_CATALOG_PRIOR_COUNT);
    }
    int nc = core_schema_n_columns(s);
    for (int i = 0; i < nc; i++) {
        core_schema_column(s, i, buf, sizeof buf, NULL, NULL);
        vote_add(v, buf, CORE_CATALOG_PRIOR_COUNT);
        snprintf(b2, sizeof b2, "%s_fraction", buf);
        vote_add(v, b2, CORE_CATALOG_PRIOR_FRACTION);
    }
}

static void vote_names_init(vote_names *v, zs_store *st)
{
    memset(v, 0, sizeof *v);
    core_strmap_init(&v->map, 1024);
    core_schema *s = xmalloc(sizeof *s);
    for (int t = 0; core_schema_builtin_names[t]; t++)
        if (core_schema_builtin(core_schema_builtin_names[t], s) == 0) vote_add_schema(v, s);
    zs_txn *txn = NULL;
    if (st && store_read_begin(st, &txn) == 0) {
        char names[64][32];
        int n = core_schema_ws_tasks(txn, names, 64);
        char err[256];
        for (int i = 0; i < n; i++)
            if (core_schema_ws_get(txn, names[i], s, err, sizeof err) == 0) vote_add_schema(v, s);
        store_read_end(txn);
    }
    free(s);
}

static void vote_names_free(vote_names *v)
{
    for (int i = 0; i < v->n; i++) free(v->names[i]);
    free(v->names);
    free(v->kind);
    core_strmap_free(&v->map);
}

/* Reading state of core_catalog_check. */
typedef struct {
    core_catalog *c;
    const char *path;     /* the catalog as given (messages) */
    char root[PATH_MAX];  /* absolute folder images are relative to */
    long cap_rows;
    core_catalog_msgs *bad;     /* where row problems go */
    vote_names *votes;    /* column names that are priors */
    char err[1024];       /* a whole-file problem */
} check_ctx;

static int feat_index(const char *name)
{
    if (strncmp(name, "feat_", 5) != 0 || !name[5]) return -1;
    long v = 0;
    for (const char *p = name + 5; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000000) return -1;
        v = v * 10 + (*p - '0');
    }
    if (name[5] == '0' && name[6]) return -1;
    return (int)v;
}

static int header(check_ctx *x, const core_csv_row *row)
{
    core_catalog *c = x->c;
    c->n_cols = row->n;
    c->cols = xcalloc((size_t)row->n, sizeof(char *));   /* freed whole even when a bad header stops early */
    c->kind = xcalloc((size_t)row->n, sizeof(int));
    c->sub = xcalloc((size_t)row->n, sizeof(int));
    c->meta_key = xmalloc(sizeof(char *) * (size_t)row->n);
    c->prior_name = xmalloc(sizeof(char *) * (size_t)row->n);
    c->prior_kind = xmalloc((size_t)row->n);
    c->id_col = c->file_col = -1;
    int id_str = -1, id = -1, file_loc = -1, file = -1;
    core_strmap seen;      /* name -> column: a wide header is checked in linear time */
    core_strmap_init(&seen, (size_t)row->n * 2 + 16);
    for (int j = 0; j < row->n; j++) {
        c->cols[j] = xstrdup(row->f[j]);
        int k = core_strmap_get(&seen, c->cols[j]);
        if (k >= 0) {
            snprintf(x->err, sizeof x->err, "%s:%ld: column %.200s: named twice (columns %d and %d)",
                     x->path, row->line, c->cols[j], k + 1, j + 1);
            core_strmap_free(&seen);
            return 1;
        }
        core_strmap_put(&seen, c->cols[j], j);
        if (!strcmp(row->f[j], "id_str")) id_str = j;
        else if (!strcmp(row->f[j], "id")) id = j;
        else if (!strcmp(row->f[j], "file_loc")) file_loc = j;
        else if (!strcmp(row->f[j], "file")) file = j;
    }
    core_strmap_free(&seen);
    c->id_col = id_str >= 0 ? id_str : id;
    c->file_col = file_loc >= 0 ? file_loc : file;
    if (c->id_col < 0) {
        snprintf(x->err, sizeof x->err, "%s:%ld: no id column (a catalog needs id_str or id, and file_loc or file)", x->path, row->line);
        return 1;
    }
    if (c->file_col < 0) {
        snprintf(x->err, sizeof x->err, "%s:%ld: no file column (a catalog needs file_loc or file next to %s)", x->path, row->line, c->cols[c->id_col]);
        return 1;
    }
    int max_feat = -1, n_feat = 0;
    c->kaggle_name = xcalloc((size_t)row->n, sizeof(char *));
    c->prior_class = xcalloc((size_t)row->n, 1);
    for (int j = 0; j < row->n; j++) {
        const char *n = c->cols[j];
        int fi, vi, ki, kclass = 0;
        if (j == c->id_col) c->kind[j] = CORE_CATALOG_ID;
        else if (j == c->file_col) c->kind[j] = CORE_CATALOG_FILE;
        else if (!strcasecmp(n, "ra")) c->kind[j] = CORE_CATALOG_RA;
        else if (!strcasecmp(n, "dec")) c->kind[j] = CORE_CATALOG_DEC;
        else if ((fi = feat_index(n)) >= 0) {
            c->kind[j] = CORE_CATALOG_FEAT;
            c->sub[j] = fi;
            n_feat++;
            if (fi > max_feat) max_feat = fi;
        } else if ((ki = core_schema_kaggle_index(n)) >= 0) {
            /* Kaggle's cumulative fraction: a per-question fraction of
             * gz2 / gz2-kaggle once the row's class is summed (kaggle_fractions) */
            char kc[160], kf[200];
            core_schema_kaggle_column(ki, kc, sizeof kc, &kclass);
            snprintf(kf, sizeof kf, "%s_fraction", kc);
            c->kaggle_name[j] = xstrdup(kf);
            c->kind[j] = CORE_CATALOG_PRIOR;
            c->prior_kind[c->n_prior] = CORE_CATALOG_PRIOR_FRACTION;
            c->prior_class[c->n_prior] = (unsigned char)kclass;
            c->sub[j] = c->n_prior;
            c->prior_name[c->n_prior++] = c->kaggle_name[j];
            c->n_kaggle++;
        } else if ((vi = core_strmap_get(&x->votes->map, n)) >= 0) {
            c->kind[j] = CORE_CATALOG_PRIOR;
            c->prior_kind[c->n_prior] = x->votes->kind[vi];
            c->sub[j] = c->n_prior;
            c->prior_name[c->n_prior++] = c->cols[j];
        } else {
            c->kind[j] = CORE_CATALOG_META;
            c->sub[j] = c->n_meta;
            c->meta_key[c->n_meta++] = c->cols[j];
        }
    }
    if (n_feat && n_feat != max_feat + 1) {
        snprintf(x->err, sizeof x->err, "%s:%ld: feature columns must be feat_0..feat_%d without gaps (found %d of them)",
                 x->path, row->line, max_feat, n_feat);
        return 1;
    }
    c->feat_dim = n_feat;
    for (int j = 0; j < row->n; j++) {
        int k = c->kaggle_name[j] ? core_catalog_col(c, c->kaggle_name[j]) : -1;
        if (k >= 0) {
            snprintf(x->err, sizeof x->err, "%s:%ld: column %.200s: Kaggle's %s is the same answer: give one of the two",
                     x->path, row->line, c->cols[k], c->cols[j]);
            return 1;
        }
    }
    if (c->n_meta > 65535) {
        snprintf(x->err, sizeof x->err, "%s:%ld: %d text columns (at most 65535)", x->path, row->line, c->n_meta);
        return 1;
    }
    return 0;
}

static void join_path(char *out, size_t len, const char *dir, const char *file)
{
    if (file[0] == '/') { snprintf(out, len, "%s", file); return; }
    while (file[0] == '.' && file[1] == '/') file += 2;
    size_t dl = strlen(dir);
    if (dl && dir[dl - 1] == '/') snprintf(out, len, "%s%s", dir, file);
    else snprintf(out, len, "%s/%s", dir, file);
}

static void row_free(core_catalog_row *r, int n_meta)
{
    free(r->id);
    free(r->file);
    if (r->meta_val) for (int i = 0; i < n_meta; i++) free(r->meta_val[i]);
    free(r->meta_val);
    free(r->prior);
    free(r->feat);
}

/* r's Kaggle columns, cumulative fractions (each answer's share of all
 * volunteers: Class2.* sums to Class1.2 and so on), as per-question
 * fractions: each divided by the sum of its class; a class nobody reached
 * (sum 0) is unknown (NAN). */
static void kaggle_fractions(const core_catalog *c, core_catalog_row *r)
{
    double sum[16] = {0};
    for (int k = 0; k < c->n_prior; k++)
        if (c->prior_class[k] && !isnan(r->prior[k])) sum[c->prior_class[k]] += r->prior[k];
    for (int k = 0; k < c->n_prior; k++) {
        int q = c->prior_class[k];
        if (q && !isnan(r->prior[k])) r->prior[k] = sum[q] > 0 ? r->prior[k] / sum[q] : NAN;
    }
}

static int check_row(const core_csv_row *row, void *ctx)
{
    check_ctx *x = ctx;
    core_catalog *c = x->c;
    if (row->index == 0) return header(x, row);
    if (c->n_rows == x->cap_rows) {
        x->cap_rows = x->cap_rows ? x->cap_rows * 2 : 1024;
        c->rows = xrealloc(c->rows, sizeof(core_catalog_row) * (size_t)x->cap_rows);
    }
    core_catalog_row *r = &c->rows[c->n_rows];
    memset(r, 0, sizeof *r);
    r->line = row->line;
    r->ra = r->dec = NAN;
    r->fidx = -1;
#define BAD(col, ...) do { char m_[600]; snprintf(m_, sizeof m_, __VA_ARGS__); \
        core_catalog_msgs_add(x->bad, "%s:%ld: column %s: %s", x->path, row->line, (col), m_); r->bad = 1; goto done; } while (0)
    if (row->n != c->n_cols) {
        if (row->n < c->n_cols)
            BAD(c->cols[row->n], "missing (the row has %d fields, the header %d)", row->n, c->n_cols);
        char extra[32];
        snprintf(extra, sizeof extra, "%d (past the header)", c->n_cols + 1);
        BAD(extra, "the row has %d fields, the header %d", row->n, c->n_cols);
    }
    const char *id = row->f[c->id_col];
    if (!id[0]) BAD(c->cols[c->id_col], "empty id");
    if (strlen(id) >= STORE_ID_MAX) BAD(c->cols[c->id_col], "id longer than %d bytes", STORE_ID_MAX - 1);
    if (strlen(id) != row->len[c->id_col]) BAD(c->cols[c->id_col], "id holds a NUL byte");
    /* ids are printed one per line, tab-separated (rank, similar, exports):
     * a newline, tab or escape in one would break those lines or reach the
     * terminal raw */
    for (const unsigned char *q = (const unsigned char *)id; *q; q++)
        if (*q < 0x20 || *q == 0x7f)
            BAD(c->cols[c->id_col], "id holds a control character (byte 0x%02x at byte %d)", *q, (int)(q - (const unsigned char *)id) + 1);
    r->id = xstrdup(id);
    int prev = core_strmap_put(&c->ids, r->id, (int)c->n_rows);
    if (prev >= 0) BAD(c->cols[c->id_col], "duplicate id '%s' (first on line %ld)", id, c->rows[prev].line);
    const char *file = row->f[c->file_col];
    if (!file[0]) BAD(c->cols[c->file_col], "empty image path");
    char full[PATH_MAX + 256];
    join_path(full, sizeof full, x->root, file);
    if (strlen(full) >= STORE_PATH_MAX) BAD(c->cols[c->file_col], "image path too long");
    r->file = xstrdup(full);
    struct stat sb;
    if (stat(full, &sb) != 0) BAD(c->cols[c->file_col], "image %.500s: %s", full, strerror(errno));
    if (!S_ISREG(sb.st_mode)) BAD(c->cols[c->file_col], "image %.500s: not a regular file", full);
    for (int j = 0; j < c->n_cols; j++)
        if (c->kind[j] == CORE_CATALOG_META && row->len[j] > 65535) BAD(c->cols[j], "longer than 65535 bytes");
    if (c->n_meta) r->meta_val = xcalloc((size_t)c->n_meta, sizeof(char *));
    if (c->n_prior) r->prior = xmalloc(sizeof(double) * (size_t)c->n_prior);
    if (c->feat_dim) r->feat = xmalloc(sizeof(float) * (size_t)c->feat_dim);
    for (int j = 0; j < c->n_cols; j++) {
        const char *v = row->f[j];
        double d;
        switch (c->kind[j]) {
        case CORE_CATALOG_META:
            r->meta_val[c->sub[j]] = xstrdup(v);
            break;
        case CORE_CATALOG_RA: case CORE_CATALOG_DEC:
            if (!v[0]) break;
            if (core_parse_double(v, &d) || !isfinite(d)) BAD(c->cols[j], "not a number '%.40s'", v);
            if (c->kind[j] == CORE_CATALOG_RA && (d < 0 || d > 360)) BAD(c->cols[j], "%.40s is not a right ascension (0..360 degrees)", v);
            if (c->kind[j] == CORE_CATALOG_DEC && (d < -90 || d > 90)) BAD(c->cols[j], "%.40s is not a declination (-90..90 degrees)", v);
            if (c->kind[j] == CORE_CATALOG_RA) r->ra = d; else r->dec = d;
            break;
        case CORE_CATALOG_PRIOR:
            r->prior[c->sub[j]] = NAN;
            if (!v[0] || !strcasecmp(v, "nan")) break;
            if (core_parse_double(v, &d) || !isfinite(d)) BAD(c->cols[j], "not a number '%.40s'", v);
            switch (c->prior_kind[c->sub[j]]) {
            case CORE_CATALOG_PRIOR_COUNT:
                if (d < 0 || d > 1e9) BAD(c->cols[j], "%.40s is not a vote count (0 or more volunteers)", v);
                break;
            case CORE_CATALOG_PRIOR_FRACTION:   /* published fractions are rounded: 1.0005 is 1 */
                if (d < 0 || d > 1.001) BAD(c->cols[j], "%.40s is not a vote fraction (0 to 1)", v);
                if (d > 1) d = 1;
                break;
            default:
                if (d < 0 || d > 1) BAD(c->cols[j], "%.40s is not a label (0 = no, 1 = yes, or a probability between)", v);
            }
            r->prior[c->sub[j]] = d;
            break;
        case CORE_CATALOG_FEAT:
            if (core_parse_float(v, &r->feat[c->sub[j]]) || !isfinite(r->feat[c->sub[j]]))
                BAD(c->cols[j], "not a finite number '%.40s'", v);
            break;
        default:
            break;
        }
    }
    if (c->n_kaggle) kaggle_fractions(c, r);
done:
#undef BAD
    c->n_rows++;
    return 0;
}

static void abs_dir_of(const char *path, char *out, size_t len)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    const char *dir = ".";
    if (slash == tmp) dir = "/";
    else if (slash) { *slash = 0; dir = tmp; }
    if (dir[0] == '/') { snprintf(out, len, "%s", dir); return; }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) { snprintf(out, len, "%s", dir); return; }
    if (strcmp(dir, ".") == 0) snprintf(out, len, "%s", cwd);
    else snprintf(out, len, "%.2047s/%.2000s", cwd, dir);
}

static void abs_of(const char *path, char *out, size_t len)
{
    if (path[0] == '/') { snprintf(out, len, "%s", path); return; }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) { snprintf(out, len, "%s", path); return; }
    while (path[0] == '.' && path[1] == '/') path += 2;
    if (strcmp(path, ".") == 0) snprintf(out, len, "%s", cwd);
    else snprintf(out, len, "%.2047s/%.2000s", cwd, path);
}

int core_catalog_check(const char *path, const char *root, zs_store *st, core_catalog *out,
                       core_catalog_msgs *bad, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    vote_names votes;
    vote_names_init(&votes, st);
    check_ctx x = {.c = out, .path = path, .bad = bad, .votes = &votes};
    if (root) abs_of(root, x.root, sizeof x.root);
    else abs_dir_of(path, x.root, sizeof x.root);
    char real[PATH_MAX];   /* stored paths without "..": the folder as the kernel resolves it */
    if (realpath(x.root, real)) snprintf(x.root, sizeof x.root, "%s", real);
    char ap[PATH_MAX];
    abs_of(path, ap, sizeof ap);
    out->abspath = xstrdup(ap);
    core_strmap_init(&out->ids, 1024);
    char cerr[1024] = "";
    int rc = core_csv_read(path, check_row, &x, cerr, sizeof cerr);
    if (rc) core_set_err(err, errlen, "%s", x.err[0] ? x.err : cerr);
    else if (out->n_cols == 0) {
        core_set_err(err, errlen, "%s:1: empty file (no header row)", path);
        rc = -1;
    }
    vote_names_free(&votes);
    return rc ? -1 : 0;
}

void core_catalog_free(core_catalog *c)
{
    if (!c) return;
    if (c->cols) for (int i = 0; i < c->n_cols; i++) free(c->cols[i]);
    free(c->cols);
    if (c->cells) {
        for (long r = 0; r < c->n_rows; r++) {
            for (int i = 0; i < c->n_fields[r]; i++) free(c->cells[r][i]);
            free(c->cells[r]);
        }
    }
    free(c->cells); free(c->n_fields); free(c->lines);
    if (c->rows) for (long r = 0; r < c->n_rows; r++) row_free(&c->rows[r], c->n_meta);
    free(c->rows);
    free(c->abspath);
    if (c->kaggle_name) for (int i = 0; i < c->n_cols; i++) free(c->kaggle_name[i]);
    free(c->kaggle_name); free(c->prior_class);
    free(c->kind); free(c->sub); free(c->meta_key); free(c->prior_name); free(c->prior_kind);
    core_strmap_free(&c->ids);
    memset(c, 0, sizeof *c);
}
