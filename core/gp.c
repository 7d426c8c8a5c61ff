/*
 * gp.c - Gaussian-process regression with RQ / Matern-5/2 kernels, marginal
 * likelihood fitting, batched BLAS prediction, EI / UCB (see gp.h).
 *
 * Block ARD: the squared distances of every block are kept (Db); one
 * marginal-likelihood evaluation combines them with the current devs into
 * R = sum_b Db exp(-2 dev_b) and runs the isotropic RQ pieces on R; the
 * gradient by dev_b is dk/dlog ell's share of block b, Db_b exp(-2 dev_b) / R.
 *
 * Legend: n rated rows, d features, B batch rows, nb blocks, P parameters
 * (4, or 4 + nb).  Training-side algebra is
 * in double through LAPACK's dpotrf/dpotrs/dpotri (in OpenBLAS; declared
 * here because Debian's OpenBLAS ships no lapacke.h for it), column-major
 * (K is symmetric so only the factor's layout matters).  Prediction is float
 * with sgemm / strsm against a row-major copy of the factor.
 */
#include "core/gp.h"
#include "core/util.h"
#include "core/fastmath.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
                    const int *lda, double *b, const int *ldb, int *info);
extern void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info);
extern void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);

struct core_gp {
    int n, d;
    core_gp_hyper hp;
    float *x;        /* (n, d) rated rows */
    float *xn;       /* (n) squared norms */
    double *D;       /* (n, n) squared distances */
    double ymean, ysd;
    double *yz;      /* (n) normalised targets */
    float *L;        /* (n, n) row-major lower Cholesky factor of K + noise I */
    float *alpha;    /* (n) K^-1 yz */
    float best;      /* max posterior mean on the rated rows, rating units */
    float *Wt;       /* (n, n) L^-T (upper triangular, zeros below), for the variance by sgemm */
    int nb;          /* blocks of a block fit (>= 1, with the linear term), 0 = isotropic */
    int *block;      /* (d) column -> block */
    double *Db;      /* (nb, n, n) per-block squared distances of the unscaled rows */
    double *bn;      /* (nb, n) per-block squared norms of the unscaled rows */
    float *cs;       /* (d) column scales exp(-dev_b) once fitted (x holds scaled rows); NULL isotropic */
    double prior_sd; /* dev_b ~ Normal(0, prior_sd^2) */
    int ell_prior;   /* 1: log ell ~ Normal(ell_mu, GP_ELL_PRIOR_SD^2) (block fits) */
    double ell_mu;   /* log of the mean distance between rated rows */
};

/* Kernel value (without noise) at squared distance r2. */
static double kval(const core_gp_hyper *hp, double r2)
{
    if (r2 < 0) r2 = 0;
    if (hp->kernel == CORE_KERNEL_MATERN52) {
        double r = sqrt(r2) / hp->ell, s5 = sqrt(5.0) * r;
        return hp->amp * (1 + s5 + 5 * r * r / 3) * exp(-s5);
    }
    return hp->amp * pow(1 + r2 / (2 * hp->alpha * hp->ell * hp->ell), -hp->alpha);
}

/* Builds K (column-major = row-major, symmetric) into K. */
static void build_k(const core_gp *g, const core_gp_hyper *hp, double *K)
{
    int n = g->n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            K[(size_t)i * n + j] = kval(hp, g->D[(size_t)i * n + j]) + (i == j ? hp->noise : 0) +
                                   hp->lin * 0.5 * (g->xn[i] + g->xn[j] - g->D[(size_t)i * n + j]);
}

/* Scratch for one marginal-likelihood evaluation, allocated once per fit. */
typedef struct {
    double *K;    /* (n, n) kernel, then its factor / inverse */
    double *dL;   /* (n, n) dk/dlog ell, lower triangle */
    double *dA;   /* (n, n) dk/dlog alpha */
    double *Kv;   /* (n, n) k without noise */
    double *a;    /* (n) */
    double *R;    /* (n, n) a block fit's combined squared distances, NULL otherwise */
    double *G;    /* (n, n) a block fit's dot products of the scaled rows, NULL otherwise */
    int naive;    /* the scalar kernel loop (core_gp_lml_naive) */
} lml_ws;

static void ws_init(lml_ws *w, const core_gp *g)
{
    int n = g->n;
    size_t nn = (size_t)n * n;
    w->K = xmalloc(nn * sizeof(double));
    w->dL = xmalloc(nn * sizeof(double));
    w->dA = xmalloc(nn * sizeof(double));
    w->Kv = xmalloc(nn * sizeof(double));
    w->a = xmalloc((size_t)n * sizeof(double));
    w->R = g->nb >= 1 ? xmalloc(nn * sizeof(double)) : NULL;
    w->G = g->nb >= 1 ? xmalloc(nn * sizeof(double)) : NULL;
    w->naive = 0;
}

static void ws_free(lml_ws *w) { free(w->K); free(w->dL); free(w->dA); free(w->Kv); free(w->a); free(w->R); free(w->G); }

/* R's lower triangle (column-major, as lml_eval reads it): sum_b Db exp(-2 dev_b). */
static void block_combine(const core_gp *g, const core_gp_hyper *hp, double *R)
{
    int n = g->n;
    size_t nn = (size_t)n * n;
    double e2[CORE_GP_MAX_BLOCKS];
    for (int b = 0; b < g->nb; b++) e2[b] = exp(-2 * hp->dev[b]);
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) {
            size_t ij = (size_t)j * n + i;
            double s = 0;
            for (int b = 0; b < g->nb; b++) s += g->Db[b * nn + ij] * e2[b];
            R[ij] = s;
        }
}

