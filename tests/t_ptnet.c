/*
 * t_ptnet.c - the trainable network's pieces that fine-tuning and other
 * losses build on: a backward pass from any gradient at the embedding
 * equals finite differences, freezing the early stages leaves them without
 * gradient and untouched by AdamW, and an encoder loads under a new head.
 */
#include "core/ptnet.h"
#include "core/util.h"
#include "tests/zt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const core_convnext_arch SMALL = {"small-test", 4, {1, 1, 2, 1}, {8, 12, 16, 20}, 4};
enum { B = 2, S = 32, NO = 3, DIM = 20 };

static core_pt_net *noisy_net(uint64_t seed, int n_out)
{
    core_pt_net *n;
    ZT_OK(core_pt_net_new(&n, &SMALL, n_out, 1.0f, seed));
    size_t np;
    float *p = core_pt_net_params(n, &np);
    core_rng r;
    core_rng_seed(&r, seed + 100);
    for (size_t i = 0; i < np; i++) p[i] += (float)(0.25 * core_rng_normal(&r));
    return n;
}

static void images(float *x, uint64_t seed)
{
    core_rng r;
    core_rng_seed(&r, seed);
    for (int i = 0; i < B * S * S * 3; i++) x[i] = (float)core_rng_uniform(&r);
}

/* L = sum(feat * wf) + sum(logits * wl): dL/dfeat = wf, dL/dlogits = wl. */
static double lin_loss(core_pt_net *n, const float *x, const float *wf, const float *wl)
{
    float feat[B * DIM], logits[B * NO];
    core_pt_net_forward(n, x, B, S, logits, feat);
    double l = 0;
    for (int i = 0; i < B * DIM; i++) l += (double)feat[i] * wf[i];
    for (int i = 0; i < B * NO; i++) l += (double)logits[i] * wl[i];
    return l;
}

static void backward_from_the_embedding_matches_finite_differences(void)
{
    core_pt_net *n = noisy_net(11, NO);
    static float x[B * S * S * 3];
    images(x, 12);
    float wf[B * DIM], wl[B * NO];
    core_rng r;
    core_rng_seed(&r, 13);
    for (int i = 0; i < B * DIM; i++) wf[i] = (float)core_rng_normal(&r);
    for (int i = 0; i < B * NO; i++) wl[i] = (float)core_rng_normal(&r);
    ZT_CHECK(core_pt_net_dim(n) == DIM && core_pt_net_n_out(n) == NO, "dim %d n_out %d", core_pt_net_dim(n),
             core_pt_net_n_out(n));
    size_t np;
    float *p = core_pt_net_params(n, &np);
    /* both gradients at once, and the embedding's alone */
    for (int with_logits = 1; with_logits >= 0; with_logits--) {
        float zero[B * NO] = {0};
        const float *wl_used = with_logits ? wl : zero;
        ZT_OK(core_pt_net_forward(n, x, B, S, NULL, NULL));
        ZT_OK(core_pt_net_backward(n, with_logits ? wl : NULL, wf));
        float *g = xmalloc(np * sizeof *g);
        memcpy(g, core_pt_net_grads(n, &np), np * sizeof *g);
        int bad = 0, checked = 0;
        double worst = 0, gmax = 0;
        for (size_t i = 0; i < np; i++) gmax = fmax(gmax, fabs(g[i]));
        /* relative error, floored at 1% of the largest gradient: a float32
         * forward's central difference cannot resolve less */
        for (size_t i = 0; i < np; i += 41) {
            float keep = p[i], eps = 1e-2f;
            p[i] = keep + eps;
            double lp = lin_loss(n, x, wf, wl_used);
            p[i] = keep - eps;
            double lm = lin_loss(n, x, wf, wl_used);
            p[i] = keep;
            double fd = (lp - lm) / (2.0 * eps), err = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), 1e-2 * gmax);
            checked++;
            worst = fmax(worst, err);
            if (err > 3e-2) bad++;
        }
        ZT_CHECK(checked > 50 && bad == 0, "%s: %d of %d gradients differ from finite differences (worst %.3g)",
                 with_logits ? "feat + logits" : "feat alone", bad, checked, worst);
        free(g);
    }
    core_pt_net_free(n);
}

/* The table's tensors by name, each with its gradient's largest |value|. */
static double grad_max(core_pt_net *n, const char *name)
{
    size_t k;
    ZT_CHECK(core_pt_net_get(n, name, 1, NULL, &k) == 0, "no tensor %s", name);
    float *v = xmalloc(k * sizeof *v);
    core_pt_net_get(n, name, 1, v, &k);
    double m = 0;
    for (size_t i = 0; i < k; i++) m = fmax(m, fabs(v[i]));
    free(v);
    return m;
}

