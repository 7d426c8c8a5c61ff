/*
 * head.c - linear / one-hidden-layer heads with softmax cross-entropy or
 * Dirichlet-multinomial loss, L-BFGS training with early stopping, bootstrap
 * ensembles with out-of-bag metrics, BALD / entropy / margin (see head.h).
 *
 * Legend: n rows, d features, H hidden, C answer columns, Q questions,
 * M members.  Parameters live in one float allocation:
 *   linear: W (C, d) | b (C)
 *   hidden: W1 (H, d) | b1 (H) | W2 (C, H) | b2 (C)
 * The fast paths use cblas_sgemm; core_head_predict_naive is the reference
 * loop the tests compare against, and core_head_objective's gradient is
 * checked by finite differences.
 */
#include "core/head.h"
#include "core/metrics.h"
#include "core/util.h"
#include "core/fastmath.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct core_head {
    core_head_cfg cfg;
    int C, np;
    float *params;      /* (np) */
    float *W1, *b1;     /* hidden: (H, d), (H); linear: NULL */
    float *W, *b;       /* output: (C, d or H), (C) */
};

#define DM_SCALE 100.0f

void core_head_cfg_default(core_head_cfg *cfg, int d, int k)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->d = d;
    cfg->n_q = 1;
    cfg->q_start[0] = 0;
    cfg->q_start[1] = k;
    cfg->parent_col[0] = -1;
    cfg->loss = CORE_LOSS_CE;
    cfg->l2 = 0.05f;
    cfg->max_iter = 200;
    cfg->patience = 15;
    cfg->balance = 1;
}

int core_head_cfg_ncols(const core_head_cfg *cfg) { return cfg->q_start[cfg->n_q]; }

static int cfg_valid(const core_head_cfg *c)
{
    if (c->d <= 0 || c->hidden < 0 || c->hidden > 4096) return 0;
    if (c->n_q <= 0 || c->n_q > CORE_HEAD_MAX_Q || c->q_start[0] != 0) return 0;
    for (int q = 0; q < c->n_q; q++) {
        if (c->q_start[q + 1] - c->q_start[q] < 1) return 0;
        if (c->parent_col[q] >= c->q_start[c->n_q] || c->parent_col[q] < -1) return 0;
    }
    if (c->q_start[c->n_q] > CORE_HEAD_MAX_C) return 0;
    if (c->loss != CORE_LOSS_CE && c->loss != CORE_LOSS_DIRICHLET) return 0;
    return 1;
}

static void head_layout(core_head *h)
{
    int d = h->cfg.d, H = h->cfg.hidden, C = h->C;
    if (H > 0) {
        h->W1 = h->params;
        h->b1 = h->W1 + (size_t)H * d;
        h->W = h->b1 + H;
        h->b = h->W + (size_t)C * H;
    } else {
        h->W1 = h->b1 = NULL;
        h->W = h->params;
        h->b = h->W + (size_t)C * d;
    }
}

int core_head_new(core_head **out, const core_head_cfg *cfg, uint64_t seed)
{
    *out = NULL;
    if (!cfg_valid(cfg)) return -1;
    core_head *h = xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    h->C = core_head_cfg_ncols(cfg);
    int d = cfg->d, H = cfg->hidden, C = h->C;
    h->np = H > 0 ? H * d + H + C * H + C : C * d + C;
    h->params = xcalloc((size_t)h->np, sizeof(float));
    head_layout(h);
    core_rng r;
    core_rng_seed(&r, seed ^ 0x68656164ULL);
    int fan_in = H > 0 ? H : d;
    if (H > 0)
        for (int i = 0; i < H * d; i++) h->W1[i] = (float)(core_rng_normal(&r) / sqrt((double)d));
    for (int i = 0; i < C * fan_in; i++) h->W[i] = (float)(0.01 * core_rng_normal(&r));
    *out = h;
    return 0;
}

void core_head_free(core_head *h)
{
    if (!h) return;
    free(h->params);
    free(h);
}

int core_head_copy_params(core_head *dst, const core_head *src)
{
    if (dst->np != src->np || dst->cfg.d != src->cfg.d || dst->cfg.hidden != src->cfg.hidden ||
        dst->C != src->C) return -1;
    memcpy(dst->params, src->params, (size_t)dst->np * sizeof(float));
    return 0;
}

float *core_head_params(core_head *h, int *np) { *np = h->np; return h->params; }