/* G's lower triangle: the scaled rows' dot products, sum_b exp(-2 dev_b)
 * (|x_b,i|^2 + |x_b,j|^2 - Db_ij) / 2. */
static void block_dot(const core_gp *g, const core_gp_hyper *hp, double *G)
{
    int n = g->n;
    size_t nn = (size_t)n * n;
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) G[(size_t)j * n + i] = 0;
    for (int b = 0; b < g->nb; b++) {
        double e2 = exp(-2 * hp->dev[b]);
        const double *bn = g->bn + (size_t)b * n, *Db = g->Db + b * nn;
        for (int j = 0; j < n; j++)
            for (int i = j; i < n; i++) {
                size_t ij = (size_t)j * n + i;
                G[ij] += e2 * 0.5 * (bn[i] + bn[j] - Db[ij]);
            }
    }
}

/* The RQ pieces of one column of pairs, r2[0..len): k = amp u^-alpha with
 * u = 1 + r2 c, dk/dlog ell = k 2 alpha (u - 1) / u, dk/dlog alpha =
 * k alpha ((u - 1) / u - log u).  The scalar loop is the reference; with
 * AVX2 + FMA (Intel Haswell, AMD Zen on) the same formulas run 4 pairs at a
 * time through glibc's libmvec exp / log (within 4 ulp of libm's). */