static void frozen_stages_get_no_gradient_and_no_step(void)
{
    core_pt_net *n = noisy_net(21, NO);
    static float x[B * S * S * 3];
    images(x, 22);
    float wl[B * NO];
    for (int i = 0; i < B * NO; i++) wl[i] = (float)(i % 3) - 1.0f;
    size_t all = core_pt_net_set_trainable(n, 0), last = core_pt_net_set_trainable(n, 3);
    size_t head = core_pt_net_set_trainable(n, 4);
    ZT_CHECK(head < last && last < all, "trainable counts: all %zu, last stage %zu, head %zu", all, last, head);
    ZT_CHECK(head == 2 * DIM + NO * DIM + NO, "head alone has %zu parameters, want %d", head,
             2 * DIM + NO * DIM + NO);
    core_pt_net_set_trainable(n, 3);
    size_t np;
    float *p = core_pt_net_params(n, &np);
    float *before = xmalloc(np * sizeof *before);
    memcpy(before, p, np * sizeof *before);
    ZT_OK(core_pt_net_forward(n, x, B, S, NULL, NULL));
    ZT_OK(core_pt_net_backward(n, wl, NULL));
    ZT_CHECK(grad_max(n, "stem.0.weight") == 0 && grad_max(n, "stages.2.blocks.1.mlp.fc2.weight") == 0 &&
                 grad_max(n, "stages.2.downsample.1.weight") == 0,
             "a frozen tensor has a gradient");
    ZT_CHECK(grad_max(n, "stages.3.blocks.0.conv_dw.weight") > 0 && grad_max(n, "stages.3.downsample.1.weight") > 0 &&
                 grad_max(n, "stages.3.downsample.0.weight") > 0 && grad_max(n, "head.fc.weight") > 0,
             "a trainable tensor has no gradient");
    /* the last stage's gradients equal those of the unfrozen network */
    size_t k;
    core_pt_net_get(n, "stages.3.blocks.0.mlp.fc1.weight", 1, NULL, &k);
    float *g3 = xmalloc(k * sizeof *g3), *g0 = xmalloc(k * sizeof *g0);
    core_pt_net_get(n, "stages.3.blocks.0.mlp.fc1.weight", 1, g3, &k);
    const char *frozen_names[] = {"stem.0.weight", "stem.1.weight", "stages.1.blocks.0.gamma",
                                  "stages.2.blocks.1.mlp.fc1.weight", "stages.2.downsample.0.weight", NULL};
    float *was[8];
    size_t m[8];
    for (int t = 0; frozen_names[t]; t++) {
        core_pt_net_get(n, frozen_names[t], 0, NULL, &m[t]);
        was[t] = xmalloc(m[t] * sizeof *was[t]);
        core_pt_net_get(n, frozen_names[t], 0, was[t], &m[t]);
    }
    core_pt_net_adamw(n, 1e-2f, 0.05f, 1);
    size_t changed = 0, frozen_changed = 0, nfrozen = 0;
    for (size_t i = 0; i < np; i++) changed += p[i] != before[i];
    for (int t = 0; frozen_names[t]; t++) {
        float *now = xmalloc(m[t] * sizeof *now);
        core_pt_net_get(n, frozen_names[t], 0, now, &m[t]);
        for (size_t i = 0; i < m[t]; i++) frozen_changed += now[i] != was[t][i];
        nfrozen += m[t];
        free(now);
        free(was[t]);
    }
    ZT_CHECK(changed > last / 2, "AdamW changed %zu of %zu trainable parameters", changed, last);
    ZT_CHECK(nfrozen > 0 && frozen_changed == 0, "AdamW changed %zu of %zu frozen parameters", frozen_changed,
             nfrozen);
    memcpy(p, before, np * sizeof *p);
    core_pt_net_set_trainable(n, 0);
    ZT_OK(core_pt_net_forward(n, x, B, S, NULL, NULL));
    ZT_OK(core_pt_net_backward(n, wl, NULL));
    core_pt_net_get(n, "stages.3.blocks.0.mlp.fc1.weight", 1, g0, &k);
    ZT_CHECK(!memcmp(g0, g3, k * sizeof *g0), "the last stage's gradient depends on freezing the others");
    ZT_CHECK(grad_max(n, "stem.0.weight") > 0, "unfrozen stem has no gradient");
    free(g3);
    free(g0);
    free(before);
    core_pt_net_free(n);
}

static void an_encoder_loads_under_a_new_head(void)
{
    core_pt_net *a = noisy_net(31, 5), *b = noisy_net(32, NO), *c = noisy_net(33, NO);
    char err[256];
    ZT_CHECK(core_pt_net_save(a, "five.safetensors", NULL, err, sizeof err) == 0, "%s", err);
    /* a 3-output net cannot take the 5-output head, but takes its encoder */
    ZT_CHECK(core_pt_net_load(b, "five.safetensors", err, sizeof err) != 0 && strstr(err, "head.fc.weight"),
             "full load into another head: %s", err);
    float hb[NO * DIM], hb2[NO * DIM];
    size_t k;
    core_pt_net_get(c, "head.fc.weight", 0, hb, &k);
    ZT_CHECK(core_pt_net_load_encoder(c, "five.safetensors", err, sizeof err) == 0, "%s", err);
    core_pt_net_get(c, "head.fc.weight", 0, hb2, &k);
    ZT_CHECK(!memcmp(hb, hb2, sizeof hb), "the head changed");
    static float x[B * S * S * 3];
    images(x, 34);
    float fa[B * DIM], fc[B * DIM];
    ZT_OK(core_pt_net_forward(a, x, B, S, NULL, fa));
    ZT_OK(core_pt_net_forward(c, x, B, S, NULL, fc));
    ZT_CHECK(!memcmp(fa, fc, sizeof fa), "the loaded encoder embeds differently");
    ZT_CHECK(core_pt_net_backward(b, NULL, fa) != 0, "backward before any forward must refuse");
    core_pt_net_free(a);
    core_pt_net_free(b);
    core_pt_net_free(c);
}

const zt_case zt_suite_ptnet[] = {
    {"backward from the embedding matches finite differences", backward_from_the_embedding_matches_finite_differences, 0},
    {"frozen stages get no gradient and no AdamW step", frozen_stages_get_no_gradient_and_no_step, 0},
    {"an encoder loads under a new head", an_encoder_loads_under_a_new_head, 0},
    {0}
};
