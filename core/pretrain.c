/*
 * pretrain.c - `zoosh pretrain`: a catalog of galaxy images and their vote
 * fractions -> views (centre crop, rotation, flip, zoom, survey jitter) ->
 * the network of core/ptnet.h, trained with AdamW on a cosine schedule,
 * the file rewritten after every epoch.
 */
#include "core/pretrain.h"
#include "core/catalog.h"
#include "core/image.h"
#include "core/util.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the run */

void core_pt_opts_default(core_pt_opts *o)
{
    memset(o, 0, sizeof *o);
    o->arch = (core_convnext_arch){"zoosh_gz2", 4, {1, 1, 3, 1}, {32, 64, 128, 256}, 4};
    o->size = 64;
    o->crop = 0.5f;
    o->zoom_lo = 0.9f;
    o->zoom_hi = 1.1f;
    o->jitter = 0;
    o->epochs = 8;
    o->batch = 32;
    o->lr = 2e-3f;
    o->wd = 0.05f;
    o->seed = 1;
    o->threads = 2;
    o->val_frac = 0.1f;
}

typedef struct {
    int n, base;
    int n_excl;         /* galaxies left out by --exclude */
    uint8_t *px;        /* (n, base, base, 3) centre region, 1.5 x the view */
    float *f;           /* (n, NO) cumulative vote fractions */
    char **files;       /* (n) */
    long *lines;        /* (n) */
} ptdata;

typedef struct {
    ptdata *d;
    const core_pt_opts *o;
    int t, nt;
    int n_bad;
    char first_bad[300];
} loadjob;

static void *load_worker(void *arg)
{
    loadjob *J = arg;
    ptdata *d = J->d;
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

static int cmp_int2(const void *a, const void *b)
{
    const int *x = a, *y = b;
    return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}


/* Catalog -> questions, fractions, decoded base images. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* keep (n_rows) <- the catalog rows whose `id` is not listed in the file
 * `exclude` (one id a line; blank lines and '#' comments skipped); *n kept,
 * *n_excl dropped.  Every listed id must be in the catalog (a typo would
 * otherwise leak a validation galaxy into training).  0, or -1 with err. */
static int exclude_rows(const char *path, const core_catalog *cat, const char *exclude, int *keep, int *n,
                        int *n_excl, char *err, size_t errlen)
{
    *n = *n_excl = 0;
    if (!exclude) {
        for (long r = 0; r < cat->n_rows; r++) keep[(*n)++] = (int)r;
        return 0;
    }
    int idc = core_catalog_col(cat, "id");
    if (idc < 0) {
        core_set_err(err, errlen, "%s:1: no column 'id' (needed by --exclude)", path);
        return -1;
    }
    FILE *f = fopen(exclude, "r");
    if (!f) {
        core_set_err(err, errlen, "%s: %s", exclude, strerror(errno));
        return -1;
    }
    char **ids = NULL, line[512];
    int nid = 0, cap = 0, rc = -1;
    long ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        if (nid == cap) ids = xrealloc(ids, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *ids);
        ids[nid++] = xstrdup(line);
    }
    fclose(f);
    qsort(ids, (size_t)nid, sizeof *ids, cmp_str);
    unsigned char *hit = xcalloc((size_t)nid + 1, 1);   /* (nid) listed id found in the catalog */
    for (long r = 0; r < cat->n_rows; r++) {
        const char *id = idc < cat->n_fields[r] ? cat->cells[r][idc] : "";
        char **p = nid ? bsearch(&id, ids, (size_t)nid, sizeof *ids, cmp_str) : NULL;
        if (p) { hit[p - ids] = 1; (*n_excl)++; }
        else keep[(*n)++] = (int)r;
    }
    for (int i = 0; i < nid; i++)
        if (!hit[i]) {
            core_set_err(err, errlen, "%s: id '%s' is not in %s", exclude, ids[i], path);
            goto end;
        }
    rc = 0;
end:
    for (int i = 0; i < nid; i++) free(ids[i]);
    free(ids);
    free(hit);
    return rc;
}

