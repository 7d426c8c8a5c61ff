/* tools/bench/limits.c - the machine's limits the bench figures are held
 * against: memory bandwidth by a streaming read (sum of a 512 MiB float array,
 * 1 and 2 threads, best of 5, GB/s) and sgemm GFLOP/s through OpenBLAS
 * (2048^3, 1 and 2 threads, best of 3).  Prints name=value lines that
 * tools/bench/limits.sh stores for the other benches.
 * DESIGN: the read threads each own one contiguous slice of the array and one
 * partial sum; the main thread joins them and adds the sums (no locks).  The
 * array is written once before timing so no page fault is timed. */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BW_BYTES (512u << 20)
#define GEMM_N 2048

typedef struct { const float *x; size_t n; double sum; } slice;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* 64 independent accumulators (4 AVX-512 or 8 AVX2 registers) so the loop
 * is bound by loads, not by the latency of one chain of adds; limits.sh
 * compiles this with -O3 -march=native so the compiler vectorises them */
static void *sum_slice(void *arg)
{
    slice *s = arg;
    float acc[64] = {0};
    size_t i = 0;
    for (; i + 64 <= s->n; i += 64)
        for (int j = 0; j < 64; j++) acc[j] += s->x[i + j];
    double t = 0;
    for (; i < s->n; i++) t += s->x[i];
    for (int j = 0; j < 64; j++) t += acc[j];
    s->sum = t;
    return NULL;
}

static double read_gbs(const float *x, size_t n, int threads, double *check)
{
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        slice s[8];
        pthread_t tid[8];
        double t0 = now();
        for (int k = 0; k < threads; k++) {
            s[k].x = x + n * k / threads;
            s[k].n = n * (k + 1) / threads - n * k / threads;
            pthread_create(&tid[k], NULL, sum_slice, &s[k]);
        }
        for (int k = 0; k < threads; k++) { pthread_join(tid[k], NULL); *check += s[k].sum; }
        double t = now() - t0;
        if (t < best) best = t;
    }
    return n * sizeof(float) / best / 1e9;
}

static double sgemm_gflops(const float *a, const float *b, float *c, int threads)
{
    openblas_set_num_threads(threads);
    int n = GEMM_N;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double t = now() - t0;
        if (t < best) best = t;
    }
    return 2.0 * n * n * n / best / 1e9;
}

int main(void)
{
    size_t n = BW_BYTES / sizeof(float);
    float *x = malloc(BW_BYTES);
    size_t g = (size_t)GEMM_N * GEMM_N;
    float *a = malloc(g * sizeof *a), *b = malloc(g * sizeof *b), *c = malloc(g * sizeof *c);
    if (!x || !a || !b || !c) { fprintf(stderr, "limits: out of memory\n"); return 1; }
    for (size_t i = 0; i < n; i++) x[i] = (float)(i & 1023) * 1e-3f;
    for (size_t i = 0; i < g; i++) { a[i] = (float)(i % 7) - 3; b[i] = (float)(i % 5) - 2; }
    memset(c, 0, g * sizeof *c);
    double check = 0;
    printf("bw1_gbs=%.2f\n", read_gbs(x, n, 1, &check));
    printf("bw2_gbs=%.2f\n", read_gbs(x, n, 2, &check));
    printf("sgemm1_gflops=%.1f\n", sgemm_gflops(a, b, c, 1));
    printf("sgemm2_gflops=%.1f\n", sgemm_gflops(a, b, c, 2));
    fprintf(stderr, "limits: read check %.6g, c[1] %g\n", check, c[1]);
    free(x); free(a); free(b); free(c);
    return 0;
}
