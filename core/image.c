/*
 * image.c - decoding galaxy cutouts into RGB8 (see image.h): PNG through
 * libdeflate or libpng, JPEG through libjpeg(-turbo), FITS through
 * core/fits.c; area-averaging resampling; a deterministic PNG writer.
 *
 * Every decoder works from memory (core_image_load reads the file first), is
 * chosen by magic bytes, bounds sizes before allocating (CORE_IMAGE_MAX_SIDE
 * per side and IMG_MAX_PIXELS in all) and turns every library error into a
 * short reason string instead of an exit or a crash: libpng and libjpeg report
 * errors through longjmp handlers installed here, cfitsio through its status.
 *
 * PNG has two paths: a fast one (libdeflate and our own unfiltering) for
 * the common 8-bit non-interlaced cutout, and libpng for everything else and
 * for every file the fast path finds the least bit off (see "PNG fast path").
 *
 * DESIGN (threads): the PNG and JPEG paths keep all state on the caller's
 * stack and are safe to call from several threads at once (the importer
 * decodes with a small pool); FITS (core/fits.c) is serialised there.
 */
#include "core/image.h"
#include "core/fits.h"

#include <errno.h>
#include <stdio.h>   /* before jpeglib.h, which needs FILE */
#include <jpeglib.h>
#include <jerror.h>
#include <libdeflate.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define IMG_MAX_PIXELS (100u * 1000u * 1000u)   /* 100 Mpixel: 300 MB of RGB8 */
#define IMG_MAX_FILE   (1024ull * 1024 * 1024)  /* 1 GiB */


int core_image_size_ok(long w, long h, char *err, size_t errlen)
{
    if (w <= 0 || h <= 0) { core_set_err(err, errlen, "empty image (%ldx%ld)", w, h); return 0; }
    if (w > CORE_IMAGE_MAX_SIDE || h > CORE_IMAGE_MAX_SIDE ||
        (unsigned long long)w * (unsigned long long)h > IMG_MAX_PIXELS) {
        core_set_err(err, errlen, "image too large (%ldx%ld; at most %d per side, %u pixels)",
                w, h, CORE_IMAGE_MAX_SIDE, IMG_MAX_PIXELS);
        return 0;
    }
    return 1;
}

int core_image_alloc(core_image *im, int w, int h)
{
    im->w = 0; im->h = 0; im->px = NULL;
    if (!core_image_size_ok(w, h, NULL, 0)) return -1;
    im->px = xmalloc((size_t)w * (size_t)h * 3);
    im->w = w; im->h = h;
    return 0;
}

void core_image_free(core_image *im)
{
    if (!im) return;
    free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

/* ------------------------------------------------------------------ PNG */

typedef struct {
    const uint8_t *buf;
    size_t len, pos;
    jmp_buf jmp;
    char msg[200];
    char warn[96];      /* the last warning: often the cause of the error after it */
    size_t alloc_max;   /* the largest single allocation libpng may make */
} png_src;

/* libpng 1.6.39 allocates an ancillary chunk's declared length before
 * reading it (png_set_chunk_malloc_max does not bound tEXt): a 224-byte
 * file declaring a 1.9 GB tEXt made it malloc 1.9 GB (found by the fuzzer,
 * tests/fuzz/regress/image/oom-9b33...).  Its own allocations are row
 * buffers, inflate state and chunk data, none larger than the file plus
 * the 8 MB it may inflate an iCCP/zTXt to; a larger request gets NULL,
 * which libpng reports as a warning or an error, and the file is refused
 * as before ("truncated PNG") without the allocation. */
static png_voidp png_malloc_fn(png_structp png, png_alloc_size_t n)
{
    png_src *s = png_get_mem_ptr(png);
    if (s && n > s->alloc_max) return NULL;
    return malloc(n);
}

static void png_free_fn(png_structp png, png_voidp p) { (void)png; free(p); }

static void png_err_fn(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    if (s->warn[0]) snprintf(s->msg, sizeof s->msg, "corrupt PNG: %s (%s)", msg, s->warn);
    else snprintf(s->msg, sizeof s->msg, "corrupt PNG: %s", msg);
    longjmp(s->jmp, 1);
}

static void png_warn_fn(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    if (s) snprintf(s->warn, sizeof s->warn, "%s", msg);
}

static void png_read_fn(png_structp png, png_bytep out, size_t n)
{
    png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos) {
        snprintf(s->msg, sizeof s->msg, "truncated PNG (file ends at byte %zu)", s->len);
        longjmp(s->jmp, 2);
    }
    memcpy(out, s->buf + s->pos, n);
    s->pos += n;
}

