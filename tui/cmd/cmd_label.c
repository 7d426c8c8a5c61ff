/*
 * cmd_label.c - `zoosh label WS`: the command line of the labeling screen
 * (the screen itself is tui/label/).
 */
#include "tui/cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/gfx/gfx.h"
#include "tui/label/label.h"
#include "core/acquire.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: zoosh label WS [--task gz-decals|gz2|ring|interest|FILE] [--graphics G]\n"
        "                      [--retire N] [--keys FILE] [--order ORDER] [--retrain N] [--retrain-secs S]\n"
        "                      [--image-px N]\n"
        "\n"
        "Label the galaxies of workspace WS in the terminal, one at a time, with the image shown as\n"
        "sixel, kitty or iTerm2 graphics where the terminal has them (else coloured half-block cells).\n"
        "\n"
        "  --task T         the task: a workspace task or built-in schema name, or a schema file\n"
        "                   (default: the workspace's first task)\n"
        "  --graphics G     sixel, kitty, iterm2, symbols (coloured half blocks), none or auto\n"
        "                   (default auto: ask the terminal)\n"
        "  --retire N       a galaxy leaves everyone's queue after N answers in total (default 5)\n"
        "  --keys FILE      key remapping, lines like \"undo u\" (see ? in the labeler)\n"
        "  --order O        catalog, uncertain, likely, interest, anomaly, random, mixed\n"
        "                   (default: the stored queue, else catalog order)\n"
        "  --retrain N      retrain in the background after every N answers (default 10, 0 = never)\n"
        "  --retrain-secs S ... or after S seconds with new answers (default 300)\n"
        "  --image-px N     draw the image at most N pixels wide (default: fill the pane up\n"
        "                   to 512; 256 = the stored thumbnail 1:1, a quarter of the bytes\n"
        "                   to send over a slow link)\n"
        "\n"
        "Keys: digits answer (0-5 rate for interest), Backspace/u undo, Space skip, f star,\n"
        "s similar, g queue, / jump, o order, i invert, c stretch, +/- zoom, v larger view,\n"
        "? help, q quit.  Every answer is saved before the next galaxy is shown.\n"
        "Environment: NO_COLOR (no colours), ZOOSH_LOG=FILE (a log; nothing goes to stderr\n"
        "while the screen is up).\n");
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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--task") == 0 || strcmp(a, "--graphics") == 0 || strcmp(a, "--retire") == 0 ||
                    strcmp(a, "--keys") == 0 || strcmp(a, "--order") == 0 || strcmp(a, "--retrain") == 0 ||
                    strcmp(a, "--retrain-secs") == 0 || strcmp(a, "--image-px") == 0;
        if (takes && !v) {
            fprintf(stderr, "zoosh label: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        if (strcmp(a, "--task") == 0) { o.task = v; i++; }
        else if (strcmp(a, "--graphics") == 0) {
            if (tui_gfx_parse(v, &o.graphics) != 0) {
                fprintf(stderr, "zoosh label: --graphics: '%s' is not %s\n", v, tui_gfx_names());
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(a, "--retire") == 0) {
            if (parse_int(v, 1, 1000000, &o.retire)) { fprintf(stderr, "zoosh label: --retire: '%s' is not a count >= 1\n", v); return EXIT_USAGE; }
            i++;
        } else if (strcmp(a, "--keys") == 0) { o.keys_file = v; i++; }
        else if (strcmp(a, "--order") == 0) {
            core_order ord;
            if (core_order_parse(v, &ord) != 0) { fprintf(stderr, "zoosh label: --order: '%s' is not one of %s\n", v, core_order_names()); return EXIT_USAGE; }
            o.order = v;
            i++;
        } else if (strcmp(a, "--retrain") == 0) {
            if (parse_int(v, 0, 1000000, &o.retrain_every)) { fprintf(stderr, "zoosh label: --retrain: '%s' is not a count\n", v); return EXIT_USAGE; }
            i++;
        } else if (strcmp(a, "--retrain-secs") == 0) {
            if (parse_int(v, 1, 86400 * 365, &o.retrain_secs)) { fprintf(stderr, "zoosh label: --retrain-secs: '%s' is not seconds >= 1\n", v); return EXIT_USAGE; }
            i++;
        } else if (strcmp(a, "--image-px") == 0) {
            if (parse_int(v, 16, 4096, &o.image_px)) { fprintf(stderr, "zoosh label: --image-px: '%s' is not 16..4096 pixels\n", v); return EXIT_USAGE; }
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "zoosh label: unknown option '%s' (zoosh label --help)\n", a);
            return EXIT_USAGE;
        } else if (!o.ws) {
            o.ws = a;
        } else {
            fprintf(stderr, "zoosh label: one workspace only ('%s' is extra)\n", a);
            return EXIT_USAGE;
        }
    }
    if (!o.ws) { usage(stderr); return EXIT_USAGE; }
    return tui_label_run(&o);
}
