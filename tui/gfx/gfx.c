/*
 * gfx.c - the table of graphics backends and what they share (see gfx.h):
 * picking one (with the terminal probe of term.c), the geometry of cells
 * and tiles, placing encoded bytes at a cell.  The protocols themselves are
 * in sixel.c, kitty.c, iterm2.c and blocks.c; "none" (text only) is the row
 * below.
 */
#include "tui/gfx/backend.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/util.h"

#define CUP_FMT "\x1b[%d;%dH"   /* CUP: cursor position, 1-based row;col */

#define TEXT_TILE_COLS 24       /* a grid tile without images: one row of text */

static const tui_gfx_backend none_backend = {.name = "none"};

/* Indexed by tui_gfx_kind. */
static const tui_gfx_backend *const backends[TUI_GFX__N] = {
    [TUI_GFX_SIXEL] = &tui_gfx_sixel_backend,
    [TUI_GFX_KITTY] = &tui_gfx_kitty_backend,
    [TUI_GFX_ITERM2] = &tui_gfx_iterm2_backend,
    [TUI_GFX_SYMBOLS] = &tui_gfx_blocks_backend,
    [TUI_GFX_NONE] = &none_backend,
};

/* AUTO takes the first of these whose detect says the terminal has it:
 * kitty's pixels are exact (no palette), sixel's have 256 registers. */
static const tui_gfx_kind auto_order[] = {TUI_GFX_KITTY, TUI_GFX_SIXEL, TUI_GFX_ITERM2};

#define DELETE_AT_FMT "\x1b_Ga=d,d=P,x=%d,y=%d,q=2\x1b\\"   /* kitty: delete the images at a cell (1-based), data too */

char *tui_gfx_base64(const uint8_t *b, size_t n, size_t *len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t m = (n + 2) / 3 * 4;
    char *o = xmalloc(m + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) | (i + 2 < n ? b[i + 2] : 0);
        o[j++] = tab[v >> 18 & 63];
        o[j++] = tab[v >> 12 & 63];
        o[j++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        o[j++] = i + 2 < n ? tab[v & 63] : '=';
    }
    o[j] = 0;
    *len = j;
    return o;
}

int tui_gfx_parse(const char *name, tui_gfx_kind *out)
{
    if (!name) return -1;
    if (strcmp(name, "auto") == 0) { *out = TUI_GFX_AUTO; return 0; }
    if (strcmp(name, "blocks") == 0) { *out = TUI_GFX_SYMBOLS; return 0; }   /* its name before symbols */
    for (int k = 1; k < TUI_GFX__N; k++)
        if (strcmp(name, backends[k]->name) == 0) { *out = (tui_gfx_kind)k; return 0; }
    return -1;
}

const char *tui_gfx_names(void)
{
    static char names[128];
    if (!names[0]) {
        size_t len = 0;
        for (int k = 1; k < TUI_GFX__N; k++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                    k == 1 ? "" : k + 1 == TUI_GFX__N ? " or " : ", ", backends[k]->name);
    }
    return names;
}

int tui_gfx_new(tui_gfx **out, tui_gfx_kind kind, int in_fd, int out_fd, int budget_ms, int utf8)
{
    tui_gfx *g = xcalloc(1, sizeof *g);
    g->utf8 = utf8;
    if (kind <= TUI_GFX_AUTO || kind >= TUI_GFX__N || backends[kind]->probe) {
        if (isatty(in_fd) && isatty(out_fd)) tui_term_probe(in_fd, out_fd, &g->caps, budget_ms);
    }
    if (getenv("TMUX") && *getenv("TMUX")) tui_gfx_tmux_ask(&g->tmux);
    if (g->tmux.in) {
        /* tmux answered the probe for itself: what is outside is what tmux says */
        int auto_ = kind <= TUI_GFX_AUTO || kind >= TUI_GFX__N;
        if (auto_) kind = g->tmux.pass && strstr(g->tmux.termname, "kitty") ? TUI_GFX_KITTY : TUI_GFX_SYMBOLS;
        if (backends[kind]->images && kind != TUI_GFX_SYMBOLS && !g->tmux.pass) {
            snprintf(g->note, sizeof g->note, "inside tmux with allow-passthrough off (tmux set -g "
                     "allow-passthrough on): symbols instead of %s", backends[kind]->name);
            kind = TUI_GFX_SYMBOLS;
        }
    } else if (kind <= TUI_GFX_AUTO || kind >= TUI_GFX__N) {
        kind = TUI_GFX_SYMBOLS;
        for (size_t k = 0; k < sizeof auto_order / sizeof auto_order[0]; k++)
            if (backends[auto_order[k]]->detect(&g->caps)) {
                kind = auto_order[k];
                break;
            }
    }
    g->kind = kind;
    g->be = backends[kind];
    g->cell_w = g->caps.cell_w > 0 ? g->caps.cell_w : 10;
    g->cell_h = g->caps.cell_h > 0 ? g->caps.cell_h : 20;
    if (g->tmux.in && g->tmux.cell_w > 0 && g->tmux.cell_h > 0) {
        g->cell_w = g->tmux.cell_w;
        g->cell_h = g->tmux.cell_h;
    }
    g->colors = g->caps.colors >= 2 && g->caps.colors < 256 ? g->caps.colors : 256;
    *out = g;
    return 0;
}

void tui_gfx_free(tui_gfx *g) { free(g); }

void tui_gfx_start(tui_gfx *g, int term_colors)
{
    if (g->be->start) g->be->start(g, term_colors);
}

tui_gfx_kind tui_gfx_which(const tui_gfx *g) { return g->kind; }
const char *tui_gfx_note(const tui_gfx *g) { return g->note; }

