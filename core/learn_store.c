/*
 * learn_store.c - the active-learning loop's blobs (see learn_store.h):
 * their keys, their layouts, and the transactions that read and write them.
 *
 * Layouts (little-endian, this machine's float layout):
 *   info header (128 bytes): "ZQI1", u32 version, i64 time_us, i32 n_train,
 *     char metric[16], f64 value, char order[16], char features[64],
 *     i32 priors (n_prior; negated when prior_only; 0 in older records)
 *   SCORES "<task>/queue": info, u32 n, u32 gids[n] (best first)
 *   SCORES "<task>/pred":  "ZPR1", u32 C, u32 max_gid, u32 0, then float
 *     p[(max_gid + 1) * C] indexed by gid (NAN for galaxies without
 *     features).  For a rating task C = 2: predicted rating and its sd.
 *   MODELS "<task>/head":  info, u32 kind bits (1 head, 2 gp), u32 ens_len,
 *     ens bytes (core_ens_save), core_gp_hyper when a GP was fitted
 *   MODELS "<task>/head.prior": info, u32 fingerprint of what it was fitted on
 *     (learn.c's prior_fingerprint: the features and the priors), u32
 *     ens_len, ens bytes
 *   SCORES "anomaly/<features>": u32 n, float score[n] (isolation forest)
 *   MODELS "<task>/encoder": a safetensors file as it is (core/finetune.c)
 *   SCORES "<task>/curve": the last 256 models, 24 bytes each: u32 version,
 *     i32 n_train, f64 held-out value, i64 time_us (for the status sparkline)
 *
 * DESIGN (threads): no state of its own; every call works inside the
 * transaction it is given or opens, so core_learn_run may call these from
 * the labeler's background thread while the UI reads.
 */
#include "core/learn_store.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFO_BYTES 128
#define CURVE_REC 24                 /* u32 version, i32 n_train, f64 value, i64 time_us */
#define CURVE_MAX 256

/* ------------------------------------------------------------ keys and the info header */

static void info_pack(uint8_t *b, const core_model_info *in)
{
    memset(b, 0, INFO_BYTES);
    memcpy(b, "ZQI1", 4);
    memcpy(b + 4, &in->version, 4);
    memcpy(b + 8, &in->time_us, 8);
    int32_t nt = in->n_train;
    memcpy(b + 16, &nt, 4);
    memcpy(b + 20, in->metric, 16);
    memcpy(b + 36, &in->value, 8);
    memcpy(b + 44, in->order, 16);
    memcpy(b + 60, in->features, 64);
    int32_t np = in->prior_only ? -in->n_prior : in->n_prior;
    memcpy(b + 124, &np, 4);
}

static int info_unpack(const uint8_t *b, size_t len, core_model_info *out)
{
    if (len < INFO_BYTES || memcmp(b, "ZQI1", 4) != 0) return STORE_ECORRUPT;
    memset(out, 0, sizeof *out);
    memcpy(&out->version, b + 4, 4);
    memcpy(&out->time_us, b + 8, 8);
    int32_t nt;
    memcpy(&nt, b + 16, 4);
    out->n_train = nt;
    memcpy(out->metric, b + 20, 16);
    out->metric[15] = 0;
    memcpy(&out->value, b + 36, 8);
    memcpy(out->order, b + 44, 16);
    out->order[15] = 0;
    memcpy(out->features, b + 60, 64);
    out->features[63] = 0;
    int32_t np;
    memcpy(&np, b + 124, 4);
    out->prior_only = np < 0;
    out->n_prior = np < 0 ? (np == INT32_MIN ? INT32_MAX : -np) : np;
    return 0;
}

static void blob_key(char *buf, size_t len, const char *task, const char *what)
{
    snprintf(buf, len, "%.31s/%s", task, what);
}

static void anomaly_key(char *buf, size_t len, const char *features)
{
    snprintf(buf, len, "anomaly/%.60s", features);
}

/* The blob "<task>/<what>" of db. */
static int blob_get(zs_txn *txn, int db, const char *task, const char *what, const void **data, size_t *len)
{
    char key[64];
    blob_key(key, sizeof key, task, what);
    return store_blob_get(txn, db, key, data, len);
}

/* ------------------------------------------------------------ readers */