/* ---- special functions */
static double digamma(double x)
{
    double r = 0;
    while (x < 6) { r -= 1 / x; x += 1; }
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

static float sigmoidf_(float z) { return 1.0f / (1.0f + expf(-z)); }

/* log Gamma without lgamma()'s write to the global signgam: ensemble
 * members are fitted in parallel threads (ThreadSanitizer saw the race) */
static double lgam(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* Turns logits z (C) of one row into probabilities p (C) per question. */
static void row_probs(const core_head_cfg *c, const float *z, float *p)
{
    for (int q = 0; q < c->n_q; q++) {
        int a0 = c->q_start[q], a1 = c->q_start[q + 1];
        if (c->loss == CORE_LOSS_CE && a1 - a0 == 2) {   /* binary: a logistic of the difference */
            p[a0] = 1.0f / (1.0f + expf(z[a0 + 1] - z[a0]));
            p[a0 + 1] = 1.0f - p[a0];
        } else if (c->loss == CORE_LOSS_CE) {
            float mx = z[a0];
            for (int a = a0 + 1; a < a1; a++) if (z[a] > mx) mx = z[a];
            float s = 0;
            for (int a = a0; a < a1; a++) { p[a] = expf(z[a] - mx); s += p[a]; }
            for (int a = a0; a < a1; a++) p[a] /= s;
        } else {
            float s = 0;
            for (int a = a0; a < a1; a++) { p[a] = 1.0f + DM_SCALE * sigmoidf_(z[a]); s += p[a]; }
            for (int a = a0; a < a1; a++) p[a] /= s;
        }
    }
}

/* Loss of one row (logits z, counts y, class weights cw or NULL) and dL/dz into dz (may be NULL). */
static double row_loss(const core_head_cfg *c, const float *z, const float *y, const float *cw, float *dz)
{
    double loss = 0;
    for (int q = 0; q < c->n_q; q++) {
        int a0 = c->q_start[q], a1 = c->q_start[q + 1];
        double N = 0;
        for (int a = a0; a < a1; a++) N += y[a];
        if (N <= 0) {
            if (dz) for (int a = a0; a < a1; a++) dz[a] = 0;
            continue;
        }
        if (c->loss == CORE_LOSS_CE && a1 - a0 == 2) {
            /* yes/no: with u = z0 - z1 the two cross-entropies are
             * softplus(-u) and softplus(u), p0 = sigmoid(u); from t =
             * exp(-|u|) both need one exp and one log (the K-answer
             * loop below is the reference; t_head compares them) */
            double u = (double)z[a0] - z[a0 + 1], t = exp(-fabs(u)), l1p = log(1 + t);   /* t in (0, 1]: no log1p needed */
            double wy0 = y[a0] * (cw ? cw[a0] : 1.0), wy1 = y[a0 + 1] * (cw ? cw[a0 + 1] : 1.0);
            loss += wy0 * (fmax(-u, 0) + l1p) + wy1 * (fmax(u, 0) + l1p);
            if (dz) {
                double p0 = u >= 0 ? 1 / (1 + t) : t / (1 + t), S = wy0 + wy1;
                dz[a0] = (float)(p0 * S - wy0);
                dz[a0 + 1] = (float)((1 - p0) * S - wy1);
            }
        } else if (c->loss == CORE_LOSS_CE) {
            double mx = z[a0];
            for (int a = a0 + 1; a < a1; a++) if (z[a] > mx) mx = z[a];
            double s = 0;
            for (int a = a0; a < a1; a++) s += exp(z[a] - mx);
            double lse = mx + log(s), S = 0;
            for (int a = a0; a < a1; a++) {
                double wy = y[a] * (cw ? cw[a] : 1.0);
                S += wy;
                loss += wy * (lse - z[a]);
            }
            if (dz)
                for (int a = a0; a < a1; a++) {
                    double pa = exp(z[a] - lse);
                    dz[a] = (float)(pa * S - y[a] * (cw ? cw[a] : 1.0));
                }
        } else {
            double A = 0;
            double alpha[CORE_HEAD_MAX_C], sg[CORE_HEAD_MAX_C];
            for (int a = a0; a < a1; a++) {
                sg[a] = 1.0 / (1.0 + exp(-(double)z[a]));
                alpha[a] = 1.0 + DM_SCALE * sg[a];
                A += alpha[a];
            }
            /* answers nobody gave add lgamma(alpha) - lgamma(alpha) = 0: skipped */
            double l = lgam(A) - lgam(N + A);
            for (int a = a0; a < a1; a++)
                if (y[a] > 0) l += lgam(y[a] + alpha[a]) - lgam(alpha[a]);
            loss -= l;
            if (dz) {
                double dA = digamma(A) - digamma(N + A);
                for (int a = a0; a < a1; a++) {
                    double dl = dA + (y[a] > 0 ? digamma(y[a] + alpha[a]) - digamma(alpha[a]) : 0);
                    dz[a] = (float)(-dl * DM_SCALE * sg[a] * (1 - sg[a]));
                }
            }
        }
    }
    return loss;
}

/* Forward through the (optional) hidden layer and output layer for n rows:
 * hid (n, H) when hidden, z (n, C). */
static void forward(const core_head *h, const float *x, int n, float *hid, float *z)
{
    int d = h->cfg.d, H = h->cfg.hidden, C = h->C;
    const float *in = x;
    int din = d;
    if (H > 0) {
        for (int i = 0; i < n; i++) memcpy(hid + (size_t)i * H, h->b1, (size_t)H * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H, d, 1.0f, x, d, h->W1, d,
                    1.0f, hid, H);
        for (size_t i = 0; i < (size_t)n * H; i++) hid[i] = tanhf(hid[i]);
        in = hid;
        din = H;
    }
    for (int i = 0; i < n; i++) memcpy(z + (size_t)i * C, h->b, (size_t)C * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, C, din, 1.0f, in, din, h->W, din,
                1.0f, z, C);
}

double core_head_objective(core_head *h, const float *x, const float *y, const float *w,
                           const float *cw, int n, float *grad)
{
    int d = h->cfg.d, H = h->cfg.hidden, C = h->C;
    float *hid = H > 0 ? xmalloc((size_t)n * H * sizeof(float)) : NULL;   /* (n, H) */
    float *z = xmalloc((size_t)n * C * sizeof(float));                      /* (n, C) */
    float *dz = grad ? xmalloc((size_t)n * C * sizeof(float)) : NULL;       /* (n, C) */
    forward(h, x, n, hid, z);
    double wsum = 0, loss = 0;
    for (int i = 0; i < n; i++) wsum += w ? w[i] : 1.0;
    if (wsum <= 0) wsum = 1;
    for (int i = 0; i < n; i++) {
        double wi = (w ? w[i] : 1.0) / wsum;
        float *dzi = dz ? dz + (size_t)i * C : NULL;
        loss += wi * row_loss(&h->cfg, z + (size_t)i * C, y + (size_t)i * C, cw, dzi);
        if (dzi) for (int a = 0; a < C; a++) dzi[a] *= (float)wi;
    }
    /* penalty on weights only */
    double pen = 0;
    int nw_out = C * (H > 0 ? H : d);
    for (int i = 0; i < nw_out; i++) pen += (double)h->W[i] * h->W[i];
    if (H > 0) for (int i = 0; i < H * d; i++) pen += (double)h->W1[i] * h->W1[i];
    loss += 0.5 * h->cfg.l2 * pen;
    if (grad) {
        memset(grad, 0, (size_t)h->np * sizeof(float));
        float *gW1 = NULL, *gb1 = NULL, *gW, *gb;
        if (H > 0) {
            gW1 = grad; gb1 = gW1 + (size_t)H * d; gW = gb1 + H; gb = gW + (size_t)C * H;
        } else {
            gW = grad; gb = gW + (size_t)C * d;
        }
        const float *in = H > 0 ? hid : x;
        int din = H > 0 ? H : d;
        /* gW (C, din) = dz^T (C, n) in (n, din) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, din, n, 1.0f, dz, C, in, din,
                    0.0f, gW, din);
        for (int i = 0; i < n; i++)
            for (int a = 0; a < C; a++) gb[a] += dz[(size_t)i * C + a];
        for (int i = 0; i < nw_out; i++) gW[i] += h->cfg.l2 * h->W[i];
        if (H > 0) {
            float *dh = xmalloc((size_t)n * H * sizeof(float));   /* (n, H) */
            /* dh (n, H) = dz (n, C) W (C, H), then through tanh */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, H, C, 1.0f, dz, C, h->W, H,
                        0.0f, dh, H);
            for (size_t i = 0; i < (size_t)n * H; i++) dh[i] *= 1.0f - hid[i] * hid[i];
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, n, 1.0f, dh, H, x, d,
                        0.0f, gW1, d);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < H; j++) gb1[j] += dh[(size_t)i * H + j];
            for (int i = 0; i < H * d; i++) gW1[i] += h->cfg.l2 * h->W1[i];
            free(dh);
        }
    }
    free(hid);
    free(z);
    free(dz);
    return loss;
}

