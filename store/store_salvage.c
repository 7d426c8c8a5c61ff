/*
 * store_salvage.c - store_salvage (see store.h): every record of a
 * workspace that parses and agrees with the others, copied into a fresh
 * workspace; what is left behind is reported.
 *
 * The source is read in one read transaction (a snapshot: others may go on
 * writing).  The copy is written in chunks of SALVAGE_CHUNK records, one
 * store_write each (which grows the map and may re-run a chunk: a chunk
 * starts from the key saved before it and truncates the maps below to
 * their length before it, so a re-run does the same again).
 *
 * Galaxies go through store_galaxy_put, so their gids come out dense and
 * the id index is rebuilt; a map (old gid -> new gid, in key order)
 * translates the thumbnails, vectors, priors and answers that name them.
 * Answers go through store_impl_answer_copy, which keeps each writer's uid and
 * name (the foreign-record rule reads them): seqs come out dense from 1, and a
 * retraction names its target's new seq.  The magic is the new
 * workspace's own (its layout raised by the thumbnails that need it).
 * Queues and scores are left behind when a galaxy's number changed (they
 * list gids; zoosh train makes them again).
 */
#include "store/store.h"
#include "store/store_impl.h"

#include <errno.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SALVAGE_CHUNK 2048
#define SALVAGE_SHOWN 30      /* report lines of dropped records, then a count */

typedef struct { uint64_t from, to; } idmap;   /* sorted by from */

typedef struct {
    zs_txn *src;
    int db;
    unsigned char start[512];   /* the key to resume from */
    size_t start_len;
    int started;                /* 0: from the first key */
    unsigned char next[512];
    size_t next_len;
    int at_end;
    idmap *gid; size_t n_gid, cap_gid, n_gid0;
    idmap *seq; size_t n_seq, cap_seq, n_seq0;
    int renumbered;             /* a galaxy's gid changed */
    long kept, dropped, kept0, dropped0;
    char *rep; size_t rep_cap, rep_len;
    int shown, shown0;
    size_t rep_len0;
    store_answer *a;
} salvage;

static void dropped(salvage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dropped(salvage *s, const char *fmt, ...)
{
    s->dropped++;
    if (s->shown++ >= SALVAGE_SHOWN || !s->rep || s->rep_len + 2 >= s->rep_cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->rep + s->rep_len, s->rep_cap - s->rep_len, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    s->rep_len += (size_t)k;
    if (s->rep_len >= s->rep_cap - 1) s->rep_len = s->rep_cap - 2;
    s->rep[s->rep_len++] = '\n';
    s->rep[s->rep_len] = 0;
}

static int map_add(idmap **m, size_t *n, size_t *cap, uint64_t from, uint64_t to)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        idmap *p = realloc(*m, c * sizeof *p);
        if (!p) return ENOMEM;
        *m = p;
        *cap = c;
    }
    (*m)[(*n)++] = (idmap){from, to};
    return 0;
}

static uint64_t map_get(const idmap *m, size_t n, uint64_t from)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m[mid].from < from) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && m[lo].from == from ? m[lo].to : 0;
}

static int raw_put(zs_txn *t, int db, const void *k, size_t kl, const void *v, size_t vl)
{
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    return store_impl_txn_rc(t, mdb_put(t->t, D(t, db), &key, &val, 0), "mdb_put");
}

/* A "name '\0' gid" key (features, priors) with its gid replaced; 0 when it does not parse. */
static size_t regid_key(const MDB_val *k, uint32_t new_gid, unsigned char *out, size_t cap, uint32_t *old)
{
    const unsigned char *z = memchr(k->mv_data, 0, k->mv_size);
    if (!z || (size_t)(z - (const unsigned char *)k->mv_data) + 5 != k->mv_size || k->mv_size > cap) return 0;
    memcpy(out, k->mv_data, k->mv_size);
    *old = get_be32(z + 1);
    be32(out + k->mv_size - 4, new_gid);
    return k->mv_size;
}

