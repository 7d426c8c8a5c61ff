/*
 * cmd_util.c - small things the subcommands share.
 */
#include "tui/cmd.h"
#include "tui/label.h"

#include <unistd.h>

const char *cmd_safe_text(const char *s, char *buf, size_t cap)
{
    static int tty = -1;
    if (tty < 0) tty = isatty(STDOUT_FILENO);
    if (!tty || !s) return s ? s : "";
    tui_label_sanitize(s, buf, cap, 0);
    return buf;
}
