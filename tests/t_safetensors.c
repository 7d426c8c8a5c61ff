/*
 * t_safetensors.c - the safetensors reader keeps what the writer wrote and
 * refuses every kind of broken file with a reason naming the tensor.  The
 * broken files are built here, byte by byte.
 */
#include "core/safetensors.h"
#include "tests/zt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A file of an 8-byte length (hlen, or strlen(json) when hlen is -1), the
 * JSON, then ndata bytes of data. */
static void write_raw(const char *path, const char *json, long long hlen, size_t ndata)
{
    FILE *f = fopen(path, "wb");
    ZT_CHECK(f != NULL, "cannot create %s", path);
    uint64_t n = hlen < 0 ? strlen(json) : (uint64_t)hlen;
    for (int i = 0; i < 8; i++) fputc((int)(n >> (8 * i) & 0xff), f);
    fputs(json, f);
    for (size_t i = 0; i < ndata; i++) fputc((int)(i & 0xff), f);
    fclose(f);
}

/* A file of the header JSON and the given data bytes. */
static void write_st(const char *path, const char *json, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ZT_CHECK(f != NULL, "cannot create %s", path);
    uint64_t hl = strlen(json);
    for (int i = 0; i < 8; i++) fputc((int)(hl >> (8 * i) & 0xff), f);
    fputs(json, f);
    fwrite(data, 1, n, f);
    fclose(f);
}

/* Opening must fail and the reason must contain `want`. */
static void refuses(const char *json, long long hlen, size_t ndata, const char *want)
{
    char err[256] = "";
    core_safetensors *st = (core_safetensors *)1;
    write_raw("bad.safetensors", json, hlen, ndata);
    int rc = core_safetensors_open(&st, "bad.safetensors", err, sizeof err);
    ZT_CHECK(rc == -1, "a broken file (%s) was accepted", want);
    ZT_CHECK(st == NULL, "out not cleared on failure");
    ZT_CHECK(strstr(err, want) != NULL, "reason \"%s\" does not mention \"%s\"", err, want);
}

static void keeps_what_it_wrote(void)
{
    float a[6] = {1, 2, 3, 4, 5, -6.5f}, b[2] = {0.25f, 1e-30f};
    core_st_out t[] = {
        {"layer.weight", 2, {2, 3}, a},
        {"layer.bias", 1, {2}, b},
        {"scalar.empty", 2, {0, 3}, a},
    };
    const char *meta[] = {"format", "pt", "made_by", "t_safetensors", NULL};
    char err[256];
    ZT_OK(core_safetensors_write("w.safetensors", t, 3, meta, err, sizeof err));
    core_safetensors *st;
    ZT_CHECK(core_safetensors_open(&st, "w.safetensors", err, sizeof err) == 0, "%s", err);
    ZT_CHECK(core_safetensors_count(st) == 3, "count %d", core_safetensors_count(st));
    const core_st_tensor *w = core_safetensors_find(st, "layer.weight");
    ZT_CHECK(w && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 3 && w->numel == 6, "weight shape");
    float back[6];
    ZT_OK(core_safetensors_read_f32(w, back, err, sizeof err));
    ZT_CHECK(!memcmp(back, a, sizeof a), "weight data changed");
    const core_st_tensor *bb = core_safetensors_find(st, "layer.bias");
    ZT_OK(core_safetensors_read_f32(bb, back, err, sizeof err));
    ZT_CHECK(back[0] == 0.25f && back[1] == 1e-30f, "bias data changed");
    ZT_CHECK(core_safetensors_find(st, "nope") == NULL, "found a tensor that is not there");
    ZT_CHECK(core_safetensors_meta(st, "made_by") && !strcmp(core_safetensors_meta(st, "made_by"), "t_safetensors"),
             "metadata lost");
    ZT_CHECK(core_safetensors_find(st, "scalar.empty")->numel == 0, "empty tensor");
    core_safetensors_close(st);
    core_safetensors_close(NULL);
}

static void converts_f16_bf16_to_f32(void)
{
    /* F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 0x0001;
     * BF16: 1.0 = 0x3f80, -3.0 = 0xc040 */
    const char *json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
    const uint8_t data[12] = {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x80, 0x3f, 0x40, 0xc0};
    write_st("h.safetensors", json, data, sizeof data);
    core_safetensors *st;
    char err[256];
    ZT_CHECK(core_safetensors_open(&st, "h.safetensors", err, sizeof err) == 0, "%s", err);
    float h[4], b[2];
    ZT_OK(core_safetensors_read_f32(core_safetensors_find(st, "h"), h, err, sizeof err));
    ZT_OK(core_safetensors_read_f32(core_safetensors_find(st, "b"), b, err, sizeof err));
    ZT_CHECK(h[0] == 1.0f && h[1] == -2.0f && h[2] == 65504.0f, "f16 %g %g %g", h[0], h[1], h[2]);
    ZT_CHECK(h[3] == 5.9604644775390625e-08f, "f16 subnormal %g", h[3]);
    ZT_CHECK(b[0] == 1.0f && b[1] == -3.0f, "bf16 %g %g", b[0], b[1]);
    core_safetensors_close(st);
}

static void refuses_integer_reads_as_floats(void)
{
    write_raw("i.safetensors", "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", -1, 16);
    core_safetensors *st;
    char err[256];
    ZT_CHECK(core_safetensors_open(&st, "i.safetensors", err, sizeof err) == 0, "%s", err);
    float x[2];
    ZT_CHECK(core_safetensors_read_f32(core_safetensors_find(st, "ids"), x, err, sizeof err) == -1,
             "an I64 tensor was read as floats");
    ZT_CHECK(strstr(err, "ids") && strstr(err, "I64"), "reason: %s", err);
    core_safetensors_close(st);
}

