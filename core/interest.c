/*
 * interest.c - the interest GP's blocked features (see interest.h): find
 * the source of the task's set (a PCA names it in its provenance), split
 * its columns into blocks from the combine provenance and the morphology
 * component names, standardise, weight and scale each block.
 */
#include "core/interest.h"
#include "core/morph.h"
#include "core/repr.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTEREST_PRIOR_SD 1.0   /* dev_b ~ N(0, 1): a block's scale within ~e^2 of the shared one */

/* The morphology sub-block of component j: 0 colour, 1 size and
 * concentration, 2 asymmetry and residual structure, 3 radial profile. */
static int morph_block(int j)
{
    const char *nm = core_morph_name(j);
    if (!nm) return 3;
    static const char *const colour[] = {"colour_", NULL};
    static const char *const size[] = {"q", "log_r", "concentration", "gini", "m20", "log_flux", "offset", NULL};
    static const char *const asym[] = {"asym", "smoothness", "residual_", "fourier_", NULL};
    const char *const *lists[3] = {colour, size, asym};
    for (int b = 0; b < 3; b++)
        for (int k = 0; lists[b][k]; k++)
            if (strncmp(nm, lists[b][k], strlen(lists[b][k])) == 0 && (b != 1 || k != 0 || nm[1] == 0)) return b;
    return 3;
}

static const char *const MORPH_NAMES[4] = {"colour", "size", "asymmetry", "profile"};

/* The set a PCA set was made from ("pca 40 of SRC (...)"), else set itself. */
static void source_of(zs_txn *txn, const char *set, char *src, size_t len)
{
    char *prov = NULL;
    int dim;
    snprintf(src, len, "%s", set);
    if (store_featset_get(txn, set, &dim, &prov) == 0 && prov && strncmp(prov, "pca ", 4) == 0) {
        const char *of = strstr(prov, " of ");
        if (of) {
            of += 4;
            size_t m = strcspn(of, " ");
            if (m > 0 && m < len) snprintf(src, len, "%.*s", (int)m, of);
        }
    }
    free(prov);
}

/* f->block / f->name for src's columns (dim of them) from its provenance:
 * 0, or -1 when it has no blocks. */
static int blocks_of(zs_txn *txn, const char *src, int dim, core_interest_feat *f, float *w)
{
    char *prov = NULL;
    int d0, width[CORE_REPR_COMBINE_MAX], morph[CORE_REPR_COMBINE_MAX], nparts = 0;
    if (store_featset_get(txn, src, &d0, &prov) != 0 || !prov || d0 != dim) { free(prov); return -1; }
    if (strncmp(prov, CORE_MORPH_VERSION, strlen(CORE_MORPH_VERSION)) == 0 && dim == core_morph_dim()) {
        width[0] = dim;
        morph[0] = 1;
        nparts = 1;
    } else
        nparts = core_repr_combine_parse(prov, width, morph, CORE_REPR_COMBINE_MAX);
    free(prov);
    if (nparts < 1) return -1;
    /* part names from the set name "a+b+c" when it has one per part */
    char names[CORE_REPR_COMBINE_MAX][24];
    for (int p = 0; p < nparts; p++) snprintf(names[p], sizeof names[p], "part%d", p + 1);
    {
        const char *s = src;
        int p = 0, nplus = 0;
        for (const char *c = src; *c; c++) nplus += *c == '+';
        if (nplus + 1 == nparts)
            while (p < nparts) {
                size_t m = strcspn(s, "+");
                snprintf(names[p++], sizeof names[0], "%.*s", (int)(m < 23 ? m : 23), s);
                s += m + (s[m] == '+');
            }
    }
    int off = 0, nb = 0, tot = 0;
    for (int p = 0; p < nparts; p++) tot += width[p];
    if (tot != dim) return -1;
    for (int p = 0; p < nparts; p++) {
        if (morph[p] && width[p] == core_morph_dim()) {
            if (nb + 4 > CORE_GP_MAX_BLOCKS) return -1;
            for (int b = 0; b < 4; b++) snprintf(f->name[nb + b], sizeof f->name[0], "%s", MORPH_NAMES[b]);
            for (int j = 0; j < width[p]; j++) {
                f->block[off + j] = nb + morph_block(j);
                w[off + j] = core_morph_weight(j);
            }
            nb += 4;
        } else {
            if (nb + 1 > CORE_GP_MAX_BLOCKS) return -1;
            snprintf(f->name[nb], sizeof f->name[0], "%.23s", names[p]);
            for (int j = 0; j < width[p]; j++) { f->block[off + j] = nb; w[off + j] = 1; }
            nb++;
        }
        off += width[p];
    }
    f->nb = nb;
    return nb >= 2 ? 0 : -1;
}

