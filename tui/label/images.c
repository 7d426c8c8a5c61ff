/*
 * images.c - the labeler's images: a galaxy's thumbnail rendered with the
 * view tools (core/view.h) into the image box, encoded by the graphics
 * backend (tui/gfx/gfx.h), kept in a small cache keyed by galaxy, view and
 * size, encoded ahead on idle moments (prefetch) and placed at a cell.  UI
 * thread only (see ui.h).
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tui/label/ui.h"

/* The graphics backend is fixed for the run: the key is the view and size. */
static unsigned view_key(const ui *u, int pw, int ph)
{
    return (unsigned)u->view.invert | (unsigned)u->view.stretch << 1 | (unsigned)u->view.zoom << 3 |
           (unsigned)pw << 11 | (unsigned)ph << 21;
}

/* Encodes gid for a box of pw x ph pixels; the bytes are malloc'ed. */
static void encode_gid(ui *u, uint32_t gid, int pw, int ph, char **bytes, size_t *len)
{
    uint8_t *thumb = NULL;  /* (th, tw, 3) */
    int tw = 0, th = 0;
    char why[256] = "";
    if (core_labeler_thumb_get(u->st, gid, &thumb, &tw, &th, why, sizeof why) != 0) thumb = NULL;
    /* the whole box is always drawn (a narrower image centred on black), so
     * the next image covers every pixel of the last one */
    int ow = pw, oh = ph;
    uint8_t *px = xcalloc((size_t)ow * oh * 3, 1);   /* (oh, ow, 3) */
    if (thumb) {
        int fw, fh;
        core_view_fit(tw, th, pw, ph, &fw, &fh);
        uint8_t *fit = xmalloc((size_t)fw * fh * 3);  /* (fh, fw, 3) */
        core_view_render(thumb, tw, th, &u->view, fit, fw, fh);
        int x0 = (ow - fw) / 2, y0 = (oh - fh) / 2;
        for (int y = 0; y < fh; y++)
            memcpy(px + ((size_t)(y0 + y) * ow + x0) * 3, fit + (size_t)y * fw * 3, (size_t)fw * 3);
        free(fit);
    } else {
        core_view_placeholder(px, ow, oh);
        label_log(u, "galaxy %u: no readable thumbnail%s%s, placeholder shown", gid, why[0] ? ": " : "", why);
    }
    char err[128];
    if (tui_gfx_encode(u->gfx, px, ow, oh, bytes, len, err, sizeof err) != 0)
        label_log(u, "galaxy %u: %s: %s", gid, tui_gfx_name(u->gfx), err);
    free(px);
    free(thumb);
}

img_entry *label_image_get(ui *u, uint32_t gid, int pw, int ph)
{
    unsigned key = view_key(u, pw, ph);
    img_entry *victim = &u->cache[0];
    for (int i = 0; i < CACHE_N; i++) {
        img_entry *e = &u->cache[i];
        if (e->gid == gid && e->key == key) { e->used = ++u->tick; return e; }
        if (e->used < victim->used) victim = e;
    }
    free(victim->bytes);
    victim->gid = gid;
    victim->key = key;
    encode_gid(u, gid, pw, ph, &victim->bytes, &victim->len);
    victim->used = ++u->tick;
    return victim;
}

int label_image_cached(ui *u, uint32_t gid, int pw, int ph)
{
    unsigned key = view_key(u, pw, ph);
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

/* One prefetch step: encode the first of the next galaxies not cached yet.
 * Returns 1 when it did some work. */
int label_prefetch_one(ui *u)
{
    if (!tui_gfx_images(u->gfx) || u->box_px_w <= 0 || u->mode == MODE_GRID) return 0;
    uint32_t next[PREFETCH_N + 1];
    int n = 0;
    uint32_t cur = core_session_gid(u->ses);
    if (cur) next[n++] = cur;
    n += core_session_peek(u->ses, next + n, PREFETCH_N);
    for (int i = 0; i < n; i++)
        if (!label_image_cached(u, next[i], u->box_px_w, u->box_px_h)) {
            label_image_get(u, next[i], u->box_px_w, u->box_px_h);
            return 1;
        }
    return 0;
}

void label_images_free(ui *u)
{
    for (int i = 0; i < CACHE_N; i++) {
        free(u->cache[i].bytes);
        u->cache[i].bytes = NULL;
    }
}
