/*
 * t_finetune.c - fine-tuning past the head (core/finetune.h) on a tiny real
 * set: 20 SDSS galaxies of the GZ2 ring-vote choose set with their ring
 * labels, zoosh's own encoder as the base.  The training loss falls, only
 * the last stage and the head change (every earlier tensor of the stored
 * encoder equals the base's, bit for bit), the run is the same byte for byte
 * on 1 and 2 threads, the task's retrains use its set, and bad input (no
 * labels, a damaged stored encoder) is refused with a clear reason.
 */
#include "core/finetune.h"
#include "core/learn.h"
#include "core/safetensors.h"
#include "core/util.h"
#include "store/store.h"
#include "tests/zt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char base_path[4096];

/* ws: 20 galaxies (10 rings, 10 not) with their ring label as the
 * catalog's, morphology features; the base encoder's path in base_path. */
static zs_store *tiny_ws(int labelled)
{
    snprintf(base_path, sizeof base_path, "%s/sample_data/encoder.safetensors", ZT_ROOT);
    int rc = zt_sh("setup.txt",
                   "'%s/tools/gz2_ringval.sh' --labels '%s/kaggle_gz2_votes/catalog.csv' |"
                   " awk -F, 'NR == 1 || ($3 == 1 && r++ < 10) || ($3 == 0 && n++ < 10)' > lab.csv &&"
                   " if [ %d = 0 ]; then cut -d, -f1,2 lab.csv > cat.csv; else cp lab.csv cat.csv; fi &&"
                   " '%s' init ws --schema ring && '%s' import ws cat.csv && '%s' embed ws --method morph --quiet",
                   ZT_ROOT, ZT_SHARED, labelled, ZT_ZOOSH, ZT_ZOOSH, ZT_ZOOSH);
    ZT_CHECK(rc == 0, "setting up the workspace failed (setup.txt)");
    zs_store *st;
    ZT_OK(store_open(&st, "ws", 0));
    return st;
}

static void opts(core_ft_opts *o, int threads)
{
    core_ft_opts_default(o);
    o->task = "ring";
    o->weights = base_path;
    o->epochs = 4;
    o->head_epochs = 4;
    o->val_frac = 0;       /* every epoch kept: the last stage must move */
    o->threads = threads;
}

/* A copy of the task's stored encoder. */
static uint8_t *stored(zs_store *st, size_t *len)
{
    zs_txn *txn;
    const void *b;
    ZT_OK(store_read_begin(st, &txn));
    ZT_OK(core_learn_encoder_get(txn, "ring", &b, len));
    uint8_t *c = xmalloc(*len);
    memcpy(c, b, *len);
    store_read_end(txn);
    return c;
}

