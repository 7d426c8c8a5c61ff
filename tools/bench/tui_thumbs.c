/*
 * tui_thumbs.c - for tools/bench/tui.sh: writes the stored display thumbnails
 * of galaxies 1..N of a workspace as PNG files DIR/thumb_<gid>.png, so the
 * peer (img2sixel) encodes exactly the pixels the labeler encodes.
 *   tui_thumbs WS N DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "store/store.h"

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: tui_thumbs WS N DIR\n"); return 2; }
    zs_store *st;
    int rc = store_open(&st, argv[1], STORE_RDONLY);
    if (rc) { fprintf(stderr, "%s: %s\n", argv[1], store_strerror(rc)); return 3; }
    int n = atoi(argv[2]), status = 0;
    zs_txn *txn;
    if (store_read_begin(st, &txn)) return 3;
    for (int gid = 1; gid <= n; gid++) {
        const uint8_t *rgb;
        int w, h;
        if (store_thumb_get(txn, (uint32_t)gid, &w, &h, &rgb)) { status = 1; continue; }
        core_image im;
        core_image_alloc(&im, w, h);
        memcpy(im.px, rgb, (size_t)w * h * 3);
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/thumb_%d.png", argv[3], gid);
        if (core_image_save_png(path, &im, err, sizeof err)) { fprintf(stderr, "%s: %s\n", path, err); status = 1; }
        core_image_free(&im);
    }
    store_read_end(txn);
    store_close(st);
    return status;
}
