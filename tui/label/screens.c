/*
 * screens.c - the labeler's layout and drawing: the label screen (image
 * box, the galaxy's catalog text, the question with the model's bars), the
 * help, the grid of the coming queue or of similar galaxies, the order menu,
 * the jump prompt, the status line and the key hints.  UI thread only (see
 * ui.h).
 *
 * Drawing order on every frame (the sixel pitfalls of ../shared/tools/README):
 * curses draws text with the image cells left blank (erase + wnoutrefresh +
 * doupdate), then the image bytes (sixel, or half-block cells) are written
 * straight to the terminal at the image cell, then the cursor is moved back
 * to where curses believes it is.  curses never writes into the blank image
 * cells unless the screen is repainted (resize, Ctrl-L, a full-screen
 * overlay), and every such repaint sends the image again.  The image box
 * ends at least one line above the status lines, so an image never reaches
 * the bottom line (which would scroll the screen).  A vertical rule between
 * image and text keeps every body row non-blank for curses: a row it sees as
 * all blank it clears from column 0 with EL, which erased a row of the image
 * (seen on a screenshot); idlok(FALSE) keeps it from scrolling regions.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cluster.h"
#include "core/thumb.h"
#include "core/util.h"
#include "tui/label/ui.h"
#include "tui/text.h"

/* ---- layout */

static void layout(ui *u)
{
    int body_rows = LINES - 3;             /* rows 1 .. LINES-3; status LINES-2, keys LINES-1 */
    int max_rows = body_rows - 1;          /* one blank row above the status line */
    int text_w = u->large ? 0 : TEXT_MIN_W;
    int max_cols = COLS - 2 - (text_w ? text_w + 2 : 1);
    u->img_y = 1;
    u->img_x = 1;
    u->box_cols = u->box_rows = u->box_px_w = u->box_px_h = 0;
    if (!tui_gfx_images(u->gfx) || max_rows < 3 || max_cols < 6) {
        u->text_x = 1;
        return;
    }
    /* default: at most 2x the stored thumbnail (more adds bytes, not detail) */
    int cap = u->large ? 0 : u->o.image_px > 0 ? u->o.image_px : 2 * CORE_THUMB_SIDE;
    tui_gfx_box box;
    tui_gfx_fit(u->gfx, max_cols, max_rows, cap, &box);
    u->box_px_w = box.px_w;
    u->box_px_h = box.px_h;
    u->box_cols = box.cols;
    u->box_rows = box.rows;
    u->text_x = u->img_x + u->box_cols + 3;     /* a space, the rule, the text */
}

/* ---- text helpers */

static void put_clip(int y, int x, int w, const char *s)
{
    if (w <= 0 || y < 0 || y >= LINES) return;
    /* clip by characters (UTF-8 aware: count lead bytes) */
    int cols = 0;
    const char *p = s;
    while (*p && cols < w) {
        p++;
        while ((*p & 0xc0) == 0x80) p++;
        cols++;
    }
    mvaddnstr(y, x, s, (int)(p - s));
}

/* Word-wraps s into rows of w columns starting at y (drawn at x when draw
 * is set); returns the next free row. */
static int wrap(int y, int x, int w, int max_y, const char *s, int draw)
{
    if (w <= 0 || (draw && x >= COLS)) return y;   /* the large view leaves the text no columns */
    while (*s && y <= max_y) {
        int len = (int)strlen(s);
        int take = len;
        if (len > w) {
            take = w;
            while (take > 0 && s[take] != ' ') take--;
            if (take == 0) take = w;
            while (take > 1 && ((unsigned char)s[take] & 0xc0) == 0x80) take--;   /* never cut a character */
        }
        char line[512];
        if (take > (int)sizeof line - 1) take = (int)sizeof line - 1;
        memcpy(line, s, (size_t)take);
        line[take] = 0;
        if (draw) mvaddstr(y, x, line);
        s += take;
        while (*s == ' ') s++;
        y++;
    }
    return y;
}

static int put_wrapped(int y, int x, int w, int max_y, const char *s)
{
    return wrap(y, x, w, max_y, s, 1);
}

static const char *first_key(ui *u, tui_action a, char *buf, size_t len)
{
    char all[128];
    tui_keys_keys_of(&u->keys, a, all, sizeof all);
    char *comma = strchr(all, ',');
    if (comma) *comma = 0;
    const char *src = all[0] ? all : "-";
    size_t n = strlen(src);
    if (n >= len) n = len - 1;
    memcpy(buf, src, n);
    buf[n] = 0;
    return buf;
}

/* Answers per hour, computed when the count changes: between answers the
 * status line stays as it is (a rate recomputed on every idle frame rewrote
 * it ten times a second, over SSH too). */
static double session_rate(ui *u)
{
    core_session_stats s;
    core_session_stats_get(u->ses, &s);
    if (s.answers != u->rate_answers) {
        double h = (core_mono_s() - u->t_start) / 3600.0;
        u->rate_answers = s.answers;
        u->rate = h > 10.0 / 3600 ? s.answers / h : 0;
    }
    return u->rate;
}

