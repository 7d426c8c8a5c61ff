/*
 * util.c - allocation, clocks, random numbers (see util.h).
 */
#include "core/util.h"
#include "store/store.h"

#include <cblas.h>
#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void (*fatal_hook)(void);

void core_set_fatal_hook(void (*hook)(void)) { fatal_hook = hook; }

void core_fatal(const char *fmt, ...)
{
    if (fatal_hook) fatal_hook();
    va_list ap;
    va_start(ap, fmt);
    fputs("zoosh: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(70);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) core_fatal("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) core_fatal("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) core_fatal("out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void core_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int64_t core_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double core_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void core_rng_seed(core_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t core_rng_u64(core_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double core_rng_uniform(core_rng *r) { return (double)(core_rng_u64(r) >> 11) * 0x1.0p-53; }

double core_rng_normal(core_rng *r)
{
    double u1 = core_rng_uniform(r), u2 = core_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint32_t core_rng_below(core_rng *r, uint32_t n)
{
    return n ? (uint32_t)(((core_rng_u64(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

/* ---- string map */

static uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void core_strmap_init(core_strmap *m, size_t n)
{
    m->cap = 16;
    while (m->cap < n * 2 + 16) m->cap *= 2;
    m->key = xcalloc(m->cap, sizeof(char *));
    m->val = xcalloc(m->cap, sizeof(int));
    m->n = 0;
}

void core_strmap_free(core_strmap *m) { free(m->key); free(m->val); memset(m, 0, sizeof *m); }

int core_strmap_put(core_strmap *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) {
        core_strmap old = *m;
        core_strmap_init(m, old.cap);
        for (size_t i = 0; i < old.cap; i++)
            if (old.key[i]) core_strmap_put(m, old.key[i], old.val[i]);
        core_strmap_free(&old);
    }
    size_t i = strmap_hash(key) & (m->cap - 1);
    while (m->key[i]) {
        if (strcmp(m->key[i], key) == 0) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    m->key[i] = key;
    m->val[i] = val;
    m->n++;
    return -1;
}

int core_strmap_get(const core_strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = strmap_hash(key) & (m->cap - 1);
    while (m->key[i]) {
        if (strcmp(m->key[i], key) == 0) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

/* ------------------------------------------------------- output files */

int core_path_is_lmdb(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return !strcmp(base, "data.mdb") || !strcmp(base, "lock.mdb");
}

int core_out_open(core_outfile *o, const char *path, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (!path || !*path) { core_set_err(err, errlen, "empty file name"); return -1; }
    char *target = NULL;
    struct stat sb;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        /* a link of someone else's (planted in a shared folder) is never
         * followed: only one the user (or root) made */
        if (sb.st_uid != geteuid() && sb.st_uid != 0) {
            core_set_err(err, errlen, "is a symbolic link made by uid %u, not by you: zoosh does not write "
                                      "through it (remove it or choose another name)", (unsigned)sb.st_uid);
            return -1;
        }
        target = realpath(path, NULL);          /* write the file the link names, keep the link */
        if (!target) {                          /* a link to a file still to be made */
            char to[PATH_MAX];
            ssize_t n = readlink(path, to, sizeof to - 1);
            if (n <= 0) { core_set_err(err, errlen, "cannot follow the symlink: %s", strerror(errno)); return -1; }
            to[n] = 0;
            const char *slash = strrchr(path, '/');
            int dl = to[0] == '/' || !slash ? 0 : (int)(slash - path + 1);
            target = xmalloc((size_t)dl + (size_t)n + 1);
            sprintf(target, "%.*s%s", dl, path, to);
        }
    }
    o->path = target ? target : xstrdup(path);
    if (lstat(o->path, &sb) == 0 && S_ISLNK(sb.st_mode) && sb.st_uid != geteuid() && sb.st_uid != 0) {
        core_set_err(err, errlen, "leads to a symbolic link made by uid %u, not by you: zoosh does not write through it",
                     (unsigned)sb.st_uid);
        goto fail;
    }
    int exists = stat(o->path, &sb) == 0;       /* /dev/stdout: /proc/self/fd/1, a pipe */
    if (exists && S_ISDIR(sb.st_mode)) { core_set_err(err, errlen, "is a directory"); goto fail; }
    if (exists && core_path_is_lmdb(o->path)) {
        core_set_err(err, errlen, "is an LMDB database file (a workspace's %s); zoosh does not write over one, "
                                  "choose another file name", strrchr(o->path, '/') ? strrchr(o->path, '/') + 1 : o->path);
        goto fail;
    }
    if (exists && !S_ISREG(sb.st_mode)) {       /* a device or pipe: written as it is */
        int fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        o->f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!o->f) { core_set_err(err, errlen, "cannot open: %s", strerror(errno)); if (fd >= 0) close(fd); goto fail; }
        return 0;
    }
    /* the new file: a temporary beside the target under a name nobody can
     * guess, created O_EXCL|O_NOFOLLOW (never a file or link that was
     * there), then renamed over the target (which replaces a link planted
     * meanwhile, never writes through it) */
    size_t tl = strlen(o->path) + 40;
    o->tmp = xmalloc(tl);
    int fd = store_file_new(o->path, 1, 0666, o->tmp, tl);
    if (fd < 0) { core_set_err(err, errlen, "cannot create a file beside it: %s", strerror(-fd)); goto fail; }
    /* an existing file of the user's keeps its permissions */
    if (exists && sb.st_uid == geteuid()) (void)fchmod(fd, sb.st_mode & 07777);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        core_set_err(err, errlen, "cannot open: %s", strerror(errno));
        close(fd);
        unlink(o->tmp);
        goto fail;
    }
    return 0;
fail:
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return -1;
}

int core_out_close(core_outfile *o, int keep, char *err, size_t errlen)
{
    int rc = 0;
    if (o->f) {
        int bad = fflush(o->f) != 0 || ferror(o->f);
        int e = errno;
        if (fclose(o->f) != 0 && !bad) { bad = 1; e = errno; }
        if (keep && bad) { core_set_err(err, errlen, "write error: %s", strerror(e)); rc = -1; }
    }
    if (o->tmp) {
        if (keep && !rc && rename(o->tmp, o->path) != 0) {
            core_set_err(err, errlen, "cannot rename into place: %s", strerror(errno));
            rc = -1;
        }
        if (!keep || rc) unlink(o->tmp);
    }
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return keep ? rc : 0;
}

void core_jobs_run(void *(*fn)(void *), void *jobs, size_t size, int n)
{
    if (n < 1) return;
    pthread_t *th = xmalloc((size_t)n * sizeof *th);
    int *started = xcalloc((size_t)n, sizeof *started);
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (int s = 1; s < n; s++) started[s] = pthread_create(&th[s], NULL, fn, (char *)jobs + (size_t)s * size) == 0;
    fn(jobs);
    for (int s = 1; s < n; s++) {
        if (started[s]) pthread_join(th[s], NULL);
        else fn((char *)jobs + (size_t)s * size);
    }
    openblas_set_num_threads(blas);
    free(started);
    free(th);
}
