/*
 * pca.c - exact PCA through the covariance eigen-decomposition, or the
 * Gram matrix's when there are fewer rows than features (see pca.h).
 *
 * Legend: n = rows (galaxies), d = input features, k = components kept,
 * B = rows per block when accumulating the covariance.
 */
#include "core/pca.h"
#include "core/util.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* LAPACK (OpenBLAS's bundled copy): symmetric eigen-decomposition, divide and conquer. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
                    int *info);

#define PCA_BLOCK 1024          /* B */
#define PCA_MAGIC "ZPCA"
#define PCA_VERSION 1u

struct core_pca {
    int d, k;
    float *mean;        /* (d) */
    float *scale;       /* (d) */
    float *comp;        /* (k, d) */
    double *var;        /* (k) */
    double total;       /* trace of the covariance */
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

static core_pca *pca_alloc(int d, int k)
{
    core_pca *p = xcalloc(1, sizeof *p);
    p->d = d;
    p->k = k;
    p->mean = xmalloc(sizeof(float) * (size_t)d);
    p->scale = xmalloc(sizeof(float) * (size_t)d);
    p->comp = xmalloc(sizeof(float) * (size_t)k * (size_t)d);
    p->var = xmalloc(sizeof(double) * (size_t)k);
    return p;
}

void core_pca_free(core_pca *p)
{
    if (!p) return;
    free(p->mean);
    free(p->scale);
    free(p->comp);
    free(p->var);
    free(p);
}

int core_pca_dim(const core_pca *p) { return p->d; }
int core_pca_k(const core_pca *p) { return p->k; }
const float *core_pca_scale(const core_pca *p) { return p->scale; }
const float *core_pca_components(const core_pca *p) { return p->comp; }
const double *core_pca_variance(const core_pca *p) { return p->var; }
double core_pca_total_variance(const core_pca *p) { return p->total; }

/* Sort eigenpairs descending; flip each vector so its largest |entry| is positive. */
static void order_and_sign(int d, double *w, double *v /* (d, d) rows */)
{
    for (int i = 0; i < d; i++) {
        int best = i;
        for (int j = i + 1; j < d; j++) if (w[j] > w[best]) best = j;
        if (best != i) {
            double t = w[i]; w[i] = w[best]; w[best] = t;
            for (int c = 0; c < d; c++) {
                t = v[(size_t)i * d + c];
                v[(size_t)i * d + c] = v[(size_t)best * d + c];
                v[(size_t)best * d + c] = t;
            }
        }
    }
    for (int i = 0; i < d; i++) {
        double *r = v + (size_t)i * d;
        int am = 0;
        for (int c = 1; c < d; c++) if (fabs(r[c]) > fabs(r[am])) am = c;
        if (r[am] < 0) for (int c = 0; c < d; c++) r[c] = -r[c];
    }
}

int core_pca_eigen(const double *a, int d, double *w, double *v)
{
    if (d < 1) return -1;
    /* column-major symmetric: the row-major copy is the same matrix */
    memcpy(v, a, sizeof(double) * (size_t)d * d);
    int lwork = -1, liwork = -1, info = 0, iw_q = 0;
    double w_q = 0;
    dsyevd_("V", "U", &d, v, &d, w, &w_q, &lwork, &iw_q, &liwork, &info);
    if (info != 0) return -1;
    lwork = (int)w_q + 1;
    liwork = iw_q + 1;
    double *work = xmalloc(sizeof(double) * (size_t)lwork);
    int *iwork = xmalloc(sizeof(int) * (size_t)liwork);
    dsyevd_("V", "U", &d, v, &d, w, work, &lwork, iwork, &liwork, &info);
    free(work);
    free(iwork);
    if (info != 0) return -1;
    /* eigenvector j is column j of the column-major result = row j here */
    order_and_sign(d, w, v);
    return 0;
}

/* Cyclic Jacobi rotations (Golub & Van Loan 8.5): the reference. */
int core_pca_eigen_jacobi(const double *a0, int d, double *w, double *v)
{
    if (d < 1) return -1;
    double *a = xmalloc(sizeof(double) * (size_t)d * d);   /* (d, d) working copy */
    memcpy(a, a0, sizeof(double) * (size_t)d * d);
    double *q = xcalloc((size_t)d * d, sizeof(double));    /* (d, d) accumulated rotations, columns = vectors */
    for (int i = 0; i < d; i++) q[(size_t)i * d + i] = 1;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double x = a[(size_t)i * d + j] * a[(size_t)i * d + j];
                tot += x;
                if (i != j) off += x;
            }
        if (off <= 1e-30 * (tot > 0 ? tot : 1)) break;
        for (int p = 0; p < d - 1; p++)
            for (int r = p + 1; r < d; r++) {
                double apr = a[(size_t)p * d + r];
                if (fabs(apr) < 1e-300) continue;
                double app = a[(size_t)p * d + p], arr = a[(size_t)r * d + r];
                double theta = (arr - app) / (2 * apr);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int kk = 0; kk < d; kk++) {   /* A <- A J (columns p, r) */
                    double akp = a[(size_t)kk * d + p], akr = a[(size_t)kk * d + r];
                    a[(size_t)kk * d + p] = c * akp - s * akr;
                    a[(size_t)kk * d + r] = s * akp + c * akr;
                }
                for (int kk = 0; kk < d; kk++) {   /* A <- J^T A (rows p, r) */
                    double apk = a[(size_t)p * d + kk], ark = a[(size_t)r * d + kk];
                    a[(size_t)p * d + kk] = c * apk - s * ark;
                    a[(size_t)r * d + kk] = s * apk + c * ark;
                }
                for (int kk = 0; kk < d; kk++) {   /* Q <- Q J */
                    double qkp = q[(size_t)kk * d + p], qkr = q[(size_t)kk * d + r];
                    q[(size_t)kk * d + p] = c * qkp - s * qkr;
                    q[(size_t)kk * d + r] = s * qkp + c * qkr;
                }
            }
    }
    for (int i = 0; i < d; i++) {
        w[i] = a[(size_t)i * d + i];
        for (int c = 0; c < d; c++) v[(size_t)i * d + c] = q[(size_t)c * d + i];
    }
    free(a);
    free(q);
    order_and_sign(d, w, v);
    return 0;
}

