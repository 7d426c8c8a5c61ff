/*
 * repr.c - computing, compressing and searching the workspace's
 * representations (see repr.h for what is stored where).
 *
 * DESIGN (threads in core_repr_embed): the calling thread walks the gids in
 * chunks.  For a chunk it opens one short read transaction, collects the
 * thumbnails (borrowed pointers into the map, valid while that transaction
 * lives; a galaxy without one is decoded from its file into memory the
 * chunk owns), then starts enc->threads workers.  Worker t owns the slice
 * [t*n/T, (t+1)*n/T) of the chunk: it reads only its images and writes only
 * its rows of the output and its status bytes, so nothing is locked.  After
 * joining, the read transaction ends and the chunk's vectors are written in
 * one store_write (idempotent: safe for store_write to re-run it).
 */
#include "core/repr.h"
#include "core/knn.h"
#include "core/morph.h"
#include "core/pca.h"
#include "core/thumb.h"
#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_CHUNK 512      /* galaxies per read transaction / write batch */
#define WRITE_CHUNK 4096     /* PCA / combined vectors per write transaction */


/* ---- the morphology encoder ----------------------------------------------- */
static int morph_fn(void *ctx, const core_image *imgs, int n, float *out, char *err, size_t errlen)
{
    (void)ctx;
    int d = core_morph_dim();
    for (int i = 0; i < n; i++)
        if (core_morph_compute(imgs[i].px, imgs[i].w, imgs[i].h, out + (size_t)i * d, NULL) != 0) {
            if (err && errlen) snprintf(err, errlen, "image of %dx%d pixels is too small", imgs[i].w, imgs[i].h);
            return -1;
        }
    return 0;
}

void core_repr_morph_encoder(core_repr_encoder *enc, int threads)
{
    memset(enc, 0, sizeof *enc);
    enc->set = "morph";
    enc->provenance = CORE_MORPH_VERSION " (thumbnail, " "128 px working side)";
    enc->dim = core_morph_dim();
    enc->threads = threads > 0 ? threads : 1;
    enc->batch = 16;
    enc->fn = morph_fn;
    enc->ctx = NULL;
}

/* ---- raw pixels (the floor every representation must beat) ---------------- */
#define PIX_SIDE 32
static int pixels_fn(void *ctx, const core_image *imgs, int n, float *out, char *err, size_t errlen)
{
    (void)ctx;
    for (int i = 0; i < n; i++) {
        const core_image *im = &imgs[i];
        int m = (im->w < im->h ? im->w : im->h) / 2;   /* the central half */
        if (m < PIX_SIDE / 4) {
            if (err && errlen) snprintf(err, errlen, "image of %dx%d pixels is too small", im->w, im->h);
            return -1;
        }
        int x0 = (im->w - m) / 2, y0 = (im->h - m) / 2;
        float *o = out + (size_t)i * 3 * PIX_SIDE * PIX_SIDE;   /* (PIX_SIDE, PIX_SIDE, 3) */
        for (int oy = 0; oy < PIX_SIDE; oy++)
            for (int ox = 0; ox < PIX_SIDE; ox++) {
                int ya = oy * m / PIX_SIDE, yb = (oy + 1) * m / PIX_SIDE;
                int xa = ox * m / PIX_SIDE, xb = (ox + 1) * m / PIX_SIDE;
                if (yb <= ya) yb = ya + 1;
                if (xb <= xa) xb = xa + 1;
                double acc[3] = {0, 0, 0};
                for (int y = ya; y < yb; y++)
                    for (int x = xa; x < xb; x++) {
                        const uint8_t *p = im->px + ((size_t)(y0 + y) * im->w + x0 + x) * 3;
                        acc[0] += p[0]; acc[1] += p[1]; acc[2] += p[2];
                    }
                double inv = 1.0 / (255.0 * (yb - ya) * (xb - xa));
                for (int c = 0; c < 3; c++) o[(oy * PIX_SIDE + ox) * 3 + c] = (float)(acc[c] * inv);
            }
    }
    return 0;
}

void core_repr_pixels_encoder(core_repr_encoder *enc, int threads)
{
    memset(enc, 0, sizeof *enc);
    enc->set = "pixels";
    enc->provenance = "pixels v1 (central half of the thumbnail, 32x32 RGB, 0..1)";
    enc->dim = 3 * PIX_SIDE * PIX_SIDE;
    enc->threads = threads > 0 ? threads : 1;
    enc->batch = 64;
    enc->fn = pixels_fn;
}

/* ---- embed ---------------------------------------------------------------- */
typedef struct {
    const core_repr_encoder *enc;
    core_image *imgs;       /* (n) the chunk's images (borrowed or owned); px NULL: coded, below */
    const store_thumb *coded; /* (n) coded thumbnails (bytes borrowed from the map) to decode here */
    uint8_t *owned;         /* (n) 1 when imgs[i].px is ours to free */
    uint8_t *undecoded;     /* (n) set when coded[i] did not decode: the reader falls back to the file */
    float *out;             /* (n, dim) */
    uint8_t *ok;            /* (n) 1 when the vector was computed */
    char (*why)[160];       /* (n) reason when not */
    int i0, i1;             /* this worker's slice */
} embed_job;

