/*
 * pretrain.h - `zoosh pretrain`: a ConvNeXt encoder (core/ptnet.h) trained
 * in C on one or more catalogs of galaxy images at once, each with its own
 * kind of target and loss: Galaxy Zoo 2 vote fractions (the network's own
 * head, per-question soft cross-entropy: core/ptnet.h), Galaxy Zoo 1 vote
 * fractions (one question), 0/1 tags (binary cross-entropy) or none; plus
 * SimCLR's NT-Xent between two views of every galaxy, labelled or not
 * (core/ptloss.h); views with rotations, flips, zooms and survey
 * augmentations (core/ptaug.h).
 */
#ifndef ZOOSH_CORE_PRETRAIN_H
#define ZOOSH_CORE_PRETRAIN_H

#include "core/ptnet.h"

/* ---- the whole run: catalogs -> trained encoder file --------------------- */

/* What a catalog's rows are trained to predict. */
typedef enum {
    CORE_PT_AUTO,   /* from the columns: GZ2 if any ClassQ.A, else GZ1 if p_el ..
                       p_mg, else tags if any 0/1 column, else none */
    CORE_PT_GZ2,    /* ClassQ.A cumulative vote fractions */
    CORE_PT_GZ1,    /* p_el, p_cw, p_acw, p_edge, p_dk, p_mg: one question */
    CORE_PT_TAGS,   /* every column (but id, file, ra, dec) that is 0 or 1 on the
                       first row; every row must then be 0 or 1 there */
    CORE_PT_NONE,   /* images only (the self-supervised loss alone) */
} core_pt_kind;

#define CORE_PT_MAX_CATALOGS 8
#define CORE_PT_MAX_EXCLUDE 4

typedef struct {
    const char *path;
    core_pt_kind kind;
} core_pt_catalog;

const char *core_pt_kind_name(core_pt_kind k);          /* "auto", "gz2", ... */
int core_pt_kind_parse(const char *s, core_pt_kind *k); /* 0, or -1 if unknown */

typedef struct {
    core_convnext_arch arch;  /* default: depths 1,1,3,1 dims 32,64,128,256 */
    int size;                 /* training resolution, px (64) */
    float crop;               /* centre crop of each image, fraction of its side (0.5) */
    int epochs;               /* 8 */
    int batch;                /* 32 */
    float lr, wd;             /* 2e-3, 0.05 */
    uint64_t seed;            /* 1 */
    int threads;              /* 2 */
    int limit;                /* at most this many galaxies (0 = all) */
    const char *exclude[CORE_PT_MAX_EXCLUDE];  /* files of catalog ids (column
                                 `id`), one a line, never trained on nor held
                                 out: validation sets kept unseen (NULL = none);
                                 every id must be in one of the catalogs */
    float val_frac;           /* held out for the reported validation loss (0.1) */
    float zoom_lo, zoom_hi;   /* random zoom range of the views (0.9, 1.1; > 1 = closer) */
    float jitter;             /* survey augmentation strength (0 = none): per-view
                                 colour gain and saturation, brightness, gamma
                                 and pixel noise, so the encoder learns shapes
                                 rather than one survey's colour balance */
    float survey;             /* seeing and resolution augmentation strength
                                 (0 = none; core_pt_aug_survey) */
    float ssl;                /* weight of the NT-Xent loss (0 = off: one view
                                 per galaxy; > 0: two, and every image counts) */
    float ssl_tau;            /* its temperature (0.2) */
    int quiet;
} core_pt_opts;

void core_pt_opts_default(core_pt_opts *o);

/* Reads the catalogs (columns `file`, image paths relative to the
 * catalog's folder, and the kind's targets), trains, writes out_path after
 * every epoch.  The network's head (saved as head.fc, with metadata
 * `answers`) is the first GZ2 catalog's, else the first GZ1 catalog's;
 * the other catalogs' heads are dense layers on the embedding that the file
 * does not keep.  Progress lines go to `log` (may be NULL).  0, or -1 with
 * "FILE[:LINE]: [column C: ]reason" in err. */
int core_pt_run(const core_pt_catalog *cats, int n_cats, const char *out_path, const core_pt_opts *o,
                void *log_file, char *err, size_t errlen);

#endif