/* Fewer rows than features (n < d): the n x n Gram matrix G = Z Z^T of the
 * standardised rows Z (n, d) has the same non-zero eigenvalues as Z^T Z,
 * and G u = mu u gives the covariance's eigenvector v = Z^T u / sqrt(mu)
 * with eigenvalue mu / (n - 1).  G and the components are built from
 * column blocks of Z (Bc = PCA_BLOCK columns, doubles), so memory is
 * O(n^2 + n Bc + k d), never d x d.  p->mean / p->scale are set. */
static int fit_gram(const float *x, int n, int d, int k, const double *mu, core_pca *p, char *err, size_t errlen)
{
    const int Bc = PCA_BLOCK;
    double *g = xcalloc((size_t)n * n, sizeof(double));     /* (n, n) */
    double *zb = xmalloc(sizeof(double) * (size_t)n * Bc);  /* (n, Bc) a column block of Z */
    p->total = 0;
    for (int j0 = 0; j0 < d; j0 += Bc) {
        int b = d - j0 < Bc ? d - j0 : Bc;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < b; j++) {
                double z = (x[(size_t)i * d + j0 + j] - mu[j0 + j]) / p->scale[j0 + j];
                zb[(size_t)i * b + j] = z;
                p->total += z * z;
            }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, b, 1.0, zb, b, 1.0, g, n);
    }
    p->total /= n - 1;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) g[(size_t)j * n + i] = g[(size_t)i * n + j];
    double *w = xmalloc(sizeof(double) * (size_t)n);        /* (n) */
    double *u = xmalloc(sizeof(double) * (size_t)n * n);    /* (n, n) rows = eigenvectors */
    int rc = core_pca_eigen(g, n, w, u);
    free(g);
    if (rc) {
        set_err(err, errlen, "LAPACK dsyevd failed on the Gram matrix");
        free(zb); free(w); free(u);
        return -1;
    }
    /* components (k, d): row c = Z^T u_c / sqrt(mu_c), block by block */
    double *vb = xmalloc(sizeof(double) * (size_t)k * Bc);  /* (k, Bc) */
    for (int j0 = 0; j0 < d; j0 += Bc) {
        int b = d - j0 < Bc ? d - j0 : Bc;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < b; j++)
                zb[(size_t)i * b + j] = (x[(size_t)i * d + j0 + j] - mu[j0 + j]) / p->scale[j0 + j];
        /* vb (k, b) = U_k (k, n) @ zb (n, b) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, b, n, 1.0, u, n, zb, b, 0.0, vb, b);
        for (int c = 0; c < k; c++) {
            double s = w[c] > 1e-12 * (w[0] > 0 ? w[0] : 1) ? 1 / sqrt(w[c]) : 0;   /* a null direction: zeros */
            for (int j = 0; j < b; j++) p->comp[(size_t)c * d + j0 + j] = (float)(vb[(size_t)c * b + j] * s);
        }
    }
    for (int c = 0; c < k; c++) {
        p->var[c] = w[c] > 0 ? w[c] / (n - 1) : 0;
        float *r = p->comp + (size_t)c * d;   /* the same sign rule as order_and_sign */
        int am = 0;
        for (int j = 1; j < d; j++) if (fabsf(r[j]) > fabsf(r[am])) am = j;
        if (r[am] < 0) for (int j = 0; j < d; j++) r[j] = -r[j];
    }
    free(zb); free(w); free(u); free(vb);
    return 0;
}

