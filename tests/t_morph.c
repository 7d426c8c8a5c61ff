/* t_morph.c - morphology features on drawn galaxies whose truth is known, and
 * on the real DECaLS ring cutouts. */
#include "tests/zt.h"
#include "core/image.h"
#include "core/morph.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 256

typedef struct {
    double q, pa;          /* axis ratio, position angle (radians) */
    double h;              /* half-light radius of the Sersic profile, px */
    double sersic_n;       /* 1 = exponential disc, 4 = de Vaucouleurs */
    double peak;           /* central value (0 = 160) */
    double ring_r, ring_amp, ring_w;   /* ring radius (semi-major px), amplitude, width */
    double clump_x, clump_y, clump_amp; /* an off-centre clump (asymmetry) */
    double ring_rgb[3];    /* colour of the ring (multiplies its flux per channel) */
    double noise;
    uint64_t seed;
} drawing;

static uint8_t *draw(const drawing *g)
{
    uint8_t *px = xmalloc((size_t)W * W * 3);   /* (W, W, 3) */
    core_rng r;
    core_rng_seed(&r, g->seed);
    double c = (W - 1) / 2.0, cp = cos(g->pa), sp = sin(g->pa);
    double bn = 2 * g->sersic_n - 1.0 / 3;   /* Sersic b_n, good enough */
    for (int y = 0; y < W; y++)
        for (int x = 0; x < W; x++) {
            double dx = x - c, dy = y - c;
            double u = dx * cp + dy * sp, v = (-dx * sp + dy * cp) / g->q;
            double a = sqrt(u * u + v * v);
            double disc = (g->peak > 0 ? g->peak : 160) * exp(-bn * pow(a / g->h, 1.0 / g->sersic_n)); /* h = R50 */
            double ring = g->ring_amp * exp(-0.5 * (a - g->ring_r) * (a - g->ring_r) / (g->ring_w * g->ring_w));
            double cl = g->clump_amp * exp(-0.5 * ((x - c - g->clump_x) * (x - c - g->clump_x) +
                                                   (y - c - g->clump_y) * (y - c - g->clump_y)) / 9.0);
            for (int ch = 0; ch < 3; ch++) {
                double val = 12 + disc + ring * (g->ring_rgb[ch] > 0 ? g->ring_rgb[ch] : 1) + cl +
                             g->noise * core_rng_normal(&r);
                px[((size_t)y * W + x) * 3 + ch] = (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val + 0.5);
            }
        }
    return px;
}

static drawing plain_disc(void)
{
    drawing g = {.q = 1, .pa = 0, .h = 20, .sersic_n = 1, .noise = 2, .seed = 1};
    return g;
}

static float feat(const float *f, const char *name)
{
    int i = core_morph_index(name);
    ZT_CHECK(i >= 0, "no feature called %s", name);
    return f[i];
}

static void recovers_axis_ratio_and_angle(void)
{
    drawing g = plain_disc();
    g.q = 0.5;
    g.pa = 30 * M_PI / 180;
    uint8_t *px = draw(&g);
    float *f = xmalloc(sizeof(float) * core_morph_dim());
    core_morph_shape sh;
    ZT_OK(core_morph_compute(px, W, W, f, &sh));
    ZT_CHECK(fabs(sh.q - 0.5) < 0.06, "axis ratio %.3f, drawn 0.5", sh.q);
    ZT_CHECK(fabs(sh.pa * 180 / M_PI - 30) < 3, "position angle %.1f deg, drawn 30", sh.pa * 180 / M_PI);
    ZT_CHECK(fabs(sh.xc - (CORE_MORPH_SIDE - 1) / 2.0) < 1 && fabs(sh.yc - (CORE_MORPH_SIDE - 1) / 2.0) < 1,
             "centroid %.2f,%.2f", sh.xc, sh.yc);
    ZT_CHECK(fabs(feat(f, "q") - 0.5) < 0.06, "feature q %.3f", feat(f, "q"));
    free(px);
    free(f);
}

/* The unsharp profile of the fixed grid: annulus index of its maximum beyond the nucleus. */
static int unsharp_peak(const float *f)
{
    int best = 2;
    char name[32];
    for (int k = 2; k < 16; k++) {
        snprintf(name, sizeof name, "unsharp_fix_%02d", k);
        char bn[32];
        snprintf(bn, sizeof bn, "unsharp_fix_%02d", best);
        if (feat(f, name) > feat(f, bn)) best = k;
    }
    return best;
}