static void *embed_worker(void *arg)
{
    embed_job *j = arg;
    const core_repr_encoder *e = j->enc;
    int bs = e->batch > 0 ? e->batch : 1;
    /* coded thumbnails are decoded here, in parallel, not by the reader */
    for (int i = j->i0; i < j->i1; i++) {
        if (j->imgs[i].px) continue;
        const store_thumb *t = &j->coded[i];
        char why[200];
        if (core_thumb_decode(t->codec, t->w, t->h, t->bytes, t->len, &j->imgs[i], why, sizeof why) == 0)
            j->owned[i] = 1;
        else
            j->undecoded[i] = 1;
    }
    for (int i = j->i0; i < j->i1; i += bs) {
        int b = j->i1 - i < bs ? j->i1 - i : bs;
        char err[160] = "";
        int all = 1;
        for (int t = 0; t < b; t++) all &= !j->undecoded[i + t];
        if (all && e->fn(e->ctx, j->imgs + i, b, j->out + (size_t)i * e->dim, err, sizeof err) == 0) {
            memset(j->ok + i, 1, (size_t)b);
            continue;
        }
        /* the batch failed: find out which image by running them one by one */
        for (int t = 0; t < b; t++) {
            if (j->undecoded[i + t]) continue;
            err[0] = 0;
            if (e->fn(e->ctx, j->imgs + i + t, 1, j->out + (size_t)(i + t) * e->dim, err, sizeof err) == 0)
                j->ok[i + t] = 1;
            else
                snprintf(j->why[i + t], sizeof j->why[i + t], "%s", err[0] ? err : "encoder failed");
        }
    }
    return NULL;
}

typedef struct {
    const char *set;
    const uint32_t *gids;   /* (n) */
    const float *x;         /* (n, dim) */
    const uint8_t *ok;      /* (n) or NULL = all */
    int n, dim;
    const char *provenance; /* non-NULL: (re)declare the set first */
    int begin;              /* with provenance: declare it incomplete (store_featset_begin) */
    int publish;            /* the set is whole after this write: store_featset_publish */
    const char *meta_key, *meta_val;  /* non-NULL: put this meta too */
    int meta_only_if_unset;
    const char *blob_key; const void *blob; size_t blob_len;  /* non-NULL: models blob */
} put_ctx;

static int put_vectors(zs_txn *txn, void *arg)
{
    put_ctx *c = arg;
    int rc;
    if (c->provenance && (rc = (c->begin ? store_featset_begin : store_featset_put)(txn, c->set, c->dim, c->provenance)))
        return rc;
    for (int i = 0; i < c->n; i++) {
        if (c->ok && !c->ok[i]) continue;
        rc = store_feature_put(txn, c->set, c->gids[i], c->x + (size_t)i * c->dim, c->dim);
        if (rc) return rc;
    }
    if (c->publish && (rc = store_featset_publish(txn, c->set))) return rc;
    if (c->blob_key && (rc = store_blob_put(txn, STORE_DB_MODELS, c->blob_key, c->blob, c->blob_len)))
        return rc;
    if (c->meta_key) {
        if (c->meta_only_if_unset) {
            char *v = NULL;
            rc = store_meta_get(txn, c->meta_key, &v);
            free(v);
            if (rc == 0) return 0;
            if (rc != STORE_ENOTFOUND) return rc;
        }
        if ((rc = store_meta_put(txn, c->meta_key, c->meta_val))) return rc;
    }
    return 0;
}

/* Galaxy g's image file, for a galaxy whose thumbnail is missing or does
 * not decode: 0 with *im filled (ours), -1 for a gap (no such galaxy), 1
 * when the file does not load either (counted in stats->n_missing, the
 * first one described). */
static int load_image_file(zs_txn *txn, uint32_t g, core_image *im, core_repr_stats *stats)
{
    store_galaxy gal;
    memset(&gal, 0, sizeof gal);
    if (store_galaxy_get(txn, g, &gal) != 0) return -1;
    char ierr[128] = "";
    *im = (core_image){0};
    int rc = 0;
    if (!gal.file || core_image_load(gal.file, im, ierr, sizeof ierr) != 0) {
        if (stats->n_missing++ == 0)
            snprintf(stats->first_problem, sizeof stats->first_problem,
                     "%s: no thumbnail, and its image %s: %s", gal.id_str ? gal.id_str : "?",
                     gal.file ? gal.file : "(none)", ierr[0] ? ierr : "unreadable");
        rc = 1;
    }
    store_galaxy_free(&gal);
    return rc;
}

/* A set computed by core_morph (its provenance and width say so): its
 * blocks get balanced weights (core_morph_weight). */
static int is_morph_set(const char *prov, int dim)
{
    return prov && strncmp(prov, CORE_MORPH_VERSION, strlen(CORE_MORPH_VERSION)) == 0 && dim == core_morph_dim();
}

/* Rows y (n, dim) of galaxies gids into set, WRITE_CHUNK rows per write
 * transaction; the first declares the set incomplete with its provenance,
 * the last publishes it, so no reader sees it half-written. */
static int write_rows(zs_store *st, const char *set, const uint32_t *gids, const float *y, int n, int dim,
                      const char *prov)
{
    int rc = 0;
    for (int i0 = 0; i0 < n && rc == 0; i0 += WRITE_CHUNK) {
        int b = n - i0 < WRITE_CHUNK ? n - i0 : WRITE_CHUNK;
        put_ctx pc = {.set = set, .gids = gids + i0, .x = y + (size_t)i0 * dim, .n = b, .dim = dim,
                      .provenance = i0 == 0 ? prov : NULL, .begin = i0 == 0, .publish = i0 + b >= n};
        rc = store_write(st, put_vectors, &pc);
    }
    return rc;
}

