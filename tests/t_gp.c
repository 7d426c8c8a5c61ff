/*
 * t_gp.c - Gaussian-process regression on synthetic arrays: the marginal
 * likelihood against a hand-computed 2x2 case and its gradient against
 * finite differences, the BLAS prediction against the naive loop, fitting a
 * smooth function, expected improvement values; the block-ARD fit (its
 * gradient, the block it finds, its prediction against the naive loop) and
 * the anomaly prior's trust (a hand-worked rank correlation).
 */
#include "tests/zt.h"
#include "core/gp.h"
#include "core/acquire.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>

static void make_smooth(int n, int d, uint64_t seed, float **x, float **y)
{
    core_rng r;
    core_rng_seed(&r, seed);
    *x = xmalloc((size_t)n * d * sizeof(float));
    *y = xmalloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < d; k++) (*x)[i * d + k] = (float)core_rng_normal(&r);
        (*y)[i] = (float)(2.5 + 2 * sin((*x)[i * d]) + 0.5 * (*x)[i * d + 1] + 0.1 * core_rng_normal(&r));
    }
}

static void lml_matches_a_hand_computed_2x2_case(void)
{
    float x[] = {0, 0, 1, 2};        /* two points in 2-D, squared distance 5 */
    float y[] = {1, 3};              /* normalised to -1, +1 */
    core_gp_hyper hp = {CORE_KERNEL_RQ, 1.5, 2.0, 0.7, 0.2, 0, 0, {0}};
    core_gp *g;
    ZT_OK(core_gp_fit_fixed(&g, x, y, 2, 2, &hp));
    double k12 = 1.5 * pow(1 + 5 / (2 * 0.7 * 4.0), -0.7), a = 1.7;
    double det = a * a - k12 * k12;
    /* y^T K^-1 y with y = (-1, 1): (a + a + 2 k12) / det */
    double want = -0.5 * (2 * a + 2 * k12) / det - 0.5 * log(det) - log(2 * M_PI);
    double got = core_gp_lml(g, &hp, NULL);
    ZT_CHECK(fabs(got - want) < 1e-9, "lml %.12f want %.12f", got, want);
    core_gp_free(g);
}

static void lml_gradient_matches_finite_differences(void)
{
    float *x, *y;
    make_smooth(40, 3, 1, &x, &y);
    for (int kern = CORE_KERNEL_RQ; kern <= CORE_KERNEL_MATERN52; kern++) {
        core_gp_hyper hp = {kern, 0.8, 1.3, 1.1, 0.05, 0, 0, {0}};
        core_gp *g;
        ZT_OK(core_gp_fit_fixed(&g, x, y, 40, 3, &hp));
        double gr[4];
        core_gp_lml(g, &hp, gr);
        for (int t = 0; t < 4; t++) {
            if (kern == CORE_KERNEL_MATERN52 && t == 2) continue;
            core_gp_hyper p = hp, m = hp;
            double *pp = t == 0 ? &p.amp : t == 1 ? &p.ell : t == 2 ? &p.alpha : &p.noise;
            double *mm = t == 0 ? &m.amp : t == 1 ? &m.ell : t == 2 ? &m.alpha : &m.noise;
            const double e = 1e-5;
            *pp *= exp(e);
            *mm *= exp(-e);
            double fd = (core_gp_lml(g, &p, NULL) - core_gp_lml(g, &m, NULL)) / (2 * e);
            ZT_CHECK(fabs(fd - gr[t]) < 1e-4 * (1 + fabs(fd)), "kernel %d param %d: fd %g analytic %g",
                     kern, t, fd, gr[t]);
        }
        core_gp_free(g);
    }
    free(x); free(y);
}

