/*
 * view.h - the labeler's image tools: a galaxy's pixels as values (the
 * original file's: 0..255 for PNG / JPEG, the floats themselves for FITS,
 * one or three bands) drawn into the pane's pixels in one resample, with
 * zoom (up to the original's pixels and past them), pan, a stretch (linear
 * / asinh / log) between adjustable black and white points, applied to the
 * values per band, and inversion, as the Zooniverse classifier and ds9
 * offer them.  Pixel functions (no terminal), tested in tests/t_view.c
 * against a plain reference loop; core_view_src_galaxy reads a galaxy's
 * pixels from a workspace.
 */
#ifndef ZOOSH_CORE_VIEW_H
#define ZOOSH_CORE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum {
    CORE_STRETCH_FILE = 0,      /* the source's own: linear for PNG / JPEG, asinh for FITS */
    CORE_STRETCH_LINEAR = 1, CORE_STRETCH_ASINH = 2, CORE_STRETCH_LOG = 3, CORE_STRETCH__N = 4
};
#define CORE_ZOOM_MAX 6
#define CORE_VIEW_LEVEL_STEP 0.05
#define CORE_VIEW_MAX_SIDE 4096         /* originals larger than this are left to their thumbnail */
#define CORE_VIEW_MAX_FILE (256 << 20)  /* bytes */   /* a black / white point key moves by this much of the range */

/* All zero is the whole image in the file's stretch at its default black
 * and white points. */
typedef struct {
    int invert;     /* 1 = negative */
    int stretch;    /* CORE_STRETCH_* */
    int zoom;       /* 0 = whole image; k = 1/1.5^k of each side of it */
    double pan_x, pan_y;    /* the crop's centre from the image's, in fractions of its width / height */
    double black, white;    /* black and white points moved by these fractions of the source's range */
    int band;               /* what the level keys move: 0 every band, 1..3 R, G, B alone */
    double band_black[3], band_white[3];   /* each band's own move, on top of black / white
                                            * (three-band sources only) */
} core_view;

/* A galaxy's pixel values. */
typedef struct {
    int w, h, nb;       /* nb 1 (grey) or 3 (R, G, B) */
    float *v;           /* (h, w, nb) row-major, top row first; NaN is drawn black; malloc'ed */
    double lo, hi;      /* the values drawn black and white at default points */
    int stretch;        /* the stretch CORE_STRETCH_FILE means for it */
} core_view_src;

/* The original image file at path (PNG, JPEG or FITS, by content), read as
 * core_image_read_file does (no symbolic link followed, regular files only),
 * at most CORE_VIEW_MAX_FILE bytes and CORE_VIEW_MAX_SIDE pixels a side (a
 * PNG's header is checked before decoding).  0, or -1 with the reason in
 * err (out zeroed). */
int  core_view_src_load(const char *path, core_view_src *out, char *err, size_t errlen);
/* From RGB8 pixels (h, w, 3), e.g. a stored thumbnail.  0 or -1. */
int  core_view_src_rgb(const uint8_t *rgb, int w, int h, core_view_src *out);
void core_view_src_free(core_view_src *s);   /* NULL or zeroed is fine */
/* Galaxy gid's pixels: its original image file (the path its catalog gave,
 * read by core_view_src_load); when that cannot be read, its stored
 * thumbnail with *fallback = 1 and why it was needed in why ("no such file
 * ..."). 0, or -1 when neither can be read (the reason in why). */
int  core_view_src_galaxy(zs_store *st, uint32_t gid, core_view_src *out, int *fallback, char *why, size_t whylen);

const char *core_view_stretch_name(int stretch);
/* The stretch v draws s with (CORE_STRETCH_FILE resolved; s may be NULL). */
int  core_view_stretch_of(const core_view *v, const core_view_src *s);
/* The next stretch after the one v draws s with: linear, asinh, log, linear... */
void core_view_stretch_next(core_view *v, const core_view_src *s);

/* Zoom by dz levels (clamped to 0..CORE_ZOOM_MAX) and pan by (dx, dy)
 * quarters of the visible part; the pan is clamped so the crop stays
 * inside the image (at zoom 0 it is centred). */
void core_view_zoom(core_view *v, int dz);
void core_view_pan(core_view *v, int dx, int dy);
/* Moves the black (which 0) or white (1) point by steps of
 * CORE_VIEW_LEVEL_STEP, keeping black below white: of every band (v->band
 * 0), or of band v->band alone. */
void core_view_level(core_view *v, int which, int steps);
/* The next band the level keys move: all, R, G, B, all... (a one-band
 * source s: all only; s may be NULL). */
void core_view_band_next(core_view *v, const core_view_src *s);
/* "all", "R", "G" or "B" (static). */
const char *core_view_band_name(int band);

/* The part of s that v shows, in source pixels: x0, y0, width, height. */
void core_view_crop(const core_view *v, int sw, int sh, double *x0, double *y0, double *cw, double *ch);

/* Draws s under v into out (oh, ow, 3): the crop resampled once to ow x oh
 * (area average where it shrinks, bilinear where it enlarges, per axis),
 * then per band x = (value - black) / (white - black) clamped to 0..1, the
 * stretch, 8 bits, the inversion.  Grey sources give R = G = B.  The
 * caller chooses ow x oh with the crop's aspect (core_view_fit). */
void core_view_draw(const core_view_src *s, const core_view *v, uint8_t *out, int ow, int oh);
/* The same as a plain double-precision loop per output pixel: the
 * reference core_view_draw is held to (within one level) by the tests. */
void core_view_draw_naive(const core_view_src *s, const core_view *v, uint8_t *out, int ow, int oh);

/* RGB8 pixels (th, tw, 3) under v: core_view_draw of core_view_src_rgb. */
void core_view_render(const uint8_t *thumb, int tw, int th, const core_view *v,
                      uint8_t *out, int ow, int oh);
/* The largest ow x oh within max_w x max_h with the aspect tw : th. */
void core_view_fit(int tw, int th, int max_w, int max_h, int *ow, int *oh);
/* A placeholder for a missing or corrupt thumbnail: dark grey with a cross. */
void core_view_placeholder(uint8_t *out, int w, int h);

#endif
