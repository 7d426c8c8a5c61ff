/*
 * ptnet.c - timm's ConvNeXt + a linear head, trained in C, llm.c style:
 * each layer a forward/backward pair, activations kept in one struct per
 * layer for the backward pass, parameters / gradients / Adam moments each
 * in one allocation with pointers into it.  GEMMs go through OpenBLAS, one
 * thread per call, in pieces shared among zoosh's threads (see "threads"
 * below); the rest is plain loops over channels-last rows.
 *
 * Layouts (internal, channels-last; converted to timm's at save):
 *   stem_w (C0, 4, 4, 3)   ds_w (C, 2, 2, Cin)   dw_w (7, 7, C)
 *   fc1_w (D, C)   fc2_w (C, D)   head_w (NO, CL)
 * Legend: B batch, S input side, H W map size, P = H*W, R = B*P rows,
 * C channels, D = 4C hidden, NO outputs (answers), CL last width.
 *
 * About 1,100 lines: the layers, the network and the thread sharing they
 * need are one unit; what runs it (catalogs, views, the loop) is elsewhere.
 */
#include "core/ptnet.h"
#include "core/fastmath.h"
#include "core/safetensors.h"
#include "core/util.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LN_EPS 1e-6f

/* how work is cut among threads (see "threads" below) */
#define PT_MAX_THREADS 64
#define SPLIT_MIN (1u << 16)        /* items below which an element-wise loop keeps one thread */
#define GEMM_PIECES 4               /* the most pieces of a GEMM */
#define GEMM_PIECE_MACS (1u << 20)  /* multiply-adds below which a piece is not worth a thread */
#define GEMM_PIECE_ROWS 16          /* a piece starts at a multiple of this many rows (the kernels' tiles) */
#define WGRAD_PIECE_ROWS 64         /* the fewest rows of a weight gradient's reduction piece */

/* CORE_HOT loops: the same operations in the same order whatever the clone's
 * width (ISO C: no contraction into FMA), so a run gives the same numbers on
 * every clone. */

/* ------------------------------------------------------------ parameters */

typedef struct {
    float *dw_w, *dw_b, *ln_w, *ln_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b, *gamma;
} pblock;

typedef struct {
    float *stem_w, *stem_b, *stem_ln_w, *stem_ln_b;
    float *ds_ln_w[4], *ds_ln_b[4], *ds_w[4], *ds_b[4];
    pblock *blk[4];                 /* (depth) per stage */
    float *head_ln_w, *head_ln_b, *head_w, *head_b;
} pset;

enum { RE_NONE, RE_PATCH, RE_DW };
enum { INIT_W, INIT_ZERO, INIT_ONE, INIT_GAMMA };

typedef struct {
    char name[80];
    int ndim;
    int64_t shape[4];   /* timm's shape */
    int reorder, init, decay;
    int stage;          /* -1 stem, s stage s (its downsample too), nstages the head */
    size_t off, n;
} pentry;

/* ------------------------------------------------------------ activations */

typedef struct {
    float *dwo;     /* (R, C) depthwise conv output = LN input */
    float *lno;     /* (R, C) LN output = fc1 input */
    float *mean, *rstd;  /* (R) */
    float *h1;      /* (R, D) fc1 output, pre-GELU */
    float *h2;      /* (R, D) GELU output = fc2 input */
    float *u;       /* (R, C) fc2 output (with bias) */
} ablock;

typedef struct {
    int H, W, R;
    float **x;      /* (depth + 1) of (R, C): x[0] stage input, x[b + 1] block b output */
    ablock *b;      /* (depth) */
    float *ds_lno, *ds_mean, *ds_rstd;   /* downsample LN of the previous stage's output */
    float *dx;      /* (R, C) gradient of the stream */
} astage;

struct core_pt_net {
    core_convnext_arch a;
    int n_out;
    size_t np;
    float *params, *grads, *m, *v;    /* (np) each */
    pset P, G;
    pentry *tab;
    int ntab;
    int first_train;    /* core_pt_net_set_trainable: 0 all, k stages k.. and the head */
    /* activations, for (B, S) */
    int B, S;
    float *cols0;   /* (R0, 48) stem patches */
    float *pre0;    /* (R0, C0) stem conv output */
    float *mean0, *rstd0;
    astage st[4];
    float *pooled, *hn, *hmean, *hrstd, *logits;   /* (B, CL) (B, CL) (B) (B) (B, NO) */
    /* scratch for backward */
    float *s_rc, *s_rc2, *s_rd, *s_cols;
    float *s_wg;    /* (GEMM_PIECES, largest weight) partial weight gradients */
};