static void blas_prediction_matches_the_naive_loop(void)
{
    float *x, *y, *xt, *yt;
    make_smooth(200, 40, 2, &x, &y);
    make_smooth(3000, 40, 3, &xt, &yt);
    core_gp *g;
    ZT_OK(core_gp_fit(&g, x, y, 200, 40, CORE_KERNEL_RQ, 2, 1));
    float *m1 = xmalloc(3000 * sizeof(float)), *s1 = xmalloc(3000 * sizeof(float));
    float *m2 = xmalloc(3000 * sizeof(float)), *s2 = xmalloc(3000 * sizeof(float));
    core_gp_predict(g, xt, 3000, m1, s1);
    core_gp_predict_naive(g, xt, 3000, m2, s2);
    double em = 0, es = 0;
    for (int i = 0; i < 3000; i++) {
        if (fabs(m1[i] - m2[i]) > em) em = fabs(m1[i] - m2[i]);
        if (fabs(s1[i] - s2[i]) > es) es = fabs(s1[i] - s2[i]);
    }
    ZT_CHECK(em < 1e-3 && es < 1e-2, "max |mu diff| %g, max |sd diff| %g", em, es);
    core_gp_free(g);
    free(x); free(y); free(xt); free(yt); free(m1); free(s1); free(m2); free(s2);
}

/* The vector pass over the pairs (libmvec exp / log) gives the scalar
 * loop's likelihood and gradient; n 37 leaves every column a tail. */
static void vector_likelihood_matches_the_scalar_loop(void)
{
    float *x, *y;
    make_smooth(37, 5, 8, &x, &y);
    core_gp_hyper hps[3] = {{CORE_KERNEL_RQ, 1.0, 2.0, 1.0, 0.1, 0, 0, {0}},
                            {CORE_KERNEL_RQ, 0.3, 0.5, 0.07, 0.01, 0, 0, {0}},
                            {CORE_KERNEL_RQ, 5.0, 20.0, 40.0, 1.5, 0, 0, {0}}};
    for (int h = 0; h < 3; h++) {
        core_gp *g;
        ZT_OK(core_gp_fit_fixed(&g, x, y, 37, 5, &hps[h]));
        double g1[4], g2[4];
        double l1 = core_gp_lml(g, &hps[h], g1), l2 = core_gp_lml_naive(g, &hps[h], g2);
        ZT_CHECK(fabs(l1 - l2) < 1e-9 * (1 + fabs(l2)), "hyper %d: lml %.15g vs naive %.15g", h, l1, l2);
        for (int t = 0; t < 4; t++)
            ZT_CHECK(fabs(g1[t] - g2[t]) < 1e-9 * (1 + fabs(g2[t])), "hyper %d: grad[%d] %.15g vs naive %.15g", h, t,
                     g1[t], g2[t]);
        core_gp_free(g);
    }
    free(x); free(y);
}

/* Shapes off the fast path's grain: m and d not multiples of 8 (the 8-lane
 * sums' tails), enough rows for the threaded split and a short last block,
 * both kernels (their own vector loops). */
static void blas_prediction_matches_the_naive_loop_at_odd_shapes(void)
{
    int m = 150, d = 13, nq = 20011;
    float *x, *y, *xt, *yt;
    make_smooth(m, d, 6, &x, &y);
    make_smooth(nq, d, 7, &xt, &yt);
    float *m1 = xmalloc((size_t)nq * sizeof(float)), *s1 = xmalloc((size_t)nq * sizeof(float));
    float *m2 = xmalloc((size_t)nq * sizeof(float)), *s2 = xmalloc((size_t)nq * sizeof(float));
    for (int kern = CORE_KERNEL_RQ; kern <= CORE_KERNEL_MATERN52; kern++) {
        core_gp *g;
        ZT_OK(core_gp_fit(&g, x, y, m, d, kern, 1, 3));
        core_gp_predict(g, xt, nq, m1, s1);
        core_gp_predict_naive(g, xt, nq, m2, s2);
        double em = 0, es = 0, smin = 1e30;
        for (int i = 0; i < nq; i++) {
            if (!(fabs(m1[i] - m2[i]) <= em)) em = fabs(m1[i] - m2[i]);
            if (!(fabs(s1[i] - s2[i]) <= es)) es = fabs(s1[i] - s2[i]);
            if (s2[i] < smin) smin = s2[i];
        }
        ZT_CHECK(em < 1e-3 && es < 1e-2, "kernel %d: max |mu diff| %g, max |sd diff| %g", kern, em, es);
        ZT_CHECK(smin > 1e-3, "kernel %d: the naive sd reaches %g (the check needs a real sd)", kern, smin);
        core_gp_free(g);
    }
    free(x); free(y); free(xt); free(yt); free(m1); free(s1); free(m2); free(s2);
}