static void rq_col_scalar(const double *r2, int len, double c, double amp, double alpha, double *k, double *gl,
                          double *ga)
{
    for (int i = 0; i < len; i++) {
        double u = 1 + r2[i] * c, lu = log(u), kk = amp * exp(-alpha * lu), f = (u - 1) / u;
        k[i] = kk;
        gl[i] = kk * 2 * alpha * f;
        ga[i] = kk * alpha * (f - lu);
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#include <immintrin.h>
#define GP_HAVE_MVEC 1
extern __m256d _ZGVdN4v_exp(__m256d);   /* libmvec (glibc >= 2.22; libm.so pulls it in) */
extern __m256d _ZGVdN4v_log(__m256d);

__attribute__((target("avx2,fma"))) static void rq_col_mvec(const double *r2, int len, double c, double amp,
                                                          double alpha, double *k, double *gl, double *ga)
{
    const __m256d one = _mm256_set1_pd(1), vc = _mm256_set1_pd(c), va = _mm256_set1_pd(amp),
                  val = _mm256_set1_pd(alpha), v2al = _mm256_set1_pd(2 * alpha), vnal = _mm256_set1_pd(-alpha);
    int i = 0;
    for (; i + 4 <= len; i += 4) {
        __m256d u = _mm256_fmadd_pd(_mm256_loadu_pd(r2 + i), vc, one);
        __m256d lu = _ZGVdN4v_log(u);
        __m256d kk = _mm256_mul_pd(va, _ZGVdN4v_exp(_mm256_mul_pd(vnal, lu)));
        __m256d f = _mm256_div_pd(_mm256_sub_pd(u, one), u);
        _mm256_storeu_pd(k + i, kk);
        _mm256_storeu_pd(gl + i, _mm256_mul_pd(_mm256_mul_pd(kk, v2al), f));
        _mm256_storeu_pd(ga + i, _mm256_mul_pd(_mm256_mul_pd(kk, val), _mm256_sub_pd(f, lu)));
    }
    rq_col_scalar(r2 + i, len - i, c, amp, alpha, k + i, gl + i, ga + i);
}
#endif

static void rq_col(const double *r2, int len, double c, double amp, double alpha, double *k, double *gl, double *ga,
                   int naive)
{
#ifdef GP_HAVE_MVEC
    if (!naive && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        rq_col_mvec(r2, len, c, amp, alpha, k, gl, ga);
        return;
    }
#else
    (void)naive;
#endif
    rq_col_scalar(r2, len, c, amp, alpha, k, gl, ga);
}

static double lml_eval(const core_gp *g, const core_gp_hyper *hp, double *grad, lml_ws *w)
{
    int n = g->n, info = 0, one = 1;
    double *K = w->K, *dL = w->dL, *dA = w->dA, *Kv = w->Kv, *a = w->a;
    /* one pass over the pairs: each kernel value with the pieces its gradient
     * needs (RQ: u = 1 + r2 / (2 alpha ell^2), k = amp u^-alpha,
     * dk/dlog ell = k 2 alpha (u - 1) / u, dk/dlog alpha = k alpha (-log u + (u - 1) / u);
     * Matern: dk/dlog ell = amp 5/3 r^2 (1 + sqrt5 r) exp(-sqrt5 r)) */
    double c = 1.0 / (2 * hp->alpha * hp->ell * hp->ell);
    const double *Dm = g->D;
    if (g->nb >= 1) {
        block_combine(g, hp, w->R);
        Dm = w->R;
    }
    if (hp->kernel != CORE_KERNEL_MATERN52) {
        for (int j = 0; j < n; j++) {
            size_t jj = (size_t)j * n + j;           /* column j from the diagonal down */
            rq_col(Dm + jj, n - j, c, hp->amp, hp->alpha, Kv + jj, dL + jj, dA + jj, w->naive);
            memcpy(K + jj, Kv + jj, (size_t)(n - j) * sizeof(double));
            K[jj] += hp->noise;
        }
    } else
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) {
            double r2 = g->D[(size_t)j * n + i], k, gl = 0, ga = 0;   /* symmetric: read along the row */
            if (hp->kernel == CORE_KERNEL_MATERN52) {
                double r = sqrt(r2) / hp->ell, s5 = sqrt(5.0) * r, e = exp(-s5);
                k = hp->amp * (1 + s5 + 5 * r * r / 3) * e;
                gl = hp->amp * (5.0 / 3) * r * r * (1 + s5) * e;
            } else {
                double u = 1 + r2 * c, lu = log(u);
                k = hp->amp * exp(-hp->alpha * lu);
                double f = (u - 1) / u;
                gl = k * 2 * hp->alpha * f;
                ga = k * hp->alpha * (f - lu);
            }
            size_t ij = (size_t)j * n + i;          /* column-major lower: row i, col j */
            K[ij] = k + (i == j ? hp->noise : 0);
            if (grad) { Kv[ij] = k; dL[ij] = gl; dA[ij] = ga; }
        }
    if (g->nb >= 1) {   /* the linear term */
        block_dot(g, hp, w->G);
        for (int j = 0; j < n; j++)
            for (int i = j; i < n; i++) K[(size_t)j * n + i] += hp->lin * w->G[(size_t)j * n + i];
    }
    dpotrf_("L", &n, K, &n, &info);
    if (info != 0) return -INFINITY;
    memcpy(a, g->yz, (size_t)n * sizeof(double));
    dpotrs_("L", &n, &one, K, &n, a, &n, &info);
    double lml = 0;
    for (int i = 0; i < n; i++) lml -= 0.5 * g->yz[i] * a[i] + log(K[(size_t)i * n + i]);
    lml -= 0.5 * n * log(2 * M_PI);
    if (grad) {
        /* dlml/dtheta = 0.5 tr((a a^T - K^-1) dK/dtheta) */
        dpotri_("L", &n, K, &n, &info);    /* lower (column-major) triangle of K^-1 */
        double gr[4] = {0, 0, 0, 0};
        for (int j = 0; j < n; j++)
            for (int i = j; i < n; i++) {
                size_t ij = (size_t)j * n + i;
                double wij = a[i] * a[j] - K[ij];
                double mult = i == j ? 0.5 : 1.0;  /* off-diagonal pairs count twice */
                gr[0] += mult * wij * Kv[ij];
                gr[1] += mult * wij * dL[ij];
                gr[2] += mult * wij * dA[ij];
                if (i == j) gr[3] += 0.5 * wij * hp->noise;
            }
        for (int t = 0; t < 4; t++) grad[t] = gr[t];
        if (hp->kernel == CORE_KERNEL_MATERN52) grad[2] = 0;
        /* block fits: the linear term's variance; block b's share of
         * dk/dlog ell, Db_b exp(-2 dev_b) / R, and of the linear term,
         * -2 lin exp(-2 dev_b) G_b */
        size_t nn = (size_t)n * n;
        if (g->nb >= 1) {
            double gl = 0;
            for (int j = 0; j < n; j++)
                for (int i = j; i < n; i++) {
                    size_t ij = (size_t)j * n + i;
                    gl += (i == j ? 0.5 : 1.0) * (a[i] * a[j] - K[ij]) * hp->lin * w->G[ij];
                }
            grad[4] = gl;
        }
        for (int b = 0; b < g->nb; b++) {
            double e2 = exp(-2 * hp->dev[b]), gb = 0;
            const double *bn = g->bn + (size_t)b * n, *Db = g->Db + b * nn;
            for (int j = 0; j < n; j++)
                for (int i = j; i < n; i++) {
                    size_t ij = (size_t)j * n + i;
                    double wij = (i == j ? 0.5 : 1.0) * (a[i] * a[j] - K[ij]);
                    if (Dm[ij] > 0) gb += wij * dL[ij] * Db[ij] * e2 / Dm[ij];
                    gb -= wij * 2 * hp->lin * e2 * 0.5 * (bn[i] + bn[j] - Db[ij]);
                }
            grad[5 + b] = gb;
        }
    }
    return lml;
}

static double lml_once(const core_gp *g, const core_gp_hyper *hp, double *grad, int naive)
{
    lml_ws w;
    ws_init(&w, g);
    w.naive = naive;
    double l = lml_eval(g, hp, grad, &w);
    ws_free(&w);
    return l;
}

double core_gp_lml(const core_gp *g, const core_gp_hyper *hp, double *grad) { return lml_once(g, hp, grad, 0); }
double core_gp_lml_naive(const core_gp *g, const core_gp_hyper *hp, double *grad) { return lml_once(g, hp, grad, 1); }

/* log-parameter vector <-> hyper, with bounds (clamped): t = (log amp,
 * log ell, log alpha, log noise), then for a block fit log lin, dev_0 ..
 * dev_nb-1 */
#define GP_MAXP (5 + CORE_GP_MAX_BLOCKS)
static const double LO[4] = {-4.6, -2.3, -3.0, -9.2};   /* amp .01, ell .1, alpha .05, noise 1e-4 */
static const double HI[4] = {4.6, 6.9, 4.6, 1.0};       /* amp 100, ell 1000, alpha 100, noise 2.7 */
#define DEV_LO -4.0                                      /* a block's scale within e^+-4 of ell */
#define DEV_HI 4.0
#define GP_ELL_PRIOR_SD 1.0                              /* block fits: ell within ~e^2 of the mean distance */

#define LIN_LO -9.2                                      /* lin 1e-4 .. 10 */
#define LIN_HI 2.3

static double lo_of(int i) { return i < 4 ? LO[i] : i == 4 ? LIN_LO : DEV_LO; }
static double hi_of(int i) { return i < 4 ? HI[i] : i == 4 ? LIN_HI : DEV_HI; }

static void theta_to_hp(const double *t, int P, core_kernel k, core_gp_hyper *hp)
{
    double c[GP_MAXP];
    for (int i = 0; i < P; i++) c[i] = t[i] < lo_of(i) ? lo_of(i) : t[i] > hi_of(i) ? hi_of(i) : t[i];
    memset(hp, 0, sizeof *hp);
    hp->kernel = k;
    hp->amp = exp(c[0]);
    hp->ell = exp(c[1]);
    hp->alpha = exp(c[2]);
    hp->noise = exp(c[3]);
    hp->lin = P > 4 ? exp(c[4]) : 0;
    hp->nb = P > 5 ? P - 5 : 0;
    for (int b = 0; b < hp->nb; b++) hp->dev[b] = c[5 + b];
}

/* The optimiser works on unconstrained s: t = LO + (HI - LO) sigmoid(s), so
 * the log parameters stay inside their box without walls to bounce off. */
static void s_to_t(const double *sv, int P, double *t, double *dtds)
{
    for (int i = 0; i < P; i++) {
        double sg = 1 / (1 + exp(-sv[i])), w = hi_of(i) - lo_of(i);
        t[i] = lo_of(i) + w * sg;
        if (dtds) dtds[i] = w * sg * (1 - sg);
    }
}

static void t_to_s(const double *t, int P, double *sv)
{
    for (int i = 0; i < P; i++) {
        double u = (t[i] - lo_of(i)) / (hi_of(i) - lo_of(i));
        u = u < 1e-3 ? 1e-3 : u > 1 - 1e-3 ? 1 - 1e-3 : u;
        sv[i] = log(u / (1 - u));
    }
}

/* Negative lml, plus the devs' Normal prior for a block GP, and its
 * gradient in s. */
static double neg_obj(const core_gp *g, core_kernel k, const double *sv, int P, double *grad, lml_ws *w)
{
    core_gp_hyper hp;
    double t[GP_MAXP], dt[GP_MAXP], gr[GP_MAXP];
    s_to_t(sv, P, t, dt);
    theta_to_hp(t, P, k, &hp);
    double f = -lml_eval(g, &hp, gr, w);
    for (int i = 0; i < P; i++) grad[i] = -gr[i] * dt[i];
    if (k == CORE_KERNEL_MATERN52) grad[2] = 0;
    for (int i = 5; i < P; i++) {
        double v = g->prior_sd * g->prior_sd;
        f += t[i] * t[i] / (2 * v);
        grad[i] += t[i] / v * dt[i];
    }
    if (g->ell_prior) {
        double v = GP_ELL_PRIOR_SD * GP_ELL_PRIOR_SD, e = t[1] - g->ell_mu;
        f += e * e / (2 * v);
        grad[1] += e / v * dt[1];
    }
    return f;
}

/* Dense BFGS on the P unconstrained parameters with backtracking; returns the final objective. */
static double bfgs(const core_gp *g, core_kernel k, double *t, int P, lml_ws *w)
{
    double Hi[GP_MAXP * GP_MAXP];
    double gr[GP_MAXP], gn[GP_MAXP], tn[GP_MAXP], p[GP_MAXP];
    for (int i = 0; i < P * P; i++) Hi[i] = i % (P + 1) == 0;
    double f = neg_obj(g, k, t, P, gr, w);
    if (!isfinite(f)) return f;
    for (int it = 0; it < 40 + 5 * (P - 4); it++) {   /* more steps for more parameters */
        double gd = 0, gg = 0;
        for (int i = 0; i < P; i++) {
            p[i] = 0;
            for (int j = 0; j < P; j++) p[i] -= Hi[i * P + j] * gr[j];
            gd += p[i] * gr[i];
            gg += gr[i] * gr[i];
        }
        if (gg < 1e-10) break;
        if (gd >= 0) {
            for (int i = 0; i < P * P; i++) Hi[i] = i % (P + 1) == 0;
            for (int i = 0; i < P; i++) p[i] = -gr[i];
            gd = -gg;
        }
        double pn = 0;
        for (int i = 0; i < P; i++) pn += p[i] * p[i];
        double step = pn > 4 ? 2 / sqrt(pn) : 1;   /* at most 2 in log space per step */
        double fn = f;
        int ok = 0;
        for (int ls = 0; ls < 25; ls++) {
            for (int i = 0; i < P; i++) tn[i] = t[i] + step * p[i];
            fn = neg_obj(g, k, tn, P, gn, w);
            if (isfinite(fn) && fn <= f + 1e-4 * step * gd) { ok = 1; break; }
            step *= 0.5;
        }
        if (!ok) break;
        double s[GP_MAXP], y[GP_MAXP], sy = 0;
        for (int i = 0; i < P; i++) { s[i] = tn[i] - t[i]; y[i] = gn[i] - gr[i]; sy += s[i] * y[i]; }
        double df = f - fn;
        memcpy(t, tn, (size_t)P * sizeof(double));
        memcpy(gr, gn, (size_t)P * sizeof(double));
        f = fn;
        if (sy > 1e-12) {
            /* H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T */
            double rho = 1 / sy, Hy[GP_MAXP], yHy = 0;
            for (int i = 0; i < P; i++) {
                Hy[i] = 0;
                for (int j = 0; j < P; j++) Hy[i] += Hi[i * P + j] * y[j];
                yHy += y[i] * Hy[i];
            }
            for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++)
                    Hi[i * P + j] += rho * ((1 + rho * yHy) * s[i] * s[j] - Hy[i] * s[j] - s[i] * Hy[j]);
        }
        if (df < 1e-6 * (1 + fabs(f))) break;
    }
    return f;
}

