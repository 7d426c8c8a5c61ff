/*
 * t_keys.c - the labeler's key table, without a terminal: defaults, lookups,
 * remapping files and the errors a bad remap line gets.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tests/zt.h"
#include "tui/label/keys.h"

static void defaults_answer_undo_skip_quit(void)
{
    tui_keys k;
    tui_keys_init(&k);
    ZT_CHECK(tui_keys_lookup(&k, '1') == TUI_ACT_ANSWER_1, "1");
    ZT_CHECK(tui_keys_lookup(&k, '9') == TUI_ACT_ANSWER_9, "9");
    ZT_CHECK(tui_keys_lookup(&k, '0') == TUI_ACT_ANSWER_0, "0");
    ZT_CHECK(tui_keys_lookup(&k, KEY_BACKSPACE) == TUI_ACT_UNDO, "backspace");
    ZT_CHECK(tui_keys_lookup(&k, 127) == TUI_ACT_UNDO, "DEL as sent by most terminals");
    ZT_CHECK(tui_keys_lookup(&k, 'u') == TUI_ACT_UNDO, "u");
    ZT_CHECK(tui_keys_lookup(&k, ' ') == TUI_ACT_SKIP, "space");
    ZT_CHECK(tui_keys_lookup(&k, 'f') == TUI_ACT_FAVOURITE, "f");
    ZT_CHECK(tui_keys_lookup(&k, 's') == TUI_ACT_SIMILAR, "s");
    ZT_CHECK(tui_keys_lookup(&k, 'g') == TUI_ACT_GRID, "g");
    ZT_CHECK(tui_keys_lookup(&k, '/') == TUI_ACT_JUMP, "/");
    ZT_CHECK(tui_keys_lookup(&k, 'o') == TUI_ACT_ORDER, "o");
    ZT_CHECK(tui_keys_lookup(&k, '?') == TUI_ACT_HELP, "?");
    ZT_CHECK(tui_keys_lookup(&k, 'q') == TUI_ACT_QUIT, "q");
    ZT_CHECK(tui_keys_lookup(&k, 'i') == TUI_ACT_INVERT, "i");
    ZT_CHECK(tui_keys_lookup(&k, 'c') == TUI_ACT_STRETCH, "c");
    ZT_CHECK(tui_keys_lookup(&k, '+') == TUI_ACT_ZOOM_IN, "+");
    ZT_CHECK(tui_keys_lookup(&k, '-') == TUI_ACT_ZOOM_OUT, "-");
    ZT_CHECK(tui_keys_lookup(&k, 'v') == TUI_ACT_VIEW && tui_keys_lookup(&k, 'z') == TUI_ACT_VIEW, "v z");
    ZT_CHECK(tui_keys_lookup(&k, KEY_UP) == TUI_ACT_UP && tui_keys_lookup(&k, '\n') == TUI_ACT_SELECT, "arrows, enter");
    ZT_CHECK(tui_keys_lookup(&k, 'w') == TUI_ACT_COMMIT, "w saves a grid's page");
    ZT_CHECK(tui_keys_lookup(&k, 'x') == TUI_ACT_NONE, "x is unbound");
}

static void every_action_has_a_key_and_a_name(void)
{
    tui_keys k;
    tui_keys_init(&k);
    for (int a = 1; a < TUI_ACT__COUNT; a++) {
        char buf[128];
        const char *name = tui_keys_action_name((tui_action)a);
        ZT_CHECK(name != NULL, "action %d has no name", a);
        ZT_CHECK(tui_keys_action_by_name(name) == (tui_action)a, "%s does not round-trip", name);
        ZT_CHECK(tui_keys_action_help((tui_action)a) != NULL, "%s has no help line", name);
        tui_keys_keys_of(&k, (tui_action)a, buf, sizeof buf);
        ZT_CHECK(buf[0] != 0, "%s has no default key", name);
    }
}

static void key_names_round_trip(void)
{
    const char *names[] = {"space", "enter", "backspace", "tab", "esc", "up", "down", "left", "right",
                           "pgup", "pgdn", "home", "end", "del", "f1", "f12", "ctrl-l", "a", "Z", "#", "?"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int key = tui_keys_key_by_name(names[i]);
        ZT_CHECK(key >= 0, "'%s' unknown", names[i]);
        char buf[32];
        tui_keys_key_name(key, buf, sizeof buf);
        ZT_CHECK(tui_keys_key_by_name(buf) == key, "'%s' -> %d -> '%s'", names[i], key, buf);
    }
    ZT_CHECK(tui_keys_key_by_name("ctrl-l") == 12, "ctrl-l is 12");
    ZT_CHECK(tui_keys_key_by_name("f13") < 0 && tui_keys_key_by_name("spacebar") < 0 &&
             tui_keys_key_by_name("") < 0, "nonsense names are refused");
}

static void remap_file_binds_and_unbinds(void)
{
    tui_keys k;
    char err[256] = "";
    tui_keys_init(&k);
    const char *text =
        "# my keys\n"
        "\n"
        "undo x\n"
        "  answer1 a   b  \n"
        "skip enter\n"
        "unbind q\n"
        "quit ctrl-q\n"
        "jump #\n";
    ZT_OK(tui_keys_parse(&k, text, "my.keys", err, sizeof err));
    ZT_CHECK(tui_keys_lookup(&k, 'x') == TUI_ACT_UNDO, "x now undoes");
    ZT_CHECK(tui_keys_lookup(&k, 'u') == TUI_ACT_UNDO, "u still undoes (a remap adds a key)");
    ZT_CHECK(tui_keys_lookup(&k, 'a') == TUI_ACT_ANSWER_1 && tui_keys_lookup(&k, 'b') == TUI_ACT_ANSWER_1, "a b");
    ZT_CHECK(tui_keys_lookup(&k, '\n') == TUI_ACT_SKIP, "enter skips");
    ZT_CHECK(tui_keys_lookup(&k, 'q') == TUI_ACT_NONE, "q unbound");
    ZT_CHECK(tui_keys_lookup(&k, 17) == TUI_ACT_QUIT, "ctrl-q quits");
    ZT_CHECK(tui_keys_lookup(&k, '#') == TUI_ACT_JUMP, "# is a key, not a comment, after an action");
    char buf[128];
    tui_keys_keys_of(&k, TUI_ACT_UNDO, buf, sizeof buf);
    ZT_CHECK(strstr(buf, "x") && strstr(buf, "u"), "help lists every undo key: %s", buf);
}

static void bad_remap_lines_are_named(void)
{
    struct { const char *text, *want; } cases[] = {
        {"undo u\nfrobnicate k\n", "keys.txt:2: unknown action 'frobnicate'"},
        {"# ok\nundo nosuchkey\n", "keys.txt:2: unknown key name 'nosuchkey'"},
        {"\n\n\nskip\n", "keys.txt:4: 'skip' names no key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tui_keys k;
        char err[256] = "";
        tui_keys_init(&k);
        ZT_CHECK(tui_keys_parse(&k, cases[i].text, "keys.txt", err, sizeof err) == -1, "case %zu accepted", i);
        ZT_CHECK(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0, "got '%s', want '%s...'", err, cases[i].want);
    }
    /* the lines before the bad one took effect, the rest did not */
    tui_keys k;
    char err[256];
    tui_keys_init(&k);
    ZT_CHECK(tui_keys_parse(&k, "undo x\nbogus y\nskip w\n", "f", err, sizeof err) == -1, "bogus accepted");
    ZT_CHECK(tui_keys_lookup(&k, 'x') == TUI_ACT_UNDO && tui_keys_lookup(&k, 'w') == TUI_ACT_COMMIT, "partial: w keeps its default");
}