int core_queue_get(zs_txn *txn, const char *task, uint32_t **gids, int *n, core_model_info *info)
{
    const void *data;
    size_t len;
    *gids = NULL;
    *n = 0;
    int rc = blob_get(txn, STORE_DB_SCORES, task, "queue", &data, &len);
    if (rc != 0) return rc;
    core_model_info tmp;
    if (info_unpack(data, len, info ? info : &tmp) != 0 || len < INFO_BYTES + 4) return STORE_ECORRUPT;
    uint32_t m;
    memcpy(&m, (const uint8_t *)data + INFO_BYTES, 4);
    if ((len - INFO_BYTES - 4) / 4 < m) return STORE_ECORRUPT;
    *gids = xmalloc((size_t)(m ? m : 1) * sizeof(uint32_t));
    memcpy(*gids, (const uint8_t *)data + INFO_BYTES + 4, (size_t)m * 4);
    *n = (int)m;
    return 0;
}

int core_pred_get(zs_txn *txn, const char *task, uint32_t gid, float *p, int max, int *n)
{
    const void *data;
    size_t len;
    *n = 0;
    int rc = blob_get(txn, STORE_DB_SCORES, task, "pred", &data, &len);
    if (rc != 0) return rc;
    const uint8_t *b = data;
    uint32_t C, maxg;
    if (len < 16 || memcmp(b, "ZPR1", 4) != 0) return STORE_ECORRUPT;
    memcpy(&C, b + 4, 4);
    memcpy(&maxg, b + 8, 4);
    if (C > 4096 || (len - 16) / 4 / (C ? C : 1) < (size_t)maxg + 1) return STORE_ECORRUPT;
    if (gid > maxg) return STORE_ENOTFOUND;
    int k = (int)C < max ? (int)C : max;
    memcpy(p, b + 16 + ((size_t)gid * C) * 4, (size_t)(k > 0 ? k : 0) * 4);
    *n = (int)C;
    return 0;
}

int core_model_info_get(zs_txn *txn, const char *task, core_model_info *info)
{
    const void *data;
    size_t len;
    int rc = blob_get(txn, STORE_DB_MODELS, task, "head", &data, &len);
    if (rc != 0) return rc;
    return info_unpack(data, len, info);
}

int core_learn_curve_get(zs_txn *txn, const char *task, int *n_train, double *value, int max, int *n)
{
    const void *data;
    size_t len;
    *n = 0;
    int rc = blob_get(txn, STORE_DB_SCORES, task, "curve", &data, &len);
    if (rc != 0) return rc;
    if (len % CURVE_REC != 0) return STORE_ECORRUPT;
    int m = (int)(len / CURVE_REC), first = m > max ? m - max : 0;
    for (int i = first; i < m; i++) {
        const uint8_t *r = (const uint8_t *)data + (size_t)i * CURVE_REC;
        int32_t nt;
        memcpy(&nt, r + 4, 4);
        if (n_train) n_train[i - first] = nt;
        if (value) memcpy(&value[i - first], r + 8, 8);
    }
    *n = m - first;
    return 0;
}

int core_learn_store_gp_start(zs_store *st, const char *task, core_gp_hyper *hp)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc != 0) return STORE_ENOTFOUND;
    const void *data;
    size_t len;
    rc = STORE_ENOTFOUND;
    if (blob_get(txn, STORE_DB_MODELS, task, "head", &data, &len) == 0 && len >= INFO_BYTES + 8) {
        uint32_t kind, el;
        memcpy(&kind, (const uint8_t *)data + INFO_BYTES, 4);
        memcpy(&el, (const uint8_t *)data + INFO_BYTES + 4, 4);
        if ((kind & 2) && INFO_BYTES + 8 + (size_t)el + sizeof(core_gp_hyper) <= len) {
            memcpy(hp, (const uint8_t *)data + INFO_BYTES + 8 + el, sizeof *hp);
            rc = 0;
        }
    }
    store_read_end(txn);
    return rc;
}

