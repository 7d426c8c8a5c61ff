/*
 * cmd_learn.c - the active-learning subcommands:
 *
 *   zoosh train WS --task T [--order O]        train the head, re-rank, store
 *   zoosh rank WS --task T --order O --top K   print the best K of an order
 *   zoosh simulate WS --task T --oracle COL --budget B --order O --seed S
 *                                              replay labeling with a catalog column
 *   zoosh eval WS --task T [-k 5]              k-fold cross-validated metrics
 *
 * All numerics live in core/ (learn.h, head.h, gp.h, rank.h); this file
 * parses arguments, prints, and draws the learning curve PNG.
 */
#include "tui/cmd/cmd.h"
#include "core/anomaly.h"
#include "core/acquire.h"
#include "core/head.h"
#include "core/metrics.h"
#include "core/image.h"
#include "core/learn.h"
#include "core/rank.h"
#include "core/repr.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *ws, *task, *order, *features, *oracle, *rate_from, *plot, *target, *l2, *prior_from;
    uint64_t seed;
    int top, budget, batch, k, hidden, stored;
    double holdout;
} learn_args;

/* Parses the shared options; returns 0, or prints the problem and returns EXIT_USAGE. */
static int parse(const char *cmd, int argc, char **argv, learn_args *a, void (*usage)(FILE *))
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->top = 20;
    a->batch = 10;
    a->k = 5;
    a->hidden = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field) do { if (!v) { goto missing; } a->field = v; i++; } while (0)
#define TAKE_INT(field, lo) do { \
            if (!v) { goto missing; } \
            char *e; \
            long x = strtol(v, &e, 10); \
            if (*e || !*v || x < (lo) || x > 100000000) { goto badnum; } \
            a->field = (int)x; \
            i++; \
        } while (0)
        if (!strcmp(o, "--task") || !strcmp(o, "-t")) TAKE(task);
        else if (!strcmp(o, "--order") || !strcmp(o, "-o")) TAKE(order);
        else if (!strcmp(o, "--features")) TAKE(features);
        else if (!strcmp(o, "--oracle")) TAKE(oracle);
        else if (!strcmp(o, "--rate-from")) TAKE(rate_from);
        else if (!strcmp(o, "--plot")) TAKE(plot);
        else if (!strcmp(o, "--target")) TAKE(target);
        else if (!strcmp(o, "--prior-from")) TAKE(prior_from);
        else if (!strcmp(o, "--l2")) {
            if (!v) goto missing;
            char *e;
            double x = strtod(v, &e);
            if (*e || !*v || !(x >= 0 && x < 1000)) goto badnum;
            a->l2 = v;
            i++;
        }
        else if (!strcmp(o, "--top")) TAKE_INT(top, 1);
        else if (!strcmp(o, "--budget")) TAKE_INT(budget, 1);
        else if (!strcmp(o, "--batch")) TAKE_INT(batch, 1);
        else if (!strcmp(o, "-k") || !strcmp(o, "--folds")) TAKE_INT(k, 2);
        else if (!strcmp(o, "--hidden")) TAKE_INT(hidden, 0);
        else if (!strcmp(o, "--stored")) a->stored = 1;
        else if (!strcmp(o, "--seed")) {
            if (!v) goto missing;
            char *e;
            unsigned long long x = strtoull(v, &e, 10);
            if (*e || !*v) goto badnum;
            a->seed = x;
            i++;
        } else if (!strcmp(o, "--holdout")) {
            if (!v) goto missing;
            char *e;
            double x = strtod(v, &e);
            if (*e || !*v || !(x >= 0 && x < 1)) goto badnum;   /* NaN fails too */
            a->holdout = x;
            i++;
        } else if (o[0] == '-') {
            fprintf(stderr, "zoosh %s: unknown option '%s'\n", cmd, o);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!a->ws) {
            a->ws = o;
        } else {
            fprintf(stderr, "zoosh %s: unexpected argument '%s'\n", cmd, o);
            usage(stderr);
            return EXIT_USAGE;
        }
        continue;
    missing:
        fprintf(stderr, "zoosh %s: %s needs a value\n", cmd, o);
        return EXIT_USAGE;
    badnum:
        fprintf(stderr, "zoosh %s: %s: bad value '%s'\n", cmd, o, v);
        return EXIT_USAGE;
