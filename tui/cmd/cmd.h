/*
 * cmd.h - the zoosh subcommands.  Each takes (argc, argv) with argv[0] the
 * subcommand name and returns the process exit status:
 *   0 success, 1 bad input or failed operation (message on stderr naming the
 *   file / line / field), 2 usage error, 3 workspace problem (missing,
 *   foreign, newer, corrupt, read-only).
 */
#ifndef ZOOSH_TUI_CMD_H
#define ZOOSH_TUI_CMD_H

#include <stddef.h>
#include <stdio.h>

#define EXIT_USAGE 2
#define EXIT_WORKSPACE 3

typedef int (*cmd_fn)(int argc, char **argv);

int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_rank(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_eval(int argc, char **argv);

typedef struct zs_store zs_store;
/* Opens workspace WS for subcommand CMD (store_open flags).  0 on success
 * (with a note on stderr when it reads without LMDB's lock), else the reason
 * on stderr -- missing, not a directory, foreign, damaged, newer, or (opened
 * for writing) read-only for this user -- and the
 * exit status to return (EXIT_WORKSPACE for a workspace problem). */
int cmd_open_ws(const char *cmd, const char *ws, unsigned flags, zs_store **st);
/* The message and exit status for store error RC on WS (as cmd_open_ws). */
int cmd_ws_failed(const char *cmd, const char *ws, int rc);

/* getopt_long (optstring starting with ':') returned C, '?' or ':', for the
 * option at argv[optind_now - 1]: says "unknown option" or "needs a value";
 * returns EXIT_USAGE. */
int cmd_bad_option(const char *cmd, int c, char **argv, int optind_now);

/* getopt_long(argc, argv, shorts, lo, NULL), the one way every command reads
 * its options.  `zoosh CMD --list-options` (hidden; tools/mkcompletion.sh)
 * prints the table instead, one option a line, "--name=" (or "-k=") for one
 * that takes a value, and exits 0: completion comes from the same tables. */
#define CMD_LIST_OPTIONS "--list-options"
struct option;
int cmd_getopt(int argc, char **argv, const char *shorts, const struct option *lo);

/* "--NAME" of the option getopt_long returned as C from table LO (else
 * "-C"), in buf: value errors name the option however it was spelt. */
const char *cmd_opt_name(const struct option *lo, int c, char *buf, size_t cap);

/* True when argv holds -h or --help (then print the command's usage to stdout, exit 0). */
int cmd_wants_help(int argc, char **argv);

/* Catalog text (ids, metadata) made safe for stdout: when stdout is a
 * terminal, control characters, escapes and invalid UTF-8 become '?' (see
 * tui_text_sanitize); into a pipe or file the text passes unchanged, so
 * exports and scripts see the exact ids.  Returns buf or s. */
const char *cmd_safe_text(const char *s, char *buf, size_t cap);
/* The stream a data export writes to stdout through: stdout itself into a
 * pipe or file (exact bytes), and on a terminal a filter that passes each
 * tab-separated field of each line through tui_text_sanitize, so a user
 * or task name in a record cannot drive the terminal.  Close it with
 * cmd_data_close (which leaves stdout open). */
FILE *cmd_data_out(void);
void cmd_data_close(FILE *f);

/* S as a JSON string, quotes included: '"', '\\' and every control
 * character (C0, DEL, C1, U+2028/9, bidi overrides) escaped, invalid UTF-8 as U+FFFD, so the
 * output is valid JSON and safe on a terminal. */
void cmd_json_string(FILE *f, const char *s);

/* The sample_data folder shipped next to the binary or one folder above it
 * (build-address/zoosh), else PREFIX/share/zoosh for an installed
 * PREFIX/bin/zoosh (make install), else "sample_data". */
void cmd_sample_dir(char *buf, size_t len);
/* zoosh's default encoder: $ZOOSH_ENCODER when set ("none": no encoder),
 * else encoder.safetensors in cmd_sample_dir when readable.  1 with its path in
 * buf, 0 when there is none. */
int cmd_default_encoder(char *buf, size_t len);

#endif