static int png_libpng(const uint8_t *buf, size_t len, core_image *out, char *err, size_t errlen)
{
    png_src src = {.buf = buf, .len = len, .pos = 0, .msg = "", .warn = "",
                   .alloc_max = len + ((size_t)16 << 20)};
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &src, png_err_fn, png_warn_fn,
                                               &src, png_malloc_fn, png_free_fn);
    if (!png) { core_set_err(err, errlen, "libpng: out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    /* Written before setjmp and read after a longjmp: volatile. */
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    volatile int ok = 0;
    if (!info) { core_set_err(err, errlen, "libpng: out of memory"); goto end; }
    if (setjmp(src.jmp)) {
        core_set_err(err, errlen, "%s", src.msg[0] ? src.msg : "corrupt PNG");
        goto end;
    }
    png_set_read_fn(png, &src, png_read_fn);
    png_set_user_limits(png, CORE_IMAGE_MAX_SIDE, CORE_IMAGE_MAX_SIDE);
    png_set_chunk_malloc_max(png, 8000000);   /* inflated iCCP / zTXt (see png_malloc_fn) */
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), ctype = png_get_color_type(png, info);
    if (!core_image_size_ok((long)w, (long)h, err, errlen)) goto end;
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);       /* cutouts are opaque; alpha is dropped */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        core_set_err(err, errlen, "unsupported PNG layout (colour type %d, depth %d)", ctype, depth);
        goto end;
    }
    px = xmalloc((size_t)w * h * 3);
    rows = xmalloc(sizeof(png_bytep) * h);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = px + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    out->w = (int)w; out->h = (int)h; out->px = px;
    px = NULL;
    ok = 1;
end:
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(rows);
    free(px);
    return ok ? 0 : -1;
}

/* --------------------------------------------------------- PNG fast path
 *
 * The common case of a galaxy cutout -- 8-bit grey, grey+alpha, RGB or RGBA,
 * not interlaced, only IHDR / IDAT / IEND and ancillary chunks -- decoded
 * without libpng: every chunk CRC checked (libdeflate_crc32), the IDAT
 * stream inflated in one call by libdeflate into a buffer of the exact size
 * h * (1 + w * bpp) (it checks the zlib header and Adler-32; a stream that
 * is shorter, longer or followed by stray bytes is not taken), then the rows
 * unfiltered in place and turned into RGB8.  About 4x faster than libpng +
 * zlib on DECaLS cutouts (mostly Paeth rows).
 *
 * Anything else, or anything the least bit off (a bad CRC, a short stream,
 * an unknown filter, a palette, tRNS, an IDAT run broken by another chunk,
 * no IEND), makes the fast path decline, and libpng decodes the file as
 * before: it is the reference (png_libpng), its output and its error reason
 * are what the user gets for every file the fast path does not take, and
 * tests hold the two byte-identical on every file the fast path takes.
 */

#define PNG_DECLINE 1
#define PNG_MAX_RATIO 1032u      /* deflate cannot expand more than ~1032:1 */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* The PNG Paeth predictor as the specification writes it (the reference). */
static uint8_t paeth_pred(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc) return (uint8_t)a;
    if (pb <= pc) return (uint8_t)b;
    return (uint8_t)c;
}

/* Naive unfiltering of one row of n bytes (bpp bytes per pixel) in place:
 * cur is the filtered row, prev the row above already unfiltered (zeros for
 * the first row).  The reference the SIMD Paeth below is tested against. */
static void unfilter_row_naive(int f, uint8_t *cur, const uint8_t *prev, size_t n, int bpp)
{
    for (size_t i = 0; i < n; i++) {
        int a = i >= (size_t)bpp ? cur[i - (size_t)bpp] : 0, b = prev[i];
        int c = i >= (size_t)bpp ? prev[i - (size_t)bpp] : 0;
        switch (f) {
        case 1: cur[i] = (uint8_t)(cur[i] + a); break;
        case 2: cur[i] = (uint8_t)(cur[i] + b); break;
        case 3: cur[i] = (uint8_t)(cur[i] + ((a + b) >> 1)); break;
        case 4: cur[i] = (uint8_t)(cur[i] + paeth_pred(a, b, c)); break;
        default: break;
        }
    }
}

#if defined(__SSE2__)
/* 4 bytes (one pixel of 3 or 4 bytes and maybe the next byte: the buffers
 * carry 4 bytes of padding) widened to 16-bit lanes */
static inline __m128i px_load4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128(v), _mm_setzero_si128());
}

static inline __m128i abs16(__m128i x) { return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x)); }

static inline __m128i pick(__m128i m, __m128i t, __m128i f)
{
    return _mm_or_si128(_mm_and_si128(m, t), _mm_andnot_si128(m, f));
}

/* Paeth for 3 or 4 bytes per pixel (a constant after inlining), one pixel
 * per step in 16-bit lanes (the libpng SSE2 scheme): |p-a| = |b-c|,
 * |p-b| = |a-c|, |p-c| = |a+b-2c|; ties go to a, then b, as the
 * specification says.  Lane 3 of a 3-byte pixel is junk and never stored. */
