/*
 * interest.h - the features the interest GP sees, in blocks.  A PCA of the
 * whole default set keeps what varies most across galaxies and loses what
 * makes them interesting to a person (colour, compactness).  The block GP
 * (core_gp_fit_blocks; zoosh simulate --gp-blocks, not the default: on the
 * HSC candidates it did not beat the isotropic GP on pca40, docs/learn.md)
 * reads the set the PCA was made from (the default morph+convnext+votes, or
 * morph alone) split in named blocks, each with its own length scale:
 * morphology colour, size and concentration, asymmetry and residuals,
 * radial profile; an encoder's embedding; its predicted votes.
 *
 * Within a block the columns are standardised and weighted as the
 * morphology weights say (a per-annulus profile counts like one number);
 * each block is scaled so that its mean squared distance between two
 * galaxies is 1, so at equal length scales every block weighs the same.
 *
 * Legend: n rows, d columns, nb blocks.
 */
#ifndef ZOOSH_CORE_INTEREST_H
#define ZOOSH_CORE_INTEREST_H

#include <stdint.h>

#include "core/gp.h"
#include "store/store.h"

typedef struct {
    int d, nb;
    float *x;                          /* (n, d) rows in the order of the gids asked for */
    int *block;                        /* (d) each column's block */
    char name[CORE_GP_MAX_BLOCKS][24]; /* "colour", "size", "asymmetry", "profile", "convnext", ... */
    double prior_sd;                   /* the prior on the blocks' scales (core_gp_blocks) */
} core_interest_feat;

/* The blocked features of the galaxies gids (n, ascending) for a task that
 * uses feature set `set`: 0 with *out, or -1 when there are no blocks to
 * give (a set that is neither a combined set, nor morph, nor a PCA of one
 * of them; a galaxy without a vector in the source set): then the GP uses
 * `set` as it is.  Reads in txn. */
int  core_interest_load(zs_txn *txn, const char *set, const uint32_t *gids, int n, core_interest_feat *out);
void core_interest_free(core_interest_feat *f);
/* f's blocks as core_gp_fit_blocks takes them (borrowing f). */
void core_interest_blocks(const core_interest_feat *f, core_gp_blocks *bl);

#endif
