/*
 * fits.c - a FITS cutout decoded into RGB8 through cfitsio (see fits.h).
 *
 * FITS display: pixel row 1 of a FITS image is the bottom row, so rows are
 * flipped to put north up as ds9 shows it.  A 2-D image becomes grey; a cube
 * of 3 planes is taken as (g, r, z) and drawn as (B, G, R), the DECaLS colour
 * convention.  The stretch is asinh with one black and white level for all
 * planes (so colours keep their ratios): lo = the median of the finite
 * values (the sky, in a galaxy cutout, so the background is black with its
 * noise showing, as survey colour images look), hi = their 99.5th
 * percentile, y = asinh(Q x) / asinh(Q) with x = (v - lo) / (hi - lo)
 * clamped to [0, 1] and Q = 10.  NaNs become black.
 *
 * core_fits_decode_values keeps the values themselves (floats, NaN where blank)
 * with that display range, for the labeler's own stretches (core/view.h).
 *
 * DESIGN (threads): cfitsio's reentrancy depends on how it was built, so
 * decoding is serialised by fits_lock.
 */
#include "core/fits.h"

#include <fitsio.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define FITS_ASINH_Q   10.0

static pthread_mutex_t fits_lock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentiles lo/hi of the finite values in v (n), from an evenly strided
 * sample of at most 200,000 values: deterministic. 0 when none are finite. */
static int percentiles(const double *v, size_t n, double plo, double phi, double *lo, double *hi)
{
    size_t step = n / 200000 + 1, m = 0;
    double *s = xmalloc(sizeof(double) * (n / step + 1));
    for (size_t i = 0; i < n; i += step)
        if (isfinite(v[i])) s[m++] = v[i];
    if (m == 0) { free(s); return 0; }
    qsort(s, m, sizeof(double), cmp_double);
    *lo = s[(size_t)(plo * (double)(m - 1))];
    *hi = s[(size_t)(phi * (double)(m - 1))];
    free(s);
    return 1;
}

