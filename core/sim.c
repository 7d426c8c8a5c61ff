/*
 * sim.c - simulated DECaLS-like galaxy cutouts with known morphology (see sim.h).
 * One file of ~1,600 lines: every step below draws from one per-galaxy RNG
 * stream in a fixed order, and keeping the steps together keeps that order
 * (and so every catalog ever made by a seed) in one place.
 *
 * Rendering, per galaxy (lengths drawn in pixels of a 424 px cutout, then
 * scaled to the requested side):
 *   1. the smooth light (Sersic bulge/elliptical, exponential or edge-on sech^2
 *      disc, logarithmic arms, Ferrers-like bar, rings, lens arc, companion,
 *      tails, shells, background galaxies, star-forming knots) is evaluated on a
 *      grid of half the output resolution (f = 2 for sides >= 128): every
 *      component goes to its own plane, is normalised to its flux by the sum of
 *      its plane and added to the g, r, z planes with its colour;
 *   2. the grid is blurred by a separable Gaussian with the core width of the
 *      PSF (1.3" FWHM, x 1.6 for the resampling of GZ cutouts, SIM_FWHM_PX);
 *   3. point sources are drawn on the grid as Moffat profiles (beta 3) with
 *      their wings: foreground stars, bright stars with diffraction spikes,
 *      saturated stars (halo, bleed trail, masked core); satellite trails as
 *      lines in one band;
 *   4. sky + Poisson noise on the grid from a fixed table of normal deviates
 *      (the upsampling then correlates it as in real, resampled cutouts), and
 *      the masked cores of saturated stars;
 *   5. bilinear upsampling to the output side;
 *   6. the "dr2-style" asinh colour stretch of DECaLS cutouts (legacypipe
 *      sdss_rgb: z -> R, r -> G, g -> B, scales 2.2/3.4/6.0, Q = 20, offset m).
 * Only IEEE-exact arithmetic and the simulator's own exp/log/sin/... are used
 * (see "deterministic math"), so the bytes do not depend on the machine.
 * Units: fluxes in nanomaggies (22.5 - 2.5 log10 = AB magnitude).
 *
 * Legend of dimension letters: S output side, L grid side (S / f), 3 bands g r z.
 *
 * DESIGN (threads): core_sim_write runs n_threads workers; each takes the next
 * galaxy index from a counter under a mutex, draws, renders and writes its PNG
 * with buffers of its own, and stores the catalog row in rows[index] (under
 * the mutex, signalling the condition); the calling thread writes the rows to
 * catalog.csv in index order as they arrive, and reports progress.  The
 * lookup tables (Sersic profiles, normal deviates, stretch) are built once
 * under pthread_once and only read afterwards.
 */
#include "core/sim.h"
#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define DEG (M_PI / 180.0)

const char *const core_sim_class_names[CORE_SIM_N_CLASSES] = {
    "smooth", "disk", "spiral", "edgeon", "ring", "merger", "lens", "artifact",
};

/* Roughly GZ DECaLS: most galaxies smooth or featured without rarities. */
static const double default_mix[CORE_SIM_N_CLASSES] = {
    0.45, 0.16, 0.24, 0.08, 0.03, 0.025, 0.005, 0.01,
};

/* ---------------------------------------------------------------- deterministic math
 * libm's exp/log/pow/sin/cos may differ in the last bit between glibc versions
 * and between CPUs (glibc picks FMA variants at run time), which would change
 * a pixel here and there.  The simulator uses these instead: only +, -, *, /,
 * sqrt (all correctly rounded by IEEE 754, and C11 mode keeps the compiler from
 * fusing them), frexp/ldexp (exact), so the same seed gives the same bytes on
 * any machine.  Accuracy ~1e-15 relative (core_sim_mathcheck against libm). */

#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define PIO2_HI 1.57079632673412561417e+00
#define PIO2_LO 6.07710050650619224932e-11

static double sim_exp(double x)
{
    if (x != x) return x;
    if (x < -745.0) return 0.0;
    if (x > 709.0) return HUGE_VAL;
    double k = floor(x * 1.4426950408889634 + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;          /* |r| <= 0.35 */
    static const double inv[15] = {0, 1.0 / 1, 1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 5, 1.0 / 6, 1.0 / 7, 1.0 / 8,
                                   1.0 / 9, 1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13, 1.0 / 14};
    double t = 1.0;
    for (int i = 14; i >= 1; i--) t = 1.0 + t * r * inv[i];   /* Horner form of the Taylor series */
    if (k > -1022 && k < 1023) {      /* 2^k built from its bits: exact, and faster than ldexp */
        union { uint64_t u; double d; } two = {(uint64_t)((int64_t)k + 1023) << 52};
        return t * two.d;
    }
    return ldexp(t, (int)k);
}

static double sim_log(double x)
{
    if (!(x > 0)) return x == 0 ? -HUGE_VAL : (x - x) / 0.0;
    if (x == HUGE_VAL) return x;
    int e;
    double m = frexp(x, &e);                            /* x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) { m *= 2; e--; }
    double f = m - 1.0, s = f / (2.0 + f), s2 = s * s;  /* log(1 + f) = 2 atanh(s) */
    static const double inv[28] = {0, 1.0 / 1, 0, 1.0 / 3, 0, 1.0 / 5, 0, 1.0 / 7, 0, 1.0 / 9, 0, 1.0 / 11, 0, 1.0 / 13, 0,
                                   1.0 / 15, 0, 1.0 / 17, 0, 1.0 / 19, 0, 1.0 / 21, 0, 1.0 / 23, 0, 1.0 / 25, 0, 1.0 / 27};
    double t = 0;
    for (int i = 27; i >= 3; i -= 2) t = (t + inv[i]) * s2;
    double r = 2.0 * s * (1.0 + t);
    return e * LN2_HI + (r + e * LN2_LO);
}

static double sim_pow(double x, double y)
{
    if (x == 0) return y > 0 ? 0.0 : HUGE_VAL;
    return sim_exp(y * sim_log(x));                     /* x > 0 here */
}

/* sin (odd = 1) or cos (odd = 0) on |r| <= pi/4 */
static double sim_kernel(double r, int odd)
{
    double r2 = r * r, t = 1.0;      /* sin: 1 - r^2/(2.3) (1 - r^2/(4.5) (...)); cos: 1.2, 3.4, ... */
    for (int i = 20; i >= 2; i -= 2) t = 1.0 - t * r2 / ((double)i * (i + (odd ? 1 : -1)));
    return odd ? r * t : t;
}

static double sim_sincos(double x, int want_sin)
{
    double k = floor(x * 0.63661977236758134308 + 0.5);
    double r = (x - k * PIO2_HI) - k * PIO2_LO;
    long q = ((long)k + (want_sin ? 0 : 1)) & 3;        /* cos x = sin(x + pi/2) */
    switch (q) {
    case 0: return sim_kernel(r, 1);
    case 1: return sim_kernel(r, 0);
    case 2: return -sim_kernel(r, 1);
    default: return -sim_kernel(r, 0);
    }
}
static double sim_sin(double x) { return sim_sincos(x, 1); }
static double sim_cos(double x) { return sim_sincos(x, 0); }
static double sim_tan(double x) { return sim_sin(x) / sim_cos(x); }

static double sim_atan(double x)
{
    int neg = x < 0, inv;
    if (neg) x = -x;
    inv = x > 1;
    if (inv) x = 1 / x;
    for (int i = 0; i < 3; i++) x = x / (1 + sqrt(1 + x * x));   /* atan x = 2 atan(x / (1 + sqrt(1 + x^2))) */
    double x2 = x * x, t = 0;                                   /* now x <= 0.05 */
    for (int i = 25; i >= 3; i -= 2) t = (1.0 / i - t) * x2;
    double a = 8 * x * (1 - t);
    if (inv) a = PIO2_HI - a + PIO2_LO;
    return neg ? -a : a;
}

static double sim_atan2(double y, double x)
{
    if (x > 0) return sim_atan(y / x);
    if (x < 0) return y >= 0 ? sim_atan(y / x) + 2 * (PIO2_HI + PIO2_LO) : sim_atan(y / x) - 2 * (PIO2_HI + PIO2_LO);
    return y > 0 ? PIO2_HI + PIO2_LO : y < 0 ? -(PIO2_HI + PIO2_LO) : 0;
}

static double sim_asinh(double x) { return x < 0 ? -sim_log(-x + sqrt(x * x + 1)) : sim_log(x + sqrt(x * x + 1)); }

/* N(0, 1) by Box-Muller, and Poisson, on the deterministic functions. */
static double sim_normal(core_rng *r)
{
    double u1 = core_rng_uniform(r), u2 = core_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * sim_log(u1)) * sim_cos(2.0 * M_PI * u2);
}

static double sim_poisson(core_rng *r, double lambda)
{
    if (lambda <= 0) return 0;
    if (lambda > 30) {
        double v = lambda + sqrt(lambda) * sim_normal(r);
        return v < 0 ? 0 : floor(v + 0.5);
    }
    double l = sim_exp(-lambda), p = 1.0;
    int k = 0;
    do { k++; p *= core_rng_uniform(r); } while (p > l);
    return k - 1;
}

double core_sim_mathcheck(void)
{
    double worst = 0;
    core_rng r;
    core_rng_seed(&r, 7);
    for (int i = 0; i < 20000; i++) {
        double u = core_rng_uniform(&r), x = (u - 0.5) * 60, y = sim_exp((u - 0.3) * 40), a = (u - 0.5) * 40;
        double e[] = {
            (sim_exp(x) - exp(x)) / exp(x), (sim_log(y) - log(y)) / fmax(fabs(log(y)), 1),
            (sim_pow(y, 0.37) - pow(y, 0.37)) / pow(y, 0.37), sim_sin(a) - sin(a), sim_cos(a) - cos(a),
            (sim_atan2(x, a) - atan2(x, a)), (sim_asinh(x) - asinh(x)) / fmax(fabs(asinh(x)), 1),
        };
        for (size_t k = 0; k < sizeof e / sizeof e[0]; k++) worst = fmax(worst, fabs(e[k]));
    }
    return worst;
}

/* ---------------------------------------------------------------- tables */

#define SERSIC_N_MIN 0.5
#define SERSIC_N_STEP 0.1
#define SERSIC_N_COUNT 56          /* n = 0.5 .. 6.0 */
#define SERSIC_T_MAX 4.5           /* t = sqrt(r / r_eff) up to 4.5 (r = 20 r_eff) */
#define SERSIC_T_COUNT 1024
#define GAUSS_COUNT 65536
#define STRETCH_I_MAX 8.0
#define STRETCH_COUNT 8192

