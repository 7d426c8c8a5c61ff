/*
 * ptaug.c - views and survey augmentations for `zoosh pretrain`
 * (core/ptaug.h).  Plain loops over one 64-128 px view; the caller runs
 * them on the batch-preparation thread.
 */
#include "core/ptaug.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void core_pt_aug_view(const uint8_t *src, int Bs, int S, float th, int flip, float z, float *x)
{
    float cth = cosf(th) / z, sth = sinf(th) / z, c0 = Bs * 0.5f;
    for (int v = 0; v < S; v++)
        for (int u = 0; u < S; u++) {
            float cu = u + 0.5f - S * 0.5f, cv = v + 0.5f - S * 0.5f;
            if (flip) cu = -cu;
            float bx = c0 + cth * cu - sth * cv - 0.5f, by = c0 + sth * cu + cth * cv - 0.5f;
            bx = bx < 0 ? 0 : bx > Bs - 1 ? (float)(Bs - 1) : bx;
            by = by < 0 ? 0 : by > Bs - 1 ? (float)(Bs - 1) : by;
            int x0 = (int)bx, y0 = (int)by, x1 = x0 + 1 < Bs ? x0 + 1 : x0, y1 = y0 + 1 < Bs ? y0 + 1 : y0;
            float fx = bx - x0, fy = by - y0;
            for (int c = 0; c < 3; c++) {
                float p00 = src[((size_t)y0 * Bs + x0) * 3 + c], p01 = src[((size_t)y0 * Bs + x1) * 3 + c];
                float p10 = src[((size_t)y1 * Bs + x0) * 3 + c], p11 = src[((size_t)y1 * Bs + x1) * 3 + c];
                float val = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11);
                x[((size_t)v * S + u) * 3 + c] = val / 255.0f;
            }
        }
}

void core_pt_aug_jitter(float *x, int S, float a, core_rng *r)
{
    float gain[3], sat = (float)(1 + a * (core_rng_uniform(r) - 0.5));
    float bright = (float)exp(0.3 * a * (2 * core_rng_uniform(r) - 1));
    float gam = (float)exp(0.25 * a * (2 * core_rng_uniform(r) - 1));
    float sig = (float)(0.02 * a * core_rng_uniform(r));
    for (int c = 0; c < 3; c++) gain[c] = (float)exp(0.1 * a * core_rng_normal(r)) * bright;
    for (size_t p = 0; p < (size_t)S * S; p++) {
        float *px = x + p * 3;
        float g = (px[0] + px[1] + px[2]) * (1.0f / 3);
        for (int c = 0; c < 3; c++) {
            float v = (g + sat * (px[c] - g)) * gain[c];
            v = v > 0 ? powf(v, gam) : 0;
            v += sig * (float)core_rng_normal(r);
            px[c] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}

/* out = x blurred by a Gaussian of sigma sg (separable, edges clamped). */
static void blur(const float *x, float *out, float *tmp, int S, float sg)
{
    int R = (int)ceilf(3 * sg);
    if (R > 8) R = 8;
    float k[17], ks = 0;
    for (int i = -R; i <= R; i++) ks += k[i + R] = expf(-0.5f * i * i / (sg * sg));
    for (int i = 0; i <= 2 * R; i++) k[i] /= ks;
    for (int v = 0; v < S; v++)
        for (int u = 0; u < S; u++)
            for (int c = 0; c < 3; c++) {
                float s = 0;
                for (int i = -R; i <= R; i++) {
                    int uu = u + i < 0 ? 0 : u + i >= S ? S - 1 : u + i;
                    s += k[i + R] * x[((size_t)v * S + uu) * 3 + c];
                }
                tmp[((size_t)v * S + u) * 3 + c] = s;
            }
    for (int v = 0; v < S; v++)
        for (int u = 0; u < S; u++)
            for (int c = 0; c < 3; c++) {
                float s = 0;
                for (int i = -R; i <= R; i++) {
                    int vv = v + i < 0 ? 0 : v + i >= S ? S - 1 : v + i;
                    s += k[i + R] * tmp[((size_t)vv * S + u) * 3 + c];
                }
                out[((size_t)v * S + u) * 3 + c] = s;
            }
}

/* dst (D, D, 3) <- src (Sz, Sz, 3), bilinear, pixel centres aligned. */
static void resample(const float *src, int Sz, float *dst, int D)
{
    float sc = (float)Sz / D;
    for (int v = 0; v < D; v++)
        for (int u = 0; u < D; u++) {
            float bx = (u + 0.5f) * sc - 0.5f, by = (v + 0.5f) * sc - 0.5f;
            bx = bx < 0 ? 0 : bx > Sz - 1 ? (float)(Sz - 1) : bx;
            by = by < 0 ? 0 : by > Sz - 1 ? (float)(Sz - 1) : by;
            int x0 = (int)bx, y0 = (int)by, x1 = x0 + 1 < Sz ? x0 + 1 : x0, y1 = y0 + 1 < Sz ? y0 + 1 : y0;
            float fx = bx - x0, fy = by - y0;
            for (int c = 0; c < 3; c++) {
                float p00 = src[((size_t)y0 * Sz + x0) * 3 + c], p01 = src[((size_t)y0 * Sz + x1) * 3 + c];
                float p10 = src[((size_t)y1 * Sz + x0) * 3 + c], p11 = src[((size_t)y1 * Sz + x1) * 3 + c];
                dst[((size_t)v * D + u) * 3 + c] = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11);
            }
        }
}

void core_pt_aug_survey(float *x, int S, float a, core_rng *r)
{
    size_t n = (size_t)S * S * 3;
    float sg = (float)(a * (2 * core_rng_uniform(r) - 0.5));   /* U(-0.5a, 1.5a) */
    int down = core_rng_uniform(r) < 0.5;
    float f = (float)(1 + a * core_rng_uniform(r));
    float *b = xmalloc(n * sizeof *b), *t = xmalloc(n * sizeof *t);
    if (sg > 0.2f) {
        blur(x, b, t, S, sg);
        memcpy(x, b, n * sizeof *x);
    } else if (sg < -0.05f) {               /* unsharp mask: x + |sg| (x - blur1(x)) */
        blur(x, b, t, S, 1.0f);
        for (size_t i = 0; i < n; i++) {
            float v = x[i] - sg * (x[i] - b[i]);
            x[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
    int D = (int)lrintf(S / f);
    if (down && D < S && D >= 8) {
        resample(x, S, b, D);
        resample(b, D, x, S);
    }
    free(b);
    free(t);
}
