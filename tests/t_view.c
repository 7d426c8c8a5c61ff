/*
 * t_view.c - the labeler's image tools (core/view.h): the fast draw held to
 * the naive reference over zooms, pans, stretches and black / white
 * points, on 8-bit and FITS float sources; zoom 3 of a real 424 px DECaLS
 * cutout shows its own pixels (not a thumbnail's); pan and level keys stay
 * in range; the original file is read without following a symbolic link,
 * a FIFO in its place is refused without blocking, and its size is bounded.
 */
#include <fitsio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/image.h"
#include "core/util.h"
#include "core/view.h"
#include "zt.h"

static const char *ring_png(void)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/decals_rings/images/J005321.49-025122.0.png", ZT_SHARED);
    return p;
}

/* Largest per-channel difference between a and b (n bytes). */
static int max_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

/* The fine detail of an RGB image (p, p, 3): its grey minus the mean of
 * the 9x9 pixels around (malloc'ed, (p, p) doubles). */
static double *detail(const uint8_t *im, int p)
{
    double *g = xmalloc(sizeof(double) * (size_t)p * p), *d = xmalloc(sizeof(double) * (size_t)p * p);
    for (int i = 0; i < p * p; i++) g[i] = (im[i * 3] + im[i * 3 + 1] + im[i * 3 + 2]) / 3.0;
    for (int y = 0; y < p; y++)
        for (int x = 0; x < p; x++) {
            double m = 0;
            int n = 0;
            for (int j = y - 4; j <= y + 4; j++)
                for (int i = x - 4; i <= x + 4; i++)
                    if (i >= 0 && j >= 0 && i < p && j < p) { m += g[j * p + i]; n++; }
            d[y * p + x] = g[y * p + x] - m / n;
        }
    free(g);
    return d;
}

static double ncc_d(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i] - ma, y = b[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return sab / sqrt(saa * sbb);
}

static double ncc(const uint8_t *a, const uint8_t *b, size_t n)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i] - ma, y = b[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return sab / sqrt(saa * sbb);
}

/* A random float source: values over [-50, 1000) with a few NaN. */
static void random_src(core_view_src *s, int w, int h, int nb, uint64_t seed)
{
    core_rng r;
    core_rng_seed(&r, seed);
    memset(s, 0, sizeof *s);
    s->w = w;
    s->h = h;
    s->nb = nb;
    s->v = xmalloc(sizeof(float) * (size_t)w * h * nb);
    for (size_t i = 0; i < (size_t)w * h * nb; i++)
        s->v[i] = core_rng_below(&r, 97) == 0 ? NAN : (float)(core_rng_below(&r, 1050) - 50);
    s->lo = 20;
    s->hi = 700;
    s->stretch = CORE_STRETCH_ASINH;
}

static void fast_draw_matches_the_naive_reference(void)
{
    static const int sizes[][4] = {   /* source w, h; output w, h */
        {424, 424, 496, 496}, {424, 424, 200, 200}, {256, 256, 512, 512}, {97, 61, 40, 25},
        {61, 97, 150, 239}, {300, 300, 50, 300},
    };
    int cases = 0;
    for (int si = 0; si < (int)(sizeof sizes / sizeof sizes[0]); si++)
        for (int nb = 1; nb <= 3; nb += 2) {
            core_view_src s;
            random_src(&s, sizes[si][0], sizes[si][1], nb, 7 + (uint64_t)si);
            int ow = sizes[si][2], oh = sizes[si][3];
            uint8_t *a = xmalloc((size_t)ow * oh * 3), *b = xmalloc((size_t)ow * oh * 3);
            for (int zoom = 0; zoom <= CORE_ZOOM_MAX; zoom += 2)
                for (int st = CORE_STRETCH_FILE; st < CORE_STRETCH__N; st++) {
                    core_view v = {.stretch = st, .zoom = zoom, .invert = (zoom + st) % 2};
                    core_view_pan(&v, zoom - 3, 3 - zoom);
                    if (st == CORE_STRETCH_LOG) { core_view_level(&v, 0, 2); core_view_level(&v, 1, -3); }
                    if (st == CORE_STRETCH_LINEAR) { core_view_level(&v, 0, -4); core_view_level(&v, 1, 5); }
                    if (st == CORE_STRETCH_ASINH) {      /* one band's own levels */
                        v.band = 1 + zoom % 3;
                        core_view_level(&v, 0, 3);
                        core_view_level(&v, 1, -2);
                    }
                    core_view_draw(&s, &v, a, ow, oh);
                    core_view_draw_naive(&s, &v, b, ow, oh);
                    int d = max_diff(a, b, (size_t)ow * oh * 3);
                    ZT_CHECK(d <= 1, "%dx%dx%d -> %dx%d zoom %d stretch %d: off by %d levels", s.w, s.h, nb, ow, oh,
                             zoom, st, d);
                    cases++;
                }
            free(a);
            free(b);
            core_view_src_free(&s);
        }
    ZT_CHECK(cases == 12 * 4 * 4, "%d cases", cases);
}

