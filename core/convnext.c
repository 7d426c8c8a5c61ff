/*
 * convnext.c - timm's ConvNeXt (as Zoobot's encoders use it) forward pass in
 * C: loading from safetensors, a fast path (OpenBLAS GEMMs, vectorised
 * depthwise convolution / LayerNorm / GELU, images shared among threads) and,
 * next to each fast kernel, the naive reference loop it is tested against.
 *
 * What is matched, from timm/models/convnext.py (huggingface/pytorch-image-models):
 *  - stem = Sequential(Conv2d(3, dims[0], k=4, s=4, bias), LayerNorm2d) for
 *    stem_type 'patch'; LayerNorm2d eps 1e-6 (timm.layers.LayerNorm2d default,
 *    norm_eps None in ConvNeXt.__init__).
 *  - ConvNeXtStage: downsample = Sequential(LayerNorm2d(in), Conv2d(in, out,
 *    k=2, s=2, bias)) for stages 1..3; stage 0 has none (stride 1).
 *  - ConvNeXtBlock.forward with conv_mlp=True: conv_dw (7x7 depthwise, pad 3,
 *    bias) -> norm (LayerNorm2d) -> mlp (Mlp use_conv: fc1 1x1 conv, GELU,
 *    fc2 1x1 conv) -> x.mul(gamma) -> + shortcut.  With conv_mlp=False the
 *    same maths runs channels-last with nn.Linear, so fc weights may be
 *    (out, in) or (out, in, 1, 1); both are accepted.
 *  - head = NormMlpClassifierHead: global avg pool -> norm (head.norm) ->
 *    flatten -> pre_logits (Identity without head_hidden_size) -> fc
 *    (Identity for num_classes=0, as Zoobot's encoder is created).
 *  - GELU: nn.GELU() default approximate='none', 0.5 x (1 + erf(x / sqrt 2)).
 *  - Input: galaxy_datasets' GalaxyViewTransform returns "a channel-first
 *    float32 tensor in the range (0, 1)" (ToDtype scale, no Normalize unless a
 *    finetuning config asks for timm's mean/std), resized to 224.
 *
 * Legend: n images, H W spatial size, P = H*W pixels, C channels, D hidden
 * width (mlp_ratio * C), O output channels, K patch size.
 */
#include "core/convnext.h"
#include "core/fastmath.h"
#include "core/safetensors.h"
#include "core/util.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LN_EPS 1e-6f

/* Rows of a block's hidden layer computed at once: (R, D) floats, about
 * L2-sized (tuned on convnext_nano at 224 px; env ZOOSH_CNX_CHUNK). */
static size_t chunk_floats = 1u << 18;


/* ---------------------------------------------------------------- model */

typedef struct {
    float *dw_w;    /* (7, 7, C) from timm's (C, 1, 7, 7) */
    float *dw_b;    /* (C) */
    float *ln_w;    /* (C) */
    float *ln_b;    /* (C) */
    float *fc1_w;   /* (D, C) */
    float *fc1_b;   /* (D) */
    float *fc2_w;   /* (C, D) */
    float *fc2_b;   /* (C) */
    float *gamma;   /* (C) */
} block_t;

typedef struct {
    int c_in, c, d, depth;
    float *ds_ln_w; /* (c_in), NULL for stage 0 */
    float *ds_ln_b; /* (c_in) */
    float *ds_w;    /* (C, 2, 2, c_in) from timm's (C, c_in, 2, 2) */
    float *ds_b;    /* (C) */
    block_t *blocks;/* (depth) */
} stage_t;

struct core_convnext {
    core_convnext_arch arch;
    float *params;  /* every parameter, one allocation */
    size_t nparams;
    float *stem_w;  /* (C0, 4, 4, 3) from timm's (C0, 3, 4, 4) */
    float *stem_b;  /* (C0) */
    float *stem_ln_w, *stem_ln_b;   /* (C0) */
    stage_t st[CORE_CONVNEXT_MAX_STAGES];
    float *head_ln_w, *head_ln_b;   /* (C_last) */
    int threads;
    int input_size;  /* from metadata, 0 = unknown */
    float crop;      /* centre-crop fraction applied by embed */
    int views;       /* embed: views of the dihedral group averaged (1, 2, 4 or 8) */
    /* the vote head of a zoosh pretrain file (head.fc + metadata "answers") */
    int n_ans;                  /* answers, 0: none */
    float *fc_w, *fc_b;         /* (n_ans, C_last), (n_ans) */
    char **ans;                 /* (n_ans) names, "Class8.1" */
    int n_q, q_start[CORE_CONVNEXT_MAX_ANSWERS], q_len[CORE_CONVNEXT_MAX_ANSWERS];
};

static const core_convnext_arch ARCHS[] = {
    {"convnext_atto",  4, {2, 2, 6, 2},  {40, 80, 160, 320},   4},
    {"convnext_femto", 4, {2, 2, 6, 2},  {48, 96, 192, 384},   4},
    {"convnext_pico",  4, {2, 2, 6, 2},  {64, 128, 256, 512},  4},
    {"convnext_nano",  4, {2, 2, 8, 2},  {80, 160, 320, 640},  4},
    {"convnext_tiny",  4, {3, 3, 9, 3},  {96, 192, 384, 768},  4},
    {"convnext_small", 4, {3, 3, 27, 3}, {96, 192, 384, 768},  4},
    {"convnext_base",  4, {3, 3, 27, 3}, {128, 256, 512, 1024}, 4},
};

