/*
 * import.h - a catalog + images + features into a workspace, in three steps
 * so that a bad input changes nothing:
 *   1. read and check the catalog (core_catalog_check), every row; and the
 *      features file (core_feat_load: dimension, ids);
 *   2. decode every image once with a small thread pool and make its
 *      CORE_THUMB_SIDE thumbnail, encoded in the same threads (core/thumb.h);
 *   3. only when nothing was wrong (or, with skip_bad, for the good rows),
 *      write in batches of short write transactions.
 * Importing again updates galaxies with the same id, never duplicates them.
 */
#ifndef ZOOSH_CORE_IMPORT_H
#define ZOOSH_CORE_IMPORT_H

#include <stddef.h>

#include "core/catalog.h"
#include "store/store.h"

/* core_import_run's failures (0 is success). */
enum {
    CORE_IMPORT_EINPUT = 1,       /* bad input, or a failure of the import itself */
    CORE_IMPORT_EWORKSPACE = 2,   /* the workspace: unreadable, full, read-only, damaged */
};

/* What the progress callback is told. */
typedef enum {
    CORE_IMPORT_BEGIN,    /* a long step `what` ("decoding", "writing") of `total` items starts */
    CORE_IMPORT_ADVANCE,  /* `done` of them are done (called often: throttle the drawing) */
    CORE_IMPORT_END,      /* the step ends (or stops early) with `done` items done */
    CORE_IMPORT_STEP,     /* a step `what` finished ("catalog read", "features read",
                           * "images decoded", "written", "synced") */
} core_import_event;

typedef struct {
    const char *ws;           /* the workspace folder: messages, and the spill file goes there */
    const char *catalog;      /* CSV path */
    const char *root;         /* images relative to; NULL: the catalog's folder */
    const char *features;     /* representations file, or NULL */
    const char *ids;          /* id list of a .npy features file, or NULL */
    const char *features_name;/* the set they go to (the caller checks the name) */
    int skip_bad;             /* write the good rows and report the bad */
    int no_thumbs;            /* do not decode images */
    int codec;                /* CORE_THUMB_JPEG / CORE_THUMB_RAW */
    int threads;              /* decode threads; 0: the number of cores (2..16) */
    void (*progress)(void *ctx, core_import_event ev, const char *what, long done, long total);
    void *progress_ctx;
} core_import_opts;

typedef struct {
    long written;             /* galaxies written */
    long created;             /* of them new */
    long thumbs;              /* thumbnails stored */
    long priors;              /* prior values stored */
    long feats;               /* vectors into features_name */
    int  n_prior;             /* prior columns of the catalog */
    int  n_kaggle;            /* of them Kaggle's ClassN.M, stored as gz2 per-question fractions */
    int  feat_dim;            /* feat_N columns of the catalog (set "catalog"), 0 none */
    int  fs_dim;              /* dimension of the features file, 0 none */
    int  nothing;             /* with skip_bad: every row was bad and no features came */
    /* The problems to show: on success the rows skipped (skip_bad); on a
     * failure because of rows or images, those rows (then err is the line
     * that follows them); empty otherwise. */
    core_catalog_msgs problems;
} core_import_report;

/* Imports o->catalog into st (opened for writing).  0 with rep filled, or
 * CORE_IMPORT_E* with the reason in err: one line, or several separated by
 * '\n', naming file / line / column as "FILE:LINE: column NAME: reason". */
int  core_import_run(zs_store *st, const core_import_opts *o, core_import_report *rep,
                     char *err, size_t errlen);
void core_import_report_free(core_import_report *rep);

#endif