static void draw_status(ui *u)
{
    core_session_stats s;
    core_session_stats_get(u->ses, &s);
    const core_labeler_model *m = &u->model;
    char model[160] = "no model yet";
    if (m->have_model) {
        char when[16] = "";
        time_t t = (time_t)(m->info.time_us / 1000000);
        struct tm tm;
        if (m->info.time_us > 0 && localtime_r(&t, &tm)) strftime(when, sizeof when, "%H:%M", &tm);
        char truth[24] = "";
        if (!isnan(m->truth_auc)) {     /* the demo: first, so that it stays within 80 columns */
            snprintf(truth, sizeof truth, " truth AUC %.2f", m->truth_auc);
            when[0] = 0;
        }
        if (m->info.metric[0] && !isnan(m->info.value))
            snprintf(model, sizeof model, "model v%u%s%s%s %s %.2f %s", m->info.version, truth,
                     when[0] ? " " : "", when, m->info.metric, m->info.value, u->spark);
        else if (strcmp(m->info.metric, "prior") == 0)   /* fitted to the priors, no answers yet */
            snprintf(model, sizeof model, "model v%u prior%s %s", m->info.version, truth, when);
        else
            snprintf(model, sizeof model, "model v%u%s %s", m->info.version, truth, when);
    }
    double rate = session_rate(u);
    char rates[24] = "";
    if (rate > 0) snprintf(rates, sizeof rates, " (%.0f/h)", rate);
    char line[512];
    const char *sep = u->utf8 ? " \xe2\x94\x82 " : " | ";
    snprintf(line, sizeof line, " %s%syou %u/%u%ssession %d%s%s%s%sorder %s%s",
             u->schema.name, sep, s.done_user, s.total, sep, s.answers, rates, sep, model, sep, label_order_name(u->order),
             u->tr && tui_trainer_busy(u->tr) ? "  learning..." : "");
    attron(A_REVERSE);
    mvhline(LINES - 2, 0, ' ', COLS);
    put_clip(LINES - 2, 0, COLS, line);
    attroff(A_REVERSE);
}

static void draw_hints(ui *u)
{
    char a[16], b[16], c[16], d[16], e[16], f[16], g[16], h[16], i[16], j[16], k[16], l[16];
    char line[512], digits[32];
    if (u->schema.kind == CORE_TASK_RATING) {
        snprintf(digits, sizeof digits, "%d-%d rate", u->schema.rating_min, u->schema.rating_max);
    } else {
        int q = core_session_question(u->ses), n = q >= 0 ? u->schema.q[q].n_answers : 9;
        snprintf(digits, sizeof digits, "1-%d answer", n > 9 ? 0 : n);
    }
    snprintf(line, sizeof line, " %s  %s undo  %s skip  %s help  %s quit  %s star  %s similar  %s queue"
             "  %s jump  %s order  %s %s +- %s image",
             digits, first_key(u, TUI_ACT_UNDO, a, sizeof a), first_key(u, TUI_ACT_SKIP, b, sizeof b),
             first_key(u, TUI_ACT_HELP, k, sizeof k), first_key(u, TUI_ACT_QUIT, i, sizeof i),
             first_key(u, TUI_ACT_FAVOURITE, c, sizeof c), first_key(u, TUI_ACT_SIMILAR, j, sizeof j),
             first_key(u, TUI_ACT_GRID, d, sizeof d),
             first_key(u, TUI_ACT_JUMP, e, sizeof e), first_key(u, TUI_ACT_ORDER, f, sizeof f),
             first_key(u, TUI_ACT_INVERT, g, sizeof g), first_key(u, TUI_ACT_STRETCH, h, sizeof h),
             first_key(u, TUI_ACT_VIEW, l, sizeof l));
    put_clip(LINES - 1, 0, COLS - 1, line);
}

static void draw_bar(ui *u, int y, int x, int w, double p)
{
    if (w < 4) return;
    int fill = (int)lrint(p * w);
    if (fill < 0) fill = 0;
    if (fill > w) fill = w;
    move(y, x);
    for (int i = 0; i < w; i++) {
        if (u->utf8) addstr(i < fill ? "\xe2\x96\x88" : "\xe2\x96\x91");   /* U+2588 full, U+2591 light shade */
        else addch(i < fill ? '#' : '.');
    }
    printw(" %.2f", p);
}

int label_show_pred(const ui *u)
{
    int blind = u->o.blind > 0 ||
                (u->o.blind == 0 && u->schema.kind == CORE_TASK_TREE && u->schema.n_questions > 1);
    return !blind != !!u->pred_flip;
}

/* The line under the image: what the view does, and a thumbnail standing
 * in for a missing original. */