int core_convnext_arch_lookup(const char *name, core_convnext_arch *out)
{
    if (!name) return -1;
    for (size_t i = 0; i < sizeof ARCHS / sizeof *ARCHS; i++)
        if (!strcmp(name, ARCHS[i].name) || !strcmp(name, ARCHS[i].name + 9)) {
            *out = ARCHS[i];
            return 0;
        }
    return -1;
}

int core_convnext_dim(const core_convnext *m) { return m->arch.dims[m->arch.nstages - 1]; }
const core_convnext_arch *core_convnext_arch_of(const core_convnext *m) { return &m->arch; }
size_t core_convnext_nparams(const core_convnext *m) { return m->nparams; }

int core_convnext_input_size(const core_convnext *m) { return m->input_size; }
float core_convnext_crop(const core_convnext *m) { return m->crop; }
void core_convnext_set_crop(core_convnext *m, float crop) { m->crop = crop > 0.05f && crop <= 1.0f ? crop : 1.0f; }

int core_convnext_views(const core_convnext *m) { return m->views; }
void core_convnext_set_views(core_convnext *m, int views)
{
    m->views = views >= 8 ? 8 : views >= 4 ? 4 : views >= 2 ? 2 : 1;
}

void core_convnext_set_threads(core_convnext *m, int threads)
{
    m->threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
}

void core_convnext_free(core_convnext *m)
{
    if (!m) return;
    for (int s = 0; s < CORE_CONVNEXT_MAX_STAGES; s++) free(m->st[s].blocks);
    for (int a = 0; a < m->n_ans; a++) free(m->ans[a]);
    free(m->ans);
    free(m->fc_w);
    free(m->fc_b);
    free(m->params);
    free(m);
}

/* ---------------------------------------------------------------- loading */

enum { RE_NONE, RE_PATCH /* (O, I, K, K) -> (O, K, K, I) */, RE_DW /* (C, 1, K, K) -> (K, K, C) */ };

typedef struct {
    const core_safetensors *st;
    float *params;          /* NULL in the sizing pass */
    size_t used;
    char *err;
    size_t errlen;
    int failed;
    unsigned char *seen;    /* (ntensors) which file tensors were taken */
} loader;

/* Take tensor `name` of the given shape (shape2: an accepted alternative,
 * e.g. (O, I) for (O, I, 1, 1)).  Returns its slot in params. */
static float *take(loader *L, const char *name, int reorder, int ndim, const int64_t *shape,
                   int ndim2, const int64_t *shape2)
{
    if (L->failed) return NULL;
    const core_st_tensor *t = core_safetensors_find(L->st, name);
    if (!t) {
        snprintf(L->err, L->errlen, "tensor \"%s\" is missing", name);
        L->failed = 1;
        return NULL;
    }
    int ok = t->ndim == ndim, ok2 = shape2 && t->ndim == ndim2;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    for (int i = 0; ok2 && i < ndim2; i++) ok2 = t->shape[i] == shape2[i];
    if (!ok && !ok2) {
        char want[96] = "", got[96] = "";
        size_t a = 0, b = 0;
        for (int i = 0; i < ndim && a < sizeof want - 16; i++)
            a += (size_t)snprintf(want + a, sizeof want - a, "%s%lld", i ? ", " : "", (long long)shape[i]);
        for (int i = 0; i < t->ndim && b < sizeof got - 16; i++)
            b += (size_t)snprintf(got + b, sizeof got - b, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        snprintf(L->err, L->errlen, "tensor \"%s\" has shape (%s), expected (%s)", name, got, want);
        L->failed = 1;
        return NULL;
    }
    if (t->dtype != CORE_ST_F32 && t->dtype != CORE_ST_F16 && t->dtype != CORE_ST_BF16 &&
        t->dtype != CORE_ST_F64) {
        snprintf(L->err, L->errlen, "tensor \"%s\" has dtype %s, expected a float type",
                 name, core_st_dtype_name(t->dtype));
        L->failed = 1;
        return NULL;
    }
    size_t numel = (size_t)t->numel;
    float *slot = L->params ? L->params + L->used : NULL;
    L->used += numel;
    if (!L->params) return NULL;
    for (int i = 0; i < core_safetensors_count(L->st); i++)
        if (core_safetensors_at(L->st, i) == t) L->seen[i] = 1;
    float *tmp = reorder == RE_NONE ? slot : xmalloc(numel * sizeof *tmp);
    if (core_safetensors_read_f32(t, tmp, L->err, L->errlen)) {
        L->failed = 1;
        if (tmp != slot) free(tmp);
        return NULL;
    }
    if (reorder == RE_PATCH) {
        int64_t O = shape[0], In = shape[1], K = shape[2];
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < In; i++)
                for (int64_t ky = 0; ky < K; ky++)
                    for (int64_t kx = 0; kx < K; kx++)
                        slot[((o * K + ky) * K + kx) * In + i] = tmp[((o * In + i) * K + ky) * K + kx];
    } else if (reorder == RE_DW) {
        int64_t C = shape[0], K = shape[2];
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < K * K; k++) slot[k * C + c] = tmp[c * K * K + k];
    }
    if (tmp != slot) free(tmp);
    return slot;
}

#define SHAPE(...) (const int64_t[]){__VA_ARGS__}
#define VEC(L, name, c) take(L, name, RE_NONE, 1, SHAPE(c), 0, NULL)

