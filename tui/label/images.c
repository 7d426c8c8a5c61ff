/*
 * images.c - the labeler's images: a galaxy's original image file (its
 * catalog's PNG / JPEG / FITS, decoded once into values and kept for the
 * few galaxies around the shown one) drawn with the view tools
 * (core/view.h: one resample to the pane's pixels, zoom, pan, stretch),
 * encoded by the graphics backend (tui/gfx/gfx.h), kept in a small cache
 * keyed by galaxy, view and size, prepared ahead on idle moments (prefetch:
 * decode, draw and encode the next galaxies between keys) and placed at a
 * cell.  A galaxy whose file is gone is drawn from its stored thumbnail
 * (the screen says so); grid tiles always are (a page of originals would
 * cost a decode each).  UI thread only (see ui.h): prefetch runs in the
 * screen loop's idle moments, one galaxy at a time, so a key waits for at
 * most one galaxy's preparation.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tui/label/ui.h"

#define ZOOM_AHEAD_S 0.25

/* FNV-1a over the fields that change the pixels. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The graphics backend is fixed for the run: the key is the view, the size
 * and whether the tile is a grid's (thumbnail, no pan). */
static uint64_t view_key(const core_view *v, int pw, int ph, int tile)
{
    uint64_t h = 0xcbf29ce484222325ull;
    int ints[6] = {v->invert, v->stretch, v->zoom, pw, ph, tile};
    double dbl[10] = {v->pan_x, v->pan_y, v->black, v->white, v->band_black[0], v->band_black[1],
                      v->band_black[2], v->band_white[0], v->band_white[1], v->band_white[2]};
    h = mix(h, ints, sizeof ints);
    return mix(h, dbl, sizeof dbl);
}

/* The grid's view: the pane's without its pan (each tile is centred). */
static core_view tile_view(const ui *u)
{
    core_view v = u->view;
    v.pan_x = v.pan_y = 0;
    return v;
}

const src_entry *label_image_src(ui *u, uint32_t gid)
{
    src_entry *victim = &u->srcs[0];
    for (int i = 0; i < SRC_N; i++) {
        src_entry *e = &u->srcs[i];
        if (e->gid == gid && gid) { e->used = ++u->tick; return e; }
        if (e->used < victim->used) victim = e;
    }
    core_view_src_free(&victim->src);
    victim->gid = gid;
    victim->why[0] = 0;
    double t0 = core_mono_s();
    victim->ok = core_view_src_galaxy(u->st, gid, &victim->src, &victim->fallback, victim->why,
                                      sizeof victim->why) == 0;
    if (u->log)
        label_log(u, "galaxy %u: %s %dx%d (%d bands) decoded in %.2f ms%s%s", gid,
                  !victim->ok ? "nothing" : victim->fallback ? "thumbnail" : "original", victim->src.w,
                  victim->src.h, victim->src.nb, (core_mono_s() - t0) * 1e3, victim->why[0] ? ": " : "",
                  victim->why);
    victim->used = ++u->tick;
    return victim;
}

/* The pixels for gid in a box of pw x ph: the original (or the thumbnail
 * standing in) for the pane, the thumbnail for a grid tile.  0 with *s set
 * (*owned: free it), else -1 with the reason in why. */
static int pixels_of(ui *u, uint32_t gid, int tile, core_view_src *tmp, const core_view_src **s,
                     char *why, size_t whylen)
{
    if (!tile) {
        const src_entry *e = label_image_src(u, gid);
        snprintf(why, whylen, "%s", e->why);
        *s = e->ok ? &e->src : NULL;
        return e->ok ? 0 : -1;
    }
    uint8_t *thumb = NULL;  /* (th, tw, 3) */
    int tw = 0, th = 0;
    if (core_labeler_thumb_get(u->st, gid, &thumb, &tw, &th, why, whylen) != 0) return -1;
    int rc = core_view_src_rgb(thumb, tw, th, tmp);
    free(thumb);
    *s = tmp;
    return rc;
}

