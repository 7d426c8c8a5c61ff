/*
 * t_sim.c - the galaxy simulator: determinism, each class shows its feature
 * (measured on the rendered fluxes the way an astronomer would), the class
 * mix, the volunteer votes, the catalog writer and the realism report.
 */
#include "tests/zt.h"
#include "core/schema.h"
#include "core/sim.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define S 424

static float *render_clean(core_sim_params *p)
{
    p->no_noise = 1;
    p->no_background = 1;
    p->bright_star = 0;
    p->trail = 0;
    float *f = xmalloc(sizeof(float) * 3 * S * S);   /* (3, S, S) */
    core_sim_render_flux(p, S, f);
    return f;
}

/* The r band (plane 1). */
static const float *rband(const float *f) { return f + (size_t)S * S; }

/* A galaxy of a class drawn from some seed whose parameters satisfy ok(). */
static void find_class(int cls, int (*ok)(const core_sim_params *), core_sim_params *p)
{
    for (uint64_t s = 1; s < 5000; s++) {
        core_sim_draw_class(s, cls, p);
        if (!ok || ok(p)) return;
    }
    zt_fail_at(__FILE__, __LINE__, "no galaxy of class %d with the wanted parameters", cls);
}

static void same_seed_same_bytes(void)
{
    double frac[CORE_SIM_N_CLASSES];
    core_sim_mix_default(frac);
    for (int i = 0; i < 4; i++) {
        core_sim_params a, b, c;
        core_sim_draw(7, (uint64_t)i, frac, &a);
        core_sim_draw(7, (uint64_t)i, frac, &b);
        core_sim_draw(8, (uint64_t)i, frac, &c);
        core_image ia = {0}, ib = {0}, ic = {0};
        ZT_OK(core_sim_render(&a, 128, &ia));
        ZT_OK(core_sim_render(&b, 128, &ib));
        ZT_OK(core_sim_render(&c, 128, &ic));
        ZT_CHECK(memcmp(ia.px, ib.px, 128 * 128 * 3) == 0, "galaxy %d differs between two renders", i);
        ZT_CHECK(memcmp(ia.px, ic.px, 128 * 128 * 3) != 0, "seeds 7 and 8 give the same galaxy %d", i);
        char ra[4096], rb[4096], rc[4096];
        core_sim_csv_row(&a, "x", "x.png", 128, ra, sizeof ra);
        core_sim_csv_row(&b, "x", "x.png", 128, rb, sizeof rb);
        core_sim_csv_row(&c, "x", "x.png", 128, rc, sizeof rc);
        ZT_CHECK(strcmp(ra, rb) == 0, "catalog rows differ: %s / %s", ra, rb);
        ZT_CHECK(strcmp(ra, rc) != 0, "seeds 7 and 8 give the same row %s", ra);
        core_image_free(&ia);
        core_image_free(&ib);
        core_image_free(&ic);
    }
}

/* Azimuthal mean of the r band in the disc plane (deprojected ellipse) at radius R (px). */
static double ring_profile(const float *r, const core_sim_params *p, double R)
{
    double ca = cos(p->pa * M_PI / 180), sa = sin(p->pa * M_PI / 180), s = 0;
    int n = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double dx = x + 0.5 - S / 2.0, dy = -(y + 0.5 - S / 2.0);
            double X = dx * ca + dy * sa, Y = (-dx * sa + dy * ca) / p->q, rr = sqrt(X * X + Y * Y);
            if (fabs(rr - R) < 1.5) { s += r[(size_t)y * S + x]; n++; }
        }
    return n ? s / n : 0;
}

static int ring_ok(const core_sim_params *p) { return p->q > 0.6 && p->ring_r > 30 && p->ring_r < 150; }

