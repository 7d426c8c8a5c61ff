/*
 * keys.c - the key table and its remapping file (see keys.h).
 */
#include "tui/label/keys.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27
#define KEY_DEL_ASCII 127

/* Help lines stay within 21 characters: the help screen lays them out in
 * two columns that fit an 80x24 terminal on one page. */
static const struct { tui_action act; const char *name, *help; } actions[] = {
    {TUI_ACT_ANSWER_1, "answer1", "answer 1 / rate 1"},
    {TUI_ACT_ANSWER_2, "answer2", "answer 2 / rate 2"},
    {TUI_ACT_ANSWER_3, "answer3", "answer 3 / rate 3"},
    {TUI_ACT_ANSWER_4, "answer4", "answer 4 / rate 4"},
    {TUI_ACT_ANSWER_5, "answer5", "answer 5 / rate 5"},
    {TUI_ACT_ANSWER_6, "answer6", "answer 6"},
    {TUI_ACT_ANSWER_7, "answer7", "answer 7"},
    {TUI_ACT_ANSWER_8, "answer8", "answer 8"},
    {TUI_ACT_ANSWER_9, "answer9", "answer 9"},
    {TUI_ACT_ANSWER_0, "answer0", "answer 10 / rate 0"},
    {TUI_ACT_UNDO, "undo", "undo the last answer"},
    {TUI_ACT_SKIP, "skip", "skip; grid: mark"},
    {TUI_ACT_FAVOURITE, "favourite", "star this galaxy"},
    {TUI_ACT_SIMILAR, "similar", "similar galaxies"},
    {TUI_ACT_GRID, "grid", "queue page (grid)"},
    {TUI_ACT_JUMP, "jump", "jump to an id"},
    {TUI_ACT_ORDER, "order", "queue order"},
    {TUI_ACT_HELP, "help", "this help"},
    {TUI_ACT_QUIT, "quit", "quit (all is saved)"},
    {TUI_ACT_INVERT, "invert", "invert (grid: marks)"},
    {TUI_ACT_STRETCH, "stretch", "linear / asinh / log"},
    {TUI_ACT_ZOOM_IN, "zoom-in", "zoom in (to pixels)"},
    {TUI_ACT_ZOOM_OUT, "zoom-out", "zoom out"},
    {TUI_ACT_VIEW, "view", "larger image"},
    {TUI_ACT_REDRAW, "redraw", "redraw the screen"},
    {TUI_ACT_UP, "up", "pan up; up in menus"},
    {TUI_ACT_DOWN, "down", "pan down; down"},
    {TUI_ACT_LEFT, "left", "pan left; left"},
    {TUI_ACT_RIGHT, "right", "pan right; right"},
    {TUI_ACT_SELECT, "select", "choose (grids, menus)"},
    {TUI_ACT_CANCEL, "cancel", "close a grid or menu"},
    {TUI_ACT_BLACK_DOWN, "black-down", "lower the black point"},
    {TUI_ACT_BLACK_UP, "black-up", "raise the black point"},
    {TUI_ACT_WHITE_DOWN, "white-down", "lower the white point"},
    {TUI_ACT_WHITE_UP, "white-up", "raise the white point"},
    {TUI_ACT_VIEW_RESET, "view-reset", "reset the image view"},
    {TUI_ACT_BAND, "band", "levels of one band / all"},
    {TUI_ACT_BLIND, "blind", "model's bars on/off"},
    {TUI_ACT_COMMIT, "commit", "grid: save the page"},
    {TUI_ACT_NOTE, "note", "note / #tags on it"},
    {TUI_ACT_GUIDE, "guide", "examples per answer"},
    {TUI_ACT_CLUSTERS, "clusters", "cluster pages"},
};
#define N_ACTIONS (sizeof actions / sizeof actions[0])

