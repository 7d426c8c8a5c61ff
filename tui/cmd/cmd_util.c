/*
 * cmd_util.c - small things the subcommands share.
 */
#include "tui/cmd/cmd.h"
#include "tui/label/label.h"
#include "tui/text.h"
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cmd_safe_text(const char *s, char *buf, size_t cap)
{
    static int tty = -1;
    if (tty < 0) tty = isatty(STDOUT_FILENO);
    if (!tty || !s) return s ? s : "";
    tui_text_sanitize(s, buf, cap, 0);
    return buf;
}

/* cmd_data_out's filter: whole lines, each field between tabs sanitised. */
typedef struct {
    char *p;
    size_t n, cap;
} tty_filter;

static void filter_emit(const char *line, size_t n)
{
    char *copy = malloc(n + 1), *safe = malloc(n + 1);
    if (copy && safe) {
        memcpy(copy, line, n);
        copy[n] = 0;
        for (char *f = copy, *tab;; f = tab + 1) {
            tab = strchr(f, '\t');
            if (tab) *tab = 0;
            tui_text_sanitize(f, safe, n + 1, 0);
            fputs(safe, stdout);
            if (!tab) break;
            fputc('\t', stdout);
        }
    }
    free(copy);
    free(safe);
}

static ssize_t filter_write(void *cookie, const char *buf, size_t size)
{
    tty_filter *t = cookie;
    if (t->n + size > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + size) cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) return -1;
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, buf, size);
    t->n += size;
    size_t start = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] != '\n') continue;
        filter_emit(t->p + start, i - start);
        fputc('\n', stdout);
        start = i + 1;
    }
    memmove(t->p, t->p + start, t->n - start);
    t->n -= start;
    return (ssize_t)size;
}

static int filter_close(void *cookie)
{
    tty_filter *t = cookie;
    if (t->n) filter_emit(t->p, t->n);
    free(t->p);
    free(t);
    return fflush(stdout) == 0 ? 0 : EOF;
}

FILE *cmd_data_out(void)
{
    if (!isatty(STDOUT_FILENO)) return stdout;
    tty_filter *t = calloc(1, sizeof *t);
    cookie_io_functions_t io = {.write = filter_write, .close = filter_close};
    FILE *f = t ? fopencookie(t, "w", io) : NULL;
    if (!f) { free(t); return stdout; }
    return f;
}

void cmd_data_close(FILE *f)
{
    if (f && f != stdout) fclose(f);
}

void cmd_sample_dir(char *buf, size_t len)
{
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;   /* exe is now the binary's folder */
            /* beside the binary (./zoosh), one folder up (build-address/zoosh
             * and the other sanitizer builds), then where make install puts
             * it (PREFIX/bin/zoosh -> PREFIX/share/zoosh) */
            static const char *const where[] = {"%s/sample_data", "%s/../sample_data", "%s/../share/zoosh"};
            for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
                snprintf(buf, len, where[i], exe);
                struct stat st;
                char canon[PATH_MAX];
                if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
                if (realpath(buf, canon)) snprintf(buf, len, "%s", canon);   /* no "bin/.." in provenance */
                return;
            }
        }
    }
    snprintf(buf, len, "sample_data");
}

int cmd_default_encoder(char *buf, size_t len)
{
    const char *env = getenv("ZOOSH_ENCODER");
    if (env && *env) {
        if (strcmp(env, "none") == 0) return 0;
        snprintf(buf, len, "%s", env);
        return 1;
    }
    char dir[2048];
    cmd_sample_dir(dir, sizeof dir);
    snprintf(buf, len, "%s/encoder.safetensors", dir);
    return access(buf, R_OK) == 0;
}