static void ring_raises_the_profile_at_its_radius(void)
{
    core_sim_params p, q;
    find_class(CORE_SIM_RING, ring_ok, &p);
    q = p;
    q.ring = 0;
    float *fr = render_clean(&p), *fn = render_clean(&q);
    double at = ring_profile(rband(fr), &p, p.ring_r) / ring_profile(rband(fn), &q, p.ring_r);
    double inside = ring_profile(rband(fr), &p, p.ring_r * 0.5) / ring_profile(rband(fn), &q, p.ring_r * 0.5);
    ZT_CHECK(at > 1.3, "the ring raises the profile at R = %.1f px only %.2fx", p.ring_r, at);
    ZT_CHECK(at > inside * 1.2, "at the ring %.2fx, at half its radius %.2fx", at, inside);
    free(fr);
    free(fn);
}

/* Second moments of the r band about the centre along the position angle. */
static void moments(const float *r, double pa, double *mxx, double *myy)
{
    double ca = cos(pa * M_PI / 180), sa = sin(pa * M_PI / 180), sx = 0, sy = 0, sw = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double dx = x + 0.5 - S / 2.0, dy = -(y + 0.5 - S / 2.0);
            double X = dx * ca + dy * sa, Y = -dx * sa + dy * ca, w = r[(size_t)y * S + x];
            sx += w * X * X; sy += w * Y * Y; sw += w;
        }
    *mxx = sx / sw;
    *myy = sy / sw;
}

static void edge_on_disc_has_the_axis_ratio_it_claims(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        core_sim_params p;
        core_sim_draw_class(seed, CORE_SIM_EDGEON, &p);
        p.disc_h = 18 + 4 * seed;          /* keep the disc inside the cutout */
        p.disc_z = p.disc_h * (0.12 + 0.04 * seed);
        p.bulge_frac = 0; p.edge_bulge = 0; p.dust = 0;
        core_sim_finish(&p);
        float *f = render_clean(&p);
        double mxx, myy;
        moments(rband(f), p.pa, &mxx, &myy);
        /* the PSF and the 2x upsampling add their variance to both axes */
        double s2 = core_sim_psf_sigma(S) * core_sim_psf_sigma(S) + 0.25;
        double q = sqrt((myy - s2) / (mxx - s2));
        ZT_CHECK(fabs(q - p.q) < 0.2 * p.q, "seed %d: measured axis ratio %.3f, claimed %.3f", (int)seed, q, p.q);
        ZT_CHECK(p.q < 0.3, "an edge-on disc claims axis ratio %.3f", p.q);
        free(f);
    }
}

static void smooth_galaxy_has_its_axis_ratio(void)
{
    core_sim_params p;
    core_sim_draw_class(11, CORE_SIM_SMOOTH, &p);
    p.r_eff = 15; p.n_sersic = 1.0; p.bulge_q = p.q = 0.5;
    core_sim_finish(&p);
    float *f = render_clean(&p);
    double mxx, myy, s2 = core_sim_psf_sigma(S) * core_sim_psf_sigma(S) + 0.25;
    moments(rband(f), p.pa, &mxx, &myy);
    double q = sqrt((myy - s2) / (mxx - s2));
    ZT_CHECK(fabs(q - 0.5) < 0.05, "measured %.3f for an n=1 elliptical of axis ratio 0.5", q);
    free(f);
}

/* Mean over thin rings of |sum I exp(-i m phi)| / sum I, between R0 and R1 (face-on). */
static double fourier_mode(const float *r, int m, double R0, double R1)
{
    int nr = (int)((R1 - R0) / 2);
    double *re = xcalloc((size_t)nr, sizeof(double)), *im = xcalloc((size_t)nr, sizeof(double));
    double *w = xcalloc((size_t)nr, sizeof(double));
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double dx = x + 0.5 - S / 2.0, dy = -(y + 0.5 - S / 2.0), rr = sqrt(dx * dx + dy * dy);
            int k = (int)((rr - R0) / 2);
            if (rr < R0 || k >= nr) continue;
            double ph = atan2(dy, dx), v = r[(size_t)y * S + x];
            re[k] += v * cos(m * ph); im[k] += v * sin(m * ph); w[k] += v;
        }
    double a = 0;
    for (int k = 0; k < nr; k++) a += sqrt(re[k] * re[k] + im[k] * im[k]) / w[k];
    free(re); free(im); free(w);
    return a / nr;
}

