/*
 * store.c - the zoosh workspace on LMDB (see store.h): the environment
 * (open, close, map size), transactions and error codes.  The records are
 * store_records.c, check and backup store_check.c (store_impl.h says what
 * the three share).
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
#include "store/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lmdb.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LAYOUT_CREATED     1                    /* the layout a new workspace records */
#define DEFAULT_MAPSIZE    ((size_t)64 << 20)   /* 64 MiB at creation; grows by doubling */
#define GROW_AT            0.80                 /* grow before a write when this full */
#define MAX_RETRIES        40
#define RESIZE_WAIT_S      60                   /* longest wait for our other threads' txns */

static const char *const db_names[DB_N] = {
    "meta", "galaxies", "ids", "thumbs", "featsets", "features",
    "priors", "answers", "scores", "models",
};

static __thread char tl_err[256];
static __thread int tl_held;    /* resize read-locks held by this thread */
static __thread int tl_writing; /* inside a store_write callback (nesting would self-deadlock) */

const char *store_last_error(void) { return tl_err; }

void store_impl_set_err(const char *fmt, ...)
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
int store_impl_lmdb_rc(int rc, const char *what)
{
    if (rc == 0) return 0;
    if (rc == MDB_NOTFOUND) return STORE_ENOTFOUND;
    store_impl_set_err("%s: %s", what, mdb_strerror(rc));
    if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) return STORE_ENOSPC;
    if (rc == EACCES || rc == EROFS) return STORE_EREADONLY;
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND) return STORE_ECORRUPT;
    if (rc == ENOMEM) return ENOMEM;
    if (rc > 0) return rc;
    return STORE_ELMDB;
}

/* Records the map-full condition on the txn so store_write can grow. */
int store_impl_txn_rc(zs_txn *txn, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL) txn->mapfull = 1;
    return store_impl_lmdb_rc(rc, what);
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
void store_impl_hold(zs_store *st) { pthread_rwlock_rdlock(&st->resize); tl_held++; }
void store_impl_unhold(zs_store *st) { tl_held--; pthread_rwlock_unlock(&st->resize); }

/* Sets the map size (0 = adopt the size another process set) with no
 * transaction of ours open.  Fails when this thread itself holds one. */
static int resize_map(zs_store *st, size_t size, int must)
{
    if (tl_held > 0) {
        if (!must) return 0;
        store_impl_set_err("the map must grow but this thread holds an open transaction");
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
            store_impl_set_err("the map is full and another thread of this process kept a transaction open for %d s",
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
    return store_impl_lmdb_rc(rc, "mdb_env_set_mapsize");
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
        store_impl_hold(st);
        int rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, out);
        if (rc == 0) return 0;       /* keeps the hold until the txn ends */
        store_impl_unhold(st);
        if (rc != MDB_MAP_RESIZED) return store_impl_lmdb_rc(rc, "mdb_txn_begin");
        int r2 = resize_map(st, 0, 1);
        if (r2) return r2;
    }
    store_impl_set_err("mdb_txn_begin: the map keeps being resized");
    return STORE_ELMDB;
}

/* ------------------------------------------------------------ the files, pinned
 *
 * Everyone in a shared workspace's group can rename, replace and plant names
 * in its folder.  LMDB opens DIR/lock.mdb and DIR/data.mdb by name (and
 * writes the lock table into lock.mdb even for a read-only open), so a
 * member who replaced lock.mdb with a symlink to another member's file had
 * that member's zoosh write over it.  store_open therefore opens both files
 * itself first, with O_NOFOLLOW, checks each is a regular file with one link
 * (a hard link to a file elsewhere is refused too: its one name is then this
 * one, inside the workspace), and hands LMDB those very inodes: LMDB opens a
 * private directory (mkdtemp, mode 0700) whose data.mdb and lock.mdb are
 * symlinks to /proc/self/fd/N.  Nothing another user can change lies between
 * the check and LMDB's open.  The fds stay open until store_close (closing a
 * second fd of lock.mdb would drop LMDB's fcntl locks on it).  Without /proc
 * or a private directory LMDB opens the checked names directly; a folder
 * with the sticky bit (init --share) then keeps others from replacing the
 * files of its owner in between.
 */

