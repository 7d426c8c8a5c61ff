/*
 * t_label.c - the labeler without a terminal: the background trainer beside a
 * labeling session, catalog text sanitising, the image tools, and the image
 * encoders (sixel decoded back by libsixel, half blocks).  The session's own
 * rules are in t_session.c.
 */
#include <math.h>
#include <sixel.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "core/util.h"
#include "store/store.h"
#include "tests/zt.h"
#include "tests/zt_ws.h"
#include "tui/gfx/blocks.h"
#include "tui/label/label.h"
#include "core/session.h"
#include "tui/text.h"
#include "core/view.h"
#include "tui/gfx/sixel.h"
#include "tui/label/trainer.h"
#include "core/learn.h"
#include "core/labeler.h"
#include "tui/gfx/gfx.h"
#include <time.h>
#include <unistd.h>



/* ---- the background trainer */

typedef struct { int n, dim; } feat_ctx;

static int feat_fn(zs_txn *txn, void *vctx)
{
    feat_ctx *c = vctx;
    int rc = store_featset_put(txn, "test", c->dim, "t_label random");
    if (rc) return rc;
    core_rng r;
    core_rng_seed(&r, 3);
    float v[8];
    for (int g = 1; g <= c->n; g++) {
        for (int k = 0; k < c->dim; k++) v[k] = (float)core_rng_normal(&r) + (k == 0 ? (g % 2 ? 2.0f : -2.0f) : 0.0f);
        rc = store_feature_put(txn, "test", (uint32_t)g, v, c->dim);
        if (rc) return rc;
    }
    return 0;
}

static void trainer_runs_in_the_background_and_reports(void)
{
    zs_store *st = make_ws(80);
    feat_ctx fc = {80, 8};
    ZT_OK(store_write(st, feat_fn, &fc));
    core_schema s = schema_of("ring");
    core_session *ses = open_as(st, &s, "alice", 5);
    for (int i = 0; i < 30; i++) ZT_OK(core_session_answer(ses, (int)(core_session_gid(ses) % 2 ? 0 : 1)));
    tui_trainer *tr;
    ZT_OK(tui_trainer_new(&tr, st, "ring", NULL));
    double t0 = core_mono_s();
    tui_trainer_submit(tr, "uncertain");
    double submit_ms = (core_mono_s() - t0) * 1e3;
    ZT_CHECK(submit_ms < 5, "submit took %.1f ms: the UI must not wait", submit_ms);
    /* the UI keeps answering while it trains */
    for (int i = 0; i < 5; i++) ZT_OK(core_session_answer(ses, 1));
    int rc = -1, done = 0;
    core_model_info info;
    char err[256] = "";
    for (int i = 0; i < 3000 && !done; i++) {
        done = tui_trainer_poll(tr, &rc, &info, err, sizeof err);
        if (!done) usleep(10000);
    }
    ZT_CHECK(done, "no result within 30 s");
    ZT_CHECK(rc == 0, "core_learn_run failed: %s", err);
    ZT_CHECK(info.version >= 1 && info.n_train >= 30, "model v%u on %d labels", info.version, info.n_train);
    ZT_CHECK(!tui_trainer_busy(tr) && !tui_trainer_poll(tr, &rc, &info, err, sizeof err), "one result, reported once");
    zs_txn *txn;
    uint32_t *gids = NULL;
    int n = 0;
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(core_queue_get(txn, "ring", &gids, &n, &info));
    store_read_end(txn);
    ZT_CHECK(n > 0 && strcmp(info.order, "uncertain") == 0, "a queue of %d by %s", n, info.order);
    core_session_set_queue(ses, gids, n);
    uint32_t next[4];
    ZT_CHECK(core_session_peek(ses, next, 4) > 0, "the session takes the new queue");
    for (int i = 0; i < 4 && i < n; i++) ZT_CHECK(!core_session_answered(ses, next[i]), "no answered galaxy in it");
    free(gids);
    /* a run going when the labeler quits is cancelled and joined */
    tui_trainer_submit(tr, NULL);
    tui_trainer_free(tr);
    core_session_free(ses);
    store_close(st);
}

/* ---- text */

