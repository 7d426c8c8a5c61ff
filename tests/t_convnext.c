/*
 * t_convnext.c - the C ConvNeXt equals PyTorch's (a fixture dumped once by
 * tools/make_fixtures.py from a reference with timm's names), the fast path
 * equals the naive loops, the real nano architecture loads from timm's names
 * and shapes, and files of the wrong architecture are refused naming the
 * tensor.
 */
#include "core/convnext.h"
#include "core/safetensors.h"
#include "core/util.h"
#include "tests/zt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *fixture(const char *name)
{
    static char buf[2][1024];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/tests/data/%s", ZT_ROOT, name);
    return buf[k];
}

/* A tensor of the I/O fixture as floats (malloc'ed), checking its size. */
static float *io_tensor(core_safetensors *io, const char *name, int64_t numel)
{
    const core_st_tensor *t = core_safetensors_find(io, name);
    ZT_CHECK(t != NULL, "fixture has no tensor %s (run make fixtures)", name);
    ZT_CHECK(t->numel == numel, "%s has %lld elements, expected %lld", name, (long long)t->numel,
             (long long)numel);
    float *x = xmalloc((size_t)numel * sizeof *x);
    char err[200];
    ZT_CHECK(core_safetensors_read_f32(t, x, err, sizeof err) == 0, "%s", err);
    return x;
}

/* Largest |a - b| / max(|b|, floor) over n values. */
static double max_rel(const float *a, const float *b, size_t n, double floor_)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(fabs((double)b[i]), floor_);
        if (!(d <= worst)) worst = d;     /* NaN counts as worst */
    }
    return worst;
}

static core_convnext *load_fixture(void)
{
    core_convnext *m;
    char err[256];
    int rc = core_convnext_load(&m, fixture("convnext_fixture.safetensors"), NULL, err, sizeof err);
    ZT_CHECK(rc == 0, "loading the fixture: %s", err);
    return m;
}

static core_safetensors *open_io(void)
{
    core_safetensors *io;
    char err[256];
    ZT_CHECK(core_safetensors_open(&io, fixture("convnext_fixture_io.safetensors"), err, sizeof err) == 0,
             "%s", err);
    return io;
}

static void infers_the_architecture_from_shapes(void)
{
    core_convnext *m = load_fixture();
    const core_convnext_arch *a = core_convnext_arch_of(m);
    ZT_CHECK(a->nstages == 4, "%d stages", a->nstages);
    ZT_CHECK(a->depths[0] == 1 && a->depths[1] == 1 && a->depths[2] == 2 && a->depths[3] == 1,
             "depths %d %d %d %d", a->depths[0], a->depths[1], a->depths[2], a->depths[3]);
    ZT_CHECK(a->dims[0] == 16 && a->dims[3] == 40, "dims %d..%d", a->dims[0], a->dims[3]);
    ZT_CHECK(core_convnext_dim(m) == 40, "dim %d", core_convnext_dim(m));
    ZT_CHECK(!strcmp(a->name, "custom"), "name %s", a->name);
    core_convnext_free(m);
    core_convnext_free(NULL);
}

static void matches_pytorch_on_32px_images(void)
{
    core_convnext *m = load_fixture();
    core_safetensors *io = open_io();
    int dim = core_convnext_dim(m);
    float *x = io_tensor(io, "x32", 3 * 3 * 32 * 32), *y = io_tensor(io, "y32", 3 * dim);
    float out[3 * 40];
    ZT_OK(core_convnext_forward(m, x, 3, 32, 32, out));
    double r = max_rel(out, y, (size_t)3 * dim, 1e-2);
    ZT_CHECK(r < 1e-4, "C differs from PyTorch by %.3g relative (out[0] %g, torch %g)", r, out[0], y[0]);
    free(x);
    free(y);
    core_safetensors_close(io);
    core_convnext_free(m);
}

