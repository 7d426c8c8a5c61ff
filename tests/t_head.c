/*
 * t_head.c - heads and ensembles on synthetic arrays: gradients against
 * finite differences, sgemm forward against the naive loop, learning a
 * separable problem, uncertainty where there is no data, save/load.
 */
#include "tests/zt.h"
#include "core/head.h"
#include "core/metrics.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n rows of d standard normals; label 1 when x0 + 0.5 x1 > thr; y one-hot (n, 2): col 0 = yes. */
static void make_binary(int n, int d, float thr, uint64_t seed, float **x, float **y, int **lab)
{
    core_rng r;
    core_rng_seed(&r, seed);
    *x = xmalloc((size_t)n * d * sizeof(float));
    *y = xcalloc((size_t)n * 2, sizeof(float));
    *lab = xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < d; k++) (*x)[(size_t)i * d + k] = (float)core_rng_normal(&r);
        int l = (*x)[(size_t)i * d] + 0.5f * (*x)[(size_t)i * d + 1] > thr;
        (*lab)[i] = l;
        (*y)[(size_t)i * 2 + (l ? 0 : 1)] = 1;
    }
}

static double grad_check(core_head_cfg *cfg, const float *x, const float *y, int n)
{
    core_head *h;
    ZT_OK(core_head_new(&h, cfg, 3));
    int np;
    float *p = core_head_params(h, &np);
    core_rng r;
    core_rng_seed(&r, 9);
    for (int i = 0; i < np; i++) p[i] = (float)(0.3 * core_rng_normal(&r));
    float *g = xmalloc((size_t)np * sizeof(float));
    core_head_objective(h, x, y, NULL, NULL, n, g);
    double worst = 0;
    for (int i = 0; i < np; i += (np > 60 ? np / 60 : 1)) {
        float keep = p[i];
        const float eps = 1e-2f;
        p[i] = keep + eps;
        double fp = core_head_objective(h, x, y, NULL, NULL, n, NULL);
        p[i] = keep - eps;
        double fm = core_head_objective(h, x, y, NULL, NULL, n, NULL);
        p[i] = keep;
        double fd = (fp - fm) / (2 * eps);
        double rel = fabs(fd - g[i]) / (fabs(fd) + fabs(g[i]) + 1e-3);
        if (rel > worst) worst = rel;
    }
    free(g);
    core_head_free(h);
    return worst;
}

static void gradients_match_finite_differences(void)
{
    float *x, *y;
    int *lab;
    make_binary(30, 5, 0.0f, 1, &x, &y, &lab);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, 5, 2);
    double w = grad_check(&cfg, x, y, 30);
    ZT_CHECK(w < 2e-2, "linear cross-entropy: worst relative error %g", w);
    cfg.hidden = 6;
    w = grad_check(&cfg, x, y, 30);
    ZT_CHECK(w < 2e-2, "hidden-layer cross-entropy: worst relative error %g", w);
    /* a two-question tree with vote counts, Dirichlet-multinomial */
    float *yv = xmalloc(30 * 5 * sizeof(float));
    core_rng r;
    core_rng_seed(&r, 5);
    for (int i = 0; i < 30 * 5; i++) yv[i] = (float)core_rng_below(&r, 6);
    core_head_cfg t;
    core_head_cfg_default(&t, 5, 2);
    t.n_q = 2; t.q_start[1] = 2; t.q_start[2] = 5; t.parent_col[1] = 0;
    t.loss = CORE_LOSS_DIRICHLET;
    w = grad_check(&t, x, yv, 30);
    ZT_CHECK(w < 2e-2, "linear Dirichlet-multinomial: worst relative error %g", w);
    t.hidden = 4;
    w = grad_check(&t, x, yv, 30);
    ZT_CHECK(w < 2e-2, "hidden Dirichlet-multinomial: worst relative error %g", w);
    free(x); free(y); free(lab); free(yv);
}

