/*
 * cmd_pretrain.c - `zoosh pretrain CATALOG[:KIND]... --out FILE.safetensors`:
 * train zoosh's own ConvNeXt encoder on one or more catalogs (Galaxy Zoo 2 /
 * Galaxy Zoo 1 vote fractions, 0/1 tags, or images alone) and a
 * self-supervised loss (core/pretrain.h).  The file it writes is read by
 * `zoosh embed --weights FILE --size N` (N = the training --size).
 */
#include "tui/cmd/cmd.h"
#include "tui/text.h"
#include "core/pretrain.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    core_pt_opts d;
    core_pt_opts_default(&d);
    fprintf(f,
        "usage: zoosh pretrain [options] CATALOG[:KIND]... --out FILE.safetensors\n"
        "\n"
        "Trains a ConvNeXt encoder (forward and backward in C) on the galaxies of one or\n"
        "more catalogs at once (column `file`: the image, relative to the catalog), each\n"
        "with its own head and loss; a galaxy counts only in its own catalog's loss.\n"
        "KIND (from the columns when not given):\n"
        "  gz2   ClassQ.A cumulative vote fractions (Kaggle GZ2): per-question\n"
        "        cross-entropy weighted by the fraction who reached the question\n"
        "  gz1   p_el, p_cw, p_acw, p_edge, p_dk, p_mg (Galaxy Zoo 1): one question\n"
        "  tags  every column but id, file, ra, dec that is 0 or 1 on the first row:\n"
        "        binary cross-entropy\n"
        "  none  images only (for --ssl)\n"
        "The first gz2 catalog (else gz1) is the file's head.fc, whose predicted votes\n"
        "zoosh embed stores as set `votes`; other heads are not saved.  Augmentation:\n"
        "rotations, flips, zooms (--zoom), seeing and resolution (--survey), colour and\n"
        "noise (--jitter).  The file is rewritten after every epoch; use it with:\n"
        "zoosh embed WS --weights FILE\n"
        "\n"
        "  --out FILE        where to write the encoder (timm's names; required)\n"
        "  --catalog F[:K]   another catalog (the same as a CATALOG argument)\n"
        "  --ssl W           add SimCLR's NT-Xent loss, weight W: two views of every\n"
        "                    galaxy (labelled or not) embed close, the others apart\n"
        "                    (default 0 = off, one view)\n"
        "  --ssl-tau T       its temperature (default %.2g)\n"
        "  --survey A        seeing and resolution augmentation: PSF blur or sharpening,\n"
        "                    down- and up-sampling, A = strength (default 0 = none)\n"
        "  --epochs N        passes over the catalog (default %d)\n"
        "  --size PX         training resolution (default %d)\n"
        "  --crop F          centre crop of each image, fraction of its side (default %.2g)\n"
        "  --zoom LO,HI      random zoom range of the views (default %.2g,%.2g; > 1 closer,\n"
        "                    at least 0.67)\n"
        "  --jitter A        survey augmentation: random colour gain and saturation,\n"
        "                    brightness, gamma and pixel noise, A = strength (default %.2g\n"
        "                    = none; 1 = gains of ~10%%, saturation 0.5-1.5, gamma 0.8-1.3)\n"
        "  --batch B         images per step (default %d)\n"
        "  --lr X            peak AdamW learning rate (default %g; weight decay %g)\n"
        "  --depths a,b,c,d  blocks per stage (default %d,%d,%d,%d)\n"
        "  --dims a,b,c,d    widths per stage (default %d,%d,%d,%d)\n"
        "  --limit N         use only the first N galaxies\n"
        "  --exclude FILE    catalog ids (one a line) never to train on: a validation\n"
        "                    set kept unseen; repeat for several (up to %d)\n"
        "  --seed S          random seed (default 1)\n"
        "  --threads N       training / decoding threads (default 2)\n"
        "  --quiet           no progress lines\n",
        d.ssl_tau, d.epochs, d.size, d.crop, d.zoom_lo, d.zoom_hi, d.jitter, d.batch, d.lr, d.wd, d.arch.depths[0], d.arch.depths[1], d.arch.depths[2],
        d.arch.depths[3], d.arch.dims[0], d.arch.dims[1], d.arch.dims[2], d.arch.dims[3],
        CORE_PT_MAX_EXCLUDE);
}