static void arm_count_is_the_dominant_fourier_mode(void)
{
    for (int arms = 1; arms <= 4; arms++) {
        core_sim_params p;
        core_sim_draw_class(100 + arms, CORE_SIM_SPIRAL, &p);
        p.n_arms = arms; p.q = 1.0; p.bulge_q = 1; p.bar = 0; p.arm_amp = 0.6;
        p.disc_h = 24; p.bulge_frac = 0.1; p.n_knots = 0;
        core_sim_finish(&p);
        float *f = render_clean(&p);
        int best = 0;
        double a[7] = {0};
        for (int m = 1; m <= 6; m++) {
            a[m] = fourier_mode(rband(f), m, 0.8 * p.disc_h, 3.0 * p.disc_h);
            if (!best || a[m] > a[best]) best = m;
        }
        ZT_CHECK(best == arms, "%d arms: dominant mode m=%d (A1..A4 = %.3f %.3f %.3f %.3f)",
                 arms, best, a[1], a[2], a[3], a[4]);
        free(f);
    }
}

static void bar_raises_the_m2_mode_inside_its_length(void)
{
    core_sim_params p;
    core_sim_draw_class(31, CORE_SIM_DISK, &p);
    p.q = 1; p.bulge_q = 1; p.n_arms = 0; p.bar = 2; p.disc_h = 24; p.bar_len = 30; p.bulge_frac = 0.1;
    core_sim_finish(&p);
    core_sim_params q = p;
    q.bar = 0;
    float *fb = render_clean(&p), *fn = render_clean(&q);
    double a_bar = fourier_mode(rband(fb), 2, 8, 28), a_none = fourier_mode(rband(fn), 2, 8, 28);
    ZT_CHECK(a_bar > 0.1 && a_bar > 5 * a_none, "m=2 inside the bar: %.3f with, %.3f without", a_bar, a_none);
    double out_bar = fourier_mode(rband(fb), 2, 45, 70);
    ZT_CHECK(out_bar < a_bar / 3, "m=2 beyond the bar %.3f vs inside %.3f", out_bar, a_bar);
    free(fb);
    free(fn);
}

static void dust_lane_dims_the_midplane_most_in_g(void)
{
    core_sim_params p;
    core_sim_draw_class(41, CORE_SIM_EDGEON, &p);
    p.dust = 0.7; p.disc_h = 24; p.disc_z = 5; p.bulge_frac = 0.3; p.edge_bulge = 1; p.pa = 0;
    core_sim_finish(&p);
    core_sim_params q = p;
    q.dust = 0;
    float *fd = render_clean(&p), *fc = render_clean(&q);
    size_t SS = (size_t)S * S, o = (size_t)(S / 2) * S + S / 2 + 12;   /* on the midplane, off centre */
    double g = fd[o] / fc[o], z = fd[2 * SS + o] / fc[2 * SS + o];
    size_t above = o - (size_t)15 * S;                                  /* 15 px above the plane */
    double g_above = fd[above] / fc[above];
    ZT_CHECK(g < 0.8 && g < z, "midplane: g dimmed to %.2f, z to %.2f", g, z);
    ZT_CHECK(g_above > 0.97, "15 px above the lane g is dimmed to %.2f", g_above);
    free(fd);
    free(fc);
}

static int star_artifact(const core_sim_params *p) { return p->bright_star == 2; }
static int trail_artifact(const core_sim_params *p) { return p->trail == 2; }