static void sgemm_forward_matches_naive_loop(void)
{
    float *x, *y;
    int *lab;
    make_binary(5000, 40, 0.0f, 2, &x, &y, &lab);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, 40, 2);
    cfg.n_q = 2; cfg.q_start[1] = 2; cfg.q_start[2] = 5; cfg.parent_col[1] = 1;
    for (int hidden = 0; hidden <= 16; hidden += 16) {
        cfg.hidden = hidden;
        core_head *h;
        ZT_OK(core_head_new(&h, &cfg, 4));
        int np;
        float *p = core_head_params(h, &np);
        core_rng r;
        core_rng_seed(&r, 1);
        for (int i = 0; i < np; i++) p[i] = (float)(0.2 * core_rng_normal(&r));
        float *a = xmalloc(5000 * 5 * sizeof(float)), *b = xmalloc(5000 * 5 * sizeof(float));
        core_head_predict(h, x, 5000, a);
        core_head_predict_naive(h, x, 5000, b);
        double num = 0, den = 0;
        for (int i = 0; i < 5000 * 5; i++) { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i]; }
        ZT_CHECK(num / den < 1e-10, "hidden %d: normalised squared error %g", hidden, num / den);
        /* each question's probabilities sum to 1 */
        ZT_CHECK(fabsf(a[0] + a[1] - 1) < 1e-5f && fabsf(a[2] + a[3] + a[4] - 1) < 1e-5f, "sums");
        free(a); free(b);
        core_head_free(h);
    }
    free(x); free(y); free(lab);
}

static void auc_counts_pairs_and_ties(void)
{
    float s[] = {0.1f, 0.4f, 0.35f, 0.8f};
    int l[] = {0, 0, 1, 1};
    ZT_CHECK(fabs(core_metrics_auc(s, l, 4) - 0.75) < 1e-12, "auc %g", core_metrics_auc(s, l, 4));
    float t[] = {0.5f, 0.5f};
    int m[] = {0, 1};
    ZT_CHECK(fabs(core_metrics_auc(t, m, 2) - 0.5) < 1e-12, "a tie counts half");
    int z[] = {1, 1};
    ZT_CHECK(isnan(core_metrics_auc(t, z, 2)), "one class only gives NAN");
}

static void accuracy_is_per_question_and_rmse_is_the_root_mean_square(void)
{
    /* two questions: answers 0-1 and 2-4; 3 rows */
    const int q_start[3] = {0, 2, 5};
    const float y[3 * 5] = {3, 1, 0, 0, 2,     /* q0: 0 voted, q1: 4 */
                            0, 1, 0, 0, 0,     /* q0: 1, q1: no votes */
                            2, 2, 1, 0, 0};    /* q0: a tie -> the first, 0; q1: 2 */
    const float p[3 * 5] = {.9f, .1f, .2f, .3f, .5f,
                            .8f, .2f, .3f, .3f, .4f,
                            .6f, .4f, .1f, .8f, .1f};
    int nq;
    /* q0: rows 0 and 2 right, row 1 wrong = 2/3; q1: row 0 right, row 2 wrong = 1/2 */
    double acc = core_metrics_accuracy(p, y, 3, q_start, 2, &nq);
    ZT_CHECK(nq == 2 && fabs(acc - (2.0 / 3 + 0.5) / 2) < 1e-12, "accuracy %g over %d questions", acc, nq);
    const float zero[5] = {0};
    ZT_CHECK(isnan(core_metrics_accuracy(p, zero, 1, q_start, 2, &nq)) && nq == 0, "no votes gives NAN");
    const float a[3] = {1, 2, 4}, b[3] = {1, 0, 2};
    ZT_CHECK(fabs(core_metrics_rmse(a, b, 3) - sqrt(8.0 / 3)) < 1e-12, "rmse %g", core_metrics_rmse(a, b, 3));
    ZT_CHECK(isnan(core_metrics_rmse(a, b, 0)), "no rows gives NAN");
}

static void ensemble_learns_a_linear_rule_from_200_labels(void)
{
    float *x, *y, *xt, *yt;
    int *lab, *labt;
    make_binary(200, 40, 0.8f, 11, &x, &y, &lab);     /* ~25% positive */
    make_binary(4000, 40, 0.8f, 12, &xt, &yt, &labt);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, 40, 2);
    core_ens *e;
    core_ens_info info;
    ZT_OK(core_ens_fit(&e, &cfg, 5, x, y, 200, NULL, 1, 0, NULL, &info));
    float *p = xmalloc(4000 * 2 * sizeof(float)), *s = xmalloc(4000 * sizeof(float));
    core_ens_predict(e, xt, 4000, p, NULL, NULL, NULL);
    for (int i = 0; i < 4000; i++) s[i] = p[i * 2];
    double auc = core_metrics_auc(s, labt, 4000);
    ZT_CHECK(auc > 0.9, "test AUC %g", auc);
    ZT_CHECK(info.n_oob > 150 && info.oob_metric > 0.85 && strcmp(info.metric, "auc") == 0,
             "out-of-bag %s %g on %d", info.metric, info.oob_metric, info.n_oob);
    /* a single head on the same data (no resampling) agrees with the ensemble's ranking */
    core_ens *one;
    ZT_OK(core_ens_fit(&one, &cfg, 1, x, y, 200, NULL, 1, 0, NULL, NULL));
    core_ens_predict(one, xt, 4000, p, NULL, NULL, NULL);
    for (int i = 0; i < 4000; i++) s[i] = p[i * 2];
    ZT_CHECK(core_metrics_auc(s, labt, 4000) > 0.9, "single head AUC %g", core_metrics_auc(s, labt, 4000));
    core_ens_free(one);
    core_ens_free(e);
    free(x); free(y); free(lab); free(xt); free(yt); free(labt); free(p); free(s);
}