static void add_entry(core_pt_net *n, size_t *off, const char *name, int ndim, const int64_t *shape,
                      int reorder, int init, int decay)
{
    pentry *e = &n->tab[n->ntab++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ndim = ndim;
    e->n = 1;
    for (int i = 0; i < ndim; i++) {
        e->shape[i] = shape[i];
        e->n *= (size_t)shape[i];
    }
    e->reorder = reorder;
    e->init = init;
    e->decay = decay;
    e->off = *off;
    *off += e->n;
    int st = -1;
    if (!strncmp(name, "stages.", 7)) st = atoi(name + 7);
    else if (!strncmp(name, "head.", 5)) st = n->a.nstages;
    e->stage = st;
}

#define SH(...) (const int64_t[]){__VA_ARGS__}

/* Lay out the table (names in timm's order) and the offsets. */
static void build_table(core_pt_net *n)
{
    const core_convnext_arch *a = &n->a;
    int cnt = 4 + 4 + 4 * 4;
    for (int s = 0; s < a->nstages; s++) cnt += 9 * a->depths[s];
    n->tab = xcalloc((size_t)cnt, sizeof *n->tab);
    size_t off = 0;
    char nm[80];
    int64_t c0 = a->dims[0];
    add_entry(n, &off, "stem.0.weight", 4, SH(c0, 3, 4, 4), RE_PATCH, INIT_W, 1);
    add_entry(n, &off, "stem.0.bias", 1, SH(c0), RE_NONE, INIT_ZERO, 0);
    add_entry(n, &off, "stem.1.weight", 1, SH(c0), RE_NONE, INIT_ONE, 0);
    add_entry(n, &off, "stem.1.bias", 1, SH(c0), RE_NONE, INIT_ZERO, 0);
    for (int s = 0; s < a->nstages; s++) {
        int64_t c = a->dims[s], cin = s ? a->dims[s - 1] : c, d = 4 * c;
        if (s) {
            snprintf(nm, sizeof nm, "stages.%d.downsample.0.weight", s);
            add_entry(n, &off, nm, 1, SH(cin), RE_NONE, INIT_ONE, 0);
            snprintf(nm, sizeof nm, "stages.%d.downsample.0.bias", s);
            add_entry(n, &off, nm, 1, SH(cin), RE_NONE, INIT_ZERO, 0);
            snprintf(nm, sizeof nm, "stages.%d.downsample.1.weight", s);
            add_entry(n, &off, nm, 4, SH(c, cin, 2, 2), RE_PATCH, INIT_W, 1);
            snprintf(nm, sizeof nm, "stages.%d.downsample.1.bias", s);
            add_entry(n, &off, nm, 1, SH(c), RE_NONE, INIT_ZERO, 0);
        }
        for (int b = 0; b < a->depths[s]; b++) {
#define E(suffix, nd, shape, re, init, dec) \
    (snprintf(nm, sizeof nm, "stages.%d.blocks.%d.%s", s, b, suffix), add_entry(n, &off, nm, nd, shape, re, init, dec))
            E("conv_dw.weight", 4, SH(c, 1, 7, 7), RE_DW, INIT_W, 1);
            E("conv_dw.bias", 1, SH(c), RE_NONE, INIT_ZERO, 0);
            E("norm.weight", 1, SH(c), RE_NONE, INIT_ONE, 0);
            E("norm.bias", 1, SH(c), RE_NONE, INIT_ZERO, 0);
            E("mlp.fc1.weight", 4, SH(d, c, 1, 1), RE_NONE, INIT_W, 1);
            E("mlp.fc1.bias", 1, SH(d), RE_NONE, INIT_ZERO, 0);
            E("mlp.fc2.weight", 4, SH(c, d, 1, 1), RE_NONE, INIT_W, 1);
            E("mlp.fc2.bias", 1, SH(c), RE_NONE, INIT_ZERO, 0);
            E("gamma", 1, SH(c), RE_NONE, INIT_GAMMA, 0);
#undef E
        }
    }
    int64_t cl = a->dims[a->nstages - 1];
    add_entry(n, &off, "head.norm.weight", 1, SH(cl), RE_NONE, INIT_ONE, 0);
    add_entry(n, &off, "head.norm.bias", 1, SH(cl), RE_NONE, INIT_ZERO, 0);
    add_entry(n, &off, "head.fc.weight", 2, SH(n->n_out, cl), RE_NONE, INIT_W, 1);
    add_entry(n, &off, "head.fc.bias", 1, SH(n->n_out), RE_NONE, INIT_ZERO, 0);
    n->np = off;
}

/* Point a pset into base, in the table's order. */
static void bind(core_pt_net *n, float *base, pset *p)
{
    int k = 0;
#define NEXT (base + n->tab[k++].off)
    p->stem_w = NEXT; p->stem_b = NEXT; p->stem_ln_w = NEXT; p->stem_ln_b = NEXT;
    for (int s = 0; s < n->a.nstages; s++) {
        if (s) { p->ds_ln_w[s] = NEXT; p->ds_ln_b[s] = NEXT; p->ds_w[s] = NEXT; p->ds_b[s] = NEXT; }
        if (!p->blk[s]) p->blk[s] = xcalloc((size_t)n->a.depths[s], sizeof(pblock));
        for (int b = 0; b < n->a.depths[s]; b++) {
            pblock *B = &p->blk[s][b];
            B->dw_w = NEXT; B->dw_b = NEXT; B->ln_w = NEXT; B->ln_b = NEXT;
            B->fc1_w = NEXT; B->fc1_b = NEXT; B->fc2_w = NEXT; B->fc2_b = NEXT; B->gamma = NEXT;
        }
    }
    p->head_ln_w = NEXT; p->head_ln_b = NEXT; p->head_w = NEXT; p->head_b = NEXT;
#undef NEXT
}

int core_pt_net_new(core_pt_net **out, const core_convnext_arch *a, int n_out, float ls_init, uint64_t seed)
{
    *out = NULL;
    if (a->nstages < 1 || a->nstages > 4 || n_out < 1 || n_out > CORE_PT_MAX_OUT) return -1;
    core_pt_net *n = xcalloc(1, sizeof *n);
    n->a = *a;
    n->a.mlp_ratio = 4;
    n->n_out = n_out;
    build_table(n);
    n->params = xcalloc(n->np, sizeof(float));
    n->grads = xcalloc(n->np, sizeof(float));
    n->m = xcalloc(n->np, sizeof(float));
    n->v = xcalloc(n->np, sizeof(float));
    bind(n, n->params, &n->P);
    bind(n, n->grads, &n->G);
    core_rng r;
    core_rng_seed(&r, seed);
    for (int i = 0; i < n->ntab; i++) {
        pentry *e = &n->tab[i];
        float *p = n->params + e->off;
        for (size_t j = 0; j < e->n; j++) {
            switch (e->init) {
            case INIT_W: {           /* timm: trunc_normal_(std=.02), cut at +-2 std */
                double z;
                do z = core_rng_normal(&r); while (fabs(z) > 2.0);
                p[j] = (float)(0.02 * z);
                break;
            }
            case INIT_ONE: p[j] = 1.0f; break;
            case INIT_GAMMA: p[j] = ls_init; break;
            default: p[j] = 0.0f;
            }
        }
    }
    *out = n;
    return 0;
}

static void free_acts(core_pt_net *n)
{
    free(n->cols0); free(n->pre0); free(n->mean0); free(n->rstd0);
    for (int s = 0; s < 4; s++) {
        astage *A = &n->st[s];
        if (A->x) for (int b = 0; b <= n->a.depths[s]; b++) free(A->x[b]);
        if (A->b) for (int b = 0; b < n->a.depths[s]; b++) {
            ablock *K = &A->b[b];
            free(K->dwo); free(K->lno); free(K->mean); free(K->rstd); free(K->h1); free(K->h2); free(K->u);
        }
        free(A->x); free(A->b); free(A->ds_lno); free(A->ds_mean); free(A->ds_rstd); free(A->dx);
        memset(A, 0, sizeof *A);
    }
    free(n->pooled); free(n->hn); free(n->hmean); free(n->hrstd); free(n->logits);
    free(n->s_rc); free(n->s_rc2); free(n->s_rd); free(n->s_cols); free(n->s_wg);
    n->cols0 = n->pre0 = n->mean0 = n->rstd0 = NULL;
    n->pooled = n->hn = n->hmean = n->hrstd = n->logits = NULL;
    n->s_rc = n->s_rc2 = n->s_rd = n->s_cols = n->s_wg = NULL;
    n->B = n->S = 0;
}

void core_pt_net_free(core_pt_net *n)
{
    if (!n) return;
    free_acts(n);
    for (int s = 0; s < 4; s++) { free(n->P.blk[s]); free(n->G.blk[s]); }
    free(n->params); free(n->grads); free(n->m); free(n->v); free(n->tab);
    free(n);
}

#define FA(k) ((float *)xmalloc((size_t)(k) * sizeof(float)))

static void alloc_acts(core_pt_net *n, int B, int S)
{
    if (n->B == B && n->S == S) return;
    free_acts(n);
    n->B = B;
    n->S = S;
    const core_convnext_arch *a = &n->a;
    int H = S / 4, W = S / 4;
    size_t R0 = (size_t)B * H * W, maxrc = 0, maxrd = 0, maxcols = R0 * 48;
    n->cols0 = FA(R0 * 48);
    n->pre0 = FA(R0 * a->dims[0]);
    n->mean0 = FA(R0);
    n->rstd0 = FA(R0);
    for (int s = 0; s < a->nstages; s++) {
        astage *A = &n->st[s];
        int C = a->dims[s], cin = s ? a->dims[s - 1] : C;
        if (s) {
            size_t Rp = (size_t)B * H * W;
            A->ds_lno = FA(Rp * cin);
            A->ds_mean = FA(Rp);
            A->ds_rstd = FA(Rp);
            H /= 2;
            W /= 2;
            maxcols = maxcols > (size_t)B * H * W * 4 * cin ? maxcols : (size_t)B * H * W * 4 * cin;
        }
        A->H = H;
        A->W = W;
        A->R = B * H * W;
        size_t R = (size_t)A->R;
        A->x = xcalloc((size_t)a->depths[s] + 1, sizeof *A->x);
        for (int b = 0; b <= a->depths[s]; b++) A->x[b] = FA(R * C);
        A->b = xcalloc((size_t)a->depths[s], sizeof *A->b);
        for (int b = 0; b < a->depths[s]; b++) {
            ablock *K = &A->b[b];
            K->dwo = FA(R * C); K->lno = FA(R * C); K->mean = FA(R); K->rstd = FA(R);
            K->h1 = FA(R * 4 * C); K->h2 = FA(R * 4 * C); K->u = FA(R * C);
        }
        A->dx = FA(R * C);
        if (R * C > maxrc) maxrc = R * C;
        if (R * 4 * C > maxrd) maxrd = R * 4 * C;
    }
    int cl = a->dims[a->nstages - 1];
    n->pooled = FA((size_t)B * cl);
    n->hn = FA((size_t)B * cl);
    n->hmean = FA(B);
    n->hrstd = FA(B);
    n->logits = FA((size_t)B * n->n_out);
    if (R0 * a->dims[0] > maxrc) maxrc = R0 * a->dims[0];
    n->s_rc = FA(maxrc);
    n->s_rc2 = FA(maxrc);
    n->s_rd = FA(maxrd);
    n->s_cols = FA(maxcols);
    size_t maxw = 0;
    for (int i = 0; i < n->ntab; i++) maxw = n->tab[i].n > maxw ? n->tab[i].n : maxw;
    n->s_wg = FA(GEMM_PIECES * maxw);
}

/* ------------------------------------------------------------ threads
 * DESIGN: a call's thread budget T is the BLAS thread count its caller set
 * (core_pt_run sets it to --threads; tests and tools/bench set it
 * themselves).  For the length of the call OpenBLAS runs on one thread and
 * the work is shared here instead, because OpenBLAS's threaded GEMM does
 * not compute an element the way its one-thread GEMM does (OpenBLAS 0.3.21
 * on a Zen CPU: most elements of most GEMMs below differ in their last bits
 * between 1 and 2 threads, even where K = 16).  So:
 *  - a GEMM is cut into pieces by its shape alone, never by T; each piece
 *    is one single-threaded sgemm call and a thread takes whole pieces, so
 *    a number is computed by the same calls on 1 or T threads.  Outputs
 *    with many rows (activations and their gradients) are cut by rows; a
 *    weight gradient (few outputs, a long reduction over the batch's
 *    pixels) is cut along the reduction into partial sums, added in piece
 *    order.
 *  - element-wise loops (GELU, AdamW) and per-image loops (depthwise
 *    convolution) are cut by T: every item is computed alone, so any cut
 *    gives the same numbers.
 * A thread writes only its own pieces of the outputs and reads inputs that
 * no thread writes during the call: nothing is locked.  Threads are created
 * per call: tens of microseconds against the milliseconds of work. */

/* Items [0, n) shared among T threads, item i on thread i % T: fn(ctx, i). */
typedef struct { void (*fn)(void *, int); void *ctx; int n, t, T; } crew;

static void *crew_run(void *p)
{
    const crew *c = p;
    for (int i = c->t; i < c->n; i += c->T) c->fn(c->ctx, i);
    return NULL;
}

static void par_for(int T, int n, void (*fn)(void *, int), void *ctx)
{
    pthread_t tid[PT_MAX_THREADS];
    crew c[PT_MAX_THREADS];
    int started[PT_MAX_THREADS] = {0};
    T = T > n ? n : T > PT_MAX_THREADS ? PT_MAX_THREADS : T;
    if (T < 1) T = 1;
    for (int t = 0; t < T; t++) {
        c[t] = (crew){fn, ctx, n, t, T};
        started[t] = t > 0 && pthread_create(&tid[t], NULL, crew_run, &c[t]) == 0;
    }
    crew_run(&c[0]);
    for (int t = 1; t < T; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        else crew_run(&c[t]);     /* it could not start: its items run here */
    }
}

/* The thread budget of a call (the BLAS thread count); OpenBLAS runs on one
 * thread until blas_end(budget) gives it back. */
static int blas_begin(void)
{
    int T = openblas_get_num_threads();
    if (T != 1) openblas_set_num_threads(1);
    return T < 1 ? 1 : T;
}

static void blas_end(int T)
{
    if (T != 1) openblas_set_num_threads(T);
}

/* An element-wise loop fn(ctx, lo, hi) over n items, cut into T ranges
 * (64-aligned) when n >= min. */
typedef struct { void (*fn)(void *, size_t, size_t); void *ctx; size_t n; int parts; } ranges;

static size_t range_at(const ranges *r, int i)
{
    if (i >= r->parts) return r->n;
    size_t at = r->n / (size_t)r->parts * (size_t)i;
    return r->n >= 128 * (size_t)r->parts ? at & ~(size_t)63 : at;
}

static void range_run(void *p, int i)
{
    const ranges *r = p;
    size_t lo = range_at(r, i), hi = range_at(r, i + 1);
    if (lo < hi) r->fn(r->ctx, lo, hi);
}

static void par_ranges(int T, void (*fn)(void *, size_t, size_t), void *ctx, size_t n, size_t min)
{
    if (T < 2 || n < min || n < 2) {
        fn(ctx, 0, n);
        return;
    }
    ranges r = {fn, ctx, n, (size_t)T < n ? T : (int)n};
    par_for(T, r.parts, range_run, &r);
}

/* C (M, N) = A op(B) + beta C, row-major, in row pieces of C chosen by
 * (M, N, K) alone. */
typedef struct {
    CBLAS_TRANSPOSE tb;
    int M, N, K, lda, ldb, pieces;
    const float *A, *B;
    float beta, *C;
} gemm_job;

/* Where piece i of n rows cut into `pieces` starts (n for i = pieces): at a
 * multiple of GEMM_PIECE_ROWS, so the cut depends on the shape alone. */
static int piece_row(int n, int pieces, int i)
{
    if (i >= pieces) return n;
    return (int)((long long)n * i / pieces) / GEMM_PIECE_ROWS * GEMM_PIECE_ROWS;
}

/* How many pieces (a power of two, at most GEMM_PIECES) n rows of `macs`
 * multiply-adds are cut into: each keeps min_rows rows and GEMM_PIECE_MACS. */
static int piece_count(int n, double macs, int min_rows)
{
    int pieces = 1;
    while (pieces < GEMM_PIECES && n / (2 * pieces) >= min_rows && macs / (2 * pieces) >= GEMM_PIECE_MACS)
        pieces *= 2;
    return pieces;
}

static void gemm_piece(void *p, int i)
{
    const gemm_job *g = p;
    int r0 = piece_row(g->M, g->pieces, i), r1 = piece_row(g->M, g->pieces, i + 1);
    if (r1 > r0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, g->tb, r1 - r0, g->N, g->K, 1.0f, g->A + (size_t)r0 * g->lda,
                    g->lda, g->B, g->ldb, g->beta, g->C + (size_t)r0 * g->N, g->N);
}

static void gemm(int T, CBLAS_TRANSPOSE tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C)
{
    gemm_job g = {tb, M, N, K, lda, ldb, piece_count(M, (double)M * N * K, GEMM_PIECE_ROWS), A, B, beta, C};
    par_for(T, g.pieces, gemm_piece, &g);
}

/* dw (O, In) += dout^T (O, R) in (R, In): the reduction over R cut into
 * pieces by (O, In, R) alone, piece i one sgemm into part (i, O, In), the
 * parts then added to dw in piece order. */
typedef struct {
    int O, In, R, pieces;
    const float *dout, *in;
    float *dw, *part;
} wgrad_job;

static void wgrad_piece(void *p, int i)
{
    const wgrad_job *g = p;
    int r0 = piece_row(g->R, g->pieces, i), r1 = piece_row(g->R, g->pieces, i + 1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->O, g->In, r1 - r0, 1.0f, g->dout + (size_t)r0 * g->O,
                g->O, g->in + (size_t)r0 * g->In, g->In, 0.0f, g->part + (size_t)i * g->O * g->In, g->In);
}

static void wgrad_sum(void *p, size_t lo, size_t hi)
{
    const wgrad_job *g = p;
    size_t n = (size_t)g->O * g->In;
    for (size_t j = lo; j < hi; j++) {
        float acc = g->dw[j];
        for (int i = 0; i < g->pieces; i++) acc += g->part[(size_t)i * n + j];
        g->dw[j] = acc;
    }
}

static void wgrad(int T, float *part, float *dw, const float *dout, const float *in, int R, int In, int O)
{
    wgrad_job g = {O, In, R, piece_count(R, (double)O * In * R, WGRAD_PIECE_ROWS), dout, in, dw, part};
    if (g.pieces == 1) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, In, R, 1.0f, dout, O, in, In, 1.0f, dw, In);
        return;
    }
    par_for(T, g.pieces, wgrad_piece, &g);
    par_ranges(T, wgrad_sum, &g, (size_t)O * In, SPLIT_MIN);
}