/* squared distance of rows a and b */
static double sqdist(const float *a, const float *b, int d)
{
    double s = 0;
    for (int k = 0; k < d; k++) {
        double t = (double)a[k] - b[k];
        s += t * t;
    }
    return s;
}

/* The model over x (copied); a block fit when bl is given (bl->nb < 2: one
 * block) and its distances fit in memory (nb n^2 doubles up to
 * GP_BLOCK_CELLS; else isotropic). */
#define GP_BLOCK_CELLS (48u << 20)
static core_gp *gp_alloc(const float *x, const float *y, int n, int d, const core_gp_blocks *bl)
{
    core_gp *g = xcalloc(1, sizeof *g);
    g->n = n;
    g->d = d;
    g->x = xmalloc((size_t)n * d * sizeof(float));
    memcpy(g->x, x, (size_t)n * d * sizeof(float));
    g->xn = xmalloc((size_t)n * sizeof(float));
    g->D = xmalloc((size_t)n * n * sizeof(double));
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < d; k++) s += (double)x[(size_t)i * d + k] * x[(size_t)i * d + k];
        g->xn[i] = (float)s;
    }
    size_t nn = (size_t)n * n;
    int nbk = bl && bl->nb >= 2 ? bl->nb : 1;
    if (bl && (size_t)nbk * nn <= GP_BLOCK_CELLS) {
        g->nb = nbk;
        g->prior_sd = bl->prior_sd > 0 ? bl->prior_sd : 1;
        g->block = xcalloc((size_t)d, sizeof(int));
        if (nbk >= 2) memcpy(g->block, bl->block, (size_t)d * sizeof(int));
        g->Db = xmalloc((size_t)g->nb * nn * sizeof(double));
        g->bn = xcalloc((size_t)g->nb * n, sizeof(double));
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) g->bn[(size_t)g->block[k] * n + i] += (double)x[(size_t)i * d + k] * x[(size_t)i * d + k];
    }
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) {
            const float *a = x + (size_t)i * d, *b = x + (size_t)j * d;
            double acc[CORE_GP_MAX_BLOCKS] = {0}, s = 0;
            for (int k = 0; k < d && g->nb; k++) {
                double t = (double)a[k] - b[k];
                acc[g->block[k]] += t * t;
            }
            for (int bk = 0; bk < g->nb; bk++) {
                g->Db[bk * nn + (size_t)i * n + j] = g->Db[bk * nn + (size_t)j * n + i] = acc[bk];
                s += acc[bk];
            }
            if (g->nb == 0) s = sqdist(a, b, d);
            g->D[(size_t)i * n + j] = g->D[(size_t)j * n + i] = s;
        }
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += y[i];
    m /= n;
    for (int i = 0; i < n; i++) v += (y[i] - m) * (y[i] - m);
    v = n > 1 ? sqrt(v / n) : 1;
    if (v < 1e-6) v = 1;
    g->ymean = m;
    g->ysd = v;
    g->yz = xmalloc((size_t)n * sizeof(double));
    for (int i = 0; i < n; i++) g->yz[i] = (y[i] - m) / v;
    return g;
}

