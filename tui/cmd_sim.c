/*
 * cmd_sim.c - `zoosh sim` (simulated cutouts + catalog.csv, see core/sim.h)
 * and `zoosh demo` (the demo workspace from simulated galaxies, then the
 * labeler on the ring task).
 */
#include "tui/cmd.h"
#include "core/sim.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char sim_usage[] =
    "usage: zoosh sim OUT_DIR -n N [--seed S] [--size PX] [--mix CLASS=F,...] [--threads T] [--quiet]\n"
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
    "  --quiet      no progress or summary\n";

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static void sim_progress(int done, int total, void *ctx)
{
    (void)ctx;
    if (isatty(2)) fprintf(stderr, "\rzoosh sim: %d/%d", done, total);
    if (done == total && isatty(2)) fputc('\n', stderr);
}

int cmd_sim(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { fputs(sim_usage, stdout); return 0; }
    const char *out = NULL, *mix = NULL;
    long n = -1, seed = 1, side = CORE_SIM_SIDE, threads = 0;
    int quiet = 0, flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-n") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--size") == 0 ||
            strcmp(a, "--mix") == 0 || strcmp(a, "--threads") == 0) {
            if (!v) { fprintf(stderr, "zoosh sim: %s needs a value\n%s", a, sim_usage); return EXIT_USAGE; }
            i++;
            int bad = 0;
            if (strcmp(a, "-n") == 0) bad = parse_long(v, 0, 10000000, &n);
            else if (strcmp(a, "--seed") == 0) bad = parse_long(v, 0, 0x7fffffffffffffffL, &seed);
            else if (strcmp(a, "--size") == 0) bad = parse_long(v, 16, 4096, &side);
            else if (strcmp(a, "--threads") == 0) bad = parse_long(v, 0, 64, &threads);
            else mix = v;
            if (bad) { fprintf(stderr, "zoosh sim: bad value for %s: '%s'\n%s", a, v, sim_usage); return EXIT_USAGE; }
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--no-images") == 0) {
            flags |= CORE_SIM_NO_IMAGES;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "zoosh sim: unknown option '%s'\n%s", a, sim_usage);
            return EXIT_USAGE;
        } else if (!out) {
            out = a;
        } else {
            fprintf(stderr, "zoosh sim: one OUT_DIR only ('%s' and '%s')\n%s", out, a, sim_usage);
            return EXIT_USAGE;
        }
    }
    if (!out || n < 0) { fprintf(stderr, "zoosh sim: OUT_DIR and -n N are required\n%s", sim_usage); return EXIT_USAGE; }
    double frac[CORE_SIM_N_CLASSES];
    char err[512];
    core_sim_mix_default(frac);
    if (mix && core_sim_mix_parse(mix, frac, err, sizeof err)) {
        fprintf(stderr, "zoosh sim: %s\n", err);
        return EXIT_USAGE;
    }
    double t0 = core_mono_s();
    if (core_sim_write(out, (int)n, (uint64_t)seed, (int)side, frac, (int)threads, flags,
                       quiet ? NULL : sim_progress, NULL, err, sizeof err)) {
        fprintf(stderr, "zoosh sim: %s\n", err);
        return 1;
    }
    double dt = core_mono_s() - t0;
    if (!quiet)
        printf("zoosh sim: %ld galaxies %ldx%ld in %s/ (%.1f s, %.0f/s), catalog %s/catalog.csv\n",
               n, side, side, out, dt, dt > 0 ? n / dt : 0.0, out);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "zoosh demo: not implemented yet\n");
    return 1;
}
