/*
 * ui.h - private to tui/label/: the labeler's state, shared by its rooms.
 *
 *   label.c    set-up, the screen loop, signals, the idle tick
 *   model.c    what the screen knows of the task's model, queue and the
 *              shown galaxy (read through core/labeler.h), and when it
 *              asks the trainer for a retrain
 *   screens.c  layout and drawing: the label screen, help, grid, order
 *              menu, jump prompt, status and key hints
 *   images.c   the encoded-image cache, prefetch, placing images
 *   actions.c  what a key does in each mode
 *   keys.c     the key table; trainer.c the background retrain thread
 *   notes.c    the note prompt and the shown galaxy's notes
 *   link.c     the galaxy's ra/dec as a link to the Legacy Survey viewer
 *   guide.c    the field guide: example images per answer
 *
 * Everything here runs on the UI thread: only it touches curses, the
 * graphics (tui/gfx/gfx.h) and this struct; the trainer thread shares
 * nothing with it but the tui_trainer handle (see trainer.c's DESIGN).
 */
#ifndef ZOOSH_TUI_LABEL_UI_H
#define ZOOSH_TUI_LABEL_UI_H

#include <stdint.h>
#include <stdio.h>

#include "core/acquire.h"
#include "core/grid.h"
#include "core/guide.h"
#include "core/labeler.h"
#include "core/repr.h"
#include "core/schema.h"
#include "core/session.h"
#include "core/view.h"
#include "store/store.h"
#include "tui/gfx/gfx.h"
#include "tui/label/keys.h"
#include "tui/label/label.h"
#include "tui/label/trainer.h"

#define MIN_COLS 50
#define MIN_ROWS 12
#define TEXT_MIN_W 34           /* columns kept for the question when an image is shown */
#define CACHE_N 8
#define SRC_N 4                 /* decoded originals kept: the shown galaxy, the next two, the last */
#define PREFETCH_N 2
#define GRID_MAX 48
#define REFRESH_S 2.0           /* re-read others' answers this often when idle */
#define MAX_PRED 512

enum { MODE_LABEL, MODE_HELP, MODE_GRID, MODE_ORDER, MODE_JUMP, MODE_NOTE, MODE_GUIDE };

/* ui.order beside the core_order values: a stored queue that does not name
 * the order it was ranked by; ui.chosen: the user chose none */
#define ORDER_RANKED (-1)
#define ORDER_NONE   (-2)

typedef struct {
    uint32_t gid;       /* 0 = empty slot */
    uint64_t key;       /* view, size and source the bytes were made for */
    char *bytes;
    size_t len;
    uint64_t used;
} img_entry;

/* A galaxy's decoded pixels (its original file, else its thumbnail). */
typedef struct {
    uint32_t gid;       /* 0 = empty slot */
    core_view_src src;
    int ok;             /* src holds pixels */
    int fallback;       /* the thumbnail stands in for the original */
    char why[160];      /* why (not sanitised) */
    uint64_t used;
} src_entry;

