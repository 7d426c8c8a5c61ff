/*
 * cmd_learn.c - the active-learning subcommands:
 *
 *   zoosh train WS --task T [--order O]        train the head, re-rank, store
 *   zoosh rank WS --task T --order O --top K   print the best K of an order
 *   zoosh simulate WS --task T --oracle COL --budget B --order O --seed S
 *                                              replay labeling with a catalog column
 *   zoosh eval WS --task T [-k 5]              k-fold cross-validated metrics
 *
 * The work lives in core/ (learn.h, train.h, simulate.h, evaluate.h); this
 * file parses arguments, makes the core call and prints.
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"
#include "core/acquire.h"
#include "core/evaluate.h"
#include "core/finetune.h"
#include "core/head.h"
#include "core/learn.h"
#include "core/simulate.h"
#include "core/train.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *ws, *task, *order, *features, *oracle, *rate_from, *plot, *target, *l2, *prior_from, *weights;
    uint64_t seed;
    int top, budget, batch, k, hidden, stored, finetune, no_finetune, epochs, gp_blocks;
    double holdout;
} learn_args;

/* An option's whole-number value, at least LO: 0, or -1 when it is not one. */
static int take_int(const char *v, int lo, int *out)
{
    char *e;
    long x = strtol(v, &e, 10);
    if (*e || !*v || x < lo || x > 100000000) return -1;
    *out = (int)x;
    return 0;
}

