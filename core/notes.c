/*
 * notes.c - notes and tags on galaxies (see notes.h): validation, the
 * append, the notes that stand (core_answers_counted) and their export.
 */
#include "core/notes.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/answers.h"
#include "core/csv.h"
#include "core/util.h"

/* Length of the UTF-8 sequence at p (shortest form, no surrogates, at most
 * U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (p[0] == 0xE0 && p[1] < 0xA0) return 0;
        if (p[0] == 0xED && p[1] >= 0xA0) return 0;
        return 3;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (p[0] == 0xF0 && p[1] < 0x90) return 0;
        if (p[0] == 0xF4 && p[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

int core_notes_valid(const char *text, char *err, size_t errlen)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n >= STORE_TEXT_MAX) {
        core_set_err(err, errlen, "a note holds 1 to %d bytes (this one: %zu)", STORE_TEXT_MAX - 1, n);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        size_t k = utf8_len(p);
        if (!k) {
            core_set_err(err, errlen, "a note is UTF-8 text: byte 0x%02x at %zu is not", *p, (size_t)(p - (const unsigned char *)text));
            return -1;
        }
        p += k;
    }
    return 0;
}

typedef struct { store_answer a; uint64_t seq; } add_ctx;

static int add_cb(zs_txn *txn, void *p)
{
    add_ctx *c = p;
    return store_answer_append(txn, &c->a, &c->seq);
}

int core_notes_add(zs_store *st, uint32_t gid, const char *text, char *err, size_t errlen)
{
    if (core_notes_valid(text, err, errlen)) return 1;
    add_ctx *c = xcalloc(1, sizeof *c);
    c->a.gid = gid;
    c->a.kind = STORE_ANS_NOTE;
    snprintf(c->a.task, sizeof c->a.task, "%s", CORE_NOTES_TASK);
    memcpy(c->a.text, text, strlen(text) + 1);
    int rc = store_write(st, add_cb, c);
    if (rc) core_set_err(err, errlen, "could not save the note: %s", store_strerror(rc));
    free(c);
    return rc;
}

static int tag_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

void core_notes_tags(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    if (cap) out[0] = 0;
    for (const char *p = text; *p; p++) {
        if (*p != '#' || (p > text && tag_char((unsigned char)p[-1])) || !tag_char((unsigned char)p[1])) continue;
        const char *e = p + 1;
        while (tag_char((unsigned char)*e)) e++;
        size_t k = (size_t)(e - p - 1);
        if (n + k + 2 <= cap) {
            if (n) out[n++] = ';';
            memcpy(out + n, p + 1, k);
            n += k;
            out[n] = 0;
        }
        p = e - 1;
    }
}

/* core_answers_counted hands one ctx to want and fn: this carries both. */
typedef struct {
    uint32_t gid;
    int (*fn)(const store_answer *a, void *ctx);
    void *ctx;
} each_ctx;

/* Notes compete per (galaxy, user): the latest stands. */
static int want_note(const store_answer *a, void *p)
{
    const each_ctx *w = p;
    if (a->kind != STORE_ANS_NOTE || strcmp(a->task, CORE_NOTES_TASK) != 0) return -1;
    return w->gid == 0 || a->gid == w->gid ? 0 : -1;
}

static int each_fn(const store_answer *a, void *p)
{
    each_ctx *w = p;
    return w->fn(a, w->ctx);
}

int core_notes_each(zs_txn *txn, uint32_t gid, int (*fn)(const store_answer *a, void *ctx), void *ctx)
{
    each_ctx w = {gid, fn, ctx};
    return core_answers_counted(txn, want_note, each_fn, &w);
}

int core_notes_read(zs_store *st, uint32_t gid, int (*fn)(const store_answer *a, void *ctx), void *ctx)
{
    zs_txn *txn = NULL;
    int rc = store_read_begin(st, &txn);
    if (rc == 0) rc = core_notes_each(txn, gid, fn, ctx);
    store_read_end(txn);
    return rc;
}

typedef struct { zs_txn *txn; FILE *out; long rows; } export_ctx;

static int export_row(const store_answer *a, void *p)
{
    export_ctx *x = p;
    store_galaxy g;
    int have = store_galaxy_get(x->txn, a->gid, &g) == 0;
    char tbuf[64], tags[STORE_TEXT_MAX];
    time_t secs = (time_t)(a->time_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    core_notes_tags(a->text, tags, sizeof tags);
    core_csv_put(x->out, have ? g.id_str : ""); fputc(',', x->out);
    core_csv_put(x->out, a->user); fputc(',', x->out);
    fprintf(x->out, "%s,", tbuf);
    core_csv_put(x->out, a->text); fputc(',', x->out);
    core_csv_put(x->out, tags); fputc('\n', x->out);
    if (have) store_galaxy_free(&g);
    x->rows++;
    return 0;
}

int core_notes_export(zs_txn *txn, FILE *out, long *rows)
{
    export_ctx x = {txn, out, 0};
    fprintf(out, "id_str,user,time,note,tags\n");
    int rc = core_notes_each(txn, 0, export_row, &x);
    *rows = x.rows;
    return rc;
}