static void fitted_gp_predicts_a_smooth_function_and_knows_where_it_is_unsure(void)
{
    float *x, *y, *xt, *yt;
    make_smooth(150, 4, 4, &x, &y);
    make_smooth(500, 4, 5, &xt, &yt);
    for (int kern = CORE_KERNEL_RQ; kern <= CORE_KERNEL_MATERN52; kern++) {
        core_gp *g;
        ZT_OK(core_gp_fit(&g, x, y, 150, 4, kern, 3, 7));
        float *mu = xmalloc(500 * sizeof(float)), *sd = xmalloc(500 * sizeof(float));
        core_gp_predict(g, xt, 500, mu, sd);
        double ss = 0, st = 0, m = 0;
        for (int i = 0; i < 500; i++) m += yt[i] / 500;
        for (int i = 0; i < 500; i++) { ss += (mu[i] - yt[i]) * (mu[i] - yt[i]); st += (yt[i] - m) * (yt[i] - m); }
        ZT_CHECK(1 - ss / st > 0.8, "kernel %d: R^2 %g", kern, 1 - ss / st);
        core_gp_hyper hp;
        core_gp_hyper_get(g, &hp);
        ZT_CHECK(hp.noise < 0.1, "noise variance (normalised) %g for 1%% noise", hp.noise);
        float far[4] = {12, -12, 12, 12}, fm, fs, nm, ns;
        core_gp_predict(g, far, 1, &fm, &fs);
        core_gp_predict(g, x, 1, &nm, &ns);
        ZT_CHECK(fs > 3 * ns, "sd far away %g vs at a rated galaxy %g", fs, ns);
        free(mu); free(sd);
        core_gp_free(g);
    }
    free(x); free(y); free(xt); free(yt);
}

static void fitting_raises_the_marginal_likelihood_over_the_start(void)
{
    float *x, *y;
    make_smooth(100, 5, 8, &x, &y);
    core_gp_hyper start = {CORE_KERNEL_RQ, 1, 5, 1, 0.1, 0, 0, {0}};
    core_gp *g0, *g1;
    ZT_OK(core_gp_fit_fixed(&g0, x, y, 100, 5, &start));
    ZT_OK(core_gp_fit(&g1, x, y, 100, 5, CORE_KERNEL_RQ, 3, 1));
    core_gp_hyper hp;
    core_gp_hyper_get(g1, &hp);
    double l0 = core_gp_lml(g0, &start, NULL), l1 = core_gp_lml(g1, &hp, NULL);
    ZT_CHECK(l1 > l0 + 1, "fitted lml %g vs start %g", l1, l0);
    core_gp_free(g0);
    core_gp_free(g1);
    free(x); free(y);
}

static void a_warm_start_keeps_the_fitted_likelihood(void)
{
    float *x, *y;
    make_smooth(120, 5, 9, &x, &y);
    core_gp *cold, *warm;
    ZT_OK(core_gp_fit(&cold, x, y, 100, 5, CORE_KERNEL_RQ, 3, 1));
    core_gp_hyper hc, hw;
    core_gp_hyper_get(cold, &hc);
    /* 20 more ratings, warm-started from the model of the first 100 */
    ZT_OK(core_gp_fit_from(&warm, x, y, 120, 5, CORE_KERNEL_RQ, 1, 2, &hc));
    core_gp_free(cold);
    ZT_OK(core_gp_fit(&cold, x, y, 120, 5, CORE_KERNEL_RQ, 3, 1));
    core_gp_hyper_get(cold, &hc);
    core_gp_hyper_get(warm, &hw);
    double lc = core_gp_lml(cold, &hc, NULL), lw = core_gp_lml(warm, &hw, NULL);
    ZT_CHECK(lw > lc - 0.5, "warm-started lml %g vs three cold starts %g", lw, lc);
    core_gp_free(cold);
    core_gp_free(warm);
    free(x); free(y);
}

