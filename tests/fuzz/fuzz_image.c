/*
 * fuzz_image.c - fuzz target for core_image_load_mem (PNG via the libdeflate
 * fast path or libpng, JPEG via libjpeg-turbo, FITS via cfitsio; the
 * decoder picks by magic bytes).  A decoded image must have a sane size and
 * pixel buffer, and is pushed through the thumbnail path the importer uses
 * next.  A JPEG input is also read as a stored JPEG thumbnail's bytes
 * (core_thumb_decode, what the labeler and embed decode): it decodes to
 * exactly the size it claims or is refused with a reason.
 *
 * PNG is fuzzed differentially: whenever the fast path takes an input,
 * libpng must decode it too, to the same bytes, and so must the fast path
 * with its naive unfiltering; otherwise abort().  An input whose last byte
 * is odd gets every chunk CRC made right first (on a copy), so mutations
 * reach inflate and the unfiltering instead of stopping at a CRC check.
 */
#include "tests/fuzz/fuzz.h"
#include "core/image.h"
#include "core/thumb.h"

#include <zlib.h>

static uint32_t image_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void image_fix_crcs(uint8_t *b, size_t len)
{
    for (size_t p = 8; p + 12 <= len;) {
        uint32_t n = image_be32(b + p);
        if (n > len - p - 12) return;
        uint32_t c = (uint32_t)crc32(0, b + p + 4, n + 4);
        for (int i = 0; i < 4; i++) b[p + 8 + n + (size_t)i] = (uint8_t)(c >> (24 - 8 * i));
        p += 12 + (size_t)n;
    }
}

static void image_png_paths(const uint8_t *data, size_t size)
{
    core_image f, n, l;
    char err[256];
    int rf = core_image_png_fast(data, size, &f, 0);
    int rn = core_image_png_fast(data, size, &n, 1);
    if (rf != rn || (rf != 0 && rf != 1)) abort();
    if (rf == 0) {
        if (core_image_png_libpng(data, size, &l, err, sizeof err) != 0) abort();   /* fast took what libpng refuses */
        size_t b = (size_t)f.w * (size_t)f.h * 3;
        if (f.w != l.w || f.h != l.h || n.w != l.w || n.h != l.h ||
            memcmp(f.px, l.px, b) != 0 || memcmp(n.px, l.px, b) != 0) abort();
        core_image_free(&l);
    } else if (f.px || n.px) abort();
    core_image_free(&f);
    core_image_free(&n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    uint8_t *fixed = NULL;
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
        if (data[size - 1] & 1) {
            fixed = malloc(size);
            if (!fixed) return 0;
            memcpy(fixed, data, size);
            image_fix_crcs(fixed, size);
            data = fixed;
        }
        image_png_paths(data, size);
    }
    core_image im;
    char err[256];
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8) {
        /* as a thumbnail record claiming 16x16 and claiming its real size */
        core_image a, b;
        if (core_thumb_decode(CORE_THUMB_JPEG, 16, 16, data, size, &a, err, sizeof err) == 0) {
            if (a.w != 16 || a.h != 16) abort();
            core_image_free(&a);
        } else if (memchr(err, 0, sizeof err) == NULL) abort();
        if (core_image_jpeg_decode(data, size, &a, err, sizeof err) == 0) {
            if (core_thumb_decode(CORE_THUMB_JPEG, a.w, a.h, data, size, &b, err, sizeof err) != 0 ||
                memcmp(a.px, b.px, (size_t)a.w * (size_t)a.h * 3) != 0) abort();
            core_image_free(&a);
            core_image_free(&b);
        }
    }
    if (core_image_load_mem(data, size, &im, err, sizeof err) == 0) {
        if (im.w <= 0 || im.h <= 0 || im.w > CORE_IMAGE_MAX_SIDE || im.h > CORE_IMAGE_MAX_SIDE || !im.px)
            abort();
        /* read the last pixel: the buffer must really be (h, w, 3) */
        volatile uint8_t last = im.px[(size_t)im.w * (size_t)im.h * 3 - 1];
        (void)last;
        if ((size_t)im.w * (size_t)im.h <= (1u << 22)) {
            core_image th;
            if (core_image_thumbnail(&im, 32, &th) == 0) core_image_free(&th);
        }
        core_image_free(&im);
    } else {
        if (memchr(err, 0, sizeof err) == NULL) abort();   /* reason is a C string */
    }
    free(fixed);
    return 0;
}
