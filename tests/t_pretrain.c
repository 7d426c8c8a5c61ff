/*
 * t_pretrain.c - the C training of the ConvNeXt: analytic gradients equal
 * finite differences for every kind of parameter, the saved file is read
 * back by the inference code (core/convnext.h) with the same embedding, and
 * AdamW steps lower the loss.
 */
#include "core/convnext.h"
#include "core/pretrain.h"
#include "core/safetensors.h"
#include "core/util.h"
#include "tests/zt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const core_convnext_arch SMALL = {"small-test", 4, {1, 1, 2, 1}, {8, 12, 16, 20}, 4};

/* Two questions (3 and 2 answers), cumulative fractions: question 2 is
 * reached by the first answer of question 1. */
static void questions(core_pt_questions *q)
{
    memset(q, 0, sizeof *q);
    q->n_q = 2;
    q->n_out = 5;
    q->start[0] = 0; q->len[0] = 3;
    q->start[1] = 3; q->len[1] = 2;
}

static void batch(core_rng *r, float *x, float *f, int B, int S)
{
    for (int i = 0; i < B * S * S * 3; i++) x[i] = (float)core_rng_uniform(r);
    for (int i = 0; i < B; i++) {
        float a = (float)core_rng_uniform(r), b = (float)core_rng_uniform(r) * (1 - a);
        float *t = f + i * 5;
        t[0] = a; t[1] = b; t[2] = 1 - a - b;
        float s = (float)core_rng_uniform(r);
        t[3] = a * s; t[4] = a * (1 - s);
    }
}

static core_pt_net *noisy_net(uint64_t seed)
{
    core_pt_net *n;
    ZT_OK(core_pt_net_new(&n, &SMALL, 5, 1.0f, seed));
    size_t np;
    float *p = core_pt_net_params(n, &np);
    core_rng r;
    core_rng_seed(&r, seed + 100);
    for (size_t i = 0; i < np; i++) p[i] += (float)(0.25 * core_rng_normal(&r));
    return n;
}

static void gradients_match_finite_differences(void)
{
    enum { B = 2, S = 32 };
    core_pt_questions q;
    questions(&q);
    core_pt_net *n = noisy_net(7);
    core_rng r;
    core_rng_seed(&r, 8);
    static float x[B * S * S * 3], f[B * 5];
    batch(&r, x, f, B, S);
    size_t np;
    float *p = core_pt_net_params(n, &np);
    float *g0 = core_pt_net_grads(n, &np);
    core_pt_net_grad(n, &q, x, B, S, f);
    float *g = xmalloc(np * sizeof *g);
    memcpy(g, g0, np * sizeof *g);
    float *logits = xmalloc(B * 5 * sizeof *logits);
    int bad = 0, checked = 0;
    double worst = 0;
    size_t worst_i = 0;
    /* every 37th parameter: all kinds (weights, biases, LN, gamma, head) */
    for (size_t i = 0; i < np; i += 37) {
        float keep = p[i], eps = 1e-2f;
        p[i] = keep + eps;
        core_pt_net_forward(n, x, B, S, logits, NULL);
        double lp = core_pt_loss(&q, logits, f, B);
        p[i] = keep - eps;
        core_pt_net_forward(n, x, B, S, logits, NULL);
        double lm = core_pt_loss(&q, logits, f, B);
        p[i] = keep;
        double fd = (lp - lm) / (2.0 * eps), err = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), 1e-3);
        checked++;
        if (err > worst) { worst = err; worst_i = i; }
        if (err > 3e-2) bad++;
    }
    ZT_CHECK(checked > 50, "only %d checked", checked);
    ZT_CHECK(bad == 0, "%d of %d gradients differ from finite differences (worst %.3g at %zu: %g)", bad, checked,
             worst, worst_i, g[worst_i]);
    free(g);
    free(logits);
    core_pt_net_free(n);
}