/* The reference itself against values worked by hand. */
static void naive_reference_is_right_by_hand(void)
{
    /* 2x1 grey: 0 and 100, range 0..100, drawn 1x1 (a box average: 50) */
    float v[2] = {0, 100};
    core_view_src s = {.w = 2, .h = 1, .nb = 1, .v = v, .lo = 0, .hi = 100, .stretch = CORE_STRETCH_LINEAR};
    uint8_t o[3];
    core_view lin = {.stretch = CORE_STRETCH_LINEAR};
    core_view_draw_naive(&s, &lin, o, 1, 1);
    ZT_CHECK(o[0] == 128 && o[1] == 128 && o[2] == 128, "50%% grey: %d %d %d", o[0], o[1], o[2]);
    /* asinh of x = 0.5: asinh(5) / asinh(10) = 2.3124 / 2.9982 = 0.7713 -> 197 */
    core_view as = {.stretch = CORE_STRETCH_ASINH};
    core_view_draw_naive(&s, &as, o, 1, 1);
    ZT_CHECK(o[0] == 197, "asinh %d", o[0]);
    /* log: log1p(50) / log1p(100) = 0.8519 -> 217 */
    core_view lg = {.stretch = CORE_STRETCH_LOG};
    core_view_draw_naive(&s, &lg, o, 1, 1);
    ZT_CHECK(o[0] == 217, "log %d", o[0]);
    /* black point up by 0.25 of the range, white down by 0.25: x = (50-25)/50 = 0.5 still */
    core_view lv = {.stretch = CORE_STRETCH_LINEAR};
    core_view_level(&lv, 0, 5);
    core_view_level(&lv, 1, -5);
    ZT_CHECK(fabs(lv.black - 0.25) < 1e-12 && fabs(lv.white + 0.25) < 1e-12, "levels %g %g", lv.black, lv.white);
    core_view_draw_naive(&s, &lv, o, 1, 1);
    ZT_CHECK(o[0] == 128, "levels moved symmetrically keep mid grey: %d", o[0]);
    /* the white point lowered to 40: 50 is white; inverted, black */
    core_view w = {.stretch = CORE_STRETCH_LINEAR, .invert = 1};
    core_view_level(&w, 1, -12);
    core_view_draw_naive(&s, &w, o, 1, 1);
    ZT_CHECK(o[0] == 0, "white point 40, inverted: %d", o[0]);
    /* the file's own stretch is the source's */
    core_view fv = {0};
    ZT_CHECK(core_view_stretch_of(&fv, &s) == CORE_STRETCH_LINEAR, "file's stretch");
    s.stretch = CORE_STRETCH_ASINH;
    ZT_CHECK(core_view_stretch_of(&fv, &s) == CORE_STRETCH_ASINH, "file's stretch asinh");
    core_view_stretch_next(&fv, &s);
    ZT_CHECK(fv.stretch == CORE_STRETCH_LOG, "after asinh comes log: %d", fv.stretch);
    core_view_stretch_next(&fv, &s);
    ZT_CHECK(fv.stretch == CORE_STRETCH_LINEAR, "after log comes linear: %d", fv.stretch);
}

/* Zoom 3 of the 424 px original is the original's centre crop (1/3.375 of
 * each side, 125.6 px) enlarged; the same zoom of the 256 px thumbnail is
 * visibly further from it in the fine detail. */
