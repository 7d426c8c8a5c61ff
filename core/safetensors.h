/*
 * safetensors.h - reading and writing the safetensors format (the file a
 * Hugging Face / timm / Zoobot user downloads as model.safetensors).
 *
 * Layout (https://github.com/huggingface/safetensors, README "Format"):
 *   8 bytes   N, unsigned little-endian: size of the header
 *   N bytes   JSON object: name -> {"dtype": "F32", "shape": [..],
 *             "data_offsets": [begin, end]}, plus an optional "__metadata__"
 *             object of strings; may be padded with spaces
 *   rest      the byte buffer; offsets are relative to its start
 *
 * The reader maps the file (mmap) and validates everything before handing out
 * a tensor: header size bounds (CORE_ST_MAX_HEADER), well-formed JSON (cJSON),
 * known dtype, shape product * dtype size == offset span (overflow checked),
 * offsets inside the buffer, no two tensors overlapping, no holes, no
 * duplicate names.  A refused file leaves a short reason naming the tensor.
 */
#ifndef ZOOSH_CORE_SAFETENSORS_H
#define ZOOSH_CORE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define CORE_ST_MAX_HEADER (100u << 20)   /* refuse JSON headers over 100 MiB */
#define CORE_ST_MAX_DIMS 8

typedef enum {
    CORE_ST_F32, CORE_ST_F16, CORE_ST_BF16, CORE_ST_F64,
    CORE_ST_I64, CORE_ST_I32, CORE_ST_I16, CORE_ST_I8, CORE_ST_U8, CORE_ST_BOOL,
    CORE_ST_NDTYPES
} core_st_dtype;

typedef struct {
    const char *name;                   /* owned by the file handle */
    core_st_dtype dtype;
    int ndim;
    int64_t shape[CORE_ST_MAX_DIMS];
    int64_t numel;                      /* product of shape (1 for a scalar) */
    const void *data;                   /* into the mapping; may be unaligned */
    size_t nbytes;
} core_st_tensor;

typedef struct core_safetensors core_safetensors;

/* Map and validate a file.  0 on success; -1 with a reason in err. */
int  core_safetensors_open(core_safetensors **out, const char *path, char *err, size_t errlen);
/* The same on a buffer the caller keeps alive until close (fuzzing, tests). */
int  core_safetensors_open_mem(core_safetensors **out, const void *buf, size_t len,
                               char *err, size_t errlen);
void core_safetensors_close(core_safetensors *st);   /* NULL is fine */

int  core_safetensors_count(const core_safetensors *st);
/* Tensors in the order of their data offsets.  Borrowed, valid until close. */
const core_st_tensor *core_safetensors_at(const core_safetensors *st, int i);
const core_st_tensor *core_safetensors_find(const core_safetensors *st, const char *name);
/* A metadata value, or NULL. Borrowed, valid until close. */
const char *core_safetensors_meta(const core_safetensors *st, const char *key);

/* Copy a tensor into dst (numel floats), converting F16/BF16/F64 to f32.
 * 0, or -1 with a reason (integer dtypes are refused, and so is a NaN or
 * infinite value, naming the tensor and element). */
int  core_safetensors_read_f32(const core_st_tensor *t, float *dst, char *err, size_t errlen);

const char *core_st_dtype_name(core_st_dtype d);

/* Writer: F32 tensors only, in the given order, header padded to 8 bytes.
 * metadata: NULL or pairs {key, value, key, value, ..., NULL}. */
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[CORE_ST_MAX_DIMS];
    const float *data;                  /* product of shape floats */
} core_st_out;
int  core_safetensors_write(const char *path, const core_st_out *t, int n,
                            const char *const *metadata, char *err, size_t errlen);

#endif