static inline __attribute__((always_inline))
void unfilter_paeth_sse2(uint8_t *cur, const uint8_t *prev, size_t n, int bpp)
{
    __m128i a = _mm_setzero_si128(), c = a;
    const __m128i lo = _mm_set1_epi16(0xff);
    for (size_t i = 0; i < n; i += (size_t)bpp) {
        __m128i b = px_load4(prev + i), x = px_load4(cur + i);
        __m128i pa = _mm_sub_epi16(b, c), pb = _mm_sub_epi16(a, c);
        __m128i pc = abs16(_mm_add_epi16(pa, pb));
        pa = abs16(pa);
        pb = abs16(pb);
        __m128i sm = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
        __m128i near = pick(_mm_cmpeq_epi16(sm, pb), b, c);
        near = pick(_mm_cmpeq_epi16(sm, pa), a, near);
        a = _mm_and_si128(_mm_add_epi16(near, x), lo);
        int32_t v = _mm_cvtsi128_si32(_mm_packus_epi16(a, a));
        memcpy(cur + i, &v, (size_t)bpp);
        c = b;
    }
}
#endif

/* Unfiltering one row in place, the fast way: Up vectorises; Sub and Avg
 * are a chain along the row either way; Paeth by SSE2 for 3 and 4 bytes per
 * pixel. */
static void unfilter_row(int f, uint8_t *cur, const uint8_t *prev, size_t n, int bpp)
{
    size_t k = (size_t)bpp;
    switch (f) {
    case 0: return;
    case 1:
        for (size_t i = k; i < n; i++) cur[i] = (uint8_t)(cur[i] + cur[i - k]);
        return;
    case 2:
        for (size_t i = 0; i < n; i++) cur[i] = (uint8_t)(cur[i] + prev[i]);
        return;
    case 3:
        for (size_t i = 0; i < k; i++) cur[i] = (uint8_t)(cur[i] + (prev[i] >> 1));
        for (size_t i = k; i < n; i++) cur[i] = (uint8_t)(cur[i] + ((cur[i - k] + prev[i]) >> 1));
        return;
    case 4:
#if defined(__SSE2__)
        if (bpp == 3) { unfilter_paeth_sse2(cur, prev, n, 3); return; }
        if (bpp == 4) { unfilter_paeth_sse2(cur, prev, n, 4); return; }
#endif
        unfilter_row_naive(4, cur, prev, n, bpp);
        return;
    }
}

/* 0: decoded into out; PNG_DECLINE: not taken (libpng decides).  naive:
 * unfilter with the reference loop (tests). */