/* One pass over the architecture: sizes params (L->params NULL) or fills it. */
static void walk(core_convnext *m, loader *L)
{
    const core_convnext_arch *a = &m->arch;
    char nm[128];
    int64_t c0 = a->dims[0];
    m->stem_w = take(L, "stem.0.weight", RE_PATCH, 4, SHAPE(c0, 3, 4, 4), 0, NULL);
    m->stem_b = VEC(L, "stem.0.bias", c0);
    m->stem_ln_w = VEC(L, "stem.1.weight", c0);
    m->stem_ln_b = VEC(L, "stem.1.bias", c0);
    for (int s = 0; s < a->nstages; s++) {
        stage_t *S = &m->st[s];
        int64_t c = a->dims[s], cin = s ? a->dims[s - 1] : a->dims[0], d = (int64_t)a->mlp_ratio * c;
        S->c_in = (int)cin;
        S->c = (int)c;
        S->d = (int)d;
        S->depth = a->depths[s];
        if (s > 0) {
            snprintf(nm, sizeof nm, "stages.%d.downsample.0.weight", s);
            S->ds_ln_w = VEC(L, nm, cin);
            snprintf(nm, sizeof nm, "stages.%d.downsample.0.bias", s);
            S->ds_ln_b = VEC(L, nm, cin);
            snprintf(nm, sizeof nm, "stages.%d.downsample.1.weight", s);
            S->ds_w = take(L, nm, RE_PATCH, 4, SHAPE(c, cin, 2, 2), 0, NULL);
            snprintf(nm, sizeof nm, "stages.%d.downsample.1.bias", s);
            S->ds_b = VEC(L, nm, c);
        }
        if (!S->blocks) S->blocks = xcalloc((size_t)S->depth, sizeof *S->blocks);
        for (int b = 0; b < S->depth; b++) {
            block_t *B = &S->blocks[b];
            char pre[64];
            snprintf(pre, sizeof pre, "stages.%d.blocks.%d.", s, b);
#define NM(suffix) (snprintf(nm, sizeof nm, "%s%s", pre, suffix), nm)
            B->dw_w = take(L, NM("conv_dw.weight"), RE_DW, 4, SHAPE(c, 1, 7, 7), 0, NULL);
            B->dw_b = VEC(L, NM("conv_dw.bias"), c);
            B->ln_w = VEC(L, NM("norm.weight"), c);
            B->ln_b = VEC(L, NM("norm.bias"), c);
            B->fc1_w = take(L, NM("mlp.fc1.weight"), RE_NONE, 4, SHAPE(d, c, 1, 1), 2, SHAPE(d, c));
            B->fc1_b = VEC(L, NM("mlp.fc1.bias"), d);
            B->fc2_w = take(L, NM("mlp.fc2.weight"), RE_NONE, 4, SHAPE(c, d, 1, 1), 2, SHAPE(c, d));
            B->fc2_b = VEC(L, NM("mlp.fc2.bias"), c);
            B->gamma = VEC(L, NM("gamma"), c);
#undef NM
        }
    }
    int64_t cl = a->dims[a->nstages - 1];
    m->head_ln_w = VEC(L, "head.norm.weight", cl);
    m->head_ln_b = VEC(L, "head.norm.bias", cl);
}

/* The vote head, when the file has one: head.fc.weight (A, C), head.fc.bias
 * (A) and metadata "answers" naming the A outputs; consecutive answers with
 * the same text before their last '.' ("Class8.1", "Class8.2") form one
 * question.  A timm classifier without "answers" (a Zoobot file) is not a
 * vote head: ignored, 0.  A head whose names and shapes disagree: -1. */
static int load_head(core_convnext *m, const core_safetensors *st, char *err, size_t errlen)
{
    const core_st_tensor *w = core_safetensors_find(st, "head.fc.weight"), *b = core_safetensors_find(st, "head.fc.bias");
    const char *names = core_safetensors_meta(st, "answers");
    if (!w || !b || !names) return 0;
    int64_t cl = m->arch.dims[m->arch.nstages - 1];
    if (w->ndim != 2 || w->shape[1] != cl || w->shape[0] < 1 || w->shape[0] > CORE_CONVNEXT_MAX_ANSWERS ||
        b->ndim != 1 || b->shape[0] != w->shape[0]) {
        snprintf(err, errlen, "vote head: tensors \"head.fc.weight\" / \"head.fc.bias\" are not (A, %lld) / (A) "
                 "with 1 <= A <= %d", (long long)cl, CORE_CONVNEXT_MAX_ANSWERS);
        return -1;
    }
    int A = (int)w->shape[0], n = 0;
    char **ans = xcalloc((size_t)A, sizeof *ans);
    for (const char *p = names; *p && n <= A;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len > 64) break;
        if (n < A) {
            ans[n] = xmalloc(len + 1);
            memcpy(ans[n], p, len);
            ans[n][len] = 0;
        }
        n++;
        p = e ? e + 1 : p + len;
        if (e && !*p) { n = -1; break; }   /* a trailing comma */
    }
    if (n != A) {
        snprintf(err, errlen, "vote head: metadata \"answers\" names %s answers, \"head.fc.weight\" has %d rows",
                 n < 0 ? "malformed" : n > A ? "more" : "fewer", A);
        for (int a = 0; a < A; a++) free(ans[a]);
        free(ans);
        return -1;
    }
    m->fc_w = xmalloc(sizeof(float) * (size_t)A * (size_t)cl);
    m->fc_b = xmalloc(sizeof(float) * (size_t)A);
    if (core_safetensors_read_f32(w, m->fc_w, err, errlen) || core_safetensors_read_f32(b, m->fc_b, err, errlen)) {
        for (int a = 0; a < A; a++) free(ans[a]);
        free(ans);
        return -1;
    }
    m->ans = ans;
    m->n_ans = A;
    m->n_q = 0;
    for (int a = 0; a < A; a++) {
        const char *d = strrchr(ans[a], '.');
        size_t pl = d ? (size_t)(d - ans[a]) : strlen(ans[a]);
        const char *prev = a ? ans[a - 1] : NULL, *pd = prev ? strrchr(prev, '.') : NULL;
        size_t ppl = prev ? (pd ? (size_t)(pd - prev) : strlen(prev)) : 0;
        if (!prev || pl != ppl || strncmp(ans[a], prev, pl) != 0) {
            m->q_start[m->n_q] = a;
            m->q_len[m->n_q++] = 0;
        }
        m->q_len[m->n_q - 1]++;
    }
    return 0;
}

