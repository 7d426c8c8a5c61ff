/*
 * embed.c - the encoders by name, the vote head's fractions, PCA with its
 * provenance and similarity search by catalog id (see embed.h).
 */
#include "core/embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/convnext.h"
#include "core/util.h"

struct core_embed_encoder {
    core_repr_encoder enc;
    core_convnext *m;         /* the ConvNeXt, NULL for morph / pixels */
    int size;                 /* its input pixels */
    char weights[4096];       /* its file, for the votes' provenance */
    char prov[600];           /* its provenance */
};

/* The ConvNeXt encoder (core/convnext.h): a Zoobot/timm model.safetensors,
 * or zoosh's own.  It threads itself, so the embed loop gives it one worker
 * and batches of 16. */
static int convnext_fn(void *ctx, const core_image *imgs, int n, float *out, char *err, size_t errlen)
{
    core_embed_encoder *e = ctx;
    if (core_convnext_embed(e->m, imgs, n, e->size, out)) {
        snprintf(err, errlen, "ConvNeXt: input size %d px refused", e->size);
        return -1;
    }
    return 0;
}

static int convnext_encoder(core_embed_encoder *e, const core_embed_opts *o, char *err, size_t errlen)
{
    if (core_convnext_load(&e->m, o->weights, o->arch, err, errlen)) return -1;
    core_convnext_set_threads(e->m, o->threads);
    core_convnext_set_views(e->m, o->views);
    if (o->crop > 0) core_convnext_set_crop(e->m, o->crop);
    /* --size given wins; else the resolution the weights were trained at
     * (zoosh pretrain records it), else 224 (Zoobot's) */
    e->size = o->size > 0 ? o->size : core_convnext_input_size(e->m) ? core_convnext_input_size(e->m) : 224;
    const core_convnext_arch *a = core_convnext_arch_of(e->m);
    char views[48] = "";
    if (o->views > 1) snprintf(views, sizeof views, ", mean of %d views", o->views);
    snprintf(e->weights, sizeof e->weights, "%s", o->weights);
    snprintf(e->prov, sizeof e->prov, "%s (depths %d,%d,%d,%d dims %d..%d) %s at %d px%s", a->name, a->depths[0],
             a->depths[1], a->depths[2], a->depths[3], a->dims[0], core_convnext_dim(e->m), o->weights, e->size, views);
    e->enc.set = o->set ? o->set : "convnext";
    e->enc.provenance = e->prov;
    e->enc.dim = core_convnext_dim(e->m);
    e->enc.threads = 1;
    e->enc.batch = 16;
    e->enc.fn = convnext_fn;
    e->enc.ctx = e;
    return 0;
}

int core_embed_encoder_new(core_embed_encoder **out, const core_embed_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    core_embed_encoder *e = xcalloc(1, sizeof *e);
    int rc = 0;
    if (o->weights) {
        rc = convnext_encoder(e, o, err, errlen);
    } else if (strcmp(o->method, "morph") == 0) {
        core_repr_morph_encoder(&e->enc, o->threads);
    } else if (strcmp(o->method, "pixels") == 0) {
        core_repr_pixels_encoder(&e->enc, o->threads);
    } else {
        snprintf(err, errlen, "unknown --method '%s' (known: morph, pixels)", o->method);
        rc = -3;
    }
    if (rc) {
        core_embed_encoder_free(e);
        return rc;
    }
    if (o->set && !o->weights) e->enc.set = o->set;
    e->enc.new_only = o->new_only;
    *out = e;
    return 0;
}

void core_embed_encoder_free(core_embed_encoder *e)
{
    if (!e) return;
    core_convnext_free(e->m);
    free(e);
}

const core_repr_encoder *core_embed_encoder_repr(const core_embed_encoder *e) { return &e->enc; }

static void votes_fn(void *ctx, const float *x, int n, int in_dim, float *y)
{
    (void)in_dim;   /* core_repr_map's input is the set this model just wrote */
    core_convnext_head_votes(ctx, x, n, y);
}

