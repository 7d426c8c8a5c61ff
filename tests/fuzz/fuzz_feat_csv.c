/*
 * fuzz_feat_csv.c - fuzz target for the features CSV loader
 * (core_feat_load_csv: header id_str/id then feat_0..; through a scratch file).
 */
#include "tests/fuzz/fuzz.h"
#include "core/featio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (256u << 10)) return 0;
    char path[256], err[512];
    fuzz_tmp_path(path, sizeof path, "feat.csv");
    if (fuzz_write_file(path, data, size)) return 0;
    core_featset fs;
    if (core_feat_load_csv(path, &fs, err, sizeof err) == 0) {
        if (fs.n <= 0 || fs.dim <= 0 || !fs.x || !fs.ids) abort();
        for (int i = 0; i < fs.n; i++) if (!fs.ids[i]) abort();
        volatile float last = fs.x[(size_t)fs.n * (size_t)fs.dim - 1];
        (void)last;
    }
    core_featset_free(&fs);
    unlink(path);
    return 0;
}
