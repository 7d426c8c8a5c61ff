/*
 * store_bench.c - timings of the workspace for tools/bench/store.sh.
 *
 *   store_bench latency DIR N        N synced answer appends, one per commit:
 *                                    prints "p50_ms p99_ms max_ms"
 *   store_bench concurrent DIR P N   P processes append N each at once:
 *                                    prints "answers_per_s"
 *   store_bench scan DIR             reads the whole answers log:
 *                                    prints "answers_per_s n"
 *   store_bench bulk DIR N D         imports N galaxies with a D-d feature
 *                                    vector and 3 priors each, 1000 per
 *                                    transaction, STORE_NOSYNC + one sync at
 *                                    the end: prints "rows_per_s"
 * DIR must not exist for latency / concurrent (it is created).
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int put_galaxy(zs_txn *txn, void *ctx)
{
    (void)ctx;
    store_galaxy g = {0};
    g.id_str = "G1";
    g.file = "g1.png";
    return store_galaxy_put(txn, &g, NULL, NULL);
}

/* A typical gz-decals answer: a four-step path through the tree. */
static int append(zs_txn *txn, void *ctx)
{
    store_answer a;
    memset(&a, 0, sizeof a);
    a.gid = 1;
    a.kind = STORE_ANS_TREE;
    strcpy(a.task, "gz-decals");
    a.n_steps = 4;
    strcpy(a.steps[0].question, "smooth-or-featured"); strcpy(a.steps[0].answer, "featured-or-disk");
    strcpy(a.steps[1].question, "disk-edge-on"); strcpy(a.steps[1].answer, "no");
    strcpy(a.steps[2].question, "has-spiral-arms"); strcpy(a.steps[2].answer, "yes");
    strcpy(a.steps[3].question, "merging"); strcpy(a.steps[3].answer, "none");
    return store_answer_append(txn, &a, ctx);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static zs_store *create(const char *dir)
{
    zs_store *st;
    int rc = store_open(&st, dir, STORE_CREATE);
    if (rc) { fprintf(stderr, "store_open %s: %s\n", dir, store_strerror(rc)); exit(1); }
    if (store_write(st, put_galaxy, NULL)) exit(1);
    return st;
}

typedef struct { int from, n, dim; } bulk_ctx;

static int bulk_batch(zs_txn *txn, void *p)
{
    bulk_ctx *c = p;
    float v[4096];   /* (dim) */
    for (int i = c->from; i < c->from + c->n; i++) {
        char id[32], file[64];
        snprintf(id, sizeof id, "J%08d", i);
        snprintf(file, sizeof file, "images/J%08d.png", i);
        store_galaxy g = {0};
        g.id_str = id;
        g.file = file;
        g.ra = i * 1e-3;
        g.dec = -i * 1e-3;
        uint32_t gid;
        int rc = store_galaxy_put(txn, &g, &gid, NULL);
        if (rc) return rc;
        for (int d = 0; d < c->dim; d++) v[d] = (float)((i * 31 + d) % 97) / 97.0f;
        if ((rc = store_feature_put(txn, "zoobot", gid, v, c->dim))) return rc;
        if ((rc = store_prior_put(txn, gid, "ring", i % 2))) return rc;
        if ((rc = store_prior_put(txn, gid, "smooth-or-featured_smooth_fraction", 0.5))) return rc;
        if ((rc = store_prior_put(txn, gid, "disk-edge-on_no_fraction", 0.25))) return rc;
    }
    return 0;
}

static int make_set(zs_txn *txn, void *p) { return store_featset_put(txn, "zoobot", *(int *)p, "bench"); }

static int counter(const store_answer *a, void *ctx) { (void)a; (*(long *)ctx)++; return 0; }

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "latency") == 0) {
        int n = atoi(argv[3]);
        zs_store *st = create(argv[2]);
        double *t = malloc(sizeof(double) * (size_t)n);   /* (n) seconds per commit */
        for (int i = 0; i < n; i++) {
            uint64_t seq;
            double t0 = now_s();
            int rc = store_write(st, append, &seq);
            t[i] = now_s() - t0;
            if (rc) { fprintf(stderr, "append: %s\n", store_strerror(rc)); return 1; }
        }
        qsort(t, (size_t)n, sizeof *t, cmp_d);
        printf("%.3f %.3f %.3f\n", 1e3 * t[n / 2], 1e3 * t[(int)(n * 0.99)], 1e3 * t[n - 1]);
        store_close(st);
        free(t);
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "concurrent") == 0) {
        int p = atoi(argv[3]), n = atoi(argv[4]);
        store_close(create(argv[2]));
        double t0 = now_s();
        for (int k = 0; k < p; k++) {
            if (fork() == 0) {
                zs_store *st;
                if (store_open(&st, argv[2], 0)) _exit(1);
                for (int i = 0; i < n; i++) {
                    uint64_t seq;
                    if (store_write(st, append, &seq)) _exit(2);
                }
                store_close(st);
                _exit(0);
            }
        }
        int bad = 0, status;
        while (wait(&status) > 0) bad |= !WIFEXITED(status) || WEXITSTATUS(status);
        double dt = now_s() - t0;
        if (bad) { fprintf(stderr, "a writer failed\n"); return 1; }
        printf("%.0f\n", p * n / dt);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "scan") == 0) {
        zs_store *st;
        if (store_open(&st, argv[2], STORE_RDONLY)) return 1;
        zs_txn *txn;
        long cnt = 0;
        double t0 = now_s();
        store_read_begin(st, &txn);
        store_answer_each(txn, 1, counter, &cnt);
        store_read_end(txn);
        double dt = now_s() - t0;
        printf("%.0f %ld\n", cnt / dt, cnt);
        store_close(st);
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "bulk") == 0) {
        int n = atoi(argv[3]), dim = atoi(argv[4]);
        if (dim < 1 || dim > 4096) return 2;
        zs_store *st;
        if (store_open(&st, argv[2], STORE_CREATE | STORE_NOSYNC)) return 1;
        double t0 = now_s();
        if (store_write(st, make_set, &dim)) return 1;
        for (int i = 0; i < n; i += 1000) {
            bulk_ctx c = {i + 1, n - i < 1000 ? n - i : 1000, dim};
            int rc = store_write(st, bulk_batch, &c);
            if (rc) { fprintf(stderr, "bulk: %s %s\n", store_strerror(rc), store_last_error()); return 1; }
        }
        store_sync(st);
        printf("%.0f\n", n / (now_s() - t0));
        store_close(st);
        return 0;
    }
    fprintf(stderr, "usage: store_bench latency DIR N | concurrent DIR P N | scan DIR | bulk DIR N D\n");
    return 2;
}