static void loss_is_the_weighted_per_question_cross_entropy(void)
{
    core_pt_questions q;
    questions(&q);
    float z[5] = {1, 2, 3, 0.5f, -0.5f}, f[5] = {0.5f, 0.2f, 0.3f, 0.1f, 0.4f};
    /* by hand: -sum f log softmax within each question */
    double l1 = log(exp(1.0) + exp(2.0) + exp(3.0)), l2 = log(exp(0.5) + exp(-0.5));
    double want = -(0.5 * (1 - l1) + 0.2 * (2 - l1) + 0.3 * (3 - l1) + 0.1 * (0.5 - l2) + 0.4 * (-0.5 - l2));
    float got = core_pt_loss(&q, z, f, 1);
    ZT_CHECK(fabs(got - want) < 1e-5, "loss %g, want %g", got, want);
}

static void saved_encoder_embeds_the_same_through_inference(void)
{
    enum { B = 2, S = 48 };
    core_pt_net *n = noisy_net(9);
    core_rng r;
    core_rng_seed(&r, 10);
    static float x[B * S * S * 3], xn[B * 3 * S * S], f[B * 5];
    batch(&r, x, f, B, S);
    float feat[B * 20], emb[B * 20];
    ZT_OK(core_pt_net_forward(n, x, B, S, NULL, feat));
    char err[256];
    const char *meta[] = {"made_by", "t_pretrain", NULL};
    ZT_CHECK(core_pt_net_save(n, "enc.safetensors", meta, err, sizeof err) == 0, "%s", err);
    core_convnext *m;
    ZT_CHECK(core_convnext_load(&m, "enc.safetensors", NULL, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(core_convnext_dim(m) == 20, "dim %d", core_convnext_dim(m));
    for (int i = 0; i < B; i++)            /* (B, S, S, 3) -> (B, 3, S, S) */
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++)
                for (int c = 0; c < 3; c++)
                    xn[((i * 3 + c) * S + y) * S + xx] = x[((i * S + y) * S + xx) * 3 + c];
    ZT_OK(core_convnext_forward(m, xn, B, S, S, emb));
    double worst = 0;
    for (int i = 0; i < B * 20; i++) worst = fmax(worst, fabs(emb[i] - feat[i]) / fmax(fabs(feat[i]), 1e-2));
    ZT_CHECK(worst < 1e-4, "training forward and inference differ by %.3g relative", worst);
    core_convnext_free(m);
    core_pt_net_free(n);
}

static void adamw_steps_lower_the_loss(void)
{
    enum { B = 4, S = 32 };
    core_pt_questions q;
    questions(&q);
    core_pt_net *n;
    ZT_OK(core_pt_net_new(&n, &SMALL, 5, 1e-6f, 3));
    core_rng r;
    core_rng_seed(&r, 4);
    static float x[B * S * S * 3], f[B * 5];
    batch(&r, x, f, B, S);
    float first = core_pt_net_grad(n, &q, x, B, S, f), last = first;
    for (int t = 1; t <= 60; t++) {
        core_pt_net_adamw(n, 3e-3f, 0.05f, t);
        last = core_pt_net_grad(n, &q, x, B, S, f);
    }
    /* the floor: logits equal to log p exactly, loss = the targets' entropy */
    double floor_ = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < q.n_q; k++) {
            double w = 0;
            for (int j = 0; j < q.len[k]; j++) w += f[i * 5 + q.start[k] + j];
            for (int j = 0; j < q.len[k]; j++) {
                double v = f[i * 5 + q.start[k] + j];
                if (v > 0) floor_ -= v * log(v / w) / B;
            }
        }
    ZT_CHECK(isfinite(last) && last - floor_ < 0.5 * (first - floor_),
             "loss %g -> %g after 60 steps on one batch (floor %g)", first, last, floor_);
    core_pt_net_free(n);
}

static float *io_floats(core_safetensors *io, const char *name, size_t *numel)
{
    const core_st_tensor *t = core_safetensors_find(io, name);
    ZT_CHECK(t != NULL, "fixture has no %s (run make fixtures)", name);
    float *x = xmalloc((size_t)t->numel * sizeof *x + 4);
    char err[200];
    ZT_CHECK(core_safetensors_read_f32(t, x, err, sizeof err) == 0, "%s", err);
    if (numel) *numel = (size_t)t->numel;
    return x;
}