int cmd_ws_failed(const char *cmd, const char *ws, int rc)
{
    const char *detail = tui_text_safe(store_last_error());   /* may name a feature set, a user, a path */
    switch (rc) {
    case STORE_ENOWS: {
        struct stat sb;
        if (stat(ws, &sb) == 0 && !S_ISDIR(sb.st_mode))
            fprintf(stderr, "zoosh %s: %s: not a workspace (a workspace is a directory; zoosh init makes one "
                            "in a new directory)\n", cmd, ws);
        else
            fprintf(stderr, "zoosh %s: %s: no workspace there (create one with: zoosh init %s)\n", cmd, ws, ws);
        return EXIT_WORKSPACE;
    }
    case STORE_EFOREIGN:
        fprintf(stderr, "zoosh %s: %s: not a zoosh workspace, or a damaged one (%s)\n", cmd, ws, detail);
        return EXIT_WORKSPACE;
    case STORE_ECORRUPT:
        fprintf(stderr, "zoosh %s: %s: damaged workspace: %s\n", cmd, ws, detail);
        return EXIT_WORKSPACE;
    case STORE_EVERSION:
        fprintf(stderr, "zoosh %s: %s: written by a newer zoosh (%s); upgrade zoosh to open it\n", cmd, ws, detail);
        return EXIT_WORKSPACE;
    case STORE_EREADONLY:
        fprintf(stderr, "zoosh %s: %s: the workspace is read-only for you: no write permission (ask the workspace's owner, "
                        "or work on a copy: zoosh backup %s DEST)\n",
                cmd, ws, ws);
        return EXIT_WORKSPACE;
    default:
        if (rc > 0 && *detail) fprintf(stderr, "zoosh %s: %s: %s\n", cmd, ws, detail);   /* detail names the errno */
        else fprintf(stderr, "zoosh %s: %s: %s%s%s\n", cmd, ws, store_strerror(rc), *detail ? ": " : "", detail);
        if (rc == EACCES && strcmp(cmd, "init") != 0) return EXIT_WORKSPACE;   /* an existing workspace they may not open */
        return rc == STORE_ENOSPC ? EXIT_WORKSPACE : 1;
    }
}

int cmd_open_ws(const char *cmd, const char *ws, unsigned flags, zs_store **st)
{
    int rc = store_open(st, ws, flags);
    if (rc) return cmd_ws_failed(cmd, ws, rc);
    /* a command that will write says so now, not after minutes of work */
    if (!(flags & STORE_RDONLY) && store_is_readonly(*st)) {
        store_close(*st);
        *st = NULL;
        return cmd_ws_failed(cmd, ws, STORE_EREADONLY);
    }
    if (store_damage(*st)) {
        char buf[512];
        fprintf(stderr, "zoosh %s: %s: note: %s; reading it, writing refused (zoosh check %s --repair DEST makes a "
                        "repaired copy)\n", cmd, ws, cmd_safe_text(store_damage(*st), buf, sizeof buf), ws);
    }
    if (store_is_lockless(*st))
        fprintf(stderr, "zoosh %s: %s: note: no write permission on %s/lock.mdb, reading without LMDB's lock; "
                        "if others are writing now the result may be inconsistent\n", cmd, ws, ws);
    return 0;
}

int cmd_bad_option(const char *cmd, int c, char **argv, int optind_now)
{
    const char *a = optind_now > 0 ? argv[optind_now - 1] : "?";
    if (c == ':') fprintf(stderr, "zoosh %s: option '%s' needs a value (zoosh %s --help)\n", cmd, a, cmd);
    else fprintf(stderr, "zoosh %s: unknown option '%s' (zoosh %s --help)\n", cmd, a, cmd);
    return EXIT_USAGE;
}

int cmd_getopt(int argc, char **argv, const char *shorts, const struct option *lo)
{
    if (optind == 1 && argc == 2 && strcmp(argv[1], CMD_LIST_OPTIONS) == 0) {
        for (int i = 0; lo[i].name; i++) printf("--%s%s\n", lo[i].name, lo[i].has_arg == required_argument ? "=" : "");
        for (const char *p = shorts; *p; p++)
            if (*p != ':') printf("-%c%s\n", *p, p[1] == ':' ? "=" : "");
        exit(fflush(stdout) || ferror(stdout) ? 1 : 0);
    }
    return getopt_long(argc, argv, shorts, lo, NULL);
}

const char *cmd_opt_name(const struct option *lo, int c, char *buf, size_t cap)
{
    for (int i = 0; lo[i].name; i++)
        if (lo[i].val == c && !lo[i].flag) { snprintf(buf, cap, "--%s", lo[i].name); return buf; }
    snprintf(buf, cap, "-%c", c);
    return buf;
}

void cmd_json_string(FILE *f, const char *s)
{
    const char *p = s ? s : "";
    fputc('"', f);
    while (*p) {
        unsigned cp = 0;
        int n = tui_text_utf8_next(p, &cp);
        if (!n) { fputs("\\ufffd", f); p++; continue; }
        if (cp == '"' || cp == '\\') fprintf(f, "\\%c", (int)cp);
        else if (tui_text_unsafe_cp(cp) || cp == 0x2028 || cp == 0x2029)
            fprintf(f, "\\u%04x", cp);   /* controls, bidi and line separators never reach a terminal raw */
        else fwrite(p, 1, (size_t)n, f);
        p += n;
    }
    fputc('"', f);
}

int cmd_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}