static void saturated_star_has_a_masked_core_and_a_halo(void)
{
    core_sim_params p;
    find_class(CORE_SIM_ARTIFACT, star_artifact, &p);
    core_image im = {0};
    ZT_OK(core_sim_render(&p, S, &im));
    const uint8_t *c = im.px + 3 * ((size_t)(S / 2) * S + S / 2);
    ZT_CHECK(c[0] < 40 && c[1] < 40, "the saturated core shows RGB %d %d %d, not black", c[0], c[1], c[2]);
    /* the halo: the annulus 12..30 px around the core far above the sky at the border */
    double halo = 0, sky = 0;
    int nh = 0, ns = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double r = hypot(x + 0.5 - S / 2.0, y + 0.5 - S / 2.0);
            int gch = im.px[3 * ((size_t)y * S + x) + 1];
            if (r > 12 && r < 30) { halo += gch; nh++; }
            else if (x < 20 || y < 20) { sky += gch; ns++; }
        }
    halo /= nh;
    sky /= ns;
    ZT_CHECK(halo > 4 * sky && halo > 100, "halo %.0f, sky %.0f (G channel)", halo, sky);
    core_image_free(&im);
}

static void satellite_trail_is_a_line_in_one_band(void)
{
    core_sim_params p;
    find_class(CORE_SIM_ARTIFACT, trail_artifact, &p);
    p.no_noise = 1; p.no_background = 1;
    float *f = xmalloc(sizeof(float) * 3 * S * S);
    core_sim_render_flux(&p, S, f);
    core_sim_params q = p;
    q.trail = 0;
    float *g = xmalloc(sizeof(float) * 3 * S * S);
    core_sim_render_flux(&q, S, g);
    size_t SS = (size_t)S * S;
    double d[3] = {0, 0, 0};
    long lit = 0;
    for (size_t i = 0; i < SS; i++) {
        double m = 0;
        for (int k = 0; k < 3; k++) { double v = f[k * SS + i] - g[k * SS + i]; d[k] += v; if (v > m) m = v; }
        lit += m > 0.01;
    }
    int top = d[0] > d[1] ? (d[0] > d[2] ? 0 : 2) : (d[1] > d[2] ? 1 : 2);
    double other1 = d[(top + 1) % 3], other2 = d[(top + 2) % 3];
    ZT_CHECK(d[top] > 0 && other1 == 0 && other2 == 0, "trail light g r z %.1f %.1f %.1f", d[0], d[1], d[2]);
    /* a line: crosses the image (>= S/2 px long) but covers a few per cent of it */
    ZT_CHECK(lit > S / 2 && lit < (long)SS / 20, "%ld pixels lit by the trail", lit);
    free(f);
    free(g);
}

static int major_merger(const core_sim_params *p)
{
    return p->merger == 3 && hypot(p->comp_dx, p->comp_dy) > 40 && p->comp_flux > 0.4;
}

/* Is (x, y) within d px of a local maximum of the 5x5-smoothed image? */
static int peak_near(const float *r, double x, double y, int d)
{
    int best_x = -1, best_y = -1;
    double best = -1;
    for (int yy = (int)y - d; yy <= (int)y + d; yy++)
        for (int xx = (int)x - d; xx <= (int)x + d; xx++) {
            if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
            if (r[(size_t)yy * S + xx] > best) { best = r[(size_t)yy * S + xx]; best_x = xx; best_y = yy; }
        }
    /* a local maximum: brighter than everything in a ring 2d..3d around it */
    for (int yy = best_y - 3 * d; yy <= best_y + 3 * d; yy++)
        for (int xx = best_x - 3 * d; xx <= best_x + 3 * d; xx++) {
            if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
            if (abs(xx - best_x) < 2 * d && abs(yy - best_y) < 2 * d) continue;
            if (r[(size_t)yy * S + xx] >= best) return 0;
        }
    return 1;
}

static void merger_has_two_peaks(void)
{
    core_sim_params p;
    find_class(CORE_SIM_MERGER, major_merger, &p);
    p.n_tails = 0; p.n_shells = 0;
    float *f = render_clean(&p);
    ZT_CHECK(peak_near(rband(f), S / 2.0, S / 2.0, 3), "no peak at the main galaxy");
    double cx = S / 2.0 + p.comp_dx, cy = S / 2.0 - p.comp_dy;
    ZT_CHECK(peak_near(rband(f), cx, cy, 3), "no second peak at the companion (%.0f, %.0f)", cx, cy);
    free(f);
    /* and a smooth galaxy alone has no second peak there */
    core_sim_params q = p;
    q.merger = 0; q.comp_flux = 0;
    f = render_clean(&q);
    ZT_CHECK(!peak_near(rband(f), cx, cy, 3), "a lone galaxy shows a peak at (%.0f, %.0f)", cx, cy);
    free(f);
}

