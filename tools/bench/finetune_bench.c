/*
 * finetune_bench.c - the C side of tools/bench/finetune.sh: fine-tuning
 * steps as zoosh train --finetune takes them (forward through the whole
 * network, backward and AdamW through the last stage and a 2-answer head
 * only, core_pt_net_set_trainable), on the network make pretrain trains
 * (depths 1,1,3,1, dims 40..320) loaded from MODEL, batch B of S px.
 * Prints images/s of the best of REPS steps (after one warm-up step).
 *   finetune_bench MODEL B S THREADS REPS
 */
#include "core/ptnet.h"
#include "core/util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: finetune_bench MODEL B S THREADS REPS\n");
        return 2;
    }
    const core_convnext_arch arch = {"zoosh", 4, {1, 1, 3, 1}, {40, 80, 160, 320}, 4};
    core_pt_questions q = {.n_q = 1, .n_out = 2, .start = {0}, .len = {2}};
    core_pt_net *n;
    char err[256] = "";
    if (core_pt_net_new(&n, &arch, 2, 1e-6f, 1) || core_pt_net_load(n, argv[1], err, sizeof err)) {
        fprintf(stderr, "finetune_bench: %s\n", err);
        return 1;
    }
    core_pt_net_set_trainable(n, 3);
    int B = atoi(argv[2]), S = atoi(argv[3]), reps = atoi(argv[5]);
    openblas_set_num_threads(atoi(argv[4]));
    core_rng r;
    core_rng_seed(&r, 5);
    float *x = xmalloc((size_t)B * S * S * 3 * sizeof *x), *f = xmalloc((size_t)B * 2 * sizeof *f);
    for (size_t i = 0; i < (size_t)B * S * S * 3; i++) x[i] = (float)core_rng_uniform(&r);
    for (int i = 0; i < B; i++) {
        int y = core_rng_below(&r, 2);
        f[2 * i] = (float)y;
        f[2 * i + 1] = (float)(1 - y);
    }
    double best = 1e30;
    for (int t = 0; t <= reps; t++) {
        double t0 = core_mono_s();
        core_pt_net_grad(n, &q, x, B, S, f);
        core_pt_net_adamw(n, 2e-4f, 0.05f, t + 1);
        double dt = core_mono_s() - t0;
        if (t && dt < best) best = dt;
    }
    printf("%.3f\n", B / best);
    core_pt_net_free(n);
    free(x);
    free(f);
    return 0;
}
