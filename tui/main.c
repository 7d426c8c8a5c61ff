/*
 * main.c - the zoosh binary: one program, many subcommands.
 *
 *   zoosh COMMAND [ARGS...]      zoosh COMMAND --help      zoosh --help
 *
 * Exit codes (all commands): 0 ok, 1 bad input / operation failed,
 * 2 usage, 3 workspace problem.  Errors go to stderr.
 */
#include "tui/cmd/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ZOOSH_VERSION "0.1.0"

static const struct {
    const char *name;
    cmd_fn fn;
    const char *summary;
} commands[] = {
    {"init",     cmd_init,     "create a workspace"},
    {"import",   cmd_import,   "import a catalog of cutouts (and features)"},
    {"export",   cmd_export,   "export votes, labels, answers, features, predictions"},
    {"stats",    cmd_stats,    "counts per task and per user, progress"},
    {"check",    cmd_check,    "verify the workspace's integrity"},
    {"backup",   cmd_backup,   "consistent compacted copy while others label"},
    {"label",    cmd_label,    "label galaxies in the terminal"},
    {"sim",      cmd_sim,      "simulate survey galaxy cutouts with known morphology"},
    {"demo",     cmd_demo,     "build the demo workspace and start labeling"},
    {"embed",    cmd_embed,    "compute representations (morphology / ConvNeXt)"},
    {"pretrain", cmd_pretrain, "train an encoder on a catalog with vote fractions"},
    {"features", cmd_features, "list the feature sets; choose the one commands use"},
    {"similar",  cmd_similar,  "galaxies nearest to one in representation space"},
    {"train",    cmd_train,    "train the head for a task and re-rank its queue"},
    {"rank",     cmd_rank,     "print a task's queue in some order"},
    {"simulate", cmd_simulate, "replay a labeling session with a catalog column as oracle"},
    {"eval",     cmd_eval,     "cross-validated metrics of a task's head"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "zoosh %s - label galaxy images in the terminal, with active learning\n\n"
               "usage: zoosh COMMAND [ARGS...]   (zoosh COMMAND --help for each)\n\n",
            ZOOSH_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit status: 0 ok, 1 bad input or failure, 2 usage, 3 workspace problem\n");
}

/* Output lost on the way to stdout (a full disk, /dev/full) is a failure,
 * as in coreutils' close_stdout: a command never reports success for a
 * result the user did not get. */
static int close_stdout(const char *cmd, int status)
{
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = errno;
    bad |= ferror(stdout);
    if (fclose(stdout) != 0 && !bad) { bad = 1; e = errno; }
    if (!bad || status) return status;      /* a failed command has said why already */
    fprintf(stderr, "zoosh %s: writing to standard output failed%s%s\n", cmd, e ? ": " : "", e ? strerror(e) : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return EXIT_USAGE; }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return close_stdout("help", 0);
    }
    if (strcmp(argv[1], "--version") == 0) { printf("zoosh %s\n", ZOOSH_VERSION); return close_stdout("--version", 0); }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return close_stdout(argv[1], commands[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "zoosh: unknown command '%s' (zoosh --help lists them)\n", argv[1]);
    return EXIT_USAGE;
}
