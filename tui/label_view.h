/*
 * label_view.h - the labeler's image tools on a display thumbnail: zoom into
 * the centre, resample to the pane's size in pixels, stretch (linear / asinh
 * / log) and invert, as the Zooniverse classifier offers them.  Pure pixel
 * functions (no terminal), tested in tests/t_label.c.
 */
#ifndef ZOOSH_TUI_LABEL_VIEW_H
#define ZOOSH_TUI_LABEL_VIEW_H

#include <stdint.h>

enum { TUI_STRETCH_LINEAR = 0, TUI_STRETCH_ASINH = 1, TUI_STRETCH_LOG = 2, TUI_STRETCH__N = 3 };
#define TUI_ZOOM_MAX 6

typedef struct {
    int invert;     /* 1 = negative */
    int stretch;    /* TUI_STRETCH_* */
    int zoom;       /* 0 = whole image; k = the central 1/1.5^k of it */
} tui_view;

const char *tui_view_stretch_name(int stretch);

/* Renders thumb (th, tw, 3) under v into out (oh, ow, 3): the central crop
 * for the zoom, resampled to ow x oh (area average when shrinking, bilinear
 * when enlarging), then the stretch and the inversion.  The caller chooses
 * ow x oh with the crop's aspect (tui_view_fit). */
void tui_view_render(const uint8_t *thumb, int tw, int th, const tui_view *v,
                     uint8_t *out, int ow, int oh);
/* The largest ow x oh within max_w x max_h with the aspect tw : th. */
void tui_view_fit(int tw, int th, int max_w, int max_h, int *ow, int *oh);
/* A placeholder for a missing or corrupt thumbnail: dark grey with a cross. */
void tui_view_placeholder(uint8_t *out, int w, int h);

#endif
