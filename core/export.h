/*
 * export.h - a workspace's votes, labels, answers, ratings, features and
 * predictions out as CSV (and a feature set as Zoobot-style HDF5):
 *
 *   zoobot       id_str,file_loc,<question>_<answer> vote counts of the tree
 *                task, then <question>_<answer>_fraction;
 *   labels       id_str,file_loc,TASK: the majority answer of a one-question
 *                task (yes = 1, no = 0, else the key; ties left out);
 *   answers      the raw log, one row per answer, retractions included;
 *   interest     id_str,file_loc,<task>_mean,<task>_n of a rating task;
 *   features     id_str,feat_0..feat_{D-1} of a feature set (to a .h5 /
 *                .hdf5 file: core_feat_save_hdf5's Zoobot layout);
 *   predictions  id_str,file_loc,<column>_prob of the task's trained head.
 *
 * zoobot, labels and interest count one vote per user per galaxy: their
 * latest answer not retracted (core_answers_counted, the rule training
 * follows too).
 */
#ifndef ZOOSH_CORE_EXPORT_H
#define ZOOSH_CORE_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

typedef enum {
    CORE_EXPORT_ZOOBOT, CORE_EXPORT_LABELS, CORE_EXPORT_ANSWERS, CORE_EXPORT_INTEREST,
    CORE_EXPORT_FEATURES, CORE_EXPORT_PREDICTIONS,
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
    const char *set;          /* features: NULL = the workspace's features.default */
    const char *output;       /* NULL or "-": written to `out`; else this file, replaced
                               * whole or left as it was (core_out_open) */
} core_export_opts;

typedef struct {
    long rows;                /* data rows written */
    char task[64];            /* the task exported (for notes) */
    int  hdf5;                /* the features went out as HDF5 */
} core_export_report;

/* The format called NAME ("zoobot", "labels", ...), -1 when none is. */
int core_export_format_parse(const char *name);
/* 1 when PATH names an HDF5 file by its extension (.h5, .hdf5). */
int core_export_path_is_hdf5(const char *path);
/* Exports from st (open for reading) to out or o->output.  0 with rep
 * filled, or CORE_EXPORT_E* with a one-line reason in err. */
int core_export_run(zs_store *st, const core_export_opts *o, FILE *out, core_export_report *rep,
                    char *err, size_t errlen);

#endif
