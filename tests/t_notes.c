/*
 * t_notes.c - notes and #tags on galaxies (core/notes.c): a note keeps its
 * exact bytes through the answer log (layout 4), bad text is refused before
 * anything is written, tags are found, one note per user and galaxy stands
 * (the latest not retracted), and the export writes id_str,user,time,note,tags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/notes.h"
#include "store/store.h"
#include "tests/zt.h"
#include "tests/zt_ws.h"

typedef struct { char text[4][STORE_TEXT_MAX]; uint32_t gid[4]; int n; } seen;

static int collect(const store_answer *a, void *p)
{
    seen *s = p;
    if (s->n < 4) {
        snprintf(s->text[s->n], sizeof s->text[0], "%s", a->text);
        s->gid[s->n] = a->gid;
    }
    s->n++;
    return 0;
}

static int retract_cb(zs_txn *txn, void *p)
{
    store_answer r;
    memset(&r, 0, sizeof r);
    r.gid = 2;
    r.kind = STORE_ANS_RETRACT;
    r.retracts = *(uint64_t *)p;
    snprintf(r.task, sizeof r.task, "%s", CORE_NOTES_TASK);
    return store_answer_append(txn, &r, NULL);
}

static void notes_keep_their_bytes_and_the_latest_stands(void)
{
    zs_store *st = make_ws(3);
    char err[256];
    const char *evil = "\x1b]0;pwn\a \xc2\x9b" "31m #lens caf\xc3\xa9 #follow-up,#x";
    ZT_OK(core_notes_add(st, 1, evil, err, sizeof err));
    ZT_CHECK(core_notes_add(st, 1, "", err, sizeof err) == 1, "an empty note is refused");
    ZT_CHECK(core_notes_add(st, 1, "bad \xff utf-8", err, sizeof err) == 1 && strstr(err, "0xff"),
             "bad UTF-8 is refused, naming the byte: %s", err);
    char *big = malloc(STORE_TEXT_MAX + 1);
    memset(big, 'a', STORE_TEXT_MAX);
    big[STORE_TEXT_MAX] = 0;
    ZT_CHECK(core_notes_add(st, 1, big, err, sizeof err) == 1, "a note over %d bytes is refused", STORE_TEXT_MAX - 1);
    free(big);
    ZT_OK(core_notes_add(st, 2, "first", err, sizeof err));
    ZT_OK(core_notes_add(st, 2, "second #ring", err, sizeof err));

    zs_txn *txn;
    ZT_OK(store_read_begin(st, &txn));
    ZT_CHECK(store_layout(txn) == 4, "a note makes the layout 4, not %d", store_layout(txn));
    store_answer a;
    ZT_OK(store_answer_get(txn, 1, &a));
    ZT_CHECK(a.kind == STORE_ANS_NOTE && strcmp(a.text, evil) == 0 && strcmp(a.task, CORE_NOTES_TASK) == 0,
             "the note reads back byte for byte");
    seen s;
    memset(&s, 0, sizeof s);
    ZT_OK(core_notes_each(txn, 0, collect, &s));
    ZT_CHECK(s.n == 2 && strcmp(s.text[1], "second #ring") == 0 && s.gid[1] == 2,
             "one note per user and galaxy: the latest (%d notes)", s.n);
    memset(&s, 0, sizeof s);
    ZT_OK(core_notes_each(txn, 1, collect, &s));
    ZT_CHECK(s.n == 1 && s.gid[0] == 1, "notes of one galaxy");
    store_read_end(txn);

    uint64_t second = 3;
    ZT_OK(store_write(st, retract_cb, &second));
    ZT_OK(store_read_begin(st, &txn));
    memset(&s, 0, sizeof s);
    ZT_OK(core_notes_each(txn, 2, collect, &s));
    ZT_CHECK(s.n == 1 && strcmp(s.text[0], "first") == 0, "retracting the latest note brings back the one before");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    long rows = 0;
    ZT_OK(core_notes_export(txn, f, &rows));
    fclose(f);
    store_read_end(txn);
    ZT_CHECK(rows == 2 && strncmp(buf, "id_str,user,time,note,tags\nG0001,", 33) == 0, "export: %s", buf);
    ZT_CHECK(strstr(buf, ",lens;follow-up;x\n") && strstr(buf, "\nG0002,") && strstr(buf, ",first,\n"),
             "export: the tags and the notes: %s", buf);
    free(buf);

    char tags[64];
    core_notes_tags("#a b#c #-d, (#e.f) ## #", tags, sizeof tags);
    ZT_CHECK(strcmp(tags, "a;-d;e.f") == 0, "tags start a word: '%s'", tags);
    store_close(st);
}

const zt_case zt_suite_notes[] = {
    {"notes keep their bytes, bad text is refused, the latest per user stands, export has the tags",
     notes_keep_their_bytes_and_the_latest_stands, 0},
    {0},
};
