/*
 * cmd_features.c - `zoosh features WS [--use SET [--pca K] | --reset]`:
 * list the workspace's feature sets and choose the one every command uses
 * (core/featset.h).
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/featset.h"
#include "core/repr.h"
#include "store/store.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh features WS                 list the feature sets\n"
        "       zoosh features WS --use SET [--pca K]\n"
        "       zoosh features WS --reset\n\n"
        "Lists the workspace's feature sets (representations): dimension, galaxies\n"
        "covered, provenance, and which one is the default, the set that train, rank,\n"
        "similar, simulate, eval and the labeler (its background retrain and the s grid)\n"
        "use when not given --features / --set.\n\n"
        "  --use SET   make SET the default (stored in the workspace, for every user)\n"
        "  --pca K     with --use: fit a standardised PCA of K components on SET, store it\n"
        "              as a new set (SET_pcaK; pcaK for the set zoosh embed combined) and\n"
        "              make that the default.  A PCA of 40 suits a head trained on ~100\n"
        "              labels better than hundreds of raw features\n"
        "  --reset     forget the choice\n\n"
        "Without a choice the default is the PCA of the set zoosh embed made (pca40),\n"
        "else that set, else the first set by name.  zoosh import --features makes the\n"
        "imported set the default when the workspace had no other.\n"
        "exit: 0 ok, 1 no such set / the PCA failed, 2 usage, 3 workspace problem\n");
}

static void print_list(const char *ws, const core_featset_list *l)
{
    if (l->n == 0) {
        printf("%s has no feature sets yet (zoosh embed %s computes them; zoosh import %s CAT --features FILE\n"
               "imports a representation)\n", ws, ws, ws);
        return;
    }
    printf("%-1s %-24s %6s %17s %s\n", "", "set", "dims", "galaxies", "provenance");
    for (int i = 0; i < l->n; i++) {
        const core_featset_entry *e = &l->sets[i];
        const char *prov = e->provenance[0] ? tui_text_safe(e->provenance) : "-";
        int cut = strlen(prov) > 72;   /* zoosh stats prints it whole */
        printf("%-1s %-24s %6d %7u / %-7u %.*s%s\n", e->used ? "*" : "", tui_text_safe(e->name), e->dim,
               e->galaxies, l->galaxies, cut ? 69 : 72, prov, cut ? "..." : "");
    }
    const char *used = tui_text_safe(l->used);
    if (l->how == CORE_REPR_PICK_CHOSEN)
        printf("default: %s (chosen with zoosh features --use)\n", used);
    else if (l->how == CORE_REPR_PICK_STALE)
        printf("default: %s (the chosen set '%s' is gone; zoosh features %s --use SET chooses another)\n", used,
               tui_text_safe(l->chosen), ws);
    else
        printf("default: %s (none chosen: the PCA of the embedding, else the first set;\n"
               "         zoosh features %s --use SET chooses)\n", used, ws);
}

int cmd_features(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { usage(stdout); return 0; }
    const char *use = NULL;
    int pca_k = 0, reset = 0;
    static const struct option lo[] = {
        {"use", required_argument, 0, 'u'}, {"pca", required_argument, 0, 'p'},
        {"reset", no_argument, 0, 'r'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":", lo)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'u': use = optarg; break;
        case 'r': reset = 1; break;
        case 'p': {
            long k = strtol(optarg, &end, 10);
            if (!*optarg || *end || k < 1 || k > 4096) {
                fprintf(stderr, "zoosh features: --pca wants 1..4096 components, not '%s'\n", optarg);
                return EXIT_USAGE;
            }
            pca_k = (int)k;
            break;
        }
        default:
            return cmd_bad_option("features", c, argv, optind);
        }
    }
    if (optind != argc - 1) { usage(stderr); return EXIT_USAGE; }
    if ((pca_k && !use) || (reset && use)) {
        fprintf(stderr, "zoosh features: %s\n", reset ? "--reset or --use, not both" : "--pca goes with --use SET");
        return EXIT_USAGE;
    }
    const char *ws = argv[optind];
    zs_store *st = NULL;
    int status = cmd_open_ws("features", ws, use || reset ? 0 : STORE_RDONLY, &st);
    if (status) return status;
    char used[STORE_FEATNAME_MAX + 1] = "", err[1024] = "";
    int rc = 0;
    if (use) {
        rc = core_featset_use(st, use, pca_k, used, sizeof used, err, sizeof err);
        if (rc == -1) {
            fprintf(stderr, "zoosh features: %s: %s\n", ws, err);
            status = 1;
        } else if (rc == 0) {
            printf("%s: feature set '%s' is the default now (train, rank, similar, simulate, label)\n", ws,
                   tui_text_safe(used));
        }
    } else if (reset) {
        rc = core_featset_reset(st);
        if (rc == 0) {
            core_featset_list l;
            if (core_featset_list_get(st, &l) == 0) {
                printf("%s: no feature set chosen; the default is '%s'\n", ws, tui_text_safe(l.used));
                core_featset_list_free(&l);
            }
        }
    } else {
        core_featset_list l;
        rc = core_featset_list_get(st, &l);
        if (rc == 0) print_list(ws, &l);
        core_featset_list_free(&l);
    }
    if (rc > 0 || rc < -1) status = cmd_ws_failed("features", ws, rc);
    store_close(st);
    return status;
}
