/*
 * cmd_embed.c - `zoosh embed` (compute a representation for every galaxy,
 * then its PCA) and `zoosh similar` (the galaxies nearest to one).
 *
 *   zoosh embed WS [--method morph|pixels | --weights F [--arch A] [--size N]] [--set NAME] [--pca K] [--threads N] [--quiet]
 *   zoosh embed WS --combine A,B [--set NAME] [--pca K]
 *   (no --method / --weights / --set: morph, the default encoder, combined)
 *   zoosh similar WS ID [-k 12] [--set NAME] [--metric euclidean|cosine]
 *
 * The work is in core/embed.h (the encoders by name, the vote head, PCA,
 * search by id) and core/repr.h (embedding, combining); this file parses
 * arguments, runs the default pipeline's steps in order and prints.
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"
#include "core/workspace.h"
#include "core/convnext.h"
#include "core/embed.h"
#include "core/featset.h"
#include "core/knn.h"
#include "core/morph.h"
#include "core/repr.h"
#include "core/util.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ws_status(int rc)
{
    switch (rc) {
    case STORE_ENOWS: case STORE_EVERSION: case STORE_EFOREIGN: case STORE_ECORRUPT:
    case STORE_EREADONLY: case STORE_ELMDB:
        return EXIT_WORKSPACE;
    default:
        return 1;
    }
}

/* ---------------------------------------------------------------- embed */
typedef struct {
    core_embed_opts e;      /* the encoder */
    int pca;                /* components; 0 = no PCA */
    int quiet;
} embed_opts;

static void progress_tty(void *ctx, uint32_t done, uint32_t total)
{
    double *t0 = ctx;
    double dt = core_mono_s() - *t0;
    fprintf(stderr, "\rembedding %u / %u galaxies  (%.0f /s)   ", done, total, dt > 0 ? done / dt : 0.0);
    fflush(stderr);
}

static void embed_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh embed WS [--method morph|pixels | --weights FILE [--arch A] [--size N] [--crop F] [--views V]]\n"
        "                      [--set NAME] [--pca K] [--threads N] [--new-only] [--quiet]\n"
        "       zoosh embed WS --combine A,B[,...] [--set NAME] [--pca K]\n"
        "\n"
        "Computes a representation (a feature vector) for every galaxy of the workspace\n"
        "from its stored thumbnail and stores it as a feature set; then fits a PCA.\n"
        "\n"
        "Without --method, --weights or --set (the default representation): the\n"
        "morphology features, then zoosh's own encoder (sample_data/encoder.safetensors\n"
        "beside zoosh, PREFIX/share/zoosh/ when installed, or $ZOOSH_ENCODER;\n"
        "ZOOSH_ENCODER=none skips it) as set \"convnext\", the Galaxy Zoo vote\n"
        "fractions its head predicts as set \"votes\", the three\n"
        "combined as set \"morph+convnext+votes\" (the workspace default) and its PCA\n"
        "as \"pca40\", every block balanced.\n"
        "\n"
        "  --method morph   hand-crafted morphology features only: ellipse, radial\n"
        "                   profiles in elliptical annuli, unsharp-mask (ring/arm) profile,\n"
        "                   azimuthal Fourier modes, concentration, asymmetry, Gini/M20,\n"
        "                   colour in annuli (%s)\n"
        "  --method pixels  raw pixels: the central half of the thumbnail at 32x32 RGB\n"
        "                   (3072 numbers; the floor any representation must beat)\n"
        "  --weights FILE   a ConvNeXt encoder instead: timm/Zoobot model.safetensors\n"
        "                   (e.g. hf_hub:mwalmsley/zoobot-encoder-convnext_nano), or one\n"
        "                   made by zoosh pretrain; set \"convnext\".  A zoosh pretrain\n"
        "                   file also gives set \"votes\" (\"NAME_votes\" with --set): the\n"
        "                   vote fraction of every answer its head predicts, each\n"
        "                   question summing to 1, in the order its provenance lists\n"
        "  --arch A         its architecture (convnext_nano, _pico, _atto, ...; default:\n"
        "                   read from the tensor shapes)\n"
        "  --size N         pixels the thumbnail is resampled to (default: what the\n"
        "                   weights were trained at if recorded, else 224)\n"