/* ------------------------------------------------------------ layers */

/* out (R, O) = in (R, I) . w^T + b */
static void matmul_forward(int T, float *out, const float *in, const float *w, const float *b, int R, int In,
                           int O)
{
    for (int r = 0; r < R; r++) memcpy(out + (size_t)r * O, b, (size_t)O * sizeof *out);
    gemm(T, CblasTrans, R, O, In, in, In, w, In, 1.0f, out);
}

/* dw (O, I) += dout^T in; db (O) += colsum dout; din (R, I) = dout w (if din).
 * part: scratch for wgrad. */
static void matmul_backward(int T, float *part, float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, int R, int In, int O)
{
    wgrad(T, part, dw, dout, in, R, In, O);
    for (int r = 0; r < R; r++)
        for (int o = 0; o < O; o++) db[o] += dout[(size_t)r * O + o];
    if (din) gemm(T, CblasNoTrans, R, In, O, dout, O, w, In, 0.0f, din);
}

CORE_HOT static void layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                                  const float *b, int R, int C)
{
    for (int r = 0; r < R; r++) {
        const float *x = in + (size_t)r * C;
        float m = 0, v = 0;
        for (int c = 0; c < C; c++) m += x[c];
        m /= (float)C;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        float s = 1.0f / sqrtf(v / (float)C + LN_EPS);
        for (int c = 0; c < C; c++) out[(size_t)r * C + c] = (x[c] - m) * s * w[c] + b[c];
        mean[r] = m;
        rstd[r] = s;
    }
}