static void expected_improvement_has_its_textbook_values(void)
{
    ZT_CHECK(fabsf(core_acquire_ei(3.5f, 1.0f, 3.0f, 0.5f) - 0.3989423f) < 1e-5f, "at the threshold EI = sd phi(0)");
    ZT_CHECK(core_acquire_ei(2.0f, 0.0f, 3.0f, 0.5f) == 0.0f, "no spread, below the threshold: 0");
    ZT_CHECK(fabsf(core_acquire_ei(5.0f, 0.0f, 3.0f, 0.5f) - 1.5f) < 1e-6f, "no spread, above: the improvement");
    /* z = 1: imp Phi(1) + sd phi(1) = 0.8413447 + 0.2419707 */
    ZT_CHECK(fabsf(core_acquire_ei(4.5f, 1.0f, 3.0f, 0.5f) - 1.0833154f) < 1e-5f, "z = 1");
    ZT_CHECK(core_acquire_ei(3.0f, 2.0f, 3.0f, 0.5f) > core_acquire_ei(3.0f, 1.0f, 3.0f, 0.5f), "more spread, more EI");
    ZT_CHECK(core_acquire_ucb(1.0f, 2.0f, 1.5f) == 4.0f, "UCB");
}

/* x (n, 6) in three blocks of two columns; y depends on block 0 only */
static void make_block0(int n, uint64_t seed, float **x, float **y)
{
    core_rng r;
    core_rng_seed(&r, seed);
    *x = xmalloc((size_t)n * 6 * sizeof(float));
    *y = xmalloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 6; k++) (*x)[i * 6 + k] = (float)core_rng_normal(&r);
        (*y)[i] = (float)(2 * sin(1.5 * (*x)[i * 6]) + (*x)[i * 6 + 1] + 0.1 * core_rng_normal(&r));
    }
}

static const int BLOCK3[6] = {0, 0, 1, 1, 2, 2};

static void block_lml_gradient_matches_finite_differences(void)
{
    float *x, *y;
    make_block0(40, 4, &x, &y);
    core_gp_blocks bl = {3, BLOCK3, 1.0};
    core_gp_hyper hp = {CORE_KERNEL_RQ, 0.8, 1.3, 1.1, 0.05, 0.3, 3, {0.4, -0.3, 0.2}};
    core_gp *g;
    ZT_OK(core_gp_fit_fixed_blocks(&g, x, y, 40, 6, &bl, &hp));
    double gr[8], gn[8];
    double l = core_gp_lml(g, &hp, gr), ln = core_gp_lml_naive(g, &hp, gn);
    ZT_CHECK(fabs(l - ln) < 1e-8 * (1 + fabs(l)), "vector lml %.12g naive %.12g", l, ln);
    for (int t = 0; t < 8; t++) {
        core_gp_hyper p = hp, m = hp;
        const double e = 1e-5;
        double *pp = t == 0 ? &p.amp : t == 1 ? &p.ell : t == 2 ? &p.alpha : t == 3 ? &p.noise : t == 4 ? &p.lin : NULL;
        double *mm = t == 0 ? &m.amp : t == 1 ? &m.ell : t == 2 ? &m.alpha : t == 3 ? &m.noise : t == 4 ? &m.lin : NULL;
        if (pp) { *pp *= exp(e); *mm *= exp(-e); }           /* log parameters */
        else { p.dev[t - 5] += e; m.dev[t - 5] -= e; }       /* the devs themselves */
        double fd = (core_gp_lml(g, &p, NULL) - core_gp_lml(g, &m, NULL)) / (2 * e);
        ZT_CHECK(fabs(fd - gr[t]) < 1e-4 * (1 + fabs(fd)), "param %d: fd %g analytic %g", t, fd, gr[t]);
        ZT_CHECK(fabs(gn[t] - gr[t]) < 1e-6 * (1 + fabs(gr[t])), "param %d: naive %g vector %g", t, gn[t], gr[t]);
    }
    core_gp_free(g);
    free(x); free(y);
}

