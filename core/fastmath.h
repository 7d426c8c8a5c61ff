/*
 * fastmath.h - branch-free float approximations shared by the CNN's forward
 * (core/convnext.c) and backward (core/pretrain.c) passes, so both compute
 * the same GELU, and 8-lane exp/log for the GP kernel and BALD loops.
 */
#ifndef ZOOSH_CORE_FASTMATH_H
#define ZOOSH_CORE_FASTMATH_H

#include <stdint.h>

/* CORE_HOT: hot loops get -O3's vectoriser and, on x86-64, AVX2/AVX-512
 * clones picked at load time (the build itself targets baseline x86-64).
 * no-trapping-math lets a loop with a float compare (core_erf_fast's clamp)
 * vectorise as a blend; it changes no value, only whether FP exceptions may
 * be raised speculatively (no code here looks at them). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CORE_HOT __attribute__((optimize("O3", "no-trapping-math"), target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__)
#define CORE_HOT __attribute__((optimize("O3", "no-trapping-math")))
#else
#define CORE_HOT
#endif

/* erf(z) for float: the rational approximation of Eigen's
 * generic_fast_erf_float, error a few ulp; branch-free so loops calling it
 * vectorise. */
static inline __attribute__((always_inline)) float core_erf_fast(float z)
{
    z = z < -4.0f ? -4.0f : z > 4.0f ? 4.0f : z;
    float z2 = z * z;
    float p = -2.72614225801306e-10f;
    p = p * z2 + 2.77068142495902e-08f;
    p = p * z2 + -2.10102402082508e-06f;
    p = p * z2 + -5.69250639462346e-05f;
    p = p * z2 + -7.34990630326855e-04f;
    p = p * z2 + -2.95459980854025e-03f;
    p = p * z2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * z2 + -2.13374055278905e-04f;
    q = q * z2 + -1.68282697438203e-03f;
    q = q * z2 + -7.37332916720468e-03f;
    q = q * z2 + -1.42647390514189e-02f;
    return z * p / q;
}


/* Branch-free float exp and log on 8-lane vectors (Cephes' expf / logf
 * polynomials, about 1 ulp; no errno, no table), so the GP kernel loop (core/gp.c)
 * and the binary BALD loop (core/head.c) run as SIMD whatever the target (GCC lowers 8 lanes to what it has). */
/* the helpers below are always inlined, so no vector crosses a call: the
 * Makefile passes -Wno-psabi (GCC 12 prints the note despite a pragma) */
typedef float core_v8f __attribute__((vector_size(32)));
typedef int32_t core_v8i __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) core_v8f core_vsel(core_v8i mask, core_v8f a, core_v8f b)
{
    return (core_v8f)((mask & (core_v8i)a) | (~mask & (core_v8i)b));
}

static inline __attribute__((always_inline)) core_v8f core_vexp(core_v8f x)
{
    const core_v8f lo = {-87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f};
    x = core_vsel(x < lo, lo, x);
    x = core_vsel(x > 88.0f, x - x + 88.0f, x);
    core_v8f t = x * 1.44269504088896341f + 12582912.0f;   /* round to nearest by the 1.5 * 2^23 trick */
    core_v8i n = (core_v8i)t - 0x4b400000;                       /* bits of 12582912.0f */
    core_v8f fn = t - 12582912.0f;
    core_v8f r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
    core_v8f p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    core_v8f y = p * r * r + r + 1.0f;
    return (core_v8f)((core_v8i)y + (n << 23));
}

/* log(x) for normal x > 0 */
static inline __attribute__((always_inline)) core_v8f core_vlog(core_v8f x)
{
    core_v8i b = (core_v8i)x;
    core_v8f e = __builtin_convertvector(((b >> 23) & 0xff) - 126, core_v8f);
    core_v8f m = (core_v8f)((b & 0x007fffff) | 0x3f000000);     /* [0.5, 1) */
    core_v8i lo = m < 0.707106781186547524f;
    e = core_vsel(lo, e - 1.0f, e);
    m = core_vsel(lo, m + m - 1.0f, m - 1.0f);
    core_v8f z = m * m;
    core_v8f y = m * 7.0376836292e-2f - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += e * -2.12194440e-4f;
    y += z * -0.5f;
    return m + y + e * 0.693359375f;
}

#endif
