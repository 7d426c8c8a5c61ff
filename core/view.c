/*
 * view.c - a galaxy's pixel values drawn into the pane (see view.h).
 * Legend: sw x sh source, ow x oh output, nb bands; output RGB8 row-major.
 *
 * core_view_draw is separable: each output row and column gets its source
 * taps and weights once (box coverage where the axis shrinks, two bilinear
 * taps where it enlarges), a vertical pass combines whole source rows over
 * the crop's columns, a horizontal pass makes the output row, and the
 * stretch is a 1024-entry table with linear interpolation (asinh and log
 * per value would cost more than the resample).  core_view_draw_naive
 * computes every output pixel on its own in double precision with the
 * functions themselves; tests/t_view.c holds one to the other.
 */
#include "core/view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fits.h"
#include "core/image.h"
#include "core/thumb.h"
#include "core/util.h"

#define ASINH_Q 10.0
#define LOG_A   100.0
#define LUT_N   1024

/* ------------------------------------------------------------- sources */

int core_view_src_rgb(const uint8_t *rgb, int w, int h, core_view_src *out)
{
    memset(out, 0, sizeof *out);
    if (!rgb || w <= 0 || h <= 0) return -1;
    size_t n = (size_t)w * (size_t)h * 3;
    out->v = xmalloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) out->v[i] = (float)rgb[i];
    out->w = w;
    out->h = h;
    out->nb = 3;
    out->lo = 0;
    out->hi = 255;
    out->stretch = CORE_STRETCH_LINEAR;
    return 0;
}

/* Refuses a size past what the labeler keeps in memory (the decoders' own
 * bounds are for whole catalogs): 1 when w x h may be drawn. */
