/*
 * cmd_import.c - `zoosh import` (catalog + images + features into a
 * workspace, core/import.h) and `zoosh export` (votes, labels, answers,
 * interest, features, predictions out as CSV or HDF5, core/export.h): the
 * options, one core call each, and the messages.
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"
#include "core/workspace.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/export.h"
#include "core/featset.h"
#include "core/finetune.h"
#include "core/import.h"
#include "core/thumb.h"
#include "core/util.h"
#include "store/store.h"

#define IMPORT_MAX_SHOWN 20                     /* errors printed before "and N more" */

/* ------------------------------------------------------------ progress */

/* A bar on stderr while it is a terminal, redrawn at most every 0.1 s. */
typedef struct {
    int on;
    const char *what;
    long total;
    double t0, last;
} progress;

static void progress_start(progress *p, const char *what, long total)
{
    p->on = isatty(2);
    p->what = what;
    p->total = total;
    p->t0 = core_mono_s();
    p->last = 0;
}

static void progress_show(progress *p, long done, int force)
{
    if (!p->on) return;
    double now = core_mono_s();
    if (!force && now - p->last < 0.1) return;
    p->last = now;
    int width = 30, fill = p->total > 0 ? (int)((double)done * width / (double)p->total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double rate = now > p->t0 ? (double)done / (now - p->t0) : 0;
    fprintf(stderr, "\r%-9s [%s] %ld/%ld  %.0f/s ", p->what, bar, done, p->total, rate);
    fflush(stderr);
}

static void progress_end(progress *p, long done)
{
    if (!p->on) return;
    progress_show(p, done, 1);
    fputc('\n', stderr);
}

/* core_import_run's progress: the bar, and with $ZOOSH_IMPORT_TRACE the time
 * of each step since the command started. */
typedef struct {
    progress bar;
    int trace;
    double t0;
} import_progress;

static void import_progress_fn(void *ctx, core_import_event ev, const char *what, long done, long total)
{
    import_progress *ip = ctx;
    switch (ev) {
    case CORE_IMPORT_BEGIN: progress_start(&ip->bar, what, total); break;
    case CORE_IMPORT_ADVANCE: progress_show(&ip->bar, done, 0); break;
    case CORE_IMPORT_END: progress_end(&ip->bar, done); break;
    case CORE_IMPORT_STEP:
        if (ip->trace) fprintf(stderr, "zoosh import: %-15s %8.3f s\n", what, core_mono_s() - ip->t0);
        break;
    }
}

/* err's lines, each as "zoosh CMD: LINE". */
static void print_lines(const char *cmd, const char *err)
{
    for (const char *p = err; *p;) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        fprintf(stderr, "zoosh %s: %s\n", cmd, tui_text_safe(line));
        free(line);
        p += n;
        if (*p) p++;
    }
}

/* ------------------------------------------------------- import command */

static void import_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh import WS CATALOG.csv [--root DIR] [--features FILE [--ids FILE]]\n"
        "                    [--features-name NAME] [--skip-bad] [--thumbs jpeg|raw|none]\n"
        "                    [--threads N]\n\n"
        "Reads a catalog of galaxy cutouts into the workspace WS.\n"
        "  CATALOG.csv     Zoobot style (id_str, file_loc) or plain (id, file); images are\n"
        "                  PNG, JPEG or FITS, relative to --root or to the catalog's folder.\n"
        "                  Vote columns <question>_<answer> (counts), ..._fraction and a\n"
        "                  column named after a one-question task (ring, 0/1) become priors;\n"
        "                  so do Kaggle's Class1.1..Class11.6 (cumulative fractions), stored\n"
        "                  per question as gz2's <question>-gz2_<answer>_fraction;\n"
        "                  feat_0..feat_N a feature set 'catalog'; ra/dec and other\n"
        "                  columns are kept with the galaxy.\n"
        "  --features FILE Zoobot representation HDF5 (predictions, id_str, label_cols),\n"
        "                  a CSV id_str,feat_0,... or a .npy with --ids FILE (one id a line);\n"
        "                  stored as the set 'zoobot' (or --features-name), which becomes\n"
        "                  the default set if the workspace has no other (else zoosh\n"
        "                  features WS --use zoobot makes it the default).\n"
        "  --skip-bad      import the good rows and list the bad ones (default: any bad\n"
        "                  row stops the import and the workspace is left unchanged)\n"
        "  --thumbs jpeg   display thumbnails (256 px) stored as JPEG, quality 92, no\n"
        "                  chroma subsampling: about 7x smaller than raw (the default)\n"
        "  --thumbs raw    stored as raw RGB pixels, lossless (196 KB each; older zoosh\n"
        "                  versions read only these)\n"
        "  --thumbs none, --no-thumbs\n"
        "                  do not decode images (no new display thumbnails; those already\n"
        "                  stored stay: use it to add features or columns to a workspace)\n"
        "  --threads N     decoding threads (default: the number of cores)\n\n"
        "Importing again updates galaxies with the same id.  Exit status: 0 ok,\n"
        "1 bad input (nothing imported unless --skip-bad), 2 usage, 3 workspace problem.\n");
}

