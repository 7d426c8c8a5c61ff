/*
 * fuzz.h - helpers shared by the fuzz targets in tests/fuzz/fuzz_*.c.
 *
 * Every target defines int LLVMFuzzerTestOneInput(const uint8_t *, size_t)
 * and bounds its own sizes.  The same source builds three ways:
 *   - with clang -fsanitize=fuzzer,address,undefined (tools/fuzz.sh, make fuzz);
 *   - with tests/fuzz/fuzz_main.c as a plain replay program (no libFuzzer);
 *   - #included by tests/t_fuzzreplay.c with the entry point renamed, so
 *     `make test` replays every saved crash input in the gcc build.
 * So helpers here are static and every target prefixes its own statics.
 */
#ifndef ZOOSH_TESTS_FUZZ_H
#define ZOOSH_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Inputs over this many bytes are ignored by every target (the interesting
 * bugs are in small inputs; large ones only slow the fuzzer down). */
#define FUZZ_MAX_INPUT (1u << 20)

/* A per-process scratch file path for parsers that only read files
 * (libhdf5, the feature loaders): /dev/shm when there is one, else /tmp. */
static inline void fuzz_tmp_path(char *out, size_t len, const char *tag)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(out, len, "%s/zoosh-fuzz-%ld-%s", dir, (long)getpid(), tag);
}

/* Writes data to path; 0 on success. */
static inline int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = size ? fwrite(data, 1, size, f) : 0;
    int rc = (w == size) ? 0 : -1;
    if (fclose(f)) rc = -1;
    return rc;
}

/* A NUL-terminated malloc'ed copy of the input (text parsers). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Splits the input at the first occurrence of sep: *a = before, *b = after
 * (NULL / 0 when sep is absent). */
static inline void fuzz_split(const uint8_t *data, size_t size, const char *sep,
                              size_t *alen, const uint8_t **b, size_t *blen)
{
    size_t sl = strlen(sep);
    *alen = size; *b = NULL; *blen = 0;
    if (size < sl) return;
    for (size_t i = 0; i + sl <= size; i++)
        if (memcmp(data + i, sep, sl) == 0) {
            *alen = i; *b = data + i + sl; *blen = size - i - sl;
            return;
        }
}

#endif
