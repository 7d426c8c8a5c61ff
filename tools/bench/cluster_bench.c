/*
 * cluster_bench.c - timing for tools/bench/cluster.sh: the labeler's cluster
 * pages' k-means (core/cluster.h) over a matrix written by the numpy peer
 * (so both cluster the same numbers).  Prints "name<TAB>value" lines.
 *
 *   cluster_bench X.f32 N D K [REPS]   best of REPS walks (core_cluster_walk_new:
 *                                      the fit and the members' order): seconds,
 *                                      iterations, inertia
 */
#include "core/cluster.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: cluster_bench X.f32 N D K [REPS]\n");
        return 2;
    }
    int n = atoi(argv[2]), d = atoi(argv[3]), k = atoi(argv[4]), reps = argc > 5 ? atoi(argv[5]) : 3;
    size_t count = (size_t)n * d;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    float *x = xmalloc(count * sizeof *x);     /* (n, d) */
    if (fread(x, sizeof *x, count, f) != count) { fprintf(stderr, "%s: short\n", argv[1]); return 1; }
    fclose(f);
    uint32_t *gids = xmalloc((size_t)n * sizeof *gids);    /* (n) */
    for (int i = 0; i < n; i++) gids[i] = (uint32_t)i + 1;
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = core_mono_s();
        core_cluster_walk *w = core_cluster_walk_new(x, gids, n, d, k, 1);
        double dt = core_mono_s() - t0;
        if (!w) return 1;
        if (dt < best) best = dt;
        if (r == reps - 1)
            printf("walk_s\t%.4f\niters\t%d\ninertia\t%.6g\nclusters\t%d\n", best, core_cluster_walk_fit(w)->iters,
                   core_cluster_walk_fit(w)->inertia, core_cluster_walk_n(w));
        core_cluster_walk_free(w);
    }
    free(gids);
    free(x);
    return 0;
}
