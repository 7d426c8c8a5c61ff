/*
 * store_records.c - the workspace's records (see store.h): their encodings
 * and the getters and putters of every database.  Transactions and the
 * environment are store.c's.
 * About 1,000 lines: every record's encoder sits beside its getter and
 * putter so a layout change is made in one place (with the layout version, store.h).
 *
 * One LMDB environment in the workspace directory with named databases:
 *   meta      string -> string       ("zoosh" = magic + layout version, settings)
 *   galaxies  gid (u32 BE) -> galaxy record
 *   ids       id_str -> gid (u32 BE)
 *   thumbs    gid (u32 BE) -> thumb record (header + RGB8 pixels, or v2:
 *             header with a codec tag + coded bytes, e.g. JPEG)
 *   featsets  name -> featset record (dim, provenance)
 *   features  name '\0' gid (u32 BE) -> float32[dim] (native byte order)
 *   priors    column '\0' gid (u32 BE) -> float64 (native byte order)
 *   answers   seq (u64 BE) -> answer record (append-only)
 *   scores    string -> bytes (opaque)
 *   models    string -> bytes (opaque)
 * Big-endian integer keys sort in numeric order with LMDB's default memcmp.
 *
 * Records start with a one-byte layout version (REC_V1); strings are a u16
 * little-endian length then bytes; integers little-endian.  Every decoder
 * checks every length against the value's size and the header's limits, so
 * a damaged record reads as STORE_ECORRUPT, never as a crash.  Thumbnails
 * have a second form (THUMB_V2, with a codec tag); the first one written
 * raises the workspace's layout version in the magic to 2 (need_layout), so
 * an older zoosh, which reads only REC_V1 thumbnails, refuses the workspace
 * as "written by a newer zoosh" rather than reporting damage.  Answers too
 * have a second form (ANSWER_V2: the writer's uid and a user name of any
 * length, where the first kept 31 bytes); the first one written raises the
 * layout to 3.  Both forms are read.
 */
#include "store/store.h"
#include "store/store_impl.h"

#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ encoding */

typedef struct { unsigned char *p; size_t n, cap; int oom; } wbuf;

static void wb_need(wbuf *b, size_t k)
{
    if (b->oom || b->n + k <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + k) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p; b->cap = cap;
}
static void wb_bytes(wbuf *b, const void *d, size_t k)
{
    wb_need(b, k);
    if (b->oom) return;
    if (k) memcpy(b->p + b->n, d, k);
    b->n += k;
}
static void wb_u8(wbuf *b, unsigned v) { unsigned char c = (unsigned char)v; wb_bytes(b, &c, 1); }
static void wb_u16(wbuf *b, unsigned v) { unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)}; wb_bytes(b, c, 2); }
static void wb_u32(wbuf *b, uint32_t v)
{
    unsigned char c[4];
    for (int i = 0; i < 4; i++) c[i] = (unsigned char)(v >> (8 * i));
    wb_bytes(b, c, 4);
}
static void wb_u64(wbuf *b, uint64_t v)
{
    unsigned char c[8];
    for (int i = 0; i < 8; i++) c[i] = (unsigned char)(v >> (8 * i));
    wb_bytes(b, c, 8);
}
static void wb_f64(wbuf *b, double d) { uint64_t v; memcpy(&v, &d, 8); wb_u64(b, v); }
static void wb_str(wbuf *b, const char *s)
{
    size_t k = s ? strlen(s) : 0;
    if (k > 65535) k = 65535;
    wb_u16(b, (unsigned)k);
    wb_bytes(b, s, k);
}

typedef struct { const unsigned char *p; size_t n, off; int bad; } rbuf;

static const unsigned char *rb_take(rbuf *r, size_t k)
{
    if (r->bad || r->n - r->off < k) { r->bad = 1; return NULL; }
    const unsigned char *q = r->p + r->off;
    r->off += k;
    return q;
}
static unsigned rb_u8(rbuf *r) { const unsigned char *q = rb_take(r, 1); return q ? q[0] : 0; }
static unsigned rb_u16(rbuf *r) { const unsigned char *q = rb_take(r, 2); return q ? (unsigned)(q[0] | q[1] << 8) : 0; }
static uint32_t rb_u32(rbuf *r)
{
    const unsigned char *q = rb_take(r, 4);
    uint32_t v = 0;
    if (q) for (int i = 0; i < 4; i++) v |= (uint32_t)q[i] << (8 * i);
    return v;
}
static uint64_t rb_u64(rbuf *r)
{
    const unsigned char *q = rb_take(r, 8);
    uint64_t v = 0;
    if (q) for (int i = 0; i < 8; i++) v |= (uint64_t)q[i] << (8 * i);
    return v;
}
static double rb_f64(rbuf *r) { uint64_t v = rb_u64(r); double d; memcpy(&d, &v, 8); return d; }
/* A string into a fixed buffer of size cap (must fit with its NUL). */
static void rb_strbuf(rbuf *r, char *out, size_t cap)
{
    size_t k = rb_u16(r);
    const unsigned char *q = rb_take(r, k);
    if (!q || k >= cap || memchr(q, 0, k)) { r->bad = 1; if (cap) out[0] = 0; return; }
    memcpy(out, q, k);
    out[k] = 0;
}
/* A malloc'ed string (NULL on error or OOM: r->bad set). */
static char *rb_strdup(rbuf *r, size_t max)
{
    size_t k = rb_u16(r);
    const unsigned char *q = rb_take(r, k);
    if (!q || k > max || memchr(q, 0, k)) { r->bad = 1; return NULL; }
    char *s = malloc(k + 1);
    if (!s) { r->bad = 1; return NULL; }
    memcpy(s, q, k);
    s[k] = 0;
    return s;
}

#define NEED_WRITE(txn) do { if (!(txn) || !(txn)->write) { store_impl_set_err("write in a read transaction"); \
    return (txn) && (txn)->st->readonly ? STORE_EREADONLY : STORE_EINVAL; } } while (0)

static int put(zs_txn *txn, int db, const void *k, size_t kl, const void *v, size_t vl, unsigned fl)
{
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    return store_impl_txn_rc(txn, mdb_put(txn->t, D(txn, db), &key, &val, fl), "mdb_put");
}