static int png_fast(const uint8_t *buf, size_t len, core_image *out, int naive)
{
    int rc = PNG_DECLINE;
    uint8_t *cat = NULL, *raw = NULL, *zero = NULL, *px = NULL;
    struct libdeflate_decompressor *dec = NULL;
    uint32_t w = 0, h = 0;
    int bpp = 0, ctype = 0, iend = 0;
    size_t pos = 8, first_idat = 0, n_idat = 0, zlen = 0;
    int idat_done = 0;          /* an IDAT run was followed by another chunk */
    if (len < 8 || memcmp(buf, "\x89PNG\r\n\x1a\n", 8) != 0) return PNG_DECLINE;
    while (!iend) {
        if (len - pos < 12) goto end;                           /* truncated */
        uint32_t n = be32(buf + pos);
        const uint8_t *type = buf + pos + 4, *data = buf + pos + 8;
        if (n > 0x7fffffffu || n > len - pos - 12) goto end;
        for (int k = 0; k < 4; k++) if (!is_letter(type[k])) goto end;
        if (libdeflate_crc32(0, type, (size_t)n + 4) != be32(data + n)) goto end;
        int is_ihdr = memcmp(type, "IHDR", 4) == 0;
        if (is_ihdr != (pos == 8)) goto end;                    /* IHDR first and once */
        if (is_ihdr) {
            if (n != 13) goto end;
            w = be32(data);
            h = be32(data + 4);
            int depth = data[8];
            ctype = data[9];
            if (depth != 8 || data[10] != 0 || data[11] != 0 || data[12] != 0) goto end;
            bpp = ctype == 0 ? 1 : ctype == 2 ? 3 : ctype == 4 ? 2 : ctype == 6 ? 4 : 0;
            if (!bpp) goto end;                                 /* palette or invalid */
            if (w == 0 || h == 0 || w > CORE_IMAGE_MAX_SIDE || h > CORE_IMAGE_MAX_SIDE ||
                (uint64_t)w * h > IMG_MAX_PIXELS) goto end;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            if (idat_done) goto end;
            if (!n_idat++) first_idat = pos;
            zlen += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            if (n != 0 || !n_idat) goto end;
            iend = 1;
        } else {
            if (!(type[0] & 0x20)) goto end;                    /* critical: PLTE or unknown */
            if (memcmp(type, "tRNS", 4) == 0) goto end;
            if (n_idat) idat_done = 1;
        }
        pos += (size_t)n + 12;
    }
    size_t stride = 1 + (size_t)w * (size_t)bpp, rawlen = stride * h;
    if (zlen < 2 || rawlen / PNG_MAX_RATIO > zlen + 64) goto end;   /* cannot inflate to that */
    const uint8_t *z = buf + first_idat + 8;
    if (n_idat > 1) {
        cat = xmalloc(zlen);
        size_t at = 0;
        for (size_t p = first_idat, k = 0; k < n_idat; k++) {
            uint32_t n = be32(buf + p);
            memcpy(cat + at, buf + p + 8, n);
            at += n;
            p += (size_t)n + 12;
        }
        z = cat;
    }
    /* zlib's inflate refuses distances beyond the window the header declares;
     * libdeflate does not look: take the stream only when that cannot matter */
    int cinfo = z[0] >> 4;
    if (cinfo < 7 && ((size_t)1 << (cinfo + 8)) < rawlen) goto end;
    dec = libdeflate_alloc_decompressor();
    if (!dec) goto end;
    raw = xmalloc(rawlen + 4);          /* + 4: px_load4 may read 1 byte past the end */
    memset(raw + rawlen, 0, 4);
    size_t used = 0;
    if (libdeflate_zlib_decompress_ex(dec, z, zlen, raw, rawlen, &used, NULL) != LIBDEFLATE_SUCCESS ||
        used != zlen) goto end;
    size_t rowlen = stride - 1;
    zero = xcalloc(rowlen + 4, 1);
    px = xmalloc((size_t)w * h * 3);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *row = raw + (size_t)y * stride;
        int f = row[0];
        if (f > 4) goto end;
        const uint8_t *prev = y ? row - stride + 1 : zero;
        if (naive) unfilter_row_naive(f, row + 1, prev, rowlen, bpp);
        else unfilter_row(f, row + 1, prev, rowlen, bpp);
        const uint8_t *s = row + 1;
        uint8_t *o = px + (size_t)y * w * 3;
        switch (ctype) {
        case 2: memcpy(o, s, rowlen); break;
        case 6: for (uint32_t x = 0; x < w; x++, s += 4, o += 3) { o[0] = s[0]; o[1] = s[1]; o[2] = s[2]; } break;
        case 0: for (uint32_t x = 0; x < w; x++, s += 1, o += 3) o[0] = o[1] = o[2] = s[0]; break;
        case 4: for (uint32_t x = 0; x < w; x++, s += 2, o += 3) o[0] = o[1] = o[2] = s[0]; break;
        }
    }
    out->w = (int)w;
    out->h = (int)h;
    out->px = px;
    px = NULL;
    rc = 0;
end:
    libdeflate_free_decompressor(dec);
    free(cat);
    free(raw);
    free(zero);
    free(px);
    return rc;
}

static int load_png(const uint8_t *buf, size_t len, core_image *out, char *err, size_t errlen)
{
    if (png_fast(buf, len, out, 0) == 0) return 0;
    return png_libpng(buf, len, out, err, errlen);
}

int core_image_png_fast(const void *buf, size_t len, core_image *out, int naive)
{
    out->w = out->h = 0;
    out->px = NULL;
    return png_fast(buf, len, out, naive);
}

int core_image_png_libpng(const void *buf, size_t len, core_image *out, char *err, size_t errlen)
{
    out->w = out->h = 0;
    out->px = NULL;
    if (err && errlen) err[0] = 0;
    return png_libpng(buf, len, out, err, errlen);
}

/* ----------------------------------------------------------------- JPEG */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    int eof;                 /* a "premature end of data" warning was seen */
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_error_exit_fn(j_common_ptr c)
{
    jpeg_err *e = (jpeg_err *)c->err;
    (*c->err->format_message)(c, e->msg);
    longjmp(e->jmp, 1);
}

static void jpeg_emit_fn(j_common_ptr c, int level)
{
    jpeg_err *e = (jpeg_err *)c->err;
    if (level < 0) {
        c->err->num_warnings++;
        if (c->err->msg_code == JWRN_JPEG_EOF) e->eof = 1;
    }
}

/* Points cinfo's error manager at e: errors longjmp to e->jmp with the
 * message in e->msg, warnings are counted (the caller then setjmps). */
static struct jpeg_error_mgr *jpeg_err_init(jpeg_err *e)
{
    memset(e, 0, sizeof *e);
    struct jpeg_error_mgr *m = jpeg_std_error(&e->pub);
    e->pub.error_exit = jpeg_error_exit_fn;
    e->pub.emit_message = jpeg_emit_fn;
    return m;
}

