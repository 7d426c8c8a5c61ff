/*
 * sixel.h - turning in-memory RGB pixels into a sixel sequence with
 * libsixel's low-level API (sixel_dither + sixel_encode), never its file
 * loaders.  Only the UI thread calls this (libsixel is not thread-safe).
 * The labeler reaches it through gfx.h (the sixel row of its table);
 * tests call the encoder directly.
 */
#ifndef ZOOSH_TUI_SIXEL_H
#define ZOOSH_TUI_SIXEL_H

#include <stddef.h>
#include <stdint.h>

/* Encodes rgb (h, w, 3) as one complete sixel image (DCS q ... ST) with at
 * most ncolors colour registers (2..256).  rgb is not modified (libsixel
 * dithers a private copy).  *out is malloc'ed (caller frees), *len its size.
 * Returns 0, or -1 with a reason in err. */
int tui_sixel_encode(const uint8_t *rgb, int w, int h, int ncolors,
                     char **out, size_t *len, char *err, size_t errlen);

#endif
