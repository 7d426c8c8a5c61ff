/*
 * session.h - the labeling rules under zoosh label, with no terminal.
 *
 * The session (core_session_*) is the state machine without a terminal: which
 * galaxy is shown, where in its decision tree the user is, what undo does,
 * and every commit to the workspace.  It is driven by the labeler (tui/label/) and,
 * in tests/t_label.c, directly.  Rules:
 *  - answers count as training and export count them (core/answers.h: per
 *    galaxy, user and kind, the latest answer not retracted), so a user
 *    answering a galaxy again replaces their answer and does not add one;
 *  - a user sees only galaxies of this task where no answer of theirs
 *    counts, that are not retired (--retire N answers that count, by
 *    everyone, plus the galaxies other labelers have on screen) and that
 *    they did not skip this session;
 *  - order: the pending stack (undo / jump), then the queue (the stored
 *    ranked queue, or catalog = gid order);
 *  - a tree's whole path is committed as ONE STORE_ANS_TREE record when
 *    core_schema_next says it is complete; a rating at once; synchronously,
 *    before the next galaxy is shown;
 *  - undo steps back one question of the current galaxy, else retracts the
 *    previous galaxy's record (STORE_ANS_RETRACT; nothing is deleted) and
 *    shows that galaxy again at its last question;
 *  - a page (core_session_answer_page, the grid of core/grid.h) is one
 *    record per galaxy written in ONE transaction, and undone as a whole:
 *    one undo retracts every record of the last page and shows its
 *    galaxies again, first to last;
 *  - a page claims every galaxy on it (core_session_claim_page): it is
 *    chosen in the same write transaction that claims it, after reading
 *    the other labelers' claims, and leaves out every galaxy another
 *    labeler has on screen, whatever --retire says, so two labelers'
 *    pages never overlap.  The claim goes with the next claim (the next
 *    page, one galaxy again, 0 at quit).
 */
#ifndef ZOOSH_CORE_SESSION_H
#define ZOOSH_CORE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "core/schema.h"
#include "store/store.h"

typedef struct core_session core_session;

typedef struct {
    const char *user;   /* NULL = the Unix user running zoosh */
    int retire;         /* answers in total after which a galaxy retires (<= 0: 5) */
} core_session_opts;

typedef struct {
    uint32_t total;         /* galaxies in the workspace */
    uint32_t done_user;     /* galaxies where an answer of this user's counts for this task */
    int answers;            /* records committed this session, net of its undos */
    int retractions;        /* retractions appended this session */
    int favourite;          /* the current galaxy is starred by this user */
    int n_path;             /* steps answered on the current galaxy */
} core_session_stats;

int  core_session_open(core_session **out, zs_store *st, const core_schema *schema,
                      const core_session_opts *o, char *err, size_t errlen);
void core_session_free(core_session *s);

/* The current galaxy (0 when none is left for this user). */
uint32_t core_session_gid(const core_session *s);
/* Tells other labelers of the task that GID is on this one's screen (0:
 * none, at quit); they skip it when their answers and the galaxies on
 * screen would reach --retire.  No-op when unchanged or read-only.  When
 * another labeler claimed the same galaxy first and it is not yet being
 * answered here, moves on to the next one and returns 1. */
int core_session_claim(core_session *s, uint32_t gid);
/* Tells other labelers that gids[0..n) are on this one's screen (a page
 * already chosen: the s grid), replacing this labeler's claim.  No-op when
 * unchanged and recent, or read-only.  0, or the store's code. */
int core_session_claim_gids(core_session *s, const uint32_t *gids, int n);
/* Chooses and claims a page in one write transaction (see the rules
 * above): at most k galaxies into page (k), from cand[0..n_cand) in that
 * order, or when cand is NULL from the current galaxy and the ones that
 * follow it (core_session_peek's); each one this user may be shown and no
 * other labeler has on screen.  A read-only workspace, or claims that
 * cannot be written: the page from the claims as read.  Returns the
 * page's size. */
int core_session_claim_page(core_session *s, const uint32_t *cand, int n_cand, uint32_t *page, int k);
/* 1 when gid is unlabelled for this user: no answer of theirs counts, not
 * retired by answers, not skipped this session (others' claims aside). */
int core_session_unlabelled(const core_session *s, uint32_t gid);
/* The question being asked (index into schema->q), -1 for a rating task or
 * when no galaxy is left. */
int core_session_question(const core_session *s);
/* 1 when the current question takes "can't tell" (a tree question of two
 * answers: yes/no): choice n_answers (the key after the last answer) is
 * stored as CORE_ANSWERS_CANT_TELL; the questions that follow only from
 * one of its answers are then not asked, the others are. */
int core_session_can_abstain(const core_session *s);
/* Answer the current question with answer index `choice` (tree) or the
 * rating `choice`.  0 = taken (and committed when the tree is complete),
 * 1 = not a valid choice (nothing changes), else a store error (nothing was
 * written; the question is asked again). */
int core_session_answer(core_session *s, int choice);
/* 0 = went back, 1 = nothing to undo, else a store error. */
int core_session_undo(core_session *s);
/* 1 when every galaxy of the task is answered by one choice (a rating, or a
 * tree whose first question is its only one asked): pages can label it. */
int core_session_pageable(const core_session *s);
/* Answers n galaxies at once: choice[i] is gids[i]'s answer index to the
 * task's one question (or its rating).  One record each, attributed to
 * this user, all in one synced write; the current galaxy moves on when the
 * page answered it.  0 = saved, 1 = not a pageable task or a bad entry
 * (nothing written, the message says which), else a store error (nothing
 * written). */
int core_session_answer_page(core_session *s, const uint32_t *gids, const int *choice, int n);
/* The galaxies (and answers) of the page the last undo retracted, in page
 * order; 0 when the last undo was not of a page. */
int core_session_undone(const core_session *s, uint32_t *gids, int *choice, int max);
/* Skip the current galaxy (recorded as STORE_ANS_SKIP, never retires it). */
int core_session_skip(core_session *s);
/* Star / unstar the current galaxy (a FAVOURITE record, or its retraction). */
int core_session_favourite(core_session *s);
/* Show gid now (the current galaxy comes back after it). */
int core_session_jump(core_session *s, uint32_t gid);
/* Reads answers appended since the last look (other labelers) into the counts. */
int core_session_refresh(core_session *s);
/* Replace the queue (NULL, 0 = catalog order); the current galaxy stays. */
void core_session_set_queue(core_session *s, const uint32_t *gids, int n);
/* Start over at the queue's first eligible galaxy (the labeler opening on a
 * stored queue: the session opened on catalog order).  Only before any
 * answer: a tree path in progress is dropped. */
void core_session_first(core_session *s);
/* The next k galaxies that would follow the current one; returns how many. */
int core_session_peek(const core_session *s, uint32_t *out, int k);
/* Cheap (the screen calls it every frame). */
void core_session_stats_get(const core_session *s, core_session_stats *st);
/* Galaxies this user could still be shown (a walk over all of them). */
uint32_t core_session_available(const core_session *s);
/* The steps given so far on the current galaxy: q[i], a[i]. */
int core_session_path(const core_session *s, int *q, int *a, int max);
/* 1 when an answer of this user's counts on gid. */
int core_session_answered(const core_session *s, uint32_t gid);
/* A one-line message for the user about the last action ("" when none). */
const char *core_session_message(const core_session *s);

#endif
