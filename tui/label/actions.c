/*
 * actions.c - what a key does in each of the labeler's modes (label, help,
 * grid, order menu, jump prompt): answers and undo through the session
 * (core/session.h), the grids (pages of galaxies marked and saved at once
 * through core/grid.h), the jump, the choice of queue order.  Keys
 * come as actions from the key table (keys.h).  UI thread only (see ui.h).
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "tui/label/ui.h"
#include "tui/text.h"

/* A new galaxy starts centred (the zoom and stretch stay). */
static void galaxy_changed(ui *u, uint32_t before)
{
    if (core_session_gid(u->ses) == before) return;
    u->need_image = 1;
    u->view.pan_x = u->view.pan_y = 0;
}

/* The image view's keys: 1 when act was one. */
static int view_key(ui *u, tui_action act)
{
    core_view *v = &u->view;
    switch (act) {
    case TUI_ACT_INVERT: v->invert = !v->invert; break;
    case TUI_ACT_STRETCH: {
        uint32_t gid = core_session_gid(u->ses);
        const src_entry *e = gid ? label_image_src(u, gid) : NULL;
        core_view_stretch_next(v, e && e->ok ? &e->src : NULL);
        break;
    }
    case TUI_ACT_ZOOM_IN: core_view_zoom(v, 1); break;
    case TUI_ACT_ZOOM_OUT: core_view_zoom(v, -1); break;
    case TUI_ACT_LEFT: core_view_pan(v, -1, 0); break;
    case TUI_ACT_RIGHT: core_view_pan(v, 1, 0); break;
    case TUI_ACT_UP: core_view_pan(v, 0, -1); break;
    case TUI_ACT_DOWN: core_view_pan(v, 0, 1); break;
    case TUI_ACT_BLACK_DOWN: core_view_level(v, 0, -1); break;
    case TUI_ACT_BLACK_UP: core_view_level(v, 0, 1); break;
    case TUI_ACT_WHITE_DOWN: core_view_level(v, 1, -1); break;
    case TUI_ACT_WHITE_UP: core_view_level(v, 1, 1); break;
    case TUI_ACT_VIEW_RESET: *v = (core_view){0}; break;
    case TUI_ACT_BAND: {
        uint32_t gid = core_session_gid(u->ses);
        const src_entry *e = gid ? label_image_src(u, gid) : NULL;
        core_view_band_next(v, e && e->ok ? &e->src : NULL);
        break;
    }
    default: return 0;
    }
    u->need_image = 1;
    return 1;
}

/* The log (ZOOSH_LOG) names each page's galaxies as it comes: what a
 * scripted session (tools/grid_rate.sh) or a bug report reads. */
static void page_logged(ui *u)
{
    if (!u->log) return;
    char line[GRID_MAX * 11 + 64];
    int n = core_grid_n(u->page), l = snprintf(line, sizeof line, "page: %d tiles, gids", n);
    for (int i = 0; i < n && l > 0 && (size_t)l < sizeof line; i++)
        l += snprintf(line + l, sizeof line - (size_t)l, " %u", core_grid_gid(u->page, i));
    label_log(u, "%s", line);
}

static void grid_page_new(ui *u)
{
    if (!u->page) u->page = core_grid_new(u->ses, &u->schema, GRID_MAX);
    u->grid_label = core_grid_can_label(&u->schema, NULL, 0);
    u->grid_rate = core_grid_can_rate(&u->schema);
    u->grid_sel = 0;
    u->mode = MODE_GRID;
    u->need_full = 1;       /* a new page: the old tiles' images go */
}

static void open_similar(ui *u)
{
    uint32_t gid = core_session_gid(u->ses);
    grid_page_new(u);
    u->grid_similar = 1;
    u->grid_clusters = 0;
    if (!u->simix && !u->simix_failed) {       /* the similarity set, loaded once */
        if (core_labeler_similar_open(u->st, u->o.features, &u->simix) != 0) u->simix = NULL;
        u->simix_failed = u->simix == NULL;
    }
    uint32_t gids[GRID_MAX];
    int k = 0;
    if (gid && u->simix) {
        k = core_repr_index_query(u->simix, gid, label_grid_layout(u), gids, u->grid_dist);
        if (k < 0) k = 0;
    }
    core_grid_set(u->page, gids, k);
}

void label_open_grid(ui *u)
{
    grid_page_new(u);
    u->grid_similar = u->grid_clusters = 0;
    core_grid_fill_queue(u->page, label_grid_layout(u));
    page_logged(u);
}

#define CLUSTER_SEED 1      /* the same clusters each time the labeler opens them on the same galaxies */