static int del_set(zs_txn *txn, void *arg)
{
    int rc = store_featset_del(txn, (const char *)arg);
    return rc == STORE_ENOTFOUND ? 0 : rc;
}

/* write_rows into a set made anew when one of another dimension has that
 * name (derived sets are recomputed whole: nothing of the old one is kept). */
static int replace_rows(zs_store *st, const char *set, const uint32_t *gids, const float *y, int n, int dim,
                        const char *prov)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc == 0) {
        int od = 0;
        int have = store_featset_get(txn, set, &od, NULL) == 0;
        if (store_featset_incomplete(txn, set)) have = 1, od = 0;   /* a killed run's rows: start afresh */
        store_read_end(txn);
        if (have && od != dim) rc = store_write(st, del_set, (void *)set);
    }
    return rc ? rc : write_rows(st, set, gids, y, n, dim, prov);
}

int core_repr_embed(zs_store *st, const core_repr_encoder *enc, core_repr_progress_fn progress,
                    void *progress_ctx, volatile int *cancel, core_repr_stats *stats,
                    char *err, size_t errlen)
{
    core_repr_stats dummy;
    if (!stats) stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (err && errlen) err[0] = 0;
    if (!st || !enc || !enc->fn || !enc->set || enc->dim < 1) return STORE_EINVAL;
    double t0 = core_mono_s();
    int threads = enc->threads > 0 ? enc->threads : 1;
    const int dim = enc->dim;

    /* declare the set (checks the dimension against stored vectors); a new
     * one stays incomplete, invisible to readers, until its last vector is
     * in: a killed first embed leaves no set that looks whole */
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    int od = 0;
    int is_new = store_featset_get(txn, enc->set, &od, NULL) == STORE_ENOTFOUND;
    store_read_end(txn);
    put_ctx decl = {.set = enc->set, .dim = dim, .provenance = enc->provenance ? enc->provenance : "", .begin = is_new};
    rc = store_write(st, put_vectors, &decl);
    if (rc) {
        core_set_err(err, errlen, "cannot write feature set '%s': %s", enc->set,
                rc == STORE_EDIM ? "it holds vectors of another dimension (from another encoder or "
                                   "an older zoosh); write to a new set with --set NAME"
                                 : store_strerror(rc));
        return rc;
    }

    if ((rc = store_read_begin(st, &txn))) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    uint32_t gmax = store_galaxy_max(txn), total = store_galaxy_count(txn);
    store_read_end(txn);

    core_image *imgs = xcalloc(EMBED_CHUNK, sizeof *imgs);          /* (C) */
    store_thumb *coded = xcalloc(EMBED_CHUNK, sizeof *coded);        /* (C) */
    uint8_t *owned = xcalloc(EMBED_CHUNK, 1);                        /* (C) px malloc'ed by us */
    uint8_t *undecoded = xcalloc(EMBED_CHUNK, 1);                    /* (C) */
    uint32_t *gids = xmalloc(sizeof(uint32_t) * EMBED_CHUNK);       /* (C) */
    float *out = xmalloc(sizeof(float) * (size_t)EMBED_CHUNK * dim); /* (C, dim) */
    uint8_t *ok = xmalloc(EMBED_CHUNK);                              /* (C) */
    char (*why)[160] = xmalloc(sizeof *why * EMBED_CHUNK);           /* (C) */

    for (uint32_t g0 = 1; g0 <= gmax && rc == 0; ) {
        if (cancel && *cancel) { rc = STORE_EABORT; core_set_err(err, errlen, "cancelled"); break; }
        if ((rc = store_read_begin(st, &txn))) break;
        int n = 0;
        uint32_t g = g0;
        for (; g <= gmax && n < EMBED_CHUNK; g++) {
            if (enc->new_only) {
                const float *v;
                int vd;
                if (store_feature_get(txn, enc->set, g, &v, &vd) == 0) { stats->n_skipped++; continue; }
            }
            store_thumb t;
            owned[n] = undecoded[n] = 0;
            if (store_thumb_get(txn, g, &t) == 0 && t.w > 0 && t.h > 0) {
                /* raw: borrowed pixels; coded: the workers decode it */
                imgs[n] = (core_image){.w = t.w, .h = t.h,
                                       .px = t.codec == STORE_THUMB_RAW ? (uint8_t *)t.bytes : NULL};
                coded[n] = t;
                gids[n++] = g;
                continue;
            }
            int r = load_image_file(txn, g, &imgs[n], stats);
            if (r == 0) { owned[n] = 1; gids[n++] = g; }
        }
        memset(ok, 0, (size_t)n);
        embed_job jobs[64];
        pthread_t th[64];
        int nt = threads < 64 ? threads : 64;
        if (nt > n) nt = n > 0 ? n : 1;
        for (int t = 0; t < nt; t++)
            jobs[t] = (embed_job){.enc = enc, .imgs = imgs, .coded = coded, .owned = owned,
                                  .undecoded = undecoded, .out = out, .ok = ok, .why = why,
                                  .i0 = (int)((long)n * t / nt), .i1 = (int)((long)n * (t + 1) / nt)};
        int started = 0;
        for (int t = 1; t < nt; t++) {
            if (pthread_create(&th[t], NULL, embed_worker, &jobs[t]) != 0) break;
            started = t;
        }
        if (n > 0) embed_worker(&jobs[0]);
        for (int t = 1; t <= started; t++) pthread_join(th[t], NULL);
        for (int t = started + 1; t < nt; t++) embed_worker(&jobs[t]);
        /* a thumbnail that did not decode: the image file instead, as for
         * a galaxy without one (here, on the reading thread) */
        for (int i = 0; i < n; i++) {
            if (!undecoded[i]) continue;
            if (load_image_file(txn, gids[i], &imgs[i], stats) != 0) continue;   /* counted missing */
            owned[i] = 1;
            undecoded[i] = 0;
            char e1[160] = "";
            if (enc->fn(enc->ctx, &imgs[i], 1, out + (size_t)i * dim, e1, sizeof e1) == 0) ok[i] = 1;
            else snprintf(why[i], sizeof why[i], "%s", e1[0] ? e1 : "encoder failed");
        }
        for (int i = 0; i < n; i++) {
            if (ok[i] || undecoded[i]) continue;
            if (stats->n_failed++ == 0 && !stats->first_problem[0]) {
                store_galaxy gal;
                memset(&gal, 0, sizeof gal);
                int have = store_galaxy_get(txn, gids[i], &gal) == 0;
                snprintf(stats->first_problem, sizeof stats->first_problem, "%s: %s",
                         have && gal.id_str ? gal.id_str : "?", why[i]);
                if (have) store_galaxy_free(&gal);
            }
        }
        store_read_end(txn);
        for (int i = 0; i < n; i++)
            if (owned[i]) core_image_free(&imgs[i]);

        put_ctx pc = {.set = enc->set, .gids = gids, .x = out, .ok = ok, .n = n, .dim = dim};
        if (n > 0 && (rc = store_write(st, put_vectors, &pc))) {
            core_set_err(err, errlen, "writing feature vectors: %s", store_strerror(rc));
            break;
        }
        for (int i = 0; i < n; i++) stats->n_done += ok[i];
        g0 = g;
        if (progress) progress(progress_ctx, stats->n_done + stats->n_missing + stats->n_failed + stats->n_skipped, total);
    }
    free(imgs); free(coded); free(owned); free(undecoded); free(gids); free(out); free(ok); free(why);

    if (rc == 0 && stats->n_done + stats->n_skipped > 0) {
        put_ctx pc = {.set = enc->set, .meta_key = CORE_REPR_META_DEFAULT, .meta_val = enc->set,
                      .meta_only_if_unset = 1, .publish = 1};
        rc = store_write(st, put_vectors, &pc);
        if (rc) core_set_err(err, errlen, "setting %s: %s", CORE_REPR_META_DEFAULT, store_strerror(rc));
    } else if (rc == 0 && is_new) {
        rc = store_write(st, del_set, (void *)enc->set);   /* nothing embedded: no empty set is left */
    } else if (rc && is_new && !(cancel && *cancel)) {
        store_write(st, del_set, (void *)enc->set);   /* a failed first embed (disk full): none half-made, if it can */
    }
    stats->seconds = core_mono_s() - t0;
    return rc;
}

