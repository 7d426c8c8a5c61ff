/*
 * schema.h - decision trees and rating tasks.
 *
 * Built in: "gz-decals" (GZ DECaLS DR5 = GZ DESI: 10 questions, 34 answers),
 * "gz2" (Galaxy Zoo 2 as Zoobot's GZ2 schema: 10 questions, 30 answers),
 * "gz2-kaggle" (Galaxy Zoo 2 as the 37 Kaggle columns Class1.1 .. Class11.6,
 * 11 questions), "ring" (one yes/no question) and "interest" (a 0-5 rating).  Users can write their own tree in a text file
 * (format documented in core/schema.c and README).
 *
 * A question is asked when it has no parent or when its parent answer
 * ("<question>_<answer>") was given earlier on this galaxy's path.  Questions
 * are asked in schema order.  Vote columns are named "<question>_<answer>".
 */
#ifndef ZOOSH_CORE_SCHEMA_H
#define ZOOSH_CORE_SCHEMA_H

#include <stddef.h>

#define CORE_SCHEMA_MAX_Q 32
#define CORE_SCHEMA_MAX_A 10        /* the labeler's keys 1-9 and 0 */
#define CORE_SCHEMA_MAX_RATING 5    /* a rating task's values lie in 0..5 (the store's range) */

typedef enum { CORE_TASK_TREE = 1, CORE_TASK_RATING = 2 } core_task_kind;

typedef struct {
    char key[48];            /* "smooth-or-featured" */
    char text[160];          /* "Is the galaxy simply smooth and rounded...?" */
    int  parent_q, parent_a; /* indices of the answer that leads here; -1 = always asked */
    int  n_answers;
    struct { char key[48]; char text[64]; } answers[CORE_SCHEMA_MAX_A];
} core_question;

typedef struct {
    char name[32];           /* task name: "gz-decals", "ring", "interest", ... */
    core_task_kind kind;
    int  n_questions;
    core_question q[CORE_SCHEMA_MAX_Q];
    int  rating_min, rating_max;   /* CORE_TASK_RATING: 0..5 */
    char prior[64];          /* what the task starts from before anyone answers:
                              * a yes/no task "SET:COLUMN" (ring: "votes:Class8.1",
                              * the ring fraction zoosh's encoder predicts), a tree
                              * "SET" with a column per answer (gz2: "votes"); "" none */
} core_schema;

/* Names of the built-in tasks, NULL-terminated. */
extern const char *const core_schema_builtin_names[];
/* Fills *out with a built-in task; -1 when there is none of that name. */
int core_schema_builtin(const char *name, core_schema *out);
/* Parses a schema file; -1 with "FILE:LINE: reason" in err on bad input. */
int core_schema_load_file(const char *path, core_schema *out, char *err, size_t errlen);
int core_schema_parse(const char *text, const char *fname, core_schema *out, char *err, size_t errlen);
/* A schema file's text (malloc'ed; at most 1 MiB, no NUL bytes), or NULL
 * with "FILE: reason" in err. */
char *core_schema_read_text(const char *path, char *err, size_t errlen);
/* The most questions one galaxy can be asked in a tree (0 for a rating):
 * parse refuses trees where it passes STORE_STEPS_MAX, what an answer holds. */
int core_schema_longest_path(const core_schema *s);
/* A built-in name or a file path. */
int core_schema_resolve(const char *name_or_file, core_schema *out, char *err, size_t errlen);

/* ---- tasks of a workspace (meta keys written by `zoosh init`):
 *   "tasks"          the enabled task names, space-separated ("gz-decals ring interest")
 *   "schema/<name>"  a custom task's schema file text (the workspace is self-contained)
 * interest is always available, listed or not. */
#define CORE_SCHEMA_META_TASKS "tasks"
#define CORE_SCHEMA_META_PREFIX "schema/"
struct zs_txn;
/* The enabled tasks into names[max][32]; returns how many (always >= 1: interest). */
int core_schema_ws_tasks(struct zs_txn *txn, char (*names)[32], int max);
/* A task of the workspace: its stored custom schema, else a built-in.  -1
 * with a reason in err when the workspace has no such task. */
int core_schema_ws_get(struct zs_txn *txn, const char *task, core_schema *out, char *err, size_t errlen);

/* Makes S a task of the workspace (in a store_write): adds its name to
 * "tasks" and, for a custom task parsed from TEXT (its schema file; NULL for
 * a built-in), stores the text as "schema/<name>".  A custom task of that
 * name already there must be the same tree (*added = 0), else -1 with the
 * reason in err; *added = 1 when it was not listed before. */
int core_schema_ws_add(struct zs_txn *txn, const core_schema *s, const char *text, int *added, char *err, size_t errlen);

/* Index of question key / answer key, -1 when absent. */
int core_schema_question(const core_schema *s, const char *qkey);
int core_schema_answer(const core_schema *s, int q, const char *akey);
/* Total answers over all questions (34 for gz-decals). */
int core_schema_n_columns(const core_schema *s);
/* Column i (0..n_columns-1) as "<question>_<answer>" into buf, and its q/a. */
int core_schema_column(const core_schema *s, int i, char *buf, size_t len, int *q, int *a);

/* The Kaggle "Galaxy Challenge" columns Class1.1 .. Class11.6: 37 answers
 * in 11 classes, gz2-kaggle's columns in order.  Kaggle's values are
 * cumulative (each answer's fraction multiplied down the tree); a class's
 * fractions divided by their sum are the per-question fractions. */
#define CORE_SCHEMA_KAGGLE_N 37
/* "ClassN.M" -> its index 0..36, -1 when it is not a Kaggle column. */
int core_schema_kaggle_index(const char *name);
/* Kaggle column k as gz2-kaggle names it ("something-odd-gz2_yes") into buf,
 * and its class 1..11 into *klass (may be NULL).  -1 when k is out of range. */
int core_schema_kaggle_column(int k, char *buf, size_t len, int *klass);
/* For each column c of s, map[c] = the column of a prior feature set of
 * set_dim columns that holds its fractions: c itself when set_dim equals
 * s's columns, the Kaggle column of the same name when set_dim is 37 (the
 * votes zoosh's encoder predicts) and every column of s is one of
 * gz2-kaggle's (gz2: its 30 of the 37).  0, or -1 when there is no such map. */
int core_schema_prior_map(const core_schema *s, int set_dim, int *map);

/* Walking a tree: given the answers so far (given[q] = answer index or -1),
 * the next question to ask, or -1 when the tree is complete. */
int core_schema_next(const core_schema *s, const int *given);

#endif