int core_learn_store_prior_get(zs_store *st, const char *task, const char *features, uint32_t fingerprint,
                               core_ens **e, core_model_info *info)
{
    zs_txn *txn;
    *e = NULL;
    if (store_read_begin(st, &txn) != 0) return STORE_ENOTFOUND;
    const void *data;
    size_t len;
    core_model_info in;
    if (blob_get(txn, STORE_DB_MODELS, task, "head.prior", &data, &len) == 0 &&
        info_unpack(data, len, &in) == 0 && len >= INFO_BYTES + 8) {
        uint32_t np, el;
        memcpy(&np, (const uint8_t *)data + INFO_BYTES, 4);
        memcpy(&el, (const uint8_t *)data + INFO_BYTES + 4, 4);
        char e2[128];
        if (np == fingerprint && strcmp(in.features, features) == 0 &&
            INFO_BYTES + 8 + (size_t)el <= len &&
            core_ens_load((const uint8_t *)data + INFO_BYTES + 8, el, e, e2, sizeof e2) == 0)
            *info = in;
    }
    store_read_end(txn);
    return *e ? 0 : STORE_ENOTFOUND;
}

float *core_learn_store_anomaly_get(zs_store *st, const char *features, int n)
{
    zs_txn *txn;
    float *out = NULL;
    if (store_read_begin(st, &txn) != 0) return NULL;
    char key[96];
    anomaly_key(key, sizeof key, features);
    const void *data;
    size_t len;
    if (store_blob_get(txn, STORE_DB_SCORES, key, &data, &len) == 0 && len >= 4) {
        uint32_t m;
        memcpy(&m, data, 4);
        if ((int)m == n && len == 4 + (size_t)m * 4) {
            out = xmalloc((size_t)(m ? m : 1) * sizeof(float));
            memcpy(out, (const uint8_t *)data + 4, (size_t)m * 4);
        }
    }
    store_read_end(txn);
    return out;
}

/* ------------------------------------------------------------ writers */

/* One blob put from one buffer: head, queue and the rest build theirs, this
 * stores and frees it. */
static int put_owned(zs_txn *txn, int db, const char *key, uint8_t *b, size_t len)
{
    int rc = store_blob_put(txn, db, key, b, len);
    free(b);
    return rc;
}

/* "<task>/head": info, kind bits, the ensemble, the GP's hyperparameters;
 * its version follows the stored one's. */
static int put_head(zs_txn *txn, core_learn_record *w)
{
    char key[96];
    const void *data;
    size_t len;
    core_model_info old;
    blob_key(key, sizeof key, w->task, "head");
    w->info.version = 1;
    if (store_blob_get(txn, STORE_DB_MODELS, key, &data, &len) == 0 && info_unpack(data, len, &old) == 0)
        w->info.version = old.version + 1;
    size_t hl = INFO_BYTES + 8 + w->ens_len + (w->has_gp ? sizeof w->hp : 0);
    uint8_t *hb = xmalloc(hl);
    info_pack(hb, &w->info);
    uint32_t kind = (w->ens ? 1u : 0u) | (w->has_gp ? 2u : 0u), el = (uint32_t)w->ens_len;
    memcpy(hb + INFO_BYTES, &kind, 4);
    memcpy(hb + INFO_BYTES + 4, &el, 4);
    if (w->ens_len) memcpy(hb + INFO_BYTES + 8, w->ens, w->ens_len);
    if (w->has_gp) memcpy(hb + INFO_BYTES + 8 + w->ens_len, &w->hp, sizeof w->hp);
    return put_owned(txn, STORE_DB_MODELS, key, hb, hl);
}

static int put_queue(zs_txn *txn, const core_learn_record *w)
{
    char key[96];
    size_t ql = INFO_BYTES + 4 + (size_t)w->nq * 4;
    uint8_t *qb = xmalloc(ql);
    info_pack(qb, &w->info);
    uint32_t nq = (uint32_t)w->nq;
    memcpy(qb + INFO_BYTES, &nq, 4);
    memcpy(qb + INFO_BYTES + 4, w->queue, (size_t)w->nq * 4);
    blob_key(key, sizeof key, w->task, "queue");
    return put_owned(txn, STORE_DB_SCORES, key, qb, ql);
}

