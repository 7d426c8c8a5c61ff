/*
 * workspace.h - what `zoosh init / stats / check / backup` do to a whole
 * workspace, as calls that take an open zs_store and fill a report the
 * command prints.  Each opens its own short transaction.
 *
 *   init    the tasks a new workspace gets (built-in names or schema files;
 *           interest always, last) written with core_schema_ws_add, and
 *           meta "created" = "<UTC time> by <user>"
 *   stats   counts per task and per user, progress, feature sets, priors,
 *           models, read in one read transaction
 *   check   store_check's byte-level walk, then answers against their
 *           tasks' schemas and (unless quick) every JPEG thumbnail decoded
 *   repair  store_salvage (check --repair): the valid records into a new workspace
 *   backup  store_backup, with the copy's size and the time it took
 *
 * Errors: int returns, 0 success; store codes (STORE_E*, positive errno)
 * pass through for store_strerror.
 */
#ifndef ZOOSH_CORE_WORKSPACE_H
#define ZOOSH_CORE_WORKSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/learn.h"
#include "core/schema.h"
#include "store/store.h"

#define CORE_WORKSPACE_MAX_TASKS 16   /* interest included */

/* ---- init */

/* The tasks of a workspace to create, in order.  Zero it before the first
 * add; core_workspace_tasks_free releases it. */
typedef struct {
    int n;
    core_schema *s[CORE_WORKSPACE_MAX_TASKS];
    char *text[CORE_WORKSPACE_MAX_TASKS];   /* a custom schema file's text, NULL for a built-in */
} core_workspace_tasks;

enum {
    CORE_WORKSPACE_EBAD  = -1,   /* bad schema (unknown, unreadable, does not parse, name taken) */
    CORE_WORKSPACE_EMANY = -2,   /* more than CORE_WORKSPACE_MAX_TASKS - 1 schemas */
};
/* Adds the task ARG (a built-in name or a schema file).  "interest" and a
 * built-in given twice are no-ops.  CORE_WORKSPACE_E* with the reason in
 * err ("two schemas are named 'bars' (bars.schema)") on failure. */
int  core_workspace_tasks_add(core_workspace_tasks *t, const char *arg, char *err, size_t errlen);
/* Completes the list as a new workspace has it: gz-decals when the user
 * named no schema at all (asked == 0), then interest, always, last. */
int  core_workspace_tasks_finish(core_workspace_tasks *t, int asked, char *err, size_t errlen);
void core_workspace_tasks_free(core_workspace_tasks *t);

/* Writes the tasks and meta "created" into a workspace just made with
 * store_open(STORE_CREATE), in one write transaction. */
int  core_workspace_init(zs_store *st, const core_workspace_tasks *t);

/* 1 when NAME may name a feature set, task or user: store_name_ok's
 * characters (letters, digits, . _ - @ $ +; not starting with '-') and
 * 1..max-1 bytes.  Checked where a name is made so no escape is stored. */
int  core_workspace_name_ok(const char *name, size_t max);

/* ---- stats */

typedef struct {
    char *name;
    int dim;
    uint32_t vectors;
    char *provenance;            /* NULL or "" when none was recorded */
    int used;                    /* 1: the set commands use (core_repr_pick_set) */
} core_workspace_featset;

typedef struct {
    char name[32];               /* an enabled task whose schema loads */
    int n;                       /* > 0: starts from `source` (n galaxies); < 0: the catalog's prior columns; 0: nothing */
    char source[64];
} core_workspace_prior;

typedef struct {
    char name[STORE_TASK_MAX];
    int enabled;                 /* listed in meta "tasks" */
    uint64_t answers;            /* live tree answers and ratings */
    uint64_t retracted, retractions, favourites, skips;
    uint32_t done;               /* galaxies with at least one live answer of the task */
    int has_model;
    core_model_info model;       /* when has_model */
} core_workspace_task;

typedef struct {
    char name[STORE_USER_MAX];
    uint64_t total;              /* live answers */
    uint64_t *per_task;          /* (n_tasks) live answers per task */
} core_workspace_user;

typedef struct {
    char *key;
    size_t bytes;
} core_workspace_blob;

typedef struct {
    int layout;                  /* store_layout */
    size_t used;                 /* bytes of the map in use */
    char *created;               /* meta "created", NULL when absent */
    uint32_t galaxies, thumbnails;
    int have_featsets;           /* the list was read (else none is printed) */
    int n_featsets;
    core_workspace_featset *featsets;
    int have_priors;
    int n_priors;
    char **priors;               /* (n_priors) column names */
    int n_sources;
    core_workspace_prior *sources;   /* (n_sources) one per enabled task, in order */
    int answers_rc;              /* reading the log failed there (0 ok); what came before is counted */
    char answers_detail[256];    /* store_last_error() when it failed */
    uint64_t records, live, retractions;
    uint64_t foreign;            /* records no zoosh command writes: in records, counted nowhere */
    int n_tasks;                 /* enabled tasks first, then any other task with answers */
    core_workspace_task *tasks;
    int n_users;
    core_workspace_user *users;
    int have_blobs;
    int n_blobs;
    core_workspace_blob *blobs;  /* every stored model blob */
    char damaged[256];           /* why the walk could not be made ("" when it could) */
} core_workspace_stats;

/* Fills *out (free with core_workspace_stats_free even on failure).  A
 * failure to begin the read is returned; a damaged answers log is not: it
 * is out->answers_rc and the rest is filled.  The walk is first made in a
 * child process (LMDB may abort on a data.mdb of pages that do not belong
 * together): when that dies, STORE_ECORRUPT with the reason in
 * out->damaged. */
int  core_workspace_stats_get(zs_store *st, core_workspace_stats *out);
void core_workspace_stats_free(core_workspace_stats *s);
/* Who may read and write the workspace in DIR, from the modes of the folder
 * and of data.mdb / lock.mdb, into line: "owner alice read-write, group
 * zoo read-write, others none (folder rwxrws--T)".  warn gets a warning or
 * "": a folder others may write without the sticky bit (a member could
 * replace the others' files).  Names as the system knows them, else ids. */
void core_workspace_access(const char *dir, char *line, size_t len, char *warn, size_t wlen);

/* ---- check */

typedef struct {
    int n_problems;
    char *text;                  /* the first problems, one a line, each ending in '\n' but the last */
} core_workspace_check_report;

/* Checks the workspace (thumbs: also decode every coded thumbnail, about
 * 1 ms a galaxy).  0 clean, STORE_ECORRUPT with the problems in *out, or
 * another store code when the check could not run.  Free out with
 * core_workspace_check_report_free. */
int  core_workspace_check(zs_store *st, int thumbs, core_workspace_check_report *out);
void core_workspace_check_report_free(core_workspace_check_report *r);

/* ---- repair */

typedef struct {
    long kept, dropped;          /* records copied, records left behind */
    char *text;                  /* what was left behind, one a line (or why it failed) */
} core_workspace_repair_report;

/* zoosh check WS --repair DEST: store_salvage of st into DEST, walked in a
 * child process as check is (a damaged file cannot kill the command).  0,
 * or a store code with the reason in out->text (DEST left without a
 * workspace).  Free out with core_workspace_repair_report_free. */
int  core_workspace_repair(zs_store *st, const char *dest, core_workspace_repair_report *out);
void core_workspace_repair_report_free(core_workspace_repair_report *r);

/* ---- backup */

/* A consistent, compacted copy of st into DEST (store_backup): *bytes the
 * copy's data.mdb size, *seconds the time it took. */
int  core_workspace_backup(zs_store *st, const char *dest, double *bytes, double *seconds);

#endif
