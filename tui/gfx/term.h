/*
 * term.h - what the terminal can do, asked before initscr().
 *
 * The labeler asks the terminal (in raw mode, with one bounded wait) for its
 * Primary Device Attributes (DA1 attribute 4 = sixel), its cell size in
 * pixels (CSI 16 t), the sixel graphics geometry and the number of colour
 * registers (XTSMGRAPHICS), whether it shows kitty graphics (APC G a=q),
 * keeps a direct colour (SGR 48:2 read back with DECRQSS) and its name
 * (XTVERSION), and falls back to TIOCGWINSZ's pixel size.  Never TERM.  The
 * reply parser is a pure function over bytes so it can be tested on real
 * replies, partial replies and garbage (tests/t_term.c).
 */
#ifndef ZOOSH_TUI_TERM_H
#define ZOOSH_TUI_TERM_H

#include <stddef.h>

/* Which replies were seen (tui_term_caps.seen bits). */
#define TUI_TERM_SEEN_DA1      0x1
#define TUI_TERM_SEEN_CELL     0x2   /* CSI 6 ; h ; w t */
#define TUI_TERM_SEEN_GEOMETRY 0x4   /* XTSMGRAPHICS Pi=2 */
#define TUI_TERM_SEEN_COLORS   0x8   /* XTSMGRAPHICS Pi=1 */
#define TUI_TERM_SEEN_WINSZ    0x10  /* TIOCGWINSZ gave pixel sizes */
#define TUI_TERM_SEEN_KITTY    0x20  /* APC G ... ;OK: the kitty graphics query */
#define TUI_TERM_SEEN_RGB      0x40  /* DECRQSS of SGR gave the direct colour back */
#define TUI_TERM_SEEN_VERSION  0x80  /* XTVERSION: DCS > | name ST */

typedef struct {
    unsigned seen;      /* TUI_TERM_SEEN_* */
    int da1_class;      /* first DA1 parameter: 62..65 for VT2xx..VT5xx, 1 for tmux */
    int sixel;          /* DA1 listed attribute 4 */
    int kitty;          /* answered the kitty graphics query (a=q) with OK */
    int truecolor;      /* kept a direct-colour SGR (DECRQSS reply 48:2 / 48;2) */
    int iterm2;         /* XTVERSION names a terminal with OSC 1337 images (iTerm2, WezTerm) */
    char version[48];   /* XTVERSION's name, printable ASCII only */
    int cell_w, cell_h; /* pixels per character cell (0 = unknown) */
    int gfx_w, gfx_h;   /* XTSMGRAPHICS sixel geometry in pixels (0 = unknown) */
    int colors;         /* sixel colour registers (0 = unknown) */
    int cols, rows;     /* TIOCGWINSZ, cells (0 = unknown) */
    int probe_ms;       /* how long the probe waited */
    /* keys typed while the probe listened (bytes outside any escape
     * sequence, in order): the labeler hands them to curses, so a person who
     * types at once loses nothing */
    char typeahead[64];
    int n_typeahead;
} tui_term_caps;

/* Parses terminal replies in buf[0..len) into caps: every complete DA1,
 * CSI 6;h;w t and XTSMGRAPHICS reply found updates caps; other sequences
 * are skipped, and bytes outside any sequence (keys) are appended to
 * caps->typeahead while it has room.  Returns how many bytes were consumed: an incomplete escape
 * sequence at the end is left unconsumed so the caller can append more bytes
 * and parse again.  Never reads outside buf, never fails. */
size_t tui_term_parse(const char *buf, size_t len, tui_term_caps *caps);

/* Probes the terminal (queries written to out_fd, replies read from in_fd,
 * both the same tty) within budget_ms
 * (250 ms when <= 0): raw mode, the queries, replies read until DA1 arrives
 * (it is sent last and every terminal answers it) or time runs out; the
 * terminal mode is restored.  Fills caps (zeroed first) and derives cell_w /
 * cell_h from the geometry or the window size when CSI 16 t gave none.
 * Returns 0, or -1 when either fd is not a terminal (caps then only zeroed). */
int tui_term_probe(int in_fd, int out_fd, tui_term_caps *caps, int budget_ms);

#endif
