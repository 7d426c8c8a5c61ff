/*
 * morph.h - hand-crafted morphology features of a galaxy cutout, in C.
 *
 * The representation a user without any encoder starts from: a fixed-length
 * vector of numbers a person can name (radial profile, rings as bumps above
 * a smooth profile, azimuthal Fourier modes, concentration, asymmetry,
 * Gini/M20, colour in annuli).  Computed from an RGB8 image (the stored
 * 256 px thumbnail or a full cutout); the galaxy is assumed to be near the
 * centre, as survey cutouts are.
 *
 * The image is centre-cropped to a square and area-resampled to
 * CORE_MORPH_SIDE pixels; the background (median of the border) is removed
 * per channel; centroid and second moments (Gaussian-weighted around the
 * centre so that neighbours matter less) give an ellipse (axis ratio q,
 * position angle); every radial quantity is measured in elliptical annuli
 * of that ellipse, on two grids: fixed fractions of the image side (cutouts
 * from Zoobot-style pipelines are scaled to the galaxy) and multiples of
 * the half-light radius R50.
 *
 * The blocks differ widely in scale: standardise each feature before any
 * linear model or distance (core/pca.h does).  Names of every component:
 * core_morph_name().  The layout is fixed for CORE_MORPH_VERSION; change
 * the version string when it changes, so stored sets say what they hold.
 *
 * Thread-safe: no global state; each call allocates its own scratch.
 */
#ifndef ZOOSH_CORE_MORPH_H
#define ZOOSH_CORE_MORPH_H

#include <stddef.h>
#include <stdint.h>

#define CORE_MORPH_VERSION "morph v1"
#define CORE_MORPH_SIDE 128    /* working resolution, pixels */

/* The ellipse and sizes measured on the working image (pixels of the
 * CORE_MORPH_SIDE square, x to the right, y down, pa in radians from +x
 * towards +y, in [-pi/2, pi/2)). */
typedef struct {
    double xc, yc;      /* centroid */
    double q;           /* axis ratio b/a, (0, 1] */
    double pa;          /* position angle of the major axis */
    double r20, r50, r80; /* elliptical (semi-major) radii enclosing 20/50/80 % of the flux */
    double bg[3];       /* background removed per channel, 0..1 */
} core_morph_shape;

/* Length of the feature vector (fixed for this version). */
int core_morph_dim(void);

/* Name of component i ("q", "prof_fix_03", "fourier_m2_fix_1", ...), static;
 * NULL when i is out of range. */
const char *core_morph_name(int i);
/* Index of the component called name, or -1. */
int core_morph_index(const char *name);
/* Weight of component i when features are pooled under one penalty or one
 * distance: 1 for the global measures, 1 / (the block's width) for each
 * per-annulus block (a profile of 16 annuli counts like one number).  On
 * the ring probe this balance lifts the AUC from about 0.72 to 0.77.
 * 0 when i is out of range. */
float core_morph_weight(int i);

/* Features of one image: rgb is (h, w, 3) RGB8 row-major; out has
 * core_morph_dim() floats.  shape (may be NULL) receives the ellipse.
 * Returns 0, or -1 for an image smaller than 8x8 pixels (out untouched). */
int core_morph_compute(const uint8_t *rgb, int w, int h, float *out, core_morph_shape *shape);

#endif
