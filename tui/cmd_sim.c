/* cmd_sim.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_sim(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh sim: not implemented yet\n"); return 1; }
int cmd_demo(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh demo: not implemented yet\n"); return 1; }
