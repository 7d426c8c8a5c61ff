/*
 * label.h - the labeling screen (zoosh label) and the session logic under it.
 *
 * The session (tui_session_*) is the state machine without a terminal: which
 * galaxy is shown, where in its decision tree the user is, what undo does,
 * and every commit to the workspace.  It is driven by the screen and, in
 * tests/t_label.c, directly.  Rules:
 *  - a user sees only galaxies of this task they have not answered (net of
 *    retractions), that are not retired (--retire N answers in total by
 *    everyone) and that they did not skip this session;
 *  - order: the pending stack (undo / jump), then the queue (the stored
 *    ranked queue, or catalog = gid order);
 *  - a tree's whole path is committed as ONE STORE_ANS_TREE record when
 *    core_schema_next says it is complete; a rating at once; synchronously,
 *    before the next galaxy is shown;
 *  - undo steps back one question of the current galaxy, else retracts the
 *    previous galaxy's record (STORE_ANS_RETRACT; nothing is deleted) and
 *    shows that galaxy again at its last question.
 */
#ifndef ZOOSH_TUI_LABEL_H
#define ZOOSH_TUI_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/schema.h"
#include "store/store.h"

typedef struct tui_session tui_session;

typedef struct {
    const char *user;   /* NULL = the Unix user running zoosh */
    int retire;         /* answers in total after which a galaxy retires (<= 0: 5) */
} tui_session_opts;

typedef struct {
    uint32_t total;         /* galaxies in the workspace */
    uint32_t done_user;     /* galaxies this user has answered for this task (net) */
    int answers;            /* records committed this session, net of its undos */
    int retractions;        /* retractions appended this session */
    int favourite;          /* the current galaxy is starred by this user */
    int n_path;             /* steps answered on the current galaxy */
} tui_session_stats;

int  tui_session_open(tui_session **out, zs_store *st, const core_schema *schema,
                      const tui_session_opts *o, char *err, size_t errlen);
void tui_session_free(tui_session *s);

/* The current galaxy (0 when none is left for this user). */
uint32_t tui_session_gid(const tui_session *s);
/* Tells other labelers of the task that GID is on this one's screen (0:
 * none, at quit); they skip it when their answers and the galaxies on
 * screen would reach --retire.  No-op when unchanged or read-only.  When
 * another labeler claimed the same galaxy first and it is not yet being
 * answered here, moves on to the next one and returns 1. */
int tui_session_claim(tui_session *s, uint32_t gid);
/* The question being asked (index into schema->q), -1 for a rating task or
 * when no galaxy is left. */
int tui_session_question(const tui_session *s);
/* Answer the current question with answer index `choice` (tree) or the
 * rating `choice`.  0 = taken (and committed when the tree is complete),
 * 1 = not a valid choice (nothing changes), else a store error (nothing was
 * written; the question is asked again). */
int tui_session_answer(tui_session *s, int choice);
/* 0 = went back, 1 = nothing to undo, else a store error. */
int tui_session_undo(tui_session *s);
/* Skip the current galaxy (recorded as STORE_ANS_SKIP, never retires it). */
int tui_session_skip(tui_session *s);
/* Star / unstar the current galaxy (a FAVOURITE record, or its retraction). */
int tui_session_favourite(tui_session *s);
/* Show gid now (the current galaxy comes back after it). */
int tui_session_jump(tui_session *s, uint32_t gid);
/* Reads answers appended since the last look (other labelers) into the counts. */
int tui_session_refresh(tui_session *s);
/* Replace the queue (NULL, 0 = catalog order); the current galaxy stays. */
void tui_session_set_queue(tui_session *s, const uint32_t *gids, int n);
/* Start over at the queue's first eligible galaxy (the labeler opening on a
 * stored queue: the session opened on catalog order).  Only before any
 * answer: a tree path in progress is dropped. */
void tui_session_first(tui_session *s);
/* The next k galaxies that would follow the current one; returns how many. */
int tui_session_peek(const tui_session *s, uint32_t *out, int k);
/* Cheap (the screen calls it every frame). */
void tui_session_stats_get(const tui_session *s, tui_session_stats *st);
/* Galaxies this user could still be shown (a walk over all of them). */
uint32_t tui_session_available(const tui_session *s);
/* The steps given so far on the current galaxy: q[i], a[i]. */
int tui_session_path(const tui_session *s, int *q, int *a, int max);
/* 1 when gid is already answered by this user (net). */
int tui_session_answered(const tui_session *s, uint32_t gid);
/* A one-line message for the user about the last action ("" when none). */
const char *tui_session_message(const tui_session *s);

/* Copies catalog text for display: control characters, ESC, C1 controls,
 * bidi overrides and invalid UTF-8 become '?', tabs and newlines a space;
 * ascii_only also replaces every non-ASCII character.  out gets at most
 * cap - 1 bytes, never a cut character; returns its length. */
size_t tui_label_sanitize(const char *in, char *out, size_t cap, int ascii_only);

/* ---- the screen */
typedef enum { TUI_GRAPHICS_AUTO = 0, TUI_GRAPHICS_SIXEL, TUI_GRAPHICS_BLOCKS, TUI_GRAPHICS_NONE } tui_graphics;

typedef struct {
    const char *ws;
    const char *task;           /* schema name or file */
    tui_graphics graphics;
    int retire;                 /* <= 0: 5 */
    const char *keys_file;      /* NULL = defaults */
    const char *order;          /* NULL = the stored queue's */
    int retrain_every;          /* answers between background retrains (0 = never, < 0: 10) */
    int retrain_secs;           /* or this many seconds with new answers (<= 0: 300) */
    int image_px;               /* largest image side in pixels (0 = fill the pane) */
} tui_label_opts;

/* Runs the labeler until the user quits or a signal ends it; returns the
 * process exit status (messages on stderr only while curses is down). */
int tui_label_run(const tui_label_opts *o);

#endif
