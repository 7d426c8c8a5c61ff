/*
 * safetensors.c - safetensors reader (mmap + cJSON, everything validated)
 * and F32 writer.  Format and checks: see safetensors.h.  The checks follow
 * the reference implementation's (safetensors/src/tensor.rs: header too
 * large, invalid header, dtype, InvalidOffset, TensorInvalidInfo,
 * MetadataIncompleteBuffer) so a file it refuses we refuse too.
 */
#include "core/safetensors.h"
#include "core/util.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct core_safetensors {
    void *map;              /* mmap of the whole file, or NULL for _open_mem */
    size_t map_len;
    const uint8_t *buf;     /* the whole file */
    size_t len;
    int n;
    core_st_tensor *t;      /* (n) sorted by offset */
    char *names;            /* all names, NUL separated */
    int nmeta;
    char **meta;            /* (2 * nmeta) key, value */
};

static const struct { const char *name; size_t size; } DTYPES[CORE_ST_NDTYPES] = {
    [CORE_ST_F32] = {"F32", 4}, [CORE_ST_F16] = {"F16", 2}, [CORE_ST_BF16] = {"BF16", 2},
    [CORE_ST_F64] = {"F64", 8}, [CORE_ST_I64] = {"I64", 8}, [CORE_ST_I32] = {"I32", 4},
    [CORE_ST_I16] = {"I16", 2}, [CORE_ST_I8] = {"I8", 1}, [CORE_ST_U8] = {"U8", 1},
    [CORE_ST_BOOL] = {"BOOL", 1},
};

const char *core_st_dtype_name(core_st_dtype d)
{
    return (unsigned)d < CORE_ST_NDTYPES ? DTYPES[d].name : "?";
}

/* A JSON number that is a non-negative integer exactly representable. */
static int json_uint(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return -1;
    *v = (uint64_t)d;
    return 0;
}

