/*
 * pretrain.c - `zoosh pretrain`: catalogs of galaxy images and their
 * targets (GZ2 / GZ1 vote fractions, 0/1 tags, none) -> views
 * (core/ptaug.h) -> the network of core/ptnet.h with one head per catalog
 * and, optionally, NT-Xent between two views of each galaxy
 * (core/ptloss.h), trained with AdamW on a cosine schedule, the file
 * rewritten after every epoch.
 *
 * DESIGN: one thread trains; on --threads >= 2 a second prepares batch
 * s + 1 (views, augmentations: the only user of the run's core_rng inside
 * an epoch, so it draws the same numbers as it would inline) while batch s
 * trains, and is joined before the next step.  Decoding the images at the
 * start shares the rows among threads, each writing only its own rows.
 */
#include "core/pretrain.h"
#include "core/catalog.h"
#include "core/image.h"
#include "core/ptaug.h"
#include "core/ptloss.h"
#include "core/util.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void core_pt_opts_default(core_pt_opts *o)
{
    memset(o, 0, sizeof *o);
    o->arch = (core_convnext_arch){"zoosh_gz2", 4, {1, 1, 3, 1}, {32, 64, 128, 256}, 4};
    o->size = 64;
    o->crop = 0.5f;
    o->zoom_lo = 0.9f;
    o->zoom_hi = 1.1f;
    o->epochs = 8;
    o->batch = 32;
    o->lr = 2e-3f;
    o->wd = 0.05f;
    o->seed = 1;
    o->threads = 2;
    o->val_frac = 0.1f;
    o->ssl_tau = 0.2f;
}

static const char *const KIND_NAMES[] = {"auto", "gz2", "gz1", "tags", "none"};
static const char *const GZ1_COLS[] = {"p_el", "p_cw", "p_acw", "p_edge", "p_dk", "p_mg"};

const char *core_pt_kind_name(core_pt_kind k)
{
    return k >= CORE_PT_AUTO && k <= CORE_PT_NONE ? KIND_NAMES[k] : "?";
}

int core_pt_kind_parse(const char *s, core_pt_kind *k)
{
    for (int i = 0; i <= CORE_PT_NONE; i++)
        if (!strcmp(s, KIND_NAMES[i])) {
            *k = (core_pt_kind)i;
            return 0;
        }
    return -1;
}

/* One catalog of the run: its rows in the pool, its targets and head. */
typedef struct {
    const char *path;
    core_pt_kind kind;
    int first, n, n_excl;     /* pool rows first .. first + n - 1; rows excluded */
    int K;                    /* targets a row (0: none) */
    char **names;             /* (K) the target columns */
    core_pt_questions qs;     /* vote kinds: questions over the K targets */
    float *t;                 /* (n, K) */
    core_pt_dense *head;      /* NULL: the network's own head (or no targets) */
    int n_val;                /* the last n_val of its shuffled rows are held out */
    int *rows;                /* (n) pool rows, shuffled by the split */
    double base_loss;         /* held out: predicting the training mean */
} ptcat;

/* Every catalog's images, one pool. */
typedef struct {
    int n, cap, base;
    uint8_t *px;              /* (n, base, base, 3): centre region, 1.5 x the view */
    char **files;             /* (n) */
    long *lines;              /* (n) */
    int *cat;                 /* (n) its catalog */
} ptpool;

typedef struct {
    char **ids;
    int *file, n;             /* (n) sorted ids, which --exclude file listed each */
    unsigned char *hit;       /* (n) found in a catalog */
} idset;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The ids of every --exclude file (one a line; blank lines and '#'
 * comments skipped), sorted.  0, or -1 with err. */
static int read_excludes(const core_pt_opts *o, idset *s, char *err, size_t errlen)
{
    int cap = 0;
    memset(s, 0, sizeof *s);
    for (int k = 0; k < CORE_PT_MAX_EXCLUDE && o->exclude[k]; k++) {
        FILE *f = fopen(o->exclude[k], "r");
        if (!f) {
            core_set_err(err, errlen, "%s: %s", o->exclude[k], strerror(errno));
            return -1;
        }
        char line[512];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#') continue;
            if (s->n == cap) {
                cap = cap ? 2 * cap : 256;
                s->ids = xrealloc(s->ids, (size_t)cap * sizeof *s->ids);
                s->file = xrealloc(s->file, (size_t)cap * sizeof *s->file);
            }
            s->file[s->n] = k;
            s->ids[s->n++] = xstrdup(line);
        }
        fclose(f);
    }
    /* sorted with the file that listed each (pairs: the id pointer first) */
    typedef struct { char *id; int file; } pair;
    pair *p = xmalloc(((size_t)s->n + 1) * sizeof *p);
    for (int i = 0; i < s->n; i++) p[i] = (pair){s->ids[i], s->file[i]};
    qsort(p, (size_t)s->n, sizeof *p, cmp_str);
    for (int i = 0; i < s->n; i++) {
        s->ids[i] = p[i].id;
        s->file[i] = p[i].file;
    }
    free(p);
    s->hit = xcalloc((size_t)s->n + 1, 1);
    return 0;
}

static void free_idset(idset *s)
{
    for (int i = 0; i < s->n; i++) free(s->ids[i]);
    free(s->ids);
    free(s->file);
    free(s->hit);
}