static void draw_view_line(ui *u, uint32_t gid)
{
    if (u->img_y + u->box_rows >= LINES - 3) return;
    const src_entry *e = label_image_src(u, gid);
    const core_view *v = &u->view;
    char vs[200], lv[96] = "", pan[32] = "";
    int n = 0, banded = e->ok && e->src.nb == 3;
    if (v->black != 0 || v->white != 0)
        n += snprintf(lv + n, sizeof lv - (size_t)n, "  black %+.2f white %+.2f", v->black, v->white);
    for (int c = 0; banded && c < 3; c++)
        if (v->band_black[c] != 0 || v->band_white[c] != 0)
            n += snprintf(lv + n, sizeof lv - (size_t)n, "  %s %+.2f/%+.2f", core_view_band_name(c + 1),
                          v->band_black[c], v->band_white[c]);
    if (banded && v->band && n < (int)sizeof lv)
        snprintf(lv + n, sizeof lv - (size_t)n, "  [levels: %s]", core_view_band_name(v->band));
    if (v->pan_x != 0 || v->pan_y != 0) snprintf(pan, sizeof pan, " pan %+.2f,%+.2f", v->pan_x, v->pan_y);
    snprintf(vs, sizeof vs, "%s%s%s  zoom %.3gx%s%s%s",
             e->ok && e->fallback ? "THUMBNAIL (original missing)  " : "",
             core_view_stretch_name(core_view_stretch_of(v, e->ok ? &e->src : NULL)), v->invert ? "  inverted" : "",
             pow(1.5, v->zoom), pan, lv, u->large ? "  large view" : "");
    put_clip(u->img_y + u->box_rows, u->img_x, u->box_cols, vs);
}

static void draw_label(ui *u)
{
    uint32_t gid = core_session_gid(u->ses);
    int x = u->text_x, w = COLS - x - 1, max_y = LINES - 4;
    char title[256];
    snprintf(title, sizeof title, " zoosh label  %s  task %s  user %s", store_dir(u->st), u->schema.name, store_current_user());
    char safe[256];
    tui_text_sanitize(title, safe, sizeof safe, !u->utf8);
    attron(A_BOLD);
    put_clip(0, 0, COLS, safe);
    attroff(A_BOLD);
    if (gid == 0) {
        core_session_stats s;
        core_session_stats_get(u->ses, &s);
        int y = put_wrapped(2, x, w > 10 ? w : 10, max_y, "No galaxies left for you in this task.");
        char line[200];
        snprintf(line, sizeof line, "You answered %u of %u galaxies. o changes the order, / jumps to an id, u undoes, q quits.",
                 s.done_user, s.total);
        put_wrapped(y + 1, x, w > 10 ? w : 10, max_y, line);
        return;
    }
    label_load_meta(u, gid);
    label_load_pred(u, gid);
    core_session_stats s;
    core_session_stats_get(u->ses, &s);
    int y = 1;
    attron(A_BOLD);
    put_clip(y, x, w, u->id);
    attroff(A_BOLD);
    if (s.favourite) {
        int idw = (int)strlen(u->id);
        put_clip(y, x + (idw < w - 3 ? idw + 1 : w - 2), 2, u->utf8 ? "\xe2\x98\x85" : "*");
    }
    y++;
    /* the rows the question needs (its text, every answer); the lines about
     * the galaxy give way to them in a short terminal, so no answer is
     * ever off the screen while its key still works */
    int cur_q = core_session_question(u->ses);
    int qneed = u->schema.kind == CORE_TASK_RATING ? 2 + u->schema.rating_max - u->schema.rating_min
              : cur_q >= 0 ? 2 + u->schema.q[cur_q].n_answers + core_session_can_abstain(u->ses) : 0;
    int spare = max_y - y + 1 - qneed;
    if (u->radec[0] && spare-- > 0) {
        u->radec_y = y, u->radec_x = x, u->radec_w = w;
        put_clip(y++, x, w, u->radec);
    }
    if (u->survey[0] && spare-- > 0) {
        char sv[96];
        snprintf(sv, sizeof sv, "survey %s", u->survey);
        put_clip(y++, x, w, sv);
    }
    char info[64];
    snprintf(info, sizeof info, "gid %u%s", gid, core_session_answered(u->ses, gid) ? "  (answered by you)" : "");
    if (spare-- > 0) put_clip(y++, x, w, info);
    const char *notes = label_notes_line(u, gid);
    if (notes[0] && spare-- > 0) {
        char nl[sizeof u->notes + 8], safe_n[sizeof nl * 2];
        snprintf(nl, sizeof nl, "notes: %s", notes);
        tui_text_sanitize(nl, safe_n, sizeof safe_n, !u->utf8);
        put_clip(y++, x, w, safe_n);
    }
    if (spare-- > 0) y++;
    if (u->schema.kind == CORE_TASK_RATING) {
        attron(A_BOLD);
        y = put_wrapped(y, x, w, max_y, "How interesting is this galaxy?");
        attroff(A_BOLD);
        static const char *const words[] = {"nothing special", "a little", "somewhat", "interesting", "very", "remarkable"};
        for (int r = u->schema.rating_min; r <= u->schema.rating_max && y <= max_y; r++) {
            char line[96];
            snprintf(line, sizeof line, " %d  %s", r, r >= 0 && r <= 5 ? words[r] : "");
            put_clip(y++, x, w, line);
        }
    } else {
        int q = core_session_question(u->ses);
        if (q >= 0) {
            const core_question *cq = &u->schema.q[q];
            /* schema texts can come from a user's file: sanitised like catalog text */
            char qt[240], safe_t[200];
            tui_text_sanitize(cq->text, safe_t, sizeof safe_t, !u->utf8);
            snprintf(qt, sizeof qt, "%d. %s", s.n_path + 1, safe_t);
            attron(A_BOLD);
            y = put_wrapped(y, x, w, max_y, qt);
            attroff(A_BOLD);
            int label_w = 0;
            for (int a = 0; a < cq->n_answers; a++) {
                int l = (int)strlen(cq->answers[a].text);
                if (l > label_w) label_w = l;
            }
            if (label_w > 24) label_w = 24;
            int show = label_show_pred(u);
            for (int a = 0; a < cq->n_answers && y <= max_y; a++) {
                char line[128], safe_a[64];
                tui_text_sanitize(cq->answers[a].text, safe_a, sizeof safe_a, !u->utf8);
                snprintf(line, sizeof line, " %d  %-*.*s", a == 9 ? 0 : a + 1, label_w, label_w, safe_a);
                put_clip(y, x, w, line);
                int col = u->col_of[q][a];
                int bx = x + 6 + label_w, bw = w - 6 - label_w - 6;
                if (bw > 20) bw = 20;
                if (show && u->n_pred > 0 && col >= 0 && col < u->n_pred && bw >= 4) draw_bar(u, y, bx, bw, u->pred[col]);
                y++;
            }
            if (core_session_can_abstain(u->ses) && y <= max_y) {
                char line[64];
                snprintf(line, sizeof line, " %d  can't tell", cq->n_answers + 1);
                put_clip(y++, x, w, line);
            }
            int pq[STORE_STEPS_MAX], pa[STORE_STEPS_MAX];
            int np = core_session_path(u->ses, pq, pa, STORE_STEPS_MAX);
            if (np > 0 && y + 1 <= max_y) {
                char path[512] = "so far:";
                for (int i = 0; i < np; i++) {
                    size_t l = strlen(path);
                    char safe_p[64];
                    const core_question *pqq = &u->schema.q[pq[i]];
                    tui_text_sanitize(pa[i] < pqq->n_answers ? pqq->answers[pa[i]].text : "can't tell", safe_p, sizeof safe_p,
                                      !u->utf8);
                    snprintf(path + l, sizeof path - l, " %s", safe_p);
                    if (i + 1 < np) strncat(path, ",", sizeof path - strlen(path) - 1);
                }
                y = put_wrapped(y + 1, x, w, max_y, path);
            }
        }
    }
    const char *m = u->msg[0] ? u->msg : core_session_message(u->ses);
    if (m[0]) {
        attron(A_BOLD);
        put_wrapped(y + 1 <= max_y ? y + 1 : max_y, x, w, max_y + 1, m);
        attroff(A_BOLD);
    }
    if (!tui_gfx_images(u->gfx)) return;
    draw_view_line(u, gid);
}