/* min_side > 0: let the decoder scale by n/8 in the DCT to the smallest
 * size whose longer side is still >= min_side (thumbnails). */
static int load_jpeg(const uint8_t *buf, size_t len, int min_side, core_image *out, char *err, size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err jerr;
    uint8_t *volatile px = NULL;
    volatile int ok = 0, created = 0;
    cinfo.err = jpeg_err_init(&jerr);
    if (setjmp(jerr.jmp)) {
        core_set_err(err, errlen, "corrupt JPEG: %s", jerr.msg);
        goto end;
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (!core_image_size_ok((long)cinfo.image_width, (long)cinfo.image_height, err, errlen)) goto end;
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        core_set_err(err, errlen, "CMYK JPEG is not supported (convert it to RGB)");
        goto end;
    }
    if (cinfo.num_components != 1 && cinfo.num_components != 3) {
        core_set_err(err, errlen, "JPEG with %d components is not supported", cinfo.num_components);
        goto end;
    }
    cinfo.out_color_space = JCS_RGB;
    if (min_side > 0) {
        unsigned longer = cinfo.image_width > cinfo.image_height ? cinfo.image_width : cinfo.image_height;
        unsigned n = 1;
        while (n < 8 && (longer * n + 7) / 8 < (unsigned)min_side) n++;
        cinfo.scale_num = n;
        cinfo.scale_denom = 8;
    }
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 3) {
        core_set_err(err, errlen, "JPEG decodes to %d components, not RGB", cinfo.output_components);
        goto end;
    }
    size_t w = cinfo.output_width, h = cinfo.output_height;
    px = xmalloc(w * h * 3);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = px + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (jerr.eof) {
            core_set_err(err, errlen, "truncated JPEG (data ends at row %u of %zu)",
                    cinfo.output_scanline, h);
            goto end;
        }
    }
    jpeg_finish_decompress(&cinfo);
    if (jerr.eof) { core_set_err(err, errlen, "truncated JPEG"); goto end; }
    out->w = (int)w; out->h = (int)h; out->px = px;
    px = NULL;
    ok = 1;
end:
    if (created) jpeg_destroy_decompress(&cinfo);
    free(px);
    return ok ? 0 : -1;
}

int core_image_jpeg_decode(const void *buf, size_t len, core_image *out, char *err, size_t errlen)
{
    out->w = out->h = 0;
    out->px = NULL;
    if (err && errlen) err[0] = 0;
    const uint8_t *b = buf;
    if (!b || len < 3 || b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF) {
        core_set_err(err, errlen, "not a JPEG (no SOI marker)");
        return -1;
    }
    return load_jpeg(b, len, 0, out, err, errlen);
}

/* Baseline JPEG, quality q, every component sampled 1x1 (4:4:4: the
 * galaxies' colour gradients are as fine as their brightness ones), the
 * accurate integer DCT, Huffman tables optimised for the image. */
int core_image_jpeg_encode(const core_image *im, int quality, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    if (!im || !im->px || !core_image_size_ok(im->w, im->h, err, errlen)) return -1;
    if (quality < 1 || quality > 100) { core_set_err(err, errlen, "JPEG quality %d is not in 1..100", quality); return -1; }
    struct jpeg_compress_struct cinfo;
    jpeg_err jerr;
    /* jpeg_mem_dest mallocs and grows *mem; both live in memory (their
     * addresses escape), so they are current after a longjmp */
    unsigned char *mem = NULL;
    unsigned long mlen = 0;
    volatile int ok = 0, created = 0;
    cinfo.err = jpeg_err_init(&jerr);
    if (setjmp(jerr.jmp)) {
        core_set_err(err, errlen, "JPEG encoder: %s", jerr.msg);
        goto end;
    }
    jpeg_create_compress(&cinfo);
    created = 1;
    jpeg_mem_dest(&cinfo, &mem, &mlen);
    cinfo.image_width = (JDIMENSION)im->w;
    cinfo.image_height = (JDIMENSION)im->h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    for (int c = 0; c < cinfo.num_components; c++)
        cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.optimize_coding = TRUE;
    cinfo.write_JFIF_header = FALSE;   /* 18 bytes nobody reads */
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = im->px + (size_t)cinfo.next_scanline * (size_t)im->w * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    *buf = mem;
    *len = mlen;
    mem = NULL;
    ok = 1;
end:
    if (created) jpeg_destroy_compress(&cinfo);
    free(mem);
    return ok ? 0 : -1;
}

/* --------------------------------------------------------------- loading */

