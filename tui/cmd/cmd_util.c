/*
 * cmd_util.c - small things the subcommands share.
 */
#include "tui/cmd/cmd.h"
#include "tui/label/label.h"
#include "tui/text.h"
#include "store/store.h"

#include <errno.h>
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

void cmd_sample_dir(char *buf, size_t len)
{
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        /* beside the binary (./zoosh), or one folder up (build-address/zoosh
         * and the other sanitizer builds) */
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash) break;
            *slash = 0;
            snprintf(buf, len, "%s/sample_data", exe);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return;
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
    const char *detail = store_last_error();
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

int cmd_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}
