/*
 * notes.c - the labeler's notes: the n key opens a one-line prompt on the
 * bottom row, Enter saves the text as the user's note on the shown galaxy
 * (core/notes.h: it replaces their earlier one), Esc cancels; the side
 * pane shows the notes that stand on the shown galaxy.  Typed bytes are
 * kept as typed (UTF-8); everything drawn goes through tui_text_sanitize.
 * UI thread only (see ui.h).
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "core/notes.h"
#include "tui/label/ui.h"
#include "tui/text.h"

void label_note_open(ui *u)
{
    u->note[0] = 0;
    u->mode = MODE_NOTE;
}

static void note_save(ui *u)
{
    uint32_t gid = core_session_gid(u->ses);
    char err[200];
    if (!gid) return;
    int rc = core_notes_add(u->st, gid, u->note, err, sizeof err);
    if (rc) snprintf(u->msg, sizeof u->msg, "%s", err);
    else snprintf(u->msg, sizeof u->msg, "note saved");
    u->notes_gid = 0;               /* read again */
}

void label_note_key(ui *u, int ch)
{
    size_t n = strlen(u->note);
    if (ch == 27) u->mode = MODE_LABEL;
    else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) { u->mode = MODE_LABEL; if (n) note_save(u); }
    else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        while (n > 0 && ((unsigned char)u->note[n - 1] & 0xc0) == 0x80) n--;
        if (n > 0) n--;
        u->note[n] = 0;
    } else if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && n + 1 < sizeof u->note) {
        u->note[n] = (char)ch;
        u->note[n + 1] = 0;
    }
}

typedef struct { ui *u; size_t n; } show_ctx;

static int show_one(const store_answer *a, void *p)
{
    show_ctx *c = p;
    char line[STORE_USER_MAX + STORE_TEXT_MAX + 8];
    snprintf(line, sizeof line, "%s%s: %s", c->n ? " | " : "", a->user, a->text);
    size_t l = strlen(c->u->notes);
    snprintf(c->u->notes + l, sizeof c->u->notes - l, "%s", line);
    c->n++;
    return 0;
}

const char *label_notes_line(ui *u, uint32_t gid)
{
    if (gid != u->notes_gid) {
        u->notes[0] = 0;
        show_ctx c = {u, 0};
        if (gid) core_notes_read(u->st, gid, show_one, &c);
        u->notes_gid = gid;
    }
    return u->notes;
}

void label_note_prompt(ui *u)
{
    char p[sizeof u->note + 64], safe[sizeof p * 2];
    snprintf(p, sizeof p, " note (#tags; Enter saves, Esc cancels): %s", u->note);
    tui_text_sanitize(p, safe, sizeof safe, !u->utf8);
    /* the tail that fits (what is being typed stays in view) */
    int chars = 0;
    for (const char *q = safe; *q; q++) chars += ((unsigned char)*q & 0xc0) != 0x80;
    const char *from = safe;
    for (; chars > COLS - 1 && *from; chars--) {
        from++;
        while (((unsigned char)*from & 0xc0) == 0x80) from++;
    }
    move(LINES - 1, 0);
    clrtoeol();
    attron(A_BOLD);
    mvaddnstr(LINES - 1, 0, from, -1);
    attroff(A_BOLD);
}