static void catalog_text_is_sanitised(void)
{
    char out[64];
    tui_text_sanitize("NGC\x1b[2J\x1b]0;pwned\x07 1", out, sizeof out, 0);
    ZT_CHECK(strchr(out, 0x1b) == NULL && strchr(out, 0x07) == NULL, "ESC/BEL removed: %s", out);
    ZT_CHECK(strncmp(out, "NGC?[2J?]0;pwned? 1", 64) == 0, "got '%s'", out);
    tui_text_sanitize("a\xc2\x9b" "31mb", out, sizeof out, 0);       /* C1 CSI as UTF-8 */
    ZT_CHECK(strcmp(out, "a?31mb") == 0, "C1 CSI: '%s'", out);
    tui_text_sanitize("x\x9b" "y\xff\xc0\xaf", out, sizeof out, 0);  /* raw 8-bit CSI, invalid, overlong '/' */
    ZT_CHECK(strcmp(out, "x?y???") == 0, "invalid UTF-8: '%s'", out);
    tui_text_sanitize("\xe2\x80\xae" "evil", out, sizeof out, 0);    /* RIGHT-TO-LEFT OVERRIDE */
    ZT_CHECK(strcmp(out, "?evil") == 0, "bidi override: '%s'", out);
    tui_text_sanitize("M\xc3\xa9sz\xc3\xa1ros\tA", out, sizeof out, 0);
    ZT_CHECK(strcmp(out, "M\xc3\xa9sz\xc3\xa1ros A") == 0, "valid UTF-8 kept, tab a space: '%s'", out);
    tui_text_sanitize("M\xc3\xa9sz", out, sizeof out, 1);
    ZT_CHECK(strcmp(out, "M?sz") == 0, "ascii_only: '%s'", out);
    /* capped without cutting a character */
    char small[5];
    size_t n = tui_text_sanitize("ab\xc3\xa9\xc3\xa9", small, sizeof small, 0);
    ZT_CHECK(n == 4 && strcmp(small, "ab\xc3\xa9") == 0, "cap: %zu '%s'", n, small);
    tui_text_sanitize(NULL, out, sizeof out, 0);
    ZT_CHECK(out[0] == 0, "NULL is empty");
    /* random bytes never produce a control character */
    core_rng r;
    core_rng_seed(&r, 7);
    for (int it = 0; it < 5000; it++) {
        char in[40], o2[80];
        for (int i = 0; i < 39; i++) in[i] = (char)(1 + core_rng_below(&r, 255));
        in[39] = 0;
        tui_text_sanitize(in, o2, sizeof o2, 0);
        for (const unsigned char *p = (const unsigned char *)o2; *p; p++)
            ZT_CHECK(*p >= 0x20 && *p != 0x7f, "control byte %#x left", *p);
        ZT_CHECK(strstr(o2, "\xc2\x9b") == NULL, "C1 left");
    }
}

/* ---- image tools and encoders */

static void view_render_identity_invert_zoom(void)
{
    enum { W = 16, H = 16 };
    uint8_t in[W * H * 3], out[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) in[i] = (uint8_t)(i * 7);
    core_view v = {.stretch = CORE_STRETCH_LINEAR};
    core_view_render(in, W, H, &v, out, W, H);
    ZT_CHECK(memcmp(in, out, sizeof in) == 0, "same size, linear: identical");
    v.invert = 1;
    core_view_render(in, W, H, &v, out, W, H);
    for (int i = 0; i < W * H * 3; i++) ZT_CHECK(out[i] == 255 - in[i], "invert at %d", i);
    v.invert = 0;
    v.stretch = CORE_STRETCH_ASINH;
    core_view_render(in, W, H, &v, out, W, H);
    int brighter = 0;
    for (int i = 0; i < W * H * 3; i++) brighter += out[i] >= in[i];
    ZT_CHECK(brighter == W * H * 3, "asinh never darkens");
    /* zoom 2: the central 16/2.25 pixels fill the output; a centre marker grows */
    uint8_t dot[W * H * 3];
    memset(dot, 0, sizeof dot);
    for (int y = 7; y <= 8; y++) for (int x = 7; x <= 8; x++) dot[(y * W + x) * 3] = 255;
    v = (core_view){.stretch = CORE_STRETCH_LINEAR, .zoom = 2};
    core_view_render(dot, W, H, &v, out, W, H);
    int lit = 0;
    for (int i = 0; i < W * H; i++) lit += out[i * 3] > 128;
    ZT_CHECK(lit > 4 * 3, "zoomed centre covers more pixels: %d", lit);
    ZT_CHECK(out[0] == 0, "a corner stays dark");
    /* fit keeps the aspect */
    int ow, oh;
    core_view_fit(256, 128, 100, 100, &ow, &oh);
    ZT_CHECK(ow == 100 && oh == 50, "fit %dx%d", ow, oh);
}

