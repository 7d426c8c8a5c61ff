/*
 * store.c - the zoosh workspace on LMDB (see store.h).
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
 * as "written by a newer zoosh" rather than reporting damage.
 *
 * DESIGN (threads and processes).  The environment is opened with MDB_NOTLS
 * so one zs_store serves the labeler's UI thread and its trainer thread,
 * each with its own transactions; LMDB's own writer lock (in lock.mdb)
 * serialises write transactions across threads and processes.  Growing the
 * map (mdb_env_set_mapsize) is only allowed while this process has no
 * transaction open, so every transaction holds st->resize as a reader
 * (pthread rwlock) from begin to end, and growing takes it as a writer.  A
 * thread that holds a read transaction and then needs to grow the map cannot
 * (it would wait for itself): it gets STORE_ELMDB with a clear reason instead
 * of a deadlock (tl_held counts the locks this thread holds).  When another
 * process grew the map, LMDB reports MDB_MAP_RESIZED at begin; we adopt the
 * new size (set_mapsize 0) under the same writer lock and begin again.
 * Growing early (more than 80% used) only tries the lock, so a labeler's UI
 * thread never waits for its trainer's long read to grow the map.
 *
 * Hidden knob: ZOOSH_MAPSIZE (bytes, k/m/g suffix) sets the initial map size
 * (tests start tiny to exercise growth); default 64 MiB at creation, and the
 * size recorded in the file when opening.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define STORE_MAGIC        "zoosh-workspace"
#define STORE_META_KEY     "zoosh"
#define REC_V1             1
#define LAYOUT_CREATED     1                    /* the layout a new workspace records */
#define DEFAULT_MAPSIZE    ((size_t)64 << 20)   /* 64 MiB at creation; grows by doubling */
#define GROW_AT            0.80                 /* grow before a write when this full */
#define MAX_RETRIES        40
#define RESIZE_WAIT_S      60                   /* longest wait for our other threads' txns */

enum { DB_META, DB_GALAXIES, DB_IDS, DB_THUMBS, DB_FEATSETS, DB_FEATURES,
       DB_PRIORS, DB_ANSWERS, DB_SCORES, DB_MODELS, DB_N };
static const char *const db_names[DB_N] = {
    "meta", "galaxies", "ids", "thumbs", "featsets", "features",
    "priors", "answers", "scores", "models",
};

struct zs_store {
    MDB_env *env;
    MDB_dbi dbi[DB_N];
    char *dir;
    unsigned flags;
    int readonly;
    int lockless;               /* read-only without the lock table (no permission on lock.mdb) */
    pthread_rwlock_t resize;    /* readers: open transactions; writer: map resize */
};

struct zs_txn {
    zs_store *st;
    MDB_txn *t;
    int write;
    int mapfull;                /* an operation hit MDB_MAP_FULL: store_write grows and re-runs */
    int layout;                 /* write: the magic's layout version once read (0: not yet) */
};

static __thread char tl_err[256];
static __thread int tl_held;    /* resize read-locks held by this thread */
static __thread int tl_writing; /* inside a store_write callback (nesting would self-deadlock) */

const char *store_last_error(void) { return tl_err; }

static void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_err, sizeof tl_err, fmt, ap);
    va_end(ap);
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK:        return "success";
    case STORE_ENOTFOUND: return "not found";
    case STORE_EVERSION:  return "workspace was written by a newer zoosh (upgrade zoosh)";
    case STORE_EFOREIGN:  return "not a zoosh workspace (an LMDB database of something else)";
    case STORE_ENOWS:     return "no workspace there (create one with zoosh init)";
    case STORE_EEXIST:    return "a workspace already exists there";
    case STORE_ECORRUPT:  return "workspace damaged: a record does not parse";
    case STORE_EINVAL:    return "invalid argument";
    case STORE_EREADONLY: return "workspace is read-only (no write permission)";
    case STORE_ELMDB:     return "LMDB error";
    case STORE_EDIM:      return "feature dimension differs from the stored set";
    case STORE_ENOSPC:    return "disk full (nothing was written)";
    case STORE_EABORT:    return "rolled back";
    default:
        if (rc > 0) return strerror(rc);
        return mdb_strerror(rc);
    }
}

/* Maps an LMDB / errno code from `what` to ours, keeping the detail. */
static int lmdb_rc(int rc, const char *what)
{
    if (rc == 0) return 0;
    if (rc == MDB_NOTFOUND) return STORE_ENOTFOUND;
    set_err("%s: %s", what, mdb_strerror(rc));
    if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) return STORE_ENOSPC;
    if (rc == EACCES || rc == EROFS) return STORE_EREADONLY;
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND) return STORE_ECORRUPT;
    if (rc == ENOMEM) return ENOMEM;
    if (rc > 0) return rc;
    return STORE_ELMDB;
}

/* Records the map-full condition on the txn so store_write can grow. */
static int txn_rc(zs_txn *txn, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL) txn->mapfull = 1;
    return lmdb_rc(rc, what);
}

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

static void be32(unsigned char *k, uint32_t v) { k[0] = v >> 24; k[1] = v >> 16; k[2] = v >> 8; k[3] = (unsigned char)v; }
static uint32_t get_be32(const unsigned char *k) { return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3]; }
static void be64(unsigned char *k, uint64_t v) { for (int i = 0; i < 8; i++) k[i] = (unsigned char)(v >> (56 - 8 * i)); }
static uint64_t get_be64(const unsigned char *k)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | k[i];
    return v;
}

/* ------------------------------------------------------------ environment */

static size_t env_mapsize_override(void)
{
    const char *s = getenv("ZOOSH_MAPSIZE");   /* hidden: initial map size in bytes (k/m/g suffix) */
    if (!s || !*s) return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end == 'k' || *end == 'K') v *= 1024;
    else if (*end == 'm' || *end == 'M') v *= 1024.0 * 1024;
    else if (*end == 'g' || *end == 'G') v *= 1024.0 * 1024 * 1024;
    if (!(v >= 65536)) v = 65536;          /* NaN and junk too */
    if (v > 1e15) v = 1e15;
    return (size_t)v;
}

