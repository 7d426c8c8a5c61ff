/*
 * fits.h - FITS cutouts (a 2-D image, or a cube of g, r, z planes) decoded
 * into display RGB8 with one asinh stretch for all planes.  core_image_load
 * picks it by magic bytes ("SIMPLE  =").
 */
#ifndef ZOOSH_CORE_FITS_H
#define ZOOSH_CORE_FITS_H

#include <stddef.h>

#include "core/image.h"

/* Decodes a whole FITS file in memory.  0, or -1 with a reason in err
 * ("truncated FITS", "FITS cube with 4 planes (need 1 or 3)", ...).  Safe to
 * call from several threads (serialised inside). */
int core_fits_decode(const void *buf, size_t len, core_image *out, char *err, size_t errlen);

/* The values themselves, for stretching on display (core/view.h). */
typedef struct {
    int w, h, nb;       /* nb 1 (grey) or 3 (planes g, r, z as B, G, R) */
    float *v;           /* (h, w, nb) top row first (north up), NaN where blank; malloc'ed */
    double lo, hi;      /* the display range: the median and the 99.5th percentile */
} core_fits_values;

/* Decodes the same image as core_fits_decode but keeps its values.  0, or
 * -1 with a reason in err (out->v NULL).  The caller frees out->v. */
int core_fits_decode_values(const void *buf, size_t len, core_fits_values *out, char *err, size_t errlen);

#endif
