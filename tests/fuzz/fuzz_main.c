/*
 * fuzz_main.c - a plain main() that replays files through a fuzz target
 * without libFuzzer (as stb's tests/fuzz_main.c): link it with one
 * tests/fuzz/fuzz_*.c and run  ./replay FILE...  (tools/fuzz.sh builds
 * build-fuzz/<target>-replay this way, with ASan/UBSan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { perror(argv[i]); return 1; }
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = malloc(cap);
        size_t got;
        while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
            n += got;
            if (n == cap) buf = realloc(buf, cap *= 2);
        }
        fclose(f);
        if (!buf) { fprintf(stderr, "out of memory\n"); return 1; }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        printf("replayed %s (%zu bytes)\n", argv[i], n);
    }
    return 0;
}
