/*
 * keys.h - the labeler's key table: key code -> action, as nnn's bindings[]
 * or htop's Action_setBindings.  Key codes are what curses' getch() returns
 * (a byte, or a KEY_* value); the table works without a terminal, so tests
 * look keys up directly.  A user can remap keys with a small text file
 * (zoosh label --keys FILE), one binding per line:
 *
 *     # lines starting with # and blank lines are ignored
 *     undo u              bind the key u to undo (u leaves its old action)
 *     answer1 1 a         several keys for one action
 *     unbind q            the key q does nothing
 *
 * Key names: a printable character stands for itself; and space, enter,
 * backspace, tab, esc, up, down, left, right, home, end, pgup, pgdn, del,
 * f1..f12, ctrl-a..ctrl-z.  Action names: tui_keys_action_name().
 */
#ifndef ZOOSH_TUI_KEYS_H
#define ZOOSH_TUI_KEYS_H

#include <stddef.h>

typedef enum {
    TUI_ACT_NONE = 0,
    TUI_ACT_ANSWER_1, TUI_ACT_ANSWER_2, TUI_ACT_ANSWER_3, TUI_ACT_ANSWER_4,
    TUI_ACT_ANSWER_5, TUI_ACT_ANSWER_6, TUI_ACT_ANSWER_7, TUI_ACT_ANSWER_8,
    TUI_ACT_ANSWER_9,
    TUI_ACT_ANSWER_0,     /* the 10th answer, or rating 0 */
    TUI_ACT_UNDO,
    TUI_ACT_SKIP,
    TUI_ACT_FAVOURITE,
    TUI_ACT_SIMILAR,
    TUI_ACT_GRID,
    TUI_ACT_JUMP,
    TUI_ACT_ORDER,
    TUI_ACT_HELP,
    TUI_ACT_QUIT,
    TUI_ACT_INVERT,
    TUI_ACT_STRETCH,
    TUI_ACT_ZOOM_IN,
    TUI_ACT_ZOOM_OUT,
    TUI_ACT_VIEW,
    TUI_ACT_REDRAW,
    TUI_ACT_UP, TUI_ACT_DOWN, TUI_ACT_LEFT, TUI_ACT_RIGHT,
    TUI_ACT_SELECT,
    TUI_ACT_CANCEL,
    TUI_ACT_BLACK_DOWN, TUI_ACT_BLACK_UP, TUI_ACT_WHITE_DOWN, TUI_ACT_WHITE_UP,
    TUI_ACT_VIEW_RESET, TUI_ACT_BAND,
    TUI_ACT_BLIND,
    TUI_ACT_COMMIT,       /* a grid's page saved as answers */
    TUI_ACT_NOTE,
    TUI_ACT_GUIDE,
    TUI_ACT_CLUSTERS,     /* cluster pages (triage); in one, the next cluster */
    TUI_ACT__COUNT
} tui_action;

#define TUI_KEYS_MAX 160

typedef struct {
    int n;
    struct { int key; tui_action act; } b[TUI_KEYS_MAX];
} tui_keys;

/* The default bindings. */
void tui_keys_init(tui_keys *k);
/* The action bound to key (TUI_ACT_NONE when unbound). */
tui_action tui_keys_lookup(const tui_keys *k, int key);
/* Binds key to act (replacing the key's old binding; TUI_ACT_NONE unbinds).
 * -1 when the table is full. */
int tui_keys_bind(tui_keys *k, int key, tui_action act);
/* Applies a remapping text (format above); fname names it in errors.  On the
 * first bad line returns -1 with "FILE:LINE: reason" in err; the table then
 * holds the lines before it. */
int tui_keys_parse(tui_keys *k, const char *text, const char *fname, char *err, size_t errlen);
int tui_keys_load(tui_keys *k, const char *path, char *err, size_t errlen);

/* Names: "undo", "answer1", ... (NULL for an unknown action); an action by
 * name (TUI_ACT_NONE when unknown); a key by name (-1 when unknown) and a
 * key's name into buf ("space", "u", "ctrl-l", "key-412"). */
const char *tui_keys_action_name(tui_action act);
const char *tui_keys_action_help(tui_action act);
tui_action tui_keys_action_by_name(const char *name);
int tui_keys_key_by_name(const char *name);
const char *tui_keys_key_name(int key, char *buf, size_t len);
/* The names of every key bound to act, ", "-separated, into buf ("" when none). */
const char *tui_keys_keys_of(const tui_keys *k, tui_action act, char *buf, size_t len);

#endif
