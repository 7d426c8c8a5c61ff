/*
 * image.h - decoding galaxy cutouts (PNG via libdeflate or libpng, JPEG via
 * libjpeg-turbo, FITS via cfitsio) into 8-bit RGB, resampling, and writing PNG.
 *
 * FITS: a 2-D image becomes grey, a 3-plane cube becomes RGB (planes taken as
 * g, r, z -> B, G, R as DECaLS colour cutouts are drawn); both get an asinh
 * stretch for display.  Every decoder bounds its sizes (CORE_IMAGE_MAX_SIDE)
 * and keeps a short reason on failure for the caller to print with the file
 * name, as stbi_failure_reason does.
 */
#ifndef ZOOSH_CORE_IMAGE_H
#define ZOOSH_CORE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define CORE_IMAGE_MAX_SIDE 16384
#define CORE_THUMB_SIDE 256     /* stored display thumbnails: longer side, pixels */

typedef struct {
    int w, h;        /* pixels */
    uint8_t *px;     /* (h, w, 3) RGB8 row-major, malloc'ed, owned by the struct */
} core_image;

/* Decode by content (magic bytes), not by extension.  0 on success, else -1
 * with a reason in err ("not a PNG/JPEG/FITS file", "truncated at row 97"...). */
int  core_image_load(const char *path, core_image *out, char *err, size_t errlen);
int  core_image_load_mem(const void *buf, size_t len, core_image *out, char *err, size_t errlen);
void core_image_free(core_image *im);   /* frees px; NULL or empty is fine */
int  core_image_alloc(core_image *im, int w, int h);
/* 1 when a decoder may allocate a w x h image (at most CORE_IMAGE_MAX_SIDE a
 * side and 100 Mpixel), else 0 with the reason in err. */
int  core_image_size_ok(long w, long h, char *err, size_t errlen);

/* A whole image file into memory for a decoder (*len bytes, malloc'ed), or
 * NULL with the reason in err.  For paths a workspace stores (written by any
 * group member): a symbolic link is not followed, anything but a regular
 * file is refused without blocking (a FIFO, a device), and the size is
 * bounded (1 GiB). */
uint8_t *core_image_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* The PNG decoder's two paths, held byte-identical by the tests.
 * core_image_load_mem takes the fast one (8-bit grey / grey+alpha / RGB /
 * RGBA, not interlaced, every chunk CRC right, inflated by libdeflate,
 * unfiltered here) and falls back to libpng whenever it declines.
 * core_image_png_fast: 0 decoded, 1 declined (never an error of its own:
 * libpng then decodes the file or says why not); naive = 1 unfilters with
 * the plain reference loops instead of the SIMD ones.
 * core_image_png_libpng: libpng alone, 0 or -1 with a reason in err. */
int  core_image_png_fast(const void *buf, size_t len, core_image *out, int naive);
int  core_image_png_libpng(const void *buf, size_t len, core_image *out, char *err, size_t errlen);

/* JPEG alone (no sniffing): decodes buf to RGB, 0 or -1 with a reason in
 * err; libjpeg's errors longjmp back here, so damaged bytes never exit. */
int  core_image_jpeg_decode(const void *buf, size_t len, core_image *out, char *err, size_t errlen);
/* Encodes im as a baseline JPEG of quality 1..100 with no chroma
 * subsampling (4:4:4) and optimised Huffman tables; *buf malloc'ed (free()).
 * Deterministic bytes for the same pixels.  0 or -1 with a reason in err. */
int  core_image_jpeg_encode(const core_image *im, int quality, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* Area-averaging resample to (w, h) (the right filter for shrinking). */
int  core_image_resize(const core_image *in, int w, int h, core_image *out);
/* The same filter as a plain double-precision loop: the reference tests hold
 * core_image_resize to (within 1 level per channel). */
int  core_image_resize_naive(const core_image *in, int w, int h, core_image *out);
/* Centre crop of a square of side `side` (clamped). */
int  core_image_crop_centre(const core_image *in, int side, core_image *out);
/* Thumbnail for display: the longer side scaled to `side`, aspect kept. */
int  core_image_thumbnail(const core_image *in, int side, core_image *out);

/* Decode and make the display thumbnail (longer side `side`) in one go.  A
 * JPEG is scaled by n/8 inside the decoder first (to no less than `side`),
 * several times cheaper than a full decode; others decode in full.  The
 * importer stores these. */
int  core_image_load_thumb(const char *path, int side, core_image *out, char *err, size_t errlen);

/* PNG writer (8-bit RGB).  Deterministic bytes for the same pixels. */
int  core_image_save_png(const char *path, const core_image *im, char *err, size_t errlen);
int  core_image_save_png_mem(const core_image *im, uint8_t **buf, size_t *len);
/* The same with Huffman-only deflate: 5x faster and as small for noisy
 * images (simulated cutouts), larger for smooth ones. */
int  core_image_save_png_fast(const char *path, const core_image *im, char *err, size_t errlen);

#endif