static int get(zs_txn *txn, int db, const void *k, size_t kl, MDB_val *v)
{
    MDB_val key = {kl, (void *)k};
    return store_impl_lmdb_rc(mdb_get(txn->t, D(txn, db), &key, v), "mdb_get");
}

/* get() of a database keyed by a big-endian integer of kl (4 or 8) bytes. */
static int get_id(zs_txn *txn, int db, uint64_t id, size_t kl, MDB_val *v)
{
    unsigned char k[8];
    if (kl == 4) be32(k, (uint32_t)id);
    else be64(k, id);
    return get(txn, db, k, kl, v);
}

/* The last key of a database keyed by a big-endian integer of kl bytes (0 when empty). */
static uint64_t last_id(zs_txn *txn, int db, size_t kl)
{
    if (!txn) return 0;
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, db), &c)) return 0;
    MDB_val k, v;
    uint64_t m = 0;
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == kl) m = kl == 4 ? get_be32(k.mv_data) : get_be64(k.mv_data);
    mdb_cursor_close(c);
    return m;
}

static uint32_t entries(zs_txn *txn, int db)
{
    if (!txn) return 0;
    MDB_stat s;
    if (mdb_stat(txn->t, D(txn, db), &s)) return 0;
    return (uint32_t)s.ms_entries;
}

/* Keys "name '\0' gid (u32 BE)" (features, priors): k holds at least
 * strlen(name) + 5 bytes; returns the key's length. */
static size_t setkey(unsigned char *k, const char *name, uint32_t gid)
{
    size_t n = strlen(name);
    memcpy(k, name, n);
    k[n] = 0;
    be32(k + n + 1, gid);
    return n + 5;
}

/* Is key one of the set whose setkey() is k (kl bytes)? */
static int in_set(const MDB_val *key, const unsigned char *k, size_t kl)
{
    return key->mv_size == kl && memcmp(key->mv_data, k, kl - 4) == 0;
}

/* Appends a malloc'ed copy of p[0..len) to the growing array *out (cnt used, cap allocated). */
static int names_push(char ***out, int *cnt, int *cap, const void *p, size_t len)
{
    if (*cnt == *cap) {
        int c2 = *cap ? *cap * 2 : 16;
        char **o2 = realloc(*out, (size_t)c2 * sizeof **out);
        if (!o2) return ENOMEM;
        *out = o2;
        *cap = c2;
    }
    char *s = malloc(len + 1);
    if (!s) return ENOMEM;
    memcpy(s, p, len);
    s[len] = 0;
    (*out)[(*cnt)++] = s;
    return 0;
}