/* Taking / dropping the resize lock as a transaction holder. */
static void hold(zs_store *st) { pthread_rwlock_rdlock(&st->resize); tl_held++; }
static void unhold(zs_store *st) { tl_held--; pthread_rwlock_unlock(&st->resize); }

/* Sets the map size (0 = adopt the size another process set) with no
 * transaction of ours open.  Fails when this thread itself holds one. */
static int resize_map(zs_store *st, size_t size, int must)
{
    if (tl_held > 0) {
        if (!must) return 0;
        set_err("the map must grow but this thread holds an open transaction");
        return STORE_ELMDB;
    }
    if (!must) {
        /* Growing early is a courtesy: never wait for another thread's read
         * transaction for it (the UI thread must not block on the trainer). */
        if (pthread_rwlock_trywrlock(&st->resize) != 0) return 0;
    } else {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += RESIZE_WAIT_S;
        if (pthread_rwlock_timedwrlock(&st->resize, &until) != 0) {
            set_err("the map is full and another thread of this process kept a transaction open for %d s",
                    RESIZE_WAIT_S);
            return STORE_ELMDB;
        }
    }
    int rc = 0;
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    /* Another thread of ours may have grown it while we waited. */
    if (size == 0 || info.me_mapsize < size) rc = mdb_env_set_mapsize(st->env, size);
    pthread_rwlock_unlock(&st->resize);
    return lmdb_rc(rc, "mdb_env_set_mapsize");
}

static void map_usage(zs_store *st, size_t *mapsize, size_t *used)
{
    MDB_envinfo info;
    MDB_stat s;
    pthread_rwlock_rdlock(&st->resize);    /* not while another thread resizes */
    mdb_env_info(st->env, &info);
    mdb_env_stat(st->env, &s);
    pthread_rwlock_unlock(&st->resize);
    *mapsize = info.me_mapsize;
    *used = (info.me_last_pgno + 1) * (size_t)s.ms_psize;
}

int store_map_info(zs_store *st, size_t *mapsize, size_t *used)
{
    if (!st) return STORE_EINVAL;
    map_usage(st, mapsize, used);
    return 0;
}

static int txn_begin(zs_store *st, int write, MDB_txn **out)
{
    for (int tries = 0; tries < MAX_RETRIES; tries++) {
        hold(st);
        int rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, out);
        if (rc == 0) return 0;       /* keeps the hold until the txn ends */
        unhold(st);
        if (rc != MDB_MAP_RESIZED) return lmdb_rc(rc, "mdb_txn_begin");
        int r2 = resize_map(st, 0, 1);
        if (r2) return r2;
    }
    set_err("mdb_txn_begin: the map keeps being resized");
    return STORE_ELMDB;
}

/* A workspace for a Unix group of volunteers: created inside a
 * group-writable directory, the workspace directory becomes group-writable
 * and set-group-id (so its files get the group) whatever the umask. */
static void share_with_group_of_parent(const char *dir)
{
    char parent[STORE_PATH_MAX + 4];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = 0;
    char *slash = strrchr(parent, '/');
    if (!slash) snprintf(parent, sizeof parent, ".");
    else if (slash == parent) parent[1] = 0;
    else *slash = 0;
    struct stat ps, ds;
    if (stat(parent, &ps) != 0 || !(ps.st_mode & S_IWGRP) || stat(dir, &ds) != 0) return;
    if (chmod(dir, (ds.st_mode & 07777) | S_IRGRP | S_IWGRP | S_IXGRP | S_ISGID) != 0) return;
}

/* In a group-writable workspace directory, LMDB's files must be group-
 * writable too (LMDB creates them with 0666 & ~umask); in a world-writable
 * one (a copy opened to everyone with chmod -R a+rwX), world-writable: the
 * lock.mdb the first labeler creates must not shut the others out. */
static void keep_group_writable(const char *dir)
{
    struct stat ds;
    if (stat(dir, &ds) != 0 || !(ds.st_mode & S_IWGRP)) return;
    mode_t want = S_IRGRP | S_IWGRP;
    char data[STORE_PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    struct stat dfs;
    if ((ds.st_mode & S_IWOTH) && stat(data, &dfs) == 0 && (dfs.st_mode & S_IWOTH)) want |= S_IROTH | S_IWOTH;
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    for (int i = 0; i < 2; i++) {
        char p[STORE_PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        struct stat fs;
        if (stat(p, &fs) == 0 && fs.st_uid == geteuid() && (fs.st_mode & want) != want)
            if (chmod(p, (fs.st_mode & 07777) | want) != 0) continue;
    }
}

static int path_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* The layout version in a magic record "zoosh-workspace N"; -1 when the
 * record is not a zoosh magic at all. */
static long magic_layout(const MDB_val *v)
{
    size_t ml = strlen(STORE_MAGIC);
    if (v->mv_size <= ml + 1 || memcmp(v->mv_data, STORE_MAGIC, ml) != 0 || ((char *)v->mv_data)[ml] != ' ')
        return -1;
    char num[24];
    size_t nl = v->mv_size - ml - 1;
    if (nl >= sizeof num) nl = sizeof num - 1;
    memcpy(num, (char *)v->mv_data + ml + 1, nl);
    num[nl] = 0;
    return strtol(num, NULL, 10);
}

/* A data.mdb shorter than the pages its meta page says are in use (cut by
 * a full disk during a copy, a truncate, a partial restore) would fault with
 * SIGBUS at the first read of a missing page: refuse it as damaged before any
 * page past the two meta pages is touched. */
static int check_length(zs_store *st, const char *data)
{
    MDB_envinfo info;
    MDB_stat s;
    if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &s)) return 0;
    /* the length is read after the meta page, never before: a writer in
     * another process writes its pages before the meta that names them, so
     * the file read now holds at least those pages; one read earlier could
     * predate a commit and look cut short */
    struct stat sb;
    if (stat(data, &sb) != 0) { int e = errno; set_err("stat %s: %s", data, strerror(e)); return e; }
    unsigned long long need = ((unsigned long long)info.me_last_pgno + 1) * s.ms_psize;
    if ((unsigned long long)sb.st_size < need) {
        set_err("%s is cut short: %lld bytes where its pages need %llu (restore it from a backup)",
                data, (long long)sb.st_size, need);
        return STORE_ECORRUPT;
    }
    return 0;
}

