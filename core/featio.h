/*
 * featio.h - reading galaxy feature vectors (representations) from files:
 *
 *   Zoobot HDF5 (libhdf5): dataset `predictions` (galaxy, feature, sample)
 *     float32/float64, averaged over samples (a 2-D (galaxy, feature) dataset
 *     is taken as one sample); `id_str` (variable- or fixed-length strings);
 *     `label_cols` optional (its count must equal the feature count).
 *   CSV: header `id_str` (or `id`) then `feat_0 .. feat_{D-1}`; one galaxy per row.
 *   NumPy .npy: float32 / float64, shape (galaxy, feature) or (galaxy,
 *     feature, sample), C order, plus an id list file: one id per line
 *     (an optional first line "id_str" or "id" is a header).
 *
 * The format is found by content (HDF5 and .npy magic bytes), else CSV.
 * Errors name the file (and line / column for text) and keep one reason.
 */
#ifndef ZOOSH_CORE_FEATIO_H
#define ZOOSH_CORE_FEATIO_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    int    n, dim;
    float *x;            /* (n, dim) row-major, malloc'ed */
    char **ids;          /* (n) malloc'ed strings */
    long  *lines;        /* (n) line of each row in a text file, or 0 */
    char   format[8];    /* "hdf5", "csv", "npy" */
    int    n_samples;    /* samples averaged (HDF5 / npy 3-D), 1 otherwise */
    char   provenance[512];  /* e.g. "zoobot hdf5 /abs/f.h5 (label_cols feat_0..feat_639, 5 samples)" */
    size_t x_map_len;    /* internal: x is a mapping of this many bytes (private copy-on-write; shared in the HDF5 reader child), not malloc'ed */
} core_featset;

/* ids_path: the id list for .npy (ignored for the others; NULL = none).
 * 0 on success, -1 with "FILE[:LINE]: reason" in err. */
int  core_feat_load(const char *path, const char *ids_path, core_featset *out, char *err, size_t errlen);
int  core_feat_load_hdf5(const char *path, core_featset *out, char *err, size_t errlen);
int  core_feat_load_csv(const char *path, core_featset *out, char *err, size_t errlen);
int  core_feat_load_npy(const char *path, const char *ids_path, core_featset *out, char *err, size_t errlen);
void core_featset_free(core_featset *fs);   /* NULL is fine */

/* Writes a Zoobot-style HDF5 (predictions (n, dim, 1) float32, id_str and
 * label_cols as variable-length UTF-8 strings: cols[dim], or feat_0 ..
 * feat_{dim-1} when cols is NULL) to out, an open stream
 * (export's temporary file, made O_EXCL, or a device): the file is built in
 * memory by HDF5's core driver, so no path is opened again by name.  name is
 * for messages.  0, or -1 with a reason in err. */
int  core_feat_save_hdf5(FILE *out, const char *name, const core_featset *fs, char *const *cols, char *err,
                         size_t errlen);

#endif
