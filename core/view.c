/*
 * view.c - zoom, resample, stretch, invert (see view.h).
 * Legend: tw x th thumbnail, ow x oh output, pixels RGB8 row-major.
 */
#include "core/view.h"

#include <math.h>
#include <string.h>

const char *core_view_stretch_name(int stretch)
{
    switch (stretch) {
    case CORE_STRETCH_ASINH: return "asinh";
    case CORE_STRETCH_LOG: return "log";
    default: return "linear";
    }
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

static void build_lut(const core_view *v, uint8_t lut[256])
{
    for (int i = 0; i < 256; i++) {
        double x = i / 255.0, y = x;
        if (v->stretch == CORE_STRETCH_ASINH) y = asinh(10.0 * x) / asinh(10.0);
        else if (v->stretch == CORE_STRETCH_LOG) y = log1p(100.0 * x) / log1p(100.0);
        int o = (int)lrint(y * 255.0);
        if (o < 0) o = 0;
        if (o > 255) o = 255;
        lut[i] = (uint8_t)(v->invert ? 255 - o : o);
    }
}

void core_view_render(const uint8_t *thumb, int tw, int th, const core_view *v,
                     uint8_t *out, int ow, int oh)
{
    uint8_t lut[256];
    build_lut(v, lut);
    int zoom = v->zoom < 0 ? 0 : v->zoom > CORE_ZOOM_MAX ? CORE_ZOOM_MAX : v->zoom;
    double f = pow(1.5, zoom);
    double cw = tw / f, ch = th / f;          /* crop size in thumbnail pixels */
    double cx0 = (tw - cw) / 2, cy0 = (th - ch) / 2;
    double sx = cw / ow, sy = ch / oh;        /* thumbnail pixels per output pixel */

    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            uint8_t *o = out + ((size_t)oy * ow + ox) * 3;
            int acc[3] = {0, 0, 0}, cnt = 0;
            if (sx >= 1.0 && sy >= 1.0) {
                /* area average over the source pixels whose centres fall inside */
                int x0 = (int)ceil(cx0 + ox * sx - 0.5), x1 = (int)ceil(cx0 + (ox + 1) * sx - 0.5);
                int y0 = (int)ceil(cy0 + oy * sy - 0.5), y1 = (int)ceil(cy0 + (oy + 1) * sy - 0.5);
                if (x1 <= x0) x1 = x0 + 1;
                if (y1 <= y0) y1 = y0 + 1;
                if (x0 < 0) x0 = 0;
                if (y0 < 0) y0 = 0;
                if (x1 > tw) x1 = tw;
                if (y1 > th) y1 = th;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) {
                        const uint8_t *p = thumb + ((size_t)y * tw + x) * 3;
                        acc[0] += p[0]; acc[1] += p[1]; acc[2] += p[2];
                        cnt++;
                    }
                if (cnt == 0) { o[0] = o[1] = o[2] = 0; continue; }
                for (int c = 0; c < 3; c++) o[c] = lut[(acc[c] + cnt / 2) / cnt];
            } else {
                /* bilinear at the output pixel's centre */
                double fx = cx0 + (ox + 0.5) * sx - 0.5, fy = cy0 + (oy + 0.5) * sy - 0.5;
                if (fx < 0) fx = 0;
                if (fy < 0) fy = 0;
                if (fx > tw - 1) fx = tw - 1;
                if (fy > th - 1) fy = th - 1;
                int x0 = (int)fx, y0 = (int)fy;
                int x1 = x0 + 1 < tw ? x0 + 1 : x0, y1 = y0 + 1 < th ? y0 + 1 : y0;
                double ax = fx - x0, ay = fy - y0;
                const uint8_t *p00 = thumb + ((size_t)y0 * tw + x0) * 3, *p01 = thumb + ((size_t)y0 * tw + x1) * 3;
                const uint8_t *p10 = thumb + ((size_t)y1 * tw + x0) * 3, *p11 = thumb + ((size_t)y1 * tw + x1) * 3;
                for (int c = 0; c < 3; c++) {
                    double val = (1 - ay) * ((1 - ax) * p00[c] + ax * p01[c]) + ay * ((1 - ax) * p10[c] + ax * p11[c]);
                    o[c] = lut[(int)(val + 0.5)];
                }
            }
        }
    }
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
