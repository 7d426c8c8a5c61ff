/*
 * store.h - the zoosh workspace: one LMDB environment in a directory.
 *
 * Knows nothing of images or learning: it keeps galaxies, their display
 * thumbnails, feature vectors, prior labels from the catalog, the append-only
 * answers log, per-task scores / queues and trained models, as bytes and
 * numbers.  Many processes may open one workspace at once (several labelers
 * and a background trainer); LMDB gives one writer at a time and readers that
 * never block.
 *
 * Errors: every int-returning function returns 0 on success, a negative
 * STORE_E* code of ours, or a positive errno.  store_strerror() names it.
 * STORE_ENOTFOUND is a code callers test on purpose.
 *
 * Ids: a galaxy has an internal id `gid` (uint32, dense from 1 in import
 * order) and the catalog's string id `id_str`.  Answers have a monotonic
 * `seq` (uint64, from 1) assigned inside the writing transaction, so two
 * processes can never hand out the same one.
 *
 * Transactions: the store_*_put functions take a write transaction from
 * store_write(); the getters take either kind.  store_write() grows the LMDB
 * map and re-runs the callback when the map fills, so callers never see
 * MDB_MAP_FULL; a callback must therefore be safe to run twice (do not
 * consume input inside it that cannot be re-read).
 */
#ifndef ZOOSH_STORE_H
#define ZOOSH_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct zs_store zs_store;   /* an open workspace */
typedef struct zs_txn zs_txn;       /* a read or write transaction */

enum {
    STORE_OK        = 0,
    STORE_ENOTFOUND = -30900, /* no such key (tested on purpose) */
    STORE_EVERSION  = -30901, /* workspace written by a newer zoosh */
    STORE_EFOREIGN  = -30902, /* directory holds an LMDB that is not a zoosh workspace */
    STORE_ENOWS     = -30903, /* no workspace in that directory */
    STORE_EEXIST    = -30904, /* a workspace already exists there (init) */
    STORE_ECORRUPT  = -30905, /* a record does not parse */
    STORE_EINVAL    = -30906, /* bad argument (too long a string, dim 0, ...) */
    STORE_EREADONLY = -30907, /* opened read-only, or no write permission */
    STORE_ELMDB     = -30908, /* an LMDB error (details in store_last_error) */
    STORE_EDIM      = -30909, /* feature dimension differs from the stored set */
    STORE_ENOSPC    = -30910, /* disk full: the transaction was rolled back */
    STORE_EABORT    = -30911, /* a store_write callback asked to roll back */
};

/* The newest layout this zoosh reads; bump when the on-disk layout changes.
 * A workspace records the oldest layout that reads everything in it: 1 at
 * creation (the raw thumbnails, answers, ... of every zoosh so far), 2 once
 * it holds a coded (JPEG) thumbnail, 3 once it holds an answer record of
 * the second form (the writer's uid and a user name of any length), 4 once
 * it holds a note (STORE_ANS_NOTE). */
#define STORE_SCHEMA_VERSION 4

/* store_open flags */
#define STORE_CREATE   0x1  /* create the workspace (fails with STORE_EEXIST if there) */
#define STORE_RDONLY   0x2  /* open read-only */
#define STORE_NOSYNC   0x4  /* bulk import: do not fsync each commit (store_sync at the end) */

const char *store_strerror(int rc);
/* The last LMDB / OS detail for this thread, e.g. "mdb_put: MDB_MAP_FULL" (static). */
const char *store_last_error(void);

/* Opens (STORE_CREATE: creates) the workspace in the folder DIR.  Its
 * data.mdb and lock.mdb are opened without following a symlink and must be
 * regular files with one link each (STORE_ECORRUPT, the reason in
 * store_last_error, otherwise): what a group member planted in a shared
 * folder is never written.  A new workspace respects the umask. */
int  store_open(zs_store **out, const char *dir, unsigned flags);
/* Creates the workspace DIR for the Unix group GROUP (a name or a number;
 * the caller must be a member): the folder gets the group, set-group-id,
 * the sticky bit and mode rwxrwx--- (rws-wT), its files rw for the group,
 * whatever the umask.  NULL or "": store_open(STORE_CREATE). */
int  store_create_shared(zs_store **out, const char *dir, const char *group);
/* Creates the new file PATH (tmp != 0: PATH.<random>.tmp, its name copied
 * into made) with O_CREAT|O_EXCL|O_NOFOLLOW, mode MODE less the umask:
 * never a file or a symlink that was there.  The fd (read-write), or
 * -errno. */