/* din (R, C) = (or +=, when accumulate) the LN input gradient. */
CORE_HOT static void layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                                   const float *mean, const float *rstd, const float *w, int R, int C,
                                   int accumulate)
{
    for (int r = 0; r < R; r++) {
        const float *x = in + (size_t)r * C, *dy = dout + (size_t)r * C;
        float m = mean[r], s = rstd[r], a = 0, bb = 0;
        for (int c = 0; c < C; c++) {
            float xh = (x[c] - m) * s, dxh = dy[c] * w[c];
            a += dxh;
            bb += dxh * xh;
            dw[c] += dy[c] * xh;
            db[c] += dy[c];
        }
        a /= (float)C;
        bb /= (float)C;
        float *dx = din + (size_t)r * C;
        for (int c = 0; c < C; c++) {
            float xh = (x[c] - m) * s, v = s * (dy[c] * w[c] - a - xh * bb);
            dx[c] = accumulate ? dx[c] + v : v;
        }
    }
}

/* Depthwise 7x7, pad 3, per image of (H, W, C); out (B*H*W, C). */
typedef struct { float *out; const float *in, *w, *b; int H, W, C; } dw_ctx;

CORE_HOT static void dwconv_forward_range(void *p, size_t lo, size_t hi)
{
    const dw_ctx *k = p;
    float *out = k->out;
    const float *in = k->in, *w = k->w, *b = k->b;
    int H = k->H, W = k->W, C = k->C;
    for (size_t i = lo; i < hi; i++) {
        const float *x = in + (size_t)i * H * W * C;
        float *y = out + (size_t)i * H * W * C;
        for (int oy = 0; oy < H; oy++)
            for (int ox = 0; ox < W; ox++) {
                float *o = y + ((size_t)oy * W + ox) * C;
                for (int c = 0; c < C; c++) o[c] = b[c];
                for (int ky = 0; ky < 7; ky++) {
                    int iy = oy + ky - 3;
                    if (iy < 0 || iy >= H) continue;
                    for (int kx = 0; kx < 7; kx++) {
                        int ix = ox + kx - 3;
                        if (ix < 0 || ix >= W) continue;
                        const float *ip = x + ((size_t)iy * W + ix) * C, *wp = w + (ky * 7 + kx) * C;
                        for (int c = 0; c < C; c++) o[c] += ip[c] * wp[c];
                    }
                }
            }
    }
}