/* A block model's hyperparameters are final: its rows, norms and distances
 * become those of the scaled columns x exp(-dev_b), which the isotropic
 * factor and prediction code then use as they are. */
static void gp_scale(core_gp *g)
{
    if (g->nb < 1) return;
    int n = g->n, d = g->d;
    free(g->cs);
    g->cs = xmalloc((size_t)d * sizeof(float));
    for (int k = 0; k < d; k++) g->cs[k] = (float)exp(-g->hp.dev[g->block[k]]);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            float *v = g->x + (size_t)i * d + k;
            *v *= g->cs[k];
            s += (double)*v * *v;
        }
        g->xn[i] = (float)s;
    }
    block_combine(g, &g->hp, g->D);
    for (int j = 0; j < n; j++)
        for (int i = j + 1; i < n; i++) g->D[(size_t)i * n + j] = g->D[(size_t)j * n + i];
}

/* Factor K + noise I with g->hp, keep the float factor and alpha. */
static int gp_factor(core_gp *g)
{
    int n = g->n, info = 0, one = 1;
    gp_scale(g);
    double *K = xmalloc((size_t)n * n * sizeof(double));
    double *a = xmalloc((size_t)n * sizeof(double));
    build_k(g, &g->hp, K);
    dpotrf_("L", &n, K, &n, &info);
    if (info != 0) { free(K); free(a); return -1; }
    memcpy(a, g->yz, (size_t)n * sizeof(double));
    dpotrs_("L", &n, &one, K, &n, a, &n, &info);
    free(g->L);
    free(g->alpha);
    g->L = xcalloc((size_t)n * n, sizeof(float));
    g->alpha = xmalloc((size_t)n * sizeof(float));
    for (int j = 0; j < n; j++)
        for (int i = j; i < n; i++) g->L[(size_t)i * n + j] = (float)K[(size_t)j * n + i];
    for (int i = 0; i < n; i++) g->alpha[i] = (float)a[i];
    /* L^-T: L^-1 by LAPACK's dtrtri (column-major lower), whose column c is
     * row c of L^-T (row-major upper) */
    free(g->Wt);
    g->Wt = xcalloc((size_t)n * n, sizeof(float));
    {
        double *Xi = xcalloc((size_t)n * n, sizeof(double));   /* (n, n) column-major L^-1 */
        for (int j = 0; j < n; j++)
            for (int i = j; i < n; i++) Xi[(size_t)j * n + i] = K[(size_t)j * n + i];
        dtrtri_("L", "N", &n, Xi, &n, &info);
        for (int c = 0; c < n; c++)
            for (int r = c; r < n; r++) g->Wt[(size_t)c * n + r] = (float)Xi[(size_t)c * n + r];
        free(Xi);
    }
    /* incumbent: the best posterior mean on the rated rows (already scaled:
     * predicted with the columns as they are) */
    float *mu = xmalloc((size_t)n * sizeof(float)), *cs = g->cs;
    g->cs = NULL;
    core_gp_predict(g, g->x, n, mu, NULL);
    g->cs = cs;
    g->best = mu[0];
    for (int i = 1; i < n; i++) if (mu[i] > g->best) g->best = mu[i];
    free(mu);
    free(K);
    free(a);
    return 0;
}