static int load_data(const char *path, const core_pt_opts *o, ptdata *d, core_pt_questions *qs,
                     char ***names_out, FILE *log, char *err, size_t errlen)
{
    core_catalog cat;
    char e[300];
    memset(d, 0, sizeof *d);
    if (core_catalog_load(path, &cat, e, sizeof e)) {
        core_set_err(err, errlen, "%s", e);
        return -1;
    }
    int rc = -1, fcol = core_catalog_col(&cat, "file");
    int (*cols)[3] = xcalloc((size_t)cat.n_cols + 1, sizeof *cols);   /* question, answer, column */
    int na = 0;
    if (fcol < 0) {
        core_set_err(err, errlen, "%s:1: no column 'file' (the image of each galaxy)", path);
        goto end;
    }
    for (int c = 0; c < cat.n_cols; c++) {
        int q, a, used = 0;
        if (sscanf(cat.cols[c], "Class%d.%d%n", &q, &a, &used) == 2 && !cat.cols[c][used] && q > 0 && a > 0) {
            cols[na][0] = q;
            cols[na][1] = a;
            cols[na][2] = c;
            na++;
        }
    }
    if (na == 0 || na > CORE_PT_MAX_OUT) {
        core_set_err(err, errlen, "%s:1: %s vote-fraction columns named ClassQ.A (Galaxy Zoo 2 / Kaggle style)",
               path, na ? "too many" : "no");
        goto end;
    }
    qsort(cols, (size_t)na, sizeof *cols, cmp_int2);
    memset(qs, 0, sizeof *qs);
    qs->n_out = na;
    for (int i = 0; i < na; i++) {
        if (i == 0 || cols[i][0] != cols[i - 1][0]) {
            qs->start[qs->n_q] = i;
            qs->n_q++;
        }
        qs->len[qs->n_q - 1]++;
    }
    *names_out = xcalloc((size_t)na, sizeof **names_out);
    for (int i = 0; i < na; i++) (*names_out)[i] = xstrdup(cat.cols[cols[i][2]]);
    /* rows kept: all, less the --exclude ids (a validation set never seen) */
    int *keep = xmalloc(((size_t)cat.n_rows + 1) * sizeof *keep);   /* (n_rows) catalog row of each galaxy */
    int n = 0, n_excl = 0;
    if (exclude_rows(path, &cat, o->exclude, keep, &n, &n_excl, err, errlen)) { free(keep); goto end; }
    if (o->limit > 0 && n > o->limit) n = o->limit;
    d->n = n;
    d->base = (int)lrintf(o->size * 1.5f);
    d->f = xmalloc((size_t)n * na * sizeof *d->f);
    d->files = xcalloc((size_t)n, sizeof *d->files);
    d->lines = xcalloc((size_t)n, sizeof *d->lines);
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash) slash[1] = 0; else dir[0] = 0;
    for (int i = 0; i < n; i++) {
        int r = keep[i];
        d->lines[i] = cat.lines[r];
        if (cat.n_fields[r] != cat.n_cols) {
            core_set_err(err, errlen, "%s:%ld: %d fields, the header has %d", path, cat.lines[r], cat.n_fields[r], cat.n_cols);
            free(dir);
            goto end;
        }
        const char *file = cat.cells[r][fcol];
        d->files[i] = xmalloc(strlen(dir) + strlen(file) + 1);
        sprintf(d->files[i], "%s%s", file[0] == '/' ? "" : dir, file);
        for (int a = 0; a < na; a++) {
            float v;
            const char *cell = cat.cells[r][cols[a][2]];
            if (core_parse_float(cell, &v) || !(v >= 0.0f && v <= 1.001f)) {
                core_set_err(err, errlen, "%s:%ld: column %s: '%s' is not a vote fraction in [0, 1]", path, cat.lines[r],
                       cat.cols[cols[a][2]], cell);
                free(dir);
                free(keep);
                goto end;
            }
            d->f[(size_t)i * na + a] = v;
        }
    }
    free(dir);
    free(keep);
    d->n_excl = n_excl;
    if (log && n_excl) fprintf(log, "%s: %d galaxies excluded (never trained on)\n", o->exclude, n_excl);
    if (log) fprintf(log, "catalog %s: %d galaxies, %d questions, %d answers; decoding images to %d px...\n",
                     path, n, qs->n_q, na, d->base);
    d->px = xmalloc((size_t)n * d->base * d->base * 3);
    int nt = o->threads > 0 ? o->threads : 1;
    loadjob *J = xcalloc((size_t)nt, sizeof *J);
    pthread_t *tid = xcalloc((size_t)nt, sizeof *tid);
    for (int t = 0; t < nt; t++) {
        J[t] = (loadjob){.d = d, .o = o, .t = t, .nt = nt};
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
    if (bad > n / 100) {
        core_set_err(err, errlen, "%s: %d of %d images unreadable; first: %s", path, bad, n, first);
        free(J);
        free(tid);
        goto end;
    }
    if (bad && log) fprintf(log, "%d unreadable images left blank; first: %s\n", bad, first);
    free(J);
    free(tid);
    rc = 0;
end:
    free(cols);
    core_catalog_free(&cat);
    return rc;
}

