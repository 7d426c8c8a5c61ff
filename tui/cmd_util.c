/*
 * cmd_util.c - small things the subcommands share.
 */
#include "tui/cmd.h"
#include "tui/label.h"

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
    tui_label_sanitize(s, buf, cap, 0);
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