/* Parses the shared options; returns 0, or prints the problem and returns EXIT_USAGE. */
static int parse(const char *cmd, const char *allowed, int argc, char **argv, learn_args *a, void (*usage)(FILE *))
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->top = 20;
    a->batch = 10;
    a->k = 5;
    a->hidden = -1;
    a->epochs = -1;
    static const struct option lo[] = {
        {"task", required_argument, 0, 't'}, {"order", required_argument, 0, 'o'},
        {"features", required_argument, 0, 'f'}, {"oracle", required_argument, 0, 'O'},
        {"rate-from", required_argument, 0, 'r'}, {"plot", required_argument, 0, 'P'},
        {"target", required_argument, 0, 'T'}, {"prior-from", required_argument, 0, 'p'},
        {"l2", required_argument, 0, 'L'}, {"top", required_argument, 0, 'n'},
        {"budget", required_argument, 0, 'B'}, {"batch", required_argument, 0, 'b'},
        {"folds", required_argument, 0, 'k'}, {"hidden", required_argument, 0, 'H'},
        {"stored", no_argument, 0, 'S'}, {"seed", required_argument, 0, 's'},
        {"holdout", required_argument, 0, 'h'}, {"finetune", no_argument, 0, 'F'},
        {"no-finetune", no_argument, 0, 'N'}, {"weights", required_argument, 0, 'W'},
        {"epochs", required_argument, 0, 'E'}, {"gp-blocks", no_argument, 0, 'G'}, {0, 0, 0, 0},
    };
    /* this command's options only (ALLOWED: their codes), so that one meant
     * for another command is refused, not ignored, and completion lists these */
    struct option mine[sizeof lo / sizeof lo[0]];
    char shorts[8] = ":";
    int n = 0;
    for (int i = 0; lo[i].name; i++)
        if (strchr(allowed, lo[i].val)) mine[n++] = lo[i];
    mine[n] = lo[sizeof lo / sizeof lo[0] - 1];
    for (const char *sh = "tok"; *sh; sh++)
        if (strchr(allowed, *sh)) { size_t l = strlen(shorts); shorts[l] = *sh; shorts[l + 1] = ':'; shorts[l + 2] = 0; }
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, shorts, mine)) != -1) {
        const char *v = optarg;
        char *e = NULL;
        int bad = 0;
        switch (c) {
        case 't': a->task = v; break;
        case 'o': a->order = v; break;
        case 'f': a->features = v; break;
        case 'O': a->oracle = v; break;
        case 'r': a->rate_from = v; break;
        case 'P': a->plot = v; break;
        case 'T': a->target = v; break;
        case 'p': a->prior_from = v; break;
        case 'L': {
            double x = strtod(v, &e);
            bad = *e || !*v || !(x >= 0 && x < 1000);
            a->l2 = v;
            break;
        }
        case 'n': bad = take_int(v, 1, &a->top); break;
        case 'B': bad = take_int(v, 1, &a->budget); break;
        case 'b': bad = take_int(v, 1, &a->batch); break;
        case 'k': bad = take_int(v, 2, &a->k); break;
        case 'H': bad = take_int(v, 0, &a->hidden); break;
        case 'S': a->stored = 1; break;
        case 'F': a->finetune = 1; break;
        case 'N': a->no_finetune = 1; break;
        case 'W': a->weights = v; break;
        case 'E': bad = take_int(v, 0, &a->epochs); break;
        case 'G': a->gp_blocks = 1; break;
        case 's':
            a->seed = strtoull(v, &e, 10);
            bad = *e || !*v;
            break;
        case 'h': {
            double x = strtod(v, &e);
            bad = *e || !*v || !(x >= 0 && x < 1);   /* NaN fails too */
            a->holdout = x;
            break;
        }
        default:
            return cmd_bad_option(cmd, c, argv, optind);
        }
        if (bad) {
            char name[64];
            fprintf(stderr, "zoosh %s: %s: bad value '%s'\n", cmd, cmd_opt_name(lo, c, name, sizeof name), v);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) a->ws = argv[optind];
    if (optind + 1 < argc) {
        fprintf(stderr, "zoosh %s: unexpected argument '%s'\n", cmd, argv[optind + 1]);
        usage(stderr);
        return EXIT_USAGE;
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
 * checked before it is remembered: 0, or the exit status with the reason said. */
static int check_target(zs_store *st, const learn_args *a)
{
    char err[4096];
    int rc = core_train_check_target(st, a->task, a->target, err, sizeof err);
    if (rc == 0) return 0;
    if (rc == -1) fprintf(stderr, "zoosh train: %s: %s\n", a->ws, tui_text_safe(err));
    else if (rc == -2 || rc == -3) fprintf(stderr, "zoosh train: %s\n", tui_text_safe(err));
    else return cmd_ws_failed("train", a->ws, rc);
    return rc == -3 ? EXIT_USAGE : 1;
}

static void train_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh train WS --task T [--order O] [--features SET] [--seed S]\n"
        "                   [--hidden H] [--l2 X] [--target QUESTION_ANSWER]\n"
        "                   [--prior-from SET:COLUMN|SET|none]\n"
        "                   [--finetune [--weights FILE] [--epochs N] | --no-finetune]\n\n"
        "Trains the task's head on the workspace's answers (an ensemble of 5 heads on\n"
        "bootstrap resamples, warm-started from a head pretrained on the catalog's prior\n"
        "votes when there are any; interest ratings fit a Gaussian process), scores every\n"
        "galaxy, ranks them by the order and stores queue, predictions and model, as the\n"
        "labeler's background retrain does.  Prints the model version, the training size\n"
        "and the held-out (out-of-bag) metric.\n\n"
        "  --order O     %s\n"
        "                (default: mixed = 70%% likely / 20%% uncertain / 10%% random; interest for ratings)\n"
        "  --features    feature set (default: the workspace's, see zoosh features WS)\n"
        "  --hidden H    use a hidden layer of H units from now on (0 = linear; remembered)\n"
        "  --l2 X        weight decay of the head from now on (default 1 for one-question tasks,\n"
        "                0.05 for trees and ratings; remembered)\n"
        "  --target COL  the answer 'likely' hunts, e.g. ring_yes (remembered)\n"
        "  --prior-from SET:COLUMN|SET|none  what the task starts from before anyone\n"
        "                answers, so the first queue already puts the likely ones first:\n"
        "                for a yes/no task one number per galaxy, the fraction of its yes\n"
        "                answer (votes:Class8.1, the ring fraction zoosh's encoder\n"
        "                predicts); for a tree a set with a column per answer in the\n"
        "                task's order (votes for gz2).  Remembered and read again at every\n"
        "                retrain (it follows a new embedding); it replaces the catalog's\n"
        "                priors.  ring and gz2 start from the encoder's votes by themselves\n"
        "                when the catalog gives them none; none turns that off\n"
        "  --finetune    first fine-tune the encoder's last stage and a new head on the\n"
        "                task's labelled galaxies (answers, else the catalog's labels;\n"
        "                at least 8), store it in the workspace, embed every galaxy with\n"
        "                it as set ft_T and train the head on that set, now and at every\n"
        "                retrain (rank, the labeler's background trainer).  zoosh export\n"
        "                --format encoder --task T writes the encoder out\n"
        "  --weights F   the encoder to fine-tune (default: zoosh's own, as zoosh embed)\n"
        "  --epochs N    most epochs of the last stage (default 20; early stopping on a\n"
        "                seeded fifth of the labels held out; 0 = the new head alone)\n"
        "  --no-finetune the task goes back to the workspace's feature set\n",
        core_order_names());
}