static void dwconv_forward(int T, float *out, const float *in, const float *w, const float *b, int B, int H, int W,
                           int C)
{
    dw_ctx k = {out, in, w, b, H, W, C};
    par_ranges(T, dwconv_forward_range, &k, (size_t)B, 2);
}

/* dw += sum dout * in (shifted); db += sum dout; din += dout conv^T w. */
typedef struct {
    float *din, *dw, *db;
    const float *dout, *in, *w;
    int B, H, W, C;
} dwb_ctx;

/* Pass 0 accumulates dw and db, pass 1 din, each in the order of the plain
 * loop over (image, y, x, ky, kx): two independent passes, so they run side
 * by side (par_ranges) and give the same numbers as one thread. */
CORE_HOT static void dwconv_backward_pass(void *p, size_t lo, size_t hi)
{
    const dwb_ctx *k = p;
    int B = k->B, H = k->H, W = k->W, C = k->C;
    for (size_t pass = lo; pass < hi; pass++)
        for (int i = 0; i < B; i++) {
            const float *x = k->in + (size_t)i * H * W * C, *dy = k->dout + (size_t)i * H * W * C;
            float *dx = k->din + (size_t)i * H * W * C;
            for (int oy = 0; oy < H; oy++)
                for (int ox = 0; ox < W; ox++) {
                    const float *g = dy + ((size_t)oy * W + ox) * C;
                    if (pass == 0) for (int c = 0; c < C; c++) k->db[c] += g[c];
                    for (int ky = 0; ky < 7; ky++) {
                        int iy = oy + ky - 3;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < 7; kx++) {
                            int ix = ox + kx - 3;
                            if (ix < 0 || ix >= W) continue;
                            size_t at = ((size_t)iy * W + ix) * C;
                            if (pass == 0) {
                                const float *ip = x + at;
                                float *dwp = k->dw + (ky * 7 + kx) * C;
                                for (int c = 0; c < C; c++) dwp[c] += g[c] * ip[c];
                            } else {
                                const float *wp = k->w + (ky * 7 + kx) * C;
                                float *dip = dx + at;
                                for (int c = 0; c < C; c++) dip[c] += g[c] * wp[c];
                            }
                        }
                    }
                }
        }
}

static void dwconv_backward(int T, float *din, float *dw, float *db, const float *dout, const float *in,
                            const float *w, int B, int H, int W, int C)
{
    dwb_ctx k = {din, dw, db, dout, in, w, B, H, W, C};
    par_ranges(T, dwconv_backward_pass, &k, 2, 2);
}

typedef struct { float *out; const float *in; } gelu_ctx;

CORE_HOT static void gelu_forward_range(void *p, size_t lo, size_t hi)
{
    const gelu_ctx *c = p;
    float *out = c->out;
    const float *in = c->in;
    for (size_t i = lo; i < hi; i++) out[i] = 0.5f * in[i] * (1.0f + core_erf_fast(in[i] * (float)M_SQRT1_2));
}

/* d *= gelu'(x) = Phi(x) + x phi(x), on [lo, hi), in chunks: first exp(-x^2
 * / 2) of the chunk through the 8-lane core_vexp (a short last group padded,
 * so every element takes the same path wherever a thread's range ends;
 * a libm expf would also keep the loop from vectorising), then a plain loop
 * that vectorises. */
CORE_HOT static void gelu_backward_range(void *p, size_t lo, size_t hi)
{
    const gelu_ctx *c = p;
    float *restrict d = c->out;
    const float *restrict x = c->in;
    float e[256];
    for (size_t i0 = lo; i0 < hi; i0 += 256) {
        size_t n = hi - i0 < 256 ? hi - i0 : 256;
        for (size_t j = 0; j < n; j += 8) {
            float v[8] = {0};
            memcpy(v, x + i0 + j, (n - j < 8 ? n - j : 8) * sizeof *v);
            core_v8f vv;
            memcpy(&vv, v, sizeof vv);
            vv = core_vexp(-0.5f * vv * vv);
            memcpy(e + j, &vv, sizeof vv);
        }
        for (size_t j = 0; j < n; j++) {
            float v = x[i0 + j];
            float cdf = 0.5f * (1.0f + core_erf_fast(v * (float)M_SQRT1_2));
            d[i0 + j] *= cdf + v * (e[j] * 0.3989422804014327f);
        }
    }
}

static void gelu_forward(int T, float *out, const float *in, size_t n)
{
    gelu_ctx c = {out, in};
    par_ranges(T, gelu_forward_range, &c, n, SPLIT_MIN);
}

/* d (n) *= gelu'(x) */
static void gelu_backward(int T, float *d, const float *x, size_t n)
{
    gelu_ctx c = {d, x};
    par_ranges(T, gelu_backward_range, &c, n, SPLIT_MIN);
}


/* Non-overlapping K x K patches of (B, H, W, C) into (B*Ho*Wo, K*K*C), and back. */
static void patchify(float *cols, const float *in, int B, int H, int W, int C, int K)
{
    int Ho = H / K, Wo = W / K;
    for (int i = 0; i < B; i++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                float *r = cols + (((size_t)i * Ho + oy) * Wo + ox) * K * K * C;
                for (int ky = 0; ky < K; ky++)
                    memcpy(r + (size_t)ky * K * C, in + (((size_t)i * H + oy * K + ky) * W + ox * K) * C,
                           (size_t)K * C * sizeof *r);
            }
}

