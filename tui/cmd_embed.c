/* cmd_embed.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_embed(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh embed: not implemented yet\n"); return 1; }
int cmd_similar(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh similar: not implemented yet\n"); return 1; }