/* Opens (creating if asked) the named databases and checks the magic. */
static int open_dbs(zs_store *st, int create)
{
    MDB_txn *t = NULL;
    int rc = txn_begin(st, create, &t);
    if (rc) return rc;
    if (!create) {
        /* Foreign check first: a zoosh workspace has a "meta" database. */
        int r = mdb_dbi_open(t, db_names[DB_META], 0, &st->dbi[DB_META]);
        if (r == MDB_NOTFOUND || r == MDB_INCOMPATIBLE) {
            set_err("%s holds an LMDB environment without zoosh's databases", st->dir);
            rc = STORE_EFOREIGN;
            goto end;
        }
        if (r) { rc = lmdb_rc(r, "mdb_dbi_open meta"); goto end; }
        MDB_val k = {strlen(STORE_META_KEY), (void *)STORE_META_KEY}, v;
        r = mdb_get(t, st->dbi[DB_META], &k, &v);
        if (r == MDB_NOTFOUND) { set_err("no zoosh magic in %s", st->dir); rc = STORE_EFOREIGN; goto end; }
        if (r) { rc = lmdb_rc(r, "mdb_get magic"); goto end; }
        long ver = magic_layout(&v);
        if (ver < 0) {
            set_err("bad zoosh magic in %s", st->dir);
            rc = STORE_EFOREIGN;
            goto end;
        }
        if (ver > STORE_SCHEMA_VERSION) {
            set_err("%s has layout version %ld, this zoosh reads up to %d", st->dir, ver, STORE_SCHEMA_VERSION);
            rc = STORE_EVERSION;
            goto end;
        }
        if (ver < 1) { set_err("bad layout version in %s", st->dir); rc = STORE_ECORRUPT; goto end; }
    }
    for (int i = 0; i < DB_N; i++) {
        int r = mdb_dbi_open(t, db_names[i], create ? MDB_CREATE : 0, &st->dbi[i]);
        if (r == MDB_NOTFOUND) {
            set_err("%s lacks the '%s' database", st->dir, db_names[i]);
            rc = STORE_ECORRUPT;
            goto end;
        }
        if (r) { rc = lmdb_rc(r, "mdb_dbi_open"); goto end; }
    }
    if (create) {
        char val[64];
        snprintf(val, sizeof val, "%s %d", STORE_MAGIC, LAYOUT_CREATED);
        MDB_val k = {strlen(STORE_META_KEY), (void *)STORE_META_KEY}, v = {strlen(val), val};
        int r = mdb_put(t, st->dbi[DB_META], &k, &v, 0);
        if (r) { rc = lmdb_rc(r, "mdb_put magic"); goto end; }
    }
    rc = lmdb_rc(mdb_txn_commit(t), "mdb_txn_commit");
    t = NULL;
end:
    if (t) mdb_txn_abort(t);
    unhold(st);
    return rc;
}

int store_open(zs_store **out, const char *dir, unsigned flags)
{
    *out = NULL;
    if (!dir || !*dir) return STORE_EINVAL;
    int rc = 0;
    char data[STORE_PATH_MAX + 16];
    if (strlen(dir) > STORE_PATH_MAX) return STORE_EINVAL;
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    int create = (flags & STORE_CREATE) != 0;
    int created_data = 0;       /* this call made data.mdb: removed again on failure */
    if (create) {
        if (flags & STORE_RDONLY) return STORE_EINVAL;
        if (path_exists(data)) { set_err("%s already holds data.mdb", dir); return STORE_EEXIST; }
        int made = mkdir(dir, 0777) == 0;
        if (!made && errno != EEXIST) { int e = errno; set_err("mkdir %s: %s", dir, strerror(e)); return e; }
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) { set_err("%s exists and is not a directory", dir); return ENOTDIR; }
        if (made) share_with_group_of_parent(dir);
        /* Exclusive: of two creators at the same instant (two `zoosh init`)
         * exactly one makes data.mdb; LMDB then initialises the empty file.
         * The other hears it exists instead of opening the same environment
         * and overwriting the first one's meta. */
        int fd = open(data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            int e = errno;
            if (e == EEXIST) { set_err("%s already holds data.mdb", dir); return STORE_EEXIST; }
            set_err("create %s: %s", data, strerror(e));
            return e;
        }
        close(fd);
        created_data = 1;
    } else {
        struct stat sb;
        if (stat(dir, &sb) != 0) {
            int e = errno;
            if (e == EACCES) { set_err("permission denied (ask the workspace's owner for group access)"); return e; }
            set_err("%s: no such directory", dir);
            return STORE_ENOWS;
        }
        if (!S_ISDIR(sb.st_mode)) { set_err("%s: not a directory", dir); return STORE_ENOWS; }
        if (stat(data, &sb) != 0) {
            int e = errno;
            if (e == EACCES) { set_err("permission denied (ask the workspace's owner for group access)"); return e; }
            set_err("%s: no data.mdb", dir);
            return STORE_ENOWS;
        }
        if (!S_ISREG(sb.st_mode)) { set_err("%s is not a regular file", data); return STORE_ECORRUPT; }
        /* LMDB would take an empty file for a new environment and write one
         * into it: here it is a workspace that lost its contents. */
        if (sb.st_size == 0) { set_err("%s is empty (0 bytes): the workspace lost its contents", data); return STORE_ECORRUPT; }
    }
    zs_store *st = calloc(1, sizeof *st);
    if (!st) { if (created_data) unlink(data); return ENOMEM; }
    pthread_rwlock_init(&st->resize, NULL);
    st->dir = strdup(dir);
    st->flags = flags;
    st->readonly = (flags & STORE_RDONLY) != 0;
    if (!st->readonly && !create && access(data, W_OK) != 0) st->readonly = 1;
    if (!st->dir) { rc = ENOMEM; goto fail; }
    int r = mdb_env_create(&st->env);
    if (r) { rc = lmdb_rc(r, "mdb_env_create"); goto fail; }
    mdb_env_set_maxdbs(st->env, DB_N + 2);
    mdb_env_set_maxreaders(st->env, 254);
    size_t ms = env_mapsize_override();
    if (!ms && create) ms = DEFAULT_MAPSIZE;
    if (ms) mdb_env_set_mapsize(st->env, ms);
    unsigned ef = MDB_NOTLS;
    if (st->readonly) ef |= MDB_RDONLY;
    if (flags & STORE_NOSYNC) ef |= MDB_NOSYNC;
    r = mdb_env_open(st->env, dir, ef, 0666);
    if (r == EACCES && st->readonly) {
        /* No write permission on lock.mdb either: read without the lock
         * table (readers then do not protect pages from concurrent writers;
         * acceptable for a read-only look). */
        mdb_env_close(st->env);
        st->env = NULL;
        if ((r = mdb_env_create(&st->env)) == 0) {
            mdb_env_set_maxdbs(st->env, DB_N + 2);
            r = mdb_env_open(st->env, dir, ef | MDB_NOLOCK, 0666);
            st->lockless = r == 0;
        }
    }
    if (r == MDB_INVALID || r == MDB_VERSION_MISMATCH) {
        set_err("%s/data.mdb is not an LMDB file of this version (%s)", dir, mdb_strerror(r));
        rc = STORE_EFOREIGN;
        goto fail;
    }
    if (r) { rc = lmdb_rc(r, "mdb_env_open"); goto fail; }
    if (!create && (rc = check_length(st, data)) != 0) goto fail;
    if (!st->readonly) {
        int dead = 0;
        mdb_reader_check(st->env, &dead);   /* slots left by killed processes pin old pages */
        keep_group_writable(dir);
    }
    rc = open_dbs(st, create);
    if (rc) goto fail;
    *out = st;
    return 0;
