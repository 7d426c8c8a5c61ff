/*
 * store_check.c - whole-file maintenance of a workspace (see store.h):
 * the length check store_open runs on data.mdb, store_check (every record
 * of every database parses and agrees with the others) and store_backup.
 *
 * DESIGN (threads).  store_check walks one read transaction (a snapshot:
 * writers in other threads and processes go on).  store_backup holds
 * st->resize as a reader for the copy, as a transaction does, so no thread
 * of this process resizes the map under mdb_env_copyfd2.
 */
#include "store/store.h"
#include "store/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A data.mdb shorter than the pages its meta page says are in use (cut by
 * a full disk during a copy, a truncate, a partial restore) would fault with
 * SIGBUS at the first read of a missing page: refuse it as damaged before any
 * page past the two meta pages is touched. */
int store_impl_check_length(zs_store *st, const char *data)
{
    MDB_envinfo info;
    MDB_stat s;
    if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &s)) return 0;
    /* the length is read after the meta page, never before: a writer in
     * another process writes its pages before the meta that names them, so
     * the file read now holds at least those pages; one read earlier could
     * predate a commit and look cut short */
    struct stat sb;
    if (stat(data, &sb) != 0) { int e = errno; store_impl_set_err("stat %s: %s", data, strerror(e)); return e; }
    unsigned long long need = ((unsigned long long)info.me_last_pgno + 1) * s.ms_psize;
    if ((unsigned long long)sb.st_size < need) {
        store_impl_set_err("%s is cut short: %lld bytes where its pages need %llu (restore it from a backup)",
                           data, (long long)sb.st_size, need);
        return STORE_ECORRUPT;
    }
    return 0;
}

/* ------------------------------------------------------------ maintenance */

typedef struct {
    char *rep;
    size_t cap, len;
    int n;
} report;

static void problem(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(report *r, const char *fmt, ...)
{
    r->n++;
    if (!r->rep || r->cap == 0) return;
    if (r->len + 1 >= r->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(r->rep + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    r->len += (size_t)k;
    if (r->len >= r->cap - 1) { r->len = r->cap - 1; return; }
    r->rep[r->len++] = '\n';
    r->rep[r->len] = 0;
}

/* One record of a walk: k and v as the cursor gives them. */
typedef void (*row_fn)(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx);

/* Calls fn on every record of db, in key order.  -1 when no cursor opens
 * ("<what>: cannot open a cursor" reported); else 0 and *end = the cursor's
 * last return, MDB_NOTFOUND when the walk reached the end (walk_stopped). */
static int walk(zs_txn *txn, report *rp, int db, const char *what, row_fn fn, void *ctx, int *end)
{
    MDB_cursor *c;
    MDB_val k, v;
    int r;
    if (mdb_cursor_open(txn->t, D(txn, db), &c)) { problem(rp, "%s: cannot open a cursor", what); return -1; }
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) fn(txn, rp, &k, &v, ctx);
    mdb_cursor_close(c);
    *end = r;
    return 0;
}

static void walk_stopped(report *rp, const char *what, int end)
{
    if (end != MDB_NOTFOUND) problem(rp, "%s: walk stopped: %s", what, mdb_strerror(end));
}

/* A "name '\0' gid (u32 BE)" key (features, priors): 0 and the name's
 * length and the gid, or -1 when it does not parse. */
static int set_key(const MDB_val *k, size_t *nl, uint32_t *gid)
{
    const unsigned char *kp = k->mv_data;
    const unsigned char *z = memchr(kp, 0, k->mv_size);
    if (!z || (size_t)(z - kp) + 5 != k->mv_size) return -1;
    *nl = (size_t)(z - kp);
    *gid = get_be32(z + 1);
    return 0;
}

static void galaxy_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    uint32_t *expect = ctx;
    if (k->mv_size != 4) { problem(rp, "galaxies: key of %zu bytes", k->mv_size); return; }
    uint32_t gid = get_be32(k->mv_data);
    if (gid != *expect) problem(rp, "galaxies: gid %u follows %u (gids should be dense)", gid, *expect - 1);
    *expect = gid + 1;
    store_galaxy g;
    if (store_impl_galaxy_decode(v, gid, &g)) { problem(rp, "galaxies: record of gid %u does not parse", gid); return; }
    uint32_t idx;
    int rc = store_galaxy_find(txn, g.id_str, &idx);
    if (rc) problem(rp, "ids: galaxy %u '%s' missing from the id index", gid, g.id_str);
    else if (idx != gid) problem(rp, "ids: '%s' points to gid %u, the galaxy record is gid %u", g.id_str, idx, gid);
    store_galaxy_free(&g);
}

static void id_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    (void)ctx;
    int kl = k->mv_size > 200 ? 200 : (int)k->mv_size;
    if (v->mv_size != 4) { problem(rp, "ids: entry '%.*s' is %zu bytes", kl, (char *)k->mv_data, v->mv_size); return; }
    uint32_t gid = get_be32(v->mv_data);
    store_galaxy g;
    int rc = store_galaxy_get(txn, gid, &g);
    if (rc) { problem(rp, "ids: '%.*s' points to gid %u, which %s", kl, (char *)k->mv_data, gid,
                      rc == STORE_ENOTFOUND ? "does not exist" : "does not parse"); return; }
    if (strlen(g.id_str) != k->mv_size || memcmp(g.id_str, k->mv_data, k->mv_size) != 0)
        problem(rp, "ids: '%.*s' points to gid %u whose id is '%s'", kl, (char *)k->mv_data, gid, g.id_str);
    store_galaxy_free(&g);
}

