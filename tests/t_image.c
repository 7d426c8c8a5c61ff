/*
 * t_image.c - image decoding, resampling and PNG writing on real files:
 * PNG of every colour type written with libpng, JPEG written with libjpeg,
 * FITS written with cfitsio, the real DECaLS / Galaxy Zoo cutouts, and
 * truncated / damaged copies of them, which must be refused with a reason
 * and never crash.
 */
#include "tests/zt.h"

#include <fitsio.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "core/util.h"

static const char *ring_png(void)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/decals_rings/images/J002658.19-014709.9.png", ZT_SHARED);
    return p;
}

static const char *tutorial_jpg(void)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/gz_tutorial/images/decals-0_a-0_0.jpg", ZT_SHARED);
    return p;
}

static void pattern(core_image *im, int w, int h, uint64_t seed)
{
    ZT_OK(core_image_alloc(im, w, h));
    core_rng r;
    core_rng_seed(&r, seed);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = im->px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)core_rng_below(&r, 256);
        }
}

/* ---- writing test files with the libraries themselves */

static void write_png_raw(const char *path, int w, int h, int ctype, int depth, const uint8_t *data,
                          const png_color *pal, int npal)
{
    FILE *f = fopen(path, "wb");
    ZT_CHECK(f != NULL, "%s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ZT_CHECK(!setjmp(png_jmpbuf(png)), "libpng write failed");
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (pal) png_set_PLTE(png, info, pal, npal);
    png_write_info(png, info);
    int ch = ctype == PNG_COLOR_TYPE_RGB ? 3 : ctype == PNG_COLOR_TYPE_RGBA ? 4 :
             ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t rowbytes = ((size_t)w * (size_t)ch * (size_t)depth + 7) / 8;
    for (int y = 0; y < h; y++) png_write_row(png, (png_bytep)(data + (size_t)y * rowbytes));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void write_jpeg(const char *path, const uint8_t *px, int w, int h, int comps, J_COLOR_SPACE cs, int quality)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    FILE *f = fopen(path, "wb");
    ZT_CHECK(f != NULL, "%s", path);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * (size_t)w * (size_t)comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

static double mean_abs_diff(const core_image *a, const core_image *b)
{
    double s = 0;
    size_t n = (size_t)a->w * (size_t)a->h * 3;
    for (size_t i = 0; i < n; i++) s += fabs((double)a->px[i] - (double)b->px[i]);
    return s / (double)n;
}

/* ---- cases */

static void png_round_trip_is_exact_and_deterministic(void)
{
    core_image a, b;
    char err[256];
    pattern(&a, 97, 61, 1);
    ZT_OK(core_image_save_png("a.png", &a, err, sizeof err));
    ZT_OK(core_image_load("a.png", &b, err, sizeof err));
    ZT_CHECK(b.w == 97 && b.h == 61, "%dx%d", b.w, b.h);
    ZT_CHECK(memcmp(a.px, b.px, 97 * 61 * 3) == 0, "pixels differ after a PNG round trip");
    uint8_t *m1, *m2;
    size_t l1, l2;
    ZT_OK(core_image_save_png_mem(&a, &m1, &l1));
    ZT_OK(core_image_save_png_mem(&b, &m2, &l2));
    ZT_CHECK(l1 == l2 && memcmp(m1, m2, l1) == 0, "the same pixels gave different PNG bytes");
    size_t fl;
    char *file = zt_slurp("a.png", &fl);
    ZT_CHECK(file && fl == l1 && memcmp(file, m1, l1) == 0, "file and memory writers differ");
    free(file); free(m1); free(m2);
    core_image_free(&a); core_image_free(&b);
}

static void png_colour_types_become_rgb8(void)
{
    char err[256];
    core_image im;
    /* grey 8-bit */
    uint8_t g8[4 * 3];
    for (int i = 0; i < 12; i++) g8[i] = (uint8_t)(i * 20);
    write_png_raw("g8.png", 4, 3, PNG_COLOR_TYPE_GRAY, 8, g8, NULL, 0);
    ZT_OK(core_image_load("g8.png", &im, err, sizeof err));
    for (int i = 0; i < 12; i++)
        ZT_CHECK(im.px[i * 3] == g8[i] && im.px[i * 3 + 1] == g8[i] && im.px[i * 3 + 2] == g8[i], "grey pixel %d", i);
    core_image_free(&im);
    /* grey 1-bit */
    uint8_t g1[2] = {0xA0, 0x50};   /* 8 pixels wide, 2 rows: 10100000, 01010000 */
    write_png_raw("g1.png", 8, 2, PNG_COLOR_TYPE_GRAY, 1, g1, NULL, 0);
    ZT_OK(core_image_load("g1.png", &im, err, sizeof err));
    ZT_CHECK(im.px[0] == 255 && im.px[3] == 0 && im.px[6] == 255 && im.px[8 * 3 + 3] == 255,
             "1-bit grey expanded: %d %d %d %d", im.px[0], im.px[3], im.px[6], im.px[8 * 3 + 3]);
    core_image_free(&im);
    /* RGB 16-bit: the high byte survives */
    uint16_t r16[2 * 2 * 3];
    uint8_t be[sizeof r16];
    for (int i = 0; i < 12; i++) {
        r16[i] = (uint16_t)(i * 5000 + 123);
        be[i * 2] = (uint8_t)(r16[i] >> 8);
        be[i * 2 + 1] = (uint8_t)(r16[i] & 0xFF);
    }
    write_png_raw("rgb16.png", 2, 2, PNG_COLOR_TYPE_RGB, 16, be, NULL, 0);
    ZT_OK(core_image_load("rgb16.png", &im, err, sizeof err));
    for (int i = 0; i < 12; i++)
        ZT_CHECK(abs((int)im.px[i] - (int)(r16[i] >> 8)) <= 1, "16-bit sample %d: %d vs %d", i, im.px[i], r16[i] >> 8);
    core_image_free(&im);
    /* palette */
    png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    uint8_t idx[3] = {2, 0, 1};
    write_png_raw("pal.png", 3, 1, PNG_COLOR_TYPE_PALETTE, 8, idx, pal, 3);
    ZT_OK(core_image_load("pal.png", &im, err, sizeof err));
    ZT_CHECK(im.px[0] == 10 && im.px[1] == 20 && im.px[2] == 30 && im.px[3] == 255 && im.px[7] == 255, "palette lookup");
    core_image_free(&im);
    /* RGBA and grey+alpha: alpha is dropped, colour kept */
    uint8_t rgba[2 * 4] = {1, 2, 3, 0, 200, 100, 50, 255};
    write_png_raw("rgba.png", 2, 1, PNG_COLOR_TYPE_RGBA, 8, rgba, NULL, 0);
    ZT_OK(core_image_load("rgba.png", &im, err, sizeof err));
    ZT_CHECK(im.px[0] == 1 && im.px[1] == 2 && im.px[2] == 3 && im.px[3] == 200 && im.px[5] == 50, "RGBA colour kept");
    core_image_free(&im);
    uint8_t ga[2 * 2] = {77, 0, 99, 255};
    write_png_raw("ga.png", 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL, 0);
    ZT_OK(core_image_load("ga.png", &im, err, sizeof err));
    ZT_CHECK(im.w == 2 && im.px[0] == 77 && im.px[2] == 77 && im.px[3] == 99, "grey+alpha");
    core_image_free(&im);
}

static void jpeg_round_trip_is_close_and_grey_is_grey(void)
{
    char err[256];
    core_image a, b;
    ZT_OK(core_image_load(ring_png(), &a, err, sizeof err));   /* a real galaxy, smooth enough for JPEG */
    write_jpeg("a.jpg", a.px, a.w, a.h, 3, JCS_RGB, 95);
    ZT_OK(core_image_load("a.jpg", &b, err, sizeof err));
    ZT_CHECK(b.w == a.w && b.h == a.h, "%dx%d", b.w, b.h);
    double d = mean_abs_diff(&a, &b);
    ZT_CHECK(d < 5.0, "mean abs difference %.2f after a quality-95 JPEG", d);
    core_image_free(&b);
    uint8_t *grey = xmalloc((size_t)a.w * (size_t)a.h);
    for (size_t i = 0; i < (size_t)a.w * (size_t)a.h; i++) grey[i] = a.px[i * 3 + 1];
    write_jpeg("g.jpg", grey, a.w, a.h, 1, JCS_GRAYSCALE, 95);
    ZT_OK(core_image_load("g.jpg", &b, err, sizeof err));
    for (size_t i = 0; i < (size_t)b.w * (size_t)b.h; i++)
        ZT_CHECK(b.px[i * 3] == b.px[i * 3 + 1] && b.px[i * 3] == b.px[i * 3 + 2], "grey JPEG pixel %zu not grey", i);
    free(grey);
    core_image_free(&a);
    core_image_free(&b);
}

static void cmyk_jpeg_is_refused_with_a_reason(void)
{
    uint8_t px[8 * 8 * 4];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(i * 7);
    write_jpeg("cmyk.jpg", px, 8, 8, 4, JCS_CMYK, 90);
    core_image im;
    char err[256] = "";
    ZT_CHECK(core_image_load("cmyk.jpg", &im, err, sizeof err) == -1, "a CMYK JPEG was accepted");
    ZT_CHECK(strstr(err, "CMYK") != NULL, "reason: '%s'", err);
    ZT_CHECK(im.px == NULL, "no pixels on failure");
}

static void real_cutouts_decode(void)
{
    char err[256];
    core_image im;
    ZT_OK(core_image_load(ring_png(), &im, err, sizeof err));
    ZT_CHECK(im.w == 424 && im.h == 424, "%dx%d", im.w, im.h);
    long sum = 0;
    for (size_t i = 0; i < 424 * 424 * 3; i++) sum += im.px[i];
    ZT_CHECK(sum > 424 * 424 * 3 * 5 && sum < 424L * 424 * 3 * 250, "implausible mean brightness");
    core_image_free(&im);
    ZT_CHECK(core_image_load(tutorial_jpg(), &im, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(im.w > 100 && im.h > 100, "%dx%d", im.w, im.h);
    core_image_free(&im);
}

static void write_fits(const char *path, int naxis, long *naxes, const float *data)
{
    fitsfile *f;
    int status = 0;
    char name[1100];
    snprintf(name, sizeof name, "!%s", path);
    fits_create_file(&f, name, &status);
    fits_create_img(f, FLOAT_IMG, naxis, naxes, &status);
    long n = 1;
    for (int i = 0; i < naxis; i++) n *= naxes[i];
    fits_write_img(f, TFLOAT, 1, n, (void *)data, &status);
    fits_close_file(f, &status);
    ZT_CHECK(status == 0, "cfitsio status %d writing %s", status, path);
}

static void fits_2d_is_grey_stretched_and_north_up(void)
{
    long ax[2] = {40, 30};
    float *d = xmalloc(sizeof(float) * 40 * 30);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++) d[y * 40 + x] = (float)(y * 10 + x * 0.1);   /* brighter up (FITS row 1 = bottom) */
    d[5] = NAN;
    write_fits("g.fits", 2, ax, d);
    core_image im;
    char err[256];
    ZT_OK(core_image_load("g.fits", &im, err, sizeof err));
    ZT_CHECK(im.w == 40 && im.h == 30, "%dx%d", im.w, im.h);
    for (int i = 0; i < 40 * 30; i++)
        ZT_CHECK(im.px[i * 3] == im.px[i * 3 + 1] && im.px[i * 3] == im.px[i * 3 + 2], "not grey at %d", i);
    /* the top display row is FITS row 30, the brightest; values rise up the image */
    ZT_CHECK(im.px[(0 * 40 + 20) * 3] > im.px[(29 * 40 + 20) * 3], "top %d bottom %d: not north up",
             im.px[(0 * 40 + 20) * 3], im.px[(29 * 40 + 20) * 3]);
    for (int y = 1; y < 30; y++)
        ZT_CHECK(im.px[(y * 40 + 20) * 3] <= im.px[((y - 1) * 40 + 20) * 3], "stretch not monotonic at row %d", y);
    ZT_CHECK(im.px[(29 * 40 + 5) * 3] == 0, "NaN pixel is not black");
    ZT_CHECK(im.px[39 * 3] == 255, "the brightest corner is not white (%d)", im.px[39 * 3]);
    core_image_free(&im);
    free(d);
}

static void fits_galaxy_on_sky_noise_shows_black_sky_and_white_core(void)
{
    long ax[2] = {64, 64};
    float *d = xmalloc(sizeof(float) * 64 * 64);
    core_rng r;
    core_rng_seed(&r, 5);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            double rr = sqrt((x - 32.0) * (x - 32.0) + (y - 32.0) * (y - 32.0));
            d[y * 64 + x] = (float)(500.0 * exp(-rr / 4.0) + core_rng_normal(&r));   /* exponential disc on unit noise */
        }
    write_fits("gal.fits", 2, ax, d);
    core_image im;
    char err[256];
    ZT_OK(core_image_load("gal.fits", &im, err, sizeof err));
    double border = 0;
    int nb = 0;
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            if (x < 6 || x >= 58 || y < 6 || y >= 58) { border += im.px[(y * 64 + x) * 3]; nb++; }
    border /= nb;
    ZT_CHECK(border < 40, "the sky is not dark: mean %.1f", border);
    ZT_CHECK(im.px[(32 * 64 + 32) * 3] == 255, "the core is not white: %d", im.px[(32 * 64 + 32) * 3]);
    int mid = im.px[(32 * 64 + 44) * 3];   /* 12 px out: 25 sigma, faint but visible through asinh */
    ZT_CHECK(mid > 60 && mid < 255, "the disc 12 px out is %d", mid);
    core_image_free(&im);
    free(d);
}

static void fits_cube_of_three_planes_is_colour(void)
{
    long ax[3] = {16, 16, 3};
    float *d = xcalloc(16 * 16 * 3, sizeof(float));
    for (int i = 0; i < 256; i++) {
        d[0 * 256 + i] = 0.1f;            /* g: faint */
        d[1 * 256 + i] = 0.1f;            /* r: faint */
        d[2 * 256 + i] = (float)(i % 16); /* z: bright, rising with x */
    }
    write_fits("c.fits", 3, ax, d);
    core_image im;
    char err[256];
    ZT_OK(core_image_load("c.fits", &im, err, sizeof err));
    ZT_CHECK(im.w == 16 && im.h == 16, "%dx%d", im.w, im.h);
    const uint8_t *p = im.px + (8 * 16 + 15) * 3;
    ZT_CHECK(p[0] > 200 && p[1] < 60 && p[2] < 60, "z plane should draw red: %d,%d,%d", p[0], p[1], p[2]);
    core_image_free(&im);
    /* a 4-plane cube is refused with a reason */
    long ax4[3] = {4, 4, 4};
    float d4[64] = {0};
    write_fits("c4.fits", 3, ax4, d4);
    ZT_CHECK(core_image_load("c4.fits", &im, err, sizeof err) == -1, "4 planes accepted");
    ZT_CHECK(strstr(err, "4 planes") != NULL, "reason '%s'", err);
    free(d);
}

static void truncated_files_are_refused_cleanly(void)
{
    const char *files[3] = {ring_png(), tutorial_jpg(), "f.fits"};
    long ax[2] = {64, 64};
    float d[64 * 64];
    for (int i = 0; i < 64 * 64; i++) d[i] = (float)i;
    write_fits("f.fits", 2, ax, d);
    for (int k = 0; k < 3; k++) {
        size_t len;
        char *buf = zt_slurp(files[k], &len);
        ZT_CHECK(buf != NULL, "%s", files[k]);
        core_image im;
        char err[256];
        ZT_OK(core_image_load_mem(buf, len, &im, err, sizeof err));
        core_image_free(&im);
        /* a FITS file may lack the zero padding after its data: cut inside the data */
        size_t whole = k == 2 ? 2880 + sizeof d : len;
        for (int cut = 1; cut < 64; cut++) {
            size_t n = whole * (size_t)cut / 64;
            err[0] = 0;
            int rc = core_image_load_mem(buf, n, &im, err, sizeof err);
            ZT_CHECK(rc == -1, "%s cut to %zu of %zu bytes was accepted", files[k], n, len);
            ZT_CHECK(err[0] != 0 && im.px == NULL, "no reason for %s cut at %zu", files[k], n);
        }
        free(buf);
    }
    core_image im;
    char err[256];
    ZT_CHECK(core_image_load_mem("GIF89a....", 10, &im, err, sizeof err) == -1 && strstr(err, "not a PNG/JPEG/FITS"), "%s", err);
    ZT_CHECK(core_image_load_mem("", 0, &im, err, sizeof err) == -1, "empty accepted");
    ZT_CHECK(core_image_load("no-such-file.png", &im, err, sizeof err) == -1 && strstr(err, "cannot open"), "%s", err);
}

static void damaged_bytes_never_crash(void)
{
    const char *files[2] = {ring_png(), tutorial_jpg()};
    core_rng r;
    core_rng_seed(&r, 42);
    int refused = 0, total = 0;
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *orig = zt_slurp(files[k], &len);
        char *buf = xmalloc(len);
        for (int t = 0; t < 60; t++) {
            memcpy(buf, orig, len);
            int nflip = 1 + (int)core_rng_below(&r, 20);
            for (int i = 0; i < nflip; i++) {
                /* damage the headers more often: that is where the sizes live */
                size_t at = (t % 2) ? core_rng_below(&r, (uint32_t)(len < 400 ? len : 400)) : core_rng_below(&r, (uint32_t)len);
                buf[at] = (char)core_rng_below(&r, 256);
            }
            core_image im;
            char err[256];
            if (core_image_load_mem(buf, len, &im, err, sizeof err) == 0) {
                ZT_CHECK(im.w > 0 && im.h > 0 && im.w <= CORE_IMAGE_MAX_SIDE, "odd size %dx%d", im.w, im.h);
                core_image_free(&im);
            } else {
                ZT_CHECK(err[0] && im.px == NULL, "refused without a reason");
                refused++;
            }
            total++;
        }
        free(buf);
        free(orig);
    }
    ZT_CHECK(refused > 0, "none of %d damaged files was refused", total);
}

static void huge_declared_size_is_refused_before_allocating(void)
{
    /* a PNG header claiming 100000 x 100000 pixels */
    core_image im;
    char err[256];
    pattern(&im, 2, 2, 3);
    uint8_t *buf;
    size_t len;
    ZT_OK(core_image_save_png_mem(&im, &buf, &len));
    core_image_free(&im);
    /* IHDR data starts at byte 16: width, height big-endian; fix the CRC */
    uint32_t big = 100000;
    for (int i = 0; i < 4; i++) buf[16 + i] = buf[20 + i] = (uint8_t)(big >> (24 - 8 * i));
    uint32_t crc = (uint32_t)crc32(0, buf + 12, 17);
    for (int i = 0; i < 4; i++) buf[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    ZT_CHECK(core_image_load_mem(buf, len, &im, err, sizeof err) == -1, "a 100000^2 PNG was accepted");
    ZT_CHECK(strstr(err, "limit") || strstr(err, "too large"), "reason '%s'", err);
    free(buf);
    /* and a FITS header claiming 20000 x 20000 */
    long ax[2] = {20000, 20000};
    fitsfile *f;
    int status = 0;
    fits_create_file(&f, "!big.fits", &status);
    fits_create_img(f, BYTE_IMG, 2, ax, &status);
    fits_close_file(f, &status);   /* header only; data never written */
    size_t fl;
    char *fb = zt_slurp("big.fits", &fl);
    ZT_CHECK(fb != NULL, "big.fits");
    ZT_CHECK(core_image_load_mem(fb, fl < 2880 ? fl : 2880, &im, err, sizeof err) == -1, "huge FITS accepted");
    ZT_CHECK(strstr(err, "too large") || strstr(err, "truncated") || strstr(err, "corrupt"), "reason '%s'", err);
    free(fb);
}

static void resize_matches_the_naive_reference(void)
{
    int sizes[][4] = {{424, 424, 256, 256}, {100, 60, 37, 23}, {10, 7, 25, 16}, {300, 200, 256, 171}, {5, 5, 1, 1}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        core_image in, a, b;
        pattern(&in, sizes[k][0], sizes[k][1], 7 + k);
        ZT_OK(core_image_resize(&in, sizes[k][2], sizes[k][3], &a));
        ZT_OK(core_image_resize_naive(&in, sizes[k][2], sizes[k][3], &b));
        size_t n = (size_t)a.w * (size_t)a.h * 3;
        for (size_t i = 0; i < n; i++)
            ZT_CHECK(abs((int)a.px[i] - (int)b.px[i]) <= 1, "case %zu pixel %zu: fast %d naive %d", k, i, a.px[i], b.px[i]);
        core_image_free(&in); core_image_free(&a); core_image_free(&b);
    }
    /* a flat image stays flat; the mean is kept by area averaging */
    core_image flat, out;
    ZT_OK(core_image_alloc(&flat, 33, 17));
    memset(flat.px, 123, 33 * 17 * 3);
    ZT_OK(core_image_resize(&flat, 10, 6, &out));
    for (int i = 0; i < 10 * 6 * 3; i++) ZT_CHECK(out.px[i] == 123, "flat image changed: %d", out.px[i]);
    core_image_free(&flat); core_image_free(&out);
}

static void thumbnail_keeps_aspect_and_crop_is_centred(void)
{
    core_image in, t, c;
    pattern(&in, 424, 300, 9);
    ZT_OK(core_image_thumbnail(&in, CORE_THUMB_SIDE, &t));
    ZT_CHECK(t.w == 256 && t.h == 181, "thumbnail %dx%d", t.w, t.h);
    core_image_free(&t);
    ZT_OK(core_image_crop_centre(&in, 100, &c));
    ZT_CHECK(c.w == 100 && c.h == 100, "crop %dx%d", c.w, c.h);
    ZT_CHECK(memcmp(c.px, in.px + ((size_t)100 * 424 + 162) * 3, 300) == 0, "crop is not centred");
    core_image_free(&c);
    ZT_OK(core_image_crop_centre(&in, 1000, &c));
    ZT_CHECK(c.w == 300 && c.h == 300, "clamped crop %dx%d", c.w, c.h);
    core_image_free(&c);
    core_image_free(&in);
}

static void thumbnails_decoded_scaled_match_full_decodes(void)
{
    const char *files[2] = {tutorial_jpg(), ring_png()};
    for (int k = 0; k < 2; k++) {
        core_image full, a, b;
        char err[256];
        ZT_OK(core_image_load(files[k], &full, err, sizeof err));
        ZT_OK(core_image_thumbnail(&full, CORE_THUMB_SIDE, &a));
        ZT_OK(core_image_load_thumb(files[k], CORE_THUMB_SIDE, &b, err, sizeof err));
        ZT_CHECK(a.w == b.w && a.h == b.h, "%s: %dx%d vs %dx%d", files[k], a.w, a.h, b.w, b.h);
        double d = mean_abs_diff(&a, &b);
        if (k == 1) ZT_CHECK(d == 0, "a PNG thumbnail differs (%.3f)", d);
        else ZT_CHECK(d < 4.0, "the DCT-scaled JPEG thumbnail is off by %.2f on average", d);
        core_image_free(&full); core_image_free(&a); core_image_free(&b);
    }
    /* a truncated JPEG is refused on the scaled path too */
    size_t len;
    char *buf = zt_slurp(tutorial_jpg(), &len);
    FILE *f = fopen("t.jpg", "wb");
    fwrite(buf, 1, len / 2, f);
    fclose(f);
    free(buf);
    core_image im;
    char err[256];
    ZT_CHECK(core_image_load_thumb("t.jpg", CORE_THUMB_SIDE, &im, err, sizeof err) == -1 && strstr(err, "truncated"), "%s", err);
}

/* ---- the PNG fast path (libdeflate + own unfiltering) against libpng */

/* Decodes buf both ways; when the fast path takes it, libpng must decode it
 * too, to the same bytes, and the naive unfiltering must agree.  Returns 1
 * when the fast path took it. */
static int png_paths_agree(const void *buf, size_t len, const char *what)
{
    core_image f, n, l;
    char err[256];
    int rf = core_image_png_fast(buf, len, &f, 0);
    int rn = core_image_png_fast(buf, len, &n, 1);
    int rl = core_image_png_libpng(buf, len, &l, err, sizeof err);
    ZT_CHECK(rf == 0 || rf == 1, "%s: fast path returned %d", what, rf);
    ZT_CHECK(rf == rn, "%s: SIMD and naive unfiltering disagree on taking it (%d vs %d)", what, rf, rn);
    if (rf == 0) {
        ZT_CHECK(rl == 0, "%s: the fast path decoded what libpng refuses (%s)", what, err);
        ZT_CHECK(f.w == l.w && f.h == l.h, "%s: %dx%d vs libpng %dx%d", what, f.w, f.h, l.w, l.h);
        ZT_CHECK(memcmp(f.px, l.px, (size_t)f.w * (size_t)f.h * 3) == 0, "%s: pixels differ from libpng", what);
        ZT_CHECK(memcmp(n.px, l.px, (size_t)f.w * (size_t)f.h * 3) == 0, "%s: naive unfiltering differs from libpng", what);
    } else {
        ZT_CHECK(f.px == NULL && n.px == NULL, "%s: declined but left pixels", what);
    }
    /* and what the importer calls gives libpng's answer, reason included */
    core_image m;
    char err2[256];
    if (len < 8 || memcmp(buf, "\x89PNG\r\n\x1a\n", 8) != 0) {   /* not dispatched as a PNG at all */
        ZT_CHECK(rf == 1, "%s: the fast path took a file without the PNG signature", what);
        core_image_free(&l);
        return 0;
    }
    int rm = core_image_load_mem(buf, len, &m, err2, sizeof err2);
    ZT_CHECK((rm == 0) == (rl == 0), "%s: load_mem %d vs libpng %d", what, rm, rl);
    if (rm == 0) ZT_CHECK(m.w == l.w && m.h == l.h && memcmp(m.px, l.px, (size_t)m.w * (size_t)m.h * 3) == 0, "%s: load_mem pixels", what);
    else ZT_CHECK(strcmp(err, err2) == 0 && err2[0], "%s: reason '%s' vs libpng '%s'", what, err2, err);
    core_image_free(&f); core_image_free(&n); core_image_free(&l); core_image_free(&m);
    return rf == 0;
}

static int png_dir_agree(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ls %s/*.png > list.txt", dir);
    int ls = zt_sh(NULL, "%s", cmd);
    ZT_CHECK(ls == 0, "cannot list %s", dir);
    size_t ll;
    char *list = zt_slurp("list.txt", &ll);
    ZT_CHECK(list != NULL, "list.txt");
    int n = 0, fast = 0;
    for (char *p = strtok(list, "\n"); p; p = strtok(NULL, "\n")) {
        size_t len;
        char *buf = zt_slurp(p, &len);
        ZT_CHECK(buf != NULL, "%s", p);
        fast += png_paths_agree(buf, len, p);
        n++;
        free(buf);
    }
    free(list);
    ZT_CHECK(n > 0 && fast == n, "%s: the fast path took %d of %d PNGs", dir, fast, n);
    return n;
}

static void png_fast_path_matches_libpng_on_real_cutouts(void)
{
    char d[1024];
    snprintf(d, sizeof d, "%s/decals_rings/images", ZT_SHARED);
    int a = png_dir_agree(d);
    snprintf(d, sizeof d, "%s/hsc_anomalies/images", ZT_SHARED);
    int b = png_dir_agree(d);
    ZT_CHECK(a == 200 && b == 302, "%d DECaLS and %d HSC PNGs", a, b);
}

static void png_fast_path_matches_libpng_on_simulated_cutouts(void)
{
    int rc = zt_sh("sim.log", "'%s' sim sim -n 12 --size 131 --seed 7 --threads 1 --quiet", ZT_ZOOSH);
    ZT_CHECK(rc == 0, "zoosh sim failed (sim.log)");
    ZT_CHECK(png_dir_agree("sim/images") == 12, "12 simulated PNGs");
}

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}

/* One chunk (length, type, data, CRC) at b + p; returns the end. */
static size_t put_chunk(uint8_t *b, size_t p, const char *type, const uint8_t *data, size_t n)
{
    put32(b + p, (uint32_t)n);
    memcpy(b + p + 4, type, 4);
    if (n) memcpy(b + p + 8, data, n);
    put32(b + p + 8 + n, (uint32_t)crc32(0, b + p + 4, (uInt)n + 4));
    return p + 12 + n;
}

/* A PNG built by hand: IHDR, the filtered rows zlib-compressed (level,
 * window bits) split into IDAT chunks of `chunk` bytes, IEND. */
static uint8_t *png_build(int w, int h, int ctype, int depth, int interlace, const uint8_t *filtered, size_t flen,
                          int level, int wbits, size_t chunk, size_t *outlen)
{
    uLongf zcap = compressBound((uLong)flen) + 64;
    uint8_t *z = xmalloc(zcap);
    z_stream zs = {0};
    ZT_CHECK(deflateInit2(&zs, level, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    zs.next_in = (Bytef *)filtered; zs.avail_in = (uInt)flen;
    zs.next_out = z; zs.avail_out = (uInt)zcap;
    ZT_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate");
    size_t zlen = zs.total_out;
    deflateEnd(&zs);
    size_t nchunks = zlen / chunk + 1;
    uint8_t *b = xmalloc(8 + 25 + zlen + 12 * nchunks + 12);
    size_t p = 8;
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = {0};
    for (int i = 0; i < 4; i++) { ihdr[i] = (uint8_t)((uint32_t)w >> (24 - 8 * i)); ihdr[4 + i] = (uint8_t)((uint32_t)h >> (24 - 8 * i)); }
    ihdr[8] = (uint8_t)depth; ihdr[9] = (uint8_t)ctype; ihdr[12] = (uint8_t)interlace;
    p = put_chunk(b, p, "IHDR", ihdr, 13);
    for (size_t o = 0; o < zlen; o += chunk)
        p = put_chunk(b, p, "IDAT", z + o, zlen - o < chunk ? zlen - o : chunk);
    p = put_chunk(b, p, "IEND", NULL, 0);
    free(z);
    *outlen = p;
    return b;
}

/* Every colour type the fast path takes, every filter (and a random mix per
 * row), odd sizes, smooth and noisy content, one and many IDAT chunks, small
 * zlib windows: byte-identical to libpng, SIMD unfiltering to the naive one. */
static void png_fast_path_matches_libpng_for_every_filter_and_colour_type(void)
{
    static const int ctypes[4] = {0, 2, 4, 6}, bpps[4] = {1, 3, 2, 4};
    static const int sizes[][2] = {{1, 1}, {1, 9}, {7, 1}, {5, 3}, {33, 17}, {256, 4}, {97, 61}};
    core_rng r;
    core_rng_seed(&r, 5);
    int taken = 0, total = 0;
    for (int ci = 0; ci < 4; ci++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int filt = 0; filt <= 5; filt++)        /* 5 = a random filter per row */
                for (int noisy = 0; noisy < 2; noisy++) {
                    int w = sizes[si][0], h = sizes[si][1], bpp = bpps[ci];
                    size_t stride = 1 + (size_t)w * (size_t)bpp, flen = stride * (size_t)h;
                    uint8_t *f = xmalloc(flen);
                    for (int y = 0; y < h; y++) {
                        uint8_t *row = f + (size_t)y * stride;
                        row[0] = (uint8_t)(filt < 5 ? filt : (int)core_rng_below(&r, 5));
                        for (size_t i = 1; i < stride; i++)
                            row[i] = noisy ? (uint8_t)core_rng_below(&r, 256) : (uint8_t)((i * 3 + (size_t)y * 5) & 7);
                    }
                    size_t len;
                    int wbits = (total % 3 == 0) ? 9 : 15;   /* a 512-byte window now and then */
                    uint8_t *png = png_build(w, h, ctypes[ci], 8, 0, f, flen, (total % 2) ? 9 : 1, wbits,
                                             (total % 4 == 0) ? 7 : 1 << 16, &len);
                    char what[96];
                    snprintf(what, sizeof what, "ctype %d %dx%d filter %d noisy %d", ctypes[ci], w, h, filt, noisy);
                    int t = png_paths_agree(png, len, what);
                    /* a window smaller than the image may only be declined, never misread */
                    if (wbits == 15 || flen <= 512) ZT_CHECK(t, "%s: not taken", what);
                    taken += t;
                    total++;
                    free(png);
                    free(f);
                }
    ZT_CHECK(taken > total / 2, "the fast path took %d of %d", taken, total);
}

/* What the fast path leaves to libpng, libpng still decodes. */
static void png_fast_path_leaves_palette_16_bit_and_interlaced_to_libpng(void)
{
    uint8_t f[3 * (1 + 6 * 2)];
    for (size_t i = 0; i < sizeof f; i++) f[i] = (uint8_t)(i % 13 ? i * 7 : 0);
    for (int y = 0; y < 3; y++) f[y * 13] = 0;
    size_t len;
    uint8_t *png = png_build(2, 3, 2, 16, 0, f, sizeof f, 6, 15, 1 << 16, &len);   /* RGB 16-bit */
    core_image im;
    char err[256];
    ZT_CHECK(core_image_png_fast(png, len, &im, 0) == 1, "16-bit taken");
    ZT_OK(core_image_load_mem(png, len, &im, err, sizeof err));
    core_image_free(&im);
    free(png);
    uint8_t idx[4] = {0, 1, 2, 3};
    png_color pal[4] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
    write_png_raw("pal.png", 4, 1, PNG_COLOR_TYPE_PALETTE, 8, idx, pal, 4);
    char *pb = zt_slurp("pal.png", &len);
    ZT_CHECK(core_image_png_fast(pb, len, &im, 0) == 1, "palette taken");
    png_paths_agree(pb, len, "palette");
    free(pb);
    /* Adam7: write it with libpng */
    core_image a;
    pattern(&a, 19, 11, 9);
    FILE *fp = fopen("il.png", "wb");
    png_structp wp = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop wi = png_create_info_struct(wp);
    ZT_CHECK(!setjmp(png_jmpbuf(wp)), "libpng write failed");
    png_init_io(wp, fp);
    png_set_IHDR(wp, wi, 19, 11, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(wp, wi);
    png_bytep rows[11];
    for (int y = 0; y < 11; y++) rows[y] = a.px + (size_t)y * 19 * 3;
    png_write_image(wp, rows);
    png_write_end(wp, NULL);
    png_destroy_write_struct(&wp, &wi);
    fclose(fp);
    char *ib = zt_slurp("il.png", &len);
    ZT_CHECK(core_image_png_fast(ib, len, &im, 0) == 1, "interlaced taken");
    ZT_OK(core_image_load_mem(ib, len, &im, err, sizeof err));
    ZT_CHECK(im.w == 19 && memcmp(im.px, a.px, 19 * 11 * 3) == 0, "interlaced pixels");
    core_image_free(&im);
    core_image_free(&a);
    free(ib);
}

static void set_crc(uint8_t *b, size_t chunk_at)
{
    uint32_t n = (uint32_t)b[chunk_at] << 24 | (uint32_t)b[chunk_at + 1] << 16 | (uint32_t)b[chunk_at + 2] << 8 | b[chunk_at + 3];
    uint32_t c = (uint32_t)crc32(0, b + chunk_at + 4, n + 4);
    for (int i = 0; i < 4; i++) b[chunk_at + 8 + n + (size_t)i] = (uint8_t)(c >> (24 - 8 * i));
}

/* Damaged PNGs: the reason the user reads names what is wrong, the fast path
 * never takes a file libpng refuses or reads differently, nothing crashes. */
static void damaged_pngs_give_libpngs_reason_and_the_fast_path_never_disagrees(void)
{
    size_t len;
    uint8_t *orig = (uint8_t *)zt_slurp(ring_png(), &len);
    ZT_CHECK(orig != NULL, "%s", ring_png());
    uint8_t *b = xmalloc(len + 64);
    core_image im;
    char err[256];
    /* a bad CRC in IDAT (the first IDAT chunk starts at byte 33) */
    memcpy(b, orig, len);
    b[33 + 8 + 100] ^= 0x40;
    ZT_CHECK(core_image_load_mem(b, len, &im, err, sizeof err) == -1 && strstr(err, "CRC"), "IDAT CRC: '%s'", err);
    png_paths_agree(b, len, "IDAT CRC");
    /* the same damage with the CRC made right: the deflate data is bad */
    set_crc(b, 33);
    ZT_CHECK(core_image_load_mem(b, len, &im, err, sizeof err) == -1 && err[0], "bad deflate accepted");
    ZT_CHECK(strstr(err, "corrupt PNG"), "bad deflate: '%s'", err);
    png_paths_agree(b, len, "bad deflate");
    /* cut in the middle, and just before IEND */
    ZT_CHECK(core_image_load_mem(orig, len / 2, &im, err, sizeof err) == -1 && strstr(err, "truncated"), "cut: '%s'", err);
    ZT_CHECK(core_image_load_mem(orig, len - 12, &im, err, sizeof err) == -1 && strstr(err, "truncated"), "no IEND: '%s'", err);
    png_paths_agree(orig, len - 12, "no IEND");
    /* a bad filter byte: rebuild the file with row 5 filtered by type 7 */
    {
        uint8_t f[3 * (1 + 4 * 3)];
        memset(f, 9, sizeof f);
        f[0] = 0; f[13] = 7; f[26] = 4;
        size_t l2;
        uint8_t *p2 = png_build(4, 3, 2, 8, 0, f, sizeof f, 6, 15, 1 << 16, &l2);
        ZT_CHECK(core_image_png_fast(p2, l2, &im, 0) == 1, "filter 7 taken");
        ZT_CHECK(core_image_load_mem(p2, l2, &im, err, sizeof err) == -1 && strstr(err, "filter"), "filter 7: '%s'", err);
        free(p2);
    }
    /* an IHDR CRC error */
    memcpy(b, orig, len);
    b[17] ^= 1;
    ZT_CHECK(core_image_load_mem(b, len, &im, err, sizeof err) == -1 && strstr(err, "CRC"), "IHDR CRC: '%s'", err);
    /* random damage, anywhere and in the headers: the two paths agree */
    core_rng r;
    core_rng_seed(&r, 77);
    for (int t = 0; t < 400; t++) {
        size_t n = len;
        memcpy(b, orig, len);
        int kind = t % 4;
        if (kind == 0) n = 1 + core_rng_below(&r, (uint32_t)len);          /* cut */
        else {
            int nflip = 1 + (int)core_rng_below(&r, 6);
            for (int i = 0; i < nflip; i++) {
                size_t at = kind == 1 ? core_rng_below(&r, 64) : core_rng_below(&r, (uint32_t)len);
                b[at] = (uint8_t)core_rng_below(&r, 256);
            }
            if (kind == 3)   /* then fix every chunk CRC, so the damage reaches inflate and the filters */
                for (size_t p = 8; p + 12 <= len;) {
                    uint32_t cl = (uint32_t)b[p] << 24 | (uint32_t)b[p + 1] << 16 | (uint32_t)b[p + 2] << 8 | b[p + 3];
                    if (cl > len - p - 12) break;
                    set_crc(b, p);
                    p += 12 + cl;
                }
        }
        char what[64];
        snprintf(what, sizeof what, "damage %d (kind %d)", t, kind);
        png_paths_agree(b, n, what);
    }
    free(b);
    free(orig);
}

const zt_case zt_suite_image[] = {
    {"a PNG round trip gives the same pixels and the same bytes twice", png_round_trip_is_exact_and_deterministic, 0},
    {"grey, 1-bit, 16-bit, palette and alpha PNGs become RGB8", png_colour_types_become_rgb8, 0},
    {"a JPEG round trip is close and a grey JPEG decodes grey", jpeg_round_trip_is_close_and_grey_is_grey, 0},
    {"a CMYK JPEG is refused with a reason naming CMYK", cmyk_jpeg_is_refused_with_a_reason, 0},
    {"real DECaLS PNG and Galaxy Zoo JPEG cutouts decode", real_cutouts_decode, 0},
    {"a 2-D FITS image decodes grey, asinh-stretched, north up, NaN black", fits_2d_is_grey_stretched_and_north_up, 0},
    {"a FITS galaxy on sky noise shows a dark sky, a white core and its faint disc", fits_galaxy_on_sky_noise_shows_black_sky_and_white_core, 0},
    {"a 3-plane FITS cube decodes as colour (z red) and 4 planes are refused", fits_cube_of_three_planes_is_colour, 0},
    {"PNG, JPEG and FITS files cut anywhere are refused with a reason", truncated_files_are_refused_cleanly, 0},
    {"randomly damaged PNG and JPEG bytes never crash the decoder", damaged_bytes_never_crash, 0},
    {"a header declaring a huge image is refused before allocating", huge_declared_size_is_refused_before_allocating, 0},
    {"the PNG fast path decodes all 502 real DECaLS and HSC cutouts byte-identically to libpng", png_fast_path_matches_libpng_on_real_cutouts, 0},
    {"the PNG fast path decodes simulator PNGs byte-identically to libpng", png_fast_path_matches_libpng_on_simulated_cutouts, 0},
    {"the PNG fast path matches libpng for every filter, colour type and odd size", png_fast_path_matches_libpng_for_every_filter_and_colour_type, 0},
    {"palette, 16-bit and interlaced PNGs are left to libpng and still decode", png_fast_path_leaves_palette_16_bit_and_interlaced_to_libpng, 0},
    {"damaged PNGs get libpng's reason and the fast path never disagrees with it", damaged_pngs_give_libpngs_reason_and_the_fast_path_never_disagrees, 0},
    {"area-averaging resize matches the naive reference within one level", resize_matches_the_naive_reference, 0},
    {"thumbnails keep the aspect ratio and the centre crop is centred", thumbnail_keeps_aspect_and_crop_is_centred, 0},
    {"thumbnails decoded DCT-scaled (JPEG) match full decodes; truncation still refused", thumbnails_decoded_scaled_match_full_decodes, 0},
    {0, 0, 0},
};