static int cmp_int2(const void *a, const void *b)
{
    const int *x = a, *y = b;
    return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* The target columns of kind k (AUTO: decided here) -> c->K, names, qs;
 * cols (K) their catalog columns.  0, or -1 with err naming what is missing. */
static int target_columns(const core_catalog *cat, ptcat *c, int *cols, char *err, size_t errlen)
{
    int (*g2)[3] = xcalloc((size_t)cat->n_cols + 1, sizeof *g2);   /* question, answer, column */
    int n2 = 0, rc = -1;
    for (int j = 0; j < cat->n_cols; j++) {
        int q, a, used = 0;
        if (sscanf(cat->cols[j], "Class%d.%d%n", &q, &a, &used) == 2 && !cat->cols[j][used] && q > 0 && a > 0)
            g2[n2][0] = q, g2[n2][1] = a, g2[n2][2] = j, n2++;
    }
    int g1[6], n1 = 0, missing1 = -1;
    for (int a = 0; a < 6; a++) {
        g1[a] = core_catalog_col(cat, GZ1_COLS[a]);
        if (g1[a] >= 0) n1++;
        else if (missing1 < 0) missing1 = a;
    }
    int tg[CORE_PT_MAX_OUT], nt = 0;
    if (cat->n_rows > 0)
        for (int j = 0; j < cat->n_cols && nt < CORE_PT_MAX_OUT; j++) {
            const char *h = cat->cols[j], *v = j < cat->n_fields[0] ? cat->cells[0][j] : "";
            if (strcmp(h, "id") && strcmp(h, "file") && strcmp(h, "ra") && strcmp(h, "dec") &&
                (!strcmp(v, "0") || !strcmp(v, "1")))
                tg[nt++] = j;
        }
    if (c->kind == CORE_PT_AUTO)
        c->kind = n2 ? CORE_PT_GZ2 : n1 == 6 ? CORE_PT_GZ1 : nt ? CORE_PT_TAGS : CORE_PT_NONE;
    memset(&c->qs, 0, sizeof c->qs);
    c->K = 0;
    switch (c->kind) {
    case CORE_PT_GZ2:
        if (n2 == 0 || n2 > CORE_PT_MAX_OUT) {
            core_set_err(err, errlen, "%s:1: %s vote-fraction columns named ClassQ.A (Galaxy Zoo 2 / Kaggle style)",
                         c->path, n2 ? "too many" : "no");
            goto end;
        }
        qsort(g2, (size_t)n2, sizeof *g2, cmp_int2);
        for (int i = 0; i < n2; i++) {
            if (i == 0 || g2[i][0] != g2[i - 1][0]) c->qs.start[c->qs.n_q++] = i;
            c->qs.len[c->qs.n_q - 1]++;
            cols[i] = g2[i][2];
        }
        c->K = n2;
        break;
    case CORE_PT_GZ1:
        if (n1 < 6) {
            core_set_err(err, errlen, "%s:1: no column '%s' (gz1 targets: p_el, p_cw, p_acw, p_edge, p_dk, p_mg)",
                         c->path, GZ1_COLS[missing1]);
            goto end;
        }
        memcpy(cols, g1, sizeof g1);
        c->K = 6;
        c->qs.n_q = 1;
        c->qs.len[0] = 6;
        break;
    case CORE_PT_TAGS:
        if (!nt) {
            core_set_err(err, errlen, "%s:2: no 0/1 tag columns (tags: every column but id, file, ra, dec that is "
                         "0 or 1 on the first row)", c->path);
            goto end;
        }
        memcpy(cols, tg, (size_t)nt * sizeof *tg);
        c->K = nt;
        break;
    default:
        break;
    }
    c->qs.n_out = c->K;
    c->names = xcalloc((size_t)c->K + 1, sizeof *c->names);
    for (int a = 0; a < c->K; a++) {
        const char *h = cat->cols[cols[a]];
        c->names[a] = xmalloc(strlen(h) + 5);
        sprintf(c->names[a], "%s%s", c->kind == CORE_PT_GZ1 ? "gz1." : "", h);   /* one question for zoosh embed */
    }
    rc = 0;
end:
    free(g2);
    return rc;
}

/* Catalog c -> its rows appended to the pool (files, targets; images are
 * decoded later), less the excluded ids.  0, or -1 with err. */
static int read_catalog(ptcat *c, ptpool *pool, int ci, idset *ex, const core_pt_opts *o, char *err,
                        size_t errlen)
{
    core_catalog cat;
    char e[300];
    if (core_catalog_load(c->path, &cat, e, sizeof e)) {
        core_set_err(err, errlen, "%s", e);
        return -1;
    }
    int rc = -1, fcol = core_catalog_col(&cat, "file"), idc = core_catalog_col(&cat, "id");
    int *cols = xcalloc((size_t)cat.n_cols + 1, sizeof *cols);
    char *dir = xstrdup(c->path), *slash = strrchr(dir, '/');
    if (slash) slash[1] = 0; else dir[0] = 0;
    if (fcol < 0) {
        core_set_err(err, errlen, "%s:1: no column 'file' (the image of each galaxy)", c->path);
        goto end;
    }
    if (ex->n && idc < 0) {
        core_set_err(err, errlen, "%s:1: no column 'id' (needed by --exclude)", c->path);
        goto end;
    }
    if (target_columns(&cat, c, cols, err, errlen)) goto end;
    c->first = pool->n;
    c->t = xmalloc(((size_t)cat.n_rows * c->K + 1) * sizeof *c->t);
    for (long r = 0; r < cat.n_rows; r++) {
        if (cat.n_fields[r] != cat.n_cols) {
            core_set_err(err, errlen, "%s:%ld: %d fields, the header has %d", c->path, cat.lines[r], cat.n_fields[r],
                         cat.n_cols);
            goto end;
        }
        if (ex->n) {
            const char *id = cat.cells[r][idc];
            char **p = bsearch(&id, ex->ids, (size_t)ex->n, sizeof *ex->ids, cmp_str);
            if (p) {
                ex->hit[p - ex->ids] = 1;
                c->n_excl++;
                continue;
            }
        }
        if (o->limit > 0 && c->n >= o->limit) continue;
        float *t = c->t + (size_t)c->n * c->K;
        for (int a = 0; a < c->K; a++) {
            const char *cell = cat.cells[r][cols[a]];
            float v;
            if (c->kind == CORE_PT_TAGS) {
                if (strcmp(cell, "0") && strcmp(cell, "1")) {
                    core_set_err(err, errlen, "%s:%ld: column %s: '%s' is not a 0/1 tag", c->path, cat.lines[r],
                                 cat.cols[cols[a]], cell);
                    goto end;
                }
                v = cell[0] == '1';
            } else if (core_parse_float(cell, &v) || !(v >= 0.0f && v <= 1.001f)) {
                core_set_err(err, errlen, "%s:%ld: column %s: '%s' is not a vote fraction in [0, 1]", c->path,
                             cat.lines[r], cat.cols[cols[a]], cell);
                goto end;
            }
            t[a] = v;
        }
        if (pool->n == pool->cap) {
            pool->cap = pool->cap ? 2 * pool->cap : 1024;
            pool->files = xrealloc(pool->files, (size_t)pool->cap * sizeof *pool->files);
            pool->lines = xrealloc(pool->lines, (size_t)pool->cap * sizeof *pool->lines);
            pool->cat = xrealloc(pool->cat, (size_t)pool->cap * sizeof *pool->cat);
        }
        const char *file = cat.cells[r][fcol];
        char *fp = xmalloc(strlen(dir) + strlen(file) + 1);
        sprintf(fp, "%s%s", file[0] == '/' ? "" : dir, file);
        pool->files[pool->n] = fp;
        pool->lines[pool->n] = cat.lines[r];
        pool->cat[pool->n++] = ci;
        c->n++;
    }
    rc = 0;
end:
    free(dir);
    free(cols);
    core_catalog_free(&cat);
    return rc;
}

typedef struct {
    ptpool *p;
    const core_pt_opts *o;
    int t, nt, n_bad;
    char first_bad[300];
} loadjob;

static void *load_worker(void *arg)
{
    loadjob *J = arg;
    ptpool *d = J->p;
    for (int i = J->t; i < d->n; i += J->nt) {
        core_image im = {0}, cr = {0}, rs = {0};
        char e[200];
        uint8_t *dst = d->px + (size_t)i * d->base * d->base * 3;
        if (core_image_load(d->files[i], &im, e, sizeof e)) {
            if (!J->n_bad++) snprintf(J->first_bad, sizeof J->first_bad, "line %ld: %s: %s", d->lines[i], d->files[i], e);
            memset(dst, 0, (size_t)d->base * d->base * 3);
            continue;
        }
        int side = im.w < im.h ? im.w : im.h;
        int want = (int)lrintf(side * J->o->crop * 1.5f);
        if (want > side) want = side;
        if (want < 1) want = 1;
        if (core_image_crop_centre(&im, want, &cr) || core_image_resize(&cr, d->base, d->base, &rs)) {
            if (!J->n_bad++) snprintf(J->first_bad, sizeof J->first_bad, "line %ld: %s: cannot resample", d->lines[i], d->files[i]);
            memset(dst, 0, (size_t)d->base * d->base * 3);
        } else memcpy(dst, rs.px, (size_t)d->base * d->base * 3);
        core_image_free(&im);
        core_image_free(&cr);
        core_image_free(&rs);
    }
    return NULL;
}

/* Every pool image decoded at base px on o->threads threads.  0, or -1
 * with err if more than 1% (or all) are unreadable. */
static int decode_pool(ptpool *d, const core_pt_opts *o, FILE *log, char *err, size_t errlen)
{
    d->base = (int)lrintf(o->size * 1.5f);
    d->px = xmalloc((size_t)d->n * d->base * d->base * 3 + 1);
    int nt = o->threads > 0 ? o->threads : 1, rc = -1;
    loadjob *J = xcalloc((size_t)nt, sizeof *J);
    pthread_t *tid = xcalloc((size_t)nt, sizeof *tid);
    for (int t = 0; t < nt; t++) {
        J[t] = (loadjob){.p = d, .o = o, .t = t, .nt = nt};
        if (t) pthread_create(&tid[t], NULL, load_worker, &J[t]);
    }
    load_worker(&J[0]);
    int bad = J[0].n_bad;
    const char *first = J[0].n_bad ? J[0].first_bad : NULL;
    for (int t = 1; t < nt; t++) {
        pthread_join(tid[t], NULL);
        bad += J[t].n_bad;
        if (!first && J[t].n_bad) first = J[t].first_bad;
    }
    if (bad > d->n / 100) core_set_err(err, errlen, "%d of %d images unreadable; first: %s", bad, d->n, first);
    else {
        if (bad && log) fprintf(log, "%d unreadable images left blank; first: %s\n", bad, first);
        rc = 0;
    }
    free(J);
    free(tid);
    return rc;
}

static void free_pool(ptpool *d)
{
    for (int i = 0; i < d->n; i++) free(d->files[i]);
    free(d->files);
    free(d->lines);
    free(d->cat);
    free(d->px);
}

/* One training batch: views of galaxies idx[0..B) into x, `views` of each
 * (view v of galaxy k at row v B + k), drawing from r in a fixed order. */
typedef struct {
    const ptpool *d;
    const core_pt_opts *o;
    const int *idx;
    int B, S, views;
    float *x;
    core_rng *r;
} batch_job;

static void *make_batch(void *p)
{
    const batch_job *j = p;
    const ptpool *d = j->d;
    for (int k = 0; k < j->B; k++)
        for (int v = 0; v < j->views; v++) {
            int g = j->idx[k];
            float th = (float)(2 * M_PI * core_rng_uniform(j->r));
            int flip = (int)core_rng_below(j->r, 2);
            float z = (float)(j->o->zoom_lo + (j->o->zoom_hi - j->o->zoom_lo) * core_rng_uniform(j->r));
            float *xk = j->x + ((size_t)v * j->B + k) * j->S * j->S * 3;
            core_pt_aug_view(d->px + (size_t)g * d->base * d->base * 3, d->base, j->S, th, flip, z, xk);
            if (j->o->survey > 0) core_pt_aug_survey(xk, j->S, j->o->survey, j->r);
            if (j->o->jitter > 0) core_pt_aug_jitter(xk, j->S, j->o->jitter, j->r);
        }
    return NULL;
}

/* The state of a run. */
typedef struct {
    const core_pt_opts *o;
    ptcat *c;
    int nc, head0;            /* catalogs; the one on the network's head (-1: none) */
    ptpool d;
    core_pt_net *net;
    core_pt_ssl *ssl;
    int NB, S, NO, dim;       /* rows a forward (views x batch) */
    float *logits, *feat, *dfeat, *dtmp, *tb, *dl, *ya, *dy;   /* work buffers, NB rows */
} ptrun;

/* Targets of catalog c for pool rows g[0..n) into tb (n, K): the row's own
 * if it is c's, else "none" (zero fractions; tags: -1). */
static void fill_targets(const ptrun *R, int c, const int *g, int n, float *tb)
{
    const ptcat *C = &R->c[c];
    for (int k = 0; k < n; k++) {
        float *t = tb + (size_t)k * C->K;
        if (R->d.cat[g[k]] == c) memcpy(t, C->t + (size_t)(g[k] - C->first) * C->K, (size_t)C->K * sizeof *t);
        else for (int a = 0; a < C->K; a++) t[a] = C->kind == CORE_PT_TAGS ? -1.0f : 0.0f;
    }
}

/* Catalog c's loss on rows whose logits are z (n, K); dz set if not NULL. */
static float head_loss(const ptcat *C, const float *z, const float *t, int n, float *dz)
{
    return C->kind == CORE_PT_TAGS ? core_pt_bce_grad(z, t, n, C->K, dz) : core_pt_loss_grad(&C->qs, z, t, n, dz);
}

/* Forward, every loss, backward over the NB rows of x (galaxies g[0..B),
 * `views` each).  loss[c] += catalog c's loss (per row of it), loss[nc] +=
 * NT-Xent.  The total, or NAN. */
static double train_step(ptrun *R, const float *x, const int *g, int B, int views, double *loss)
{
    int NB = B * views, dim = R->dim, any = 0;
    int *gg = xmalloc((size_t)NB * sizeof *gg);
    for (int v = 0; v < views; v++) memcpy(gg + (size_t)v * B, g, (size_t)B * sizeof *gg);
    core_pt_net_forward(R->net, x, NB, R->S, R->logits, R->feat);
    memset(R->dfeat, 0, (size_t)NB * dim * sizeof *R->dfeat);
    double tot = 0;
    int has_head = 0;
    for (int c = 0; c < R->nc; c++) {
        ptcat *C = &R->c[c];
        if (!C->K) continue;
        int rows = 0;
        for (int k = 0; k < NB; k++) rows += R->d.cat[gg[k]] == c;
        fill_targets(R, c, gg, NB, R->tb);
        float l;
        if (c == R->head0) {
            l = head_loss(C, R->logits, R->tb, NB, R->dl);
            has_head = 1;
        } else {
            core_pt_dense_forward(C->head, R->feat, NB, R->ya);
            l = head_loss(C, R->ya, R->tb, NB, R->dy);
            core_pt_dense_backward(C->head, R->feat, R->dy, NB, R->dtmp);
            for (size_t i = 0; i < (size_t)NB * dim; i++) R->dfeat[i] += R->dtmp[i];
            any = 1;
        }
        tot += l;
        if (rows) loss[c] += (double)l * NB / rows;
    }
    if (R->ssl) {
        float w = R->o->ssl, l = core_pt_ssl_grad(R->ssl, R->feat, NB, R->dtmp);
        for (size_t i = 0; i < (size_t)NB * dim; i++) R->dfeat[i] += w * R->dtmp[i];
        for (int k = 0; k < 2; k++) {
            size_t np;
            float *gr = core_pt_dense_grads(core_pt_ssl_layer(R->ssl, k), &np);
            for (size_t i = 0; i < np; i++) gr[i] *= w;
        }
        tot += w * l;
        loss[R->nc] += l;
        any = 1;
    }
    core_pt_net_backward(R->net, has_head ? R->dl : NULL, any ? R->dfeat : NULL);
    free(gg);
    return tot;
}

static void adamw_all(ptrun *R, float lr, int t)
{
    core_pt_net_adamw(R->net, lr, R->o->wd, t);
    for (int c = 0; c < R->nc; c++)
        if (R->c[c].head) core_pt_dense_adamw(R->c[c].head, lr, R->o->wd, t);
    if (R->ssl) core_pt_ssl_adamw(R->ssl, lr, R->o->wd, t);
}

/* Mean loss of catalog c on its held-out rows, one plain view each. */
static double eval_loss(ptrun *R, int c, float *x)
{
    ptcat *C = &R->c[c];
    const int *val = C->rows + (C->n - C->n_val);
    int S = R->S, NB = R->NB;
    double tot = 0;
    for (int i0 = 0; i0 < C->n_val; i0 += NB) {
        int b = C->n_val - i0 < NB ? C->n_val - i0 : NB;
        for (int k = 0; k < b; k++)
            core_pt_aug_view(R->d.px + (size_t)val[i0 + k] * R->d.base * R->d.base * 3, R->d.base, S, 0, 0, 1,
                             x + (size_t)k * S * S * 3);
        core_pt_net_forward(R->net, x, b, S, R->logits, R->feat);
        fill_targets(R, c, val + i0, b, R->tb);
        const float *z = R->logits;
        if (c != R->head0) {
            core_pt_dense_forward(C->head, R->feat, b, R->ya);
            z = R->ya;
        }
        tot += head_loss(C, z, R->tb, b, NULL) * b;
    }
    return C->n_val ? tot / C->n_val : 0;
}

/* Held-out loss of predicting catalog c's training mean (a reference point). */
static double mean_baseline(const ptrun *R, int c)
{
    const ptcat *C = &R->c[c];
    int n_tr = C->n - C->n_val, K = C->K;
    if (!C->n_val || !K || !n_tr) return 0;
    double *mean = xcalloc((size_t)K, sizeof *mean);
    float *z = xmalloc((size_t)K * sizeof *z);
    for (int i = 0; i < n_tr; i++)
        for (int a = 0; a < K; a++) mean[a] += C->t[(size_t)(C->rows[i] - C->first) * K + a] / n_tr;
    for (int a = 0; a < K; a++)
        z[a] = C->kind == CORE_PT_TAGS ? (float)log((mean[a] + 1e-6) / (1 - mean[a] + 1e-6)) : logf((float)mean[a] + 1e-6f);
    double l = 0;
    for (int i = n_tr; i < C->n; i++) l += head_loss(C, z, C->t + (size_t)(C->rows[i] - C->first) * K, 1, NULL);
    free(mean);
    free(z);
    return l / C->n_val;
}

/* The vote entropy of catalog c's held-out rows: the loss's floor. */
static double vote_floor(const ptcat *C)
{
    double fl = 0;
    if (C->kind == CORE_PT_TAGS || !C->n_val) return 0;
    for (int i = C->n - C->n_val; i < C->n; i++) {
        const float *t = C->t + (size_t)(C->rows[i] - C->first) * C->K;
        for (int q = 0; q < C->qs.n_q; q++) {
            double w = 0;
            for (int j = 0; j < C->qs.len[q]; j++) w += t[C->qs.start[q] + j];
            for (int j = 0; j < C->qs.len[q]; j++)
                if (t[C->qs.start[q] + j] > 0) fl -= t[C->qs.start[q] + j] * log(t[C->qs.start[q] + j] / w);
        }
    }
    return fl / C->n_val;
}

/* "s1; s2; ..." metadata of the catalogs, the exclusions and the held-out
 * losses (malloc'd). */
static char *describe_catalogs(const ptrun *R)
{
    size_t cap = 256;
    for (int c = 0; c < R->nc; c++) cap += strlen(R->c[c].path) + 96;
    char *s = xmalloc(cap);
    size_t at = 0;
    s[0] = 0;
    for (int c = 0; c < R->nc; c++)
        at += (size_t)snprintf(s + at, cap - at, "%s%s (%s, %d galaxies, %d targets%s)", c ? "; " : "", R->c[c].path,
                               core_pt_kind_name(R->c[c].kind), R->c[c].n, R->c[c].K,
                               c == R->head0 ? ", head.fc" : "");
    return s;
}

static char *describe_excluded(const ptrun *R, const idset *ex)
{
    size_t cap = 256;
    for (int k = 0; k < CORE_PT_MAX_EXCLUDE && R->o->exclude[k]; k++) cap += strlen(R->o->exclude[k]) + 4;
    for (int c = 0; c < R->nc; c++) cap += strlen(R->c[c].path) + 48;
    char *s = xmalloc(cap);
    size_t at = (size_t)snprintf(s, cap, "%d ids listed in ", ex->n);
    for (int k = 0; k < CORE_PT_MAX_EXCLUDE && R->o->exclude[k]; k++)
        at += (size_t)snprintf(s + at, cap - at, "%s%s", k ? ", " : "", R->o->exclude[k]);
    at += (size_t)snprintf(s + at, cap - at, " (never trained on):");
    for (int c = 0; c < R->nc; c++)
        at += (size_t)snprintf(s + at, cap - at, "%s %d from %s", c ? "," : "", R->c[c].n_excl, R->c[c].path);
    return s;
}

static void free_run(ptrun *R)
{
    for (int c = 0; c < R->nc; c++) {
        ptcat *C = &R->c[c];
        for (int a = 0; C->names && a < C->K; a++) free(C->names[a]);
        free(C->names);
        free(C->t);
        free(C->rows);
        core_pt_dense_free(C->head);
    }
    free(R->c);
    free_pool(&R->d);
    core_pt_net_free(R->net);
    core_pt_ssl_free(R->ssl);
    free(R->logits);
    free(R->feat);
    free(R->dfeat);
    free(R->dtmp);
    free(R->tb);
    free(R->dl);
    free(R->ya);
    free(R->dy);
}

/* Read every catalog (and --exclude), log what each is, decode the images. */
static int load_all(ptrun *R, const core_pt_catalog *cats, FILE *lf, idset *ex, char *err, size_t errlen)
{
    const core_pt_opts *o = R->o;
    if (read_excludes(o, ex, err, errlen)) return -1;
    for (int c = 0; c < R->nc; c++) {
        R->c[c].path = cats[c].path;
        R->c[c].kind = cats[c].kind;
        if (read_catalog(&R->c[c], &R->d, c, ex, o, err, errlen)) return -1;
    }
    for (int i = 0; i < ex->n; i++)
        if (!ex->hit[i]) {
            core_set_err(err, errlen, "%s: id '%s' is not in %s", o->exclude[ex->file[i]], ex->ids[i],
                         R->nc == 1 ? R->c[0].path : "any of the catalogs");
            return -1;
        }
    R->head0 = -1;
    for (int want = CORE_PT_GZ2; want <= CORE_PT_GZ1 && R->head0 < 0; want++)
        for (int c = 0; c < R->nc && R->head0 < 0; c++)
            if (R->c[c].kind == (core_pt_kind)want) R->head0 = c;
    int labelled = 0;
    for (int c = 0; c < R->nc; c++) {
        ptcat *C = &R->c[c];
        labelled += C->K > 0;
        if (lf && C->n_excl) fprintf(lf, "%s: %d of its galaxies excluded\n", C->path, C->n_excl);
        if (!lf) continue;
        fprintf(lf, "catalog %s (%s%s): %d galaxies, ", C->path, core_pt_kind_name(C->kind),
                cats[c].kind == CORE_PT_AUTO ? ", from its columns" : "", C->n);
        if (C->kind == CORE_PT_TAGS) {
            fprintf(lf, "%d tags (", C->K);
            for (int a = 0; a < C->K; a++) fprintf(lf, "%s%s", a ? ", " : "", C->names[a]);
            fprintf(lf, "), binary cross-entropy\n");
        } else if (C->K)
            fprintf(lf, "%d question%s, %d answers%s\n", C->qs.n_q, C->qs.n_q == 1 ? "" : "s", C->K,
                    c == R->head0 ? " (the network's head)" : "");
        else fprintf(lf, "no targets (self-supervised only)\n");
    }
    for (int k = 0; lf && k < CORE_PT_MAX_EXCLUDE && o->exclude[k]; k++) {
        int m = 0;
        for (int i = 0; i < ex->n; i++) m += ex->file[i] == k;
        fprintf(lf, "%s: %d galaxies excluded (never trained on)\n", o->exclude[k], m);
    }
    if (!labelled && !(o->ssl > 0)) {
        core_set_err(err, errlen, "no catalog has targets: give one with targets, or --ssl W to train on images alone");
        return -1;
    }
    for (int c = 0; c < R->nc; c++)
        if (R->c[c].n == 0) {
            core_set_err(err, errlen, "%s: no galaxies to train on", R->c[c].path);
            return -1;
        }
    if (lf) fprintf(lf, "decoding %d images to %d px...\n", R->d.n, (int)lrintf(o->size * 1.5f));
    return decode_pool(&R->d, o, lf, err, errlen);
}

int core_pt_run(const core_pt_catalog *cats, int n_cats, const char *out_path, const core_pt_opts *o,
                void *log_file, char *err, size_t errlen)
{
    FILE *lf = log_file;
    ptrun R_, *R = &R_;
    idset ex;
    int rc = -1, S = o->size, B = o->batch, views = o->ssl > 0 ? 2 : 1;
    float *x = NULL, *x2 = NULL;   /* x2: the next batch */
    int *idx = NULL;
    char *s_cats = NULL, *s_excl = NULL, *s_held = NULL, *answers = NULL;
    double t0 = core_mono_s(), *loss = NULL;
    memset(R, 0, sizeof *R);
    memset(&ex, 0, sizeof ex);
    if (S < 32 || B < 1 || o->epochs < 1 || n_cats < 1 || n_cats > CORE_PT_MAX_CATALOGS) {
        core_set_err(err, errlen, "size must be >= 32, batch and epochs >= 1, 1 to %d catalogs", CORE_PT_MAX_CATALOGS);
        return -1;
    }
    if (views == 2 && B < 2) {
        core_set_err(err, errlen, "--ssl needs a batch of at least 2");
        return -1;
    }
    R->o = o;
    R->nc = n_cats;
    R->c = xcalloc((size_t)n_cats, sizeof *R->c);
    R->S = S;
    R->NB = B * views;
    int blas = openblas_get_num_threads();
    if (load_all(R, cats, lf, &ex, err, errlen)) goto end;
    if (lf) fprintf(lf, "decoded in %.1f s\n", core_mono_s() - t0);
    openblas_set_num_threads(o->threads > 0 ? o->threads : 1);
    R->NO = R->head0 >= 0 ? R->c[R->head0].K : 1;
    if (core_pt_net_new(&R->net, &o->arch, R->NO, 1e-6f, o->seed)) {
        core_set_err(err, errlen, "bad architecture");
        goto end_blas;
    }
    R->dim = core_pt_net_dim(R->net);
    int maxK = R->NO;
    for (int c = 0; c < n_cats; c++) {
        maxK = R->c[c].K > maxK ? R->c[c].K : maxK;
        if (c != R->head0 && R->c[c].K && core_pt_dense_new(&R->c[c].head, R->dim, R->c[c].K, o->seed + 1000 + (uint64_t)c))
            goto end_blas;
    }
    if (views == 2 && core_pt_ssl_new(&R->ssl, R->dim, R->dim, 64, o->ssl_tau, o->seed + 2000)) {
        core_set_err(err, errlen, "bad --ssl-tau");
        goto end_blas;
    }
    size_t NB = (size_t)R->NB;
    R->logits = xmalloc(NB * R->NO * sizeof *R->logits);
    R->feat = xmalloc(NB * R->dim * sizeof *R->feat);
    R->dfeat = xmalloc(NB * R->dim * sizeof *R->dfeat);
    R->dtmp = xmalloc(NB * R->dim * sizeof *R->dtmp);
    R->tb = xmalloc(NB * maxK * sizeof *R->tb);
    R->dl = xmalloc(NB * maxK * sizeof *R->dl);
    R->ya = xmalloc(NB * maxK * sizeof *R->ya);
    R->dy = xmalloc(NB * maxK * sizeof *R->dy);
    /* split: per catalog a seeded shuffle, the last val_frac held out
     * (unlabelled catalogs: none); training rows of all, one list */
    core_rng r;
    core_rng_seed(&r, o->seed);
    idx = xmalloc(((size_t)R->d.n + 1) * sizeof *idx);
    int n_tr = 0;
    for (int c = 0; c < n_cats; c++) {
        ptcat *C = &R->c[c];
        C->rows = xmalloc((size_t)C->n * sizeof *C->rows);
        for (int i = 0; i < C->n; i++) C->rows[i] = C->first + i;
        for (int i = C->n - 1; i > 0; i--) {
            int j = (int)core_rng_below(&r, (uint32_t)i + 1), t = C->rows[i];
            C->rows[i] = C->rows[j];
            C->rows[j] = t;
        }
        C->n_val = C->K ? (int)(C->n * o->val_frac) : 0;
        for (int i = 0; i < C->n - C->n_val; i++) idx[n_tr++] = C->rows[i];
        C->base_loss = mean_baseline(R, c);
        if (lf && C->n_val)
            fprintf(lf, "%s: held out %d galaxies: loss of predicting the mean %.4f%s", C->path, C->n_val, C->base_loss,
                    C->kind == CORE_PT_TAGS ? "\n" : "");
        if (lf && C->n_val && C->kind != CORE_PT_TAGS) fprintf(lf, ", floor (vote entropy) %.4f\n", vote_floor(C));
    }
    if (n_tr < B) {
        core_set_err(err, errlen, "%d galaxies to train on, fewer than a batch of %d", n_tr, B);
        goto end_blas;
    }
    x = xmalloc(NB * S * S * 3 * sizeof *x);
    x2 = xmalloc(NB * S * S * 3 * sizeof *x2);
    loss = xcalloc((size_t)n_cats + 1, sizeof *loss);
    s_cats = describe_catalogs(R);
    s_excl = ex.n ? describe_excluded(R, &ex) : xstrdup("none");
    if (R->head0 >= 0) {
        const ptcat *H = &R->c[R->head0];
        size_t cap = 1;
        for (int a = 0; a < H->K; a++) cap += strlen(H->names[a]) + 1;
        answers = xcalloc(cap, 1);
        for (int a = 0; a < H->K; a++) strcat(strcat(answers, a ? "," : ""), H->names[a]);
    }
    s_held = xcalloc((size_t)n_cats * 160 + 64, 1);
    int steps_per_epoch = n_tr / B, total = steps_per_epoch * o->epochs, warm = total / 20 + 1, step = 0;
    for (int ep = 1; ep <= o->epochs; ep++) {
        double te = core_mono_s(), tot = 0;
        memset(loss, 0, ((size_t)n_cats + 1) * sizeof *loss);
        for (int i = n_tr - 1; i > 0; i--) {          /* reshuffle the training rows */
            int j = (int)core_rng_below(&r, (uint32_t)i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        /* batch s + 1 is prepared on a second thread while batch s trains;
         * within the epoch only, so the reshuffle above draws from r after
         * every view of the last epoch */
        batch_job job = {&R->d, o, idx, B, S, views, x, &r};
        make_batch(&job);
        for (int s = 0; s < steps_per_epoch; s++, step++) {
            float *xs = s % 2 ? x2 : x;
            pthread_t prep;
            int ahead = s + 1 < steps_per_epoch;
            batch_job next = {&R->d, o, idx + (size_t)(s + 1) * B, B, S, views, s % 2 ? x : x2, &r};
            if (ahead && (o->threads < 2 || pthread_create(&prep, NULL, make_batch, &next) != 0)) {
                make_batch(&next);
                ahead = 0;
            }
            double l = train_step(R, xs, idx + (size_t)s * B, B, views, loss);
            if (ahead) pthread_join(prep, NULL);
            if (!isfinite(l)) {
                core_set_err(err, errlen, "training diverged at epoch %d step %d (loss %g): try a lower --lr", ep, s, l);
                goto end_blas;
            }
            tot += l;
            float lr = step < warm ? o->lr * (step + 1) / warm
                                   : o->lr * (0.05f + 0.95f * 0.5f * (1 + cosf((float)M_PI * (step - warm) / (total - warm))));
            adamw_all(R, lr, step + 1);
        }
        double dt = core_mono_s() - te, vl0 = 0;
        size_t at = 0;
        s_held[0] = 0;
        for (int c = 0; c < n_cats; c++) {
            ptcat *C = &R->c[c];
            if (!C->n_val) continue;
            double vl = eval_loss(R, c, x);
            if (c == R->head0) vl0 = vl;
            at += (size_t)snprintf(s_held + at, (size_t)n_cats * 160 + 64 - at, "%s%s %.4f (mean %.4f)", at ? "; " : "",
                                   core_pt_kind_name(C->kind), vl, C->base_loss);
        }
        if (lf) {
            char parts[400] = "";
            size_t pa = 0;
            for (int c = 0; c <= n_cats && (n_cats > 1 || R->ssl); c++) {
                if (c < n_cats && !R->c[c].K) continue;
                if (c == n_cats && !R->ssl) break;
                pa += (size_t)snprintf(parts + pa, sizeof parts - pa, "%s%s %.3f", pa ? ", " : " (",
                                       c < n_cats ? core_pt_kind_name(R->c[c].kind) : "ssl", loss[c] / steps_per_epoch);
                if (pa >= sizeof parts - 2) break;
            }
            if (pa && pa < sizeof parts - 2) strcat(parts, ")");
            fprintf(lf, "epoch %d/%d  train loss %.4f%s", ep, o->epochs, tot / steps_per_epoch, parts);
            fprintf(lf, "  %s%s  (%.0f s, %.0f img/s)\n", s_held[0] ? "held-out loss " : "no held-out set", s_held, dt,
                    steps_per_epoch * (double)R->NB / dt);
            fflush(lf);
        }
        char s_ep[32], s_size[32], s_crop[32], s_val[64], s_arch[96], s_seed[32], s_aug[256], s_ssl[96];
        snprintf(s_ep, sizeof s_ep, "%d/%d", ep, o->epochs);
        snprintf(s_size, sizeof s_size, "%d", S);
        snprintf(s_crop, sizeof s_crop, "%.3g", o->crop);
        if (R->head0 >= 0)
            snprintf(s_val, sizeof s_val, "%.4f (mean-vote baseline %.4f, floor %.4f)", vl0, R->c[R->head0].base_loss,
                     vote_floor(&R->c[R->head0]));
        else snprintf(s_val, sizeof s_val, "none");
        snprintf(s_arch, sizeof s_arch, "depths %d,%d,%d,%d dims %d,%d,%d,%d", o->arch.depths[0], o->arch.depths[1],
                 o->arch.depths[2], o->arch.depths[3], o->arch.dims[0], o->arch.dims[1], o->arch.dims[2], o->arch.dims[3]);
        snprintf(s_seed, sizeof s_seed, "%llu", (unsigned long long)o->seed);
        snprintf(s_aug, sizeof s_aug, "rotation, flip, zoom %.2g-%.2g, survey jitter %.2g; seeing and resolution %.2g; "
                 "batch %d, lr %.3g AdamW wd %.3g cosine", o->zoom_lo, o->zoom_hi, o->jitter, o->survey, o->batch, o->lr, o->wd);
        if (R->ssl) snprintf(s_ssl, sizeof s_ssl, "NT-Xent weight %.3g, tau %.3g, two views a galaxy, projection %d-%d-64",
                             o->ssl, o->ssl_tau, R->dim, R->dim);
        else snprintf(s_ssl, sizeof s_ssl, "none");
        const char *meta[40] = {"made_by", "zoosh pretrain", "catalog", s_cats, "epochs", s_ep, "seed", s_seed,
                                "excluded", s_excl, "augmentation", s_aug, "self_supervised", s_ssl,
                                "zoosh_input_size", s_size, "zoosh_crop", s_crop, "held_out_loss", s_val,
                                "held_out_losses", s_held, "arch", s_arch,
                                "loss", "per catalog: vote fractions, per-question soft cross-entropy weighted by the "
                                "fraction reaching each question; tags, binary cross-entropy; other catalogs' heads "
                                "are not saved", NULL};
        if (answers) {
            int m = 0;
            while (meta[m]) m++;
            meta[m] = "answers";
            meta[m + 1] = answers;
            meta[m + 2] = NULL;
        }
        if (core_pt_net_save(R->net, out_path, meta, err, errlen)) goto end_blas;
    }
    size_t np;
    core_pt_net_params(R->net, &np);
    if (lf) fprintf(lf, "wrote %s (%zu parameters) in %.0f s\n", out_path, np, core_mono_s() - t0);
    rc = 0;
end_blas:
    openblas_set_num_threads(blas);
end:
    free(idx);
    free(x);
    free(x2);
    free(loss);
    free(s_cats);
    free(s_excl);
    free(s_held);
    free(answers);
    free_idset(&ex);
    free_run(R);
    return rc;
}
