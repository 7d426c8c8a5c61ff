/*
 * morph.c - hand-crafted morphology features (see morph.h for what and why).
 *
 * Legend of dimensions: S = CORE_MORPH_SIDE (working side, pixels),
 * NFIX = annuli of the fixed grid, NR50 = annuli of the R50 grid,
 * NSEC = azimuthal sectors per annulus, NCOG = bins of the curve of growth.
 *
 * One call does: crop + area resample to S (per channel), background removal,
 * luminance L = mean of channels, Gaussian blur of L (the smooth model for
 * the unsharp mask U = L - blur(L)), centroid + moments, one pass over the
 * pixels filling the annulus accumulators of both grids, and the global
 * measures (curve of growth, asymmetries, Gini / M20 from a histogram).
 * Everything is O(S^2); at S = 128 that is a few hundred microseconds.
 */
#include "core/morph.h"
#include "core/util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S     CORE_MORPH_SIDE
#define NFIX  16
#define NR50  12
#define NSEC  8
#define NCOG  96
#define NM    4          /* Fourier modes m = 1..NM */
#define FIX_RMAX (0.375 * S)  /* outer edge of the fixed grid (semi-major, px) */
#define R50_RMAX 3.0          /* outer edge of the R50 grid, in R50 */
#define BLUR_SIGMA 3.0        /* px at S: the scale of rings / arms we look for */

/* ---- feature layout ---------------------------------------------------- */
enum {
    F_Q, F_LR20, F_LR50, F_LR80, F_CONC, F_A180, F_A180U, F_AMIR, F_AMIRU,
    F_SMOOTH, F_GINI, F_M20, F_LFLUX, F_RG_IN, F_BG_IN, F_RG_OUT, F_BG_OUT, F_OFFSET,
    F_RING_UNSH, F_RING_SECMIN, F_RING_SECMIN_R50, F_RING_SECPOS, F_RING_RAD, F_RING_BUMP,
    F_RING_GAP, F_RES_COHERENCE, F_RES_M1, F_RES_M2, F_RES_WINDING, F_RES_CHIRALITY,
    NG
};
static const char *const global_names[NG] = {
    "q", "log_r20", "log_r50", "log_r80", "concentration", "asym180", "asym180_unsharp",
    "asym_mirror", "asym_mirror_unsharp", "smoothness", "gini", "m20", "log_flux",
    "colour_rg_in", "colour_bg_in", "colour_rg_out", "colour_bg_out", "offset",
    "ring_unsharp_max", "ring_complete_max", "ring_complete_r50_max", "ring_secpos_max",
    "ring_log_radius", "ring_resid_bump", "ring_gap",
    "residual_coherence_max", "residual_m1", "residual_m2", "residual_m2_winding",
    "residual_chirality",
};
/* per-annulus blocks, fixed grid */
#define O_PROF_FIX    NG
#define O_UNSH_FIX    (O_PROF_FIX + NFIX)
#define O_RESID_FIX   (O_UNSH_FIX + NFIX)
#define O_SECMIN_FIX  (O_RESID_FIX + NFIX)
#define O_SECPOS_FIX  (O_SECMIN_FIX + NFIX)
#define O_RG_FIX      (O_SECPOS_FIX + NFIX)
#define O_BG_FIX      (O_RG_FIX + NFIX)
#define O_FOUR_FIX    (O_BG_FIX + NFIX)            /* NM x NFIX/2 */
/* R50 grid */
#define O_PROF_R50    (O_FOUR_FIX + NM * NFIX / 2)
#define O_UNSH_R50    (O_PROF_R50 + NR50)
#define O_SECMIN_R50  (O_UNSH_R50 + NR50)
#define O_SECPOS_R50  (O_SECMIN_R50 + NR50)
#define O_RG_R50      (O_SECPOS_R50 + NR50)
#define O_BG_R50      (O_RG_R50 + NR50)
#define O_FOUR_R50    (O_BG_R50 + NR50)            /* NM x NR50/2 */
#define DIM           (O_FOUR_R50 + NM * NR50 / 2)

int core_morph_dim(void) { return DIM; }

static char names[DIM][32];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* The names of one radius basis ("fix" or "r50"): n profile bins etc. */
static void fill_basis_names(const char *b, int n, int prof, int unsh, int resid, int secmin, int secpos,
                             int rg, int bg, int four)
{
    for (int k = 0; k < n; k++) {
        snprintf(names[prof + k], 32, "prof_%s_%02d", b, k);
        snprintf(names[unsh + k], 32, "unsharp_%s_%02d", b, k);
        if (resid >= 0) snprintf(names[resid + k], 32, "resid_%s_%02d", b, k);
        snprintf(names[secmin + k], 32, "secmin_%s_%02d", b, k);
        snprintf(names[secpos + k], 32, "secpos_%s_%02d", b, k);
        snprintf(names[rg + k], 32, "colour_rg_%s_%02d", b, k);
        snprintf(names[bg + k], 32, "colour_bg_%s_%02d", b, k);
    }
    for (int m = 0; m < NM; m++)
        for (int k = 0; k < n / 2; k++)
            snprintf(names[four + m * (n / 2) + k], 32, "fourier_m%d_%s_%d", m + 1, b, k);
}