int label_open_clusters(ui *u)
{
    int mode = u->mode;
    grid_page_new(u);
    if (!u->clusters_open) {      /* clustered once a session: the unlabelled galaxies of now */
        char err[200];
        double t0 = core_mono_s();
        int rc = core_grid_clusters_open(u->page, u->st, u->o.features, CLUSTER_SEED, err, sizeof err);
        if (u->log) label_log(u, "clusters: made in %.1f ms (rc %d)", (core_mono_s() - t0) * 1e3, rc);
        if (rc) {
            tui_text_sanitize(err, u->msg, sizeof u->msg, !u->utf8);
            u->mode = mode;
            return -1;
        }
        u->clusters_open = 1;
    }
    u->grid_similar = 0;
    u->grid_clusters = 1;
    core_grid_fill_cluster(u->page, label_grid_layout(u));
    page_logged(u);
    return 0;
}

/* A key in a grid. */
static void grid_key(ui *u, tui_action act, uint32_t before)
{
    int cols = u->grid_cols > 0 ? u->grid_cols : 1, n = core_grid_n(u->page);
    switch (act) {
    case TUI_ACT_LEFT: if (u->grid_sel > 0) u->grid_sel--; break;
    case TUI_ACT_RIGHT: if (u->grid_sel + 1 < n) u->grid_sel++; break;
    case TUI_ACT_UP: if (u->grid_sel >= cols) u->grid_sel -= cols; break;
    case TUI_ACT_DOWN: if (u->grid_sel + cols < n) u->grid_sel += cols; break;
    case TUI_ACT_ANSWER_1: case TUI_ACT_ANSWER_2: case TUI_ACT_ANSWER_3: case TUI_ACT_ANSWER_4:
    case TUI_ACT_ANSWER_5: case TUI_ACT_ANSWER_6: case TUI_ACT_ANSWER_7: case TUI_ACT_ANSWER_8:
    case TUI_ACT_ANSWER_9: case TUI_ACT_ANSWER_0: {      /* a digit marks tile 1..10 directly */
        int t = act == TUI_ACT_ANSWER_0 ? 9 : (int)(act - TUI_ACT_ANSWER_1);
        if (u->grid_rate) {     /* a rating page: the digit is the rating */
            int r = act == TUI_ACT_ANSWER_0 ? 0 : t + 1;
            if (core_grid_rate(u->page, r) == 0 && core_grid_n(u->page) > 0)
                snprintf(u->msg, sizeof u->msg, "rate from %d to %d (every tile is rated: w saves the page)",
                         u->schema.rating_min, u->schema.rating_max);
            break;
        }
        if (t >= n) break;
        u->grid_sel = t;
        if (u->grid_label) core_grid_toggle(u->page, t);
        else core_grid_can_label(&u->schema, u->msg, sizeof u->msg);
        break;
    }
    case TUI_ACT_INVERT:    /* i: every mark turned over */
        if (u->grid_label || u->grid_rate) core_grid_invert(u->page);
        else core_grid_can_label(&u->schema, u->msg, sizeof u->msg);
        break;
    case TUI_ACT_SKIP:      /* Space marks the tile */
        if (u->grid_label || u->grid_rate) core_grid_toggle(u->page, u->grid_sel);
        else core_grid_can_label(&u->schema, u->msg, sizeof u->msg);
        break;
    case TUI_ACT_COMMIT: {
        if (!u->grid_label && !u->grid_rate) { core_grid_can_label(&u->schema, u->msg, sizeof u->msg); break; }
        if (u->grid_rate && core_grid_n_rated(u->page) == 0) {
            snprintf(u->msg, sizeof u->msg, "nothing rated yet: a digit rates every tile (or the marked ones)");
            break;
        }
        if (u->grid_rate) n = core_grid_n_rated(u->page);
        double t0 = core_mono_s();
        int rc = core_grid_commit(u->page, label_grid_layout(u));
        if (u->log) label_log(u, "page: commit %d answers %.2f ms (rc %d)", n, (core_mono_s() - t0) * 1e3, rc);
        if (rc != 0) break;
        page_logged(u);
        u->since_retrain += n;
        label_retrain_maybe(u, 0);
        u->grid_sel = 0;
        u->need_full = 1;
        if (u->grid_similar) {     /* the s page done: back to the galaxy */
            u->grid_similar = 0;
            u->mode = MODE_LABEL;
        }
        galaxy_changed(u, before);
        break;
    }
    case TUI_ACT_UNDO:     /* the page comes back with its marks */
        core_grid_undo(u->page, label_grid_layout(u));
        page_logged(u);
        u->grid_similar = 0;
        u->grid_clusters = core_grid_cluster_info(u->page, &(core_grid_cluster){0}) == 0;
        u->grid_sel = 0;
        u->need_full = 1;
        galaxy_changed(u, before);
        break;
    case TUI_ACT_SELECT:
        if (n > 0) core_session_jump(u->ses, core_grid_gid(u->page, u->grid_sel));
        u->mode = MODE_LABEL;
        u->need_image = 1;
        galaxy_changed(u, before);
        break;
    case TUI_ACT_HELP: u->help_back = MODE_GRID; u->mode = MODE_HELP; break;
    case TUI_ACT_REDRAW: u->need_full = 1; break;
    case TUI_ACT_CLUSTERS:
        if (!u->grid_clusters) { label_open_clusters(u); break; }
        core_grid_next_cluster(u->page, label_grid_layout(u));     /* this cluster for later: the next one */
        page_logged(u);
        u->grid_sel = 0;
        u->need_full = 1;
        break;
    case TUI_ACT_CANCEL: case TUI_ACT_GRID: case TUI_ACT_SIMILAR: case TUI_ACT_QUIT:
        u->mode = MODE_LABEL;
        u->need_image = 1;
        break;
    default: break;
    }
}

