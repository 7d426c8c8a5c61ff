/*
 * finetune.c - `zoosh train --finetune` (see finetune.h): the labelled
 * galaxies' images, the two training phases on core/ptnet.c, the stored
 * encoder and the task's feature set.
 *
 * DESIGN (threads): core_ft_run runs on the calling thread (the CLI's, or
 * the labeler's trainer thread); core/ptnet.c and the ConvNeXt embed share
 * their work among o->threads threads inside each call.  Nothing here is
 * global; the store is read and written in short transactions of its own.
 */
#include "core/finetune.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "core/convnext.h"
#include "core/embed.h"
#include "core/learn.h"
#include "core/ptnet.h"
#include "core/repr.h"
#include "core/safetensors.h"
#include "core/thumb.h"
#include "core/util.h"

void core_ft_opts_default(core_ft_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 20;
    o->head_epochs = 15;
    o->batch = 16;
    o->lr = 2e-4f;
    o->lr_head = 2e-3f;
    o->wd = 0.05f;
    o->val_frac = 0.2f;
    o->patience = 4;
    o->jitter = 0.5f;
    o->seed = 1;
    o->threads = 2;
    o->embed = 1;
}

/* The labelled galaxies: their images prepared for the encoder and their
 * weighted targets. */
typedef struct {
    int n, S, NO;
    float *img;             /* (n, 3, S, S) as core_convnext_preprocess makes them */
    float *f;               /* (n, NO) per-question fractions x the galaxy's weight */
    uint32_t *gid;          /* (n) */
} ftdata;

static void ftdata_free(ftdata *d)
{
    free(d->img);
    free(d->f);
    free(d->gid);
    memset(d, 0, sizeof *d);
}

/* Galaxy g's image as embed reads it: the stored thumbnail, else its file.
 * 0 with *im (owned), -1 with why. */
static int galaxy_image(zs_txn *txn, uint32_t g, core_image *im, char *why, size_t len)
{
    const uint8_t *px;
    uint8_t owned = 0;
    int w, h;
    *im = (core_image){0};
    if (core_thumb_get(txn, g, &w, &h, &px, &owned, NULL, 0) == 0 && w > 0 && h > 0) {
        im->w = w;
        im->h = h;
        if (owned) im->px = (uint8_t *)px;
        else {
            im->px = xmalloc((size_t)w * h * 3);
            memcpy(im->px, px, (size_t)w * h * 3);
        }
        return 0;
    }
    store_galaxy gal;
    memset(&gal, 0, sizeof gal);
    if (store_galaxy_get(txn, g, &gal) != 0) {
        snprintf(why, len, "galaxy %u does not read", g);
        return -1;
    }
    char ierr[160] = "";
    int rc = 0;
    if (!gal.file || core_image_load(gal.file, im, ierr, sizeof ierr) != 0) {
        snprintf(why, len, "%s: no thumbnail, and its image %s", gal.id_str ? gal.id_str : "?",
                 ierr[0] ? ierr : "is missing");
        rc = -1;
    }
    store_galaxy_free(&gal);
    return rc;
}

/* D's labelled rows (answers; else the catalog's prior) into d: targets
 * per question, a one-question task's classes balanced; at most
 * CORE_FT_MAX_LABELS of them, a seeded draw. */