int core_image_load_mem(const void *buf, size_t len, core_image *out, char *err, size_t errlen)
{
    const uint8_t *b = buf;
    out->w = out->h = 0;
    out->px = NULL;
    if (err && errlen) err[0] = 0;
    if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return load_png(b, len, out, err, errlen);
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return load_jpeg(b, len, 0, out, err, errlen);
    if (len >= 9 && memcmp(b, "SIMPLE  =", 9) == 0) return core_fits_decode(b, len, out, err, errlen);
    if (len == 0) core_set_err(err, errlen, "empty file");
    else core_set_err(err, errlen, "not a PNG/JPEG/FITS file");
    return -1;
}

/* Reads a whole regular file (bounded by IMG_MAX_FILE); malloc'ed.
 * nofollow: a symbolic link as the last component is refused (O_NOFOLLOW).
 * The open never blocks (O_NONBLOCK: a FIFO put in an image's place is
 * refused as "not a regular file" instead of hanging the reader). */
static uint8_t *read_file(const char *path, int nofollow, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (nofollow && errno == ELOOP) core_set_err(err, errlen, "a symbolic link (not followed)");
        else core_set_err(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        core_set_err(err, errlen, "not a regular file");
        close(fd);
        return NULL;
    }
    if ((unsigned long long)sb.st_size > IMG_MAX_FILE) {
        core_set_err(err, errlen, "file too large (%lld bytes)", (long long)sb.st_size);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *buf = xmalloc(n ? n : 1);
    int rd_errno = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rd_errno = errno;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        core_set_err(err, errlen, "read error: %s", rd_errno ? strerror(rd_errno) : "short read");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

uint8_t *core_image_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    return read_file(path, 1, len, err, errlen);
}

int core_image_load(const char *path, core_image *out, char *err, size_t errlen)
{
    out->w = out->h = 0;
    out->px = NULL;
    size_t n;
    uint8_t *buf = read_file(path, 0, &n, err, errlen);
    if (!buf) return -1;
    int rc = core_image_load_mem(buf, n, out, err, errlen);
    free(buf);
    return rc;
}

int core_image_load_thumb(const char *path, int side, core_image *out, char *err, size_t errlen)
{
    out->w = out->h = 0;
    out->px = NULL;
    if (side < 1) { core_set_err(err, errlen, "bad thumbnail size %d", side); return -1; }
    size_t n;
    uint8_t *buf = read_file(path, 0, &n, err, errlen);
    if (!buf) return -1;
    core_image full;
    int rc;
    if (err && errlen) err[0] = 0;
    if (n >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF) rc = load_jpeg(buf, n, side, &full, err, errlen);
    else rc = core_image_load_mem(buf, n, &full, err, errlen);
    free(buf);
    if (rc) return -1;
    rc = core_image_thumbnail(&full, side, out);
    core_image_free(&full);
    if (rc) core_set_err(err, errlen, "cannot make a thumbnail");
    return rc;
}

/* ------------------------------------------------------------ resampling */

/* One output sample's source span along an axis: source pixels first..last
 * with weights w[k] (summing to 1).  The area-averaging filter: output pixel
 * o covers source interval [o*s, (o+1)*s), s = in/out. */
typedef struct {
    int first, n;
    int woff;       /* offset into the weights array */
} span;

static float *make_spans(int in, int out, span *sp)
{
    double s = (double)in / (double)out;
    int maxn = (int)ceil(s) + 2;
    float *wts = xmalloc(sizeof(float) * (size_t)out * (size_t)maxn);
    for (int o = 0; o < out; o++) {
        double a = o * s, b = (o + 1) * s;
        int first = (int)floor(a), last = (int)ceil(b) - 1;
        if (last >= in) last = in - 1;
        if (first > last) first = last;
        sp[o].first = first;
        sp[o].n = last - first + 1;
        sp[o].woff = o * maxn;
        double tot = 0;
        for (int k = 0; k < sp[o].n; k++) {
            double lo = first + k, hi = lo + 1;
            double cov = (hi < b ? hi : b) - (lo > a ? lo : a);
            if (cov < 0) cov = 0;
            wts[o * maxn + k] = (float)cov;
            tot += cov;
        }
        for (int k = 0; k < sp[o].n; k++) wts[o * maxn + k] = (float)(wts[o * maxn + k] / tot);
    }
    return wts;
}

static uint8_t to_byte(float v)
{
    int b = (int)(v + 0.5f);
    return (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
}

/* Separable fast path.  Vertical first: each output row is a weighted sum
 * of a few whole input rows (contiguous, so the compiler vectorises it),
 * then the horizontal pass runs on output rows only, with every span padded
 * to the same number of taps (zero weights) so its inner loop has a fixed
 * length.  GCC's -O2 vectorises too timidly here; -O3 halves the time. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif
int core_image_resize(const core_image *in, int w, int h, core_image *out)
{
    if (!in || !in->px || core_image_alloc(out, w, h)) return -1;
    span *sx = xmalloc(sizeof(span) * (size_t)w), *sy = xmalloc(sizeof(span) * (size_t)h);
    float *wx = make_spans(in->w, w, sx), *wy = make_spans(in->h, h, sy);
    int taps = 0;                    /* the widest horizontal span */
    for (int x = 0; x < w; x++) if (sx[x].n > taps) taps = sx[x].n;
    int *x0 = xmalloc(sizeof(int) * (size_t)w);                      /* (w) first tap, clamped */
    float *wp = xcalloc((size_t)w * (size_t)taps, sizeof(float));    /* (w, taps) padded weights */
    for (int x = 0; x < w; x++) {
        int f = sx[x].first;
        if (f + taps > in->w) f = in->w - taps;   /* shift left; the extra taps get weight 0 */
        x0[x] = f;
        for (int k = 0; k < sx[x].n; k++) wp[(size_t)x * (size_t)taps + (size_t)(sx[x].first - f + k)] = wx[sx[x].woff + k];
    }
    size_t iw3 = (size_t)in->w * 3;
    float *acc = xcalloc(iw3 + 4, sizeof(float));   /* (in.w, 3) one vertically combined row, + 4
                                                       * so a 4-lane load at the last pixel stays inside */
#if defined(__SSE2__)
    float *wq = xmalloc(sizeof(float) * (size_t)w * (size_t)taps * 4);   /* (w, taps, 4) weights, broadcast */
    for (size_t i = 0; i < (size_t)w * (size_t)taps; i++)
        for (int l = 0; l < 4; l++) wq[i * 4 + (size_t)l] = wp[i];
    const __m128 half = _mm_set1_ps(0.5f);
#endif
    for (int y = 0; y < h; y++) {
        const float *wt = wy + sy[y].woff;
        const uint8_t *r0 = in->px + (size_t)sy[y].first * iw3;
        float c0 = wt[0];
        for (size_t i = 0; i < iw3; i++) acc[i] = c0 * (float)r0[i];
        for (int k = 1; k < sy[y].n; k++) {
            const uint8_t *row = in->px + (size_t)(sy[y].first + k) * iw3;
            float c = wt[k];
            for (size_t i = 0; i < iw3; i++) acc[i] += c * (float)row[i];
        }
        uint8_t *o = out->px + (size_t)y * (size_t)w * 3;
#if defined(__SSE2__)
        /* the scalar loop (#else), one pixel's r, g, b (and a junk lane) at
         * once: the same float operations in the same order, so the same
         * bytes; the conversion truncates v + 0.5 and saturates to 0..255
         * as to_byte does */
        for (int x = 0; x < w; x++) {
            const float *p = acc + (size_t)x0[x] * 3, *c = wq + (size_t)x * (size_t)taps * 4;
            __m128 v = _mm_setzero_ps();
            for (int k = 0; k < taps; k++, p += 3, c += 4)
                v = _mm_add_ps(v, _mm_mul_ps(_mm_loadu_ps(c), _mm_loadu_ps(p)));
            __m128i q = _mm_cvttps_epi32(_mm_add_ps(v, half));
            q = _mm_packs_epi32(q, q);
            int32_t b4 = _mm_cvtsi128_si32(_mm_packus_epi16(q, q));
            memcpy(o + (size_t)x * 3, &b4, 3);
        }
#else
        for (int x = 0; x < w; x++) {
            const float *p = acc + (size_t)x0[x] * 3, *c = wp + (size_t)x * (size_t)taps;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < taps; k++, p += 3) {
                r += c[k] * p[0];
                g += c[k] * p[1];
                b += c[k] * p[2];
            }
            o[x * 3 + 0] = to_byte(r);
            o[x * 3 + 1] = to_byte(g);
            o[x * 3 + 2] = to_byte(b);
        }
#endif
    }
#if defined(__SSE2__)
    free(wq);
#endif
    free(acc); free(wp); free(x0); free(wx); free(wy); free(sx); free(sy);
    return 0;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* The naive reference: for each output pixel, integrate the source area
 * it covers in double precision.  Tests compare the fast path against it. */
int core_image_resize_naive(const core_image *in, int w, int h, core_image *out)
{
    if (!in || !in->px || core_image_alloc(out, w, h)) return -1;
    double sx = (double)in->w / w, sy = (double)in->h / h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double ax = x * sx, bx = (x + 1) * sx, ay = y * sy, by = (y + 1) * sy;
            double acc[3] = {0, 0, 0}, tot = 0;
            for (int j = (int)floor(ay); j < in->h && j < by; j++)
                for (int i = (int)floor(ax); i < in->w && i < bx; i++) {
                    double cx = fmin(i + 1, bx) - fmax(i, ax), cy = fmin(j + 1, by) - fmax(j, ay);
                    if (cx <= 0 || cy <= 0) continue;
                    const uint8_t *p = in->px + ((size_t)j * (size_t)in->w + (size_t)i) * 3;
                    for (int c = 0; c < 3; c++) acc[c] += cx * cy * p[c];
                    tot += cx * cy;
                }
            for (int c = 0; c < 3; c++)
                out->px[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] = to_byte((float)(acc[c] / tot));
        }
    return 0;
}