static float sersic_tab[SERSIC_N_COUNT][SERSIC_T_COUNT + 2]; /* profile / I_e at t */
static float gauss_tab[GAUSS_COUNT];                        /* N(0,1) quantiles */
static float stretch_tab[STRETCH_COUNT + 2];                /* sim_asinh(Q I) / (sqrt(Q) I) */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

#define STRETCH_Q 20.0
/* PSF FWHM in pixels of a 424 px cutout: 1.3" at 0.262"/px, times 1.6 for the
 * softness GZ DECaLS cutouts get from being resampled (their sky noise has a
 * neighbour correlation of 0.79, measured on decals_rings). */
#define SIM_FWHM_PX (1.3 / CORE_SIM_PIXSCALE * 1.6)
#define STRETCH_M 0.0145
static const double band_scale[3] = {6.0, 3.4, 2.2};   /* g, r, z (legacypipe sdss_rgb) */
static const double sky_sigma[3] = {0.0026, 0.0046, 0.0079}; /* nanomaggies / px at 424 */
static const double gain[3] = {1500.0, 1500.0, 700.0};       /* Poisson: var += flux / gain */

static double sersic_b(double n)
{
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n);
}

/* Acklam's rational approximation of the normal quantile (rel. error 1e-9). */
static double normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * sim_log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) return -normal_quantile(1 - p);
    q = p - 0.5;
    r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

static void tables_build(void)
{
    for (int k = 0; k < SERSIC_N_COUNT; k++) {
        double n = SERSIC_N_MIN + k * SERSIC_N_STEP, bn = sersic_b(n);
        for (int i = 0; i < SERSIC_T_COUNT + 2; i++) {
            double t = (double)i * SERSIC_T_MAX / SERSIC_T_COUNT, x = t * t;   /* r / r_eff */
            sersic_tab[k][i] = (float)sim_exp(-bn * (sim_pow(x, 1.0 / n) - 1.0));
        }
    }
    for (int i = 0; i < GAUSS_COUNT; i++) gauss_tab[i] = (float)normal_quantile((i + 0.5) / GAUSS_COUNT);
    stretch_tab[0] = (float)sqrt(STRETCH_Q);
    for (int i = 1; i < STRETCH_COUNT + 2; i++) {
        double I = (double)i * STRETCH_I_MAX / STRETCH_COUNT;
        stretch_tab[i] = (float)(sim_asinh(STRETCH_Q * I) / (sqrt(STRETCH_Q) * I));
    }
}

static void tables_init(void) { pthread_once(&tables_once, tables_build); }

static int sersic_index(double n)
{
    int k = (int)floor((n - SERSIC_N_MIN) / SERSIC_N_STEP + 0.5);
    return k < 0 ? 0 : k >= SERSIC_N_COUNT ? SERSIC_N_COUNT - 1 : k;
}

/* Profile at r / r_eff = x, from the table (0 beyond 20 r_eff). */
static inline float sersic_at(const float *tab, double x)
{
    double t = sqrt(x) * (SERSIC_T_COUNT / SERSIC_T_MAX);
    if (t >= SERSIC_T_COUNT) return 0.0f;
    int i = (int)t;
    float w = (float)(t - i);
    return tab[i] + w * (tab[i + 1] - tab[i]);
}

/* ---------------------------------------------------------------- mix */

void core_sim_mix_default(double frac[CORE_SIM_N_CLASSES])
{
    memcpy(frac, default_mix, sizeof default_mix);
}

int core_sim_mix_parse(const char *s, double frac[CORE_SIM_N_CLASSES], char *err, size_t errlen)
{
    double given[CORE_SIM_N_CLASSES];
    int set[CORE_SIM_N_CLASSES] = {0};
    const char *p = s;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq) { snprintf(err, errlen, "--mix: expected CLASS=FRACTION at '%s'", p); return -1; }
        int c = -1;
        for (int i = 0; i < CORE_SIM_N_CLASSES; i++)
            if (strlen(core_sim_class_names[i]) == (size_t)(eq - p) &&
                strncmp(p, core_sim_class_names[i], (size_t)(eq - p)) == 0) c = i;
        if (c < 0) {
            snprintf(err, errlen, "--mix: unknown class '%.*s' (smooth, disk, spiral, edgeon, ring, "
                     "merger, lens, artifact)", (int)(eq - p), p);
            return -1;
        }
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || errno || !(v >= 0 && v <= 1) || (*end && *end != ',')) {
            snprintf(err, errlen, "--mix: %s: fraction must be a number in [0, 1]", core_sim_class_names[c]);
            return -1;
        }
        given[c] = v;
        set[c] = 1;
        p = *end ? end + 1 : end;
    }
    double sum_given = 0, sum_rest = 0;
    for (int i = 0; i < CORE_SIM_N_CLASSES; i++) {
        if (set[i]) sum_given += given[i];
        else sum_rest += default_mix[i];
    }
    if (sum_given > 1.0 + 1e-9) { snprintf(err, errlen, "--mix: fractions add up to %.3g > 1", sum_given); return -1; }
    for (int i = 0; i < CORE_SIM_N_CLASSES; i++)
        frac[i] = set[i] ? given[i] : sum_rest > 0 ? default_mix[i] * (1.0 - sum_given) / sum_rest : 0;
    double tot = 0;
    for (int i = 0; i < CORE_SIM_N_CLASSES; i++) tot += frac[i];
    if (tot <= 0) { snprintf(err, errlen, "--mix: all fractions are zero"); return -1; }
    for (int i = 0; i < CORE_SIM_N_CLASSES; i++) frac[i] /= tot;
    return 0;
}

/* ---------------------------------------------------------------- drawing */

static double unif(core_rng *r, double a, double b) { return a + (b - a) * core_rng_uniform(r); }
static double logunif(core_rng *r, double a, double b) { return a * sim_exp(sim_log(b / a) * core_rng_uniform(r)); }
static int chance(core_rng *r, double p) { return core_rng_uniform(r) < p; }

static double exp_disc_q(core_rng *r)
{
    double cosi = unif(r, 0.3, 1.0), q0 = 0.12;
    return sqrt(cosi * cosi + q0 * q0 * (1 - cosi * cosi));
}

/* A surface brightness that puts the centre near saturation as in GZ DECaLS cutouts. */
static double flux_for(core_rng *r, double r_half)
{
    double sb = logunif(r, 0.08, 0.3);      /* mean nanomaggies / px inside r_half */
    return sb * 2.0 * M_PI * r_half * r_half;
}

static void draw_disc(core_rng *r, core_sim_params *p, double bulge_lo, double bulge_hi)
{
    p->disc_h = logunif(r, 19, 43);
    p->q = exp_disc_q(r);
    p->bulge_frac = unif(r, bulge_lo, bulge_hi);
    p->n_sersic = unif(r, 1.5, 4.0);
    p->r_eff = p->disc_h * unif(r, 0.15, 0.4);
    p->bulge_q = fmax(p->q, unif(r, 0.7, 1.0));
    double u = core_rng_uniform(r);
    p->bar = u < 0.22 ? 2 : u < 0.45 ? 1 : 0;
    p->bar_len = p->disc_h * unif(r, 0.8, 1.6);
    p->bar_pa = unif(r, 0, 180);
    p->clump = unif(r, 0.1, 0.3);
}

static void draw_arms(core_rng *r, core_sim_params *p)
{
    double u = core_rng_uniform(r);
    p->n_arms = u < 0.05 ? 1 : u < 0.6 ? 2 : u < 0.8 ? 3 : u < 0.92 ? 4 : 5 + (int)core_rng_below(r, 2);
    p->winding = (int)core_rng_below(r, 3);
    p->pitch = p->winding == 0 ? unif(r, 8, 14) : p->winding == 1 ? unif(r, 15, 24) : unif(r, 25, 36);
    p->arm_amp = unif(r, 0.2, 0.5);
    p->n_knots = 20 + (int)core_rng_below(r, 40);
}

void core_sim_finish(core_sim_params *p)
{
    double bf = p->bulge_frac;
    p->r_half = p->disc_h > 0 ? bf * p->r_eff + (1 - bf) * 1.678 * p->disc_h : p->r_eff;
    if (p->cls == CORE_SIM_EDGEON) {
        /* second moments of sim_exp(-|x|/h) sech^2(y/z): <x^2> = 2h^2, <y^2> = pi^2 z^2 / 12 */
        p->q = sqrt(M_PI * M_PI * p->disc_z * p->disc_z / 12.0 / (2.0 * p->disc_h * p->disc_h));
    }
    p->bulge_size = bf > 0.6 ? 0 : bf > 0.4 ? 1 : bf > 0.18 ? 2 : bf > 0.04 ? 3 : 4;
    double qq = p->disc_h > 0 ? p->q : p->bulge_q;
    p->round = qq > 0.8 ? 0 : qq > 0.45 ? 1 : 2;
}