static void sixel_round_trips_through_libsixel(void)
{
    enum { W = 64, H = 48 };
    uint8_t px[W * H * 3], keep[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px + (y * W + x) * 3;
            p[0] = (uint8_t)(x * 4);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)((x + y) & 1 ? 200 : 30);
        }
    memcpy(keep, px, sizeof px);
    char *six;
    size_t len;
    char err[128];
    ZT_OK(tui_sixel_encode(px, W, H, 256, &six, &len, err, sizeof err));
    ZT_CHECK(memcmp(px, keep, sizeof px) == 0, "the caller's pixels are not touched");
    ZT_CHECK(len > 10 && six[0] == 0x1b && six[1] == 'P' && six[len - 2] == 0x1b && six[len - 1] == '\\',
             "DCS ... ST framing");
    unsigned char *ipx = NULL, *pal = NULL;
    int w = 0, h = 0, nc = 0;
    ZT_CHECK(SIXEL_SUCCEEDED(sixel_decode_raw((unsigned char *)six, (int)len, &ipx, &w, &h, &pal, &nc, NULL)), "decodes");
    ZT_CHECK(w == W && h == H && nc <= 256, "decoded %dx%d with %d colours", w, h, nc);
    double err_sum = 0;
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) err_sum += fabs((double)pal[ipx[i] * 3 + c] - keep[i * 3 + c]);
    double mae = err_sum / (W * H * 3);
    ZT_CHECK(mae < 12, "mean abs error %.1f", mae);
    free(ipx);
    free(pal);
    free(six);
    ZT_CHECK(tui_sixel_encode(px, 0, H, 256, &six, &len, err, sizeof err) == -1, "0 wide refused");
}

static void blocks_draw_cells_and_plain_mode_has_no_escapes(void)
{
    enum { W = 10, H = 7 };
    uint8_t px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)(i * 3);
    char *b;
    size_t len;
    tui_blocks_encode(px, W, H, TUI_BLOCKS_TRUE, 1, &b, &len);
    int halves = 0;
    for (char *p = b; (p = strstr(p, "\xe2\x96\x80")); p += 3) halves++;
    ZT_CHECK(halves == W * ((H + 1) / 2), "%d half blocks", halves);
    ZT_CHECK(strstr(b, "\x1b[38;2;") && strstr(b, "\x1b[48;2;"), "truecolour SGR");
    ZT_CHECK(len >= 4 && memcmp(b + len - 4, "\x1b[0m", 4) == 0, "ends reset");
    free(b);
    tui_blocks_encode(px, W, H, TUI_BLOCKS_256, 1, &b, &len);
    ZT_CHECK(strstr(b, "\x1b[38;5;") && !strstr(b, "38;2;"), "256 colours only");
    free(b);
    tui_blocks_encode(px, W, H, TUI_BLOCKS_PLAIN, 1, &b, &len);
    int esc = 0;
    for (size_t i = 0; i < len; i++) esc += b[i] == 0x1b;
    ZT_CHECK(esc == 2 * ((H + 1) / 2 - 1), "plain: only the row moves are escapes (%d)", esc);
    ZT_CHECK(!strstr(b, "38;") && !strstr(b, "\xe2"), "plain: no colour, ASCII only");
    free(b);
    ZT_CHECK(tui_blocks_xterm256(0, 0, 0) == 16 && tui_blocks_xterm256(255, 255, 255) == 231 &&
             tui_blocks_xterm256(255, 0, 0) == 196, "palette corners");
    ZT_CHECK(tui_blocks_xterm256(128, 128, 128) >= 232, "mid grey from the grey ramp");
    ZT_CHECK(tui_blocks_pick("1", "truecolor", 256) == TUI_BLOCKS_PLAIN, "NO_COLOR wins");
    ZT_CHECK(tui_blocks_pick("", "truecolor", 8) == TUI_BLOCKS_TRUE, "empty NO_COLOR is unset");
    ZT_CHECK(tui_blocks_pick(NULL, NULL, 256) == TUI_BLOCKS_256 && tui_blocks_pick(NULL, NULL, 8) == TUI_BLOCKS_PLAIN, "by colours");
}