static uint8_t asinh_byte(double v, double lo, double scale, double norm)
{
    if (!isfinite(v)) return 0;
    double x = (v - lo) * scale;
    if (x <= 0) return 0;
    if (x >= 1) return 255;
    double y = asinh(FITS_ASINH_Q * x) * norm;
    int b = (int)lrint(y * 255.0);
    return (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
}

/* Reads the first 2-D image (or 1- / 3-plane cube) of a FITS file in
 * memory: *v (planes, h, w) doubles in FITS order (row 1 = bottom),
 * malloc'ed; NaN for blank values.  0, or -1 with a reason in err. */
static int read_fits_locked(const uint8_t *buf, size_t len, double **vout, long *wout, long *hout, int *pout,
                            char *err, size_t errlen)
{
    int status = 0, ok = 0;
    fitsfile *f = NULL;
    double *v = NULL;
    /* cfitsio wants a reallocatable buffer; READONLY never reallocates it. */
    void *mem = (void *)buf;
    size_t memlen = (len + 2879) / 2880 * 2880;   /* core_fits_decode pads buf to whole records */
    if (fits_open_memfile(&f, "mem.fits", READONLY, &mem, &memlen, 0, NULL, &status)) {
        char m[FLEN_STATUS];
        fits_get_errstatus(status, m);
        core_set_err(err, errlen, "corrupt FITS: %s", m);
        f = NULL;
        goto end;
    }
    int nhdu = 0;
    fits_get_num_hdus(f, &nhdu, &status);
    int naxis = 0;
    long naxes[3] = {0, 0, 0};
    int found = 0;
    for (int k = 1; k <= nhdu && !found && status == 0; k++) {
        int type = 0;
        if (fits_movabs_hdu(f, k, &type, &status)) break;
        if (type != IMAGE_HDU) continue;
        int bitpix;
        if (fits_get_img_param(f, 3, &bitpix, &naxis, naxes, &status)) break;
        if (naxis == 2 || (naxis == 3 && (naxes[2] == 1 || naxes[2] == 3))) found = 1;
        else if (naxis == 3) {
            core_set_err(err, errlen, "FITS cube with %ld planes (need 1 or 3)", naxes[2]);
            goto end;
        } else if (naxis > 3) {
            core_set_err(err, errlen, "FITS image with %d axes (need 2 or 3)", naxis);
            goto end;
        }
    }
    if (status) {
        char m[FLEN_STATUS];
        fits_get_errstatus(status, m);
        core_set_err(err, errlen, "corrupt FITS: %s", m);
        goto end;
    }
    if (!found) { core_set_err(err, errlen, "FITS file holds no 2-D image"); goto end; }
    long w = naxes[0], h = naxes[1];
    if (!core_image_size_ok(w, h, err, errlen)) goto end;
    int planes = (naxis == 3) ? (int)naxes[2] : 1;
    size_t np = (size_t)w * (size_t)h;
    v = xmalloc(sizeof(double) * np * (size_t)planes);   /* (planes, h, w), FITS order */
    /* cfitsio pads a short memory file with zeros: check the data is all there */
    LONGLONG head0 = 0, data0 = 0, data1 = 0;
    int bitpix_now = 0;
    fits_get_hduaddrll(f, &head0, &data0, &data1, &status);
    fits_get_img_type(f, &bitpix_now, &status);
    unsigned long long need = (unsigned long long)data0 +
        (unsigned long long)np * (unsigned long long)planes * (unsigned long long)(abs(bitpix_now) / 8);
    if (status == 0 && need > len) {
        core_set_err(err, errlen, "truncated FITS (data needs %llu bytes, the file has %zu)", need, len);
        goto end;
    }
    double nulval = NAN;
    int anynul = 0;
    if (fits_read_img(f, TDOUBLE, 1, (LONGLONG)(np * (size_t)planes), &nulval, v, &anynul, &status)) {
        char m[FLEN_STATUS];
        fits_get_errstatus(status, m);
        core_set_err(err, errlen, "corrupt or truncated FITS data: %s", m);
        goto end;
    }
    ok = 1;
end:
    if (f) { int st2 = 0; fits_close_file(f, &st2); }
    if (!ok) { free(v); return -1; }
    *vout = v;
    *wout = w;
    *hout = h;
    *pout = planes;
    return 0;
}

/* The display range of v (n values): the median and the 99.5th percentile. */
static void display_range(const double *v, size_t n, double *lo, double *hi)
{
    if (!percentiles(v, n, 0.5, 0.995, lo, hi)) { *lo = 0; *hi = 1; }
    if (!(*hi > *lo)) *hi = *lo + 1;
}

static int values_fits_locked(const uint8_t *buf, size_t len, core_fits_values *out, char *err, size_t errlen)
{
    double *v = NULL;   /* (planes, h, w) */
    long w, h;
    int planes;
    if (read_fits_locked(buf, len, &v, &w, &h, &planes, err, errlen)) return -1;
    size_t np = (size_t)w * (size_t)h;
    double lo, hi;
    display_range(v, np * (size_t)planes, &lo, &hi);
    int nb = planes == 3 ? 3 : 1;
    float *o = xmalloc(sizeof(float) * np * (size_t)nb);   /* (h, w, nb) top row first */
    for (long y = 0; y < h; y++) {
        float *row = o + (size_t)(h - 1 - y) * (size_t)w * (size_t)nb;   /* FITS row 1 = bottom */
        for (long x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            if (nb == 3) {
                row[x * 3 + 0] = (float)v[2 * np + i];   /* z -> R */
                row[x * 3 + 1] = (float)v[1 * np + i];   /* r -> G */
                row[x * 3 + 2] = (float)v[0 * np + i];   /* g -> B */
            } else {
                row[x] = (float)v[i];
            }
        }
    }
    free(v);
    out->v = o;
    out->w = (int)w;
    out->h = (int)h;
    out->nb = nb;
    out->lo = lo;
    out->hi = hi;
    return 0;
}

/* The display image of FITS values: asinh of each band over the values'
 * display range, bands z r g -> R G B (one band: grey). */
static int values_to_rgb(const core_fits_values *fv, core_image *out, char *err, size_t errlen)
{
    double scale = 1.0 / (fv->hi - fv->lo), norm = 1.0 / asinh(FITS_ASINH_Q);
    if (core_image_alloc(out, fv->w, fv->h)) { core_set_err(err, errlen, "out of memory"); return -1; }
    size_t n = (size_t)fv->w * (size_t)fv->h;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            out->px[i * 3 + c] = asinh_byte(fv->v[i * (size_t)fv->nb + (fv->nb == 3 ? c : 0)], fv->lo, scale, norm);
    return 0;
}

/* cfitsio reads whole 2880-byte records, past the end of a memory file whose
 * length is not a multiple of 2880: it gets a zero-padded copy (heap
 * overflow found by tests/fuzz/fuzz_image.c). */
static int decode(const void *mem, size_t len, core_fits_values *vals, char *err, size_t errlen)
{
    const uint8_t *buf = mem;
    if (len < 2880) { core_set_err(err, errlen, "truncated FITS (%zu bytes, a header block is 2880)", len); return -1; }
    uint8_t *pad = NULL;
    if (len % 2880) { pad = xcalloc(len + 2880 - len % 2880, 1); memcpy(pad, buf, len); }
    pthread_mutex_lock(&fits_lock);
    int rc = values_fits_locked(pad ? pad : buf, len, vals, err, errlen);
    pthread_mutex_unlock(&fits_lock);
    free(pad);
    return rc;
}

int core_fits_decode(const void *mem, size_t len, core_image *out, char *err, size_t errlen)
{
    core_fits_values fv = {0};
    if (decode(mem, len, &fv, err, errlen)) return -1;
    int rc = values_to_rgb(&fv, out, err, errlen);
    free(fv.v);
    return rc;
}

int core_fits_decode_values(const void *mem, size_t len, core_fits_values *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    return decode(mem, len, out, err, errlen);
}