static int cmp_offset(const void *a, const void *b)
{
    const core_st_tensor *x = a, *y = b;
    uintptr_t px = (uintptr_t)x->data, py = (uintptr_t)y->data;
    if (px != py) return px < py ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Parse and validate; fills st from st->buf/len. */
static int parse(core_safetensors *st, char *err, size_t errlen)
{
    int rc = -1;
    cJSON *root = NULL;
    const char **sorted = NULL;
    if (st->len < 8) {
        core_set_err(err, errlen, "file too short for a safetensors header (%zu bytes)", st->len);
        goto end;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | st->buf[i];
    if (hlen > CORE_ST_MAX_HEADER) {
        core_set_err(err, errlen, "header length %llu exceeds the %u byte limit",
               (unsigned long long)hlen, CORE_ST_MAX_HEADER);
        goto end;
    }
    if (hlen < 2) {
        core_set_err(err, errlen, "header length %llu is too small for a JSON object",
               (unsigned long long)hlen);
        goto end;
    }
    if (hlen > st->len - 8) {
        core_set_err(err, errlen, "truncated: header says %llu bytes but the file has %zu after the length",
               (unsigned long long)hlen, st->len - 8);
        goto end;
    }
    const char *json = (const char *)st->buf + 8;
    if (json[0] != '{') {
        core_set_err(err, errlen, "header is not a JSON object (starts with byte 0x%02x)",
               (unsigned char)json[0]);
        goto end;
    }
    const char *endp = NULL;
    root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &endp, 0);
    if (!root || !cJSON_IsObject(root)) {
        core_set_err(err, errlen, "header is not well-formed JSON (near byte %ld of the header)",
               endp ? (long)(endp - json) : (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : 0));
        goto end;
    }
    for (const char *p = endp; p && p < json + hlen; p++)
        if (*p != ' ' && *p != '\0' && *p != '\n' && *p != '\t' && *p != '\r') {
            core_set_err(err, errlen, "trailing bytes after the JSON header at byte %ld", (long)(p - json));
            goto end;
        }
    const uint8_t *data = st->buf + 8 + hlen;
    uint64_t data_len = st->len - 8 - hlen;

    int n = 0, nmeta = 0;
    size_t names_len = 0;
    for (cJSON *e = root->child; e; e = e->next) {
        if (!e->string) { core_set_err(err, errlen, "header entry without a name"); goto end; }
        if (!strcmp(e->string, "__metadata__")) {
            if (!cJSON_IsObject(e)) { core_set_err(err, errlen, "__metadata__ is not an object"); goto end; }
            for (cJSON *m = e->child; m; m = m->next) {
                if (!cJSON_IsString(m)) {
                    core_set_err(err, errlen, "__metadata__ value of \"%s\" is not a string", m->string);
                    goto end;
                }
                nmeta++;
            }
            continue;
        }
        n++;
        names_len += strlen(e->string) + 1;
    }
    st->t = xcalloc(n ? (size_t)n : 1, sizeof *st->t);
    st->names = xmalloc(names_len + 1);
    st->meta = xcalloc(2 * (size_t)nmeta + 1, sizeof *st->meta);
    char *np = st->names;
    for (cJSON *e = root->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            for (cJSON *m = e->child; m; m = m->next) {
                st->meta[2 * st->nmeta] = xstrdup(m->string);
                st->meta[2 * st->nmeta + 1] = xstrdup(m->valuestring);
                st->nmeta++;
            }
            continue;
        }
        const char *name = e->string;
        if (!cJSON_IsObject(e)) { core_set_err(err, errlen, "tensor \"%s\": entry is not an object", name); goto end; }
        const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(jd)) { core_set_err(err, errlen, "tensor \"%s\": missing or non-string dtype", name); goto end; }
        if (!cJSON_IsArray(js)) { core_set_err(err, errlen, "tensor \"%s\": missing or non-array shape", name); goto end; }
        if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2) {
            core_set_err(err, errlen, "tensor \"%s\": data_offsets is not a pair", name);
            goto end;
        }
        core_st_tensor *t = &st->t[st->n];
        int d;
        for (d = 0; d < CORE_ST_NDTYPES; d++)
            if (!strcmp(jd->valuestring, DTYPES[d].name)) break;
        if (d == CORE_ST_NDTYPES) {
            core_set_err(err, errlen, "tensor \"%s\": unknown dtype \"%.16s\"", name, jd->valuestring);
            goto end;
        }
        t->dtype = (core_st_dtype)d;
        t->ndim = cJSON_GetArraySize(js);
        if (t->ndim > CORE_ST_MAX_DIMS) {
            core_set_err(err, errlen, "tensor \"%s\": %d dimensions (at most %d)", name, t->ndim, CORE_ST_MAX_DIMS);
            goto end;
        }
        uint64_t numel = 1;
        int k = 0;
        for (const cJSON *s = js->child; s; s = s->next, k++) {
            uint64_t v;
            if (json_uint(s, &v)) {
                core_set_err(err, errlen, "tensor \"%s\": shape[%d] is not a non-negative integer", name, k);
                goto end;
            }
            if (v && numel > UINT64_MAX / 2 / v) {
                core_set_err(err, errlen, "tensor \"%s\": shape product overflows", name);
                goto end;
            }
            numel *= v;
            t->shape[k] = (int64_t)v;
        }
        uint64_t b, en;
        if (json_uint(jo->child, &b) || json_uint(jo->child->next, &en)) {
            core_set_err(err, errlen, "tensor \"%s\": data_offsets are not non-negative integers", name);
            goto end;
        }
        if (en < b) {
            core_set_err(err, errlen, "tensor \"%s\": data_offsets end %llu before begin %llu", name,
                   (unsigned long long)en, (unsigned long long)b);
            goto end;
        }
        uint64_t need = numel * DTYPES[d].size;
        if (numel > UINT64_MAX / 8 || en - b != need) {
            core_set_err(err, errlen, "tensor \"%s\": shape and dtype %s need %llu bytes but data_offsets span %llu",
                   name, DTYPES[d].name, (unsigned long long)need, (unsigned long long)(en - b));
            goto end;
        }
        if (en > data_len) {
            core_set_err(err, errlen, "tensor \"%s\": data_offsets [%llu, %llu) run past the end of the data (%llu bytes): truncated file?",
                   name, (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_len);
            goto end;
        }
        t->numel = (int64_t)numel;
        t->data = data + b;
        t->nbytes = (size_t)need;
        size_t nl = strlen(name) + 1;
        memcpy(np, name, nl);
        t->name = np;
        np += nl;
        st->n++;
    }
    /* duplicate names (cJSON keeps both) */
    sorted = xmalloc((st->n ? (size_t)st->n : 1) * sizeof *sorted);
    for (int i = 0; i < st->n; i++) sorted[i] = st->t[i].name;
    qsort(sorted, (size_t)st->n, sizeof *sorted, cmp_name);
    for (int i = 1; i < st->n; i++)
        if (!strcmp(sorted[i], sorted[i - 1])) {
            core_set_err(err, errlen, "tensor \"%s\" appears twice in the header", sorted[i]);
            goto end;
        }
    /* no overlap, no holes: sorted by begin, each starts where the last ended */
    qsort(st->t, (size_t)st->n, sizeof *st->t, cmp_offset);
    const uint8_t *at = data;
    for (int i = 0; i < st->n; i++) {
        const uint8_t *p = st->t[i].data;
        if (p < at) {
            core_set_err(err, errlen, "tensor \"%s\": data_offsets [%zu, %zu) overlap tensor \"%s\"",
                   st->t[i].name, (size_t)(p - data), (size_t)(p - data) + st->t[i].nbytes,
                   st->t[i - 1].name);
            goto end;
        }
        if (p > at) {
            core_set_err(err, errlen, "tensor \"%s\": hole of %zu unused bytes before its data at offset %zu",
                   st->t[i].name, (size_t)(p - at), (size_t)(p - data));
            goto end;
        }
        at = p + st->t[i].nbytes;
    }
    if ((uint64_t)(at - data) != data_len) {
        core_set_err(err, errlen, "%llu bytes after the last tensor are not described by the header",
               (unsigned long long)(data_len - (uint64_t)(at - data)));
        goto end;
    }
    rc = 0;
end:
    free(sorted);
    cJSON_Delete(root);
    return rc;
}