#define T1 "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"

static void refuses_truncated_data(void) { refuses(T1, -1, 12, "\"w\""); }
static void refuses_truncated_header(void) { refuses(T1, 400, 0, "truncated"); }
static void refuses_a_file_shorter_than_the_length(void)
{
    FILE *f = fopen("bad.safetensors", "wb");
    fputs("abc", f);
    fclose(f);
    char err[256];
    core_safetensors *st;
    ZT_CHECK(core_safetensors_open(&st, "bad.safetensors", err, sizeof err) == -1, "3-byte file accepted");
    ZT_CHECK(strstr(err, "too short"), "reason: %s", err);
    ZT_CHECK(core_safetensors_open(&st, "missing.safetensors", err, sizeof err) == -1, "missing file accepted");
}
static void refuses_a_huge_header(void) { refuses(T1, 1LL << 40, 16, "exceeds"); }
static void refuses_a_header_that_is_not_json(void)
{
    refuses("not json at all, just words", -1, 0, "not a JSON object");
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}", -1, 16, "well-formed");
    refuses("[1,2,3]", -1, 0, "not a JSON object");
}
static void refuses_a_shape_that_does_not_fit_the_offsets(void)
{
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,16]}}", -1, 16, "need 24 bytes but data_offsets span 16");
    refuses("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", -1, 16, "\"w\": shape and dtype F16");
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", -1, 16, "shape[0]");
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,16]}}",
            -1, 16, "overflows");
}
static void refuses_lying_offsets(void)
{
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[100,116]}}", -1, 16, "run past the end");
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,0]}}", -1, 16, "before begin");
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0.5,16.5]}}", -1, 17, "not non-negative integers");
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0]}}", -1, 16, "not a pair");
}
static void refuses_overlapping_tensors(void)
{
    refuses("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", -1, 16, "overlap");
}
static void refuses_holes_and_unindexed_bytes(void)
{
    refuses("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", -1, 16, "hole");
    refuses(T1, -1, 20, "not described");
}
static void refuses_an_unknown_dtype(void)
{
    refuses("{\"w\":{\"dtype\":\"F31\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", -1, 16, "unknown dtype \"F31\"");
    refuses("{\"w\":{\"shape\":[2,2],\"data_offsets\":[0,16]}}", -1, 16, "dtype");
}
static void refuses_duplicate_names(void)
{
    refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", -1, 16, "twice");
}

static void refuses_nan_or_inf_weights(void)
{
    /* F32 NaN 0x7fc00000, F16 +inf 0x7c00: reading them as weights fails
     * naming the tensor and the element */
    const char *json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                       "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[12,16]}}";
    const uint8_t data[16] = {0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x3f, 0x00, 0x3c, 0x00, 0x7c};
    write_st("nan.safetensors", json, data, sizeof data);
    core_safetensors *st;
    char err[256];
    ZT_CHECK(core_safetensors_open(&st, "nan.safetensors", err, sizeof err) == 0, "%s", err);
    float v[3];
    ZT_CHECK(core_safetensors_read_f32(core_safetensors_find(st, "w"), v, err, sizeof err) == -1, "a NaN weight was read");
    ZT_CHECK(strstr(err, "\"w\": element 1 is NaN") != NULL, "reason: %s", err);
    ZT_CHECK(core_safetensors_read_f32(core_safetensors_find(st, "h"), v, err, sizeof err) == -1, "an inf weight was read");
    ZT_CHECK(strstr(err, "\"h\": element 1 is infinite") != NULL, "reason: %s", err);
    core_safetensors_close(st);
}

static void reads_from_memory_too(void)
{
    const char *json = T1;
    size_t hl = strlen(json), len = 8 + hl + 16;
    unsigned char *buf = calloc(1, len);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, json, hl);
    core_safetensors *st;
    char err[256];
    ZT_CHECK(core_safetensors_open_mem(&st, buf, len, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(core_safetensors_find(st, "w")->numel == 4, "numel");
    core_safetensors_close(st);
    ZT_CHECK(core_safetensors_open_mem(&st, buf, len - 1, err, sizeof err) == -1, "short buffer accepted");
    free(buf);
}

const zt_case zt_suite_safetensors[] = {
    {"keeps the tensors and metadata it wrote", keeps_what_it_wrote, 0},
    {"converts F16 and BF16 to float32", converts_f16_bf16_to_f32, 0},
    {"refuses to read an integer tensor as floats", refuses_integer_reads_as_floats, 0},
    {"refuses a file whose data is truncated", refuses_truncated_data, 0},
    {"refuses a file whose header is truncated", refuses_truncated_header, 0},
    {"refuses a file shorter than its length field, or missing", refuses_a_file_shorter_than_the_length, 0},
    {"refuses a huge header length", refuses_a_huge_header, 0},
    {"refuses a header that is not JSON", refuses_a_header_that_is_not_json, 0},
    {"refuses a shape that does not fit its offsets", refuses_a_shape_that_does_not_fit_the_offsets, 0},
    {"refuses offsets that lie", refuses_lying_offsets, 0},
    {"refuses overlapping tensors", refuses_overlapping_tensors, 0},
    {"refuses holes and bytes no tensor describes", refuses_holes_and_unindexed_bytes, 0},
    {"refuses an unknown or missing dtype", refuses_an_unknown_dtype, 0},
    {"refuses a tensor named twice", refuses_duplicate_names, 0},
    {"refuses NaN or infinite weights, naming tensor and element", refuses_nan_or_inf_weights, 0},
    {"reads a buffer in memory the same way", reads_from_memory_too, 0},
    {0}
};
