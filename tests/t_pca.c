/* t_pca.c - PCA: against numpy, LAPACK against the Jacobi reference, round trips. */
#include "tests/zt.h"
#include "core/pca.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Correlated data with features on very different scales: x = z A + offsets. */
static float *make_data(int n, int d, uint64_t seed)
{
    core_rng r;
    core_rng_seed(&r, seed);
    double *a = xmalloc(sizeof(double) * (size_t)d * d);   /* (d, d) mixing */
    for (int i = 0; i < d * d; i++) a[i] = core_rng_normal(&r);
    float *x = xmalloc(sizeof(float) * (size_t)n * d);     /* (n, d) */
    double *z = xmalloc(sizeof(double) * (size_t)d);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) z[j] = core_rng_normal(&r) * (j < 3 ? 5.0 : 1.0);
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int t = 0; t < d; t++) s += z[t] * a[t * d + j];
            x[(size_t)i * d + j] = (float)(s * pow(10.0, (j % 5) - 2) + 3 * j);
        }
    }
    free(a);
    free(z);
    return x;
}

static void matches_numpy(void)
{
    if (access("/usr/bin/python3", X_OK) != 0) zt_skip("no /usr/bin/python3 for the numpy peer");
    const int n = 500, d = 12, k = 6;
    float *x = make_data(n, d, 7);
    FILE *f = fopen("x.f32", "wb");
    ZT_CHECK(f && fwrite(x, sizeof(float), (size_t)n * d, f) == (size_t)n * d, "write x");
    fclose(f);
    /* numpy: standardise (ddof 0), covariance (ddof 1), eigh, descending */
    int st = zt_sh("py.out",
        "/usr/bin/python3 -c \"\n"
        "import numpy as np\n"
        "x = np.fromfile('x.f32', np.float32).reshape(%d, %d).astype(np.float64)\n"
        "z = (x - x.mean(0)) / x.std(0)\n"
        "w, v = np.linalg.eigh(np.cov(z, rowvar=False))\n"
        "o = np.argsort(w)[::-1][:%d]\n"
        "np.asarray(v[:, o].T, np.float64).tofile('comp.f64')\n"
        "np.asarray(w[o], np.float64).tofile('var.f64')\n"
        "\"", n, d, k);
    if (st != 0) zt_skip("numpy peer failed (exit %d)", st);
    size_t len1, len2;
    double *nc = (double *)zt_slurp("comp.f64", &len1), *nv = (double *)zt_slurp("var.f64", &len2);
    ZT_CHECK(nc && len1 == sizeof(double) * k * d && nv && len2 == sizeof(double) * k, "numpy output");

    core_pca *p;
    char err[128];
    ZT_OK(core_pca_fit(x, n, d, k, 1, &p, err, sizeof err));
    ZT_CHECK(core_pca_k(p) == k && core_pca_dim(p) == d, "k %d d %d", core_pca_k(p), core_pca_dim(p));
    const float *c = core_pca_components(p);
    for (int i = 0; i < k; i++) {
        double dot = 0;
        for (int j = 0; j < d; j++) dot += c[i * d + j] * nc[i * d + j];
        double sgn = dot < 0 ? -1 : 1;
        for (int j = 0; j < d; j++)
            ZT_CHECK(fabs(c[i * d + j] - sgn * nc[i * d + j]) < 1e-4,
                     "component %d entry %d: ours %.6f numpy %.6f", i, j, c[i * d + j], sgn * nc[i * d + j]);
        ZT_CHECK(fabs(core_pca_variance(p)[i] - nv[i]) < 1e-4 * (1 + nv[i]),
                 "variance %d: ours %.6f numpy %.6f", i, core_pca_variance(p)[i], nv[i]);
    }
    core_pca_free(p);
    free(nc); free(nv); free(x);
}