#define PIN_EXISTING 0      /* the file must be there */
#define PIN_NEW      1      /* create it, O_EXCL: it must not be there */
#define PIN_ANY      2      /* open it, or create it when missing */

int store_file_new(const char *path, int tmp, unsigned mode, char *made, size_t len)
{
    if (strlen(path) > STORE_PATH_MAX) return -ENAMETOOLONG;
    for (int attempt = 0; attempt < 64; attempt++) {
        char name[STORE_PATH_MAX + 64];
        if (tmp) {
            uint64_t r = 0;
            if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
                r = (uint64_t)time(NULL) ^ (uint64_t)clock() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)attempt * 0x9e3779b97f4a7c15ULL;
            snprintf(name, sizeof name, "%s.%016llx.tmp", path, (unsigned long long)r);
        } else {
            snprintf(name, sizeof name, "%s", path);
        }
        int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, (mode_t)mode);
        if (fd >= 0) {
            if (made && len) snprintf(made, len, "%s", name);
            return fd;
        }
        if (errno != EEXIST || !tmp) return -errno;
    }
    return -EEXIST;
}

/* Opens DIR/NAME (dfd: DIR) as PIN_* says, never through a symlink, and
 * checks it is a regular file with one link.  *fd is -1 when the file is
 * missing and could not be made (no write permission): LMDB then hears the
 * same.  0, or a store code with the reason set. */
static int pin_file(const char *dir, int dfd, const char *name, int how, mode_t mode, int *fd, int *created)
{
    *fd = -1;
    *created = 0;
    int e = 0;
    for (int tries = 0; tries < 8 && *fd < 0; tries++) {
        if (how != PIN_NEW) {
            *fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            if (*fd >= 0) break;
            e = errno;
            if (e != ENOENT || how == PIN_EXISTING) break;
        }
        *fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
        if (*fd >= 0) { *created = 1; break; }
        e = errno;
        if (e != EEXIST || how == PIN_NEW) break;
    }
    if (*fd < 0) {
        if (e == ELOOP) {
            store_impl_set_err("%s/%s is a symbolic link: zoosh never follows one inside a workspace "
                               "(did someone replace the file?); remove the link", dir, name);
            return STORE_ECORRUPT;
        }
        if (e == ENOENT || (e == EACCES && how != PIN_NEW)) return 0;   /* LMDB reports it as before */
        if (e == EEXIST) { store_impl_set_err("%s already holds %s", dir, name); return STORE_EEXIST; }
        store_impl_set_err("%s/%s: %s", dir, name, strerror(e));
        return e;
    }
    struct stat sb;
    if (fstat(*fd, &sb) != 0) { e = errno; store_impl_set_err("%s/%s: %s", dir, name, strerror(e)); return e; }
    if (!S_ISREG(sb.st_mode)) {
        store_impl_set_err("%s/%s is not a regular file (did someone replace it?)", dir, name);
        return STORE_ECORRUPT;
    }
    if (sb.st_nlink != 1) {
        store_impl_set_err("%s/%s has %lu links (a hard link to a file elsewhere?): zoosh does not write it; "
                           "copy the workspace with zoosh backup", dir, name, (unsigned long)sb.st_nlink);
        return STORE_ECORRUPT;
    }
    return 0;
}

static void pin_dir_remove(const char *pdir)
{
    char link[STORE_PATH_MAX + 64];
    snprintf(link, sizeof link, "%s/data.mdb", pdir);
    unlink(link);
    snprintf(link, sizeof link, "%s/lock.mdb", pdir);
    unlink(link);
    rmdir(pdir);
}