/* bl is usable for d columns: 0, or -1 */
static int blocks_check(const core_gp_blocks *bl, int d)
{
    if (!bl || bl->nb < 2) return 0;   /* one block */
    if (bl->nb > CORE_GP_MAX_BLOCKS || !bl->block) return -1;
    for (int k = 0; k < d; k++)
        if (bl->block[k] < 0 || bl->block[k] >= bl->nb) return -1;
    return 0;
}

int core_gp_fit_fixed_blocks(core_gp **out, const float *x, const float *y, int n, int d,
                             const core_gp_blocks *bl, const core_gp_hyper *hp)
{
    *out = NULL;
    if (n < 1 || d < 1 || blocks_check(bl, d) != 0) return -1;
    core_gp *g = gp_alloc(x, y, n, d, bl);
    g->hp = *hp;
    if (g->nb >= 1 && (hp->nb != g->nb || hp->kernel != CORE_KERNEL_RQ)) { core_gp_free(g); return -1; }
    if (g->nb < 1) { g->hp.nb = 0; g->hp.lin = 0; }
    if (gp_factor(g) != 0) { core_gp_free(g); return -1; }
    *out = g;
    return 0;
}

int core_gp_fit_fixed(core_gp **out, const float *x, const float *y, int n, int d,
                      const core_gp_hyper *hp)
{
    return core_gp_fit_fixed_blocks(out, x, y, n, d, NULL, hp);
}

int core_gp_fit(core_gp **out, const float *x, const float *y, int n, int d, core_kernel k,
                int restarts, uint64_t seed)
{
    return core_gp_fit_from(out, x, y, n, d, k, restarts, seed, NULL);
}

/* One BFGS start: t (log parameters) in, the best t and objective out. */
#define GP_MAX_STARTS 16
typedef struct {
    const core_gp *g;
    core_kernel k;
    int P;
    double t[GP_MAXP], f;
} fit_job;

static void *fit_worker(void *p)
{
    fit_job *j = p;
    lml_ws w;
    ws_init(&w, j->g);
    double sv[GP_MAXP];
    t_to_s(j->t, j->P, sv);
    j->f = bfgs(j->g, j->k, sv, j->P, &w);
    s_to_t(sv, j->P, j->t, NULL);
    ws_free(&w);
    return NULL;
}

/* start is a usable first start for g: its kernel and blocks, finite and positive. */
static int start_ok(const core_gp *g, core_kernel k, const core_gp_hyper *start)
{
    if (!start || start->kernel != k || !(start->amp > 0 && start->ell > 0 && start->alpha > 0 && start->noise > 0))
        return 0;
    if (!isfinite(start->amp + start->ell + start->alpha + start->noise)) return 0;
    int nb = start->nb < 1 ? 0 : start->nb;
    if (nb != g->nb || (nb && !(start->lin > 0 && isfinite(start->lin)))) return 0;
    for (int b = 0; b < nb; b++)
        if (!(start->dev[b] >= DEV_LO && start->dev[b] <= DEV_HI)) return 0;
    return 1;
}

static int fit_common(core_gp **out, const float *x, const float *y, int n, int d, core_kernel k,
                      const core_gp_blocks *bl, int restarts, uint64_t seed, const core_gp_hyper *start)
{
    *out = NULL;
    if (n < 1 || d < 1 || blocks_check(bl, d) != 0) return -1;
    if (bl && k != CORE_KERNEL_RQ) return -1;
    core_gp *g = gp_alloc(x, y, n, d, bl);
    int P = g->nb >= 1 ? 5 + g->nb : 4;
    /* median pairwise distance sets the first length scale */
    double med = 0;
    {
        int m = 0, cap = 2000;
        double *v = xmalloc((size_t)cap * sizeof(double));
        for (int i = 0; i < n && m < cap; i++)
            for (int j = i + 1; j < n && m < cap; j++) v[m++] = g->D[(size_t)i * n + j];
        for (int i = 0; i < m; i++) med += sqrt(v[i]);   /* mean distance */
        med = m ? med / m : sqrt((double)d);
        free(v);
    }
    if (med <= 0) med = 1;
    g->ell_prior = bl != NULL;
    g->ell_mu = log(med);
    core_rng r;
    core_rng_seed(&r, seed);
    /* every start drawn first, in order, so threads do not change them */
    int ns = restarts < 1 ? 1 : restarts;
    if (ns > GP_MAX_STARTS) ns = GP_MAX_STARTS;
    fit_job jobs[GP_MAX_STARTS];
    for (int s = 0; s < ns; s++) {
        double *t = jobs[s].t;
        memset(t, 0, sizeof jobs[s].t);   /* every block at the shared scale */
        t[0] = 0, t[1] = log(med), t[2] = 0, t[3] = log(0.1);
        if (P > 4) t[4] = log(0.1 / (1 + g->nb));   /* the linear term: a share of the variance */
        if (s == 0 && start_ok(g, k, start)) {
            t[0] = log(start->amp);
            t[1] = log(start->ell);
            t[2] = log(start->alpha);
            t[3] = log(start->noise);
            if (P > 4) t[4] = log(start->lin);
            for (int b = 0; b < P - 5; b++) t[5 + b] = start->dev[b];
        } else if (s > 0) {
            t[0] = core_rng_uniform(&r) * 2 - 1;
            t[1] = log(med) + (core_rng_uniform(&r) * 3 - 1.5);
            t[2] = core_rng_uniform(&r) * 4 - 2;
            t[3] = log(0.01) + core_rng_uniform(&r) * 4;
            if (P > 4) t[4] = log(0.1 / (1 + g->nb)) + core_rng_uniform(&r) * 4 - 2;
        }
        if (k == CORE_KERNEL_MATERN52) t[2] = 0;
        jobs[s].g = g;
        jobs[s].k = k;
        jobs[s].P = P;
        jobs[s].f = INFINITY;
    }
    /* DESIGN: each start runs BFGS on its own scratch and writes only its own
     * job; the model is read-only until all are joined.  As many threads as
     * OpenBLAS may use, BLAS itself one thread meanwhile (as convnext.c). */
    int nt = openblas_get_num_threads();
    if (nt > ns) nt = ns;
    if (nt > 1 && n >= 32) {
        core_jobs_run(fit_worker, jobs, sizeof jobs[0], ns);
    } else {
        for (int s = 0; s < ns; s++) fit_worker(&jobs[s]);
    }
    double best_f = INFINITY, best_t[GP_MAXP] = {0, log(med), 0, log(0.1)};
    for (int s = 0; s < ns; s++)
        if (isfinite(jobs[s].f) && jobs[s].f < best_f) { best_f = jobs[s].f; memcpy(best_t, jobs[s].t, sizeof best_t); }
    theta_to_hp(best_t, P, k, &g->hp);
    if (gp_factor(g) != 0) { core_gp_free(g); return -1; }
    *out = g;
    return 0;
}