static void names_free(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ------------------------------------------------------------ meta */

int store_meta_put(zs_txn *txn, const char *key, const char *val)
{
    NEED_WRITE(txn);
    if (!key || !*key || !val || strlen(key) > 500) return STORE_EINVAL;
    if (strcmp(key, STORE_META_KEY) == 0) return STORE_EINVAL;   /* the magic is ours */
    return put(txn, DB_META, key, strlen(key), val, strlen(val), 0);
}

int store_meta_get(zs_txn *txn, const char *key, char **val)
{
    *val = NULL;
    if (!txn || !key || !*key || strlen(key) > 500) return STORE_EINVAL;
    MDB_val v;
    int rc = get(txn, DB_META, key, strlen(key), &v);
    if (rc) return rc;
    char *s = malloc(v.mv_size + 1);
    if (!s) return ENOMEM;
    memcpy(s, v.mv_data, v.mv_size);
    s[v.mv_size] = 0;
    *val = s;
    return 0;
}

/* ------------------------------------------------------------ galaxies */

int store_impl_gid_exists(zs_txn *txn, uint32_t gid)
{
    unsigned char k[4];
    be32(k, gid);
    MDB_val key = {4, k}, v;
    return mdb_get(txn->t, D(txn, DB_GALAXIES), &key, &v) == 0;
}

static int galaxy_encode(wbuf *b, const store_galaxy *g)
{
    wb_u8(b, REC_V1);
    wb_str(b, g->id_str);
    wb_str(b, g->file ? g->file : "");
    wb_f64(b, g->ra);
    wb_f64(b, g->dec);
    wb_u16(b, (unsigned)g->n_meta);
    for (int i = 0; i < g->n_meta; i++) {
        wb_str(b, g->meta_key[i]);
        wb_str(b, g->meta_val[i] ? g->meta_val[i] : "");
    }
    return b->oom ? ENOMEM : 0;
}

/* Decodes into g (malloc'ed parts); STORE_ECORRUPT when it does not parse. */
int store_impl_galaxy_decode(const MDB_val *v, uint32_t gid, store_galaxy *g)
{
    memset(g, 0, sizeof *g);
    rbuf r = {v->mv_data, v->mv_size, 0, 0};
    if (rb_u8(&r) != REC_V1) { store_impl_set_err("galaxy %u: unknown record version", gid); return STORE_ECORRUPT; }
    g->gid = gid;
    g->id_str = rb_strdup(&r, STORE_ID_MAX);
    g->file = rb_strdup(&r, STORE_PATH_MAX);
    g->ra = rb_f64(&r);
    g->dec = rb_f64(&r);
    int n = (int)rb_u16(&r);
    if (!r.bad && n > 0) {
        if ((size_t)n * 4 > r.n - r.off) r.bad = 1;     /* each pair takes at least 4 bytes */
        else {
            g->meta_key = calloc((size_t)n, sizeof(char *));
            g->meta_val = calloc((size_t)n, sizeof(char *));
            if (!g->meta_key || !g->meta_val) r.bad = 1;
            for (int i = 0; i < n && !r.bad; i++) {
                g->meta_key[i] = rb_strdup(&r, 65535);
                g->meta_val[i] = rb_strdup(&r, 65535);
                g->n_meta = i + 1;
            }
        }
    }
    if (!r.bad && r.off != r.n) r.bad = 1;
    if (r.bad || !g->id_str || !*g->id_str) {
        store_galaxy_free(g);
        store_impl_set_err("galaxy %u: record does not parse", gid);
        return STORE_ECORRUPT;
    }
    return 0;
}

void store_galaxy_free(store_galaxy *g)
{
    if (!g) return;
    free(g->id_str);
    free(g->file);
    for (int i = 0; i < g->n_meta; i++) {
        if (g->meta_key) free(g->meta_key[i]);
        if (g->meta_val) free(g->meta_val[i]);
    }
    free(g->meta_key);
    free(g->meta_val);
    memset(g, 0, sizeof *g);
}

uint32_t store_galaxy_max(zs_txn *txn)
{
    return (uint32_t)last_id(txn, DB_GALAXIES, 4);
}

uint32_t store_galaxy_count(zs_txn *txn)
{
    return entries(txn, DB_GALAXIES);
}

int store_galaxy_find(zs_txn *txn, const char *id_str, uint32_t *gid)
{
    *gid = 0;
    if (!txn || !id_str || !*id_str || strlen(id_str) > STORE_ID_MAX) return STORE_EINVAL;
    MDB_val v;
    int rc = get(txn, DB_IDS, id_str, strlen(id_str), &v);
    if (rc) return rc;
    if (v.mv_size != 4) { store_impl_set_err("id index entry for '%s' is %zu bytes", id_str, v.mv_size); return STORE_ECORRUPT; }
    *gid = get_be32(v.mv_data);
    return 0;
}

int store_galaxy_put(zs_txn *txn, const store_galaxy *g, uint32_t *gid_out, int *created)
{
    if (gid_out) *gid_out = 0;
    if (created) *created = 0;
    NEED_WRITE(txn);
    if (!g || !g->id_str || !*g->id_str || strlen(g->id_str) > STORE_ID_MAX) return STORE_EINVAL;
    if (g->file && strlen(g->file) > STORE_PATH_MAX) return STORE_EINVAL;
    if (g->n_meta < 0 || g->n_meta > 65535 || (g->n_meta && (!g->meta_key || !g->meta_val))) return STORE_EINVAL;
    for (int i = 0; i < g->n_meta; i++)
        if (!g->meta_key[i] || strlen(g->meta_key[i]) > 65535 || (g->meta_val[i] && strlen(g->meta_val[i]) > 65535))
            return STORE_EINVAL;
    uint32_t gid;
    int isnew = 0;
    int rc = store_galaxy_find(txn, g->id_str, &gid);
    if (rc == STORE_ENOTFOUND) {
        gid = store_galaxy_max(txn) + 1;
        if (gid == 0) return STORE_EINVAL;
        isnew = 1;
        rc = 0;
    }
    if (rc) return rc;
    wbuf b = {0};
    rc = galaxy_encode(&b, g);
    if (rc) goto end;
    unsigned char k[4];
    be32(k, gid);
    rc = put(txn, DB_GALAXIES, k, 4, b.p, b.n, isnew ? MDB_APPEND : 0);
    if (rc) goto end;
    if (isnew) rc = put(txn, DB_IDS, g->id_str, strlen(g->id_str), k, 4, 0);
    if (rc) goto end;
    if (gid_out) *gid_out = gid;
    if (created) *created = isnew;
end:
    free(b.p);
    return rc;
}

int store_galaxy_get(zs_txn *txn, uint32_t gid, store_galaxy *g)
{
    memset(g, 0, sizeof *g);
    if (!txn || gid == 0) return STORE_EINVAL;
    MDB_val v;
    int rc = get_id(txn, DB_GALAXIES, gid, 4, &v);
    if (rc) return rc;
    return store_impl_galaxy_decode(&v, gid, g);
}

/* ------------------------------------------------------------ thumbnails */

#define THUMB_HDR    5   /* v1: version u8 (REC_V1), w u16, h u16, then w*h*3 RGB8 */
#define THUMB_V2     2
#define THUMB_HDR2   6   /* v2: version u8 (THUMB_V2), codec u8, w u16, h u16, then the bytes */

int store_layout(zs_txn *txn)
{
    if (!txn) return 0;
    MDB_val v;
    if (get(txn, DB_META, STORE_META_KEY, strlen(STORE_META_KEY), &v)) return 0;
    long ver = store_impl_magic_layout(&v);
    return ver > 0 && ver < 1000000 ? (int)ver : 0;
}

/* Raises the workspace's recorded layout to at least `ver` inside this
 * write transaction (once per transaction; committed or rolled back with
 * the records that need it). */
static int need_layout(zs_txn *txn, int ver)
{
    if (txn->layout >= ver) return 0;
    int have = store_layout(txn);
    if (have <= 0) { store_impl_set_err("the zoosh magic does not parse"); return STORE_ECORRUPT; }
    if (have < ver) {
        char val[64];
        int n = snprintf(val, sizeof val, "%s %d", STORE_MAGIC, ver);
        int r = put(txn, DB_META, STORE_META_KEY, strlen(STORE_META_KEY), val, (size_t)n, 0);
        if (r) return r;
        have = ver;
    }
    txn->layout = have;
    return 0;
}

static int thumb_put(zs_txn *txn, uint32_t gid, int codec, int w, int h, const void *bytes, size_t len)
{
    NEED_WRITE(txn);
    if (gid == 0 || w <= 0 || h <= 0 || w > 65535 || h > 65535 || !bytes || len == 0 ||
        codec < 0 || codec >= STORE_THUMB_NCODECS || len > ((size_t)1 << 30))
        return STORE_EINVAL;
    if (codec == STORE_THUMB_RAW && len != (size_t)w * (size_t)h * 3) return STORE_EINVAL;
    int rc;
    /* raw stays in the v1 form any zoosh reads */
    size_t hdr = codec == STORE_THUMB_RAW ? THUMB_HDR : THUMB_HDR2;
    if (codec != STORE_THUMB_RAW && (rc = need_layout(txn, 2))) return rc;
    unsigned char k[4];
    be32(k, gid);
    MDB_val key = {4, k}, val = {hdr + len, NULL};
    int r = mdb_put(txn->t, D(txn, DB_THUMBS), &key, &val, MDB_RESERVE);
    if (r) return store_impl_txn_rc(txn, r, "mdb_put thumb");
    unsigned char *p = val.mv_data;
    if (codec == STORE_THUMB_RAW) {
        *p++ = REC_V1;
    } else {
        *p++ = THUMB_V2;
        *p++ = (unsigned char)codec;
    }
    p[0] = (unsigned char)w; p[1] = (unsigned char)(w >> 8);
    p[2] = (unsigned char)h; p[3] = (unsigned char)(h >> 8);
    memcpy(p + 4, bytes, len);
    return 0;
}

int store_thumb_put(zs_txn *txn, uint32_t gid, int w, int h, const uint8_t *rgb)
{
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535) return STORE_EINVAL;
    return thumb_put(txn, gid, STORE_THUMB_RAW, w, h, rgb, (size_t)w * (size_t)h * 3);
}

