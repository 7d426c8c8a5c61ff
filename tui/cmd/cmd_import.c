/*
 * cmd_import.c - `zoosh import` (catalog + images + features into a
 * workspace) and `zoosh export` (votes, labels, answers, interest, features,
 * predictions out as CSV).
 *
 * Import runs in three steps so that a bad input changes nothing:
 *   1. read and check the catalog (libcsv), every row: field count, id
 *      (present, not too long, not repeated), image file present, numbers
 *      where numbers belong; and the --features file (dimension, ids);
 *   2. decode every image once with a small thread pool and make its
 *      CORE_THUMB_SIDE thumbnail (the labeler never decodes a full image),
 *      encoded in the same threads (JPEG by default, --thumbs raw keeps the
 *      pixels as they are; core/thumb.h);
 *   3. only when nothing was wrong (or with --skip-bad, for the good rows),
 *      write in batches of short write transactions.
 * Thumbnails that fit in IMPORT_MEM_BUDGET (or $ZOOSH_IMPORT_MEM_MB) are
 * kept in memory from step 2 to step 3; more are spilled to an unlinked file
 * in the workspace folder (O_TMPFILE) and read back, and if that fails step
 * 3 decodes again.  A failure of the disk itself during step 3 can leave the
 * batches written so far; importing again completes it (same id updates,
 * never duplicates).
 *
 * Catalog columns: `id_str` or `id` (the galaxy), `file_loc` or `file` (its
 * image, relative to --root or to the catalog's folder; stored absolute),
 * `ra`/`dec`; vote columns of the built-in trees `<question>_<answer>`,
 * `..._fraction`, `<question>_total-votes`, and a column named after a
 * one-question task (`ring`) become priors; `feat_0..feat_{D-1}` a feature
 * set "catalog"; everything else is kept verbatim as galaxy metadata.
 *
 * DESIGN (threads): the decode pool (struct pool) shares one mutex `mu`
 * guarding `next`, `limit`, `stop` and each slot's `done`; workers take the
 * next item below `limit`, decode without the lock and publish the slot under
 * it (decoding, scaling and encoding the thumbnail all happen in the
 * worker).  Only the main thread touches the store, libhdf5 and stderr; it
 * consumes slots in item order and raises `limit` (a window) as it goes, so
 * memory stays bounded.
 */
#include "tui/cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/featio.h"
#include "core/image.h"
#include "core/learn.h"
#include "core/schema.h"
#include "core/thumb.h"
#include "core/util.h"
#include "store/store.h"

#define IMPORT_MEM_BUDGET ((size_t)768 << 20)   /* thumbnails kept between check and write */
#define IMPORT_BATCH_BYTES ((size_t)32 << 20)
#define IMPORT_BATCH_ROWS 8192
#define IMPORT_MAX_SHOWN 20                     /* errors printed before "and N more" */
#define IMPORT_WINDOW 512                       /* decode-ahead items when streaming */

/* ------------------------------------------------------------ messages */

typedef struct {
    char **msg;
    int n, cap;
} msglist;