/* A private directory whose data.mdb and lock.mdb name the pinned fds. */
static int pin_dir_make(char *pdir, size_t len, int fd_data, int fd_lock)
{
    if (access("/proc/self/fd", X_OK) != 0) return -1;
    const char *cand[3] = {getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"), "/tmp"}, *base = NULL;
    for (int i = 0; i < 3 && !base; i++) {
        /* where nobody else can rename our folder: one of ours or root's,
         * sticky or writable by its owner alone */
        struct stat bs;
        if (cand[i] && cand[i][0] == '/' && stat(cand[i], &bs) == 0 && S_ISDIR(bs.st_mode) &&
            (bs.st_uid == geteuid() || bs.st_uid == 0) && ((bs.st_mode & S_ISVTX) || !(bs.st_mode & 022)) &&
            access(cand[i], W_OK | X_OK) == 0)
            base = cand[i];
    }
    if (!base) return -1;
    snprintf(pdir, len, "%s/zoosh-open.XXXXXX", base);
    if (!mkdtemp(pdir)) return -1;
    char link[STORE_PATH_MAX + 64], to[64];
    int ok = 1;
    snprintf(link, sizeof link, "%s/data.mdb", pdir);
    snprintf(to, sizeof to, "/proc/self/fd/%d", fd_data);
    ok = ok && symlink(to, link) == 0;
    if (ok && fd_lock >= 0) {
        snprintf(link, sizeof link, "%s/lock.mdb", pdir);
        snprintf(to, sizeof to, "/proc/self/fd/%d", fd_lock);
        ok = symlink(to, link) == 0;
    }
    if (!ok) { pin_dir_remove(pdir); return -1; }
    return 0;
}
int store_impl_path_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* The layout version in a magic record "zoosh-workspace N"; -1 when the
 * record is not a zoosh magic at all. */
long store_impl_magic_layout(const MDB_val *v)
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
            store_impl_set_err("%s holds an LMDB environment without zoosh's databases", st->dir);
            rc = STORE_EFOREIGN;
            goto end;
        }
        if (r) { rc = store_impl_lmdb_rc(r, "mdb_dbi_open meta"); goto end; }
        MDB_val k = {strlen(STORE_META_KEY), (void *)STORE_META_KEY}, v;
        r = mdb_get(t, st->dbi[DB_META], &k, &v);
        if (r == MDB_NOTFOUND) { store_impl_set_err("no zoosh magic in %s", st->dir); rc = STORE_EFOREIGN; goto end; }
        if (r) { rc = store_impl_lmdb_rc(r, "mdb_get magic"); goto end; }
        long ver = store_impl_magic_layout(&v);
        if (ver < 0) {
            /* zoosh's databases are there: a workspace whose magic a group
             * member overwrote, not a foreign file; it opens for reading
             * and backup (store_damage says what is wrong), not for writing */
            MDB_dbi d;
            if (mdb_dbi_open(t, db_names[DB_ANSWERS], 0, &d) || mdb_dbi_open(t, db_names[DB_GALAXIES], 0, &d)) {
                store_impl_set_err("bad zoosh magic in %s", st->dir);
                rc = STORE_EFOREIGN;
                goto end;
            }
            char shown[64];
            store_impl_show_bytes(shown, sizeof shown, v.mv_data, v.mv_size);
            snprintf(st->damage, sizeof st->damage, "meta key '%s' holds \"%s\" (%zu bytes), not \"%s N\": "
                     "the workspace's version is unknown", STORE_META_KEY, shown, v.mv_size, STORE_MAGIC);
            ver = 1;
        }
        if (ver > STORE_SCHEMA_VERSION) {
            store_impl_set_err("%s has layout version %ld, this zoosh reads up to %d", st->dir, ver, STORE_SCHEMA_VERSION);
            rc = STORE_EVERSION;
            goto end;
        }
        if (ver < 1) { store_impl_set_err("bad layout version in %s", st->dir); rc = STORE_ECORRUPT; goto end; }
    }
    for (int i = 0; i < DB_N; i++) {
        int r = mdb_dbi_open(t, db_names[i], create ? MDB_CREATE : 0, &st->dbi[i]);
        if (r == MDB_NOTFOUND) {
            store_impl_set_err("%s lacks the '%s' database", st->dir, db_names[i]);
            rc = STORE_ECORRUPT;
            goto end;
        }
        if (r) { rc = store_impl_lmdb_rc(r, "mdb_dbi_open"); goto end; }
    }
    if (create) {
        char val[64];
        snprintf(val, sizeof val, "%s %d", STORE_MAGIC, LAYOUT_CREATED);
        MDB_val k = {strlen(STORE_META_KEY), (void *)STORE_META_KEY}, v = {strlen(val), val};
        int r = mdb_put(t, st->dbi[DB_META], &k, &v, 0);
        if (r) { rc = store_impl_lmdb_rc(r, "mdb_put magic"); goto end; }
    }
    rc = store_impl_lmdb_rc(mdb_txn_commit(t), "mdb_txn_commit");
    t = NULL;
