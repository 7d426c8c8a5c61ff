/*
 * label.h - the labeling screen (zoosh label): a terminal front end over the
 * labeling rules of core/session.h.
 */
#ifndef ZOOSH_TUI_LABEL_H
#define ZOOSH_TUI_LABEL_H

#include "tui/gfx/gfx.h"

/* ---- the screen */

typedef struct {
    const char *ws;
    const char *task;           /* schema name or file */
    tui_gfx_kind graphics;      /* TUI_GFX_AUTO: ask the terminal */
    int retire;                 /* <= 0: 5 */
    const char *keys_file;      /* NULL = defaults */
    const char *order;          /* a core_order name (core/acquire.h); NULL = the stored queue's */
    int retrain_every;          /* answers between background retrains (0 = never, < 0: 10) */
    int retrain_secs;           /* or this many seconds with new answers (<= 0: 300) */
    int image_px;               /* largest image side in pixels (0 = fill the pane) */
    const char *features;       /* feature set of the retrains and the s grid; NULL = the workspace default */
    int blind;                  /* the model's probabilities: 0 by task (hidden for trees of
                                 * several questions), 1 hidden (--blind), -1 shown (--no-blind) */
    int grid;                   /* start on a grid page of the queue (--grid) */
    int clusters;               /* start on cluster pages (--clusters) */
    const char *guide;          /* the field guide folder (core/guide.h); NULL: $ZOOSH_GUIDE */
    const char *finetune_base;  /* the encoder the background trainer fine-tunes a task from
                                 * (one that zoosh train --finetune set up); NULL = never */
} tui_label_opts;

/* Runs the labeler until the user quits or a signal ends it; returns the
 * process exit status (messages on stderr only while curses is down). */
int tui_label_run(const tui_label_opts *o);

#endif