static void unpatchify(float *din, const float *dcols, int B, int H, int W, int C, int K)
{
    memset(din, 0, (size_t)B * H * W * C * sizeof *din);    /* rows/cols cut off by the floor get 0 */
    int Ho = H / K, Wo = W / K;
    for (int i = 0; i < B; i++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                const float *r = dcols + (((size_t)i * Ho + oy) * Wo + ox) * K * K * C;
                for (int ky = 0; ky < K; ky++)
                    memcpy(din + (((size_t)i * H + oy * K + ky) * W + ox * K) * C, r + (size_t)ky * K * C,
                           (size_t)K * C * sizeof *r);
            }
}

/* ------------------------------------------------------------ network */

/* core_pt_net_forward on T threads, OpenBLAS on one */
static int net_forward(core_pt_net *n, int T, const float *x, int B, int S, float *logits, float *feat)
{
    if (S < 32 || B < 1) return -1;
    alloc_acts(n, B, S);
    const core_convnext_arch *a = &n->a;
    const pset *p = &n->P;
    int H = S / 4, W = S / 4, C0 = a->dims[0];
    patchify(n->cols0, x, B, S, S, 3, 4);
    matmul_forward(T, n->pre0, n->cols0, p->stem_w, p->stem_b, B * H * W, 48, C0);
    layernorm_forward(n->st[0].x[0], n->mean0, n->rstd0, n->pre0, p->stem_ln_w, p->stem_ln_b, B * H * W, C0);
    for (int s = 0; s < a->nstages; s++) {
        astage *A = &n->st[s];
        int C = a->dims[s], D = 4 * C;
        if (s) {
            astage *Pv = &n->st[s - 1];
            int cin = a->dims[s - 1];
            layernorm_forward(A->ds_lno, A->ds_mean, A->ds_rstd, Pv->x[a->depths[s - 1]], p->ds_ln_w[s],
                              p->ds_ln_b[s], Pv->R, cin);
            patchify(n->s_cols, A->ds_lno, B, Pv->H, Pv->W, cin, 2);
            matmul_forward(T, A->x[0], n->s_cols, p->ds_w[s], p->ds_b[s], A->R, 4 * cin, C);
        }
        for (int b = 0; b < a->depths[s]; b++) {
            ablock *K = &A->b[b];
            const pblock *Q = &p->blk[s][b];
            dwconv_forward(T, K->dwo, A->x[b], Q->dw_w, Q->dw_b, B, A->H, A->W, C);
            layernorm_forward(K->lno, K->mean, K->rstd, K->dwo, Q->ln_w, Q->ln_b, A->R, C);
            matmul_forward(T, K->h1, K->lno, Q->fc1_w, Q->fc1_b, A->R, C, D);
            gelu_forward(T, K->h2, K->h1, (size_t)A->R * D);
            matmul_forward(T, K->u, K->h2, Q->fc2_w, Q->fc2_b, A->R, D, C);
            const float *xi = A->x[b];
            float *xo = A->x[b + 1];
            for (size_t r = 0; r < (size_t)A->R; r++)
                for (int c = 0; c < C; c++) xo[r * C + c] = xi[r * C + c] + Q->gamma[c] * K->u[r * C + c];
        }
    }
    astage *L = &n->st[a->nstages - 1];
    int CL = a->dims[a->nstages - 1], Pl = L->H * L->W;
    const float *xl = L->x[a->depths[a->nstages - 1]];
    for (int i = 0; i < B; i++)
        for (int c = 0; c < CL; c++) {
            float acc = 0;
            for (int q = 0; q < Pl; q++) acc += xl[((size_t)i * Pl + q) * CL + c];
            n->pooled[(size_t)i * CL + c] = acc / (float)Pl;
        }
    layernorm_forward(n->hn, n->hmean, n->hrstd, n->pooled, p->head_ln_w, p->head_ln_b, B, CL);
    matmul_forward(T, n->logits, n->hn, p->head_w, p->head_b, B, CL, n->n_out);
    if (logits) memcpy(logits, n->logits, (size_t)B * n->n_out * sizeof *logits);
    if (feat) memcpy(feat, n->hn, (size_t)B * CL * sizeof *feat);
    return 0;
}

int core_pt_net_forward(core_pt_net *n, const float *x, int B, int S, float *logits, float *feat)
{
    int T = blas_begin(), rc = net_forward(n, T, x, B, S, logits, feat);
    blas_end(T);
    return rc;
}

/* Per question: softmax of its logits; loss -sum f log softmax. dlogits
 * (if not NULL) = (w_q softmax - f) / B. */
static float loss_and_grad(const core_pt_questions *qs, const float *logits, const float *f, int B,
                           float *dlogits)
{
    double loss = 0;
    int NO = qs->n_out;
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * NO, *t = f + (size_t)i * NO;
        for (int q = 0; q < qs->n_q; q++) {
            int s0 = qs->start[q], k = qs->len[q];
            float mx = z[s0], w = 0;
            for (int j = 1; j < k; j++) mx = z[s0 + j] > mx ? z[s0 + j] : mx;
            double sum = 0;
            for (int j = 0; j < k; j++) sum += exp((double)z[s0 + j] - mx);
            double lse = mx + log(sum);
            for (int j = 0; j < k; j++) {
                w += t[s0 + j];
                loss -= t[s0 + j] * ((double)z[s0 + j] - lse);
            }
            if (dlogits)
                for (int j = 0; j < k; j++)
                    dlogits[(size_t)i * NO + s0 + j] =
                        (float)((w * exp((double)z[s0 + j] - lse) - t[s0 + j]) / B);
        }
    }
    return (float)(loss / B);
}

float core_pt_loss(const core_pt_questions *q, const float *logits, const float *f, int B)
{
    return loss_and_grad(q, logits, f, B, NULL);
}

float core_pt_loss_grad(const core_pt_questions *q, const float *logits, const float *f, int B, float *dlogits)
{
    return loss_and_grad(q, logits, f, B, dlogits);
}

/* core_pt_net_backward on T threads, OpenBLAS on one: the last forward's
 * activations, gradients from dlogits and/or dfeat down to first_train */