static void bald_is_higher_near_the_boundary_than_deep_inside_a_class(void)
{
    float *x, *y;
    int *lab;
    make_binary(60, 2, 0.0f, 21, &x, &y, &lab);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, 2, 2);
    cfg.l2 = 0.01f;
    core_ens *e;
    ZT_OK(core_ens_fit(&e, &cfg, 8, x, y, 60, NULL, 2, 0, NULL, NULL));
    float q[] = {0.0f, 0.0f, 4.0f, 2.0f};      /* on the boundary; far inside "yes" */
    float p[4], bald[2], ent[2], mg[2];
    core_ens_predict(e, q, 2, p, bald, ent, mg);
    ZT_CHECK(bald[0] > bald[1], "BALD boundary %g vs inside %g", bald[0], bald[1]);
    ZT_CHECK(ent[0] > ent[1] && mg[0] > mg[1], "entropy %g/%g margin %g/%g", ent[0], ent[1], mg[0], mg[1]);
    ZT_CHECK(p[2] > 0.95f, "far inside the positive class p(yes) = %g", p[2]);
    core_ens_free(e);
    free(x); free(y); free(lab);
}

static void dirichlet_tree_head_learns_vote_fractions(void)
{
    /* question 0 (2 answers) has p(a0) = sigmoid(2 x0); 10 votes per galaxy */
    int n = 400, d = 4, C = 5;
    core_rng r;
    core_rng_seed(&r, 33);
    float *x = xmalloc((size_t)n * d * sizeof(float)), *y = xcalloc((size_t)n * C, sizeof(float));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < d; k++) x[i * d + k] = (float)core_rng_normal(&r);
        double pa = 1 / (1 + exp(-2 * x[i * d]));
        for (int v = 0; v < 10; v++) {
            int a = core_rng_uniform(&r) < pa ? 0 : 1;
            y[i * C + a] += 1;
            if (a == 0) y[i * C + 2 + (x[i * d + 1] > 0 ? 0 : 1 + (int)core_rng_below(&r, 2))] += 1;
        }
    }
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, d, 2);
    cfg.n_q = 2; cfg.q_start[1] = 2; cfg.q_start[2] = 5; cfg.parent_col[1] = 0;
    cfg.loss = CORE_LOSS_DIRICHLET;
    core_ens *e;
    core_ens_info info;
    ZT_OK(core_ens_fit(&e, &cfg, 3, x, y, n, NULL, 4, -1, NULL, &info));
    float q[] = {2, 1, 0, 0, -2, 0, 0, 0}, p[10];
    core_ens_predict(e, q, 2, p, NULL, NULL, NULL);
    ZT_CHECK(p[0] > 0.85f && p[5] < 0.15f, "p(a0) at x0=2: %g, at x0=-2: %g", p[0], p[5]);
    ZT_CHECK(p[2] > 0.7f, "second question learnt: %g", p[2]);
    ZT_CHECK(info.oob_metric > 0.7 && strcmp(info.metric, "accuracy") == 0, "oob %s %g", info.metric, info.oob_metric);
    core_ens_free(e);
    free(x); free(y);
}

/* The binary fast path against the general loop (a one-hidden-unit-free
 * 3-answer twin would not take it): same members, predictions by hand. */
/* The binary path (binary_logits + binary_block) against each member's
 * probabilities computed here in double from its stored weights, then the
 * textbook formulas; n rows of d features, M members. */