"  --crop F         centre crop, a fraction of the side (default: what the\n"
        "                   weights were trained on if recorded, else none)\n"
        "  --views V        the mean embedding over V of the 8 rotations / flips of\n"
        "                   each image (1, 2, 4 or 8; default 1): V times the time,\n"
        "                   orientation-free vectors\n"
        "  --set NAME       feature set to write (default: the method's name)\n"
        "  --pca K          fit a standardised PCA with K components (default %d, fewer\n"
        "                   when the set has fewer dimensions; 0 = none) and store the\n"
        "                   projections as set \"pcaK\" (for the default set) or\n"
        "                   \"NAME_pcaK\" (other sets); the PCA itself is kept so new\n"
        "                   galaxies can be projected\n"
        "  --threads N      worker threads (default 2)\n"
        "  --combine A,B    concatenate stored sets into one (\"A+B\", or --set NAME) for\n"
        "                   the galaxies in all of them; it becomes the workspace default;\n"
        "                   its PCA standardises every column and scales each set's block\n"
        "                   to the same total variance (a morph block balanced inside too)\n"
        "  --new-only       only galaxies without a vector in the set yet (after importing\n"
        "                   more; the PCA is refitted on all)\n"
        "  --quiet          no progress line\n"
        "\n"
        "The first set computed becomes the workspace default (meta features.default);\n"
        "train, similar and the labeler use its PCA set unless another set was chosen\n"
        "with zoosh features WS --use SET.  A set becomes visible only when its last\n"
        "vector is written (a killed embed leaves none half-made).\n"
        "Exit status: 0 ok; 1 failed (no galaxy embedded, a full disk, or a PCA that\n"
        "would not fit in memory: checked before anything is written); 2 usage;\n"
        "3 workspace problem.\n",
        CORE_MORPH_VERSION, CORE_REPR_PCA_K);
}

/* Compute one encoder's set; prints the summary line.  0 or an exit status. */
static int embed_with(zs_store *st, const char *ws, const embed_opts *o, const core_repr_encoder *enc)
{
    double t0 = core_mono_s();
    int tty = !o->quiet && isatty(2);
    core_repr_stats stats;
    char err[256] = "";
    int rc = core_repr_embed(st, enc, tty ? progress_tty : NULL, &t0, NULL, &stats, err, sizeof err);
    if (tty) fprintf(stderr, "\n");
    if (rc) {
        fprintf(stderr, "zoosh embed: %s: %s\n", ws, tui_text_safe(err[0] ? err : store_strerror(rc)));
        return ws_status(rc);
    }
    if (stats.n_missing || stats.n_failed)
        fprintf(stderr, "zoosh embed: %u galaxies without an image, %u refused by the encoder; first: %s\n",
                stats.n_missing, stats.n_failed, tui_text_safe(stats.first_problem));
    if (stats.n_done == 0 && stats.n_skipped == 0) {
        fprintf(stderr, "zoosh embed: %s: no galaxy could be embedded (zoosh import a catalog first)\n", ws);
        return 1;
    }
    if (stats.n_skipped) printf("%u galaxies already had a vector in '%s' (--new-only)\n", stats.n_skipped, tui_text_safe(enc->set));
    printf("embedded %u galaxies into feature set '%s' (%d dims, %s) in %.2f s (%.0f galaxies/s)\n",
           stats.n_done, tui_text_safe(enc->set), enc->dim, tui_text_safe(enc->provenance), stats.seconds,
           stats.seconds > 0 ? stats.n_done / stats.seconds : 0.0);
    return 0;
}

/* An encoder with a vote head (zoosh pretrain's): the vote fractions it
 * predicts, stored and said; *made (may be NULL) = 1 when there were any. */
static int write_votes(zs_store *st, const char *ws, const core_embed_encoder *e, int *made)
{
    char out[STORE_FEATNAME_MAX + 1], err[256] = "";
    int A = 0, rows = 0;
    double t0 = core_mono_s();
    int rc = core_embed_votes(st, e, out, sizeof out, &A, &rows, err, sizeof err);
    if (rc) {
        fprintf(stderr, "zoosh embed: %s: %s\n", ws, tui_text_safe(err[0] ? err : store_strerror(rc)));
        return ws_status(rc);
    }
    if (made) *made = A > 0;
    if (A > 0)
        printf("predicted vote fractions into feature set '%s' (%d answers, %d galaxies) in %.2f s\n", tui_text_safe(out), A, rows,
               core_mono_s() - t0);
    return 0;
}

static int run_encoder(zs_store *st, const char *ws, const embed_opts *o, int *votes_made)
{
    core_embed_encoder *e;
    char err[300];
    int rc = core_embed_encoder_new(&e, &o->e, err, sizeof err);
    if (rc == -1) {
        fprintf(stderr, "zoosh embed: %s: %s\n", o->e.weights, tui_text_safe(err));
        return 1;
    }
    if (rc) {
        fprintf(stderr, "zoosh embed: %s\n", tui_text_safe(err));
        return EXIT_USAGE;
    }
    int status = embed_with(st, ws, o, core_embed_encoder_repr(e));
    if (status == 0 && o->e.weights) status = write_votes(st, ws, e, votes_made);
    core_embed_encoder_free(e);
    return status;
}