static void fill_names_once(void)
{
    for (int i = 0; i < NG; i++) snprintf(names[i], sizeof names[i], "%s", global_names[i]);
    fill_basis_names("fix", NFIX, O_PROF_FIX, O_UNSH_FIX, O_RESID_FIX, O_SECMIN_FIX, O_SECPOS_FIX,
                     O_RG_FIX, O_BG_FIX, O_FOUR_FIX);
    fill_basis_names("r50", NR50, O_PROF_R50, O_UNSH_R50, -1, O_SECMIN_R50, O_SECPOS_R50,
                     O_RG_R50, O_BG_R50, O_FOUR_R50);
}

static void fill_names(void) { pthread_once(&names_once, fill_names_once); }

const char *core_morph_name(int i)
{
    if (i < 0 || i >= DIM) return NULL;
    fill_names();
    return names[i];
}

float core_morph_weight(int i)
{
    if (i < 0 || i >= DIM) return 0;
    if (i < NG) return 1;
    /* per-annulus blocks: one weight for the whole block */
    static const int starts[] = {O_PROF_FIX, O_UNSH_FIX, O_RESID_FIX, O_SECMIN_FIX, O_SECPOS_FIX,
                                 O_RG_FIX, O_BG_FIX, O_FOUR_FIX, O_PROF_R50, O_UNSH_R50, O_SECMIN_R50,
                                 O_SECPOS_R50, O_RG_R50, O_BG_R50, O_FOUR_R50, DIM};
    for (int b = 0; b + 1 < (int)(sizeof starts / sizeof starts[0]); b++)
        if (i >= starts[b] && i < starts[b + 1]) {
            int w = starts[b + 1] - starts[b];
            /* the Fourier blocks hold NM modes: each mode is its own block */
            if (starts[b] == O_FOUR_FIX) w = NFIX / 2;
            if (starts[b] == O_FOUR_R50) w = NR50 / 2;
            return 1.0f / (float)w;
        }
    return 0;
}