static void binary_matches_general(int n, int d, int M, uint64_t seed)
{
    float *x, *y;
    int *lab;
    make_binary(n, d, 0.3f, seed, &x, &y, &lab);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, d, 2);
    core_ens *e;
    int nfit = n < 300 ? n : 300;
    ZT_OK(core_ens_fit(&e, &cfg, M, x, y, nfit, NULL, 5, 0, NULL, NULL));
    float *p = xmalloc((size_t)n * 2 * sizeof(float)), *bald = xmalloc((size_t)n * sizeof(float));
    float *ent = xmalloc((size_t)n * sizeof(float)), *mg = xmalloc((size_t)n * sizeof(float));
    core_ens_predict(e, x, n, p, bald, ent, mg);
    /* the reference: each member's probabilities, then the textbook formulas */
    uint8_t *buf;
    size_t len;
    ZT_OK(core_ens_save(e, &buf, &len));
    double worst = 0;
    size_t np = (size_t)2 * d + 2;   /* one member: W (2, d), b (2) */
    /* each member's p(yes) in double from its stored parameters (after the
     * header, one after another: W (2, d) row-major, then b (2)) */
    size_t hdr = len - (size_t)M * np * sizeof(float);
    double *pk = xmalloc((size_t)M * n * sizeof(double));
    for (int k = 0; k < M; k++) {
        float *w = xmalloc(np * sizeof(float));
        memcpy(w, buf + hdr + (size_t)k * np * sizeof(float), np * sizeof(float));
        for (int i = 0; i < n; i++) {
            double z0 = w[2 * d], z1 = w[2 * d + 1];
            for (int t = 0; t < d; t++) {
                z0 += (double)w[t] * x[(size_t)i * d + t];
                z1 += (double)w[d + t] * x[(size_t)i * d + t];
            }
            pk[(size_t)k * n + i] = 1 / (1 + exp(z1 - z0));
        }
        free(w);
    }
    for (int i = 0; i < n; i++) {
        double pm = 0, he = 0;
        for (int k = 0; k < M; k++) {
            double q = pk[(size_t)k * n + i];
            pm += q / M;
            he += (q > 0 ? -q * log(q) : 0) + (q < 1 ? -(1 - q) * log(1 - q) : 0);
        }
        double hm = (pm > 0 ? -pm * log(pm) : 0) + (pm < 1 ? -(1 - pm) * log(1 - pm) : 0);
        double b = hm - he / M;
        worst = fmax(worst, fabs(p[i * 2] - pm));
        worst = fmax(worst, fabs(bald[i] - (b > 0 ? b : 0)));
        worst = fmax(worst, fabs(ent[i] - hm));
        worst = fmax(worst, fabs(mg[i] - (1 - fabs(2 * pm - 1))));
    }
    ZT_CHECK(worst < 1e-5, "n %d d %d M %d: largest difference %g", n, d, M, worst);
    free(buf); free(pk); free(p); free(bald); free(ent); free(mg);
    core_ens_free(e);
    free(x); free(y); free(lab);
}

static void the_binary_scoring_path_matches_the_general_one(void) { binary_matches_general(300, 6, 4, 51); }

/* d 13 (8 lanes and a tail), M 5, 9001 rows: blocks of 4096, a last block
 * that is not a multiple of 8, and the threaded split */
static void the_binary_scoring_path_matches_the_general_one_at_odd_shapes(void)
{
    binary_matches_general(9001, 13, 5, 52);
}

/* The yes/no loss (one exp, one log1p a row) against the K-answer
 * cross-entropy written out by hand: objective and gradient, with class
 * weights, fractional counts, rows with both answers and rows with none. */