int store_thumb_put_coded(zs_txn *txn, uint32_t gid, int codec, int w, int h, const void *bytes, size_t len)
{
    return thumb_put(txn, gid, codec, w, h, bytes, len);
}

/* out may be NULL (check). */
int store_impl_thumb_parse(const MDB_val *v, store_thumb *out)
{
    const unsigned char *p = v->mv_data;
    store_thumb t = {0};
    if (v->mv_size < 1) return STORE_ECORRUPT;
    if (p[0] == REC_V1) {
        if (v->mv_size < THUMB_HDR) return STORE_ECORRUPT;
        t.codec = STORE_THUMB_RAW;
        t.w = p[1] | p[2] << 8;
        t.h = p[3] | p[4] << 8;
        t.bytes = p + THUMB_HDR;
        t.len = v->mv_size - THUMB_HDR;
    } else if (p[0] == THUMB_V2) {
        if (v->mv_size <= THUMB_HDR2 || p[1] >= STORE_THUMB_NCODECS) return STORE_ECORRUPT;
        t.codec = p[1];
        t.w = p[2] | p[3] << 8;
        t.h = p[4] | p[5] << 8;
        t.bytes = p + THUMB_HDR2;
        t.len = v->mv_size - THUMB_HDR2;
    } else
        return STORE_ECORRUPT;
    if (t.w <= 0 || t.h <= 0) return STORE_ECORRUPT;
    if (t.codec == STORE_THUMB_RAW && t.len != (size_t)t.w * (size_t)t.h * 3) return STORE_ECORRUPT;
    if (out) *out = t;
    return 0;
}

int store_thumb_get(zs_txn *txn, uint32_t gid, store_thumb *out)
{
    memset(out, 0, sizeof *out);
    if (!txn || gid == 0) return STORE_EINVAL;
    MDB_val v;
    int rc = get_id(txn, DB_THUMBS, gid, 4, &v);
    if (rc) return rc;
    rc = store_impl_thumb_parse(&v, out);
    if (rc) store_impl_set_err("thumbnail of galaxy %u does not parse", gid);
    return rc;
}

uint32_t store_thumb_count(zs_txn *txn)
{
    return entries(txn, DB_THUMBS);
}

/* ------------------------------------------------------------ features */

static int featname_ok(const char *name)
{
    return name && *name && strlen(name) < STORE_FEATNAME_MAX;
}

int store_impl_featset_decode(const MDB_val *v, int *dim, char **prov)
{
    rbuf r = {v->mv_data, v->mv_size, 0, 0};
    if (prov) *prov = NULL;
    if (rb_u8(&r) != REC_V1) return STORE_ECORRUPT;
    uint32_t d = rb_u32(&r);
    char *p = rb_strdup(&r, 65535);
    if (r.bad || r.off != r.n || d == 0 || d > (1u << 24)) { free(p); return STORE_ECORRUPT; }
    if (dim) *dim = (int)d;
    if (prov) *prov = p; else free(p);
    return 0;
}

/* Does the set have any vectors? */
static int featset_has_vectors(zs_txn *txn, const char *name)
{
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = setkey(k, name, 0);
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c)) return 1;
    MDB_val key = {kl, k}, v;
    int has = 0;
    if (mdb_cursor_get(c, &key, &v, MDB_SET_RANGE) == 0 && in_set(&key, k, kl))
        has = 1;
    mdb_cursor_close(c);
    return has;
}

/* A set's record whether or not it is complete. */
static int featset_get_any(zs_txn *txn, const char *name, int *dim, char **provenance)
{
    if (dim) *dim = 0;
    if (provenance) *provenance = NULL;
    if (!txn || !featname_ok(name)) return STORE_EINVAL;
    MDB_val v;
    int rc = get(txn, DB_FEATSETS, name, strlen(name), &v);
    if (rc) return rc;
    rc = store_impl_featset_decode(&v, dim, provenance);
    if (rc) store_impl_set_err("feature set '%s' record does not parse", name);
    return rc;
}

/* The meta key that marks set `name` as still being written. */
static size_t building_key(char *k, const char *name)
{
    return (size_t)sprintf(k, "%s%s", STORE_FEATSET_BUILDING, name);
}

int store_featset_incomplete(zs_txn *txn, const char *name)
{
    char k[sizeof STORE_FEATSET_BUILDING + STORE_FEATNAME_MAX];
    MDB_val v;
    return txn && featname_ok(name) && get(txn, DB_META, k, building_key(k, name), &v) == 0;
}

int store_featset_begin(zs_txn *txn, const char *name, int dim, const char *provenance)
{
    int rc = store_featset_put(txn, name, dim, provenance);
    if (rc) return rc;
    char k[sizeof STORE_FEATSET_BUILDING + STORE_FEATNAME_MAX];
    return put(txn, DB_META, k, building_key(k, name), "1", 1, 0);
}

int store_featset_publish(zs_txn *txn, const char *name)
{
    NEED_WRITE(txn);
    if (!featname_ok(name)) return STORE_EINVAL;
    char k[sizeof STORE_FEATSET_BUILDING + STORE_FEATNAME_MAX];
    MDB_val key = {building_key(k, name), k};
    int r = mdb_del(txn->t, D(txn, DB_META), &key, NULL);
    return r == MDB_NOTFOUND ? 0 : store_impl_txn_rc(txn, r, "mdb_del featset marker");
}