end:
    if (t) mdb_txn_abort(t);
    store_impl_unhold(st);
    return rc;
}

/* stat() of a workspace's path: 0; EACCES, said so; or STORE_ENOWS with
 * "<dir>: <missing>". */
static int stat_ws(const char *path, const char *dir, const char *missing, struct stat *sb)
{
    if (stat(path, sb) == 0) return 0;
    int e = errno;
    if (e == EACCES) { store_impl_set_err("permission denied (ask the workspace's owner for group access)"); return e; }
    store_impl_set_err("%s: %s", dir, missing);
    return STORE_ENOWS;
}

/* init --share GROUP: the new folder DFD gets the group, set-group-id (its
 * files get the group too), the sticky bit (a member cannot rename or
 * remove another's files) and rwx for owner and group, none for others. */
static int share_dir(const char *dir, int dfd, const char *group)
{
    struct group gr, *res = NULL;
    char buf[8192];
    gid_t gid;
    char *end;
    unsigned long num = strtoul(group, &end, 10);
    if (getgrnam_r(group, &gr, buf, sizeof buf, &res) == 0 && res) gid = res->gr_gid;
    else if (*group && !*end && num < 0xffffffffUL) gid = (gid_t)num;
    else { store_impl_set_err("--share %s: no such group", group); return STORE_EINVAL; }
    struct stat ds;
    if (fstat(dfd, &ds) != 0) { int e = errno; store_impl_set_err("%s: %s", dir, strerror(e)); return e; }
    if (ds.st_uid != geteuid()) {
        store_impl_set_err("%s belongs to uid %u, not to you: --share needs a folder of your own (a new one)", dir,
                           (unsigned)ds.st_uid);
        return EPERM;
    }
    if (fchown(dfd, (uid_t)-1, gid) != 0) {
        int e = errno;
        if (e == EPERM) store_impl_set_err("--share %s: you are not a member of that group", group);
        else store_impl_set_err("%s: chgrp %s: %s", dir, group, strerror(e));
        return e;
    }
    if (fchmod(dfd, S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG) != 0) {
        int e = errno;
        store_impl_set_err("%s: chmod: %s", dir, strerror(e));
        return e;
    }
    return 0;
}

/* An open workspace whose folder is writable by others: the owner makes it
 * sticky (others can no longer rename or remove files they do not own);
 * in a group-writable folder the LMDB files are kept group-writable (in a
 * world-writable one, opened to everyone with chmod -R a+rwX, world-
 * writable), so the lock.mdb one member made does not shut the others out.
 * Only the files' owner may change them; fds, never names. */