#undef TAKE
#undef TAKE_INT
    }
    if (!a->ws || !a->task) {
        fprintf(stderr, "zoosh %s: needs a workspace and --task\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    core_order ord;
    if (a->order && core_order_parse(a->order, &ord) != 0) {
        fprintf(stderr, "zoosh %s: unknown order '%s' (one of: %s)\n", cmd, a->order, core_order_names());
        return EXIT_USAGE;
    }
    return 0;
}

/* ------------------------------------------------------------ train */

/* --target must name one of the task's answer columns (QUESTION_ANSWER),
 * checked before it is remembered. */
static int check_target(zs_store *st, const learn_args *a)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return cmd_ws_failed("train", a->ws, rc);
    core_schema *s = xmalloc(sizeof *s);
    char err[256], col[160];
    int status = 1, found = 0;
    if (core_schema_ws_get(txn, a->task, s, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh train: %s: %s\n", a->ws, err);
    } else if (s->kind != CORE_TASK_TREE) {
        fprintf(stderr, "zoosh train: --target: task '%s' has no answers to choose from\n", a->task);
    } else {
        int nc = core_schema_n_columns(s);
        for (int i = 0; i < nc && !found; i++) {
            core_schema_column(s, i, col, sizeof col, NULL, NULL);
            found = strcmp(col, a->target) == 0;
        }
        if (found) status = 0;
        else {
            fprintf(stderr, "zoosh train: --target %s: not an answer of task '%s' (one of:", a->target, a->task);
            for (int i = 0; i < nc && i < 12; i++) {
                core_schema_column(s, i, col, sizeof col, NULL, NULL);
                fprintf(stderr, " %s", col);
            }
            fprintf(stderr, "%s)\n", nc > 12 ? " ..." : "");
            status = EXIT_USAGE;
        }
    }
    free(s);
    store_read_end(txn);
    return status;
}

static void train_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh train WS --task T [--order O] [--features SET] [--seed S]\n"
        "                   [--hidden H] [--l2 X] [--target QUESTION_ANSWER]\n"
        "                   [--prior-from SET:COLUMN|SET|none]\n\n"
        "Trains the task's head on the workspace's answers (an ensemble of 5 heads on\n"
        "bootstrap resamples, warm-started from a head pretrained on the catalog's prior\n"
        "votes when there are any; interest ratings fit a Gaussian process), scores every\n"
        "galaxy, ranks them by the order and stores queue, predictions and model, as the\n"
        "labeler's background retrain does.  Prints the model version, the training size\n"
        "and the held-out (out-of-bag) metric.\n\n"
        "  --order O     %s\n"
        "                (default: mixed = 70%% likely / 20%% uncertain / 10%% random; interest for ratings)\n"
        "  --features    feature set (default: the workspace's features.default, else pca40)\n"
        "  --hidden H    use a hidden layer of H units from now on (0 = linear; remembered)\n"
        "  --l2 X        weight decay of the head from now on (default 0.05; remembered)\n"
        "  --target COL  the answer 'likely' hunts, e.g. ring_yes (remembered)\n"
        "  --prior-from SET:COLUMN|SET|none  what the task starts from before anyone\n"
        "                answers, so the first queue already puts the likely ones first:\n"
        "                for a yes/no task one number per galaxy, the fraction of its yes\n"
        "                answer (votes:Class8.1, the ring fraction zoosh's encoder\n"
        "                predicts); for a tree a set with a column per answer in the\n"
        "                task's order (votes for gz2).  Remembered and read again at every\n"
        "                retrain (it follows a new embedding); it replaces the catalog's\n"
        "                priors.  ring and gz2 start from the encoder's votes by themselves\n"
        "                when the catalog gives them none; none turns that off\n",
        core_order_names());
}

typedef struct { const char *k[3], *v[3]; } meta_ctx;
static int meta_fn(zs_txn *txn, void *p)
{
    meta_ctx *m = p;
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        if (m->k[i]) rc = store_meta_put(txn, m->k[i], m->v[i]);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { train_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("train", argc, argv, &a, train_usage);
    if (st_rc) return st_rc;
    zs_store *st;
    if ((st_rc = cmd_open_ws("train", a.ws, 0, &st)) != 0) return st_rc;
    int status = 0;
    char err0[512];
    if (a.hidden > CORE_HEAD_MAX_HIDDEN) {
        fprintf(stderr, "zoosh train: --hidden %d: at most %d units\n", a.hidden, CORE_HEAD_MAX_HIDDEN);
        store_close(st);
        return EXIT_USAGE;
    }
    if (a.target && (status = check_target(st, &a)) != 0) { store_close(st); return status; }
    if (a.hidden >= 0 || a.target || a.l2) {
        char k1[96], k2[96], k3[96], hv[16];
        snprintf(k1, sizeof k1, "learn.%s.hidden", a.task);
        snprintf(k2, sizeof k2, "learn.%s.target", a.task);
        snprintf(k3, sizeof k3, "learn.%s.l2", a.task);
        snprintf(hv, sizeof hv, "%d", a.hidden);
        meta_ctx m = {{a.hidden >= 0 ? k1 : NULL, a.target ? k2 : NULL, a.l2 ? k3 : NULL}, {hv, a.target, a.l2}};
        int rc = store_write(st, meta_fn, &m);
        if (rc) {
            fprintf(stderr, "zoosh train: %s: %s\n", a.ws, store_strerror(rc));
            store_close(st);
            return rc == STORE_EREADONLY ? EXIT_WORKSPACE : 1;
        }
    }
    if (a.prior_from) {   /* checked on the data, then remembered (core_learn_load reads it) */
        core_learn_data D;
        if (core_learn_load(st, a.task, a.features, &D, err0, sizeof err0) != 0) {
            fprintf(stderr, "zoosh train: %s: %s\n", a.ws, err0);
            store_close(st);
            return 1;
        }
        int none = strcmp(a.prior_from, "none") == 0;
        int rc = 0;
        if (strlen(a.prior_from) >= sizeof D.prior_src) {
            fprintf(stderr, "zoosh train: --prior-from '%.40s...': longer than %zu characters\n", a.prior_from,
                    sizeof D.prior_src - 1);
            rc = 1;
        } else if (!none && core_learn_prior_use(st, &D, a.prior_from, err0, sizeof err0) != 0) {
            fprintf(stderr, "zoosh train: %s: --prior-from %s: %s\n", a.ws, a.prior_from, err0);
            rc = 1;
        }
        char key[96];
        snprintf(key, sizeof key, "learn.%s.prior", a.task);
        meta_ctx m = {{key}, {a.prior_from}};
        if (rc == 0 && (rc = store_write(st, meta_fn, &m)) != 0) {
            fprintf(stderr, "zoosh train: %s: %s\n", a.ws, store_strerror(rc));
            rc = rc == STORE_EREADONLY ? EXIT_WORKSPACE : 1;
        } else if (rc == 0 && none) {
            printf("task %s: no prior column from now on\n", a.task);
        } else if (rc == 0) {
            printf("task %s: priors from %s for %d galaxies\n", a.task, a.prior_from, D.n_prior);
        }
        core_learn_data_free(&D);
        if (rc) { store_close(st); return rc; }
    }
    core_learn_opts o = {.task = a.task, .order = a.order, .features = a.features, .seed = a.seed};
    core_model_info info;
    char err[512];
    double t0 = core_mono_s();
    int rc = core_learn_run(st, &o, &info, err, sizeof err);
    double dt = core_mono_s() - t0;
    if (rc != 0) {
        fprintf(stderr, "zoosh train: %s: %s\n", a.ws, err);
        status = 1;
    } else {
        int from_prior = strcmp(info.metric, "prior") == 0;
        printf("task %s: model version %u, trained on %d %s (features %s)\n", a.task, info.version,
               info.n_train, from_prior ? "galaxies' priors, no answers yet" : "labels", info.features);
        if (from_prior)
            printf("held-out metric: none (a head fitted to the priors, with no answers to score it)\n");
        else if (info.metric[0] && isfinite(info.value))
            printf("held-out %s %.3f (out-of-bag)\n", info.metric, info.value);
        else
            printf("held-out metric: none yet (needs labels of more than one answer)\n");
        printf("queue ranked by %s, %.2f s\n", info.order, dt);
    }
    store_close(st);
    return status;
}

/* ------------------------------------------------------------ rank */

static void rank_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh rank WS --task T [--order O] [--top K] [--features SET] [--seed S] [--stored]\n\n"
        "Prints the best K galaxies of an order as 'id_str<TAB>score', best first.  The\n"
        "model is trained in memory on the current answers (nothing is written, so a\n"
        "read-only workspace works); --stored prints the queue the last train stored.\n\n"
        "  --order O   %s\n"
        "  --top K     how many (default 20)\n",
        core_order_names());
}