/* The colour a 256-colour index shows (xterm's palette, 16..255). */
static void xterm_rgb(int k, double *c)
{
    static const int cube[6] = {0, 95, 135, 175, 215, 255};
    if (k >= 232) { c[0] = c[1] = c[2] = 8 + 10 * (k - 232); return; }
    k -= 16;
    c[0] = cube[k / 36]; c[1] = cube[k / 6 % 6]; c[2] = cube[k % 6];
}

/* The constant-time nearest palette colour is the one a search of all 240
 * colours in index order finds (first of equals), on every 3rd level of
 * each channel and on every level of the greys. */
static void xterm256_is_the_searched_nearest(void)
{
    int bad = 0, n = 0, first_bad[3] = {0};
    for (int r = 0; r < 256; r++)
        for (int g = 0; g < 256; g++)
            for (int b = 0; b < 256; b++) {
                if (!((r % 3 == 0 && g % 3 == 0 && b % 3 == 0) || (r == g && g == b) || (r == g && b == r + 1)))
                    continue;
                int best = 16;
                double bd = -1;
                for (int k = 16; k < 256; k++) {
                    double c[3];
                    xterm_rgb(k, c);
                    double d = (c[0] - r) * (c[0] - r) + (c[1] - g) * (c[1] - g) + (c[2] - b) * (c[2] - b);
                    if (bd < 0 || d < bd) { bd = d; best = k; }
                }
                n++;
                if (tui_blocks_xterm256(r, g, b) != best && !bad++) {
                    first_bad[0] = r; first_bad[1] = g; first_bad[2] = b;
                }
            }
    ZT_CHECK(n > 300000 && bad == 0, "%d of %d colours differ from the search (first %d,%d,%d)", bad, n,
             first_bad[0], first_bad[1], first_bad[2]);
}

/* A dim reddish patch, as the light of a DECaLS galaxy: the nearest palette
 * colour is a grey (the cube's first level above black is 95), the
 * error-diffused cells average back to the colour. */
static void blocks_256_keep_a_dim_colour(void)
{
    enum { W = 24, H = 24 };
    static const int want[3] = {62, 38, 30};
    uint8_t px[W * H * 3];
    for (int i = 0; i < W * H; i++) memcpy(px + 3 * i, (uint8_t[3]){62, 38, 30}, 3);
    int k0 = tui_blocks_xterm256(want[0], want[1], want[2]);
    double g[3];
    xterm_rgb(k0, g);
    ZT_CHECK(g[0] == g[1] && g[1] == g[2], "the nearest colour alone is a grey (%d)", k0);
    char *b;
    size_t len;
    tui_blocks_encode(px, W, H, TUI_BLOCKS_256, 1, &b, &len);
    double sum[3] = {0}, c[3];
    int n = 0;
    for (char *p = b; (p = strstr(p, "8;5;")); p += 4) {   /* every SGR 38;5 / 48;5 */
        xterm_rgb(atoi(p + 4), c);
        for (int j = 0; j < 3; j++) sum[j] += c[j];
        n++;
    }
    free(b);
    ZT_CHECK(n > 0, "256-colour cells");
    /* SGRs are sent on a change only, so this is the mean of the changes: a
     * sign of the mix, not its exact weights */
    double r = sum[0] / n, gr = sum[1] / n, bl = sum[2] / n;
    ZT_CHECK(r > gr + 5 && r > bl + 5, "the cells' colours are red-shifted: %.0f %.0f %.0f", r, gr, bl);
}

/* ---- the labeler's reads (core/labeler.h) and the graphics interface (tui/gfx/gfx.h) */