static void net_backward(core_pt_net *n, int T, const float *dlogits, const float *dfeat)
{
    const core_convnext_arch *a = &n->a;
    const pset *p = &n->P;
    pset *g = &n->G;
    memset(n->grads, 0, n->np * sizeof(float));
    int B = n->B, NO = n->n_out, CL = a->dims[a->nstages - 1];
    /* head */
    float *dhn = n->s_rc, *dpool = n->s_rc2;
    if (dlogits) matmul_backward(T, n->s_wg, dhn, g->head_w, g->head_b, dlogits, n->hn, p->head_w, B, CL, NO);
    else memset(dhn, 0, (size_t)B * CL * sizeof *dhn);
    if (dfeat)
        for (size_t i = 0; i < (size_t)B * CL; i++) dhn[i] += dfeat[i];
    layernorm_backward(dpool, g->head_ln_w, g->head_ln_b, dhn, n->pooled, n->hmean, n->hrstd, p->head_ln_w,
                       B, CL, 0);
    if (n->first_train >= a->nstages) return;
    astage *L = &n->st[a->nstages - 1];
    int Pl = L->H * L->W;
    for (int i = 0; i < B; i++)
        for (int q = 0; q < Pl; q++)
            for (int c = 0; c < CL; c++)
                L->dx[((size_t)i * Pl + q) * CL + c] = dpool[(size_t)i * CL + c] / (float)Pl;
    for (int s = a->nstages - 1; s >= n->first_train; s--) {
        astage *A = &n->st[s];
        int C = a->dims[s], D = 4 * C;
        size_t R = (size_t)A->R;
        for (int b = a->depths[s] - 1; b >= 0; b--) {
            ablock *K = &A->b[b];
            const pblock *Q = &p->blk[s][b];
            pblock *QG = &g->blk[s][b];
            float *dx = A->dx, *du = n->s_rc, *dt = n->s_rc2, *dh = n->s_rd;
            /* x_out = x_in + gamma * u: dx stays (residual), du = dx * gamma */
            for (size_t r = 0; r < R; r++)
                for (int c = 0; c < C; c++) {
                    QG->gamma[c] += dx[r * C + c] * K->u[r * C + c];
                    du[r * C + c] = dx[r * C + c] * Q->gamma[c];
                }
            matmul_backward(T, n->s_wg, dh, QG->fc2_w, QG->fc2_b, du, K->h2, Q->fc2_w, (int)R, D, C);
            gelu_backward(T, dh, K->h1, R * D);
            matmul_backward(T, n->s_wg, dt, QG->fc1_w, QG->fc1_b, dh, K->lno, Q->fc1_w, (int)R, C, D);
            /* LN backward into du (reused): gradient at the depthwise output */
            layernorm_backward(du, QG->ln_w, QG->ln_b, dt, K->dwo, K->mean, K->rstd, Q->ln_w, (int)R, C, 0);
            dwconv_backward(T, dx, QG->dw_w, QG->dw_b, du, A->x[b], Q->dw_w, n->B, A->H, A->W, C);
        }
        if (s) {
            astage *Pv = &n->st[s - 1];
            int cin = a->dims[s - 1];
            patchify(n->s_cols, A->ds_lno, n->B, Pv->H, Pv->W, cin, 2);
            float *dcols = xmalloc(R * 4 * cin * sizeof *dcols);
            matmul_backward(T, n->s_wg, dcols, g->ds_w[s], g->ds_b[s], A->dx, n->s_cols, p->ds_w[s], (int)R,
                            4 * cin, C);
            float *dln = n->s_rc2;
            unpatchify(dln, dcols, n->B, Pv->H, Pv->W, cin, 2);
            free(dcols);
            layernorm_backward(Pv->dx, g->ds_ln_w[s], g->ds_ln_b[s], dln, Pv->x[a->depths[s - 1]], A->ds_mean,
                               A->ds_rstd, p->ds_ln_w[s], Pv->R, cin, 0);
        }
    }
    if (n->first_train > 0) return;
    /* stem */
    astage *F = &n->st[0];
    float *dpre = n->s_rc;
    layernorm_backward(dpre, g->stem_ln_w, g->stem_ln_b, F->dx, n->pre0, n->mean0, n->rstd0, p->stem_ln_w,
                       F->R, a->dims[0], 0);
    matmul_backward(T, n->s_wg, NULL, g->stem_w, g->stem_b, dpre, n->cols0, p->stem_w, F->R, 48, a->dims[0]);
}

/* core_pt_net_grad on T threads, OpenBLAS on one */
static float net_grad(core_pt_net *n, int T, const core_pt_questions *qs, const float *x, int B, int S,
                      const float *f)
{
    if (net_forward(n, T, x, B, S, NULL, NULL)) return NAN;
    float *dlogits = xmalloc((size_t)B * n->n_out * sizeof *dlogits);
    float loss = loss_and_grad(qs, n->logits, f, B, dlogits);
    net_backward(n, T, dlogits, NULL);
    free(dlogits);
    return loss;
}

float core_pt_net_grad(core_pt_net *n, const core_pt_questions *qs, const float *x, int B, int S, const float *f)
{
    int T = blas_begin();
    float loss = net_grad(n, T, qs, x, B, S, f);
    blas_end(T);
    return loss;
}

int core_pt_net_backward(core_pt_net *n, const float *dlogits, const float *dfeat)
{
    if (!n->B) return -1;
    int T = blas_begin();
    net_backward(n, T, dlogits, dfeat);
    blas_end(T);
    return 0;
}

static int trainable(const core_pt_net *n, const pentry *e)
{
    return !n->first_train || e->stage >= n->first_train;
}

size_t core_pt_net_set_trainable(core_pt_net *n, int first_stage)
{
    if (first_stage < 0) first_stage = 0;
    if (first_stage > n->a.nstages) first_stage = n->a.nstages;
    n->first_train = first_stage;
    size_t cnt = 0;
    for (int i = 0; i < n->ntab; i++)
        if (trainable(n, &n->tab[i])) cnt += n->tab[i].n;
    return cnt;
}

int core_pt_net_n_out(const core_pt_net *n) { return n->n_out; }
int core_pt_net_dim(const core_pt_net *n) { return n->a.dims[n->a.nstages - 1]; }

CORE_HOT static void adamw_range(float *restrict p, const float *restrict gr, float *restrict m, float *restrict v,
                                 size_t n, float lr, float wd, float b1c, float b2c)
{
    for (size_t i = 0; i < n; i++) {
        m[i] = 0.9f * m[i] + 0.1f * gr[i];
        v[i] = 0.999f * v[i] + 0.001f * gr[i] * gr[i];
        float mh = m[i] / b1c, vh = v[i] / b2c;
        p[i] -= lr * (mh / (sqrtf(vh) + 1e-8f) + wd * p[i]);
    }
}

