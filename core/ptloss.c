/*
 * ptloss.c - dense layers, tag BCE and SimCLR's NT-Xent for `zoosh
 * pretrain` (core/ptloss.h).  Sums run in a fixed order in double, so a
 * run is the same on any thread count.
 */
#include "core/ptloss.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct core_pt_dense {
    int in, out;
    float *p, *g, *m, *v;   /* each (out * in + out): W (out, in) then b */
};

int core_pt_dense_new(core_pt_dense **out, int in, int n_out, uint64_t seed)
{
    *out = NULL;
    if (in < 1 || n_out < 1) return -1;
    core_pt_dense *d = xcalloc(1, sizeof *d);
    size_t n = (size_t)n_out * in + n_out;
    d->in = in;
    d->out = n_out;
    d->p = xcalloc(n, sizeof *d->p);
    d->g = xcalloc(n, sizeof *d->g);
    d->m = xcalloc(n, sizeof *d->m);
    d->v = xcalloc(n, sizeof *d->v);
    core_rng r;
    core_rng_seed(&r, seed);
    float sd = 1.0f / sqrtf((float)in);
    for (size_t i = 0; i < (size_t)n_out * in; i++) d->p[i] = sd * (float)core_rng_normal(&r);
    *out = d;
    return 0;
}

void core_pt_dense_free(core_pt_dense *d)
{
    if (!d) return;
    free(d->p);
    free(d->g);
    free(d->m);
    free(d->v);
    free(d);
}

void core_pt_dense_forward(const core_pt_dense *d, const float *x, int B, float *y)
{
    const float *W = d->p, *b = d->p + (size_t)d->out * d->in;
    for (int i = 0; i < B; i++)
        for (int o = 0; o < d->out; o++) {
            const float *w = W + (size_t)o * d->in, *xi = x + (size_t)i * d->in;
            double z = b[o];
            for (int k = 0; k < d->in; k++) z += (double)w[k] * xi[k];
            y[(size_t)i * d->out + o] = (float)z;
        }
}

void core_pt_dense_backward(core_pt_dense *d, const float *x, const float *dy, int B, float *dx)
{
    float *gW = d->g, *gb = d->g + (size_t)d->out * d->in;
    const float *W = d->p;
    for (int o = 0; o < d->out; o++) {
        double sb = 0;
        for (int i = 0; i < B; i++) sb += dy[(size_t)i * d->out + o];
        gb[o] = (float)sb;
        for (int k = 0; k < d->in; k++) {
            double s = 0;
            for (int i = 0; i < B; i++) s += (double)dy[(size_t)i * d->out + o] * x[(size_t)i * d->in + k];
            gW[(size_t)o * d->in + k] = (float)s;
        }
    }
    if (dx)
        for (int i = 0; i < B; i++)
            for (int k = 0; k < d->in; k++) {
                double s = 0;
                for (int o = 0; o < d->out; o++) s += (double)dy[(size_t)i * d->out + o] * W[(size_t)o * d->in + k];
                dx[(size_t)i * d->in + k] = (float)s;
            }
}

void core_pt_dense_adamw(core_pt_dense *d, float lr, float wd, int t)
{
    float b1c = 1.0f - powf(0.9f, (float)t), b2c = 1.0f - powf(0.999f, (float)t);
    size_t nw = (size_t)d->out * d->in, n = nw + d->out;
    for (size_t i = 0; i < n; i++) {
        float gr = d->g[i];
        d->m[i] = 0.9f * d->m[i] + 0.1f * gr;
        d->v[i] = 0.999f * d->v[i] + 0.001f * gr * gr;
        float mh = d->m[i] / b1c, vh = d->v[i] / b2c;
        d->p[i] -= lr * (mh / (sqrtf(vh) + 1e-8f) + (i < nw ? wd * d->p[i] : 0.0f));
    }
}

float *core_pt_dense_params(core_pt_dense *d, size_t *count)
{
    *count = (size_t)d->out * d->in + d->out;
    return d->p;
}

float *core_pt_dense_grads(core_pt_dense *d, size_t *count)
{
    *count = (size_t)d->out * d->in + d->out;
    return d->g;
}

int core_pt_dense_out(const core_pt_dense *d) { return d->out; }

/* ------------------------------------------------------------ tags */

float core_pt_bce_grad(const float *logits, const float *t, int B, int K, float *dlogits)
{
    double loss = 0;
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * K, *ti = t + (size_t)i * K;
        int skip = ti[0] < 0;
        for (int k = 0; k < K; k++) {
            double s = 0;
            if (!skip) {
                /* -[t log s + (1-t) log(1-s)] = softplus(z) - t z, stable */
                double zk = z[k];
                loss += (zk > 0 ? zk + log1p(exp(-zk)) : log1p(exp(zk))) - ti[k] * zk;
                s = 1.0 / (1.0 + exp(-zk)) - ti[k];
            }
            if (dlogits) dlogits[(size_t)i * K + k] = (float)(s / B);
        }
    }
    return (float)(loss / B);
}