fail:
    store_close(st);
    if (created_data) unlink(data);   /* a failed init leaves no half workspace to refuse the next */
    return rc;
}

void store_close(zs_store *st)
{
    if (!st) return;
    if (st->env) mdb_env_close(st->env);
    pthread_rwlock_destroy(&st->resize);
    free(st->dir);
    free(st);
}

int store_sync(zs_store *st)
{
    if (!st) return STORE_EINVAL;
    if (st->readonly) return 0;
    return lmdb_rc(mdb_env_sync(st->env, 1), "mdb_env_sync");
}

const char *store_dir(const zs_store *st) { return st ? st->dir : NULL; }
int store_is_readonly(const zs_store *st) { return st ? st->readonly : 1; }
int store_is_lockless(const zs_store *st) { return st ? st->lockless : 0; }

/* ------------------------------------------------------------ transactions */

/* LMDB reports a short write at commit as EIO; it is a full disk when the
 * file system has little room left or a file size limit is set. */
static int disk_nearly_full(zs_store *st)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) return 1;
    struct statvfs vs;
    if (statvfs(st->dir, &vs) != 0) return 0;
    return (double)vs.f_bavail * (double)vs.f_frsize < 64.0 * 1024 * 1024;
}

int store_write(zs_store *st, store_write_fn fn, void *ctx)
{
    if (!st || !fn) return STORE_EINVAL;
    if (st->readonly) { set_err("%s is open read-only", st->dir); return STORE_EREADONLY; }
    if (tl_writing) { set_err("store_write called inside a store_write callback"); return STORE_EINVAL; }
    for (int tries = 0; tries < MAX_RETRIES; tries++) {
        size_t mapsize, used;
        map_usage(st, &mapsize, &used);
        if ((double)used > GROW_AT * (double)mapsize) {
            int r = resize_map(st, mapsize * 2, 0);
            if (r) return r;
        }
        zs_txn txn = {st, NULL, 1, 0, 0};
        int rc = txn_begin(st, 1, &txn.t);
        if (rc) return rc;
        tl_writing = 1;
        rc = fn(&txn, ctx);
        tl_writing = 0;
        if (txn.mapfull) {
            mdb_txn_abort(txn.t);
            unhold(st);
            map_usage(st, &mapsize, &used);
            int r = resize_map(st, mapsize * 2, 1);
            if (r) return r;
            continue;
        }
        if (rc != 0) {
            mdb_txn_abort(txn.t);
            unhold(st);
            return rc;
        }
        int r = mdb_txn_commit(txn.t);   /* frees the txn on failure too */
        unhold(st);
        if (r == MDB_MAP_FULL) {
            map_usage(st, &mapsize, &used);
            int r2 = resize_map(st, mapsize * 2, 1);
            if (r2) return r2;
            continue;
        }
        if (r == EIO && disk_nearly_full(st)) {
            set_err("mdb_txn_commit: short write: disk (or file size limit) full");
            return STORE_ENOSPC;
        }
        return lmdb_rc(r, "mdb_txn_commit");
    }
    set_err("store_write: map still full after growing %d times", MAX_RETRIES);
    return STORE_ELMDB;
}

int store_read_begin(zs_store *st, zs_txn **out)
{
    *out = NULL;
    if (!st) return STORE_EINVAL;
    zs_txn *txn = calloc(1, sizeof *txn);
    if (!txn) return ENOMEM;
    txn->st = st;
    int rc = txn_begin(st, 0, &txn->t);
    if (rc) { free(txn); return rc; }
    *out = txn;
    return 0;
}

void store_read_end(zs_txn *txn)
{
    if (!txn) return;
    mdb_txn_abort(txn->t);
    unhold(txn->st);
    free(txn);
}

