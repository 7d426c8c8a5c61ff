/*
 * fuzz_keys.c - fuzz target for the key remapping file of zoosh label
 * --keys (tui_keys_parse).  After any input the table stays within bounds
 * and every bound key still looks up.
 */
#include "tests/fuzz/fuzz.h"
#include "tui/label/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (64u << 10)) return 0;
    char *text = fuzz_strdup(data, size);
    tui_keys k;
    tui_keys_init(&k);
    char err[512];
    (void)tui_keys_parse(&k, text, "fuzz.keys", err, sizeof err);
    if (k.n < 0 || k.n > TUI_KEYS_MAX) abort();
    for (int i = 0; i < k.n; i++) {
        char nb[32], buf[256];
        (void)tui_keys_key_name(k.b[i].key, nb, sizeof nb);
        (void)tui_keys_keys_of(&k, k.b[i].act, buf, sizeof buf);
    }
    free(text);
    return 0;
}
