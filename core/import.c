/*
 * import.c - a catalog + images + features into a workspace (see import.h).
 *
 * Thumbnails that fit in IMPORT_MEM_BUDGET (or $ZOOSH_IMPORT_MEM_MB) are
 * kept in memory from step 2 to step 3; more are spilled to an unlinked file
 * in the workspace folder (O_TMPFILE) and read back, and if that fails step
 * 3 decodes again ($ZOOSH_IMPORT_NO_SPILL forces that).  A failure of the
 * disk itself during step 3 can leave the batches written so far; importing
 * again completes it (same id updates, never duplicates).
 *
 * DESIGN (threads): the decode pool (struct pool) shares one mutex `mu`
 * guarding `next`, `limit`, `stop` and each slot's `done`; workers take the
 * next item below `limit`, decode without the lock and publish the slot under
 * it (decoding, scaling and encoding the thumbnail all happen in the
 * worker).  Only the calling thread touches the store and the progress
 * callback; it consumes slots in item order and raises `limit` (a window) as
 * it goes, so memory stays bounded.  The features file (--features) is read
 * by one more thread (feat_worker) while the calling thread reads the
 * catalog: it owns its feat_job until the join and touches nothing shared
 * (for HDF5 core_feat_load forks a reader child, so libhdf5 never runs in
 * this process).
 */
#include "core/import.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/featio.h"
#include "core/thumb.h"
#include "core/util.h"

