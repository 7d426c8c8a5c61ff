/*
 * learn_bench.c - the timing driver behind tools/bench/learn.sh.
 *
 *   learn_bench gen N D NLAB NRATE SEED PREFIX   synthetic features and labels:
 *        PREFIX.x.f32 (N, D) float32, PREFIX.lab.txt "row label" (NLAB lines),
 *        PREFIX.rate.txt "row rating" (NRATE lines); the same files the
 *        scikit-learn peer reads
 *   learn_bench head PREFIX N D REPEAT   retrain (5-member ensemble on the
 *        labels) + score all N + rank by BALD with the diversity guard
 *        (core_learn_fit_rank, as core_learn_run does minus the store)
 *   learn_bench gp PREFIX N D REPEAT     GP on the ratings (marginal-likelihood
 *        fit, 3 starts) + EI for all N + rank
 *   learn_bench ws PREFIX N D DIR        end to end: builds a workspace with N
 *        galaxies, the features and the labels as answers, then times
 *        core_learn_run (load + train + rank + store)
 * Prints the best wall time in seconds over REPEAT runs.
 */
#include "core/learn.h"
#include "core/util.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *read_x(const char *prefix, int n, int d)
{
    char path[1024];
    snprintf(path, sizeof path, "%s.x.f32", prefix);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    float *x = xmalloc((size_t)n * d * sizeof(float));
    if (fread(x, sizeof(float), (size_t)n * d, f) != (size_t)n * d) { fprintf(stderr, "%s: short\n", path); exit(1); }
    fclose(f);
    return x;
}

static int read_pairs(const char *prefix, const char *what, int **row, float **val)
{
    char path[1024];
    snprintf(path, sizeof path, "%s.%s.txt", prefix, what);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    int cap = 1024, n = 0, r;
    float v;
    *row = xmalloc((size_t)cap * sizeof(int));
    *val = xmalloc((size_t)cap * sizeof(float));
    while (fscanf(f, "%d %f", &r, &v) == 2) {
        if (n == cap) {
            cap *= 2;
            *row = xrealloc(*row, (size_t)cap * sizeof(int));
            *val = xrealloc(*val, (size_t)cap * sizeof(float));
        }
        (*row)[n] = r;
        (*val)[n++] = v;
    }
    fclose(f);
    return n;
}

static void data_for(core_learn_data *D, const char *task, float *x, int n, int d)
{
    memset(D, 0, sizeof *D);
    core_schema_builtin(task, &D->schema);
    snprintf(D->features, sizeof D->features, "bench");
    D->n = n;
    D->d = d;
    D->x = x;
    D->gids = xmalloc((size_t)n * sizeof(uint32_t));
    for (int i = 0; i < n; i++) D->gids[i] = (uint32_t)i + 1;
    D->max_gid = (uint32_t)n;
    D->C = D->schema.kind == CORE_TASK_TREE ? core_schema_n_columns(&D->schema) : 0;
    D->y = D->C ? xcalloc((size_t)n * D->C, sizeof(float)) : NULL;
    D->rating = xmalloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) D->rating[i] = NAN;
    D->pos_col = D->C ? 0 : -1;
    D->l2 = 0.05f;
}

typedef struct {
    int n, d, *row;
    float *x, *val;
    int nl;
} ws_ctx;