static void lens_arc_is_blue_light_at_the_einstein_radius(void)
{
    core_sim_params p, q;
    core_sim_draw_class(5, CORE_SIM_LENS, &p);
    q = p;
    q.lens_r = 0;
    float *fa = render_clean(&p), *fb = render_clean(&q);
    double a = p.arc_angle * M_PI / 180;
    int x = (int)(S / 2.0 + p.lens_r * cos(a)), y = (int)(S / 2.0 - p.lens_r * sin(a));
    size_t o = (size_t)y * S + x, SS = (size_t)S * S;
    double dg = fa[o] - fb[o], dz = fa[2 * SS + o] - fb[2 * SS + o], dr = fa[SS + o] - fb[SS + o];
    ZT_CHECK(dr > 0.1 * fb[SS + o], "the arc adds %.4f to %.4f in r", dr, fb[SS + o]);
    /* bluer than the elliptical: g/z of the added light above g/z of the galaxy */
    ZT_CHECK(dg / dz > fb[o] / fb[2 * SS + o] * 1.1, "arc g/z %.3f, galaxy g/z %.3f", dg / dz, fb[o] / fb[2 * SS + o]);
    free(fa);
    free(fb);
}

static void arms_are_bluer_than_the_bulge(void)
{
    core_sim_params p;
    core_sim_draw_class(21, CORE_SIM_SPIRAL, &p);
    p.q = 1; p.disc_h = 24; p.arm_amp = 0.6;
    core_sim_finish(&p);
    float *f = render_clean(&p);
    size_t SS = (size_t)S * S;
    double gc = 0, zc = 0, ga = 0, za = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double rr = hypot(x + 0.5 - S / 2.0, y + 0.5 - S / 2.0);
            size_t o = (size_t)y * S + x;
            if (rr < 4) { gc += f[o]; zc += f[2 * SS + o]; }
            else if (rr > 1.5 * p.disc_h && rr < 3 * p.disc_h) { ga += f[o]; za += f[2 * SS + o]; }
        }
    ZT_CHECK(ga / za > 1.15 * gc / zc, "g/z outer %.3f, centre %.3f", ga / za, gc / zc);
    free(f);
}

static void fast_loops_match_their_naive_reference(void)
{
    double e = core_sim_selfcheck();
    ZT_CHECK(e < 1e-5, "blur / upsampling differ from the naive loops by %.3g (relative)", e);
}

static void own_math_matches_libm(void)
{
    double e = core_sim_mathcheck();
    ZT_CHECK(e < 1e-13, "the simulator's exp/log/pow/sin/cos/atan2/asinh differ from libm by %.3g", e);
}

static void mix_oversamples_a_class(void)
{
    double frac[CORE_SIM_N_CLASSES];
    char err[200];
    ZT_OK(core_sim_mix_parse("ring=0.5", frac, err, sizeof err));
    double tot = 0;
    for (int i = 0; i < CORE_SIM_N_CLASSES; i++) tot += frac[i];
    ZT_CHECK(fabs(tot - 1) < 1e-9 && fabs(frac[CORE_SIM_RING] - 0.5) < 1e-9, "ring %.3f of %.3f", frac[CORE_SIM_RING], tot);
    int n = 2000, rings = 0;
    for (int i = 0; i < n; i++) {
        core_sim_params p;
        core_sim_draw(3, (uint64_t)i, frac, &p);
        rings += p.ring != 0;
    }
    ZT_CHECK(rings > 0.45 * n && rings < 0.55 * n, "%d rings of %d", rings, n);
    core_sim_mix_default(frac);
    rings = 0;
    for (int i = 0; i < n; i++) {
        core_sim_params p;
        core_sim_draw(3, (uint64_t)i, frac, &p);
        rings += p.ring != 0;
    }
    ZT_CHECK(rings > 0.01 * n && rings < 0.06 * n, "default: %d rings of %d (a few per cent)", rings, n);
    ZT_CHECK(core_sim_mix_parse("rings=0.5", frac, err, sizeof err) == -1 && strstr(err, "rings"), "%s", err);
    ZT_CHECK(core_sim_mix_parse("ring=1.5", frac, err, sizeof err) == -1, "ring=1.5 accepted");
    ZT_CHECK(core_sim_mix_parse("ring=0.7,merger=0.5", frac, err, sizeof err) == -1, "sum > 1 accepted");
    ZT_CHECK(core_sim_mix_parse("ring", frac, err, sizeof err) == -1, "'ring' accepted");
}

