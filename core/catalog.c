/*
 * catalog.c - a whole small CSV catalog in memory (see catalog.h).
 */
#include "core/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int keep_row(const core_csv_row *row, void *ctx)
{
    core_catalog *c = ctx;
    char **cells = xmalloc(sizeof(char *) * (size_t)(row->n ? row->n : 1));
    for (int i = 0; i < row->n; i++) cells[i] = xstrdup(row->f[i]);
    if (row->index == 0) {
        c->n_cols = row->n;
        c->cols = cells;
        return 0;
    }
    long r = c->n_rows++;
    if ((r & (r - 1)) == 0) {   /* grow at powers of two */
        size_t cap = r ? (size_t)r * 2 : 1;
        c->cells = xrealloc(c->cells, sizeof(char **) * cap);
        c->n_fields = xrealloc(c->n_fields, sizeof(int) * cap);
        c->lines = xrealloc(c->lines, sizeof(long) * cap);
    }
    c->cells[r] = cells;
    c->n_fields[r] = row->n;
    c->lines[r] = row->line;
    return 0;
}

int core_catalog_load(const char *path, core_catalog *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = core_csv_read(path, keep_row, out, err, errlen);
    if (rc == 0 && out->n_cols == 0) {
        core_set_err(err, errlen, "%s:1: empty file (no header row)", path);
        rc = -1;
    }
    if (rc) core_catalog_free(out);
    return rc ? -1 : 0;
}

void core_catalog_free(core_catalog *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_cols; i++) free(c->cols[i]);
    free(c->cols);
    for (long r = 0; r < c->n_rows; r++) {
        for (int i = 0; i < c->n_fields[r]; i++) free(c->cells[r][i]);
        free(c->cells[r]);
    }
    free(c->cells); free(c->n_fields); free(c->lines);
    memset(c, 0, sizeof *c);
}

int core_catalog_col(const core_catalog *c, const char *name)
{
    for (int i = 0; i < c->n_cols; i++)
        if (strcmp(c->cols[i], name) == 0) return i;
    return -1;
}

/* --------------------------------------------------------------- numbers */

