/*
 * fuzz_image.c - fuzz target for core_image_load_mem (PNG via libpng, JPEG
 * via libjpeg-turbo, FITS via cfitsio; the decoder picks by magic bytes).
 * A decoded image must have a sane size and pixel buffer, and is pushed
 * through the thumbnail path the importer uses next.
 */
#include "tests/fuzz/fuzz.h"
#include "core/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    core_image im;
    char err[256];
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
    return 0;
}