static void do_jump(ui *u)
{
    uint32_t gid = 0, before = core_session_gid(u->ses);
    int rc = core_labeler_galaxy_find(u->st, u->jump, &gid);
    char safe[80];
    tui_text_sanitize(u->jump, safe, sizeof safe, !u->utf8);
    if (rc != 0 || core_session_jump(u->ses, gid) != 0) snprintf(u->msg, sizeof u->msg, "no galaxy with id '%s'", safe);
    galaxy_changed(u, before);
}

/* Row i of the o menu. */
static void choose_order(ui *u, int i)
{
    if (i < 0 || i >= label_menu_n()) return;
    int ord = label_menu_order(i);
    const char *name = core_order_name((core_order)ord);
    if (ord == CORE_ORDER_CATALOG) {
        core_session_set_queue(u->ses, NULL, 0);
        u->order = u->chosen = CORE_ORDER_CATALOG;
        snprintf(u->msg, sizeof u->msg, "catalog order");
    } else if (!u->tr) {
        snprintf(u->msg, sizeof u->msg, "ordering by %s needs the background trainer (it did not start)", name);
    } else {
        u->order = u->chosen = ord;
        tui_trainer_submit(u->tr, name);
        u->since_retrain = 0;
        u->last_submit = core_mono_s();
        snprintf(u->msg, sizeof u->msg, "re-ranking by %s in the background", name);
    }
}

/* Blind: after an answer, what the model had said of that question, as
 * feedback the volunteer sees only once the answer is given. */
static void model_after_answer(ui *u, uint32_t gid, int q, int choice)
{
    if (label_show_pred(u) || q < 0 || u->pred_gid != gid || u->n_pred <= 0) return;
    const core_question *cq = &u->schema.q[q];
    if (choice < 0 || choice >= cq->n_answers) return;
    char you[64], line[sizeof u->msg];
    tui_text_sanitize(cq->answers[choice].text, you, sizeof you, !u->utf8);
    int l = snprintf(line, sizeof line, "you: %s; the model:", you);
    for (int a = 0; a < cq->n_answers && l > 0 && (size_t)l < sizeof line; a++) {
        int col = u->col_of[q][a];
        if (col < 0 || col >= u->n_pred) continue;
        char t[40];
        tui_text_sanitize(cq->answers[a].text, t, sizeof t, !u->utf8);
        l += snprintf(line + l, sizeof line - (size_t)l, " %s %.2f", t, u->pred[col]);
    }
    snprintf(u->msg, sizeof u->msg, "%s", line);
}