typedef struct { core_pt_net *n; float lr, wd, b1c, b2c; } adamw_ctx;

/* The AdamW step of the parameters at flat offsets [lo, hi), tensor by tensor
 * (weight decay only on those that take it). */
static void adamw_span(void *p, size_t lo, size_t hi)
{
    const adamw_ctx *c = p;
    core_pt_net *n = c->n;
    for (int i = 0; i < n->ntab; i++) {
        const pentry *e = &n->tab[i];
        size_t a = e->off > lo ? e->off : lo, b = e->off + e->n < hi ? e->off + e->n : hi;
        if (a >= b || !trainable(n, e)) continue;
        adamw_range(n->params + a, n->grads + a, n->m + a, n->v + a, b - a, c->lr, e->decay ? c->wd : 0.0f,
                    c->b1c, c->b2c);
    }
}

void core_pt_net_adamw(core_pt_net *n, float lr, float wd, int t)
{
    adamw_ctx c = {n, lr, wd, 1.0f - powf(0.9f, (float)t), 1.0f - powf(0.999f, (float)t)};
    par_ranges(openblas_get_num_threads(), adamw_span, &c, n->np, SPLIT_MIN);
}

float *core_pt_net_params(core_pt_net *n, size_t *count) { *count = n->np; return n->params; }
float *core_pt_net_grads(core_pt_net *n, size_t *count) { *count = n->np; return n->grads; }

/* One tensor from the internal layout to timm's (dst, e->n floats). */
static void to_timm(const pentry *e, const float *src, float *dst)
{
    if (e->reorder == RE_PATCH) {           /* (O, K, K, I) -> (O, I, K, K) */
        int64_t O = e->shape[0], In = e->shape[1], K = e->shape[2];
        for (int64_t a = 0; a < O; a++)
            for (int64_t c = 0; c < In; c++)
                for (int64_t ky = 0; ky < K; ky++)
                    for (int64_t kx = 0; kx < K; kx++)
                        dst[((a * In + c) * K + ky) * K + kx] = src[((a * K + ky) * K + kx) * In + c];
    } else if (e->reorder == RE_DW) {       /* (K, K, C) -> (C, 1, K, K) */
        int64_t C = e->shape[0], K = e->shape[2];
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < K * K; k++) dst[c * K * K + k] = src[k * C + c];
    } else memcpy(dst, src, e->n * sizeof *dst);
}

static void from_timm(const pentry *e, const float *src, float *dst)
{
    if (e->reorder == RE_PATCH) {
        int64_t O = e->shape[0], In = e->shape[1], K = e->shape[2];
        for (int64_t a = 0; a < O; a++)
            for (int64_t c = 0; c < In; c++)
                for (int64_t ky = 0; ky < K; ky++)
                    for (int64_t kx = 0; kx < K; kx++)
                        dst[((a * K + ky) * K + kx) * In + c] = src[((a * In + c) * K + ky) * K + kx];
    } else if (e->reorder == RE_DW) {
        int64_t C = e->shape[0], K = e->shape[2];
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < K * K; k++) dst[k * C + c] = src[c * K * K + k];
    } else memcpy(dst, src, e->n * sizeof *dst);
}

static const pentry *find_entry(const core_pt_net *n, const char *name)
{
    for (int i = 0; i < n->ntab; i++)
        if (!strcmp(n->tab[i].name, name)) return &n->tab[i];
    return NULL;
}

int core_pt_net_get(const core_pt_net *n, const char *name, int grad, float *out, size_t *numel)
{
    const pentry *e = find_entry(n, name);
    if (!e) return -1;
    if (numel) *numel = e->n;
    if (out) to_timm(e, (grad ? n->grads : n->params) + e->off, out);
    return 0;
}

static int net_load(core_pt_net *n, const char *path, int with_fc, char *err, size_t errlen)
{
    core_safetensors *st;
    char e2[256];
    if (core_safetensors_open(&st, path, e2, sizeof e2)) {
        snprintf(err, errlen, "%s: %s", path, e2);
        return -1;
    }
    int rc = -1;
    float *tmp = NULL;
    for (int i = 0; i < n->ntab; i++) {
        const pentry *e = &n->tab[i];
        if (!with_fc && !strncmp(e->name, "head.fc.", 8)) continue;
        const core_st_tensor *t = core_safetensors_find(st, e->name);
        if (!t) {
            snprintf(err, errlen, "%s: tensor \"%s\" is missing", path, e->name);
            goto end;
        }
        /* shape: timm's, or (O, I) for a (O, I, 1, 1) 1x1 conv (conv_mlp=False) */
        int ok = t->numel == (int64_t)e->n && (t->ndim == e->ndim || (e->ndim == 4 && t->ndim == 2));
        for (int d = 0; ok && d < t->ndim; d++) ok = t->shape[d] == e->shape[d];
        if (!ok) {
            snprintf(err, errlen, "%s: tensor \"%s\" has the wrong shape for this architecture", path, e->name);
            goto end;
        }
        tmp = xrealloc(tmp, e->n * sizeof *tmp);
        if (core_safetensors_read_f32(t, tmp, e2, sizeof e2)) {
            snprintf(err, errlen, "%s: %s", path, e2);
            goto end;
        }
        from_timm(e, tmp, n->params + e->off);
    }
    memset(n->m, 0, n->np * sizeof(float));
    memset(n->v, 0, n->np * sizeof(float));
    rc = 0;
end:
    free(tmp);
    core_safetensors_close(st);
    return rc;
}

int core_pt_net_load(core_pt_net *n, const char *path, char *err, size_t errlen)
{
    return net_load(n, path, 1, err, errlen);
}

int core_pt_net_load_encoder(core_pt_net *n, const char *path, char *err, size_t errlen)
{
    return net_load(n, path, 0, err, errlen);
}

int core_pt_net_save(const core_pt_net *n, const char *path, const char *const *metadata, char *err, size_t errlen)
{
    core_st_out *o = xcalloc((size_t)n->ntab, sizeof *o);
    float *buf = xmalloc(n->np * sizeof *buf);
    for (int i = 0; i < n->ntab; i++) {
        const pentry *e = &n->tab[i];
        to_timm(e, n->params + e->off, buf + e->off);
        o[i].name = e->name;
        o[i].ndim = e->ndim;
        memcpy(o[i].shape, e->shape, sizeof e->shape);
        o[i].data = buf + e->off;
    }
    int rc = core_safetensors_write(path, o, n->ntab, metadata, err, errlen);
    free(buf);
    free(o);
    return rc;
}