static void the_yes_no_loss_equals_the_softmax_formula(void)
{
    int n = 64, d = 5;
    core_rng r;
    core_rng_seed(&r, 77);
    float *x = xmalloc((size_t)n * d * sizeof(float)), *y = xcalloc((size_t)n * 2, sizeof(float));
    for (int i = 0; i < n * d; i++) x[i] = (float)(3 * core_rng_normal(&r));   /* large logits too */
    for (int i = 0; i < n; i++) {
        int kind = (int)core_rng_below(&r, 4);
        if (kind == 0) y[i * 2] = 1;
        else if (kind == 1) y[i * 2 + 1] = 2;
        else if (kind == 2) { y[i * 2] = 0.7f; y[i * 2 + 1] = 0.3f; }
    }
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, d, 2);
    core_head *h;
    ZT_OK(core_head_new(&h, &cfg, 8));
    int np;
    float *par = core_head_params(h, &np);
    for (int i = 0; i < np; i++) par[i] = (float)(1.5 * core_rng_normal(&r));
    const float cw[2] = {2.5f, 0.4f};
    float *g = xmalloc((size_t)np * sizeof(float));
    double f = core_head_objective(h, x, y, NULL, cw, n, g);
    /* the reference: softmax over the two logits, double throughout */
    const float *W = par, *b = par + 2 * d;    /* linear layout: W (2, d) | b (2) */
    double fr = 0, *gr = xcalloc((size_t)np, sizeof(double));
    for (int i = 0; i < n; i++) {
        double z[2];
        for (int a = 0; a < 2; a++) {
            z[a] = b[a];
            for (int t = 0; t < d; t++) z[a] += (double)W[a * d + t] * x[i * d + t];
        }
        double mx = fmax(z[0], z[1]), lse = mx + log(exp(z[0] - mx) + exp(z[1] - mx)), S = 0;
        for (int a = 0; a < 2; a++) S += y[i * 2 + a] * cw[a];
        for (int a = 0; a < 2; a++) {
            double wy = y[i * 2 + a] * cw[a];
            fr += wy * (lse - z[a]) / n;
            double dz = (exp(z[a] - lse) * S - wy) / n;
            for (int t = 0; t < d; t++) gr[a * d + t] += dz * x[i * d + t];
            gr[2 * d + a] += dz;
        }
    }
    for (int i = 0; i < 2 * d; i++) { fr += 0.5 * cfg.l2 * (double)W[i] * W[i]; gr[i] += cfg.l2 * W[i]; }
    double worst = 0;
    for (int i = 0; i < np; i++) worst = fmax(worst, fabs(g[i] - gr[i]) / (fabs(gr[i]) + 1e-3));
    /* the logits come from a float sgemm: agree to float precision */
    ZT_CHECK(fabs(f - fr) < 1e-6 * (1 + fabs(fr)), "objective %.12g, by hand %.12g", f, fr);
    ZT_CHECK(worst < 1e-5, "gradient: worst relative difference %g", worst);
    free(g); free(gr); free(x); free(y);
    core_head_free(h);
}

/* Scoring a large set is split over threads in fixed blocks: 1, 2 and 4
 * threads give the same bytes, for the yes/no path, a tree and a hidden layer. */
static void scoring_over_threads_changes_no_number(void)
{
    int n = 70001, d = 12;
    core_rng r;
    core_rng_seed(&r, 5);
    float *x = xmalloc((size_t)n * d * sizeof(float));
    for (int i = 0; i < n * d; i++) x[i] = (float)core_rng_normal(&r);
    float *y = xcalloc((size_t)400 * 5, sizeof(float));
    for (int i = 0; i < 400; i++) {
        int yes = x[i * d] + 0.5f * x[i * d + 1] > 0;
        y[i * 5 + (yes ? 0 : 1)] = 1;
        if (yes) y[i * 5 + 2 + (x[i * d + 2] > 0)] = 1;
    }
    for (int variant = 0; variant < 3; variant++) {
        core_head_cfg cfg;
        core_head_cfg_default(&cfg, d, 2);
        float *yv = y;
        float *y2 = NULL;
        if (variant == 1) {   /* a two-question tree, Dirichlet-multinomial */
            cfg.n_q = 2; cfg.q_start[1] = 2; cfg.q_start[2] = 5; cfg.parent_col[1] = 0;
            cfg.loss = CORE_LOSS_DIRICHLET;
        } else {              /* yes/no only: columns 0, 1 */
            y2 = xmalloc((size_t)400 * 2 * sizeof(float));
            for (int i = 0; i < 400; i++) { y2[i * 2] = y[i * 5]; y2[i * 2 + 1] = y[i * 5 + 1]; }
            yv = y2;
            if (variant == 2) cfg.hidden = 6;
        }
        int C = core_head_cfg_ncols(&cfg);
        core_ens *e;
        ZT_OK(core_ens_fit(&e, &cfg, 5, x, yv, 400, NULL, 3, variant == 1 ? -1 : 0, NULL, NULL));
        float *p[3], *b[3], *en[3], *mg[3];
        int th[3] = {1, 2, 4};
        for (int k = 0; k < 3; k++) {
            p[k] = xmalloc((size_t)n * C * sizeof(float));
            b[k] = xmalloc((size_t)n * sizeof(float));
            en[k] = xmalloc((size_t)n * sizeof(float));
            mg[k] = xmalloc((size_t)n * sizeof(float));
            core_ens_predict_threads(e, x, n, p[k], b[k], en[k], mg[k], th[k]);
        }
        for (int k = 1; k < 3; k++) {
            ZT_CHECK(memcmp(p[0], p[k], (size_t)n * C * sizeof(float)) == 0, "variant %d: p with %d threads differs", variant, th[k]);
            ZT_CHECK(memcmp(b[0], b[k], (size_t)n * sizeof(float)) == 0 &&
                     memcmp(en[0], en[k], (size_t)n * sizeof(float)) == 0 &&
                     memcmp(mg[0], mg[k], (size_t)n * sizeof(float)) == 0,
                     "variant %d: uncertainty with %d threads differs", variant, th[k]);
        }
        /* the last block (one row) is scored too */
        ZT_CHECK(isfinite(p[1][(size_t)(n - 1) * C]) && isfinite(b[1][n - 1]), "variant %d: last row", variant);
        for (int k = 0; k < 3; k++) { free(p[k]); free(b[k]); free(en[k]); free(mg[k]); }
        free(y2);
        core_ens_free(e);
    }
    free(x); free(y);
}