/* Returns 1 to quit. */
int label_handle_key(ui *u, int ch)
{
    if (ch == KEY_RESIZE) {
        tui_gfx_moved(u->gfx);      /* inside tmux the pane may have moved */
        u->need_full = 1;
        return 0;
    }
    tui_action act = tui_keys_lookup(&u->keys, ch);
    uint32_t before = core_session_gid(u->ses);

    if (u->mode == MODE_HELP) {      /* any key: the next page, or back */
        if (act != TUI_ACT_CANCEL && act != TUI_ACT_QUIT && u->help_page + 1 < u->help_pages) {
            u->help_page++;
            return 0;
        }
        u->help_page = 0;
        u->mode = u->help_back == MODE_GRID ? MODE_GRID : MODE_LABEL;
        u->help_back = MODE_LABEL;
        u->need_image = 1;
        return 0;
    }
    if (u->mode == MODE_JUMP) {
        size_t n = strlen(u->jump);
        if (ch == 27) u->mode = MODE_LABEL;
        else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) { u->mode = MODE_LABEL; if (n) do_jump(u); }
        else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
            while (n > 0 && ((unsigned char)u->jump[n - 1] & 0xc0) == 0x80) n--;
            if (n > 0) n--;
            u->jump[n] = 0;
        } else if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && n + 1 < sizeof u->jump && n + 1 <= STORE_ID_MAX) {
            u->jump[n] = (char)ch;
            u->jump[n + 1] = 0;
        }
        return 0;
    }
    if (u->mode == MODE_GUIDE) {
        label_guide_key(u, act);
        return 0;
    }
    if (u->mode == MODE_NOTE) {
        label_note_key(u, ch);
        return 0;
    }
    if (u->mode == MODE_GRID) {
        u->msg[0] = 0;
        grid_key(u, act, before);
        return 0;
    }
    if (u->mode == MODE_ORDER) {
        if (act >= TUI_ACT_ANSWER_1 && act <= TUI_ACT_ANSWER_9) {
            choose_order(u, act - TUI_ACT_ANSWER_1);
            u->mode = MODE_LABEL;
        } else if (act == TUI_ACT_UP) {
            if (u->order_sel > 0) u->order_sel--;
        } else if (act == TUI_ACT_DOWN) {
            if (u->order_sel + 1 < label_menu_n()) u->order_sel++;
        } else if (act == TUI_ACT_SELECT) {
            choose_order(u, u->order_sel);
            u->mode = MODE_LABEL;
        } else if (act == TUI_ACT_CANCEL || act == TUI_ACT_ORDER || act == TUI_ACT_QUIT) {
            u->mode = MODE_LABEL;
        }
        galaxy_changed(u, before);
        return 0;
    }

    u->msg[0] = 0;
    if (view_key(u, act)) return 0;
    if (act >= TUI_ACT_ANSWER_1 && act <= TUI_ACT_ANSWER_0) {
        int digit = act == TUI_ACT_ANSWER_0 ? 0 : act - TUI_ACT_ANSWER_1 + 1;
        int choice = u->schema.kind == CORE_TASK_RATING ? digit : (digit == 0 ? 9 : digit - 1);
        double t0 = core_mono_s();
        int q = u->schema.kind == CORE_TASK_TREE ? core_session_question(u->ses) : -1;
        int rc = core_session_answer(u->ses, choice);
        if (rc == 0) model_after_answer(u, before, q, choice);
        if (u->log) label_log(u, "answer: commit %.2f ms", (core_mono_s() - t0) * 1e3);
        if (rc == 0 && core_session_gid(u->ses) != before) {
            u->since_retrain++;
            label_retrain_maybe(u, 0);
        }
        if (rc != 0 && rc != 1) label_log(u, "commit failed: %s", core_session_message(u->ses));
        galaxy_changed(u, before);
        return 0;
    }
    switch (act) {
    case TUI_ACT_UNDO: core_session_undo(u->ses); break;
    case TUI_ACT_SKIP: core_session_skip(u->ses); break;
    case TUI_ACT_FAVOURITE: core_session_favourite(u->ses); break;
    case TUI_ACT_SIMILAR: open_similar(u); break;
    case TUI_ACT_GRID: label_open_grid(u); break;
    case TUI_ACT_CLUSTERS: label_open_clusters(u); break;
    case TUI_ACT_COMMIT:
        snprintf(u->msg, sizeof u->msg, "%s saves a grid's page: %s opens one", tui_keys_keys_of(&u->keys, TUI_ACT_COMMIT, (char[32]){0}, 32),
                 tui_keys_keys_of(&u->keys, TUI_ACT_GRID, (char[32]){0}, 32));
        break;
    case TUI_ACT_JUMP: u->mode = MODE_JUMP; u->jump[0] = 0; break;
    case TUI_ACT_ORDER:
        u->mode = MODE_ORDER;
        u->order_sel = 0;
        for (int i = 0; i < label_menu_n(); i++) if (label_menu_order(i) == u->order) u->order_sel = i;
        break;
    case TUI_ACT_HELP: u->mode = MODE_HELP; break;
    case TUI_ACT_GUIDE: label_guide_open(u); break;
    case TUI_ACT_NOTE: if (core_session_gid(u->ses)) label_note_open(u); break;
    case TUI_ACT_QUIT: return 1;
    case TUI_ACT_BLIND:
        u->pred_flip = !u->pred_flip;
        snprintf(u->msg, sizeof u->msg, "the model's probabilities are %s", label_show_pred(u) ? "shown" : "hidden until you answer");
        break;
    case TUI_ACT_VIEW: case TUI_ACT_CANCEL:
        if (act == TUI_ACT_CANCEL && !u->large) break;
        u->large = !u->large;
        u->need_full = 1;      /* the box changes size: repaint everything */
        break;
    case TUI_ACT_REDRAW: u->need_full = 1; break;
    default: break;
    }
    galaxy_changed(u, before);
    return 0;
}