int  store_file_new(const char *path, int tmp, unsigned mode, char *made, size_t len);
void store_close(zs_store *st);          /* NULL is a no-op */
int  store_sync(zs_store *st);           /* fsync now */
const char *store_dir(const zs_store *st);
int  store_is_readonly(const zs_store *st);
/* Opened read-only WITHOUT LMDB's lock table, because lock.mdb is not
 * writable for this user: reads are not protected from concurrent writers
 * (a long read may see inconsistent data while others write). */
int  store_is_lockless(const zs_store *st);

/* Transactions.  store_write runs fn in one write transaction and commits
 * (synced unless STORE_NOSYNC) when fn returns 0; any non-zero return rolls
 * back and is passed on.  Map-full is handled inside (grow and re-run). */
typedef int (*store_write_fn)(zs_txn *txn, void *ctx);
int  store_write(zs_store *st, store_write_fn fn, void *ctx);
/* (store_write inside a store_write callback is refused with STORE_EINVAL;
 * a thread should not hold a read transaction while it writes, or the map
 * cannot grow for it: STORE_ELMDB.) */
int  store_read_begin(zs_store *st, zs_txn **out);  /* short-lived, please */
void store_read_end(zs_txn *txn);                   /* NULL is a no-op */

/* ---- meta: small string settings (schemas enabled, feature provenance...) */
int store_meta_put(zs_txn *txn, const char *key, const char *val);
/* *val is malloc'ed, caller frees. */
int store_meta_get(zs_txn *txn, const char *key, char **val);

/* ---- galaxies */
#define STORE_ID_MAX   256   /* longest id_str */
#define STORE_PATH_MAX 4096

typedef struct {
    uint32_t gid;
    char    *id_str;        /* catalog id */
    char    *file;          /* image path as given (absolute or relative to root) */
    double   ra, dec;       /* NAN when the catalog had none */
    int      n_meta;        /* other catalog columns kept verbatim */
    char   **meta_key;
    char   **meta_val;
} store_galaxy;

/* Insert or update by id_str.  g->gid is ignored on input; *gid_out gets the
 * (new or existing) gid.  *created is 1 when it was new. */
int  store_galaxy_put(zs_txn *txn, const store_galaxy *g, uint32_t *gid_out, int *created);
/* Fills *g with malloc'ed copies; free with store_galaxy_free. */
int  store_galaxy_get(zs_txn *txn, uint32_t gid, store_galaxy *g);
int  store_galaxy_find(zs_txn *txn, const char *id_str, uint32_t *gid);
void store_galaxy_free(store_galaxy *g);
uint32_t store_galaxy_count(zs_txn *txn);
/* The largest gid in use (gids are dense 1..max unless a future delete appears). */
uint32_t store_galaxy_max(zs_txn *txn);

/* ---- thumbnails: pre-scaled display pixels as bytes with a codec tag and
 * the size in pixels.  The store does not decode them (core/thumb.h does);
 * it checks that a raw one holds w * h * 3 bytes and that a coded one is not
 * empty.  Raw records keep the layout-1 form any zoosh reads; putting a coded
 * one raises the workspace's layout version to 2 in the same transaction,
 * so an older zoosh refuses the workspace (STORE_EVERSION) instead of
 * calling its thumbnails corrupt. */
enum {
    STORE_THUMB_RAW  = 0,     /* RGB8 (h, w, 3) row-major */
    STORE_THUMB_JPEG = 1,     /* a JPEG file of w x h pixels */
    STORE_THUMB_NCODECS
};
typedef struct {
    int codec;                /* STORE_THUMB_* */
    int w, h;                 /* pixels, 1..65535 */
    const uint8_t *bytes;     /* (len) borrowed from the map: valid until the transaction ends */
    size_t len;               /* RAW: w * h * 3 */
} store_thumb;
/* The layout version the workspace records (1, or 2 with coded thumbnails). */
int store_layout(zs_txn *txn);
/* A raw thumbnail (w * h * 3 bytes of rgb). */
int store_thumb_put(zs_txn *txn, uint32_t gid, int w, int h, const uint8_t *rgb);
/* Any codec; RAW wants len == w * h * 3.  Replaces what gid had. */
int store_thumb_put_coded(zs_txn *txn, uint32_t gid, int codec, int w, int h, const void *bytes, size_t len);
/* STORE_ENOTFOUND: none; STORE_ECORRUPT: the record does not parse (a
 * length that disagrees with its header, an unknown codec or version). */
int store_thumb_get(zs_txn *txn, uint32_t gid, store_thumb *out);
uint32_t store_thumb_count(zs_txn *txn);

/* ---- features: named sets of float vectors, one per galaxy.
 * A set records its dimension and provenance ("morph v1", "zoobot hdf5 FILE",
 * "convnext_nano FILE.safetensors").  Putting a vector of another dimension
 * into an existing set fails with STORE_EDIM. */