int core_convnext_head_answers(const core_convnext *m) { return m ? m->n_ans : 0; }
const char *core_convnext_head_answer(const core_convnext *m, int a)
{
    return m && a >= 0 && a < m->n_ans ? m->ans[a] : NULL;
}

void core_convnext_head_votes(const core_convnext *m, const float *emb, int n, float *out)
{
    int A = m->n_ans, C = core_convnext_dim(m);
    for (int i = 0; i < n; i++) {
        const float *e = emb + (size_t)i * C;
        float *o = out + (size_t)i * A;
        for (int a = 0; a < A; a++) {
            double z = m->fc_b[a];
            const float *wa = m->fc_w + (size_t)a * C;
            for (int c = 0; c < C; c++) z += (double)wa[c] * e[c];
            o[a] = (float)z;
        }
        for (int q = 0; q < m->n_q; q++) {   /* softmax within each question */
            float *z = o + m->q_start[q], mx = z[0];
            int k = m->q_len[q];
            for (int j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
            double sum = 0;
            for (int j = 0; j < k; j++) sum += (z[j] = expf(z[j] - mx));
            for (int j = 0; j < k; j++) z[j] = (float)(z[j] / sum);
        }
    }
}

static int64_t dim0(const core_safetensors *st, const char *name)
{
    const core_st_tensor *t = core_safetensors_find(st, name);
    return t && t->ndim >= 1 ? t->shape[0] : -1;
}

/* Depths and dims from the tensor names and shapes. */
static int infer_arch(const core_safetensors *st, core_convnext_arch *a, char *err, size_t errlen)
{
    char nm[128];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "custom");
    a->mlp_ratio = 4;
    int64_t c0 = dim0(st, "stem.0.weight");
    if (c0 <= 0) {
        snprintf(err, errlen, "tensor \"stem.0.weight\" is missing: not a timm ConvNeXt");
        return -1;
    }
    for (int s = 0; s < CORE_CONVNEXT_MAX_STAGES; s++) {
        snprintf(nm, sizeof nm, "stages.%d.blocks.0.conv_dw.weight", s);
        int64_t c = dim0(st, nm);
        if (c <= 0) break;
        a->dims[s] = (int)c;
        int b = 0;
        for (;; b++) {
            snprintf(nm, sizeof nm, "stages.%d.blocks.%d.conv_dw.weight", s, b);
            if (!core_safetensors_find(st, nm)) break;
        }
        a->depths[s] = b;
        a->nstages = s + 1;
    }
    if (a->nstages == 0) {
        snprintf(err, errlen, "tensor \"stages.0.blocks.0.conv_dw.weight\" is missing: not a timm ConvNeXt");
        return -1;
    }
    snprintf(nm, sizeof nm, "stages.0.blocks.0.mlp.fc1.weight");
    int64_t d = dim0(st, nm);
    if (d > 0 && d % a->dims[0] == 0) a->mlp_ratio = (int)(d / a->dims[0]);
    for (size_t i = 0; i < sizeof ARCHS / sizeof *ARCHS; i++)
        if (ARCHS[i].nstages == a->nstages &&
            !memcmp(ARCHS[i].depths, a->depths, sizeof a->depths) &&
            !memcmp(ARCHS[i].dims, a->dims, sizeof a->dims) && a->mlp_ratio == 4)
            memcpy(a->name, ARCHS[i].name, sizeof a->name);
    return 0;
}

/* At most cap - 1 bytes of s for a message, '?' for anything but printable ASCII. */
static const char *printable(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    buf[i] = 0;
    return buf;
}