/* Mean loss (no penalty) on a validation set. */
static double val_loss(const core_head *h, const float *x, const float *y, int n)
{
    int H = h->cfg.hidden, C = h->C;
    float *hid = H > 0 ? xmalloc((size_t)n * H * sizeof(float)) : NULL;
    float *z = xmalloc((size_t)n * C * sizeof(float));
    forward(h, x, n, hid, z);
    double l = 0, cnt = 0;
    for (int i = 0; i < n; i++) {
        const float *yi = y + (size_t)i * C;
        double s = 0;
        for (int a = 0; a < C; a++) s += yi[a];
        l += row_loss(&h->cfg, z + (size_t)i * C, yi, NULL, NULL);
        cnt += s > 0 ? 1 : 0;
    }
    free(hid);
    free(z);
    return cnt > 0 ? l / cnt : NAN;
}

/* Class weights per column: within each question n_total / (K * n_a) from the
 * vote totals, clamped to [0.1, 10]; 1 where an answer was never given. */
static void class_weights(const core_head_cfg *c, const float *y, int n, float *cw)
{
    int C = core_head_cfg_ncols(c);
    for (int a = 0; a < C; a++) cw[a] = 1;
    if (!c->balance || c->loss != CORE_LOSS_CE) return;
    for (int q = 0; q < c->n_q; q++) {
        int a0 = c->q_start[q], a1 = c->q_start[q + 1], K = a1 - a0;
        double tot = 0, na[CORE_HEAD_MAX_C] = {0};
        for (int i = 0; i < n; i++)
            for (int a = a0; a < a1; a++) { na[a] += y[(size_t)i * C + a]; tot += y[(size_t)i * C + a]; }
        for (int a = a0; a < a1; a++) {
            if (na[a] <= 0) continue;
            double wgt = tot / (K * na[a]);
            cw[a] = (float)(wgt < 0.1 ? 0.1 : wgt > 10 ? 10 : wgt);
        }
    }
}

/* ---- L-BFGS (two-loop recursion, backtracking Armijo line search) */
#define LBFGS_M 8