/* ---- which set -------------------------------------------------------------- */
int core_repr_default_set(zs_txn *txn, char *name, size_t len)
{
    char *v = NULL;
    int rc = store_meta_get(txn, CORE_REPR_META_DEFAULT, &v);
    if (rc == 0) {
        if (!v || !v[0]) rc = STORE_ENOTFOUND;
        else snprintf(name, len, "%s", v);
    }
    free(v);
    return rc;
}

/* 0 when set names a stored feature set (into name). */
static int set_exists(zs_txn *txn, const char *set, char *name, size_t len)
{
    int dim;
    if (!set || !set[0] || strlen(set) > STORE_FEATNAME_MAX || store_featset_get(txn, set, &dim, NULL) != 0) return -1;
    snprintf(name, len, "%s", set);
    return 0;
}

/* The fallback when no set is chosen: the PCA of the default set (meta
 * features.pca, "pca40", "<default>_pca40"), the default set, the first
 * set by name. */
static int pick_fallback(zs_txn *txn, char *name, size_t len)
{
    char *pca = NULL, def[STORE_FEATNAME_MAX + 1] = "", alt[STORE_FEATNAME_MAX + 16];
    int rc = store_meta_get(txn, CORE_REPR_META_PCA, &pca);
    if (rc != 0 && rc != STORE_ENOTFOUND) return rc;
    int found = rc == 0 && set_exists(txn, pca, name, len) == 0;
    free(pca);
    if (found || set_exists(txn, "pca40", name, len) == 0) return 0;
    rc = core_repr_default_set(txn, def, sizeof def);
    if (rc != 0 && rc != STORE_ENOTFOUND) return rc;
    if (rc == 0) {
        snprintf(alt, sizeof alt, "%.*s_pca%d", STORE_FEATNAME_MAX - 12, def, CORE_REPR_PCA_K);
        if (set_exists(txn, alt, name, len) == 0 || set_exists(txn, def, name, len) == 0) return 0;
    }
    char **names = NULL;
    int n = 0;
    rc = store_featset_list(txn, &names, &n);
    if (rc == 0 && n > 0) snprintf(name, len, "%s", names[0]);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc != 0 ? rc : n > 0 ? 0 : STORE_ENOTFOUND;
}

