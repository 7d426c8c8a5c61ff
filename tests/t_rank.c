/*
 * t_rank.c - orders, sorting, interleaving, the diversity guard, and the
 * anomaly prior (isolation forest against brute-force k-NN distance).
 */
#include "tests/zt.h"
#include "core/anomaly.h"
#include "core/acquire.h"
#include "core/rank.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void every_order_name_parses_back(void)
{
    for (int o = 0; o < CORE_ORDER_N; o++) {
        core_order p;
        ZT_OK(core_order_parse(core_order_name((core_order)o), &p));
        ZT_CHECK((int)p == o, "order %d", o);
        ZT_CHECK(strstr(core_order_names(), core_order_name((core_order)o)) != NULL, "listed");
    }
    core_order p;
    ZT_CHECK(core_order_parse("bogus", &p) == -1, "an unknown order is refused");
}

static void scores_sort_highest_first_with_stable_ties_and_nan_last(void)
{
    float s[] = {0.2f, NAN, 0.9f, 0.2f, 0.5f};
    int idx[5];
    core_rank_by_score(s, 5, idx);
    int want[] = {2, 4, 0, 3, 1};
    for (int i = 0; i < 5; i++) ZT_CHECK(idx[i] == want[i], "position %d: %d", i, idx[i]);
}

static void the_radix_sort_matches_qsort_on_a_million_scores(void)
{
    int n = 1000000;
    float *s = xmalloc(n * sizeof(float));
    int *a = xmalloc(n * sizeof(int)), *b = xmalloc(n * sizeof(int));
    core_rng r;
    core_rng_seed(&r, 4);
    for (int i = 0; i < n; i++) {
        double u = core_rng_uniform(&r);
        /* ties, negatives, zeros of both signs, infinities and NANs */
        s[i] = u < 0.1 ? (float)core_rng_below(&r, 5) : u < 0.12 ? -0.0f : u < 0.13 ? NAN :
               u < 0.135 ? INFINITY : u < 0.14 ? -INFINITY : (float)core_rng_normal(&r) * 1e3f;
    }
    core_rank_by_score(s, n, a);
    core_rank_by_score_naive(s, n, b);
    int diff = 0;
    for (int i = 0; i < n; i++) diff += a[i] != b[i];
    ZT_CHECK(diff == 0, "%d positions differ", diff);
    free(s); free(a); free(b);
}

static void random_order_is_a_permutation_fixed_by_the_seed(void)
{
    int a[1000], b[1000], c[1000], seen[1000] = {0};
    core_rank_random(1000, 7, a);
    core_rank_random(1000, 7, b);
    core_rank_random(1000, 8, c);
    for (int i = 0; i < 1000; i++) seen[a[i]]++;
    for (int i = 0; i < 1000; i++) ZT_CHECK(seen[i] == 1, "%d seen %d times", i, seen[i]);
    ZT_CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) != 0, "seeded");
}

static void mixed_interleaves_70_20_10_without_repeats(void)
{
    int n = 1000;
    int *l0 = xmalloc(n * sizeof(int)), *l1 = xmalloc(n * sizeof(int)), *l2 = xmalloc(n * sizeof(int));
    for (int i = 0; i < n; i++) { l0[i] = i; l1[i] = n - 1 - i; }
    core_rank_random(n, 3, l2);
    int *lists[] = {l0, l1, l2};
    double frac[] = {0.7, 0.2, 0.1};
    int *out = xmalloc(n * sizeof(int)), *seen = xcalloc(n, sizeof(int));
    core_rank_interleave(lists, frac, 3, n, out);
    for (int i = 0; i < n; i++) seen[out[i]]++;
    for (int i = 0; i < n; i++) ZT_CHECK(seen[i] == 1, "%d placed %d times", i, seen[i]);
    /* in the first 100: items < 100 come from the "likely" list, > 900 from the "uncertain" one */
    int low = 0, high = 0;
    for (int i = 0; i < 100; i++) { low += out[i] < 100; high += out[i] >= 900; }
    ZT_CHECK(low >= 68 && low <= 80 && high >= 18 && high <= 24, "likely %d, uncertain %d of 100", low, high);
    free(l0); free(l1); free(l2); free(out); free(seen);
}