int cmd_rank(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { rank_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("rank", argc, argv, &a, rank_usage);
    if (st_rc) return st_rc;
    zs_store *st;
    if ((st_rc = cmd_open_ws("rank", a.ws, STORE_RDONLY, &st)) != 0) return st_rc;
    int status = 0;
    char err[512];
    zs_txn *txn = NULL;
    if (a.stored) {
        uint32_t *gids = NULL;
        int n = 0;
        core_model_info info;
        int rc = store_read_begin(st, &txn);
        if (!rc) rc = core_queue_get(txn, a.task, &gids, &n, &info);
        if (rc) {
            fprintf(stderr, "zoosh rank: %s: %s\n", a.ws,
                    rc == STORE_ENOTFOUND ? "no stored queue for this task (run zoosh train first)" : store_strerror(rc));
            status = 1;
        } else {
            for (int i = 0; i < n && i < a.top; i++) {
                store_galaxy g;
                if (store_galaxy_get(txn, gids[i], &g) == 0) {
                    char safe[STORE_ID_MAX * 4];
                    printf("%s\t%d\n", cmd_safe_text(g.id_str, safe, sizeof safe), i + 1);
                    store_galaxy_free(&g);
                }
            }
        }
        free(gids);
        store_read_end(txn);
        store_close(st);
        return status;
    }
    core_learn_data D;
    if (core_learn_load(st, a.task, a.features, &D, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh rank: %s: %s\n", a.ws, err);
        store_close(st);
        return 1;
    }
    core_learn_result R;
    core_ens *warm = NULL;
    core_ens_info pinfo;
    if (D.prior) core_learn_prior_fit(&D, a.seed, NULL, &warm, &pinfo);
    int frc = core_learn_fit_rank(&D, a.order, a.seed, warm, NULL, NULL, &R, err, sizeof err);
    core_ens_free(warm);
    if (frc != 0) {
        fprintf(stderr, "zoosh rank: %s: %s\n", a.ws, err);
        status = 1;
    } else if (store_read_begin(st, &txn) == 0) {
        for (int i = 0; i < D.n && i < a.top; i++) {
            int r = R.rank[i];
            store_galaxy g;
            if (store_galaxy_get(txn, D.gids[r], &g) == 0) {
                char safe[STORE_ID_MAX * 4];
                printf("%s\t%.6g\n", cmd_safe_text(g.id_str, safe, sizeof safe), R.score[r]);
                store_galaxy_free(&g);
            }
        }
        store_read_end(txn);
    }
    core_learn_result_free(&R);
    core_learn_data_free(&D);
    store_close(st);
    return status;
}

/* ------------------------------------------------------------ the curve picture */

static void plot_line(core_image *im, int x0, int y0, int x1, int y1, const uint8_t rgb[3], int thick)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        for (int a = -thick / 2; a <= thick / 2; a++)
            for (int b = -thick / 2; b <= thick / 2; b++) {
                int x = x0 + a, y = y0 + b;
                if (x >= 0 && y >= 0 && x < im->w && y < im->h) memcpy(im->px + ((size_t)y * im->w + x) * 3, rgb, 3);
            }
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

/* Digits and '.' as 3x5 bitmaps (rows top to bottom, 3 bits each, MSB left). */
static const uint8_t digit_font[11][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 0, 0, 0, 2},
};

/* Writes a number's text with its top-left corner at (x, y), each font pixel s x s. */
static void plot_text(core_image *im, int x, int y, const char *t, int sc, const uint8_t rgb[3])
{
    for (; *t; t++) {
        int g = *t == '.' ? 10 : (*t >= '0' && *t <= '9') ? *t - '0' : -1;
        if (g < 0) { x += 2 * sc; continue; }
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++) {
                if (!(digit_font[g][r] & (4 >> c))) continue;
                for (int a = 0; a < sc; a++)
                    for (int b = 0; b < sc; b++) {
                        int px = x + c * sc + b, py = y + r * sc + a;
                        if (px >= 0 && py >= 0 && px < im->w && py < im->h)
                            memcpy(im->px + ((size_t)py * im->w + px) * 3, rgb, 3);
                    }
            }
        x += (g == 10 ? 2 : 4) * sc;
    }
}

