/*
 * catalog.h - a whole small CSV catalog in memory (header + rows), read
 * through core/csv.h.
 */
#ifndef ZOOSH_CORE_CATALOG_H
#define ZOOSH_CORE_CATALOG_H

#include "core/csv.h"

/* A whole small CSV in memory (header + rows), for tests and small files. */
typedef struct {
    int    n_cols;
    char **cols;         /* (n_cols) header names */
    long   n_rows;       /* data rows */
    char ***cells;       /* (n_rows, n_fields[r]) */
    int   *n_fields;     /* (n_rows) */
    long  *lines;        /* (n_rows) line each row starts on */
} core_catalog;

int  core_catalog_load(const char *path, core_catalog *out, char *err, size_t errlen);
void core_catalog_free(core_catalog *c);
/* Index of a header column (exact match), -1 when absent. */
int  core_catalog_col(const core_catalog *c, const char *name);

#endif
