/*
 * thumb.c - encoding the display thumbnails at import and decoding them for
 * every reader (see thumb.h).  The JPEG work itself (libjpeg-turbo, errors
 * through longjmp) is in core/image.c; this file picks the codec, checks
 * that a record's bytes are what its header says and names the galaxy.
 *
 * Re-entrant: the importer encodes in its decode threads, the labeler
 * decodes in its UI thread while the trainer embeds in another.
 */
#include "core/thumb.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_thumb_codec_parse(const char *name)
{
    if (!name) return -1;
    if (strcmp(name, "jpeg") == 0) return CORE_THUMB_JPEG;
    if (strcmp(name, "raw") == 0) return CORE_THUMB_RAW;
    return -1;
}

const char *core_thumb_codec_name(int codec)
{
    return codec == CORE_THUMB_JPEG ? "jpeg" : codec == CORE_THUMB_RAW ? "raw" : "unknown";
}

void core_thumb_free(core_thumb *t)
{
    if (!t) return;
    free(t->bytes);
    memset(t, 0, sizeof *t);
}

int core_thumb_encode(const core_image *im, int codec, core_thumb *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!im || !im->px || im->w < 1 || im->h < 1) { core_set_err(err, errlen, "no pixels to encode"); return -1; }
    size_t raw = (size_t)im->w * (size_t)im->h * 3;
    if (codec == CORE_THUMB_RAW) {
        out->bytes = xmalloc(raw);
        memcpy(out->bytes, im->px, raw);
        out->len = raw;
    } else if (codec == CORE_THUMB_JPEG) {
        if (core_image_jpeg_encode(im, CORE_THUMB_JPEG_QUALITY, &out->bytes, &out->len, err, errlen)) return -1;
    } else {
        core_set_err(err, errlen, "unknown thumbnail codec %d", codec);
        return -1;
    }
    out->codec = codec;
    out->w = im->w;
    out->h = im->h;
    return 0;
}

int core_thumb_load(const char *path, int side, int codec, core_thumb *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    core_image im;
    if (core_image_load_thumb(path, side, &im, err, errlen)) return -1;
    int rc;
    if (codec == CORE_THUMB_RAW) {      /* hand the pixels over: no copy */
        out->codec = codec;
        out->w = im.w;
        out->h = im.h;
        out->len = (size_t)im.w * (size_t)im.h * 3;
        out->bytes = im.px;
        return 0;
    }
    rc = core_thumb_encode(&im, codec, out, err, errlen);
    core_image_free(&im);
    return rc;
}

int core_thumb_put(zs_txn *txn, uint32_t gid, const core_thumb *t)
{
    return store_thumb_put_coded(txn, gid, t->codec, t->w, t->h, t->bytes, t->len);
}

int core_thumb_decode(int codec, int w, int h, const uint8_t *bytes, size_t len, core_image *out,
                      char *err, size_t errlen)
{
    out->w = out->h = 0;
    out->px = NULL;
    if (w < 1 || h < 1 || w > CORE_IMAGE_MAX_SIDE || h > CORE_IMAGE_MAX_SIDE || !bytes) {
        core_set_err(err, errlen, "bad thumbnail size %dx%d", w, h);
        return -1;
    }
    size_t raw = (size_t)w * (size_t)h * 3;
    if (codec == CORE_THUMB_RAW) {
        if (len != raw) { core_set_err(err, errlen, "raw thumbnail of %zu bytes for %dx%d", len, w, h); return -1; }
        if (core_image_alloc(out, w, h)) { core_set_err(err, errlen, "out of memory"); return -1; }
        memcpy(out->px, bytes, raw);
        return 0;
    }
    if (codec != CORE_THUMB_JPEG) { core_set_err(err, errlen, "unknown thumbnail codec %d", codec); return -1; }
    if (core_image_jpeg_decode(bytes, len, out, err, errlen)) return -1;
    if (out->w != w || out->h != h) {
        core_set_err(err, errlen, "JPEG thumbnail is %dx%d, its record says %dx%d", out->w, out->h, w, h);
        core_image_free(out);
        return -1;
    }
    return 0;
}

int core_thumb_get(zs_txn *txn, uint32_t gid, int *w, int *h, const uint8_t **px, uint8_t *owned,
                   char *err, size_t errlen)
{
    *w = *h = 0;
    *px = NULL;
    *owned = 0;
    store_thumb t;
    int rc = store_thumb_get(txn, gid, &t);
    if (rc) {
        if (rc == STORE_ECORRUPT) core_set_err(err, errlen, "galaxy %u: thumbnail record does not parse", gid);
        else if (rc != STORE_ENOTFOUND) core_set_err(err, errlen, "galaxy %u: thumbnail: %s", gid, store_strerror(rc));
        return rc;
    }
    if (t.codec == CORE_THUMB_RAW) {    /* the store checked len == w * h * 3 */
        *w = t.w;
        *h = t.h;
        *px = t.bytes;
        return 0;
    }
    core_image im;
    char why[200] = "";
    if (core_thumb_decode(t.codec, t.w, t.h, t.bytes, t.len, &im, why, sizeof why)) {
        core_set_err(err, errlen, "galaxy %u: thumbnail: %s", gid, why);
        return STORE_ECORRUPT;
    }
    *w = im.w;
    *h = im.h;
    *px = im.px;
    *owned = 1;
    return 0;
}