static void a_saved_ensemble_loads_and_predicts_the_same(void)
{
    float *x, *y;
    int *lab;
    make_binary(80, 6, 0.0f, 41, &x, &y, &lab);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, 6, 2);
    cfg.hidden = 8;
    core_ens *e, *f;
    ZT_OK(core_ens_fit(&e, &cfg, 3, x, y, 80, NULL, 3, 0, NULL, NULL));
    uint8_t *buf;
    size_t len;
    char err[128];
    ZT_OK(core_ens_save(e, &buf, &len));
    ZT_OK(core_ens_load(buf, len, &f, err, sizeof err));
    float a[160], b[160];
    core_ens_predict(e, x, 80, a, NULL, NULL, NULL);
    core_ens_predict(f, x, 80, b, NULL, NULL, NULL);
    ZT_CHECK(memcmp(a, b, sizeof a) == 0, "predictions differ after a round trip");
    ZT_CHECK(core_ens_load(buf, len - 5, &f, err, sizeof err) != 0, "a truncated head is refused");
    buf[0] = 'X';
    ZT_CHECK(core_ens_load(buf, len, &f, err, sizeof err) != 0 && strstr(err, "magic"), "bad magic: %s", err);
    /* warm start from e reaches a similar objective quickly */
    core_ens *g;
    ZT_OK(core_ens_fit(&g, &cfg, 3, x, y, 80, e, 3, 0, NULL, NULL));
    core_ens_free(g);
    free(buf);
    core_ens_free(e);
    core_ens_free(f);
    free(x); free(y); free(lab);
}

static void a_cancelled_fit_stops_and_returns_1(void)
{
    float *x, *y;
    int *lab;
    make_binary(50, 4, 0.0f, 5, &x, &y, &lab);
    core_head_cfg cfg;
    core_head_cfg_default(&cfg, 4, 2);
    volatile int cancel = 1;
    core_ens *e;
    ZT_CHECK(core_ens_fit(&e, &cfg, 5, x, y, 50, NULL, 1, 0, &cancel, NULL) == 1 && e == NULL, "not cancelled");
    free(x); free(y); free(lab);
}

const zt_case zt_suite_head[] = {
    {"gradients match finite differences (linear, hidden, CE, Dirichlet)", gradients_match_finite_differences, 0},
    {"the sgemm forward matches the naive loop", sgemm_forward_matches_naive_loop, 0},
    {"AUC counts ordered pairs and ties", auc_counts_pairs_and_ties, 0},
    {"accuracy is per question and RMSE the root mean square", accuracy_is_per_question_and_rmse_is_the_root_mean_square, 0},
    {"an ensemble learns a linear rule from 200 labels", ensemble_learns_a_linear_rule_from_200_labels, 0},
    {"BALD is higher near the boundary than deep inside a class", bald_is_higher_near_the_boundary_than_deep_inside_a_class, 0},
    {"a Dirichlet tree head learns vote fractions", dirichlet_tree_head_learns_vote_fractions, 0},
    {"the binary scoring path matches the general one", the_binary_scoring_path_matches_the_general_one, 0},
    {"the binary scoring path matches the general one at odd shapes (d 13, 5 members, 9001 rows)",
     the_binary_scoring_path_matches_the_general_one_at_odd_shapes, 0},
    {"the yes/no loss equals the softmax formula", the_yes_no_loss_equals_the_softmax_formula, 0},
    {"scoring over threads changes no number", scoring_over_threads_changes_no_number, 0},
    {"a saved ensemble loads and predicts the same", a_saved_ensemble_loads_and_predicts_the_same, 0},
    {"a cancelled fit stops and returns 1", a_cancelled_fit_stops_and_returns_1, 0},
    {0},
};
