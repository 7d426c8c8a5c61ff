/* cmd_ws.c - placeholder: not implemented yet (replaced by its workstream). */
#include "tui/cmd.h"
#include <stdio.h>
int cmd_init(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh init: not implemented yet\n"); return 1; }
int cmd_stats(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh stats: not implemented yet\n"); return 1; }
int cmd_check(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh check: not implemented yet\n"); return 1; }
int cmd_backup(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "zoosh backup: not implemented yet\n"); return 1; }
