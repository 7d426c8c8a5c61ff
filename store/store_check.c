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

static void check_galaxies(zs_txn *txn, report *rp)
{
    MDB_cursor *c;
    MDB_val k, v;
    int r;
    if (mdb_cursor_open(txn->t, D(txn, DB_GALAXIES), &c)) { problem(rp, "galaxies: cannot open a cursor"); return; }
    uint32_t expect = 1;
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4) { problem(rp, "galaxies: key of %zu bytes", k.mv_size); continue; }
        uint32_t gid = get_be32(k.mv_data);
        if (gid != expect) problem(rp, "galaxies: gid %u follows %u (gids should be dense)", gid, expect - 1);
        expect = gid + 1;
        store_galaxy g;
        if (store_impl_galaxy_decode(&v, gid, &g)) { problem(rp, "galaxies: record of gid %u does not parse", gid); continue; }
        uint32_t idx;
        int rc = store_galaxy_find(txn, g.id_str, &idx);
        if (rc) problem(rp, "ids: galaxy %u '%s' missing from the id index", gid, g.id_str);
        else if (idx != gid) problem(rp, "ids: '%s' points to gid %u, the galaxy record is gid %u", g.id_str, idx, gid);
        store_galaxy_free(&g);
    }
    if (r != MDB_NOTFOUND) problem(rp, "galaxies: walk stopped: %s", mdb_strerror(r));
    mdb_cursor_close(c);

    if (mdb_cursor_open(txn->t, D(txn, DB_IDS), &c)) { problem(rp, "ids: cannot open a cursor"); return; }
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        int kl = k.mv_size > 200 ? 200 : (int)k.mv_size;
        if (v.mv_size != 4) { problem(rp, "ids: entry '%.*s' is %zu bytes", kl, (char *)k.mv_data, v.mv_size); continue; }
        uint32_t gid = get_be32(v.mv_data);
        store_galaxy g;
        int rc = store_galaxy_get(txn, gid, &g);
        if (rc) { problem(rp, "ids: '%.*s' points to gid %u, which %s", kl, (char *)k.mv_data, gid,
                          rc == STORE_ENOTFOUND ? "does not exist" : "does not parse"); continue; }
        if (strlen(g.id_str) != k.mv_size || memcmp(g.id_str, k.mv_data, k.mv_size) != 0)
            problem(rp, "ids: '%.*s' points to gid %u whose id is '%s'", kl, (char *)k.mv_data, gid, g.id_str);
        store_galaxy_free(&g);
    }
    if (r != MDB_NOTFOUND) problem(rp, "ids: walk stopped: %s", mdb_strerror(r));
    mdb_cursor_close(c);
}

static void check_thumbs(zs_txn *txn, report *rp)
{
    MDB_cursor *c;
    MDB_val k, v;
    int r;
    int layout = store_layout(txn);
    if (mdb_cursor_open(txn->t, D(txn, DB_THUMBS), &c)) { problem(rp, "thumbs: cannot open a cursor"); return; }
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4) { problem(rp, "thumbs: key of %zu bytes", k.mv_size); continue; }
        uint32_t gid = get_be32(k.mv_data);
        store_thumb th;
        if (store_impl_thumb_parse(&v, &th)) problem(rp, "thumbs: thumbnail of gid %u does not parse", gid);
        else if (th.codec != STORE_THUMB_RAW && layout < 2)
            problem(rp, "thumbs: thumbnail of gid %u is coded (%d) but the workspace says layout %d", gid, th.codec, layout);
        if (!store_impl_gid_exists(txn, gid)) problem(rp, "thumbs: thumbnail of gid %u, which does not exist", gid);
    }
    if (r != MDB_NOTFOUND) problem(rp, "thumbs: walk stopped: %s", mdb_strerror(r));
    mdb_cursor_close(c);
}

static void check_features(zs_txn *txn, report *rp)
{
    MDB_cursor *c;
    MDB_val k, v;
    int r;
    if (mdb_cursor_open(txn->t, D(txn, DB_FEATSETS), &c)) { problem(rp, "featsets: cannot open a cursor"); return; }
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if (store_impl_featset_decode(&v, NULL, NULL))
            problem(rp, "featsets: set '%.*s' does not parse", k.mv_size > 64 ? 64 : (int)k.mv_size, (char *)k.mv_data);
    mdb_cursor_close(c);

    if (mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c)) { problem(rp, "features: cannot open a cursor"); return; }
    char cur[STORE_FEATNAME_MAX] = "";
    int cur_dim = -1;
    long bad_in_set = 0;
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const unsigned char *kp = k.mv_data;
        const unsigned char *z = memchr(kp, 0, k.mv_size);
        if (!z || (size_t)(z - kp) + 5 != k.mv_size || z == kp || (size_t)(z - kp) >= STORE_FEATNAME_MAX) {
            problem(rp, "features: key of %zu bytes does not parse", k.mv_size);
            continue;
        }
        uint32_t gid = get_be32(z + 1);
        if (strcmp(cur, (const char *)kp) != 0) {
            if (bad_in_set > 3) problem(rp, "features: ... %ld more problems in set '%s'", bad_in_set - 3, cur);
            snprintf(cur, sizeof cur, "%s", (const char *)kp);
            bad_in_set = 0;
            if (store_featset_get(txn, cur, &cur_dim, NULL)) {
                cur_dim = -1;
                problem(rp, "features: vectors of set '%s', which is not recorded in featsets", cur);
            }
        }
        int bad = 0;
        if (cur_dim > 0 && v.mv_size != (size_t)cur_dim * sizeof(float)) bad = 1;
        if (!store_impl_gid_exists(txn, gid)) bad = 2;
        if (bad && ++bad_in_set <= 3) {
            if (bad == 1) problem(rp, "features: vector %s/%u has %zu floats, the set has dimension %d",
                                  cur, gid, v.mv_size / sizeof(float), cur_dim);
            else problem(rp, "features: vector %s/%u of a galaxy that does not exist", cur, gid);
        }
    }
    if (bad_in_set > 3) problem(rp, "features: ... %ld more problems in set '%s'", bad_in_set - 3, cur);
    if (r != MDB_NOTFOUND) problem(rp, "features: walk stopped: %s", mdb_strerror(r));
    mdb_cursor_close(c);
}