/* Draws y against x (n points) with the y axis from lo to hi, gridlines every
 * step, and a second series (dashed grey) when y2 != NULL. */
static int plot_curve(const char *path, const double *x, const double *y, const double *y2, int n,
                      double xmax, double lo, double hi, double step, char *err, size_t errlen)
{
    core_image im = {0};
    int W = 640, H = 400, L = 50, R = 20, T = 20, B = 40;
    if (core_image_alloc(&im, W, H)) { snprintf(err, errlen, "out of memory"); return -1; }
    memset(im.px, 255, (size_t)W * H * 3);
    const uint8_t grid[3] = {220, 220, 220}, axis[3] = {0, 0, 0}, blue[3] = {31, 90, 200}, grey[3] = {150, 150, 150};
#define PX(v) (L + (int)lround((v) / (xmax > 0 ? xmax : 1) * (W - L - R)))
#define PY(v) (H - B - (int)lround(((v) - lo) / (hi - lo) * (H - T - B)))
    for (double g = lo; g <= hi + 1e-9; g += step) plot_line(&im, L, PY(g), W - R, PY(g), grid, 1);
    for (int t = 0; t <= 10; t++) {
        int xx = PX(xmax * t / 10);
        plot_line(&im, xx, H - B, xx, H - B + 6, axis, 1);
    }
    for (double g = lo; g <= hi + 1e-9; g += step) {
        char t[16];
        plot_line(&im, L - 6, PY(g), L, PY(g), axis, 1);
        snprintf(t, sizeof t, "%.1f", g);
        plot_text(&im, L - 8 - 18, PY(g) - 5, t, 2, axis);
    }
    for (int t = 0; t <= 10; t += 2) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", (int)lround(xmax * t / 10));
        plot_text(&im, PX(xmax * t / 10) - (int)strlen(buf) * 4, H - B + 10, buf, 2, axis);
    }
    plot_line(&im, L, H - B, W - R, H - B, axis, 1);
    plot_line(&im, L, T, L, H - B, axis, 1);
    for (int s = 0; s < (y2 ? 2 : 1); s++) {
        const double *yy = s ? y2 : y;
        int px = -1, py = -1;
        for (int i = 0; i < n; i++) {
            if (!isfinite(yy[i])) continue;
            double v = yy[i] < lo ? lo : yy[i] > hi ? hi : yy[i];
            int cx = PX(x[i]), cy = PY(v);
            if (px >= 0 && (!s || i % 2 == 0)) plot_line(&im, px, py, cx, cy, s ? grey : blue, s ? 1 : 3);
            plot_line(&im, cx - 2, cy, cx + 2, cy, s ? grey : blue, 3);
            px = cx;
            py = cy;
        }
    }
#undef PX
#undef PY
    int rc = core_image_save_png(path, &im, err, errlen);
    core_image_free(&im);
    return rc;
}

/* ------------------------------------------------------------ simulate */

/* The oracle: a prior column (votes, labels), or else a numeric catalog
 * column kept with the galaxies (e.g. human_interesting); out[gid], NAN
 * where a galaxy has none. */
static int oracle_column(zs_store *st, const char *col, const core_learn_data *D, double **out, uint32_t *len)
{
    zs_txn *txn;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    *out = NULL;
    rc = store_prior_column(txn, col, out, len);
    int any = 0;
    if (rc == 0)
        for (uint32_t g = 0; g < *len && !any; g++) any = isfinite((*out)[g]);
    if (rc == STORE_ENOTFOUND || (rc == 0 && !any)) {
        free(*out);
        *len = D->max_gid + 1;
        *out = xmalloc((size_t)*len * sizeof(double));
        for (uint32_t g = 0; g < *len; g++) (*out)[g] = NAN;
        rc = 0;
        for (int i = 0; i < D->n; i++) {
            store_galaxy g;
            if (store_galaxy_get(txn, D->gids[i], &g) != 0) continue;
            for (int k = 0; k < g.n_meta; k++) {
                if (strcmp(g.meta_key[k], col) != 0) continue;
                char *e;
                double v = strtod(g.meta_val[k], &e);
                if (e != g.meta_val[k] && *e == 0) (*out)[D->gids[i]] = v;
            }
            store_galaxy_free(&g);
        }
    }
    store_read_end(txn);
    return rc;
}