/* ------------------------------------------------------------ SimCLR */

struct core_pt_ssl {
    core_pt_dense *l1, *l2;
    int dim, hidden, proj;
    float tau;
};

int core_pt_ssl_new(core_pt_ssl **out, int dim, int hidden, int proj, float tau, uint64_t seed)
{
    *out = NULL;
    if (!(tau > 0)) return -1;
    core_pt_ssl *s = xcalloc(1, sizeof *s);
    s->dim = dim;
    s->hidden = hidden;
    s->proj = proj;
    s->tau = tau;
    if (core_pt_dense_new(&s->l1, dim, hidden, seed) || core_pt_dense_new(&s->l2, hidden, proj, seed + 1)) {
        core_pt_ssl_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void core_pt_ssl_free(core_pt_ssl *s)
{
    if (!s) return;
    core_pt_dense_free(s->l1);
    core_pt_dense_free(s->l2);
    free(s);
}

core_pt_dense *core_pt_ssl_layer(core_pt_ssl *s, int k) { return k ? s->l2 : s->l1; }

float core_pt_ssl_grad(core_pt_ssl *s, const float *feat, int N, float *dfeat)
{
    if (N < 4 || N % 2) return NAN;
    int H = s->hidden, P = s->proj, half = N / 2;
    float *h = xmalloc((size_t)N * H * sizeof *h), *u = xmalloc((size_t)N * P * sizeof *u);
    float *z = xmalloc((size_t)N * P * sizeof *z), *dz = xcalloc((size_t)N * P, sizeof *dz);
    double *norm = xmalloc((size_t)N * sizeof *norm), *sim = xmalloc((size_t)N * N * sizeof *sim);
    core_pt_dense_forward(s->l1, feat, N, h);
    for (size_t i = 0; i < (size_t)N * H; i++) h[i] = h[i] > 0 ? h[i] : 0;
    core_pt_dense_forward(s->l2, h, N, u);
    for (int i = 0; i < N; i++) {
        double q = 0;
        for (int c = 0; c < P; c++) q += (double)u[(size_t)i * P + c] * u[(size_t)i * P + c];
        norm[i] = sqrt(q) + 1e-12;
        for (int c = 0; c < P; c++) z[(size_t)i * P + c] = (float)(u[(size_t)i * P + c] / norm[i]);
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            double d = 0;
            for (int c = 0; c < P; c++) d += (double)z[(size_t)i * P + c] * z[(size_t)k * P + c];
            sim[(size_t)i * N + k] = d / s->tau;
        }
    /* G(i, k) = dL/dsim(i, k) = (softmax_k(i) - [k = p(i)]) / N, k != i;
     * dz_i = (sum_k G(i, k) z_k + sum_k G(k, i) z_k) / tau */
    double loss = 0;
    double *G = xcalloc((size_t)N * N, sizeof *G);
    for (int i = 0; i < N; i++) {
        int pi = i < half ? i + half : i - half;
        double mx = -1e300, sum = 0;
        for (int k = 0; k < N; k++)
            if (k != i && sim[(size_t)i * N + k] > mx) mx = sim[(size_t)i * N + k];
        for (int k = 0; k < N; k++)
            if (k != i) sum += exp(sim[(size_t)i * N + k] - mx);
        double lse = mx + log(sum);
        loss += lse - sim[(size_t)i * N + pi];
        for (int k = 0; k < N; k++)
            if (k != i) G[(size_t)i * N + k] = (exp(sim[(size_t)i * N + k] - lse) - (k == pi)) / N;
    }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < P; c++) {
            double d = 0;
            for (int k = 0; k < N; k++)
                d += (G[(size_t)i * N + k] + G[(size_t)k * N + i]) * z[(size_t)k * P + c];
            dz[(size_t)i * P + c] = (float)(d / s->tau);
        }
    /* through the L2 normalisation: du = (dz - z (z . dz)) / |u| */
    for (int i = 0; i < N; i++) {
        double zd = 0;
        for (int c = 0; c < P; c++) zd += (double)z[(size_t)i * P + c] * dz[(size_t)i * P + c];
        for (int c = 0; c < P; c++)
            dz[(size_t)i * P + c] = (float)((dz[(size_t)i * P + c] - z[(size_t)i * P + c] * zd) / norm[i]);
    }
    float *dh = xmalloc((size_t)N * H * sizeof *dh);
    core_pt_dense_backward(s->l2, h, dz, N, dh);
    for (size_t i = 0; i < (size_t)N * H; i++)
        if (!(h[i] > 0)) dh[i] = 0;
    core_pt_dense_backward(s->l1, feat, dh, N, dfeat);
    free(h);
    free(u);
    free(z);
    free(dz);
    free(dh);
    free(norm);
    free(sim);
    free(G);
    return (float)(loss / N);
}

void core_pt_ssl_adamw(core_pt_ssl *s, float lr, float wd, int t)
{
    core_pt_dense_adamw(s->l1, lr, wd, t);
    core_pt_dense_adamw(s->l2, lr, wd, t);
}
