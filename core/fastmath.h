/*
 * fastmath.h - branch-free float approximations shared by the CNN's forward
 * (core/convnext.c) and backward (core/pretrain.c) passes, so both compute
 * the same GELU.
 */
#ifndef ZOOSH_CORE_FASTMATH_H
#define ZOOSH_CORE_FASTMATH_H

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

#endif
