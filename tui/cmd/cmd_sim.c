/*
 * cmd_sim.c - `zoosh sim` (simulated cutouts + catalog.csv, see core/sim.h)
 * and `zoosh demo` (the demo workspace from simulated galaxies, then the
 * labeler on the ring task).
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"
#include "core/learn.h"
#include "core/metrics.h"
#include "core/schema.h"
#include "core/sim.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ftw.h>
#include <getopt.h>
#include <unistd.h>

static const char sim_usage[] =
    "usage: zoosh sim OUT_DIR -n N [--seed S] [--size PX] [--mix CLASS=F,...] [--threads T]\n"
    "                 [--no-images] [--quiet]\n"
    "  Writes N simulated DECaLS-like galaxy cutouts OUT_DIR/images/sim_NNNNNN.png and\n"
    "  OUT_DIR/catalog.csv (id_str, file_loc, true parameters, ring 0/1, and simulated\n"
    "  volunteer vote counts for the gz-decals columns <question>_<answer>).\n"
    "  --seed S     random seed (default 1); the same seed gives the same bytes\n"
    "  --size PX    side of the square cutouts (default 424; 16..4096)\n"
    "  --mix ...    class fractions, e.g. ring=0.5,merger=0.1; the other classes share\n"
    "               the rest in their default proportions.  Classes: smooth disk spiral\n"
    "               edgeon ring merger lens artifact\n"
    "  --threads T  worker threads (default: all cores)\n"
    "  --no-images  render but write only the catalog (for benchmarks)\n"
    "  --quiet      no progress or summary\n"
    "exit: 0 ok, 1 cannot write, 2 usage\n";

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Progress on a terminal, at most 10 times a second. */
static void sim_progress(int done, int total, void *ctx)
{
    double *last = ctx, now = core_mono_s();
    if (!isatty(2) || (done < total && now - *last < 0.1)) return;
    *last = now;
    fprintf(stderr, "\rzoosh sim: %d/%d", done, total);
    if (done == total) fputc('\n', stderr);
}

int cmd_sim(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { fputs(sim_usage, stdout); return 0; }
    const char *out = NULL, *mix = NULL;
    long n = -1, seed = 1, side = CORE_SIM_SIDE, threads = 0;
    int quiet = 0, flags = 0;
    static const struct option lo[] = {
        {"seed", required_argument, 0, 's'}, {"size", required_argument, 0, 'z'},
        {"mix", required_argument, 0, 'm'}, {"threads", required_argument, 0, 't'},
        {"quiet", no_argument, 0, 'q'}, {"no-images", no_argument, 0, 'N'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":n:q", lo)) != -1) {
        const char *v = optarg;
        int bad = 0;
        switch (c) {
        case 'n': bad = parse_long(v, 0, 10000000, &n); break;
        case 's': bad = parse_long(v, 0, 0x7fffffffffffffffL, &seed); break;
        case 'z': bad = parse_long(v, 16, 4096, &side); break;
        case 't': bad = parse_long(v, 0, 64, &threads); break;
        case 'm': mix = v; break;
        case 'q': quiet = 1; break;
        case 'N': flags |= CORE_SIM_NO_IMAGES; break;
        default:
            cmd_bad_option("sim", c, argv, optind);
            fputs(sim_usage, stderr);
            return EXIT_USAGE;
        }
        if (bad) {
            char name[64];
            fprintf(stderr, "zoosh sim: bad value for %s: '%s'\n%s", cmd_opt_name(lo, c, name, sizeof name), v, sim_usage);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) out = argv[optind];
    if (optind + 1 < argc) {
        fprintf(stderr, "zoosh sim: one OUT_DIR only ('%s' and '%s')\n%s", out, argv[optind + 1], sim_usage);
        return EXIT_USAGE;
    }
    if (!out || n < 0) { fprintf(stderr, "zoosh sim: OUT_DIR and -n N are required\n%s", sim_usage); return EXIT_USAGE; }
    double frac[CORE_SIM_N_CLASSES];
    char err[512];
    core_sim_mix_default(frac);
    if (mix && core_sim_mix_parse(mix, frac, err, sizeof err)) {
        fprintf(stderr, "zoosh sim: %s\n", tui_text_safe(err));
        return EXIT_USAGE;
    }
    double t0 = core_mono_s(), last = 0;
    if (core_sim_write(out, (int)n, (uint64_t)seed, (int)side, frac, (int)threads, flags,
                       quiet ? NULL : sim_progress, &last, err, sizeof err)) {
        fprintf(stderr, "zoosh sim: %s\n", tui_text_safe(err));
        return 1;
    }
    double dt = core_mono_s() - t0;
    if (!quiet)
        printf("zoosh sim: %ld galaxies %ldx%ld in %s/ (%.1f s, %.0f/s), catalog %s/catalog.csv\n",
               n, side, side, out, dt, dt > 0 ? n / dt : 0.0, out);
    return 0;
}