static void free_data(ptdata *d)
{
    for (int i = 0; i < d->n; i++) free(d->files ? d->files[i] : NULL);
    free(d->files);
    free(d->lines);
    free(d->px);
    free(d->f);
}

/* One view of galaxy i into x (S, S, 3): rotation th, flip, zoom z (> 1 =
 * closer), bilinear from the base image, edges clamped. */
static void make_view(const ptdata *d, int i, int S, float th, int flip, float z, float *x)
{
    const uint8_t *src = d->px + (size_t)i * d->base * d->base * 3;
    int Bs = d->base;
    float cth = cosf(th) / z, sth = sinf(th) / z, c0 = Bs * 0.5f;
    for (int v = 0; v < S; v++)
        for (int u = 0; u < S; u++) {
            float cu = u + 0.5f - S * 0.5f, cv = v + 0.5f - S * 0.5f;
            if (flip) cu = -cu;
            float bx = c0 + cth * cu - sth * cv - 0.5f, by = c0 + sth * cu + cth * cv - 0.5f;
            bx = bx < 0 ? 0 : bx > Bs - 1 ? (float)(Bs - 1) : bx;
            by = by < 0 ? 0 : by > Bs - 1 ? (float)(Bs - 1) : by;
            int x0 = (int)bx, y0 = (int)by, x1 = x0 + 1 < Bs ? x0 + 1 : x0, y1 = y0 + 1 < Bs ? y0 + 1 : y0;
            float fx = bx - x0, fy = by - y0;
            for (int c = 0; c < 3; c++) {
                float p00 = src[((size_t)y0 * Bs + x0) * 3 + c], p01 = src[((size_t)y0 * Bs + x1) * 3 + c];
                float p10 = src[((size_t)y1 * Bs + x0) * 3 + c], p11 = src[((size_t)y1 * Bs + x1) * 3 + c];
                float val = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11);
                x[((size_t)v * S + u) * 3 + c] = val / 255.0f;
            }
        }
}

/* Survey augmentation of one view x (S, S, 3) in [0, 1], strength a (1 =
 * the ranges below): gain per channel exp(N(0, 0.1a)), saturation about the
 * grey level in [1 - 0.5a, 1 + 0.5a], brightness exp(U(-0.3a, 0.3a)),
 * gamma exp(U(-0.25a, 0.25a)), Gaussian pixel noise of sigma U(0, 0.02a).
 * Different surveys (SDSS, DECaLS, HSC) differ in exactly these ways. */