/* --finetune / --no-finetune before the head trains: 0, or the exit status
 * with the reason said. */
static int finetune(zs_store *st, const learn_args *a)
{
    if (a->no_finetune) {
        int rc = core_ft_off(st, a->task);
        if (rc) return cmd_ws_failed("train", a->ws, rc);
        printf("task %s: back to the workspace's feature set (its fine-tuned encoder stays stored)\n", a->task);
        return 0;
    }
    core_ft_opts o;
    core_ft_opts_default(&o);
    o.task = a->task;
    o.weights = a->weights;
    o.seed = a->seed;
    if (a->epochs >= 0) o.epochs = a->epochs;
    char err[1024] = "";
    core_ft_result R;
    int rc = core_ft_run(st, &o, &R, err, sizeof err);
    if (rc == -1) {
        fprintf(stderr, "zoosh train: %s: --finetune: %s\n", a->ws, tui_text_safe(err));
        return 1;
    }
    if (rc) {
        fprintf(stderr, "zoosh train: %s: --finetune: %s\n", a->ws, err[0] ? tui_text_safe(err) : store_strerror(rc));
        return rc == STORE_EREADONLY ? EXIT_WORKSPACE : 1;
    }
    printf("task %s: fine-tuned the last stage of %s on %d labelled galaxies (%d held out), %zu parameters\n",
           a->task, tui_text_safe(a->weights), R.n_train, R.n_val, R.trainable);
    printf("training loss %.4f (new head) -> %.4f (head trained) -> %.4f (kept)", R.loss_start, R.loss_head,
           R.loss_end);
    if (isfinite(R.val_best))
        printf("; held-out loss %.4f (head) -> %.4f (last stage, epoch %d)", R.val_head, R.val_best, R.best_epoch);
    printf("\n%d epochs, %.1f s, %.0f images/s; embedded %d galaxies as set %s\n", R.epochs_run, R.seconds,
           R.images_per_s, R.rows, R.set);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { train_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("train", "tofsHLTpFNWE", argc, argv, &a, train_usage);
    if (st_rc) return st_rc;
    char base[4096];
    if (a.finetune && a.no_finetune) {
        fprintf(stderr, "zoosh train: --finetune and --no-finetune together\n");
        return EXIT_USAGE;
    }
    if ((a.weights || a.epochs >= 0) && !a.finetune) {
        fprintf(stderr, "zoosh train: --weights and --epochs go with --finetune\n");
        return EXIT_USAGE;
    }
    if (a.finetune && !a.weights) {
        if (!cmd_default_encoder(base, sizeof base)) {
            fprintf(stderr, "zoosh train: --finetune: no encoder to fine-tune (give --weights FILE; "
                            "sample_data/encoder.safetensors is missing or ZOOSH_ENCODER=none)\n");
            return EXIT_USAGE;
        }
        a.weights = base;
    }
    zs_store *st;
    if ((st_rc = cmd_open_ws("train", a.ws, 0, &st)) != 0) return st_rc;
    int status = 0;
    char err0[1024];
    if (a.hidden > CORE_HEAD_MAX_HIDDEN) {
        fprintf(stderr, "zoosh train: --hidden %d: at most %d units\n", a.hidden, CORE_HEAD_MAX_HIDDEN);
        store_close(st);
        return EXIT_USAGE;
    }
    if (a.target && (status = check_target(st, &a)) != 0) { store_close(st); return status; }
    int rc = core_train_remember(st, a.task, a.hidden, a.target, a.l2);
    if (rc) {
        fprintf(stderr, "zoosh train: %s: %s\n", a.ws, store_strerror(rc));
        store_close(st);
        return rc == STORE_EREADONLY ? EXIT_WORKSPACE : 1;
    }
    if (a.prior_from) {   /* checked on the data, then remembered (core_learn_load reads it) */
        int n_prior;
        rc = core_train_prior_set(st, a.task, a.features, a.prior_from, &n_prior, err0, sizeof err0);
        if (rc == -1) fprintf(stderr, "zoosh train: %s: %s\n", a.ws, tui_text_safe(err0));
        else if (rc == -2) fprintf(stderr, "zoosh train: %s\n", tui_text_safe(err0));
        else if (rc) fprintf(stderr, "zoosh train: %s: %s\n", a.ws, store_strerror(rc));
        else if (strcmp(a.prior_from, "none") == 0) printf("task %s: no prior column from now on\n", a.task);
        else printf("task %s: priors from %s for %d galaxies\n", a.task, a.prior_from, n_prior);
        if (rc) {
            store_close(st);
            return rc == STORE_EREADONLY ? EXIT_WORKSPACE : 1;
        }
    }
    if (a.finetune || a.no_finetune) {
        if ((status = finetune(st, &a)) != 0) { store_close(st); return status; }
    }
    core_learn_opts o = {.task = a.task, .order = a.order, .features = a.features, .seed = a.seed};
    core_model_info info;
    char err[512];
    double t0 = core_mono_s();
    rc = core_learn_run(st, &o, &info, err, sizeof err);
    double dt = core_mono_s() - t0;
    if (rc != 0) {
        fprintf(stderr, "zoosh train: %s: %s\n", a.ws, tui_text_safe(err));
        status = 1;
    } else {
        int from_prior = strcmp(info.metric, "prior") == 0;
        char what[160];
        if (from_prior) snprintf(what, sizeof what, "galaxies' priors, no answers yet");
        else if (info.prior_only)
            snprintf(what, sizeof what, "labels: %d from the catalog's prior columns, 0 answers", info.n_train);
        else if (info.n_prior > 0)
            snprintf(what, sizeof what, "labels: %d answers, starting from a head fitted to %d galaxies' priors",
                     info.n_train, info.n_prior);
        else snprintf(what, sizeof what, "labels");
        printf("task %s: model version %u, trained on %d %s (features %s)\n", a.task, info.version,
               info.n_train, what, tui_text_safe(info.features));
        if (from_prior)
            printf("held-out metric: none (a head fitted to the priors, with no answers to score it)\n");
        else if (info.metric[0] && isfinite(info.value))
            printf("held-out %s %.3f (out-of-bag)\n", info.metric, info.value);
        else
            printf("held-out metric: none yet (needs labels of more than one answer)\n");
        printf("queue ranked by %s, %.2f s\n", tui_text_safe(info.order), dt);
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
        "  --top K     how many (default 20)\n"
        "  --features  feature set (default: the workspace's, see zoosh features WS);\n"
        "              which one was used goes to stderr\n",
        core_order_names());
}

int cmd_rank(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { rank_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("rank", "tonfsS", argc, argv, &a, rank_usage);
    if (st_rc) return st_rc;
    zs_store *st;
    if ((st_rc = cmd_open_ws("rank", a.ws, STORE_RDONLY, &st)) != 0) return st_rc;
    char err[512];
    core_train_ranking r;
    int rc = a.stored ? core_train_rank_stored(st, a.task, a.top, &r)
                      : core_train_rank(st, a.task, a.order, a.features, a.seed, a.top, &r, err, sizeof err);
    store_close(st);
    if (rc) {
        fprintf(stderr, "zoosh rank: %s: %s\n", a.ws,
                !a.stored ? err
                : rc == STORE_ENOTFOUND ? "no stored queue for this task (run zoosh train first)" : store_strerror(rc));
        return 1;
    }
    fprintf(stderr, "zoosh rank: %s by feature set '%s'\n", a.stored ? "the stored queue, ranked" : "ranked",
            r.features);
    for (int i = 0; i < r.n; i++) {
        char safe[STORE_ID_MAX * 4];
        if (!r.id[i]) continue;
        if (r.score) printf("%s\t%.6g\n", cmd_safe_text(r.id[i], safe, sizeof safe), r.score[i]);
        else printf("%s\t%d\n", cmd_safe_text(r.id[i], safe, sizeof safe), i + 1);
    }
    core_train_ranking_free(&r);
    return 0;
}

/* ------------------------------------------------------------ simulate */

static void simulate_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh simulate WS --task T --oracle COLUMN --budget B [--order O] [--seed S]\n"
        "                      [--batch 10] [--holdout F] [--plot FILE.png] [--features SET]\n"
        "                      [--prior-from SET:COLUMN|SET] [--gp-blocks]\n"
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
        "  --features SET  feature set (default: the workspace's, see zoosh features WS)\n"
        "  --prior-from SET:COLUMN|SET  start from a prior instead of nothing, as zoosh\n"
        "              train --prior-from does (e.g. votes:Class8.1; votes for gz2)\n"
        "  --gp-blocks with --rate-from: the interest GP reads the set the PCA was made\n"
        "              from in blocks (morphology colour, size, asymmetry, profile; the\n"
        "              encoder; its votes), one length scale each and a linear term\n"
        "              (an experiment: on the HSC candidates it did not beat the default)\n",
        core_order_names());
}