static void msg_add(msglist *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_add(msglist *m, const char *fmt, ...)
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

static void msg_free(msglist *m)
{
    for (int i = 0; i < m->n; i++) free(m->msg[i]);
    free(m->msg);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ progress */

typedef struct {
    int on;
    const char *what;
    long total;
    double t0, last;
} progress;

static void progress_start(progress *p, const char *what, long total)
{
    p->on = isatty(2);
    p->what = what;
    p->total = total;
    p->t0 = core_mono_s();
    p->last = 0;
}

static void progress_show(progress *p, long done, int force)
{
    if (!p->on) return;
    double now = core_mono_s();
    if (!force && now - p->last < 0.1) return;
    p->last = now;
    int width = 30, fill = p->total > 0 ? (int)((double)done * width / (double)p->total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double rate = now > p->t0 ? (double)done / (now - p->t0) : 0;
    fprintf(stderr, "\r%-9s [%s] %ld/%ld  %.0f/s ", p->what, bar, done, p->total, rate);
    fflush(stderr);
}

static void progress_end(progress *p, long done)
{
    if (!p->on) return;
    progress_show(p, done, 1);
    fputc('\n', stderr);
}

/* ------------------------------------------------------- the catalog */

enum col_kind { COL_META, COL_ID, COL_FILE, COL_RA, COL_DEC, COL_PRIOR, COL_FEAT };

typedef struct {
    long   line;
    char  *id;
    char  *file;          /* absolute path */
    double ra, dec;
    char **meta_val;      /* (n_meta) */
    double *prior;        /* (n_prior) NAN = empty */
    float *feat;          /* (feat_dim) or NULL */
    int    bad;           /* 1: skipped */
    int    fidx;          /* row of the --features set, -1 */
    uint32_t gid;
} crow;

typedef struct {
    const char *path;     /* catalog as given */
    char  root[PATH_MAX]; /* absolute folder images are relative to */
    int    n_cols;
    char **cols;
    int   *kind;          /* (n_cols) enum col_kind */
    int   *sub;           /* (n_cols) index within its kind */
    int    id_col, file_col;
    int    n_meta, n_prior, feat_dim;
    char **meta_key;      /* borrowed from cols */
    char **prior_name;    /* borrowed from cols */
    unsigned char *prior_kind;  /* (n_prior) PRIOR_COUNT / _FRACTION / _LABEL */
    crow  *rows;
    long   n_rows, cap_rows;
    core_strmap ids;
    msglist *bad;         /* where row problems go */
    struct vote_names *votes;   /* column names that are priors */
    char   err[1024];     /* a whole-file problem */
} catalog;

/* The names that make a numeric column a prior: for every tree of the
 * built-ins and of the workspace's own tasks, "<question>_<answer>",
 * "..._fraction", "<question>_total-votes", and the task's name when it has
 * one question (a 0/1 label column such as "ring"). */
typedef struct vote_names {
    core_strmap map;
    char **names;
    unsigned char *kind;  /* (n) PRIOR_COUNT, PRIOR_FRACTION, PRIOR_LABEL */
    int n, cap;
} vote_names;

/* What a prior column holds, and so which values it may take. */
enum { PRIOR_COUNT, PRIOR_FRACTION, PRIOR_LABEL };

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
    if (s->n_questions == 1) vote_add(v, s->name, PRIOR_LABEL);
    for (int q = 0; q < s->n_questions; q++) {
        snprintf(buf, sizeof buf, "%s_total-votes", s->q[q].key);
        vote_add(v, buf, PRIOR_COUNT);
    }
    int nc = core_schema_n_columns(s);
    for (int i = 0; i < nc; i++) {
        core_schema_column(s, i, buf, sizeof buf, NULL, NULL);
        vote_add(v, buf, PRIOR_COUNT);
        snprintf(b2, sizeof b2, "%s_fraction", buf);
        vote_add(v, b2, PRIOR_FRACTION);
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
    if (store_read_begin(st, &txn) == 0) {
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

static int header(catalog *c, const core_csv_row *row)
{
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
            snprintf(c->err, sizeof c->err, "%s:%ld: column %.200s: named twice (columns %d and %d)",
                     c->path, row->line, c->cols[j], k + 1, j + 1);
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
        snprintf(c->err, sizeof c->err, "%s:%ld: no id column (a catalog needs id_str or id, and file_loc or file)", c->path, row->line);
        return 1;
    }
    if (c->file_col < 0) {
        snprintf(c->err, sizeof c->err, "%s:%ld: no file column (a catalog needs file_loc or file next to %s)", c->path, row->line, c->cols[c->id_col]);
        return 1;
    }
    int max_feat = -1, n_feat = 0;
    for (int j = 0; j < row->n; j++) {
        const char *n = c->cols[j];
        int fi, vi;
        if (j == c->id_col) c->kind[j] = COL_ID;
        else if (j == c->file_col) c->kind[j] = COL_FILE;
        else if (!strcasecmp(n, "ra")) c->kind[j] = COL_RA;
        else if (!strcasecmp(n, "dec")) c->kind[j] = COL_DEC;
        else if ((fi = feat_index(n)) >= 0) {
            c->kind[j] = COL_FEAT;
            c->sub[j] = fi;
            n_feat++;
            if (fi > max_feat) max_feat = fi;
        } else if ((vi = core_strmap_get(&c->votes->map, n)) >= 0) {
            c->kind[j] = COL_PRIOR;
            c->prior_kind[c->n_prior] = c->votes->kind[vi];
            c->sub[j] = c->n_prior;
            c->prior_name[c->n_prior++] = c->cols[j];
        } else {
            c->kind[j] = COL_META;
            c->sub[j] = c->n_meta;
            c->meta_key[c->n_meta++] = c->cols[j];
        }
    }
    if (n_feat && n_feat != max_feat + 1) {
        snprintf(c->err, sizeof c->err, "%s:%ld: feature columns must be feat_0..feat_%d without gaps (found %d of them)",
                 c->path, row->line, max_feat, n_feat);
        return 1;
    }
    c->feat_dim = n_feat;
    if (c->n_meta > 65535) {
        snprintf(c->err, sizeof c->err, "%s:%ld: %d text columns (at most 65535)", c->path, row->line, c->n_meta);
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

static void crow_free(crow *r, int n_meta)
{
    free(r->id);
    free(r->file);
    if (r->meta_val) for (int i = 0; i < n_meta; i++) free(r->meta_val[i]);
    free(r->meta_val);
    free(r->prior);
    free(r->feat);
}

static int catalog_row(const core_csv_row *row, void *ctx)
{
    catalog *c = ctx;
    if (row->index == 0) return header(c, row);
    if (c->n_rows == c->cap_rows) {
        c->cap_rows = c->cap_rows ? c->cap_rows * 2 : 1024;
        c->rows = xrealloc(c->rows, sizeof(crow) * (size_t)c->cap_rows);
    }
    crow *r = &c->rows[c->n_rows];
    memset(r, 0, sizeof *r);
    r->line = row->line;
    r->ra = r->dec = NAN;
    r->fidx = -1;
#define BAD(col, ...) do { char m_[600]; snprintf(m_, sizeof m_, __VA_ARGS__); \
        msg_add(c->bad, "%s:%ld: column %s: %s", c->path, row->line, (col), m_); r->bad = 1; goto done; } while (0)
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
    join_path(full, sizeof full, c->root, file);
    if (strlen(full) >= STORE_PATH_MAX) BAD(c->cols[c->file_col], "image path too long");
    r->file = xstrdup(full);
    struct stat sb;
    if (stat(full, &sb) != 0) BAD(c->cols[c->file_col], "image %.500s: %s", full, strerror(errno));
    if (!S_ISREG(sb.st_mode)) BAD(c->cols[c->file_col], "image %.500s: not a regular file", full);
    for (int j = 0; j < c->n_cols; j++)
        if (c->kind[j] == COL_META && row->len[j] > 65535) BAD(c->cols[j], "longer than 65535 bytes");
    if (c->n_meta) r->meta_val = xcalloc((size_t)c->n_meta, sizeof(char *));
    if (c->n_prior) r->prior = xmalloc(sizeof(double) * (size_t)c->n_prior);
    if (c->feat_dim) r->feat = xmalloc(sizeof(float) * (size_t)c->feat_dim);
    for (int j = 0; j < c->n_cols; j++) {
        const char *v = row->f[j];
        double d;
        switch (c->kind[j]) {
        case COL_META:
            r->meta_val[c->sub[j]] = xstrdup(v);
            break;
        case COL_RA: case COL_DEC:
            if (!v[0]) break;
            if (core_parse_double(v, &d)) BAD(c->cols[j], "not a number '%.40s'", v);
            if (c->kind[j] == COL_RA) r->ra = d; else r->dec = d;
            break;
        case COL_PRIOR:
            r->prior[c->sub[j]] = NAN;
            if (!v[0] || !strcasecmp(v, "nan")) break;
            if (core_parse_double(v, &d) || !isfinite(d)) BAD(c->cols[j], "not a number '%.40s'", v);
            switch (c->prior_kind[c->sub[j]]) {
            case PRIOR_COUNT:
                if (d < 0 || d > 1e9) BAD(c->cols[j], "%.40s is not a vote count (0 or more volunteers)", v);
                break;
            case PRIOR_FRACTION:   /* published fractions are rounded: 1.0005 is 1 */
                if (d < 0 || d > 1.001) BAD(c->cols[j], "%.40s is not a vote fraction (0 to 1)", v);
                if (d > 1) d = 1;
                break;
            default:
                if (d < 0 || d > 1) BAD(c->cols[j], "%.40s is not a label (0 = no, 1 = yes, or a probability between)", v);
            }
            r->prior[c->sub[j]] = d;
            break;
        case COL_FEAT:
            if (core_parse_float(v, &r->feat[c->sub[j]]) || !isfinite(r->feat[c->sub[j]]))
                BAD(c->cols[j], "not a finite number '%.40s'", v);
            break;
        default:
            break;
        }
    }
done:
#undef BAD
    c->n_rows++;
    return 0;
}

static void catalog_free(catalog *c)
{
    for (long i = 0; i < c->n_rows; i++) crow_free(&c->rows[i], c->n_meta);
    free(c->rows);
    if (c->cols) for (int j = 0; j < c->n_cols; j++) free(c->cols[j]);
    free(c->cols); free(c->kind); free(c->sub); free(c->meta_key); free(c->prior_name); free(c->prior_kind);
    core_strmap_free(&c->ids);
}

/* ------------------------------------------------------- decode pool */

typedef struct {
    int done;
    int ok;
    core_thumb thumb;     /* encoded (codec of the pool) */
    char err[256];
} slot;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    const char **paths;   /* (n) files to decode */
    slot *slots;          /* (n) */
    int n, next, limit, stop;
    size_t kept, budget;  /* thumbnail bytes kept / allowed (0 = keep all) */
    int keep;             /* keep thumbnails at all */
    int codec;            /* CORE_THUMB_JPEG / CORE_THUMB_RAW */
    pthread_t *th;
    int n_th;
} pool;

static void *pool_worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->next < p->n && p->next >= p->limit) pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->stop || p->next >= p->n) { pthread_mutex_unlock(&p->mu); return NULL; }
        int i = p->next++;
        pthread_mutex_unlock(&p->mu);
        slot s = {0};
        if (core_thumb_load(p->paths[i], CORE_THUMB_SIDE, p->codec, &s.thumb, s.err, sizeof s.err) == 0) s.ok = 1;
        pthread_mutex_lock(&p->mu);
        if (s.ok && p->keep) {
            size_t b = s.thumb.len;
            if (p->budget && p->kept + b > p->budget) core_thumb_free(&s.thumb);
            else p->kept += b;
        } else if (s.ok) core_thumb_free(&s.thumb);
        s.done = 1;
        p->slots[i] = s;
        pthread_cond_broadcast(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
    }
}

static int n_threads(int asked)
{
    if (asked > 0) return asked > 64 ? 64 : asked;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    if (c < 2) c = 2;
    if (c > 16) c = 16;
    return (int)c;
}

/* window 0 = no limit */
static void pool_start(pool *p, const char **paths, int n, int threads, int codec, int keep, size_t budget, int window)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    p->paths = paths;
    p->n = n;
    p->slots = xcalloc((size_t)(n ? n : 1), sizeof(slot));
    p->limit = window > 0 ? window : n;
    p->keep = keep;
    p->codec = codec;
    p->budget = budget;
    p->n_th = threads < n ? threads : (n > 0 ? n : 1);
    p->th = xmalloc(sizeof(pthread_t) * (size_t)p->n_th);
    for (int t = 0; t < p->n_th; t++)
        if (pthread_create(&p->th[t], NULL, pool_worker, p) != 0) core_fatal("pthread_create failed");
}