int core_convnext_load(core_convnext **out, const char *path, const char *arch,
                       char *err, size_t errlen)
{
    int rc = -1;
    core_safetensors *st = NULL;
    core_convnext *m = NULL;
    unsigned char *seen = NULL;
    char e2[200];
    *out = NULL;
    if (core_safetensors_open(&st, path, e2, sizeof e2)) {
        snprintf(err, errlen, "%s", e2);
        goto end;
    }
    m = xcalloc(1, sizeof *m);
    if (arch) {
        if (core_convnext_arch_lookup(arch, &m->arch)) {
            snprintf(err, errlen, "unknown architecture \"%s\" (known: atto femto pico nano tiny small base)", arch);
            goto end;
        }
    } else if (infer_arch(st, &m->arch, err, errlen)) goto end;

    loader L = {.st = st, .err = err, .errlen = errlen};
    walk(m, &L);                                   /* sizing pass, checks shapes */
    if (L.failed) goto end;
    m->nparams = L.used;
    m->params = xmalloc(m->nparams * sizeof(float) + 64);
    seen = xcalloc((size_t)core_safetensors_count(st) + 1, 1);
    loader F = {.st = st, .params = m->params, .err = err, .errlen = errlen, .seen = seen};
    walk(m, &F);
    if (F.failed) goto end;
    /* A tensor of the body the architecture does not use means the file is
     * a different architecture: refuse rather than silently ignore it. */
    for (int i = 0; i < core_safetensors_count(st); i++) {
        const char *nm = core_safetensors_at(st, i)->name;
        if (!seen[i] && (!strncmp(nm, "stem.", 5) || !strncmp(nm, "stages.", 7) ||
                         !strncmp(nm, "head.norm.", 10))) {
            snprintf(err, errlen, "tensor \"%s\" is not part of %s (depths %d,%d,%d,%d dims %d,%d,%d,%d)",
                     nm, m->arch.name, m->arch.depths[0], m->arch.depths[1], m->arch.depths[2],
                     m->arch.depths[3], m->arch.dims[0], m->arch.dims[1], m->arch.dims[2], m->arch.dims[3]);
            goto end;
        }
    }
    if (load_head(m, st, err, errlen)) goto end;
    const char *ms = core_safetensors_meta(st, "zoosh_input_size"), *mc = core_safetensors_meta(st, "zoosh_crop");
    char *endp = NULL;
    long isz = ms ? strtol(ms, &endp, 10) : 0;
    char shown[24];   /* a file's bytes, never an escape sequence, in a message */
    if (ms && (endp == ms || *endp || isz < 32 || isz > 4096)) {
        snprintf(err, errlen, "metadata zoosh_input_size '%s' is not a size of 32..4096 pixels", printable(ms, shown, sizeof shown));
        goto end;
    }
    m->input_size = (int)isz;
    double crop = mc ? strtod(mc, &endp) : 1.0;
    if (mc && (endp == mc || *endp || !(crop > 0 && crop <= 1))) {
        snprintf(err, errlen, "metadata zoosh_crop '%s' is not a fraction in (0, 1]", printable(mc, shown, sizeof shown));
        goto end;
    }
    core_convnext_set_crop(m, (float)crop);
    m->views = 1;
    const char *ch = getenv("ZOOSH_CNX_CHUNK");
    if (ch && atol(ch) >= 1024) chunk_floats = (size_t)atol(ch);
    const char *env = getenv("ZOOSH_THREADS");
    long nc = env && atoi(env) > 0 ? atoi(env) : sysconf(_SC_NPROCESSORS_ONLN);
    core_convnext_set_threads(m, nc > 8 ? 8 : (int)nc);
    *out = m;
    m = NULL;
    rc = 0;
end:
    free(seen);
    core_convnext_free(m);
    core_safetensors_close(st);
    return rc;
}

/* ---------------------------------------------------------------- kernels
 * Each fast kernel has its naive reference right below or above it. */

/* out (P, O) = in (P, In) . w^T (In, O) + b (O)   (In: I is taken by complex.h) */
static void matmul_naive(float *out, const float *in, const float *w, const float *b,
                         int P, int In, int O)
{
    for (int p = 0; p < P; p++)
        for (int o = 0; o < O; o++) {
            float acc = b ? b[o] : 0.0f;
            for (int i = 0; i < In; i++) acc += in[(size_t)p * In + i] * w[(size_t)o * In + i];
            out[(size_t)p * O + o] = acc;
        }
}

static void matmul_fast(float *out, const float *in, const float *w, const float *b,
                        int P, int In, int O)
{
    for (int p = 0; p < P; p++) memcpy(out + (size_t)p * O, b, (size_t)O * sizeof *out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, P, O, In, 1.0f, in, In, w, In, 1.0f, out, O);
}

/* LayerNorm over C for each of P pixels, biased variance, as F.layer_norm. */
static void layernorm_naive(float *out, const float *in, const float *w, const float *b, int P, int C)
{
    for (int p = 0; p < P; p++) {
        const float *x = in + (size_t)p * C;
        double mean = 0, var = 0;
        for (int c = 0; c < C; c++) mean += x[c];
        mean /= C;
        for (int c = 0; c < C; c++) var += (x[c] - mean) * (x[c] - mean);
        var /= C;
        float rstd = (float)(1.0 / sqrt(var + LN_EPS));
        for (int c = 0; c < C; c++) out[(size_t)p * C + c] = (float)(x[c] - mean) * rstd * w[c] + b[c];
    }
}

CORE_HOT static void layernorm_fast(float *out, const float *in, const float *restrict w,
                               const float *restrict b, int P, int C)
{
    for (int p = 0; p < P; p++) {
        const float *x = in + (size_t)p * C;
        float *y = out + (size_t)p * C;
        float s[8] = {0}, q[8] = {0};
        int c = 0;
        for (; c + 8 <= C; c += 8)
            for (int k = 0; k < 8; k++) s[k] += x[c + k];
        float mean = 0;
        for (; c < C; c++) mean += x[c];
        for (int k = 0; k < 8; k++) mean += s[k];
        mean /= (float)C;
        for (c = 0; c + 8 <= C; c += 8)
            for (int k = 0; k < 8; k++) { float d = x[c + k] - mean; q[k] += d * d; }
        float var = 0;
        for (; c < C; c++) { float d = x[c] - mean; var += d * d; }
        for (int k = 0; k < 8; k++) var += q[k];
        float rstd = 1.0f / sqrtf(var / (float)C + LN_EPS);
        for (c = 0; c < C; c++) y[c] = (x[c] - mean) * rstd * w[c] + b[c];
    }
}

/* Depthwise 7x7, stride 1, zero padding 3, channels-last.
 * out (H, W, C), in (H, W, C), w (7, 7, C), b (C).  out != in. */
static void dwconv_naive(float *out, const float *in, const float *w, const float *b, int H, int W, int C)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                float acc = b[c];
                for (int ky = 0; ky < 7; ky++)
                    for (int kx = 0; kx < 7; kx++) {
                        int iy = y + ky - 3, ix = x + kx - 3;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        acc += in[((size_t)iy * W + ix) * C + c] * w[(ky * 7 + kx) * C + c];
                    }
                out[((size_t)y * W + x) * C + c] = acc;
            }
}

