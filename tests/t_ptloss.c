/*
 * t_ptloss.c - the extra losses of `zoosh pretrain` (core/ptloss.h): the
 * NT-Xent loss's gradients (at the embedding and at the projection's
 * parameters) equal finite differences, it is low when the two views agree,
 * tag BCE's gradient and its rows without tags; and the survey
 * augmentations (core/ptaug.h): strength 0 changes nothing, blur keeps the
 * flux of a point source and spreads it, the same seed gives the same view.
 */
#include "core/ptaug.h"
#include "core/ptloss.h"
#include "core/util.h"
#include "tests/zt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 6, DIM = 5, HID = 7, PROJ = 4 };

static void random_feat(float *f, int n, uint64_t seed)
{
    core_rng r;
    core_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) f[i] = (float)core_rng_normal(&r);
}

/* |a - b| relative to the larger, floored at 1e-3 */
static double rel(double a, double b) { return fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), 1e-3); }

static void ntxent_gradients_match_finite_differences(void)
{
    core_pt_ssl *s;
    ZT_OK(core_pt_ssl_new(&s, DIM, HID, PROJ, 0.5f, 3));
    float feat[N * DIM], dfeat[N * DIM];
    random_feat(feat, N * DIM, 4);
    float l0 = core_pt_ssl_grad(s, feat, N, dfeat);
    ZT_CHECK(isfinite(l0) && l0 > 0, "loss %g", l0);
    int bad = 0, checked = 0;
    double worst = 0;
    const float eps = 2e-3f;   /* small: a ReLU of the projection may switch within +-eps */
    for (int i = 0; i < N * DIM; i++) {   /* every input of the embedding */
        float keep = feat[i];
        feat[i] = keep + eps;
        double lp = core_pt_ssl_grad(s, feat, N, NULL);
        feat[i] = keep - eps;
        double lm = core_pt_ssl_grad(s, feat, N, NULL);
        feat[i] = keep;
        double e = rel((lp - lm) / (2.0 * eps), dfeat[i]);
        worst = fmax(worst, e);
        bad += e > 3e-2;
        checked++;
    }
    for (int k = 0; k < 2; k++) {         /* every parameter of both layers */
        size_t np;
        core_pt_ssl_grad(s, feat, N, NULL);
        core_pt_dense *L = core_pt_ssl_layer(s, k);
        float *p = core_pt_dense_params(L, &np), *g0 = core_pt_dense_grads(L, &np);
        float *g = xmalloc(np * sizeof *g);
        memcpy(g, g0, np * sizeof *g);
        for (size_t i = 0; i < np; i++) {
            float keep = p[i];
            p[i] = keep + eps;
            double lp = core_pt_ssl_grad(s, feat, N, NULL);
            p[i] = keep - eps;
            double lm = core_pt_ssl_grad(s, feat, N, NULL);
            p[i] = keep;
            double e = rel((lp - lm) / (2.0 * eps), g[i]);
            worst = fmax(worst, e);
            bad += e > 3e-2;
            checked++;
        }
        free(g);
    }
    ZT_CHECK(checked == N * DIM + HID * DIM + HID + PROJ * HID + PROJ, "%d checked", checked);
    ZT_CHECK(bad == 0, "%d of %d gradients differ from finite differences (worst %.3g)", bad, checked, worst);
    core_pt_ssl_free(s);
}

static void ntxent_is_low_when_the_two_views_agree(void)
{
    core_pt_ssl *s;
    ZT_OK(core_pt_ssl_new(&s, DIM, HID, PROJ, 0.2f, 5));
    float a[N * DIM], b[N * DIM];
    random_feat(a, N * DIM, 6);
    memcpy(b, a, sizeof a);
    memcpy(b + N / 2 * DIM, a, N / 2 * DIM * sizeof *a);   /* rows i + N/2 = rows i */
    float agree = core_pt_ssl_grad(s, b, N, NULL), random = core_pt_ssl_grad(s, a, N, NULL);
    /* a row and its own copy: similarity 1, so the loss is below log(N - 1) */
    ZT_CHECK(agree < random && agree < logf(N - 1), "views agreeing %g, random %g", agree, random);
    ZT_CHECK(isnan(core_pt_ssl_grad(s, a, 3, NULL)), "an odd number of rows must be refused (NAN)");
    core_pt_ssl_free(s);
}

