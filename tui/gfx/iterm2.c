/*
 * iterm2.c - iTerm2's inline images (OSC 1337 ; File=), the row of gfx.c's
 * table for iTerm2 and WezTerm: the image as a PNG (core/image.h's encoder),
 * base64, drawn at the cursor over exactly the pixels asked for.  Text
 * written into its cells erases it, as with sixel.
 */
#include "tui/gfx/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "core/util.h"

/* XTVERSION named iTerm2 or WezTerm */
static int iterm2_detect(const tui_term_caps *caps) { return caps->iterm2; }

static int iterm2_encode(const tui_gfx *g, const uint8_t *rgb, int w, int h, char **out, size_t *len,
                         char *err, size_t errlen)
{
    (void)g;
    if (w <= 0 || h <= 0 || w > 8192 || h > 8192) {
        snprintf(err, errlen, "bad image size %dx%d", w, h);
        return -1;
    }
    core_image im = {.w = w, .h = h, .px = (uint8_t *)rgb};
    uint8_t *png;
    size_t plen;
    if (core_image_save_png_mem(&im, &png, &plen) != 0) {
        snprintf(err, errlen, "cannot encode PNG");
        return -1;
    }
    size_t blen;
    char *b64 = tui_gfx_base64(png, plen, &blen);
    free(png);
    size_t cap = blen + 160, n;
    char *o = xmalloc(cap);
    n = (size_t)snprintf(o, cap, "\x1b]1337;File=inline=1;size=%zu;width=%dpx;height=%dpx;preserveAspectRatio=0:",
                         plen, w, h);
    memcpy(o + n, b64, blen);
    n += blen;
    o[n++] = 0x07;              /* BEL ends the OSC */
    free(b64);
    *out = o;
    *len = n;
    return 0;
}

const tui_gfx_backend tui_gfx_iterm2_backend = {
    .name = "iterm2",
    .images = 1,
    .probe = 1,
    .scaled = 1,
    .tile_px = 96,
    .detect = iterm2_detect,
    .encode = iterm2_encode,
};