static void matches_pytorch_on_sizes_not_divisible_by_32(void)
{
    core_convnext *m = load_fixture();
    core_safetensors *io = open_io();
    int dim = core_convnext_dim(m);
    float *x = io_tensor(io, "x70x52", 3 * 70 * 52), *y = io_tensor(io, "y70x52", dim);
    float out[40];
    ZT_OK(core_convnext_forward(m, x, 1, 70, 52, out));
    double r = max_rel(out, y, (size_t)dim, 1e-2);
    ZT_CHECK(r < 1e-4, "C differs from PyTorch by %.3g relative", r);
    ZT_CHECK(core_convnext_forward(m, x, 1, 31, 52, out) == -1, "an image under 32 px was accepted");
    free(x);
    free(y);
    core_safetensors_close(io);
    core_convnext_free(m);
}

static void embeds_an_rgb8_image_as_zoobot_preprocesses_it(void)
{
    core_convnext *m = load_fixture();
    core_safetensors *io = open_io();
    const core_st_tensor *t = core_safetensors_find(io, "img64");
    ZT_CHECK(t && t->dtype == CORE_ST_U8 && t->numel == 64 * 64 * 3, "img64 in the fixture");
    core_image im = {.w = 64, .h = 64, .px = (uint8_t *)t->data};
    float *y = io_tensor(io, "yimg64_at32", 40), out[40];
    ZT_OK(core_convnext_embed(m, &im, 1, 32, out));
    double r = max_rel(out, y, 40, 1e-2);
    ZT_CHECK(r < 1e-4, "embed differs from PyTorch (x/255, 2x2 mean) by %.3g relative", r);
    ZT_CHECK(core_convnext_embed(m, &im, 1, 16, out) == -1, "size 16 accepted");
    free(y);
    core_safetensors_close(io);
    core_convnext_free(m);
}

static void preprocessing_crops_the_centre_and_scales_to_one(void)
{
    core_image im;
    ZT_OK(core_image_alloc(&im, 64, 48));     /* not square: the centre 48 x 48 first */
    for (int i = 0; i < 64 * 48 * 3; i++) im.px[i] = (uint8_t)(i * 7 % 251);
    static float x[3 * 24 * 24];
    core_convnext_preprocess(&im, 24, 0.5f, x);   /* then its centre half: 24 x 24, 1:1 */
    double worst = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 24; y++)
            for (int xx = 0; xx < 24; xx++) {
                int sy = 12 + y, sx = 8 + 12 + xx;
                double want = im.px[(sy * 64 + sx) * 3 + c] / 255.0;
                worst = fmax(worst, fabs(x[(c * 24 + y) * 24 + xx] - want));
            }
    ZT_CHECK(worst < 1e-6, "centre crop differs by %g", worst);
    core_image_free(&im);
    /* a tiny image is enlarged (finite, within the pixel range); an empty one is black */
    core_image tiny;
    ZT_OK(core_image_alloc(&tiny, 5, 3));
    for (int i = 0; i < 5 * 3 * 3; i++) tiny.px[i] = (uint8_t)(40 * i % 256);
    core_convnext_preprocess(&tiny, 24, 1.0f, x);
    for (int i = 0; i < 3 * 24 * 24; i++) ZT_CHECK(x[i] >= 0 && x[i] <= 1, "x[%d] = %g", i, x[i]);
    core_image_free(&tiny);
    core_image empty = {0, 0, NULL};
    core_convnext_preprocess(&empty, 24, 1.0f, x);
    for (int i = 0; i < 3 * 24 * 24; i++) ZT_CHECK(x[i] == 0, "empty: x[%d] = %g", i, x[i]);
}