static void bce_gradient_and_rows_without_tags(void)
{
    float z[3 * 2] = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, 3.0f}, t[3 * 2] = {1, 0, 0, 1, -1, -1}, d[3 * 2];
    float l = core_pt_bce_grad(z, t, 3, 2, d);
    /* by hand: softplus(z) - t z over the first two rows, over 3 rows */
    double sp[4] = {log1p(exp(0.5)), log1p(exp(-1.0)), log1p(exp(2.0)), log1p(exp(0.0))};
    double want = (sp[0] - 0.5 + sp[1] + sp[2] + sp[3] - 0.0) / 3;
    ZT_CHECK(fabs(l - want) < 1e-5, "loss %g, want %g", l, want);
    ZT_CHECK(fabs(d[0] - (1 / (1 + exp(-0.5)) - 1) / 3) < 1e-6, "dz %g", d[0]);
    ZT_CHECK(d[4] == 0 && d[5] == 0, "a row without tags must add no gradient (%g %g)", d[4], d[5]);
    const float eps = 1e-3f;
    for (int i = 0; i < 4; i++) {
        float keep = z[i];
        z[i] = keep + eps;
        double lp = core_pt_bce_grad(z, t, 3, 2, NULL);
        z[i] = keep - eps;
        double lm = core_pt_bce_grad(z, t, 3, 2, NULL);
        z[i] = keep;
        ZT_CHECK(rel((lp - lm) / (2.0 * eps), d[i]) < 1e-2, "logit %d: fd %g, analytic %g", i, (lp - lm) / (2 * eps), d[i]);
    }
}

static void survey_augmentation(void)
{
    enum { S = 32 };
    static float x[S * S * 3], y[S * S * 3], z[S * S * 3];
    core_rng r;
    for (int i = 0; i < S * S * 3; i++) x[i] = (float)((i * 7919) % 101) / 100.0f;
    memcpy(y, x, sizeof x);
    core_rng_seed(&r, 1);
    core_pt_aug_survey(y, S, 0, &r);
    ZT_CHECK(!memcmp(x, y, sizeof x), "strength 0 changed the view");
    /* a point source (one bright pixel) under strong seeing: the flux stays,
     * the peak drops; the same seed gives the same view */
    int found = 0;
    for (uint64_t seed = 1; seed < 200 && !found; seed++) {
        memset(y, 0, sizeof y);
        for (int c = 0; c < 3; c++) y[(16 * S + 16) * 3 + c] = 1.0f;
        memcpy(z, y, sizeof y);
        core_rng_seed(&r, seed);
        core_rng probe = r;
        float sg = (float)(2 * core_rng_uniform(&probe) - 0.5);   /* the sigma it will draw at strength 1 */
        int down = core_rng_uniform(&probe) < 0.5;
        if (sg < 0.8f || down) continue;
        core_pt_aug_survey(y, S, 1, &r);
        core_rng_seed(&r, seed);
        core_pt_aug_survey(z, S, 1, &r);
        double flux = 0;
        for (int p = 0; p < S * S; p++) flux += y[p * 3];
        ZT_CHECK(fabs(flux - 1) < 1e-3, "blur changed the flux to %g (sigma %g)", flux, sg);
        ZT_CHECK(y[(16 * S + 16) * 3] < 0.5f, "blur of sigma %g left the peak at %g", sg, y[(16 * S + 16) * 3]);
        ZT_CHECK(!memcmp(y, z, sizeof y), "the same seed gave two different views");
        found = 1;
    }
    ZT_CHECK(found, "no seed drew a blur without resampling");
}

const zt_case zt_suite_ptloss[] = {
    {"NT-Xent gradients match finite differences", ntxent_gradients_match_finite_differences, 0},
    {"NT-Xent is low when the two views agree", ntxent_is_low_when_the_two_views_agree, 0},
    {"tag BCE: loss, gradient, rows without tags", bce_gradient_and_rows_without_tags, 0},
    {"survey augmentation: identity at 0, blur keeps flux, seeded", survey_augmentation, 0},
    {0}
};