static void labeler_reads_the_task_galaxies_and_thumbnails(void)
{
    zs_store *st = make_ws(3);
    core_schema s;
    int in_ws = -1;
    uint32_t n_gal = 0;
    char err[256];
    ZT_OK(core_labeler_task_get(st, "ring", &s, &in_ws, &n_gal, err, sizeof err));
    ZT_CHECK(in_ws == 1 && n_gal == 3 && strcmp(s.name, "ring") == 0, "ring, a built-in, in a workspace of 3 (in_ws %d, %u)", in_ws, n_gal);
    ZT_CHECK(core_labeler_task_get(st, "no-such-task", &s, &in_ws, &n_gal, err, sizeof err) == -1 && err[0],
             "an unknown task is refused with a reason");
    core_labeler_galaxy g;
    ZT_OK(core_labeler_galaxy_get(st, 2, &g));
    ZT_CHECK(g.found && strcmp(g.id, "G0002") == 0 && g.ra == 12.0 && g.dec == -1.0, "galaxy 2's catalog text: %s", g.id);
    ZT_OK(core_labeler_galaxy_get(st, 99, &g));
    ZT_CHECK(!g.found, "no galaxy 99");
    uint32_t gid = 0;
    ZT_OK(core_labeler_galaxy_find(st, "G0003", &gid));
    ZT_CHECK(gid == 3, "G0003 is gid 3, got %u", gid);
    ZT_CHECK(core_labeler_galaxy_find(st, "nope", &gid) == STORE_ENOTFOUND, "an unknown id is not found");
    uint8_t *rgb;
    int w, h;
    char why[128];
    ZT_OK(core_labeler_thumb_get(st, 1, &rgb, &w, &h, why, sizeof why));
    ZT_CHECK(w == 32 && h == 32 && rgb[2] == 1, "galaxy 1's 32x32 thumbnail, a copy");
    free(rgb);
    ZT_CHECK(core_labeler_thumb_get(st, 99, &rgb, &w, &h, why, sizeof why) != 0 && !rgb, "no thumbnail for 99");
    core_labeler_model m;
    core_labeler_model_init(&m);
    uint32_t *q = (uint32_t *)1;
    int nq = -1;
    core_model_info qi;
    ZT_OK(core_labeler_model_read(st, &s, &m, &q, &nq, &qi));
    ZT_CHECK(!m.have_model && !q && nq == 0 && m.n_curve == 0 && isnan(m.truth_auc), "no model, no queue before a retrain");
    store_close(st);
}

static void gfx_backends_share_one_geometry(void)
{
    tui_gfx_kind k;
    ZT_CHECK(tui_gfx_parse("sixel", &k) == 0 && k == TUI_GFX_SIXEL && tui_gfx_parse("auto", &k) == 0 && k == TUI_GFX_AUTO &&
             tui_gfx_parse("kitty", &k) == 0 && k == TUI_GFX_KITTY && tui_gfx_parse("iterm2", &k) == 0 &&
             k == TUI_GFX_ITERM2 && tui_gfx_parse("blocks", &k) == 0 && k == TUI_GFX_SYMBOLS &&
             tui_gfx_parse("chafa", &k) == -1, "names");
    ZT_CHECK(strcmp(tui_gfx_names(), "sixel, kitty, iterm2, symbols or none") == 0, "the message's list: %s", tui_gfx_names());
    tui_gfx *g;
    tui_gfx_box b;
    /* not a terminal: nothing is probed, the cell is 10 x 20 px */
    ZT_OK(tui_gfx_new(&g, TUI_GFX_SIXEL, -1, -1, 10, 1));
    tui_gfx_fit(g, 40, 20, 512, &b);
    ZT_CHECK(b.px_w == 400 && b.px_h == 400 && b.cols == 40 && b.rows == 20, "sixel fills 40x20 cells: %dx%d px", b.px_w, b.rows);
    tui_gfx_fit(g, 100, 50, 256, &b);
    ZT_CHECK(b.px_w == 256 && b.cols == 26 && b.rows == 13, "and the pixel cap holds: %d px in %dx%d", b.px_w, b.cols, b.rows);
    tui_gfx_tile(g, &b);
    ZT_CHECK(b.px_w == 96 && b.cols == 12 && b.rows == 7, "a sixel tile: 96 px in %dx%d cells", b.cols, b.rows);
    tui_gfx_free(g);
    ZT_OK(tui_gfx_new(&g, TUI_GFX_AUTO, -1, -1, 10, 1));
    ZT_CHECK(tui_gfx_which(g) == TUI_GFX_SYMBOLS && tui_gfx_images(g), "auto without a graphics reply: symbols");
    tui_gfx_fit(g, 40, 30, 16, &b);
    ZT_CHECK(b.px_w == 40 && b.px_h == 40 && b.cols == 40 && b.rows == 20, "a cell is 1x2 px, no pixel cap");
    tui_gfx_tile(g, &b);
    ZT_CHECK(b.px_w == 16 && b.cols == 18 && b.rows == 10, "a blocks tile");
    uint8_t px[4 * 4 * 3] = {0};
    char *bytes, err[64];
    size_t len;
    tui_gfx_start(g, 256);
    ZT_OK(tui_gfx_encode(g, px, 4, 4, &bytes, &len, err, sizeof err));
    ZT_CHECK(len > 0 && bytes, "blocks encode");
    free(bytes);
    tui_gfx_free(g);
    ZT_OK(tui_gfx_new(&g, TUI_GFX_NONE, -1, -1, 10, 1));
    tui_gfx_fit(g, 40, 20, 0, &b);
    ZT_CHECK(!tui_gfx_images(g) && b.cols == 0 && b.px_w == 0, "text only: no box");
    tui_gfx_tile(g, &b);
    ZT_CHECK(b.cols == 24 && b.rows == 1 && b.px_w == 0, "a text tile is one row");
    ZT_CHECK(tui_gfx_encode(g, px, 4, 4, &bytes, &len, err, sizeof err) == -1 && !bytes, "text only encodes nothing");
    tui_gfx_free(g);
}