static int load_labels(zs_store *st, const core_learn_data *D, const core_pt_questions *qs, int S, float crop,
                       uint64_t seed, ftdata *d, char *err, size_t errlen)
{
    int C = D->C, use_prior = D->prior && strcmp(D->prior_src, "catalog") == 0;
    int *rows = xmalloc((size_t)(D->n ? D->n : 1) * sizeof *rows), m = 0;
    for (int i = 0; i < D->n; i++) {
        float sa = 0, sp = 0;
        for (int a = 0; a < C; a++) {
            sa += D->y[(size_t)i * C + a];
            if (use_prior) sp += D->prior[(size_t)i * C + a];
        }
        if (sa > 0 || (use_prior && sp > 0 && isfinite(sp))) rows[m++] = i;
    }
    if (m > CORE_FT_MAX_LABELS) {      /* a seeded draw, kept in row order */
        core_rng r;
        core_rng_seed(&r, seed ^ 0x5eedf7ULL);
        for (int i = 0; i < CORE_FT_MAX_LABELS; i++) {
            int j = i + (int)core_rng_below(&r, (uint32_t)(m - i)), t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        m = CORE_FT_MAX_LABELS;
    }
    d->n = m;
    d->S = S;
    d->NO = C;
    d->img = xmalloc((size_t)(m ? m : 1) * 3 * S * S * sizeof *d->img);
    d->f = xcalloc((size_t)(m ? m : 1) * C, sizeof *d->f);
    d->gid = xmalloc((size_t)(m ? m : 1) * sizeof *d->gid);
    int cls[CORE_PT_MAX_OUT] = {0};
    for (int k = 0; k < m; k++) {
        int i = rows[k];
        const float *src = D->y + (size_t)i * C;
        float s = 0;
        for (int a = 0; a < C; a++) s += src[a];
        if (!(s > 0)) src = D->prior + (size_t)i * C;
        float *t = d->f + (size_t)k * C;
        for (int q = 0; q < qs->n_q; q++) {
            float sq = 0;
            for (int j = 0; j < qs->len[q]; j++) sq += src[qs->start[q] + j] > 0 ? src[qs->start[q] + j] : 0;
            for (int j = 0; sq > 0 && j < qs->len[q]; j++) {
                float v = src[qs->start[q] + j];
                t[qs->start[q] + j] = v > 0 ? v / sq : 0;
            }
        }
        int best = 0;
        for (int a = 1; a < C; a++) best = t[a] > t[best] ? a : best;
        cls[best]++;
        d->gid[k] = D->gids[i];
    }
    if (qs->n_q == 1) {          /* balanced classes: weight n / (K n_class) by the majority answer */
        int K = 0;
        for (int a = 0; a < C; a++) K += cls[a] > 0;
        for (int k = 0; k < m; k++) {
            float *t = d->f + (size_t)k * C;
            int best = 0;
            for (int a = 1; a < C; a++) best = t[a] > t[best] ? a : best;
            float w = (float)m / ((float)K * (float)cls[best]);
            for (int a = 0; a < C; a++) t[a] *= w;
        }
    }
    free(rows);
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) {
        core_set_err(err, errlen, "workspace: %s", store_strerror(rc));
        return -1;
    }
    for (int k = 0; k < m && rc == 0; k++) {
        core_image im;
        char why[400];
        if (galaxy_image(txn, d->gid[k], &im, why, sizeof why) != 0) {
            core_set_err(err, errlen, "%s", why);
            rc = -1;
            break;
        }
        core_convnext_preprocess(&im, S, crop, d->img + (size_t)k * 3 * S * S);
        core_image_free(&im);
    }
    store_read_end(txn);
    return rc;
}

/* View v (0..7, core_convnext_dihedral) of labelled galaxy i, jittered
 * (brightness x exp(U(-0.3a, 0.3a)), a gain per channel exp(N(0, 0.1a)))
 * when r is not NULL, into x (S, S, 3) channels-last as ptnet takes it. */
static void make_view(const ftdata *d, int i, int v, float a, core_rng *r, float *tmp, float *x)
{
    int S = d->S;
    size_t P = (size_t)S * S;
    core_convnext_dihedral(d->img + (size_t)i * 3 * P, S, v, tmp);
    float gain[3] = {1, 1, 1};
    if (r && a > 0) {
        float b = (float)exp(0.3 * a * (2 * core_rng_uniform(r) - 1));
        for (int c = 0; c < 3; c++) gain[c] = b * (float)exp(0.1 * a * core_rng_normal(r));
    }
    for (size_t p = 0; p < P; p++)
        for (int c = 0; c < 3; c++) {
            float val = tmp[c * P + p] * gain[c];
            x[p * 3 + c] = val > 1 ? 1 : val;
        }
}

/* Mean loss of rows idx[0..n) on the identity view, no jitter. */
static double eval_loss(core_pt_net *net, const core_pt_questions *qs, const ftdata *d, const int *idx, int n,
                        int B, float *x, float *f, float *logits, float *tmp)
{
    double tot = 0;
    int S = d->S, NO = d->NO;
    for (int i0 = 0; i0 < n; i0 += B) {
        int b = n - i0 < B ? n - i0 : B;
        for (int k = 0; k < b; k++) {
            make_view(d, idx[i0 + k], 0, 0, NULL, tmp, x + (size_t)k * S * S * 3);
            memcpy(f + (size_t)k * NO, d->f + (size_t)idx[i0 + k] * NO, (size_t)NO * sizeof *f);
        }
        core_pt_net_forward(net, x, b, S, logits, NULL);
        tot += (double)core_pt_loss(qs, logits, f, b) * b;
    }
    return n ? tot / n : NAN;
}

