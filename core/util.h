/*
 * util.h - small things every core/ and tui/ file needs: allocation that
 * never returns NULL (out-of-memory is fatal, after the terminal is restored
 * through the hook the TUI registers, as htop's fail()), clocks, and a
 * deterministic random generator (same seed, same numbers on any machine).
 */
#ifndef ZOOSH_CORE_UTIL_H
#define ZOOSH_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Called once before exiting on a fatal error (e.g. endwin()). */
void core_set_fatal_hook(void (*hook)(void));
void core_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Formats a short reason into err (NULL or errlen 0: nothing), the way every
 * decoder and loader reports failure for the CLI to print with the file name. */
void core_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A whole output file (an export, a plot, weights) written so that a reader
 * never sees half of it and a failure leaves the old file: a regular file,
 * new or existing (through a symlink the user or root made: its target), is
 * written beside itself under a temporary name nobody can guess, created
 * with O_CREAT|O_EXCL|O_NOFOLLOW (store_file_new), and renamed over the
 * target by core_out_close; a device, FIFO or socket (/dev/stdout,
 * /dev/null) is written in place, never replaced.  Every file zoosh writes
 * outside a workspace goes through here.  Refused with the reason in err: a
 * symlink another user made (one planted in a shared folder), a
 * workspace's data.mdb or lock.mdb, a directory. */
typedef struct {
    FILE *f;
    char *path;     /* the target (a symlink resolved) */
    char *tmp;      /* the temporary beside it; NULL when written in place */
} core_outfile;
int core_out_open(core_outfile *o, const char *path, char *err, size_t errlen);
/* True when PATH names an LMDB file of a workspace (data.mdb, lock.mdb),
 * which nothing but LMDB may write. */
int core_path_is_lmdb(const char *path);
/* Finishes the file: keep != 0 flushes, checks every write and renames into
 * place (-1 with the reason in err on any failure, the temporary removed);
 * keep == 0 discards it.  Always releases o. */
int core_out_close(core_outfile *o, int keep, char *err, size_t errlen);

/* Runs fn on each of n jobs (an array of n elements of size bytes): jobs
 * 1..n-1 on threads of their own, job 0 on the caller's, a job whose thread
 * does not start on the caller's after it; returns when all are done.
 * OpenBLAS is one-threaded meanwhile (the jobs are the parallelism) and
 * gets its thread count back.  The jobs must share nothing they write. */
void core_jobs_run(void *(*fn)(void *), void *jobs, size_t size, int n);

int64_t core_now_us(void);        /* CLOCK_REALTIME, microseconds */
double  core_mono_s(void);        /* CLOCK_MONOTONIC, seconds */

/* xoshiro256** seeded by splitmix64: portable, deterministic. */
typedef struct { uint64_t s[4]; } core_rng;
void     core_rng_seed(core_rng *r, uint64_t seed);
uint64_t core_rng_u64(core_rng *r);
double   core_rng_uniform(core_rng *r);           /* [0, 1) */
double   core_rng_normal(core_rng *r);            /* N(0, 1), Box-Muller */
uint32_t core_rng_below(core_rng *r, uint32_t n); /* [0, n) */

/* String -> int map (open addressing, FNV-1a); keys are borrowed and must
 * outlive the map.  put returns the existing value, or inserts val and
 * returns -1; get returns the value or -1. */
typedef struct {
    const char **key;
    int *val;
    size_t cap, n;
} core_strmap;
void core_strmap_init(core_strmap *m, size_t n);
void core_strmap_free(core_strmap *m);
int  core_strmap_put(core_strmap *m, const char *key, int val);
int  core_strmap_get(const core_strmap *m, const char *key);

#endif
