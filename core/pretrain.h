/*
 * pretrain.h - `zoosh pretrain`: a ConvNeXt encoder (core/ptnet.h) trained
 * in C on a catalog of galaxy images and their Galaxy Zoo vote fractions
 * (loss: see core/ptnet.h), with rotations, flips, zooms and survey jitter.
 */
#ifndef ZOOSH_CORE_PRETRAIN_H
#define ZOOSH_CORE_PRETRAIN_H

#include "core/ptnet.h"

/* ---- the whole run: catalog -> trained encoder file ---------------------- */

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
    const char *exclude;      /* file of catalog ids (column `id`), one a line, never
                                 trained on nor held out: a validation set kept
                                 unseen (NULL = none) */
    float val_frac;           /* held out for the reported validation loss (0.1) */
    float zoom_lo, zoom_hi;   /* random zoom range of the views (0.9, 1.1; > 1 = closer) */
    float jitter;             /* survey augmentation strength (0 = none): per-view
                                 colour gain and saturation, brightness, gamma
                                 and pixel noise, so the encoder learns shapes
                                 rather than one survey's colour balance */
    int quiet;
} core_pt_opts;

void core_pt_opts_default(core_pt_opts *o);

/* Reads CATALOG (columns `file` and ClassQ.A vote fractions; files relative
 * to the catalog's folder), trains, writes out_path after every epoch.
 * Progress lines go to `log` (may be NULL).  0, or -1 with "FILE[:LINE]:
 * reason" in err. */
int core_pt_run(const char *catalog, const char *out_path, const core_pt_opts *o, void *log_file,
                char *err, size_t errlen);

#endif