/* Waits for item i; the slot stays owned by the pool (thumbnail freed by pool_release). */
static slot *pool_wait(pool *p, int i)
{
    pthread_mutex_lock(&p->mu);
    while (!p->slots[i].done) pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return &p->slots[i];
}

/* Item i consumed: free its thumbnail and let workers run `window` ahead. */
static void pool_release(pool *p, int i, int window)
{
    pthread_mutex_lock(&p->mu);
    if (p->slots[i].thumb.bytes) {
        p->kept -= p->slots[i].thumb.len;
        core_thumb_free(&p->slots[i].thumb);
    }
    if (window > 0 && i + 1 + window > p->limit) {
        p->limit = i + 1 + window;
        pthread_cond_broadcast(&p->cv_work);
    }
    pthread_mutex_unlock(&p->mu);
}

static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < p->n_th; t++) pthread_join(p->th[t], NULL);
    for (int i = 0; i < p->n; i++) core_thumb_free(&p->slots[i].thumb);
    free(p->slots);
    free(p->th);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
}

/* ------------------------------------------------------- writing */

typedef struct {
    catalog *cat;
    const long *rows;         /* (n) row indices of this batch */
    core_thumb *const *thumbs;/* (n) thumbnail per row, or NULL entries / NULL array */
    long n;
    const core_featset *fs;   /* --features, or NULL */
    const char *fs_name;
    const uint32_t *extra_gid;/* feature rows for galaxies already in the workspace */
    const int *extra_fidx;
    long e0, e1;
    int first, last;          /* first / last batch: feature sets, meta */
    const char *cat_prov;
    /* counts of this batch (set by the callback, valid after commit) */
    long created, thumbs_put, feats, priors;
} wctx;

/* One batch in one write transaction.  May run twice (map growth): it only
 * reads its inputs and recomputes every count. */