/* ---- help: every action with all its keys, laid out for the screen */

#define HELP_MAX TUI_ACT__COUNT

typedef struct {
    char keys[192];         /* the keys, space-separated */
    char help[96];
    int h;                  /* rows in the chosen layout */
    int page, col, row;
} help_entry;

/* The entries: the answer keys as one line, then every other action. */
static int help_entries(ui *u, help_entry *e)
{
    int n = 0;
    memset(&e[0], 0, sizeof e[0]);
    for (int a = TUI_ACT_ANSWER_1; a <= TUI_ACT_ANSWER_0; a++) {
        char k[128];
        tui_keys_keys_of(&u->keys, (tui_action)a, k, sizeof k);
        size_t l = strlen(e[0].keys);
        if (k[0]) snprintf(e[0].keys + l, sizeof e[0].keys - l, "%s%s", l ? " " : "", k);
    }
    snprintf(e[0].help, sizeof e[0].help, u->schema.kind == CORE_TASK_RATING ? "rate %d-%d" : "answer 1-9, 10th; grid: mark tile 1-10",
             u->schema.rating_min, u->schema.rating_max);
    n = 1;
    for (int a = TUI_ACT_ANSWER_0 + 1; a < TUI_ACT__COUNT && n < HELP_MAX; a++, n++) {
        char k[160];
        tui_keys_keys_of(&u->keys, (tui_action)a, k, sizeof k);
        snprintf(e[n].keys, sizeof e[n].keys, "%s", k[0] ? k : "(unbound)");
        snprintf(e[n].help, sizeof e[n].help, "%s", tui_keys_action_help((tui_action)a));
    }
    for (int i = 0; i < n; i++)       /* "a, b" -> "a b": narrower */
        for (char *c = e[i].keys; (c = strstr(c, ", ")); ) memmove(c, c + 1, strlen(c + 1) + 1);
    return n;
}

/* Places the entries in ncol columns of colw and rows rows a page; returns
 * the pages needed (0 when a column is too narrow for the text). */