int core_head_fit(core_head *h, const float *x, const float *y, const float *w, int n,
                  const float *x_val, const float *y_val, int n_val, core_head_fit_info *info)
{
    int np = h->np;
    float cw[CORE_HEAD_MAX_C];
    class_weights(&h->cfg, y, n, cw);
    float *g = xmalloc((size_t)np * sizeof(float));          /* (np) gradient */
    float *g_new = xmalloc((size_t)np * sizeof(float));      /* (np) */
    float *p0 = xmalloc((size_t)np * sizeof(float));         /* (np) params before step */
    float *best = xmalloc((size_t)np * sizeof(float));       /* (np) kept params */
    double *dir = xmalloc((size_t)np * sizeof(double));      /* (np) search direction */
    double *S = xmalloc((size_t)LBFGS_M * np * sizeof(double)); /* (m, np) steps */
    double *Yv = xmalloc((size_t)LBFGS_M * np * sizeof(double));/* (m, np) gradient changes */
    double rho[LBFGS_M], alpha[LBFGS_M];
    int k = 0, head = 0, it;
    double f = core_head_objective(h, x, y, w, cw, n, g);
    double best_val = n_val > 0 ? val_loss(h, x_val, y_val, n_val) : NAN;
    double best_f = f;
    int best_iter = 0, since = 0;
    memcpy(best, h->params, (size_t)np * sizeof(float));
    for (it = 1; it <= h->cfg.max_iter; it++) {
        /* two-loop recursion: dir = -H g */
        for (int i = 0; i < np; i++) dir[i] = -g[i];
        for (int j = 0; j < k; j++) {
            int s = (head - 1 - j + LBFGS_M) % LBFGS_M;
            double a = 0;
            for (int i = 0; i < np; i++) a += S[(size_t)s * np + i] * dir[i];
            a *= rho[s];
            alpha[s] = a;
            for (int i = 0; i < np; i++) dir[i] -= a * Yv[(size_t)s * np + i];
        }
        if (k > 0) {
            int s = (head - 1 + LBFGS_M) % LBFGS_M;
            double yy = 0;
            for (int i = 0; i < np; i++) yy += Yv[(size_t)s * np + i] * Yv[(size_t)s * np + i];
            double gamma = 1.0 / (rho[s] * yy);
            for (int i = 0; i < np; i++) dir[i] *= gamma;
        }
        for (int j = k - 1; j >= 0; j--) {
            int s = (head - 1 - j + LBFGS_M) % LBFGS_M;
            double b = 0;
            for (int i = 0; i < np; i++) b += Yv[(size_t)s * np + i] * dir[i];
            b *= rho[s];
            for (int i = 0; i < np; i++) dir[i] += S[(size_t)s * np + i] * (alpha[s] - b);
        }
        double gd = 0, gn = 0;
        for (int i = 0; i < np; i++) { gd += g[i] * dir[i]; gn += (double)g[i] * g[i]; }
        if (gn < 1e-14) break;
        if (gd >= 0) {   /* not a descent direction: restart from steepest descent */
            for (int i = 0; i < np; i++) dir[i] = -g[i];
            gd = -gn;
            k = 0;
        }
        double step = k == 0 ? fmin(1.0, 1.0 / sqrt(gn)) : 1.0;
        memcpy(p0, h->params, (size_t)np * sizeof(float));
        double f_new = f;
        int ok = 0;
        for (int ls = 0; ls < 30; ls++) {
            for (int i = 0; i < np; i++) h->params[i] = (float)(p0[i] + step * dir[i]);
            f_new = core_head_objective(h, x, y, w, cw, n, g_new);
            if (isfinite(f_new) && f_new <= f + 1e-4 * step * gd) { ok = 1; break; }
            step *= 0.5;
        }
        if (!ok) { memcpy(h->params, p0, (size_t)np * sizeof(float)); break; }
        /* history */
        double sy = 0;
        for (int i = 0; i < np; i++) {
            double si = (double)h->params[i] - p0[i], yi = (double)g_new[i] - g[i];
            S[(size_t)head * np + i] = si;
            Yv[(size_t)head * np + i] = yi;
            sy += si * yi;
        }
        if (sy > 1e-12) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (k < LBFGS_M) k++;
        }
        double df = f - f_new;
        f = f_new;
        memcpy(g, g_new, (size_t)np * sizeof(float));
        if (n_val > 0) {
            double v = val_loss(h, x_val, y_val, n_val);
            if (v < best_val - 1e-9 || !isfinite(best_val)) {
                best_val = v; best_f = f; best_iter = it; since = 0;
                memcpy(best, h->params, (size_t)np * sizeof(float));
            } else if (++since >= h->cfg.patience) {
                break;
            }
        } else {
            best_f = f; best_iter = it;
        }
        if (df >= 0 && df < 1e-7 * (1 + fabs(f))) break;
    }
    if (n_val > 0) memcpy(h->params, best, (size_t)np * sizeof(float));
    if (info) {
        info->iters = it > h->cfg.max_iter ? h->cfg.max_iter : it;
        info->best_iter = best_iter;
        info->train_obj = best_f;
        info->val_loss = best_val;
    }
    free(g); free(g_new); free(p0); free(best); free(dir); free(S); free(Yv);
    return 0;
}

void core_head_predict(const core_head *h, const float *x, int n, float *p)
{
    int H = h->cfg.hidden, C = h->C;
    const int B = 4096;
    float *hid = H > 0 ? xmalloc((size_t)B * H * sizeof(float)) : NULL;   /* (B, H) */
    float *z = xmalloc((size_t)B * C * sizeof(float));                      /* (B, C) */
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        forward(h, x + (size_t)i0 * h->cfg.d, nb, hid, z);
        for (int i = 0; i < nb; i++) row_probs(&h->cfg, z + (size_t)i * C, p + (size_t)(i0 + i) * C);
    }
    free(hid);
    free(z);
}

void core_head_predict_naive(const core_head *h, const float *x, int n, float *p)
{
    int d = h->cfg.d, H = h->cfg.hidden, C = h->C;
    float *hid = xmalloc((size_t)(H > 0 ? H : 1) * sizeof(float));
    float *z = xmalloc((size_t)C * sizeof(float));
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * d, *in = xi;
        int din = d;
        if (H > 0) {
            for (int j = 0; j < H; j++) {
                double s = h->b1[j];
                for (int k = 0; k < d; k++) s += (double)h->W1[(size_t)j * d + k] * xi[k];
                hid[j] = tanhf((float)s);
            }
            in = hid;
            din = H;
        }
        for (int a = 0; a < C; a++) {
            double s = h->b[a];
            for (int k = 0; k < din; k++) s += (double)h->W[(size_t)a * din + k] * in[k];
            z[a] = (float)s;
        }
        row_probs(&h->cfg, z, p + (size_t)i * C);
    }
    free(hid);
    free(z);
}

/* ---- ensembles */
struct core_ens {
    core_head_cfg cfg;
    int m;
    core_head *h[CORE_ENS_MAX_M];
};

const core_head_cfg *core_ens_config(const core_ens *e) { return &e->cfg; }

void core_ens_free(core_ens *e)
{
    if (!e) return;
    for (int i = 0; i < e->m; i++) core_head_free(e->h[i]);
    free(e);
}

/* Held-out metric of probabilities p (n, C) against counts y (n, C):
 * AUC of p[pos_col] for a binary first question when pos_col >= 0, else mean
 * accuracy of the argmax per question over rows that have votes there. */