int core_repr_pick_set(zs_txn *txn, const char *want, char *name, size_t len, int *how)
{
    if (how) *how = CORE_REPR_PICK_FALLBACK;
    if (want && want[0]) {
        if (how) *how = CORE_REPR_PICK_ASKED;
        snprintf(name, len, "%s", want);
        return set_exists(txn, want, name, len) == 0 ? 0 : STORE_ENOTFOUND;
    }
    char *use = NULL;
    int rc = store_meta_get(txn, CORE_REPR_META_USE, &use);
    if (rc != 0 && rc != STORE_ENOTFOUND) return rc;
    if (rc == 0 && use && use[0]) {
        if (set_exists(txn, use, name, len) == 0) {
            free(use);
            if (how) *how = CORE_REPR_PICK_CHOSEN;
            return 0;
        }
        if (how) *how = CORE_REPR_PICK_STALE;
    }
    free(use);
    return pick_fallback(txn, name, len);
}

int core_repr_similar_set(zs_txn *txn, char *name, size_t len)
{
    return core_repr_pick_set(txn, NULL, name, len, NULL);
}

/* ---- combining sets ------------------------------------------------------------ */
void core_repr_block_weights(const int *width, const int *is_morph, int nblocks, float *w)
{
    int off = 0;
    for (int b = 0; b < nblocks; b++) {
        double ss = 0;
        for (int j = 0; j < width[b]; j++) {
            float u = is_morph[b] ? core_morph_weight(j) : 1.0f;
            w[off + j] = u;
            ss += (double)u * u;
        }
        float c = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int j = 0; j < width[b]; j++) w[off + j] *= c;
        off += width[b];
    }
}

int core_repr_combine_parse(const char *prov, int *width, int *is_morph, int max)
{
    size_t lv = strlen(CORE_REPR_COMBINE_VERSION);
    if (!prov || strncmp(prov, CORE_REPR_COMBINE_VERSION, lv) != 0 || (prov[lv] && prov[lv] != ' ')) return 0;
    int nb = 0;
    const char *p = prov + lv;
    while (*p == ' ') p++;
    while (*p) {
        const char *tok = p, *end = strchr(p, ' ');
        if (!end) end = p + strlen(p);
        const char *c1 = memchr(tok, ':', (size_t)(end - tok));
        if (!c1 || nb >= max) return -1;
        char *e2;
        long w = strtol(c1 + 1, &e2, 10);
        if (e2 == c1 + 1 || w < 1 || w > 1 << 20) return -1;
        int m = 0;
        if (e2 < end && strncmp(e2, ":m", 2) == 0 && e2 + 2 == end) m = 1;
        else if (e2 != end) return -1;
        width[nb] = (int)w;
        is_morph[nb++] = m;
        p = end;
        while (*p == ' ') p++;
    }
    return nb;
}

int core_repr_combine(zs_store *st, const char *const *sets, int n, const char *out_set, int *n_rows,
                      int *n_missing, char *err, size_t errlen)
{
    if (n_rows) *n_rows = 0;
    if (n_missing) *n_missing = 0;
    if (err && errlen) err[0] = 0;
    if (!st || !sets || n < 2 || n > CORE_REPR_COMBINE_MAX || !out_set) {
        core_set_err(err, errlen, "combine wants 2..%d feature sets", CORE_REPR_COMBINE_MAX);
        return STORE_EINVAL;
    }
    float *x[CORE_REPR_COMBINE_MAX] = {0};        /* x[b] (rows[b], dim[b]) */
    uint32_t *g[CORE_REPR_COMBINE_MAX] = {0};     /* g[b] (rows[b]) ascending */
    int rows[CORE_REPR_COMBINE_MAX] = {0}, dim[CORE_REPR_COMBINE_MAX] = {0}, morph[CORE_REPR_COMBINE_MAX] = {0};
    float *y = NULL;       /* (m, D) */
    uint32_t *gy = NULL;   /* (m) */
    char prov[512];
    zs_txn *txn;
    int rc = store_read_begin(st, &txn), D = 0, m = 0;
    if (rc) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    size_t pl = (size_t)snprintf(prov, sizeof prov, "%s", CORE_REPR_COMBINE_VERSION);
    for (int b = 0; b < n && rc == 0; b++) {
        char *sp = NULL;
        int sd = 0;
        rc = store_featset_get(txn, sets[b], &sd, &sp);
        if (rc == 0) rc = store_features_load(txn, sets[b], &x[b], &g[b], &rows[b], &dim[b]);
        if (rc) {
            free(sp);
            if (rc == STORE_ENOTFOUND) core_set_err(err, errlen, "no feature set '%s' (zoosh embed it first)", sets[b]);
            else core_set_err(err, errlen, "loading feature set '%s': %s", sets[b], store_strerror(rc));
            break;
        }
        morph[b] = is_morph_set(sp, dim[b]);
        free(sp);
        D += dim[b];
        pl += (size_t)snprintf(prov + pl, pl < sizeof prov ? sizeof prov - pl : 0, " %s:%d%s", sets[b], dim[b],
                               morph[b] ? ":m" : "");
    }
    store_read_end(txn);
    if (rc) goto end;
    if (pl >= sizeof prov) { core_set_err(err, errlen, "set names too long"); rc = STORE_EINVAL; goto end; }
    /* galaxies in every set: a merge of the gid-ordered rows */
    int cap = rows[0];
    y = xmalloc(sizeof(float) * ((size_t)cap * D + 1));
    gy = xmalloc(sizeof(uint32_t) * ((size_t)cap + 1));
    int pos[CORE_REPR_COMBINE_MAX] = {0};
    for (int i = 0; i < rows[0]; i++) {
        uint32_t gid = g[0][i];
        int all = 1;
        for (int b = 1; b < n && all; b++) {
            while (pos[b] < rows[b] && g[b][pos[b]] < gid) pos[b]++;
            all = pos[b] < rows[b] && g[b][pos[b]] == gid;
        }
        if (!all) continue;
        pos[0] = i;
        float *o = y + (size_t)m * D;
        for (int b = 0; b < n; b++) {
            memcpy(o, x[b] + (size_t)pos[b] * dim[b], sizeof(float) * (size_t)dim[b]);
            o += dim[b];
        }
        gy[m++] = gid;
    }
    int most = 0;
    for (int b = 0; b < n; b++) most = rows[b] > most ? rows[b] : most;
    if (n_missing) *n_missing = most - m;
    if (n_rows) *n_rows = m;
    if (m == 0) {
        core_set_err(err, errlen, "no galaxy has a vector in all of the sets");
        rc = STORE_EINVAL;
        goto end;
    }
    rc = replace_rows(st, out_set, gy, y, m, D, prov);
    if (rc == 0) {
        put_ctx pc = {.set = out_set, .meta_key = CORE_REPR_META_DEFAULT, .meta_val = out_set};
        rc = store_write(st, put_vectors, &pc);
    }
    if (rc) core_set_err(err, errlen, "storing combined set '%s': %s", out_set, store_strerror(rc));
end:
    for (int b = 0; b < n; b++) { free(x[b]); free(g[b]); }
    free(y);
    free(gy);
    return rc;
}