CORE_HOT static void dwconv_fast(float *restrict out, const float *restrict in, const float *restrict w,
                            const float *restrict b, int H, int W, int C)
{
    for (int y = 0; y < H; y++) {
        int ky0 = y < 3 ? 3 - y : 0, ky1 = y + 4 > H ? H - y + 3 : 7;
        for (int x = 0; x < W; x++) {
            int kx0 = x < 3 ? 3 - x : 0, kx1 = x + 4 > W ? W - x + 3 : 7;
            float *restrict o = out + ((size_t)y * W + x) * C;
            for (int c = 0; c < C; c++) o[c] = b[c];
            for (int ky = ky0; ky < ky1; ky++) {
                const float *restrict row = in + ((size_t)(y + ky - 3) * W + (x - 3)) * C;
                const float *restrict wr = w + (size_t)ky * 7 * C;
                for (int kx = kx0; kx < kx1; kx++) {
                    const float *restrict ip = row + (size_t)kx * C, *restrict wp = wr + (size_t)kx * C;
                    for (int c = 0; c < C; c++) o[c] += ip[c] * wp[c];
                }
            }
        }
    }
}

void core_convnext_gelu_naive(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

/* GELU through the branch-free erf of core/fastmath.h (vectorises). */
static inline __attribute__((always_inline)) float gelu1(float v)
{
    return 0.5f * v * (1.0f + core_erf_fast(v * (float)M_SQRT1_2));
}

CORE_HOT void core_convnext_gelu(float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = gelu1(x[i]);
}

/* h (R, D) = gelu(h + b (D)): fc1's bias fused with the activation. */
CORE_HOT static void bias_gelu(float *restrict h, const float *restrict b, int R, int D)
{
    for (int r = 0; r < R; r++)
        for (int d = 0; d < D; d++) h[(size_t)r * D + d] = gelu1(h[(size_t)r * D + d] + b[d]);
}

/* x (R, C) += gamma (C) * (u (R, C) + b (C)): fc2's bias, layer scale and
 * the residual in one pass. */
CORE_HOT static void bias_scale_add(float *restrict x, const float *restrict u, const float *restrict b,
                               const float *restrict gamma, int R, int C)
{
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            x[(size_t)r * C + c] += gamma[c] * (u[(size_t)r * C + c] + b[c]);
}

/* x (P, C) += gamma (C) * t (P, C) */
CORE_HOT static void scale_add(float *restrict x, const float *restrict t, const float *restrict gamma, int P, int C)
{
    for (int p = 0; p < P; p++)
        for (int c = 0; c < C; c++) x[(size_t)p * C + c] += gamma[c] * t[(size_t)p * C + c];
}

/* Non-overlapping K x K patches of a channels-last (H, W, C) map into rows of
 * cols (Ho*Wo, K*K*C) ordered (ky, kx, c), matching the reordered weights. */
static void patchify_hwc(float *cols, const float *in, int H, int W, int C, int K)
{
    (void)H;
    int Ho = H / K, Wo = W / K;
    for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
            float *r = cols + ((size_t)oy * Wo + ox) * K * K * C;
            for (int ky = 0; ky < K; ky++)
                memcpy(r + (size_t)ky * K * C, in + ((size_t)(oy * K + ky) * W + ox * K) * C,
                       (size_t)K * C * sizeof *r);
        }
}

/* The same from a channels-first (C, H, W) image (the stem). */
static void patchify_chw(float *cols, const float *in, int H, int W, int C, int K)
{
    int Ho = H / K, Wo = W / K;
    for (int oy = 0; oy < Ho; oy++)
        for (int ox = 0; ox < Wo; ox++) {
            float *r = cols + ((size_t)oy * Wo + ox) * K * K * C;
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    for (int c = 0; c < C; c++)
                        r[(ky * K + kx) * C + c] = in[((size_t)c * H + oy * K + ky) * W + ox * K + kx];
        }
}

/* ---------------------------------------------------------------- forward */

typedef struct {
    float *x;       /* (P, C) the running activation */
    float *t;       /* (P, C) scratch */
    float *h;       /* (P, D) hidden */
    float *cols;    /* (P, K*K*C_in) patches */
} workspace;

static size_t max_z(size_t a, size_t b) { return a > b ? a : b; }

static void ws_alloc(const core_convnext *m, int H, int W, workspace *ws)
{
    size_t xs = 0, hs = 0, cs = 0;
    int h = H / 4, w = W / 4;
    cs = (size_t)h * w * 48;
    for (int s = 0; s < m->arch.nstages; s++) {
        if (s) {
            cs = max_z(cs, (size_t)h * w * m->st[s].c_in);  /* (h/2 * w/2) * 4 * c_in */
            h /= 2;
            w /= 2;
        }
        xs = max_z(xs, (size_t)h * w * m->st[s].c);
        hs = max_z(hs, (size_t)h * w * m->st[s].d);
    }
    xs = max_z(xs, (size_t)(H / 4) * (W / 4) * m->arch.dims[0]);
    ws->x = xmalloc(xs * sizeof(float));
    ws->t = xmalloc(xs * sizeof(float));
    ws->h = xmalloc(hs * sizeof(float));
    ws->cols = xmalloc(cs * sizeof(float));
}

static void ws_free(workspace *ws)
{
    free(ws->x);
    free(ws->t);
    free(ws->h);
    free(ws->cols);
}