static double ens_metric(const core_head_cfg *c, const float *p, const float *y, int n, int pos_col)
{
    int C = core_head_cfg_ncols(c);
    if (pos_col >= 0) {
        int q = 0;
        while (q < c->n_q && !(pos_col >= c->q_start[q] && pos_col < c->q_start[q + 1])) q++;
        float *s = xmalloc((size_t)(n ? n : 1) * sizeof(float));
        int *l = xmalloc((size_t)(n ? n : 1) * sizeof(int));
        int m = 0;
        for (int i = 0; i < n; i++) {
            const float *yi = y + (size_t)i * C;
            double tot = 0;
            for (int a = c->q_start[q]; a < c->q_start[q + 1]; a++) tot += yi[a];
            if (tot <= 0) continue;
            s[m] = p[(size_t)i * C + pos_col];
            l[m] = yi[pos_col] * 2 > tot;
            m++;
        }
        double auc = core_metrics_auc(s, l, m);
        free(s);
        free(l);
        return auc;
    }
    return core_metrics_accuracy(p, y, n, c->q_start, c->n_q, NULL);
}

/* One ensemble member: fit on its bootstrap rows, predict its out-of-bag rows. */
typedef struct {
    core_head *h;
    const float *x, *y;     /* (n, d), (n, C) */
    int n, d, C;
    const int *draw;        /* (n) bootstrap rows */
    volatile int *cancel;
    int *oi;                /* (no) out-of-bag rows, filled */
    float *pm;              /* (no, C) their probabilities, filled */
    int no, cancelled;
} member_job;

static void *member_worker(void *p)
{
    member_job *j = p;
    int n = j->n, d = j->d, C = j->C;
    if (j->cancel && *j->cancel) { j->cancelled = 1; return NULL; }
    float *xb = xmalloc((size_t)n * d * sizeof(float));   /* (n, d) bootstrap rows */
    float *yb = xmalloc((size_t)n * C * sizeof(float));   /* (n, C) */
    float *xo = xmalloc((size_t)n * d * sizeof(float));   /* (n, d) out-of-bag rows */
    float *yo = xmalloc((size_t)n * C * sizeof(float));
    unsigned char *in = xcalloc((size_t)n, 1);
    j->oi = xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) {
        int r = j->draw[i];
        in[r] = 1;
        memcpy(xb + (size_t)i * d, j->x + (size_t)r * d, (size_t)d * sizeof(float));
        memcpy(yb + (size_t)i * C, j->y + (size_t)r * C, (size_t)C * sizeof(float));
    }
    int no = 0;
    for (int i = 0; i < n; i++) {
        if (in[i]) continue;
        memcpy(xo + (size_t)no * d, j->x + (size_t)i * d, (size_t)d * sizeof(float));
        memcpy(yo + (size_t)no * C, j->y + (size_t)i * C, (size_t)C * sizeof(float));
        j->oi[no++] = i;
    }
    core_head_fit(j->h, xb, yb, NULL, n, no >= 3 ? xo : NULL, no >= 3 ? yo : NULL, no >= 3 ? no : 0, NULL);
    j->pm = xmalloc((size_t)(no ? no : 1) * C * sizeof(float));
    if (no > 0) core_head_predict(j->h, xo, no, j->pm);
    j->no = no;
    free(xb); free(yb); free(xo); free(yo); free(in);
    return NULL;
}

int core_ens_fit(core_ens **out, const core_head_cfg *cfg, int m, const float *x,
                 const float *y, int n, const core_ens *warm, uint64_t seed, int pos_col,
                 volatile int *cancel, core_ens_info *info)
{
    *out = NULL;
    if (m < 1 || m > CORE_ENS_MAX_M || !cfg_valid(cfg) || n < 0) return -1;
    int d = cfg->d, C = core_head_cfg_ncols(cfg);
    core_ens *e = xcalloc(1, sizeof *e);
    e->cfg = *cfg;
    float *yo = xmalloc((size_t)(n ? n : 1) * C * sizeof(float));   /* (n, C) out-of-bag labels */
    int *cnt = xcalloc((size_t)(n ? n : 1), sizeof(int));
    float *poob = xcalloc((size_t)(n ? n : 1) * C, sizeof(float)); /* (n, C) summed oob probs */
    float *pm = xmalloc((size_t)(n ? n : 1) * C * sizeof(float));
    core_rng r;
    core_rng_seed(&r, seed);
    int rc = 0;
    /* the members and their bootstrap draws first, in order, from the one
     * generator; then the fits, in parallel (DESIGN: each member job owns its
     * head and scratch and reads x, y; the out-of-bag sums are added after
     * the join, in member order, so threads change no number) */
    int *draw = xmalloc((size_t)m * (n ? n : 1) * sizeof(int));   /* (m, n) bootstrap rows */
    member_job jobs[CORE_ENS_MAX_M];
    for (int k = 0; k < m; k++) {
        core_head *h;
        if (core_head_new(&h, cfg, seed * 7919 + (uint64_t)k) != 0) { rc = -1; break; }
        if (warm && k < warm->m) core_head_copy_params(h, warm->h[k]);
        else if (warm && warm->m > 0) core_head_copy_params(h, warm->h[0]);
        e->h[e->m++] = h;
        /* member 0 sees every row once when m == 1: no resampling */
        for (int i = 0; i < n; i++) draw[(size_t)k * n + i] = m == 1 ? i : (int)core_rng_below(&r, (uint32_t)n);
        jobs[k] = (member_job){h, x, y, n, d, C, draw + (size_t)k * n, cancel, NULL, NULL, 0, 0};
    }
    if (rc == 0 && n > 0) {
        int blas = openblas_get_num_threads(), nt = blas < m ? blas : m;
        if (nt > 1 && n >= 256) {
            core_jobs_run(member_worker, jobs, sizeof jobs[0], m);
        } else {
            for (int k = 0; k < m; k++) member_worker(&jobs[k]);
        }
        for (int k = 0; k < m; k++) {
            if (jobs[k].cancelled) rc = 1;
            for (int i = 0; i < jobs[k].no; i++) {
                cnt[jobs[k].oi[i]]++;
                for (int a = 0; a < C; a++) poob[(size_t)jobs[k].oi[i] * C + a] += jobs[k].pm[(size_t)i * C + a];
            }
            free(jobs[k].oi);
            free(jobs[k].pm);
        }
    }
    free(draw);
    if (info) {
        memset(info, 0, sizeof *info);
        info->n_train = n;
        info->oob_metric = NAN;
        snprintf(info->metric, sizeof info->metric, "%s", pos_col >= 0 ? "auc" : "accuracy");
        int no = 0;
        for (int i = 0; i < n; i++) {
            if (!cnt[i]) continue;
            for (int a = 0; a < C; a++) pm[(size_t)no * C + a] = poob[(size_t)i * C + a] / cnt[i];
            memcpy(yo + (size_t)no * C, y + (size_t)i * C, (size_t)C * sizeof(float));
            no++;
        }
        info->n_oob = no;
        if (no > 0) info->oob_metric = ens_metric(cfg, pm, yo, no, pos_col);
    }
    free(yo); free(cnt); free(poob); free(pm);
    if (rc != 0) { core_ens_free(e); return rc; }
    *out = e;
    return 0;
}