static void load_reads_a_file_and_names_a_missing_one(void)
{
    FILE *f = fopen("k.txt", "w");
    fputs("undo U\r\nquit Q\r\n", f);   /* CRLF line ends from a Windows editor */
    fclose(f);
    tui_keys k;
    char err[256] = "";
    tui_keys_init(&k);
    ZT_OK(tui_keys_load(&k, "k.txt", err, sizeof err));
    ZT_CHECK(tui_keys_lookup(&k, 'U') == TUI_ACT_UNDO && tui_keys_lookup(&k, 'Q') == TUI_ACT_QUIT, "loaded");
    ZT_CHECK(tui_keys_load(&k, "missing.txt", err, sizeof err) == -1, "missing file accepted");
    ZT_CHECK(strstr(err, "missing.txt") != NULL, "error names the file: %s", err);
    f = fopen("bin.txt", "wb");
    fwrite("undo u\0\x01\x02", 1, 9, f);
    fclose(f);
    ZT_CHECK(tui_keys_load(&k, "bin.txt", err, sizeof err) == -1 && strstr(err, "not a text file"), "binary: %s", err);
}

static void table_overflow_is_refused_not_corrupted(void)
{
    tui_keys k;
    tui_keys_init(&k);
    int refused = 0;
    for (int key = 0x200; key < 0x200 + 2 * TUI_KEYS_MAX; key++)
        if (tui_keys_bind(&k, key, TUI_ACT_SKIP) != 0) refused++;
    ZT_CHECK(refused > 0, "never refused");
    ZT_CHECK(k.n == TUI_KEYS_MAX, "n = %d", k.n);
    ZT_CHECK(tui_keys_lookup(&k, 'q') == TUI_ACT_QUIT, "old bindings intact");
}

const zt_case zt_suite_keys[] = {
    {"default keys answer, undo, skip, star, grid, jump, order, help, quit", defaults_answer_undo_skip_quit, 0},
    {"every action has a name, a help line and a default key", every_action_has_a_key_and_a_name, 0},
    {"key names round-trip (space, ctrl-l, f12, arrows, characters)", key_names_round_trip, 0},
    {"a remapping file binds, adds and unbinds keys", remap_file_binds_and_unbinds, 0},
    {"a bad remap line is named by file and line", bad_remap_lines_are_named, 0},
    {"a key file is read from disk; a missing or binary one is named", load_reads_a_file_and_names_a_missing_one, 0},
    {"a full key table refuses more bindings and keeps the old ones", table_overflow_is_refused_not_corrupted, 0},
    {0},
};
