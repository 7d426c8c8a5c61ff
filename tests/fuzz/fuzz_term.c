/*
 * fuzz_term.c - fuzz target for the terminal-reply parser (tui_term_parse):
 * whatever a terminal (or something pretending to be one) answers to the
 * probe.  The bytes are fed in pieces, as they arrive from read(), keeping
 * what the parser leaves unconsumed, so partial sequences are exercised.
 */
#include "tests/fuzz/fuzz.h"
#include "tui/gfx/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (64u << 10)) return 0;
    /* first byte: the read() chunk size (1..256) */
    size_t chunk = (size_t)data[0] + 1;
    data++; size--;
    tui_term_caps caps;
    memset(&caps, 0, sizeof caps);
    /* whole buffer at once */
    size_t used = tui_term_parse((const char *)data, size, &caps);
    if (used > size) abort();
    /* in chunks, as the probe loop does: pending bytes carry over */
    memset(&caps, 0, sizeof caps);
    char *pend = malloc(size + 1);
    if (!pend) abort();
    size_t np = 0;
    for (size_t off = 0; off < size; off += chunk) {
        size_t k = size - off < chunk ? size - off : chunk;
        memcpy(pend + np, data + off, k);
        np += k;
        size_t u = tui_term_parse(pend, np, &caps);
        if (u > np) abort();
        memmove(pend, pend + u, np - u);
        np -= u;
    }
    free(pend);
    return 0;
}