#define IMPORT_MEM_BUDGET ((size_t)768 << 20)   /* thumbnails kept between check and write */
#define IMPORT_BATCH_BYTES ((size_t)32 << 20)
#define IMPORT_BATCH_ROWS 8192
#define IMPORT_WINDOW 512                       /* decode-ahead items when streaming */

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
    core_catalog *cat;
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
    core_catalog *c = w->cat;
    int rc = 0;
    w->created = w->thumbs_put = w->feats = w->priors = 0;
    if (w->first) {
        if (w->fs && (rc = store_featset_put(txn, w->fs_name, w->fs->dim, w->fs->provenance))) return rc;
        if (c->feat_dim && (rc = store_featset_put(txn, "catalog", c->feat_dim, w->cat_prov))) return rc;
    }
    for (long k = 0; k < w->n; k++) {
        core_catalog_row *r = &c->rows[w->rows[k]];
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

/* ------------------------------------------------------- the import */

/* The features file, read beside the catalog (see DESIGN). */
typedef struct {
    const char *path, *ids;
    core_featset fs;
    int rc;
    char err[1024];
} feat_job;

static void *feat_worker(void *p)
{
    feat_job *j = p;
    j->rc = core_feat_load(j->path, j->ids, &j->fs, j->err, sizeof j->err);
    return NULL;
}

static void tell(const core_import_opts *o, core_import_event ev, const char *what, long done, long total)
{
    if (o->progress) o->progress(o->progress_ctx, ev, what, done, total);
}

void core_import_report_free(core_import_report *rep)
{
    if (!rep) return;
    core_catalog_msgs_free(&rep->problems);
}

int core_import_run(zs_store *st, const core_import_opts *o, core_import_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    const char *ws = o->ws, *cat_path = o->catalog, *feat_path = o->features, *fs_name = o->features_name;
    int skip_bad = o->skip_bad, no_thumbs = o->no_thumbs, codec = o->codec;
    int status = CORE_IMPORT_EINPUT;
    int show_bad = 0;           /* the problems go to rep->problems */
    core_catalog cat;
    memset(&cat, 0, sizeof cat);
    core_catalog_msgs bad = {0};
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
    int rc;

    /* 1. the catalog, the features file read meanwhile (1b uses it) */
    feat_job fj = {.path = feat_path, .ids = o->ids};
    pthread_t fth;
    int feat_thread = feat_path && pthread_create(&fth, NULL, feat_worker, &fj) == 0;
    rc = core_catalog_check(cat_path, o->root, st, &cat, &bad, err, errlen);
    if (feat_thread) pthread_join(fth, NULL);
    else if (feat_path) feat_worker(&fj);
    fs = fj.fs;   /* freed at the end whatever happens */
    if (rc) goto end;
    tell(o, CORE_IMPORT_STEP, "catalog read", 0, 0);

    /* 1a. feat_N columns must fit the workspace's "catalog" set */
    if (cat.feat_dim) {
        zs_txn *rt = NULL;
        int dim0 = 0;
        if (store_read_begin(st, &rt) == 0) {
            if (store_featset_get(rt, "catalog", &dim0, NULL) != 0) dim0 = 0;
            store_read_end(rt);
        }
        if (dim0 && dim0 != cat.feat_dim) {
            core_set_err(err, errlen, "%s:1: columns feat_0..feat_%d: feature dimension %d differs from the "
                         "workspace's set 'catalog' (%d)", cat_path, cat.feat_dim - 1, cat.feat_dim, dim0);
            goto end;
        }
    }

    /* 1b. the features file */
    if (feat_path) {
        if (fj.rc) { core_set_err(err, errlen, "%s", fj.err); goto end; }
        have_fs = 1;
        zs_txn *rt = NULL;
        if ((rc = store_read_begin(st, &rt))) {
            core_set_err(err, errlen, "%s: %s", ws, store_strerror(rc));
            status = CORE_IMPORT_EWORKSPACE;
            goto end;
        }
        int dim0 = 0;
        rc = store_featset_get(rt, fs_name, &dim0, NULL);
        if (rc == 0 && dim0 != fs.dim) {
            store_read_end(rt);
            core_set_err(err, errlen, "%s: feature dimension %d differs from the workspace's set '%s' (%d); "
                         "use --features-name for a new set", feat_path, fs.dim, fs_name, dim0);
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
            if (prev >= 0) { core_catalog_msgs_add(&bad, "%s:%s: column id_str: duplicate id '%s'", feat_path, where, fs.ids[i]); continue; }
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
                core_catalog_msgs_add(&bad, "%s:%s: column id_str: id '%s' is neither in the catalog nor in the workspace", feat_path, where, fs.ids[i]);
        }
        core_strmap_free(&seen);
        store_read_end(rt);
    }

    tell(o, CORE_IMPORT_STEP, "features read", 0, 0);
    /* the good rows */
    items = xmalloc(sizeof(long) * (size_t)(cat.n_rows ? cat.n_rows : 1));
    long n_items = 0;
    for (long i = 0; i < cat.n_rows; i++)
        if (!cat.rows[i].bad) items[n_items++] = i;
    if (n_items > INT_MAX - 1) { core_set_err(err, errlen, "%s: too many rows", cat_path); goto end; }

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
    int nt = n_threads(o->threads);
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
            tell(o, CORE_IMPORT_BEGIN, "decoding", 0, n_items);
            for (long k = 0; k < n_items; k++) {
                slot *s = pool_wait(&pl, (int)k);
                if (!s->ok) {
                    core_catalog_row *r = &cat.rows[items[k]];
                    core_catalog_msgs_add(&bad, "%s:%ld: column %s: image %s: %s", cat_path, r->line, cat.cols[cat.file_col], r->file, s->err);
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
                tell(o, CORE_IMPORT_ADVANCE, "decoding", k + 1, n_items);
            }
            tell(o, CORE_IMPORT_END, "decoding", n_items, n_items);
            if (!keep_all) { pool_stop(&pl); pool_on = 0; streaming = spill_fd < 0; }
        } else
            streaming = 1;
    }

    tell(o, CORE_IMPORT_STEP, "images decoded", 0, 0);
    if (bad.n && !skip_bad) {
        core_set_err(err, errlen, "%d problem%s; nothing was imported (--skip-bad imports the other rows)",
                     bad.n, bad.n == 1 ? "" : "s");
        show_bad = 1;
        goto end;
    }

    /* 3. write in batches: items [i0, i1) of the rows still good, then the
     * feature rows of galaxies already in the workspace */
    char cat_prov[600];
    snprintf(cat_prov, sizeof cat_prov, "catalog %.500s (feat_0..feat_%d)", cat.abspath, cat.feat_dim - 1);
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
    tell(o, CORE_IMPORT_BEGIN, "writing", 0, n_write);
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
                    core_catalog_row *r = &cat.rows[items[k]];
                    core_catalog_msgs_add(&bad, "%s:%ld: column %s: image %s: %s", cat_path, r->line, cat.cols[cat.file_col], r->file, s->err);
                    r->bad = 1;
                    if (!skip_bad) {
                        tell(o, CORE_IMPORT_END, "writing", i0, n_write);
                        core_set_err(err, errlen, "the image changed during the import; %ld galaxies were written "
                                                  "before it (fix it and import again)", written);
                        show_bad = 1;
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
                    int e = errno;
                    tell(o, CORE_IMPORT_END, "writing", i0, n_write);
                    core_set_err(err, errlen, "cannot read back the spilled thumbnails: %s; %ld galaxies were "
                                              "written (import again to complete)", strerror(e), written);
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
        /* each batch to disk now: left to the end, the import's unsynced pages
         * are flushed by whichever labeler commits next (its fdatasync takes
         * them all: answer commit p99 207 ms against 47 ms, tools/bench/load.sh) */
        if (!rc) rc = store_sync(st);
        if (rc) {
            tell(o, CORE_IMPORT_END, "writing", i0, n_write);
            if (written > 0)
                core_set_err(err, errlen, "%s: writing failed: %s (%s)\n%ld galaxies were written before the failure "
                                          "(import again to complete)", ws, store_strerror(rc), store_last_error(), written);
            else
                core_set_err(err, errlen, "%s: writing failed: %s (%s)", ws, store_strerror(rc), store_last_error());
            status = (rc == STORE_ENOSPC || rc == STORE_EREADONLY || rc == STORE_ECORRUPT) ? CORE_IMPORT_EWORKSPACE
                                                                                          : CORE_IMPORT_EINPUT;
            goto end;
        }
        created += w.created; thumbs += w.thumbs_put; feats += w.feats; priors += w.priors;
        written += m;
        if (pool_on) for (long k = i0; k < i1; k++) pool_release(&pl, (int)k, IMPORT_WINDOW);
        tell(o, CORE_IMPORT_ADVANCE, "writing", i1, n_write);
        i0 = i1;
        e0 = e1;
        if (i0 >= n_write && e0 >= n_extra) break;
    }
    tell(o, CORE_IMPORT_END, "writing", n_write, n_write);
    tell(o, CORE_IMPORT_STEP, "written", 0, 0);
    if ((rc = store_sync(st))) {
        core_set_err(err, errlen, "%s: sync failed: %s", ws, store_strerror(rc));
        status = CORE_IMPORT_EWORKSPACE;
        goto end;
    }
    tell(o, CORE_IMPORT_STEP, "synced", 0, 0);
    rep->written = written;
    rep->created = created;
    rep->thumbs = thumbs;
    rep->priors = priors;
    rep->feats = feats;
    rep->n_prior = cat.n_prior;
    rep->n_kaggle = cat.n_kaggle;
    rep->feat_dim = cat.feat_dim;
    rep->fs_dim = have_fs ? fs.dim : 0;
    rep->nothing = bad.n && written == 0 && !have_fs;
    show_bad = 1;
    status = 0;
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
    core_catalog_free(&cat);
    if (show_bad) rep->problems = bad;
    else core_catalog_msgs_free(&bad);
    return status;
}
