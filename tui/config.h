/*
 * config.h - zoosh's per-user configuration files in $XDG_CONFIG_HOME/zoosh/
 * (else ~/.config/zoosh/):
 *
 *   config   defaults for the labeler, one "name = value" a line, '#' starts a
 *            comment line:  graphics = sixel|kitty|...|blocks|none
 *                           order = uncertain|likely|...    retire = N
 *                           finetune = on|off (the labeler's background fine-tuning)
 *   keys     key remapping, read when no --keys FILE is given (the format of
 *            --keys: lines like "undo u")
 *
 * Command-line options win over the file.  A file that is there but cannot be
 * trusted or read is refused, never half-used: a bad line is an error naming
 * file:line; the folder or file being a symlink, owned by another user (root
 * aside) or writable by group or others is an error too, because zoosh runs
 * on shared machines where a planted file would change what a user labels.
 */
#ifndef ZOOSH_TUI_CONFIG_H
#define ZOOSH_TUI_CONFIG_H

#include <stddef.h>

#include "tui/gfx/gfx.h"

/* The path of config file NAME ("config" or "keys") in buf.  1 when it is
 * there and safe to read, 0 when there is none (no such file, or neither
 * $XDG_CONFIG_HOME nor $HOME set), -1 when it is refused (reason in err,
 * naming the path). */
int tui_config_path(const char *name, char *buf, size_t cap, char *err, size_t errlen);

typedef struct {
    int has_graphics;
    tui_gfx_kind graphics;
    char order[32];              /* "" when not set */
    int retire;                  /* 0 when not set */
    int finetune;                /* 0 when not set, 1 on, -1 off */
} tui_config;

/* Reads the labeler defaults from PATH (a file tui_config_path accepted)
 * into *c (zeroed first).  0, or -1 with "PATH:LINE: what is wrong" in err. */
int tui_config_read(const char *path, tui_config *c, char *err, size_t errlen);

#endif