void core_sim_draw_class(uint64_t seed, int cls, core_sim_params *p)
{
    core_rng r;
    core_rng_seed(&r, seed);
    memset(p, 0, sizeof *p);
    p->cls = cls;
    p->seed = core_rng_u64(&r);
    p->pa = unif(&r, 0, 180);
    switch (cls) {
    case CORE_SIM_SMOOTH:
    case CORE_SIM_LENS:
    default:
        p->n_sersic = unif(&r, 1.3, 4.0);
        p->r_eff = logunif(&r, 24, 64);
        p->bulge_q = 1.0 - 0.72 * sim_pow(core_rng_uniform(&r), 1.4);
        p->q = p->bulge_q;
        p->bulge_frac = 1.0;
        if (cls == CORE_SIM_LENS) {
            p->n_sersic = unif(&r, 3.0, 4.5);
            p->bulge_q = p->q = unif(&r, 0.6, 1.0);
            p->lens_r = p->r_eff * unif(&r, 0.6, 1.3);
            p->arc_angle = unif(&r, 0, 360);
            p->arc_span = unif(&r, 60, 160);
        }
        break;
    case CORE_SIM_DISK:
        draw_disc(&r, p, 0.08, 0.65);
        if (chance(&r, 0.5)) {            /* faint, flocculent hints of structure, not arms */
            p->n_arms = 2;
            p->pitch = 25;
            p->arm_amp = unif(&r, 0.03, 0.12);
        }
        break;
    case CORE_SIM_SPIRAL:
        draw_disc(&r, p, 0.03, 0.4);
        draw_arms(&r, p);
        break;
    case CORE_SIM_EDGEON: {
        p->disc_h = logunif(&r, 14, 30);
        p->disc_z = p->disc_h * unif(&r, 0.12, 0.25);
        double u = core_rng_uniform(&r);
        p->edge_bulge = u < 0.3 ? 0 : u < 0.75 ? 1 : 2;
        p->bulge_frac = p->edge_bulge == 0 ? 0.0 : unif(&r, 0.1, 0.4);
        p->n_sersic = p->edge_bulge == 2 ? 1.0 : unif(&r, 1.5, 3.0);
        p->r_eff = p->disc_h * unif(&r, 0.25, 0.45);
        p->bulge_q = p->edge_bulge == 2 ? unif(&r, 0.6, 0.8) : unif(&r, 0.65, 0.9);
        p->bulge_boxy = p->edge_bulge == 2;
        p->dust = chance(&r, 0.65) ? unif(&r, 0.3, 0.8) : 0.0;
        break;
    }
    case CORE_SIM_RING:
        draw_disc(&r, p, 0.15, 0.65);
        if (chance(&r, 0.5)) draw_arms(&r, p);
        p->ring = chance(&r, 0.5) ? 1 : 2;
        if (p->ring == 1) {
            if (!p->bar) p->bar = chance(&r, 0.6) ? 1 + (int)core_rng_below(&r, 2) : 0;
            p->ring_r = p->bar ? p->bar_len * unif(&r, 1.0, 1.15) : p->disc_h * unif(&r, 0.9, 1.6);
        } else {
            p->ring_r = p->disc_h * unif(&r, 2.0, 3.2);
        }
        p->ring_w = p->ring_r * unif(&r, 0.08, 0.16);
        p->ring_frac = unif(&r, 0.07, 0.2);
        break;
    case CORE_SIM_MERGER: {
        if (chance(&r, 0.5)) {
            p->n_sersic = unif(&r, 2.0, 4.0);
            p->r_eff = logunif(&r, 14, 40);
            p->bulge_q = p->q = unif(&r, 0.5, 1.0);
            p->bulge_frac = 1.0;
        } else {
            draw_disc(&r, p, 0.1, 0.5);
            if (chance(&r, 0.5)) draw_arms(&r, p);
        }
        p->merger = chance(&r, 0.7) ? 3 : 2;
        double rh = p->disc_h > 0 ? 1.678 * p->disc_h : p->r_eff;
        double sep = rh * (p->merger == 3 ? unif(&r, 0.3, 2.0) : unif(&r, 2.5, 4.0));
        double ang = unif(&r, 0, 2 * M_PI);
        p->comp_dx = sep * sim_cos(ang);
        p->comp_dy = sep * sim_sin(ang);
        p->comp_flux = p->merger == 3 ? unif(&r, 0.3, 1.0) : unif(&r, 0.05, 0.3);
        p->comp_reff = rh * unif(&r, 0.4, 0.9);
        p->n_tails = 1 + (int)core_rng_below(&r, 2);
        p->n_shells = p->disc_h > 0 ? 0 : (int)core_rng_below(&r, 4);
        break;
    }
    case CORE_SIM_ARTIFACT:
        p->n_sersic = unif(&r, 1.0, 3.0);
        p->r_eff = logunif(&r, 3, 8);
        p->bulge_q = p->q = unif(&r, 0.5, 1.0);
        p->bulge_frac = 1.0;
        if (chance(&r, 0.5)) p->bright_star = 2;   /* a saturated star on the target */
        else p->trail = 2;                         /* a bright satellite trail through it */
        break;
    }
    if (p->n_sersic > 0) p->n_sersic = SERSIC_N_MIN + sersic_index(p->n_sersic) * SERSIC_N_STEP;
    if (cls != CORE_SIM_MERGER && cls != CORE_SIM_ARTIFACT && chance(&r, 0.06)) {
        p->merger = 1;                  /* a minor disturbance: a faint tail or shell */
        p->n_tails = chance(&r, 0.5);
        p->n_shells = !p->n_tails;
    }
    if (cls != CORE_SIM_ARTIFACT) {
        if (chance(&r, 0.04)) p->bright_star = 1;
        if (chance(&r, 0.015)) p->trail = 1;
    }
    core_sim_finish(p);
    p->flux_r = flux_for(&r, p->r_half);
    if (cls == CORE_SIM_ARTIFACT) p->flux_r *= 0.3;
}

void core_sim_draw(uint64_t seed, uint64_t index, const double frac[CORE_SIM_N_CLASSES], core_sim_params *p)
{
    core_rng r;
    core_rng_seed(&r, seed);
    uint64_t base = core_rng_u64(&r);
    core_rng_seed(&r, base + index * 0x9E3779B97F4A7C15ULL);
    double u = core_rng_uniform(&r), acc = 0;
    int cls = CORE_SIM_N_CLASSES - 1;
    for (int c = 0; c < CORE_SIM_N_CLASSES; c++) {
        acc += frac[c];
        if (u < acc && frac[c] > 0) { cls = c; break; }
    }
    while (frac[cls] <= 0 && cls > 0) cls--;
    core_sim_draw_class(core_rng_u64(&r), cls, p);
}

/* ---------------------------------------------------------------- rendering */

/* Colours as flux ratios g/r and z/r. */
static const double COL_RED[3] = {0.52, 1.0, 1.70};     /* elliptical / bulge */
static const double COL_DISC[3] = {0.55, 1.0, 1.74};
static const double COL_BLUE[3] = {0.72, 1.0, 1.42};    /* arms, rings, knots, arcs */

typedef struct {
    int S, L, f;        /* output side, grid side, grid cell in output px */
    double k;           /* 424-px length -> grid cells */
    double cx, cy;      /* galaxy centre, grid coordinates (cells are [u, u+1)) */
    float *band;        /* (3, L, L) g r z on the grid */
    float *plane[6];    /* (L, L) component planes */
    float *tmp;         /* (L, L) */
    int n_sat;          /* saturated stars: their cores are masked after the noise */
    double sat[4][3];   /* (n_sat, x y radius) grid coordinates */
    core_rng rng;
} rctx;

enum { PL_BULGE, PL_DISC, PL_ARM, PL_BAR, PL_RING, PL_KNOT };

typedef struct { int x0, y0, x1, y1; } box;

static box box_around(const rctx *c, double cx, double cy, double R)
{
    box b = {(int)floor(cx - R), (int)floor(cy - R), (int)ceil(cx + R), (int)ceil(cy + R)};
    if (b.x0 < 0) b.x0 = 0;
    if (b.y0 < 0) b.y0 = 0;
    if (b.x1 > c->L) b.x1 = c->L;
    if (b.y1 > c->L) b.y1 = c->L;
    return b;
}

static double plane_sum(const rctx *c, const float *pl, box b)
{
    double s = 0;
    for (int y = b.y0; y < b.y1; y++)
        for (int x = b.x0; x < b.x1; x++) s += pl[(size_t)y * c->L + x];
    return s;
}

/* Adds plane pl (its box) to the bands with total r flux `flux` (plane sum `sum`) and colour col. */
static void plane_add(rctx *c, const float *pl, box b, double flux, double sum, const double col[3])
{
    if (!(sum > 0) || !(flux > 0)) return;
    size_t LL = (size_t)c->L * c->L;
    for (int k = 0; k < 3; k++) {
        float a = (float)(flux / sum * col[k]);
        float *dst = c->band + k * LL;
        for (int y = b.y0; y < b.y1; y++)
            for (int x = b.x0; x < b.x1; x++) dst[(size_t)y * c->L + x] += a * pl[(size_t)y * c->L + x];
    }
}

/* Sersic profile (grid units) into pl, unnormalised; returns its sum.  The
 * cells near the centre are sampled 5x5 so cuspy profiles keep their light. */
static double sersic_plane(rctx *c, float *pl, double cx, double cy, double re, double n, double q,
                           double pa_deg, int boxy, box *out_box)
{
    if (re < 0.05) re = 0.05;
    const float *tab = sersic_tab[sersic_index(n)];
    double R = re * (n > 2.5 ? 20.0 : n > 1.5 ? 12.0 : 8.0) + 2;
    box b = box_around(c, cx, cy, R);
    *out_box = b;
    double ca = sim_cos(pa_deg * DEG), sa = sim_sin(pa_deg * DEG), ire = 1.0 / re, iq = 1.0 / q, s = 0;
    for (int y = b.y0; y < b.y1; y++) {
        for (int x = b.x0; x < b.x1; x++) {
            double dx = x + 0.5 - cx, dy = -(y + 0.5 - cy), v;
            int near = fabs(dx) < 1.6 && fabs(dy) < 1.6;
            int ns = near ? 5 : 1;
            v = 0;
            for (int sy = 0; sy < ns; sy++)
                for (int sx = 0; sx < ns; sx++) {
                    double ex = dx + (ns > 1 ? (sx - 2) * 0.2 : 0), ey = dy + (ns > 1 ? (sy - 2) * 0.2 : 0);
                    double xp = (ex * ca + ey * sa) * ire, yp = (-ex * sa + ey * ca) * ire * iq, rr;
                    if (boxy) rr = sqrt(sqrt(xp * xp * xp * xp + yp * yp * yp * yp));
                    else rr = sqrt(xp * xp + yp * yp);
                    v += sersic_at(tab, rr);
                }
            v /= ns * ns;
            pl[(size_t)y * c->L + x] = (float)v;
            s += v;
        }
    }
    return s;
}

/* A Sersic blob straight into the bands (companions, background galaxies). */
static void add_blob(rctx *c, double cx, double cy, double re, double n, double q, double pa_deg,
                     double flux, const double col[3])
{
    box b;
    double s = sersic_plane(c, c->tmp, cx, cy, re, n, q, pa_deg, 0, &b);
    plane_add(c, c->tmp, b, flux, s, col);
}

/* Deposits a point of flux bilinearly into plane pl (it is blurred later). */
static void deposit(const rctx *c, float *pl, double x, double y, double w)
{
    x -= 0.5; y -= 0.5;
    int x0 = (int)floor(x), y0 = (int)floor(y);
    double fx = x - x0, fy = y - y0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int xx = x0 + i, yy = y0 + j;
            if (xx < 0 || yy < 0 || xx >= c->L || yy >= c->L) continue;
            pl[(size_t)yy * c->L + xx] += (float)(w * (i ? fx : 1 - fx) * (j ? fy : 1 - fy));
        }
}