static int help_pack_kw(help_entry *e, int n, int ncol, int kw, int hw, int rows)
{
    int page = 0, col = 0, row = 0;
    for (int i = 0; i < n; i++) {
        int hk = wrap(0, 0, kw, 1 << 20, e[i].keys, 0), hh = wrap(0, 0, hw, 1 << 20, e[i].help, 0);
        e[i].h = hk > hh ? hk : hh;
        if (e[i].h > rows) return 0;
        if (row + e[i].h > rows) { row = 0; if (++col == ncol) { col = 0; page++; } }
        e[i].page = page;
        e[i].col = col;
        e[i].row = row;
        row += e[i].h;
    }
    return page + 1;
}

/* Places the entries in ncol columns of colw and rows rows a page, with the
 * key column's width that needs the fewest pages, then the fewest rows (at
 * least the longest key name, so none is broken, where the column allows);
 * returns the pages needed (0 when a column is too narrow for the text). */
static int help_pack(help_entry *e, int n, int ncol, int colw, int rows, int *keyw)
{
    int longest = 0, word = 6;
    for (int i = 0; i < n; i++) {
        int l = (int)strlen(e[i].keys);
        if (l > longest) longest = l;
        for (const char *p = e[i].keys; *p; ) {
            int wl = (int)strcspn(p, " ");
            if (wl > word) word = wl;
            p += wl + (p[wl] == ' ');
        }
    }
    int kmax = longest < colw * 2 / 5 ? longest : colw * 2 / 5, kmin = word < kmax ? word : kmax;
    int best = 0, best_rows = 0, best_kw = 0;
    for (int kw = kmin; kw <= kmax; kw++) {
        int hw = colw - kw - 3;         /* a space between keys and text, two between columns */
        if (hw < 12) break;
        int pages = help_pack_kw(e, n, ncol, kw, hw, rows), used = 0;
        for (int i = 0; i < n; i++) used += e[i].h;
        if (pages > 0 && (best == 0 || pages < best || (pages == best && used < best_rows))) {
            best = pages;
            best_rows = used;
            best_kw = kw;
        }
    }
    if (best == 0) return 0;
    *keyw = best_kw;
    return help_pack_kw(e, n, ncol, best_kw, colw - best_kw - 3, rows);
}

static void draw_help(ui *u)
{
    help_entry e[HELP_MAX];
    int n = help_entries(u, e);
    int rows = LINES - 2;                   /* rows 1 .. LINES-2; the last line says how to remap */
    /* the fewest pages, then the fewest (widest) columns */
    int best = 0, best_pages = 0, keyw = 0;
    for (int ncol = 1; ncol <= 6; ncol++) {
        int kw, pages = help_pack(e, n, ncol, (COLS - 1) / ncol, rows, &kw);
        if (pages > 0 && (best == 0 || pages < best_pages)) { best = ncol; best_pages = pages; }
    }
    if (best == 0) { best = 1; best_pages = 0; }
    int colw = (COLS - 1) / best;
    if (help_pack(e, n, best, colw, rows, &keyw) == 0) {   /* too small for any layout: one entry a line */
        keyw = colw / 3;
        for (int i = 0; i < n; i++) { e[i].h = 1; e[i].col = 0; e[i].page = i / rows; e[i].row = i % rows; }
        best_pages = (n + rows - 1) / rows;
    }
    u->help_pages = best_pages;
    if (u->help_page >= best_pages) u->help_page = 0;
    char title[96];
    if (best_pages > 1)
        snprintf(title, sizeof title, " keys, page %d of %d (any key: next; Esc: back)", u->help_page + 1, best_pages);
    else
        snprintf(title, sizeof title, " zoosh label: keys (any key returns)");
    attron(A_BOLD);
    put_clip(0, 0, COLS, title);
    attroff(A_BOLD);
    int hw = colw - keyw - 3;
    for (int i = 0; i < n; i++) {
        if (e[i].page != u->help_page) continue;
        int x = 1 + e[i].col * colw, y = 1 + e[i].row, max_y = y + e[i].h - 1;
        attron(A_BOLD);
        wrap(y, x, keyw, max_y, e[i].keys, 1);
        attroff(A_BOLD);
        wrap(y, x + keyw + 1, hw, max_y, e[i].help, 1);
    }
    put_clip(LINES - 1, 0, COLS - 1, " --keys FILE remaps: \"undo x\", \"unbind q\"");
}

/* ---- grids: a page of tiles, each an image with its id and score below */

int label_grid_layout(ui *u)
{
    tui_gfx_box tile;
    tui_gfx_tile(u->gfx, &tile);
    u->grid_px = tile.px_w;
    u->grid_tile_cols = tile.cols;
    u->grid_tile_rows = tile.rows < 2 ? 2 : tile.rows;      /* text: the id, then the score */
    u->grid_cols = (COLS - 1) / u->grid_tile_cols;
    if (u->grid_cols < 1) u->grid_cols = 1;
    int rows = (LINES - 4) / u->grid_tile_rows;            /* a message, the status and the keys below */
    int cap = rows * u->grid_cols;
    return cap < 1 ? 1 : cap > GRID_MAX ? GRID_MAX : cap;
}

