/*
 * rank.c - score sorting, interleaving and the diversity guard
 * (see rank.h).
 */
#include "core/rank.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { float s; int i; } si_pair;
static int cmp_desc(const void *a, const void *b)
{
    const si_pair *x = a, *y = b;
    int xn = isnan(x->s), yn = isnan(y->s);
    if (xn != yn) return xn - yn;
    if (!xn && x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The reference: qsort with the comparator above. */
void core_rank_by_score_naive(const float *score, int n, int *idx)
{
    si_pair *v = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int i = 0; i < n; i++) { v[i].s = score[i]; v[i].i = i; }
    qsort(v, (size_t)n, sizeof *v, cmp_desc);
    for (int i = 0; i < n; i++) idx[i] = v[i].i;
    free(v);
}

/* A 32-bit key whose ascending order is descending score, NAN last. */
static uint32_t desc_key(float f)
{
    if (isnan(f)) return 0xffffffffu;
    if (f == 0) f = 0;             /* -0 == +0 */
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);   /* ascending order of f */
    return ~u;
}

/* Stable LSD radix sort, 3 passes of 11 bits, the three histograms counted
 * in one read: O(n), ties keep index order.  Key and index travel packed in
 * one 64-bit word (key high), so each pass scatters one stream instead of
 * two: at 1M rows the scatter is what costs, not the counting. */
#define RADIX_BITS 11
#define RADIX_N (1 << RADIX_BITS)
void core_rank_by_score(const float *score, int n, int *idx)
{
    if (n <= 0) return;
    if (n < 256) { core_rank_by_score_naive(score, n, idx); return; }
    uint64_t *v0 = xmalloc((size_t)n * sizeof(uint64_t)), *v1 = xmalloc((size_t)n * sizeof(uint64_t));
    uint32_t *cnt = xcalloc(3 * (RADIX_N + 1), sizeof(uint32_t));   /* (3, RADIX_N + 1) */
    for (int i = 0; i < n; i++) {
        uint32_t k = desc_key(score[i]);
        v0[i] = (uint64_t)k << 32 | (uint32_t)i;
        cnt[0 * (RADIX_N + 1) + (k & (RADIX_N - 1)) + 1]++;
        cnt[1 * (RADIX_N + 1) + ((k >> RADIX_BITS) & (RADIX_N - 1)) + 1]++;
        cnt[2 * (RADIX_N + 1) + (k >> (2 * RADIX_BITS)) + 1]++;
    }
    uint64_t *vs = v0, *vd = v1;
    for (int pass = 0; pass < 3; pass++) {
        int sh = 32 + pass * RADIX_BITS;
        uint32_t *c = cnt + (size_t)pass * (RADIX_N + 1);
        if (c[((vs[0] >> sh) & (RADIX_N - 1)) + 1] == (uint32_t)n) continue;   /* all equal in these bits */
        for (int b = 0; b < RADIX_N; b++) c[b + 1] += c[b];
        for (int i = 0; i < n; i++) {
            uint64_t w = vs[i];
            vd[c[(w >> sh) & (RADIX_N - 1)]++] = w;
        }
        uint64_t *t = vs; vs = vd; vd = t;
    }
    for (int i = 0; i < n; i++) idx[i] = (int)(uint32_t)vs[i];
    free(v0); free(v1); free(cnt);
}

void core_rank_random(int n, uint64_t seed, int *idx)
{
    core_rng r;
    core_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)core_rng_below(&r, (uint32_t)(i + 1));
        int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
}

void core_rank_interleave(int *const *lists, const double *frac, int k, int n, int *out)
{
    unsigned char *placed = xcalloc((size_t)(n > 0 ? n : 1), 1);
    int *pos = xcalloc((size_t)k, sizeof(int));
    double *credit = xcalloc((size_t)k, sizeof(double));
    double tot = 0;
    for (int j = 0; j < k; j++) tot += frac[j] > 0 ? frac[j] : 0;
    if (tot <= 0) tot = 1;
    for (int o = 0; o < n; o++) {
        /* the list furthest behind its share goes next (smooth weighted round robin) */
        int best = -1;
        for (int j = 0; j < k; j++) {
            if (frac[j] <= 0) continue;
            credit[j] += frac[j] / tot;
            while (pos[j] < n && placed[lists[j][pos[j]]]) pos[j]++;
            if (pos[j] >= n) continue;
            if (best < 0 || credit[j] > credit[best]) best = j;
        }
        if (best < 0) {   /* every weighted list exhausted: fall back to any list */
            for (int j = 0; j < k && best < 0; j++) {
                while (pos[j] < n && placed[lists[j][pos[j]]]) pos[j]++;
                if (pos[j] < n) best = j;
            }
            if (best < 0) break;
        }
        credit[best] -= 1;
        int it = lists[best][pos[best]++];
        placed[it] = 1;
        out[o] = it;
    }
    free(placed);
    free(pos);
    free(credit);
}

static float dist2(const float *a, const float *b, int d)
{
    float s = 0;
    for (int t = 0; t < d; t++) { float e = a[t] - b[t]; s += e * e; }
    return s;
}

int core_rank_diversify(int *idx, int n, const float *x, int d, int batch, float min_d2, int head)
{
    if (batch < 2 || head <= 0 || n <= 1 || min_d2 <= 0) return 0;
    if (head > n) head = n;
    int *out = xmalloc((size_t)n * sizeof(int));
    int *pend = xmalloc((size_t)n * sizeof(int));
    int np = 0, no = 0, next = 0, deferred = 0;
    while (no < head && (np > 0 || next < n)) {
        int b0 = no;
        /* waiting items first (they ranked higher), then fresh ones */
        int keep = 0;
        for (int p = 0; p < np; p++) {
            int it = pend[p], ok = no - b0 < batch;
            for (int q = b0; ok && q < no; q++)
                if (dist2(x + (size_t)it * d, x + (size_t)out[q] * d, d) < min_d2) ok = 0;
            if (ok) out[no++] = it; else pend[keep++] = it;
        }
        np = keep;
        while (no - b0 < batch && next < n) {
            int it = idx[next++], ok = 1;
            for (int q = b0; ok && q < no; q++)
                if (dist2(x + (size_t)it * d, x + (size_t)out[q] * d, d) < min_d2) ok = 0;
            if (ok) out[no++] = it; else { pend[np++] = it; deferred++; }
        }
        if (no == b0) out[no++] = pend[0], memmove(pend, pend + 1, (size_t)--np * sizeof(int));
    }
    /* the rest: waiting items, then the untouched tail, in order */
    for (int p = 0; p < np; p++) out[no++] = pend[p];
    while (next < n) out[no++] = idx[next++];
    memcpy(idx, out, (size_t)n * sizeof(int));
    free(out);
    free(pend);
    return deferred;
}

float core_rank_dup_threshold(const float *x, int n, int d, float frac, uint64_t seed)
{
    if (n < 2) return 0;
    core_rng r;
    core_rng_seed(&r, seed);
    double s = 0;
    int m = 500;
    for (int k = 0; k < m; k++) {
        int i = (int)core_rng_below(&r, (uint32_t)n), j = (int)core_rng_below(&r, (uint32_t)n);
        s += sqrt(dist2(x + (size_t)i * d, x + (size_t)j * d, d));
    }
    double t = frac * s / m;
    return (float)(t * t);
}