#define NEED_WRITE(txn) do { if (!(txn) || !(txn)->write) { set_err("write in a read transaction"); \
    return (txn) && (txn)->st->readonly ? STORE_EREADONLY : STORE_EINVAL; } } while (0)

static MDB_dbi D(zs_txn *txn, int db) { return txn->st->dbi[db]; }

static int put(zs_txn *txn, int db, const void *k, size_t kl, const void *v, size_t vl, unsigned fl)
{
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    return txn_rc(txn, mdb_put(txn->t, D(txn, db), &key, &val, fl), "mdb_put");
}

static int get(zs_txn *txn, int db, const void *k, size_t kl, MDB_val *v)
{
    MDB_val key = {kl, (void *)k};
    return lmdb_rc(mdb_get(txn->t, D(txn, db), &key, v), "mdb_get");
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

static int gid_exists(zs_txn *txn, uint32_t gid);

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
static int galaxy_decode(const MDB_val *v, uint32_t gid, store_galaxy *g)
{
    memset(g, 0, sizeof *g);
    rbuf r = {v->mv_data, v->mv_size, 0, 0};
    if (rb_u8(&r) != REC_V1) { set_err("galaxy %u: unknown record version", gid); return STORE_ECORRUPT; }
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
        set_err("galaxy %u: record does not parse", gid);
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
    if (!txn) return 0;
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, DB_GALAXIES), &c)) return 0;
    MDB_val k, v;
    uint32_t m = 0;
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 4) m = get_be32(k.mv_data);
    mdb_cursor_close(c);
    return m;
}

uint32_t store_galaxy_count(zs_txn *txn)
{
    if (!txn) return 0;
    MDB_stat s;
    if (mdb_stat(txn->t, D(txn, DB_GALAXIES), &s)) return 0;
    return (uint32_t)s.ms_entries;
}

int store_galaxy_find(zs_txn *txn, const char *id_str, uint32_t *gid)
{
    *gid = 0;
    if (!txn || !id_str || !*id_str || strlen(id_str) > STORE_ID_MAX) return STORE_EINVAL;
    MDB_val v;
    int rc = get(txn, DB_IDS, id_str, strlen(id_str), &v);
    if (rc) return rc;
    if (v.mv_size != 4) { set_err("id index entry for '%s' is %zu bytes", id_str, v.mv_size); return STORE_ECORRUPT; }
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
    unsigned char k[4];
    be32(k, gid);
    MDB_val v;
    int rc = get(txn, DB_GALAXIES, k, 4, &v);
    if (rc) return rc;
    return galaxy_decode(&v, gid, g);
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
    long ver = magic_layout(&v);
    return ver > 0 && ver < 1000000 ? (int)ver : 0;
}

/* Raises the workspace's recorded layout to at least `ver` inside this
 * write transaction (once per transaction; committed or rolled back with
 * the records that need it). */
static int need_layout(zs_txn *txn, int ver)
{
    if (txn->layout >= ver) return 0;
    int have = store_layout(txn);
    if (have <= 0) { set_err("the zoosh magic does not parse"); return STORE_ECORRUPT; }
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
    if (r) return txn_rc(txn, r, "mdb_put thumb");
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
static int thumb_parse(const MDB_val *v, store_thumb *out)
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
    unsigned char k[4];
    be32(k, gid);
    MDB_val v;
    int rc = get(txn, DB_THUMBS, k, 4, &v);
    if (rc) return rc;
    rc = thumb_parse(&v, out);
    if (rc) set_err("thumbnail of galaxy %u does not parse", gid);
    return rc;
}

uint32_t store_thumb_count(zs_txn *txn)
{
    if (!txn) return 0;
    MDB_stat s;
    if (mdb_stat(txn->t, D(txn, DB_THUMBS), &s)) return 0;
    return (uint32_t)s.ms_entries;
}

/* ------------------------------------------------------------ features */

static int featname_ok(const char *name)
{
    return name && *name && strlen(name) < STORE_FEATNAME_MAX;
}

static int featset_decode(const MDB_val *v, int *dim, char **prov)
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

static size_t featkey(unsigned char *k, const char *name, uint32_t gid)
{
    size_t n = strlen(name);
    memcpy(k, name, n);
    k[n] = 0;
    be32(k + n + 1, gid);
    return n + 5;
}

/* Does the set have any vectors? */
static int featset_has_vectors(zs_txn *txn, const char *name)
{
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = featkey(k, name, 0);
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c)) return 1;
    MDB_val key = {kl, k}, v;
    int has = 0;
    if (mdb_cursor_get(c, &key, &v, MDB_SET_RANGE) == 0 && key.mv_size == kl && memcmp(key.mv_data, k, kl - 4) == 0)
        has = 1;
    mdb_cursor_close(c);
    return has;
}

