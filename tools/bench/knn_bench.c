/*
 * knn_bench.c - timing for tools/bench/knn.sh: exact top-k over a matrix
 * written by the numpy peer (so both search the same numbers), and the PCA
 * fit.  Prints "name<TAB>value" lines.
 *
 *   knn_bench X.f32 N D K [QUERIES]     top-k per query, ms (best and median)
 *   knn_bench --pca X.f32 N D K         PCA fit, seconds
 */
#include "core/knn.h"
#include "core/pca.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *read_matrix(const char *path, size_t count)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    float *x = xmalloc(sizeof(float) * count);
    if (fread(x, sizeof(float), count, f) != count) { fprintf(stderr, "%s: short\n", path); exit(1); }
    fclose(f);
    return x;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "--pca") == 0) {
        int n = atoi(argv[3]), d = atoi(argv[4]), k = atoi(argv[5]);
        float *x = read_matrix(argv[2], (size_t)n * d);
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            core_pca *p;
            double t0 = core_mono_s();
            if (core_pca_fit(x, n, d, k, 1, &p, NULL, 0)) return 1;
            double dt = core_mono_s() - t0;
            if (dt < best) best = dt;
            core_pca_free(p);
        }
        printf("pca_s\t%.4f\n", best);
        free(x);
        return 0;
    }
    if (argc < 5) { fprintf(stderr, "usage: knn_bench X.f32 N D K [QUERIES]\n"); return 2; }
    int n = atoi(argv[2]), d = atoi(argv[3]), k = atoi(argv[4]), nq = argc > 5 ? atoi(argv[5]) : 30;
    float *x = read_matrix(argv[1], (size_t)n * d);
    int *idx = xmalloc(sizeof(int) * k);
    float *dist = xmalloc(sizeof(float) * k);
    double *t = xmalloc(sizeof(double) * nq);
    core_knn *ix;
    if (core_knn_new(&ix, x, n, d, CORE_KNN_EUCLIDEAN)) return 1;
    core_knn_query(ix, x, k, -1, idx, dist);   /* warm up: page in the matrix */
    long check = 0;
    for (int q = 0; q < nq; q++) {
        const float *qv = x + (size_t)((q * 7919L) % n) * d;
        double t0 = core_mono_s();
        core_knn_query(ix, qv, k, -1, idx, dist);
        t[q] = core_mono_s() - t0;
        check += idx[0];
    }
    qsort(t, (size_t)nq, sizeof *t, cmp_d);
    printf("best_ms\t%.3f\nmedian_ms\t%.3f\ncheck\t%ld\n", t[0] * 1e3, t[nq / 2] * 1e3, check);
    core_knn_free(ix);
    free(x); free(idx); free(dist); free(t);
    return 0;
}