int core_embed_votes(zs_store *st, const core_embed_encoder *e, char *out_set, size_t out_len, int *answers,
                     int *rows, char *err, size_t errlen)
{
    int A = e->m ? core_convnext_head_answers(e->m) : 0;
    *answers = A;
    *rows = 0;
    if (A == 0) return 0;
    const char *set = e->enc.set;
    char prov[1200];
    if (!strcmp(set, "convnext")) snprintf(out_set, out_len, "%s", CORE_EMBED_VOTES_SET);
    else snprintf(out_set, out_len, "%s_%s", set, CORE_EMBED_VOTES_SET);
    size_t pl = (size_t)snprintf(prov, sizeof prov,
                                 "votes v1: %d predicted vote fractions (%s, softmax per question) of %s; answers ", A,
                                 e->weights, set);
    for (int a = 0; a < A && pl < sizeof prov; a++)
        pl += (size_t)snprintf(prov + pl, sizeof prov - pl, "%s%s", a ? "," : "", core_convnext_head_answer(e->m, a));
    return core_repr_map(st, set, out_set, A, prov, votes_fn, e->m, rows, err, errlen);
}

int core_embed_pca(zs_store *st, const char *set, int k, char *name, size_t name_len, char **prov, char *err,
                   size_t errlen)
{
    *prov = NULL;
    int rc = core_repr_pca_fit(st, set, k, name, name_len, err, errlen);
    if (rc) return rc;
    zs_txn *txn;
    int dim = 0;
    if (store_read_begin(st, &txn) == 0) {
        store_featset_get(txn, name, &dim, prov);
        store_read_end(txn);
    }
    return 0;
}

int core_embed_similar(zs_store *st, const char *id, const char *set, int metric, int k, core_embed_hits *out)
{
    memset(out, 0, sizeof *out);
    zs_txn *txn = NULL;
    core_repr_index *ix = NULL;
    uint32_t gid;
    int rc = store_read_begin(st, &txn);
    if (rc) { out->failed_at = CORE_EMBED_AT_READ; return rc; }
    if ((rc = store_galaxy_find(txn, id, &gid)) != 0) { out->failed_at = CORE_EMBED_AT_FIND; goto end; }
    if ((rc = core_repr_index_new(txn, set, metric, &ix)) != 0) { out->failed_at = CORE_EMBED_AT_INDEX; goto end; }
    snprintf(out->set, sizeof out->set, "%s", core_repr_index_set(ix));
    out->rows = core_repr_index_rows(ix);
    out->gid = xmalloc(sizeof *out->gid * (size_t)k);
    out->dist = xmalloc(sizeof *out->dist * (size_t)k);
    double t0 = core_mono_s();
    int f = core_repr_index_query(ix, gid, k, out->gid, out->dist);
    out->seconds = core_mono_s() - t0;
    if (f < 0) { rc = f; out->failed_at = CORE_EMBED_AT_QUERY; goto end; }
    out->n = f;
    out->id = xcalloc((size_t)(f ? f : 1), sizeof *out->id);
    out->file = xcalloc((size_t)(f ? f : 1), sizeof *out->file);
    for (int i = 0; i < f; i++) {
        store_galaxy g;
        memset(&g, 0, sizeof g);
        if (store_galaxy_get(txn, out->gid[i], &g) != 0) continue;
        out->id[i] = xstrdup(g.id_str ? g.id_str : "?");
        out->file[i] = xstrdup(g.file ? g.file : "");
        store_galaxy_free(&g);
    }
end:
    core_repr_index_free(ix);
    store_read_end(txn);
    return rc;
}

void core_embed_hits_free(core_embed_hits *h)
{
    if (!h) return;
    for (int i = 0; i < h->n; i++) {
        if (h->id) free(h->id[i]);
        if (h->file) free(h->file[i]);
    }
    free(h->id);
    free(h->file);
    free(h->gid);
    free(h->dist);
    memset(h, 0, sizeof *h);
}