int core_morph_index(const char *name)
{
    fill_names();
    for (int i = 0; i < DIM; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

/* ---- scratch -------------------------------------------------------------- */
typedef struct {
    float ch[3][S * S];   /* (3, S, S) background-subtracted channels */
    float l[S * S];       /* (S, S) luminance */
    float sm[S * S];      /* (S, S) blurred luminance */
    float u[S * S];       /* (S, S) unsharp residual l - sm */
    float rc[S * S];      /* (S, S) relative contrast u / (smooth level + noise) */
    float smb[S * S / 4], lb[S * S / 4];   /* (S/2, S/2) 2x2 bins of sm and l */
    float tmp[S * S];     /* (S, S) */
    float a[S * S];       /* (S, S) elliptical radius (semi-major, px) */
    float cs[S * S], sn[S * S];   /* (S, S) cos / sin of the deprojected azimuth */
    double hist[3 * 1024];   /* (3, 1024) flux histogram: count, flux, flux r^2 */
} work;

/* Annulus accumulators. */
typedef struct {
    float n, l, u, c[3];        /* float: a few thousand pixels each, plenty */
    float fc[NM], fs[NM];       /* sum L cos(m phi), L sin(m phi) */
    float sec_u[NSEC], sec_n[NSEC];
    float rabs;                 /* sum |rc| */
    float rfc[2], rfs[2];       /* sum rc cos(m phi), rc sin(m phi), m = 1, 2 */
} annulus;

/* Centre-crop to a square and area-average to S x S, per channel, 0..1. */
static void resample(const uint8_t *rgb, int w, int h, work *wk)
{
    int m = w < h ? w : h;
    int x0 = (w - m) / 2, y0 = (h - m) / 2;
    if (m == 2 * S) {   /* the stored 256 px thumbnails: plain 2x2 means */
        const float inv = 1.0f / (4 * 255.0f);
        for (int oy = 0; oy < S; oy++) {
            const uint8_t *p0 = rgb + ((size_t)(y0 + 2 * oy) * w + x0) * 3, *p1 = p0 + (size_t)w * 3;
            for (int ox = 0; ox < S; ox++, p0 += 6, p1 += 6)
                for (int c = 0; c < 3; c++)
                    wk->ch[c][oy * S + ox] = (float)(p0[c] + p0[3 + c] + p1[c] + p1[3 + c]) * inv;
        }
        return;
    }
    /* source interval of output pixel o: [o*m/S, (o+1)*m/S) (at least one pixel) */
    int lo[S], hi[S];
    for (int o = 0; o < S; o++) {
        lo[o] = (int)((long)o * m / S);
        hi[o] = (int)((long)(o + 1) * m / S);
        if (hi[o] <= lo[o]) hi[o] = lo[o] + 1;
        if (hi[o] > m) hi[o] = m;
        if (lo[o] >= m) lo[o] = m - 1;
    }
    for (int oy = 0; oy < S; oy++) {
        for (int ox = 0; ox < S; ox++) {
            double acc[3] = {0, 0, 0};
            int cnt = 0;
            for (int y = lo[oy]; y < hi[oy]; y++) {
                const uint8_t *p = rgb + ((size_t)(y + y0) * w + x0 + lo[ox]) * 3;
                for (int x = lo[ox]; x < hi[ox]; x++, p += 3) {
                    acc[0] += p[0]; acc[1] += p[1]; acc[2] += p[2];
                    cnt++;
                }
            }
            double inv = 1.0 / (255.0 * cnt);
            for (int c = 0; c < 3; c++) wk->ch[c][oy * S + ox] = (float)(acc[c] * inv);
        }
    }
}

/* k-th smallest of buf[0..n) (reorders buf): Hoare's quickselect. */
static float select_kth(float *buf, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float piv = buf[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (buf[i] < piv) i++;
            while (buf[j] > piv) j--;
            if (i <= j) { float t = buf[i]; buf[i] = buf[j]; buf[j] = t; i++; j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return buf[k];
    }
    return buf[k];
}

/* Median of the border frame (4 px wide) of one channel. */
static float border_median(const float *c, float *buf)
{
    int n = 0;
    const int bw = 4;
    for (int y = 0; y < S; y++) {
        if (y < bw || y >= S - bw) {
            for (int x = 0; x < S; x++) buf[n++] = c[y * S + x];
        } else {
            for (int x = 0; x < bw; x++) buf[n++] = c[y * S + x];
            for (int x = S - bw; x < S; x++) buf[n++] = c[y * S + x];
        }
    }
    return select_kth(buf, n, n / 2);
}

/* Separable Gaussian blur of an (n, n) image with clamped edges: in -> out
 * (tmp is (n, n) scratch).  n <= S. */
static void blur(const float *in, float *out, float *tmp, double sigma, int n)
{
    int r = (int)ceil(3 * sigma);
    if (r > 31) r = 31;
    float k[64];
    double ks = 0;
    for (int i = -r; i <= r; i++) { k[i + r] = (float)exp(-0.5 * i * i / (sigma * sigma)); ks += k[i + r]; }
    for (int i = 0; i <= 2 * r; i++) k[i] = (float)(k[i] / ks);
    float pad[S + 64];   /* one row with r clamped pixels either side */
    for (int y = 0; y < n; y++) {
        const float *row = in + y * n;
        for (int i = 0; i < r; i++) { pad[i] = row[0]; pad[n + r + i] = row[n - 1]; }
        memcpy(pad + r, row, sizeof(float) * n);
        float *o = tmp + y * n;
        for (int x = 0; x < n; x++) o[x] = 0;
        for (int i = 0; i <= 2 * r; i++) {   /* tap-major: vectorises over x */
            float kk = k[i];
            const float *p = pad + i;
            for (int x = 0; x < n; x++) o[x] += kk * p[x];
        }
    }
    for (int y = 0; y < n; y++) {
        float *o = out + y * n;
        for (int x = 0; x < n; x++) o[x] = 0;
        for (int i = -r; i <= r; i++) {
            int yy = y + i;
            yy = yy < 0 ? 0 : yy >= n ? n - 1 : yy;
            const float *t = tmp + yy * n;
            float kk = k[i + r];
            for (int x = 0; x < n; x++) o[x] += kk * t[x];
        }
    }
}

/* Bilinear upsampling of an (S/2, S/2) image of 2x2 bins to (S, S):
 * full-resolution pixel x sits at bin coordinate (x - 0.5) / 2. */
static void upsample2(const float *in, float *out)
{
    enum { H = S / 2 };
    int i0[S];
    float f[S];
    for (int x = 0; x < S; x++) {
        double c = (x - 0.5) / 2;
        if (c < 0) c = 0;
        if (c > H - 1) c = H - 1;
        i0[x] = (int)c;
        if (i0[x] > H - 2) i0[x] = H - 2;
        f[x] = (float)(c - i0[x]);
    }
    for (int y = 0; y < S; y++) {
        const float *r0 = in + i0[y] * H, *r1 = r0 + H;
        float fy = f[y];
        for (int x = 0; x < S; x++) {
            float a = r0[i0[x]] + f[x] * (r0[i0[x] + 1] - r0[i0[x]]);
            float b = r1[i0[x]] + f[x] * (r1[i0[x] + 1] - r1[i0[x]]);
            out[y * S + x] = a + fy * (b - a);
        }
    }
}

/* Bilinear sample of img at (x, y); 0 outside. */
static float sample(const float *img, double x, double y)
{
    if (x < 0 || y < 0 || x > S - 1 || y > S - 1) return 0;
    int ix = (int)x, iy = (int)y;
    if (ix >= S - 1) ix = S - 2;
    if (iy >= S - 1) iy = S - 2;
    double fx = x - ix, fy = y - iy;
    const float *p = img + iy * S + ix;
    return (float)((1 - fy) * ((1 - fx) * p[0] + fx * p[1]) + fy * ((1 - fx) * p[S] + fx * p[S + 1]));
}

static int octant(float c, float s)
{
    if (s >= 0) {
        if (c >= 0) return c >= s ? 0 : 1;
        return -c < s ? 2 : 3;
    }
    if (c < 0) return -c >= -s ? 4 : 5;
    return c < -s ? 6 : 7;
}

static void annulus_add(annulus *an, float l, float u, float rc, const float *c3, float cs, float sn)
{
    an->n += 1;
    an->l += l;
    an->u += u;
    for (int c = 0; c < 3; c++) an->c[c] += c3[c];
    /* cos / sin of m*phi by complex powers */
    float cm = cs, sm = sn;
    for (int m = 0; m < NM; m++) {
        an->fc[m] += l * cm;
        an->fs[m] += l * sm;
        float c2 = cm * cs - sm * sn, s2 = sm * cs + cm * sn;
        cm = c2; sm = s2;
    }
    int o = octant(cs, sn);
    an->sec_u[o] += rc;
    an->sec_n[o] += 1;
    /* the relative residual's own m = 1, 2 modes: arms are m = 2 that winds
     * with radius, a ring is m = 0 (coherent all around) */
    an->rabs += fabsf(rc);
    an->rfc[0] += rc * cs;
    an->rfs[0] += rc * sn;
    an->rfc[1] += rc * (cs * cs - sn * sn);
    an->rfs[1] += rc * 2 * cs * sn;
}

static float safe_log_ratio(double a, double b, double floor)
{
    if (a < floor) a = floor;
    if (b < floor) b = floor;
    return (float)log10(a / b);
}

/* Fill the per-annulus features of one grid.  Empty annuli repeat the value
 * of the previous one (0 for the first) so the vector stays finite. */
static void annulus_features(const annulus *an, int n, double iref, float *prof, float *unsh,
                             float *secmin, float *secpos, float *rg, float *bg)
{
    double eps = 0.02 * iref;
    for (int k = 0; k < n; k++) {
        if (an[k].n < 1) {
            float z = 0;
            if (prof) prof[k] = k ? prof[k - 1] : z;
            if (unsh) unsh[k] = k ? unsh[k - 1] : z;
            if (secmin) secmin[k] = k ? secmin[k - 1] : z;
            if (secpos) secpos[k] = k ? secpos[k - 1] : z;
            if (rg) rg[k] = k ? rg[k - 1] : z;
            if (bg) bg[k] = k ? bg[k - 1] : z;
            continue;
        }
        double il = an[k].l / an[k].n, iu = an[k].u / an[k].n;
        double den = fabs(il) + eps;
        if (prof) prof[k] = safe_log_ratio(il, iref, 1e-3 * iref);
        if (unsh) unsh[k] = (float)(iu / den);
        double mn = INFINITY;
        int pos = 0, nsec = 0;
        for (int s = 0; s < NSEC; s++) {
            if (an[k].sec_n[s] < 1) continue;
            double su = an[k].sec_u[s] / an[k].sec_n[s];
            if (su < mn) mn = su;
            pos += su > 0;
            nsec++;
        }
        if (secmin) secmin[k] = nsec ? (float)mn : 0;
        if (secpos) secpos[k] = nsec ? (float)pos / nsec : 0;
        double cf = 1e-3 * (fabs(an[k].c[1]) + 1e-9);
        if (rg) rg[k] = safe_log_ratio(an[k].c[0], an[k].c[1], cf + 1e-3 * eps * an[k].n);
        if (bg) bg[k] = safe_log_ratio(an[k].c[2], an[k].c[1], cf + 1e-3 * eps * an[k].n);
    }
}

/* Amplitude of mode m over pairs of annuli: |sum L e^{i m phi}| / sum |L|. */
static void fourier_features(const annulus *an, int n, float *out /* (NM, n/2) */)
{
    for (int m = 0; m < NM; m++)
        for (int k = 0; k < n / 2; k++) {
            const annulus *a0 = &an[2 * k], *a1 = &an[2 * k + 1];
            double c = a0->fc[m] + a1->fc[m], s = a0->fs[m] + a1->fs[m];
            double t = fabs(a0->l) + fabs(a1->l);
            out[m * (n / 2) + k] = t > 0 ? (float)(sqrt(c * c + s * s) / t) : 0;
        }
}

/* Least-squares cubic in r through y (n points): residuals into res. */
static void cubic_residual(const float *y, int n, float *res)
{
    double ata[4][4] = {{0}}, atb[4] = {0};
    for (int k = 0; k < n; k++) {
        double r = (k + 0.5) / n, p[4] = {1, r, r * r, r * r * r};
        for (int i = 0; i < 4; i++) {
            atb[i] += p[i] * y[k];
            for (int j = 0; j < 4; j++) ata[i][j] += p[i] * p[j];
        }
    }
    /* Gaussian elimination with partial pivoting on the 4x4 system */
    double c[4];
    for (int i = 0; i < 4; i++) {
        int piv = i;
        for (int j = i + 1; j < 4; j++) if (fabs(ata[j][i]) > fabs(ata[piv][i])) piv = j;
        for (int j = 0; j < 4; j++) { double t = ata[i][j]; ata[i][j] = ata[piv][j]; ata[piv][j] = t; }
        double t = atb[i]; atb[i] = atb[piv]; atb[piv] = t;
        for (int j = i + 1; j < 4; j++) {
            double f = ata[j][i] / ata[i][i];
            for (int kk = i; kk < 4; kk++) ata[j][kk] -= f * ata[i][kk];
            atb[j] -= f * atb[i];
        }
    }
    for (int i = 3; i >= 0; i--) {
        double s = atb[i];
        for (int j = i + 1; j < 4; j++) s -= ata[i][j] * c[j];
        c[i] = s / ata[i][i];
    }
    for (int k = 0; k < n; k++) {
        double r = (k + 0.5) / n;
        res[k] = (float)(y[k] - (c[0] + r * (c[1] + r * (c[2] + r * c[3]))));
    }
}

/* Radius where the curve of growth (cumulative, NCOG bins of width dr)
 * reaches frac of total, linearly interpolated. */
static double cog_radius(const double *cum, double dr, double frac)
{
    double target = frac * cum[NCOG - 1];
    double prev = 0;
    for (int i = 0; i < NCOG; i++) {
        if (cum[i] >= target) {
            double f = cum[i] > prev ? (target - prev) / (cum[i] - prev) : 0;
            return (i + f) * dr;
        }
        prev = cum[i];
    }
    return NCOG * dr;
}

int core_morph_compute(const uint8_t *rgb, int w, int h, float *out, core_morph_shape *shape)
{
    if (!rgb || w < 8 || h < 8) return -1;
    work *wk = xmalloc(sizeof *wk);
    resample(rgb, w, h, wk);

    /* background per channel, luminance */
    double bgv[3];
    for (int c = 0; c < 3; c++) {
        bgv[c] = border_median(wk->ch[c], wk->tmp);
        float b = (float)bgv[c];
        for (int i = 0; i < S * S; i++) wk->ch[c][i] -= b;
    }
    for (int i = 0; i < S * S; i++)
        wk->l[i] = (wk->ch[0][i] + wk->ch[1][i] + wk->ch[2][i]) * (1.0f / 3);
    /* noise: 1.4826 x the median absolute value of the (background-free) border */
    for (int i = 0; i < S * S; i++) wk->tmp[i] = fabsf(wk->l[i]);
    double noise = 1.4826 * border_median(wk->tmp, wk->u);
    if (!(noise > 1e-4)) noise = 1e-4;
    /* the smooth model: blur of the 2x2-binned luminance, upsampled (the
     * blur is much wider than a bin, so little is lost and it is 4x cheaper) */
    enum { H = S / 2 };
    for (int by = 0; by < H; by++)
        for (int bx = 0; bx < H; bx++) {
            int i = 2 * by * S + 2 * bx;
            wk->lb[by * H + bx] = 0.25f * (wk->l[i] + wk->l[i + 1] + wk->l[i + S] + wk->l[i + S + 1]);
        }
    blur(wk->lb, wk->smb, wk->tmp, BLUR_SIGMA * S / 128.0 / 2, H);
    upsample2(wk->smb, wk->sm);
    for (int i = 0; i < S * S; i++) {
        wk->u[i] = wk->l[i] - wk->sm[i];
        wk->rc[i] = (float)(wk->u[i] / (fmax(wk->sm[i], 0) + 2 * noise));
    }

    /* centroid and moments work on the 2x2 bins (H x H): a quarter of the
     * cost; bin (bx, by) sits at full-resolution (2 bx + 0.5, 2 by + 0.5) */
    /* centroid: Gaussian-weighted around the current estimate, iterated */
    double xc = (S - 1) / 2.0, yc = (S - 1) / 2.0, sig = 0.15 * S;
    double gx[H], gy[H];   /* separable Gaussian window exp(-(dx^2 + dy^2) / 2 sig^2) */
    for (int it = 0; it < 8; it++) {
        double sw = 0, sx = 0, sy = 0, inv = 1.0 / (2 * sig * sig);
        for (int t = 0; t < H; t++) {
            double c = 2 * t + 0.5;
            gx[t] = exp(-(c - xc) * (c - xc) * inv);
            gy[t] = exp(-(c - yc) * (c - yc) * inv);
        }
        for (int by = 0; by < H; by++)
            for (int bx = 0; bx < H; bx++) {
                double v = wk->smb[by * H + bx];
                if (v <= 0) continue;
                double wt = v * gx[bx] * gy[by];
                sw += wt; sx += wt * (2 * bx + 0.5); sy += wt * (2 * by + 0.5);
            }
        if (sw <= 0) break;
        double nx = sx / sw, ny = sy / sw;
        /* never wander far from the cutout centre (the target is there) */
        double ox = nx - (S - 1) / 2.0, oy = ny - (S - 1) / 2.0, od = sqrt(ox * ox + oy * oy);
        if (od > 0.15 * S) { nx = (S - 1) / 2.0 + ox * 0.15 * S / od; ny = (S - 1) / 2.0 + oy * 0.15 * S / od; }
        double shift = fabs(nx - xc) + fabs(ny - yc);
        xc = nx; yc = ny;
        if (shift < 0.02) break;
    }
    /* second moments under an elliptical Gaussian window matched to the
     * current ellipse, iterated: for an elliptical galaxy the fixed point has
     * the galaxy's own axis ratio (a round window would bias q towards 1) */
    double q = 1, pa = 0;
    {
        enum { NTAB = 12 * 64 };
        float etab[NTAB + 1];     /* exp(-t) at t = i / 64 */
        for (int i = 0; i <= NTAB; i++) etab[i] = (float)exp(-i / 64.0);
        const double sa = 0.2 * S;
        for (int it = 0; it < 6; it++) {
            double cp = cos(pa), sp = sin(pa), inv = 1.0 / (2 * sa * sa), iq2 = 1.0 / (q * q);
            double mxx = 0, myy = 0, mxy = 0, mw = 0;
            for (int by = 0; by < H; by++)
                for (int bx = 0; bx < H; bx++) {
                    double v = wk->lb[by * H + bx];   /* unblurred: blur would round it */
                    if (v == 0) continue;
                    double dx = 2 * bx + 0.5 - xc, dy = 2 * by + 0.5 - yc;
                    double uu = dx * cp + dy * sp, vv = -dx * sp + dy * cp;
                    double t = (uu * uu + vv * vv * iq2) * inv;
                    if (t >= 12) continue;
                    double wt = v * etab[(int)(t * 64)];
                    mxx += wt * dx * dx; myy += wt * dy * dy; mxy += wt * dx * dy; mw += wt;
                }
            if (mw <= 0) break;
            mxx /= mw; myy /= mw; mxy /= mw;
            /* undo the window: M = (Mw^-1 - W^-1)^-1 (exact for a Gaussian galaxy) */
            double wxx = sa * sa * (cp * cp + q * q * sp * sp), wyy = sa * sa * (sp * sp + q * q * cp * cp);
            double wxy = sa * sa * (1 - q * q) * cp * sp;
            double dw = wxx * wyy - wxy * wxy, dm = mxx * myy - mxy * mxy;
            if (dw > 0 && dm > 0) {
                double ia = myy / dm - wyy / dw, ib = -mxy / dm + wxy / dw, ic = mxx / dm - wxx / dw;
                double di = ia * ic - ib * ib;
                if (ia > 0 && di > 0) { mxx = ic / di; myy = ia / di; mxy = -ib / di; }
            }
            double tr = mxx + myy, det = mxx * myy - mxy * mxy;
            double disc = sqrt(fmax(tr * tr / 4 - det, 0));
            double l1 = tr / 2 + disc, l2 = fmax(tr / 2 - disc, 0);
            double nq = l1 > 0 ? sqrt(l2 / l1) : 1;
            pa = 0.5 * atan2(2 * mxy, mxx - myy);
            double dq = fabs(nq - q);
            q = nq < 0.15 ? 0.15 : nq;
            if (dq < 1e-3) break;
        }
    }
    if (q < 0.15) q = 0.15;
    if (!(q <= 1)) q = 1;
    double cpa = cos(pa), spa = sin(pa);

    /* per-pixel elliptical radius and deprojected azimuth; curve of growth */
    double cog[NCOG] = {0};
    const double cog_dr = 0.45 * S / NCOG;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int i = y * S + x;
            double dx = x - xc, dy = y - yc;
            double uu = dx * cpa + dy * spa, vv = (-dx * spa + dy * cpa) / q;
            double a = sqrt(uu * uu + vv * vv);
            wk->a[i] = (float)a;
            if (a > 1e-9) { wk->cs[i] = (float)(uu / a); wk->sn[i] = (float)(vv / a); }
            else { wk->cs[i] = 1; wk->sn[i] = 0; }
            int b = (int)(a / cog_dr);
            if (b < NCOG && wk->l[i] > 0) cog[b] += wk->l[i];
        }
    for (int i = 1; i < NCOG; i++) cog[i] += cog[i - 1];
    double total = cog[NCOG - 1];
    double r20 = cog_radius(cog, cog_dr, 0.2), r50 = cog_radius(cog, cog_dr, 0.5),
           r80 = cog_radius(cog, cog_dr, 0.8);
    if (r20 < 0.5) r20 = 0.5;
    if (r50 < r20) r50 = r20;
    if (r80 < r50) r80 = r50;

    /* annuli of both grids, and the sums inside R50 / between R50 and 2 R50 */
    annulus fix[NFIX], rr[NR50];
    memset(fix, 0, sizeof fix);
    memset(rr, 0, sizeof rr);
    double in_c[3] = {0}, out_c[3] = {0}, in_l = 0, in_n = 0;
    const double dfix = FIX_RMAX / NFIX, dr50 = R50_RMAX * r50 / NR50;
    for (int i = 0; i < S * S; i++) {
        float a = wk->a[i];
        float c3[3] = {wk->ch[0][i], wk->ch[1][i], wk->ch[2][i]};
        int kf = (int)(a / dfix), kr = (int)(a / dr50);
        if (kf < NFIX) annulus_add(&fix[kf], wk->l[i], wk->u[i], wk->rc[i], c3, wk->cs[i], wk->sn[i]);
        if (kr < NR50) annulus_add(&rr[kr], wk->l[i], wk->u[i], wk->rc[i], c3, wk->cs[i], wk->sn[i]);
        if (a < r50) {
            for (int c = 0; c < 3; c++) in_c[c] += c3[c];
            in_l += wk->l[i]; in_n += 1;
        } else if (a < 2 * r50) {
            for (int c = 0; c < 3; c++) out_c[c] += c3[c];
        }
    }
    double iref = in_n > 0 ? in_l / in_n : 0;
    if (!(iref > 1e-4)) iref = 1e-4;

    memset(out, 0, sizeof(float) * DIM);
    annulus_features(fix, NFIX, iref, out + O_PROF_FIX, out + O_UNSH_FIX, out + O_SECMIN_FIX,
                     out + O_SECPOS_FIX, out + O_RG_FIX, out + O_BG_FIX);
    cubic_residual(out + O_PROF_FIX, NFIX, out + O_RESID_FIX);
    fourier_features(fix, NFIX, out + O_FOUR_FIX);
    annulus_features(rr, NR50, iref, out + O_PROF_R50, out + O_UNSH_R50, out + O_SECMIN_R50,
                     out + O_SECPOS_R50, out + O_RG_R50, out + O_BG_R50);
    fourier_features(rr, NR50, out + O_FOUR_R50);

    /* ring summaries: a ring is a complete elliptical bump at some radius
     * (beyond the nucleus), so take maxima over annuli k >= 2, which a
     * linear model cannot do by itself */
    {
        float mu = -1e9f, ms = -1e9f, msr = -1e9f, mp = -1e9f, bump = -1e9f;
        int kpk = 2;
        for (int k = 2; k < NFIX; k++) {
            if (out[O_UNSH_FIX + k] > mu) mu = out[O_UNSH_FIX + k];
            if (out[O_SECMIN_FIX + k] > ms) { ms = out[O_SECMIN_FIX + k]; kpk = k; }
            if (out[O_SECPOS_FIX + k] > mp) mp = out[O_SECPOS_FIX + k];
            float lo = out[O_RESID_FIX + 1];
            for (int j = 1; j < k; j++) if (out[O_RESID_FIX + j] < lo) lo = out[O_RESID_FIX + j];
            if (out[O_RESID_FIX + k] - lo > bump) bump = out[O_RESID_FIX + k] - lo;
        }
        for (int k = 2; k < NR50; k++)
            if (out[O_SECMIN_R50 + k] > msr) msr = out[O_SECMIN_R50 + k];
        float dip = out[O_SECMIN_FIX + 1];
        for (int j = 1; j < kpk; j++) if (out[O_SECMIN_FIX + j] < dip) dip = out[O_SECMIN_FIX + j];
        out[F_RING_UNSH] = mu;
        out[F_RING_SECMIN] = ms;
        out[F_RING_SECMIN_R50] = msr;
        out[F_RING_SECPOS] = mp;
        out[F_RING_RAD] = (float)log10((kpk + 0.5) * dfix / r50);
        out[F_RING_BUMP] = bump;
        out[F_RING_GAP] = ms - dip;

        /* residual modes over the fixed annuli 2..NFIX-1 (past the nucleus) */
        double coh = -1, m1 = 0, m2 = 0, wsum = 0, wind = 0, wwind = 0, prev_ph = 0, prev_a = 0;
        for (int k = 2; k < NFIX; k++) {
            const annulus *an = &fix[k];
            if (an->n < 8 || an->rabs <= 0) { prev_a = 0; continue; }
            double rsum = 0;
            for (int o = 0; o < NSEC; o++) rsum += an->sec_u[o];
            double c = rsum / an->rabs;
            if (c > coh) coh = c;
            double a1 = hypot(an->rfc[0], an->rfs[0]) / an->rabs, a2 = hypot(an->rfc[1], an->rfs[1]) / an->rabs;
            m1 += a1 * an->rabs; m2 += a2 * an->rabs; wsum += an->rabs;
            double ph = atan2(an->rfs[1], an->rfc[1]) / 2;   /* m = 2 phase, period pi */
            if (prev_a > 0) {
                double d = ph - prev_ph;
                while (d > M_PI / 2) d -= M_PI;
                while (d < -M_PI / 2) d += M_PI;
                double wt = sqrt(a2 * prev_a);
                wind += wt * d; wwind += wt;   /* signed: a spiral keeps turning one way */
            }
            prev_ph = ph; prev_a = a2;
        }
        out[F_RES_COHERENCE] = (float)coh;
        out[F_RES_M1] = wsum > 0 ? (float)(m1 / wsum) : 0;
        out[F_RES_M2] = wsum > 0 ? (float)(m2 / wsum) : 0;
        out[F_RES_WINDING] = wwind > 0 ? (float)fabs(wind / wwind) : 0;
    }

    /* asymmetries (180-degree rotation and mirror about the major axis) of L
     * and of the unsharp residual, smoothness, Gini / M20, inside 2 R50 */
    double ap = 2 * r50;
    if (ap > 0.45 * S) ap = 0.45 * S;
    if (ap < 4) ap = 4;
    /* rows that can hold aperture pixels (its semi-major axis bounds them) */
    int y0a = (int)floor(yc - ap - 1), y1a = (int)ceil(yc + ap + 2);
    if (y0a < 0) y0a = 0;
    if (y1a > S) y1a = S;
    double sa = 0, a180 = 0, a180u = 0, amir = 0, amiru = 0, spos = 0, lmax = 0, suabs = 0;
    for (int y = y0a; y < y1a; y++)
        for (int x = 0; x < S; x++) {
            int i = y * S + x;
            if (wk->a[i] >= ap) continue;
            double l = wk->l[i], u = wk->u[i];
            sa += fabs(l);
            if (l > lmax) lmax = l;
            if (u > 0) spos += u;
            double rx = 2 * xc - x, ry = 2 * yc - y;
            a180 += fabs(l - sample(wk->l, rx, ry));
            a180u += fabs(u - sample(wk->u, rx, ry));
            /* mirror about the major axis: (u, v) -> (u, -v) */
            double dx = x - xc, dy = y - yc;
            double uu = dx * cpa + dy * spa, vv = -dx * spa + dy * cpa;
            double mx = xc + uu * cpa + vv * spa, my = yc + uu * spa - vv * cpa;
            amir += fabs(l - sample(wk->l, mx, my));
            amiru += fabs(u - sample(wk->u, mx, my));
            suabs += fabs(u);
        }
    if (sa <= 0) sa = 1e-9;
    /* Gini and M20 (Lotz et al. 2004) over the positive pixels in the
     * aperture, from a fine histogram of their fluxes (a full sort gives the
     * same numbers to 1e-3 at ten times the cost) */
    double gini = 0, m20 = 0;
    if (lmax > 0) {
        enum { NB = 1024 };
        double *hn = wk->hist, *hf = wk->hist + NB, *hm = wk->hist + 2 * NB;   /* (3, NB) */
        memset(wk->hist, 0, sizeof wk->hist);
        double mtot = 0, ftot = 0, ntot = 0, scale = (NB - 1) / lmax;
        for (int y = y0a; y < y1a; y++)
            for (int x = 0; x < S; x++) {
                int i = y * S + x;
                double l = wk->l[i];
                if (wk->a[i] >= ap || l <= 0) continue;
                int b = (int)(l * scale);
                double r2 = (x - xc) * (x - xc) + (y - yc) * (y - yc);
                hn[b] += 1; hf[b] += l; hm[b] += l * r2;
                mtot += l * r2; ftot += l; ntot += 1;
            }
        if (ntot > 1 && ftot > 0) {
            /* Gini = sum_i (2i - n - 1) x_i / (mean n (n-1)), i = 1..n ascending;
             * the pixels of a bin take the middle of their ranks */
            double rank = 0, g = 0;
            for (int b = 0; b < NB; b++) {
                if (hn[b] == 0) continue;
                g += (2 * (rank + (hn[b] + 1) / 2) - ntot - 1) * hf[b];
                rank += hn[b];
            }
            gini = g / (ftot / ntot) / (ntot * (ntot - 1));
            double acc = 0, macc = 0;
            for (int b = NB - 1; b >= 0; b--) {
                if (hn[b] == 0) continue;
                if (acc + hf[b] >= 0.2 * ftot) { macc += (0.2 * ftot - acc) / hf[b] * hm[b]; break; }
                acc += hf[b]; macc += hm[b];
            }
            m20 = mtot > 0 && macc > 0 ? log10(macc / mtot) : -3;
        }
    }

    out[F_Q] = (float)q;
    out[F_LR20] = (float)log10(r20 / S);
    out[F_LR50] = (float)log10(r50 / S);
    out[F_LR80] = (float)log10(r80 / S);
    out[F_CONC] = (float)(5 * log10(r80 / r20));
    out[F_A180] = (float)(a180 / (2 * sa));
    out[F_A180U] = (float)(a180u / (2 * sa));
    out[F_AMIR] = (float)(amir / (2 * sa));
    out[F_AMIRU] = (float)(amiru / (2 * sa));
    out[F_SMOOTH] = (float)(spos / sa);
    /* chirality: how much the residual changes under the mirror, beyond what
     * the 180-degree turn changes (spirals are chiral; rings and bars not) */
    out[F_RES_CHIRALITY] = suabs > 0 ? (float)((amiru - a180u) / (2 * suabs)) : 0;
    out[F_GINI] = (float)gini;
    out[F_M20] = (float)m20;
    out[F_LFLUX] = (float)log10(total > 1e-6 ? total : 1e-6);
    double cfl = 1e-3 * (fabs(in_c[1]) + 1e-6);
    out[F_RG_IN] = safe_log_ratio(in_c[0], in_c[1], cfl);
    out[F_BG_IN] = safe_log_ratio(in_c[2], in_c[1], cfl);
    cfl = 1e-3 * (fabs(out_c[1]) + 1e-6);
    out[F_RG_OUT] = safe_log_ratio(out_c[0], out_c[1], cfl);
    out[F_BG_OUT] = safe_log_ratio(out_c[2], out_c[1], cfl);
    out[F_OFFSET] = (float)(hypot(xc - (S - 1) / 2.0, yc - (S - 1) / 2.0) / S);
    for (int i = 0; i < DIM; i++)
        if (!isfinite(out[i])) out[i] = 0;

    if (shape) {
        shape->xc = xc; shape->yc = yc; shape->q = q;
        double p = pa;
        if (p >= M_PI / 2) p -= M_PI;
        if (p < -M_PI / 2) p += M_PI;
        shape->pa = p;
        shape->r20 = r20; shape->r50 = r50; shape->r80 = r80;
        for (int c = 0; c < 3; c++) shape->bg[c] = bgv[c];
    }
    free(wk);
    return 0;
}