/* s cut to w columns in the middle ("J1234~5.6"): the distinguishing end of
 * an id stays visible.  Counts UTF-8 characters as one column each. */
static void mid_ellipsis(const char *s, char *out, size_t len, int w, int utf8)
{
    int n = 0;
    for (const char *p = s; *p; p++) n += ((unsigned char)*p & 0xc0) != 0x80;
    if (n <= w || w < 5) { snprintf(out, len, "%s", s); return; }
    int head = (w - 1) / 3, tail = w - 1 - head, c = 0;
    const char *p = s, *h_end = NULL, *t_start = NULL;
    for (; *p; p++) {
        if (((unsigned char)*p & 0xc0) == 0x80) continue;
        if (c == head) h_end = p;
        if (c == n - tail) t_start = p;
        c++;
    }
    snprintf(out, len, "%.*s%s%s", (int)(h_end - s), s, utf8 ? "\xe2\x80\xa6" : "~", t_start);
}

/* The tile's second line after its mark: the model's probability of the
 * feature (queue) or the distance (similar), and whether this user
 * answered it; short, to fit a sixel tile's 13 columns. */
static void tile_score(ui *u, int i, uint32_t gid, char *out, size_t len)
{
    int l = 0;
    if (u->grid_similar) {
        l = snprintf(out, len, "d %.3g", u->grid_dist[i]);
    } else if (u->grid_clusters) {
        l = snprintf(out, len, "d %.3g", core_grid_dist(u->page, i));
    } else {
        label_load_pred(u, gid);
        int col = u->col_of[0][0];
        if (label_show_pred(u) && col >= 0 && col < u->n_pred) l = snprintf(out, len, "p %.2f", u->pred[col]);
        else l = snprintf(out, len, "rank %d", i + 1);
    }
    if (l > 0 && (size_t)l < len && core_session_answered(u->ses, gid)) snprintf(out + l, len - (size_t)l, " yours");
}

static void draw_grid(ui *u)
{
    int cap = label_grid_layout(u);
    if (core_grid_n(u->page) > cap) core_grid_truncate(u->page, cap);
    int n = core_grid_n(u->page);
    if (u->grid_sel >= n) u->grid_sel = n > 0 ? n - 1 : 0;
    char title[320], feat[40] = "";
    if (u->grid_label) tui_text_sanitize(u->schema.q[0].answers[0].text, feat, sizeof feat, !u->utf8);
    const char *what = u->grid_similar ? "most similar galaxies" : "the coming queue";
    char cl[120];
    core_grid_cluster ci;
    if (u->grid_clusters && core_grid_cluster_info(u->page, &ci) == 0) {
        if (ci.why == CORE_CLUSTER_LARGEST)
            snprintf(cl, sizeof cl, "cluster %d of %d, the %slargest (%d of its %d left)", ci.index + 1, ci.n_clusters,
                     ci.index > 0 ? "next " : "", ci.left, ci.size);
        else
            snprintf(cl, sizeof cl, "cluster %d of %d, unusual: its centre %.3g from the others (%d of %d left)",
                     ci.index + 1, ci.n_clusters, ci.unusual, ci.left, ci.size);
        what = cl;
    }
    if (u->grid_rate)
        snprintf(title, sizeof title, " %s: page of %d, %d rated, %d marked", what, n, core_grid_n_rated(u->page),
                 core_grid_n_marked(u->page));
    else if (u->grid_label)
        snprintf(title, sizeof title, " %s: page of %d, %d marked %s (the others: %s)", what, n,
                 core_grid_n_marked(u->page), feat, u->schema.q[0].answers[1].key);
    else
        snprintf(title, sizeof title, " %s (arrows + Enter open one, Esc back)", what);
    attron(A_BOLD);
    put_clip(0, 0, COLS, title);
    attroff(A_BOLD);
    int tw = u->grid_tile_cols - 1;
    for (int i = 0; i < n; i++) {
        int r = i / u->grid_cols, c = i % u->grid_cols;
        int y = 1 + r * u->grid_tile_rows, x = 1 + c * u->grid_tile_cols;
        uint32_t gid = core_grid_gid(u->page, i);
        int mark = core_grid_marked(u->page, i);
        label_load_meta(u, gid);
        /* the id on the whole width; under it the digit that marks the tile
         * (tiles 1-10), the mark and the score */
        char id[sizeof u->id + 8], line[96], score[64], pre[8] = "";
        int rating;
        if (u->grid_rate)        /* the mark, then the rating given ("-" none yet) */
            snprintf(pre, sizeof pre, "[%c]%c ", mark ? 'x' : ' ',
                     !core_grid_rating(u->page, i, &rating) ? '-' : rating >= 0 && rating <= 9 ? '0' + rating : '?');
        else if (u->grid_label)
            snprintf(pre, sizeof pre, "%c[%c] ", i < 10 ? "1234567890"[i] : ' ', mark ? 'x' : ' ');
        mid_ellipsis(u->id, id, sizeof id, tw, u->utf8);
        int attr = (i == u->grid_sel ? A_REVERSE : 0) | (mark ? A_BOLD : 0);
        if (attr) attron(attr);
        put_clip(y + u->grid_tile_rows - 2, x, tw, id);
        if (attr) attroff(attr);
        tile_score(u, i, gid, score, sizeof score);
        snprintf(line, sizeof line, "%s%s", pre, score);
        if (mark) attron(A_BOLD);
        put_clip(y + u->grid_tile_rows - 1, x, tw, line);
        if (mark) attroff(A_BOLD);
    }
    u->meta_gid = 0;
    u->pred_gid = 0;
    if (n == 0)
        put_clip(2, 1, COLS - 2, u->grid_similar ? "no similar galaxies (no representations: zoosh embed)"
                                 : u->grid_clusters ? "every clustered galaxy is labelled" : "the queue is empty");
    const char *m = u->msg[0] ? u->msg : core_session_message(u->ses);
    if (m[0]) {
        attron(A_BOLD);
        put_clip(LINES - 3, 1, COLS - 2, m);
        attroff(A_BOLD);
    }
    char a[16], b[16], c[16], d[16], e[16], keys[256];
    if (u->grid_rate)
        snprintf(keys, sizeof keys, " %d-%d rate the marked tiles, else every unrated  %s mark  %s save  %s next cluster  %s undo",
                 u->schema.rating_min, u->schema.rating_max, first_key(u, TUI_ACT_SKIP, a, sizeof a),
                 first_key(u, TUI_ACT_COMMIT, b, sizeof b), first_key(u, TUI_ACT_CLUSTERS, d, sizeof d),
                 first_key(u, TUI_ACT_UNDO, c, sizeof c));
    else if (u->grid_label && u->grid_clusters)
        snprintf(keys, sizeof keys, " 1-0 or arrows+%s mark %s  %s save page  %s next cluster  %s undo  %s invert marks",
                 first_key(u, TUI_ACT_SKIP, a, sizeof a), feat, first_key(u, TUI_ACT_COMMIT, b, sizeof b),
                 first_key(u, TUI_ACT_CLUSTERS, d, sizeof d), first_key(u, TUI_ACT_UNDO, c, sizeof c),
                 first_key(u, TUI_ACT_INVERT, e, sizeof e));
    else if (u->grid_label)
        snprintf(keys, sizeof keys, " 1-0 or arrows+%s mark %s  %s save page  %s undo  Enter open  Esc back",
                 first_key(u, TUI_ACT_SKIP, a, sizeof a), feat, first_key(u, TUI_ACT_COMMIT, b, sizeof b),
                 first_key(u, TUI_ACT_UNDO, c, sizeof c));
    else
        snprintf(keys, sizeof keys, " arrows/hjkl move  Enter open one  %s help  %s back",
                 first_key(u, TUI_ACT_HELP, d, sizeof d), first_key(u, TUI_ACT_CANCEL, e, sizeof e));
    put_clip(LINES - 1, 0, COLS - 1, keys);
}

