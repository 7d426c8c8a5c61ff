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
    else if (th.codec != STORE_THUMB_RAW && layout == 1)   /* 0: unknown, the magic is reported */
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
    int kl = k->mv_size > 64 ? 64 : (int)k->mv_size;
    if (store_impl_featset_decode(v, NULL, NULL)) problem(rp, "featsets: set '%.*s' does not parse", kl, (char *)k->mv_data);
    char name[STORE_FEATNAME_MAX + 1];
    snprintf(name, sizeof name, "%.*s", kl, (char *)k->mv_data);
    if (store_featset_incomplete(txn, name))
        problem(rp, "featsets: set '%s' is incomplete (being written now, or its embed or PCA was killed): "
                "run that zoosh embed again", name);
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
        MDB_val sk = {strlen(w->cur), w->cur}, sv;
        if (mdb_get(txn->t, D(txn, DB_FEATSETS), &sk, &sv) || store_impl_featset_decode(&sv, &w->cur_dim, NULL)) {
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
    uint64_t bound;    /* the highest seq zoosh hands out (store.h, STORE_SEQ_SLACK) */
    long bad;
} answer_walk;

static void answer_row(zs_txn *txn, report *rp, const MDB_val *k, const MDB_val *v, void *ctx)
{
    answer_walk *w = ctx;
    store_answer *a = w->a;
    if (k->mv_size != 8) { problem(rp, "answers: key of %zu bytes", k->mv_size); return; }
    uint64_t seq = get_be64(k->mv_data);
    if (seq > w->bound) {
        problem(rp, "answers: key %016llx is beyond any seq zoosh hands out (a forged record; ignored, "
                "zoosh check --repair drops it)", (unsigned long long)seq);
        return;
    }
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
    answer_walk w = {malloc(sizeof *w.a), 0, STORE_SEQ_SLACK, 0};
    if (!w.a) { problem(rp, "answers: out of memory"); return; }
    MDB_stat s;
    if (mdb_stat(txn->t, D(txn, DB_ANSWERS), &s) == 0) w.bound += (uint64_t)s.ms_entries;
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
    else if (st->damage[0]) problem(&rp, "meta: %s", st->damage);
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

/* ------------------------------------------------------------ page sanity */

/* LMDB 0.9's on-disk layout (mdb.c, MDB_DATA_VERSION 1, 64-bit): a page
 * starts with pgno (u64), pad (u16), flags (u16), lower and upper (u16 each;
 * an overflow page's page count as u32 there), then lower - 16 bytes of
 * u16 node offsets.  A node is lo, hi, flags, ksize (u16 each), the key,
 * then the data (a leaf) or lo | hi << 16 | flags << 32 is the child page
 * (a branch).  The meta (at byte 16 of pages 0 and 1) holds two MDB_db of
 * 48 bytes (the free list's first u32 is the page size), the last page and
 * the txnid. */
#define PG_HDR        16
#define PG_BRANCH     0x01
#define PG_LEAF       0x02
#define PG_OVERFLOW   0x04
#define NODE_BIGDATA  0x01
#define NODE_SUBDATA  0x02
#define NODE_HDR      8
#define META_DBS      (PG_HDR + 24)
#define DB_SIZE       48
#define META_LAST_PG  (META_DBS + 2 * DB_SIZE)
#define META_TXNID    (META_LAST_PG + 8)
#define LMDB_MAGIC    0xBEEFC0DEu

static uint16_t u16_at(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t u32_at(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t u64_at(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

typedef struct {
    int fd;
    size_t psize;
    uint64_t last;            /* the snapshot's last page */
    unsigned char *seen;      /* a bit per page: reached once already */
    char *why;
    size_t whylen;
    int bad;
} pagewalk;

typedef struct { uint16_t flags, depth; uint64_t branch, leaf, overflow, entries, root; } dbrec;

static void db_parse(const unsigned char *p, dbrec *d)
{
    d->flags = u16_at(p + 4);
    d->depth = u16_at(p + 6);
    d->branch = u64_at(p + 8);
    d->leaf = u64_at(p + 16);
    d->overflow = u64_at(p + 24);
    d->entries = u64_at(p + 32);
    d->root = u64_at(p + 40);
}

static int pw_fail(pagewalk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pw_fail(pagewalk *w, const char *fmt, ...)
{
    if (!w->bad) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->why, w->whylen, fmt, ap);
        va_end(ap);
    }
    w->bad = 1;
    return -1;
}

/* Reads page pg into buf, once per walk. */
static int pw_read(pagewalk *w, uint64_t pg, unsigned char *buf, const char *db)
{
    if (pg < 2 || pg > w->last) return pw_fail(w, "%s: a node points to page %llu, outside the file's %llu pages",
                                               db, (unsigned long long)pg, (unsigned long long)w->last + 1);
    if (w->seen[pg / 8] & (1u << (pg % 8))) return pw_fail(w, "%s: page %llu is reached twice", db, (unsigned long long)pg);
    w->seen[pg / 8] |= (unsigned char)(1u << (pg % 8));
    if (pread(w->fd, buf, w->psize, (off_t)(pg * w->psize)) != (ssize_t)w->psize)
        return pw_fail(w, "%s: page %llu cannot be read", db, (unsigned long long)pg);
    if (u64_at(buf) != pg) return pw_fail(w, "%s: page %llu says it is page %llu", db, (unsigned long long)pg, (unsigned long long)u64_at(buf));
    return 0;
}

typedef struct { uint64_t branch, leaf, overflow, entries; } dbcount;

static int pw_tree(pagewalk *w, uint64_t pg, int level, const dbrec *d, dbcount *n, int is_main, const char *db);

/* A database's whole tree against the counts its MDB_db record gives. */
static int pw_db(pagewalk *w, const dbrec *d, int is_main, const char *db)
{
    if (d->root == (uint64_t)-1) {
        if (d->entries || d->depth) return pw_fail(w, "%s: empty tree with %llu entries", db, (unsigned long long)d->entries);
        return 0;
    }
    if (d->depth == 0 || d->depth > 32) return pw_fail(w, "%s: tree depth %u", db, d->depth);
    dbcount n = {0, 0, 0, 0};
    if (pw_tree(w, d->root, 1, d, &n, is_main, db)) return -1;
    if (n.branch != d->branch || n.leaf != d->leaf || n.overflow != d->overflow || n.entries != d->entries)
        return pw_fail(w, "%s: the tree holds %llu entries in %llu/%llu/%llu branch/leaf/overflow pages, its record says "
                       "%llu in %llu/%llu/%llu", db, (unsigned long long)n.entries, (unsigned long long)n.branch,
                       (unsigned long long)n.leaf, (unsigned long long)n.overflow, (unsigned long long)d->entries,
                       (unsigned long long)d->branch, (unsigned long long)d->leaf, (unsigned long long)d->overflow);
    return 0;
}

static int pw_tree(pagewalk *w, uint64_t pg, int level, const dbrec *d, dbcount *n, int is_main, const char *db)
{
    unsigned char *buf = malloc(w->psize);
    if (!buf) return pw_fail(w, "out of memory");
    int rc = pw_read(w, pg, buf, db);
    int want = level == d->depth ? PG_LEAF : PG_BRANCH;
    uint16_t flags = u16_at(buf + 10), lower = u16_at(buf + 12), upper = u16_at(buf + 14);
    if (!rc && (flags & (PG_BRANCH | PG_LEAF | PG_OVERFLOW)) != want)
        rc = pw_fail(w, "%s: page %llu is not the %s page the tree needs there", db, (unsigned long long)pg,
                     want == PG_LEAF ? "leaf" : "branch");
    if (!rc && (lower < PG_HDR + 2 || lower > upper || upper > w->psize || (lower - PG_HDR) % 2))
        rc = pw_fail(w, "%s: page %llu has bounds %u..%u", db, (unsigned long long)pg, lower, upper);
    if (!rc && want == PG_LEAF) n->leaf++;
    else if (!rc) n->branch++;
    for (unsigned i = 0; !rc && i < (unsigned)(lower - PG_HDR) / 2; i++) {
        size_t off = u16_at(buf + PG_HDR + 2 * i);
        if (off < upper || off + NODE_HDR > w->psize) { rc = pw_fail(w, "%s: page %llu node %u at %zu", db, (unsigned long long)pg, i, off); break; }
        const unsigned char *nd = buf + off;
        size_t lohi = (size_t)u16_at(nd) | (size_t)u16_at(nd + 2) << 16, ks = u16_at(nd + 6);
        uint16_t nf = u16_at(nd + 4);
        if (want == PG_BRANCH) {
            if (off + NODE_HDR + ks > w->psize) { rc = pw_fail(w, "%s: page %llu node %u overruns it", db, (unsigned long long)pg, i); break; }
            rc = pw_tree(w, lohi | (uint64_t)nf << 32, level + 1, d, n, is_main, db);
            continue;
        }
        size_t ds = (nf & NODE_BIGDATA) ? 8 : lohi;
        if (off + NODE_HDR + ks + ds > w->psize) { rc = pw_fail(w, "%s: page %llu node %u overruns it", db, (unsigned long long)pg, i); break; }
        n->entries++;
        const unsigned char *data = nd + NODE_HDR + ks;
        if (nf & NODE_BIGDATA) {
            uint64_t op = u64_at(data);
            unsigned char *ob = malloc(w->psize);
            if (!ob) { rc = pw_fail(w, "out of memory"); break; }
            rc = pw_read(w, op, ob, db);
            uint32_t np = u32_at(ob + 12);
            if (!rc && (!(u16_at(ob + 10) & PG_OVERFLOW) || np == 0 || op + np - 1 > w->last ||
                        (uint64_t)np * w->psize < lohi + PG_HDR))
                rc = pw_fail(w, "%s: page %llu is not the overflow page of a %zu-byte value", db, (unsigned long long)op, lohi);
            if (!rc) n->overflow += np;
            free(ob);
        } else if (nf & NODE_SUBDATA) {
            if (!is_main || ds != DB_SIZE) { rc = pw_fail(w, "%s: page %llu holds a nested tree", db, (unsigned long long)pg); break; }
            dbrec sub;
            db_parse(data, &sub);
            char name[72];
            snprintf(name, sizeof name, "database '%.*s'", (int)(ks > 64 ? 64 : ks), (const char *)nd + NODE_HDR);
            rc = pw_db(w, &sub, 0, name);
        } else if (nf) {
            rc = pw_fail(w, "%s: page %llu node %u has flags %#x", db, (unsigned long long)pg, i, nf);
        }
    }
    free(buf);
    return rc;
}

int store_pages_sane(zs_store *st, char *why, size_t whylen)
{
    if (why && whylen) why[0] = 0;
    if (!st) return STORE_EINVAL;
    char data[STORE_PATH_MAX + 16], dummy[8];
    snprintf(data, sizeof data, "%s/data.mdb", st->dir);
    pagewalk w = {-1, 0, 0, NULL, why ? why : dummy, why ? whylen : sizeof dummy, 0};
    w.fd = open(data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (w.fd < 0) { int e = errno; store_impl_set_err("open %s: %s", data, strerror(e)); return e; }
    int rc = 0;
    unsigned char meta[2][PG_HDR + 200];
    dbrec free_db, main_db;
    /* the snapshot of a read transaction: its pages stay put while it is
     * held, and its meta page is the one with its txnid (read again when a
     * writer replaced both metas meanwhile) */
    for (int tries = 0; tries < 20; tries++) {
        zs_txn *txn = NULL;
        if ((rc = store_read_begin(st, &txn)) != 0) goto out;
        uint64_t id = mdb_txn_id(txn->t);
        int which = -1;
        for (int m = 0; m < 2; m++) {
            MDB_stat s;
            mdb_env_stat(st->env, &s);
            w.psize = s.ms_psize;
            if (pread(w.fd, meta[m], sizeof meta[m], (off_t)(m * w.psize)) == (ssize_t)sizeof meta[m] &&
                u32_at(meta[m] + PG_HDR) == LMDB_MAGIC && u64_at(meta[m] + META_TXNID) == id)
                which = m;
        }
        if (which >= 0) {
            db_parse(meta[which] + META_DBS, &free_db);
            db_parse(meta[which] + META_DBS + DB_SIZE, &main_db);
            w.last = u64_at(meta[which] + META_LAST_PG);
            struct stat sb;
            if (fstat(w.fd, &sb) != 0 || (uint64_t)sb.st_size / w.psize <= w.last) {
                pw_fail(&w, "data.mdb is shorter than its %llu pages", (unsigned long long)w.last + 1);
            } else if (!(w.seen = calloc(w.last / 8 + 1, 1))) {
                rc = ENOMEM;
            } else {
                if (!pw_db(&w, &free_db, 0, "the free list")) pw_db(&w, &main_db, 1, "the main database");
                free(w.seen);
            }
            store_read_end(txn);
            goto out;
        }
        store_read_end(txn);
    }
    pw_fail(&w, "no meta page matches a read snapshot (the file changes too fast)");
out:
    close(w.fd);
    if (!rc && w.bad) {
        store_impl_set_err("%s: %s", data, w.why);
        rc = STORE_ECORRUPT;
    }
    return rc;
}

/* ------------------------------------------------------------ damage marker */

static void marker_path(const zs_store *st, char *p, size_t len)
{
    snprintf(p, len, "%s/%s", st->dir, STORE_DAMAGED_FILE);
}

int store_damage_mark(zs_store *st, const char *why)
{
    if (!st || !why) return STORE_EINVAL;
    char p[STORE_PATH_MAX + 32];
    marker_path(st, p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return errno == EEXIST ? 0 : errno;   /* there already (a check before this one said so) */
    size_t n = strlen(why);
    int rc = write(fd, why, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : errno;
    if (close(fd) != 0 && !rc) rc = errno;
    return rc;
}

void store_damage_clear(zs_store *st)
{
    char p[STORE_PATH_MAX + 32];
    if (!st) return;
    marker_path(st, p, sizeof p);
    struct stat sb;
    if (lstat(p, &sb) == 0) unlink(p);
}

int store_impl_writable(zs_store *st, const char *data)
{
    if (st->damage[0]) {
        store_impl_set_err("%s; it opens read-only (make a repaired copy with zoosh check --repair)", st->damage);
        return STORE_ECORRUPT;
    }
    char p[STORE_PATH_MAX + 32];
    marker_path(st, p, sizeof p);
    struct stat sb;
    if (lstat(p, &sb) == 0) {
        char why[200] = "";
        int fd = S_ISREG(sb.st_mode) ? open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (fd >= 0) {
            ssize_t n = read(fd, why, sizeof why - 1);
            close(fd);
            char shown[160];
            store_impl_show_bytes(shown, sizeof shown, why, n > 0 ? (size_t)strcspn(why, "\n") : 0);
            snprintf(why, sizeof why, "%s", shown);
        }
        store_impl_set_err("the last zoosh check found %s damaged (%s: %s); nothing is written to it: restore a backup "
                           "or make a repaired copy with zoosh check --repair (a clean check removes the file)",
                           data, STORE_DAMAGED_FILE, why[0] ? why : "?");
        return STORE_ECORRUPT;
    }
    char why[256];
    int rc = store_pages_sane(st, why, sizeof why);
    if (rc == STORE_ECORRUPT)
        store_impl_set_err("%s; nothing is written to it: restore a backup or make a repaired copy with zoosh check --repair", why);
    return rc;
}
