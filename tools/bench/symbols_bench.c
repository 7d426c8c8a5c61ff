/*
 * symbols_bench.c - zoosh's text-cell images (tui/gfx/blocks.c) against
 * libchafa's on the same galaxies and the same cell grid (issue 19: "use
 * libchafa where it beats our own code on the measured figures").
 *
 *   symbols_bench COLS IMAGE...
 *
 * Each image is drawn as COLS x COLS/2 cells (a square pane of half
 * blocks: every cell holds two pixels, upper and lower) by
 *   - zoosh: the image area-resampled to COLS x COLS px (core_image_resize),
 *     then tui_blocks_encode (256 colours: error-diffused palette 16..255;
 *     truecolour: the pixels themselves); the escape bytes are read back;
 *   - chafa: the original pixels handed to a canvas of the same grid, half
 *     blocks only (CHAFA_SYMBOL_TAG_VHALF + space + solid, so that every
 *     cell reads back as two pixels, as ours do), INDEXED_240 (the palette
 *     16..255, as ours) or TRUECOLOR, Floyd-Steinberg diffusion, DIN99d
 *     colour space, work factor 1 (its best); read back with
 *     chafa_canvas_get_char_at / get_colors_at; and the same fed the
 *     resampled pixels ours get ("our pixels"), so that only the choice of
 *     colours differs.
 * The figure is tests/sh/label_backends.sh's: the mean RGB distance (0..441)
 * between the drawn cells and the image resampled to the same pixels, both
 * averaged over 2x2 cells (2 x 4 pixels: what an eye at reading distance
 * sees), and the mean chroma (max - min channel) of the drawing against the
 * image's.  Prints one line per (encoder, mode): mean over the images of
 * error, chroma, and ms per image (one thread both).
 */
#include <chafa.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/image.h"
#include "core/util.h"
#include "tui/gfx/blocks.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const int cube[6] = {0, 95, 135, 175, 215, 255};

static void pal(int k, double *c)
{
    if (k >= 232) { c[0] = c[1] = c[2] = 8 + 10 * (k - 232); return; }
    k -= 16;
    c[0] = cube[k / 36];
    c[1] = cube[k / 6 % 6];
    c[2] = cube[k % 6];
}

/* Our escape bytes back to pixels (side x side): SGR 38/48 ;5;k or ;2;r;g;b,
 * U+2580 (upper = fg, lower = bg) or a space (both bg); CUB/CUD end a row. */
static void read_ours(const char *s, size_t n, int side, double *img)
{
    double fg[3] = {0}, bg[3] = {0};
    int x = 0, y = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == 0x1b && i + 1 < n && s[i + 1] == '[') {
            size_t j = i + 2;
            int p[8], np = 0, v = 0, has = 0;
            while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) {
                if (s[j] == ';') { if (np < 8) p[np++] = v; v = 0; has = 0; }
                else { v = v * 10 + (s[j] - '0'); has = 1; }
                j++;
            }
            if (np < 8 && (has || np)) p[np++] = v;
            char f = j < n ? s[j] : 0;
            if (f == 'm') {
                for (int k = 0; k < np;) {
                    if ((p[k] == 38 || p[k] == 48) && k + 2 < np && p[k + 1] == 5) {
                        pal(p[k + 2], p[k] == 38 ? fg : bg);
                        k += 3;
                    } else if ((p[k] == 38 || p[k] == 48) && k + 4 < np && p[k + 1] == 2) {
                        double *c = p[k] == 38 ? fg : bg;
                        c[0] = p[k + 2]; c[1] = p[k + 3]; c[2] = p[k + 4];
                        k += 5;
                    } else k++;
                }
            } else if (f == 'B') { y++; x = 0; }
            i = j + 1;
            continue;
        }
        int upper = (unsigned char)s[i] == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x96 &&
                    (unsigned char)s[i + 2] == 0x80;
        if (x < side && 2 * y + 1 < side) {
            double *t = img + ((size_t)(2 * y) * side + x) * 3, *b = t + (size_t)side * 3;
            memcpy(t, upper ? fg : bg, sizeof fg);
            memcpy(b, bg, sizeof bg);
        }
        x++;
        i += upper ? 3 : 1;
    }
}

/* chafa's canvas back to pixels: per cell its symbol and colours. */
static void read_chafa(ChafaCanvas *cv, int side, double *img)
{
    for (int y = 0; y < side / 2; y++)
        for (int x = 0; x < side; x++) {
            gunichar ch = chafa_canvas_get_char_at(cv, x, y);
            gint fgp, bgp;
            chafa_canvas_get_colors_at(cv, x, y, &fgp, &bgp);
            double fg[3] = {(fgp >> 16) & 255, (fgp >> 8) & 255, fgp & 255};
            double bg[3] = {(bgp >> 16) & 255, (bgp >> 8) & 255, bgp & 255};
            if (fgp < 0) fg[0] = fg[1] = fg[2] = 0;
            if (bgp < 0) bg[0] = bg[1] = bg[2] = 0;
            const double *top = bg, *bot = bg;
            if (ch == 0x2580) { top = fg; bot = bg; }         /* upper half */
            else if (ch == 0x2584) { top = bg; bot = fg; }    /* lower half */
            else if (ch == 0x2588) { top = fg; bot = fg; }    /* full block */
            else if (ch != ' ') fprintf(stderr, "chafa drew U+%04X\n", (unsigned)ch);
            memcpy(img + ((size_t)(2 * y) * side + x) * 3, top, 3 * sizeof(double));
            memcpy(img + ((size_t)(2 * y + 1) * side + x) * 3, bot, 3 * sizeof(double));
        }
}

