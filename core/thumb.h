/*
 * thumb.h - the galaxies' stored display thumbnails: made at import
 * (decode, scale to CORE_THUMB_SIDE, encode), read back as RGB8 pixels by
 * everyone who shows or embeds them (labeler, similar grid, embed, benches).
 *
 * The store keeps a thumbnail as bytes with a codec tag and its size
 * (store/store.h, STORE_THUMB_*); this module is the one place that knows
 * what the bytes mean.  JPEG (the default since layout 2: quality
 * CORE_THUMB_JPEG_QUALITY, no chroma subsampling, about 7x smaller than raw
 * on DECaLS cutouts) or raw RGB8 (lossless, the only form before).  Every
 * reader goes through core_thumb_get, which reads both.  A thumbnail that
 * does not decode is reported (STORE_ECORRUPT and a reason), never a crash:
 * libjpeg's errors longjmp back into core/image.c.
 */
#ifndef ZOOSH_CORE_THUMB_H
#define ZOOSH_CORE_THUMB_H

#include <stddef.h>
#include <stdint.h>

#include "core/image.h"
#include "store/store.h"

#define CORE_THUMB_JPEG_QUALITY 92

typedef enum {
    CORE_THUMB_RAW  = STORE_THUMB_RAW,    /* RGB8 (h, w, 3), lossless */
    CORE_THUMB_JPEG = STORE_THUMB_JPEG,   /* JPEG, CORE_THUMB_JPEG_QUALITY, 4:4:4 */
} core_thumb_codec;

/* An encoded thumbnail, ready for store_thumb_put_coded. */
typedef struct {
    int codec;          /* core_thumb_codec */
    int w, h;           /* pixels */
    uint8_t *bytes;     /* (len) malloc'ed, owned by the struct */
    size_t len;         /* RAW: w * h * 3 */
} core_thumb;

/* "raw" / "jpeg" -> codec; -1 for anything else. */
int  core_thumb_codec_parse(const char *name);
const char *core_thumb_codec_name(int codec);

/* Encodes im (its pixels are not kept: RAW copies them).  0, or -1 with a
 * reason in err. */
int  core_thumb_encode(const core_image *im, int codec, core_thumb *out, char *err, size_t errlen);
/* What the importer does per file: decode, core_image_load_thumb to `side`,
 * encode.  0, or -1 with a reason in err (the caller names the file). */
int  core_thumb_load(const char *path, int side, int codec, core_thumb *out, char *err, size_t errlen);
void core_thumb_free(core_thumb *t);   /* frees bytes; NULL or empty is fine */

/* Stores t as galaxy gid's thumbnail (store_thumb_put_coded). */
int  core_thumb_put(zs_txn *txn, uint32_t gid, const core_thumb *t);

/* Decodes a stored record's payload to RGB8 of exactly w x h (a JPEG of
 * another size, or one that does not decode, is refused).  out->px is
 * malloc'ed.  0, or -1 with a reason in err. */
int  core_thumb_decode(int codec, int w, int h, const uint8_t *bytes, size_t len, core_image *out,
                       char *err, size_t errlen);

/* Galaxy gid's thumbnail as RGB8 pixels (h, w, 3), whatever its codec.
 * *px is either borrowed from the map (a raw record: *owned = 0, valid until
 * txn ends, read only) or malloc'ed for the caller (decoded: *owned = 1,
 * free() it).  Returns 0, STORE_ENOTFOUND (no thumbnail), STORE_ECORRUPT
 * (a record or JPEG that does not parse: err says why, naming the galaxy by
 * gid) or another store code.  err may be NULL. */
int  core_thumb_get(zs_txn *txn, uint32_t gid, int *w, int *h, const uint8_t **px, uint8_t *owned,
                    char *err, size_t errlen);

#endif