/* A Gaussian spot straight into the bands (tails, shells, arcs), sigma in grid cells. */
static void add_spot(rctx *c, double x, double y, double sigma, double flux, const double col[3])
{
    if (sigma < 0.7) {
        size_t LL = (size_t)c->L * c->L;
        for (int k = 0; k < 3; k++) deposit(c, c->band + k * LL, x, y, flux * col[k]);
        return;
    }
    box b = box_around(c, x, y, 3 * sigma + 1);
    double s = 0, i2s = 1.0 / (2 * sigma * sigma);
    for (int yy = b.y0; yy < b.y1; yy++)
        for (int xx = b.x0; xx < b.x1; xx++) {
            double dx = xx + 0.5 - x, dy = yy + 0.5 - y;
            float v = (float)sim_exp(-(dx * dx + dy * dy) * i2s);
            c->tmp[(size_t)yy * c->L + xx] = v;
            s += v;
        }
    plane_add(c, c->tmp, b, flux, s, col);
}

/* Grid position of a point at disc-plane coordinates (X, Y) (424 px units). */
static void disc_to_grid(const rctx *c, const core_sim_params *p, double qd, double X, double Y, double *gx, double *gy)
{
    double xp = X, yp = Y * qd, ca = sim_cos(p->pa * DEG), sa = sim_sin(p->pa * DEG);
    double dx = xp * ca - yp * sa, dy = xp * sa + yp * ca;
    *gx = c->cx + dx * c->k;
    *gy = c->cy - dy * c->k;
}

/* The disc: exponential (or edge-on sech^2), arms, bar, ring, into their planes. */
static void disc_planes(rctx *c, const core_sim_params *p, box *out)
{
    int edge = p->cls == CORE_SIM_EDGEON;
    double h = p->disc_h * c->k, qd = p->q;
    double Rmax = 7.5 * h;
    if (p->ring) Rmax = fmax(Rmax, (p->ring_r + 4 * p->ring_w) * c->k);
    box b = box_around(c, c->cx, c->cy, Rmax);
    *out = b;
    double ca = sim_cos(p->pa * DEG), sa = sim_sin(p->pa * DEG), ih = 1.0 / h;
    int m = p->n_arms;
    double bar_c = sim_cos(p->bar_pa * DEG), bar_s = sim_sin(p->bar_pa * DEG);
    double Lb = p->bar_len * c->k, qb = p->bar == 2 ? 0.25 : 0.35;
    double Rr = p->ring_r * c->k, wr = p->ring_w * c->k;
    double z0 = p->disc_z * c->k;
    /* arms: sim_cos(m phi + phi0 - m ln(R) / sim_tan(pitch)) = Re(((X + iY)/R)^m * T(R)) */
    double itp = m ? 1.0 / sim_tan(p->pitch * DEG) : 0;
    double Rin = p->bar ? Lb : fmax(1.0, 1.2 * p->r_eff * c->k);
    double phi0 = p->bar ? -(m * (p->bar_pa * DEG) - m * sim_log(Lb) * itp) : 0;
    int nT = m ? (int)(Rmax * 8) + 2 : 0;
    float *Tc = NULL, *Ts = NULL;  /* (nT) cos, sin of phi0 - m ln(R) itp at R = i / 8 */
    if (m) {
        Tc = xmalloc(sizeof(float) * (size_t)nT);
        Ts = xmalloc(sizeof(float) * (size_t)nT);
        for (int i = 0; i < nT; i++) {
            double R = fmax(i / 8.0, 0.05), a = phi0 - m * sim_log(R) * itp;
            Tc[i] = (float)sim_cos(a);
            Ts[i] = (float)sim_sin(a);
        }
    }
    /* patchiness: a smooth random field exp(clump N(0,1)) on a 40x40 grid over
     * the disc's box, interpolated; the arms get it squared (clumpier) */
    enum { NG = 40 };
    float field[NG][NG];     /* (NG, NG) */
    for (int i = 0; i < NG; i++)
        for (int j = 0; j < NG; j++)
            field[i][j] = (float)sim_exp(p->clump * sim_normal(&c->rng) - 0.5 * p->clump * p->clump);
    double fsx = (double)(NG - 1) / fmax(1, b.x1 - b.x0), fsy = (double)(NG - 1) / fmax(1, b.y1 - b.y0);
    int kpow = p->pitch < 15 ? 2 : 3;
    double smean = kpow == 2 ? 3.0 / 8.0 : 5.0 / 16.0;   /* mean of ((1 + cos) / 2)^k */
    float *pd = c->plane[PL_DISC], *pa_ = c->plane[PL_ARM], *pb = c->plane[PL_BAR], *pr = c->plane[PL_RING];
    for (int y = b.y0; y < b.y1; y++) {
        for (int x = b.x0; x < b.x1; x++) {
            size_t o = (size_t)y * c->L + x;
            double dx = x + 0.5 - c->cx, dy = -(y + 0.5 - c->cy);
            double xp = dx * ca + dy * sa, yp = -dx * sa + dy * ca;
            if (edge) {
                double t = fabs(yp) / z0, e = sim_exp(-2 * t);
                double sech2 = 4 * e / ((1 + e) * (1 + e));
                pd[o] = (float)(sim_exp(-sqrt(xp * xp + 0.25) * ih) * sech2);
                continue;
            }
            double X = xp, Y = yp / qd, R2 = X * X + Y * Y, R = sqrt(R2);
            double d = sim_exp(-R * ih), cl = 1;
            if (p->clump > 0) {
                double gx = (x - b.x0) * fsx, gy = (y - b.y0) * fsy;
                int ix = (int)gx, iy = (int)gy;
                if (ix > NG - 2) ix = NG - 2;
                if (iy > NG - 2) iy = NG - 2;
                double fx = gx - ix, fy = gy - iy;
                cl = (1 - fy) * ((1 - fx) * field[iy][ix] + fx * field[iy][ix + 1]) +
                     fy * ((1 - fx) * field[iy + 1][ix] + fx * field[iy + 1][ix + 1]);
            }
            pd[o] = (float)(d * cl);
            if (m) {
                double Ri = R < 1e-6 ? 1e-6 : R;
                double zr = X / Ri, zi = Y / Ri, pr_ = 1, pi_ = 0;
                for (int j = 0; j < m; j++) {
                    double t = pr_ * zr - pi_ * zi;
                    pi_ = pr_ * zi + pi_ * zr;
                    pr_ = t;
                }
                double tt = R * 8;
                int i = (int)tt;
                if (i >= nT - 1) i = nT - 2;
                float w = (float)(tt - i);
                double tc = Tc[i] + w * (Tc[i + 1] - Tc[i]), ts = Ts[i] + w * (Ts[i + 1] - Ts[i]);
                double s = (1 + (pr_ * tc - pi_ * ts)) * 0.5;
                s = kpow == 2 ? s * s : s * s * s;
                double win = R2 / (R2 + Rin * Rin);
                pa_[o] = (float)(d * win * s / smean * cl * cl);
            }
            if (p->bar) {
                double Xb = X * bar_c + Y * bar_s, Yb = (-X * bar_s + Y * bar_c) / qb;
                double rb = sqrt(sqrt(Xb * Xb * Xb * Xb + Yb * Yb * Yb * Yb)) / Lb;
                pb[o] = rb < 1 ? (float)((1 - rb * rb) * (1 - rb * rb) * (1 - 0.3 * rb)) : 0.0f;
            }
            if (p->ring) {
                double t = (R - Rr) / wr;
                double c2 = R2 > 0 ? ((X * bar_c + Y * bar_s) * (X * bar_c + Y * bar_s) * 2 / R2 - 1) : 0;
                pr[o] = fabs(t) < 5 ? (float)(sim_exp(-0.5 * t * t) * (1 + 0.25 * c2)) : 0.0f;
            }
        }
    }
    free(Tc);
    free(Ts);
}

/* Star-forming knots along the arms (or the ring) into the knot plane. */
static void knots(rctx *c, const core_sim_params *p)
{
    float *pk = c->plane[PL_KNOT];
    int m = p->n_arms;
    double h = p->disc_h, itp = m ? 1.0 / sim_tan(p->pitch * DEG) : 0;
    double Lb = p->bar_len * c->k;
    double phi0 = p->bar ? -(m * (p->bar_pa * DEG) - m * sim_log(Lb) * itp) : 0;
    for (int i = 0; i < p->n_knots; i++) {
        double w = -sim_log(1 - core_rng_uniform(&c->rng) * 0.999);
        double X, Y;
        if (p->ring && (!m || chance(&c->rng, 0.5))) {
            double a = unif(&c->rng, 0, 2 * M_PI), R = p->ring_r + p->ring_w * sim_normal(&c->rng) * 0.5;
            X = R * sim_cos(a); Y = R * sim_sin(a);
        } else if (m) {
            double R = h * unif(&c->rng, 0.6, 3.0), Rg = R * c->k;
            int arm = (int)core_rng_below(&c->rng, (uint32_t)m);
            double phi = (m * sim_log(Rg) * itp - phi0 + 2 * M_PI * arm) / m + 0.12 * sim_normal(&c->rng);
            X = R * sim_cos(phi); Y = R * sim_sin(phi);
        } else {
            return;
        }
        double gx, gy;
        disc_to_grid(c, p, p->q, X, Y, &gx, &gy);
        for (int j = 0; j < 3; j++)       /* a knot is a small clumpy region, not a point */
            deposit(c, pk, gx + 0.7 * sim_normal(&c->rng), gy + 0.7 * sim_normal(&c->rng), w / 3);
    }
}

/* A tidal tail: a curved stream of spots from (x0, y0) (grid coordinates). */
static void tail(rctx *c, double x0, double y0, double len, double ang, double curl, double flux, const double col[3])
{
    int ns = 40;
    double x = x0, y = y0, wsum = 0;
    for (int i = 0; i < ns; i++) wsum += 1.0 - 0.8 * i / ns;
    for (int i = 0; i < ns; i++) {
        double t = (double)i / ns;
        ang += curl / ns;
        x += sim_cos(ang) * len / ns;
        y -= sim_sin(ang) * len / ns;
        double wdt = (1.0 + 2.0 * t) * len * 0.06;
        add_spot(c, x, y, fmax(wdt, 0.8), flux * (1.0 - 0.8 * t) / wsum, col);
    }
}

/* A shell: an arc of radius rad around (cx, cy), thin, spanning span radians at angle a0. */
static void shell(rctx *c, double cx, double cy, double rad, double a0, double span, double width,
                  double flux, const double col[3])
{
    int ns = (int)(rad * span / fmax(width, 0.5)) + 4;
    for (int i = 0; i < ns; i++) {
        double t = (double)i / (ns - 1), a = a0 - span / 2 + span * t;
        double win = sim_sin(M_PI * t);
        add_spot(c, cx + rad * sim_cos(a), cy - rad * sim_sin(a), width, flux * win * win / ns * 2, col);
    }
}

/* A normalised Gaussian of sigma cells, 3 sigma each side: (2 *rad + 1)
 * taps, malloc'ed; NULL when the radius is under one cell. */