static void check_priors(zs_txn *txn, report *rp)
{
    MDB_cursor *c;
    MDB_val k, v;
    int r;
    long bad = 0;
    if (mdb_cursor_open(txn->t, D(txn, DB_PRIORS), &c)) { problem(rp, "priors: cannot open a cursor"); return; }
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const unsigned char *kp = k.mv_data;
        const unsigned char *z = memchr(kp, 0, k.mv_size);
        if (!z || (size_t)(z - kp) + 5 != k.mv_size) {
            if (++bad <= 5) problem(rp, "priors: key of %zu bytes does not parse", k.mv_size);
            continue;
        }
        uint32_t gid = get_be32(z + 1);
        if (v.mv_size != sizeof(double)) {
            if (++bad <= 5) problem(rp, "priors: %s/%u has %zu bytes", (const char *)kp, gid, v.mv_size);
            continue;
        }
        if (!store_impl_gid_exists(txn, gid) && ++bad <= 5)
            problem(rp, "priors: %s/%u of a galaxy that does not exist", (const char *)kp, gid);
    }
    if (bad > 5) problem(rp, "priors: ... %ld more problems", bad - 5);
    if (r != MDB_NOTFOUND) problem(rp, "priors: walk stopped: %s", mdb_strerror(r));
    mdb_cursor_close(c);
}

static void check_answers(zs_txn *txn, report *rp)
{
    MDB_cursor *c;
    MDB_val k, v;
    int r;
    if (mdb_cursor_open(txn->t, D(txn, DB_ANSWERS), &c)) { problem(rp, "answers: cannot open a cursor"); return; }
    store_answer *a = malloc(sizeof *a);
    if (!a) { mdb_cursor_close(c); problem(rp, "answers: out of memory"); return; }
    uint64_t prev = 0;
    long bad = 0;
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) { problem(rp, "answers: key of %zu bytes", k.mv_size); continue; }
        uint64_t seq = get_be64(k.mv_data);
        if (seq != prev + 1 && ++bad <= 20)
            problem(rp, "answers: seq %llu follows %llu (gap in the log)", (unsigned long long)seq, (unsigned long long)prev);
        prev = seq;
        if (store_impl_answer_decode(&v, seq, a)) {
            if (++bad <= 20) problem(rp, "answers: answer %llu does not parse", (unsigned long long)seq);
            continue;
        }
        if (a->kind == STORE_ANS_RETRACT) {
            store_answer *t = malloc(sizeof *t);
            int rc = !t ? ENOMEM : a->retracts == 0 || a->retracts >= seq ? STORE_EINVAL : store_answer_get(txn, a->retracts, t);
            if (rc && ++bad <= 20)
                problem(rp, "answers: answer %llu retracts %llu, which %s", (unsigned long long)seq,
                        (unsigned long long)a->retracts, rc == STORE_EINVAL ? "is not earlier" : "does not exist");
            free(t);
        }
        if (a->kind == STORE_ANS_RATING && (a->rating < 0 || a->rating > 5) && ++bad <= 20)
            problem(rp, "answers: answer %llu has rating %d", (unsigned long long)seq, a->rating);
        if (!store_impl_gid_exists(txn, a->gid) && ++bad <= 20)
            problem(rp, "answers: answer %llu is about gid %u, which does not exist", (unsigned long long)seq, a->gid);
    }
    if (bad > 20) problem(rp, "answers: ... %ld more problems", bad - 20);
    if (r != MDB_NOTFOUND) problem(rp, "answers: walk stopped: %s", mdb_strerror(r));
    free(a);
    mdb_cursor_close(c);
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
    /* written as data.mdb.partial and renamed when whole: a backup killed
     * half-way leaves no data.mdb that looks like a workspace (and would
     * block the next try), only a partial file the next try overwrites */
    char part[STORE_PATH_MAX + 32];
    snprintf(part, sizeof part, "%s/data.mdb.partial", dest_dir);
    int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
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