static void lapack_equals_jacobi(void)
{
    const int d = 20;
    core_rng r;
    core_rng_seed(&r, 3);
    double *b = xmalloc(sizeof(double) * d * d), *a = xcalloc(d * d, sizeof(double));
    for (int i = 0; i < d * d; i++) b[i] = core_rng_normal(&r);
    for (int i = 0; i < d; i++)      /* a = b b^T: symmetric positive semi-definite */
        for (int j = 0; j < d; j++)
            for (int t = 0; t < d; t++) a[i * d + j] += b[i * d + t] * b[j * d + t];
    double w1[20], w2[20], *v1 = xmalloc(sizeof(double) * d * d), *v2 = xmalloc(sizeof(double) * d * d);
    ZT_OK(core_pca_eigen(a, d, w1, v1));
    ZT_OK(core_pca_eigen_jacobi(a, d, w2, v2));
    for (int i = 0; i < d; i++) {
        ZT_CHECK(fabs(w1[i] - w2[i]) < 1e-8 * (1 + fabs(w1[0])), "eigenvalue %d: %g vs %g", i, w1[i], w2[i]);
        if (i > 0) ZT_CHECK(w1[i] <= w1[i - 1], "descending at %d", i);
        for (int j = 0; j < d; j++)   /* same sign convention on both paths */
            ZT_CHECK(fabs(v1[i * d + j] - v2[i * d + j]) < 1e-6, "vector %d entry %d: %g vs %g", i, j,
                     v1[i * d + j], v2[i * d + j]);
        /* A v = w v */
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int t = 0; t < d; t++) s += a[j * d + t] * v1[i * d + t];
            ZT_CHECK(fabs(s - w1[i] * v1[i * d + j]) < 1e-8 * (1 + fabs(w1[0])), "A v = w v at %d,%d", i, j);
        }
    }
    free(a); free(b); free(v1); free(v2);
}

static void projections_are_uncorrelated_with_the_eigenvalues_as_variances(void)
{
    const int n = 2000, d = 15, k = 8;
    float *x = make_data(n, d, 11);
    core_pca *p;
    ZT_OK(core_pca_fit(x, n, d, k, 1, &p, NULL, 0));
    float *y = xmalloc(sizeof(float) * n * k);
    core_pca_transform(p, x, n, y);
    for (int a = 0; a < k; a++) {
        double m = 0;
        for (int i = 0; i < n; i++) m += y[i * k + a];
        m /= n;
        ZT_CHECK(fabs(m) < 1e-3, "component %d has mean %g", a, m);
        for (int b = 0; b < k; b++) {
            double c = 0;
            for (int i = 0; i < n; i++) c += (double)y[i * k + a] * y[i * k + b];
            c /= n - 1;
            double want = a == b ? core_pca_variance(p)[a] : 0;
            ZT_CHECK(fabs(c - want) < 2e-3 * (1 + core_pca_variance(p)[0]), "cov(%d,%d) = %g, want %g", a, b, c, want);
        }
    }
    double tv = core_pca_total_variance(p);
    ZT_CHECK(fabs(tv - d) < 1e-2 * d, "standardised total variance %g, want about %d", tv, d);
    free(y); free(x);
    core_pca_free(p);
}

static void a_constant_feature_gives_finite_output(void)
{
    const int n = 100, d = 4;
    float x[400];
    for (int i = 0; i < n; i++) { x[i * d] = 5; x[i * d + 1] = (float)i; x[i * d + 2] = (float)(i % 7); x[i * d + 3] = 5; }
    core_pca *p;
    ZT_OK(core_pca_fit(x, n, d, 10, 1, &p, NULL, 0));
    ZT_CHECK(core_pca_k(p) == d, "k clipped to d: %d", core_pca_k(p));
    float y[4];
    core_pca_transform(p, x, 1, y);
    for (int i = 0; i < d; i++) ZT_CHECK(isfinite(y[i]), "y[%d] = %g", i, y[i]);
    core_pca_free(p);
    char err[128] = "";
    ZT_CHECK(core_pca_fit(x, 1, d, 2, 1, &p, err, sizeof err) != 0 && p == NULL, "one row refused");
    ZT_CHECK(strstr(err, "2 rows") != NULL, "reason: %s", err);
    x[5] = NAN;
    ZT_CHECK(core_pca_fit(x, n, d, 2, 1, &p, err, sizeof err) != 0, "NaN refused");
    ZT_CHECK(strstr(err, "finite") != NULL, "reason: %s", err);
}