static float *gauss_kernel(double sigma, int *rad)
{
    *rad = (int)ceil(3 * sigma);
    if (*rad < 1) return NULL;
    float *kern = xmalloc(sizeof(float) * (size_t)(2 * *rad + 1));
    double s = 0;
    for (int i = -*rad; i <= *rad; i++) s += kern[i + *rad] = (float)sim_exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * *rad; i++) kern[i] = (float)(kern[i] / s);
    return kern;
}

/* Separable Gaussian blur of an (L, L) image, sigma in cells, zero padded:
 * the naive reference (blur_fast is the one used; tests compare them). */
static void blur_naive(float *im, int L, double sigma)
{
    int rad;
    float *kern = gauss_kernel(sigma, &rad);   /* (2 rad + 1) */
    if (!kern) return;
    float *row = xmalloc(sizeof(float) * (size_t)(L + 2 * rad));   /* (L + 2 rad) */
    for (int y = 0; y < L; y++) {          /* rows */
        float *r = im + (size_t)y * L;
        memset(row, 0, sizeof(float) * (size_t)(L + 2 * rad));
        memcpy(row + rad, r, sizeof(float) * (size_t)L);
        for (int x = 0; x < L; x++) {
            float v = 0;
            for (int i = 0; i <= 2 * rad; i++) v += kern[i] * row[x + i];
            r[x] = v;
        }
    }
    for (int x = 0; x < L; x++) {          /* columns */
        for (int i = 0; i < L + 2 * rad; i++) row[i] = 0;
        for (int y = 0; y < L; y++) row[y + rad] = im[(size_t)y * L + x];
        for (int y = 0; y < L; y++) {
            float v = 0;
            for (int i = 0; i <= 2 * rad; i++) v += kern[i] * row[y + i];
            im[(size_t)y * L + x] = v;
        }
    }
    free(row);
    free(kern);
}

/* The same, with loops the compiler vectorises: taps outside, pixels inside,
 * and the column pass done a row at a time. */
static void blur_fast(float *im, int L, double sigma)
{
    int rad;
    float *kern = gauss_kernel(sigma, &rad);   /* (2 rad + 1) */
    if (!kern) return;
    float *row = xmalloc(sizeof(float) * (size_t)(L + 2 * rad));   /* (L + 2 rad) */
    float *tmp = xmalloc(sizeof(float) * (size_t)L * L);          /* (L, L) */
    memset(row, 0, sizeof(float) * (size_t)(L + 2 * rad));
    for (int y = 0; y < L; y++) {
        float *r = im + (size_t)y * L, *restrict o = tmp + (size_t)y * L;
        memcpy(row + rad, r, sizeof(float) * (size_t)L);
        for (int x = 0; x < L; x++) o[x] = 0;
        for (int i = 0; i <= 2 * rad; i++) {
            float kv = kern[i];
            const float *restrict src = row + i;
            for (int x = 0; x < L; x++) o[x] += kv * src[x];
        }
    }
    for (int y = 0; y < L; y++) {
        float *restrict o = im + (size_t)y * L;
        for (int x = 0; x < L; x++) o[x] = 0;
        for (int i = 0; i <= 2 * rad; i++) {
            int yy = y + i - rad;
            if (yy < 0 || yy >= L) continue;
            float kv = kern[i];
            const float *restrict src = tmp + (size_t)yy * L;
            for (int x = 0; x < L; x++) o[x] += kv * src[x];
        }
    }
    free(tmp);
    free(row);
    free(kern);
}

static void blur(rctx *c, double sigma)
{
    for (int k = 0; k < 3; k++) blur_fast(c->band + (size_t)k * c->L * c->L, c->L, sigma);
}

/* Bilinear upsampling of a (L, L) grid by f to (S, S), cell centres aligned:
 * the naive reference, and the fast one for f = 2 (weights 3/4, 1/4). */
static void upsample_naive(const float *g, int L, int f, float *o, int S)
{
    for (int y = 0; y < S; y++) {
        double gy = (y + 0.5) / f - 0.5;
        int y0 = (int)floor(gy);
        double fy = gy - y0;
        int ya = y0 < 0 ? 0 : y0 >= L ? L - 1 : y0, yb = y0 + 1 >= L ? L - 1 : y0 + 1 < 0 ? 0 : y0 + 1;
        for (int x = 0; x < S; x++) {
            double gx = (x + 0.5) / f - 0.5;
            int x0 = (int)floor(gx);
            double fx = gx - x0;
            int xa = x0 < 0 ? 0 : x0 >= L ? L - 1 : x0, xb = x0 + 1 >= L ? L - 1 : x0 + 1 < 0 ? 0 : x0 + 1;
            double v = (1 - fy) * ((1 - fx) * g[(size_t)ya * L + xa] + fx * g[(size_t)ya * L + xb]) +
                       fy * ((1 - fx) * g[(size_t)yb * L + xa] + fx * g[(size_t)yb * L + xb]);
            o[(size_t)y * S + x] = (float)v;
        }
    }
}

static void upsample2(const float *g, int L, float *o, int S)
{
    float *restrict row = xmalloc(sizeof(float) * (size_t)L);    /* (L) the vertical blend */
    for (int y = 0; y < S; y++) {
        int u = y >> 1, v = (y & 1) ? u + 1 : u - 1;     /* nearer and farther grid rows */
        if (v < 0) v = 0;
        if (v >= L) v = L - 1;
        if (u >= L) u = L - 1;
        const float *restrict a = g + (size_t)u * L, *restrict b = g + (size_t)v * L;
        for (int x = 0; x < L; x++) row[x] = 0.75f * a[x] + 0.25f * b[x];
        float *out = o + (size_t)y * S;
        for (int x = 0; x < S; x++) {
            int p = x >> 1, q = (x & 1) ? p + 1 : p - 1;
            if (q < 0) q = 0;
            if (q >= L) q = L - 1;
            if (p >= L) p = L - 1;
            out[x] = 0.75f * row[p] + 0.25f * row[q];
        }
    }
    free(row);
}

double core_sim_selfcheck(void)
{
    int L = 61, S = 122;
    float *a = xmalloc(sizeof(float) * L * L), *b = xmalloc(sizeof(float) * L * L);  /* (L, L) */
    float *oa = xmalloc(sizeof(float) * S * S), *ob = xmalloc(sizeof(float) * S * S); /* (S, S) */
    core_rng r;
    core_rng_seed(&r, 42);
    for (int i = 0; i < L * L; i++) a[i] = b[i] = (float)core_rng_uniform(&r);
    blur_naive(a, L, 1.7);
    blur_fast(b, L, 1.7);
    double worst = 0;
    for (int i = 0; i < L * L; i++) worst = fmax(worst, fabs(a[i] - b[i]) / (fabs(a[i]) + 1e-6));
    upsample_naive(a, L, 2, oa, S);
    upsample2(a, L, ob, S);
    for (int i = 0; i < S * S; i++) worst = fmax(worst, fabs(oa[i] - ob[i]) / (fabs(oa[i]) + 1e-6));
    free(a); free(b); free(oa); free(ob);
    return worst;
}

/* Moffat star (beta 3) at output coordinates, plus diffraction spikes when bright. */
static void star(float *flux, int S, double x, double y, double fr, const double col[3], double fwhm, int spikes)
{
    double beta = 3.0, alpha = fwhm / (2 * sqrt(sim_pow(2, 1 / beta) - 1));
    double norm = (beta - 1) / (M_PI * alpha * alpha);
    double Rb = alpha * sim_pow(fr * norm / 2e-4, 1 / (2 * beta)); /* where it falls under the noise */
    if (Rb < 3 * fwhm) Rb = 3 * fwhm;
    if (Rb > S) Rb = S;
    int x0 = (int)fmax(0, floor(x - Rb)), x1 = (int)fmin(S, ceil(x + Rb));
    int y0 = (int)fmax(0, floor(y - Rb)), y1 = (int)fmin(S, ceil(y + Rb));
    size_t SS = (size_t)S * S;
    double ia2 = 1.0 / (alpha * alpha);
    double spike_len = spikes ? Rb * 1.5 : 0, spike_w = fwhm * 0.18;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) {
            double dx = xx + 0.5 - x, dy = yy + 0.5 - y, r2 = dx * dx + dy * dy;
            double u = 1 + r2 * ia2, v = fr * norm / (u * u * u);
            if (spikes) {
                double ax = fabs(dx + dy) * 0.70710678, ay = fabs(dx - dy) * 0.70710678;  /* diagonal, as DECam's */
                double sp = sim_exp(-ay / spike_w) * sim_exp(-ax / spike_len) + sim_exp(-ax / spike_w) * sim_exp(-ay / spike_len);
                v += fr * 1e-4 * sp;
            }
            for (int k = 0; k < 3; k++) flux[k * SS + (size_t)yy * S + xx] += (float)(v * col[k]);
        }
    if (spikes) {   /* spikes reach beyond the halo box */
        for (int d = 0; d < 4; d++) {
            int ddx = d & 1 ? 1 : -1, ddy = d & 2 ? 1 : -1;
            for (int t = (int)(Rb * 0.70710678); t < (int)(spike_len * 0.70710678); t++) {
                int xx = (int)floor(x + ddx * t), yy = (int)floor(y + ddy * t);
                if (xx < 0 || yy < 0 || xx >= S || yy >= S) break;
                double v = fr * 1e-4 * sim_exp(-t * 1.41421356 / spike_len);
                for (int k = 0; k < 3; k++) flux[k * SS + (size_t)yy * S + xx] += (float)(v * col[k]);
            }
        }
    }
}

/* What a saturated star does to a DECaLS coadd: a wide halo, a horizontal
 * bleed trail, and a core of masked pixels that shows black with a blue rim
 * (masked in r and z first).  fr, sat: surface-brightness units of the grid. */