/* ---- a set derived from another row by row -------------------------------- */
int core_repr_map(zs_store *st, const char *in_set, const char *out_set, int out_dim, const char *prov,
                  core_repr_map_fn fn, void *ctx, int *n_rows, char *err, size_t errlen)
{
    if (n_rows) *n_rows = 0;
    if (err && errlen) err[0] = 0;
    if (!st || !in_set || !out_set || out_dim < 1 || !fn || !strcmp(in_set, out_set)) {
        core_set_err(err, errlen, "map wants two different sets and a function");
        return STORE_EINVAL;
    }
    float *x = NULL, *y = NULL;
    uint32_t *g = NULL;
    int rows = 0, dim = 0;
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    rc = store_features_load(txn, in_set, &x, &g, &rows, &dim);
    store_read_end(txn);
    if (rc) {
        if (rc == STORE_ENOTFOUND) core_set_err(err, errlen, "no feature set '%s' (zoosh embed it first)", in_set);
        else core_set_err(err, errlen, "loading feature set '%s': %s", in_set, store_strerror(rc));
        goto end;
    }
    y = xmalloc(sizeof(float) * ((size_t)rows * out_dim + 1));
    fn(ctx, x, rows, dim, y);
    rc = replace_rows(st, out_set, g, y, rows, out_dim, prov);
    if (rc) core_set_err(err, errlen, "storing feature set '%s': %s", out_set, store_strerror(rc));
    else if (n_rows) *n_rows = rows;
end:
    free(x);
    free(g);
    free(y);
    return rc;
}

/* ---- one column of a set -------------------------------------------------- */
int core_repr_column(zs_txn *txn, const char *set, const char *col, float **out, uint32_t *len,
                     char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    int dim = 0;
    char *prov = NULL;
    int rc = store_featset_get(txn, set, &dim, &prov);
    if (rc) {
        core_set_err(err, errlen, rc == STORE_ENOTFOUND ? "no feature set '%s' (zoosh embed it first)"
                                                        : "feature set '%s': cannot read it", set);
        return rc;
    }
    /* a number, or a name the provenance lists after "answers " */
    int k = -1;
    char *end = NULL;
    long v = strtol(col, &end, 10);
    if (*col && end && !*end) k = v >= 0 && v < dim ? (int)v : -2;
    const char *names = prov ? strstr(prov, "answers ") : NULL;
    if (k == -1 && names) {
        names += 8;
        size_t cl = strlen(col);
        for (int i = 0; *names; i++) {
            const char *e = strchr(names, ',');
            size_t l = e ? (size_t)(e - names) : strlen(names);
            if (l == cl && !strncmp(names, col, cl)) { k = i; break; }
            if (!e) break;
            names = e + 1;
        }
        if (k >= dim) k = -2;
    }
    free(prov);
    if (k < 0) {
        core_set_err(err, errlen, "feature set '%s' has no column '%s' (a number 0..%d%s)", set, col, dim - 1,
                     names ? ", or an answer its provenance lists" : "");
        return STORE_EINVAL;
    }
    float *x = NULL;
    uint32_t *g = NULL;
    int n = 0, d = 0;
    rc = store_features_load(txn, set, &x, &g, &n, &d);
    if (rc) {
        core_set_err(err, errlen, "loading feature set '%s': %s", set, store_strerror(rc));
        return rc;
    }
    uint32_t m = n ? g[n - 1] + 1 : 1;   /* gids ascending */
    float *o = xmalloc(sizeof(float) * m);
    for (uint32_t i = 0; i < m; i++) o[i] = NAN;
    for (int i = 0; i < n; i++) o[g[i]] = x[(size_t)i * d + k];
    free(x);
    free(g);
    *out = o;
    *len = m;
    return 0;
}