static void zoom_three_shows_the_originals_pixels(void)
{
    core_view_src s;
    char err[256];
    ZT_OK(core_view_src_load(ring_png(), &s, err, sizeof err));
    ZT_CHECK(s.w == 424 && s.h == 424 && s.nb == 3, "%dx%dx%d", s.w, s.h, s.nb);
    enum { P = 496 };
    core_view v = {0};
    for (int i = 0; i < 3; i++) core_view_zoom(&v, 1);
    ZT_CHECK(v.zoom == 3, "zoom %d", v.zoom);
    uint8_t *got = xmalloc(P * P * 3), *want = xmalloc(P * P * 3), *thumb_zoom = xmalloc(P * P * 3);
    core_view_draw(&s, &v, got, P, P);
    /* the crop, worked out here: the central 424 / 1.5^3 pixels, bilinear at each output centre */
    double cw = 424 / 3.375, x0 = (424 - cw) / 2;
    for (int y = 0; y < P; y++)
        for (int x = 0; x < P; x++) {
            double fx = x0 + (x + 0.5) * cw / P - 0.5, fy = x0 + (y + 0.5) * cw / P - 0.5;
            int ix = (int)fx, iy = (int)fy;
            double ax = fx - ix, ay = fy - iy;
            for (int c = 0; c < 3; c++) {
                const float *p = s.v + ((size_t)iy * 424 + ix) * 3 + c;
                double val = (1 - ay) * ((1 - ax) * p[0] + ax * p[3]) + ay * ((1 - ax) * p[424 * 3] + ax * p[424 * 3 + 3]);
                want[((size_t)y * P + x) * 3 + c] = (uint8_t)lrint(val);
            }
        }
    int d = max_diff(got, want, P * P * 3);
    ZT_CHECK(d <= 1, "zoom 3 is the original's centre crop: off by %d", d);
    /* the old way: the 256 px thumbnail zoomed */
    core_image full = {0}, th = {0};
    ZT_OK(core_image_load(ring_png(), &full, err, sizeof err));
    ZT_OK(core_image_thumbnail(&full, 256, &th));
    core_view_render(th.px, th.w, th.h, &v, thumb_zoom, P, P);
    /* the whole picture correlates either way (a smooth galaxy); its detail does not */
    double n_orig = ncc(got, want, P * P * 3), n_thumb = ncc(thumb_zoom, want, P * P * 3);
    ZT_CHECK(n_orig > 0.999 && n_thumb > 0.9, "NCC original %.4f, thumbnail %.4f", n_orig, n_thumb);
    double *dg = detail(got, P), *dw = detail(want, P), *dt = detail(thumb_zoom, P);
    double d_orig = ncc_d(dg, dw, P * P), d_thumb = ncc_d(dt, dw, P * P);
    ZT_CHECK(d_orig > 0.99 && d_thumb < 0.8, "detail NCC original %.4f, thumbnail %.4f", d_orig, d_thumb);
    free(dg);
    free(dw);
    free(dt);
    core_image_free(&full);
    core_image_free(&th);
    free(got);
    free(want);
    free(thumb_zoom);
    core_view_src_free(&s);
}

static void pan_and_levels_stay_in_range(void)
{
    core_view v = {0};
    core_view_pan(&v, 5, -5);
    ZT_CHECK(v.pan_x == 0 && v.pan_y == 0, "no pan at zoom 0: %g %g", v.pan_x, v.pan_y);
    core_view_zoom(&v, 2);           /* 1/2.25 shown: the centre can move (1 - 1/2.25) / 2 = 0.2778 */
    for (int i = 0; i < 40; i++) core_view_pan(&v, 1, -1);
    ZT_CHECK(fabs(v.pan_x - (1 - 1 / 2.25) / 2) < 1e-9 && fabs(v.pan_y + (1 - 1 / 2.25) / 2) < 1e-9,
             "pan clamped at the edge: %g %g", v.pan_x, v.pan_y);
    double x0, y0, cw, ch;
    core_view_crop(&v, 400, 200, &x0, &y0, &cw, &ch);
    ZT_CHECK(fabs(x0 + cw - 400) < 1e-9 && fabs(y0) < 1e-9, "crop at the top right: %g %g %g %g", x0, y0, cw, ch);
    core_view_zoom(&v, -2);
    ZT_CHECK(v.pan_x == 0 && v.pan_y == 0, "zooming out to 0 centres");
    core_view_zoom(&v, 100);
    ZT_CHECK(v.zoom == CORE_ZOOM_MAX, "zoom clamped: %d", v.zoom);
    /* a pan step is a quarter of the visible part */
    core_view_pan(&v, 1, 0);
    ZT_CHECK(fabs(v.pan_x - 0.25 / pow(1.5, CORE_ZOOM_MAX)) < 1e-12, "quarter step %g", v.pan_x);
    core_view l = {0};
    for (int i = 0; i < 100; i++) core_view_level(&l, 0, 1);
    ZT_CHECK(l.black < 1.0 + l.white, "black stays below white: %g %g", l.black, l.white);
    for (int i = 0; i < 100; i++) core_view_level(&l, 1, -1);
    ZT_CHECK(l.white > l.black - 1.0, "white stays above black: %g %g", l.black, l.white);
    for (int i = 0; i < 100; i++) core_view_level(&l, 1, 1);
    ZT_CHECK(l.white == 1.0, "white at most 1: %g", l.white);
}