int core_gp_fit_from(core_gp **out, const float *x, const float *y, int n, int d, core_kernel k,
                     int restarts, uint64_t seed, const core_gp_hyper *start)
{
    return fit_common(out, x, y, n, d, k, NULL, restarts, seed, start);
}

int core_gp_fit_blocks(core_gp **out, const float *x, const float *y, int n, int d, const core_gp_blocks *bl,
                       int restarts, uint64_t seed, const core_gp_hyper *start)
{
    return fit_common(out, x, y, n, d, CORE_KERNEL_RQ, bl, restarts, seed, start);
}

void core_gp_free(core_gp *g)
{
    if (!g) return;
    free(g->x); free(g->xn); free(g->D); free(g->yz); free(g->L); free(g->alpha); free(g->Wt);
    free(g->block); free(g->Db); free(g->bn); free(g->cs);
    free(g);
}

void core_gp_hyper_get(const core_gp *g, core_gp_hyper *hp) { *hp = g->hp; }
float core_gp_best(const core_gp *g) { return g->best; }

/* One batch: row i of Ks holds -2 x*_i . x_j on entry, k(x*_i, x_j) on exit
 * (m a multiple of 8: Ks rows and xn are padded).  an (nb) |x*_i|^2,
 * xn (m) |x_j|^2. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)   /* TSan: an ifunc resolver runs before its runtime */
/* x86-64-v3 (AVX2 + FMA, Intel Haswell and AMD Zen on) contracts the exp/log
 * polynomials into FMAs; "avx2" alone has no FMA */
__attribute__((target_clones("arch=x86-64-v3", "avx2", "default"), optimize("fp-contract=fast")))
#endif
static void kernel_block(const core_gp_hyper *hp, float *Ks, int nb, int m, const float *an, const float *xn)
{
    const float amp = (float)hp->amp;
    const core_v8f zero = {0};
    if (hp->kernel == CORE_KERNEL_MATERN52) {
        const float s = 2.2360680f / (float)hp->ell;   /* sqrt5 / ell */
        for (int i = 0; i < nb; i++) {
            float *row = Ks + (size_t)i * m, a = an[i];
            for (int j = 0; j < m; j += 8) {
                core_v8f r2, xv, s5;
                memcpy(&r2, row + j, sizeof r2);
                memcpy(&xv, xn + j, sizeof xv);
                r2 = r2 + a + xv;
                r2 = core_vsel(r2 > zero, r2, zero);
                for (int l = 0; l < 8; l++) s5[l] = __builtin_sqrtf(r2[l]) * s;
                core_v8f k = amp * (1 + s5 + s5 * s5 * (1.0f / 3)) * core_vexp(-s5);
                memcpy(row + j, &k, sizeof k);
            }
        }
        return;
    }
    const float c = (float)(1.0 / (2 * hp->alpha * hp->ell * hp->ell)), na = (float)-hp->alpha;
    const float hlin = (float)(-0.5 * hp->lin);   /* the linear term from -2 x*.x */
    for (int i = 0; i < nb; i++) {
        float *row = Ks + (size_t)i * m, a = an[i];
        for (int j = 0; j < m; j += 8) {
            core_v8f r2, xv;
            memcpy(&r2, row + j, sizeof r2);
            memcpy(&xv, xn + j, sizeof xv);
            core_v8f lin = r2 * hlin;
            r2 = r2 + a + xv;
            r2 = core_vsel(r2 > zero, r2, zero);
            core_v8f k = amp * core_vexp(na * core_vlog(1 + r2 * c)) + lin;
            memcpy(row + j, &k, sizeof k);
        }
    }
}

/* sum of v[0..m)^2 in 8 lanes (a scalar sum is one long dependency chain) */
static float sum_sq(const float *v, int m)
{
    core_v8f acc = {0};
    int j = 0;
    for (; j + 8 <= m; j += 8) {
        core_v8f t;
        memcpy(&t, v + j, sizeof t);
        acc += t * t;
    }
    float s = 0;
    for (int l = 0; l < 8; l++) s += acc[l];
    for (; j < m; j++) s += v[j] * v[j];
    return s;
}

