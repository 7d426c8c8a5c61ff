/*
 * guide.c - the labeler's field guide: the e key shows, for the question
 * being asked, each answer's name and example images (core/guide.h: the
 * Galaxy Zoo tutorial for gz-decals, gz2 and ring, or DIR/<question>/
 * <answer>/ for any tree) from --guide DIR, else $ZOOSH_GUIDE.  Images are
 * decoded by core/image.c and drawn through tui/gfx as grid tiles; in text
 * mode (no images) each answer lists its example files instead.  Down / j
 * and Up / k scroll when the answers do not fit; any other key goes back.
 * UI thread only (see ui.h).
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guide.h"
#include "core/image.h"
#include "core/util.h"
#include "tui/label/ui.h"
#include "tui/text.h"

static const char *guide_dir(const ui *u)
{
    if (u->o.guide && u->o.guide[0]) return u->o.guide;
    const char *e = getenv("ZOOSH_GUIDE");
    return e && e[0] ? e : NULL;
}

void label_guide_open(ui *u)
{
    int q = u->schema.kind == CORE_TASK_TREE ? core_session_question(u->ses) : -1;
    if (q < 0) {
        snprintf(u->msg, sizeof u->msg, "the field guide is for decision-tree questions");
        return;
    }
    const char *dir = guide_dir(u);
    if (!dir) {
        snprintf(u->msg, sizeof u->msg, "no field guide: start with --guide DIR (the gz_tutorial folder, or DIR/<question>/<answer>/)");
        return;
    }
    if (!u->guide) u->guide = xmalloc(sizeof *u->guide);
    char err[300];
    if (core_guide_load(dir, &u->schema, q, u->guide, err, sizeof err)) {
        char safe[200];
        tui_text_sanitize(err, safe, sizeof safe, !u->utf8);
        snprintf(u->msg, sizeof u->msg, "field guide: %s", safe);
        return;
    }
    u->guide_q = q;
    u->guide_top = 0;
    u->mode = MODE_GUIDE;
    u->need_image = 1;
}

/* Rows one answer takes: its name, and a row of tiles or of file names. */
static int band_rows(const ui *u, int a)
{
    if (!tui_gfx_images(u->gfx) || u->guide->n[a] == 0) return 2;
    tui_gfx_box tile;
    tui_gfx_tile(u->gfx, &tile);
    return 1 + tile.rows;
}

/* The last answer shown from guide_top (exclusive). */
static int shown_end(const ui *u)
{
    int y = 2, a = u->guide_top;
    for (; a < u->guide->n_answers; a++) {
        int r = band_rows(u, a);
        if (y + r > LINES - 1 && a > u->guide_top) break;
        y += r;
    }
    return a;
}

void label_guide_key(ui *u, tui_action act)
{
    if (act == TUI_ACT_DOWN && shown_end(u) < u->guide->n_answers) u->guide_top++;
    else if (act == TUI_ACT_UP && u->guide_top > 0) u->guide_top--;
    else u->mode = MODE_LABEL;
    u->need_full = 1;           /* tiles move: repaint */
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void label_guide_draw(ui *u)
{
    const core_question *cq = &u->schema.q[u->guide_q];
    char line[512], safe[512];
    snprintf(line, sizeof line, "Field guide: %s", cq->text);
    tui_text_sanitize(line, safe, sizeof safe, !u->utf8);
    attron(A_BOLD);
    mvaddnstr(0, 0, safe, COLS - 1);
    attroff(A_BOLD);
    int end = shown_end(u), y = 2;
    for (int a = u->guide_top; a < end; a++) {
        char t[64];
        tui_text_sanitize(cq->answers[a].text, t, sizeof t, !u->utf8);
        snprintf(line, sizeof line, " %d  %s  (%d example%s)", a == 9 ? 0 : a + 1, t, u->guide->n[a], u->guide->n[a] == 1 ? "" : "s");
        attron(A_BOLD);
        mvaddnstr(y, 0, line, COLS - 1);
        attroff(A_BOLD);
        if (!tui_gfx_images(u->gfx) || u->guide->n[a] == 0) {
            size_t l = 0;
            line[0] = 0;
            for (int i = 0; i < u->guide->n[a] && l < sizeof line; i++)
                l += (size_t)snprintf(line + l, sizeof line - l, "%s%s", i ? "  " : "     ", base(u->guide->path[a][i]));
            if (!u->guide->n[a]) snprintf(line, sizeof line, "     (no example for this answer)");
            tui_text_sanitize(line, safe, sizeof safe, !u->utf8);
            mvaddnstr(y + 1, 0, safe, COLS - 1);
        }
        y += band_rows(u, a);
    }
    snprintf(line, sizeof line, "%s any other key: back to the galaxy",
             end < u->guide->n_answers || u->guide_top > 0 ? "Down/Up: more answers;" : "");
    attron(A_REVERSE);
    mvaddnstr(LINES - 1, 0, line, COLS - 1);
    attroff(A_REVERSE);
}

/* One example into a tile at cell (y, x): decoded, cropped square, scaled. */
static void put_example(ui *u, const char *path, int px, int y, int x)
{
    core_image im = {0}, sq = {0};
    char err[200], *bytes = NULL;
    size_t len = 0;
    if (core_image_load(path, &im, err, sizeof err) == 0 && core_image_thumbnail(&im, px, &sq) == 0 &&
        tui_gfx_encode(u->gfx, sq.px, sq.w, sq.h, &bytes, &len, err, sizeof err) == 0) {
        int cy, cx;
        getyx(curscr, cy, cx);
        tui_gfx_place(u->gfx, STDOUT_FILENO, bytes, len, y, x, cy, cx);
    }
    free(bytes);
    core_image_free(&sq);
    core_image_free(&im);
}

int label_guide_draw_images(ui *u)
{
    if (!tui_gfx_images(u->gfx)) return 0;
    tui_gfx_box tile;
    tui_gfx_tile(u->gfx, &tile);
    int end = shown_end(u), y = 2, drawn = 0;
    for (int a = u->guide_top; a < end; a++) {
        for (int i = 0; i < u->guide->n[a] && (i + 1) * tile.cols < COLS; i++, drawn++)
            put_example(u, u->guide->path[a][i], tile.px_w, y + 1, 1 + i * tile.cols);
        y += band_rows(u, a);
    }
    return drawn > 0;
}