/* Per-band levels: a band's own points move that band alone; every band's
 * points move all three and stop at a band's limit; a grey source ignores
 * them; the band key cycles all, R, G, B (a grey source: all). */
static void band_levels_move_one_band(void)
{
    core_view_src s;
    random_src(&s, 40, 40, 3, 5);
    core_view v0 = {.stretch = CORE_STRETCH_LINEAR}, v = v0;
    core_view_band_next(&v, &s);
    ZT_CHECK(v.band == 1 && strcmp(core_view_band_name(v.band), "R") == 0, "first band R: %d", v.band);
    core_view_band_next(&v, &s);           /* G */
    for (int i = 0; i < 4; i++) core_view_level(&v, 0, 1);
    ZT_CHECK(fabs(v.band_black[1] - 0.2) < 1e-12 && v.black == 0 && v.band_black[0] == 0 && v.band_black[2] == 0,
             "G's black alone moved: %g %g", v.band_black[1], v.black);
    uint8_t a[40 * 40 * 3], b[40 * 40 * 3];
    core_view_draw(&s, &v0, a, 40, 40);
    core_view_draw(&s, &v, b, 40, 40);
    int same_rb = 1, darker_g = 0, gsum_a = 0, gsum_b = 0;
    for (int i = 0; i < 40 * 40; i++) {
        same_rb &= a[i * 3] == b[i * 3] && a[i * 3 + 2] == b[i * 3 + 2];
        gsum_a += a[i * 3 + 1];
        gsum_b += b[i * 3 + 1];
    }
    darker_g = gsum_b < gsum_a;
    ZT_CHECK(same_rb && darker_g, "R and B unchanged (%d), G darker (%d -> %d)", same_rb, gsum_a, gsum_b);
    /* every band: white down until G's own raised black stops it */
    core_view_band_next(&v, &s);
    core_view_band_next(&v, &s);
    ZT_CHECK(v.band == 0, "back to all: %d", v.band);
    for (int i = 0; i < 100; i++) core_view_level(&v, 1, -1);
    for (int c = 0; c < 3; c++)
        ZT_CHECK(v.black + v.band_black[c] <= 1.0 + v.white + v.band_white[c] - 0.05 + 1e-9,
                 "band %d: black %g passed white %g", c, v.black + v.band_black[c], v.white + v.band_white[c]);
    ZT_CHECK(fabs(v.white - (-0.75)) < 1e-9, "every band's white stopped where G's black is: %g", v.white);
    /* a grey source: the bands' own moves do not tint it */
    core_view_src g;
    random_src(&g, 40, 40, 1, 6);
    core_view w = v0;
    w.band_black[0] = 0.3;
    core_view_draw(&g, &v0, a, 40, 40);
    core_view_draw(&g, &w, b, 40, 40);
    ZT_CHECK(memcmp(a, b, sizeof a) == 0, "a grey source drew differently under a band's levels");
    core_view_band_next(&w, &g);
    ZT_CHECK(w.band == 0, "a grey source has no band to choose: %d", w.band);
    core_view_src_free(&s);
    core_view_src_free(&g);
}

