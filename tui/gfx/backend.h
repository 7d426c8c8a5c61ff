/*
 * backend.h - private to tui/gfx/: what a graphics backend provides to
 * gfx.c's table, and the state they share.  The labeler uses gfx.h only.
 */
#ifndef ZOOSH_TUI_GFX_BACKEND_H
#define ZOOSH_TUI_GFX_BACKEND_H

#include "tui/gfx/gfx.h"

/* Inside a tmux pane (tmux.c): what tmux says of the terminal outside. */
typedef struct {
    int in;                     /* $TMUX is set */
    int asked;                  /* tmux answered */
    int pass;                   /* the pane's allow-passthrough is on */
    int top, left;              /* the pane's first cell on the outer screen (0-based) */
    int cell_w, cell_h;         /* the client's pixels per cell (0 = unknown) */
    char termname[48];          /* the client's TERM, printable ASCII */
} tui_gfx_tmux;

/* Asks tmux (when $TMUX is set; else t is zeroed and 0 returned).  0, or -1
 * when tmux did not answer (t->in set, nothing else). */
int tui_gfx_tmux_ask(tui_gfx_tmux *t);
/* The passthrough that draws bytes at the pane's cell (y, x) on the outer
 * terminal: save cursor, position, pre, bytes, restore, all inside DCS
 * tmux; ... ST.  malloc'ed; *out_len its length. */
char *tui_gfx_tmux_wrap(const tui_gfx_tmux *t, const char *pre, size_t npre, const char *bytes, size_t len,
                        int y, int x, size_t *out_len);

struct tui_gfx {
    const struct tui_gfx_backend *be;
    tui_gfx_kind kind;
    tui_term_caps caps;         /* the probe's replies (zeroed when not asked) */
    int cell_w, cell_h;         /* pixels per character cell (10 x 20 when not told) */
    int colors;                 /* sixel colour registers (2..256) */
    int mode;                   /* the symbols' tui_blocks_mode, set by start */
    int utf8;
    tui_gfx_tmux tmux;          /* tmux.c; images pass through it when tmux.pass */
    char note[160];             /* why the backend is not the one asked for ("" = it is) */
};

typedef struct tui_gfx_backend {
    const char *name;
    int images;                 /* 0: text only */
    int probe;                  /* asks the terminal before curses starts (cell size, colours) */
    int cell_px_w, cell_px_h;   /* pixels per cell; 0: the terminal's cell size */
    int scaled;                 /* pixels are scaled to cells: a pixel cap applies */
    int tile_px;                /* a grid tile's image side */
    int layered;                /* images lie on a layer text does not erase (kitty):
                                 * the image under a cell is deleted before another is placed there */
    /* auto: 1 when the terminal has it (NULL: every terminal) */
    int (*detect)(const tui_term_caps *caps);
    /* after curses started (NULL: nothing to do) */
    void (*start)(tui_gfx *g, int term_colors);
    /* tui_gfx_encode (NULL: no images) */
    int (*encode)(const tui_gfx *g, const uint8_t *rgb, int w, int h, char **out, size_t *len,
                  char *err, size_t errlen);
    /* the bytes that remove every image drawn (NULL: repainting the cells does) */
    const char *clear;
} tui_gfx_backend;

extern const tui_gfx_backend tui_gfx_sixel_backend;
extern const tui_gfx_backend tui_gfx_kitty_backend;
extern const tui_gfx_backend tui_gfx_iterm2_backend;
extern const tui_gfx_backend tui_gfx_blocks_backend;

/* Standard base64 of b[0..n) (padded, no line breaks), NUL-terminated and
 * malloc'ed; *len its length. */
char *tui_gfx_base64(const uint8_t *b, size_t n, size_t *len);

#endif