static void simulate_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh simulate WS --task T --oracle COLUMN --budget B [--order O] [--seed S]\n"
        "                      [--batch 10] [--holdout F] [--plot FILE.png] [--features SET]\n"
        "                      [--prior-from SET:COLUMN|SET]\n"
        "       zoosh simulate WS --task interest --rate-from COLUMN --budget B [--order interest] ...\n\n"
        "Replays a labeling session with a catalog column as the user (a prior vote /\n"
        "label column, or any numeric catalog column kept with the galaxies), WITHOUT\n"
        "writing anything to the workspace: shows B galaxies in batches in the order's\n"
        "ranking, reveals their labels, retrains after each batch (no catalog priors are\n"
        "used: the session starts from nothing) and prints the learning curve:\n"
        "  labels  auc  accuracy  positives_shown\n"
        "measured on the galaxies not yet shown (or on a fixed random --holdout fraction of\n"
        "them, never shown).  The oracle column is 0/1 (or a fraction, > 0.5 = yes) for\n"
        "the task's chosen answer (ring_yes; --target in zoosh train).\n"
        "With --rate-from the column becomes 0-5 interest ratings (a 0/1 column: 1 -> 4 or 5,\n"
        "0 -> 0 or 1, drawn from the seed) and the curve is\n"
        "  ratings  precision_top30  rmse  positives_shown\n"
        "precision among the top 30 not-yet-rated of the order (rating >= 4 = positive).\n\n"
        "  --order O   %s (default uncertain; interest with --rate-from)\n"
        "  --plot F    draw the curve (AUC or precision against labels) into a PNG\n"
        "  --prior-from SET:COLUMN|SET  start from a prior instead of nothing, as zoosh\n"
        "              train --prior-from does (e.g. votes:Class8.1; votes for gz2)\n",
        core_order_names());
}