/* One image: img (3, H, W) -> out (dim). */
static void forward_one(const core_convnext *m, workspace *ws, const float *img, int H, int W,
                        float *out, int naive)
{
    void (*mm)(float *, const float *, const float *, const float *, int, int, int) =
        naive ? matmul_naive : matmul_fast;
    void (*ln)(float *, const float *, const float *, const float *, int, int) =
        naive ? layernorm_naive : layernorm_fast;
    void (*dw)(float *, const float *, const float *, const float *, int, int, int) =
        naive ? dwconv_naive : dwconv_fast;
    void (*gelu)(float *, size_t) = naive ? core_convnext_gelu_naive : core_convnext_gelu;

    int h = H / 4, w = W / 4, C = m->arch.dims[0];
    patchify_chw(ws->cols, img, H, W, 3, 4);
    mm(ws->t, ws->cols, m->stem_w, m->stem_b, h * w, 48, C);
    ln(ws->x, ws->t, m->stem_ln_w, m->stem_ln_b, h * w, C);
    for (int s = 0; s < m->arch.nstages; s++) {
        const stage_t *S = &m->st[s];
        if (s) {
            ln(ws->t, ws->x, S->ds_ln_w, S->ds_ln_b, h * w, S->c_in);
            patchify_hwc(ws->cols, ws->t, h, w, S->c_in, 2);
            h /= 2;
            w /= 2;
            mm(ws->x, ws->cols, S->ds_w, S->ds_b, h * w, 4 * S->c_in, S->c);
        }
        C = S->c;
        int P = h * w;
        for (int b = 0; b < S->depth; b++) {
            const block_t *B = &S->blocks[b];
            dw(ws->t, ws->x, B->dw_w, B->dw_b, h, w, C);
            if (naive) {
                ln(ws->t, ws->t, B->ln_w, B->ln_b, P, C);
                mm(ws->h, ws->t, B->fc1_w, B->fc1_b, P, C, S->d);
                gelu(ws->h, (size_t)P * S->d);
                mm(ws->t, ws->h, B->fc2_w, B->fc2_b, P, S->d, C);
                scale_add(ws->x, ws->t, B->gamma, P, C);
                continue;
            }
            /* Fast: the pixel-wise part (LN, fc1, GELU, fc2, residual) in
             * chunks of rows so the hidden (R, D) stays in cache. */
            int nch = (int)(((size_t)P * S->d + chunk_floats - 1) / chunk_floats), R = (P + nch - 1) / nch;
            for (int r0 = 0; r0 < P; r0 += R) {
                int rn = P - r0 < R ? P - r0 : R;
                float *tc = ws->t + (size_t)r0 * C;
                layernorm_fast(tc, tc, B->ln_w, B->ln_b, rn, C);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rn, S->d, C, 1.0f, tc, C,
                            B->fc1_w, C, 0.0f, ws->h, S->d);
                bias_gelu(ws->h, B->fc1_b, rn, S->d);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rn, C, S->d, 1.0f, ws->h, S->d,
                            B->fc2_w, S->d, 0.0f, tc, C);
                bias_scale_add(ws->x + (size_t)r0 * C, tc, B->fc2_b, B->gamma, rn, C);
            }
        }
    }
    /* head: global average pool, then head.norm */
    int P = h * w;
    for (int c = 0; c < C; c++) ws->t[c] = 0;
    for (int p = 0; p < P; p++)
        for (int c = 0; c < C; c++) ws->t[c] += ws->x[(size_t)p * C + c];
    for (int c = 0; c < C; c++) ws->t[c] /= (float)P;
    ln(out, ws->t, m->head_ln_w, m->head_ln_b, 1, C);
}

int core_convnext_forward_naive(const core_convnext *m, const float *x, int n, int h, int w, float *out)
{
    if (h < 32 || w < 32 || n < 0) return -1;
    workspace ws;
    ws_alloc(m, h, w, &ws);
    int dim = core_convnext_dim(m);
    for (int i = 0; i < n; i++)
        forward_one(m, &ws, x + (size_t)i * 3 * h * w, h, w, out + (size_t)i * dim, 1);
    ws_free(&ws);
    return 0;
}

typedef struct {
    const core_convnext *m;
    const float *x;     /* (n, 3, h, w) or NULL with imgs */
    const core_image *imgs;
    int size;
    int n, h, w, t, nthreads;
    float *out;
} job;

static void *worker(void *arg)
{
    job *J = arg;
    workspace ws;
    ws_alloc(J->m, J->h, J->w, &ws);
    int dim = core_convnext_dim(J->m);
    int V = J->imgs ? J->m->views : 1;
    size_t plane = (size_t)3 * J->h * J->w;
    float *pre = J->imgs ? xmalloc(2 * plane * sizeof *pre) : NULL;  /* 2 x (3, h, w) */
    float *acc = V > 1 ? xmalloc((size_t)dim * sizeof *acc) : NULL; /* (dim) */
    for (int i = J->t; i < J->n; i += J->nthreads) {
        float *o = J->out + (size_t)i * dim;
        if (!J->imgs) {
            forward_one(J->m, &ws, J->x + (size_t)i * plane, J->h, J->w, o, 0);
            continue;
        }
        core_convnext_preprocess(&J->imgs[i], J->size, J->m->crop, pre);
        if (V == 1) {
            forward_one(J->m, &ws, pre, J->h, J->w, o, 0);
            continue;
        }
        for (int d = 0; d < dim; d++) acc[d] = 0;
        for (int v = 0; v < V; v++) {
            core_convnext_dihedral(pre, J->h, v, pre + plane);
            forward_one(J->m, &ws, pre + plane, J->h, J->w, o, 0);
            for (int d = 0; d < dim; d++) acc[d] += o[d];
        }
        for (int d = 0; d < dim; d++) o[d] = acc[d] / (float)V;
    }
    free(acc);
    free(pre);
    ws_free(&ws);
    return NULL;
}