static void keep_shared(int dfd, int fd_data, int fd_lock)
{
    struct stat ds, fs;
    if (fstat(dfd, &ds) != 0 || !(ds.st_mode & (S_IWGRP | S_IWOTH))) return;
    if (ds.st_uid == geteuid() && !(ds.st_mode & S_ISVTX)) (void)fchmod(dfd, (ds.st_mode & 07777) | S_ISVTX);
    if (!(ds.st_mode & S_IWGRP)) return;
    mode_t want = S_IRGRP | S_IWGRP;
    if ((ds.st_mode & S_IWOTH) && fstat(fd_data, &fs) == 0 && (fs.st_mode & S_IWOTH)) want |= S_IROTH | S_IWOTH;
    int fds[2] = {fd_data, fd_lock};
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0 && fstat(fds[i], &fs) == 0 && fs.st_uid == geteuid() && (fs.st_mode & want) != want)
            (void)fchmod(fds[i], (fs.st_mode & 07777) | want);
}

/* The mode of a workspace file this process creates in DFD: in a
 * group-writable folder (a shared one) rw for the group (and for others
 * in a world-writable one), forced; else 0666 less the umask. */
static mode_t file_mode(int dfd, int *force)
{
    struct stat ds;
    *force = 0;
    if (fstat(dfd, &ds) != 0 || !(ds.st_mode & S_IWGRP)) return 0666;
    *force = 1;
    return (ds.st_mode & S_IWOTH) ? 0666 : 0660;
}