size_t core_pca_fit_bytes(int n, int d, int k)
{
    double m = n < d ? n : d;   /* the eigenproblem's side: Gram (n) or covariance (d) */
    double b = 8.0 * (4 * m * m + 8 * m) + 8.0 * PCA_BLOCK * (n < d ? n : d) + 4.0 * k * d + 8.0 * k * PCA_BLOCK +
               16.0 * d + 4.0 * (n < 4096 ? n : 4096) * d;   /* the last: core_pca_transform's block */
    return b > 9e18 ? (size_t)9e18 : (size_t)b;
}

/* Bytes this process may still allocate: MemAvailable, and under a
 * RLIMIT_AS (ulimit -v) what the limit leaves above the current size. */
static double available_bytes(void)
{
    double avail = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lf kB", &avail) == 1) { avail *= 1024; break; }
        fclose(f);
    }
    if (avail <= 0) avail = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    const char *cap = getenv("ZOOSH_MEM_MB");   /* hidden: a smaller budget (tests) */
    if (cap && atof(cap) > 0 && atof(cap) * 1048576.0 < avail) avail = atof(cap) * 1048576.0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double vm = 0;
        FILE *s = fopen("/proc/self/statm", "r");
        if (s) {
            if (fscanf(s, "%lf", &vm) != 1) vm = 0;
            fclose(s);
        }
        double left = (double)rl.rlim_cur - vm * (double)sysconf(_SC_PAGESIZE);
        if (left < avail) avail = left > 0 ? left : 0;
    }
    return avail;
}

int core_pca_mem_check(int n, int d, int k, double extra, char *err, size_t errlen)
{
    double need = (double)core_pca_fit_bytes(n, d, k) + extra, have = available_bytes();
    if (need <= 0.9 * have) return 0;
    if (err && errlen)
        snprintf(err, errlen, "a PCA of %d galaxies x %d features needs about %.2f GiB of memory and %.2f GiB is free: "
                 "nothing was changed (fewer features, or --pca 0)", n, d, need / 1073741824.0, have / 1073741824.0);
    return -1;
}

int core_pca_fit(const float *x, int n, int d, int k, int standardise, core_pca **out,
                 char *err, size_t errlen)
{
    return core_pca_fit_weighted(x, n, d, k, standardise, NULL, out, err, errlen);
}

