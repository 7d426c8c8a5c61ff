/* cmd_learn.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_train(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh train: not implemented yet\n"); return 1; }
int cmd_rank(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh rank: not implemented yet\n"); return 1; }
int cmd_simulate(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh simulate: not implemented yet\n"); return 1; }
int cmd_eval(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh eval: not implemented yet\n"); return 1; }
