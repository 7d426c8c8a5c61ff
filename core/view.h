/*
 * view.h - the labeler's image tools on a display thumbnail: zoom into
 * the centre, resample to the pane's size in pixels, stretch (linear / asinh
 * / log) and invert, as the Zooniverse classifier offers them.  Pure pixel
 * functions (no terminal), tested in tests/t_label.c.
 */
#ifndef ZOOSH_CORE_VIEW_H
#define ZOOSH_CORE_VIEW_H

#include <stdint.h>

enum { CORE_STRETCH_LINEAR = 0, CORE_STRETCH_ASINH = 1, CORE_STRETCH_LOG = 2, CORE_STRETCH__N = 3 };
#define CORE_ZOOM_MAX 6

typedef struct {
    int invert;     /* 1 = negative */
    int stretch;    /* CORE_STRETCH_* */
    int zoom;       /* 0 = whole image; k = the central 1/1.5^k of it */
} core_view;

const char *core_view_stretch_name(int stretch);

/* Renders thumb (th, tw, 3) under v into out (oh, ow, 3): the central crop
 * for the zoom, resampled to ow x oh (area average when shrinking, bilinear
 * when enlarging), then the stretch and the inversion.  The caller chooses
 * ow x oh with the crop's aspect (core_view_fit). */
void core_view_render(const uint8_t *thumb, int tw, int th, const core_view *v,
                     uint8_t *out, int ow, int oh);
/* The largest ow x oh within max_w x max_h with the aspect tw : th. */
void core_view_fit(int tw, int th, int max_w, int max_h, int *ow, int *oh);
/* A placeholder for a missing or corrupt thumbnail: dark grey with a cross. */
void core_view_placeholder(uint8_t *out, int w, int h);

#endif
