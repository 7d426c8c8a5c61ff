/*
 * kitty.c - the kitty graphics protocol row of gfx.c's table: the pixels
 * themselves go in the escape sequence (t=d, so it works over SSH), as
 * 24-bit RGB compressed with zlib (o=z), base64 in chunks of 4096 bytes
 * (the protocol's limit per escape code).  kitty draws images on a layer of
 * their own that text does not erase: gfx.c deletes the image under a cell
 * before placing a new one there, and every image before a full repaint.
 */
#include "tui/gfx/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/util.h"

#define CHUNK 4096              /* base64 bytes per escape code (the protocol's maximum) */

/* answered a=q with OK */
static int kitty_detect(const tui_term_caps *caps) { return caps->kitty; }

static int kitty_encode(const tui_gfx *g, const uint8_t *rgb, int w, int h, char **out, size_t *len,
                        char *err, size_t errlen)
{
    (void)g;
    if (w <= 0 || h <= 0 || w > 8192 || h > 8192) {
        snprintf(err, errlen, "bad image size %dx%d", w, h);
        return -1;
    }
    size_t raw = (size_t)w * h * 3;
    uLongf zlen = compressBound((uLong)raw);
    uint8_t *z = xmalloc(zlen);
    if (compress2(z, &zlen, rgb, (uLong)raw, 1) != Z_OK) {
        free(z);
        snprintf(err, errlen, "zlib failed");
        return -1;
    }
    size_t blen;
    char *b64 = tui_gfx_base64(z, zlen, &blen);
    free(z);
    size_t cap = blen + (blen / CHUNK + 2) * 64, n = 0;
    char *o = xmalloc(cap);
    for (size_t off = 0; off < blen || off == 0; off += CHUNK) {
        size_t take = blen - off < CHUNK ? blen - off : CHUNK;
        int more = off + take < blen;
        if (off == 0)   /* q=2: no replies (they would arrive as keys); C=1: the cursor stays */
            n += (size_t)snprintf(o + n, cap - n, "\x1b_Ga=T,f=24,s=%d,v=%d,o=z,t=d,q=2,C=1,m=%d;", w, h, more);
        else
            n += (size_t)snprintf(o + n, cap - n, "\x1b_Gm=%d;", more);
        memcpy(o + n, b64 + off, take);
        n += take;
        memcpy(o + n, "\x1b\\", 2);
        n += 2;
        if (!more) break;
    }
    free(b64);
    *out = o;
    *len = n;
    return 0;
}

const tui_gfx_backend tui_gfx_kitty_backend = {
    .name = "kitty",
    .images = 1,
    .probe = 1,
    .scaled = 1,
    .layered = 1,
    .tile_px = 96,
    .detect = kitty_detect,
    .encode = kitty_encode,
    .clear = "\x1b_Ga=d,d=A,q=2\x1b\\",      /* delete every image and its data */
};