static int write_batch(zs_txn *txn, void *vctx)
{
    wctx *w = vctx;
    catalog *c = w->cat;
    int rc = 0;
    w->created = w->thumbs_put = w->feats = w->priors = 0;
    if (w->first) {
        if (w->fs && (rc = store_featset_put(txn, w->fs_name, w->fs->dim, w->fs->provenance))) return rc;
        if (c->feat_dim && (rc = store_featset_put(txn, "catalog", c->feat_dim, w->cat_prov))) return rc;
    }
    for (long k = 0; k < w->n; k++) {
        crow *r = &c->rows[w->rows[k]];
        store_galaxy g = {.id_str = r->id, .file = r->file, .ra = r->ra, .dec = r->dec,
                          .n_meta = c->n_meta, .meta_key = c->meta_key, .meta_val = r->meta_val};
        int created = 0;
        if ((rc = store_galaxy_put(txn, &g, &r->gid, &created))) return rc;
        w->created += created;
        const core_thumb *t = w->thumbs ? w->thumbs[k] : NULL;
        if (t && t->bytes) {
            if ((rc = core_thumb_put(txn, r->gid, t))) return rc;
            w->thumbs_put++;
        }
        for (int j = 0; j < c->n_prior; j++)
            if (!isnan(r->prior[j])) {
                if ((rc = store_prior_put(txn, r->gid, c->prior_name[j], r->prior[j]))) return rc;
                w->priors++;
            }
        if (r->feat && (rc = store_feature_put(txn, "catalog", r->gid, r->feat, c->feat_dim))) return rc;
        if (w->fs && r->fidx >= 0) {
            if ((rc = store_feature_put(txn, w->fs_name, r->gid, w->fs->x + (size_t)r->fidx * (size_t)w->fs->dim, w->fs->dim)))
                return rc;
            w->feats++;
        }
    }
    for (long e = w->e0; e < w->e1; e++) {
        if ((rc = store_feature_put(txn, w->fs_name, w->extra_gid[e], w->fs->x + (size_t)w->extra_fidx[e] * (size_t)w->fs->dim, w->fs->dim)))
            return rc;
        w->feats++;
    }
    if (w->last) {
        char *def = NULL;
        rc = store_meta_get(txn, "features.default", &def);
        free(def);
        if (rc == STORE_ENOTFOUND) {
            const char *name = w->fs ? w->fs_name : c->feat_dim ? "catalog" : NULL;
            rc = name ? store_meta_put(txn, "features.default", name) : 0;
        }
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------- import command */

static void import_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh import WS CATALOG.csv [--root DIR] [--features FILE [--ids FILE]]\n"
        "                    [--features-name NAME] [--skip-bad] [--thumbs jpeg|raw|none]\n"
        "                    [--threads N]\n\n"
        "Reads a catalog of galaxy cutouts into the workspace WS.\n"
        "  CATALOG.csv     Zoobot style (id_str, file_loc) or plain (id, file); images are\n"
        "                  PNG, JPEG or FITS, relative to --root or to the catalog's folder.\n"
        "                  Vote columns <question>_<answer> (counts), ..._fraction and a\n"
        "                  column named after a one-question task (ring, 0/1) become priors;\n"
        "                  feat_0..feat_N a feature set 'catalog'; ra/dec and other\n"
        "                  columns are kept with the galaxy.\n"
        "  --features FILE Zoobot representation HDF5 (predictions, id_str, label_cols),\n"
        "                  a CSV id_str,feat_0,... or a .npy with --ids FILE (one id a line);\n"
        "                  stored as the set 'zoobot' (or --features-name), which becomes\n"
        "                  the workspace's default set if it has none.\n"
        "  --skip-bad      import the good rows and list the bad ones (default: any bad\n"
        "                  row stops the import and the workspace is left unchanged)\n"
        "  --thumbs jpeg   display thumbnails (256 px) stored as JPEG, quality 92, no\n"
        "                  chroma subsampling: about 7x smaller than raw (the default)\n"
        "  --thumbs raw    stored as raw RGB pixels, lossless (196 KB each; older zoosh\n"
        "                  versions read only these)\n"
        "  --thumbs none, --no-thumbs\n"
        "                  do not decode images (no new display thumbnails; those already\n"
        "                  stored stay: use it to add features or columns to a workspace)\n"
        "  --threads N     decoding threads (default: the number of cores)\n\n"
        "Importing again updates galaxies with the same id.  Exit status: 0 ok,\n"
        "1 bad input (nothing imported unless --skip-bad), 2 usage, 3 workspace problem.\n");
}