int store_featset_put(zs_txn *txn, const char *name, int dim, const char *provenance)
{
    NEED_WRITE(txn);
    if (!featname_ok(name) || dim <= 0 || dim > (1 << 24)) return STORE_EINVAL;
    int old;
    int rc = store_featset_get(txn, name, &old, NULL);
    if (rc == 0 && old != dim && featset_has_vectors(txn, name)) {
        set_err("feature set '%s' has dimension %d, not %d", name, old, dim);
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
    if (dim) *dim = 0;
    if (provenance) *provenance = NULL;
    if (!txn || !featname_ok(name)) return STORE_EINVAL;
    MDB_val v;
    int rc = get(txn, DB_FEATSETS, name, strlen(name), &v);
    if (rc) return rc;
    rc = featset_decode(&v, dim, provenance);
    if (rc) set_err("feature set '%s' record does not parse", name);
    return rc;
}

/* Lists every key of a database with string keys (malloc'ed array of malloc'ed strings). */
static int list_keys(zs_txn *txn, int db, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    MDB_cursor *c;
    int rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, db), &c), "mdb_cursor_open");
    if (rc) return rc;
    MDB_val k, v;
    int cap = 0, cnt = 0;
    char **out = NULL;
    int r;
    for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            char **o2 = realloc(out, (size_t)cap * sizeof *out);
            if (!o2) { rc = ENOMEM; break; }
            out = o2;
        }
        char *s = malloc(k.mv_size + 1);
        if (!s) { rc = ENOMEM; break; }
        memcpy(s, k.mv_data, k.mv_size);
        s[k.mv_size] = 0;
        out[cnt++] = s;
    }
    if (!rc && r != MDB_NOTFOUND) rc = lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) {
        for (int i = 0; i < cnt; i++) free(out[i]);
        free(out);
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
    if (r) return txn_rc(txn, r, "mdb_del featset");
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = featkey(k, name, 0);
    MDB_cursor *c;
    int rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c), "mdb_cursor_open");
    if (rc) return rc;
    for (;;) {   /* seek afresh after each delete (no reliance on the cursor's state after a delete) */
        MDB_val ck = {kl, k}, v;
        r = mdb_cursor_get(c, &ck, &v, MDB_SET_RANGE);
        if (r) break;
        if (ck.mv_size != kl || memcmp(ck.mv_data, k, kl - 4) != 0) break;
        if ((r = mdb_cursor_del(c, 0)) != 0) break;
    }
    mdb_cursor_close(c);
    if (r && r != MDB_NOTFOUND) return txn_rc(txn, r, "mdb_cursor_del");
    return 0;
}

int store_featset_list(zs_txn *txn, char ***names, int *n)
{
    if (!txn) return STORE_EINVAL;
    return list_keys(txn, DB_FEATSETS, names, n);
}

int store_feature_put(zs_txn *txn, const char *name, uint32_t gid, const float *v, int dim)
{
    NEED_WRITE(txn);
    if (!featname_ok(name) || gid == 0 || !v || dim <= 0) return STORE_EINVAL;
    int sdim;
    int rc = store_featset_get(txn, name, &sdim, NULL);
    if (rc) {
        if (rc == STORE_ENOTFOUND) set_err("no feature set '%s' (store_featset_put first)", name);
        return rc;
    }
    if (sdim != dim) { set_err("feature set '%s' has dimension %d, vector has %d", name, sdim, dim); return STORE_EDIM; }
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = featkey(k, name, gid);
    return put(txn, DB_FEATURES, k, kl, v, (size_t)dim * sizeof(float), 0);
}

int store_feature_get(zs_txn *txn, const char *name, uint32_t gid, const float **v, int *dim)
{
    *v = NULL;
    *dim = 0;
    if (!txn || !featname_ok(name) || gid == 0) return STORE_EINVAL;
    unsigned char k[STORE_FEATNAME_MAX + 8];
    size_t kl = featkey(k, name, gid);
    MDB_val val;
    int rc = get(txn, DB_FEATURES, k, kl, &val);
    if (rc) return rc;
    if (val.mv_size == 0 || val.mv_size % sizeof(float)) {
        set_err("feature vector %s/%u has %zu bytes", name, gid, val.mv_size);
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
    size_t kl = featkey(k, name, 0);
    MDB_cursor *c;
    int rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c), "mdb_cursor_open");
    if (rc) return rc;
    MDB_val key = {kl, k}, v;
    uint32_t cnt = 0;
    int r;
    for (r = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (key.mv_size != kl || memcmp(key.mv_data, k, kl - 4) != 0) break;
        cnt++;
    }
    if (r != 0 && r != MDB_NOTFOUND) rc = lmdb_rc(r, "mdb_cursor_get");
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
    size_t kl = featkey(k, name, 0);
    MDB_cursor *c;
    rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_FEATURES), &c), "mdb_cursor_open");
    if (rc) return rc;
    float *X = NULL;        /* (cap, d) */
    uint32_t *G = NULL;     /* (cap) */
    size_t cap = 0, cnt = 0;
    MDB_val key = {kl, k}, v;
    int r;
    for (r = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (key.mv_size != kl || memcmp(key.mv_data, k, kl - 4) != 0) break;
        if (v.mv_size != (size_t)d * sizeof(float)) {
            set_err("feature vector %s/%u has %zu bytes, set dimension %d", name,
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
    if (!rc && r != 0 && r != MDB_NOTFOUND) rc = lmdb_rc(r, "mdb_cursor_get");
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

static size_t priorkey(unsigned char *k, const char *col, uint32_t gid)
{
    size_t n = strlen(col);
    memcpy(k, col, n);
    k[n] = 0;
    be32(k + n + 1, gid);
    return n + 5;
}

int store_prior_put(zs_txn *txn, uint32_t gid, const char *column, double value)
{
    NEED_WRITE(txn);
    if (gid == 0 || !column_ok(column)) return STORE_EINVAL;
    unsigned char k[COLUMN_MAX + 8];
    size_t kl = priorkey(k, column, gid);
    return put(txn, DB_PRIORS, k, kl, &value, sizeof value, 0);
}

int store_prior_get(zs_txn *txn, uint32_t gid, const char *column, double *value)
{
    *value = NAN;
    if (!txn || gid == 0 || !column_ok(column)) return STORE_EINVAL;
    unsigned char k[COLUMN_MAX + 8];
    size_t kl = priorkey(k, column, gid);
    MDB_val v;
    int rc = get(txn, DB_PRIORS, k, kl, &v);
    if (rc) return rc;
    if (v.mv_size != sizeof(double)) { set_err("prior %s/%u has %zu bytes", column, gid, v.mv_size); return STORE_ECORRUPT; }
    memcpy(value, v.mv_data, sizeof(double));
    return 0;
}

int store_prior_columns(zs_txn *txn, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    if (!txn) return STORE_EINVAL;
    MDB_cursor *c;
    int rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_PRIORS), &c), "mdb_cursor_open");
    if (rc) return rc;
    char **out = NULL;
    int cnt = 0, cap = 0;
    MDB_val k, v;
    int r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (r == 0) {
        const unsigned char *kp = k.mv_data;
        const unsigned char *z = memchr(kp, 0, k.mv_size);
        if (!z || (size_t)(z - kp) + 5 != k.mv_size) {
            set_err("prior key of %zu bytes does not parse", k.mv_size);
            rc = STORE_ECORRUPT;
            break;
        }
        size_t cl = (size_t)(z - kp);
        if (cnt == cap) {
            cap = cap ? cap * 2 : 32;
            char **o2 = realloc(out, (size_t)cap * sizeof *out);
            if (!o2) { rc = ENOMEM; break; }
            out = o2;
        }
        char *s = malloc(cl + 1);
        if (!s) { rc = ENOMEM; break; }
        memcpy(s, kp, cl);
        s[cl] = 0;
        out[cnt++] = s;
        /* Jump past every key of this column: "col\1" sorts after "col\0<gid>". */
        unsigned char nk[COLUMN_MAX + 2];
        if (cl > COLUMN_MAX) { rc = STORE_ECORRUPT; break; }
        memcpy(nk, s, cl);
        nk[cl] = 1;
        MDB_val key = {cl + 1, nk};
        k = key;
        r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    }
    if (!rc && r != MDB_NOTFOUND) rc = lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) {
        for (int i = 0; i < cnt; i++) free(out[i]);
        free(out);
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
    size_t kl = priorkey(k, column, 0);
    MDB_cursor *c;
    int rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_PRIORS), &c), "mdb_cursor_open");
    if (rc) { free(o); return rc; }
    MDB_val key = {kl, k}, v;
    int r;
    for (r = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
        if (key.mv_size != kl || memcmp(key.mv_data, k, kl - 4) != 0) break;
        uint32_t gid = get_be32((unsigned char *)key.mv_data + kl - 4);
        if (v.mv_size != sizeof(double)) { set_err("prior %s/%u has %zu bytes", column, gid, v.mv_size); rc = STORE_ECORRUPT; break; }
        if (gid >= 1 && gid <= max) memcpy(&o[gid], v.mv_data, sizeof(double));
    }
    if (!rc && r != 0 && r != MDB_NOTFOUND) rc = lmdb_rc(r, "mdb_cursor_get");
    mdb_cursor_close(c);
    if (rc) { free(o); return rc; }
    *out = o;
    *len = max + 1;
    return 0;
}