static void draw_grid_images(ui *u)
{
    if (!tui_gfx_images(u->gfx)) return;
    int n = core_grid_n(u->page);
    for (int i = 0; i < n; i++) {
        int r = i / u->grid_cols, c = i % u->grid_cols;
        int y = 1 + r * u->grid_tile_rows, x = 1 + c * u->grid_tile_cols;
        label_image_put(u, label_image_get(u, core_grid_gid(u->page, i), u->grid_px, u->grid_px), y, x);
    }
}

static void draw_order(ui *u)
{
    int x = u->text_x, w = COLS - x - 1, max_y = LINES - 4;
    attron(A_BOLD);
    int y0 = put_wrapped(1, x, w, max_y, "Queue order (Enter or digit chooses, Esc back):") + 1;
    attroff(A_BOLD);
    int n = label_menu_n();
    /* each order's help whole, wrapped under its name, when the rows allow;
     * else one row each, cut at the pane's edge */
    int need = 0;
    for (int i = 0; i < n; i++) need += 1 + wrap(0, 0, w - 5, 1 << 20, core_order_help((core_order)label_menu_order(i)), 0);
    int wrapped = y0 + need <= max_y + 1;
    int y = y0;
    for (int i = 0; i < n && y <= max_y; i++) {
        int ord = label_menu_order(i);
        char line[160];
        if (wrapped)
            snprintf(line, sizeof line, " %d  %s%s", i + 1, core_order_name((core_order)ord), ord == u->order ? "  (now)" : "");
        else   /* "(now)" before the help, which the pane may cut */
            snprintf(line, sizeof line, " %d  %-9s %-5s  %s", i + 1, core_order_name((core_order)ord),
                     ord == u->order ? "(now)" : "", core_order_help((core_order)ord));
        if (i == u->order_sel) attron(A_REVERSE);
        put_clip(y++, x, w, line);
        if (i == u->order_sel) attroff(A_REVERSE);
        if (wrapped) y = put_wrapped(y, x + 5, w - 5, max_y, core_order_help((core_order)ord));
    }
    if (!u->tr && y + 1 <= max_y + 1) {
        put_clip(y + 1 <= max_y ? y + 1 : y, x, w, "(no background trainer: only catalog order)");
        y += 2;
    }
    if (y + 1 <= max_y) {    /* the other way through the galaxies, not an order of the queue */
        char k[16], t[160];
        snprintf(t, sizeof t, "%s: cluster pages, the unlabelled galaxies grouped by look, a page per group",
                 first_key(u, TUI_ACT_CLUSTERS, k, sizeof k));
        put_wrapped(y + 1, x, w, max_y, t);
    }
}

