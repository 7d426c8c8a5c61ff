/*
 * fuzz_feat_npy.c - fuzz target for the NumPy .npy features loader
 * (core_feat_load_npy).  The input is the .npy bytes, optionally followed by
 * "\nIDS\n" and the id list file (one id per line); both go through scratch
 * files.  Without the separator the loader gets no id list.
 */
#include "tests/fuzz/fuzz.h"
#include "core/featio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (256u << 10)) return 0;
    size_t alen, blen;
    const uint8_t *b;
    fuzz_split(data, size, "\nIDS\n", &alen, &b, &blen);
    char path[256], ids[256], err[512];
    fuzz_tmp_path(path, sizeof path, "feat.npy");
    fuzz_tmp_path(ids, sizeof ids, "feat.ids");
    if (fuzz_write_file(path, data, alen)) return 0;
    if (b && fuzz_write_file(ids, b, blen)) { unlink(path); return 0; }
    core_featset fs;
    if (core_feat_load_npy(path, b ? ids : NULL, &fs, err, sizeof err) == 0) {
        if (fs.n <= 0 || fs.dim <= 0 || !fs.x || !fs.ids) abort();
        for (int i = 0; i < fs.n; i++) if (!fs.ids[i]) abort();
        volatile float last = fs.x[(size_t)fs.n * (size_t)fs.dim - 1];
        (void)last;
    }
    core_featset_free(&fs);
    unlink(path);
    if (b) unlink(ids);
    return 0;
}