static void check_galaxies(zs_txn *txn, report *rp)
{
    uint32_t expect = 1;
    int end;
    if (walk(txn, rp, DB_GALAXIES, "galaxies", galaxy_row, &expect, &end)) return;
    walk_stopped(rp, "galaxies", end);
    if (walk(txn, rp, DB_IDS, "ids", id_row, NULL, &end)) return;
    walk_stopped(rp, "ids", end);
}

static void thumb_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    int layout = *(const int *)ctx;
    if (k->mv_size != 4) { problem(rp, "thumbs: key of %zu bytes", k->mv_size); return; }
    uint32_t gid = get_be32(k->mv_data);
    store_thumb th;
    if (store_impl_thumb_parse(v, &th)) problem(rp, "thumbs: thumbnail of gid %u does not parse", gid);
    else if (th.codec != STORE_THUMB_RAW && layout < 2)
        problem(rp, "thumbs: thumbnail of gid %u is coded (%d) but the workspace says layout %d", gid, th.codec, layout);
    if (!store_impl_gid_exists(txn, gid)) problem(rp, "thumbs: thumbnail of gid %u, which does not exist", gid);
}

static void check_thumbs(zs_txn *txn, report *rp)
{
    int layout = store_layout(txn), end;
    if (walk(txn, rp, DB_THUMBS, "thumbs", thumb_row, &layout, &end)) return;
    walk_stopped(rp, "thumbs", end);
}

static void featset_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    (void)txn;
    (void)ctx;
    if (store_impl_featset_decode(v, NULL, NULL))
        problem(rp, "featsets: set '%.*s' does not parse", k->mv_size > 64 ? 64 : (int)k->mv_size, (char *)k->mv_data);
}

typedef struct {
    char cur[STORE_FEATNAME_MAX];   /* the set of the vectors walked now */
    int cur_dim;                    /* its recorded dimension, -1 when not recorded */
    long bad_in_set;
} feature_walk;

