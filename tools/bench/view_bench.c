/*
 * view_bench.c - for tools/bench/tui.sh: what preparing a galaxy's pixels
 * for the 496 px default pane costs, without the terminal: the original
 * file read and decoded into values (core_view_src_galaxy) and drawn at
 * zoom 0 and zoom 3 (core_view_draw), against the old way, the stored
 * thumbnail read (core_labeler_thumb_get) and drawn (core_view_render).
 * Per galaxy over galaxies 1..N, p50 and p99 in ms:
 *   view_bench WS N  ->  "decode P50 P99 draw0 P50 P99 draw3 P50 P99 thumb P50 P99"
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/labeler.h"
#include "core/util.h"
#include "core/view.h"
#include "store/store.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double q(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    int i = (int)(p * n);
    return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: view_bench WS N\n"); return 2; }
    zs_store *st;
    int rc = store_open(&st, argv[1], STORE_RDONLY);
    if (rc) { fprintf(stderr, "%s: %s\n", argv[1], store_strerror(rc)); return 3; }
    int n = atoi(argv[2]);
    enum { P = 496 };
    double *dec = xmalloc(sizeof(double) * (size_t)n), *d0 = xmalloc(sizeof(double) * (size_t)n);
    double *d3 = xmalloc(sizeof(double) * (size_t)n), *th = xmalloc(sizeof(double) * (size_t)n);
    uint8_t *out = xmalloc(P * P * 3);   /* (P, P, 3) */
    for (int g = 1; g <= n; g++) {
        core_view_src s;
        int fb;
        char why[256];
        double t0 = core_mono_s();
        if (core_view_src_galaxy(st, (uint32_t)g, &s, &fb, why, sizeof why) != 0 || fb) {
            fprintf(stderr, "galaxy %d: no original: %s\n", g, why);
            return 1;
        }
        double t1 = core_mono_s();
        core_view v = {0};
        core_view_draw(&s, &v, out, P, P);
        double t2 = core_mono_s();
        v.zoom = 3;
        core_view_draw(&s, &v, out, P, P);
        double t3 = core_mono_s();
        core_view_src_free(&s);
        uint8_t *rgb;
        int w, h;
        double t4 = core_mono_s();
        if (core_labeler_thumb_get(st, (uint32_t)g, &rgb, &w, &h, why, sizeof why) != 0) return 1;
        v.zoom = 0;
        core_view_render(rgb, w, h, &v, out, P, P);
        double t5 = core_mono_s();
        free(rgb);
        dec[g - 1] = (t1 - t0) * 1e3;
        d0[g - 1] = (t2 - t1) * 1e3;
        d3[g - 1] = (t3 - t2) * 1e3;
        th[g - 1] = (t5 - t4) * 1e3;
    }
    printf("decode %.2f %.2f draw0 %.2f %.2f draw3 %.2f %.2f thumb %.2f %.2f\n", q(dec, n, 0.5), q(dec, n, 0.99),
           q(d0, n, 0.5), q(d0, n, 0.99), q(d3, n, 0.5), q(d3, n, 0.99), q(th, n, 0.5), q(th, n, 0.99));
    free(out); free(dec); free(d0); free(d3); free(th);
    store_close(st);
    return 0;
}