/* Entropy (nats) of p over columns [a0, a1). */
static float entropy_of(const float *p, int a0, int a1)
{
    float h = 0;
    for (int a = a0; a < a1; a++) if (p[a] > 1e-12f) h -= p[a] * logf(p[a]);
    return h;
}

/* The clones below: x86-64-v3 (AVX2 + FMA: Intel Haswell and AMD Zen on)
 * contracts the multiply-adds into FMAs ("avx2" alone has no FMA, and
 * -std=c11 leaves contraction off); the same clone runs on both vendors. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)   /* TSan: an ifunc resolver runs before its runtime */
#define HEAD_CLONES __attribute__((target_clones("arch=x86-64-v3", "avx2", "default"), optimize("fp-contract=fast")))
#else
#define HEAD_CLONES
#endif

typedef float head_v4f __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) float hsum8(core_v8f v)
{
    head_v4f s = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    s += __builtin_shufflevector(s, s, 2, 3, 0, 1);
    s += __builtin_shufflevector(s, s, 1, 0, 3, 2);
    return s[0];
}

/* Binary ensemble logits in one read of the rows: U[k][i] = b[k] + W_k . x_i
 * for the nb rows of x (nb, d) and the M rows of W (M, d), U (M, ldu); the
 * rows nb..nb8 (nb rounded up to 8) get b[k].  Each row's dot products come
 * from that row only, so blocks and threads change no number.  (An sgemm
 * this thin spent as long packing the rows as multiplying; the scalar form
 * is core_head_predict_naive, which t_head compares with.) */
HEAD_CLONES
static void binary_logits(const float *W, const float *b, int M, int d, const float *x, int nb, float *U, int ldu)
{
    int d8 = d & ~7, nb8 = (nb + 7) & ~7;
    for (int i = 0; i < nb; i++) {
        const float *xi = x + (size_t)i * d;
        for (int k = 0; k < M; k++) {
            const float *w = W + (size_t)k * d;
            core_v8f acc = {0};
            for (int t = 0; t < d8; t += 8) {
                core_v8f wv, xv;
                memcpy(&wv, w + t, sizeof wv);
                memcpy(&xv, xi + t, sizeof xv);
                acc += wv * xv;
            }
            float sum = hsum8(acc);
            for (int t = d8; t < d; t++) sum += w[t] * xi[t];
            U[(size_t)k * ldu + i] = b[k] + sum;
        }
    }
    for (int k = 0; k < M; k++)
        for (int i = nb; i < nb8; i++) U[(size_t)k * ldu + i] = b[k];
}

/* Binary ensemble: U (M, ldu) logit differences of nb8 rows (a multiple of
 * 8) -> pmean (nb8) mean p(yes), bald (nb8) H(mean) - mean H, clamped at 0. */
HEAD_CLONES
static void binary_block(const float *U, int ldu, int M, int nb8, float *pmean, float *bald)
{
    const core_v8f zero = {0};
    const core_v8i sign = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN};
    for (int i = 0; i < nb8; i += 8) {
        core_v8f ps = zero, hs = zero;
        for (int k = 0; k < M; k++) {
            core_v8f u;
            memcpy(&u, U + (size_t)k * ldu + i, sizeof u);
            core_v8f a = (core_v8f)((core_v8i)u & ~sign), t = core_vexp(-a), inv = 1.0f / (1.0f + t);
            ps += core_vsel(u >= zero, inv, t * inv);
            hs += core_vlog(1.0f + t) + a * t * inv;
        }
        core_v8f pm = ps / (float)M, qm = 1.0f - pm;
        /* entropy of (pm, 1 - pm), terms at p <= 1e-12 dropped as entropy_of does */
        core_v8f hp = core_vsel(pm > 1e-12f, -pm * core_vlog(core_vsel(pm > 1e-12f, pm, zero + 1.0f)), zero);
        core_v8f hq = core_vsel(qm > 1e-12f, -qm * core_vlog(core_vsel(qm > 1e-12f, qm, zero + 1.0f)), zero);
        core_v8f b = hp + hq - hs / (float)M;
        b = core_vsel(b > zero, b, zero);
        memcpy(pmean + i, &pm, sizeof pm);
        memcpy(bald + i, &b, sizeof b);
    }
}

/* Scoring in blocks of ENS_BLOCK rows.  The blocks are the same whatever
 * the thread count, and every output row is computed from its own block
 * only, so threads change no number (t_head checks it bit for bit). */
#define ENS_BLOCK 4096