#define STORE_FEATNAME_MAX 64
int store_featset_put(zs_txn *txn, const char *name, int dim, const char *provenance);
int store_featset_get(zs_txn *txn, const char *name, int *dim, char **provenance /* malloc'ed, may be NULL */);
/* Removes a set and all its vectors (to re-embed under the same name with
 * another dimension).  STORE_ENOTFOUND when there is no such set. */
int store_featset_del(zs_txn *txn, const char *name);
/* *names is a malloc'ed array of malloc'ed strings. */
int store_featset_list(zs_txn *txn, char ***names, int *n);
/* A set made by several write transactions becomes visible only when whole:
 * store_featset_begin puts it (as store_featset_put) with a marker, meta
 * "featset.building/<name>"; while the marker is there store_featset_get
 * and store_features_load answer STORE_ENOTFOUND, store_featset_list leaves
 * the set out and store_check reports it incomplete.  store_featset_publish
 * removes the marker (0 when there is none). */
#define STORE_FEATSET_BUILDING "featset.building/"
int store_featset_begin(zs_txn *txn, const char *name, int dim, const char *provenance);
int store_featset_publish(zs_txn *txn, const char *name);
int store_featset_incomplete(zs_txn *txn, const char *name);
int store_feature_put(zs_txn *txn, const char *name, uint32_t gid, const float *v, int dim);
/* Borrowed pointer, valid until the transaction ends (may be unaligned: memcpy). */
int store_feature_get(zs_txn *txn, const char *name, uint32_t gid, const float **v, int *dim);
/* How many vectors the set holds (a cursor walk over its keys). */
int store_feature_count(zs_txn *txn, const char *name, uint32_t *n);
/* Load a whole set: *x (n x dim, row-major) and *gids (n) malloc'ed, rows in gid order. */
int store_features_load(zs_txn *txn, const char *name, float **x, uint32_t **gids, int *n, int *dim);

/* ---- priors: numeric columns from the catalog per galaxy
 * (vote counts "<question>_<answer>", fractions "..._fraction", 0/1 labels). */
int store_prior_put(zs_txn *txn, uint32_t gid, const char *column, double value);
int store_prior_get(zs_txn *txn, uint32_t gid, const char *column, double *value);
/* Every column name present (malloc'ed array of malloc'ed strings). */
int store_prior_columns(zs_txn *txn, char ***names, int *n);
/* One column for all galaxies: out[gid] for gid in 0..max (out[0] unused),
 * NAN where the galaxy has no value.  *out malloc'ed, length *len = max+1. */
int store_prior_column(zs_txn *txn, const char *column, double **out, uint32_t *len);

/* ---- answers: the append-only log */
enum store_answer_kind {
    STORE_ANS_TREE    = 1,  /* a (question, answer) path through a decision tree */
    STORE_ANS_RATING  = 2,  /* an interest rating 0-5 */
    STORE_ANS_RETRACT = 3,  /* undo: retracts answer `retracts` */
    STORE_ANS_FAVOURITE = 4,/* the user starred the galaxy */
    STORE_ANS_SKIP    = 5,  /* the user skipped it (not an answer; never retires it) */
    STORE_ANS_NOTE    = 6,  /* a text about the galaxy (`text`; its meaning is core's) */
};
#define STORE_TASK_MAX  32
#define STORE_USER_MAX  256  /* a user name and its NUL (LOGIN_NAME_MAX) */
#define STORE_UID_NONE  UINT32_MAX  /* an answer record of the first form: no uid recorded */
#define STORE_KEY_MAX   48
#define STORE_STEPS_MAX 16
#define STORE_TEXT_MAX  512  /* a note's bytes and its NUL */

typedef struct {
    char question[STORE_KEY_MAX];
    char answer[STORE_KEY_MAX];
} store_step;

typedef struct {
    uint64_t seq;          /* assigned by store_answer_append */
    uint32_t gid;
    int64_t  time_us;      /* unix time, microseconds; 0 = now */
    uint8_t  kind;         /* enum store_answer_kind */
    int8_t   rating;       /* STORE_ANS_RATING: 0..5 */
    uint64_t retracts;     /* STORE_ANS_RETRACT: seq it retracts */
    uint32_t uid;          /* the writer's effective uid, set by store_answer_append;
                              STORE_UID_NONE for a record of the first form */
    char     user[STORE_USER_MAX];  /* Unix user name; "" = the current user */
    char     task[STORE_TASK_MAX];
    int      n_steps;
    store_step steps[STORE_STEPS_MAX];
    char     text[STORE_TEXT_MAX];  /* STORE_ANS_NOTE: 1 to STORE_TEXT_MAX - 1 bytes, no NUL;
                                       the store keeps any other bytes as given */
} store_answer;

