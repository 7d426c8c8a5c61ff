/*
 * zt.h - the unit test harness.  Tests read as sentences and run from tables:
 *
 *   static void finds_nearest(void) { ... ZT_CHECK(idx[0] == 7, "got %d", idx[0]); }
 *   const zt_case zt_suite_knn[] = {
 *       {"finds the nearest galaxy", finds_nearest},
 *       {0}
 *   };
 *
 * A file tests/t_NAME.c must define zt_suite_NAME; the Makefile lists the
 * suites from the file names.  Each case runs in its own forked process,
 * inside a fresh empty temporary directory (the current directory), with a
 * time limit, so a crash or hang fails that case only.  ZT_SHARED is the
 * path of ../shared/data (absolute) and ZT_ROOT the repository root.
 */
#ifndef ZOOSH_ZT_H
#define ZOOSH_ZT_H

#include <stdio.h>

typedef struct {
    const char *name;
    void (*fn)(void);
    int timeout_s;      /* 0 = default (60 s) */
} zt_case;

extern const char *ZT_ROOT;     /* repository root, absolute */
extern const char *ZT_SHARED;   /* ../shared/data, absolute */
extern const char *ZT_ZOOSH;    /* path of the zoosh binary, absolute */

void zt_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Skips the case with a reason (counted as neither pass nor fail; printed). */
void zt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define ZT_CHECK(cond, ...) do { if (!(cond)) zt_fail_at(__FILE__, __LINE__, \
    "check failed: " #cond " -- " __VA_ARGS__); } while (0)
#define ZT_OK(expr) do { int zt_rc_ = (expr); if (zt_rc_ != 0) zt_fail_at(__FILE__, \
    __LINE__, "%s returned %d", #expr, zt_rc_); } while (0)

/* Runs a shell command (sh -c) and returns its exit status; stdout+stderr
 * go to the file `out` when non-NULL. */
int zt_sh(const char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads a whole file (malloc'ed, NUL-terminated); NULL if unreadable. */
char *zt_slurp(const char *path, size_t *len);

#endif