static void votes_follow_the_gz_decals_tree(void)
{
    core_schema s;
    ZT_OK(core_schema_builtin("gz-decals", &s));
    ZT_CHECK(core_schema_n_columns(&s) == CORE_SIM_N_VOTE_COLS, "%d columns", core_schema_n_columns(&s));
    for (int i = 0; i < CORE_SIM_N_VOTE_COLS; i++) {
        char name[128];
        int q, a;
        ZT_OK(core_schema_column(&s, i, name, sizeof name, &q, &a));
        ZT_CHECK(strcmp(name, core_sim_vote_columns[i]) == 0, "column %d: schema %s, sim %s", i, name, core_sim_vote_columns[i]);
    }
    double frac[CORE_SIM_N_CLASSES];
    core_sim_mix_default(frac);
    for (int i = 0; i < 200; i++) {
        core_sim_params p;
        core_sim_draw(4, (uint64_t)i, frac, &p);
        int v[CORE_SIM_N_VOTE_COLS];
        core_sim_votes(&p, v);
        int n0 = v[0] + v[1] + v[2];
        ZT_CHECK(n0 >= 35 && n0 <= 45, "%d volunteers", n0);
        ZT_CHECK(v[3] + v[4] == v[1], "edge-on votes %d != featured %d", v[3] + v[4], v[1]);
        ZT_CHECK(v[5] + v[6] == v[4] && v[7] + v[8] + v[9] == v[4], "spiral/bar votes vs not-edge-on %d", v[4]);
        ZT_CHECK(v[15] + v[16] + v[17] == v[0], "how-rounded votes vs smooth %d", v[0]);
        int arms = v[24] + v[25] + v[26] + v[27] + v[28] + v[29];
        ZT_CHECK(arms == v[5], "arm-count votes %d vs spiral %d", arms, v[5]);
        /* the true answer gets the most votes at the first question */
        int t = p.cls == CORE_SIM_ARTIFACT ? 2 : p.disc_h > 0 ? 1 : 0;
        int other1 = v[(t + 1) % 3], other2 = v[(t + 2) % 3];
        ZT_CHECK(v[t] > other1 && v[t] > other2, "galaxy %d (%s): true answer %d has %d of %d votes",
                 i, core_sim_class_names[p.cls], t, v[t], n0);
    }
}

static void writes_images_and_catalog_the_same_on_any_thread_count(void)
{
    double frac[CORE_SIM_N_CLASSES];
    char err[256];
    core_sim_mix_default(frac);
    ZT_OK(core_sim_write("a", 12, 5, 96, frac, 1, 0, NULL, NULL, err, sizeof err));
    ZT_OK(core_sim_write("b", 12, 5, 96, frac, 3, 0, NULL, NULL, err, sizeof err));
    ZT_CHECK(zt_sh(NULL, "cmp -s a/catalog.csv b/catalog.csv") == 0, "catalogs differ");
    ZT_CHECK(zt_sh(NULL, "for f in a/images/*.png; do cmp -s $f b/${f#a/} || exit 1; done") == 0, "images differ");
    ZT_CHECK(zt_sh(NULL, "test $(ls a/images | wc -l) -eq 12 && test $(wc -l < a/catalog.csv) -eq 13") == 0,
             "12 images and 12 rows expected");
    core_image im = {0};
    ZT_OK(core_image_load("a/images/sim_000011.png", &im, err, sizeof err));
    ZT_CHECK(im.w == 96 && im.h == 96, "%dx%d", im.w, im.h);
    core_image_free(&im);
    ZT_CHECK(core_sim_write("/proc/nonexistent/x", 2, 5, 96, frac, 1, 0, NULL, NULL, err, sizeof err) == -1 &&
             strstr(err, "/proc/nonexistent"), "error: %s", err);
}

