/*
 * catalog.h - a galaxy catalog (CSV, read through core/csv.h) and what its
 * columns mean.  Two ways to read one, into the same core_catalog:
 *
 *   core_catalog_load   every cell kept as text (small files, tests, the
 *                       pretraining catalog);
 *   core_catalog_check  the import catalog: each column given its meaning
 *                       and every row parsed and checked, bad rows listed
 *                       as "FILE:LINE: column NAME: reason".
 *
 * Import catalog columns: `id_str` or `id` (the galaxy), `file_loc` or
 * `file` (its image, relative to the root folder; stored absolute),
 * `ra`/`dec`; vote columns of the built-in trees and of the workspace's own
 * tasks `<question>_<answer>`, `..._fraction`, `<question>_total-votes`,
 * and a column named after a one-question task (`ring`) become priors;
 * so do Kaggle's `Class1.1 .. Class11.6`: cumulative fractions (multiplied
 * down the tree), stored per question (each divided by its class's sum) as
 * `<question>_<answer>_fraction` of gz2-kaggle, which gz2 shares but for
 * the 7 odd-feature-gz2 answers;
 * `feat_0..feat_{D-1}` a feature set "catalog"; everything else is kept
 * verbatim as galaxy metadata.
 */
#ifndef ZOOSH_CORE_CATALOG_H
#define ZOOSH_CORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/csv.h"
#include "core/util.h"
#include "store/store.h"

/* What a column of an import catalog means (core_catalog.kind). */
enum { CORE_CATALOG_META, CORE_CATALOG_ID, CORE_CATALOG_FILE, CORE_CATALOG_RA, CORE_CATALOG_DEC,
       CORE_CATALOG_PRIOR, CORE_CATALOG_FEAT };
/* What a prior column holds, and so which values it may take. */
enum { CORE_CATALOG_PRIOR_COUNT, CORE_CATALOG_PRIOR_FRACTION, CORE_CATALOG_PRIOR_LABEL };

/* One checked row of an import catalog. */
typedef struct {
    long   line;          /* line the row starts on */
    char  *id;
    char  *file;          /* absolute path */
    double ra, dec;       /* NAN = unknown */
    char **meta_val;      /* (n_meta) */
    double *prior;        /* (n_prior) NAN = empty */
    float *feat;          /* (feat_dim) or NULL */
    int    bad;           /* 1: a problem was listed for it; not to be written */
    int    fidx;          /* its row in a features file, -1 (set by the importer) */
    uint32_t gid;         /* its galaxy once written (set by the importer) */
} core_catalog_row;

/* Problems found while checking, one "FILE:LINE: column NAME: reason" each. */
typedef struct {
    char **msg;
    int n, cap;
} core_catalog_msgs;

typedef struct {
    int    n_cols;
    char **cols;          /* (n_cols) header names */
    long   n_rows;        /* data rows */
    /* core_catalog_load: every cell as text */
    char ***cells;        /* (n_rows, n_fields[r]) */
    int   *n_fields;      /* (n_rows) */
    long  *lines;         /* (n_rows) line each row starts on */
    /* core_catalog_check: what the columns mean and every row checked */
    char  *abspath;       /* the catalog file, absolute */
    int   *kind;          /* (n_cols) CORE_CATALOG_META .. _FEAT */
    int   *sub;           /* (n_cols) index within its kind */
    int    id_col, file_col;
    int    n_meta, n_prior, feat_dim;
    char **meta_key;      /* (n_meta) borrowed from cols */
    char **prior_name;    /* (n_prior) borrowed from cols (or kaggle_name) */
    unsigned char *prior_kind;  /* (n_prior) CORE_CATALOG_PRIOR_* */
    unsigned char *prior_class; /* (n_prior) a Kaggle column's class 1..11, else 0 */
    char **kaggle_name;   /* (n_cols) a Kaggle column's prior name, else NULL */
    int    n_kaggle;      /* Kaggle ClassN.M columns read as gz2 fractions */
    core_catalog_row *rows;     /* (n_rows) */
    core_strmap ids;      /* id -> row */
} core_catalog;

int  core_catalog_load(const char *path, core_catalog *out, char *err, size_t errlen);
/* Reads the import catalog at path: images relative to root (NULL: the
 * catalog's folder); priors are the vote columns of the built-in trees and
 * of st's own tasks (st NULL: the built-ins only).  A row with a problem is
 * listed in bad and marked bad; -1 with "FILE:LINE: reason" in err only for
 * a problem of the whole file (unreadable, malformed quoting, the header,
 * empty). */
int  core_catalog_check(const char *path, const char *root, zs_store *st, core_catalog *out,
                        core_catalog_msgs *bad, char *err, size_t errlen);
void core_catalog_free(core_catalog *c);
/* Index of a header column (exact match), -1 when absent. */
int  core_catalog_col(const core_catalog *c, const char *name);

void core_catalog_msgs_add(core_catalog_msgs *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void core_catalog_msgs_free(core_catalog_msgs *m);

#endif