static int fit_pca(zs_store *st, const char *ws, const char *set, int k)
{
    char name[STORE_FEATNAME_MAX + 1] = "", err[256] = "";
    char *prov = NULL;
    double t1 = core_mono_s();
    int rc = core_embed_pca(st, set, k, name, sizeof name, &prov, err, sizeof err);
    if (rc) {
        fprintf(stderr, "zoosh embed: %s: %s\n", ws, tui_text_safe(err[0] ? err : store_strerror(rc)));
        return ws_status(rc);
    }
    printf("PCA: feature set '%s' (%s) in %.2f s\n", tui_text_safe(name), tui_text_safe(prov), core_mono_s() - t1);
    free(prov);
    return 0;
}

/* --combine A,B,...: split the list; the combined set is "A+B+..." unless --set. */
static int combine_sets(zs_store *st, const char *ws, const char *list, const char *set_name, int pca, char *out,
                        size_t outlen)
{
    char buf[512];
    const char *sets[CORE_REPR_COMBINE_MAX];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == CORE_REPR_COMBINE_MAX) {
            fprintf(stderr, "zoosh embed: --combine: at most %d sets\n", CORE_REPR_COMBINE_MAX);
            return EXIT_USAGE;
        }
        sets[n++] = t;
    }
    if (n < 2) {
        fprintf(stderr, "zoosh embed: --combine wants two or more feature sets, as morph,convnext\n");
        return EXIT_USAGE;
    }
    if (set_name) snprintf(out, outlen, "%s", set_name);
    else {
        size_t l = 0;
        out[0] = 0;
        for (int i = 0; i < n && l < outlen; i++) l += (size_t)snprintf(out + l, outlen - l, "%s%s", i ? "+" : "", sets[i]);
        if (l >= outlen || l > STORE_FEATNAME_MAX - 16) {
            fprintf(stderr, "zoosh embed: --combine: the name '%s' is too long; give one with --set\n", out);
            return EXIT_USAGE;
        }
    }
    char err[256] = "";
    int rows = 0, missing = 0;
    if (pca > 0 && core_repr_pca_plan(st, sets, n, pca, err, sizeof err) != 0) {   /* before the set is made */
        fprintf(stderr, "zoosh embed: %s: %s\n", ws, err);
        return 1;
    }
    double t0 = core_mono_s();
    int rc = core_repr_combine(st, sets, n, out, &rows, &missing, err, sizeof err);
    if (rc) {
        fprintf(stderr, "zoosh embed: %s: %s\n", ws, tui_text_safe(err[0] ? err : store_strerror(rc)));
        return rc == STORE_ENOTFOUND || rc == STORE_EINVAL ? 1 : ws_status(rc);
    }
    if (missing) fprintf(stderr, "zoosh embed: %d galaxies lack a vector in one of the sets and are left out\n", missing);
    printf("combined %s into feature set '%s' (%d galaxies; the workspace default now) in %.2f s\n", tui_text_safe(list), tui_text_safe(out), rows,
           core_mono_s() - t0);
    return 0;
}

/* A set chosen with zoosh features --use stays the one commands use: say
 * so, since the new sets are not it. */
static void say_choice(zs_store *st, const char *ws)
{
    core_featset_list l;
    char safe[4 * STORE_FEATNAME_MAX + 8];
    if (core_featset_list_get(st, &l) != 0) return;
    if (l.how == CORE_REPR_PICK_CHOSEN)
        printf("commands keep using feature set '%s', chosen with zoosh features %s --use (--reset to use the new ones)\n",
               cmd_safe_text(l.used, safe, sizeof safe), ws);
    core_featset_list_free(&l);
}

