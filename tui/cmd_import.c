/* cmd_import.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_import(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh import: not implemented yet\n"); return 1; }
int cmd_export(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh export: not implemented yet\n"); return 1; }
