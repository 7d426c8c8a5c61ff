/*
 * tui_thumbs.c - for tools/bench/tui.sh: writes the stored display thumbnails
 * of galaxies 1..N of a workspace as PNG files DIR/thumb_<gid>.png, so the
 * peer (img2sixel) encodes exactly the pixels the labeler encodes, and
 * prints what reading one costs the labeler (core_thumb_get: a raw record
 * copied, a JPEG decoded), best of 5 passes over the N galaxies:
 *   tui_thumbs WS N DIR      ->  "thumb_get_ms 0.412 codec jpeg bytes 27000"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "core/thumb.h"
#include "core/util.h"
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
        uint8_t owned;
        char err[256];
        if (core_thumb_get(txn, (uint32_t)gid, &w, &h, &rgb, &owned, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            status = 1;
            continue;
        }
        core_image im;
        core_image_alloc(&im, w, h);
        memcpy(im.px, rgb, (size_t)w * h * 3);
        if (owned) free((void *)rgb);
        char path[4096];
        snprintf(path, sizeof path, "%s/thumb_%d.png", argv[3], gid);
        if (core_image_save_png(path, &im, err, sizeof err)) { fprintf(stderr, "%s: %s\n", path, err); status = 1; }
        core_image_free(&im);
    }
    /* the labeler's read: thumbnail -> its own RGB copy (core_labeler_thumb_get, used by tui/label/images.c) */
    double best = 1e30;
    size_t bytes = 0;
    int codec = -1;
    volatile unsigned sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = core_mono_s();
        for (int gid = 1; gid <= n; gid++) {
            const uint8_t *rgb;
            int w, h;
            uint8_t owned;
            if (core_thumb_get(txn, (uint32_t)gid, &w, &h, &rgb, &owned, NULL, 0)) continue;
            uint8_t *copy = owned ? (uint8_t *)rgb : xmalloc((size_t)w * h * 3);
            if (!owned) memcpy(copy, rgb, (size_t)w * h * 3);
            sink += copy[(size_t)w * h * 3 - 1];   /* keeps the copy from being optimised away */
            free(copy);
        }
        double t = core_mono_s() - t0;
        if (t < best) best = t;
    }
    for (int gid = 1; gid <= n; gid++) {
        store_thumb t;
        if (store_thumb_get(txn, (uint32_t)gid, &t) == 0) { bytes += t.len; codec = t.codec; }
    }
    printf("thumb_get_ms %.5f codec %s bytes %.0f\n", n > 0 ? 1e3 * best / n : 0.0, core_thumb_codec_name(codec),
           n > 0 ? (double)bytes / n : 0.0);
    store_read_end(txn);
    store_close(st);
    return status;
}