int cmd_simulate(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { simulate_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("simulate", argc, argv, &a, simulate_usage);
    if (st_rc) return st_rc;
    if (!a.oracle == !a.rate_from) {
        fprintf(stderr, "zoosh simulate: give exactly one of --oracle COLUMN and --rate-from COLUMN\n");
        return EXIT_USAGE;
    }
    if (!a.budget) {
        fprintf(stderr, "zoosh simulate: --budget B is required\n");
        return EXIT_USAGE;
    }
    int rating = a.rate_from != NULL;
    const char *order = a.order ? a.order : rating ? "interest" : "uncertain";
    const char *col = rating ? a.rate_from : a.oracle;
    zs_store *st;
    if ((st_rc = cmd_open_ws("simulate", a.ws, STORE_RDONLY, &st)) != 0) return st_rc;
    char err[512];
    core_learn_data D;
    int status = 0;
    double *oc = NULL;
    uint32_t olen = 0;
    if (core_learn_load(st, a.task, a.features, &D, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh simulate: %s: %s\n", a.ws, err);
        store_close(st);
        return 1;
    }
    int rc = oracle_column(st, col, &D, &oc, &olen);
    /* the session's one prior: --prior-from (the catalog's are dropped below) */
    float *pfrom = NULL;   /* (n, C) its priors */
    int npfrom = 0;
    if (rc == 0 && a.prior_from && core_learn_prior_use(st, &D, a.prior_from, err, sizeof err) == 0) {
        pfrom = D.prior;
        npfrom = D.n_prior;
        D.prior = NULL;
    } else if (rc == 0 && a.prior_from) {
        fprintf(stderr, "zoosh simulate: %s: --prior-from %s: %s\n", a.ws, a.prior_from, err);
        store_close(st);
        core_learn_data_free(&D);
        free(oc);
        return 1;
    }
    store_close(st);
    if (rc) {
        fprintf(stderr, "zoosh simulate: %s: reading column '%s': %s\n", a.ws, col, store_strerror(rc));
        core_learn_data_free(&D);
        return 1;
    }
    if (!rating && D.C == 0) {
        fprintf(stderr, "zoosh simulate: task '%s' is a rating task: use --rate-from COLUMN\n", a.task);
        core_learn_data_free(&D);
        free(oc);
        free(pfrom);
        return EXIT_USAGE;
    }
    int n = D.n, C = D.C;
    /* the truth per row: label 0/1 (or -1 = unknown) and, for ratings, a rating */
    int *lab = xmalloc((size_t)n * sizeof(int));
    float *truth = xmalloc((size_t)n * sizeof(float));
    int is01 = 1;
    for (int i = 0; i < n; i++) {
        double v = D.gids[i] < olen ? oc[D.gids[i]] : NAN;
        if (isfinite(v) && v != 0 && v != 1) is01 = 0;
    }
    core_rng rr;
    core_rng_seed(&rr, a.seed ^ 0x72617465ULL);
    int npool = 0, npos = 0;
    for (int i = 0; i < n; i++) {
        double v = D.gids[i] < olen ? oc[D.gids[i]] : NAN;
        if (!isfinite(v)) { lab[i] = -1; truth[i] = NAN; continue; }
        if (rating) {
            float r = is01 ? (v > 0.5 ? 4.0f + (float)core_rng_below(&rr, 2) : (float)core_rng_below(&rr, 2))
                           : (float)(v < 0 ? 0 : v > 5 ? 5 : v);
            truth[i] = r;
            lab[i] = r >= 4;
        } else {
            lab[i] = v > 0.5;
            truth[i] = (float)lab[i];
        }
        npool++;
        npos += lab[i];
    }
    free(oc);
    if (npool == 0) {
        fprintf(stderr, "zoosh simulate: %s: catalog column '%s' has no numeric value for any galaxy "
                "with features (neither a prior column nor a catalog column of that name)\n", a.ws, col);
        free(lab); free(truth); free(pfrom);
        core_learn_data_free(&D);
        return 1;
    }
    /* the answer the oracle's "no" goes to: the pos column's first sibling */
    int neg_col = -1;
    if (C > 0) {
        const core_schema *s = &D.schema;
        for (int q = 0, c0 = 0; q < s->n_questions; c0 += s->q[q].n_answers, q++)
            if (D.pos_col >= c0 && D.pos_col < c0 + s->q[q].n_answers)
                neg_col = D.pos_col == c0 ? c0 + 1 : c0;
    }
    /* a fresh session: no answers, no ratings, no priors */
    if (D.y) memset(D.y, 0, (size_t)n * C * sizeof(float));
    for (int i = 0; i < n; i++) D.rating[i] = NAN;
    D.n_rated = D.n_answered = 0;
    free(D.prior);
    D.prior = NULL;
    D.n_prior = 0;
    core_ens *warm = NULL;
    if (pfrom) {   /* a head pretrained on it starts every retrain, as in zoosh train */
        core_ens_info pinfo;
        int r2 = 0;
        D.prior = pfrom;
        D.n_prior = npfrom;
        if (core_learn_prior_fit(&D, a.seed, NULL, &warm, &pinfo) != 0) {
            snprintf(err, sizeof err, "the prior head did not train");
            r2 = -1;
        }
        free(D.prior);   /* the answers are the oracle's from here on */
        D.prior = NULL;
        D.n_prior = 0;
        if (r2) {
            fprintf(stderr, "zoosh simulate: %s: --prior-from %s: %s\n", a.ws, a.prior_from, err);
            free(lab); free(truth);
            core_learn_data_free(&D);
            return 1;
        }
    }
    /* fixed holdout */
    unsigned char *shown = xcalloc((size_t)n, 1), *test = xcalloc((size_t)n, 1);
    if (a.holdout > 0) {
        int *perm = xmalloc((size_t)n * sizeof(int));
        core_rank_random(n, a.seed ^ 0x686f6c64ULL, perm);
        int want = (int)lround(a.holdout * npool), got = 0;
        for (int i = 0; i < n && got < want; i++)
            if (lab[perm[i]] >= 0) { test[perm[i]] = 1; got++; }
        free(perm);
    }
    int avail = 0;
    for (int i = 0; i < n; i++) avail += lab[i] >= 0 && !test[i];
    int budget = a.budget < avail ? a.budget : avail;
    if (budget == 0) {
        fprintf(stderr, "zoosh simulate: %s: no galaxy is left to show (%d with a label%s)\n", a.ws, npool,
                a.holdout > 0 ? ", all of them in the --holdout; give a smaller fraction" : "");
        free(shown); free(test); free(lab); free(truth);
        core_ens_free(warm);
        core_learn_data_free(&D);
        return 1;
    }
    printf("# simulate %s on %s: order %s, oracle %s, %d galaxies with a label (%d positive), "
           "budget %d, batch %d, seed %llu, features %s (%d-d)%s\n",
           a.task, a.ws, order, col, npool, npos, budget, a.batch, (unsigned long long)a.seed, D.features, D.d,
           a.holdout > 0 ? ", fixed holdout" : "");
    if (rating) printf("ratings\tprecision_top30\trmse\tpositives_shown\n");
    else printf("labels\tauc\taccuracy\tpositives_shown\n");
    int cap = budget / a.batch + 3;
    double *cx = xmalloc((size_t)cap * sizeof(double)), *cy = xmalloc((size_t)cap * sizeof(double));
    int npts = 0, nshown = 0, pos_shown = 0;
    float *anom = NULL;
    core_order ord;
    core_order_parse(order, &ord);
    if (ord == CORE_ORDER_ANOMALY || ord == CORE_ORDER_INTEREST) {
        anom = xmalloc((size_t)n * sizeof(float));
        core_iforest_score(D.x, n, D.d, 100, 256, 12345, NULL, anom);
    }
    float *s = xmalloc((size_t)n * sizeof(float));
    int *l = xmalloc((size_t)n * sizeof(int));
    for (int round = 0;; round++) {
        core_learn_result R;
        if (core_learn_fit_rank(&D, order, a.seed + (uint64_t)round, warm, anom, NULL, &R, err, sizeof err) != 0) {
            fprintf(stderr, "zoosh simulate: %s\n", err);
            status = 1;
            break;
        }
        /* the curve point after this retrain */
        if (nshown > 0) {
            if (rating) {
                int top = 0, hit = 0;
                for (int i = 0; i < n && top < 30; i++) {
                    int r = R.rank[i];
                    if (shown[r] || lab[r] < 0) continue;
                    top++;
                    hit += lab[r];
                }
                double se = 0;
                int m = 0;
                if (R.mu)
                    for (int i = 0; i < n; i++)
                        if (!shown[i] && lab[i] >= 0 && (a.holdout == 0 || test[i])) {
                            se += (R.mu[i] - truth[i]) * (R.mu[i] - truth[i]);
                            m++;
                        }
                double prec = top ? (double)hit / top : NAN;
                printf("%d\t%.3f\t%.3f\t%d\n", nshown, prec, m ? sqrt(se / m) : NAN, pos_shown);
                cx[npts] = nshown;
                cy[npts++] = prec;
            } else {
                int m = 0, ok = 0;
                if (R.p)
                    for (int i = 0; i < n; i++) {
                        if (lab[i] < 0 || shown[i] || (a.holdout > 0 && !test[i])) continue;
                        s[m] = R.p[(size_t)i * C + D.pos_col];
                        l[m] = lab[i];
                        ok += (s[m] > 0.5f) == (lab[i] == 1);
                        m++;
                    }
                double auc = m ? core_metrics_auc(s, l, m) : NAN;
                printf("%d\t%.3f\t%.3f\t%d\n", nshown, auc, m ? (double)ok / m : NAN, pos_shown);
                cx[npts] = nshown;
                cy[npts++] = auc;
            }
            fflush(stdout);
        }
        if (R.gp) {   /* the next round starts from these hyperparameters, as the labeler's do */
            core_gp_hyper_get(R.gp, &D.gp_start);
            D.has_gp_start = 1;
        }
        if (nshown >= budget) { core_learn_result_free(&R); break; }
        /* show the next batch: the order's best not yet shown */
        int want = budget - nshown < a.batch ? budget - nshown : a.batch;
        for (int i = 0; i < n && want > 0; i++) {
            int r = R.rank[i];
            if (shown[r] || test[r] || lab[r] < 0) continue;
            shown[r] = 1;
            nshown++;
            want--;
            pos_shown += lab[r];
            if (rating) {
                D.rating[r] = truth[r];
                D.n_rated++;
            } else {
                D.y[(size_t)r * C + (lab[r] ? D.pos_col : neg_col)] = 1;
                D.n_answered++;
            }
        }
        core_learn_result_free(&R);
    }
    printf("# %d shown, %d of them positive (%.0f%%; base rate %.0f%%)\n", nshown, pos_shown,
           nshown ? 100.0 * pos_shown / nshown : 0.0, npool ? 100.0 * npos / npool : 0.0);
    if (status == 0 && a.plot) {
        if (plot_curve(a.plot, cx, cy, NULL, npts, budget, rating ? 0.0 : 0.4, 1.0, 0.1, err, sizeof err) != 0) {
            fprintf(stderr, "zoosh simulate: %s: %s\n", a.plot, err);
            status = 1;
        }
    }
    free(s); free(l); free(anom); free(cx); free(cy); free(shown); free(test); free(lab); free(truth);
    core_ens_free(warm);
    core_learn_data_free(&D);
    return status;
}

/* ------------------------------------------------------------ eval */

static void eval_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh eval WS --task T [-k 5] [--features SET] [--seed S]\n\n"
        "k-fold cross-validated metrics of the task's head on the workspace's current\n"
        "answers (each fold: a fresh ensemble trained on the other folds).  Binary\n"
        "questions: ROC AUC and accuracy; trees: accuracy of the most-voted answer per\n"
        "question; interest ratings: RMSE of the Gaussian process.  Without answers the\n"
        "catalog's prior votes are evaluated instead (and it says so).\n");
}