static int side_ok(long w, long h, char *err, size_t errlen)
{
    if (w <= CORE_VIEW_MAX_SIDE && h <= CORE_VIEW_MAX_SIDE) return 1;
    core_set_err(err, errlen, "%ldx%ld pixels, more than the labeler draws (%d a side)", w, h, CORE_VIEW_MAX_SIDE);
    return 0;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

int core_view_src_load(const char *path, core_view_src *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    uint8_t *buf = core_image_read_file(path, &n, err, errlen);
    if (!buf) return -1;
    int rc = -1;
    if (n > CORE_VIEW_MAX_FILE) {
        core_set_err(err, errlen, "%zu bytes, more than the labeler reads (%d MiB)", n, CORE_VIEW_MAX_FILE >> 20);
    } else if (n >= 24 && memcmp(buf, "\x89PNG", 4) == 0 && !side_ok(be32(buf + 16), be32(buf + 20), err, errlen)) {
        /* the PNG's IHDR said so before any decoding */
    } else if (n >= 9 && memcmp(buf, "SIMPLE  =", 9) == 0) {
        core_fits_values fv;
        if (core_fits_decode_values(buf, n, &fv, err, errlen) == 0 && !side_ok(fv.w, fv.h, err, errlen)) {
            free(fv.v);
        } else if (fv.v) {
            *out = (core_view_src){.w = fv.w, .h = fv.h, .nb = fv.nb, .v = fv.v, .lo = fv.lo, .hi = fv.hi,
                                   .stretch = CORE_STRETCH_ASINH};
            rc = 0;
        }
    } else {
        core_image im;
        if (core_image_load_mem(buf, n, &im, err, errlen) == 0) {
            if (side_ok(im.w, im.h, err, errlen)) rc = core_view_src_rgb(im.px, im.w, im.h, out);
            core_image_free(&im);
        }
    }
    free(buf);
    return rc;
}

int core_view_src_galaxy(zs_store *st, uint32_t gid, core_view_src *out, int *fallback, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    *fallback = 0;
    if (whylen) why[0] = 0;
    store_galaxy g;
    memset(&g, 0, sizeof g);
    zs_txn *txn;
    if (store_read_begin(st, &txn) != 0) { core_set_err(why, whylen, "the workspace cannot be read"); return -1; }
    int rc = store_galaxy_get(txn, gid, &g);
    store_read_end(txn);
    char err[160] = "";
    if (rc == 0 && g.file && g.file[0] && core_view_src_load(g.file, out, err, sizeof err) == 0) {
        store_galaxy_free(&g);
        return 0;
    }
    /* the file is gone (moved, deleted, unreadable): the stored thumbnail */
    if (rc == 0) core_set_err(why, whylen, "original %s", err[0] ? err : "not recorded");
    else core_set_err(why, whylen, "no such galaxy");
    store_galaxy_free(&g);
    *fallback = 1;
    int tw = 0, th = 0;
    const uint8_t *px = NULL;
    uint8_t owned = 0;
    char terr[128] = "";
    if (store_read_begin(st, &txn) != 0) return -1;
    rc = core_thumb_get(txn, gid, &tw, &th, &px, &owned, terr, sizeof terr);
    if (rc == 0) rc = core_view_src_rgb(px, tw, th, out);
    if (owned) free((void *)px);
    store_read_end(txn);
    if (rc != 0) {
        size_t l = strlen(why);
        if (l < whylen) snprintf(why + l, whylen - l, "; thumbnail: %s", terr[0] ? terr : "missing");
        return -1;
    }
    return 0;
}

void core_view_src_free(core_view_src *s)
{
    if (!s) return;
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------- view state */

const char *core_view_stretch_name(int stretch)
{
    switch (stretch) {
    case CORE_STRETCH_ASINH: return "asinh";
    case CORE_STRETCH_LOG: return "log";
    case CORE_STRETCH_LINEAR: return "linear";
    default: return "linear";
    }
}

int core_view_stretch_of(const core_view *v, const core_view_src *s)
{
    int st = v->stretch;
    if (st == CORE_STRETCH_FILE) st = s ? s->stretch : CORE_STRETCH_LINEAR;
    return st > CORE_STRETCH_FILE && st < CORE_STRETCH__N ? st : CORE_STRETCH_LINEAR;
}

void core_view_stretch_next(core_view *v, const core_view_src *s)
{
    int st = core_view_stretch_of(v, s);
    v->stretch = st + 1 < CORE_STRETCH__N ? st + 1 : CORE_STRETCH_LINEAR;
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static double zoom_factor(int zoom)
{
    return pow(1.5, zoom < 0 ? 0 : zoom > CORE_ZOOM_MAX ? CORE_ZOOM_MAX : zoom);
}

/* The pan as far as the crop stays inside the image. */
static void clamp_pan(core_view *v)
{
    double half = (1.0 - 1.0 / zoom_factor(v->zoom)) / 2;
    v->pan_x = clampd(v->pan_x, -half, half);
    v->pan_y = clampd(v->pan_y, -half, half);
}

void core_view_zoom(core_view *v, int dz)
{
    int z = v->zoom + dz;
    v->zoom = z < 0 ? 0 : z > CORE_ZOOM_MAX ? CORE_ZOOM_MAX : z;
    clamp_pan(v);
}

void core_view_pan(core_view *v, int dx, int dy)
{
    double step = 0.25 / zoom_factor(v->zoom);
    v->pan_x += dx * step;
    v->pan_y += dy * step;
    clamp_pan(v);
}

/* One pair of points (a band's: its own move plus every band's, base). */
static void move_level(double *black, double *white, double base_b, double base_w, int which, double d)
{
    /* black from -1 up to a step below white; white from a step above
     * black up to 1 (twice the source's range above its default), the
     * bands' sums included */
    if (which == 0) *black = clampd(base_b + *black + d, -1.0, 1.0 + base_w + *white - CORE_VIEW_LEVEL_STEP) - base_b;
    else *white = clampd(base_w + *white + d, base_b + *black - 1.0 + CORE_VIEW_LEVEL_STEP, 1.0) - base_w;
    /* whole steps: repeated presses come back to exactly 0 */
    *black = round(*black / CORE_VIEW_LEVEL_STEP) * CORE_VIEW_LEVEL_STEP;
    *white = round(*white / CORE_VIEW_LEVEL_STEP) * CORE_VIEW_LEVEL_STEP;
}

void core_view_level(core_view *v, int which, int steps)
{
    double d = steps * CORE_VIEW_LEVEL_STEP;
    if (v->band >= 1 && v->band <= 3) {
        int c = v->band - 1;
        move_level(&v->band_black[c], &v->band_white[c], v->black, v->white, which, d);
        return;
    }
    double b = v->black, w = v->white;
    move_level(&b, &w, 0, 0, which, d);
    /* every band moves with it: not past a band's own limits */
    for (int c = 0; c < 3; c++) {
        double eb = b + v->band_black[c], ew = w + v->band_white[c];
        if (eb < -1.0 - 1e-9 || ew > 1.0 + 1e-9 || eb > 1.0 + ew - CORE_VIEW_LEVEL_STEP + 1e-9) return;
    }
    v->black = b;
    v->white = w;
}

void core_view_band_next(core_view *v, const core_view_src *s)
{
    v->band = s && s->nb == 1 ? 0 : (v->band + 1) % 4;
}

const char *core_view_band_name(int band)
{
    static const char *const names[] = {"all", "R", "G", "B"};
    return band >= 1 && band <= 3 ? names[band] : names[0];
}

void core_view_crop(const core_view *v, int sw, int sh, double *x0, double *y0, double *cw, double *ch)
{
    core_view c = *v;
    clamp_pan(&c);
    double f = zoom_factor(c.zoom);
    *cw = sw / f;
    *ch = sh / f;
    *x0 = clampd(sw / 2.0 + c.pan_x * sw - *cw / 2, 0, sw - *cw);
    *y0 = clampd(sh / 2.0 + c.pan_y * sh - *ch / 2, 0, sh - *ch);
}

/* The stretch's curve on x in [0, 1]. */
static double curve(int stretch, double x)
{
    if (stretch == CORE_STRETCH_ASINH) return asinh(ASINH_Q * x) / asinh(ASINH_Q);
    if (stretch == CORE_STRETCH_LOG) return log1p(LOG_A * x) / log1p(LOG_A);
    return x;
}

/* The value drawn black and the scale to x of each output channel, for
 * source s under v (a band's own move counts for three-band sources). */
static void levels(const core_view_src *s, const core_view *v, double b[3], double scale[3])
{
    double range = s->hi - s->lo;
    if (!(range > 0)) range = 1;
    for (int c = 0; c < 3; c++) {
        double mb = v->black + (s->nb == 3 ? v->band_black[c] : 0);
        double mw = v->white + (s->nb == 3 ? v->band_white[c] : 0);
        double lo = s->lo + mb * range, hi = s->hi + mw * range;
        if (!(hi > lo)) hi = lo + range * CORE_VIEW_LEVEL_STEP;
        b[c] = lo;
        scale[c] = 1.0 / (hi - lo);
    }
}

static uint8_t to_level(double y, int invert)
{
    int o = (int)(y * 255.0 + 0.5);
    o = o < 0 ? 0 : o > 255 ? 255 : o;
    return (uint8_t)(invert ? 255 - o : o);
}

/* ------------------------------------------------------ the fast path */

/* One output sample's taps along an axis: source pixels first .. first+n-1
 * with weights w[0 .. n). */
typedef struct {
    int first, n;
    const float *w;
} taps;

/* Taps for n_out samples over the crop [a0, a0 + len) of an axis of n_in
 * source pixels.  Box coverage when a sample spans >= 1 source pixel,
 * bilinear at its centre otherwise.  *wts holds the weights (malloc'ed, as
 * is the result, both (n_out)). */
static taps *make_taps(int n_in, double a0, double len, int n_out, float **wts)
{
    taps *t = xmalloc(sizeof(taps) * (size_t)n_out);
    double s = len / n_out;
    int maxn = s >= 1.0 ? (int)ceil(s) + 2 : 2;
    float *w = xmalloc(sizeof(float) * (size_t)n_out * (size_t)maxn);   /* (n_out, maxn) */
    for (int o = 0; o < n_out; o++) {
        taps *p = &t[o];
        float *pw = w + (size_t)o * maxn;
        p->w = pw;
        if (s >= 1.0) {
            double a = a0 + o * s, b = a0 + (o + 1) * s;
            int first = (int)floor(a), last = (int)ceil(b) - 1;
            if (last > n_in - 1) last = n_in - 1;
            if (first < 0) first = 0;
            if (first > last) first = last;
            if (last - first + 1 > maxn) last = first + maxn - 1;
            p->first = first;
            p->n = last - first + 1;
            double tot = 0;
            for (int k = 0; k < p->n; k++) {
                double cov = fmin(first + k + 1.0, b) - fmax((double)(first + k), a);
                pw[k] = (float)(cov > 0 ? cov : 0);
                tot += pw[k];
            }
            for (int k = 0; k < p->n; k++) pw[k] = tot > 0 ? (float)(pw[k] / tot) : 1.0f / (float)p->n;
        } else {
            double f = clampd(a0 + (o + 0.5) * s - 0.5, 0, n_in - 1);
            int i0 = (int)f;
            double fr = f - i0;
            p->first = i0;
            if (i0 + 1 < n_in) {
                p->n = 2;
                pw[0] = (float)(1 - fr);
                pw[1] = (float)fr;
            } else {
                p->n = 1;
                pw[0] = 1;
            }
        }
    }
    for (int o = 0; o < n_out; o++) {       /* no zero-weight taps: a NaN there must not count */
        taps *p = &t[o];
        while (p->n > 1 && p->w[0] == 0) { p->w++; p->first++; p->n--; }
        while (p->n > 1 && p->w[p->n - 1] == 0) p->n--;
    }
    *wts = w;
    return t;
}

void core_view_draw(const core_view_src *s, const core_view *v, uint8_t *out, int ow, int oh)
{
    if (ow <= 0 || oh <= 0) return;
    if (!s || !s->v || s->w <= 0 || s->h <= 0) { memset(out, 0, (size_t)ow * oh * 3); return; }
    int nb = s->nb == 1 ? 1 : 3;
    double x0, y0, cw, ch;
    core_view_crop(v, s->w, s->h, &x0, &y0, &cw, &ch);
    float *wx, *wy;
    taps *tx = make_taps(s->w, x0, cw, ow, &wx), *ty = make_taps(s->h, y0, ch, oh, &wy);
    int xmin = s->w, xmax = 0;   /* the source columns any output column reads */
    for (int x = 0; x < ow; x++) {
        if (tx[x].first < xmin) xmin = tx[x].first;
        if (tx[x].first + tx[x].n > xmax) xmax = tx[x].first + tx[x].n;
    }
    /* the stretch as a table over x in [0, 1] */
    float lut[LUT_N + 1];
    int st = core_view_stretch_of(v, s);
    for (int i = 0; i <= LUT_N; i++) lut[i] = (float)curve(st, (double)i / LUT_N);
    double bd[3], scd[3];
    levels(s, v, bd, scd);
    float b[3] = {(float)bd[0], (float)bd[1], (float)bd[2]}, sc[3] = {(float)scd[0], (float)scd[1], (float)scd[2]};
    size_t rowlen = (size_t)s->w * (size_t)nb;
    float *acc = xmalloc(sizeof(float) * rowlen);          /* (w, nb) one vertically combined row */
    float *orow = xmalloc(sizeof(float) * (size_t)ow * 3); /* (ow, nb) one output row of values */
    for (int y = 0; y < oh; y++) {
        const taps *p = &ty[y];
        const float *r0 = s->v + (size_t)p->first * rowlen;
        float c0 = p->w[0];
        for (size_t i = (size_t)xmin * nb; i < (size_t)xmax * nb; i++) acc[i] = c0 * r0[i];
        for (int k = 1; k < p->n; k++) {
            const float *r = s->v + (size_t)(p->first + k) * rowlen;
            float c = p->w[k];
            for (size_t i = (size_t)xmin * nb; i < (size_t)xmax * nb; i++) acc[i] += c * r[i];
        }
        for (int x = 0; x < ow; x++) {
            const taps *q = &tx[x];
            for (int c = 0; c < nb; c++) {
                const float *a = acc + (size_t)q->first * nb + c;
                float sum = 0;
                for (int k = 0; k < q->n; k++) sum += q->w[k] * a[(size_t)k * nb];
                orow[(size_t)x * nb + c] = sum;
            }
        }
        uint8_t *o = out + (size_t)y * ow * 3;
        for (int x = 0; x < ow; x++) {
            for (int c = 0; c < 3; c++) {
                float xv = (orow[(size_t)x * nb + (nb == 3 ? c : 0)] - b[c]) * sc[c];
                if (!(xv > 0)) xv = 0;          /* NaN too */
                if (xv > 1) xv = 1;
                float t = xv * LUT_N;
                int i = (int)t;
                if (i >= LUT_N) i = LUT_N - 1;
                float yv = lut[i] + (t - (float)i) * (lut[i + 1] - lut[i]);
                o[x * 3 + c] = to_level(yv, v->invert);
            }
        }
    }
    free(orow);
    free(acc);
    free(tx);
    free(ty);
    free(wx);
    free(wy);
}

/* ------------------------------------------------- the naive reference */

/* Weight of source pixel i for output sample o along an axis (the same
 * definitions as make_taps, written out per pixel). */
static double axis_weight(int n_in, double a0, double len, int n_out, int o, int i)
{
    double s = len / n_out;
    if (s >= 1.0) {
        double a = a0 + o * s, b = a0 + (o + 1) * s;
        double cov = fmin(i + 1.0, b) - fmax((double)i, a);
        return cov > 0 ? cov : 0;
    }
    double f = clampd(a0 + (o + 0.5) * s - 0.5, 0, n_in - 1);
    int i0 = (int)f;
    if (i == i0) return i0 + 1 < n_in ? 1 - (f - i0) : 1;
    if (i == i0 + 1 && i < n_in) return f - i0;
    return 0;
}

void core_view_draw_naive(const core_view_src *s, const core_view *v, uint8_t *out, int ow, int oh)
{
    if (ow <= 0 || oh <= 0) return;
    if (!s || !s->v || s->w <= 0 || s->h <= 0) { memset(out, 0, (size_t)ow * oh * 3); return; }
    int nb = s->nb == 1 ? 1 : 3, st = core_view_stretch_of(v, s);
    double x0, y0, cw, ch, b[3], sc[3];
    core_view_crop(v, s->w, s->h, &x0, &y0, &cw, &ch);
    levels(s, v, b, sc);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            double acc[3] = {0, 0, 0}, tot = 0;
            int ylo = (int)floor(y0 + oy * ch / oh) - 1, yhi = (int)ceil(y0 + (oy + 1) * ch / oh) + 1;
            int xlo = (int)floor(x0 + ox * cw / ow) - 1, xhi = (int)ceil(x0 + (ox + 1) * cw / ow) + 1;
            for (int j = ylo < 0 ? 0 : ylo; j < s->h && j <= yhi; j++) {
                double wy = axis_weight(s->h, y0, ch, oh, oy, j);
                if (wy == 0) continue;
                for (int i = xlo < 0 ? 0 : xlo; i < s->w && i <= xhi; i++) {
                    double wx = axis_weight(s->w, x0, cw, ow, ox, i);
                    if (wx == 0) continue;
                    for (int c = 0; c < nb; c++) acc[c] += wx * wy * s->v[((size_t)j * s->w + i) * nb + c];
                    tot += wx * wy;
                }
            }
            uint8_t *o = out + ((size_t)oy * ow + ox) * 3;
            for (int c = 0; c < 3; c++) {
                double x = tot > 0 ? (acc[nb == 3 ? c : 0] / tot - b[c]) * sc[c] : 0;
                if (!(x > 0)) x = 0;
                if (x > 1) x = 1;
                o[c] = to_level(curve(st, x), v->invert);
            }
        }
}

/* --------------------------------------------------------- the rest */

void core_view_render(const uint8_t *thumb, int tw, int th, const core_view *v,
                      uint8_t *out, int ow, int oh)
{
    core_view_src s;
    core_view_src_rgb(thumb, tw, th, &s);
    core_view_draw(&s, v, out, ow, oh);
    core_view_src_free(&s);
}

void core_view_fit(int tw, int th, int max_w, int max_h, int *ow, int *oh)
{
    if (tw <= 0 || th <= 0 || max_w <= 0 || max_h <= 0) { *ow = *oh = 0; return; }
    double s = fmin((double)max_w / tw, (double)max_h / th);
    *ow = (int)(tw * s);
    *oh = (int)(th * s);
    if (*ow < 1) *ow = 1;
    if (*oh < 1) *oh = 1;
}

static int abs_diff(int a, int b) { return a > b ? a - b : b - a; }

void core_view_placeholder(uint8_t *out, int w, int h)
{
    memset(out, 40, (size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int d1 = abs_diff(x * h, y * w), d2 = abs_diff((w - 1 - x) * h, y * w);
            int t = (w > h ? w : h) * 2;
            if (d1 < t || d2 < t || x < 2 || y < 2 || x >= w - 2 || y >= h - 2) {
                uint8_t *o = out + ((size_t)y * w + x) * 3;
                o[0] = 160; o[1] = 60; o[2] = 60;
            }
        }
}