int core_image_crop_centre(const core_image *in, int side, core_image *out)
{
    if (!in || !in->px) return -1;
    int m = in->w < in->h ? in->w : in->h;
    if (side > m) side = m;
    if (side < 1) side = 1;
    if (core_image_alloc(out, side, side)) return -1;
    int x0 = (in->w - side) / 2, y0 = (in->h - side) / 2;
    for (int y = 0; y < side; y++)
        memcpy(out->px + (size_t)y * (size_t)side * 3,
               in->px + ((size_t)(y0 + y) * (size_t)in->w + (size_t)x0) * 3, (size_t)side * 3);
    return 0;
}

int core_image_thumbnail(const core_image *in, int side, core_image *out)
{
    if (!in || !in->px || side < 1) return -1;
    int w, h;
    if (in->w >= in->h) {
        w = side;
        h = (int)lround((double)in->h * side / in->w);
    } else {
        h = side;
        w = (int)lround((double)in->w * side / in->h);
    }
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    if (w == in->w && h == in->h) {
        if (core_image_alloc(out, w, h)) return -1;
        memcpy(out->px, in->px, (size_t)w * (size_t)h * 3);
        return 0;
    }
    return core_image_resize(in, w, h, out);
}

/* ------------------------------------------------------------ PNG writer */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    jmp_buf jmp;
    char msg[160];
} png_sink;

