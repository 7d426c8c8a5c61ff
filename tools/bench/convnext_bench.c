/*
 * convnext_bench.c - the C side of tools/bench/convnext.sh: load a ConvNeXt
 * from safetensors, forward the batch "x" (n, 3, H, W) of an input file
 * `reps` times with `threads` threads, print images/s of the best rep, and write the
 * embeddings (n, dim) as "y" for the script to compare with PyTorch's.
 *   convnext_bench MODEL INPUT OUTPUT THREADS REPS
 */
#include "core/convnext.h"
#include "core/safetensors.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: convnext_bench MODEL INPUT OUTPUT THREADS REPS\n");
        return 2;
    }
    char err[256];
    core_convnext *m;
    if (core_convnext_load(&m, argv[1], NULL, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    core_safetensors *in;
    if (core_safetensors_open(&in, argv[2], err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", argv[2], err);
        return 1;
    }
    const core_st_tensor *t = core_safetensors_find(in, "x");
    if (!t || t->ndim != 4 || t->shape[1] != 3) {
        fprintf(stderr, "%s: no tensor x of shape (n, 3, H, W)\n", argv[2]);
        return 1;
    }
    int n = (int)t->shape[0], h = (int)t->shape[2], w = (int)t->shape[3], dim = core_convnext_dim(m);
    float *x = xmalloc((size_t)t->numel * sizeof *x), *y = xmalloc((size_t)n * dim * sizeof *y);
    if (core_safetensors_read_f32(t, x, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    core_convnext_set_threads(m, atoi(argv[4]));
    int reps = atoi(argv[5]);
    core_convnext_forward(m, x, n, h, w, y);          /* warm up */
    double best = 1e30;     /* best of reps: the machine is shared, noise only slows */
    for (int r = 0; r < reps; r++) {
        double t0 = core_mono_s();
        core_convnext_forward(m, x, n, h, w, y);
        double dt = core_mono_s() - t0;
        if (dt < best) best = dt;
    }
    printf("%.3f\n", n / best);
    core_st_out o = {"y", 2, {n, dim}, y};
    if (core_safetensors_write(argv[3], &o, 1, NULL, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", argv[3], err);
        return 1;
    }
    free(x);
    free(y);
    core_safetensors_close(in);
    core_convnext_free(m);
    return 0;
}