static void feature_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    feature_walk *w = ctx;
    const char *name = k->mv_data;
    size_t nl;
    uint32_t gid;
    if (set_key(k, &nl, &gid) || nl == 0 || nl >= STORE_FEATNAME_MAX) {
        problem(rp, "features: key of %zu bytes does not parse", k->mv_size);
        return;
    }
    if (strcmp(w->cur, name) != 0) {
        if (w->bad_in_set > 3) problem(rp, "features: ... %ld more problems in set '%s'", w->bad_in_set - 3, w->cur);
        snprintf(w->cur, sizeof w->cur, "%s", name);
        w->bad_in_set = 0;
        if (store_featset_get(txn, w->cur, &w->cur_dim, NULL)) {
            w->cur_dim = -1;
            problem(rp, "features: vectors of set '%s', which is not recorded in featsets", w->cur);
        }
    }
    int bad = 0;
    if (w->cur_dim > 0 && v->mv_size != (size_t)w->cur_dim * sizeof(float)) bad = 1;
    if (!store_impl_gid_exists(txn, gid)) bad = 2;
    if (bad && ++w->bad_in_set <= 3) {
        if (bad == 1) problem(rp, "features: vector %s/%u has %zu floats, the set has dimension %d",
                              w->cur, gid, v->mv_size / sizeof(float), w->cur_dim);
        else problem(rp, "features: vector %s/%u of a galaxy that does not exist", w->cur, gid);
    }
}

static void check_features(zs_txn *txn, report *rp)
{
    int end;
    if (walk(txn, rp, DB_FEATSETS, "featsets", featset_row, NULL, &end)) return;
    feature_walk w = {"", -1, 0};
    if (walk(txn, rp, DB_FEATURES, "features", feature_row, &w, &end)) return;
    if (w.bad_in_set > 3) problem(rp, "features: ... %ld more problems in set '%s'", w.bad_in_set - 3, w.cur);
    walk_stopped(rp, "features", end);
}

static void prior_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    long *bad = ctx;
    const char *column = k->mv_data;
    size_t nl;
    uint32_t gid;
    if (set_key(k, &nl, &gid)) {
        if (++*bad <= 5) problem(rp, "priors: key of %zu bytes does not parse", k->mv_size);
        return;
    }
    if (v->mv_size != sizeof(double)) {
        if (++*bad <= 5) problem(rp, "priors: %s/%u has %zu bytes", column, gid, v->mv_size);
        return;
    }
    if (!store_impl_gid_exists(txn, gid) && ++*bad <= 5)
        problem(rp, "priors: %s/%u of a galaxy that does not exist", column, gid);
}

static void check_priors(zs_txn *txn, report *rp)
{
    long bad = 0;
    int end;
    if (walk(txn, rp, DB_PRIORS, "priors", prior_row, &bad, &end)) return;
    if (bad > 5) problem(rp, "priors: ... %ld more problems", bad - 5);
    walk_stopped(rp, "priors", end);
}

typedef struct {
    store_answer *a;   /* scratch for the answer walked now */
    uint64_t prev;     /* the previous answer's seq */
    long bad;
} answer_walk;

static void answer_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    answer_walk *w = ctx;
    store_answer *a = w->a;
    if (k->mv_size != 8) { problem(rp, "answers: key of %zu bytes", k->mv_size); return; }
    uint64_t seq = get_be64(k->mv_data);
    if (seq != w->prev + 1 && ++w->bad <= 20)
        problem(rp, "answers: seq %llu follows %llu (gap in the log)", (unsigned long long)seq, (unsigned long long)w->prev);
    w->prev = seq;
    if (store_impl_answer_decode(v, seq, a)) {
        if (++w->bad <= 20) problem(rp, "answers: answer %llu does not parse", (unsigned long long)seq);
        return;
    }
    if (a->kind == STORE_ANS_RETRACT) {
        store_answer *t = malloc(sizeof *t);
        int rc = !t ? ENOMEM : a->retracts == 0 || a->retracts >= seq ? STORE_EINVAL : store_answer_get(txn, a->retracts, t);
        if (rc && ++w->bad <= 20)
            problem(rp, "answers: answer %llu retracts %llu, which %s", (unsigned long long)seq,
                    (unsigned long long)a->retracts, rc == STORE_EINVAL ? "is not earlier" : "does not exist");
        free(t);
    }
    if (a->kind == STORE_ANS_RATING && (a->rating < 0 || a->rating > 5) && ++w->bad <= 20)
        problem(rp, "answers: answer %llu has rating %d", (unsigned long long)seq, a->rating);
    if (!store_impl_gid_exists(txn, a->gid) && ++w->bad <= 20)
        problem(rp, "answers: answer %llu is about gid %u, which does not exist", (unsigned long long)seq, a->gid);
}

