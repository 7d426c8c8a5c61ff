/*
 * plot.c - the learning-curve picture (see plot.h): Bresenham lines, a 3x5
 * digit font for the axis numbers, and one PNG written by core/image.
 */
#include "core/plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"

static void plot_line(core_image *im, int x0, int y0, int x1, int y1, const uint8_t rgb[3], int thick)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        for (int a = -thick / 2; a <= thick / 2; a++)
            for (int b = -thick / 2; b <= thick / 2; b++) {
                int x = x0 + a, y = y0 + b;
                if (x >= 0 && y >= 0 && x < im->w && y < im->h) memcpy(im->px + ((size_t)y * im->w + x) * 3, rgb, 3);
            }
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

/* Digits and '.' as 3x5 bitmaps (rows top to bottom, 3 bits each, MSB left). */
static const uint8_t digit_font[11][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 0, 0, 0, 2},
};

/* Writes a number's text with its top-left corner at (x, y), each font pixel s x s. */
static void plot_text(core_image *im, int x, int y, const char *t, int sc, const uint8_t rgb[3])
{
    for (; *t; t++) {
        int g = *t == '.' ? 10 : (*t >= '0' && *t <= '9') ? *t - '0' : -1;
        if (g < 0) { x += 2 * sc; continue; }
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++) {
                if (!(digit_font[g][r] & (4 >> c))) continue;
                for (int a = 0; a < sc; a++)
                    for (int b = 0; b < sc; b++) {
                        int px = x + c * sc + b, py = y + r * sc + a;
                        if (px >= 0 && py >= 0 && px < im->w && py < im->h)
                            memcpy(im->px + ((size_t)py * im->w + px) * 3, rgb, 3);
                    }
            }
        x += (g == 10 ? 2 : 4) * sc;
    }
}

int core_plot_curve(const char *path, const double *x, const double *y, const double *y2, int n,
                      double xmax, double lo, double hi, double step, char *err, size_t errlen)
{
    core_image im = {0};
    int W = 640, H = 400, L = 50, R = 20, T = 20, B = 40;
    if (core_image_alloc(&im, W, H)) { snprintf(err, errlen, "out of memory"); return -1; }
    memset(im.px, 255, (size_t)W * H * 3);
    const uint8_t grid[3] = {220, 220, 220}, axis[3] = {0, 0, 0}, blue[3] = {31, 90, 200}, grey[3] = {150, 150, 150};
#define PX(v) (L + (int)lround((v) / (xmax > 0 ? xmax : 1) * (W - L - R)))
#define PY(v) (H - B - (int)lround(((v) - lo) / (hi - lo) * (H - T - B)))
    for (double g = lo; g <= hi + 1e-9; g += step) plot_line(&im, L, PY(g), W - R, PY(g), grid, 1);
    for (int t = 0; t <= 10; t++) {
        int xx = PX(xmax * t / 10);
        plot_line(&im, xx, H - B, xx, H - B + 6, axis, 1);
    }
    for (double g = lo; g <= hi + 1e-9; g += step) {
        char t[16];
        plot_line(&im, L - 6, PY(g), L, PY(g), axis, 1);
        snprintf(t, sizeof t, "%.1f", g);
        plot_text(&im, L - 8 - 18, PY(g) - 5, t, 2, axis);
    }
    for (int t = 0; t <= 10; t += 2) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", (int)lround(xmax * t / 10));
        plot_text(&im, PX(xmax * t / 10) - (int)strlen(buf) * 4, H - B + 10, buf, 2, axis);
    }
    plot_line(&im, L, H - B, W - R, H - B, axis, 1);
    plot_line(&im, L, T, L, H - B, axis, 1);
    for (int s = 0; s < (y2 ? 2 : 1); s++) {
        const double *yy = s ? y2 : y;
        int px = -1, py = -1;
        for (int i = 0; i < n; i++) {
            if (!isfinite(yy[i])) continue;
            double v = yy[i] < lo ? lo : yy[i] > hi ? hi : yy[i];
            int cx = PX(x[i]), cy = PY(v);
            if (px >= 0 && (!s || i % 2 == 0)) plot_line(&im, px, py, cx, cy, s ? grey : blue, s ? 1 : 3);
            plot_line(&im, cx - 2, cy, cx + 2, cy, s ? grey : blue, 3);
            px = cx;
            py = cy;
        }
    }
#undef PX
#undef PY
    int rc = core_image_save_png(path, &im, err, errlen);
    core_image_free(&im);
    return rc;
}