int cmd_eval(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { eval_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("eval", argc, argv, &a, eval_usage);
    if (st_rc) return st_rc;
    zs_store *st;
    if ((st_rc = cmd_open_ws("eval", a.ws, STORE_RDONLY, &st)) != 0) return st_rc;
    char err[512];
    core_learn_data D;
    if (core_learn_load(st, a.task, a.features, &D, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh eval: %s: %s\n", a.ws, err);
        store_close(st);
        return 1;
    }
    store_close(st);
    int n = D.n, C = D.C, d = D.d, status = 0;
    char src[96] = "answers";
    if (C > 0 && D.n_answered == 0 && D.prior) {
        free(D.y);
        D.y = D.prior;
        D.prior = NULL;
        if (strcmp(D.prior_src, "catalog") == 0) snprintf(src, sizeof src, "catalog priors");
        else snprintf(src, sizeof src, "priors from %s", D.prior_src);
    }
    /* labelled rows */
    int *rows = xmalloc((size_t)n * sizeof(int)), m = 0;
    for (int i = 0; i < n; i++) {
        if (C == 0) { if (!isnan(D.rating[i])) rows[m++] = i; continue; }
        float s = 0;
        for (int c = 0; c < C; c++) s += D.y[(size_t)i * C + c];
        if (s > 0) rows[m++] = i;
    }
    if (m < a.k * 2) {
        fprintf(stderr, "zoosh eval: task %s has %d labelled galaxies: too few for %d folds\n", a.task, m, a.k);
        free(rows);
        core_learn_data_free(&D);
        return 1;
    }
    int *perm = xmalloc((size_t)m * sizeof(int));
    core_rank_random(m, a.seed, perm);
    printf("task %s: %d-fold cross-validation on %d galaxies with %s (features %s, %d-d)\n", a.task, a.k, m,
           src, D.features, d);
    float *xt = xmalloc((size_t)m * d * sizeof(float));
    float *yt = xmalloc((size_t)m * (C ? C : 1) * sizeof(float));
    float *po = xmalloc((size_t)m * (C ? C : 1) * sizeof(float));  /* out-of-fold predictions */
    float *pf = xmalloc((size_t)m * (C ? C : 1) * sizeof(float));
    core_head_cfg cfg;
    if (C > 0) {
        /* the same head configuration core_learn_run uses */
        const core_schema *s = &D.schema;
        core_head_cfg_default(&cfg, d, 2);
        cfg.n_q = s->n_questions;
        int c = 0;
        for (int q = 0; q < s->n_questions; q++) { cfg.q_start[q] = c; c += s->q[q].n_answers; }
        cfg.q_start[s->n_questions] = c;
        for (int q = 0; q < s->n_questions; q++)
            cfg.parent_col[q] = s->q[q].parent_q >= 0 ? cfg.q_start[s->q[q].parent_q] + s->q[q].parent_a : -1;
        cfg.loss = s->n_questions > 1 ? CORE_LOSS_DIRICHLET : CORE_LOSS_CE;
        cfg.hidden = D.hidden;
        cfg.l2 = D.l2;
    }
    int bin = C > 0 && cfg.n_q == 1 && cfg.q_start[1] == 2;
    double sum = 0, sum2 = 0;
    int nf = 0;
    for (int f = 0; f < a.k; f++) {
        int nt = 0, nv = 0;
        int *vi = xmalloc((size_t)m * sizeof(int));
        for (int j = 0; j < m; j++) {
            int r = rows[perm[j]];
            if (j % a.k == f) { vi[nv++] = j; continue; }
            memcpy(xt + (size_t)nt * d, D.x + (size_t)r * d, (size_t)d * sizeof(float));
            if (C) memcpy(yt + (size_t)nt * C, D.y + (size_t)r * C, (size_t)C * sizeof(float));
            else yt[nt] = D.rating[r];
            nt++;
        }
        float *xv = xmalloc((size_t)nv * d * sizeof(float));
        for (int j = 0; j < nv; j++) memcpy(xv + (size_t)j * d, D.x + (size_t)rows[perm[vi[j]]] * d, (size_t)d * sizeof(float));
        double metric = NAN;
        if (C > 0) {
            core_ens *e;
            if (core_ens_fit(&e, &cfg, 5, xt, yt, nt, NULL, a.seed + (uint64_t)f, -1, NULL, NULL) != 0) {
                fprintf(stderr, "zoosh eval: training failed on fold %d\n", f + 1);
                status = 1;
                free(vi); free(xv);
                break;
            }
            core_ens_predict(e, xv, nv, pf, NULL, NULL, NULL);
            core_ens_free(e);
            for (int j = 0; j < nv; j++) memcpy(po + (size_t)vi[j] * C, pf + (size_t)j * C, (size_t)C * sizeof(float));
            if (bin) {
                float *sc = xmalloc((size_t)nv * sizeof(float));
                int *lb = xmalloc((size_t)nv * sizeof(int));
                for (int j = 0; j < nv; j++) {
                    const float *yy = D.y + (size_t)rows[perm[vi[j]]] * C;
                    sc[j] = pf[(size_t)j * C + D.pos_col];
                    lb[j] = yy[D.pos_col] * 2 > yy[0] + yy[1];
                }
                metric = core_metrics_auc(sc, lb, nv);
                free(sc); free(lb);
            }
        } else {
            core_gp *g;
            if (core_gp_fit(&g, xt, yt, nt, d, CORE_KERNEL_RQ, 3, a.seed) != 0) {
                fprintf(stderr, "zoosh eval: GP fit failed on fold %d\n", f + 1);
                status = 1;
                free(vi); free(xv);
                break;
            }
            core_gp_predict(g, xv, nv, pf, NULL);
            core_gp_free(g);
            double se = 0;
            for (int j = 0; j < nv; j++) {
                po[vi[j]] = pf[j];
                double e = pf[j] - D.rating[rows[perm[vi[j]]]];
                se += e * e;
            }
            metric = sqrt(se / nv);
        }
        if (isfinite(metric)) {
            printf("fold %d: %d train, %d held out: %s %.3f\n", f + 1, nt, nv, C ? "auc" : "rmse", metric);
            sum += metric;
            sum2 += metric * metric;
            nf++;
        } else if (C > 0) {
            printf("fold %d: %d train, %d held out\n", f + 1, nt, nv);
        }
        free(vi);
        free(xv);
    }
    if (status == 0) {
        if (nf > 0) {
            double mean = sum / nf, sd = nf > 1 ? sqrt(fmax(0, (sum2 - nf * mean * mean) / (nf - 1))) : 0;
            printf("%s over folds: %.3f +- %.3f\n", C ? "auc" : "rmse", mean, sd);
        }
        if (C > 0) {
            /* pooled out-of-fold accuracy per question and AUC */
            double acc = 0;
            int nq = 0;
            for (int q = 0; q < cfg.n_q; q++) {
                int a0 = cfg.q_start[q], a1 = cfg.q_start[q + 1], ok = 0, tot = 0;
                for (int j = 0; j < m; j++) {
                    const float *yy = D.y + (size_t)rows[perm[j]] * C, *pp = po + (size_t)j * C;
                    int ay = -1, ap = a0;
                    float by = 0;
                    for (int c = a0; c < a1; c++) {
                        if (yy[c] > by) { by = yy[c]; ay = c; }
                        if (pp[c] > pp[ap]) ap = c;
                    }
                    if (ay < 0) continue;
                    tot++;
                    ok += ap == ay;
                }
                if (tot) { acc += (double)ok / tot; nq++; }
            }
            if (bin) {
                float *sc = xmalloc((size_t)m * sizeof(float));
                int *lb = xmalloc((size_t)m * sizeof(int));
                for (int j = 0; j < m; j++) {
                    const float *yy = D.y + (size_t)rows[perm[j]] * C;
                    sc[j] = po[(size_t)j * C + D.pos_col];
                    lb[j] = yy[D.pos_col] * 2 > yy[0] + yy[1];
                }
                printf("pooled out-of-fold: auc %.3f, accuracy %.3f\n", core_metrics_auc(sc, lb, m), nq ? acc / nq : NAN);
                free(sc); free(lb);
            } else {
                printf("pooled out-of-fold accuracy (mean over %d questions with votes): %.3f\n", nq, nq ? acc / nq : NAN);
            }
        }
    }
    free(rows); free(perm); free(xt); free(yt); free(po); free(pf);
    core_learn_data_free(&D);
    return status;
}