static void realism_report_computes_its_statistics(void)
{
    if (zt_sh(NULL, "/usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null") != 0) zt_skip("no numpy/PIL in /usr/bin/python3");
    char real[1024];
    snprintf(real, sizeof real, "%s/decals_rings/images", ZT_SHARED);
    if (zt_sh(NULL, "test -d %s", real) != 0) zt_skip("no %s", real);
    double frac[CORE_SIM_N_CLASSES];
    char err[256];
    core_sim_mix_default(frac);
    ZT_OK(core_sim_write("s", 8, 2, 424, frac, 2, 0, NULL, NULL, err, sizeof err));
    ZT_OK(zt_sh("out.txt", "/usr/bin/python3 %s/tools/realism.py s %s --n 8 --json r.json", ZT_ROOT, real));
    size_t len;
    char *j = zt_slurp("r.json", &len), *t = zt_slurp("out.txt", &len);
    ZT_CHECK(j && t, "no report");
    const char *keys[] = {"sky_mad_R", "r50", "c80_20", "centre_rg", "annulus_bg"};
    for (int i = 0; i < 5; i++) ZT_CHECK(strstr(j, keys[i]) && strstr(t, keys[i]), "no %s in the report", keys[i]);
    ZT_CHECK(!strstr(j, "NaN") && strstr(j, "\"n_sim\": 8"), "report: %.300s", j);
    free(j);
    free(t);
}

const zt_case zt_suite_sim[] = {
    {"the same seed gives the same bytes, another seed other bytes", same_seed_same_bytes, 0},
    {"a ring raises the radial profile at the ring radius", ring_raises_the_profile_at_its_radius, 0},
    {"an edge-on disc has the axis ratio it claims (second moments)", edge_on_disc_has_the_axis_ratio_it_claims, 0},
    {"a smooth galaxy has the axis ratio it claims", smooth_galaxy_has_its_axis_ratio, 0},
    {"the arm count is the dominant azimuthal Fourier mode", arm_count_is_the_dominant_fourier_mode, 0},
    {"a strong bar raises the m=2 mode inside its length only", bar_raises_the_m2_mode_inside_its_length, 0},
    {"a dust lane dims the midplane of an edge-on disc, most in g", dust_lane_dims_the_midplane_most_in_g, 0},
    {"a saturated star shows a masked core in a bright halo", saturated_star_has_a_masked_core_and_a_halo, 0},
    {"a satellite trail is a line across the image in one band", satellite_trail_is_a_line_in_one_band, 0},
    {"a merger shows two peaks", merger_has_two_peaks, 0},
    {"a lens arc is blue light at the Einstein radius", lens_arc_is_blue_light_at_the_einstein_radius, 0},
    {"spiral arms are bluer than the bulge", arms_are_bluer_than_the_bulge, 0},
    {"the fast blur and upsampling match the naive loops", fast_loops_match_their_naive_reference, 0},
    {"the simulator's own math functions match libm", own_math_matches_libm, 0},
    {"--mix oversamples a class; the default has a few per cent rings", mix_oversamples_a_class, 0},
    {"simulated votes follow the gz-decals tree", votes_follow_the_gz_decals_tree, 0},
    {"writes images and catalog, the same on 1 or 3 threads", writes_images_and_catalog_the_same_on_any_thread_count, 0},
    {"the realism report computes its statistics", realism_report_computes_its_statistics, 60},
    {0, 0, 0},
};
