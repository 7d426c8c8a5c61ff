/*
 * csv.c - CSV reading through libcsv with line numbers, and writing (see csv.h).
 *
 * libcsv reports fields and row ends but not where they are in the file, so
 * the input is fed to it one line (or the part of a line inside one read
 * chunk) at a time: the line counter then always says where the parser is.
 * A row starts on the first line holding something other than CR/LF after
 * the previous row ended; quoted fields may run over several lines and the
 * row keeps the line it started on.
 */
#include "core/csv.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define CSV_CHUNK (1 << 20)


typedef struct {
    core_csv_row_fn fn;
    void *ctx;
    int stop;                 /* fn's non-zero return */
    /* current row: field bytes in one arena, NUL after each */
    char *arena;  size_t a_len, a_cap;
    size_t *off;  size_t *flen;  int nf, f_cap;
    char **ptrs;  int p_cap;
    long line;                /* line being fed (1-based) */
    long row_line;            /* line the current row started on */
    int pending;              /* a row has started and not ended */
    long index;
} reader;

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->stop) return;
    if (r->nf == r->f_cap) {
        r->f_cap = r->f_cap ? r->f_cap * 2 : 64;
        r->off = xrealloc(r->off, sizeof(size_t) * (size_t)r->f_cap);
        r->flen = xrealloc(r->flen, sizeof(size_t) * (size_t)r->f_cap);
    }
    if (r->a_len + len + 1 > r->a_cap) {
        while (r->a_len + len + 1 > r->a_cap) r->a_cap = r->a_cap ? r->a_cap * 2 : 4096;
        r->arena = xrealloc(r->arena, r->a_cap);
    }
    r->off[r->nf] = r->a_len;
    r->flen[r->nf] = len;
    if (len) memcpy(r->arena + r->a_len, s, len);
    r->arena[r->a_len + len] = 0;
    r->a_len += len + 1;
    r->nf++;
}

static void on_row(int c, void *data)
{
    (void)c;
    reader *r = data;
    if (r->stop) { r->nf = 0; r->a_len = 0; return; }
    if (r->nf > r->p_cap) {
        r->p_cap = r->nf;
        r->ptrs = xrealloc(r->ptrs, sizeof(char *) * (size_t)r->p_cap);
    }
    for (int i = 0; i < r->nf; i++) r->ptrs[i] = r->arena + r->off[i];
    core_csv_row row = {.n = r->nf, .f = r->ptrs, .len = r->flen,
                        .line = r->pending ? r->row_line : r->line, .index = r->index++};
    r->stop = r->fn(&row, r->ctx);
    r->nf = 0;
    r->a_len = 0;
    r->pending = 0;
}

static void reader_free(reader *r)
{
    free(r->arena); free(r->off); free(r->flen); free(r->ptrs);
}

static const char *parse_reason(void)
{
    return "malformed CSV (a quote inside an unquoted field, or text after a closing quote)";
}

/* Feeds one chunk, splitting it at line ends.  Returns 0, or -1 on a
 * parse error (err filled). */
static int feed(struct csv_parser *p, reader *r, const char *s, size_t n, const char *fname,
                char *err, size_t errlen)
{
    size_t i = 0;
    while (i < n && !r->stop) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t seg = nl ? (size_t)(nl - (s + i)) + 1 : n - i;
        if (!r->pending) {
            for (size_t k = 0; k < seg; k++)
                if (s[i + k] != '\r' && s[i + k] != '\n') { r->pending = 1; r->row_line = r->line; break; }
        }
        if (csv_parse(p, s + i, seg, on_field, on_row, r) != seg) {
            core_set_err(err, errlen, "%s:%ld: %s", fname, r->line, parse_reason());
            return -1;
        }
        i += seg;
        if (nl) r->line++;
    }
    return 0;
}

static int finish(struct csv_parser *p, reader *r, const char *fname, char *err, size_t errlen)
{
    if (r->stop) return r->stop;
    if (csv_fini(p, on_field, on_row, r) != 0) {
        core_set_err(err, errlen, "%s:%ld: unterminated quoted field (started on line %ld)", fname,
                r->line, r->row_line);
        return -1;
    }
    return r->stop;
}

int core_csv_read_mem(const char *buf, size_t len, const char *fname, core_csv_row_fn fn,
                      void *ctx, char *err, size_t errlen)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) core_fatal("csv_init failed");
    reader r = {.fn = fn, .ctx = ctx, .line = 1};
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) { buf += 3; len -= 3; }
    int rc = feed(&p, &r, buf, len, fname, err, errlen);
    if (rc == 0) rc = finish(&p, &r, fname, err, errlen);
    csv_free(&p);
    reader_free(&r);
    return rc;
}

int core_csv_read(const char *path, core_csv_row_fn fn, void *ctx, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) { core_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) core_fatal("csv_init failed");
    reader r = {.fn = fn, .ctx = ctx, .line = 1};
    char *chunk = xmalloc(CSV_CHUNK);
    int rc = 0, first = 1;
    for (;;) {
        size_t got = fread(chunk, 1, CSV_CHUNK, f);
        if (got == 0) {
            if (ferror(f)) { core_set_err(err, errlen, "%s: read error: %s", path, strerror(errno)); rc = -1; }
            break;
        }
        const char *s = chunk;
        if (first && got >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) { s += 3; got -= 3; }
        if (first && got >= 2 && (memcmp(s, "\xFF\xFE", 2) == 0 || memcmp(s, "\xFE\xFF", 2) == 0)) {
            core_set_err(err, errlen, "%s:1: UTF-16 text (a spreadsheet's \"Unicode text\"); save it as CSV in UTF-8", path);
            rc = -1;
            break;
        }
        first = 0;
        if ((rc = feed(&p, &r, s, got, path, err, errlen)) != 0) break;
        if (r.stop) break;
    }
    if (rc == 0) rc = finish(&p, &r, path, err, errlen);
    csv_free(&p);
    reader_free(&r);
    free(chunk);
    if (f != stdin) fclose(f);
    return rc;
}

static int blank(char ch) { return ch == ' ' || ch == '\t'; }

/* One number with blanks around it, as strtod (d) or strtof (f, its own
 * rounding, not strtod's narrowed): 0, or -1 when it is not one or
 * overflows; only the one asked for is written. */
static int parse_number(const char *s, double *d, float *f)
{
    while (blank(*s)) s++;
    if (!*s) return -1;
    char *end;
    errno = 0;
    double vd = 0;
    float vf = 0;
    if (d) vd = strtod(s, &end);
    else vf = strtof(s, &end);
    if (end == s) return -1;
    while (blank(*end)) end++;
    if (*end) return -1;
    if (errno == ERANGE && (d ? isinf(vd) : isinf(vf))) return -1;
    if (d) *d = vd;
    else *f = vf;
    return 0;
}

int core_parse_double(const char *s, double *out)
{
    return parse_number(s, out, NULL);
}

int core_parse_float(const char *s, float *out)
{
    return parse_number(s, NULL, out);
}

void core_csv_put(FILE *f, const char *field)
{
    size_t n = strlen(field);
    int q = n > 0 && (blank(field[0]) || blank(field[n - 1]));
    for (size_t i = 0; i < n && !q; i++)
        if (field[i] == ',' || field[i] == '"' || field[i] == '\n' || field[i] == '\r') q = 1;
    if (!q) { fwrite(field, 1, n, f); return; }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (field[i] == '"') fputc('"', f);
        fputc(field[i], f);
    }
    fputc('"', f);
}