static void the_eight_views_are_the_symmetries_of_the_square(void)
{
    enum { N = 5 };
    float x[3 * N * N], y[8][3 * N * N], z[3 * N * N], w[3 * N * N];
    for (int i = 0; i < 3 * N * N; i++) x[i] = (float)i;
    for (int v = 0; v < 8; v++) {
        core_convnext_dihedral(x, N, v, y[v]);
        float sorted[3 * N * N];
        memcpy(sorted, y[v], sizeof sorted);
        for (int i = 0; i < 3 * N * N; i++)     /* a permutation within each channel */
            ZT_CHECK((int)y[v][i] / (N * N) == i / (N * N), "view %d moved a pixel across channels", v);
        for (int u = 0; u < v; u++)
            ZT_CHECK(memcmp(y[u], y[v], sizeof x) != 0, "views %d and %d are the same", u, v);
    }
    ZT_CHECK(memcmp(y[0], x, sizeof x) == 0, "view 0 is not the identity");
    /* view 1 is a quarter turn: four of them are the identity */
    memcpy(z, x, sizeof z);
    for (int k = 0; k < 4; k++) {
        core_convnext_dihedral(z, N, 1, w);
        memcpy(z, w, sizeof z);
        if (k == 0) ZT_CHECK(memcmp(z, y[1], sizeof z) == 0, "one quarter turn is not view 1");
        if (k == 1) ZT_CHECK(memcmp(z, y[2], sizeof z) == 0, "two quarter turns are not view 2");
    }
    ZT_CHECK(memcmp(z, x, sizeof z) == 0, "four quarter turns are not the identity");
    core_convnext_dihedral(x, N, 4, z);     /* view 4 is the transpose */
    ZT_CHECK(z[1 * N + 3] == x[3 * N + 1], "view 4 is not the transpose");
}

/* An RGB8 image turned a quarter (clockwise) into out (allocated). */
static void turn_image(const core_image *im, core_image *out)
{
    ZT_OK(core_image_alloc(out, im->h, im->w));
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            memcpy(out->px + ((size_t)x * out->w + (im->h - 1 - y)) * 3, im->px + ((size_t)y * im->w + x) * 3, 3);
}

static void eight_views_make_the_embedding_orientation_free(void)
{
    core_convnext *m = load_fixture();
    core_image im, turned;
    ZT_OK(core_image_alloc(&im, 64, 64));
    core_rng r;
    core_rng_seed(&r, 5);
    for (int i = 0; i < 64 * 64 * 3; i++) im.px[i] = (uint8_t)core_rng_below(&r, 256);
    turn_image(&im, &turned);
    float a[40], b[40], c[40], mean[40] = {0};
    ZT_OK(core_convnext_embed(m, &im, 1, 32, a));
    ZT_OK(core_convnext_embed(m, &turned, 1, 32, b));
    ZT_CHECK(max_rel(a, b, 40, 1e-2) > 1e-3, "one view is already orientation-free: the test shows nothing");
    ZT_CHECK(core_convnext_views(m) == 1, "views default %d", core_convnext_views(m));
    core_convnext_set_views(m, 8);
    ZT_OK(core_convnext_embed(m, &im, 1, 32, a));
    ZT_OK(core_convnext_embed(m, &turned, 1, 32, b));
    double rel = max_rel(a, b, 40, 1e-2);
    ZT_CHECK(rel < 1e-5, "the image and its quarter turn embed %.3g apart with 8 views", rel);
    /* and it is the mean of the 8 single-view forwards */
    static float x[3 * 32 * 32], xv[3 * 32 * 32];
    core_convnext_preprocess(&im, 32, core_convnext_crop(m), x);
    for (int v = 0; v < 8; v++) {
        core_convnext_dihedral(x, 32, v, xv);
        ZT_OK(core_convnext_forward(m, xv, 1, 32, 32, c));
        for (int d = 0; d < 40; d++) mean[d] += c[d] / 8;
    }
    rel = max_rel(a, mean, 40, 1e-2);
    ZT_CHECK(rel < 1e-5, "8 views differ from the mean of 8 forwards by %.3g", rel);
    core_convnext_set_views(m, 3);
    ZT_CHECK(core_convnext_views(m) == 2, "3 views rounds to %d", core_convnext_views(m));
    core_image_free(&im);
    core_image_free(&turned);
    core_convnext_free(m);
}

