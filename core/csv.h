/*
 * csv.h - reading CSV through libcsv, one row at a time, and writing a field.
 *
 * A real CSV parser (RFC 4180: quoted fields with commas, doubled quotes and
 * newlines; LF or CRLF line ends; a UTF-8 BOM is skipped).  Rows are handed
 * to a callback with their 1-based line number in the file (the line the row
 * starts on), so callers can say "FILE:LINE: column NAME: reason".  Blank
 * lines are skipped.  The first row is the header when the caller asks.
 *
 * Streaming: a 600 MB feature CSV never sits in memory as strings.
 */
#ifndef ZOOSH_CORE_CSV_H
#define ZOOSH_CORE_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    int     n;          /* number of fields in this row */
    char  **f;          /* f[i]: NUL-terminated field (borrowed: valid during the callback) */
    size_t *len;        /* len[i]: its length in bytes (a field may hold a NUL) */
    long    line;       /* 1-based line the row starts on */
    long    index;      /* 0-based row number (header = 0) */
} core_csv_row;

/* Return 0 to go on; a positive value stops the reading and is returned. */
typedef int (*core_csv_row_fn)(const core_csv_row *row, void *ctx);

/* Reads path (or standard input for "-") and calls fn for each row.
 * Returns 0, fn's non-zero value, or -1 with "FILE:LINE: reason" in err
 * (unreadable file, malformed quoting). */
int core_csv_read(const char *path, core_csv_row_fn fn, void *ctx, char *err, size_t errlen);
/* The same from memory; fname is used in messages. */
int core_csv_read_mem(const char *buf, size_t len, const char *fname, core_csv_row_fn fn,
                      void *ctx, char *err, size_t errlen);

/* Parsing numbers strictly: the whole field (surrounding blanks allowed) must
 * be a finite-or-nan decimal number.  0 on success, -1 else. */
int core_parse_double(const char *s, double *out);
int core_parse_float(const char *s, float *out);

/* Writing CSV: appends field to f quoted when it needs to be (comma, quote,
 * CR, LF, leading/trailing space). */
void core_csv_put(FILE *f, const char *field);

#endif