int store_featset_put(zs_txn *txn, const char *name, int dim, const char *provenance)
{
    NEED_WRITE(txn);
    if (!featname_ok(name) || dim <= 0 || dim > (1 << 24)) return STORE_EINVAL;
    if (!store_name_ok(name, STORE_FEATNAME_MAX)) {
        store_impl_set_err("a feature set name has letters, digits and . _ - @ $ + only");
        return STORE_EINVAL;
    }
    int old;
    int rc = featset_get_any(txn, name, &old, NULL);
    if (rc == 0 && old != dim && featset_has_vectors(txn, name)) {
        store_impl_set_err("feature set '%s' has dimension %d, not %d", name, old, dim);
        return STORE_EDIM;
    }
    if (rc && rc != STORE_ENOTFOUND) return rc;
    wbuf b = {0};
    wb_u8(&b, REC_V1);
    wb_u32(&b, (uint32_t)dim);
    wb_str(&b, provenance ? provenance : "");
    rc = b.oom ? ENOMEM : put(txn, DB_FEATSETS, name, strlen(name), b.p, b.n, 0);
    free(b.p);
    return rc;
}

int store_featset_get(zs_txn *txn, const char *name, int *dim, char **provenance)
{
    int rc = featset_get_any(txn, name, dim, provenance);
    if (rc == 0 && store_featset_incomplete(txn, name)) {
        if (provenance) { free(*provenance); *provenance = NULL; }
        if (dim) *dim = 0;
        store_impl_set_err("feature set '%s' is incomplete (still being written, or its embed did not finish)", name);
        return STORE_ENOTFOUND;
    }
    return rc;
}

/* Lists every key of a database with string keys (malloc'ed array of malloc'ed strings). */
static int list_keys(zs_txn *txn, int db, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, db), &c), "mdb_cursor_open");
    if (rc) return rc;
    MDB_val k, v;
    int cap = 0, cnt = 0;
    char **out = NULL;
    int r;
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if ((rc = names_push(&out, &cnt, &cap, k.mv_data, k.mv_size)) != 0) break;
    if (!rc && r != MDB_NOTFOUND) rc = store_impl_lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) {
        names_free(out, cnt);
        return rc;
    }
    *names = out;
    *n = cnt;
    return 0;
}

int store_featset_del(zs_txn *txn, const char *name)
{
    NEED_WRITE(txn);
    if (!featname_ok(name)) return STORE_EINVAL;
    MDB_val key = {strlen(name), (void *)name};
    int r = mdb_del(txn->t, D(txn, DB_FEATSETS), &key, NULL);
    if (r) return store_impl_txn_rc(txn, r, "mdb_del featset");
    if ((r = store_featset_publish(txn, name)) != 0) return r;
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = setkey(k, name, 0);
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c), "mdb_cursor_open");
    if (rc) return rc;
    for (;;) {   /* seek afresh after each delete (no reliance on the cursor's state after a delete) */
        MDB_val ck = {kl, k}, v;
        r = mdb_cursor_get(c, &ck, &v, MDB_SET_RANGE);
        if (r) break;
        if (!in_set(&ck, k, kl)) break;
        if ((r = mdb_cursor_del(c, 0)) != 0) break;
    }
    mdb_cursor_close(c);
    if (r && r != MDB_NOTFOUND) return store_impl_txn_rc(txn, r, "mdb_cursor_del");
    return 0;
}

int store_featset_list(zs_txn *txn, char ***names, int *n)
{
    if (!txn) return STORE_EINVAL;
    int rc = list_keys(txn, DB_FEATSETS, names, n);
    int k = 0;
    for (int i = 0; !rc && i < *n; i++) {   /* incomplete sets are not listed */
        if (store_featset_incomplete(txn, (*names)[i])) free((*names)[i]);
        else (*names)[k++] = (*names)[i];
    }
    if (!rc) *n = k;
    return rc;
}

int store_feature_put(zs_txn *txn, const char *name, uint32_t gid, const float *v, int dim)
{
    NEED_WRITE(txn);
    if (!featname_ok(name) || gid == 0 || !v || dim <= 0) return STORE_EINVAL;
    int sdim;
    int rc = featset_get_any(txn, name, &sdim, NULL);
    if (rc) {
        if (rc == STORE_ENOTFOUND) store_impl_set_err("no feature set '%s' (store_featset_put first)", name);
        return rc;
    }
    if (sdim != dim) { store_impl_set_err("feature set '%s' has dimension %d, vector has %d", name, sdim, dim); return STORE_EDIM; }
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = setkey(k, name, gid);
    return put(txn, DB_FEATURES, k, kl, v, (size_t)dim * sizeof(float), 0);
}

int store_feature_get(zs_txn *txn, const char *name, uint32_t gid, const float **v, int *dim)
{
    *v = NULL;
    *dim = 0;
    if (!txn || !featname_ok(name) || gid == 0) return STORE_EINVAL;
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = setkey(k, name, gid);
    MDB_val val;
    int rc = get(txn, DB_FEATURES, k, kl, &val);
    if (rc) return rc;
    if (val.mv_size == 0 || val.mv_size % sizeof(float)) {
        store_impl_set_err("feature vector %s/%u has %zu bytes", name, gid, val.mv_size);
        return STORE_ECORRUPT;
    }
    *v = val.mv_data;
    *dim = (int)(val.mv_size / sizeof(float));
    return 0;
}

int store_feature_count(zs_txn *txn, const char *name, uint32_t *n)
{
    *n = 0;
    if (!txn || !featname_ok(name)) return STORE_EINVAL;
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = setkey(k, name, 0);
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c), "mdb_cursor_open");
    if (rc) return rc;
    MDB_val key = {kl, k}, v;
    uint32_t cnt = 0;
    int r;
    for (r = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (!in_set(&key, k, kl)) break;
        cnt++;
    }
    if (r != 0 && r != MDB_NOTFOUND) rc = store_impl_lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    *n = cnt;
    return rc;
}

