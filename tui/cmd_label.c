/* cmd_label.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_label(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh label: not implemented yet\n"); return 1; }