/* ---- PCA -------------------------------------------------------------------- */
int core_repr_pca_plan(zs_store *st, const char *const *sets, int nsets, int k, char *err, size_t errlen)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    double d = 0;
    uint32_t n = UINT32_MAX;
    for (int i = 0; i < nsets && rc == 0; i++) {
        int sd = 0;
        uint32_t c = 0;
        if (store_featset_get(txn, sets[i], &sd, NULL) != 0 || store_feature_count(txn, sets[i], &c) != 0) continue;
        d += sd;
        if (c < n) n = c;   /* a combined set holds the galaxies every set has */
    }
    store_read_end(txn);
    if (d < 1 || n == UINT32_MAX || n < 2) return 0;   /* nothing to plan: the fit says what is missing */
    if (d > INT32_MAX) d = INT32_MAX;
    /* the rows loaded (grown by doubling: up to twice their size; combining, the
     * sets and the combined rows) and the projections */
    double extra = 4.0 * n * d * (nsets > 1 ? 4 : 2) + 4.0 * n * k;
    char perr[256];
    if (core_pca_mem_check((int)n, (int)d, k, extra, perr, sizeof perr) == 0) return 0;
    core_set_err(err, errlen, "%s", perr);
    return ENOMEM;
}

int core_repr_pca_fit(zs_store *st, const char *set, int k, char *out_name, size_t out_len,
                      char *err, size_t errlen)
{
    int rc = core_repr_pca_plan(st, &set, 1, k, err, errlen);
    if (rc) return rc;
    zs_txn *txn;
    rc = store_read_begin(st, &txn);
    if (rc) { core_set_err(err, errlen, "%s", store_strerror(rc)); return rc; }
    float *x = NULL;       /* (n, d) */
    uint32_t *gids = NULL; /* (n) */
    int n = 0, d = 0;
    rc = store_features_load(txn, set, &x, &gids, &n, &d);
    char defset[STORE_FEATNAME_MAX + 1] = "";
    int is_default = core_repr_default_set(txn, defset, sizeof defset) == 0 && strcmp(defset, set) == 0;
    /* a morphology set gets its blocks balanced (core_morph_weight) */
    char *sprov = NULL;
    int sdim = 0, is_morph = 0, nblk = 0, bw[CORE_REPR_COMBINE_MAX], bm[CORE_REPR_COMBINE_MAX];
    if (rc == 0 && store_featset_get(txn, set, &sdim, &sprov) == 0 && sprov) {
        is_morph = is_morph_set(sprov, sdim);
        nblk = core_repr_combine_parse(sprov, bw, bm, CORE_REPR_COMBINE_MAX);
        int tot = 0;
        for (int b = 0; b < nblk; b++) tot += bw[b];
        if (nblk > 0 && tot != sdim) nblk = -1;
        if (nblk < 0) {
            core_set_err(err, errlen, "feature set '%s': provenance '%s' does not describe its %d dims", set, sprov, sdim);
            free(sprov);
            store_read_end(txn);
            free(x); free(gids);
            return STORE_ECORRUPT;
        }
    }
    free(sprov);
    store_read_end(txn);
    if (rc) {
        if (rc == STORE_ENOTFOUND) core_set_err(err, errlen, "no feature set '%s'", set);
        else core_set_err(err, errlen, "loading feature set '%s': %s", set, store_strerror(rc));
        return rc;
    }
    if (n < 2) {
        free(x); free(gids);
        core_set_err(err, errlen, "feature set '%s' has fewer than 2 vectors: nothing to fit a PCA on", set);
        return STORE_EINVAL;
    }
    if (k > d) k = d;
    if (k > n) k = n;
    core_pca *p = NULL;
    char perr[160] = "";
    float *wts = NULL;   /* (d) */
    if (is_morph) {
        wts = xmalloc(sizeof(float) * (size_t)d);
        for (int j = 0; j < d; j++) wts[j] = core_morph_weight(j);
    } else if (nblk > 0) {
        wts = xmalloc(sizeof(float) * (size_t)d);
        core_repr_block_weights(bw, bm, nblk, wts);
    }
    int frc = core_pca_fit_weighted(x, n, d, k, 1, wts, &p, perr, sizeof perr);
    free(wts);
    if (frc != 0) {
        free(x); free(gids);
        core_set_err(err, errlen, "PCA of '%s': %s", set, perr);
        return STORE_EINVAL;
    }
    k = core_pca_k(p);
    float *y = xmalloc(sizeof(float) * (size_t)n * k);   /* (n, k) */
    core_pca_transform(p, x, n, y);
    free(x);

    char name[STORE_FEATNAME_MAX + 1], prov[256], bkey[STORE_FEATNAME_MAX + 16];
    /* "pca40" for the default set; "<set>_pca40" for any other, so a PCA of
     * another set never overwrites the one similarity search uses */
    if (is_default) snprintf(name, sizeof name, "pca%d", k);
    else snprintf(name, sizeof name, "%.*s_pca%d", STORE_FEATNAME_MAX - 12, set, k);
    if (strcmp(name, set) == 0) snprintf(name, sizeof name, "%.*s_pca%d", STORE_FEATNAME_MAX - 12, set, k);
    double ev = 0;
    for (int c = 0; c < k; c++) ev += core_pca_variance(p)[c];
    double tv = core_pca_total_variance(p);
    snprintf(prov, sizeof prov, "pca %d of %s (standardised%s; %.1f%% of the variance)", k, set,
             is_morph ? ", morph blocks balanced" : nblk > 0 ? ", blocks balanced" : "", tv > 0 ? 100 * ev / tv : 0.0);
    snprintf(bkey, sizeof bkey, "pca/%s", set);
    void *blob = NULL;
    size_t blen = 0;
    core_pca_save(p, &blob, &blen);
    core_pca_free(p);

    /* vectors in chunks; the blob and the meta last, so that a reader never
     * follows features.pca to a half-written set */
    if (rc == 0) rc = write_rows(st, name, gids, y, n, k, prov);
    if (rc == 0) {
        put_ctx pc = {.set = name, .blob_key = bkey, .blob = blob, .blob_len = blen,
                      .meta_key = is_default ? CORE_REPR_META_PCA : NULL, .meta_val = name};
        rc = store_write(st, put_vectors, &pc);
    }
    if (rc) core_set_err(err, errlen, "storing PCA set '%s': %s", name, store_strerror(rc));
    else if (out_name) snprintf(out_name, out_len, "%s", name);
    free(blob); free(y); free(gids);
    return rc;
}