static void a_ring_is_a_bump_at_its_radius(void)
{
    drawing g = plain_disc();
    g.q = 0.7;
    g.pa = 1.0;
    uint8_t *p0 = draw(&g);
    g.ring_r = 60;        /* px at W = 256, i.e. 30 px at the working side */
    g.ring_amp = 25;
    g.ring_w = 3;
    uint8_t *p1 = draw(&g);
    int d = core_morph_dim();
    float *f0 = xmalloc(sizeof(float) * d), *f1 = xmalloc(sizeof(float) * d);
    ZT_OK(core_morph_compute(p0, W, W, f0, NULL));
    ZT_OK(core_morph_compute(p1, W, W, f1, NULL));
    /* fixed grid: 16 annuli out to 0.375 x 128 px = 3 px each: radius 30 -> annulus 10 */
    int pk = unsharp_peak(f1);
    ZT_CHECK(pk >= 9 && pk <= 10, "the unsharp profile peaks in annulus %d, the ring is in 10", pk);
    ZT_CHECK(feat(f1, "ring_complete_max") > feat(f0, "ring_complete_max") + 0.05,
             "a complete ring raises ring_complete_max: %.3f vs %.3f", feat(f1, "ring_complete_max"),
             feat(f0, "ring_complete_max"));
    ZT_CHECK(feat(f1, "secpos_fix_10") >= 0.99, "the ring is above the smooth model all around: %.2f",
             feat(f1, "secpos_fix_10"));
    ZT_CHECK(feat(f1, "ring_resid_bump") > feat(f0, "ring_resid_bump"), "the profile residual shows the bump");
    free(p0); free(p1); free(f0); free(f1);
}

static void concentration_orders_bulges_above_discs(void)
{
    drawing g = plain_disc();
    uint8_t *p0 = draw(&g);
    g.sersic_n = 2;     /* brighter, so that its wings stay above the noise of 8-bit pixels */
    g.peak = 240;
    uint8_t *p1 = draw(&g);
    int d = core_morph_dim();
    float *f0 = xmalloc(sizeof(float) * d), *f1 = xmalloc(sizeof(float) * d);
    core_morph_shape s0, s1;
    ZT_OK(core_morph_compute(p0, W, W, f0, &s0));
    ZT_OK(core_morph_compute(p1, W, W, f1, &s1));
    /* an exponential disc has C = 5 log10(R80/R20) of about 2.7 */
    ZT_CHECK(fabs(feat(f0, "concentration") - 2.7) < 0.4, "disc C = %.2f, about 2.7 expected",
             feat(f0, "concentration"));
    ZT_CHECK(feat(f1, "concentration") > feat(f0, "concentration") + 0.3, "Sersic n=2 C %.2f > disc C %.2f",
             feat(f1, "concentration"), feat(f0, "concentration"));
    ZT_CHECK(feat(f1, "m20") < feat(f0, "m20"), "M20 %.3f < %.3f (brightest 20%% nearer the centre)", feat(f1, "m20"), feat(f0, "m20"));
    ZT_CHECK(s0.r20 < s0.r50 && s0.r50 < s0.r80, "radii ordered %.1f %.1f %.1f", s0.r20, s0.r50, s0.r80);
    /* R50 = h = 20 px at W = 256, 10 px at the working side */
    ZT_CHECK(fabs(s0.r50 - 10) < 1, "R50 %.2f px, 10 expected", s0.r50);
    free(p0); free(p1); free(f0); free(f1);
}

