/*
 * zt.c - the unit test runner (see zt.h).
 *
 *   build/zt                 run every suite
 *   build/zt SUITE [CASE]    run one suite, or the cases whose name contains CASE
 *
 * Prints "PASS suite: name" / "FAIL suite: name: reason" / "SKIP ..." per case
 * and "N passed, N failed, N skipped" as the last line; exits 1 when anything
 * failed.
 */
#include "tests/zt.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZT_SUITE(name) extern const zt_case zt_suite_##name[];
#include "suites.h"
#undef ZT_SUITE

static const struct { const char *name; const zt_case *cases; } suites[] = {
#define ZT_SUITE(name) {#name, zt_suite_##name},
#include "suites.h"
#undef ZT_SUITE
    {NULL, NULL}
};

const char *ZT_ROOT, *ZT_SHARED, *ZT_ZOOSH;
static int result_fd = -1;      /* the child's reason goes up this pipe */

void zt_fail_at(const char *file, int line, const char *fmt, ...)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (result_fd >= 0) { ssize_t w = write(result_fd, buf, strlen(buf)); (void)w; }
    _exit(1);
}

void zt_skip(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (result_fd >= 0) { ssize_t w = write(result_fd, buf, strlen(buf)); (void)w; }
    _exit(77);
}

int zt_sh(const char *out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[8400];
    if (out) snprintf(full, sizeof full, "( %s ) >'%s' 2>&1", cmd, out);
    else snprintf(full, sizeof full, "%s", cmd);
    int st = system(full);
    if (st == -1) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *zt_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) { cap *= 2; char *nb = realloc(buf, cap); if (!nb) { free(buf); buf = NULL; break; } buf = nb; }
    }
    fclose(f);
    if (buf) buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    int rc = system(cmd); (void)rc;
}

/* 0 pass, 1 fail, 2 skip */
static int run_case(const char *suite, const zt_case *c)
{
    char tmpl[] = "/tmp/zt.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) { printf("FAIL %s: %s: mkdtemp: %s\n", suite, c->name, strerror(errno)); return 1; }
    int fds[2];
    if (pipe(fds) != 0) { printf("FAIL %s: %s: pipe\n", suite, c->name); return 1; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        result_fd = fds[1];
        setpgid(0, 0);
        if (chdir(dir) != 0) zt_fail_at(__FILE__, __LINE__, "chdir %s", dir);
        alarm((unsigned)(c->timeout_s ? c->timeout_s : 60));
        c->fn();
        _exit(0);
    }
    close(fds[1]);
    char reason[2048] = "";
    size_t got = 0;
    ssize_t r;
    while (got < sizeof reason - 1 && (r = read(fds[0], reason + got, sizeof reason - 1 - got)) > 0)
        got += (size_t)r;
    reason[got] = 0;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    kill(-pid, SIGKILL);        /* anything the case left running */
    rm_rf(dir);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) { printf("PASS %s: %s\n", suite, c->name); return 0; }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) { printf("SKIP %s: %s: %s\n", suite, c->name, reason); return 2; }
    if (WIFSIGNALED(st))
        printf("FAIL %s: %s: killed by signal %d%s %s\n", suite, c->name, WTERMSIG(st),
               WTERMSIG(st) == SIGALRM ? " (timeout)" : "", reason);
    else
        printf("FAIL %s: %s: %s\n", suite, c->name, reason[0] ? reason : "exit status non-zero");
    return 1;
}

static char *absdup(const char *p)
{
    char buf[PATH_MAX];
    if (!realpath(p, buf)) return strdup(p);
    return strdup(buf);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    ZT_ROOT = absdup(getenv("ZT_ROOT") ? getenv("ZT_ROOT") : ".");
    char buf[PATH_MAX + 32];
    snprintf(buf, sizeof buf, "%s/../shared/data", ZT_ROOT);
    ZT_SHARED = absdup(getenv("ZT_SHARED") ? getenv("ZT_SHARED") : buf);
    snprintf(buf, sizeof buf, "%s/zoosh", ZT_ROOT);
    ZT_ZOOSH = absdup(getenv("ZT_ZOOSH") ? getenv("ZT_ZOOSH") : buf);   /* SANITIZE builds */
    const char *only_suite = argc > 1 ? argv[1] : NULL;
    const char *only_case = argc > 2 ? argv[2] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    for (int s = 0; suites[s].name; s++) {
        if (only_suite && strcmp(only_suite, suites[s].name) != 0) continue;
        for (const zt_case *c = suites[s].cases; c->name; c++) {
            if (only_case && !strstr(c->name, only_case)) continue;
            int r = run_case(suites[s].name, c);
            if (r == 0) passed++;
            else if (r == 1) failed++;
            else skipped++;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