/* "FILE[:KIND]": KIND only when the text after the last ':' names one. */
static int add_catalog(core_pt_catalog *cats, int *n, char *arg)
{
    if (*n >= CORE_PT_MAX_CATALOGS) return -1;
    core_pt_kind k = CORE_PT_AUTO;
    char *colon = strrchr(arg, ':');
    if (colon && !core_pt_kind_parse(colon + 1, &k)) *colon = 0;
    if (!*arg) return -1;
    cats[(*n)++] = (core_pt_catalog){arg, k};
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_four(const char *s, int lo, int hi, int out[4])
{
    int v[4], k = 0;
    char *end;
    const char *p = s;
    while (k < 4) {
        long x = strtol(p, &end, 10);
        if (end == p || x < lo || x > hi) return -1;
        v[k++] = (int)x;
        if (*end == ',') p = end + 1;
        else break;
    }
    if (k != 4 || *end) return -1;
    memcpy(out, v, sizeof v);
    return 0;
}

int cmd_pretrain(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) { usage(stdout); return 0; }
    core_pt_opts o;
    core_pt_opts_default(&o);
    const char *out = NULL;
    static const struct option lo[] = {
        {"out", required_argument, 0, 'o'}, {"epochs", required_argument, 0, 'e'},
        {"size", required_argument, 0, 'z'}, {"crop", required_argument, 0, 'c'},
        {"batch", required_argument, 0, 'b'}, {"lr", required_argument, 0, 'l'},
        {"depths", required_argument, 0, 'D'}, {"dims", required_argument, 0, 'W'},
        {"limit", required_argument, 0, 'n'}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"exclude", required_argument, 0, 'x'}, {"zoom", required_argument, 0, 'Z'},
        {"jitter", required_argument, 0, 'j'}, {"catalog", required_argument, 0, 'C'},
        {"ssl", required_argument, 0, 'S'}, {"ssl-tau", required_argument, 0, 'T'},
        {"survey", required_argument, 0, 'V'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, seed = 1, n_cats = 0, n_ex = 0;
    core_pt_catalog cats[CORE_PT_MAX_CATALOGS];
    while ((c = cmd_getopt(argc, argv, ":o:e:z:c:b:l:D:W:n:s:t:qx:Z:j:C:S:T:V:", lo)) != -1) {
        char *end = NULL;
        int bad = 0;
        switch (c) {
        case 'o': out = optarg; break;
        case 'e': bad = parse_int(optarg, 1, 10000, &o.epochs); break;
        case 'z': bad = parse_int(optarg, 32, 512, &o.size); break;
        case 'b': bad = parse_int(optarg, 1, 4096, &o.batch); break;
        case 'n': bad = parse_int(optarg, 1, 100000000, &o.limit); break;
        case 's': bad = parse_int(optarg, 0, 2000000000, &seed); o.seed = (uint64_t)seed; break;
        case 't': bad = parse_int(optarg, 1, 64, &o.threads); break;
        case 'D': bad = parse_four(optarg, 1, 64, o.arch.depths); break;
        case 'W': bad = parse_four(optarg, 1, 2048, o.arch.dims); break;
        case 'q': o.quiet = 1; break;
        case 'x':
            bad = n_ex >= CORE_PT_MAX_EXCLUDE;
            if (!bad) o.exclude[n_ex++] = optarg;
            break;
        case 'C': bad = add_catalog(cats, &n_cats, optarg); break;
        case 'S':
            o.ssl = strtof(optarg, &end);
            bad = !*optarg || *end || !(o.ssl >= 0 && o.ssl <= 100);
            break;
        case 'T':
            o.ssl_tau = strtof(optarg, &end);
            bad = !*optarg || *end || !(o.ssl_tau >= 0.01f && o.ssl_tau <= 10);
            break;
        case 'V':
            o.survey = strtof(optarg, &end);
            bad = !*optarg || *end || !(o.survey >= 0 && o.survey <= 2);
            break;
        case 'c':
            o.crop = strtof(optarg, &end);
            bad = !*optarg || *end || !(o.crop > 0.05f && o.crop <= 1.0f);
            break;
        case 'Z': {
            char *mid = NULL;
            o.zoom_lo = strtof(optarg, &mid);
            bad = mid == optarg || *mid != ',';
            if (!bad) {
                o.zoom_hi = strtof(mid + 1, &end);
                bad = end == mid + 1 || *end || !(o.zoom_lo >= 0.67f && o.zoom_lo <= o.zoom_hi && o.zoom_hi <= 3.0f);
            }
            break;
        }
        case 'j':
            o.jitter = strtof(optarg, &end);
            bad = !*optarg || *end || !(o.jitter >= 0 && o.jitter <= 2);
            break;
        case 'l':
            o.lr = strtof(optarg, &end);
            bad = !*optarg || *end || !(o.lr > 0 && o.lr < 1);
            break;
        default:
            return cmd_bad_option("pretrain", c, argv, optind);
        }
        if (bad) {
            fprintf(stderr, "zoosh pretrain: bad value '%s' for %s (zoosh pretrain --help)\n", optarg, argv[optind - 2]);
            return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++)
        if (add_catalog(cats, &n_cats, argv[i])) {
            fprintf(stderr, "zoosh pretrain: at most %d catalogs (zoosh pretrain --help)\n", CORE_PT_MAX_CATALOGS);
            return EXIT_USAGE;
        }
    if (n_cats == 0 || !out) {
        usage(stderr);
        return EXIT_USAGE;
    }
    snprintf(o.arch.name, sizeof o.arch.name, "zoosh_pretrained");
    char err[1024] = "";
    if (core_pt_run(cats, n_cats, out, &o, o.quiet ? NULL : stderr, err, sizeof err)) {
        fprintf(stderr, "zoosh pretrain: %s\n", tui_text_safe(err));
        return 1;
    }
    return 0;
}