static const struct { int key; tui_action act; } defaults[] = {
    {'1', TUI_ACT_ANSWER_1}, {'2', TUI_ACT_ANSWER_2}, {'3', TUI_ACT_ANSWER_3},
    {'4', TUI_ACT_ANSWER_4}, {'5', TUI_ACT_ANSWER_5}, {'6', TUI_ACT_ANSWER_6},
    {'7', TUI_ACT_ANSWER_7}, {'8', TUI_ACT_ANSWER_8}, {'9', TUI_ACT_ANSWER_9},
    {'0', TUI_ACT_ANSWER_0},
    {'u', TUI_ACT_UNDO}, {KEY_BACKSPACE, TUI_ACT_UNDO}, {KEY_DEL_ASCII, TUI_ACT_UNDO},
    {CTRL('h'), TUI_ACT_UNDO},
    {' ', TUI_ACT_SKIP},
    {'f', TUI_ACT_FAVOURITE},
    {'s', TUI_ACT_SIMILAR},
    {'g', TUI_ACT_GRID},
    {'/', TUI_ACT_JUMP},
    {'o', TUI_ACT_ORDER},
    {'?', TUI_ACT_HELP}, {KEY_F(1), TUI_ACT_HELP},
    {'q', TUI_ACT_QUIT},
    {'i', TUI_ACT_INVERT},
    {'c', TUI_ACT_STRETCH},
    {'+', TUI_ACT_ZOOM_IN}, {'=', TUI_ACT_ZOOM_IN},
    {'-', TUI_ACT_ZOOM_OUT},
    {'v', TUI_ACT_VIEW}, {'z', TUI_ACT_VIEW},
    {CTRL('l'), TUI_ACT_REDRAW},
    {KEY_UP, TUI_ACT_UP}, {'k', TUI_ACT_UP},
    {KEY_DOWN, TUI_ACT_DOWN}, {'j', TUI_ACT_DOWN},
    {KEY_LEFT, TUI_ACT_LEFT}, {'h', TUI_ACT_LEFT},
    {KEY_RIGHT, TUI_ACT_RIGHT}, {'l', TUI_ACT_RIGHT},
    {'\n', TUI_ACT_SELECT}, {'\r', TUI_ACT_SELECT}, {KEY_ENTER, TUI_ACT_SELECT},
    {KEY_ESC, TUI_ACT_CANCEL},
    {'[', TUI_ACT_BLACK_DOWN}, {']', TUI_ACT_BLACK_UP}, {'{', TUI_ACT_WHITE_DOWN}, {'}', TUI_ACT_WHITE_UP},
    {'r', TUI_ACT_VIEW_RESET},
    {'b', TUI_ACT_BAND},
    {'n', TUI_ACT_NOTE},
    {'e', TUI_ACT_GUIDE},
    {'p', TUI_ACT_BLIND},
    {'w', TUI_ACT_COMMIT},
    {'t', TUI_ACT_CLUSTERS},
};

static const struct { const char *name; int key; } key_names[] = {
    {"space", ' '}, {"enter", '\n'}, {"return", '\r'}, {"backspace", KEY_BACKSPACE},
    {"del-ascii", KEY_DEL_ASCII}, {"tab", '\t'}, {"esc", KEY_ESC},
    {"up", KEY_UP}, {"down", KEY_DOWN}, {"left", KEY_LEFT}, {"right", KEY_RIGHT},
    {"home", KEY_HOME}, {"end", KEY_END}, {"pgup", KEY_PPAGE}, {"pgdn", KEY_NPAGE},
    {"del", KEY_DC}, {"ins", KEY_IC}, {"keypad-enter", KEY_ENTER},
};
#define N_KEY_NAMES (sizeof key_names / sizeof key_names[0])

void tui_keys_init(tui_keys *k)
{
    k->n = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        tui_keys_bind(k, defaults[i].key, defaults[i].act);
}

tui_action tui_keys_lookup(const tui_keys *k, int key)
{
    for (int i = 0; i < k->n; i++)
        if (k->b[i].key == key) return k->b[i].act;
    return TUI_ACT_NONE;
}

int tui_keys_bind(tui_keys *k, int key, tui_action act)
{
    for (int i = 0; i < k->n; i++) {
        if (k->b[i].key != key) continue;
        if (act == TUI_ACT_NONE) {
            k->b[i] = k->b[--k->n];
        } else {
            k->b[i].act = act;
        }
        return 0;
    }
    if (act == TUI_ACT_NONE) return 0;
    if (k->n >= TUI_KEYS_MAX) return -1;
    k->b[k->n].key = key;
    k->b[k->n].act = act;
    k->n++;
    return 0;
}

const char *tui_keys_action_name(tui_action act)
{
    for (size_t i = 0; i < N_ACTIONS; i++)
        if (actions[i].act == act) return actions[i].name;
    return NULL;
}

const char *tui_keys_action_help(tui_action act)
{
    for (size_t i = 0; i < N_ACTIONS; i++)
        if (actions[i].act == act) return actions[i].help;
    return NULL;
}