static void jitter_view(float *x, int S, float a, core_rng *r)
{
    float gain[3], sat = (float)(1 + a * (core_rng_uniform(r) - 0.5));
    float bright = (float)exp(0.3 * a * (2 * core_rng_uniform(r) - 1));
    float gam = (float)exp(0.25 * a * (2 * core_rng_uniform(r) - 1));
    float sig = (float)(0.02 * a * core_rng_uniform(r));
    for (int c = 0; c < 3; c++) gain[c] = (float)exp(0.1 * a * core_rng_normal(r)) * bright;
    for (size_t p = 0; p < (size_t)S * S; p++) {
        float *px = x + p * 3;
        float g = (px[0] + px[1] + px[2]) * (1.0f / 3);
        for (int c = 0; c < 3; c++) {
            float v = (g + sat * (px[c] - g)) * gain[c];
            v = v > 0 ? powf(v, gam) : 0;
            v += sig * (float)core_rng_normal(r);
            px[c] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}

/* One training batch: the views (rotation, flip, zoom, jitter) of galaxies
 * idx[0..B) into x and their vote fractions into f, drawing from r.  It is
 * the only user of r inside an epoch, so preparing batch s + 1 on another
 * thread while batch s trains (core_pt_run) draws the same numbers. */
typedef struct {
    const ptdata *d;
    const core_pt_opts *o;
    const int *idx;
    int B, S, NO;
    float *x, *f;
    core_rng *r;
} batch_job;

static void *make_batch(void *p)
{
    const batch_job *j = p;
    for (int k = 0; k < j->B; k++) {
        int g = j->idx[k];
        float th = (float)(2 * M_PI * core_rng_uniform(j->r));
        int flip = (int)core_rng_below(j->r, 2);
        float z = (float)(j->o->zoom_lo + (j->o->zoom_hi - j->o->zoom_lo) * core_rng_uniform(j->r));
        float *xk = j->x + (size_t)k * j->S * j->S * 3;
        make_view(j->d, g, j->S, th, flip, z, xk);
        if (j->o->jitter > 0) jitter_view(xk, j->S, j->o->jitter, j->r);
        memcpy(j->f + (size_t)k * j->NO, j->d->f + (size_t)g * j->NO, (size_t)j->NO * sizeof *j->f);
    }
    return NULL;
}

/* Mean loss over galaxies idx[0..n) without augmentation. */
static double eval_loss(core_pt_net *net, const ptdata *d, const core_pt_questions *qs, const int *idx, int n,
                        int B, int S, float *x, float *f, float *logits)
{
    double tot = 0;
    int NO = qs->n_out;
    for (int i0 = 0; i0 < n; i0 += B) {
        int b = n - i0 < B ? n - i0 : B;
        for (int k = 0; k < b; k++) {
            make_view(d, idx[i0 + k], S, 0, 0, 1, x + (size_t)k * S * S * 3);
            memcpy(f + (size_t)k * NO, d->f + (size_t)idx[i0 + k] * NO, (size_t)NO * sizeof *f);
        }
        core_pt_net_forward(net, x, b, S, logits, NULL);
        tot += core_pt_loss(qs, logits, f, b) * b;
    }
    return n ? tot / n : 0;
}

int core_pt_run(const char *catalog, const char *out_path, const core_pt_opts *o, void *log_file,
                char *err, size_t errlen)
{
    FILE *lf = log_file;
    ptdata d;
    core_pt_questions qs;
    char **names = NULL;
    core_pt_net *net = NULL;
    int rc = -1, S = o->size, B = o->batch;
    float *x = NULL, *f = NULL, *x2 = NULL, *f2 = NULL, *logits = NULL;   /* x2, f2: the next batch */
    int *idx = NULL;
    double t0 = core_mono_s();
    if (S < 32 || B < 1 || o->epochs < 1) {
        core_set_err(err, errlen, "size must be >= 32, batch and epochs >= 1");
        return -1;
    }
    if (load_data(catalog, o, &d, &qs, &names, lf, err, errlen)) goto end;
    int NO = qs.n_out;
    if (lf) fprintf(lf, "decoded in %.1f s\n", core_mono_s() - t0);
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(o->threads > 0 ? o->threads : 1);
    if (core_pt_net_new(&net, &o->arch, NO, 1e-6f, o->seed)) {
        core_set_err(err, errlen, "bad architecture");
        goto end_blas;
    }
    /* split: a seeded shuffle, the last val_frac held out */
    core_rng r;
    core_rng_seed(&r, o->seed);
    idx = xmalloc((size_t)d.n * sizeof *idx);
    for (int i = 0; i < d.n; i++) idx[i] = i;
    for (int i = d.n - 1; i > 0; i--) {
        int j = (int)core_rng_below(&r, (uint32_t)i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    int n_val = (int)(d.n * o->val_frac), n_tr = d.n - n_val;
    if (n_tr < B) {
        core_set_err(err, errlen, "%s: %d galaxies to train on, fewer than a batch of %d", catalog, n_tr, B);
        goto end_blas;
    }
    x = xmalloc((size_t)B * S * S * 3 * sizeof *x);
    f = xmalloc((size_t)B * NO * sizeof *f);
    x2 = xmalloc((size_t)B * S * S * 3 * sizeof *x2);
    f2 = xmalloc((size_t)B * NO * sizeof *f2);
    logits = xmalloc((size_t)B * NO * sizeof *logits);
    /* reference points for the reported losses on the held-out set */
    double floor_ = 0, mean_loss = 0;
    if (n_val) {
        float *mean = xcalloc((size_t)NO, sizeof *mean), *lg = xmalloc((size_t)NO * sizeof *lg);
        for (int i = 0; i < n_tr; i++)
            for (int a = 0; a < NO; a++) mean[a] += d.f[(size_t)idx[i] * NO + a] / n_tr;
        for (int a = 0; a < NO; a++) lg[a] = logf(mean[a] + 1e-6f);
        for (int i = n_tr; i < d.n; i++) {
            const float *t = d.f + (size_t)idx[i] * NO;
            mean_loss += core_pt_loss(&qs, lg, t, 1) / n_val;
            for (int q = 0; q < qs.n_q; q++) {
                double w = 0;
                for (int j = 0; j < qs.len[q]; j++) w += t[qs.start[q] + j];
                for (int j = 0; j < qs.len[q]; j++)
                    if (t[qs.start[q] + j] > 0) floor_ -= t[qs.start[q] + j] * log(t[qs.start[q] + j] / w) / n_val;
            }
        }
        free(mean);
        free(lg);
        if (lf) fprintf(lf, "held out %d galaxies: loss of predicting the mean votes %.4f, floor (vote entropy) %.4f\n",
                         n_val, mean_loss, floor_);
    }
    int steps_per_epoch = n_tr / B, total = steps_per_epoch * o->epochs, warm = total / 20 + 1, step = 0;
    char answers[4096] = "";
    for (int a = 0, at = 0; a < NO && at < (int)sizeof answers - 16; a++)
        at += snprintf(answers + at, sizeof answers - at, "%s%s", a ? "," : "", names[a]);
    for (int ep = 1; ep <= o->epochs; ep++) {
        double te = core_mono_s(), tot = 0;
        for (int i = n_tr - 1; i > 0; i--) {          /* reshuffle the training part */
            int j = (int)core_rng_below(&r, (uint32_t)i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        /* batch s + 1 is prepared (views, jitter) on a second thread while
         * batch s trains; within the epoch only, so the reshuffle above
         * draws from r after every view of the last epoch, as before */
        batch_job job = {&d, o, idx, B, S, NO, x, f, &r};
        make_batch(&job);
        for (int s = 0; s < steps_per_epoch; s++, step++) {
            float *xs = s % 2 ? x2 : x, *fs = s % 2 ? f2 : f;
            pthread_t prep;
            int ahead = s + 1 < steps_per_epoch;
            batch_job next = {&d, o, idx + (size_t)(s + 1) * B, B, S, NO, s % 2 ? x : x2, s % 2 ? f : f2, &r};
            if (ahead && (o->threads < 2 || pthread_create(&prep, NULL, make_batch, &next) != 0)) {
                make_batch(&next);
                ahead = 0;
            }
            float loss = core_pt_net_grad(net, &qs, xs, B, S, fs);
            if (ahead) pthread_join(prep, NULL);
            if (!isfinite(loss)) {
                core_set_err(err, errlen, "training diverged at epoch %d step %d (loss %g): try a lower --lr", ep, s, loss);
                goto end_blas;
            }
            tot += loss;
            float lr = step < warm ? o->lr * (step + 1) / warm
                                   : o->lr * (0.05f + 0.95f * 0.5f * (1 + cosf((float)M_PI * (step - warm) / (total - warm))));
            core_pt_net_adamw(net, lr, o->wd, step + 1);
        }
        double vl = n_val ? eval_loss(net, &d, &qs, idx + n_tr, n_val, B, S, x, f, logits) : 0;
        double dt = core_mono_s() - te;
        if (lf) {
            char vs[48] = "no held-out set";
            if (n_val) snprintf(vs, sizeof vs, "held-out loss %.4f", vl);
            fprintf(lf, "epoch %d/%d  train loss %.4f  %s  (%.0f s, %.0f img/s)\n", ep, o->epochs,
                    tot / steps_per_epoch, vs, dt, steps_per_epoch * B / dt);
            fflush(lf);
        }
        char s_ep[32], s_size[32], s_crop[32], s_val[64], s_arch[96];
        snprintf(s_ep, sizeof s_ep, "%d/%d", ep, o->epochs);
        snprintf(s_size, sizeof s_size, "%d", S);
        snprintf(s_crop, sizeof s_crop, "%.3g", o->crop);
        snprintf(s_val, sizeof s_val, "%.4f (mean-vote baseline %.4f, floor %.4f)", vl, mean_loss, floor_);
        snprintf(s_arch, sizeof s_arch, "depths %d,%d,%d,%d dims %d,%d,%d,%d", o->arch.depths[0], o->arch.depths[1],
                 o->arch.depths[2], o->arch.depths[3], o->arch.dims[0], o->arch.dims[1], o->arch.dims[2], o->arch.dims[3]);
        char s_seed[32], s_excl[600];
        snprintf(s_seed, sizeof s_seed, "%llu", (unsigned long long)o->seed);
        snprintf(s_excl, sizeof s_excl, "%d galaxies listed in %.500s (never trained on)", d.n_excl,
                 o->exclude ? o->exclude : "-");
        char s_aug[200];
        snprintf(s_aug, sizeof s_aug, "rotation, flip, zoom %.2g-%.2g, survey jitter %.2g; batch %d, lr %.3g AdamW wd %.3g cosine",
                 o->zoom_lo, o->zoom_hi, o->jitter, o->batch, o->lr, o->wd);
        const char *meta[] = {"made_by", "zoosh pretrain", "catalog", catalog, "epochs", s_ep, "seed", s_seed,
                              "excluded", o->exclude ? s_excl : "none", "augmentation", s_aug,
                              "zoosh_input_size", s_size, "zoosh_crop", s_crop, "held_out_loss", s_val, "arch", s_arch, "answers", answers,
                              "loss", "per-question soft cross-entropy on vote fractions, weighted by the fraction reaching each question",
                              NULL};
        if (core_pt_net_save(net, out_path, meta, err, errlen)) goto end_blas;
    }
    size_t np;
    core_pt_net_params(net, &np);
    if (lf) fprintf(lf, "wrote %s (%zu parameters) in %.0f s\n", out_path, np, core_mono_s() - t0);
    rc = 0;
end_blas:
    openblas_set_num_threads(blas);
end:
    if (names) for (int a = 0; a < qs.n_out; a++) free(names[a]);
    free(names);
    free(idx);
    free(x);
    free(f);
    free(x2);
    free(f2);
    free(logits);
    core_pt_net_free(net);
    free_data(&d);
    return rc;
}
