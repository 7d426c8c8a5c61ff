/*
 * text.c - the one sanitiser for user-controlled text (see text.h).
 */
#include "tui/text.h"

#include <stdlib.h>
#include <string.h>

size_t tui_text_sanitize(const char *in, char *out, size_t cap, int ascii_only)
{
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t o = 0;
    if (cap == 0) return 0;
    while (*p) {
        unsigned c = *p;
        unsigned cp = 0;
        int n = 0;
        if (c < 0x80) { cp = c; n = 1; }
        else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; n = 2; }
        else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; n = 3; }
        else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; n = 4; }
        int ok = n > 0;
        for (int i = 1; ok && i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) ok = 0;
            else cp = cp << 6 | (p[i] & 0x3f);
        }
        if (ok && n > 1) {
            static const unsigned minv[5] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < minv[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) ok = 0;  /* overlong, surrogate */
        }
        const char *rep = NULL;
        if (!ok) { rep = "?"; n = 1; }
        else if (cp == '\t' || cp == '\n' || cp == '\r') rep = " ";
        else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) rep = "?";
        else if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
                 cp == 0x200e || cp == 0x200f || cp == 0xfeff) rep = "?";  /* bidi / invisible */
        else if (ascii_only && cp >= 0x80) rep = "?";
        size_t len = rep ? 1 : (size_t)n;
        if (o + len + 1 > cap) break;
        if (rep) out[o] = rep[0];
        else memcpy(out + o, p, (size_t)n);
        o += len;
        p += n;
    }
    out[o] = 0;
    return o;
}

const char *tui_text_safe(const char *s)
{
    static __thread char *ring[8];
    static __thread size_t size[8];
    static __thread unsigned next;
    if (!s) return "";
    unsigned i = next++ % 8;
    size_t need = strlen(s) + 1;    /* the copy is never longer: each replacement is one byte */
    if (size[i] < need) {
        char *p = realloc(ring[i], need);
        if (!p) return "?";
        ring[i] = p;
        size[i] = need;
    }
    tui_text_sanitize(s, ring[i], need, 0);
    return ring[i];
}