static void saved_pca_loads_back_and_damage_is_refused(void)
{
    const int n = 300, d = 9;
    float *x = make_data(n, d, 5);
    core_pca *p, *q;
    ZT_OK(core_pca_fit(x, n, d, 4, 1, &p, NULL, 0));
    void *buf;
    size_t len;
    ZT_OK(core_pca_save(p, &buf, &len));
    char err[128];
    ZT_OK(core_pca_load(buf, len, &q, err, sizeof err));
    float y1[4], y2[4];
    core_pca_transform(p, x + 17 * d, 1, y1);
    core_pca_transform(q, x + 17 * d, 1, y2);
    ZT_CHECK(memcmp(y1, y2, sizeof y1) == 0, "same projection after a round trip");
    core_pca_free(q);
    /* truncated, bad magic, lying dimensions, a zero scale */
    ZT_CHECK(core_pca_load(buf, len - 1, &q, err, sizeof err) != 0 && strstr(err, "length"), "truncated: %s", err);
    ZT_CHECK(core_pca_load(buf, 10, &q, err, sizeof err) != 0 && strstr(err, "short"), "short: %s", err);
    uint8_t *b = xmalloc(len);
    memcpy(b, buf, len); b[0] = 'X';
    ZT_CHECK(core_pca_load(b, len, &q, err, sizeof err) != 0 && strstr(err, "magic"), "magic: %s", err);
    memcpy(b, buf, len); uint32_t big = 1u << 30; memcpy(b + 8, &big, 4);
    ZT_CHECK(core_pca_load(b, len, &q, err, sizeof err) != 0 && strstr(err, "dimensions"), "huge d: %s", err);
    memcpy(b, buf, len); uint32_t kk = 99; memcpy(b + 12, &kk, 4);
    ZT_CHECK(core_pca_load(b, len, &q, err, sizeof err) != 0, "k > d refused: %s", err);
    memcpy(b, buf, len); float zero = 0; memcpy(b + 24 + 4 * d, &zero, 4);
    ZT_CHECK(core_pca_load(b, len, &q, err, sizeof err) != 0 && strstr(err, "scale"), "zero scale: %s", err);
    free(b); free(buf); free(x);
    core_pca_free(p);
}

static void weights_scale_features_inside_the_pca(void)
{
    /* two independent features of equal spread: weighting the first by 3
     * makes it the first component, with 9x the variance of the second */
    const int n = 4000;
    float *x = xmalloc(sizeof(float) * n * 2);
    core_rng r;
    core_rng_seed(&r, 8);
    for (int i = 0; i < 2 * n; i++) x[i] = (float)core_rng_normal(&r);
    float w[2] = {3, 1};
    core_pca *p;
    ZT_OK(core_pca_fit_weighted(x, n, 2, 2, 1, w, &p, NULL, 0));
    const float *c = core_pca_components(p);
    ZT_CHECK(fabsf(c[0]) > 0.99f, "first component along the weighted feature: (%g, %g)", c[0], c[1]);
    double ratio = core_pca_variance(p)[0] / core_pca_variance(p)[1];
    ZT_CHECK(fabs(ratio - 9) < 1, "variance ratio %.2f, want about 9", ratio);
    /* folded into the stored scale: sd / w (both sds are about 1) */
    ZT_CHECK(fabsf(core_pca_scale(p)[0] * 3 - core_pca_scale(p)[1]) < 0.05f, "scales %g, %g",
             core_pca_scale(p)[0], core_pca_scale(p)[1]);
    core_pca_free(p);
    w[1] = 0;
    char err[128] = "";
    ZT_CHECK(core_pca_fit_weighted(x, n, 2, 2, 1, w, &p, err, sizeof err) != 0 && strstr(err, "weights"),
             "a zero weight is refused: %s", err);
    free(x);
}

