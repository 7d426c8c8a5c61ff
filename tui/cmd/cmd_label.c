/*
 * cmd_label.c - `zoosh label WS`: the command line of the labeling screen
 * (the screen itself is tui/label/).
 */
#include "tui/cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/config.h"
#include "tui/gfx/gfx.h"
#include "tui/label/label.h"
#include "core/acquire.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh label WS [--task gz-decals|gz2|ring|interest|FILE]\n"
        "                      [--graphics sixel|kitty|iterm2|symbols|none|auto]\n"
        "                      [--retire N] [--keys FILE] [--order ORDER] [--retrain N] [--retrain-secs S]\n"
        "                      [--image-px N] [--features SET] [--blind | --no-blind] [--grid]\n"
        "                      [--clusters] [--guide DIR] [--no-finetune | --finetune]\n"
        "\n"
        "Label the galaxies of workspace WS in the terminal, one at a time, with the image shown as\n"
        "sixel, kitty or iTerm2 graphics where the terminal has them (else coloured half-block cells).\n"
        "\n"
        "  --task T         the task: a workspace task or built-in schema name, or a schema file\n"
        "                   (default: the workspace's first task)\n"
        "  --graphics G     sixel, kitty, iterm2, symbols, none or auto (symbols: coloured half blocks)\n"
        "                   (default auto: ask the terminal; blocks is another name for symbols)\n"
        "  --retire N       a galaxy leaves everyone's queue after N answers in total (default 5)\n"
        "  --keys FILE      key remapping, lines like \"undo u\" (see ? in the labeler)\n"
        "  --order O        catalog, uncertain, likely, interest, anomaly, random, mixed\n"
        "                   (default: the stored queue, else catalog order)\n"
        "  --retrain N      retrain in the background after every N answers (default 10, 0 = never)\n"
        "  --retrain-secs S ... or after S seconds with new answers (default 300)\n"
        "  --image-px N     draw the image at most N pixels wide (default: fill the pane up\n"
        "                   to 512; 256 = the stored thumbnail 1:1, a quarter of the bytes\n"
        "                   to send over a slow link)\n"
        "  --features SET   the feature set of the background retrains and the s grid\n"
        "                   (default: the workspace's, zoosh features WS)\n"
        "  --blind          hide the model's probabilities until each answer is given (the\n"
        "                   default for trees of several questions; p shows / hides them)\n"
        "  --no-blind       show them beside the answers (the default for one-question tasks)\n"
        "  --grid           start on a page of the queue: label many at once (one-question\n"
        "                   tasks such as ring; g opens it from the labeler, see below)\n"
        "  --clusters       start on cluster pages (triage): the galaxies you have not labelled,\n"
        "                   grouped by k-means on their representation (zoosh embed first); a\n"
        "                   page per cluster, the largest and the most unusual (its centre\n"
        "                   farthest from the others) in turn; t opens them from the labeler\n"
        "  --guide DIR      the field guide (key e): the Galaxy Zoo tutorial folder\n"
        "                   (gz_tutorial, for gz-decals, gz2, ring) or DIR/<question>/<answer>/\n"
        "                   with example images (default: $ZOOSH_GUIDE)\n"
        "  --no-finetune    do not re-fine-tune the task's encoder in the background (by\n"
        "                   default a task set up with zoosh train --finetune from zoosh's\n"
        "                   own encoder is fine-tuned again before every 5th retrain, on\n"
        "                   one thread; config \"finetune = off\" is the same)\n"
        "\n"
        "Keys: digits answer (0-5 rate for interest), Backspace/u undo, Space skip, f star,\n"
        "s similar, g queue, t clusters, / jump, o order, i invert, c stretch, +/- zoom,\n"
        "arrows/hjkl pan, [ ] black point, { } white point (b: of one band), r whole image,\n"
        "v larger view, p probabilities, e field guide, n note, ? help, q quit.  Every answer\n"
        "is saved before the next galaxy is shown.\n"
        "Grids (g the queue, s similar galaxies, t clusters): each tile shows its id and its\n"
        "score (the model's probability of the feature) or distance (to the galaxy, or to the\n"
        "cluster's centre).  On a one-question task Space marks the tile under the cursor as\n"
        "showing the feature (ring: yes), w saves the whole page\n"
        "(one answer per tile: yes for marked, no for the others) and shows the next page;\n"
        "u retracts the last page and brings it back marked; Enter opens one tile; on a\n"
        "cluster page t leaves this cluster for later and shows the next.\n"
        "Environment: NO_COLOR (no colours), ZOOSH_LOG=FILE (a log; nothing goes to stderr\n"
        "while the screen is up).\n"
        "Files: $XDG_CONFIG_HOME/zoosh/config (else ~/.config/zoosh/config): defaults, lines\n"
        "\"graphics = blocks\", \"order = uncertain\", \"retire = 3\", \"finetune = off\" ('#' comments); options\n"
        "override them.  $XDG_CONFIG_HOME/zoosh/keys: the key remapping when no --keys.\n"
        "A bad line (named file:line), or a file or folder that is a symlink, another\n"
        "user's or writable by others, is refused: exit 1, nothing started.\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int cmd_label(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { usage(stdout); return 0; }
    tui_label_opts o;
    memset(&o, 0, sizeof o);
    o.retrain_every = -1;
    int no_ft = 0;   /* background fine-tuning: on unless --no-finetune or "finetune = off" */
    /* the user's defaults first ($XDG_CONFIG_HOME/zoosh/config); options override them */
    char cpath[4200], kpath[4200], err[4400];
    tui_config conf;
    int have = tui_config_path("config", cpath, sizeof cpath, err, sizeof err);
    if (have > 0 && tui_config_read(cpath, &conf, err, sizeof err) != 0) have = -1;
    if (have < 0) { fprintf(stderr, "zoosh label: %s\n", err); return 1; }
    if (have > 0) {
        if (conf.has_graphics) o.graphics = conf.graphics;
        if (conf.order[0]) o.order = conf.order;
        if (conf.retire) o.retire = conf.retire;
        if (conf.finetune < 0) no_ft = 1;
    }
    static const struct option lo[] = {
        {"task", required_argument, 0, 't'}, {"graphics", required_argument, 0, 'g'},
        {"retire", required_argument, 0, 'r'}, {"keys", required_argument, 0, 'k'},
        {"order", required_argument, 0, 'o'}, {"retrain", required_argument, 0, 'R'},
        {"retrain-secs", required_argument, 0, 'S'}, {"image-px", required_argument, 0, 'p'},
        {"features", required_argument, 0, 'F'}, {"blind", no_argument, 0, 'B'},
        {"no-blind", no_argument, 0, 'N'}, {"grid", no_argument, 0, 'G'}, {"guide", required_argument, 0, 'D'},
        {"clusters", no_argument, 0, 'C'},
        {"no-finetune", no_argument, 0, 'U'}, {"finetune", no_argument, 0, 'u'},
        {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cmd_getopt(argc, argv, ":", lo)) != -1) {
        const char *v = optarg;
        switch (c) {
        case 't': o.task = v; break;
        case 'g':
            if (tui_gfx_parse(v, &o.graphics) != 0) {
                fprintf(stderr, "zoosh label: --graphics: '%s' is not %s\n", v, tui_gfx_names());
                return EXIT_USAGE;
            }
            break;
        case 'r':
            if (parse_int(v, 1, 1000000, &o.retire)) { fprintf(stderr, "zoosh label: --retire: '%s' is not a count >= 1\n", v); return EXIT_USAGE; }
            break;
        case 'k': o.keys_file = v; break;
        case 'F': o.features = v; break;
        case 'D': o.guide = v; break;
        case 'o': {
            core_order ord;
            if (core_order_parse(v, &ord) != 0) { fprintf(stderr, "zoosh label: --order: '%s' is not one of %s\n", v, core_order_names()); return EXIT_USAGE; }
            o.order = v;
            break;
        }
        case 'R':
            if (parse_int(v, 0, 1000000, &o.retrain_every)) { fprintf(stderr, "zoosh label: --retrain: '%s' is not a count\n", v); return EXIT_USAGE; }
            break;
        case 'S':
            if (parse_int(v, 1, 86400 * 365, &o.retrain_secs)) { fprintf(stderr, "zoosh label: --retrain-secs: '%s' is not seconds >= 1\n", v); return EXIT_USAGE; }
            break;
        case 'p':
            if (parse_int(v, 16, 4096, &o.image_px)) { fprintf(stderr, "zoosh label: --image-px: '%s' is not 16..4096 pixels\n", v); return EXIT_USAGE; }
            break;
        case 'B': o.blind = 1; break;
        case 'N': o.blind = -1; break;
        case 'G': o.grid = 1; break;
        case 'C': o.clusters = 1; break;
        case 'U': no_ft = 1; break;
        case 'u': no_ft = 0; break;
        default:
            return cmd_bad_option("label", c, argv, optind);
        }
    }
    if (optind < argc) o.ws = argv[optind];
    if (optind + 1 < argc) {
        fprintf(stderr, "zoosh label: one workspace only ('%s' is extra)\n", argv[optind + 1]);
        return EXIT_USAGE;
    }
    if (!o.ws) { usage(stderr); return EXIT_USAGE; }
    char base[4096];
    if (!no_ft && cmd_default_encoder(base, sizeof base)) o.finetune_base = base;
    if (!o.keys_file) {   /* $XDG_CONFIG_HOME/zoosh/keys when no --keys */
        int k = tui_config_path("keys", kpath, sizeof kpath, err, sizeof err);
        if (k < 0) { fprintf(stderr, "zoosh label: %s\n", err); return 1; }
        if (k > 0) o.keys_file = kpath;
    }
    return tui_label_run(&o);
}