void label_draw(ui *u)
{
    u->radec_y = -1;
    if (LINES < MIN_ROWS || COLS < MIN_COLS) {
        erase();
        char m[96];
        snprintf(m, sizeof m, "terminal too small: %dx%d, need %dx%d", COLS, LINES, MIN_COLS, MIN_ROWS);
        put_clip(LINES / 2, 0, COLS, m);
        if (u->need_full) clearok(curscr, TRUE);
        wnoutrefresh(stdscr);
        doupdate();
        u->need_full = 0;
        u->need_image = 1;      /* when it grows again */
        return;
    }
    layout(u);
    /* sixels stay until their cells are repainted: leaving or entering a
     * full-screen overlay, or a screen that no longer has the image, repaints */
    int full_screen = u->mode == MODE_HELP || u->mode == MODE_GRID || u->mode == MODE_GUIDE;
    if (u->mode != u->drawn_mode && (full_screen || u->drawn_mode == MODE_HELP || u->drawn_mode == MODE_GRID ||
                                     u->drawn_mode == MODE_GUIDE))
        u->need_full = 1;
    if (u->image_on_screen && !full_screen && core_session_gid(u->ses) == 0) u->need_full = 1;
    u->drawn_mode = u->mode;
    erase();
    switch (u->mode) {
    case MODE_HELP: draw_help(u); break;
    case MODE_GRID: draw_grid(u); break;
    case MODE_GUIDE: label_guide_draw(u); break;
    case MODE_ORDER:
        draw_label(u);
        for (int y = 1; y < LINES - 3; y++) { move(y, u->text_x); clrtoeol(); }
        draw_order(u);
        break;
    default: draw_label(u); break;
    }
    if ((u->mode == MODE_LABEL || u->mode == MODE_ORDER || u->mode == MODE_JUMP || u->mode == MODE_NOTE) && u->box_cols > 0) {
        /* A rule between image and text on every body row: a row curses sees
         * as all blank it clears from column 0 (EL), which would erase the
         * image there; with the rule it only ever touches the text side. */
        mvvline(1, u->text_x - 2, ACS_VLINE, LINES - 3);
    }
    if (u->mode != MODE_HELP && u->mode != MODE_GUIDE) draw_status(u);
    if (u->mode == MODE_JUMP) {
        char p[STORE_ID_MAX + 40];
        snprintf(p, sizeof p, " jump to id: %s", u->jump);
        char safe[sizeof p];
        tui_text_sanitize(p, safe, sizeof safe, !u->utf8);
        move(LINES - 1, 0);
        clrtoeol();
        attron(A_BOLD);
        put_clip(LINES - 1, 0, COLS - 1, safe);
        attroff(A_BOLD);
    } else if (u->mode == MODE_NOTE) {
        label_note_prompt(u);
    } else if (u->mode == MODE_LABEL || u->mode == MODE_ORDER) {
        draw_hints(u);
    }
    if (u->need_full) {
        if (u->image_on_screen) tui_gfx_clear(u->gfx, STDOUT_FILENO);
        clearok(curscr, TRUE);
        u->image_on_screen = 0;
    }
    move(0, 0);                 /* the cursor parks top-left: never past the bottom line */
    wnoutrefresh(stdscr);
    doupdate();
    label_link_radec(u);
    if (u->need_full || u->need_image) {
        if (u->mode == MODE_GRID) {
            draw_grid_images(u);
            u->image_on_screen = core_grid_n(u->page) > 0;
        } else if (u->mode == MODE_GUIDE) {
            u->image_on_screen = label_guide_draw_images(u);
        } else if (u->mode != MODE_HELP && tui_gfx_images(u->gfx) && u->box_px_w > 0) {
            uint32_t gid = core_session_gid(u->ses);
            double t0 = core_mono_s();
            int hit = label_image_cached(u, gid, u->box_px_w, u->box_px_h);
            if (gid) {
                label_image_put(u, label_image_get(u, gid, u->box_px_w, u->box_px_h), u->img_y, u->img_x);
                u->image_on_screen = 1;
            }
            if (u->log) label_log(u, "image %u (%dx%d px at cell %d,%d): %s, %.2f ms (key -> image written in the labeler: %.2f ms)",
                              gid, u->box_px_w, u->box_px_h, u->img_y, u->img_x,
                              hit ? "prefetched" : "encoded now", (core_mono_s() - t0) * 1e3,
                              u->t_key > 0 ? (core_mono_s() - u->t_key) * 1e3 : -1.0);
        }
    }
    u->need_full = u->need_image = 0;
}
