/*
 * fuzz_safetensors.c - fuzz target for the safetensors reader
 * (core_safetensors_open_mem): every tensor it accepts is looked up by name,
 * its metadata read, and small ones converted to float32.
 */
#include "tests/fuzz/fuzz.h"
#include "core/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    /* a private copy: the reader may keep pointers into it until close */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) abort();
    if (size) memcpy(buf, data, size);
    core_safetensors *st = NULL;
    char err[512];
    if (core_safetensors_open_mem(&st, buf, size, err, sizeof err) == 0) {
        int n = core_safetensors_count(st);
        for (int i = 0; i < n; i++) {
            const core_st_tensor *t = core_safetensors_at(st, i);
            if (!t || !t->name) abort();
            if (core_safetensors_find(st, t->name) == NULL) abort();
            if (t->nbytes && ((const uint8_t *)t->data < buf ||
                              (const uint8_t *)t->data + t->nbytes > buf + size)) abort();
            if (t->numel >= 0 && t->numel <= 4096) {
                float *dst = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
                if (!dst) abort();
                (void)core_safetensors_read_f32(t, dst, err, sizeof err);
                free(dst);
            }
        }
        (void)core_safetensors_meta(st, "format");
        (void)core_safetensors_find(st, "missing.weight");
    }
    core_safetensors_close(st);
    free(buf);
    return 0;
}
