/*
 * gfx.h - one interface over the ways a terminal can show an image: probe
 * the terminal (term.h's replies), the geometry (pixels per cell, the
 * largest image for a cell rectangle, a grid tile), encode an RGB image into
 * the bytes that draw it, place those bytes at a cell, and clear.  The
 * labeler knows no protocol: it asks this interface.
 *
 * Backends are rows of one table (gfx.c): sixel (sixel.c, libsixel), the
 * kitty graphics protocol (kitty.c), iTerm2 inline images (iterm2.c),
 * symbols (blocks.c, coloured half-block text cells) and none (text only).  A new protocol
 * is one file here, a value of tui_gfx_kind and a row of that table.  Only
 * the UI thread calls this (libsixel is not thread-safe).
 */
#ifndef ZOOSH_TUI_GFX_H
#define ZOOSH_TUI_GFX_H

#include <stddef.h>
#include <stdint.h>

#include "tui/gfx/term.h"

typedef enum {
    TUI_GFX_AUTO = 0,       /* ask the terminal; the first backend it has */
    TUI_GFX_SIXEL,
    TUI_GFX_KITTY,
    TUI_GFX_ITERM2,
    TUI_GFX_SYMBOLS,        /* half blocks ("blocks" is accepted for it too) */
    TUI_GFX_NONE,
    TUI_GFX__N
} tui_gfx_kind;

typedef struct tui_gfx tui_gfx;

/* A rectangle of cells and the image size in pixels drawn into it. */
typedef struct {
    int cols, rows;         /* cells */
    int px_w, px_h;         /* pixels of the image (0 x 0: no image) */
} tui_gfx_box;

/* "sixel" -> TUI_GFX_SIXEL ("auto" too, "blocks" for symbols): 0, or -1
 * for an unknown name. */
int tui_gfx_parse(const char *name, tui_gfx_kind *out);
/* The backends' names for a message: "sixel, kitty, iterm2, symbols or
 * none" (static). */
const char *tui_gfx_names(void);

/* Picks the backend KIND (AUTO: kitty, sixel, iterm2 in that order, the
 * first the terminal's replies show; else symbols; inside tmux, which
 * answers the probe for itself, kitty when tmux says its client is kitty
 * and the pane allows passthrough, else symbols; an image backend asked
 * for inside tmux without passthrough becomes symbols, tui_gfx_note says
 * why) and, when it
 * needs to know (AUTO, sixel) and in_fd / out_fd are a terminal, probes it
 * within budget_ms before curses starts.  utf8: the locale's codeset is
 * UTF-8.  Never fails: the symbols fall back where nothing else is seen. */
int tui_gfx_new(tui_gfx **out, tui_gfx_kind kind, int in_fd, int out_fd, int budget_ms, int utf8);
void tui_gfx_free(tui_gfx *g);          /* NULL is a no-op */
/* After curses started: the terminal's colours as curses knows them
 * (256 inside tmux / screen); NO_COLOR and COLORTERM are read here (true
 * colour: COLORTERM, or the probe saw a direct colour kept). */
void tui_gfx_start(tui_gfx *g, int term_colors);

tui_gfx_kind tui_gfx_which(const tui_gfx *g);
/* Why the backend is not the one asked for (e.g. inside tmux without
 * passthrough), "" when it is. */
const char *tui_gfx_note(const tui_gfx *g);
/* Inside tmux: "no" (not in tmux), "no answer", "passthrough" (images go
 * to the terminal outside tmux, wrapped in tmux's passthrough sequence, at
 * the pane's place on the outer screen) or "no passthrough". */
const char *tui_gfx_tmux_state(const tui_gfx *g);
/* The screen was resized: inside tmux, ask again where the pane lies. */
void tui_gfx_moved(tui_gfx *g);
const char *tui_gfx_name(const tui_gfx *g);
/* What the probe heard (typeahead included); zeroed when it did not ask. */
const tui_term_caps *tui_gfx_caps(const tui_gfx *g);
/* 0 for text only: no image is drawn. */
int tui_gfx_images(const tui_gfx *g);

/* The largest square image for at most max_cols x max_rows cells into box
 * (all 0 for text only); cap_px > 0 caps its side in pixels where the
 * backend scales pixels (sixel). */
void tui_gfx_fit(const tui_gfx *g, int max_cols, int max_rows, int cap_px, tui_gfx_box *box);
/* A grid tile: its cells (the image and a border of one cell, or one text
 * row of 24 cells for text only) and its square image side in pixels. */
void tui_gfx_tile(const tui_gfx *g, tui_gfx_box *tile);

/* Encodes rgb (h, w, 3) into the bytes that draw it from the cursor down
 * and to the right; *out malloc'ed (caller frees).  Returns 0, or -1 with a
 * reason in err (*out NULL). */
int tui_gfx_encode(const tui_gfx *g, const uint8_t *rgb, int w, int h, char **out, size_t *len,
                   char *err, size_t errlen);
/* Writes encoded bytes at cell (y, x) (0-based) to fd, then moves the
 * cursor to (back_y, back_x), where curses believes it is, in one write
 * (kitty: the image placed at that cell before is deleted first).
 * Returns 0, or -1 when the terminal is gone. */
int tui_gfx_place(const tui_gfx *g, int fd, const char *bytes, size_t len, int y, int x, int back_y, int back_x);
/* Removes the images drawn, for a screen about to be repainted whole.  For
 * sixel, iTerm2 and symbols the repaint of their cells is what removes them
 * (erase sequences do not), so nothing is written; kitty's are deleted. */
int tui_gfx_clear(const tui_gfx *g, int fd);

#endif