static void png_write_fn(png_structp png, png_bytep data, size_t n)
{
    png_sink *s = png_get_io_ptr(png);
    if (s->len + n > s->cap) {
        while (s->len + n > s->cap) s->cap = s->cap ? s->cap * 2 : 65536;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
}

static void png_flush_fn(png_structp png) { (void)png; }

static void png_werr_fn(png_structp png, png_const_charp msg)
{
    png_sink *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    longjmp(s->jmp, 1);
}

static void png_wwarn_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* No time or text chunks and fixed zlib settings: the same pixels give
 * the same bytes (with the same zlib). */
static int encode_png(const core_image *im, png_sink *s, int huffman_only)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, png_werr_fn, png_wwarn_fn);
    if (!png) return -1;
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    volatile int ok = 0;
    if (!info) goto end;
    if (setjmp(s->jmp)) goto end;
    png_set_write_fn(png, s, png_write_fn, png_flush_fn);
    png_set_compression_level(png, 6);
    if (huffman_only) png_set_compression_strategy(png, 2);   /* Z_HUFFMAN_ONLY */
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_UP | PNG_FILTER_PAETH);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(png, info);
    rows = xmalloc(sizeof(png_bytep) * (size_t)im->h);
    for (int y = 0; y < im->h; y++) rows[y] = im->px + (size_t)y * (size_t)im->w * 3;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    ok = 1;
end:
    png_destroy_write_struct(&png, info ? &info : NULL);
    free(rows);
    return ok ? 0 : -1;
}

int core_image_save_png_mem(const core_image *im, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!im || !im->px || !core_image_size_ok(im->w, im->h, NULL, 0)) return -1;
    png_sink s = {0};
    if (encode_png(im, &s, 0)) { free(s.buf); return -1; }
    *buf = s.buf;
    *len = s.len;
    return 0;
}

int core_image_save_png(const char *path, const core_image *im, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    if (core_image_save_png_mem(im, &buf, &len)) { core_set_err(err, errlen, "cannot encode PNG"); return -1; }
    core_outfile o;
    if (core_out_open(&o, path, err, errlen)) { free(buf); return -1; }
    fwrite(buf, 1, len, o.f);
    free(buf);
    return core_out_close(&o, 1, err, errlen);
}

/* Added by the simulator (sim.c): Huffman-only deflate, for noisy images. */
int core_image_save_png_fast(const char *path, const core_image *im, char *err, size_t errlen)
{
    if (!im || !im->px || !core_image_size_ok(im->w, im->h, NULL, 0)) { core_set_err(err, errlen, "cannot encode PNG"); return -1; }
    png_sink s = {0};
    if (encode_png(im, &s, 1)) { free(s.buf); core_set_err(err, errlen, "cannot encode PNG"); return -1; }
    core_outfile o;     /* never through a file or link already there */
    if (core_out_open(&o, path, err, errlen)) { free(s.buf); return -1; }
    fwrite(s.buf, 1, s.len, o.f);
    free(s.buf);
    return core_out_close(&o, 1, err, errlen);
}