/* A private folder for the file ptnet writes and the embedder reads. */
static int tmp_dir(char *dir, size_t len)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, len, "%s/zoosh-ft-XXXXXX", t && t[0] == '/' ? t : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int read_whole(const char *path, uint8_t **buf, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    int rc = -1;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long n = ftell(fp);
        if (n > 0 && fseek(fp, 0, SEEK_SET) == 0) {
            *buf = xmalloc((size_t)n);
            *len = (size_t)n;
            rc = fread(*buf, 1, (size_t)n, fp) == (size_t)n ? 0 : -1;
            if (rc) { free(*buf); *buf = NULL; }
        }
    }
    fclose(fp);
    return rc;
}

typedef struct {
    const char *task, *key, *val;
    const uint8_t *bytes;
    size_t len;
} store_ctx;

static int store_fn(zs_txn *txn, void *p)
{
    store_ctx *c = p;
    int rc = 0;
    if (c->bytes) rc = core_learn_encoder_put(txn, c->task, c->bytes, c->len);
    if (rc == 0 && c->val) rc = store_meta_put(txn, c->key, c->val);
    return rc;
}

/* Embeds every galaxy with the encoder file `path` as set `set`. */
static int embed_all(zs_store *st, const char *path, const char *set, const char *prov, const core_ft_opts *o,
                     int *rows, char *err, size_t errlen)
{
    core_embed_opts eo = {.weights = path, .set = set, .views = 1, .threads = o->threads};
    core_embed_encoder *e;
    if (core_embed_encoder_new(&e, &eo, err, errlen)) return -1;
    core_repr_encoder enc = *core_embed_encoder_repr(e);
    enc.provenance = prov;
    core_repr_stats stats;
    int rc = core_repr_embed(st, &enc, NULL, NULL, o->cancel, &stats, err, errlen);
    *rows = (int)stats.n_done;
    core_embed_encoder_free(e);
    return rc;
}

/* The fine-tuned head's logits from its embedding: y = W x + b. */
typedef struct { const float *w, *b; int C, dim; } logit_ctx;

static void logits_fn(void *ctx, const float *x, int n, int in_dim, float *y)
{
    const logit_ctx *L = ctx;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < L->C; c++) {
            double acc = L->b[c];
            for (int k = 0; k < in_dim && k < L->dim; k++) acc += (double)L->w[(size_t)c * L->dim + k] * x[(size_t)i * in_dim + k];
            y[(size_t)i * L->C + c] = (float)acc;
        }
}

/* The task's questions as ptnet groups its outputs. */
static void task_questions(const core_schema *s, core_pt_questions *qs)
{
    memset(qs, 0, sizeof *qs);
    int c = 0;
    for (int q = 0; q < s->n_questions && q < CORE_PT_MAX_OUT; q++) {
        qs->start[q] = c;
        qs->len[q] = s->q[q].n_answers;
        c += s->q[q].n_answers;
    }
    qs->n_q = s->n_questions;
    qs->n_out = c;
}