int core_pca_fit_weighted(const float *x, int n, int d, int k, int standardise, const float *weights,
                          core_pca **out, char *err, size_t errlen)
{
    *out = NULL;
    if (n < 2 || d < 1) { set_err(err, errlen, "PCA needs at least 2 rows and 1 feature"); return -1; }
    if (k > d) k = d;
    if (k > n) k = n;
    if (k < 1) { set_err(err, errlen, "PCA needs at least one component"); return -1; }

    double *mu = xcalloc((size_t)d, sizeof(double));   /* (d) */
    double *m2 = xcalloc((size_t)d, sizeof(double));   /* (d) */
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * d;
        for (int j = 0; j < d; j++) mu[j] += r[j];
    }
    for (int j = 0; j < d; j++) mu[j] /= n;
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * d;
        for (int j = 0; j < d; j++) { double t = r[j] - mu[j]; m2[j] += t * t; }
    }
    core_pca *p = pca_alloc(d, k);
    for (int j = 0; j < d; j++) {
        double sd = sqrt(m2[j] / n);
        p->mean[j] = (float)mu[j];
        p->scale[j] = standardise && sd > 1e-12 * (fabs(mu[j]) + 1) ? (float)sd : 1.0f;
        if (weights) {
            if (!(weights[j] > 0) || !isfinite(weights[j])) {
                set_err(err, errlen, "PCA weights must be positive and finite");
                free(mu); free(m2); core_pca_free(p);
                return -1;
            }
            p->scale[j] /= weights[j];
        }
        if (!isfinite(p->mean[j]) || !isfinite(p->scale[j])) {
            set_err(err, errlen, "feature values are not finite (NaN or infinite)");
            free(mu); free(m2); core_pca_free(p);
            return -1;
        }
    }

    if (n < d) {
        int rc = fit_gram(x, n, d, k, mu, p, err, errlen);
        free(mu); free(m2);
        if (rc) { core_pca_free(p); return -1; }
        *out = p;
        return 0;
    }
    double *cov = xcalloc((size_t)d * d, sizeof(double));        /* (d, d) */
    double *blk = xmalloc(sizeof(double) * (size_t)PCA_BLOCK * d); /* (B, d) */
    for (int i0 = 0; i0 < n; i0 += PCA_BLOCK) {
        int b = n - i0 < PCA_BLOCK ? n - i0 : PCA_BLOCK;
        for (int i = 0; i < b; i++) {
            const float *r = x + (size_t)(i0 + i) * d;
            double *o = blk + (size_t)i * d;
            for (int j = 0; j < d; j++) o[j] = (r[j] - mu[j]) / p->scale[j];
        }
        /* cov (upper) += blk^T blk */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, b, 1.0, blk, d, 1.0, cov, d);
    }
    p->total = 0;
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            double c = cov[(size_t)i * d + j] / (n - 1);
            cov[(size_t)i * d + j] = c;
            cov[(size_t)j * d + i] = c;
            if (i == j) p->total += c;
        }
    double *w = xmalloc(sizeof(double) * (size_t)d);        /* (d) */
    double *v = xmalloc(sizeof(double) * (size_t)d * d);    /* (d, d) */
    int rc = core_pca_eigen(cov, d, w, v);
    if (rc == 0) {
        for (int c = 0; c < k; c++) {
            p->var[c] = w[c] > 0 ? w[c] : 0;
            for (int j = 0; j < d; j++) p->comp[(size_t)c * d + j] = (float)v[(size_t)c * d + j];
        }
    } else {
        set_err(err, errlen, "LAPACK dsyevd failed on the covariance");
    }
    free(mu); free(m2); free(cov); free(blk); free(w); free(v);
    if (rc != 0) { core_pca_free(p); return -1; }
    *out = p;
    return 0;
}