static void print_list(FILE *f, const core_catalog_msgs *m, const char *prefix)
{
    for (int i = 0; i < m->n && i < IMPORT_MAX_SHOWN; i++) fprintf(f, "%s%s\n", prefix, tui_text_safe(m->msg[i]));
    if (m->n > IMPORT_MAX_SHOWN) fprintf(f, "%s... and %d more\n", prefix, m->n - IMPORT_MAX_SHOWN);
}

/* Which set commands use after importing fs_name, and how to change it. */
static void say_default(zs_store *st, const char *ws, const char *fs_name)
{
    char used[STORE_FEATNAME_MAX + 1], safe[4 * STORE_FEATNAME_MAX + 8];
    int adopted = 0;
    if (core_featset_adopt(st, fs_name, &adopted, used, sizeof used) != 0) return;
    if (adopted) printf("feature set '%s' is the default now (zoosh features %s lists the sets)\n", fs_name, ws);
    else if (strcmp(used, fs_name) != 0)
        printf("commands keep using feature set '%s': zoosh features %s --use %s [--pca 40] makes '%s' the default\n",
               cmd_safe_text(used, safe, sizeof safe), ws, fs_name, fs_name);
}

int cmd_import(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { import_usage(stdout); return 0; }
    const char *root = NULL, *feat_path = NULL, *ids_path = NULL, *fs_name = "zoobot";
    int skip_bad = 0, no_thumbs = 0, threads = 0, codec = CORE_THUMB_JPEG;
    static const struct option opts[] = {
        {"root", required_argument, 0, 'r'}, {"features", required_argument, 0, 'f'},
        {"ids", required_argument, 0, 'i'}, {"features-name", required_argument, 0, 'n'},
        {"skip-bad", no_argument, 0, 's'}, {"no-thumbs", no_argument, 0, 't'},
        {"threads", required_argument, 0, 'j'}, {"thumbs", required_argument, 0, 'T'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = cmd_getopt(argc, argv, ":", opts)) != -1) {
        switch (o) {
        case 'r': root = optarg; break;
        case 'f': feat_path = optarg; break;
        case 'i': ids_path = optarg; break;
        case 'n': fs_name = optarg; break;
        case 's': skip_bad = 1; break;
        case 't': no_thumbs = 1; break;
        case 'T':
            if (strcmp(optarg, "none") == 0) no_thumbs = 1;
            else if ((codec = core_thumb_codec_parse(optarg)) < 0) {
                fprintf(stderr, "zoosh import: --thumbs '%s': jpeg, raw or none\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'j': {
            char *end;
            long t = strtol(optarg, &end, 10);
            if (!*optarg || *end || t < 1 || t > 64) {
                fprintf(stderr, "zoosh import: --threads wants 1..64, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            threads = (int)t;
            break;
        }
        default:
            return cmd_bad_option("import", o, argv, optind);
        }
    }
    /* GNU getopt moved the positional arguments to the end */
    const char *pos[2] = {0, 0};
    int npos = 0;
    for (int i = optind; i < argc; i++) {
        if (npos == 2) { fprintf(stderr, "zoosh import: too many arguments ('%s')\n", argv[i]); return EXIT_USAGE; }
        pos[npos++] = argv[i];
    }
    if (npos != 2) { import_usage(stderr); return EXIT_USAGE; }
    if (ids_path && !feat_path) { fprintf(stderr, "zoosh import: --ids goes with --features\n"); return EXIT_USAGE; }
    if (!core_workspace_name_ok(fs_name, STORE_FEATNAME_MAX - 15) || strcmp(fs_name, "catalog") == 0) {
        fprintf(stderr, "zoosh import: --features-name '%s': a name of 1..%d letters, digits and . _ - @ $ + "
                        "(not starting with '-'), not 'catalog'\n",
                tui_text_safe(fs_name), STORE_FEATNAME_MAX - 16);
        return EXIT_USAGE;
    }
    core_import_opts io = {.ws = pos[0], .catalog = pos[1], .root = root, .features = feat_path, .ids = ids_path,
                           .features_name = fs_name, .skip_bad = skip_bad, .no_thumbs = no_thumbs,
                           .codec = codec, .threads = threads, .progress = import_progress_fn};
    /* ZOOSH_IMPORT_TRACE=1: the time of each step on stderr */
    import_progress ip = {.trace = getenv("ZOOSH_IMPORT_TRACE") != NULL, .t0 = core_mono_s()};
    io.progress_ctx = &ip;
    zs_store *st = NULL;
    int rc = cmd_open_ws("import", io.ws, STORE_NOSYNC, &st);
    if (rc) return rc;
    core_import_report rep;
    char err[2048];
    rc = core_import_run(st, &io, &rep, err, sizeof err);
    int status = 0;
    if (rc) {
        print_list(stderr, &rep.problems, "zoosh import: ");
        print_lines("import", err);
        status = rc == CORE_IMPORT_EWORKSPACE ? EXIT_WORKSPACE : 1;
    } else {
        printf("imported %ld galaxies from %s (%ld new, %ld updated)", rep.written, io.catalog, rep.created,
               rep.written - rep.created);
        if (!no_thumbs) printf(", %ld thumbnails", rep.thumbs);
        if (rep.n_prior) printf(", %d prior column%s (%ld values)", rep.n_prior, rep.n_prior == 1 ? "" : "s", rep.priors);
        if (rep.feat_dim) printf(", feature set 'catalog' (%d-d)", rep.feat_dim);
        if (rep.fs_dim) printf(", %ld vectors into feature set '%s' (%d-d)", rep.feats, fs_name, rep.fs_dim);
        printf(" in %.2f s\n", core_mono_s() - ip.t0);
        if (rep.n_kaggle)
            printf("  %d Kaggle columns ClassN.M (cumulative fractions) stored as per-question gz2 fractions "
                   "(<question>-gz2_<answer>_fraction)\n", rep.n_kaggle);
        if (rep.fs_dim) say_default(st, io.ws, fs_name);
        const core_catalog_msgs *bad = &rep.problems;
        if (bad->n) {
            fprintf(stderr, "zoosh import: skipped %d bad row%s:\n", bad->n, bad->n == 1 ? "" : "s");
            for (int i = 0; i < bad->n; i++) fprintf(stderr, "  %s\n", tui_text_safe(bad->msg[i]));
        }
        /* --skip-bad with every row bad imported nothing: that is no success */
        if (rep.nothing) {
            fprintf(stderr, "zoosh import: every row of %s was bad; nothing was imported\n", io.catalog);
            status = 1;
        }
    }
    core_import_report_free(&rep);
    store_close(st);
    return status;
}

/* ------------------------------------------------------- export command */

static void export_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh export WS --format zoobot|labels|answers|interest|features|predictions|notes\n"
        "                   [--task T] [--set NAME] [-o|--output FILE] [--hdf5]\n"
        "                   [--relative-to DIR] [--with-priors] [--suffix dr5|dr8]\n\n"
        "Writes CSV to standard output (or FILE).  file_loc is the image's path,\n"
        "normalised (no '..', '.' or '//'): absolute, or relative to --relative-to DIR\n"
        "(every image must lie under DIR).\n"
        "  zoobot       id_str,file_loc,<question>_<answer> vote counts of the workspace's\n"
        "               answers for the tree --task (default gz-decals), summed over the\n"
        "               users, <question>_total-votes, then <question>_<answer>_fraction\n"
        "               (empty when the question got no vote).  Catalog prior votes are\n"
        "               NOT included: this is what the labellers said.  Only galaxies\n"
        "               with at least one answer.  --suffix dr5|dr8 (gz-decals only)\n"
        "               writes Zoobot's campaign keys: smooth-or-featured-dr5_smooth.\n"
        "  labels       id_str,file_loc,TASK for a one-question task (--task, default ring):\n"
        "               the majority answer as an integer: yes = 1, no = 0; any other\n"
        "               answers 0..N-1 in the task's order, with the legend in a second\n"
        "               file FILE.legend.csv (FILE less .csv; TASK,answer,text), or on\n"
        "               standard error without -o.  Galaxies whose votes tie are left\n"
        "               out.  --with-priors adds the catalog's label (its vote counts,\n"
        "               fractions or 0/1 column) for galaxies nobody answered, and a\n"
        "               column source: answers or catalog.\n"
        "  answers      the raw log, one row per answer (retractions included; --task\n"
        "               keeps one task's):\n"
        "               seq,time,user,task,kind,id_str,question,answer,rating,retracts,\n"
        "               foreign (a tree path of several steps joins them with ';';\n"
        "               foreign 1: a record no zoosh command writes, which nothing\n"
        "               counts and zoosh check lists).\n"
        "  interest     id_str,file_loc,<task>_mean,<task>_n of the 0-5 ratings (--task,\n"
        "               default interest).\n"
        "  features     id_str,feat_0..feat_{D-1} of a feature set (--set, default the\n"
        "               set every command uses: zoosh features).\n"
        "  predictions  id_str,file_loc,<column>_pred from the task's trained head\n"
        "               (a rating task: <task>_predicted,<task>_sd from its GP).\n"
        "  notes        id_str,user,time,note,tags: each user's latest note per galaxy\n"
        "               (the labeler's n key), tags its #words ';'-separated.\n"
        "  encoder      the task's fine-tuned encoder (zoosh train --finetune; --task\n"
        "               and -o FILE required) as safetensors with timm's names, which\n"
        "               zoosh embed --weights reads.\n"
        "features and predictions go out as Zoobot's HDF5 when FILE ends in .h5 or\n"
        ".hdf5, or with --hdf5: datasets predictions (galaxy, column, 1) float32,\n"
        "id_str and label_cols (feat_N, or the task's <question>_<answer>), what\n"
        "Zoobot's load_hdf5s and import --features read.\n"
        "zoobot, labels and interest count one vote per user per galaxy: their latest\n"
        "answer not retracted (a changed mind replaces, a second session does not add;\n"
        "training counts the same way).  Retracted answers (undo) count nowhere except\n"
        "in the raw log.\n"
        "Exit status: 0 ok, 1 nothing to export (zoobot, labels, interest, predictions\n"
        "with no row; nothing is written) or a bad option value, 2 usage, 3 workspace\n"
        "problem.\n");
}

/* --format encoder: the task's stored fine-tuned encoder, as it is. */
static int export_encoder(const char *ws, const char *task, const char *outp)
{
    if (!task || !outp || !strcmp(outp, "-")) {
        fprintf(stderr, "zoosh export: --format encoder needs --task T and -o FILE.safetensors\n");
        return EXIT_USAGE;
    }
    zs_store *st = NULL;
    int rc = cmd_open_ws("export", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    char err[1024] = "";
    rc = core_ft_export(st, task, outp, err, sizeof err);
    store_close(st);
    if (rc) {
        fprintf(stderr, "zoosh export: %s: %s\n", tui_text_safe(ws), tui_text_safe(err));
        return 1;
    }
    fprintf(stderr, "zoosh export: task %s's fine-tuned encoder to %s\n", tui_text_safe(task), tui_text_safe(outp));
    return 0;
}

int cmd_export(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { export_usage(stdout); return 0; }
    const char *format = NULL, *task = NULL, *set = NULL, *outp = NULL, *rel = NULL, *suffix = NULL;
    int hdf5 = 0, with_priors = 0;
    static const struct option opts[] = {
        {"format", required_argument, 0, 'F'}, {"task", required_argument, 0, 'T'},
        {"set", required_argument, 0, 'S'}, {"output", required_argument, 0, 'o'},
        {"hdf5", no_argument, 0, 'H'}, {"relative-to", required_argument, 0, 'R'},
        {"with-priors", no_argument, 0, 'P'}, {"suffix", required_argument, 0, 'X'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int o;
    while ((o = cmd_getopt(argc, argv, ":o:", opts)) != -1) {
        switch (o) {
        case 'F': format = optarg; break;
        case 'T': task = optarg; break;
        case 'S': set = optarg; break;
        case 'o': outp = optarg; break;
        case 'H': hdf5 = 1; break;
        case 'R': rel = optarg; break;
        case 'P': with_priors = 1; break;
        case 'X': suffix = optarg; break;
        default:
            return cmd_bad_option("export", o, argv, optind);
        }
    }
    if (optind < argc - 1) { fprintf(stderr, "zoosh export: unexpected argument '%s' (one workspace; -o FILE for the output)\n", argv[optind + 1]); return EXIT_USAGE; }
    if (optind != argc - 1) { export_usage(stderr); return EXIT_USAGE; }
    if (!format) { fprintf(stderr, "zoosh export: --format is required (zoobot, labels, answers, interest, features, predictions, notes, encoder)\n"); return EXIT_USAGE; }
    const char *ws = argv[optind];
    if (strcmp(format, "encoder") == 0) return export_encoder(ws, task, outp);
    int fmt = core_export_format_parse(format);
    if (fmt < 0) {
        fprintf(stderr, "zoosh export: unknown format '%s' (zoobot, labels, answers, interest, features, predictions, notes, encoder)\n", format);
        return EXIT_USAGE;
    }
    zs_store *st = NULL;
    int rc = cmd_open_ws("export", ws, STORE_RDONLY, &st);
    if (rc) return rc;
    core_export_opts eo = {.ws = ws, .format = fmt, .task = task, .set = set, .output = outp, .hdf5 = hdf5,
                           .relative_to = rel, .with_priors = with_priors, .suffix = suffix};
    core_export_report rep;
    char err[2048];
    FILE *out = cmd_data_out();
    rc = core_export_run(st, &eo, out, &rep, err, sizeof err);
    cmd_data_close(out);
    store_close(st);
    if (rc) {
        fprintf(stderr, "zoosh export: %s\n", tui_text_safe(err));
        return rc == CORE_EXPORT_EWORKSPACE ? EXIT_WORKSPACE : 1;
    }
    if (outp && strcmp(outp, "-") != 0)
        fprintf(stderr, "zoosh export: %ld rows to %s%s\n", rep.rows, tui_text_safe(outp), rep.hdf5 ? " (HDF5)" : "");
    if (rep.set[0])
        fprintf(stderr, "zoosh export: feature set '%s'%s\n", tui_text_safe(rep.set),
                set ? "" : " (the one commands use: zoosh features)");
    if (rep.from_catalog) fprintf(stderr, "zoosh export: %ld of them from the catalog (source catalog)\n", rep.from_catalog);
    if (rep.legend[0] && rep.legend_file[0])
        fprintf(stderr, "zoosh export: legend (%s) to %s\n", tui_text_safe(rep.legend), tui_text_safe(rep.legend_file));
    else if (rep.legend[0]) fprintf(stderr, "zoosh export: legend: %s\n", tui_text_safe(rep.legend));
    return 0;
}
