/*
 * label.h - the labeling screen (zoosh label): a terminal front end over the
 * labeling rules of core/session.h.
 */
#ifndef ZOOSH_TUI_LABEL_H
#define ZOOSH_TUI_LABEL_H

/* ---- the screen */
typedef enum { TUI_GRAPHICS_AUTO = 0, TUI_GRAPHICS_SIXEL, TUI_GRAPHICS_BLOCKS, TUI_GRAPHICS_NONE } tui_graphics;

typedef struct {
    const char *ws;
    const char *task;           /* schema name or file */
    tui_graphics graphics;
    int retire;                 /* <= 0: 5 */
    const char *keys_file;      /* NULL = defaults */
    const char *order;          /* NULL = the stored queue's */
    int retrain_every;          /* answers between background retrains (0 = never, < 0: 10) */
    int retrain_secs;           /* or this many seconds with new answers (<= 0: 300) */
    int image_px;               /* largest image side in pixels (0 = fill the pane) */
} tui_label_opts;

/* Runs the labeler until the user quits or a signal ends it; returns the
 * process exit status (messages on stderr only while curses is down). */
int tui_label_run(const tui_label_opts *o);

#endif