/* ------------------------------------------------------------ answers */

static pthread_once_t user_once = PTHREAD_ONCE_INIT;
static char user_name[STORE_USER_MAX];

static void user_init(void)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    uid_t uid = geteuid();
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name && *res->pw_name)
        snprintf(user_name, sizeof user_name, "%s", res->pw_name);
    else
        snprintf(user_name, sizeof user_name, "uid%u", (unsigned)uid);
}

const char *store_current_user(void)
{
    pthread_once(&user_once, user_init);
    return user_name;
}

static int bounded(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

static int answer_encode(wbuf *b, const store_answer *a)
{
    wb_u8(b, REC_V1);
    wb_u32(b, a->gid);
    wb_u64(b, (uint64_t)a->time_us);
    wb_u8(b, a->kind);
    wb_u8(b, (uint8_t)a->rating);
    wb_u64(b, a->retracts);
    wb_str(b, a->user);
    wb_str(b, a->task);
    wb_u8(b, (unsigned)a->n_steps);
    for (int i = 0; i < a->n_steps; i++) {
        wb_str(b, a->steps[i].question);
        wb_str(b, a->steps[i].answer);
    }
    return b->oom ? ENOMEM : 0;
}

static int answer_decode(const MDB_val *v, uint64_t seq, store_answer *a)
{
    memset(a, 0, sizeof *a);
    rbuf r = {v->mv_data, v->mv_size, 0, 0};
    if (rb_u8(&r) != REC_V1) { set_err("answer %llu: unknown record version", (unsigned long long)seq); return STORE_ECORRUPT; }
    a->seq = seq;
    a->gid = rb_u32(&r);
    a->time_us = (int64_t)rb_u64(&r);
    a->kind = (uint8_t)rb_u8(&r);
    a->rating = (int8_t)rb_u8(&r);
    a->retracts = rb_u64(&r);
    rb_strbuf(&r, a->user, sizeof a->user);
    rb_strbuf(&r, a->task, sizeof a->task);
    unsigned n = rb_u8(&r);
    if (n > STORE_STEPS_MAX) r.bad = 1;
    for (unsigned i = 0; i < n && !r.bad; i++) {
        rb_strbuf(&r, a->steps[i].question, sizeof a->steps[i].question);
        rb_strbuf(&r, a->steps[i].answer, sizeof a->steps[i].answer);
    }
    a->n_steps = r.bad ? 0 : (int)n;
    if (!r.bad && r.off != r.n) r.bad = 1;
    if (!r.bad && (a->kind < STORE_ANS_TREE || a->kind > STORE_ANS_SKIP)) r.bad = 1;
    if (r.bad) {
        set_err("answer %llu: record does not parse", (unsigned long long)seq);
        memset(a, 0, sizeof *a);
        a->seq = seq;
        return STORE_ECORRUPT;
    }
    return 0;
}

uint64_t store_answer_last_seq(zs_txn *txn)
{
    if (!txn) return 0;
    MDB_cursor *c;
    if (mdb_cursor_open(txn->t, D(txn, DB_ANSWERS), &c)) return 0;
    MDB_val k, v;
    uint64_t s = 0;
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8) s = get_be64(k.mv_data);
    mdb_cursor_close(c);
    return s;
}