/* ------------------------------------------------------------------ demo */

#define DEMO_N 600
#define DEMO_SEED 1
#define DEMO_SIDE 256
#define DEMO_MIX "ring=0.15"
#define DEMO_STEPS "demo-steps"      /* in the workspace: one finished step a line */

static const char demo_usage[] =
    "usage: zoosh demo [--task T] [--reset] [--ws DIR] [--no-label]\n"
    "  Builds the demo workspace if there is none (default ./demo-ws) from simulated\n"
    "  galaxies, then opens the labeler on the task (default ring):\n"
    "    zoosh sim DIR/sim -n 600 --seed 1 --size 256 --mix ring=0.15\n"
    "    zoosh init DIR --schema gz-decals,ring\n"
    "    zoosh import DIR DIR/sim/import.csv   (the catalog, truth column ring -> true_ring)\n"
    "    zoosh embed DIR                       (morphology features + the encoder in\n"
    "                                           sample_data/encoder.safetensors, combined)\n"
    "    zoosh train DIR --task gz-decals ; zoosh train DIR --task T\n"
    "    zoosh label DIR --task T\n"
    "  Running it again reuses the workspace and the answers already given.\n"
    "  --reset     delete the demo workspace first (only a directory zoosh demo made)\n"
    "  --no-label  build the workspace, do not start the labeler\n"
    "  -n N, --size PX  fewer / smaller galaxies (tests)\n";

static int demo_done(const char *ws, const char *step)
{
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/" DEMO_STEPS, ws);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, step) == 0) found = 1;
    }
    fclose(f);
    return found;
}

static void demo_mark(const char *ws, const char *step)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" DEMO_STEPS, ws);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);   /* never through a link */
    FILE *f = fd < 0 ? NULL : fdopen(fd, "a");
    if (f) { fprintf(f, "%s\n", step); fclose(f); }
    else if (fd >= 0) close(fd);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* Runs a subcommand in this process (getopt state reset first). */