static void saturated(rctx *c, double x, double y, double fr, double fwhm, const double col[3])
{
    const double sat = 6.0;
    double beta = 3.0, alpha = fwhm / (2 * sqrt(sim_pow(2, 1 / beta) - 1));
    double peak = fr * (beta - 1) / (M_PI * alpha * alpha);
    if (peak <= sat) return;
    double rs = alpha * sqrt(sim_pow(peak / sat, 1 / beta) - 1) + 0.5;
    int L = c->L;
    size_t LL = (size_t)L * L;
    /* the halo: a wider Moffat (beta 1.5) with a tenth of the light */
    double a2 = 5 * alpha, n2 = 0.2 * fr * 0.5 / (M_PI * a2 * a2), R = fmin(L, 40 * a2);
    box b = box_around(c, x, y, R);
    for (int yy = b.y0; yy < b.y1; yy++)
        for (int xx = b.x0; xx < b.x1; xx++) {
            double dx = xx + 0.5 - x, dy = yy + 0.5 - y, u = 1 + (dx * dx + dy * dy) / (a2 * a2);
            double v = n2 / (u * sqrt(u));
            for (int k = 0; k < 3; k++) c->band[k * LL + (size_t)yy * L + xx] += (float)(v * col[k]);
        }
    /* the bleed trail along the rows, a cell or two wide */
    double len = rs * unif(&c->rng, 3, 8), amp = sat * unif(&c->rng, 0.05, 0.2);
    for (int yy = (int)floor(y - 1); yy <= (int)floor(y + 1); yy++) {
        if (yy < 0 || yy >= L) continue;
        double w = sim_exp(-0.5 * (yy + 0.5 - y) * (yy + 0.5 - y) / 0.36);
        for (int xx = (int)fmax(0, x - len); xx < (int)fmin(L, x + len); xx++) {
            double v = amp * w * (1 - fabs(xx + 0.5 - x) / len);
            for (int k = 0; k < 3; k++) c->band[k * LL + (size_t)yy * L + xx] += (float)(v * col[k]);
        }
    }
    if (c->n_sat < 4) {
        c->sat[c->n_sat][0] = x; c->sat[c->n_sat][1] = y; c->sat[c->n_sat][2] = rs;
        c->n_sat++;
    }
}

/* Masked pixels of saturated cores: 0 in all bands inside, r and z only on the rim. */
static void mask_saturated(rctx *c)
{
    int L = c->L;
    size_t LL = (size_t)L * L;
    for (int i = 0; i < c->n_sat; i++) {
        double x = c->sat[i][0], y = c->sat[i][1], rs = c->sat[i][2];
        box b = box_around(c, x, y, rs + 1);
        for (int yy = b.y0; yy < b.y1; yy++)
            for (int xx = b.x0; xx < b.x1; xx++) {
                double ex = xx + 0.5 - x, ey = yy + 0.5 - y, r = sqrt(ex * ex + ey * ey);
                size_t o = (size_t)yy * L + xx;
                if (r < 0.7 * rs) c->band[o] = c->band[LL + o] = c->band[2 * LL + o] = 0;
                else if (r < rs) c->band[LL + o] = c->band[2 * LL + o] = 0;
            }
    }
}

/* A satellite trail: a straight line through the image, mostly in one band. */
static void trail(float *flux, int S, core_rng *r, double strength, double wscale)
{
    double a = unif(r, 0, M_PI), ca = sim_cos(a), sa = sim_sin(a);
    double px = unif(r, 0.2, 0.8) * S, py = unif(r, 0.2, 0.8) * S;
    int band = (int)core_rng_below(r, 3);
    double amp = strength * unif(r, 0.01, 0.05), w = (0.6 + 0.6 * core_rng_uniform(r)) * wscale;
    size_t SS = (size_t)S * S;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double d = fabs((x + 0.5 - px) * sa - (y + 0.5 - py) * ca);
            if (d > 4 * w) continue;
            flux[band * SS + (size_t)y * S + x] += (float)(amp * sim_exp(-0.5 * d * d / (w * w)));
        }
}

static void star_colour(core_rng *r, double col[3])
{
    double gr = unif(r, 0.4, 1.5);       /* g - r */
    double rz = 0.5 * gr + unif(r, -0.1, 0.2);
    col[0] = sim_pow(10, -0.4 * gr);
    col[1] = 1;
    col[2] = sim_pow(10, 0.4 * rz);
}

double core_sim_psf_sigma(int side)
{
    return SIM_FWHM_PX * side / CORE_SIM_SIDE / 2.3548 * 0.92;
}

void core_sim_render_flux(const core_sim_params *p, int S, float *flux)
{
    tables_init();
    rctx c;
    memset(&c, 0, sizeof c);
    c.S = S;
    c.f = S >= 128 ? 2 : 1;
    c.L = (S + c.f - 1) / c.f;
    c.k = (double)S / CORE_SIM_SIDE / c.f;
    c.cx = c.cy = (double)S / 2 / c.f;
    size_t LL = (size_t)c.L * c.L, SS = (size_t)S * S;
    c.band = xcalloc(3 * LL, sizeof(float));
    for (int i = 0; i < 6; i++) c.plane[i] = xcalloc(LL, sizeof(float));
    c.tmp = xcalloc(LL, sizeof(float));
    core_rng_seed(&c.rng, p->seed);
    double sc = (double)S / CORE_SIM_SIDE;   /* 424 px -> output px */

    /* --- the main galaxy ----------------------------------------------- */
    double F = p->flux_r;
    int main_star = p->cls == CORE_SIM_ARTIFACT && p->bright_star == 2;
    if (!main_star) {
        double fb = F * p->bulge_frac, fd = F - fb;
        box bb = {0, 0, 0, 0}, bd = {0, 0, 0, 0};
        if (fb > 0) {
            double s = sersic_plane(&c, c.plane[PL_BULGE], c.cx, c.cy, p->r_eff * c.k, p->n_sersic,
                                    p->bulge_q, p->pa, p->bulge_boxy, &bb);
            const double *col = p->disc_h > 0 ? COL_RED : COL_RED;
            plane_add(&c, c.plane[PL_BULGE], bb, fb, s, col);
        }
        if (p->disc_h > 0 && fd > 0) {
            disc_planes(&c, p, &bd);
            double f_arm = p->n_arms ? fd * p->arm_amp * 0.45 : 0;
            double f_bar = p->bar == 2 ? fd * 0.18 : p->bar == 1 ? fd * 0.08 : 0;
            double f_ring = p->ring ? fd * p->ring_frac : 0;
            double f_knot = p->n_arms > 0 && p->arm_amp > 0.2 ? fd * 0.015 : p->ring ? fd * 0.012 : 0;
            double f_disc = fd - f_arm - f_bar - f_ring - f_knot;
            plane_add(&c, c.plane[PL_DISC], bd, f_disc, plane_sum(&c, c.plane[PL_DISC], bd), COL_DISC);
            if (f_arm > 0) plane_add(&c, c.plane[PL_ARM], bd, f_arm, plane_sum(&c, c.plane[PL_ARM], bd), COL_BLUE);
            if (f_bar > 0) {
                static const double col_bar[3] = {0.6, 1.0, 1.33};
                plane_add(&c, c.plane[PL_BAR], bd, f_bar, plane_sum(&c, c.plane[PL_BAR], bd), col_bar);
            }
            if (f_ring > 0) {
                static const double col_ring[3] = {0.56, 1.0, 1.70};
                plane_add(&c, c.plane[PL_RING], bd, f_ring, plane_sum(&c, c.plane[PL_RING], bd), col_ring);
            }
            if (f_knot > 0 || (p->ring && p->n_knots == 0)) {
                core_sim_params pk = *p;
                if (pk.n_knots == 0) pk.n_knots = 12;
                knots(&c, &pk);
                box all = {0, 0, c.L, c.L};
                plane_add(&c, c.plane[PL_KNOT], all, f_knot, plane_sum(&c, c.plane[PL_KNOT], all), COL_BLUE);
            }
        }
        /* dust lane of an edge-on disc: dims the midplane, most in g */
        if (p->cls == CORE_SIM_EDGEON && p->dust > 0) {
            double ca = sim_cos(p->pa * DEG), sa = sim_sin(p->pa * DEG), z0 = p->disc_z * c.k, h = p->disc_h * c.k;
            double wl = fmax(0.35 * z0, 0.4);
            static const double att[3] = {1.0, 0.8, 0.55};
            for (int y = 0; y < c.L; y++)
                for (int x = 0; x < c.L; x++) {
                    double dx = x + 0.5 - c.cx, dy = -(y + 0.5 - c.cy);
                    double xp = dx * ca + dy * sa, yp = -dx * sa + dy * ca;
                    if (fabs(xp) > 5 * h || fabs(yp) > 4 * wl + 2) continue;
                    double a = p->dust * sim_exp(-0.5 * yp * yp / (wl * wl)) * (1 - sim_exp(-fabs(xp) / (0.4 * h) - 0.3));
                    for (int k = 0; k < 3; k++) c.band[k * LL + (size_t)y * c.L + x] *= (float)(1 - a * att[k]);
                }
        }
    }
    /* lens: an arc (and a faint counter-image) around the elliptical */
    if (p->lens_r > 0) {
        double rad = p->lens_r * c.k, a0 = p->arc_angle * DEG, span = p->arc_span * DEG;
        shell(&c, c.cx, c.cy, rad, a0, span, fmax(0.5, 0.8 * c.k), F * unif(&c.rng, 0.02, 0.05), COL_BLUE);
        add_spot(&c, c.cx - 0.7 * rad * sim_cos(a0), c.cy + 0.7 * rad * sim_sin(a0), fmax(0.6, 1.2 * c.k), F * 0.01, COL_BLUE);
    }
    /* merger: a companion, tails and shells */
    if (p->merger >= 2 && p->comp_flux > 0) {
        double gx = c.cx + p->comp_dx * c.k, gy = c.cy - p->comp_dy * c.k;
        const double *col = chance(&c.rng, 0.5) ? COL_RED : COL_DISC;
        add_blob(&c, gx, gy, p->comp_reff * c.k, unif(&c.rng, 1.0, 3.5), unif(&c.rng, 0.4, 1.0),
                 unif(&c.rng, 0, 180), F * p->comp_flux, col);
    }
    {
        double rh = p->r_half * c.k;
        for (int t = 0; t < p->n_tails; t++) {
            double ang = unif(&c.rng, 0, 2 * M_PI), start = rh * 0.8;
            double x0 = c.cx + start * sim_cos(ang), y0 = c.cy - start * sim_sin(ang);
            if (p->merger >= 2 && t == 1) {       /* second tail from the companion */
                x0 = c.cx + p->comp_dx * c.k;
                y0 = c.cy - p->comp_dy * c.k;
                ang = sim_atan2(p->comp_dy, p->comp_dx) + unif(&c.rng, -0.5, 0.5);
            }
            double frac = p->merger == 1 ? 0.02 : unif(&c.rng, 0.03, 0.08);
            tail(&c, x0, y0, rh * unif(&c.rng, 2.0, 4.0), ang, unif(&c.rng, -2.0, 2.0), F * frac, COL_DISC);
        }
        for (int s = 0; s < p->n_shells; s++) {
            double rad = rh * unif(&c.rng, 1.5, 3.5);
            double frac = p->merger == 1 ? 0.008 : 0.015;
            shell(&c, c.cx, c.cy, rad, unif(&c.rng, 0, 2 * M_PI), unif(&c.rng, 1.5, 2.6),
                  fmax(1.0, rad * 0.12), F * frac, COL_RED);
        }
    }
    /* background galaxies, small and faint, of all colours */
    if (!p->no_background) {
        int nbg = (int)sim_poisson(&c.rng, 20);
        for (int i = 0; i < nbg; i++) {
            double x = unif(&c.rng, 0, c.L), y = unif(&c.rng, 0, c.L);
            int big = chance(&c.rng, 0.15);   /* a few nearer, larger neighbours */
            double re = (big ? logunif(&c.rng, 4.0, 12.0) : logunif(&c.rng, 1.0, 5.0)) * c.k;
            double fl = big ? logunif(&c.rng, 3.0, 25.0) : logunif(&c.rng, 0.15, 5.0);
            double col[3], u = core_rng_uniform(&c.rng);
            if (u < 0.5) { col[0] = 0.45; col[1] = 1; col[2] = 1.7; }            /* red, distant */
            else if (u < 0.9) { col[0] = 0.56; col[1] = 1; col[2] = 1.5; }
            else { col[0] = 0.75; col[1] = 1; col[2] = 1.25; }
            add_blob(&c, x, y, re, unif(&c.rng, 0.8, 2.5), unif(&c.rng, 0.3, 1.0), unif(&c.rng, 0, 180), fl, col);
        }
    }

    /* --- PSF (core) on the grid; fluxes become surface brightness -------- */
    double fwhm = SIM_FWHM_PX * sc / c.f;                   /* grid cells */
    double area = (c.f / sc) * (c.f / sc);                  /* a grid cell in 424 px units */
    blur(&c, core_sim_psf_sigma(S) / c.f);
    for (size_t i = 0; i < 3 * LL; i++) c.band[i] = (float)(c.band[i] / area);

    /* --- point sources and artefacts (Moffat with wings, on the grid) ---- */
    int L = c.L;
    if (main_star) {
        double col[3];
        star_colour(&c.rng, col);
        double fs = logunif(&c.rng, 2000, 20000) / area;
        star(c.band, L, c.cx, c.cy, fs, col, fwhm, 1);
        saturated(&c, c.cx, c.cy, fs, fwhm, col);
    }
    if (!p->no_background) {
        int nst = (int)sim_poisson(&c.rng, 3.5);
        for (int i = 0; i < nst; i++) {
            double col[3];
            star_colour(&c.rng, col);
            double fr = logunif(&c.rng, 0.1, 60);
            star(c.band, L, unif(&c.rng, 0, L), unif(&c.rng, 0, L), fr / area, col, fwhm, 0);
        }
        if (p->bright_star == 1) {
            double col[3], a = unif(&c.rng, 0, 2 * M_PI), d = unif(&c.rng, 0.3, 0.55) * L;
            star_colour(&c.rng, col);
            double fs = logunif(&c.rng, 300, 3000) / area, sx = c.cx + d * sim_cos(a), sy = c.cy + d * sim_sin(a);
            star(c.band, L, sx, sy, fs, col, fwhm, 1);
            saturated(&c, sx, sy, fs, fwhm, col);
        }
    }
    if (p->trail) trail(c.band, L, &c.rng, p->trail == 2 ? 2.5 : 1.0, fwhm / 4.0);

    /* --- noise on the grid: upsampling correlates it as in real cutouts -- */
    if (!p->no_noise) {
        core_rng nr;
        core_rng_seed(&nr, p->seed ^ 0x6e6f697365ULL);
        double depth = unif(&nr, 0.75, 1.08);      /* exposures differ from field to field */
        for (int k = 0; k < 3; k++) {
            float *o = c.band + k * LL;
            double sig = depth * sky_sigma[k] * 2.0 / sqrt(area);
            float sky2 = (float)(sig * sig), ig = (float)(1.0 / (gain[k] * area));
            uint64_t bits = 0;
            for (size_t i = 0; i < LL; i++) {
                if ((i & 3) == 0) bits = core_rng_u64(&nr);
                float gss = gauss_tab[bits & 0xffff];
                bits >>= 16;
                float v = o[i], var = sky2 + (v > 0 ? v * ig : 0);
                o[i] = v + sqrtf(var) * gss;
            }
        }
    }

    mask_saturated(&c);

    /* --- up to the output, bilinear --------------------------------------- */
    for (int k = 0; k < 3; k++) {
        const float *g = c.band + k * LL;
        float *o = flux + k * SS;
        if (c.f == 1) memcpy(o, g, sizeof(float) * SS);
        else if (c.f == 2 && L * 2 == S) upsample2(g, L, o, S);
        else upsample_naive(g, L, c.f, o, S);
    }
    free(c.band);
    for (int i = 0; i < 6; i++) free(c.plane[i]);
    free(c.tmp);
}