const char *tui_gfx_tmux_state(const tui_gfx *g)
{
    return !g->tmux.in ? "no" : !g->tmux.asked ? "no answer" : g->tmux.pass ? "passthrough" : "no passthrough";
}

void tui_gfx_moved(tui_gfx *g)
{
    if (!g->tmux.in) return;
    tui_gfx_tmux t;
    if (tui_gfx_tmux_ask(&t) == 0) {
        g->tmux.top = t.top;
        g->tmux.left = t.left;
    }
}

/* Passthrough in use: the pixels go to the terminal outside tmux. */
static int through_tmux(const tui_gfx *g)
{
    return g->tmux.pass && g->be->images && g->kind != TUI_GFX_SYMBOLS;
}
const char *tui_gfx_name(const tui_gfx *g) { return g->be->name; }
const tui_term_caps *tui_gfx_caps(const tui_gfx *g) { return &g->caps; }
int tui_gfx_images(const tui_gfx *g) { return g->be->images; }

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

static void cell_px(const tui_gfx *g, int *w, int *h)
{
    *w = g->be->cell_px_w > 0 ? g->be->cell_px_w : g->cell_w;
    *h = g->be->cell_px_h > 0 ? g->be->cell_px_h : g->cell_h;
}

void tui_gfx_fit(const tui_gfx *g, int max_cols, int max_rows, int cap_px, tui_gfx_box *box)
{
    memset(box, 0, sizeof *box);
    if (!g->be->images) return;
    int cw, ch;
    cell_px(g, &cw, &ch);
    int side = max_cols * cw < max_rows * ch ? max_cols * cw : max_rows * ch;
    if (g->be->scaled && cap_px > 0 && side > cap_px) side = cap_px;
    box->px_w = box->px_h = side;
    box->cols = ceil_div(side, cw);
    box->rows = ceil_div(side, ch);
}

void tui_gfx_tile(const tui_gfx *g, tui_gfx_box *tile)
{
    memset(tile, 0, sizeof *tile);
    if (!g->be->images) {
        tile->cols = TEXT_TILE_COLS;
        tile->rows = 1;
        return;
    }
    int cw, ch;
    cell_px(g, &cw, &ch);
    tile->px_w = tile->px_h = g->be->tile_px;
    tile->cols = ceil_div(g->be->tile_px, cw) + 2;
    tile->rows = ceil_div(g->be->tile_px, ch) + 2;
}

int tui_gfx_encode(const tui_gfx *g, const uint8_t *rgb, int w, int h, char **out, size_t *len,
                   char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (!g->be->encode) {
        snprintf(err, errlen, "no images (text only)");
        return -1;
    }
    return g->be->encode(g, rgb, w, h, out, len, err, errlen);
}

/* One writev: the terminal gets position, image and the way back together.
 * A slow terminal (a pty behind SSH) may take part of it: the rest follows,
 * waiting while the descriptor is full (non-blocking), since an image cut
 * short leaves the terminal inside its escape sequence, swallowing the text
 * curses writes next. */
static int write_all(int fd, struct iovec *iov, int n)
{
    int i = 0;
    while (i < n) {
        ssize_t w = writev(fd, iov + i, n - i);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 5000) <= 0 && errno != EINTR) return -1;
            continue;
        }
        if (w <= 0) return -1;             /* terminal gone */
        while (i < n && (size_t)w >= iov[i].iov_len) { w -= (ssize_t)iov[i].iov_len; i++; }
        if (i < n) { iov[i].iov_base = (char *)iov[i].iov_base + w; iov[i].iov_len -= (size_t)w; }
    }
    return 0;
}

int tui_gfx_place(const tui_gfx *g, int fd, const char *bytes, size_t len, int y, int x, int back_y, int back_x)
{
    if (!bytes || len == 0) return 0;
    char pre[80], post[32];
    int npre = 0;
    if (through_tmux(g)) {
        /* kitty's delete names the outer screen's cell */
        if (g->be->layered)
            npre = snprintf(pre, sizeof pre, DELETE_AT_FMT, g->tmux.left + x + 1, g->tmux.top + y + 1);
        size_t wl;
        char *w = tui_gfx_tmux_wrap(&g->tmux, pre, (size_t)npre, bytes, len, y, x, &wl);
        int npost = snprintf(post, sizeof post, CUP_FMT, back_y + 1, back_x + 1);
        struct iovec iov[2] = {{w, wl}, {post, (size_t)npost}};
        int rc = write_all(fd, iov, 2);
        free(w);
        return rc;
    }
    if (g->be->layered) npre = snprintf(pre, sizeof pre, DELETE_AT_FMT, x + 1, y + 1);
    npre += snprintf(pre + npre, sizeof pre - (size_t)npre, CUP_FMT, y + 1, x + 1);
    int npost = snprintf(post, sizeof post, CUP_FMT, back_y + 1, back_x + 1);
    struct iovec iov[3] = {{pre, (size_t)npre}, {(char *)bytes, len}, {post, (size_t)npost}};
    return write_all(fd, iov, 3);
}

int tui_gfx_clear(const tui_gfx *g, int fd)
{
    if (!g->be->clear) return 0;
    if (through_tmux(g)) {
        size_t wl;
        char *w = tui_gfx_tmux_wrap(&g->tmux, "", 0, g->be->clear, strlen(g->be->clear), 0, 0, &wl);
        struct iovec iov[1] = {{w, wl}};
        int rc = write_all(fd, iov, 1);
        free(w);
        return rc;
    }
    struct iovec iov[1] = {{(char *)g->be->clear, strlen(g->be->clear)}};
    return write_all(fd, iov, 1);
}
