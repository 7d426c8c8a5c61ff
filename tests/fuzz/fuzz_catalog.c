/*
 * fuzz_catalog.c - fuzz target for the catalog CSV reader (core/catalog.h):
 * core_csv_read_mem on the bytes (every field touched and parsed as a
 * number, as the importer does), then core_catalog_load on the same bytes
 * through a scratch file.
 */
#include "tests/fuzz/fuzz.h"
#include "core/catalog.h"

static int fuzz_catalog_row(const core_csv_row *row, void *ctx)
{
    size_t *total = ctx;
    if (row->n < 0 || row->line < 1 || row->index < 0) abort();
    for (int i = 0; i < row->n; i++) {
        if (row->f[i][row->len[i]] != 0) abort();   /* NUL-terminated at len */
        *total += row->len[i];
        double d;
        (void)core_parse_double(row->f[i], &d);
        float fl;
        (void)core_parse_float(row->f[i], &fl);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char err[512];
    size_t total = 0;
    (void)core_csv_read_mem((const char *)data, size, "fuzz.csv", fuzz_catalog_row, &total, err, sizeof err);
    if (total > size) abort();   /* fields can only shrink (quotes go) */
    if (size <= (64u << 10)) {
        char path[256];
        fuzz_tmp_path(path, sizeof path, "catalog.csv");
        if (fuzz_write_file(path, data, size) == 0) {
            core_catalog c;
            if (core_catalog_load(path, &c, err, sizeof err) == 0) {
                (void)core_catalog_col(&c, "id");
                (void)core_catalog_col(&c, "file");
                for (long r = 0; r < c.n_rows; r++)
                    for (int j = 0; j < c.n_fields[r]; j++)
                        if (!c.cells[r][j]) abort();
                core_catalog_free(&c);
            }
        }
        unlink(path);
    }
    return 0;
}