void core_sim_stretch(const float *flux, int S, core_image *out)
{
    tables_init();
    size_t SS = (size_t)S * S;
    const float *fg = flux, *fr = flux + SS, *fz = flux + 2 * SS;
    const float sg = (float)band_scale[0], sr = (float)band_scale[1], sz = (float)band_scale[2];
    const float m = (float)STRETCH_M, tscale = (float)(STRETCH_COUNT / STRETCH_I_MAX);
    for (size_t i = 0; i < SS; i++) {
        float vg = fg[i] * sg + m, vr = fr[i] * sr + m, vz = fz[i] * sz + m;
        vg = vg < 0 ? 0 : vg;
        vr = vr < 0 ? 0 : vr;
        vz = vz < 0 ? 0 : vz;
        float I = (vg + vr + vz) * (1.0f / 3.0f), fI;
        if (I < (float)STRETCH_I_MAX) {
            float t = I * tscale;
            int j = (int)t;
            fI = stretch_tab[j] + (t - (float)j) * (stretch_tab[j + 1] - stretch_tab[j]);
        } else {
            fI = (float)(sim_asinh(STRETCH_Q * I) / (sqrt(STRETCH_Q) * I));
        }
        fI *= 255.0f;
        float R = vz * fI + 0.5f, G = vr * fI + 0.5f, B = vg * fI + 0.5f;   /* z -> R, r -> G, g -> B */
        uint8_t *px = out->px + 3 * i;
        px[0] = R >= 255.0f ? 255 : (uint8_t)R;
        px[1] = G >= 255.0f ? 255 : (uint8_t)G;
        px[2] = B >= 255.0f ? 255 : (uint8_t)B;
    }
}

int core_sim_render(const core_sim_params *p, int side, core_image *out)
{
    if (side < 16 || side > CORE_IMAGE_MAX_SIDE) return -1;
    float *flux = xmalloc(sizeof(float) * 3 * (size_t)side * side);   /* (3, S, S) */
    core_sim_render_flux(p, side, flux);
    if (core_image_alloc(out, side, side)) { free(flux); return -1; }
    core_sim_stretch(flux, side, out);
    free(flux);
    return 0;
}

/* ---------------------------------------------------------------- answers */

/* The gz-decals tree (core/schema.c "gz-decals", Zoobot's column order). */
enum { Q_SOF, Q_EDGE, Q_SPIRAL, Q_BAR, Q_BULGE, Q_ROUND, Q_EBULGE, Q_WIND, Q_COUNT, Q_MERGE, N_Q };
static const int q_first[N_Q] = {0, 3, 5, 7, 10, 15, 18, 21, 24, 30};
static const int q_n[N_Q] = {3, 2, 2, 3, 5, 3, 3, 3, 6, 4};
static const int q_parent[N_Q][2] = {   /* {question, answer} that leads here; -1 = always */
    {-1, -1}, {Q_SOF, 1}, {Q_EDGE, 1}, {Q_EDGE, 1}, {Q_EDGE, 1}, {Q_SOF, 0}, {Q_EDGE, 0},
    {Q_SPIRAL, 0}, {Q_SPIRAL, 0}, {-1, -1},
};
static const int q_ordinal[N_Q] = {0, 0, 0, 1, 1, 1, 0, 1, 1, 1};

const char *const core_sim_vote_columns[CORE_SIM_N_VOTE_COLS] = {
    "smooth-or-featured_smooth", "smooth-or-featured_featured-or-disk", "smooth-or-featured_artifact",
    "disk-edge-on_yes", "disk-edge-on_no",
    "has-spiral-arms_yes", "has-spiral-arms_no",
    "bar_strong", "bar_weak", "bar_no",
    "bulge-size_dominant", "bulge-size_large", "bulge-size_moderate", "bulge-size_small", "bulge-size_none",
    "how-rounded_round", "how-rounded_in-between", "how-rounded_cigar-shaped",
    "edge-on-bulge_boxy", "edge-on-bulge_none", "edge-on-bulge_rounded",
    "spiral-winding_tight", "spiral-winding_medium", "spiral-winding_loose",
    "spiral-arm-count_1", "spiral-arm-count_2", "spiral-arm-count_3", "spiral-arm-count_4",
    "spiral-arm-count_more-than-4", "spiral-arm-count_cant-tell",
    "merging_none", "merging_minor-disturbance", "merging_major-disturbance", "merging_merger",
};

/* The true answer to every question, and how often a volunteer gets it wrong. */
static void truth(const core_sim_params *p, int t[N_Q], double e[N_Q])
{
    int featured = p->disc_h > 0 && !(p->cls == CORE_SIM_MERGER && p->disc_h <= 0);
    t[Q_SOF] = p->cls == CORE_SIM_ARTIFACT ? 2 : featured ? 1 : 0;
    t[Q_EDGE] = p->cls == CORE_SIM_EDGEON || (!featured && p->q < 0.3) ? 0 : 1;
    t[Q_SPIRAL] = p->n_arms > 0 && p->arm_amp >= 0.2 ? 0 : 1;
    t[Q_BAR] = p->bar == 2 ? 0 : p->bar == 1 ? 1 : 2;
    t[Q_BULGE] = featured ? p->bulge_size : 0;
    t[Q_ROUND] = p->round;
    t[Q_EBULGE] = p->edge_bulge == 2 ? 0 : p->edge_bulge == 1 ? 2 : featured ? 1 : 2;
    t[Q_WIND] = p->n_arms ? p->winding : 1;
    t[Q_COUNT] = p->n_arms >= 5 ? 4 : p->n_arms >= 1 ? p->n_arms - 1 : 5;
    t[Q_MERGE] = p->merger;
    for (int q = 0; q < N_Q; q++) e[q] = 0.12;
    /* the hard cases: faint structure, bulge-dominated discs, weak bars, nearly edge-on */
    if (featured && p->bulge_frac > 0.5) e[Q_SOF] = 0.35;
    if (featured && p->cls != CORE_SIM_EDGEON && p->n_arms == 0 && !p->bar && !p->ring) e[Q_SOF] = fmax(e[Q_SOF], 0.3);
    if (p->cls != CORE_SIM_EDGEON && p->q < 0.35) e[Q_EDGE] = 0.35;
    if (p->n_arms && p->arm_amp < 0.5) e[Q_SPIRAL] = 0.3;
    if (p->bar == 1) e[Q_BAR] = 0.45;
    e[Q_BULGE] = 0.35;
    e[Q_WIND] = 0.35;
    e[Q_COUNT] = p->n_arms >= 3 ? 0.45 : 0.3;
    if (p->merger == 1) e[Q_MERGE] = 0.45;
}