typedef struct {
    tui_label_opts o;
    zs_store *st;
    core_schema schema;
    core_session *ses;
    tui_keys keys;
    tui_trainer *tr;

    tui_gfx *gfx;
    int utf8;

    core_view view;
    int large;
    int mode, drawn_mode;
    int need_full, need_image;
    int image_on_screen;        /* an image is drawn: only a full repaint removes it */

    /* layout (cells) */
    int img_y, img_x, box_cols, box_rows, box_px_w, box_px_h, text_x;

    img_entry cache[CACHE_N];
    uint64_t tick;
    src_entry srcs[SRC_N];

    /* model */
    core_labeler_model model;
    char prior_src[64];         /* what the task's priors come from, for messages (starts_from_prior) */
    char spark[64];             /* the learning curve as a sparkline (UTF-8 blocks or ASCII) */
    int order;                  /* the queue's order: a core_order or ORDER_RANKED */
    int chosen;                 /* the order the user asked for (--order, the o menu; catalog too):
                                 * retrains keep it; ORDER_NONE = the stored queue's */
    float pred[MAX_PRED];
    int n_pred;
    uint32_t pred_gid;
    int col_of[CORE_SCHEMA_MAX_Q][CORE_SCHEMA_MAX_A];
    int pred_flip;              /* the p key turned the probabilities' default (label_show_pred) over */
    int since_retrain;
    double last_submit;

    /* the shown galaxy's catalog text, sanitised */
    uint32_t meta_gid;
    char id[STORE_ID_MAX + 1], radec[64], survey[64];
    double ra, dec;             /* NAN when the catalog had none */
    int radec_y, radec_x, radec_w;  /* where radec was drawn this frame (link.c); y -1: not drawn */

    /* grid / menus / prompt */
    core_grid *page;            /* the grid's tiles and marks (core/grid.h) */
    float grid_dist[GRID_MAX];  /* the s grid: each tile's distance to its galaxy */
    int grid_sel, grid_similar, grid_tile_cols, grid_tile_rows, grid_cols, grid_px;
    int grid_label;             /* pages label this task by marks (core_grid_can_label) */
    int grid_rate;              /* pages rate it (core_grid_can_rate: digits rate tiles) */
    int grid_clusters;          /* the page is a cluster's (t, --clusters) */
    int clusters_open;          /* the page's clusters are made (core_grid_clusters_open) */
    int help_back;              /* the mode the help returns to */
    int order_sel;
    int help_page, help_pages;  /* the help screen's page, and how many it needed */
    char jump[STORE_ID_MAX + 1];
    core_guide_page *guide;     /* the field guide's page (guide.c), NULL before the first */
    int guide_q, guide_top;
    char note[STORE_TEXT_MAX];  /* the note being typed (notes.c) */
    char notes[1024];           /* the shown galaxy's notes, one line (not sanitised) */
    uint32_t notes_gid;         /* the galaxy notes was read for; 0 = read again */
    char msg[240];

    /* similar: the workspace's similarity set, loaded on first use */
    core_repr_index *simix;
    int simix_failed;

    double t_start, last_refresh;
    int rate_answers;           /* the answer count the status line's rate was computed at */
    double rate;
    double t_key;               /* when the key being handled was read (for the log) */
    FILE *log;
    int curses_up;
} ui;

/* label.c */
void label_log(ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* model.c */
const char *label_order_name(int order);    /* "ranked" for ORDER_RANKED */
int label_menu_order(int i);                /* the o menu's row i: catalog first, then the table's */
int label_menu_n(void);
void label_load_queue(ui *u, const char *expect);   /* none when the user chose catalog order */
int label_starts_from_prior(ui *u);
void label_load_pred(ui *u, uint32_t gid);
void label_load_meta(ui *u, uint32_t gid);
void label_retrain_maybe(ui *u, int force);
void label_trainer_poll(ui *u);

/* images.c */
img_entry *label_image_get(ui *u, uint32_t gid, int pw, int ph);
int label_image_cached(ui *u, uint32_t gid, int pw, int ph);
void label_image_put(ui *u, img_entry *e, int y, int x);
int label_prefetch_one(ui *u);
void label_images_free(ui *u);
/* Galaxy gid's decoded pixels for the pane (decoded now when not kept). */
const src_entry *label_image_src(ui *u, uint32_t gid);

/* screens.c */
void label_draw(ui *u);
/* The grid's tile geometry for this screen; returns the tiles a page holds. */
int label_grid_layout(ui *u);
int label_show_pred(const ui *u);   /* the model's bars beside the answers (not blind) */

/* link.c: radec as an OSC 8 link where the terminal takes one */
void label_link_radec(ui *u);

/* guide.c: the field guide */
void label_guide_open(ui *u);
void label_guide_key(ui *u, tui_action act);
void label_guide_draw(ui *u);
int label_guide_draw_images(ui *u);     /* 1 when an image was drawn */

/* notes.c */
void label_note_open(ui *u);
void label_note_key(ui *u, int ch);
void label_note_prompt(ui *u);
const char *label_notes_line(ui *u, uint32_t gid);

/* actions.c: 1 to quit */
int label_handle_key(ui *u, int ch);
/* Opens the grid on a page of the queue (g, zoosh label --grid). */
void label_open_grid(ui *u);
/* Opens the grid on cluster pages (t, zoosh label --clusters); 0, or -1
 * with the reason in u->msg (the label screen stays). */
int label_open_clusters(ui *u);

#endif