/* A FITS cube: values kept as floats (north up, planes g, r, z
 * -> B, G, R), the display range median .. 99.5th percentile, asinh by default. */
static void fits_values_are_kept_as_floats(void)
{
    long ax[3] = {8, 6, 3};
    float d[8 * 6 * 3];
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 8; x++) d[(p * 6 + y) * 8 + x] = (float)(p * 1000 + y * 10 + x) * 0.5f - 3.0f;
    fitsfile *f;
    int status = 0;
    fits_create_file(&f, "!c.fits", &status);
    fits_create_img(f, FLOAT_IMG, 3, ax, &status);
    fits_write_img(f, TFLOAT, 1, 8 * 6 * 3, d, &status);
    fits_close_file(f, &status);
    ZT_CHECK(status == 0, "cfitsio %d", status);
    core_view_src s;
    char err[256];
    ZT_OK(core_view_src_load("c.fits", &s, err, sizeof err));
    ZT_CHECK(s.w == 8 && s.h == 6 && s.nb == 3 && s.stretch == CORE_STRETCH_ASINH, "%dx%dx%d", s.w, s.h, s.nb);
    /* top-left display pixel = FITS row 6 (y = 5), x = 0; R = z (plane 2), B = g (plane 0) */
    ZT_CHECK(s.v[0] == d[(2 * 6 + 5) * 8] && s.v[2] == d[(0 * 6 + 5) * 8], "R %g B %g", s.v[0], s.v[2]);
    ZT_CHECK(s.v[2] == 22.0f, "a float value kept: %g", s.v[2]);
    ZT_CHECK(s.hi > s.lo, "display range %g .. %g", s.lo, s.hi);
    core_view_src_free(&s);
}

static void the_original_is_read_safely(void)
{
    core_view_src s;
    char err[256];
    ZT_CHECK(symlink(ring_png(), "link.png") == 0, "symlink");
    ZT_CHECK(core_view_src_load("link.png", &s, err, sizeof err) == -1, "a symbolic link is not followed");
    ZT_CHECK(strstr(err, "symbolic link") != NULL, "says so: %s", err);
    ZT_CHECK(mkfifo("fifo.png", 0600) == 0, "mkfifo");
    ZT_CHECK(core_view_src_load("fifo.png", &s, err, sizeof err) == -1, "a FIFO is refused (no one writes it: no hang)");
    ZT_CHECK(strstr(err, "not a regular file") != NULL, "says so: %s", err);
    ZT_CHECK(core_view_src_load("none.png", &s, err, sizeof err) == -1 && strstr(err, "No such file"), "%s", err);
    ZT_OK(core_view_src_load(ring_png(), &s, err, sizeof err));
    core_view_src_free(&s);
    /* wider than the labeler draws: refused from the PNG header (the thumbnail stands in) */
    core_image wide = {0};
    ZT_OK(core_image_alloc(&wide, CORE_VIEW_MAX_SIDE + 1, 2));
    memset(wide.px, 90, (size_t)wide.w * 2 * 3);
    ZT_OK(core_image_save_png("wide.png", &wide, err, sizeof err));
    core_image_free(&wide);
    ZT_CHECK(core_view_src_load("wide.png", &s, err, sizeof err) == -1 && strstr(err, "more than the labeler draws"),
             "%s", err);
}

const zt_case zt_suite_view[] = {
    {"per-band levels move one band; every band's stop at a band's limit", band_levels_move_one_band, 0},
    {"the fast draw matches the naive reference (zoom, pan, stretches, levels, grey and colour, NaN)",
     fast_draw_matches_the_naive_reference, 0},
    {"the reference gives hand-worked values for linear, asinh, log, levels, invert", naive_reference_is_right_by_hand, 0},
    {"zoom 3 of a 424 px DECaLS ring is its own centre crop, not the thumbnail's", zoom_three_shows_the_originals_pixels, 0},
    {"pan and black / white points stay in range; a pan step is a quarter of the view", pan_and_levels_stay_in_range, 0},
    {"a FITS cube's values are kept as floats, north up, z g r as R G B", fits_values_are_kept_as_floats, 0},
    {"the original file: no symbolic link followed, a FIFO refused without blocking, size bounded",
     the_original_is_read_safely, 0},
    {0, 0, 0},
};