static void asymmetry_sees_an_offcentre_clump(void)
{
    drawing g = plain_disc();
    uint8_t *p0 = draw(&g);
    g.clump_x = 25;
    g.clump_y = -10;
    g.clump_amp = 80;
    uint8_t *p1 = draw(&g);
    int d = core_morph_dim();
    float *f0 = xmalloc(sizeof(float) * d), *f1 = xmalloc(sizeof(float) * d);
    ZT_OK(core_morph_compute(p0, W, W, f0, NULL));
    ZT_OK(core_morph_compute(p1, W, W, f1, NULL));
    ZT_CHECK(feat(f0, "asym180") < 0.05, "a symmetric disc has small asymmetry: %.3f", feat(f0, "asym180"));
    ZT_CHECK(feat(f1, "asym180") > 2 * feat(f0, "asym180") + 0.02, "the clump raises it: %.3f vs %.3f",
             feat(f1, "asym180"), feat(f0, "asym180"));
    ZT_CHECK(feat(f1, "fourier_m1_fix_2") + feat(f1, "fourier_m1_fix_3") >
                 feat(f0, "fourier_m1_fix_2") + feat(f0, "fourier_m1_fix_3") + 0.05,
             "and the m=1 Fourier amplitude near it");
    free(p0); free(p1); free(f0); free(f1);
}

static void a_red_ring_shows_in_the_colour_annuli(void)
{
    drawing g = plain_disc();
    g.ring_r = 60;
    g.ring_amp = 30;
    g.ring_w = 4;
    g.ring_rgb[0] = 1.0; g.ring_rgb[1] = 0.6; g.ring_rgb[2] = 0.3;
    uint8_t *p1 = draw(&g);
    int d = core_morph_dim();
    float *f1 = xmalloc(sizeof(float) * d);
    ZT_OK(core_morph_compute(p1, W, W, f1, NULL));
    ZT_CHECK(feat(f1, "colour_rg_fix_10") > feat(f1, "colour_rg_fix_02") + 0.05,
             "log R/G in the ring annulus %.3f above the centre %.3f", feat(f1, "colour_rg_fix_10"),
             feat(f1, "colour_rg_fix_02"));
    ZT_CHECK(feat(f1, "colour_bg_fix_10") < feat(f1, "colour_bg_fix_02") - 0.05, "and log B/G below");
    ZT_CHECK(fabs(feat(f1, "colour_rg_fix_02")) < 0.05, "a grey centre has log R/G near 0: %.3f",
             feat(f1, "colour_rg_fix_02"));
    free(p1); free(f1);
}

static void rotating_the_image_leaves_the_features(void)
{
    drawing g = plain_disc();
    g.q = 0.6; g.pa = 0.4; g.ring_r = 50; g.ring_amp = 20; g.ring_w = 3;
    g.clump_x = 20; g.clump_y = 5; g.clump_amp = 40;
    uint8_t *p0 = draw(&g);
    uint8_t *p1 = xmalloc((size_t)W * W * 3);   /* rotated by 90 degrees */
    for (int y = 0; y < W; y++)
        for (int x = 0; x < W; x++)
            memcpy(p1 + ((size_t)x * W + (W - 1 - y)) * 3, p0 + ((size_t)y * W + x) * 3, 3);
    int d = core_morph_dim();
    float *f0 = xmalloc(sizeof(float) * d), *f1 = xmalloc(sizeof(float) * d);
    ZT_OK(core_morph_compute(p0, W, W, f0, NULL));
    ZT_OK(core_morph_compute(p1, W, W, f1, NULL));
    int bad = 0;
    for (int i = 0; i < d; i++)
        if (fabsf(f0[i] - f1[i]) > 0.02f * (1 + fabsf(f0[i]))) {
            if (bad++ < 5) fprintf(stderr, "  %s: %g vs %g\n", core_morph_name(i), f0[i], f1[i]);
        }
    ZT_CHECK(bad <= d / 50, "%d of %d features change under a 90-degree rotation", bad, d);
    free(p0); free(p1); free(f0); free(f1);
}