static int ws_fill(zs_txn *txn, void *p)
{
    ws_ctx *c = p;
    int rc = store_featset_put(txn, "pca40", c->d, "bench: synthetic");
    for (int i = 0; i < c->n && !rc; i++) {
        char id[32];
        snprintf(id, sizeof id, "B%07d", i);
        store_galaxy g = {0};
        g.id_str = id;
        g.file = "none";
        g.ra = g.dec = NAN;
        uint32_t gid;
        int created;
        if ((rc = store_galaxy_put(txn, &g, &gid, &created))) break;
        rc = store_feature_put(txn, "pca40", gid, c->x + (size_t)i * c->d, c->d);
    }
    for (int k = 0; k < c->nl && !rc; k++) {
        store_answer a;
        memset(&a, 0, sizeof a);
        a.gid = (uint32_t)c->row[k] + 1;
        a.kind = STORE_ANS_TREE;
        snprintf(a.task, sizeof a.task, "ring");
        a.n_steps = 1;
        snprintf(a.steps[0].question, sizeof a.steps[0].question, "ring");
        snprintf(a.steps[0].answer, sizeof a.steps[0].answer, "%s", c->val[k] > 0.5f ? "yes" : "no");
        uint64_t seq;
        rc = store_answer_append(txn, &a, &seq);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: see the file's header\n"); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "gen") && argc == 8) {
        int n = atoi(argv[2]), d = atoi(argv[3]), nl = atoi(argv[4]), nr = atoi(argv[5]);
        core_rng r;
        core_rng_seed(&r, strtoull(argv[6], NULL, 10));
        char path[1024];
        snprintf(path, sizeof path, "%s.x.f32", argv[7]);
        FILE *f = fopen(path, "wb");
        float *x = xmalloc((size_t)d * sizeof(float));
        float *w = xmalloc((size_t)d * sizeof(float));
        for (int k = 0; k < d; k++) w[k] = (float)core_rng_normal(&r) / sqrtf((float)d);
        int *lab = xmalloc((size_t)n * sizeof(int));
        float *rate = xmalloc((size_t)n * sizeof(float));
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) { x[k] = (float)core_rng_normal(&r); s += w[k] * x[k]; }
            lab[i] = s + 0.3 * core_rng_normal(&r) > 1.0;           /* ~16% positive */
            double q = 2.5 + 1.5 * sin(x[0]) + x[1] * 0.5 + 0.3 * core_rng_normal(&r);
            rate[i] = (float)(q < 0 ? 0 : q > 5 ? 5 : q);
            fwrite(x, sizeof(float), (size_t)d, f);
        }
        fclose(f);
        snprintf(path, sizeof path, "%s.lab.txt", argv[7]);
        f = fopen(path, "w");
        for (int k = 0; k < nl; k++) { int i = (int)((long long)k * n / nl); fprintf(f, "%d %d\n", i, lab[i]); }
        fclose(f);
        snprintf(path, sizeof path, "%s.rate.txt", argv[7]);
        f = fopen(path, "w");
        for (int k = 0; k < nr; k++) { int i = (int)((long long)k * n / nr) + 1; if (i >= n) i = n - 1; fprintf(f, "%d %.3f\n", i, rate[i]); }
        fclose(f);
        return 0;
    }
    if ((!strcmp(cmd, "head") || !strcmp(cmd, "gp")) && argc == 6) {
        int n = atoi(argv[3]), d = atoi(argv[4]), rep = atoi(argv[5]);
        float *x = read_x(argv[2], n, d);
        int *row;
        float *val;
        int m = read_pairs(argv[2], !strcmp(cmd, "head") ? "lab" : "rate", &row, &val);
        core_learn_data D;
        int head = !strcmp(cmd, "head");
        data_for(&D, head ? "ring" : "interest", x, n, d);
        for (int k = 0; k < m; k++) {
            if (head) D.y[(size_t)row[k] * 2 + (val[k] > 0.5f ? 0 : 1)] = 1, D.n_answered++;
            else D.rating[row[k]] = val[k], D.n_rated++;
        }
        double best = 1e30;
        char err[256];
        for (int r = 0; r < rep; r++) {
            core_learn_result R;
            double t0 = core_mono_s();
            if (core_learn_fit_rank(&D, head ? "uncertain" : "interest", 1, NULL, NULL, NULL, &R, err, sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            double dt = core_mono_s() - t0;
            if (dt < best) best = dt;
            if (r == rep - 1)
                fprintf(stderr, "%s: n_train %d, %s %.3f, top %d (score %.4g)\n", cmd, R.n_train, R.metric,
                        R.value, R.rank[0], R.score[R.rank[0]]);
            core_learn_result_free(&R);
        }
        printf("%.4f\n", best);
        return 0;
    }
    if (!strcmp(cmd, "ws") && argc == 6) {
        int n = atoi(argv[3]), d = atoi(argv[4]);
        ws_ctx c = {n, d, NULL, read_x(argv[2], n, d), NULL, 0};
        c.nl = read_pairs(argv[2], "lab", &c.row, &c.val);
        zs_store *st;
        int rc = store_open(&st, argv[5], STORE_CREATE | STORE_NOSYNC);
        if (!rc) rc = store_write(st, ws_fill, &c);
        if (!rc) rc = store_sync(st);
        if (rc) { fprintf(stderr, "workspace: %s\n", store_strerror(rc)); return 1; }
        core_learn_opts o = {.task = "ring", .order = "uncertain", .seed = 1};
        core_model_info info;
        char err[256];
        double best = 1e30;
        for (int r = 0; r < 2; r++) {
            double t0 = core_mono_s();
            if (core_learn_run(st, &o, &info, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
            double dt = core_mono_s() - t0;
            if (dt < best) best = dt;
        }
        fprintf(stderr, "ws: version %u n_train %d %s %.3f\n", info.version, info.n_train, info.metric, info.value);
        store_close(st);
        printf("%.4f\n", best);
        return 0;
    }
    fprintf(stderr, "usage: see the file's header\n");
    return 2;
}