/* The decoder the sanitiser and stats --json share, against hand-worked
 * sequences: each length, and each way a sequence is not a character. */
static void utf8_decoder_accepts_characters_and_refuses_the_rest(void)
{
    static const struct { const char *s; int n; unsigned cp; } c[] = {
        {"A", 1, 0x41}, {"\xc3\xa9", 2, 0xe9}, {"\xe2\x80\xae", 3, 0x202e}, {"\xf0\x9f\x8c\x8c", 4, 0x1f30c},
        {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
        {"\xc0\xaf", 0, 0}, {"\xe0\x80\xaf", 0, 0},          /* overlong '/' */
        {"\xed\xa0\x80", 0, 0},                              /* a surrogate */
        {"\xf4\x90\x80\x80", 0, 0},                          /* beyond U+10FFFF */
        {"\xe2\x82", 0, 0}, {"\x80", 0, 0}, {"\xff", 0, 0},     /* cut at the NUL, lone continuation, no lead */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        unsigned cp = 0;
        int n = tui_text_utf8_next(c[i].s, &cp);
        ZT_CHECK(n == c[i].n && (n == 0 || cp == c[i].cp), "case %zu: n %d cp %x", i, n, cp);
    }
    ZT_CHECK(tui_text_unsafe_cp(0x1b) && tui_text_unsafe_cp(0x9b) && tui_text_unsafe_cp(0x202e) && tui_text_unsafe_cp(0x2066) &&
                 !tui_text_unsafe_cp('a') && !tui_text_unsafe_cp(0xe9) && !tui_text_unsafe_cp(0x1f30c),
             "unsafe code points");
}

const zt_case zt_suite_label[] = {
    {"the 256-colour nearest is the searched nearest", xterm256_is_the_searched_nearest, 0},
    {"the trainer retrains in the background, the UI never waits, the queue comes back", trainer_runs_in_the_background_and_reports, 0},
    {"catalog text loses ESC, C1, bidi overrides and invalid UTF-8", catalog_text_is_sanitised, 0},
    {"the shared UTF-8 decoder: 1-4 byte characters, overlong, surrogate, cut and stray bytes refused", utf8_decoder_accepts_characters_and_refuses_the_rest, 0},
    {"image tools: identity, invert, asinh, zoom into the centre, aspect fit", view_render_identity_invert_zoom, 0},
    {"sixel from memory decodes back to the image (libsixel), input untouched", sixel_round_trips_through_libsixel, 0},
    {"half blocks: one per cell pair, truecolour / 256 / plain, NO_COLOR", blocks_draw_cells_and_plain_mode_has_no_escapes, 0},
    {"half blocks in 256 colours keep a dim galaxy's hue (error diffusion), not grey", blocks_256_keep_a_dim_colour, 0},
    {"the labeler's reads: task, catalog text, id lookup, thumbnail copy, no model yet", labeler_reads_the_task_galaxies_and_thumbnails, 0},
    {"graphics backends: names, sixel and block geometry, tiles, text only", gfx_backends_share_one_geometry, 0},
    {0},
};
