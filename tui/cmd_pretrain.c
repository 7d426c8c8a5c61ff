/* cmd_pretrain.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_pretrain(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh pretrain: not implemented yet\n"); return 1; }