static int one(salvage *s, zs_txn *dst, const MDB_val *k, const MDB_val *v)
{
    zs_txn *src = s->src;
    int kl = k->mv_size > 64 ? 64 : (int)k->mv_size;
    char shown[200];
    switch (s->db) {
    case DB_META: {
        if (k->mv_size == strlen(STORE_META_KEY) && memcmp(k->mv_data, STORE_META_KEY, k->mv_size) == 0) return 0;
        if (k->mv_size >= strlen(STORE_FEATSET_BUILDING) &&
            memcmp(k->mv_data, STORE_FEATSET_BUILDING, strlen(STORE_FEATSET_BUILDING)) == 0)
            return 0;   /* its set is left behind with it (featsets) */
        s->kept++;
        return raw_put(dst, DB_META, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
    }
    case DB_GALAXIES: {
        uint32_t gid = k->mv_size == 4 ? get_be32(k->mv_data) : 0;
        store_galaxy g;
        if (!gid || store_impl_galaxy_decode(v, gid, &g)) { dropped(s, "galaxies: record of gid %u does not parse", gid); return 0; }
        uint32_t ng = 0;
        int created = 0, rc = store_galaxy_put(dst, &g, &ng, &created);
        if (rc == 0 && !created) {
            store_impl_show_bytes(shown, sizeof shown, g.id_str, strlen(g.id_str));
            dropped(s, "galaxies: gid %u repeats id '%s' (kept as gid %u)", gid, shown, ng);
        } else if (rc == 0) {
            s->kept++;
        }
        store_galaxy_free(&g);
        if (rc) return rc;
        if (ng != gid) s->renumbered = 1;
        return map_add(&s->gid, &s->n_gid, &s->cap_gid, gid, ng);
    }
    case DB_THUMBS: {
        uint32_t gid = k->mv_size == 4 ? get_be32(k->mv_data) : 0, ng = map_get(s->gid, s->n_gid, gid);
        store_thumb th;
        if (!ng || store_impl_thumb_parse(v, &th)) { dropped(s, "thumbs: thumbnail of gid %u (%s)", gid, ng ? "does not parse" : "no such galaxy"); return 0; }
        s->kept++;
        return store_thumb_put_coded(dst, ng, th.codec, th.w, th.h, th.bytes, th.len);
    }
    case DB_FEATSETS: {
        char name[STORE_FEATNAME_MAX];
        if (k->mv_size == 0 || k->mv_size >= sizeof name || memchr(k->mv_data, 0, k->mv_size)) { dropped(s, "featsets: a key of %zu bytes", k->mv_size); return 0; }
        memcpy(name, k->mv_data, k->mv_size);
        name[k->mv_size] = 0;
        if (store_impl_featset_decode(v, NULL, NULL)) { dropped(s, "featsets: set '%.*s' does not parse", kl, name); return 0; }
        if (store_featset_incomplete(src, name)) { dropped(s, "featsets: set '%s' is incomplete (with its vectors)", name); return 0; }
        s->kept++;
        return raw_put(dst, DB_FEATSETS, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
    }
    case DB_FEATURES: case DB_PRIORS: {
        unsigned char nk[STORE_FEATNAME_MAX + 512];
        uint32_t old = 0;
        size_t nl = regid_key(k, 0, nk, sizeof nk, &old);
        uint32_t ng = nl ? map_get(s->gid, s->n_gid, old) : 0;
        const char *what = s->db == DB_FEATURES ? "features" : "priors";
        if (!ng) { if (s->db == DB_PRIORS || nl) dropped(s, "%s: a value of gid %u, which is not a galaxy", what, old); else dropped(s, "features: a key of %zu bytes", k->mv_size); return 0; }
        be32(nk + nl - 4, ng);
        if (s->db == DB_FEATURES) {
            int dim = 0;
            MDB_val sk = {nl - 5, nk}, sv;
            if (mdb_get(dst->t, D(dst, DB_FEATSETS), &sk, &sv) || store_impl_featset_decode(&sv, &dim, NULL)) {
                s->dropped++;   /* the vectors of a set left behind: counted, said once with the set */
                return 0;
            }
            if (v->mv_size != (size_t)dim * sizeof(float)) { dropped(s, "features: vector %s/%u of %zu bytes, not %d floats", (char *)nk, old, v->mv_size, dim); return 0; }
        } else if (v->mv_size != sizeof(double)) {
            dropped(s, "priors: %s/%u of %zu bytes", (char *)nk, old, v->mv_size);
            return 0;
        }
        s->kept++;
        return raw_put(dst, s->db, nk, nl, v->mv_data, v->mv_size);
    }
    case DB_ANSWERS: {
        if (k->mv_size != 8) { dropped(s, "answers: a key of %zu bytes", k->mv_size); return 0; }
        uint64_t seq = get_be64(k->mv_data);
        store_answer *a = s->a;
        if (seq == 0 || seq > store_answer_last_seq(src)) {
            dropped(s, "answers: key %016llx, beyond any seq zoosh hands out", (unsigned long long)seq);
            return 0;
        }
        if (store_impl_answer_decode(v, seq, a)) { dropped(s, "answers: answer %llu does not parse", (unsigned long long)seq); return 0; }
        uint32_t ng = map_get(s->gid, s->n_gid, a->gid);
        if (!ng) { dropped(s, "answers: answer %llu is about gid %u, which is not a galaxy", (unsigned long long)seq, a->gid); return 0; }
        if (a->kind == STORE_ANS_RETRACT) {
            uint64_t t = map_get(s->seq, s->n_seq, a->retracts);
            if (!t) { dropped(s, "answers: answer %llu retracts %llu, which is not an earlier answer kept", (unsigned long long)seq, (unsigned long long)a->retracts); return 0; }
            a->retracts = t;
        }
        a->gid = ng;
        uint64_t ns = 0;
        int rc = store_impl_answer_copy(dst, a, &ns);
        if (rc == STORE_EINVAL) { dropped(s, "answers: answer %llu has fields no zoosh writes", (unsigned long long)seq); return 0; }
        if (rc) return rc;
        s->kept++;
        return map_add(&s->seq, &s->n_seq, &s->cap_seq, seq, ns);
    }
    case DB_SCORES:
        if (s->renumbered) { s->dropped++; return 0; }
        /* fall through */
    default:
        s->kept++;
        return raw_put(dst, s->db, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
    }
}

static int chunk(zs_txn *dst, void *arg)
{
    salvage *s = arg;
    s->n_gid = s->n_gid0;      /* a re-run starts as the first run did */
    s->n_seq = s->n_seq0;
    s->kept = s->kept0;
    s->dropped = s->dropped0;
    s->shown = s->shown0;
    s->rep_len = s->rep_len0;
    if (s->rep && s->rep_cap) s->rep[s->rep_len] = 0;
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(s->src->t, D(s->src, s->db), &c), "mdb_cursor_open");
    if (rc) return rc;
    MDB_val k = {s->start_len, s->start}, v;
    int r = s->started ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    int n = 0;
    for (; r == 0 && n < SALVAGE_CHUNK && rc == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT), n++) rc = one(s, dst, &k, &v);
    s->at_end = r != 0;
    if (r == 0) {
        if (k.mv_size > sizeof s->next) { rc = STORE_ECORRUPT; store_impl_set_err("a key of %zu bytes", k.mv_size); }
        else { memcpy(s->next, k.mv_data, k.mv_size); s->next_len = k.mv_size; }
    } else if (r != MDB_NOTFOUND && !rc) {
        rc = store_impl_lmdb_rc(r, "walk");
    }
    mdb_cursor_close(c);
    return rc;
}

int store_salvage(zs_store *st, const char *dest_dir, char *rep, size_t rep_len, long *kept, long *n_dropped)
{
    static const int order[] = {DB_META, DB_GALAXIES, DB_THUMBS, DB_FEATSETS, DB_FEATURES, DB_PRIORS,
                                DB_ANSWERS, DB_SCORES, DB_MODELS};
    if (rep && rep_len) rep[0] = 0;
    *kept = *n_dropped = 0;
    if (!st || !dest_dir) return STORE_EINVAL;
    zs_store *dst = NULL;
    int rc = store_open(&dst, dest_dir, STORE_CREATE | STORE_NOSYNC);
    if (rc) return rc;
    salvage s = {0};
    s.rep = rep;
    s.rep_cap = rep ? rep_len : 0;
    s.a = malloc(sizeof *s.a);
    if (!s.a) rc = ENOMEM;
    if (!rc) rc = store_read_begin(st, &s.src);
    for (size_t i = 0; !rc && i < sizeof order / sizeof order[0]; i++) {
        s.db = order[i];
        s.started = 0;
        s.at_end = 0;
        long before = s.dropped;
        while (!rc && !s.at_end) {
            s.n_gid0 = s.n_gid; s.n_seq0 = s.n_seq;
            s.kept0 = s.kept; s.dropped0 = s.dropped; s.shown0 = s.shown; s.rep_len0 = s.rep_len;
            rc = store_write(dst, chunk, &s);
            if (!rc && !s.at_end) { memcpy(s.start, s.next, s.next_len); s.start_len = s.next_len; s.started = 1; }
        }
        if (!rc && s.db == DB_SCORES && s.renumbered && s.dropped > before)
            dropped(&s, "scores: %ld queues and scores (galaxy numbers changed; zoosh train makes them again)",
                    s.dropped - before), s.dropped--;
    }
    store_read_end(s.src);
    if (!rc) rc = store_sync(dst);
    store_close(dst);
    if (rc) {   /* no half copy that looks like a workspace */
        char p[STORE_PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/data.mdb", dest_dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/lock.mdb", dest_dir);
        unlink(p);
    }
    free(s.a); free(s.gid); free(s.seq);
    *kept = s.kept;
    *n_dropped = s.dropped;
    return rc;
}