typedef struct {
    const core_ens *e;
    const float *x;                 /* (n, d) */
    int n;
    float *p, *bald, *entropy, *margin;   /* outputs (n, C), (n) x 3 or NULL */
    const int *parent_q;            /* (n_q) question of each parent answer, -1 none */
    /* linear members stacked: the general path's (M C, d) and (M C); the
     * binary path's logit-difference rows (M, d) and (M) */
    const float *Wall, *ball;
    int stacked, binary;
    int blk0, blk1;                 /* this worker's blocks [blk0, blk1) */
} predict_job;

static void predict_blocks(const predict_job *j)
{
    const core_ens *e = j->e;
    const core_head_cfg *c = &e->cfg;
    int d = c->d, C = core_head_cfg_ncols(c), M = e->m, n = j->n;
    const int B = ENS_BLOCK;
    const float *Wall = j->Wall, *ball = j->ball;
    float *p = j->p, *bald = j->bald, *entropy = j->entropy, *margin = j->margin;
    float *pm = j->binary ? NULL : xmalloc((size_t)M * B * C * sizeof(float));   /* (M, B, C) member probs */
    float *Z = j->stacked && !j->binary ? xmalloc((size_t)B * M * C * sizeof(float)) : NULL;   /* (B, M C) */
    float *U = j->binary ? xmalloc((size_t)M * B * sizeof(float)) : NULL;       /* (M, B) logit differences */
    float *pmean = j->binary ? xmalloc((size_t)B * sizeof(float)) : NULL;    /* (B) mean p(yes) */
    float *bb = j->binary ? xmalloc((size_t)B * sizeof(float)) : NULL;       /* (B) BALD */
    double reach[CORE_HEAD_MAX_Q];
    for (int blk = j->blk0; blk < j->blk1; blk++) {
        int i0 = blk * B, nb = n - i0 < B ? n - i0 : B;
        if (j->binary) {
            /* one yes/no question: each member's logit difference u = x.(w_yes
             * - w_no) + (b_yes - b_no) straight into U (M, nb) (binary_logits);
             * with t = exp(-|u|): p = 1 / (1 + t) or t / (1 + t) and its
             * entropy log(1 + t) + |u| t / (1 + t): one exp and one log
             * per member, 8 rows at a time (binary_block; the general
             * path below, row_probs and entropy_of, is the scalar form) */
            int nb8 = (nb + 7) & ~7;
            binary_logits(Wall, ball, M, d, j->x + (size_t)i0 * d, nb, U, B);
            binary_block(U, B, M, nb8, pmean, bb);
            for (int i = 0; i < nb; i++) {
                float pmn = pmean[i];
                float *pi = p + (size_t)(i0 + i) * 2;
                pi[0] = pmn;
                pi[1] = 1 - pmn;
                if (bald) bald[i0 + i] = bb[i];
                if (entropy) entropy[i0 + i] = entropy_of((const float[2]){pmn, 1 - pmn}, 0, 2);
                if (margin) margin[i0 + i] = 1 - fabsf(2 * pmn - 1);
            }
            continue;
        }
        if (j->stacked) {
            int MC = M * C;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, MC, d, 1.0f, j->x + (size_t)i0 * d, d,
                        Wall, d, 0.0f, Z, MC);
            for (int i = 0; i < nb; i++) {
                float *zi = Z + (size_t)i * MC;
                for (int q = 0; q < MC; q++) zi[q] += ball[q];
                for (int k = 0; k < M; k++) row_probs(c, zi + (size_t)k * C, pm + ((size_t)k * B + i) * C);
            }
        } else {
            for (int k = 0; k < M; k++)
                core_head_predict(e->h[k], j->x + (size_t)i0 * d, nb, pm + (size_t)k * B * C);
        }
        for (int i = 0; i < nb; i++) {
            float *pi = p + (size_t)(i0 + i) * C;
            for (int a = 0; a < C; a++) {
                double s = 0;
                for (int k = 0; k < M; k++) s += pm[((size_t)k * B + i) * C + a];
                pi[a] = (float)(s / M);
            }
            double b = 0, en = 0, mg = 0;
            for (int q = 0; q < c->n_q; q++) {
                int a0 = c->q_start[q], a1 = c->q_start[q + 1];
                int pc = c->parent_col[q];
                /* parents come earlier in schema order, so reach of the parent is known */
                double rq = 1;
                if (pc >= 0) {
                    int pq = j->parent_q[q];
                    rq = (pq >= 0 && pq < q ? reach[pq] : 1) * pi[pc];
                }
                reach[q] = rq;
                double hm = entropy_of(pi, a0, a1), he = 0;
                for (int k = 0; k < M; k++) he += entropy_of(pm + ((size_t)k * B + i) * C, a0, a1);
                he /= M;
                b += rq * (hm - he);
                en += rq * hm;
                float t1 = 0, t2 = 0;
                for (int a = a0; a < a1; a++) {
                    if (pi[a] > t1) { t2 = t1; t1 = pi[a]; }
                    else if (pi[a] > t2) t2 = pi[a];
                }
                mg += rq * (1.0 - (t1 - t2));
            }
            if (bald) bald[i0 + i] = (float)(b > 0 ? b : 0);
            if (entropy) entropy[i0 + i] = (float)en;
            if (margin) margin[i0 + i] = (float)mg;
        }
    }
    free(pm);
    free(Z);
    free(U);
    free(pmean);
    free(bb);
}

static void *predict_worker(void *arg)
{
    predict_blocks(arg);
    return NULL;
}

/* Rows per thread below which one thread scores everything. */
#define ENS_THREAD_MIN_ROWS 16384

void core_ens_predict(const core_ens *e, const float *x, int n, float *p, float *bald,
                      float *entropy, float *margin)
{
    core_ens_predict_threads(e, x, n, p, bald, entropy, margin, 0);
}