static void fast_path_equals_the_naive_loops(void)
{
    core_convnext *m = load_fixture();
    core_safetensors *io = open_io();
    float *x = io_tensor(io, "x70x52", 3 * 70 * 52);
    float a[40], b[40];
    ZT_OK(core_convnext_forward(m, x, 1, 70, 52, a));
    ZT_OK(core_convnext_forward_naive(m, x, 1, 70, 52, b));
    double r = max_rel(a, b, 40, 1e-2);
    ZT_CHECK(r < 2e-5, "fast and naive differ by %.3g relative", r);
    free(x);
    core_safetensors_close(io);
    core_convnext_free(m);
}

static void threads_do_not_change_the_result(void)
{
    core_convnext *m = load_fixture();
    core_safetensors *io = open_io();
    float *x = io_tensor(io, "x32", 3 * 3 * 32 * 32);
    float a[120], b[120];
    core_convnext_set_threads(m, 1);
    ZT_OK(core_convnext_forward(m, x, 3, 32, 32, a));
    core_convnext_set_threads(m, 3);
    ZT_OK(core_convnext_forward(m, x, 3, 32, 32, b));
    ZT_CHECK(max_rel(a, b, 120, 1e-2) < 1e-5, "1 and 3 threads differ");
    free(x);
    core_safetensors_close(io);
    core_convnext_free(m);
}

static void fast_gelu_matches_erf(void)
{
    enum { N = 20001 };
    float *a = xmalloc(N * sizeof *a), *b = xmalloc(N * sizeof *b);
    for (int i = 0; i < N; i++) a[i] = b[i] = -10.0f + 20.0f * i / (N - 1);
    core_convnext_gelu(a, N);
    core_convnext_gelu_naive(b, N);
    /* against GELU in double: error a few float ulp of max(|x|, 1) (for x
     * far below 0, 1 + erf cancels in float, in torch's too) */
    double wa = 0, wb = 0;
    for (int i = 0; i < N; i++) {
        double x = -10.0 + 20.0 * i / (N - 1), x32 = (float)x;
        double ref = 0.5 * x32 * (1.0 + erf(x32 / sqrt(2.0)));
        wa = fmax(wa, fabs(a[i] - ref) / fmax(fabs(x32), 1.0));
        wb = fmax(wb, fabs(b[i] - ref) / fmax(fabs(x32), 1.0));
    }
    ZT_CHECK(wa < 1e-6, "fast GELU is off by %.3g (erff: %.3g)", wa, wb);
    ZT_CHECK(a[N / 2] == 0.0f, "gelu(0) = %g", a[N / 2]);
    free(a);
    free(b);
}

/* Copy the fixture into path with tensor `drop` left out, or `reshape`
 * given a wrong first dimension. */
