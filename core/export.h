/*
 * export.h - a workspace's votes, labels, answers, ratings, features and
 * predictions out as CSV (features and predictions also as Zoobot's HDF5):
 *
 *   zoobot       id_str,file_loc,<question>_<answer> vote counts of the tree
 *                task, <question>_total-votes, then <question>_<answer>_fraction
 *                (gz-decals with suffix "dr5"/"dr8": Zoobot's -dr5/-dr8 keys);
 *   labels       id_str,file_loc,TASK: the majority answer of a one-question
 *                task as an integer (yes = 1, no = 0; other answers their
 *                index 0..N-1 in the task, the legend in a second file;
 *                ties left out); with_priors adds the catalog's label where
 *                nobody answered and a column source (answers | catalog);
 *   answers      the raw log, one row per answer, retractions included;
 *   interest     id_str,file_loc,<task>_mean,<task>_n of a rating task;
 *   features     id_str,feat_0..feat_{D-1} of a feature set;
 *   predictions  id_str,file_loc,<column>_pred of the task's trained head.
 *
 * features and predictions go out as HDF5 (core_feat_save_hdf5: datasets
 * predictions (galaxy, column, 1), id_str, label_cols, what Zoobot's
 * load_hdf5s reads) when the output ends in .h5 / .hdf5 or hdf5 is set.
 * file_loc is the image's path normalised (no "//", ".", ".."), absolute
 * or relative to relative_to.
 *
 * zoobot, labels and interest count one vote per user per galaxy: their
 * latest answer not retracted (core_answers_counted, the rule training
 * follows too).  zoobot, labels, interest and predictions with no row to
 * write fail with CORE_EXPORT_EINPUT (nothing to export).
 */
#ifndef ZOOSH_CORE_EXPORT_H
#define ZOOSH_CORE_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

typedef enum {
    CORE_EXPORT_ZOOBOT, CORE_EXPORT_LABELS, CORE_EXPORT_ANSWERS, CORE_EXPORT_INTEREST,
    CORE_EXPORT_FEATURES, CORE_EXPORT_PREDICTIONS,
    CORE_EXPORT_NOTES,        /* id_str,user,time,note,tags (core/notes.h) */
} core_export_format;

/* core_export_run's failures (0 is success). */
enum {
    CORE_EXPORT_EINPUT = 1,       /* nothing to export, a wrong task, an unwritable output */
    CORE_EXPORT_EWORKSPACE = 2,   /* the workspace could not be read */
};

typedef struct {
    const char *ws;           /* the workspace as named (messages) */
    int format;               /* core_export_format */
    const char *task;         /* NULL: ring (labels), interest (interest), gz-decals (others);
                               * answers: NULL keeps every task's */
    const char *set;          /* features: NULL = the set commands use (core_repr_pick_set) */
    const char *output;       /* NULL or "-": written to `out`; else this file, replaced
                               * whole or left as it was (core_out_open) */
    int hdf5;                 /* features / predictions as HDF5 whatever the output's name */
    const char *relative_to;  /* file_loc relative to this folder; NULL: absolute */
    int with_priors;          /* labels: the catalog's label where nobody answered */
    const char *suffix;       /* gz-decals: "dr5" or "dr8" appended to question keys; NULL none */
} core_export_opts;

typedef struct {
    long rows;                /* data rows written */
    char task[64];            /* the task exported (for notes) */
    char set[80];             /* features: the set exported */
    int  hdf5;                /* the features / predictions went out as HDF5 */
    long from_catalog;        /* labels --with-priors: rows from the catalog */
    char legend[1024];        /* labels of a task whose answers are not yes/no:
                               * "0 = key, 1 = key, ..." */
    char legend_file[4096];   /* ... and the file it was written to ("" none: stdout) */
} core_export_report;

/* The format called NAME ("zoobot", "labels", ...), -1 when none is. */
int core_export_format_parse(const char *name);
/* 1 when PATH names an HDF5 file by its extension (.h5, .hdf5). */
int core_export_path_is_hdf5(const char *path);
/* The legend file of a labels export to PATH: PATH less a .csv extension,
 * plus ".legend.csv" (labels.csv -> labels.legend.csv). */
void core_export_legend_path(const char *path, char *buf, size_t len);
/* PATH (absolute, or relative to the working folder) normalised: absolute,
 * no "//", "." or ".." (taken lexically).  -1 when it does not fit. */
int core_export_path_normal(const char *path, char *buf, size_t len);
/* Exports from st (open for reading) to out or o->output.  0 with rep
 * filled, or CORE_EXPORT_E* with a one-line reason in err. */
int core_export_run(zs_store *st, const core_export_opts *o, FILE *out, core_export_report *rep,
                    char *err, size_t errlen);

#endif