/* n < d takes the Gram path: it must give the covariance path's exact
 * answer, here the Jacobi reference on the d x d covariance built by hand. */
static void gram_path_equals_the_exact_covariance_pca(void)
{
    const int n = 30, d = 80, k = 6;
    float *x = make_data(n, d, 11);
    core_pca *p;
    char err[200];
    ZT_OK(core_pca_fit(x, n, d, k, 1, &p, err, sizeof err));
    double *z = xmalloc(sizeof(double) * n * d), *c = xcalloc((size_t)d * d, sizeof(double));
    for (int j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) m += x[i * d + j];
        m /= n;
        for (int i = 0; i < n; i++) v += (x[i * d + j] - m) * (x[i * d + j] - m);
        double sd = sqrt(v / n);
        for (int i = 0; i < n; i++) z[i * d + j] = (x[i * d + j] - m) / sd;
    }
    double total = 0;
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            for (int i = 0; i < n; i++) c[a * d + b] += z[i * d + a] * z[i * d + b];
            c[a * d + b] /= n - 1;
            if (a == b) total += c[a * d + b];
        }
    double *w = xmalloc(sizeof(double) * d), *v = xmalloc(sizeof(double) * d * d);
    ZT_OK(core_pca_eigen_jacobi(c, d, w, v));
    ZT_CHECK(fabs(core_pca_total_variance(p) - total) < 1e-6 * total, "total %g vs %g", core_pca_total_variance(p), total);
    const float *comp = core_pca_components(p);
    for (int i = 0; i < k; i++) {
        ZT_CHECK(fabs(core_pca_variance(p)[i] - w[i]) < 1e-6 * w[0], "variance %d: %g vs exact %g", i,
                 core_pca_variance(p)[i], w[i]);
        double worst = 0;
        for (int j = 0; j < d; j++) worst = fmax(worst, fabs(comp[i * d + j] - v[i * d + j]));
        ZT_CHECK(worst < 1e-4, "component %d differs from the exact one by %g", i, worst);
    }
    core_pca_free(p);
    free(x); free(z); free(c); free(w); free(v);
    /* the memory it plans: no d x d for 100,000 features of 200 galaxies;
     * a covariance of 200,000 features is refused before any allocation */
    ZT_CHECK(core_pca_fit_bytes(200, 100000, 40) < ((size_t)100 << 20), "%zu bytes", core_pca_fit_bytes(200, 100000, 40));
    ZT_CHECK(core_pca_mem_check(300000, 200000, 40, 0, err, sizeof err) == -1 && strstr(err, "GiB"), "%s", err);
    ZT_OK(core_pca_mem_check(200, 100000, 40, 0, err, sizeof err));
}

const zt_case zt_suite_pca[] = {
    {"fewer rows than features: the Gram path equals the exact PCA, and its memory is planned",
     gram_path_equals_the_exact_covariance_pca, 0},
    {"a weight per feature scales it inside the PCA and for new rows", weights_scale_features_inside_the_pca, 0},
    {"PCA components and variances equal numpy's (up to sign, 1e-4)", matches_numpy, 0},
    {"the LAPACK eigen-decomposition equals the Jacobi reference", lapack_equals_jacobi, 0},
    {"projections are centred, uncorrelated, with the eigenvalues as variances",
     projections_are_uncorrelated_with_the_eigenvalues_as_variances, 0},
    {"a constant feature gives finite output; too few rows and NaN are refused", a_constant_feature_gives_finite_output, 0},
    {"a saved PCA loads back identically and damaged blobs are refused", saved_pca_loads_back_and_damage_is_refused, 0},
    {0, 0, 0},
};