static void finetuning_lowers_the_loss_and_changes_only_the_last_stage(void)
{
    zs_store *st = tiny_ws(1);
    core_ft_opts o;
    opts(&o, 1);
    core_ft_result R;
    char err[512] = "";
    ZT_CHECK(core_ft_run(st, &o, &R, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(R.n_train == 20 && R.n_val == 0, "%d trained on, %d held out", R.n_train, R.n_val);
    ZT_CHECK(R.loss_head < R.loss_start, "the head alone: %g -> %g", R.loss_start, R.loss_head);
    ZT_CHECK(R.loss_end < R.loss_head, "the last stage lowers the training loss further: %g -> %g", R.loss_head,
             R.loss_end);
    ZT_CHECK(R.rows == 20 && !strcmp(R.set, "ft_ring"), "%d rows in %s", R.rows, R.set);

    size_t len;
    uint8_t *bytes = stored(st, &len);
    core_safetensors *ft, *base;
    ZT_CHECK(core_safetensors_open_mem(&ft, bytes, len, err, sizeof err) == 0, "the stored encoder: %s", err);
    ZT_CHECK(core_safetensors_open(&base, base_path, err, sizeof err) == 0, "%s", err);
    int same = 0, changed_last = 0, n_last = 0;
    for (int i = 0; i < core_safetensors_count(base); i++) {
        const core_st_tensor *b = core_safetensors_at(base, i);
        if (!strncmp(b->name, "head.fc.", 8)) continue;   /* a new head with the task's answers */
        const core_st_tensor *f = core_safetensors_find(ft, b->name);
        ZT_CHECK(f && f->nbytes == b->nbytes, "tensor %s is in the stored encoder with its size", b->name);
        int eq = !memcmp(f->data, b->data, b->nbytes);
        if (!strncmp(b->name, "stages.3.", 9) || !strncmp(b->name, "head.", 5)) {
            n_last++;
            changed_last += !eq;
        } else {
            ZT_CHECK(eq, "frozen tensor %s differs from the base's", b->name);
            same++;
        }
    }
    ZT_CHECK(same > 20 && changed_last > n_last / 2, "%d frozen tensors equal; %d of %d last-stage tensors changed",
             same, changed_last, n_last);
    const char *sz = core_safetensors_meta(ft, "zoosh_input_size"), *cr = core_safetensors_meta(ft, "zoosh_crop");
    ZT_CHECK(sz && !strcmp(sz, "64") && cr && !strcmp(cr, "0.5"), "embed's size and crop recorded: %s %s",
             sz ? sz : "-", cr ? cr : "-");
    core_safetensors_close(ft);
    core_safetensors_close(base);

    /* the task's head now trains on its own set */
    core_learn_data D;
    ZT_CHECK(core_learn_load(st, "ring", NULL, &D, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(!strcmp(D.features, "ft_ring") && D.d == 2, "retrains use %s (%d columns)", D.features, D.d);
    core_learn_data_free(&D);
    ZT_OK(core_ft_off(st, "ring"));
    ZT_CHECK(core_learn_load(st, "ring", NULL, &D, err, sizeof err) == 0, "%s", err);
    ZT_CHECK(strcmp(D.features, "ft_ring") != 0, "after core_ft_off: %s", D.features);
    core_learn_data_free(&D);
    free(bytes);
    store_close(st);
}

static void the_same_encoder_on_one_thread_or_two(void)
{
    zs_store *st = tiny_ws(1);
    core_ft_opts o;
    opts(&o, 1);
    o.embed = 0;
    core_ft_result R;
    char err[512] = "";
    ZT_CHECK(core_ft_run(st, &o, &R, err, sizeof err) == 0, "%s", err);
    size_t l1, l2;
    uint8_t *a = stored(st, &l1);
    o.threads = 2;
    ZT_CHECK(core_ft_run(st, &o, &R, err, sizeof err) == 0, "%s", err);
    uint8_t *b = stored(st, &l2);
    ZT_CHECK(l1 == l2 && !memcmp(a, b, l1), "1 and 2 threads give different files");
    o.seed = 2;
    ZT_CHECK(core_ft_run(st, &o, &R, err, sizeof err) == 0, "%s", err);
    free(b);
    b = stored(st, &l2);
    ZT_CHECK(l1 != l2 || memcmp(a, b, l1), "another seed gives the same file");
    free(a);
    free(b);
    store_close(st);
}

static int put_junk(zs_txn *txn, void *ctx)
{
    (void)ctx;
    static const char junk[] = "\x40\x00\x00\x00\x00\x00\x00\x00{\"stem.0.weight\": {\"dtype\": \"F32\"";
    return core_learn_encoder_put(txn, "ring", junk, sizeof junk);
}

static void bad_input_is_refused_with_a_reason(void)
{
    zs_store *st = tiny_ws(0);
    core_ft_opts o;
    opts(&o, 1);
    core_ft_result R;
    char err[512] = "";
    ZT_CHECK(core_ft_run(st, &o, &R, err, sizeof err) == -1 && strstr(err, "0 labelled galaxies"),
             "no labels: %s", err);
    o.weights = "no-such.safetensors";
    err[0] = 0;
    ZT_CHECK(core_ft_run(st, &o, &R, err, sizeof err) == -1 && strstr(err, "no-such.safetensors"),
             "a missing base: %s", err);
    err[0] = 0;
    ZT_CHECK(core_ft_export(st, "ring", "out.safetensors", err, sizeof err) == STORE_ENOTFOUND &&
             strstr(err, "no fine-tuned encoder"), "nothing stored: %s", err);
    /* a damaged stored encoder: refused, nothing written */
    ZT_OK(store_write(st, put_junk, NULL));
    err[0] = 0;
    ZT_CHECK(core_ft_export(st, "ring", "out.safetensors", err, sizeof err) == -1 && strstr(err, "damaged"),
             "a damaged encoder: %s", err);
    FILE *f = fopen("out.safetensors", "rb");
    ZT_CHECK(!f, "a file was written from a damaged encoder");
    store_close(st);
}

const zt_case zt_suite_finetune[] = {
    {"fine-tuning lowers the loss and changes only the last stage", finetuning_lowers_the_loss_and_changes_only_the_last_stage, 120},
    {"the same encoder on one thread or two", the_same_encoder_on_one_thread_or_two, 120},
    {"bad input is refused with a reason", bad_input_is_refused_with_a_reason, 60},
    {0}
};