void core_convnext_dihedral(const float *x, int s, int v, float *y)
{
    /* v = rotation (v & 3 quarter turns) after a transpose (v & 4): the 8
     * symmetries of the square; y[r][c] = x[src(r, c)] per channel */
    int rot = v & 3, tr = (v & 4) != 0;
    for (int ch = 0; ch < 3; ch++) {
        const float *xp = x + (size_t)ch * s * s;
        float *yp = y + (size_t)ch * s * s;
        for (int r = 0; r < s; r++)
            for (int c = 0; c < s; c++) {
                int a = r, b = c, t;
                for (int k = 0; k < rot; k++) { t = a; a = b; b = s - 1 - t; }  /* quarter turn */
                if (tr) { t = a; a = b; b = t; }
                yp[(size_t)r * s + c] = xp[(size_t)a * s + b];
            }
    }
}

/* Share n images among the workers; BLAS single-threaded inside each.
 * DESIGN: workers share only the read-only model and write disjoint rows of
 * out; each owns its workspace.  The BLAS thread count is process-global, so
 * it is set for the batch and restored after. */
static void run_batch(core_convnext *m, const float *x, const core_image *imgs, int size,
                      int n, int h, int w, float *out)
{
    int T = m->threads < n ? m->threads : n;
    if (T < 1) T = 1;
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(T == 1 ? m->threads : 1);
    job jobs[64];
    pthread_t tid[64];
    for (int t = 0; t < T; t++)
        jobs[t] = (job){.m = m, .x = x, .imgs = imgs, .size = size, .n = n, .h = h, .w = w,
                        .t = t, .nthreads = T, .out = out};
    int started = 1;
    for (int t = 1; t < T; t++, started++)
        if (pthread_create(&tid[t], NULL, worker, &jobs[t])) break;
    if (started < T) {                 /* could not start them all: redo the split */
        for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
        jobs[0].nthreads = 1;
        worker(&jobs[0]);
    } else {
        worker(&jobs[0]);
        for (int t = 1; t < T; t++) pthread_join(tid[t], NULL);
    }
    openblas_set_num_threads(blas);
}

int core_convnext_forward(core_convnext *m, const float *x, int n, int h, int w, float *out)
{
    if (h < 32 || w < 32 || n < 0) return -1;
    if (n) run_batch(m, x, NULL, 0, n, h, w, out);
    return 0;
}

int core_convnext_embed(core_convnext *m, const core_image *imgs, int n, int size, float *out)
{
    if (size < 32 || n < 0) return -1;
    if (n) run_batch(m, NULL, imgs, size, n, size, size, out);
    return 0;
}

/* ---------------------------------------------------------------- preprocessing */

/* Box-filter weights of a resample from `in` to `out` samples: output i
 * covers input [i*in/out, (i+1)*in/out); each input pixel weighs its overlap.
 * idx (out, 2) first and last input index, wt (out, span) weights. */
static void box_weights(int in, int out, int *first, int *count, float *wt, int span)
{
    double scale = (double)in / out;
    for (int i = 0; i < out; i++) {
        double a = i * scale, b = (i + 1) * scale;
        int f = (int)floor(a), l = (int)ceil(b) - 1;
        if (l >= in) l = in - 1;
        if (l - f + 1 > span) l = f + span - 1;
        first[i] = f;
        count[i] = l - f + 1;
        double tot = 0;
        for (int k = f; k <= l; k++) {
            double lo = a > k ? a : k, hi = b < k + 1 ? b : k + 1;
            wt[(size_t)i * span + (k - f)] = (float)(hi - lo);
            tot += hi - lo;
        }
        for (int k = 0; k < count[i]; k++) wt[(size_t)i * span + k] /= (float)tot;
    }
}

void core_convnext_preprocess(const core_image *im, int size, float crop, float *x)
{
    int side = im->w < im->h ? im->w : im->h;
    if (side < 1 || !im->px) {              /* an empty image embeds as black */
        memset(x, 0, (size_t)3 * size * size * sizeof *x);
        return;
    }
    if (crop > 0 && crop < 1) side = (int)lrintf(side * crop) < 1 ? 1 : (int)lrintf(side * crop);
    int x0 = (im->w - side) / 2, y0 = (im->h - side) / 2;
    int span = side / size + 2;
    int *f = xmalloc((size_t)size * sizeof *f), *cnt = xmalloc((size_t)size * sizeof *cnt);
    float *wt = xmalloc((size_t)size * span * sizeof *wt);     /* (size, span) */
    float *rows = xmalloc((size_t)size * side * 3 * sizeof *rows); /* (size, side, 3) */
    box_weights(side, size, f, cnt, wt, span);
    /* vertical pass: (side, side, 3) -> (size, side, 3) */
    for (int oy = 0; oy < size; oy++) {
        float *r = rows + (size_t)oy * side * 3;
        for (int i = 0; i < side * 3; i++) r[i] = 0;
        for (int k = 0; k < cnt[oy]; k++) {
            const uint8_t *src = im->px + ((size_t)(y0 + f[oy] + k) * im->w + x0) * 3;
            float wk = wt[(size_t)oy * span + k];
            for (int i = 0; i < side * 3; i++) r[i] += wk * src[i];
        }
    }
    /* horizontal pass into (3, size, size), / 255 */
    for (int oy = 0; oy < size; oy++)
        for (int ox = 0; ox < size; ox++) {
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < cnt[ox]; k++) {
                const float *p = rows + ((size_t)oy * side + f[ox] + k) * 3;
                float wk = wt[(size_t)ox * span + k];
                for (int c = 0; c < 3; c++) acc[c] += wk * p[c];
            }
            for (int c = 0; c < 3; c++) x[((size_t)c * size + oy) * size + ox] = acc[c] / 255.0f;
        }
    free(f);
    free(cnt);
    free(wt);
    free(rows);
}