void core_pca_transform(const core_pca *p, const float *x, int n, float *y)
{
    const int d = p->d, k = p->k;
    const int TB = n < 4096 ? (n > 0 ? n : 1) : 4096;    /* rows a block: no more than there are */
    float *z = xmalloc(sizeof(float) * (size_t)TB * d);   /* (TB, d) standardised rows */
    for (int i0 = 0; i0 < n; i0 += TB) {
        int b = n - i0 < TB ? n - i0 : TB;
        for (int i = 0; i < b; i++) {
            const float *r = x + (size_t)(i0 + i) * d;
            float *o = z + (size_t)i * d;
            for (int j = 0; j < d; j++) o[j] = (r[j] - p->mean[j]) / p->scale[j];
        }
        /* y (b, k) = z (b, d) @ comp^T (d, k) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, k, d, 1.0f, z, d, p->comp, d,
                    0.0f, y + (size_t)i0 * k, k);
    }
    free(z);
}

/* ---- blob ------------------------------------------------------------------
 * "ZPCA" u32 version u32 d u32 k f64 total | f32 mean[d] f32 scale[d] f64 var[k] f32 comp[k*d]
 * (little-endian, as on every machine we build for; checked at load). */
#define PCA_HDR (4 + 4 + 4 + 4 + 8)

static size_t blob_len(size_t d, size_t k)
{
    return PCA_HDR + 4 * d + 4 * d + 8 * k + 4 * k * d;
}

int core_pca_save(const core_pca *p, void **buf, size_t *len)
{
    size_t L = blob_len((size_t)p->d, (size_t)p->k);
    uint8_t *b = xmalloc(L), *o = b;
    uint32_t ver = PCA_VERSION, d = (uint32_t)p->d, k = (uint32_t)p->k;
    memcpy(o, PCA_MAGIC, 4); o += 4;
    memcpy(o, &ver, 4); o += 4;
    memcpy(o, &d, 4); o += 4;
    memcpy(o, &k, 4); o += 4;
    memcpy(o, &p->total, 8); o += 8;
    memcpy(o, p->mean, 4 * (size_t)d); o += 4 * (size_t)d;
    memcpy(o, p->scale, 4 * (size_t)d); o += 4 * (size_t)d;
    memcpy(o, p->var, 8 * (size_t)k); o += 8 * (size_t)k;
    memcpy(o, p->comp, 4 * (size_t)k * d);
    *buf = b;
    *len = L;
    return 0;
}

int core_pca_load(const void *buf, size_t len, core_pca **out, char *err, size_t errlen)
{
    *out = NULL;
    const uint8_t *b = buf;
    if (!b || len < PCA_HDR) { set_err(err, errlen, "PCA blob too short for its header"); return -1; }
    if (memcmp(b, PCA_MAGIC, 4) != 0) { set_err(err, errlen, "not a PCA blob (bad magic)"); return -1; }
    uint32_t ver, d, k;
    memcpy(&ver, b + 4, 4);
    memcpy(&d, b + 8, 4);
    memcpy(&k, b + 12, 4);
    if (ver != PCA_VERSION) { set_err(err, errlen, "PCA blob of an unknown version"); return -1; }
    if (d < 1 || d > (1u << 20) || k < 1 || k > d) {
        set_err(err, errlen, "PCA blob has impossible dimensions");
        return -1;
    }
    if (len != blob_len(d, k)) { set_err(err, errlen, "PCA blob length does not match its dimensions"); return -1; }
    core_pca *p = pca_alloc((int)d, (int)k);
    const uint8_t *o = b + 16;
    memcpy(&p->total, o, 8); o += 8;
    memcpy(p->mean, o, 4 * (size_t)d); o += 4 * (size_t)d;
    memcpy(p->scale, o, 4 * (size_t)d); o += 4 * (size_t)d;
    memcpy(p->var, o, 8 * (size_t)k); o += 8 * (size_t)k;
    memcpy(p->comp, o, 4 * (size_t)k * d);
    for (uint32_t j = 0; j < d; j++)
        if (!isfinite(p->mean[j]) || !(p->scale[j] > 0) || !isfinite(p->scale[j])) {
            set_err(err, errlen, "PCA blob holds a non-finite mean or a non-positive scale");
            core_pca_free(p);
            return -1;
        }
    *out = p;
    return 0;
}