static void names_cover_every_component(void)
{
    int d = core_morph_dim();
    ZT_CHECK(d > 100 && d < 1000, "dim %d", d);
    for (int i = 0; i < d; i++) {
        const char *n = core_morph_name(i);
        ZT_CHECK(n && n[0], "component %d has a name", i);
        ZT_CHECK(core_morph_index(n) == i, "name %s is unique", n);
    }
    ZT_CHECK(core_morph_name(d) == NULL && core_morph_name(-1) == NULL, "out of range gives NULL");
    /* weights: 1 for global measures, a block of annuli sums to 1 */
    ZT_CHECK(core_morph_weight(core_morph_index("q")) == 1, "a global measure weighs 1");
    double wsum = 0;
    for (int i = 0; i < d; i++) {
        const char *n = core_morph_name(i);
        ZT_CHECK(core_morph_weight(i) > 0 && core_morph_weight(i) <= 1, "%s weight %g", n, core_morph_weight(i));
        if (strncmp(n, "prof_fix_", 9) == 0) wsum += core_morph_weight(i);
    }
    ZT_CHECK(fabs(wsum - 1) < 1e-6, "the fixed-grid profile block weighs 1 in all: %g", wsum);
    ZT_CHECK(core_morph_weight(d) == 0, "out of range weighs 0");
    uint8_t tiny[7 * 7 * 3] = {0};
    float *f = xmalloc(sizeof(float) * d);
    ZT_CHECK(core_morph_compute(tiny, 7, 7, f, NULL) == -1, "a 7x7 image is refused");
    /* a blank image and a saturated one still give finite numbers */
    uint8_t *blank = xcalloc((size_t)W * W * 3, 1);
    ZT_OK(core_morph_compute(blank, W, W, f, NULL));
    for (int i = 0; i < d; i++) ZT_CHECK(isfinite(f[i]), "blank: %s = %g", core_morph_name(i), f[i]);
    memset(blank, 255, (size_t)W * W * 3);
    ZT_OK(core_morph_compute(blank, W, W, f, NULL));
    for (int i = 0; i < d; i++) ZT_CHECK(isfinite(f[i]), "white: %s = %g", core_morph_name(i), f[i]);
    /* non-square input is centre-cropped */
    uint8_t *wide = xcalloc((size_t)300 * 100 * 3, 1);
    ZT_OK(core_morph_compute(wide, 300, 100, f, NULL));
    free(wide); free(blank); free(f);
}

static void real_rings_give_finite_features_fast(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/decals_rings/catalog.csv", ZT_SHARED);
    FILE *cat = fopen(path, "r");
    if (!cat) zt_skip("no %s", path);
    char line[1024];
    ZT_CHECK(fgets(line, sizeof line, cat) != NULL, "header");
    int d = core_morph_dim(), n = 0;
    float *f = xmalloc(sizeof(float) * d);
    double t = 0;
    while (n < 20 && fgets(line, sizeof line, cat)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        ZT_CHECK(c1 && c2, "catalog line %s", line);
        *c2 = 0;
        snprintf(path, sizeof path, "%s/decals_rings/%s", ZT_SHARED, c1 + 1);
        core_image im, th;
        char err[128];
        ZT_CHECK(core_image_load(path, &im, err, sizeof err) == 0, "%s: %s", path, err);
        ZT_OK(core_image_thumbnail(&im, CORE_THUMB_SIDE, &th));
        double t0 = core_mono_s();
        core_morph_shape sh;
        ZT_OK(core_morph_compute(th.px, th.w, th.h, f, &sh));
        t += core_mono_s() - t0;
        for (int i = 0; i < d; i++) ZT_CHECK(isfinite(f[i]), "%s: %s = %g", path, core_morph_name(i), f[i]);
        ZT_CHECK(sh.r50 > 2 && sh.r50 < 60, "%s: R50 %.1f px is a galaxy's size", path, sh.r50);
        core_image_free(&im);
        core_image_free(&th);
        n++;
    }
    fclose(cat);
    printf("  %.2f ms per 256 px thumbnail\n", 1e3 * t / n);
    free(f);
}

const zt_case zt_suite_morph[] = {
    {"recovers the axis ratio and position angle of an elliptical disc", recovers_axis_ratio_and_angle, 0},
    {"a ring is a bump of the unsharp profile at its radius, complete all around", a_ring_is_a_bump_at_its_radius, 0},
    {"concentration and M20 order a Sersic n=2 bulge above an exponential disc",
     concentration_orders_bulges_above_discs, 0},
    {"asymmetry and the m=1 mode see an off-centre clump", asymmetry_sees_an_offcentre_clump, 0},
    {"a red ring shows in the colour annuli", a_red_ring_shows_in_the_colour_annuli, 0},
    {"rotating the image by 90 degrees leaves the features", rotating_the_image_leaves_the_features, 0},
    {"every component has a unique name; blank, white, tiny and wide images are handled",
     names_cover_every_component, 0},
    {"real DECaLS cutouts give finite features and galaxy-sized radii", real_rings_give_finite_features_fast, 0},
    {0, 0, 0},
};