int core_interest_load(zs_txn *txn, const char *set, const uint32_t *gids, int n, core_interest_feat *out)
{
    memset(out, 0, sizeof *out);
    char src[96];
    source_of(txn, set, src, sizeof src);
    int dim = 0, m = 0, status = -1;
    if (store_featset_get(txn, src, &dim, NULL) != 0 || dim < 2 || n < 1) return -1;
    float *x = NULL, *w = xmalloc((size_t)dim * sizeof(float));   /* (dim) column weights */
    uint32_t *g = NULL;
    out->block = xmalloc((size_t)dim * sizeof(int));
    if (blocks_of(txn, src, dim, out, w) != 0) goto end;
    int d2;
    if (store_features_load(txn, src, &x, &g, &m, &d2) != 0 || d2 != dim) goto end;
    /* rows of gids in order (both ascending); every one must be there */
    out->x = xmalloc((size_t)n * dim * sizeof(float));
    for (int i = 0, k = 0; i < n; i++) {
        while (k < m && g[k] < gids[i]) k++;
        if (k >= m || g[k] != gids[i]) goto end;
        memcpy(out->x + (size_t)i * dim, x + (size_t)k * dim, (size_t)dim * sizeof(float));
    }
    /* standardise and weight each column; sum of the block's variances */
    double bvar[CORE_GP_MAX_BLOCKS] = {0};
    for (int j = 0; j < dim; j++) {
        double mu = 0, v = 0;
        for (int i = 0; i < n; i++) mu += out->x[(size_t)i * dim + j];
        mu /= n;
        for (int i = 0; i < n; i++) { double t = out->x[(size_t)i * dim + j] - mu; v += t * t; }
        double sd = sqrt(v / n);
        double sc = isfinite(sd) && sd > 1e-12 ? w[j] / sd : 0;
        for (int i = 0; i < n; i++) {
            float *e = out->x + (size_t)i * dim + j;
            *e = isfinite(*e) ? (float)((*e - mu) * sc) : 0;
        }
        bvar[out->block[j]] += sd > 1e-12 && isfinite(sd) ? (double)w[j] * w[j] : 0;
    }
    /* mean squared distance of a block = 2 sum of its variances -> 1 */
    for (int j = 0; j < dim; j++) {
        double bv = bvar[out->block[j]], sc = bv > 0 ? 1 / sqrt(2 * bv) : 0;
        for (int i = 0; i < n; i++) out->x[(size_t)i * dim + j] = (float)(out->x[(size_t)i * dim + j] * sc);
    }
    out->d = dim;
    out->prior_sd = INTEREST_PRIOR_SD;
    status = 0;
end:
    free(x);
    free(g);
    free(w);
    if (status) core_interest_free(out);
    return status;
}

void core_interest_free(core_interest_feat *f)
{
    if (!f) return;
    free(f->x);
    free(f->block);
    memset(f, 0, sizeof *f);
}

void core_interest_blocks(const core_interest_feat *f, core_gp_blocks *bl)
{
    bl->nb = f->nb;
    bl->block = f->block;
    bl->prior_sd = f->prior_sd;
}
