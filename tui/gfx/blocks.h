/*
 * blocks.h - the image as text cells where the terminal shows no pixels (tmux,
 * screen, mosh, most terminals): each cell is an upper half block U+2580
 * whose foreground is the upper pixel and background the lower one, in
 * truecolour (COLORTERM=truecolor/24bit, or a terminal that keeps a direct
 * colour) or the xterm 256-colour palette (error-diffused: the hue stays);
 * without colour (NO_COLOR, or a terminal of fewer colours) a grey ramp of
 * ASCII characters.  The labeler reaches it through gfx.h (the blocks row
 * of its table); tests call the encoder directly.
 */
#ifndef ZOOSH_TUI_BLOCKS_H
#define ZOOSH_TUI_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TUI_BLOCKS_PLAIN = 0,   /* no colour: ASCII characters by brightness */
    TUI_BLOCKS_256   = 1,   /* xterm 256-colour palette (SGR 38;5 / 48;5) */
    TUI_BLOCKS_TRUE  = 2,   /* 24-bit colour (SGR 38;2 / 48;2) */
} tui_blocks_mode;

/* The mode for this terminal: no_color = getenv("NO_COLOR") (set and
 * non-empty = plain), colorterm = getenv("COLORTERM"), ncolors = curses'
 * COLORS (or tigetnum("colors")). */
tui_blocks_mode tui_blocks_pick(const char *no_color, const char *colorterm, int ncolors);

/* Encodes rgb (h, w, 3) as (h + 1) / 2 rows of w cells.  The bytes draw the
 * rows starting at the cursor and move back with relative cursor motions
 * (CUB/CUD) between rows, so the caller positions the cursor first; they end
 * with the attributes reset.  utf8 = 0 draws colour cells as spaces with the
 * average as background.  *out malloc'ed (caller frees). */
void tui_blocks_encode(const uint8_t *rgb, int w, int h, tui_blocks_mode mode, int utf8,
                       char **out, size_t *len);

/* The nearest xterm 256-colour index (16..255) to an RGB colour. */
int tui_blocks_xterm256(int r, int g, int b);

#endif