static void predict_rows(const core_gp *g, const float *x, int n, float *mu, float *sd)
{
    int m = g->n, d = g->d, mp = (m + 7) & ~7;
    const int B = 256;   /* Ks (B, mp) stays in L2 through sgemm, kernel, sgemv and strmm */
    float *Ks = xcalloc((size_t)B * mp, sizeof(float));  /* (B, mp) k(x*, x), padded to 8 */
    float *an = xmalloc((size_t)B * sizeof(float));      /* (B) |x*|^2 */
    float *xn = xcalloc((size_t)mp, sizeof(float));      /* (mp) |x_j|^2, zero padded */
    float *xs = g->cs ? xmalloc((size_t)B * d * sizeof(float)) : NULL;   /* (B, d) a block model's scaled rows */
    memcpy(xn, g->xn, (size_t)m * sizeof(float));
    float ys = (float)g->ysd, ym = (float)g->ymean;
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        const float *xb = x + (size_t)i0 * d;
        if (xs) {
            for (int i = 0; i < nb; i++)
                for (int k = 0; k < d; k++) xs[(size_t)i * d + k] = xb[(size_t)i * d + k] * g->cs[k];
            xb = xs;
        }
        /* squared distances: |a|^2 + |b|^2 - 2 a.b */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, m, d, -2.0f, xb, d, g->x, d,
                    0.0f, Ks, mp);
        for (int i = 0; i < nb; i++) an[i] = sum_sq(xb + (size_t)i * d, d);
        kernel_block(&g->hp, Ks, nb, mp, an, xn);
        /* mean = Ks alpha */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, nb, m, 1.0f, Ks, mp, g->alpha, 1, 0.0f, mu + i0, 1);
        for (int i = 0; i < nb; i++) mu[i0 + i] = mu[i0 + i] * ys + ym;
        if (!sd) continue;
        /* V = Ks L^-T in place (Ks is not needed after the mean; one strmm
         * against the stored inverse factor, the same numbers strsm would
         * give), var = amp - |V_i|^2 */
        cblas_strmm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, nb, m, 1.0f,
                    g->Wt, m, Ks, mp);
        for (int i = 0; i < nb; i++) {
            float v = (float)(g->hp.amp + g->hp.lin * an[i]) - sum_sq(Ks + (size_t)i * mp, m);
            sd[i0 + i] = sqrtf(v > 1e-9f ? v : 1e-9f) * ys;
        }
    }
    free(Ks);
    free(an);
    free(xn);
    free(xs);
}

typedef struct {
    const core_gp *g;
    const float *x;
    int n;
    float *mu, *sd;
} predict_job;

static void *predict_worker(void *p)
{
    predict_job *j = p;
    predict_rows(j->g, j->x, j->n, j->mu, j->sd);
    return NULL;
}

/* DESIGN: the rows are cut into as many contiguous parts as OpenBLAS may use
 * threads (at most GP_THREADS, and only for big calls); each part is
 * independent (own scratch, own output slices, the model read-only), so no
 * locks. */
#define GP_THREADS 8
#define GP_ROWS_PER_THREAD 8192


void core_gp_predict(const core_gp *g, const float *x, int n, float *mu, float *sd)
{
    int nt = openblas_get_num_threads();
    if (nt > GP_THREADS) nt = GP_THREADS;
    if (nt > n / GP_ROWS_PER_THREAD) nt = n / GP_ROWS_PER_THREAD;
    if (nt <= 1) { predict_rows(g, x, n, mu, sd); return; }
    predict_job jobs[GP_THREADS];
    for (int t = 0; t < nt; t++) {
        int r0 = (int)((long long)n * t / nt), r1 = (int)((long long)n * (t + 1) / nt);
        jobs[t] = (predict_job){g, x + (size_t)r0 * g->d, r1 - r0, mu + r0, sd ? sd + r0 : NULL};
    }
    core_jobs_run(predict_worker, jobs, sizeof jobs[0], nt);
}

void core_gp_predict_naive(const core_gp *g, const float *x, int n, float *mu, float *sd)
{
    int m = g->n, d = g->d;
    double *k = xmalloc((size_t)m * sizeof(double)), *v = xmalloc((size_t)m * sizeof(double));
    for (int i = 0; i < n; i++) {
        double s = 0, self = 0;
        for (int t = 0; t < d; t++) {
            double e = (double)x[(size_t)i * d + t] * (g->cs ? g->cs[t] : 1);
            self += e * e;
        }
        for (int j = 0; j < m; j++) {
            double r2 = 0, dot = 0;
            for (int t = 0; t < d; t++) {
                double xs = (double)x[(size_t)i * d + t] * (g->cs ? g->cs[t] : 1), e = xs - g->x[(size_t)j * d + t];
                r2 += e * e;
                dot += xs * g->x[(size_t)j * d + t];
            }
            k[j] = kval(&g->hp, r2) + g->hp.lin * dot;
            s += k[j] * g->alpha[j];
        }
        mu[i] = (float)(s * g->ysd + g->ymean);
        if (!sd) continue;
        /* forward substitution L v = k */
        double q = 0;
        for (int j = 0; j < m; j++) {
            double t = k[j];
            for (int l = 0; l < j; l++) t -= (double)g->L[(size_t)j * m + l] * v[l];
            v[j] = t / g->L[(size_t)j * m + j];
            q += v[j] * v[j];
        }
        double var = g->hp.amp + g->hp.lin * self - q;
        sd[i] = (float)(sqrt(var > 1e-9 ? var : 1e-9) * g->ysd);
    }
    free(k);
    free(v);
}