int cmd_embed(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { embed_usage(stdout); return 0; }
    embed_opts o = {.e = {.method = "morph", .threads = 2, .size = 0, .views = 1}, .pca = CORE_REPR_PCA_K};
    const char *combine = NULL;
    int method_given = 0;
    static const struct option lo[] = {
        {"method", required_argument, 0, 'm'}, {"set", required_argument, 0, 's'},
        {"pca", required_argument, 0, 'p'}, {"threads", required_argument, 0, 't'},
        {"weights", required_argument, 0, 'w'}, {"arch", required_argument, 0, 'a'},
        {"size", required_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"new-only", no_argument, 0, 'n'}, {"views", required_argument, 0, 'v'},
        {"crop", required_argument, 0, 'c'}, {"combine", required_argument, 0, 'C'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":m:s:p:t:w:a:z:qv:c:C:", lo)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm': o.e.method = optarg; method_given = 1; break;
        case 's': o.e.set = optarg; break;
        case 'w': o.e.weights = optarg; break;
        case 'a': o.e.arch = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'n': o.e.new_only = 1; break;
        case 'C': combine = optarg; break;
        case 'p':
            o.pca = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || o.pca < 0 || o.pca > 4096) {
                fprintf(stderr, "zoosh embed: --pca wants a number of components 0..4096, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            o.e.threads = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || o.e.threads < 1 || o.e.threads > 64) {
                fprintf(stderr, "zoosh embed: --threads wants 1..64, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'z':
            o.e.size = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || o.e.size < 32 || o.e.size > 1024) {
                fprintf(stderr, "zoosh embed: --size wants 32..1024 pixels, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c':
            o.e.crop = strtof(optarg, &end);
            if (!*optarg || *end || !(o.e.crop >= 0.1f && o.e.crop <= 1.0f)) {
                fprintf(stderr, "zoosh embed: --crop wants a fraction 0.1..1, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'v':
            o.e.views = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || (o.e.views != 1 && o.e.views != 2 && o.e.views != 4 && o.e.views != 8)) {
                fprintf(stderr, "zoosh embed: --views wants 1, 2, 4 or 8, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        default:
            return cmd_bad_option("embed", c, argv, optind);
        }
    }
    if (optind != argc - 1) {
        embed_usage(stderr);
        return EXIT_USAGE;
    }
    const char *ws = argv[optind];
    if (o.e.set && !core_workspace_name_ok(o.e.set, STORE_FEATNAME_MAX - 15)) {
        fprintf(stderr, "zoosh embed: --set '%s': a name of 1..%d letters, digits and . _ - @ $ + (not starting with '-')\n",
                tui_text_safe(o.e.set), STORE_FEATNAME_MAX - 16);
        return EXIT_USAGE;
    }
    if (combine && (method_given || o.e.weights)) {
        fprintf(stderr, "zoosh embed: --combine joins sets already computed; not with --method or --weights\n");
        return EXIT_USAGE;
    }
    /* the default: morphology features, then zoosh's encoder if there is
     * one, the two combined (blocks balanced) as the workspace default */
    int dflt = !combine && !method_given && !o.e.weights && !o.e.set;
    char encpath[4200] = "";
    int have_enc = dflt && cmd_default_encoder(encpath, sizeof encpath);
    if (have_enc) {           /* check the weights load before any work */
        core_convnext *m = NULL;
        char err[300];
        if (core_convnext_load(&m, encpath, NULL, err, sizeof err)) {
            fprintf(stderr, "zoosh embed: default encoder %s: %s (ZOOSH_ENCODER=none: morphology only)\n",
                    encpath, err);
            return 1;
        }
        core_convnext_free(m);
    }

    zs_store *st = NULL;
    int status = cmd_open_ws("embed", ws, 0, &st);
    if (status) return status;
    char cname[STORE_FEATNAME_MAX + 1] = "";
    if (combine) {
        if ((status = combine_sets(st, ws, combine, o.e.set, o.pca, cname, sizeof cname))) goto end;
        if (o.pca > 0) status = fit_pca(st, ws, cname, o.pca);
        goto end;
    }
    if ((status = run_encoder(st, ws, &o, NULL))) goto end;
    if (!have_enc) {
        if (dflt) printf("no default encoder (%s): morphology features only\n",
                                     getenv("ZOOSH_ENCODER") && !strcmp(getenv("ZOOSH_ENCODER"), "none") ? "ZOOSH_ENCODER=none" : "no encoder.safetensors in sample_data/ or PREFIX/share/zoosh/");
        const char *set = o.e.set ? o.e.set : o.e.weights ? "convnext" : o.e.method;
        if (o.pca > 0) status = fit_pca(st, ws, set, o.pca);
        goto end;
    }
    embed_opts oe = o;
    oe.e.weights = encpath;
    int votes = 0;
    if ((status = run_encoder(st, ws, &oe, &votes))) goto end;
    if ((status = combine_sets(st, ws, votes ? "morph,convnext," CORE_EMBED_VOTES_SET : "morph,convnext", NULL, o.pca, cname,
                               sizeof cname))) goto end;
    if (o.pca > 0) status = fit_pca(st, ws, cname, o.pca);
end:
    if (status == 0) say_choice(st, ws);
    store_close(st);
    return status;
}

/* -------------------------------------------------------------- similar */
static void similar_usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh similar WS ID [-k 12] [--set NAME] [--metric euclidean|cosine]\n"
        "\n"
        "Prints the K galaxies nearest to galaxy ID (its catalog id) in a feature set,\n"
        "nearest first, one per line: id <TAB> distance <TAB> image file.  The galaxy\n"
        "itself is left out.  Exact search (every galaxy is compared).\n"
        "\n"
        "  -k K             how many (default 12)\n"
        "  --set NAME       feature set (default: the workspace's, see zoosh features WS)\n"
        "  --metric M       euclidean (default) or cosine (1 - cosine similarity)\n");
}

int cmd_similar(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { similar_usage(stdout); return 0; }
    int k = 12, metric = CORE_KNN_EUCLIDEAN;
    const char *set = NULL;
    static const struct option lo[] = {
        {"set", required_argument, 0, 's'}, {"metric", required_argument, 0, 'm'},
        {"k", required_argument, 0, 'k'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":k:s:m:", lo)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'k':
            k = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || k < 1 || k > 100000) {
                fprintf(stderr, "zoosh similar: -k wants 1..100000, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 's': set = optarg; break;
        case 'm':
            metric = core_knn_metric_parse(optarg);
            if (metric < 0) {
                fprintf(stderr, "zoosh similar: --metric '%s': euclidean or cosine\n", optarg);
                return EXIT_USAGE;
            }
            break;
        default:
            return cmd_bad_option("similar", c, argv, optind);
        }
    }
    if (optind != argc - 2) { similar_usage(stderr); return EXIT_USAGE; }
    const char *ws = argv[optind], *id = argv[optind + 1];

    zs_store *st = NULL;
    int status = cmd_open_ws("similar", ws, STORE_RDONLY, &st);
    if (status) return status;
    if (!id[0]) {
        fprintf(stderr, "zoosh similar: empty galaxy id\n");
        store_close(st);
        return EXIT_USAGE;
    }
    core_embed_hits h;
    int rc = core_embed_similar(st, id, set, metric, k, &h);
    store_close(st);
    if (rc) {
        switch (h.failed_at) {
        case CORE_EMBED_AT_READ:
            fprintf(stderr, "zoosh similar: %s: %s\n", ws, store_strerror(rc));
            break;
        case CORE_EMBED_AT_FIND:
            if (rc == STORE_ENOTFOUND) fprintf(stderr, "zoosh similar: no galaxy with id '%s' in %s\n", id, ws);
            else fprintf(stderr, "zoosh similar: %s: looking up '%s': %s\n", ws, id, store_strerror(rc));
            break;
        case CORE_EMBED_AT_INDEX:
            if (rc == STORE_ENOTFOUND && set) fprintf(stderr, "zoosh similar: %s has no feature set '%s'\n", ws, set);
            else if (rc == STORE_ENOTFOUND)
                fprintf(stderr, "zoosh similar: %s has no features yet (run zoosh embed %s)\n", ws, ws);
            else fprintf(stderr, "zoosh similar: %s: loading features: %s\n", ws, store_strerror(rc));
            break;
        case CORE_EMBED_AT_QUERY:
            if (rc == STORE_ENOTFOUND)
                fprintf(stderr, "zoosh similar: galaxy '%s' has no vector in feature set '%s' (run zoosh embed %s)\n",
                        id, tui_text_safe(h.set), ws);
            else fprintf(stderr, "zoosh similar: %s\n", store_strerror(rc));
            break;
        }
        status = h.failed_at == CORE_EMBED_AT_QUERY || rc == STORE_ENOTFOUND ? 1 : ws_status(rc);
        core_embed_hits_free(&h);
        return status;
    }
    printf("# %d nearest to %s in '%s' (%s, %d galaxies searched in %.1f ms)\n", h.n, id, tui_text_safe(h.set),
           core_knn_metric_name(metric), h.rows, h.seconds * 1e3);
    for (int i = 0; i < h.n; i++) {
        if (h.id[i]) {
            char sid[STORE_ID_MAX * 4], sfile[STORE_PATH_MAX];
            printf("%s\t%.6g\t%s\n", cmd_safe_text(h.id[i], sid, sizeof sid), h.dist[i],
                   cmd_safe_text(h.file[i], sfile, sizeof sfile));
        } else {
            printf("#%u\t%.6g\t\n", h.gid[i], h.dist[i]);
        }
    }
    core_embed_hits_free(&h);
    return 0;
}