static int put_pred(zs_txn *txn, const core_learn_record *w)
{
    char key[96];
    size_t pl = 16 + ((size_t)w->max_gid + 1) * w->C * 4;
    uint8_t *pb = xmalloc(pl);
    memcpy(pb, "ZPR1", 4);
    memcpy(pb + 4, &w->C, 4);
    memcpy(pb + 8, &w->max_gid, 4);
    memset(pb + 12, 0, 4);
    memcpy(pb + 16, w->pred, pl - 16);
    blob_key(key, sizeof key, w->task, "pred");
    return put_owned(txn, STORE_DB_SCORES, key, pb, pl);
}

/* The learning curve: the last CURVE_MAX models' (version, n_train, value, time). */
static int put_curve(zs_txn *txn, const core_learn_record *w)
{
    char key[96];
    const void *data;
    size_t len, have = 0;
    const uint8_t *old_c = NULL;
    blob_key(key, sizeof key, w->task, "curve");
    if (store_blob_get(txn, STORE_DB_SCORES, key, &data, &len) == 0 && len % CURVE_REC == 0) {
        old_c = data;
        have = len / CURVE_REC;
    }
    size_t keep = have >= CURVE_MAX ? CURVE_MAX - 1 : have;
    uint8_t *cb = xmalloc((keep + 1) * CURVE_REC);
    if (keep) memcpy(cb, old_c + (have - keep) * CURVE_REC, keep * CURVE_REC);
    uint8_t *r = cb + keep * CURVE_REC;
    int32_t nt = w->info.n_train;
    memcpy(r, &w->info.version, 4);
    memcpy(r + 4, &nt, 4);
    memcpy(r + 8, &w->info.value, 8);
    memcpy(r + 16, &w->info.time_us, 8);
    return put_owned(txn, STORE_DB_SCORES, key, cb, (keep + 1) * CURVE_REC);
}

static int put_anomaly(zs_txn *txn, const core_learn_record *w)
{
    char key[96];
    size_t al = 4 + (size_t)w->n_anom * 4;
    uint8_t *ab = xmalloc(al);
    uint32_t na = (uint32_t)w->n_anom;
    memcpy(ab, &na, 4);
    memcpy(ab + 4, w->anom, (size_t)w->n_anom * 4);
    anomaly_key(key, sizeof key, w->features);
    return put_owned(txn, STORE_DB_SCORES, key, ab, al);
}

static int record_put(zs_txn *txn, void *vctx)
{
    core_learn_record *w = vctx;
    int rc = put_head(txn, w);
    if (rc == 0) rc = put_queue(txn, w);
    if (rc == 0 && w->pred) rc = put_pred(txn, w);
    if (rc == 0) rc = put_curve(txn, w);
    if (rc == 0 && w->anom) rc = put_anomaly(txn, w);
    return rc;
}

int core_learn_store_put(zs_store *st, core_learn_record *rec)
{
    return store_write(st, record_put, rec);
}

typedef struct {
    const char *key;
    const uint8_t *blob;
    size_t len;
} put_ctx;

static int put_fn(zs_txn *txn, void *vctx)
{
    put_ctx *p = vctx;
    return store_blob_put(txn, STORE_DB_MODELS, p->key, p->blob, p->len);
}

int core_learn_store_prior_put(zs_store *st, const char *task, const core_ens *e, uint32_t fingerprint,
                               const core_model_info *info)
{
    char key[96];
    uint8_t *eb;
    size_t el;
    blob_key(key, sizeof key, task, "head.prior");
    core_ens_save(e, &eb, &el);
    size_t bl = INFO_BYTES + 8 + el;
    uint8_t *b = xmalloc(bl);
    info_pack(b, info);
    uint32_t np = fingerprint, e32 = (uint32_t)el;
    memcpy(b + INFO_BYTES, &np, 4);
    memcpy(b + INFO_BYTES + 4, &e32, 4);
    memcpy(b + INFO_BYTES + 8, eb, el);
    put_ctx pc = {key, b, bl};
    int rc = store_write(st, put_fn, &pc);
    free(eb);
    free(b);
    return rc;
}

int core_learn_encoder_get(zs_txn *txn, const char *task, const void **bytes, size_t *len)
{
    return blob_get(txn, STORE_DB_MODELS, task, "encoder", bytes, len);
}

int core_learn_encoder_put(zs_txn *txn, const char *task, const void *bytes, size_t len)
{
    char key[96];
    blob_key(key, sizeof key, task, "encoder");
    return store_blob_put(txn, STORE_DB_MODELS, key, bytes, len);
}