/* Only block 0 predicts y: the fit gives the other two longer length
 * scales (larger devs), and predicts held-out rows better than one
 * isotropic scale over all six columns. */
static void a_block_fit_finds_the_block_that_predicts(void)
{
    float *x, *y, *xt, *yt;
    make_block0(120, 5, &x, &y);
    make_block0(400, 6, &xt, &yt);
    core_gp_blocks bl = {3, BLOCK3, 1.0};
    core_gp *gb, *gi;
    ZT_OK(core_gp_fit_blocks(&gb, x, y, 120, 6, &bl, 3, 1, NULL));
    ZT_OK(core_gp_fit(&gi, x, y, 120, 6, CORE_KERNEL_RQ, 3, 1));
    core_gp_hyper hp;
    core_gp_hyper_get(gb, &hp);
    ZT_CHECK(hp.nb == 3 && hp.dev[1] > hp.dev[0] + 1 && hp.dev[2] > hp.dev[0] + 1,
             "devs %.2f %.2f %.2f: the blocks that do not predict should have longer scales", hp.dev[0], hp.dev[1],
             hp.dev[2]);
    float *mb = xmalloc(400 * sizeof(float)), *mi = xmalloc(400 * sizeof(float));
    core_gp_predict(gb, xt, 400, mb, NULL);
    core_gp_predict(gi, xt, 400, mi, NULL);
    double eb = 0, ei = 0;
    for (int i = 0; i < 400; i++) { eb += (mb[i] - yt[i]) * (mb[i] - yt[i]); ei += (mi[i] - yt[i]) * (mi[i] - yt[i]); }
    eb = sqrt(eb / 400);
    ei = sqrt(ei / 400);
    ZT_CHECK(eb < 0.8 * ei, "held-out RMSE block fit %.3f, isotropic %.3f", eb, ei);
    core_gp_free(gb);
    core_gp_free(gi);
    free(x); free(y); free(xt); free(yt); free(mb); free(mi);
}

/* A block fit scales each batch by its columns' exp(-dev) and adds the
 * linear term in the BLAS path; the naive loop does both by hand.  Fixed
 * hyperparameters with some noise: a fit to this clean function picks a
 * noise of ~0.004, and then the float path's rounding alone moves the mean
 * by ~0.005. */
static void block_prediction_matches_the_naive_loop(void)
{
    float *x, *y, *xt, *yt;
    make_block0(150, 7, &x, &y);
    make_block0(700, 8, &xt, &yt);
    core_gp_blocks bl = {3, BLOCK3, 1.0};
    core_gp_hyper h0 = {CORE_KERNEL_RQ, 1.0, 1.5, 2.0, 0.05, 0.2, 3, {0.5, -0.5, 1.0}};
    core_gp *g;
    ZT_OK(core_gp_fit_fixed_blocks(&g, x, y, 150, 6, &bl, &h0));
    float *m1 = xmalloc(700 * sizeof(float)), *s1 = xmalloc(700 * sizeof(float));
    float *m2 = xmalloc(700 * sizeof(float)), *s2 = xmalloc(700 * sizeof(float));
    core_gp_predict(g, xt, 700, m1, s1);
    core_gp_predict_naive(g, xt, 700, m2, s2);
    double em = 0, es = 0;
    for (int i = 0; i < 700; i++) {
        if (fabs(m1[i] - m2[i]) > em) em = fabs(m1[i] - m2[i]);
        if (fabs(s1[i] - s2[i]) > es) es = fabs(s1[i] - s2[i]);
    }
    core_gp_hyper hp;
    core_gp_hyper_get(g, &hp);
    ZT_CHECK(em < 1e-3 && es < 1e-2, "max |mu diff| %g, max |sd diff| %g", em, es);
    ZT_CHECK(hp.lin == h0.lin && hp.dev[2] == h0.dev[2], "the model keeps its hyperparameters");
    /* the linear term and the scales are in the prediction: far out along
     * an axis the mean keeps growing (a stationary kernel falls back to the mean) */
    float far[2][6] = {{0, 8, 0, 0, 0, 0}, {0, 16, 0, 0, 0, 0}}, fm[2];
    core_gp_predict(g, far[0], 2, fm, NULL);
    ZT_CHECK(fm[1] > fm[0] + 1, "along x1 (y = ... + x1): %g at 8, %g at 16", fm[0], fm[1]);
    core_gp_free(g);
    free(x); free(y); free(xt); free(yt); free(m1); free(s1); free(m2); free(s2);
}