/* Encodes gid for a box of pw x ph pixels; the bytes are malloc'ed. */
static void encode_gid(ui *u, uint32_t gid, int pw, int ph, int tile, char **bytes, size_t *len)
{
    core_view_src tmp = {0};
    const core_view_src *s = NULL;
    char why[256] = "";
    core_view v = tile ? tile_view(u) : u->view;
    /* the whole box is always drawn (a narrower image centred on black), so
     * the next image covers every pixel of the last one */
    int ow = pw, oh = ph;
    uint8_t *px = xcalloc((size_t)ow * oh * 3, 1);   /* (oh, ow, 3) */
    if (pixels_of(u, gid, tile, &tmp, &s, why, sizeof why) == 0 && s) {
        int fw, fh;
        core_view_fit(s->w, s->h, pw, ph, &fw, &fh);
        uint8_t *fit = xmalloc((size_t)fw * fh * 3);  /* (fh, fw, 3) */
        core_view_draw(s, &v, fit, fw, fh);
        int x0 = (ow - fw) / 2, y0 = (oh - fh) / 2;
        for (int y = 0; y < fh; y++)
            memcpy(px + ((size_t)(y0 + y) * ow + x0) * 3, fit + (size_t)y * fw * 3, (size_t)fw * 3);
        free(fit);
    } else {
        core_view_placeholder(px, ow, oh);
        label_log(u, "galaxy %u: no readable image%s%s, placeholder shown", gid, why[0] ? ": " : "", why);
    }
    core_view_src_free(&tmp);
    char err[128];
    if (tui_gfx_encode(u->gfx, px, ow, oh, bytes, len, err, sizeof err) != 0)
        label_log(u, "galaxy %u: %s: %s", gid, tui_gfx_name(u->gfx), err);
    free(px);
}

static img_entry *image_get(ui *u, uint32_t gid, int pw, int ph, int tile)
{
    core_view v = tile ? tile_view(u) : u->view;
    uint64_t key = view_key(&v, pw, ph, tile);
    img_entry *victim = &u->cache[0];
    for (int i = 0; i < CACHE_N; i++) {
        img_entry *e = &u->cache[i];
        if (e->gid == gid && e->key == key) { e->used = ++u->tick; return e; }
        if (e->used < victim->used) victim = e;
    }
    free(victim->bytes);
    victim->gid = gid;
    victim->key = key;
    encode_gid(u, gid, pw, ph, tile, &victim->bytes, &victim->len);
    victim->used = ++u->tick;
    return victim;
}

img_entry *label_image_get(ui *u, uint32_t gid, int pw, int ph)
{
    return image_get(u, gid, pw, ph, u->mode == MODE_GRID);
}

int label_image_cached(ui *u, uint32_t gid, int pw, int ph)
{
    int tile = u->mode == MODE_GRID;
    core_view v = tile ? tile_view(u) : u->view;
    uint64_t key = view_key(&v, pw, ph, tile);
    for (int i = 0; i < CACHE_N; i++)
        if (u->cache[i].gid == gid && u->cache[i].key == key) return 1;
    return 0;
}

/* Straight to the terminal at cell (y, x), then back to where curses
 * believes the cursor is: after a whole doupdate with leaveok FALSE (see
 * label.c) that is curscr's cursor. */
void label_image_put(ui *u, img_entry *e, int y, int x)
{
    int cy, cx;
    getyx(curscr, cy, cx);
    tui_gfx_place(u->gfx, STDOUT_FILENO, e->bytes, e->len, y, x, cy, cx);
}

/* One prefetch step: prepare the first of the next galaxies not cached yet,
 * in the view a new galaxy starts in (centred: the pan is the shown
 * galaxy's); then, ZOOM_AHEAD_S after the last key, the shown galaxy one
 * zoom step in, the likeliest next view.  Returns 1 when it did some work. */
int label_prefetch_one(ui *u)
{
    if (!tui_gfx_images(u->gfx) || u->box_px_w <= 0 || u->mode == MODE_GRID) return 0;
    uint32_t next[PREFETCH_N + 1];
    int n = 0;
    uint32_t cur = core_session_gid(u->ses);
    if (cur) next[n++] = cur;
    n += core_session_peek(u->ses, next + n, PREFETCH_N);
    core_view keep = u->view;
    int did = 0;
    for (int i = 0; i < n && !did; i++) {
        if (i > 0) u->view.pan_x = u->view.pan_y = 0;
        if (!label_image_cached(u, next[i], u->box_px_w, u->box_px_h)) {
            image_get(u, next[i], u->box_px_w, u->box_px_h, 0);
            did = 1;
        }
    }
    /* the zoom step only once the galaxy has been looked at a moment: a
     * volunteer answering fast never waits behind it */
    if (!did && cur && u->view.zoom < CORE_ZOOM_MAX && core_mono_s() - u->t_key > ZOOM_AHEAD_S) {
        core_view_zoom(&u->view, 1);
        if (!label_image_cached(u, cur, u->box_px_w, u->box_px_h)) {
            image_get(u, cur, u->box_px_w, u->box_px_h, 0);
            did = 1;
        }
    }
    u->view = keep;
    return did;
}

void label_images_free(ui *u)
{
    for (int i = 0; i < CACHE_N; i++) {
        free(u->cache[i].bytes);
        u->cache[i].bytes = NULL;
    }
    for (int i = 0; i < SRC_N; i++) core_view_src_free(&u->srcs[i].src);
}