static void gradients_and_adamw_steps_match_pytorch(void)
{
    char path[1024], err[256];
    core_pt_questions q;
    questions(&q);
    core_pt_net *n;
    ZT_OK(core_pt_net_new(&n, &SMALL, 5, 1e-6f, 1));
    snprintf(path, sizeof path, "%s/tests/data/convnext_train_weights.safetensors", ZT_ROOT);
    ZT_CHECK(core_pt_net_load(n, path, err, sizeof err) == 0, "%s", err);
    core_safetensors *io;
    snprintf(path, sizeof path, "%s/tests/data/convnext_train_io.safetensors", ZT_ROOT);
    ZT_CHECK(core_safetensors_open(&io, path, err, sizeof err) == 0, "%s", err);
    enum { B = 3, S = 32 };
    float *xn = io_floats(io, "x", NULL), *f = io_floats(io, "f", NULL);
    float *l0 = io_floats(io, "loss0", NULL), *l3 = io_floats(io, "loss3", NULL);
    static float x[B * S * S * 3];
    for (int i = 0; i < B; i++)            /* torch's (B, 3, S, S) -> (B, S, S, 3) */
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++)
                for (int c = 0; c < 3; c++)
                    x[((i * S + y) * S + xx) * 3 + c] = xn[((i * 3 + c) * S + y) * S + xx];
    float loss = core_pt_net_grad(n, &q, x, B, S, f);
    ZT_CHECK(fabs(loss - l0[0]) < 1e-5 * fabs(l0[0]), "loss %.7g, PyTorch %.7g", loss, l0[0]);
    int tensors = 0;
    for (int i = 0; i < core_safetensors_count(io); i++) {
        const char *name = core_safetensors_at(io, i)->name;
        if (strncmp(name, "grad.", 5)) continue;
        size_t nt, nc;
        float *gt = io_floats(io, name, &nt);
        ZT_CHECK(core_pt_net_get(n, name + 5, 1, NULL, &nc) == 0, "C has no parameter %s", name + 5);
        ZT_CHECK(nc == nt, "%s: %zu vs %zu elements", name, nc, nt);
        float *gc = xmalloc(nc * sizeof *gc);
        core_pt_net_get(n, name + 5, 1, gc, NULL);
        double dd = 0, tt = 0;
        for (size_t k = 0; k < nt; k++) {
            dd += ((double)gc[k] - gt[k]) * ((double)gc[k] - gt[k]);
            tt += (double)gt[k] * gt[k];
        }
        ZT_CHECK(sqrt(dd) <= 1e-4 * sqrt(tt) + 1e-9, "gradient of %s differs from PyTorch's by %.3g relative",
                 name + 5, sqrt(dd / (tt + 1e-30)));
        tensors++;
        free(gt);
        free(gc);
    }
    ZT_CHECK(tensors == 4 + 12 + 9 * 5 + 4, "%d gradient tensors compared", tensors);
    for (int t = 1; t <= 3; t++) {
        core_pt_net_adamw(n, 1e-2f, 0.0f, t);
        if (t < 3) core_pt_net_grad(n, &q, x, B, S, f);
    }
    float logits[B * 5];
    ZT_OK(core_pt_net_forward(n, x, B, S, logits, NULL));
    float after = core_pt_loss(&q, logits, f, B);
    ZT_CHECK(fabs(after - l3[0]) < 1e-4 * fabs(l3[0]), "after 3 AdamW steps: loss %.7g, PyTorch %.7g", after, l3[0]);
    ZT_CHECK(after < loss, "the steps did not lower the loss (%g -> %g)", loss, after);
    free(xn); free(f); free(l0); free(l3);
    core_safetensors_close(io);
    core_pt_net_free(n);
}

const zt_case zt_suite_pretrain[] = {
    {"the loss is the weighted per-question cross-entropy", loss_is_the_weighted_per_question_cross_entropy, 0},
    {"gradients match finite differences", gradients_match_finite_differences, 0},
    {"gradients and three AdamW steps match PyTorch", gradients_and_adamw_steps_match_pytorch, 0},
    {"a saved encoder embeds the same through core/convnext", saved_encoder_embeds_the_same_through_inference, 0},
    {"AdamW steps lower the loss on a batch", adamw_steps_lower_the_loss, 0},
    {0}
};