static int vote(core_rng *r, int truth_a, int n, int ordinal, double e)
{
    if (!chance(r, e)) return truth_a;
    if (ordinal && n > 2) {
        int a = truth_a + (chance(r, 0.5) ? 1 : -1);
        if (a < 0) a = 1;
        if (a >= n) a = n - 2;
        return a;
    }
    int a = (int)core_rng_below(r, (uint32_t)(n - 1));
    return a >= truth_a ? a + 1 : a;
}

void core_sim_votes(const core_sim_params *p, int votes[CORE_SIM_N_VOTE_COLS])
{
    int t[N_Q];
    double e[N_Q];
    truth(p, t, e);
    memset(votes, 0, sizeof(int) * CORE_SIM_N_VOTE_COLS);
    core_rng r;
    core_rng_seed(&r, p->seed ^ 0x766f746573ULL);
    int nvol = 35 + (int)core_rng_below(&r, 11);
    for (int v = 0; v < nvol; v++) {           /* each volunteer walks the tree */
        int given[N_Q];
        for (int q = 0; q < N_Q; q++) {
            given[q] = -1;
            if (q_parent[q][0] >= 0 && given[q_parent[q][0]] != q_parent[q][1]) continue;
            if (q == Q_MERGE && given[Q_SOF] == 2) continue;   /* artefacts end the walk */
            given[q] = vote(&r, t[q], q_n[q], q_ordinal[q], e[q]);
            votes[q_first[q] + given[q]]++;
        }
    }
}

/* ---------------------------------------------------------------- catalog */

void core_sim_csv_header(char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len,
        "id_str,file_loc,class,ring,flux_r,r_half,pa,axis_ratio,n_sersic,r_eff,bulge_frac,disc_h,"
        "n_arms,pitch,winding,bar,bar_len,ring_type,ring_r,edge_bulge,merger,lens_r,artifact,pixscale");
    for (int i = 0; i < CORE_SIM_N_VOTE_COLS && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, ",%s", core_sim_vote_columns[i]);
}

void core_sim_csv_row(const core_sim_params *p, const char *id, const char *file_loc, int side,
                      char *buf, size_t len)
{
    double sc = (double)side / CORE_SIM_SIDE;
    int votes[CORE_SIM_N_VOTE_COLS];
    core_sim_votes(p, votes);
    static const char *const wind[3] = {"tight", "medium", "loose"};
    static const char *const barn[3] = {"no", "weak", "strong"};
    static const char *const ringn[3] = {"none", "inner", "outer"};
    static const char *const ebn[3] = {"none", "rounded", "boxy"};
    static const char *const mergen[4] = {"none", "minor-disturbance", "major-disturbance", "merger"};
    const char *art = p->cls == CORE_SIM_ARTIFACT ? (p->bright_star == 2 ? "star" : "trail")
                      : p->trail ? "trail" : p->bright_star ? "bright-star" : "none";
    size_t o = (size_t)snprintf(buf, len,
        "%s,%s,%s,%d,%.3f,%.2f,%.1f,%.3f,%.1f,%.2f,%.3f,%.2f,%d,%.1f,%s,%s,%.2f,%s,%.2f,%s,%s,%.2f,%s,%.4f",
        id, file_loc, core_sim_class_names[p->cls], p->ring ? 1 : 0, p->flux_r, p->r_half * sc, p->pa, p->q,
        p->n_sersic, p->r_eff * sc, p->bulge_frac, p->disc_h * sc, p->n_arms, p->n_arms ? p->pitch : 0.0,
        p->n_arms ? wind[p->winding] : "none", barn[p->bar], p->bar ? p->bar_len * sc : 0.0, ringn[p->ring],
        p->ring_r * sc, ebn[p->edge_bulge], mergen[p->merger], p->lens_r * sc, art,
        CORE_SIM_PIXSCALE / sc);
    for (int i = 0; i < CORE_SIM_N_VOTE_COLS && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, ",%d", votes[i]);
}

/* ---------------------------------------------------------------- writing */

typedef struct {
    const char *dir;
    int n, side, next, done, failed, flags;
    uint64_t seed;
    const double *frac;
    char **rows;              /* (n) catalog rows */
    char err[256];
    pthread_mutex_t mu;
    pthread_cond_t cv;
} wjob;

static void *write_worker(void *arg)
{
    wjob *j = arg;
    size_t plen = strlen(j->dir) + 64;
    char *path = xmalloc(plen);
    char *row = xmalloc(4096);
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->failed ? j->n : j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n) break;
        core_sim_params p;
        core_sim_draw(j->seed, (uint64_t)i, j->frac, &p);
        core_image im = {0, 0, NULL};
        char id[32], file[64], err[200] = "";
        snprintf(id, sizeof id, "sim_%06d", i);
        snprintf(file, sizeof file, "images/%s.png", id);
        snprintf(path, plen, "%s/%s", j->dir, file);
        int rc = core_sim_render(&p, j->side, &im);
        if (rc == 0 && !(j->flags & CORE_SIM_NO_IMAGES)) rc = core_image_save_png_fast(path, &im, err, sizeof err);
        core_image_free(&im);
        core_sim_csv_row(&p, id, file, j->side, row, 4096);
        pthread_mutex_lock(&j->mu);
        if (rc) {
            if (!j->failed) snprintf(j->err, sizeof j->err, "%s: %s", path, err[0] ? err : "cannot render");
            j->failed = 1;
        }
        j->rows[i] = xstrdup(row);
        j->done++;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    free(row);
    free(path);
    return NULL;
}

/* mkdir -p: every missing parent too. */
static int mkdir_p(const char *d)
{
    char *p = xstrdup(d);
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) && errno != EEXIST) rc = -1;
            *s = '/';
        }
    if (rc == 0 && mkdir(p, 0777) && errno != EEXIST) rc = -1;
    free(p);
    return rc;
}

/* The images folder: one this user made (a rerun's), never a link or a
 * folder another user made, which could put the PNGs anywhere. */
static int images_dir_ours(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
        snprintf(err, errlen, "%s is %s, not a folder of yours: zoosh sim writes its images only into a folder it "
                              "made (choose a new directory)", path, S_ISLNK(sb.st_mode) ? "a symbolic link" :
                              !S_ISDIR(sb.st_mode) ? "not a folder" : "another user's folder");
        return -1;
    }
    return 0;
}

int core_sim_write(const char *dir, int n, uint64_t seed, int side, const double frac[CORE_SIM_N_CLASSES],
                   int n_threads, int flags, void (*progress)(int, int, void *), void *ctx,
                   char *err, size_t errlen)
{
    int status = -1, started = 0;
    size_t plen = strlen(dir) + 32;
    char *path = xmalloc(plen);
    FILE *f = NULL;             /* cat.f while the catalog is open */
    core_outfile cat = {0};
    pthread_t th[64];
    wjob j;
    memset(&j, 0, sizeof j);
    j.dir = dir; j.n = n; j.side = side; j.seed = seed; j.frac = frac; j.flags = flags;
    j.rows = xcalloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    char hdr[2048];
    core_sim_csv_header(hdr, sizeof hdr);
    /* a catalog already there is replaced only when the simulator wrote it
     * (a rerun with another seed), never a user's own catalog.csv */
    snprintf(path, plen, "%s/catalog.csv", dir);
    f = fopen(path, "r");
    if (f) {
        char first[2048 + 2] = "";
        int ours = fgets(first, sizeof first, f) && strncmp(first, hdr, strlen(hdr)) == 0 &&
                   (first[strlen(hdr)] == '\n' || first[strlen(hdr)] == '\r');
        fclose(f);
        f = NULL;
        if (!ours) {
            snprintf(err, errlen, "%s exists and was not written by zoosh sim; it was left as it was "
                                  "(choose a new directory)", path);
            goto end;
        }
    }
    snprintf(path, plen, "%s/images", dir);
    if (mkdir_p(dir) || mkdir_p(path)) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); goto end; }
    if (images_dir_ours(path, err, errlen)) goto end;
    /* the catalog is written as rows arrive, in index order, to a temporary
     * (core_out_open: an unguessable name, never a file or link that was
     * there) renamed at the end: a failed run leaves no catalog that looks whole */
    snprintf(path, plen, "%s/catalog.csv", dir);
    char oerr[200];
    if (core_out_open(&cat, path, oerr, sizeof oerr)) { snprintf(err, errlen, "%s: %s", path, oerr); goto end; }
    f = cat.f;
    fprintf(f, "%s\n", hdr);
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > n) n_threads = n > 0 ? n : 1;
    if (n_threads > 64) n_threads = 64;
    for (int t = 0; t < n_threads; t++)
        if (pthread_create(&th[t], NULL, write_worker, &j) == 0) started++;
    if (!started) write_worker(&j);
    pthread_mutex_lock(&j.mu);
    int next = 0, shown = -1;
    while (next < n && !j.failed) {
        while (next < n && j.rows[next]) {
            char *row = j.rows[next];
            j.rows[next++] = NULL;
            pthread_mutex_unlock(&j.mu);
            fprintf(f, "%s\n", row);
            free(row);
            pthread_mutex_lock(&j.mu);
        }
        if (progress && j.done != shown) {
            shown = j.done;
            pthread_mutex_unlock(&j.mu);
            progress(shown, n, ctx);
            pthread_mutex_lock(&j.mu);
        }
        if (next < n && !j.failed && !j.rows[next]) pthread_cond_wait(&j.cv, &j.mu);
    }
    pthread_mutex_unlock(&j.mu);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    if (progress && shown != j.done) progress(j.done, n, ctx);
    if (j.failed) { snprintf(err, errlen, "%s", j.err); goto end; }
    f = NULL;
    if (core_out_close(&cat, 1, oerr, sizeof oerr)) { snprintf(err, errlen, "%s: %s", path, oerr); goto end; }
    status = 0;
end:
    if (f) core_out_close(&cat, 0, NULL, 0);
    for (int i = 0; i < n; i++) free(j.rows[i]);
    free(j.rows);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    free(path);
    return status;
}
