/*
 * blocks.c - half-block cells for terminals without pixels (see blocks.h),
 * and the symbols row of gfx.c's table at the end.
 */
#include "tui/gfx/blocks.h"
#include "tui/gfx/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define SGR_RESET       "\x1b[0m"          /* SGR 0: all attributes off */
#define SGR_FG_TRUE     "\x1b[38;2;%d;%d;%dm" /* SGR 38;2: direct-colour foreground */
#define SGR_BG_TRUE     "\x1b[48;2;%d;%d;%dm" /* SGR 48;2: direct-colour background */
#define SGR_FG_256      "\x1b[38;5;%dm"    /* SGR 38;5: indexed foreground */
#define SGR_BG_256      "\x1b[48;5;%dm"    /* SGR 48;5: indexed background */
#define CUB_N           "\x1b[%dD"         /* CUB: cursor back n columns */
#define CUD_1           "\x1b[B"           /* CUD: cursor down one line */
#define UPPER_HALF      "\xe2\x96\x80"     /* U+2580 UPPER HALF BLOCK */

static const char ramp[] = " .:-=+*#%@";    /* dark -> bright */

tui_blocks_mode tui_blocks_pick(const char *no_color, const char *colorterm, int ncolors)
{
    if (no_color && *no_color) return TUI_BLOCKS_PLAIN;
    if (colorterm && (strcmp(colorterm, "truecolor") == 0 || strcmp(colorterm, "24bit") == 0))
        return TUI_BLOCKS_TRUE;
    if (ncolors >= 256) return TUI_BLOCKS_256;
    return TUI_BLOCKS_PLAIN;
}

static const int cube[6] = {0, 95, 135, 175, 215, 255};

static int nearest_cube(int v)
{
    int best = 0;
    for (int i = 1; i < 6; i++)
        if (abs(cube[i] - v) < abs(cube[best] - v)) best = i;
    return best;
}

/* The xterm palette's colours 16..255: the 6x6x6 cube, then the greys. */
static void palette_rgb(int idx, int *r, int *g, int *b)
{
    if (idx >= 232) {
        *r = *g = *b = 8 + 10 * (idx - 232);
        return;
    }
    idx -= 16;
    *r = cube[idx / 36];
    *g = cube[idx / 6 % 6];
    *b = cube[idx % 6];
}

static long dist2(int r, int g, int b, int pr, int pg, int pb)
{
    return (long)(pr - r) * (pr - r) + (long)(pg - g) * (pg - g) + (long)(pb - b) * (pb - b);
}

/* The nearest of the 240 colours, exactly as a search of them all in index
 * order (first of equals) would find it, in constant time: the squared
 * distance to a cube colour is a sum over channels, so the nearest cube
 * colour is the nearest level per channel (the lower one on a tie); the
 * distance to grey v is smallest for v nearest the channels' mean, so one
 * of the two ramp steps around the mean is the nearest grey. */
int tui_blocks_xterm256(int r, int g, int b)
{
    int ri = nearest_cube(r), gi = nearest_cube(g), bi = nearest_cube(b);
    long dc = dist2(r, g, b, cube[ri], cube[gi], cube[bi]);
    int k0 = (r + g + b - 24) / 30;       /* floor((mean - 8) / 10) for a mean >= 8 */
    if (r + g + b < 24) k0 = 0;
    if (k0 > 23) k0 = 23;
    int best_k = k0;
    long dg = dist2(r, g, b, 8 + 10 * k0, 8 + 10 * k0, 8 + 10 * k0);
    if (k0 < 23) {
        long d1 = dist2(r, g, b, 18 + 10 * k0, 18 + 10 * k0, 18 + 10 * k0);
        if (d1 < dg) { dg = d1; best_k = k0 + 1; }
    }
    if (dg < dc) return 232 + best_k;
    return 16 + 36 * ri + 6 * gi + bi;
}

static int clamp255(float v) { return v < 0 ? 0 : v > 255 ? 255 : (int)(v + 0.5f); }

/* Floyd-Steinberg over the palette (serpentine rows) into idx (h, w).  The
 * cube's darkest colour after black is 95: a nearest colour alone turns the
 * dim, slightly red or blue light of a galaxy grey or black, while the
 * diffused error keeps each small area's mean colour, hue included. */
static void dither_256(const uint8_t *rgb, int w, int h, uint8_t *idx)
{
    float *cur = xcalloc((size_t)(w + 2) * 3, sizeof *cur), *nxt = xcalloc((size_t)(w + 2) * 3, sizeof *nxt);
    for (int y = 0; y < h; y++) {
        int rev = y & 1, step = rev ? -1 : 1;
        memset(nxt, 0, (size_t)(w + 2) * 3 * sizeof *nxt);
        for (int i = 0; i < w; i++) {
            int x = rev ? w - 1 - i : i;
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            float *e = cur + (size_t)(x + 1) * 3;
            int v[3];
            for (int c = 0; c < 3; c++) v[c] = clamp255(p[c] + e[c]);
            int k = tui_blocks_xterm256(v[0], v[1], v[2]);
            idx[(size_t)y * w + x] = (uint8_t)k;
            int q[3];
            palette_rgb(k, &q[0], &q[1], &q[2]);
            for (int c = 0; c < 3; c++) {
                float err = (float)(p[c] + e[c] - q[c]);
                cur[(size_t)(x + 1 + step) * 3 + c] += err * 7 / 16;
                nxt[(size_t)(x + 1 - step) * 3 + c] += err * 3 / 16;
                nxt[(size_t)(x + 1) * 3 + c] += err * 5 / 16;
                nxt[(size_t)(x + 1 + step) * 3 + c] += err * 1 / 16;
            }
        }
        float *t = cur; cur = nxt; nxt = t;
    }
    free(cur);
    free(nxt);
}