int store_features_load(zs_txn *txn, const char *name, float **x, uint32_t **gids, int *n, int *dim)
{
    *x = NULL;
    *gids = NULL;
    *n = 0;
    *dim = 0;
    if (!txn || !featname_ok(name)) return STORE_EINVAL;
    int d;
    int rc = store_featset_get(txn, name, &d, NULL);
    if (rc) return rc;
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = setkey(k, name, 0);
    MDB_cursor *c;
    rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c), "mdb_cursor_open");
    if (rc) return rc;
    float *X = NULL;        /* (cap, d) */
    uint32_t *G = NULL;     /* (cap) */
    size_t cap = 0, cnt = 0;
    MDB_val key = {kl, k}, v;
    int r;
    for (r = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (!in_set(&key, k, kl)) break;
        if (v.mv_size != (size_t)d * sizeof(float)) {
            store_impl_set_err("feature vector %s/%u has %zu bytes, set dimension %d", name,
                               get_be32((unsigned char *)key.mv_data + kl - 4), v.mv_size, d);
            rc = STORE_ECORRUPT;
            break;
        }
        if (cnt == cap) {
            /* At most one vector per galaxy: size for that at once, so a
             * full set is copied once (realloc doubling copied it twice). */
            size_t hint = (size_t)store_galaxy_max(txn) + 1;
            cap = cap ? cap * 2 : (hint > 1024 ? hint : 1024);
            float *X2 = realloc(X, cap * (size_t)d * sizeof(float));
            if (!X2) { rc = ENOMEM; break; }
            X = X2;
            uint32_t *G2 = realloc(G, cap * sizeof(uint32_t));
            if (!G2) { rc = ENOMEM; break; }
            G = G2;
        }
        memcpy(X + cnt * (size_t)d, v.mv_data, v.mv_size);
        G[cnt] = get_be32((unsigned char *)key.mv_data + kl - 4);
        cnt++;
    }
    if (!rc && r != 0 && r != MDB_NOTFOUND) rc = store_impl_lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) { free(X); free(G); return rc; }
    if (cnt && cnt < cap / 2) {   /* a sparse set: give back what is not used */
        float *X2 = realloc(X, cnt * (size_t)d * sizeof(float));
        uint32_t *G2 = realloc(G, cnt * sizeof(uint32_t));
        if (X2) X = X2;
        if (G2) G = G2;
    }
    *x = X;
    *gids = G;
    *n = (int)cnt;
    *dim = d;
    return 0;
}

/* ------------------------------------------------------------ priors */

#define COLUMN_MAX 256

static int column_ok(const char *c) { return c && *c && strlen(c) <= COLUMN_MAX; }

int store_prior_put(zs_txn *txn, uint32_t gid, const char *column, double value)
{
    NEED_WRITE(txn);
    if (gid == 0 || !column_ok(column)) return STORE_EINVAL;
    unsigned char k[COLUMN_MAX + 8];
    size_t kl = setkey(k, column, gid);
    return put(txn, DB_PRIORS, k, kl, &value, sizeof value, 0);
}

int store_prior_get(zs_txn *txn, uint32_t gid, const char *column, double *value)
{
    *value = NAN;
    if (!txn || gid == 0 || !column_ok(column)) return STORE_EINVAL;
    unsigned char k[COLUMN_MAX + 8];
    size_t kl = setkey(k, column, gid);
    MDB_val v;
    int rc = get(txn, DB_PRIORS, k, kl, &v);
    if (rc) return rc;
    if (v.mv_size != sizeof(double)) { store_impl_set_err("prior %s/%u has %zu bytes", column, gid, v.mv_size); return STORE_ECORRUPT; }
    memcpy(value, v.mv_data, sizeof(double));
    return 0;
}

int store_prior_columns(zs_txn *txn, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    if (!txn) return STORE_EINVAL;
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_PRIORS), &c), "mdb_cursor_open");
    if (rc) return rc;
    char **out = NULL;
    int cnt = 0, cap = 0;
    MDB_val k, v;
    int r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (r == 0) {
        const unsigned char *kp = k.mv_data;
        const unsigned char *z = memchr(kp, 0, k.mv_size);
        if (!z || (size_t)(z - kp) + 5 != k.mv_size) {
            store_impl_set_err("prior key of %zu bytes does not parse", k.mv_size);
            rc = STORE_ECORRUPT;
            break;
        }
        size_t cl = (size_t)(z - kp);
        if ((rc = names_push(&out, &cnt, &cap, kp, cl)) != 0) break;
        /* Jump past every key of this column: "col\1" sorts after "col\0<gid>". */
        unsigned char nk[COLUMN_MAX + 2];
        if (cl > COLUMN_MAX) { rc = STORE_ECORRUPT; break; }
        memcpy(nk, kp, cl);
        nk[cl] = 1;
        MDB_val key = {cl + 1, nk};
        k = key;
        r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    }
    if (!rc && r != MDB_NOTFOUND) rc = store_impl_lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) {
        names_free(out, cnt);
        return rc;
    }
    *names = out;
    *n = cnt;
    return 0;
}

int store_prior_column(zs_txn *txn, const char *column, double **out, uint32_t *len)
{
    *out = NULL;
    *len = 0;
    if (!txn || !column_ok(column)) return STORE_EINVAL;
    uint32_t max = store_galaxy_max(txn);
    double *o = malloc(((size_t)max + 1) * sizeof(double));   /* (max+1), o[0] unused */
    if (!o) return ENOMEM;
    for (uint32_t i = 0; i <= max; i++) o[i] = NAN;
    unsigned char k[COLUMN_MAX + 8];
    size_t kl = setkey(k, column, 0);
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_PRIORS), &c), "mdb_cursor_open");
    if (rc) { free(o); return rc; }
    MDB_val key = {kl, k}, v;
    int r;
    for (r = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (!in_set(&key, k, kl)) break;
        uint32_t gid = get_be32((unsigned char *)key.mv_data + kl - 4);
        if (v.mv_size != sizeof(double)) {
            store_impl_set_err("prior %s/%u has %zu bytes", column, gid, v.mv_size);
            rc = STORE_ECORRUPT;
            break;
        }
        if (gid >= 1 && gid <= max) memcpy(&o[gid], v.mv_data, sizeof(double));
    }
    if (!rc && r != 0 && r != MDB_NOTFOUND) rc = store_impl_lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) { free(o); return rc; }
    *out = o;
    *len = max + 1;
    return 0;
}

/* ------------------------------------------------------------ answers */