static int demo_run(const char *what, cmd_fn fn, int argc, char **argv)
{
    printf("zoosh demo: %s:", what);
    for (int i = 0; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    fflush(stdout);
    optind = 0;
    int rc = fn(argc, argv);
    optind = 0;
    fflush(stdout);
    if (rc) fprintf(stderr, "zoosh demo: step '%s' failed (exit %d); fix it and run zoosh demo again\n", what, rc);
    return rc;
}

/* The catalog for import: the truth column `ring` becomes `true_ring`, so it
 * is kept with each galaxy (for zoosh simulate / eval) but is not taken as
 * prior labels of the ring task, which would hand the model the answers. */
static int demo_import_catalog(const char *src, const char *dst)
{
    FILE *in = fopen(src, "r"), *out = NULL;
    core_outfile of = {0};
    char *line = NULL, oerr[200];
    size_t cap = 0;
    int status = 1;
    if (!in) { fprintf(stderr, "zoosh demo: %s: %s\n", src, strerror(errno)); goto end; }
    if (core_out_open(&of, dst, oerr, sizeof oerr)) { fprintf(stderr, "zoosh demo: %s: %s\n", dst, oerr); goto end; }
    out = of.f;
    ssize_t n;
    int first = 1;
    while ((n = getline(&line, &cap, in)) > 0) {
        if (first) {
            char *p = strstr(line, ",ring,");
            if (!p) { fprintf(stderr, "zoosh demo: %s:1: no column 'ring'\n", src); goto end; }
            fwrite(line, 1, (size_t)(p - line), out);
            fputs(",true_ring,", out);
            fputs(p + 6, out);
            first = 0;
        } else {
            fwrite(line, 1, (size_t)n, out);
        }
    }
    out = NULL;
    if (core_out_close(&of, 1, oerr, sizeof oerr)) { fprintf(stderr, "zoosh demo: %s: %s\n", dst, oerr); goto end; }
    status = 0;
end:
    free(line);
    if (in) fclose(in);
    if (out) core_out_close(&of, 0, NULL, 0);
    return status;
}


/* How well the workspace's current model of `ring` ranks the galaxies against
 * the simulator's truth (meta column true_ring): ROC AUC over every galaxy,
 * printed before and after labeling so the user sees the model improve. */
static void demo_report_auc(const char *ws, const char *when)
{
    zs_store *st = NULL;
    core_schema sch;
    core_model_info info;
    double auc;
    int n = 0;
    if (core_schema_builtin("ring", &sch) || store_open(&st, ws, STORE_RDONLY) ||
        core_metrics_model_truth(st, &sch, "ring_yes", "true_ring", &info, &auc, &n))
        goto end;
    if (!n)
        printf("zoosh demo: %s: no ring predictions yet (the model retrains after every 10 answers)\n", when);
    else if (auc == auc && strcmp(info.metric, "prior") == 0)
        printf("zoosh demo: %s: the ring model (version %u, no answers yet: fitted to the ring fraction\n"
               "  zoosh's encoder predicts) ranks the %d galaxies with AUC %.3f against the simulator's\n"
               "  truth (0.5 = chance, 1 = perfect)\n",
               when, info.version, n, auc);
    else if (auc == auc)
        printf("zoosh demo: %s: the ring model (version %u, %d labels) ranks the %d galaxies with\n"
               "  AUC %.3f against the simulator's truth (0.5 = chance, 1 = perfect)\n",
               when, info.version, info.n_train, n, auc);
end:
    store_close(st);
}

int cmd_demo(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { fputs(demo_usage, stdout); return 0; }
    const char *task = "ring", *ws = "demo-ws";
    int reset = 0, no_label = 0;
    long n = DEMO_N, side = DEMO_SIDE;
    static const struct option lo[] = {
        {"task", required_argument, 0, 't'}, {"ws", required_argument, 0, 'w'},
        {"size", required_argument, 0, 'z'}, {"reset", no_argument, 0, 'r'},
        {"no-label", no_argument, 0, 'L'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":n:", lo)) != -1) {
        switch (c) {
        case 't': task = optarg; break;
        case 'w': ws = optarg; break;
        case 'r': reset = 1; break;
        case 'L': no_label = 1; break;
        case 'n':
        case 'z':
            if (c == 'n' ? parse_long(optarg, 1, 100000, &n) : parse_long(optarg, 32, 1024, &side)) {
                char name[64];
                fprintf(stderr, "zoosh demo: bad value for %s: '%s'\n%s", cmd_opt_name(lo, c, name, sizeof name), optarg,
                        demo_usage);
                return EXIT_USAGE;
            }
            break;
        default:
            cmd_bad_option("demo", c, argv, optind);
            fputs(demo_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zoosh demo: unexpected argument '%s'\n%s", argv[optind], demo_usage);
        return EXIT_USAGE;
    }
    {
        core_schema sch;
        char serr[512];
        if (core_schema_resolve(task, &sch, serr, sizeof serr)) {
            fprintf(stderr, "zoosh demo: --task %s: %s\n", task, serr);
            return EXIT_USAGE;
        }
    }
    size_t wl = strlen(ws) + 64;
    char *sim_dir = xmalloc(wl), *cat = xmalloc(wl), *imp = xmalloc(wl), *mdb = xmalloc(wl), *steps = xmalloc(wl);
    snprintf(sim_dir, wl, "%s/sim", ws);
    snprintf(cat, wl, "%s/sim/catalog.csv", ws);
    snprintf(imp, wl, "%s/sim/import.csv", ws);
    snprintf(mdb, wl, "%s/data.mdb", ws);
    snprintf(steps, wl, "%s/" DEMO_STEPS, ws);
    int rc = 0;
    struct stat st;
    if (reset && stat(ws, &st) == 0) {
        if (access(steps, F_OK) != 0) {
            fprintf(stderr, "zoosh demo: %s was not made by zoosh demo (no %s); not deleting it\n", ws, DEMO_STEPS);
            rc = EXIT_WORKSPACE;
            goto end;
        }
        printf("zoosh demo: --reset: deleting %s\n", ws);
        if (nftw(ws, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) {
            fprintf(stderr, "zoosh demo: deleting %s: %s\n", ws, strerror(errno));
            rc = 1;
            goto end;
        }
    }
    if (stat(ws, &st) == 0 && access(steps, F_OK) != 0) {
        fprintf(stderr, "zoosh demo: %s exists and was not made by zoosh demo; use --ws DIR for another place\n", ws);
        rc = EXIT_WORKSPACE;
        goto end;
    }
    if (mkdir(ws, 0777) && errno != EEXIST) {
        fprintf(stderr, "zoosh demo: %s: %s\n", ws, strerror(errno));
        rc = 1;
        goto end;
    }
    if (access(steps, F_OK) != 0) demo_mark(ws, "created");

    if (!demo_done(ws, "sim")) {
        char ns[32], ss[32], sd[32];
        snprintf(ns, sizeof ns, "%ld", n);
        snprintf(ss, sizeof ss, "%ld", side);
        snprintf(sd, sizeof sd, "%d", DEMO_SEED);
        char *av[] = {"sim", sim_dir, "-n", ns, "--seed", sd, "--size", ss, "--mix", DEMO_MIX, NULL};
        if ((rc = demo_run("simulate galaxies", cmd_sim, 10, av))) goto end;
        if ((rc = demo_import_catalog(cat, imp))) goto end;
        demo_mark(ws, "sim");
    }
    if (!demo_done(ws, "init")) {
        if (access(mdb, F_OK) != 0) {
            char *av[] = {"init", (char *)ws, "--schema", "gz-decals,ring", NULL};
            if ((rc = demo_run("create the workspace", cmd_init, 4, av))) goto end;
        }
        demo_mark(ws, "init");
    }
    if (!demo_done(ws, "import")) {
        char *av[] = {"import", (char *)ws, imp, NULL};
        if ((rc = demo_run("import the catalog", cmd_import, 3, av))) goto end;
        demo_mark(ws, "import");
    }
    if (!demo_done(ws, "embed")) {
        /* the default representation: morphology + zoosh's encoder, blocks
         * balanced, PCA-40 (zoosh embed without --method) */
        char *av[] = {"embed", (char *)ws, NULL};
        if ((rc = demo_run("compute the representation", cmd_embed, 2, av))) goto end;
        demo_mark(ws, "embed");
    }
    if (!demo_done(ws, "train")) {
        char *a1[] = {"train", (char *)ws, "--task", "gz-decals", NULL};
        if ((rc = demo_run("a first model of the votes", cmd_train, 4, a1))) goto end;
        if (strcmp(task, "gz-decals") != 0) {
            char *a2[] = {"train", (char *)ws, "--task", (char *)task, NULL};
            if ((rc = demo_run("a first queue for the task", cmd_train, 4, a2))) goto end;
        }
        demo_mark(ws, "train");
    } else {
        printf("zoosh demo: reusing %s (its answers are kept; --reset starts afresh)\n", ws);
    }
    printf("zoosh demo: the truth is column ring of %s (kept out of the model's priors; in the\n"
           "  workspace as true_ring); sample_data/README.md shows zoosh simulate replaying it\n", cat);
    if (strcmp(task, "ring") == 0) demo_report_auc(ws, "now");
    if (no_label) {
        printf("zoosh demo: workspace ready; label with: zoosh label %s --task %s\n", ws, task);
        goto end;
    }
    {
        char *av[] = {"label", (char *)ws, "--task", (char *)task, NULL};
        rc = demo_run("label", cmd_label, 4, av);
    }
    if (rc == 0 && strcmp(task, "ring") == 0) demo_report_auc(ws, "after labeling");
end:
    free(sim_dir); free(cat); free(imp); free(mdb); free(steps);
    return rc;
}