static void print_point(const core_simulate_point *p, void *ctx)
{
    (void)ctx;
    printf("%d\t%.3f\t%.3f\t%d\n", p->shown, p->score, p->score2, p->pos_shown);
    fflush(stdout);
}

int cmd_simulate(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { simulate_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("simulate", "tOBosbhPfprG", argc, argv, &a, simulate_usage);
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
    zs_store *st;
    if ((st_rc = cmd_open_ws("simulate", a.ws, STORE_RDONLY, &st)) != 0) return st_rc;
    core_simulate_opts o = {.task = a.task, .features = a.features, .oracle = rating ? a.rate_from : a.oracle,
                            .rating = rating, .order = a.order, .prior_from = a.prior_from, .budget = a.budget,
                            .batch = a.batch, .seed = a.seed, .holdout = a.holdout, .gp_blocks = a.gp_blocks};
    char err[1024];
    core_simulate *sim;
    int rc = core_simulate_new(&sim, st, &o, err, sizeof err);
    store_close(st);
    if (rc == -1) fprintf(stderr, "zoosh simulate: %s: %s\n", a.ws, tui_text_safe(err));
    else if (rc) fprintf(stderr, "zoosh simulate: %s\n", tui_text_safe(err));
    if (rc) return rc == -3 ? EXIT_USAGE : 1;
    core_simulate_info in;
    core_simulate_info_get(sim, &in);
    printf("# simulate %s on %s: order %s, oracle %s, %d galaxies with a label (%d positive), "
           "budget %d, batch %d, seed %llu, features %s (%d-d)%s\n",
           a.task, a.ws, in.order, o.oracle, in.n_pool, in.n_pos, in.budget, a.batch, (unsigned long long)a.seed,
           tui_text_safe(in.features), in.d, a.holdout > 0 ? ", fixed holdout" : "");
    if (rating) printf("ratings\tprecision_top30\trmse\tpositives_shown\n");
    else printf("labels\tauc\taccuracy\tpositives_shown\n");
    core_simulate_summary s;
    int status = 0;
    if (core_simulate_run(sim, print_point, NULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh simulate: %s\n", tui_text_safe(err));
        status = 1;
    }
    printf("# %d shown, %d of them positive (%.0f%%; base rate %.0f%%)\n", s.shown, s.pos_shown,
           s.shown ? 100.0 * s.pos_shown / s.shown : 0.0, s.n_pool ? 100.0 * s.n_pos / s.n_pool : 0.0);
    if (status == 0 && a.plot && core_simulate_plot(sim, a.plot, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh simulate: %s: %s\n", a.plot, tui_text_safe(err));
        status = 1;
    }
    core_simulate_free(sim);
    return status;
}

/* ------------------------------------------------------------ eval */

static void eval_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh eval WS --task T [-k|--folds K] [--features SET] [--seed S]\n\n"
        "K-fold (default 5) cross-validated metrics of the task's head on the\n"
        "workspace's current answers (each fold: a fresh ensemble trained on the\n"
        "other folds).  Binary\n"
        "questions: ROC AUC and accuracy; trees: accuracy of the most-voted answer per\n"
        "question; interest ratings: RMSE of the Gaussian process.  Without answers the\n"
        "catalog's prior votes are evaluated instead (and it says so).\n");
}

static void print_fold(const core_evaluate_fold *f, void *ctx)
{
    const core_evaluate_info *in = ctx;
    if (isfinite(f->metric))
        printf("fold %d: %d train, %d held out: %s %.3f\n", f->fold, f->n_train, f->n_held, in->metric, f->metric);
    else if (!in->rating)
        printf("fold %d: %d train, %d held out\n", f->fold, f->n_train, f->n_held);
}

int cmd_eval(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { eval_usage(stdout); return 0; }
    learn_args a;
    int st_rc = parse("eval", "tkfs", argc, argv, &a, eval_usage);
    if (st_rc) return st_rc;
    zs_store *st;
    if ((st_rc = cmd_open_ws("eval", a.ws, STORE_RDONLY, &st)) != 0) return st_rc;
    char err[512];
    core_evaluate_opts o = {.task = a.task, .features = a.features, .k = a.k, .seed = a.seed};
    core_evaluate *ev;
    int rc = core_evaluate_new(&ev, st, &o, err, sizeof err);
    store_close(st);
    if (rc == -1) fprintf(stderr, "zoosh eval: %s: %s\n", a.ws, tui_text_safe(err));
    else if (rc) fprintf(stderr, "zoosh eval: %s\n", tui_text_safe(err));
    if (rc) return 1;
    core_evaluate_info in;
    core_evaluate_info_get(ev, &in);
    printf("task %s: %d-fold cross-validation on %d galaxies with %s (features %s, %d-d)\n", a.task, a.k, in.m,
           tui_text_safe(in.source), tui_text_safe(in.features), in.d);
    core_evaluate_summary s;
    int status = 0;
    if (core_evaluate_run(ev, print_fold, &in, &s, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh eval: %s\n", tui_text_safe(err));
        status = 1;
    } else {
        if (s.n_metric > 0) printf("%s over folds: %.3f +- %.3f\n", in.metric, s.mean, s.sd);
        if (in.binary)
            printf("pooled out-of-fold: auc %.3f, accuracy %.3f\n", s.pooled_auc, s.pooled_accuracy);
        else if (!in.rating)
            printf("pooled out-of-fold accuracy (mean over %d questions with votes): %.3f\n", s.n_questions,
                   s.pooled_accuracy);
    }
    core_evaluate_free(ev);
    return status;
}