static void the_diversity_guard_keeps_near_duplicates_out_of_one_batch(void)
{
    /* 40 points in 2-D: items 0..19 are copies of one point (+tiny noise), 20..39 spread out */
    int n = 40, d = 2;
    float x[80];
    core_rng r;
    core_rng_seed(&r, 1);
    for (int i = 0; i < n; i++) {
        x[i * 2] = i < 20 ? 5 + 1e-3f * (float)core_rng_normal(&r) : (float)core_rng_normal(&r) * 3;
        x[i * 2 + 1] = i < 20 ? 5 : (float)core_rng_normal(&r) * 3;
    }
    int idx[40];
    for (int i = 0; i < n; i++) idx[i] = i;
    float thr = core_rank_dup_threshold(x, n, d, 0.05f, 1);
    ZT_CHECK(thr > 1e-4f, "threshold %g", thr);
    int def = core_rank_diversify(idx, n, x, d, 10, thr, 40);
    int dup = 0, seen[40] = {0};
    for (int i = 0; i < 10; i++) dup += idx[i] < 20;
    for (int i = 0; i < n; i++) seen[idx[i]]++;
    for (int i = 0; i < n; i++) ZT_CHECK(seen[i] == 1, "item %d placed %d times", i, seen[i]);
    ZT_CHECK(dup == 1 && idx[0] == 0, "first batch holds %d copies (first %d)", dup, idx[0]);
    ZT_CHECK(def >= 19, "deferred %d", def);
    /* without duplicates nothing moves */
    for (int i = 0; i < n; i++) idx[i] = i;
    ZT_CHECK(core_rank_diversify(idx, 20, x + 40, d, 10, 1e-6f, 20) == 0, "spread points are not deferred");
}

static void isolation_forest_puts_planted_outliers_on_top(void)
{
    int n = 5000, d = 10;
    float *x = xmalloc((size_t)n * d * sizeof(float)), *s = xmalloc(n * sizeof(float));
    core_rng r;
    core_rng_seed(&r, 2);
    for (int i = 0; i < n * d; i++) x[i] = (float)core_rng_normal(&r);
    int planted[] = {17, 999, 3210, 4711, 4999};
    /* each outlier sits 3.5 sigma out in 4 of the 10 features */
    for (int k = 0; k < 5; k++)
        for (int j = 0; j < 4; j++) x[planted[k] * d + (k + j) % d] = (j % 2 ? -3.5f : 3.5f);
    ZT_OK(core_iforest_score(x, n, d, 100, 256, 1, NULL, s));
    int *idx = xmalloc(n * sizeof(int));
    core_rank_by_score(s, n, idx);
    for (int k = 0; k < 5; k++) {
        int pos = 0;
        while (idx[pos] != planted[k]) pos++;
        ZT_CHECK(pos < 15, "planted outlier %d ranks %d (score %g)", planted[k], pos, s[planted[k]]);
    }
    ZT_CHECK(s[idx[0]] > 0.55f && s[idx[n / 2]] < 0.5f, "scores: top %g, median %g", s[idx[0]], s[idx[n / 2]]);
    free(x); free(s); free(idx);
}

static void isolation_forest_agrees_with_the_knn_distance_score(void)
{
    int n = 1500, d = 5;
    float *x = xmalloc((size_t)n * d * sizeof(float)), *a = xmalloc(n * sizeof(float)), *b = xmalloc(n * sizeof(float));
    core_rng r;
    core_rng_seed(&r, 3);
    for (int i = 0; i < n * d; i++) x[i] = (float)(core_rng_normal(&r) * (i % d == 0 ? 3 : 1));
    ZT_OK(core_iforest_score(x, n, d, 100, 256, 2, NULL, a));
    core_anomaly_knn_score(x, n, d, x, n, 10, b);
    int *ia = xmalloc(n * sizeof(int)), *ib = xmalloc(n * sizeof(int));
    core_rank_by_score(a, n, ia);
    core_rank_by_score(b, n, ib);
    int common = 0;
    for (int i = 0; i < 50; i++)
        for (int j = 0; j < 100; j++) common += ib[i] == ia[j];
    ZT_CHECK(common >= 30, "%d of k-NN's top 50 are in the forest's top 100", common);
    volatile int cancel = 1;
    ZT_CHECK(core_iforest_score(x, n, d, 100, 256, 2, &cancel, a) == 1, "cancel is honoured");
    free(x); free(a); free(b); free(ia); free(ib);
}

const zt_case zt_suite_rank[] = {
    {"every order name parses back", every_order_name_parses_back, 0},
    {"scores sort highest first, ties stable, NAN last", scores_sort_highest_first_with_stable_ties_and_nan_last, 0},
    {"the radix sort matches qsort on a million scores", the_radix_sort_matches_qsort_on_a_million_scores, 0},
    {"the random order is a permutation fixed by the seed", random_order_is_a_permutation_fixed_by_the_seed, 0},
    {"mixed interleaves 70/20/10 without repeats", mixed_interleaves_70_20_10_without_repeats, 0},
    {"the diversity guard keeps near-duplicates out of one batch", the_diversity_guard_keeps_near_duplicates_out_of_one_batch, 0},
    {"the isolation forest puts planted outliers on top", isolation_forest_puts_planted_outliers_on_top, 0},
    {"the isolation forest agrees with the k-NN distance score", isolation_forest_agrees_with_the_knn_distance_score, 0},
    {0},
};