int core_repr_project(zs_txn *txn, const char *set, const float *x, int dim, float *y, int max, int *k)
{
    char bkey[STORE_FEATNAME_MAX + 16];
    snprintf(bkey, sizeof bkey, "pca/%s", set);
    const void *b;
    size_t len;
    int rc = store_blob_get(txn, STORE_DB_MODELS, bkey, &b, &len);
    if (rc) return rc;
    /* the blob may be unaligned in the map: parse from a copy */
    void *copy = xmalloc(len ? len : 1);
    memcpy(copy, b, len);
    core_pca *p;
    rc = core_pca_load(copy, len, &p, NULL, 0);
    free(copy);
    if (rc) return STORE_ECORRUPT;
    if (core_pca_dim(p) != dim) { core_pca_free(p); return STORE_EDIM; }
    int kk = core_pca_k(p);
    float *tmp = xmalloc(sizeof(float) * (size_t)kk);
    core_pca_transform(p, x, 1, tmp);
    int m = kk < max ? kk : max;
    memcpy(y, tmp, sizeof(float) * (size_t)m);
    if (k) *k = m;
    free(tmp);
    core_pca_free(p);
    return 0;
}

/* ---- similarity ------------------------------------------------------------------ */
struct core_repr_index {
    char set[STORE_FEATNAME_MAX + 1];
    float *x;          /* (n, d) */
    uint32_t *gids;    /* (n) ascending */
    int n, d;
    core_knn *knn;
};

int core_repr_index_new(zs_txn *txn, const char *set, int metric, core_repr_index **out)
{
    *out = NULL;
    char name[STORE_FEATNAME_MAX + 1];
    int rc;
    if (set) snprintf(name, sizeof name, "%s", set);
    else if ((rc = core_repr_similar_set(txn, name, sizeof name))) return rc;
    core_repr_index *ix = xcalloc(1, sizeof *ix);
    snprintf(ix->set, sizeof ix->set, "%s", name);
    rc = store_features_load(txn, name, &ix->x, &ix->gids, &ix->n, &ix->d);
    if (rc == 0 && core_knn_new(&ix->knn, ix->x, ix->n, ix->d > 0 ? ix->d : 1, metric) != 0) rc = STORE_EINVAL;
    if (rc) { core_repr_index_free(ix); return rc; }
    *out = ix;
    return 0;
}

void core_repr_index_free(core_repr_index *ix)
{
    if (!ix) return;
    core_knn_free(ix->knn);
    free(ix->x);
    free(ix->gids);
    free(ix);
}

const char *core_repr_index_set(const core_repr_index *ix) { return ix->set; }
int core_repr_index_rows(const core_repr_index *ix) { return ix->n; }

static int row_of(const core_repr_index *ix, uint32_t gid)
{
    int lo = 0, hi = ix->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (ix->gids[mid] == gid) return mid;
        if (ix->gids[mid] < gid) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int query_rows(const core_repr_index *ix, const float *q, int k, int exclude,
                      uint32_t *out_gids, float *out_dist)
{
    if (k < 1) return 0;
    int *idx = xmalloc(sizeof(int) * (size_t)k);
    float *dist = xmalloc(sizeof(float) * (size_t)k);
    int f = core_knn_query(ix->knn, q, k, exclude, idx, dist);
    for (int i = 0; i < f; i++) {
        out_gids[i] = ix->gids[idx[i]];
        if (out_dist) out_dist[i] = dist[i];
    }
    free(idx);
    free(dist);
    return f < 0 ? STORE_EINVAL : f;
}

int core_repr_index_query(const core_repr_index *ix, uint32_t gid, int k, uint32_t *out_gids, float *out_dist)
{
    int row = row_of(ix, gid);
    if (row < 0) return STORE_ENOTFOUND;
    return query_rows(ix, ix->x + (size_t)row * ix->d, k, row, out_gids, out_dist);
}

int core_repr_similar(zs_txn *txn, uint32_t gid, int k, uint32_t *out_gids, float *out_dist)
{
    core_repr_index *ix;
    int rc = core_repr_index_new(txn, NULL, CORE_KNN_EUCLIDEAN, &ix);
    if (rc) return rc;
    rc = core_repr_index_query(ix, gid, k, out_gids, out_dist);
    core_repr_index_free(ix);
    return rc;
}