static void print_list(FILE *f, const msglist *m, const char *prefix)
{
    for (int i = 0; i < m->n && i < IMPORT_MAX_SHOWN; i++) fprintf(f, "%s%s\n", prefix, m->msg[i]);
    if (m->n > IMPORT_MAX_SHOWN) fprintf(f, "%s... and %d more\n", prefix, m->n - IMPORT_MAX_SHOWN);
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

int cmd_import(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { import_usage(stdout); return 0; }
    const char *root = NULL, *feat_path = NULL, *ids_path = NULL, *fs_name = "zoobot";
    int skip_bad = 0, no_thumbs = 0, threads = 0, codec = CORE_THUMB_JPEG;
    static const struct option opts[] = {
        {"root", required_argument, 0, 'r'}, {"features", required_argument, 0, 'f'},
        {"ids", required_argument, 0, 'i'}, {"features-name", required_argument, 0, 'n'},
        {"skip-bad", no_argument, 0, 's'}, {"no-thumbs", no_argument, 0, 't'},
        {"threads", required_argument, 0, 'j'}, {"thumbs", required_argument, 0, 'T'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (o) {
        case 'r': root = optarg; break;
        case 'f': feat_path = optarg; break;
        case 'i': ids_path = optarg; break;
        case 'n': fs_name = optarg; break;
        case 's': skip_bad = 1; break;
        case 't': no_thumbs = 1; break;
        case 'T':
            if (strcmp(optarg, "none") == 0) no_thumbs = 1;
            else if ((codec = core_thumb_codec_parse(optarg)) < 0) {
                fprintf(stderr, "zoosh import: --thumbs '%s': jpeg, raw or none\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'j': {
            char *end;
            long t = strtol(optarg, &end, 10);
            if (!*optarg || *end || t < 1 || t > 64) {
                fprintf(stderr, "zoosh import: --threads wants 1..64, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            threads = (int)t;
            break;
        }
        default:
            return cmd_bad_option("import", o, argv, optind);
        }
    }
    /* GNU getopt moved the positional arguments to the end */
    const char *pos[2] = {0, 0};
    int npos = 0;
    for (int i = optind; i < argc; i++) {
        if (npos == 2) { fprintf(stderr, "zoosh import: too many arguments ('%s')\n", argv[i]); return EXIT_USAGE; }
        pos[npos++] = argv[i];
    }
    if (npos != 2) { import_usage(stderr); return EXIT_USAGE; }
    if (ids_path && !feat_path) { fprintf(stderr, "zoosh import: --ids goes with --features\n"); return EXIT_USAGE; }
    if (!fs_name[0] || strlen(fs_name) > STORE_FEATNAME_MAX - 16 || strchr(fs_name, '/') || strcmp(fs_name, "catalog") == 0) {
        fprintf(stderr, "zoosh import: --features-name '%s': a name of 1..%d characters without '/', not 'catalog'\n",
                fs_name, STORE_FEATNAME_MAX - 16);
        return EXIT_USAGE;
    }
    const char *ws = pos[0], *cat_path = pos[1];
    int status = 1;
    zs_store *st = NULL;
    catalog cat;
    memset(&cat, 0, sizeof cat);
    msglist bad = {0};
    core_featset fs;
    memset(&fs, 0, sizeof fs);
    int have_fs = 0;
    long *items = NULL;
    const char **paths = NULL;
    uint32_t *extra_gid = NULL;
    int *extra_fidx = NULL;
    long n_extra = 0;
    long *brows = NULL;
    core_thumb **bthumbs = NULL;
    int spill_fd = -1;          /* thumbnails spilled between check and write */
    off_t *spill_off = NULL;    /* (n_items) where each one is */
    core_thumb *spill_img = NULL;  /* (n_spill_img) read back; bytes malloc'ed, reused per batch */
    long n_spill_img = 0;
    pool pl;
    int pool_on = 0;
    char err[1024];
    double t0 = core_mono_s();
    /* ZOOSH_IMPORT_TRACE=1: the time of each step on stderr */
    int trace = getenv("ZOOSH_IMPORT_TRACE") != NULL;
#define TRACE(what) do { if (trace) fprintf(stderr, "zoosh import: %-15s %8.3f s\n", what, core_mono_s() - t0); } while (0)

    int rc = cmd_open_ws("import", ws, STORE_NOSYNC, &st);
    if (rc) return rc;

    /* 1. the catalog */
    vote_names votes;
    vote_names_init(&votes, st);
    cat.votes = &votes;
    cat.path = cat_path;
    cat.bad = &bad;
    if (root) abs_of(root, cat.root, sizeof cat.root);
    else abs_dir_of(cat_path, cat.root, sizeof cat.root);
    core_strmap_init(&cat.ids, 1024);
    err[0] = 0;
    rc = core_csv_read(cat_path, catalog_row, &cat, err, sizeof err);
    if (rc) {
        fprintf(stderr, "zoosh import: %s\n", cat.err[0] ? cat.err : err);
        goto end;
    }
    if (cat.n_cols == 0) { fprintf(stderr, "zoosh import: %s:1: empty file (no header row)\n", cat_path); goto end; }
    TRACE("catalog read");

    /* 1a. feat_N columns must fit the workspace's "catalog" set */
    if (cat.feat_dim) {
        zs_txn *rt = NULL;
        int dim0 = 0;
        if (store_read_begin(st, &rt) == 0) {
            if (store_featset_get(rt, "catalog", &dim0, NULL) != 0) dim0 = 0;
            store_read_end(rt);
        }
        if (dim0 && dim0 != cat.feat_dim) {
            fprintf(stderr, "zoosh import: %s:1: columns feat_0..feat_%d: feature dimension %d differs from the "
                            "workspace's set 'catalog' (%d)\n", cat_path, cat.feat_dim - 1, cat.feat_dim, dim0);
            goto end;
        }
    }

    /* 1b. the features file */
    if (feat_path) {
        if (core_feat_load(feat_path, ids_path, &fs, err, sizeof err)) {
            fprintf(stderr, "zoosh import: %s\n", err);
            goto end;
        }
        have_fs = 1;
        zs_txn *rt = NULL;
        if ((rc = store_read_begin(st, &rt))) { fprintf(stderr, "zoosh import: %s: %s\n", ws, store_strerror(rc)); status = EXIT_WORKSPACE; goto end; }
        int dim0 = 0;
        rc = store_featset_get(rt, fs_name, &dim0, NULL);
        if (rc == 0 && dim0 != fs.dim) {
            store_read_end(rt);
            fprintf(stderr, "zoosh import: %s: feature dimension %d differs from the workspace's set '%s' (%d); "
                            "use --features-name for a new set\n", feat_path, fs.dim, fs_name, dim0);
            goto end;
        }
        core_strmap seen;
        core_strmap_init(&seen, (size_t)fs.n);
        extra_gid = xmalloc(sizeof(uint32_t) * (size_t)fs.n);
        extra_fidx = xmalloc(sizeof(int) * (size_t)fs.n);
        for (int i = 0; i < fs.n; i++) {
            char where[64];
            if (fs.lines && fs.lines[i]) snprintf(where, sizeof where, "%ld", fs.lines[i]);
            else snprintf(where, sizeof where, "row %d", i + 1);
            int prev = core_strmap_put(&seen, fs.ids[i], i);
            if (prev >= 0) { msg_add(&bad, "%s:%s: column id_str: duplicate id '%s'", feat_path, where, fs.ids[i]); continue; }
            int r = core_strmap_get(&cat.ids, fs.ids[i]);
            if (r >= 0) {
                if (!cat.rows[r].bad) cat.rows[r].fidx = i;
                continue;
            }
            uint32_t gid;
            if (store_galaxy_find(rt, fs.ids[i], &gid) == 0) {
                extra_gid[n_extra] = gid;
                extra_fidx[n_extra++] = i;
            } else
                msg_add(&bad, "%s:%s: column id_str: id '%s' is neither in the catalog nor in the workspace", feat_path, where, fs.ids[i]);
        }
        core_strmap_free(&seen);
        store_read_end(rt);
    }

    TRACE("features read");
    /* the good rows */
    items = xmalloc(sizeof(long) * (size_t)(cat.n_rows ? cat.n_rows : 1));
    long n_items = 0;
    for (long i = 0; i < cat.n_rows; i++)
        if (!cat.rows[i].bad) items[n_items++] = i;
    if (n_items > INT_MAX - 1) { fprintf(stderr, "zoosh import: %s: too many rows\n", cat_path); goto end; }

    /* 2. decode every image once (a check), keeping the thumbnails when they
     * fit in memory.  Otherwise an atomic import spills them to an unlinked
     * file in the workspace folder and reads them back while writing (or, if
     * it cannot, decodes twice: check, then write); --skip-bad decodes once,
     * while writing. */
    /* a JPEG thumbnail is 15-40 KB on survey cutouts; a third of raw covers noisy ones */
    size_t thumb_est = (size_t)CORE_THUMB_SIDE * CORE_THUMB_SIDE * 3 / (codec == CORE_THUMB_JPEG ? 3 : 1);
    size_t est = (size_t)n_items * thumb_est;
    size_t budget = IMPORT_MEM_BUDGET;
    if (getenv("ZOOSH_IMPORT_MEM_MB")) budget = (size_t)atol(getenv("ZOOSH_IMPORT_MEM_MB")) << 20;
    int keep_all = est <= budget;
    int nt = n_threads(threads);
    paths = xmalloc(sizeof(char *) * (size_t)(n_items ? n_items : 1));
    for (long k = 0; k < n_items; k++) paths[k] = cat.rows[items[k]].file;
    int streaming = 0;          /* step 3 takes thumbnails from a streaming pool */
    if (!no_thumbs && n_items) {
        if (keep_all || !skip_bad) {
            if (!keep_all && !getenv("ZOOSH_IMPORT_NO_SPILL")) {
                spill_fd = open(ws, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
                if (spill_fd < 0) {
                    char tp[PATH_MAX];
                    snprintf(tp, sizeof tp, "%.4000s/.import-XXXXXX", ws);
                    spill_fd = mkstemp(tp);
                    if (spill_fd >= 0) unlink(tp);
                }
                if (spill_fd >= 0) spill_off = xmalloc(sizeof(off_t) * (size_t)n_items);
            }
            off_t spill_end = 0;
            /* the pool keeps thumbnails for us when they stay in memory or
             * go to the spill file (the window bounds the memory then) */
            pool_start(&pl, paths, (int)n_items, nt, codec, keep_all || spill_fd >= 0, 0, keep_all ? 0 : IMPORT_WINDOW);
            pool_on = 1;
            progress pr;
            progress_start(&pr, "decoding", n_items);
            for (long k = 0; k < n_items; k++) {
                slot *s = pool_wait(&pl, (int)k);
                if (!s->ok) {
                    crow *r = &cat.rows[items[k]];
                    msg_add(&bad, "%s:%ld: column %s: image %s: %s", cat_path, r->line, cat.cols[cat.file_col], r->file, s->err);
                    r->bad = 1;
                } else if (spill_fd >= 0 && s->thumb.bytes) {
                    /* (int32 w, int32 h, int32 len, len bytes) at spill_off[k]; codec: the pool's */
                    int32_t wh[3] = {s->thumb.w, s->thumb.h, (int32_t)s->thumb.len};
                    size_t nb = s->thumb.len;
                    if (pwrite(spill_fd, wh, sizeof wh, spill_end) != (ssize_t)sizeof wh ||
                        pwrite(spill_fd, s->thumb.bytes, nb, spill_end + (off_t)sizeof wh) != (ssize_t)nb) {
                        close(spill_fd);   /* disk full? decode again while writing instead */
                        spill_fd = -1;
                    } else {
                        spill_off[k] = spill_end;
                        spill_end += (off_t)(sizeof wh + nb);
                    }
                }
                if (!keep_all) pool_release(&pl, (int)k, IMPORT_WINDOW);
                progress_show(&pr, k + 1, 0);
            }
            progress_end(&pr, n_items);
            if (!keep_all) { pool_stop(&pl); pool_on = 0; streaming = spill_fd < 0; }
        } else
            streaming = 1;
    }

    TRACE("images decoded");
    if (bad.n && !skip_bad) {
        print_list(stderr, &bad, "zoosh import: ");
        fprintf(stderr, "zoosh import: %d problem%s; nothing was imported (--skip-bad imports the other rows)\n",
                bad.n, bad.n == 1 ? "" : "s");
        goto end;
    }

    /* 3. write in batches: items [i0, i1) of the rows still good, then the
     * feature rows of galaxies already in the workspace */
    char cat_prov[600];
    {
        char ap[PATH_MAX];
        abs_of(cat_path, ap, sizeof ap);
        snprintf(cat_prov, sizeof cat_prov, "catalog %.500s (feat_0..feat_%d)", ap, cat.feat_dim - 1);
    }
    long n_write = 0;
    for (long k = 0; k < n_items; k++)
        if (!cat.rows[items[k]].bad) {
            if (spill_off) spill_off[n_write] = spill_off[k];
            items[n_write] = items[k];
            n_write++;
        }
    /* items is compacted; the kept-thumbnail slots were indexed by the old
     * item numbers, so move them along too */
    if (pool_on) {
        long m = 0;
        for (long k = 0; k < n_items; k++) {
            if (pl.slots[k].ok) {
                if (m != k) { pl.slots[m] = pl.slots[k]; memset(&pl.slots[k], 0, sizeof(slot)); }
                m++;
            }
        }
    }
    if (streaming) {
        for (long k = 0; k < n_write; k++) paths[k] = cat.rows[items[k]].file;
        pool_start(&pl, paths, (int)n_write, nt, codec, 1, 0, IMPORT_WINDOW);
        pool_on = 1;
    }
    size_t row_bytes = 256 + (size_t)cat.n_prior * 32 + (size_t)cat.feat_dim * 4 +
                       (have_fs ? (size_t)fs.dim * 4 : 0) + (no_thumbs ? 0 : thumb_est);
    long batch = (long)(IMPORT_BATCH_BYTES / row_bytes);
    if (batch < 16) batch = 16;
    if (batch > IMPORT_BATCH_ROWS) batch = IMPORT_BATCH_ROWS;
    long created = 0, thumbs = 0, feats = 0, priors = 0, written = 0;
    brows = xmalloc(sizeof(long) * (size_t)batch);
    bthumbs = xmalloc(sizeof(core_thumb *) * (size_t)batch);
    if (spill_fd >= 0) {
        spill_img = xcalloc((size_t)batch, sizeof(core_thumb));
        n_spill_img = batch;
    }
    progress pr;
    progress_start(&pr, "writing", n_write);
    long i0 = 0, e0 = 0;
    for (int first = 1;; first = 0) {
        long i1 = i0 + batch < n_write ? i0 + batch : n_write;
        long e1 = e0;
        if (i1 == n_write) e1 = e0 + batch < n_extra ? e0 + batch : n_extra;
        long m = 0;
        for (long k = i0; k < i1; k++) {
            core_thumb *t = NULL;
            if (pool_on) {
                slot *s = pool_wait(&pl, (int)k);
                if (!s->ok) {   /* streaming only: the image failed now */
                    crow *r = &cat.rows[items[k]];
                    msg_add(&bad, "%s:%ld: column %s: image %s: %s", cat_path, r->line, cat.cols[cat.file_col], r->file, s->err);
                    r->bad = 1;
                    if (!skip_bad) {
                        progress_end(&pr, i0);
                        print_list(stderr, &bad, "zoosh import: ");
                        fprintf(stderr, "zoosh import: the image changed during the import; %ld galaxies were written "
                                        "before it (fix it and import again)\n", written);
                        goto end;
                    }
                    continue;
                }
                t = &s->thumb;
            } else if (spill_fd >= 0) {
                int32_t wh[3];
                core_thumb *si = &spill_img[m];
                core_thumb_free(si);
                int got = pread(spill_fd, wh, sizeof wh, spill_off[k]) == (ssize_t)sizeof wh && wh[0] >= 1 &&
                          wh[1] >= 1 && wh[0] <= CORE_THUMB_SIDE && wh[1] <= CORE_THUMB_SIDE && wh[2] >= 1 &&
                          wh[2] <= (64 << 20);
                if (got) {
                    si->bytes = xmalloc((size_t)wh[2]);
                    got = pread(spill_fd, si->bytes, (size_t)wh[2], spill_off[k] + (off_t)sizeof wh) == (ssize_t)wh[2];
                }
                if (!got) {
                    progress_end(&pr, i0);
                    fprintf(stderr, "zoosh import: cannot read back the spilled thumbnails: %s; %ld galaxies were "
                                    "written (import again to complete)\n", strerror(errno), written);
                    goto end;
                }
                si->codec = codec;
                si->w = wh[0];
                si->h = wh[1];
                si->len = (size_t)wh[2];
                t = si;
            }
            brows[m] = items[k];
            bthumbs[m] = t;
            m++;
        }
        wctx w = {.cat = &cat, .rows = brows, .thumbs = bthumbs, .n = m,
                  .fs = have_fs ? &fs : NULL, .fs_name = fs_name,
                  .extra_gid = extra_gid, .extra_fidx = extra_fidx, .e0 = e0, .e1 = e1,
                  .first = first, .last = (i1 == n_write && e1 == n_extra), .cat_prov = cat_prov};
        rc = store_write(st, write_batch, &w);
        if (rc) {
            progress_end(&pr, i0);
            fprintf(stderr, "zoosh import: %s: writing failed: %s (%s)\n", ws, store_strerror(rc), store_last_error());
            if (written > 0) fprintf(stderr, "zoosh import: %ld galaxies were written before the failure (import again to complete)\n", written);
            status = (rc == STORE_ENOSPC || rc == STORE_EREADONLY || rc == STORE_ECORRUPT) ? EXIT_WORKSPACE : 1;
            goto end;
        }
        created += w.created; thumbs += w.thumbs_put; feats += w.feats; priors += w.priors;
        written += m;
        if (pool_on) for (long k = i0; k < i1; k++) pool_release(&pl, (int)k, IMPORT_WINDOW);
        progress_show(&pr, i1, 0);
        i0 = i1;
        e0 = e1;
        if (i0 >= n_write && e0 >= n_extra) break;
    }
    progress_end(&pr, n_write);
    TRACE("written");
    if ((rc = store_sync(st))) {
        fprintf(stderr, "zoosh import: %s: sync failed: %s\n", ws, store_strerror(rc));
        status = EXIT_WORKSPACE;
        goto end;
    }
    TRACE("synced");
    printf("imported %ld galaxies from %s (%ld new, %ld updated)", written, cat_path, created, written - created);
    if (!no_thumbs) printf(", %ld thumbnails", thumbs);
    if (cat.n_prior) printf(", %d prior column%s (%ld values)", cat.n_prior, cat.n_prior == 1 ? "" : "s", priors);
    if (cat.feat_dim) printf(", feature set 'catalog' (%d-d)", cat.feat_dim);
    if (have_fs) printf(", %ld vectors into feature set '%s' (%d-d)", feats, fs_name, fs.dim);
    printf(" in %.2f s\n", core_mono_s() - t0);
    if (bad.n) {
        fprintf(stderr, "zoosh import: skipped %d bad row%s:\n", bad.n, bad.n == 1 ? "" : "s");
        for (int i = 0; i < bad.n; i++) fprintf(stderr, "  %s\n", bad.msg[i]);
    }
    /* --skip-bad with every row bad imported nothing: that is no success */
    status = bad.n && written == 0 && !have_fs ? 1 : 0;
    if (status) fprintf(stderr, "zoosh import: every row of %s was bad; nothing was imported\n", cat_path);
end:
    if (pool_on) pool_stop(&pl);
    free(paths);
    free(items);
    free(extra_gid);
    free(extra_fidx);
    free(brows);
    free(bthumbs);
    if (spill_fd >= 0) close(spill_fd);
    free(spill_off);
    for (long k = 0; k < n_spill_img; k++) core_thumb_free(&spill_img[k]);
    free(spill_img);
    core_featset_free(&fs);
    catalog_free(&cat);
    if (cat.votes) vote_names_free(cat.votes);
    msg_free(&bad);
    store_close(st);
    return status;
}

/* ------------------------------------------------------- export command */

static void export_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh export WS --format FORMAT [--task T] [--set NAME] [-o FILE]\n\n"
        "Writes CSV to standard output (or FILE).  file_loc is the absolute image path.\n"
        "  zoobot       id_str,file_loc,<question>_<answer> vote counts of the workspace's\n"
        "               answers for the tree --task (default gz-decals), summed over the\n"
        "               users, then <question>_<answer>_fraction (empty when the question\n"
        "               got no vote).  Catalog prior votes are NOT included: this is what\n"
        "               the labellers said.  Only galaxies with at least one answer.\n"
        "  labels       id_str,file_loc,TASK for a one-question task (--task, default ring):\n"
        "               the majority answer (yes = 1, no = 0, else the answer key);\n"
        "               galaxies whose votes tie are left out.\n"
        "  answers      the raw log, one row per answer (retractions included; --task\n"
        "               keeps one task's):\n"
        "               seq,time,user,task,kind,id_str,question,answer,rating,retracts\n"
        "               (a tree path of several steps joins them with ';').\n"
        "  interest     id_str,file_loc,<task>_mean,<task>_n of the 0-5 ratings (--task,\n"
        "               default interest).\n"
        "  features     id_str,feat_0..feat_{D-1} of a feature set (--set, default the\n"
        "               workspace's features.default).\n"
        "  predictions  id_str,file_loc,<column>_prob from the task's trained head\n"
        "               (a rating task: <task>_predicted,<task>_sd from its GP).\n"
        "zoobot, labels and interest count one vote per user per galaxy: their latest\n"
        "answer not retracted (a changed mind replaces, a second session does not add;\n"
        "training counts the same way).  Retracted answers (undo) count nowhere except\n"
        "in the raw log.\n"
        "Exit status: 0 ok, 1 nothing to export / bad option value, 2 usage, 3 workspace problem.\n");
}

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

int cmd_export(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { export_usage(stdout); return 0; }
    const char *format = NULL, *task = NULL, *set = NULL, *outp = NULL;
    static const struct option opts[] = {
        {"format", required_argument, 0, 'F'}, {"task", required_argument, 0, 'T'},
        {"set", required_argument, 0, 'S'}, {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (o) {
        case 'F': format = optarg; break;
        case 'T': task = optarg; break;
        case 'S': set = optarg; break;
        case 'o': outp = optarg; break;
        default:
            return cmd_bad_option("export", o, argv, optind);
        }
    }
    if (optind < argc - 1) { fprintf(stderr, "zoosh export: unexpected argument '%s' (one workspace; -o FILE for the output)\n", argv[optind + 1]); return EXIT_USAGE; }
    if (optind != argc - 1) { export_usage(stderr); return EXIT_USAGE; }
    if (!format) { fprintf(stderr, "zoosh export: --format is required (zoobot, labels, answers, interest, features, predictions)\n"); return EXIT_USAGE; }
    const char *ws = argv[optind];
    enum { F_ZOOBOT, F_LABELS, F_ANSWERS, F_INTEREST, F_FEATURES, F_PRED } fmt;
    if (!strcmp(format, "zoobot")) fmt = F_ZOOBOT;
    else if (!strcmp(format, "labels")) fmt = F_LABELS;
    else if (!strcmp(format, "answers")) fmt = F_ANSWERS;
    else if (!strcmp(format, "interest")) fmt = F_INTEREST;
    else if (!strcmp(format, "features")) fmt = F_FEATURES;
    else if (!strcmp(format, "predictions")) fmt = F_PRED;
    else {
        fprintf(stderr, "zoosh export: unknown format '%s' (zoobot, labels, answers, interest, features, predictions)\n", format);
        return EXIT_USAGE;
    }
    const char *task_given = task;
    if (!task) task = fmt == F_LABELS ? "ring" : fmt == F_INTEREST ? "interest" : "gz-decals";
    zs_store *st = NULL;
    int rc = cmd_open_ws("export", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    /* the task: the workspace's own (custom trees live there), else a
     * built-in name or a schema file */
    core_schema *sc = xcalloc(1, sizeof *sc);
    char err[512];
    int need_task = fmt == F_ZOOBOT || fmt == F_LABELS || fmt == F_INTEREST || fmt == F_PRED;
    if (need_task) {
        zs_txn *t0 = NULL;
        int found = 0;
        if (store_read_begin(st, &t0) == 0) {
            found = core_schema_ws_get(t0, task, sc, err, sizeof err) == 0;
            store_read_end(t0);
        }
        if (!found && core_schema_resolve(task, sc, err, sizeof err)) {
            fprintf(stderr, "zoosh export: --task %s: %s\n", task, err);
            goto early;
        }
    }
    if (fmt == F_ZOOBOT && sc->kind != CORE_TASK_TREE) {
        fprintf(stderr, "zoosh export: --task %s is a rating task; --format zoobot needs a decision tree\n", task);
        goto early;
    }
    if (fmt == F_LABELS && (sc->kind != CORE_TASK_TREE || sc->n_questions != 1)) {
        fprintf(stderr, "zoosh export: --format labels needs a one-question task (like ring); "
                        "'%s' has %d questions: use --format zoobot\n", sc->name, sc->n_questions);
        goto early;
    }
    if (fmt == F_INTEREST && sc->kind != CORE_TASK_RATING) {
        fprintf(stderr, "zoosh export: --format interest needs a rating task; '%s' is a tree\n", sc->name);
        goto early;
    }
    if (0) {
early:
        store_close(st);
        free(sc);
        return 1;
    }
    int status = 1;
    FILE *out = stdout;
    core_outfile of = {0};       /* -o FILE: written beside it and renamed (core_out_open) */
    zs_txn *txn = NULL;
    agg g;
    memset(&g, 0, sizeof g);
    float *x = NULL;
    uint32_t *gids = NULL;
    char *defset = NULL;
    if ((rc = store_read_begin(st, &txn))) {
        fprintf(stderr, "zoosh export: %s: %s\n", ws, store_strerror(rc));
        status = EXIT_WORKSPACE;
        goto end;
    }
    if (outp && strcmp(outp, "-") != 0) {
        char oerr[512];
        if (core_out_open(&of, outp, oerr, sizeof oerr)) {
            fprintf(stderr, "zoosh export: %s: %s\n", outp, oerr);
            goto end;
        }
        out = of.f;
    }
    long rows = 0;
    if (fmt == F_ANSWERS) {
        fprintf(out, "seq,time,user,task,kind,id_str,question,answer,rating,retracts\n");
        logctx l = {out, txn, task_given, 0};
        if ((rc = store_answer_each(txn, 1, write_log_row, &l))) goto store_fail;
        rows = l.rows;
    } else if (fmt == F_FEATURES) {
        if (!set) {
            rc = store_meta_get(txn, "features.default", &defset);
            if (rc == STORE_ENOTFOUND) {
                fprintf(stderr, "zoosh export: %s has no default feature set; name one with --set\n", ws);
                goto end;
            }
            if (rc) goto store_fail;
            set = defset;
        }
        int n = 0, dim = 0;
        rc = store_features_load(txn, set, &x, &gids, &n, &dim);
        if (rc == STORE_ENOTFOUND) { fprintf(stderr, "zoosh export: %s: no feature set '%s'\n", ws, set); goto end; }
        if (rc) goto store_fail;
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
    } else if (fmt == F_PRED) {
        core_model_info info;
        rc = core_model_info_get(txn, sc->name, &info);
        if (rc == STORE_ENOTFOUND) {
            fprintf(stderr, "zoosh export: no model for task '%s' yet (train one: zoosh train %s --task %s)\n", sc->name, ws, sc->name);
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
            fprintf(stderr, "zoosh export: the model for task '%s' has no predictions stored yet\n", sc->name);
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
        if (fmt == F_ZOOBOT) {
            fputs("id_str,file_loc", out);
            for (int i = 0; i < g.ncol; i++) { core_schema_column(sc, i, cb, sizeof cb, NULL, NULL); fprintf(out, ",%s", cb); }
            for (int i = 0; i < g.ncol; i++) { core_schema_column(sc, i, cb, sizeof cb, NULL, NULL); fprintf(out, ",%s_fraction", cb); }
            fputc('\n', out);
        } else if (fmt == F_LABELS) {
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
            if (fmt == F_LABELS) {
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
            if (fmt == F_ZOOBOT) {
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
            } else if (fmt == F_LABELS) {
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
        fprintf(stderr, "zoosh export: %s: write error: %s\n", outp ? outp : "stdout", strerror(errno));
        goto end;
    }
    if (of.f) {
        char oerr[512];
        out = stdout;
        if (core_out_close(&of, 1, oerr, sizeof oerr)) { fprintf(stderr, "zoosh export: %s: %s\n", outp, oerr); goto end; }
        fprintf(stderr, "zoosh export: %ld rows to %s\n", rows, outp);
    }
    if (rows == 0 && fmt != F_ANSWERS && fmt != F_FEATURES)
        fprintf(stderr, "zoosh export: note: no galaxy has answers for task '%s' yet (header only)\n", sc->name);
    status = 0;
    goto end;
store_fail:
    fprintf(stderr, "zoosh export: %s: %s %s\n", ws, store_strerror(rc), store_last_error());
    status = EXIT_WORKSPACE;
end:
    core_out_close(&of, 0, NULL, 0);     /* a failed export leaves the old file */
    store_read_end(txn);
    store_close(st);
    free(g.colof); free(g.counts); free(g.rsum); free(g.rn);
    free(x); free(gids); free(defset);
    free(sc);
    return status;
}