/* Rated rows (NAN skipped): prior 1 2 4 5 6 7, ratings 0 1 4 5 5 0.  Ranks
 * (highest first, ties sharing): prior 5 4 3 2 1 0, ratings 4.5 3 2 .5 .5
 * 4.5; both mean 2.5; sxy 4.5, sxx 17.5, syy 16.5: rho = 4.5 / sqrt(288.75). */
static void the_prior_trust_is_a_hand_worked_rank_correlation(void)
{
    float prior[7] = {1, 2, 3, 4, 5, 6, 7}, rating[7] = {0, 1, NAN, 4, 5, 5, 0};
    int m;
    double rho = core_acquire_trust(prior, rating, 7, &m);
    ZT_CHECK(m == 6 && fabs(rho - 4.5 / sqrt(288.75)) < 1e-9, "rho %.9f over %d rows", rho, m);
    float few[7] = {NAN, NAN, 1, NAN, 5, NAN, NAN};
    ZT_CHECK(isnan(core_acquire_trust(prior, few, 7, &m)) && m == 2, "fewer than CORE_TRUST_MIN ratings: unknown");
    float flat[7] = {3, 3, 3, 3, 3, 3, 3};
    ZT_CHECK(isnan(core_acquire_trust(prior, flat, 7, NULL)), "ratings without spread: unknown");
    ZT_CHECK(core_acquire_prior_weight(0, NAN) == 1, "no ratings: the prior alone");
    ZT_CHECK(fabs(core_acquire_prior_weight(20, NAN) - 0.5) < 1e-12, "20 ratings, trust unknown: half");
    ZT_CHECK(fabs(core_acquire_prior_weight(20, 0.25) - 0.25) < 1e-12, "trust 0.25: half of that");
    ZT_CHECK(core_acquire_prior_weight(20, -0.1) == 0, "a prior that ranks the ratings backwards: no weight");
    ZT_CHECK(fabs(core_acquire_prior_weight(20, 0.8) - 0.5) < 1e-12, "trust over 0.5: the full handover weight");
}

const zt_case zt_suite_gp[] = {
    {"the marginal likelihood matches a hand-computed 2x2 case", lml_matches_a_hand_computed_2x2_case, 0},
    {"the marginal likelihood gradient matches finite differences", lml_gradient_matches_finite_differences, 0},
    {"the BLAS prediction matches the naive loop", blas_prediction_matches_the_naive_loop, 0},
    {"the vector likelihood pass matches the scalar loop (value and gradient)", vector_likelihood_matches_the_scalar_loop, 0},
    {"the BLAS prediction matches the naive loop at odd shapes (m, d not multiples of 8; threaded; both kernels)",
     blas_prediction_matches_the_naive_loop_at_odd_shapes, 0},
    {"a fitted GP predicts a smooth function and knows where it is unsure", fitted_gp_predicts_a_smooth_function_and_knows_where_it_is_unsure, 0},
    {"fitting raises the marginal likelihood over the start", fitting_raises_the_marginal_likelihood_over_the_start, 0},
    {"a warm start keeps the fitted likelihood", a_warm_start_keeps_the_fitted_likelihood, 0},
    {"expected improvement has its textbook values", expected_improvement_has_its_textbook_values, 0},
    {"the block fit's likelihood gradient matches finite differences (and the naive loop)",
     block_lml_gradient_matches_finite_differences, 0},
    {"a block fit finds the block that predicts", a_block_fit_finds_the_block_that_predicts, 0},
    {"the block fit's BLAS prediction matches the naive loop", block_prediction_matches_the_naive_loop, 0},
    {"the prior's trust is a hand-worked rank correlation", the_prior_trust_is_a_hand_worked_rank_correlation, 0},
    {0},
};