static int bounded(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

/* Answer records: the first form (REC_V1, what zoosh wrote up to layout 2)
 *   version u8, gid u32, time_us u64, kind u8, rating u8, retracts u64,
 *   user str (at most 31 bytes), task str, n_steps u8, (question str, answer str) * n
 * and the second (ANSWER_V2), which every append writes now: after retracts
 * the writer's effective uid u32, and a user name of up to STORE_USER_MAX - 1
 * bytes.  A first-form record reads with uid STORE_UID_NONE.  A note
 * (STORE_ANS_NOTE, layout 4) adds its text str after the steps. */
#define ANSWER_V2 2
#define ANSWER_V1_USER_MAX 32

static int answer_encode(wbuf *b, const store_answer *a)
{
    wb_u8(b, ANSWER_V2);
    wb_u32(b, a->gid);
    wb_u64(b, (uint64_t)a->time_us);
    wb_u8(b, a->kind);
    wb_u8(b, (uint8_t)a->rating);
    wb_u64(b, a->retracts);
    wb_u32(b, a->uid);
    wb_str(b, a->user);
    wb_str(b, a->task);
    wb_u8(b, (unsigned)a->n_steps);
    for (int i = 0; i < a->n_steps; i++) {
        wb_str(b, a->steps[i].question);
        wb_str(b, a->steps[i].answer);
    }
    if (a->kind == STORE_ANS_NOTE) wb_str(b, a->text);
    return b->oom ? ENOMEM : 0;
}

int store_impl_answer_decode(const MDB_val *v, uint64_t seq, store_answer *a)
{
    memset(a, 0, sizeof *a);
    rbuf r = {v->mv_data, v->mv_size, 0, 0};
    unsigned ver = rb_u8(&r);
    if (ver != REC_V1 && ver != ANSWER_V2) {
        store_impl_set_err("answer %llu: unknown record version", (unsigned long long)seq);
        return STORE_ECORRUPT;
    }
    a->seq = seq;
    a->gid = rb_u32(&r);
    a->time_us = (int64_t)rb_u64(&r);
    a->kind = (uint8_t)rb_u8(&r);
    a->rating = (int8_t)rb_u8(&r);
    a->retracts = rb_u64(&r);
    a->uid = ver == ANSWER_V2 ? rb_u32(&r) : STORE_UID_NONE;
    rb_strbuf(&r, a->user, ver == ANSWER_V2 ? sizeof a->user : ANSWER_V1_USER_MAX);
    rb_strbuf(&r, a->task, sizeof a->task);
    unsigned n = rb_u8(&r);
    if (n > STORE_STEPS_MAX) r.bad = 1;
    for (unsigned i = 0; i < n && !r.bad; i++) {
        rb_strbuf(&r, a->steps[i].question, sizeof a->steps[i].question);
        rb_strbuf(&r, a->steps[i].answer, sizeof a->steps[i].answer);
    }
    a->n_steps = r.bad ? 0 : (int)n;
    if (!r.bad && a->kind == STORE_ANS_NOTE) {
        rb_strbuf(&r, a->text, sizeof a->text);
        if (!a->text[0]) r.bad = 1;
    }
    if (!r.bad && r.off != r.n) r.bad = 1;
    if (!r.bad && (a->kind < STORE_ANS_TREE || a->kind > STORE_ANS_NOTE)) r.bad = 1;
    if (r.bad) {
        store_impl_set_err("answer %llu: record does not parse", (unsigned long long)seq);
        memset(a, 0, sizeof *a);
        a->seq = seq;
        return STORE_ECORRUPT;
    }
    return 0;
}

int store_name_ok(const char *s, size_t max)
{
    if (!s || !*s || *s == '-') return 0;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        int c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '@' || c == '$' || c == '+'))
            return 0;
    }
    return n < max;
}

/* A name the record keeps: store_name_ok, else STORE_EINVAL with the field named. */
static int answer_name(const char *what, const char *s, size_t max)
{
    if (store_name_ok(s, max)) return 0;
    store_impl_set_err("answer: the %s name has characters zoosh does not store (letters, digits and . _ - @ $ + only, "
                       "at most %zu bytes)", what, max - 1);
    return STORE_EINVAL;
}

/* The highest seq zoosh can have handed out: the log's record count plus
 * STORE_SEQ_SLACK.  A key above it (a group member's record at
 * ffffffffffffffff) is not part of the log: the next seq is taken below
 * it, so it cannot make seq wrap and every later commit fail.  The bound
 * grows with each record, so forged keys cannot push seq near 2^64. */
static uint64_t seq_bound(zs_txn *txn)
{
    MDB_stat s;
    if (mdb_stat(txn->t, D(txn, DB_ANSWERS), &s)) return STORE_SEQ_SLACK;
    return (uint64_t)s.ms_entries + STORE_SEQ_SLACK;
}

uint64_t store_answer_last_seq(zs_txn *txn)
{
    if (!txn) return 0;
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, DB_ANSWERS), &c)) return 0;
    unsigned char kb[8];
    be64(kb, seq_bound(txn) + 1);
    MDB_val k = {8, kb}, v;
    uint64_t m = 0;
    int r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    r = mdb_cursor_get(c, &k, &v, r == 0 ? MDB_PREV : MDB_LAST);
    for (; r == 0; r = mdb_cursor_get(c, &k, &v, MDB_PREV))   /* past keys that are not 8 bytes */
        if (k.mv_size == 8) { m = get_be64(k.mv_data); break; }
    mdb_cursor_close(c);
    return m;
}

/* The first seq after the log's last that no record holds (a forged key
 * may sit just above it), and whether it is the database's last key. */
static uint64_t next_seq(zs_txn *txn, int *at_end)
{
    uint64_t seq = store_answer_last_seq(txn) + 1;
    *at_end = 1;
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, DB_ANSWERS), &c)) return seq;
    unsigned char kb[8];
    be64(kb, seq);
    MDB_val k = {8, kb}, v;
    int r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (; r == 0 && k.mv_size == 8 && get_be64(k.mv_data) == seq; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) seq++;
    *at_end = r != 0;
    mdb_cursor_close(c);
    return seq;
}

/* Appends A at the next seq.  KEEP: A is a record copied from another
 * workspace (store_salvage), whose writer's uid and name are kept as they
 * were; otherwise the uid is this process's and an empty user is the
 * current one. */