static void rewrite_fixture(const char *path, const char *drop, const char *reshape)
{
    core_safetensors *st;
    char err[256];
    ZT_CHECK(core_safetensors_open(&st, fixture("convnext_fixture.safetensors"), err, sizeof err) == 0, "%s", err);
    int n = core_safetensors_count(st), k = 0;
    core_st_out *o = xcalloc((size_t)n, sizeof *o);
    float **bufs = xcalloc((size_t)n, sizeof *bufs);
    for (int i = 0; i < n; i++) {
        const core_st_tensor *t = core_safetensors_at(st, i);
        if (drop && !strcmp(t->name, drop)) continue;
        bufs[k] = xcalloc((size_t)t->numel + 8, sizeof(float));
        ZT_OK(core_safetensors_read_f32(t, bufs[k], err, sizeof err));
        o[k].name = t->name;
        o[k].ndim = t->ndim;
        memcpy(o[k].shape, t->shape, sizeof o[k].shape);
        o[k].data = bufs[k];
        if (reshape && !strcmp(t->name, reshape)) o[k].shape[0] = 1; /* fewer elements: fits the buffer */
        k++;
    }
    ZT_CHECK(core_safetensors_write(path, o, k, NULL, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < k; i++) free(bufs[i]);
    free(bufs);
    free(o);
    core_safetensors_close(st);
}

static void refuses_a_file_missing_a_tensor(void)
{
    rewrite_fixture("missing.safetensors", "stages.2.blocks.1.mlp.fc2.bias", NULL);
    core_convnext *m = (core_convnext *)1;
    char err[256] = "";
    ZT_CHECK(core_convnext_load(&m, "missing.safetensors", NULL, err, sizeof err) == -1, "loaded");
    ZT_CHECK(m == NULL, "out not cleared");
    ZT_CHECK(strstr(err, "\"stages.2.blocks.1.mlp.fc2.bias\" is missing"), "reason: %s", err);
}

static void refuses_a_tensor_of_the_wrong_shape(void)
{
    rewrite_fixture("shape.safetensors", NULL, "stages.1.blocks.0.gamma");
    core_convnext *m;
    char err[256] = "";
    ZT_CHECK(core_convnext_load(&m, "shape.safetensors", NULL, err, sizeof err) == -1, "loaded");
    ZT_CHECK(strstr(err, "\"stages.1.blocks.0.gamma\" has shape (1), expected (24)"), "reason: %s", err);
}

static void refuses_the_wrong_architecture_by_name(void)
{
    core_convnext *m;
    char err[256] = "";
    ZT_CHECK(core_convnext_load(&m, fixture("convnext_fixture.safetensors"), "convnext_nano", err, sizeof err) == -1,
             "a tiny fixture loaded as convnext_nano");
    ZT_CHECK(strstr(err, "\"stem.0.weight\" has shape (16, 3, 4, 4), expected (80, 3, 4, 4)"), "reason: %s", err);
    ZT_CHECK(core_convnext_load(&m, fixture("convnext_fixture.safetensors"), "convnext_huge", err, sizeof err) == -1,
             "unknown arch accepted");
    ZT_CHECK(strstr(err, "unknown architecture"), "reason: %s", err);
    ZT_CHECK(core_convnext_load(&m, fixture("convnext_fixture_io.safetensors"), NULL, err, sizeof err) == -1,
             "the I/O file loaded as a model");
    ZT_CHECK(strstr(err, "stem.0.weight"), "reason: %s", err);
}

/* Random weights under timm's names and shapes for an architecture, written
 * with the C writer (fc weights as conv_mlp=True 1x1 convs). */
static void write_random_arch_head(const char *path, const core_convnext_arch *a, uint64_t seed,
                                   int n_ans, const char *answers)
{
    core_rng r;
    core_rng_seed(&r, seed);
    core_st_out *o = xcalloc(1024, sizeof *o);
    char (*names)[96] = xcalloc(1024, sizeof *names);
    float **bufs = xcalloc(1024, sizeof *bufs);
    int n = 0;
#define ADD(nd, ...) do { \
        int64_t sh_[] = {__VA_ARGS__}; size_t ne_ = 1; \
        for (int q_ = 0; q_ < (nd); q_++) { o[n].shape[q_] = sh_[q_]; ne_ *= (size_t)sh_[q_]; } \
        o[n].ndim = (nd); o[n].name = names[n]; bufs[n] = xmalloc(ne_ * sizeof(float)); \
        double sc_ = (nd) == 1 ? 0.1 : 1.0 / sqrt((double)ne_ / (double)sh_[0]); \
        for (size_t e_ = 0; e_ < ne_; e_++) bufs[n][e_] = (float)(sc_ * core_rng_normal(&r)); \
        if (strstr(names[n], "norm.weight") || strstr(names[n], "gamma") || strstr(names[n], "stem.1.weight") || \
            strstr(names[n], "downsample.0.weight")) for (size_t e_ = 0; e_ < ne_; e_++) bufs[n][e_] += 1.0f; \
        o[n].data = bufs[n]; n++; } while (0)
    int64_t c0 = a->dims[0];
    snprintf(names[n], 96, "stem.0.weight"); ADD(4, c0, 3, 4, 4);
    snprintf(names[n], 96, "stem.0.bias"); ADD(1, c0);
    snprintf(names[n], 96, "stem.1.weight"); ADD(1, c0);
    snprintf(names[n], 96, "stem.1.bias"); ADD(1, c0);
    for (int s = 0; s < a->nstages; s++) {
        int64_t c = a->dims[s], cin = s ? a->dims[s - 1] : c, d = 4 * c;
        if (s) {
            snprintf(names[n], 96, "stages.%d.downsample.0.weight", s); ADD(1, cin);
            snprintf(names[n], 96, "stages.%d.downsample.0.bias", s); ADD(1, cin);
            snprintf(names[n], 96, "stages.%d.downsample.1.weight", s); ADD(4, c, cin, 2, 2);
            snprintf(names[n], 96, "stages.%d.downsample.1.bias", s); ADD(1, c);
        }
        for (int b = 0; b < a->depths[s]; b++) {
            snprintf(names[n], 96, "stages.%d.blocks.%d.conv_dw.weight", s, b); ADD(4, c, 1, 7, 7);
            snprintf(names[n], 96, "stages.%d.blocks.%d.conv_dw.bias", s, b); ADD(1, c);
            snprintf(names[n], 96, "stages.%d.blocks.%d.norm.weight", s, b); ADD(1, c);
            snprintf(names[n], 96, "stages.%d.blocks.%d.norm.bias", s, b); ADD(1, c);
            snprintf(names[n], 96, "stages.%d.blocks.%d.mlp.fc1.weight", s, b); ADD(4, d, c, 1, 1);
            snprintf(names[n], 96, "stages.%d.blocks.%d.mlp.fc1.bias", s, b); ADD(1, d);
            snprintf(names[n], 96, "stages.%d.blocks.%d.mlp.fc2.weight", s, b); ADD(4, c, d, 1, 1);
            snprintf(names[n], 96, "stages.%d.blocks.%d.mlp.fc2.bias", s, b); ADD(1, c);
            snprintf(names[n], 96, "stages.%d.blocks.%d.gamma", s, b); ADD(1, c);
        }
    }
    int64_t cl = a->dims[a->nstages - 1];
    snprintf(names[n], 96, "head.norm.weight"); ADD(1, cl);
    snprintf(names[n], 96, "head.norm.bias"); ADD(1, cl);
    if (!answers) {
        snprintf(names[n], 96, "head.fc.weight"); ADD(2, 37, cl);   /* a classifier: ignored */
    } else {                                                        /* a vote head (zoosh pretrain's) */
        snprintf(names[n], 96, "head.fc.weight"); ADD(2, n_ans, cl);
        snprintf(names[n], 96, "head.fc.bias"); ADD(1, n_ans);
    }
#undef ADD
    char err[256];
    const char *meta[] = {"answers", answers, NULL};
    ZT_CHECK(core_safetensors_write(path, o, n, answers ? meta : NULL, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    free(names);
    free(o);
}

static void write_random_arch(const char *path, const core_convnext_arch *a, uint64_t seed)
{
    write_random_arch_head(path, a, seed, 0, NULL);
}

/* zoosh pretrain's files carry their head (head.fc, one output per answer,
 * metadata "answers"): embed turns embeddings into vote fractions with it,
 * a softmax within each question. */
static void the_vote_head_predicts_fractions_per_question(void)
{
    core_convnext_arch a;
    ZT_OK(core_convnext_arch_lookup("atto", &a));
    write_random_arch_head("votes.safetensors", &a, 21, 5, "Class1.1,Class1.2,Class1.3,Class2.1,Class2.2");
    core_convnext *m;
    char err[256];
    ZT_CHECK(core_convnext_load(&m, "votes.safetensors", NULL, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(core_convnext_head_answers(m) == 5, "answers %d", core_convnext_head_answers(m));
    ZT_CHECK(!strcmp(core_convnext_head_answer(m, 3), "Class2.1"), "answer 3 %s", core_convnext_head_answer(m, 3));
    ZT_CHECK(core_convnext_head_answer(m, 5) == NULL, "answer past the end");
    core_rng r;
    core_rng_seed(&r, 5);
    enum { N = 2, C = 320 };
    float x[N * 3 * 32 * 32], e[N * C], v[N * 5];
    for (int i = 0; i < N * 3 * 32 * 32; i++) x[i] = (float)core_rng_uniform(&r);
    ZT_OK(core_convnext_forward(m, x, N, 32, 32, e));
    core_convnext_head_votes(m, e, N, v);
    /* the same from the file's tensors by hand */
    core_safetensors *st;
    ZT_OK(core_safetensors_open(&st, "votes.safetensors", err, sizeof err));
    float *w = xmalloc(sizeof(float) * 5 * C), b[5];
    ZT_OK(core_safetensors_read_f32(core_safetensors_find(st, "head.fc.weight"), w, err, sizeof err));
    ZT_OK(core_safetensors_read_f32(core_safetensors_find(st, "head.fc.bias"), b, err, sizeof err));
    core_safetensors_close(st);
    for (int i = 0; i < N; i++) {
        double z[5], p[5];
        for (int k = 0; k < 5; k++) {
            z[k] = b[k];
            for (int c = 0; c < C; c++) z[k] += (double)w[k * C + c] * e[i * C + c];
        }
        double s1 = exp(z[0]) + exp(z[1]) + exp(z[2]), s2 = exp(z[3]) + exp(z[4]);
        for (int k = 0; k < 5; k++) p[k] = exp(z[k]) / (k < 3 ? s1 : s2);
        for (int k = 0; k < 5; k++)
            ZT_CHECK(fabs(v[i * 5 + k] - p[k]) < 1e-5, "galaxy %d answer %d: %g, by hand %g", i, k, v[i * 5 + k], p[k]);
        ZT_CHECK(fabs(v[i * 5] + v[i * 5 + 1] + v[i * 5 + 2] - 1) < 1e-5, "question 1 sums to %g",
                 v[i * 5] + v[i * 5 + 1] + v[i * 5 + 2]);
    }
    free(w);
    core_convnext_free(m);
    /* names that do not match the head are refused, naming both */
    write_random_arch_head("votes_bad.safetensors", &a, 21, 5, "Class1.1,Class1.2");
    ZT_CHECK(core_convnext_load(&m, "votes_bad.safetensors", NULL, err, sizeof err) == -1, "loaded");
    ZT_CHECK(strstr(err, "\"answers\" names fewer answers, \"head.fc.weight\" has 5 rows"), "reason: %s", err);
    write_random_arch_head("votes_bad2.safetensors", &a, 21, 5, "Class1.1,Class1.2,Class1.3,Class2.1,Class2.2,");
    ZT_CHECK(core_convnext_load(&m, "votes_bad2.safetensors", NULL, err, sizeof err) == -1, "trailing comma loaded");
    ZT_CHECK(strstr(err, "names malformed answers"), "reason: %s", err);
}

static void loads_the_real_nano_architecture(void)
{
    core_convnext_arch a;
    ZT_OK(core_convnext_arch_lookup("convnext_nano", &a));
    write_random_arch("nano.safetensors", &a, 11);
    core_convnext *m;
    char err[256];
    ZT_CHECK(core_convnext_load(&m, "nano.safetensors", NULL, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(!strcmp(core_convnext_arch_of(m)->name, "convnext_nano"), "inferred %s", core_convnext_arch_of(m)->name);
    ZT_CHECK(core_convnext_dim(m) == 640, "dim %d", core_convnext_dim(m));
    ZT_CHECK(core_convnext_head_answers(m) == 0, "a classifier without answers taken as a vote head");
    /* timm lists convnext_nano at 15.6 M parameters with its 1000-class head;
     * the torch reference counts 15,593,560, less 640 * 1000 + 1000 for it: */
    ZT_CHECK(core_convnext_nparams(m) == 14952560, "nparams %zu", core_convnext_nparams(m));
    core_convnext_free(m);
    ZT_CHECK(core_convnext_load(&m, "nano.safetensors", "nano", err, sizeof err) == 0, "by name: %s", err);
    /* one 32 px image: fast against naive on the full-size network */
    core_rng r;
    core_rng_seed(&r, 3);
    float x[3 * 32 * 32], fa[640], fb[640];
    for (int i = 0; i < 3 * 32 * 32; i++) x[i] = (float)core_rng_uniform(&r);
    ZT_OK(core_convnext_forward(m, x, 1, 32, 32, fa));
    ZT_OK(core_convnext_forward_naive(m, x, 1, 32, 32, fb));
    double rr = max_rel(fa, fb, 640, 1.0);   /* outputs are O(1) after head.norm */
    ZT_CHECK(rr < 1e-4, "nano: fast and naive differ by %.3g relative", rr);
    core_convnext_free(m);
    ZT_CHECK(core_convnext_load(&m, "nano.safetensors", "pico", err, sizeof err) == -1, "nano loaded as pico");
    ZT_CHECK(strstr(err, "expected (64, 3, 4, 4)"), "reason: %s", err);
}

static void refuses_extra_blocks_of_another_architecture(void)
{
    core_convnext_arch a;
    ZT_OK(core_convnext_arch_lookup("atto", &a));
    a.depths[2] = 7;               /* one block more than atto has */
    write_random_arch("atto7.safetensors", &a, 12);
    core_convnext *m;
    char err[256];
    ZT_CHECK(core_convnext_load(&m, "atto7.safetensors", "convnext_atto", err, sizeof err) == -1, "loaded");
    ZT_CHECK(strstr(err, "\"stages.2.blocks.6.conv_dw.weight\" is not part of convnext_atto"), "reason: %s", err);
}

const zt_case zt_suite_convnext[] = {
    {"infers depths and dims from the tensor shapes", infers_the_architecture_from_shapes, 0},
    {"matches PyTorch on a batch of 32 px images", matches_pytorch_on_32px_images, 0},
    {"matches PyTorch on a 70x52 image (sizes not divisible by 32)", matches_pytorch_on_sizes_not_divisible_by_32, 0},
    {"embeds an RGB8 image as Zoobot preprocesses it", embeds_an_rgb8_image_as_zoobot_preprocesses_it, 0},
    {"preprocessing crops the centre and scales to [0, 1]", preprocessing_crops_the_centre_and_scales_to_one, 0},
    {"the 8 views are the 8 symmetries of the square", the_eight_views_are_the_symmetries_of_the_square, 0},
    {"8 views make the embedding orientation-free (and are the mean of 8 forwards)",
     eight_views_make_the_embedding_orientation_free, 0},
    {"fast path equals the naive loops", fast_path_equals_the_naive_loops, 0},
    {"threads do not change the result", threads_do_not_change_the_result, 0},
    {"fast GELU matches erf", fast_gelu_matches_erf, 0},
    {"refuses a file missing a tensor, naming it", refuses_a_file_missing_a_tensor, 0},
    {"refuses a tensor of the wrong shape, naming it", refuses_a_tensor_of_the_wrong_shape, 0},
    {"refuses a file of another architecture", refuses_the_wrong_architecture_by_name, 0},
    {"loads the real convnext_nano under timm's names", loads_the_real_nano_architecture, 0},
    {"refuses extra blocks an architecture does not have", refuses_extra_blocks_of_another_architecture, 0},
    {"the vote head predicts fractions per question (and bad answer names are refused)",
     the_vote_head_predicts_fractions_per_question, 0},
    {0}
};