static int open_ws(zs_store **out, const char *dir, unsigned flags, const char *share)
{
    *out = NULL;
    if (!dir || !*dir) return STORE_EINVAL;
    int rc = 0;
    char data[STORE_PATH_MAX + 16];
    if (strlen(dir) > STORE_PATH_MAX) return STORE_EINVAL;
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    int create = (flags & STORE_CREATE) != 0;
    int created_data = 0;       /* this call made data.mdb: removed again on failure */
    int made = 0;               /* this call made the folder: removed again on failure */
    int dfd = -1, fd_data = -1, fd_lock = -1, force = 0, cr, created_lock = 0;
    char pdir[STORE_PATH_MAX + 64] = "";
    zs_store *st = NULL;
    struct stat sb;
    if (create) {
        if (flags & STORE_RDONLY) return STORE_EINVAL;
        if (lstat(data, &sb) == 0) { store_impl_set_err("%s already holds data.mdb", dir); return STORE_EEXIST; }
        /* a shared folder starts private and is opened to the group by share_dir */
        made = mkdir(dir, share ? 0700 : 0777) == 0;
        if (!made && errno != EEXIST) { int e = errno; store_impl_set_err("mkdir %s: %s", dir, strerror(e)); return e; }
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) { store_impl_set_err("%s exists and is not a directory", dir); return ENOTDIR; }
    } else {
        int e = stat_ws(dir, dir, "no such directory", &sb);
        if (e) return e;
        if (!S_ISDIR(sb.st_mode)) { store_impl_set_err("%s: not a directory", dir); return STORE_ENOWS; }
        if ((e = stat_ws(data, dir, "no data.mdb", &sb)) != 0) return e;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && errno == EACCES) dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);   /* x without r */
    if (dfd < 0) {
        int e = errno;
        store_impl_set_err("%s: %s", dir, strerror(e));
        rc = e == EACCES ? (create ? e : STORE_EREADONLY) : e;
        goto fail;
    }
    if (share && (rc = share_dir(dir, dfd, share)) != 0) goto fail;
    mode_t fmode = file_mode(dfd, &force);
    /* Exclusive: of two creators at the same instant (two `zoosh init`)
     * exactly one makes data.mdb; LMDB then initialises the empty file.
     * The other hears it exists instead of opening the same environment
     * and overwriting the first one's meta. */
    rc = pin_file(dir, dfd, "data.mdb", create ? PIN_NEW : PIN_EXISTING, fmode, &fd_data, &cr);
    created_data = cr;
    if (!rc && fd_data < 0) rc = store_impl_lmdb_rc(errno ? errno : ENOENT, data);
    if (rc) goto fail;
    if (cr && force) (void)fchmod(fd_data, fmode);
    if (!create) {
        /* LMDB would take an empty file for a new environment and write one
         * into it: here it is a workspace that lost its contents. */
        if (fstat(fd_data, &sb) == 0 && sb.st_size == 0) {
            store_impl_set_err("%s is empty (0 bytes): the workspace lost its contents", data);
            rc = STORE_ECORRUPT;
            goto fail;
        }
    }
    if ((rc = pin_file(dir, dfd, "lock.mdb", PIN_ANY, fmode, &fd_lock, &cr)) != 0) goto fail;
    created_lock = cr;
    if (cr && force) (void)fchmod(fd_lock, fmode);

    st = calloc(1, sizeof *st);
    if (!st) { rc = ENOMEM; goto fail; }
    pthread_rwlock_init(&st->resize, NULL);
    st->fd_data = fd_data;
    st->fd_lock = fd_lock;
    fd_data = fd_lock = -1;     /* the store's now, closed after LMDB's */
    st->dir = strdup(dir);
    st->flags = flags;
    st->readonly = (flags & STORE_RDONLY) != 0;
    if (!st->readonly && !create && access(data, W_OK) != 0) st->readonly = 1;
    if (!st->dir) { rc = ENOMEM; goto fail; }
    /* no lock.mdb to be had (none there, and no right to make one): a reader
     * reads without LMDB's lock, as when lock.mdb is not writable */
    int nolock = st->fd_lock < 0;
    if (nolock && !st->readonly) {
        store_impl_set_err("%s/lock.mdb: no permission to open or create it", dir);
        rc = STORE_EREADONLY;
        goto fail;
    }
    const char *envdir = pin_dir_make(pdir, sizeof pdir, st->fd_data, st->fd_lock) == 0 ? pdir : dir;
    if (envdir == dir) pdir[0] = 0;
    int r = mdb_env_create(&st->env);
    if (r) { rc = store_impl_lmdb_rc(r, "mdb_env_create"); goto fail; }
    mdb_env_set_maxdbs(st->env, DB_N + 2);
    mdb_env_set_maxreaders(st->env, 254);
    size_t ms = env_mapsize_override();
    if (!ms && create) ms = DEFAULT_MAPSIZE;
    if (ms) mdb_env_set_mapsize(st->env, ms);
    unsigned ef = MDB_NOTLS;
    if (st->readonly) ef |= MDB_RDONLY;
    if (flags & STORE_NOSYNC) ef |= MDB_NOSYNC;
    r = nolock ? EACCES : mdb_env_open(st->env, envdir, ef, 0666);
    if (r == EACCES && st->readonly) {
        /* No write permission on lock.mdb either: read without the lock
         * table (readers then do not protect pages from concurrent writers;
         * acceptable for a read-only look). */
        mdb_env_close(st->env);
        st->env = NULL;
        if ((r = mdb_env_create(&st->env)) == 0) {
            mdb_env_set_maxdbs(st->env, DB_N + 2);
            r = mdb_env_open(st->env, envdir, ef | MDB_NOLOCK, 0666);
            st->lockless = r == 0;
        }
    }
    if (pdir[0]) { pin_dir_remove(pdir); pdir[0] = 0; }
    if (r == MDB_INVALID || r == MDB_VERSION_MISMATCH) {
        store_impl_set_err("%s/data.mdb is not an LMDB file of this version (%s)", dir, mdb_strerror(r));
        rc = STORE_EFOREIGN;
        goto fail;
    }
    if (r) { rc = store_impl_lmdb_rc(r, "mdb_env_open"); goto fail; }
    {
        /* the file LMDB opened is the one checked (through /proc/self/fd it
         * cannot be another; by name, a swap is caught here) */
        int lfd = -1;
        struct stat a, b;
        if (mdb_env_get_fd(st->env, &lfd) || fstat(lfd, &a) || fstat(st->fd_data, &b) || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino) {
            store_impl_set_err("%s was replaced while zoosh opened it", data);
            rc = STORE_ECORRUPT;
            goto fail;
        }
    }
    if (!create && (rc = store_impl_check_length(st, data)) != 0) goto fail;
    if (!st->readonly) {
        int dead = 0;
        mdb_reader_check(st->env, &dead);   /* slots left by killed processes pin old pages */
        keep_shared(dfd, st->fd_data, st->fd_lock);
    }
    rc = open_dbs(st, create);
    if (!rc && !st->readonly && !create) rc = store_impl_writable(st, data);
    if (rc) goto fail;
    close(dfd);
    *out = st;
    return 0;