static int answer_append(zs_txn *txn, const store_answer *a, int keep, uint64_t *seq_out)
{
    if (seq_out) *seq_out = 0;
    NEED_WRITE(txn);
    if (!a || a->gid == 0 || a->kind < STORE_ANS_TREE || a->kind > STORE_ANS_NOTE) return STORE_EINVAL;
    if (!bounded(a->user, sizeof a->user) || !bounded(a->task, sizeof a->task) || !a->task[0]) return STORE_EINVAL;
    if (a->kind == STORE_ANS_NOTE && (!bounded(a->text, sizeof a->text) || !a->text[0])) {
        store_impl_set_err("answer: a note holds 1 to %d bytes", STORE_TEXT_MAX - 1);
        return STORE_EINVAL;
    }
    if (a->n_steps < 0 || a->n_steps > STORE_STEPS_MAX) return STORE_EINVAL;
    for (int i = 0; i < a->n_steps; i++)
        if (!bounded(a->steps[i].question, STORE_KEY_MAX) || !bounded(a->steps[i].answer, STORE_KEY_MAX))
            return STORE_EINVAL;
    int rc = answer_name("task", a->task, STORE_TASK_MAX);
    if (!rc && a->user[0]) rc = answer_name("user", a->user, STORE_USER_MAX);
    for (int i = 0; i < a->n_steps && !rc; i++) {
        rc = answer_name("question", a->steps[i].question, STORE_KEY_MAX);
        if (!rc) rc = answer_name("answer", a->steps[i].answer, STORE_KEY_MAX);
    }
    if (rc) return rc;
    if (a->kind == STORE_ANS_RATING && (a->rating < 0 || a->rating > 5)) return STORE_EINVAL;
    if (!store_impl_gid_exists(txn, a->gid)) {
        store_impl_set_err("answer about galaxy %u, which does not exist", a->gid);
        return STORE_ENOTFOUND;
    }
    int at_end;
    uint64_t seq = next_seq(txn, &at_end);
    if (a->kind == STORE_ANS_RETRACT && (a->retracts == 0 || a->retracts >= seq)) {
        store_impl_set_err("retraction of answer %llu, which does not exist", (unsigned long long)a->retracts);
        return STORE_EINVAL;
    }
    store_answer c = *a;
    c.seq = seq;
    if (!keep) c.uid = (uint32_t)geteuid();
    if (keep && !c.user[0]) return STORE_EINVAL;
    if (!c.user[0]) {
        snprintf(c.user, sizeof c.user, "%s", store_current_user());
        if ((rc = answer_name("user", c.user, STORE_USER_MAX))) return rc;
    }
    if ((rc = need_layout(txn, c.kind == STORE_ANS_NOTE ? 4 : 3))) return rc;
    if (c.time_us == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c.time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    wbuf b = {0};
    rc = answer_encode(&b, &c);
    if (!rc) {
        unsigned char k[8];
        be64(k, seq);
        rc = put(txn, DB_ANSWERS, k, 8, b.p, b.n, at_end ? MDB_APPEND : MDB_NOOVERWRITE);
    }
    free(b.p);
    if (!rc && seq_out) *seq_out = seq;
    return rc;
}

int store_answer_append(zs_txn *txn, const store_answer *a, uint64_t *seq_out)
{
    return answer_append(txn, a, 0, seq_out);
}

int store_impl_answer_copy(zs_txn *txn, const store_answer *a, uint64_t *seq_out)
{
    return answer_append(txn, a, 1, seq_out);
}

int store_answer_get(zs_txn *txn, uint64_t seq, store_answer *a)
{
    memset(a, 0, sizeof *a);
    if (!txn || seq == 0) return STORE_EINVAL;
    MDB_val v;
    int rc = get_id(txn, DB_ANSWERS, seq, 8, &v);
    if (rc) return rc;
    return store_impl_answer_decode(&v, seq, a);
}

int store_answer_each(zs_txn *txn, uint64_t from, store_answer_fn fn, void *ctx)
{
    if (!txn || !fn) return STORE_EINVAL;
    MDB_cursor *c;
    int rc = store_impl_lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_ANSWERS), &c), "mdb_cursor_open");
    if (rc) return rc;
    unsigned char kb[8];
    be64(kb, from);
    MDB_val k = {8, kb}, v;
    store_answer *a = malloc(sizeof *a);
    if (!a) { mdb_cursor_close(c); return ENOMEM; }
    uint64_t bound = seq_bound(txn);
    int r;
    for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) { store_impl_set_err("answer key of %zu bytes", k.mv_size); rc = STORE_ECORRUPT; break; }
        if (get_be64(k.mv_data) > bound) break;   /* not part of the log (seq_bound) */
        rc = store_impl_answer_decode(&v, get_be64(k.mv_data), a);
        if (rc) break;
        rc = fn(a, ctx);
        if (rc) break;
    }
    if (!rc && r != 0 && r != MDB_NOTFOUND) rc = store_impl_lmdb_rc(r, "mdb_cursor_get");
    free(a);
    mdb_cursor_close(c);
    return rc;
}

/* ------------------------------------------------------------ blobs */

static int blob_db(int db) { return db == STORE_DB_SCORES ? DB_SCORES : db == STORE_DB_MODELS ? DB_MODELS : -1; }

int store_blob_put(zs_txn *txn, int db, const char *key, const void *data, size_t len)
{
    NEED_WRITE(txn);
    int d = blob_db(db);
    if (d < 0 || !key || !*key || strlen(key) > 500 || (len && !data)) return STORE_EINVAL;
    return put(txn, d, key, strlen(key), data, len, 0);
}

int store_blob_get(zs_txn *txn, int db, const char *key, const void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int d = blob_db(db);
    if (!txn || d < 0 || !key || !*key || strlen(key) > 500) return STORE_EINVAL;
    MDB_val v;
    int rc = get(txn, d, key, strlen(key), &v);
    if (rc) return rc;
    *data = v.mv_data;
    *len = v.mv_size;
    return 0;
}

int store_blob_del(zs_txn *txn, int db, const char *key)
{
    NEED_WRITE(txn);
    int d = blob_db(db);
    if (d < 0 || !key || !*key || strlen(key) > 500) return STORE_EINVAL;
    MDB_val k = {strlen(key), (void *)key};
    return store_impl_txn_rc(txn, mdb_del(txn->t, txn->st->dbi[d], &k, NULL), "mdb_del");
}

/* Lists the keys of a blob database (added for zoosh stats). */
int store_blob_list(zs_txn *txn, int db, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    int d = blob_db(db);
    if (!txn || d < 0) return STORE_EINVAL;
    return list_keys(txn, d, names, n);
}