tui_action tui_keys_action_by_name(const char *name)
{
    for (size_t i = 0; i < N_ACTIONS; i++)
        if (strcmp(actions[i].name, name) == 0) return actions[i].act;
    if (strcmp(name, "favorite") == 0) return TUI_ACT_FAVOURITE;
    return TUI_ACT_NONE;
}

int tui_keys_key_by_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 1 && (unsigned char)name[0] > ' ' && (unsigned char)name[0] < 127) return name[0];
    for (size_t i = 0; i < N_KEY_NAMES; i++)
        if (strcasecmp(key_names[i].name, name) == 0) return key_names[i].key;
    if (n == 6 && strncasecmp(name, "ctrl-", 5) == 0 && isalpha((unsigned char)name[5]))
        return CTRL(tolower((unsigned char)name[5]));
    if ((n == 2 || n == 3) && (name[0] == 'f' || name[0] == 'F') && isdigit((unsigned char)name[1])) {
        char *end;
        long f = strtol(name + 1, &end, 10);
        if (*end == 0 && f >= 1 && f <= 12) return KEY_F((int)f);
    }
    return -1;
}

const char *tui_keys_key_name(int key, char *buf, size_t len)
{
    for (size_t i = 0; i < N_KEY_NAMES; i++)
        if (key_names[i].key == key) {
            snprintf(buf, len, "%s", key_names[i].name);
            return buf;
        }
    if (key > ' ' && key < 127) snprintf(buf, len, "%c", key);
    else if (key >= 1 && key <= 26) snprintf(buf, len, "ctrl-%c", 'a' + key - 1);
    else if (key >= KEY_F(1) && key <= KEY_F(12)) snprintf(buf, len, "f%d", key - KEY_F0);
    else snprintf(buf, len, "key-%d", key);
    return buf;
}

const char *tui_keys_keys_of(const tui_keys *k, tui_action act, char *buf, size_t len)
{
    size_t used = 0;
    if (len) buf[0] = 0;
    for (int i = 0; i < k->n; i++) {
        if (k->b[i].act != act) continue;
        char nb[32];
        tui_keys_key_name(k->b[i].key, nb, sizeof nb);
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", nb);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
    }
    return buf;
}

int tui_keys_parse(tui_keys *k, const char *text, const char *fname, char *err, size_t errlen)
{
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];
        lineno++;
        if (n >= sizeof line) {
            snprintf(err, errlen, "%s:%d: line too long", fname, lineno);
            return -1;
        }
        memcpy(line, p, n);
        line[n] = 0;
        p += n + (eol ? 1 : 0);
        const char *first = line + strspn(line, " \t\r");
        if (*first == '#') continue;                 /* a comment line */
        char *save = NULL;
        char *word = strtok_r(line, " \t\r", &save);
        if (!word) continue;
        tui_action act = TUI_ACT_NONE;
        if (strcmp(word, "unbind") != 0 && strcmp(word, "none") != 0) {
            act = tui_keys_action_by_name(word);
            if (act == TUI_ACT_NONE) {
                snprintf(err, errlen, "%s:%d: unknown action '%.40s' (e.g. undo, skip, answer1, quit)",
                         fname, lineno, word);
                return -1;
            }
        }
        int nkeys = 0;
        char *kn;
        while ((kn = strtok_r(NULL, " \t\r", &save))) {
            int key = tui_keys_key_by_name(kn);
            if (key < 0) {
                snprintf(err, errlen, "%s:%d: unknown key name '%.40s' (a character, space, "
                         "backspace, enter, up, ctrl-x, f1...)", fname, lineno, kn);
                return -1;
            }
            if (tui_keys_bind(k, key, act) != 0) {
                snprintf(err, errlen, "%s:%d: too many key bindings", fname, lineno);
                return -1;
            }
            nkeys++;
        }
        if (nkeys == 0) {
            snprintf(err, errlen, "%s:%d: '%.40s' names no key (write e.g. \"undo u\")", fname, lineno, word);
            return -1;
        }
    }
    return 0;
}

int tui_keys_load(tui_keys *k, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *text = xmalloc(cap);
    size_t r;
    while ((r = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (len + 1 >= cap) {
            if (cap >= (1u << 20)) {
                snprintf(err, errlen, "%s: too large for a key file", path);
                free(text);
                fclose(f);
                return -1;
            }
            cap *= 2;
            text = xrealloc(text, cap);
        }
    }
    fclose(f);
    text[len] = 0;
    if (memchr(text, 0, len)) {
        snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
        free(text);
        return -1;
    }
    int rc = tui_keys_parse(k, text, path, err, errlen);
    free(text);
    return rc;
}
