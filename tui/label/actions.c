/*
 * actions.c - what a key does in each of the labeler's modes (label, help,
 * grid, order menu, jump prompt): answers and undo through the session
 * (core/session.h), the grids, the jump, the choice of queue order.  Keys
 * come as actions from the key table (keys.h).  UI thread only (see ui.h).
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "tui/label/ui.h"
#include "tui/text.h"

static void galaxy_changed(ui *u, uint32_t before)
{
    if (core_session_gid(u->ses) != before) u->need_image = 1;
}

static void open_similar(ui *u)
{
    uint32_t gid = core_session_gid(u->ses);
    u->n_grid = 0;
    u->grid_sel = 0;
    u->grid_similar = 1;
    if (!u->simix && !u->simix_failed) {       /* the similarity set, loaded once */
        if (core_labeler_similar_open(u->st, u->o.features, &u->simix) != 0) u->simix = NULL;
        u->simix_failed = u->simix == NULL;
    }
    if (gid && u->simix) {
        int k = core_repr_index_query(u->simix, gid, GRID_MAX, u->grid, NULL);
        u->n_grid = k > 0 ? k : 0;
    }
    u->mode = MODE_GRID;
    u->need_image = 1;
}

static void open_queue_grid(ui *u)
{
    u->grid_similar = 0;
    u->grid_sel = 0;
    u->n_grid = core_session_peek(u->ses, u->grid, GRID_MAX);
    u->mode = MODE_GRID;
    u->need_image = 1;
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

/* Returns 1 to quit. */
int label_handle_key(ui *u, int ch)
{
    if (ch == KEY_RESIZE) {
        u->need_full = 1;
        return 0;
    }
    tui_action act = tui_keys_lookup(&u->keys, ch);
    uint32_t before = core_session_gid(u->ses);

    if (u->mode == MODE_HELP) {
        u->mode = MODE_LABEL;
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
    if (u->mode == MODE_GRID) {
        int cols = u->grid_cols > 0 ? u->grid_cols : 1;
        switch (act) {
        case TUI_ACT_LEFT: if (u->grid_sel > 0) u->grid_sel--; break;
        case TUI_ACT_RIGHT: if (u->grid_sel + 1 < u->n_grid) u->grid_sel++; break;
        case TUI_ACT_UP: if (u->grid_sel >= cols) u->grid_sel -= cols; break;
        case TUI_ACT_DOWN: if (u->grid_sel + cols < u->n_grid) u->grid_sel += cols; break;
        case TUI_ACT_SELECT:
            if (u->n_grid > 0) core_session_jump(u->ses, u->grid[u->grid_sel]);
            u->mode = MODE_LABEL;
            u->need_image = 1;
            break;
        case TUI_ACT_CANCEL: case TUI_ACT_GRID: case TUI_ACT_SIMILAR: case TUI_ACT_QUIT:
            u->mode = MODE_LABEL;
            u->need_image = 1;
            break;
        default: break;
        }
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
    if (act >= TUI_ACT_ANSWER_1 && act <= TUI_ACT_ANSWER_0) {
        int digit = act == TUI_ACT_ANSWER_0 ? 0 : act - TUI_ACT_ANSWER_1 + 1;
        int choice = u->schema.kind == CORE_TASK_RATING ? digit : (digit == 0 ? 9 : digit - 1);
        double t0 = core_mono_s();
        int rc = core_session_answer(u->ses, choice);
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
    case TUI_ACT_GRID: open_queue_grid(u); break;
    case TUI_ACT_JUMP: u->mode = MODE_JUMP; u->jump[0] = 0; break;
    case TUI_ACT_ORDER:
        u->mode = MODE_ORDER;
        u->order_sel = 0;
        for (int i = 0; i < label_menu_n(); i++) if (label_menu_order(i) == u->order) u->order_sel = i;
        break;
    case TUI_ACT_HELP: u->mode = MODE_HELP; break;
    case TUI_ACT_QUIT: return 1;
    case TUI_ACT_INVERT: u->view.invert = !u->view.invert; u->need_image = 1; break;
    case TUI_ACT_STRETCH: u->view.stretch = (u->view.stretch + 1) % CORE_STRETCH__N; u->need_image = 1; break;
    case TUI_ACT_ZOOM_IN: if (u->view.zoom < CORE_ZOOM_MAX) u->view.zoom++; u->need_image = 1; break;
    case TUI_ACT_ZOOM_OUT: if (u->view.zoom > 0) u->view.zoom--; u->need_image = 1; break;
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
