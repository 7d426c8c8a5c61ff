/*
 * text.c - the one sanitiser for user-controlled text (see text.h).
 */
#include "tui/text.h"

#include <stdlib.h>
#include <string.h>

int tui_text_utf8_next(const char *s, unsigned *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0) return 0;
    unsigned v = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;   /* also stops at the NUL */
        v = v << 6 | (p[i] & 0x3f);
    }
    static const unsigned minv[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < minv[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;   /* overlong, surrogate */
    *cp = v;
    return n;
}

int tui_text_unsafe_cp(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0xfeff;
}

size_t tui_text_sanitize(const char *in, char *out, size_t cap, int ascii_only)
{
    const char *p = in ? in : "";
    size_t o = 0;
    if (cap == 0) return 0;
    while (*p) {
        unsigned cp = 0;
        int n = tui_text_utf8_next(p, &cp);
        const char *rep = NULL;
        if (!n) { rep = "?"; n = 1; }
        else if (cp == '\t' || cp == '\n' || cp == '\r') rep = " ";
        else if (tui_text_unsafe_cp(cp)) rep = "?";
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