int store_answer_append(zs_txn *txn, const store_answer *a, uint64_t *seq_out)
{
    if (seq_out) *seq_out = 0;
    NEED_WRITE(txn);
    if (!a || a->gid == 0 || a->kind < STORE_ANS_TREE || a->kind > STORE_ANS_SKIP) return STORE_EINVAL;
    if (!bounded(a->user, sizeof a->user) || !bounded(a->task, sizeof a->task) || !a->task[0]) return STORE_EINVAL;
    if (a->n_steps < 0 || a->n_steps > STORE_STEPS_MAX) return STORE_EINVAL;
    for (int i = 0; i < a->n_steps; i++)
        if (!bounded(a->steps[i].question, STORE_KEY_MAX) || !bounded(a->steps[i].answer, STORE_KEY_MAX))
            return STORE_EINVAL;
    if (a->kind == STORE_ANS_RATING && (a->rating < 0 || a->rating > 5)) return STORE_EINVAL;
    if (!gid_exists(txn, a->gid)) {
        set_err("answer about galaxy %u, which does not exist", a->gid);
        return STORE_ENOTFOUND;
    }
    uint64_t seq = store_answer_last_seq(txn) + 1;
    if (a->kind == STORE_ANS_RETRACT && (a->retracts == 0 || a->retracts >= seq)) {
        set_err("retraction of answer %llu, which does not exist", (unsigned long long)a->retracts);
        return STORE_EINVAL;
    }
    store_answer c = *a;
    c.seq = seq;
    if (!c.user[0]) snprintf(c.user, sizeof c.user, "%s", store_current_user());
    if (c.time_us == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c.time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    wbuf b = {0};
    int rc = answer_encode(&b, &c);
    if (!rc) {
        unsigned char k[8];
        be64(k, seq);
        rc = put(txn, DB_ANSWERS, k, 8, b.p, b.n, MDB_APPEND);
    }
    free(b.p);
    if (!rc && seq_out) *seq_out = seq;
    return rc;
}

int store_answer_get(zs_txn *txn, uint64_t seq, store_answer *a)
{
    memset(a, 0, sizeof *a);
    if (!txn || seq == 0) return STORE_EINVAL;
    unsigned char k[8];
    be64(k, seq);
    MDB_val v;
    int rc = get(txn, DB_ANSWERS, k, 8, &v);
    if (rc) return rc;
    return answer_decode(&v, seq, a);
}

int store_answer_each(zs_txn *txn, uint64_t from, store_answer_fn fn, void *ctx)
{
    if (!txn || !fn) return STORE_EINVAL;
    MDB_cursor *c;
    int rc = lmdb_rc(mdb_cursor_open(txn->t, D(txn, DB_ANSWERS), &c), "mdb_cursor_open");
    if (rc) return rc;
    unsigned char kb[8];
    be64(kb, from);
    MDB_val k = {8, kb}, v;
    store_answer *a = malloc(sizeof *a);
    if (!a) { mdb_cursor_close(c); return ENOMEM; }
    int r;
    for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) { set_err("answer key of %zu bytes", k.mv_size); rc = STORE_ECORRUPT; break; }
        rc = answer_decode(&v, get_be64(k.mv_data), a);
        if (rc) break;
        rc = fn(a, ctx);
        if (rc) break;
    }
    if (!rc && r != 0 && r != MDB_NOTFOUND) rc = lmdb_rc(r, "mdb_cursor_get");
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
    return txn_rc(txn, mdb_del(txn->t, txn->st->dbi[d], &k, NULL), "mdb_del");
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
        if (galaxy_decode(&v, gid, &g)) { problem(rp, "galaxies: record of gid %u does not parse", gid); continue; }
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

static int gid_exists(zs_txn *txn, uint32_t gid)
{
    unsigned char k[4];
    be32(k, gid);
    MDB_val key = {4, k}, v;
    return mdb_get(txn->t, D(txn, DB_GALAXIES), &key, &v) == 0;
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
        if (thumb_parse(&v, &th)) problem(rp, "thumbs: thumbnail of gid %u does not parse", gid);
        else if (th.codec != STORE_THUMB_RAW && layout < 2)
            problem(rp, "thumbs: thumbnail of gid %u is coded (%d) but the workspace says layout %d", gid, th.codec, layout);
        if (!gid_exists(txn, gid)) problem(rp, "thumbs: thumbnail of gid %u, which does not exist", gid);
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
        if (featset_decode(&v, NULL, NULL))
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
        if (!gid_exists(txn, gid)) bad = 2;
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
        if (!z || (size_t)(z - kp) + 5 != k.mv_size) { if (++bad <= 5) problem(rp, "priors: key of %zu bytes does not parse", k.mv_size); continue; }
        uint32_t gid = get_be32(z + 1);
        if (v.mv_size != sizeof(double)) { if (++bad <= 5) problem(rp, "priors: %s/%u has %zu bytes", (const char *)kp, gid, v.mv_size); continue; }
        if (!gid_exists(txn, gid)) { if (++bad <= 5) problem(rp, "priors: %s/%u of a galaxy that does not exist", (const char *)kp, gid); }
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
        if (answer_decode(&v, seq, a)) { if (++bad <= 20) problem(rp, "answers: answer %llu does not parse", (unsigned long long)seq); continue; }
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
        if (!gid_exists(txn, a->gid) && ++bad <= 20)
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
    if (path_exists(data)) { set_err("%s already holds data.mdb", dest_dir); return STORE_EEXIST; }
    int made = mkdir(dest_dir, 0777) == 0;
    if (!made && errno != EEXIST) {
        int e = errno;
        set_err("mkdir %s: %s", dest_dir, strerror(e));
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
        set_err("create %s: %s", part, strerror(e));
        if (made) rmdir(dest_dir);
        return e;
    }
    hold(st);
    int r = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
    unhold(st);
    int rc = lmdb_rc(r, "mdb_env_copyfd2");
    if (!rc && fsync(fd) != 0) rc = lmdb_rc(errno, "fsync data.mdb.partial");   /* errno mapped as LMDB's (ENOSPC...) */
    if (close(fd) != 0 && !rc) rc = lmdb_rc(errno, "close data.mdb.partial");
    if (!rc && rename(part, data) != 0) rc = lmdb_rc(errno, "rename data.mdb.partial");
    if (rc) {
        unlink(part);
        if (made) rmdir(dest_dir);     /* a failed backup leaves no empty folder that looks like one */
    }
    return rc;
}