/* The two phases.  Returns 0, 1 cancelled, -1 diverged (err). */
static int train(core_pt_net *net, int nstages, const core_pt_questions *qs, const ftdata *d, const int *idx,
                 int n_tr, int n_val, const core_ft_opts *o, core_ft_result *R, char *err, size_t errlen)
{
    int S = d->S, NO = d->NO, B = o->batch < n_tr ? o->batch : n_tr;
    float *x = xmalloc((size_t)B * S * S * 3 * sizeof *x), *f = xmalloc((size_t)B * NO * sizeof *f);
    float *logits = xmalloc((size_t)B * NO * sizeof *logits), *tmp = xmalloc((size_t)3 * S * S * sizeof *tmp);
    int *order = xmalloc((size_t)n_tr * sizeof *order);
    memcpy(order, idx, (size_t)n_tr * sizeof *order);
    size_t np;
    float *params = core_pt_net_params(net, &np), *best = xmalloc(np * sizeof *best);
    core_rng r;
    core_rng_seed(&r, o->seed);
    const int *val = idx + n_tr;
    int rc = 0, step = 0, steps = n_tr / B, since = 0;
    double t_train = 0;
    long imgs = 0;
    R->loss_start = (float)eval_loss(net, qs, d, idx, n_tr, B, x, f, logits, tmp);
    for (int total = o->head_epochs + o->epochs, ep = 1; ep <= total && rc == 0; ep++) {
        int head = ep <= o->head_epochs;
        if (ep == 1) R->trainable = core_pt_net_set_trainable(net, nstages);   /* the head alone */
        if (ep == o->head_epochs + 1) {
            R->loss_head = (float)eval_loss(net, qs, d, idx, n_tr, B, x, f, logits, tmp);
            R->val_head = n_val ? (float)eval_loss(net, qs, d, val, n_val, B, x, f, logits, tmp) : NAN;
            R->val_best = R->val_head;
            memcpy(best, params, np * sizeof *best);
            R->trainable = core_pt_net_set_trainable(net, nstages - 1);   /* the last stage and the head */
        }
        for (int i = n_tr - 1; i > 0; i--) {
            int j = (int)core_rng_below(&r, (uint32_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double t0 = core_mono_s();
        for (int s = 0; s < steps; s++, step++) {
            if (o->cancel && *o->cancel) { rc = 1; break; }
            for (int k = 0; k < B; k++) {
                int g = order[s * B + k];
                make_view(d, g, (int)core_rng_below(&r, 8), o->jitter, &r, tmp, x + (size_t)k * S * S * 3);
                memcpy(f + (size_t)k * NO, d->f + (size_t)g * NO, (size_t)NO * sizeof *f);
            }
            float loss = core_pt_net_grad(net, qs, x, B, S, f);
            if (!isfinite(loss)) {
                core_set_err(err, errlen, "fine-tuning diverged at epoch %d (loss %g)", ep, loss);
                rc = -1;
                break;
            }
            /* the last stage's first epoch warms up: its Adam moments start at 0 */
            float lr = head ? o->lr_head : ep == o->head_epochs + 1 ? o->lr * (s + 1) / steps : o->lr;
            core_pt_net_adamw(net, lr, o->wd, step + 1);
            imgs += B;
        }
        t_train += core_mono_s() - t0;
        R->epochs_run = ep;
        if (head || rc) continue;
        if (n_val) {
            float vl = (float)eval_loss(net, qs, d, val, n_val, B, x, f, logits, tmp);
            if (vl < R->val_best) {
                R->val_best = vl;
                R->best_epoch = ep - o->head_epochs;
                memcpy(best, params, np * sizeof *best);
                since = 0;
            } else if (++since >= o->patience) {
                break;
            }
        } else {
            R->best_epoch = ep - o->head_epochs;
            memcpy(best, params, np * sizeof *best);
        }
    }
    if (rc == 0 && o->epochs == 0) {   /* the head alone: it is what is kept */
        memcpy(best, params, np * sizeof *best);
        R->loss_head = (float)eval_loss(net, qs, d, idx, n_tr, B, x, f, logits, tmp);
        R->val_head = R->val_best = n_val ? (float)eval_loss(net, qs, d, val, n_val, B, x, f, logits, tmp) : NAN;
    }
    if (rc == 0) {
        memcpy(params, best, np * sizeof *best);
        R->loss_end = (float)eval_loss(net, qs, d, idx, n_tr, B, x, f, logits, tmp);
    }
    R->seconds = t_train;
    R->images_per_s = t_train > 0 ? imgs / t_train : 0;
    free(x); free(f); free(logits); free(tmp); free(order); free(best);
    return rc;
}

int core_ft_run(zs_store *st, const core_ft_opts *o, core_ft_result *R, char *err, size_t errlen)
{
    memset(R, 0, sizeof *R);
    R->val_head = R->val_best = NAN;
    core_learn_data D;
    core_convnext *base = NULL;
    core_pt_net *net = NULL;
    ftdata d = {0};
    int *idx = NULL, rc = -1;
    char dir[512] = "", path[600] = "";
    uint8_t *bytes = NULL;
    size_t len = 0;
    /* the workspace's set, not the task's own: every labelled galaxy with a
     * vector there, newly imported ones included */
    if (core_learn_load(st, o->task, "", &D, err, errlen) != 0) return -1;
    if (D.C == 0) {
        core_set_err(err, errlen, "task '%s' has no answers to fine-tune on (a rating task)", o->task);
        goto end;
    }
    char why[400];
    if (core_convnext_load(&base, o->weights, NULL, why, sizeof why)) {
        core_set_err(err, errlen, "%s: %s", o->weights, why);
        goto end;
    }
    core_convnext_arch arch = *core_convnext_arch_of(base);
    int S = core_convnext_input_size(base) ? core_convnext_input_size(base) : 224;
    float crop = core_convnext_crop(base);
    core_pt_questions qs;
    task_questions(&D.schema, &qs);
    if (load_labels(st, &D, &qs, S, crop, o->seed, &d, err, errlen)) goto end;
    if (d.n < 8) {
        core_set_err(err, errlen, "task '%s' has %d labelled galaxies; fine-tuning needs at least 8", o->task, d.n);
        goto end;
    }
    /* the split: a seeded shuffle, the last val_frac held out */
    core_rng r;
    core_rng_seed(&r, o->seed ^ 0x59117ULL);
    idx = xmalloc((size_t)d.n * sizeof *idx);
    for (int i = 0; i < d.n; i++) idx[i] = i;
    for (int i = d.n - 1; i > 0; i--) {
        int j = (int)core_rng_below(&r, (uint32_t)i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    int n_val = (int)(d.n * o->val_frac + 0.5f), n_tr = d.n - n_val;
    R->n_train = n_tr;
    R->n_val = n_val;
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(o->threads > 0 ? o->threads : 1);
    if (core_pt_net_new(&net, &arch, qs.n_out, 1e-6f, o->seed) ||
        core_pt_net_load_encoder(net, o->weights, err, errlen)) {
        if (!err[0]) core_set_err(err, errlen, "%s: not an architecture fine-tuning can train", o->weights);
        openblas_set_num_threads(blas);
        goto end;
    }
    rc = train(net, arch.nstages, &qs, &d, idx, n_tr, n_val, o, R, err, errlen);
    openblas_set_num_threads(blas);
    if (rc) goto end;
    rc = -1;
    snprintf(R->set, sizeof R->set, "%s%s", CORE_FT_SET_PREFIX, o->task);
    if (tmp_dir(dir, sizeof dir)) {
        core_set_err(err, errlen, "cannot make a temporary folder: %s", strerror(errno));
        dir[0] = 0;
        goto end;
    }
    snprintf(path, sizeof path, "%s/encoder.safetensors", dir);
    char s_size[16], s_crop[32], s_lab[64], s_seed[32], s_ep[64], s_arch[96];
    snprintf(s_size, sizeof s_size, "%d", S);
    snprintf(s_crop, sizeof s_crop, "%.3g", crop);
    snprintf(s_lab, sizeof s_lab, "%d trained on, %d held out", n_tr, n_val);
    snprintf(s_seed, sizeof s_seed, "%llu", (unsigned long long)o->seed);
    snprintf(s_ep, sizeof s_ep, "head %d, last stage best %d of %d run", o->head_epochs, R->best_epoch,
             R->epochs_run - o->head_epochs);
    snprintf(s_arch, sizeof s_arch, "depths %d,%d,%d,%d dims %d,%d,%d,%d", arch.depths[0], arch.depths[1],
             arch.depths[2], arch.depths[3], arch.dims[0], arch.dims[1], arch.dims[2], arch.dims[3]);
    const char *meta[] = {"made_by", "zoosh train --finetune", "task", o->task, "base", o->weights,
                          "labels", s_lab, "seed", s_seed, "epochs", s_ep, "arch", s_arch,
                          "zoosh_input_size", s_size, "zoosh_crop", s_crop, NULL};
    if (core_pt_net_save(net, path, meta, err, errlen)) goto end;
    if (read_whole(path, &bytes, &len)) {
        core_set_err(err, errlen, "%s: cannot read back: %s", path, strerror(errno));
        goto end;
    }
    if (o->embed) {
        char prov[700], emb[STORE_FEATNAME_MAX + 8];
        snprintf(emb, sizeof emb, "%s_emb", R->set);
        if (strlen(emb) > STORE_FEATNAME_MAX) {
            core_set_err(err, errlen, "task name '%s' too long for a feature set name", o->task);
            goto end;
        }
        snprintf(prov, sizeof prov, "finetune v1: task %s's encoder (last stage on %d labels, base %.400s) at %d px",
                 o->task, n_tr, o->weights, S);
        int r2 = embed_all(st, path, emb, prov, o, &R->rows, err, errlen);
        if (r2) { rc = r2 == STORE_EABORT ? 1 : r2; goto end; }
        /* the set the task's head ranks on: the fine-tuned head's logits */
        int dim = core_pt_net_dim(net);
        float *w = xmalloc((size_t)qs.n_out * dim * sizeof *w), *b = xmalloc((size_t)qs.n_out * sizeof *b);
        core_pt_net_get(net, "head.fc.weight", 0, w, NULL);
        core_pt_net_get(net, "head.fc.bias", 0, b, NULL);
        logit_ctx L = {w, b, qs.n_out, dim};
        size_t pl = (size_t)snprintf(prov, sizeof prov, "finetune v1: logits of task %s's fine-tuned head (set %s); answers ",
                                     o->task, emb);
        for (int a = 0; a < D.C && pl < sizeof prov; a++) {
            char col[128];
            core_schema_column(&D.schema, a, col, sizeof col, NULL, NULL);
            pl += (size_t)snprintf(prov + pl, sizeof prov - pl, "%s%s", a ? "," : "", col);
        }
        r2 = core_repr_map(st, emb, R->set, qs.n_out, prov, logits_fn, &L, NULL, err, errlen);
        free(w);
        free(b);
        if (r2) { rc = r2; goto end; }
        char key[96];
        snprintf(key, sizeof key, "learn.%s.features", o->task);
        store_ctx c = {o->task, key, R->set, bytes, len};
        if ((rc = store_write(st, store_fn, &c)) != 0) core_set_err(err, errlen, "%s", store_strerror(rc));
    } else {
        store_ctx c = {o->task, NULL, NULL, bytes, len};
        if ((rc = store_write(st, store_fn, &c)) != 0) core_set_err(err, errlen, "%s", store_strerror(rc));
    }
end:
    if (path[0]) unlink(path);
    if (dir[0]) rmdir(dir);
    free(bytes);
    free(idx);
    ftdata_free(&d);
    core_pt_net_free(net);
    core_convnext_free(base);
    core_learn_data_free(&D);
    return rc;
}

int core_ft_export(zs_store *st, const char *task, const char *path, char *err, size_t errlen)
{
    zs_txn *txn;
    const void *bytes;
    size_t len;
    int rc = store_read_begin(st, &txn);
    if (rc) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    rc = core_learn_encoder_get(txn, task, &bytes, &len);
    if (rc == STORE_ENOTFOUND) {
        core_set_err(err, errlen, "task '%s' has no fine-tuned encoder (zoosh train --finetune makes one)", task);
    } else if (rc) {
        core_set_err(err, errlen, "%s", store_strerror(rc));
    } else {
        core_safetensors *sf;
        char why[256];
        if (core_safetensors_open_mem(&sf, bytes, len, why, sizeof why)) {
            core_set_err(err, errlen, "task '%s': the stored encoder is damaged: %s", task, why);
            rc = -1;
        } else {
            core_safetensors_close(sf);
            core_outfile out;
            rc = -1;
            if (core_out_open(&out, path, err, errlen) == 0) {
                int ok = fwrite(bytes, 1, len, out.f) == len;
                rc = core_out_close(&out, ok, err, errlen) == 0 && ok ? 0 : -1;
                if (!ok && !err[0]) core_set_err(err, errlen, "%s: write failed", path);
            }
        }
    }
    store_read_end(txn);
    return rc;
}

int core_ft_in_use(zs_store *st, const char *task, const char *base)
{
    char key[96], want[STORE_FEATNAME_MAX + 8], *v = NULL;
    snprintf(key, sizeof key, "learn.%s.features", task);
    snprintf(want, sizeof want, "%s%s", CORE_FT_SET_PREFIX, task);
    zs_txn *txn;
    if (store_read_begin(st, &txn) != 0) return 0;
    int use = store_meta_get(txn, key, &v) == 0 && v && !strcmp(v, want);
    free(v);
    const void *bytes;
    size_t len;
    core_safetensors *sf;
    char why[256];
    if (use && base) {
        use = core_learn_encoder_get(txn, task, &bytes, &len) == 0 &&
              core_safetensors_open_mem(&sf, bytes, len, why, sizeof why) == 0;
        if (use) {
            const char *b = core_safetensors_meta(sf, "base");
            use = b && !strcmp(b, base);
            core_safetensors_close(sf);
        }
    }
    store_read_end(txn);
    return use;
}

static int off_fn(zs_txn *txn, void *p)
{
    return store_meta_put(txn, (const char *)p, "");
}

int core_ft_off(zs_store *st, const char *task)
{
    char key[96];
    snprintf(key, sizeof key, "learn.%s.features", task);
    return store_write(st, off_fn, key);
}
