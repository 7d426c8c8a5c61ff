/*
 * convnext_bench.c - the C side of tools/bench/convnext.sh: load a ConvNeXt
 * from safetensors, forward the batch "x" (n, 3, H, W) of an input file
 * `reps` times with `threads` threads, print images/s of the best rep, and write the
 * embeddings (n, dim) as "y" for the script to compare with PyTorch's.
 *   convnext_bench MODEL INPUT OUTPUT THREADS REPS
 * or, for training steps (forward, backward, AdamW) of zoosh pretrain's
 * network (depths 1,1,3,1; widths DIMS, default 32,64,128,256) on GZ2's 37
 * answers, batch B of S px:
 *   convnext_bench --train MODEL B S THREADS REPS [DIMS]
 */
#include "core/convnext.h"
#include "core/pretrain.h"
#include "core/safetensors.h"
#include "core/util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int train_bench(char **argv)
{
    char err[256];
    core_pt_opts o;
    core_pt_opts_default(&o);
    if (argv[7] && sscanf(argv[7], "%d,%d,%d,%d", &o.arch.dims[0], &o.arch.dims[1], &o.arch.dims[2],
                          &o.arch.dims[3]) != 4) {
        fprintf(stderr, "convnext_bench: bad DIMS '%s'\n", argv[7]);
        return 2;
    }
    static const int len[11] = {3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6};
    core_pt_questions q = {.n_q = 11, .n_out = 37};
    for (int i = 0, at = 0; i < 11; at += len[i], i++) { q.start[i] = at; q.len[i] = len[i]; }
    core_pt_net *n;
    if (core_pt_net_new(&n, &o.arch, 37, 1e-6f, 1) || core_pt_net_load(n, argv[2], err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int B = atoi(argv[3]), S = atoi(argv[4]), reps = atoi(argv[6]);
    openblas_set_num_threads(atoi(argv[5]));
    core_rng r;
    core_rng_seed(&r, 5);
    float *x = xmalloc((size_t)B * S * S * 3 * sizeof *x), *f = xmalloc((size_t)B * 37 * sizeof *f);
    for (size_t i = 0; i < (size_t)B * S * S * 3; i++) x[i] = (float)core_rng_uniform(&r);
    for (int i = 0; i < B * 37; i++) f[i] = (float)core_rng_uniform(&r) / 4;
    double best = 1e30;
    for (int t = 0; t <= reps; t++) {
        double t0 = core_mono_s();
        core_pt_net_grad(n, &q, x, B, S, f);
        core_pt_net_adamw(n, 1e-3f, 0.05f, t + 1);
        double dt = core_mono_s() - t0;
        if (t && dt < best) best = dt;       /* t = 0 warms up */
    }
    printf("%.3f\n", B / best);
    core_pt_net_free(n);
    free(x);
    free(f);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 7 || argc == 8) && !strcmp(argv[1], "--train")) return train_bench(argv);
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