typedef struct { char *p; size_t len, cap; } obuf;

static void put(obuf *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        while (o->len + n + 1 > o->cap) o->cap = o->cap ? o->cap * 2 : 4096;
        o->p = xrealloc(o->p, o->cap);
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void putf1(obuf *o, const char *fmt, int a)
{
    char t[32];
    int n = snprintf(t, sizeof t, fmt, a);
    put(o, t, (size_t)n);
}

static void putf3(obuf *o, const char *fmt, int a, int b, int c)
{
    char t[48];
    int n = snprintf(t, sizeof t, fmt, a, b, c);
    put(o, t, (size_t)n);
}

void tui_blocks_encode(const uint8_t *rgb, int w, int h, tui_blocks_mode mode, int utf8,
                       char **out, size_t *len)
{
    obuf o = {0};
    int rows = (h + 1) / 2;
    uint8_t *idx = NULL;        /* (h, w) palette indices: 256 colours in half blocks */
    if (mode == TUI_BLOCKS_256 && utf8) {
        idx = xmalloc((size_t)w * h);
        dither_256(rgb, w, h, idx);
    }
    put(&o, "", 0);
    for (int y = 0; y < rows; y++) {
        int fg = -1, bg = -1;           /* last emitted (packed rgb or index) */
        for (int x = 0; x < w; x++) {
            const uint8_t *t = rgb + ((size_t)(2 * y) * w + x) * 3;
            const uint8_t *b = 2 * y + 1 < h ? t + (size_t)w * 3 : t;
            if (mode == TUI_BLOCKS_PLAIN) {
                int lum = (t[0] * 3 + t[1] * 6 + t[2] + b[0] * 3 + b[1] * 6 + b[2]) / 20;
                char c = ramp[lum * (int)(sizeof ramp - 2) / 255];
                put(&o, &c, 1);
                continue;
            }
            int tr = t[0], tg = t[1], tb = t[2], br = b[0], bgc = b[1], bb = b[2];
            if (!utf8) {
                tr = br = (t[0] + b[0]) / 2;
                tg = bgc = (t[1] + b[1]) / 2;
                tb = bb = (t[2] + b[2]) / 2;
            }
            if (mode == TUI_BLOCKS_TRUE) {
                int f = tr << 16 | tg << 8 | tb, k = br << 16 | bgc << 8 | bb;
                if (utf8 && f != fg) { putf3(&o, SGR_FG_TRUE, tr, tg, tb); fg = f; }
                if (k != bg) { putf3(&o, SGR_BG_TRUE, br, bgc, bb); bg = k; }
            } else {
                int f, k;
                if (idx) {
                    f = idx[(size_t)(2 * y) * w + x];
                    k = idx[(size_t)(2 * y + 1 < h ? 2 * y + 1 : 2 * y) * w + x];
                } else {
                    f = tui_blocks_xterm256(tr, tg, tb);
                    k = tui_blocks_xterm256(br, bgc, bb);
                }
                if (utf8 && f != fg) { putf1(&o, SGR_FG_256, f); fg = f; }
                if (k != bg) { putf1(&o, SGR_BG_256, k); bg = k; }
            }
            if (utf8) put(&o, UPPER_HALF, sizeof UPPER_HALF - 1);
            else put(&o, " ", 1);
        }
        if (mode != TUI_BLOCKS_PLAIN) put(&o, SGR_RESET, sizeof SGR_RESET - 1);
        if (y + 1 < rows) {
            putf1(&o, CUB_N, w);
            put(&o, CUD_1, sizeof CUD_1 - 1);
        }
    }
    free(idx);
    *out = o.p;
    *len = o.len;
}

/* ---- the blocks row of gfx.c's table: a cell is 1 x 2 pixels */

static void blocks_start(tui_gfx *g, int term_colors)
{
    /* the probe saw a direct colour kept (DECRQSS): as COLORTERM=truecolor */
    const char *colorterm = g->caps.truecolor ? "truecolor" : getenv("COLORTERM");
    g->mode = (int)tui_blocks_pick(getenv("NO_COLOR"), colorterm, term_colors);
}

static int blocks_gfx_encode(const tui_gfx *g, const uint8_t *rgb, int w, int h, char **out, size_t *len,
                             char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    tui_blocks_encode(rgb, w, h, (tui_blocks_mode)g->mode, g->utf8, out, len);
    return 0;
}

const tui_gfx_backend tui_gfx_blocks_backend = {
    .name = "symbols",
    .images = 1,
    .cell_px_w = 1,
    .cell_px_h = 2,
    .tile_px = 16,
    .start = blocks_start,
    .encode = blocks_gfx_encode,
};