/* A handle on buf (the mapping map, or NULL), parsed; -1 (freed) when it does not parse. */
static int open_buf(core_safetensors **out, const void *buf, size_t len, void *map, char *err, size_t errlen)
{
    core_safetensors *st = xcalloc(1, sizeof *st);
    st->map = map;
    st->map_len = map ? len : 0;
    st->buf = buf;
    st->len = len;
    if (parse(st, err, errlen)) {
        core_safetensors_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

int core_safetensors_open_mem(core_safetensors **out, const void *buf, size_t len,
                              char *err, size_t errlen)
{
    *out = NULL;
    return open_buf(out, buf, len, NULL, err, errlen);
}

int core_safetensors_open(core_safetensors **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        core_set_err(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        core_set_err(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            core_set_err(err, errlen, "cannot map: %s", strerror(errno));
            close(fd);
            return -1;
        }
    }
    close(fd);
    return open_buf(out, map, len, map, err, errlen);
}

void core_safetensors_close(core_safetensors *st)
{
    if (!st) return;
    if (st->map) munmap(st->map, st->map_len);
    for (int i = 0; i < 2 * st->nmeta; i++) free(st->meta[i]);
    free(st->meta);
    free(st->t);
    free(st->names);
    free(st);
}

int core_safetensors_count(const core_safetensors *st) { return st->n; }

const core_st_tensor *core_safetensors_at(const core_safetensors *st, int i)
{
    return i >= 0 && i < st->n ? &st->t[i] : NULL;
}

const core_st_tensor *core_safetensors_find(const core_safetensors *st, const char *name)
{
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name)) return &st->t[i];
    return NULL;
}

const char *core_safetensors_meta(const core_safetensors *st, const char *key)
{
    for (int i = 0; i < st->nmeta; i++)
        if (!strcmp(st->meta[2 * i], key)) return st->meta[2 * i + 1];
    return NULL;
}

/* IEEE half -> float, subnormals and inf/nan included. */
static float half_to_f32(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
    if (e == 0) {
        if (!m) u = s;
        else {                       /* subnormal: renormalise */
            e = 113;
            while (!(m & 0x400)) { m <<= 1; e--; }
            u = s | e << 23 | (m & 0x3ff) << 13;
        }
    } else if (e == 31) u = s | 0x7f800000u | m << 13;
    else u = s | (e + 112) << 23 | m << 13;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int convert_f32(const core_st_tensor *t, float *dst, char *err, size_t errlen)
{
    const uint8_t *p = t->data;
    int64_t n = t->numel;
    switch (t->dtype) {
    case CORE_ST_F32:
        memcpy(dst, p, (size_t)n * 4);   /* host is little-endian (x86-64, arm64) */
        return 0;
    case CORE_ST_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = half_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    case CORE_ST_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
            memcpy(&dst[i], &u, 4);
        }
        return 0;
    case CORE_ST_F64:
        for (int64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        return 0;
    default:
        core_set_err(err, errlen, "tensor \"%s\": dtype %s is not a floating-point type",
               t->name, DTYPES[t->dtype].name);
        return -1;
    }
}

int core_safetensors_read_f32(const core_st_tensor *t, float *dst, char *err, size_t errlen)
{
    if (convert_f32(t, dst, err, errlen)) return -1;
    /* one NaN weight turns every output into NaN, which would be stored as
     * features and poison distances, PCA and heads: refuse the file here */
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(dst[i])) {
            core_set_err(err, errlen, "tensor \"%s\": element %lld is %s (weights must be finite numbers)",
                         t->name, (long long)i, isnan(dst[i]) ? "NaN" : "infinite");
            return -1;
        }
    return 0;
}

int core_safetensors_write(const char *path, const core_st_out *t, int n,
                           const char *const *metadata, char *err, size_t errlen)
{
    int rc = -1;
    FILE *f = NULL;
    char *hdr = NULL;
    core_outfile out = {0};
    cJSON *root = cJSON_CreateObject();
    if (metadata && metadata[0]) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; metadata[i] && metadata[i + 1]; i += 2)
            cJSON_AddStringToObject(m, metadata[i], metadata[i + 1]);
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *s = cJSON_AddArrayToObject(e, "shape");
        uint64_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t[i].shape[d]));
            numel *= (uint64_t)t[i].shape[d];
        }
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        off += numel * 4;
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
    }
    hdr = cJSON_PrintUnformatted(root);
    if (!hdr) { core_set_err(err, errlen, "cannot format the header"); goto end; }
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;
    if (core_out_open(&out, path, err, errlen)) goto end;
    f = out.f;
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(hdr, 1, hl, f);
    for (size_t i = hl; i < padded; i++) fputc(' ', f);
    for (int i = 0; i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= (size_t)t[i].shape[d];
        if (numel && fwrite(t[i].data, 4, numel, f) != numel) break;
    }
    f = NULL;
    rc = core_out_close(&out, 1, err, errlen);
end:
    if (f) core_out_close(&out, 0, NULL, 0);     /* leave no half-written file behind */
    cJSON_free(hdr);
    cJSON_Delete(root);
    return rc;
}
