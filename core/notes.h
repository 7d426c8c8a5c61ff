/*
 * notes.h - notes and tags on galaxies: a volunteer's free text ("spiral
 * arms look odd #lens #followup") about one galaxy.
 *
 * A note is a record of the answer log (STORE_ANS_NOTE, task "note"): the
 * log already gives what a note needs -- append-only, the writer's name and
 * uid, a time, undo by retraction, check / repair / backup -- and the
 * counting rule of core/answers.h decides which notes stand: one note per
 * user and galaxy, the latest not retracted (writing a new one replaces
 * yours), foreign records ignored.  The store keeps the text's bytes; here
 * a note must be valid UTF-8 of 1 to STORE_TEXT_MAX - 1 bytes with no NUL.
 * Escape sequences and other control characters are kept as typed: whoever
 * prints a note sanitises it (tui_text_safe), as every stored text.
 *
 * Tags are the words of a note that start with '#' ("#lens"): the '#' and
 * a name of letters, digits, '-', '_' and '.' (ASCII), ended by anything else.
 */
#ifndef ZOOSH_CORE_NOTES_H
#define ZOOSH_CORE_NOTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define CORE_NOTES_TASK "note"

/* 0 when text may be a note, else -1 with the reason in err. */
int core_notes_valid(const char *text, char *err, size_t errlen);
/* Writes text as user's (the current user) note on gid.  0, 1 with the
 * reason in err for a text that is not a note, else a store error (nothing
 * written). */
int core_notes_add(zs_store *st, uint32_t gid, const char *text, char *err, size_t errlen);
/* The tags of text, ';'-separated without their '#', into out ("" none). */
void core_notes_tags(const char *text, char *out, size_t cap);
/* fn for each note that stands (gid 0: on every galaxy), in log order.
 * 0, fn's first non-zero return, or a store error. */
int core_notes_each(zs_txn *txn, uint32_t gid, int (*fn)(const store_answer *a, void *ctx), void *ctx);
/* core_notes_each in a read transaction of its own (the labeler's side pane). */
int core_notes_read(zs_store *st, uint32_t gid, int (*fn)(const store_answer *a, void *ctx), void *ctx);
/* The notes that stand as CSV rows "id_str,user,time,note,tags" (header
 * first) into out; *rows gets how many.  0 or a store error. */
int core_notes_export(zs_txn *txn, FILE *out, long *rows);

#endif