fail:
    if (pdir[0]) pin_dir_remove(pdir);
    store_close(st);
    if (fd_data >= 0) close(fd_data);
    if (fd_lock >= 0) close(fd_lock);
    /* a failed init leaves no half workspace to refuse the next */
    if (created_data && dfd >= 0) unlinkat(dfd, "data.mdb", 0);
    if (created_data && created_lock && dfd >= 0) unlinkat(dfd, "lock.mdb", 0);
    if (dfd >= 0) close(dfd);
    if (made) rmdir(dir);
    return rc;
}

int store_open(zs_store **out, const char *dir, unsigned flags) { return open_ws(out, dir, flags, NULL); }

int store_create_shared(zs_store **out, const char *dir, const char *group)
{
    return open_ws(out, dir, STORE_CREATE, group && *group ? group : NULL);
}

void store_close(zs_store *st)
{
    if (!st) return;
    if (st->env) mdb_env_close(st->env);
    if (st->fd_data >= 0) close(st->fd_data);
    if (st->fd_lock >= 0) close(st->fd_lock);
    pthread_rwlock_destroy(&st->resize);
    free(st->dir);
    free(st);
}

int store_sync(zs_store *st)
{
    if (!st) return STORE_EINVAL;
    if (st->readonly) return 0;
    return store_impl_lmdb_rc(mdb_env_sync(st->env, 1), "mdb_env_sync");
}

const char *store_dir(const zs_store *st) { return st ? st->dir : NULL; }
int store_is_readonly(const zs_store *st) { return st ? st->readonly : 1; }
int store_is_lockless(const zs_store *st) { return st ? st->lockless : 0; }
const char *store_damage(const zs_store *st) { return st && st->damage[0] ? st->damage : NULL; }

void store_impl_show_bytes(char *out, size_t cap, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\' && b[i] != '"') out[o++] = (char)b[i];
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b[i]);
    }
    if (o + 5 >= cap && o >= 3) memcpy(out + o - 3, "...", 3);
    out[o] = 0;
}

/* The answers' default author: the process's effective user, looked up once. */
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
    if (st->readonly) { store_impl_set_err("%s is open read-only", st->dir); return STORE_EREADONLY; }
    if (tl_writing) { store_impl_set_err("store_write called inside a store_write callback"); return STORE_EINVAL; }
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
            store_impl_unhold(st);
            map_usage(st, &mapsize, &used);
            int r = resize_map(st, mapsize * 2, 1);
            if (r) return r;
            continue;
        }
        if (rc != 0) {
            mdb_txn_abort(txn.t);
            store_impl_unhold(st);
            return rc;
        }
        int r = mdb_txn_commit(txn.t);   /* frees the txn on failure too */
        store_impl_unhold(st);
        if (r == MDB_MAP_FULL) {
            map_usage(st, &mapsize, &used);
            int r2 = resize_map(st, mapsize * 2, 1);
            if (r2) return r2;
            continue;
        }
        if (r == EIO && disk_nearly_full(st)) {
            store_impl_set_err("mdb_txn_commit: short write: disk (or file size limit) full");
            return STORE_ENOSPC;
        }
        return store_impl_lmdb_rc(r, "mdb_txn_commit");
    }
    store_impl_set_err("store_write: map still full after growing %d times", MAX_RETRIES);
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
    store_impl_unhold(txn->st);
    free(txn);
}