static void check_answers(zs_txn *txn, report *rp)
{
    answer_walk w = {malloc(sizeof *w.a), 0, 0};
    if (!w.a) { problem(rp, "answers: out of memory"); return; }
    int end;
    if (walk(txn, rp, DB_ANSWERS, "answers", answer_row, &w, &end) == 0) {
        if (w.bad > 20) problem(rp, "answers: ... %ld more problems", w.bad - 20);
        walk_stopped(rp, "answers", end);
    }
    free(w.a);
}

int store_check(zs_store *st, char *rep, size_t report_len, int *n_problems)
{
    if (n_problems) *n_problems = 0;
    if (rep && report_len) rep[0] = 0;
    if (!st) return STORE_EINVAL;
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    report rp = {rep, rep ? report_len : 0, 0, 0};
    char *magic = NULL;
    if (store_meta_get(txn, STORE_META_KEY, &magic)) problem(&rp, "meta: the zoosh magic is missing");
    free(magic);
    check_galaxies(txn, &rp);
    check_thumbs(txn, &rp);
    check_features(txn, &rp);
    check_priors(txn, &rp);
    check_answers(txn, &rp);
    store_read_end(txn);
    if (n_problems) *n_problems = rp.n;
    return rp.n ? STORE_ECORRUPT : 0;
}

int store_backup(zs_store *st, const char *dest_dir)
{
    if (!st || !dest_dir || !*dest_dir || strlen(dest_dir) > STORE_PATH_MAX) return STORE_EINVAL;
    char data[STORE_PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data.mdb", dest_dir);
    if (store_impl_path_exists(data)) { store_impl_set_err("%s already holds data.mdb", dest_dir); return STORE_EEXIST; }
    int made = mkdir(dest_dir, 0777) == 0;
    if (!made && errno != EEXIST) {
        int e = errno;
        store_impl_set_err("mkdir %s: %s", dest_dir, strerror(e));
        return e;
    }
    /* written as data.mdb.partial.<random>.tmp, a new file (O_EXCL|O_NOFOLLOW:
     * never one or a link someone put there), and renamed when whole: a
     * backup killed half-way leaves no data.mdb that looks like a workspace
     * (and would block the next try) */
    char part[STORE_PATH_MAX + 64], stem[STORE_PATH_MAX + 32];
    snprintf(stem, sizeof stem, "%s/data.mdb.partial", dest_dir);
    snprintf(part, sizeof part, "%s", stem);
    int fd = store_file_new(stem, 1, 0666, part, sizeof part);
    if (fd < 0) {
        int e = -fd;
        store_impl_set_err("create %s: %s", part, strerror(e));
        if (made) rmdir(dest_dir);
        return e;
    }
    store_impl_hold(st);
    int r = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
    store_impl_unhold(st);
    int rc = store_impl_lmdb_rc(r, "mdb_env_copyfd2");
    if (!rc && fsync(fd) != 0) rc = store_impl_lmdb_rc(errno, "fsync data.mdb.partial");   /* errno mapped as LMDB's (ENOSPC...) */
    if (close(fd) != 0 && !rc) rc = store_impl_lmdb_rc(errno, "close data.mdb.partial");
    if (!rc && rename(part, data) != 0) rc = store_impl_lmdb_rc(errno, "rename data.mdb.partial");
    if (rc) {
        unlink(part);
        if (made) rmdir(dest_dir);     /* a failed backup leaves no empty folder that looks like one */
    }
    return rc;
}