/* Appends a->... with the next seq (written back into *seq_out).  Fills
 * user from the OS when a->user is empty and time when a->time_us is 0;
 * uid is always this process's effective uid (a->uid is ignored).
 * STORE_ENOTFOUND when a->gid is not a galaxy; STORE_EINVAL for a
 * retraction of a seq that is not an earlier answer, or a user, task,
 * question or answer name outside store_name_ok's characters (the
 * reason in store_last_error). */
int store_answer_append(zs_txn *txn, const store_answer *a, uint64_t *seq_out);
int store_answer_get(zs_txn *txn, uint64_t seq, store_answer *a);
/* 0 when empty.  Keys above the log's record count + STORE_SEQ_SLACK are
 * not seqs zoosh hands out (a forged record): last_seq, the next append
 * and store_answer_each pass over them; store_check reports them. */
#define STORE_SEQ_SLACK ((uint64_t)1 << 40)
uint64_t store_answer_last_seq(zs_txn *txn);
/* Calls fn for every answer with seq >= from in order; fn returning
 * non-zero stops the walk and is returned. */
typedef int (*store_answer_fn)(const store_answer *a, void *ctx);
int store_answer_each(zs_txn *txn, uint64_t from, store_answer_fn fn, void *ctx);

/* The Unix user running this process (getpwuid(geteuid())), static. */
const char *store_current_user(void);

/* The characters a name the store keeps may have (user, task, question,
 * answer and feature-set names): ASCII letters, digits and . _ - @ $ +,
 * not starting with '-', 1 to max-1 bytes.  1 when s is such a name.  The
 * names reach other users' terminals: nothing else is stored, so no
 * escape sequence can be. */
int store_name_ok(const char *s, size_t max);

/* ---- blobs: per-task scores, queues and models (opaque to the store)
 * Keyed "<task>/<what>", e.g. "ring/queue", "ring/head", "interest/gp". */
enum store_blob_db { STORE_DB_SCORES = 0, STORE_DB_MODELS = 1 };
int store_blob_put(zs_txn *txn, int db, const char *key, const void *data, size_t len);
/* Borrowed pointer into the map, valid until the transaction ends. */
int store_blob_get(zs_txn *txn, int db, const char *key, const void **data, size_t *len);
int store_blob_del(zs_txn *txn, int db, const char *key);
/* Every key of a blob database (malloc'ed array of malloc'ed strings). */
int store_blob_list(zs_txn *txn, int db, char ***names, int *n);

/* ---- maintenance */
/* Walks every database: records parse, indexes agree, answers are in order,
 * retractions point at earlier answers.  Problems are written to report
 * (one line each, may be NULL); returns 0 when clean, STORE_ECORRUPT else. */
int store_check(zs_store *st, char *report, size_t report_len, int *n_problems);
/* A consistent, compacted copy into an empty or new directory while others
 * keep writing (mdb_env_copy2 with MDB_CP_COMPACT). */
int store_backup(zs_store *st, const char *dest_dir);
/* A cheap test of data.mdb's B-tree that LMDB cannot abort in (it reads
 * the pages itself): every tree page is the kind its place needs, says its
 * own number, is reached once, and each database's entry and page counts
 * match its record.  0, or STORE_ECORRUPT with the first fault in why.
 * Opening for writing runs it (with the two checks below), so no command
 * writes into pages that do not belong together. */
int store_pages_sane(zs_store *st, char *why, size_t whylen);
/* What makes an open workspace unfit for writing although it reads (a
 * garbage magic: its meta key and value), NULL when none. */
const char *store_damage(const zs_store *st);
/* The file a check that found the pages damaged leaves in the workspace
 * (O_EXCL, no symlink followed) with the reason; store_open refuses to
 * write while it is there; a clean check removes it. */
#define STORE_DAMAGED_FILE "check-failed"
int  store_damage_mark(zs_store *st, const char *why);
void store_damage_clear(zs_store *st);
/* zoosh check --repair: every record of st that parses and agrees with the
 * others copied into a new workspace in dest_dir (created; STORE_EEXIST if
 * it holds one): galaxies renumbered dense with the id index rebuilt,
 * answers renumbered from 1 (retractions follow), the magic rewritten,
 * incomplete feature sets, forged keys and records that do not parse left
 * behind.  One line per record left behind in report (the first 30);
 * *kept / *dropped count records.  On failure dest_dir holds no workspace. */
int store_salvage(zs_store *st, const char *dest_dir, char *report, size_t report_len, long *kept, long *dropped);
/* The current LMDB map size and the bytes in use (pages up to the last one). */
int store_map_info(zs_store *st, size_t *mapsize, size_t *used);

#endif