void core_ens_predict_threads(const core_ens *e, const float *x, int n, float *p, float *bald,
                              float *entropy, float *margin, int threads)
{
    const core_head_cfg *c = &e->cfg;
    int d = c->d, C = core_head_cfg_ncols(c), M = e->m;
    int parent_q[CORE_HEAD_MAX_Q];   /* question of each question's parent answer, -1 none */
    for (int q = 0; q < c->n_q; q++) {
        int pc = c->parent_col[q], pq = -1;
        for (int t = 0; pc >= 0 && t < c->n_q; t++)
            if (pc >= c->q_start[t] && pc < c->q_start[t + 1]) pq = t;
        parent_q[q] = pq;
    }
    /* linear members: all M output layers stacked into one matrix, so each
     * block of rows is read by one sgemm instead of M; for one yes/no
     * question the M rows of logit differences w_yes - w_no */
    int stacked = c->hidden == 0;
    int binary = stacked && c->n_q == 1 && C == 2 && c->loss == CORE_LOSS_CE;
    float *Wall = NULL, *ball = NULL;   /* (M C, d), (M C); binary: (M, d), (M) */
    if (binary) {
        Wall = xmalloc((size_t)M * d * sizeof(float));
        ball = xmalloc((size_t)M * sizeof(float));
        for (int k = 0; k < M; k++) {
            const float *W = e->h[k]->W, *b = e->h[k]->b;
            for (int t = 0; t < d; t++) Wall[(size_t)k * d + t] = W[t] - W[d + t];
            ball[k] = b[0] - b[1];
        }
    } else if (stacked) {
        Wall = xmalloc((size_t)M * C * d * sizeof(float));
        ball = xmalloc((size_t)M * C * sizeof(float));
        for (int k = 0; k < M; k++) {
            memcpy(Wall + (size_t)k * C * d, e->h[k]->W, (size_t)C * d * sizeof(float));
            memcpy(ball + (size_t)k * C, e->h[k]->b, (size_t)C * sizeof(float));
        }
    }
    int nblk = (n + ENS_BLOCK - 1) / ENS_BLOCK;
    /* threads: as many as OpenBLAS may use (0), each with one-threaded BLAS
     * meanwhile (DESIGN as in core_ens_fit: workers own their scratch and
     * disjoint output rows, read e, x and the stacked weights) */
    int blas = openblas_get_num_threads(), nt = threads > 0 ? threads : blas;
    if (nt > n / ENS_THREAD_MIN_ROWS) nt = n / ENS_THREAD_MIN_ROWS;
    if (nt > nblk) nt = nblk;
    if (nt > 16) nt = 16;
    if (nt < 1) nt = 1;
    predict_job jobs[16];
    for (int t = 0; t < nt; t++)
        jobs[t] = (predict_job){e, x, n, p, bald, entropy, margin, parent_q, Wall, ball, stacked, binary,
                                (int)((long long)nblk * t / nt), (int)((long long)nblk * (t + 1) / nt)};
    /* one-threaded BLAS even for one worker: a sgemm this thin (M or M C
     * outputs) only loses by OpenBLAS's threads waking and spinning */
    core_jobs_run(predict_worker, jobs, sizeof jobs[0], nt);
    free(Wall);
    free(ball);
}

/* ---- serialisation: "ZHE1", cfg (fixed little-endian ints), m, then per
 * member its np floats. */
#define ENS_MAGIC "ZHE1"

int core_ens_save(const core_ens *e, uint8_t **buf, size_t *len)
{
    int np = e->m > 0 ? e->h[0]->np : 0;
    size_t n = 4 + sizeof(core_head_cfg) + 2 * sizeof(int32_t) + (size_t)e->m * np * sizeof(float);
    uint8_t *b = xmalloc(n), *q = b;
    memcpy(q, ENS_MAGIC, 4); q += 4;
    memcpy(q, &e->cfg, sizeof e->cfg); q += sizeof e->cfg;
    int32_t v = e->m;
    memcpy(q, &v, 4); q += 4;
    v = np;
    memcpy(q, &v, 4); q += 4;
    for (int k = 0; k < e->m; k++) {
        memcpy(q, e->h[k]->params, (size_t)np * sizeof(float));
        q += (size_t)np * sizeof(float);
    }
    *buf = b;
    *len = n;
    return 0;
}

int core_ens_load(const void *buf, size_t len, core_ens **out, char *err, size_t errlen)
{
    *out = NULL;
    const uint8_t *q = buf;
    core_head_cfg cfg;
    int32_t m, np;
    if (len < 4 + sizeof cfg + 8 || memcmp(q, ENS_MAGIC, 4) != 0) {
        snprintf(err, errlen, "not a zoosh head (bad magic or too short)");
        return -1;
    }
    memcpy(&cfg, q + 4, sizeof cfg);
    memcpy(&m, q + 4 + sizeof cfg, 4);
    memcpy(&np, q + 8 + sizeof cfg, 4);
    if (!cfg_valid(&cfg) || m < 1 || m > CORE_ENS_MAX_M) {
        snprintf(err, errlen, "head: bad configuration");
        return -1;
    }
    core_ens *e = xcalloc(1, sizeof *e);
    e->cfg = cfg;
    const uint8_t *pp = q + 12 + sizeof cfg;
    for (int k = 0; k < m; k++) {
        core_head *h;
        core_head_new(&h, &cfg, 0);
        e->h[e->m++] = h;
        if (h->np != np || (size_t)(pp - q) + (size_t)np * sizeof(float) > len) {
            snprintf(err, errlen, "head: parameter block of %d floats does not fit (%zu bytes)", np, len);
            core_ens_free(e);
            return -1;
        }
        memcpy(h->params, pp, (size_t)np * sizeof(float));
        pp += (size_t)np * sizeof(float);
    }
    *out = e;
    return 0;
}
