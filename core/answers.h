/*
 * answers.h - the answers that count: the one rule the labeler's session,
 * training and export share.
 *
 * Of the answers a caller's `want` accepts (it returns a kind, 0 or 1, for
 * those and -1 for the rest; answers on the same galaxy by the same user of
 * the same kind compete: one "vote"), those not retracted and, of each
 * (galaxy, user, kind), only the latest: a changed mind replaces an answer,
 * a second session does not add one.  Retracting a vote's latest answer
 * brings back its previous answer not retracted, if any.
 *
 * Two ways in:
 *  - core_answers_counted: the whole log at once, calling fn for each answer
 *    that counts (training, export);
 *  - a counter (core_answers_new): fed the log in order, incrementally from
 *    the last seq it saw, and asked per galaxy and user at any point (the
 *    labeler's session: retirement, "already answered by me").
 * Both are the same code: core_answers_counted feeds a counter.
 *
 * Foreign records -- ones no zoosh command writes, so a group member made
 * them with another tool -- take no part: a retraction of an answer by
 * another user (name or uid), a record whose user name was first written
 * by another uid, and a record of the old form (no uid) after one of the
 * new.  zoosh check lists them.  A member who forges a record consistently
 * (another's name and uid) is not caught: see README, "Sharing".
 */
#ifndef ZOOSH_CORE_ANSWERS_H
#define ZOOSH_CORE_ANSWERS_H

#include <stdint.h>

#include "store/store.h"

/* Which answers take part and as which kind (0 or 1); -1 = not at all.
 * Never called for retractions nor for gid 0. */
typedef int (*core_answers_want_fn)(const store_answer *a, void *ctx);

/* fn is called for each answer that counts, in log order.  Two walks of the
 * answer log in txn.  Returns 0, the first non-zero return of fn, or a
 * store error code. */
int core_answers_counted(zs_txn *txn, core_answers_want_fn want,
                         int (*fn)(const store_answer *a, void *ctx), void *ctx);

/* ---- can't tell
 * A volunteer who cannot decide a yes/no question (one of two answers)
 * answers it CORE_ANSWERS_CANT_TELL.  The record is a vote like any other:
 * it replaces the user's earlier answer on the galaxy, is replaced by a
 * later one, and counts toward retirement (someone looked; asking the same
 * person again would not help).  The can't-tell step is an abstention for
 * everything that reads labels: it counts toward no answer column (the
 * path's other steps count as usual), so export --format labels / zoobot
 * and training leave it out, while --format answers lists it as stored.
 * (A schema whose question lists cant-tell as a real answer -- gz-decals'
 * spiral-arm-count -- counts it as that answer.)  A want function that
 * wants a task's tree answers must want a record that abstains too (as the
 * same kind), or an earlier "yes" of the same user would still count. */
#define CORE_ANSWERS_CANT_TELL "cant-tell"
/* 1 when a is a tree answer with a step answered "can't tell". */
int core_answers_abstains(const store_answer *a);

/* ---- the counter */
typedef struct core_answers core_answers;

/* want and ctx are kept (ctx must outlive the counter).  Never NULL. */
core_answers *core_answers_new(core_answers_want_fn want, void *ctx);
void core_answers_free(core_answers *c);
/* Takes one record of the log.  Records must come in ascending seq; one at
 * or below the last seq taken is ignored, so feeding a record twice is
 * harmless. */
void core_answers_feed(core_answers *c, const store_answer *a);
/* Feeds the log in txn after the last seq taken.  0 or a store error. */
int core_answers_read(core_answers *c, zs_txn *txn);
/* The last seq taken (0 before any). */
uint64_t core_answers_last_seq(const core_answers *c);
/* fn(a, why) for each foreign record taken from now on (why says what is
 * wrong with it, e.g. "answer 7 by 'bob' retracts answer 3 by 'alice': ..."). */
typedef void (*core_answers_foreign_fn)(const store_answer *a, const char *why, void *ctx);
void core_answers_on_foreign(core_answers *c, core_answers_foreign_fn fn, void *ctx);
/* How many foreign records were skipped. */
uint64_t core_answers_foreign(const core_answers *c);

/* A user's id for the queries below (interned on first use: a user with no
 * answer yet has one too). */
int core_answers_user_id(core_answers *c, const char *user);
/* Votes, (user, kind), that count on gid. */
int core_answers_votes(const core_answers *c, uint32_t gid);
/* 1 when user has a vote that counts on gid (either kind), else 0. */
int core_answers_user_counts(const core_answers *c, uint32_t gid, int user);
/* The seq of the answer that counts for (gid, user, kind); 0 when none. */
uint64_t core_answers_latest_seq(const core_answers *c, uint32_t gid, int user, int kind);
/* Galaxies on which user has a vote that counts. */
uint32_t core_answers_user_galaxies(const core_answers *c, int user);

#endif