/* mean RGB distance over 2 x 4 pixel cells, and the chroma of both */
static void score(const double *a, const uint8_t *ref, int side, double *err, double *ca, double *cr)
{
    int bw = side / 2, bh = side / 4;
    double e = 0, xa = 0, xr = 0;
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            double ma[3] = {0}, mr[3] = {0};
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 2; x++)
                    for (int c = 0; c < 3; c++) {
                        size_t i = ((size_t)(4 * by + y) * side + 2 * bx + x) * 3 + c;
                        ma[c] += a[i] / 8;
                        mr[c] += ref[i] / 8.0;
                    }
            e += sqrt((ma[0] - mr[0]) * (ma[0] - mr[0]) + (ma[1] - mr[1]) * (ma[1] - mr[1]) +
                      (ma[2] - mr[2]) * (ma[2] - mr[2]));
            xa += fmax(ma[0], fmax(ma[1], ma[2])) - fmin(ma[0], fmin(ma[1], ma[2]));
            xr += fmax(mr[0], fmax(mr[1], mr[2])) - fmin(mr[0], fmin(mr[1], mr[2]));
        }
    *err = e / (bw * bh);
    *ca = xa / (bw * bh);
    *cr = xr / (bw * bh);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: symbols_bench COLS IMAGE...\n");
        return 2;
    }
    int side = atoi(argv[1]) / 4 * 4;
    if (side < 8 || side > 400) {
        fprintf(stderr, "symbols_bench: COLS between 8 and 400\n");
        return 2;
    }
    enum { N_ENC = 6 };
    const char *names[N_ENC] = {"zoosh 256 colours", "chafa 256 colours (240)", "zoosh truecolour",
                                "chafa truecolour", "chafa 256, our pixels", "chafa true, our pixels"};
    double sum_err[N_ENC] = {0}, sum_chroma[N_ENC] = {0}, sum_ref_chroma = 0, sum_ms[N_ENC] = {0};
    int n_img = 0;
    double *img = xmalloc((size_t)side * side * 3 * sizeof *img);
    ChafaSymbolMap *sm = chafa_symbol_map_new();
    chafa_symbol_map_add_by_tags(sm, CHAFA_SYMBOL_TAG_VHALF | CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID);
    for (int a = 2; a < argc; a++) {
        core_image im = {0}, rs = {0};
        char err[200];
        if (core_image_load(argv[a], &im, err, sizeof err) || core_image_resize(&im, side, side, &rs)) {
            fprintf(stderr, "symbols_bench: %s: %s\n", argv[a], err);
            core_image_free(&im);
            continue;
        }
        for (int e = 0; e < N_ENC; e++) {
            /* 4, 5: chafa fed the resampled pixels ours get, one per half cell */
            int truecolour = e == 2 || e == 3 || e == 5, chafa = (e & 1) || e == 4, ours_px = e >= 4;
            memset(img, 0, (size_t)side * side * 3 * sizeof *img);
            double t0 = now_s();
            if (!chafa) {
                char *out;
                size_t len;
                tui_blocks_encode(rs.px, side, side, truecolour ? TUI_BLOCKS_TRUE : TUI_BLOCKS_256, 1, &out, &len);
                sum_ms[e] += (now_s() - t0) * 1e3;
                read_ours(out, len, side, img);
                free(out);
            } else {
                ChafaCanvasConfig *cfg = chafa_canvas_config_new();
                chafa_canvas_config_set_canvas_mode(cfg, truecolour ? CHAFA_CANVAS_MODE_TRUECOLOR
                                                                    : CHAFA_CANVAS_MODE_INDEXED_240);
                chafa_canvas_config_set_geometry(cfg, side, side / 2);
                chafa_canvas_config_set_symbol_map(cfg, sm);
                chafa_canvas_config_set_dither_mode(cfg, CHAFA_DITHER_MODE_DIFFUSION);
                chafa_canvas_config_set_color_space(cfg, CHAFA_COLOR_SPACE_DIN99D);
                chafa_canvas_config_set_work_factor(cfg, 1.0f);
                ChafaCanvas *cv = chafa_canvas_new(cfg);
                const core_image *in = ours_px ? &rs : &im;
                chafa_canvas_draw_all_pixels(cv, CHAFA_PIXEL_RGB8, in->px, in->w, in->h, in->w * 3);
                GString *gs = chafa_canvas_print(cv, NULL);     /* what a terminal would be sent */
                sum_ms[e] += (now_s() - t0) * 1e3;
                g_string_free(gs, TRUE);
                read_chafa(cv, side, img);
                chafa_canvas_unref(cv);
                chafa_canvas_config_unref(cfg);
            }
            double er, ca, cr;
            score(img, rs.px, side, &er, &ca, &cr);
            sum_err[e] += er;
            sum_chroma[e] += ca;
            if (e == 0) sum_ref_chroma += cr;
        }
        n_img++;
        core_image_free(&im);
        core_image_free(&rs);
    }
    chafa_symbol_map_unref(sm);
    free(img);
    if (!n_img) return 1;
    printf("%d images, %d x %d cells of half blocks; image chroma %.2f\n", n_img, side, side / 2,
           sum_ref_chroma / n_img);
    printf("%-26s %12s %8s %10s\n", "encoder", "colour err", "chroma", "ms/image");
    for (int e = 0; e < N_ENC; e++)
        printf("%-26s %12.2f %8.2f %10.2f\n", names[e], sum_err[e] / n_img, sum_chroma[e] / n_img, sum_ms[e] / n_img);
    return 0;
}
