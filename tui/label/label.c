/*
 * label.c - the labeling screen: zoosh label WS (see label.h).
 *
 * One UI thread owns curses, libsixel and the terminal; the only other thread
 * is the background trainer (trainer.c), which never touches them.
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
 *
 * Hot path (keypress -> next galaxy): commit (synced LMDB write) -> draw text
 * -> write the already encoded image: the next galaxies' images are encoded
 * ahead on idle moments (prefetch) and kept in a small cache keyed by galaxy,
 * view and size.
 */
#include "tui/label/label.h"
#include "core/session.h"
#include "tui/text.h"

#include <curses.h>
#include <term.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/image.h"
#include "core/knn.h"
#include "core/repr.h"
#include "core/thumb.h"
#include "core/learn.h"
#include "core/metrics.h"
#include "core/util.h"
#include "tui/gfx/blocks.h"
#include "tui/cmd/cmd.h"
#include "tui/label/keys.h"
#include "core/view.h"
#include "tui/gfx/sixel.h"
#include "tui/gfx/term.h"
#include "tui/label/trainer.h"

#define CUP_FMT "\x1b[%d;%dH"   /* CUP: cursor position, 1-based row;col */

#define MIN_COLS 50
#define MIN_ROWS 12
#define TEXT_MIN_W 34           /* columns kept for the question when an image is shown */
#define CACHE_N 8
#define PREFETCH_N 2
#define GRID_MAX 48
#define REFRESH_S 2.0           /* re-read others' answers this often when idle */
#define MAX_PRED 512

enum { MODE_LABEL, MODE_HELP, MODE_GRID, MODE_ORDER, MODE_JUMP };

static const char *const orders[] = {"catalog", "uncertain", "likely", "interest", "anomaly", "random", "mixed"};
#define N_ORDERS (int)(sizeof orders / sizeof orders[0])

typedef struct {
    uint32_t gid;       /* 0 = empty slot */
    unsigned key;       /* view, size and graphics the bytes were made for */
    char *bytes;
    size_t len;
    uint64_t used;
} img_entry;

typedef struct {
    tui_label_opts o;
    zs_store *st;
    core_schema schema;
    core_session *ses;
    tui_keys keys;
    tui_trainer *tr;

    tui_graphics gfx;
    tui_term_caps caps;
    tui_blocks_mode bmode;
    int utf8;
    int cell_w, cell_h, ncolors;

    core_view view;
    int large;
    int mode, drawn_mode;
    int need_full, need_image;
    int image_on_screen;        /* an image is drawn: only a full repaint removes it */

    /* layout (cells) */
    int img_y, img_x, box_cols, box_rows, box_px_w, box_px_h, text_x;

    img_entry cache[CACHE_N];
    uint64_t tick;

    /* model */
    int have_model;
    char prior_src[64];         /* what the task's priors come from, for messages (starts_from_prior) */
    char spark[64];             /* the learning curve as a sparkline (UTF-8 blocks or ASCII) */
    core_model_info info;
    int truth_state;            /* -1 not looked yet, 0 no truth here, 1 the galaxies carry true_ring */
    int truth_have_v;           /* truth_auc is of model version truth_v */
    uint32_t truth_v;
    double truth_auc;           /* the model's AUC against true_ring, NAN when none */
    char order[16];
    char chosen[16];             /* the order the user asked for (--order, the o menu; "catalog" too):
                                  * retrains keep it; "" = the stored queue's */
    float pred[MAX_PRED];
    int n_pred;
    uint32_t pred_gid;
    int col_of[CORE_SCHEMA_MAX_Q][CORE_SCHEMA_MAX_A];
    int since_retrain;
    double last_submit;

    /* the shown galaxy's catalog text, sanitised */
    uint32_t meta_gid;
    char id[STORE_ID_MAX + 1], radec[64], survey[64];

    /* grid / menus / prompt */
    uint32_t grid[GRID_MAX];
    int n_grid, grid_sel, grid_similar, grid_tile_cols, grid_tile_rows, grid_cols, grid_px;
    int order_sel;
    char jump[STORE_ID_MAX + 1];
    char msg[240];

    /* similar: the workspace's similarity set, loaded on first use */
    core_repr_index *simix;
    int simix_failed;

    double t_start, last_refresh;
    double t_key;               /* when the key being handled was read (for the log) */
    FILE *log;
    int curses_up;
} ui;

static volatile sig_atomic_t got_signal;
static ui *the_ui;      /* for the fatal hook */

static void on_signal(int sig) { got_signal = sig; }

static void logf_(ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(ui *u, const char *fmt, ...)
{
    if (!u->log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(u->log, fmt, ap);
    va_end(ap);
    fputc('\n', u->log);
    fflush(u->log);
}

static void restore_terminal(void)
{
    if (the_ui && the_ui->curses_up) {
        endwin();
        the_ui->curses_up = 0;
    }
}

/* ---- model, queue, predictions */

/* The held-out metric of the last (up to 12) models as a sparkline, low to
 * high on a fixed 0.5 .. 1.0 scale so a rising curve reads as progress. */
static void make_sparkline(ui *u, zs_txn *txn)
{
    static const char *const blocks[8] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
        "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char ascii[] = "_.-:=+*#";
    enum { SPARK_N = 12 };
    int n_train[256], n = 0;
    double value[256];
    u->spark[0] = 0;
    if (core_learn_curve_get(txn, u->schema.name, n_train, value, 256, &n) != 0 || n < 2) return;
    size_t len = 0;
    for (int i = n > SPARK_N ? n - SPARK_N : 0; i < n; i++) {
        if (isnan(value[i])) continue;
        int level = (int)((value[i] - 0.5) / 0.5 * 8);
        level = level < 0 ? 0 : level > 7 ? 7 : level;
        const char *c = u->utf8 ? blocks[level] : (char[2]){ascii[level], 0};
        size_t cl = strlen(c);
        if (len + cl + 1 > sizeof u->spark) break;
        memcpy(u->spark + len, c, cl);
        len += cl;
    }
    u->spark[len] = 0;
}

/* A demo workspace knows the truth (zoosh demo imports the simulator's ring
 * column as galaxy metadata true_ring): on the ring task, the AUC of the
 * stored predictions against it, once per model version (O(n log n) over
 * every galaxy; a workspace whose first galaxy has no true_ring is never
 * scanned). */
static void load_truth(ui *u, zs_txn *txn)
{
    if (u->truth_have_v && u->truth_v == u->info.version) return;
    u->truth_have_v = 1;
    u->truth_v = u->info.version;
    u->truth_auc = NAN;
    if (u->truth_state < 0) {
        u->truth_state = 0;
        uint32_t max = strcmp(u->schema.name, "ring") == 0 ? store_galaxy_max(txn) : 0;
        for (uint32_t gid = 1; gid <= max; gid++) {
            store_galaxy g;
            if (store_galaxy_get(txn, gid, &g)) continue;
            for (int k = 0; k < g.n_meta; k++)
                if (strcmp(g.meta_key[k], "true_ring") == 0) u->truth_state = 1;
            store_galaxy_free(&g);
            break;
        }
    }
    double auc;
    int n = 0;
    if (u->truth_state == 1 && core_metrics_truth_auc(txn, &u->schema, "ring_yes", "true_ring", &auc, &n) == 0 && n > 0)
        u->truth_auc = auc;
}

/* The stored queue into the session.  EXPECT (after this labeler's retrain:
 * the order it ranked by) or NULL: a queue another labeler stored by another
 * order is then not taken. */
static void load_queue(ui *u, const char *expect)
{
    zs_txn *txn;
    if (store_read_begin(u->st, &txn) != 0) return;
    core_model_info info;
    memset(&info, 0, sizeof info);
    if (core_model_info_get(txn, u->schema.name, &info) == 0) {
        u->have_model = 1;
        u->info = info;
        load_truth(u, txn);
    }
    make_sparkline(u, txn);
    uint32_t *gids = NULL;
    int n = 0;
    int want_catalog = u->order[0] && strcmp(u->order, "catalog") == 0;
    if (!want_catalog && core_queue_get(txn, u->schema.name, &gids, &n, &info) == 0 && n > 0) {
        /* one stored queue per task: another labeler's retrain may have
         * ranked it by another order; this labeler's chosen order stays, on
         * the queue it has, until its own retrain stores one */
        if (expect && strcmp(info.order, expect) != 0) {
            free(gids);
            store_read_end(txn);
            snprintf(u->order, sizeof u->order, "%s", expect);
            return;
        }
        core_session_set_queue(u->ses, gids, n);
        snprintf(u->order, sizeof u->order, "%s", info.order[0] ? info.order : "ranked");
    } else {
        core_session_set_queue(u->ses, NULL, 0);
        snprintf(u->order, sizeof u->order, "catalog");
    }
    free(gids);
    store_read_end(txn);
    u->pred_gid = 0;
}

/* 1 when the task has priors (the catalog's, or a column such as the ring
 * fraction zoosh's encoder predicts) and features to train on: then a first
 * model ranks the queue before anyone answers.  Names them in u->prior_src. */
static int starts_from_prior(ui *u)
{
    zs_txn *txn;
    if (store_read_begin(u->st, &txn) != 0) return 0;
    char **names = NULL;
    int nf = 0;
    if (store_featset_list(txn, &names, &nf) != 0) nf = 0;
    for (int i = 0; i < nf; i++) free(names[i]);
    free(names);
    int np = nf > 0 ? core_learn_prior_source(txn, &u->schema, u->prior_src, sizeof u->prior_src) : 0;
    store_read_end(txn);
    if (np < 0) snprintf(u->prior_src, sizeof u->prior_src, "the catalog's columns");
    return np != 0;
}

static void load_pred(ui *u, uint32_t gid)
{
    if (u->pred_gid == gid) return;
    u->pred_gid = gid;
    u->n_pred = 0;
    if (gid == 0) return;
    zs_txn *txn;
    if (store_read_begin(u->st, &txn) != 0) return;
    int n = 0;
    if (core_pred_get(txn, u->schema.name, gid, u->pred, MAX_PRED, &n) == 0) u->n_pred = n < MAX_PRED ? n : MAX_PRED;
    store_read_end(txn);
}

static void load_meta(ui *u, uint32_t gid)
{
    if (u->meta_gid == gid) return;
    u->meta_gid = gid;
    u->id[0] = u->radec[0] = u->survey[0] = 0;
    if (gid == 0) return;
    zs_txn *txn;
    if (store_read_begin(u->st, &txn) != 0) return;
    store_galaxy g;
    memset(&g, 0, sizeof g);
    if (store_galaxy_get(txn, gid, &g) == 0) {
        tui_text_sanitize(g.id_str, u->id, sizeof u->id < 80 ? sizeof u->id : 80, !u->utf8);
        if (!isnan(g.ra) && !isnan(g.dec)) snprintf(u->radec, sizeof u->radec, "ra %.5f  dec %+.5f", g.ra, g.dec);
        for (int i = 0; i < g.n_meta; i++)
            if (strcasecmp(g.meta_key[i], "survey") == 0)
                tui_text_sanitize(g.meta_val[i], u->survey, sizeof u->survey, !u->utf8);
        store_galaxy_free(&g);
    } else {
        snprintf(u->id, sizeof u->id, "#%u", gid);
    }
    store_read_end(txn);
}

/* ---- layout */

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

static void layout(ui *u)
{
    int body_rows = LINES - 3;             /* rows 1 .. LINES-3; status LINES-2, keys LINES-1 */
    int max_rows = body_rows - 1;          /* one blank row above the status line */
    int text_w = u->large ? 0 : TEXT_MIN_W;
    int max_cols = COLS - 2 - (text_w ? text_w + 2 : 1);
    u->img_y = 1;
    u->img_x = 1;
    u->box_cols = u->box_rows = u->box_px_w = u->box_px_h = 0;
    if (u->gfx == TUI_GRAPHICS_NONE || max_rows < 3 || max_cols < 6) {
        u->text_x = 1;
        return;
    }
    if (u->gfx == TUI_GRAPHICS_SIXEL) {
        int side = max_cols * u->cell_w < max_rows * u->cell_h ? max_cols * u->cell_w : max_rows * u->cell_h;
        /* default: at most 2x the stored thumbnail (more adds bytes, not detail) */
        int cap = u->o.image_px > 0 ? u->o.image_px : 2 * CORE_THUMB_SIDE;
        if (!u->large && side > cap) side = cap;
        u->box_px_w = u->box_px_h = side;
        u->box_cols = ceil_div(side, u->cell_w);
        u->box_rows = ceil_div(side, u->cell_h);
    } else {                                /* a cell is 1 x 2 pixels */
        int side = max_cols < 2 * max_rows ? max_cols : 2 * max_rows;
        u->box_px_w = u->box_cols = side;
        u->box_px_h = side;
        u->box_rows = ceil_div(side, 2);
    }
    u->text_x = u->img_x + u->box_cols + 3;     /* a space, the rule, the text */
}

/* ---- images */

static unsigned view_key(const ui *u, int pw, int ph)
{
    return (unsigned)u->view.invert | (unsigned)u->view.stretch << 1 | (unsigned)u->view.zoom << 3 |
           (unsigned)u->gfx << 7 | (unsigned)u->bmode << 9 | (unsigned)pw << 11 | (unsigned)ph << 21;
}

/* Encodes gid for a box of pw x ph pixels; the bytes are malloc'ed. */
static void encode_gid(ui *u, uint32_t gid, int pw, int ph, char **bytes, size_t *len)
{
    uint8_t *thumb = NULL;  /* (th, tw, 3) */
    int tw = 0, th = 0;
    zs_txn *txn;
    char why[256] = "";
    if (store_read_begin(u->st, &txn) == 0) {
        const uint8_t *rgb;
        int w, h;
        uint8_t owned;
        int rc = core_thumb_get(txn, gid, &w, &h, &rgb, &owned, why, sizeof why);
        if (rc == 0 && w <= 4096 && h <= 4096) {
            tw = w;
            th = h;
            if (owned) thumb = (uint8_t *)rgb;          /* decoded for us (JPEG) */
            else {                                      /* raw, borrowed from the map */
                thumb = xmalloc((size_t)tw * th * 3);
                memcpy(thumb, rgb, (size_t)tw * th * 3);
            }
        } else if (rc == 0 && owned)
            free((void *)rgb);
        store_read_end(txn);
    }
    /* the whole box is always drawn (a narrower image centred on black), so
     * the next image covers every pixel of the last one */
    int ow = pw, oh = ph;
    uint8_t *px = xcalloc((size_t)ow * oh * 3, 1);   /* (oh, ow, 3) */
    if (thumb) {
        int fw, fh;
        core_view_fit(tw, th, pw, ph, &fw, &fh);
        uint8_t *fit = xmalloc((size_t)fw * fh * 3);  /* (fh, fw, 3) */
        core_view_render(thumb, tw, th, &u->view, fit, fw, fh);
        int x0 = (ow - fw) / 2, y0 = (oh - fh) / 2;
        for (int y = 0; y < fh; y++)
            memcpy(px + ((size_t)(y0 + y) * ow + x0) * 3, fit + (size_t)y * fw * 3, (size_t)fw * 3);
        free(fit);
    } else {
        core_view_placeholder(px, ow, oh);
        logf_(u, "galaxy %u: no readable thumbnail%s%s, placeholder shown", gid, why[0] ? ": " : "", why);
    }
    *bytes = NULL;
    *len = 0;
    if (u->gfx == TUI_GRAPHICS_SIXEL) {
        char err[128];
        if (tui_sixel_encode(px, ow, oh, u->ncolors, bytes, len, err, sizeof err) != 0)
            logf_(u, "galaxy %u: sixel: %s", gid, err);
    } else {
        tui_blocks_encode(px, ow, oh, u->bmode, u->utf8, bytes, len);
    }
    free(px);
    free(thumb);
}

static img_entry *image_get(ui *u, uint32_t gid, int pw, int ph)
{
    unsigned key = view_key(u, pw, ph);
    img_entry *victim = &u->cache[0];
    for (int i = 0; i < CACHE_N; i++) {
        img_entry *e = &u->cache[i];
        if (e->gid == gid && e->key == key) { e->used = ++u->tick; return e; }
        if (e->used < victim->used) victim = e;
    }
    free(victim->bytes);
    victim->gid = gid;
    victim->key = key;
    encode_gid(u, gid, pw, ph, &victim->bytes, &victim->len);
    victim->used = ++u->tick;
    return victim;
}

static int image_cached(ui *u, uint32_t gid, int pw, int ph)
{
    unsigned key = view_key(u, pw, ph);
    for (int i = 0; i < CACHE_N; i++)
        if (u->cache[i].gid == gid && u->cache[i].key == key) return 1;
    return 0;
}

static void put_image(ui *u, img_entry *e, int y, int x)
{
    if (!e->bytes || e->len == 0) return;
    int cy, cx;
    getyx(curscr, cy, cx);
    char pre[32], post[32];
    int npre = snprintf(pre, sizeof pre, CUP_FMT, y + 1, x + 1);
    int npost = snprintf(post, sizeof post, CUP_FMT, cy + 1, cx + 1);   /* back to where curses thinks it is */
    /* one writev: the terminal gets position, image and the way back together */
    struct iovec iov[3] = {{pre, (size_t)npre}, {e->bytes, e->len}, {post, (size_t)npost}};
    int i = 0;
    while (i < 3) {
        ssize_t w = writev(STDOUT_FILENO, iov + i, 3 - i);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;             /* terminal gone */
        while (i < 3 && (size_t)w >= iov[i].iov_len) { w -= (ssize_t)iov[i].iov_len; i++; }
        if (i < 3) { iov[i].iov_base = (char *)iov[i].iov_base + w; iov[i].iov_len -= (size_t)w; }
    }
    (void)u;
}

/* One prefetch step: encode the first of the next galaxies not cached yet.
 * Returns 1 when it did some work. */
static int prefetch_one(ui *u)
{
    if (u->gfx == TUI_GRAPHICS_NONE || u->box_px_w <= 0 || u->mode == MODE_GRID) return 0;
    uint32_t next[PREFETCH_N + 1];
    int n = 0;
    uint32_t cur = core_session_gid(u->ses);
    if (cur) next[n++] = cur;
    n += core_session_peek(u->ses, next + n, PREFETCH_N);
    for (int i = 0; i < n; i++)
        if (!image_cached(u, next[i], u->box_px_w, u->box_px_h)) {
            image_get(u, next[i], u->box_px_w, u->box_px_h);
            return 1;
        }
    return 0;
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

/* Word-wraps s into rows starting at y; returns the next free row. */
static int put_wrapped(int y, int x, int w, int max_y, const char *s)
{
    if (w <= 0 || x >= COLS) return y;   /* the large view leaves the text no columns */
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
        mvaddstr(y, x, line);
        s += take;
        while (*s == ' ') s++;
        y++;
    }
    return y;
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

static double session_rate(ui *u)
{
    core_session_stats s;
    core_session_stats_get(u->ses, &s);
    double h = (core_mono_s() - u->t_start) / 3600.0;
    return h > 10.0 / 3600 ? s.answers / h : 0;
}

static void draw_status(ui *u)
{
    core_session_stats s;
    core_session_stats_get(u->ses, &s);
    char model[160] = "no model yet";
    if (u->have_model) {
        char when[16] = "";
        time_t t = (time_t)(u->info.time_us / 1000000);
        struct tm tm;
        if (u->info.time_us > 0 && localtime_r(&t, &tm)) strftime(when, sizeof when, "%H:%M", &tm);
        char truth[24] = "";
        if (!isnan(u->truth_auc)) {     /* the demo: first, so that it stays within 80 columns */
            snprintf(truth, sizeof truth, " truth AUC %.2f", u->truth_auc);
            when[0] = 0;
        }
        if (u->info.metric[0] && !isnan(u->info.value))
            snprintf(model, sizeof model, "model v%u%s%s%s %s %.2f %s", u->info.version, truth,
                     when[0] ? " " : "", when, u->info.metric, u->info.value, u->spark);
        else if (strcmp(u->info.metric, "prior") == 0)   /* fitted to the priors, no answers yet */
            snprintf(model, sizeof model, "model v%u prior%s %s", u->info.version, truth, when);
        else
            snprintf(model, sizeof model, "model v%u%s %s", u->info.version, truth, when);
    }
    double rate = session_rate(u);
    char rates[24] = "";
    if (rate > 0) snprintf(rates, sizeof rates, " (%.0f/h)", rate);
    char line[512];
    const char *sep = u->utf8 ? " \xe2\x94\x82 " : " | ";
    snprintf(line, sizeof line, " %s%syou %u/%u%ssession %d%s%s%s%sorder %s%s",
             u->schema.name, sep, s.done_user, s.total, sep, s.answers, rates, sep, model, sep, u->order,
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
    load_meta(u, gid);
    load_pred(u, gid);
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
              : cur_q >= 0 ? 2 + u->schema.q[cur_q].n_answers : 0;
    int spare = max_y - y + 1 - qneed;
    if (u->radec[0] && spare-- > 0) put_clip(y++, x, w, u->radec);
    if (u->survey[0] && spare-- > 0) {
        char sv[96];
        snprintf(sv, sizeof sv, "survey %s", u->survey);
        put_clip(y++, x, w, sv);
    }
    char info[64];
    snprintf(info, sizeof info, "gid %u%s", gid, core_session_answered(u->ses, gid) ? "  (answered by you)" : "");
    if (spare-- > 0) put_clip(y++, x, w, info);
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
            for (int a = 0; a < cq->n_answers && y <= max_y; a++) {
                char line[128], safe_a[64];
                tui_text_sanitize(cq->answers[a].text, safe_a, sizeof safe_a, !u->utf8);
                snprintf(line, sizeof line, " %d  %-*.*s", a == 9 ? 0 : a + 1, label_w, label_w, safe_a);
                put_clip(y, x, w, line);
                int col = u->col_of[q][a];
                int bx = x + 6 + label_w, bw = w - 6 - label_w - 6;
                if (bw > 20) bw = 20;
                if (u->n_pred > 0 && col >= 0 && col < u->n_pred && bw >= 4) draw_bar(u, y, bx, bw, u->pred[col]);
                y++;
            }
            int pq[STORE_STEPS_MAX], pa[STORE_STEPS_MAX];
            int np = core_session_path(u->ses, pq, pa, STORE_STEPS_MAX);
            if (np > 0 && y + 1 <= max_y) {
                char path[512] = "so far:";
                for (int i = 0; i < np; i++) {
                    size_t l = strlen(path);
                    char safe_p[64];
                    tui_text_sanitize(u->schema.q[pq[i]].answers[pa[i]].text, safe_p, sizeof safe_p, !u->utf8);
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
    if (u->gfx == TUI_GRAPHICS_NONE) return;
    char vs[80];
    snprintf(vs, sizeof vs, "%s%s  zoom %.3gx%s", core_view_stretch_name(u->view.stretch), u->view.invert ? "  inverted" : "",
             pow(1.5, u->view.zoom), u->large ? "  large view" : "");
    if (u->img_y + u->box_rows < LINES - 3) put_clip(u->img_y + u->box_rows, u->img_x, u->box_cols, vs);
}

static void draw_help(ui *u)
{
    attron(A_BOLD);
    put_clip(0, 0, COLS, " zoosh label: keys (any key returns)");
    attroff(A_BOLD);
    int rows = LINES - 4, ncol = COLS >= 90 ? 2 : 1, colw = COLS / ncol;
    int y = 2, x = 1;
    for (int a = 1; a < TUI_ACT__COUNT; a++) {
        char keys[128], line[256];
        tui_keys_keys_of(&u->keys, (tui_action)a, keys, sizeof keys);
        /* the first two keys; the rest are aliases (Backspace sends DEL or ^H) */
        char *c1 = strchr(keys, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (c2) *c2 = 0;
        snprintf(line, sizeof line, "%-14.14s %s", keys[0] ? keys : "(unbound)", tui_keys_action_help((tui_action)a));
        if (y >= 2 + rows) {
            if (x + colw >= COLS) break;
            x += colw;
            y = 2;
        }
        put_clip(y++, x, colw - 2, line);
    }
    put_clip(LINES - 1, 0, COLS - 1, " --keys FILE remaps: lines like \"undo x\" or \"unbind q\"; ? and f1 show this");
}

static void grid_layout(ui *u)
{
    if (u->gfx == TUI_GRAPHICS_SIXEL) {
        u->grid_px = 96;
        u->grid_tile_cols = ceil_div(u->grid_px, u->cell_w) + 2;
        u->grid_tile_rows = ceil_div(u->grid_px, u->cell_h) + 2;
    } else if (u->gfx == TUI_GRAPHICS_BLOCKS) {
        u->grid_px = 16;
        u->grid_tile_cols = 16 + 2;
        u->grid_tile_rows = 8 + 2;
    } else {
        u->grid_px = 0;
        u->grid_tile_cols = 24;
        u->grid_tile_rows = 1;
    }
    u->grid_cols = (COLS - 1) / u->grid_tile_cols;
    if (u->grid_cols < 1) u->grid_cols = 1;
}

static void draw_grid(ui *u)
{
    grid_layout(u);
    attron(A_BOLD);
    put_clip(0, 0, COLS, u->grid_similar ? " most similar galaxies (arrows + Enter jump, Esc back)"
                                         : " the coming queue (arrows + Enter jump, Esc back)");
    attroff(A_BOLD);
    int rows_avail = (LINES - 3) / u->grid_tile_rows;
    for (int i = 0; i < u->n_grid; i++) {
        int r = i / u->grid_cols, c = i % u->grid_cols;
        if (r >= rows_avail) break;
        int y = 1 + r * u->grid_tile_rows, x = 1 + c * u->grid_tile_cols;
        char id[40];
        load_meta(u, u->grid[i]);
        snprintf(id, sizeof id, "%s%.30s", i == u->grid_sel ? ">" : " ", u->id);
        if (i == u->grid_sel) attron(A_REVERSE);
        put_clip(y + u->grid_tile_rows - 2 + (u->gfx == TUI_GRAPHICS_NONE ? 1 : 0) - (u->gfx == TUI_GRAPHICS_NONE ? 1 : 0),
                 x, u->grid_tile_cols - 1, id);
        if (i == u->grid_sel) attroff(A_REVERSE);
    }
    u->meta_gid = 0;
    if (u->n_grid == 0) put_clip(2, 1, COLS - 2, u->grid_similar ? "no similar galaxies (no representations: zoosh embed)" : "the queue is empty");
}

static void draw_grid_images(ui *u)
{
    if (u->gfx == TUI_GRAPHICS_NONE) return;
    int rows_avail = (LINES - 3) / u->grid_tile_rows;
    for (int i = 0; i < u->n_grid; i++) {
        int r = i / u->grid_cols, c = i % u->grid_cols;
        if (r >= rows_avail) break;
        int y = 1 + r * u->grid_tile_rows, x = 1 + c * u->grid_tile_cols;
        img_entry *e = image_get(u, u->grid[i], u->grid_px, u->gfx == TUI_GRAPHICS_SIXEL ? u->grid_px : 2 * (u->grid_tile_rows - 2));
        put_image(u, e, y, x);
    }
}

static void draw_order(ui *u)
{
    int x = u->text_x, w = COLS - x - 1;
    attron(A_BOLD);
    put_clip(1, x, w, "Queue order (Enter or digit chooses, Esc back):");
    attroff(A_BOLD);
    for (int i = 0; i < N_ORDERS && 3 + i < LINES - 3; i++) {
        char line[64];
        snprintf(line, sizeof line, " %d  %s%s", i + 1, orders[i], strcmp(orders[i], u->order) == 0 ? "  (now)" : "");
        if (i == u->order_sel) attron(A_REVERSE);
        put_clip(3 + i, x, w, line);
        if (i == u->order_sel) attroff(A_REVERSE);
    }
    if (!u->tr)
        put_clip(4 + N_ORDERS, x, w, "(no background trainer: only catalog order)");
}

static void draw(ui *u)
{
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
    int full_screen = u->mode == MODE_HELP || u->mode == MODE_GRID;
    if (u->mode != u->drawn_mode && (full_screen || u->drawn_mode == MODE_HELP || u->drawn_mode == MODE_GRID))
        u->need_full = 1;
    if (u->image_on_screen && !full_screen && core_session_gid(u->ses) == 0) u->need_full = 1;
    u->drawn_mode = u->mode;
    erase();
    switch (u->mode) {
    case MODE_HELP: draw_help(u); break;
    case MODE_GRID: draw_grid(u); break;
    case MODE_ORDER:
        draw_label(u);
        for (int y = 1; y < LINES - 3; y++) { move(y, u->text_x); clrtoeol(); }
        draw_order(u);
        break;
    default: draw_label(u); break;
    }
    if ((u->mode == MODE_LABEL || u->mode == MODE_ORDER || u->mode == MODE_JUMP) && u->box_cols > 0) {
        /* A rule between image and text on every body row: a row curses sees
         * as all blank it clears from column 0 (EL), which would erase the
         * image there; with the rule it only ever touches the text side. */
        mvvline(1, u->text_x - 2, ACS_VLINE, LINES - 3);
    }
    if (u->mode != MODE_HELP && u->mode != MODE_GRID) draw_status(u);
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
    } else if (u->mode == MODE_LABEL || u->mode == MODE_ORDER) {
        draw_hints(u);
    }
    if (u->need_full) {
        clearok(curscr, TRUE);
        u->image_on_screen = 0;
    }
    move(0, 0);                 /* the cursor parks top-left: never past the bottom line */
    wnoutrefresh(stdscr);
    doupdate();
    if (u->need_full || u->need_image) {
        if (u->mode == MODE_GRID) {
            draw_grid_images(u);
            u->image_on_screen = u->n_grid > 0;
        } else if (u->mode != MODE_HELP && u->gfx != TUI_GRAPHICS_NONE && u->box_px_w > 0) {
            uint32_t gid = core_session_gid(u->ses);
            double t0 = core_mono_s();
            int hit = image_cached(u, gid, u->box_px_w, u->box_px_h);
            if (gid) {
                put_image(u, image_get(u, gid, u->box_px_w, u->box_px_h), u->img_y, u->img_x);
                u->image_on_screen = 1;
            }
            if (u->log) logf_(u, "image %u (%dx%d px at cell %d,%d): %s, %.2f ms (key -> image written in the labeler: %.2f ms)",
                              gid, u->box_px_w, u->box_px_h, u->img_y, u->img_x,
                              hit ? "prefetched" : "encoded now", (core_mono_s() - t0) * 1e3,
                              u->t_key > 0 ? (core_mono_s() - u->t_key) * 1e3 : -1.0);
        }
    }
    u->need_full = u->need_image = 0;
}

/* ---- actions */

static void retrain_maybe(ui *u, int force)
{
    if (!u->tr) return;
    int every = u->o.retrain_every < 0 ? 10 : u->o.retrain_every;
    int secs = u->o.retrain_secs > 0 ? u->o.retrain_secs : 300;
    if (tui_trainer_busy(u->tr)) return;
    if (force || (every > 0 && u->since_retrain >= every) ||
        (every > 0 && u->since_retrain > 0 && core_mono_s() - u->last_submit > secs)) {
        /* the user's own order, not one another labeler's queue brought */
        const char *ord = u->chosen[0] && strcmp(u->chosen, "catalog") != 0 ? u->chosen
                        : strcmp(u->order, "catalog") == 0 || strcmp(u->order, "ranked") == 0 ? NULL : u->order;
        tui_trainer_submit(u->tr, ord);
        u->since_retrain = 0;
        u->last_submit = core_mono_s();
        logf_(u, "retrain submitted (order %s)", u->order);
    }
}

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
        zs_txn *txn;
        if (store_read_begin(u->st, &txn) == 0) {
            if (core_repr_index_new(txn, NULL, CORE_KNN_EUCLIDEAN, &u->simix) != 0) u->simix = NULL;
            store_read_end(txn);
        }
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
    zs_txn *txn;
    int rc = STORE_ENOTFOUND;
    if (store_read_begin(u->st, &txn) == 0) {
        rc = store_galaxy_find(txn, u->jump, &gid);
        store_read_end(txn);
    }
    char safe[80];
    tui_text_sanitize(u->jump, safe, sizeof safe, !u->utf8);
    if (rc != 0 || core_session_jump(u->ses, gid) != 0) snprintf(u->msg, sizeof u->msg, "no galaxy with id '%s'", safe);
    galaxy_changed(u, before);
}

static void choose_order(ui *u, int i)
{
    if (i < 0 || i >= N_ORDERS) return;
    if (strcmp(orders[i], "catalog") == 0) {
        core_session_set_queue(u->ses, NULL, 0);
        snprintf(u->order, sizeof u->order, "catalog");
        snprintf(u->chosen, sizeof u->chosen, "catalog");
        snprintf(u->msg, sizeof u->msg, "catalog order");
    } else if (!u->tr) {
        snprintf(u->msg, sizeof u->msg, "ordering by %s needs the background trainer (it did not start)", orders[i]);
    } else {
        snprintf(u->order, sizeof u->order, "%s", orders[i]);
        snprintf(u->chosen, sizeof u->chosen, "%s", orders[i]);
        tui_trainer_submit(u->tr, orders[i]);
        u->since_retrain = 0;
        u->last_submit = core_mono_s();
        snprintf(u->msg, sizeof u->msg, "re-ranking by %s in the background", orders[i]);
    }
}

/* Returns 1 to quit. */
static int handle_key(ui *u, int ch)
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
            if (u->order_sel + 1 < N_ORDERS) u->order_sel++;
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
        if (u->log) logf_(u, "answer: commit %.2f ms", (core_mono_s() - t0) * 1e3);
        if (rc == 0 && core_session_gid(u->ses) != before) {
            u->since_retrain++;
            retrain_maybe(u, 0);
        }
        if (rc != 0 && rc != 1) logf_(u, "commit failed: %s", core_session_message(u->ses));
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
        for (int i = 0; i < N_ORDERS; i++) if (strcmp(orders[i], u->order) == 0) u->order_sel = i;
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

static void idle(ui *u)
{
    if (u->tr) {
        int rc;
        core_model_info info;
        char err[256];
        if (tui_trainer_poll(u->tr, &rc, &info, err, sizeof err)) {
            if (rc == 0) {
                char keep[16];
                snprintf(keep, sizeof keep, "%s", u->order);
                /* the new queue, switched between two galaxies; catalog
                 * order, when the user chose it, stays */
                snprintf(u->order, sizeof u->order, "%s", strcmp(u->chosen, "catalog") == 0 ? "catalog" : "");
                /* the stored queue is this run's unless another labeler's
                 * retrain, by another order, replaced it meanwhile */
                load_queue(u, info.order);
                if (strcmp(keep, "catalog") != 0 && !u->have_model) snprintf(u->order, sizeof u->order, "%s", keep);
                if (strcmp(u->info.metric, "prior") == 0 && u->prior_src[0])
                    snprintf(u->msg, sizeof u->msg, "model v%u ready: queue re-ranked by the task's priors (%.60s)",
                             u->info.version, u->prior_src);
                else
                    snprintf(u->msg, sizeof u->msg, "model v%u ready: queue re-ranked", u->info.version);
                logf_(u, "retrain done: v%u %s %.3f", u->info.version, u->info.metric, u->info.value);
            } else {
                snprintf(u->msg, sizeof u->msg, "learning failed: %.180s", err);
                logf_(u, "retrain failed (%d): %s", rc, err);
            }
        }
    }
    if (core_mono_s() - u->last_refresh > REFRESH_S) {
        core_session_refresh(u->ses);
        u->last_refresh = core_mono_s();
        retrain_maybe(u, 0);
    }
}

/* ---- input */

#define KEY_IGNORED (-2)

/* After ESC: a terminal report that came late (the probe gave up after its
 * budget, e.g. over a slow SSH link: "ESC [ ? 63 ; 1 ; 2 ; 4 c") or any other
 * escape sequence curses does not know must not become keys -- its digits
 * would be answers.  Reads the rest of a CSI (to its final byte), of an
 * OSC / DCS / APC string (to BEL or ST) or of an SS3 (one byte), and drops
 * it.  ESC alone is the cancel key; ESC + a character is that character. */
static int swallow_escape(void)
{
    timeout(30);
    int c = getch();
    int ret = KEY_IGNORED;
    if (c == ERR) {
        ret = 27;
    } else if (c == '[') {
        for (int i = 0; i < 64; i++) {
            c = getch();
            if (c == ERR || (c >= 0x40 && c <= 0x7e)) break;
        }
    } else if (c == ']' || c == 'P' || c == '_' || c == '^') {
        int prev = 0;
        for (int i = 0; i < 4096; i++) {
            c = getch();
            if (c == ERR || c == 0x07 || (prev == 27 && c == '\\')) break;
            prev = c;
        }
    } else if (c == 'O') {
        getch();
    } else {
        ret = c;                    /* Alt+key: the key */
    }
    timeout(0);
    return ret;
}

/* ---- set-up */

static int pick_graphics(ui *u)
{
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    u->gfx = u->o.graphics;
    if (u->gfx == TUI_GRAPHICS_AUTO || u->gfx == TUI_GRAPHICS_SIXEL) {
        if (tty) tui_term_probe(STDIN_FILENO, STDOUT_FILENO, &u->caps, 250);
        if (u->gfx == TUI_GRAPHICS_AUTO) u->gfx = u->caps.sixel ? TUI_GRAPHICS_SIXEL : TUI_GRAPHICS_BLOCKS;
    }
    u->cell_w = u->caps.cell_w > 0 ? u->caps.cell_w : 10;
    u->cell_h = u->caps.cell_h > 0 ? u->caps.cell_h : 20;
    u->ncolors = u->caps.colors >= 2 && u->caps.colors < 256 ? u->caps.colors : 256;
    return 0;
}

static void build_columns(ui *u)
{
    for (int q = 0; q < CORE_SCHEMA_MAX_Q; q++)
        for (int a = 0; a < CORE_SCHEMA_MAX_A; a++) u->col_of[q][a] = -1;
    int n = core_schema_n_columns(&u->schema);
    for (int i = 0; i < n; i++) {
        char name[128];
        int q, a;
        if (core_schema_column(&u->schema, i, name, sizeof name, &q, &a) == 0 && q >= 0 && q < CORE_SCHEMA_MAX_Q &&
            a >= 0 && a < CORE_SCHEMA_MAX_A)
            u->col_of[q][a] = i;
    }
}

typedef struct {
    const core_schema *s;
    const char *text;
    int added;
    char err[300];
} adopt_ctx;

static int adopt_fn(zs_txn *txn, void *p)
{
    adopt_ctx *a = p;
    return core_schema_ws_add(txn, a->s, a->text, &a->added, a->err, sizeof a->err) ? STORE_EABORT : 0;
}

/* The task of schema file PATH (already parsed into u->schema) becomes a
 * task of the workspace, or is refused when the workspace has another tree
 * of that name.  A workspace this user may not write is left as it is: the
 * labeler explains that it is read-only.  0, or the exit status. */
static int adopt_task_file(ui *u, const char *path)
{
    char err[300];
    char *text = core_schema_read_text(path, err, sizeof err);
    if (!text) { fprintf(stderr, "zoosh label: %s\n", err); return 1; }
    adopt_ctx a = {.s = &u->schema, .text = text};
    int rc = store_is_readonly(u->st) ? 0 : store_write(u->st, adopt_fn, &a);
    free(text);
    if (rc == STORE_EABORT) { fprintf(stderr, "zoosh label: %s: %s\n", path, a.err); return 1; }
    if (rc) return cmd_ws_failed("label", u->o.ws, rc);
    if (a.added) fprintf(stderr, "zoosh label: task '%s' (from %s) is now a task of %s\n", u->schema.name, path, u->o.ws);
    return 0;
}

int tui_label_run(const tui_label_opts *o)
{
    ui U, *u = &U;
    int status = 1;
    char err[512];
    memset(u, 0, sizeof *u);
    u->o = *o;
    u->truth_state = -1;
    u->truth_auc = NAN;
    the_ui = u;
    setlocale(LC_ALL, "");
    u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    const char *logpath = getenv("ZOOSH_LOG");
    if (logpath && *logpath) {
        if (core_path_is_lmdb(logpath))
            fprintf(stderr, "zoosh label: ZOOSH_LOG=%s names a workspace's LMDB file; not logging\n", logpath);
        else if (!(u->log = fopen(logpath, "a")))
            fprintf(stderr, "zoosh label: ZOOSH_LOG=%s: %s; not logging\n", logpath, strerror(errno));
    }

    /* not cmd_open_ws: a read-only workspace is opened on purpose, the
     * labeler explains it on screen */
    int rc = store_open(&u->st, o->ws, 0);
    if (rc) return cmd_ws_failed("label", o->ws, rc);
    /* the task: a workspace task by name, else a schema file */
    {
        zs_txn *txn;
        rc = store_read_begin(u->st, &txn);
        if (rc) { fprintf(stderr, "zoosh label: %s: %s\n", o->ws, store_strerror(rc)); status = 3; goto out; }
        char names[16][32];
        const char *task = o->task;
        if (!task) {
            int n = core_schema_ws_tasks(txn, names, 16);
            task = n > 0 ? names[0] : "interest";
        }
        int got = core_schema_ws_get(txn, task, &u->schema, err, sizeof err);
        uint32_t n_gal = store_galaxy_count(txn);
        store_read_end(txn);
        if (got != 0 && core_schema_resolve(task, &u->schema, err, sizeof err) != 0) {
            fprintf(stderr, "zoosh label: %s\n", err);
            status = 1;
            goto out;
        }
        /* a schema file (built-in names were found above): its task joins the
         * workspace before any answer, so every stored answer names a task
         * the workspace knows (zoosh check, export, train read it there) */
        if (got != 0 && (status = adopt_task_file(u, task)) != 0) goto out;
        if (n_gal == 0) {
            fprintf(stderr, "zoosh label: %s has no galaxies yet (zoosh import %s CATALOG.csv)\n", o->ws, o->ws);
            status = 1;
            goto out;
        }
    }
    if (u->schema.kind == CORE_TASK_TREE && u->schema.n_questions == 0) {
        fprintf(stderr, "zoosh label: task %s has no questions\n", u->schema.name);
        goto out;
    }
    build_columns(u);
    tui_keys_init(&u->keys);
    if (o->keys_file && tui_keys_load(&u->keys, o->keys_file, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh label: %s\n", err);
        status = 1;
        goto out;
    }
    core_session_opts so = {.user = NULL, .retire = o->retire};
    if (core_session_open(&u->ses, u->st, &u->schema, &so, err, sizeof err) != 0) {
        fprintf(stderr, "zoosh label: %s: %s\n", o->ws, err);
        status = 3;
        goto out;
    }
    if (o->order) snprintf(u->order, sizeof u->order, "%s", o->order);
    if (o->order) snprintf(u->chosen, sizeof u->chosen, "%s", o->order);
    load_queue(u, NULL);
    core_session_first(u->ses);   /* the stored queue's first, not the catalog's */
    if (o->order && strcmp(o->order, "catalog") != 0) snprintf(u->order, sizeof u->order, "%s", o->order);
    /* the trainer thread idles until asked: by --retrain's count, the clock or the o menu */
    if (tui_trainer_new(&u->tr, u->st, u->schema.name) != 0) u->tr = NULL;
    if (u->tr && o->order && strcmp(o->order, "catalog") != 0 && (!u->have_model || strcmp(u->info.order, o->order) != 0))
        retrain_maybe(u, 1);
    else if (u->tr && !o->order && !u->have_model && starts_from_prior(u)) {
        retrain_maybe(u, 1);   /* rank the first queue by what the task starts from */
        snprintf(u->msg, sizeof u->msg, "ranking the queue by the task's priors (%.60s)...", u->prior_src);
    }

    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        fprintf(stderr, "zoosh label: needs a terminal (stdin and stdout)\n");
        status = 1;
        goto out;
    }
    const char *nc = getenv("NO_COLOR");
    /* signals first: curses leaves handlers it finds installed alone */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pick_graphics(u);           /* probes the terminal: before initscr */
    logf_(u, "terminal: sixel %d cell %dx%d colors %d probe %d ms -> graphics %d, %d keys typed meanwhile",
          u->caps.sixel, u->caps.cell_w, u->caps.cell_h, u->caps.colors, u->caps.probe_ms, u->gfx,
          u->caps.n_typeahead);

    core_set_fatal_hook(restore_terminal);
    /* newterm, not initscr: initscr exits by itself on an unknown TERM */
    const char *term_name = getenv("TERM") ? getenv("TERM") : "";
    if (!newterm(NULL, stdout, stdin)) {
        fprintf(stderr, "zoosh label: TERM=%s: no terminal description of that name here; the labeler needs "
                        "a full-screen terminal (try TERM=xterm-256color)\n", term_name);
        status = 1;
        goto out;
    }
    const char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1) {   /* TERM=dumb, emacs shell buffers: every row would land on one line */
        endwin();
        fprintf(stderr, "zoosh label: TERM=%s cannot move the cursor; the labeler needs a full-screen terminal "
                        "(try TERM=xterm-256color)\n", term_name);
        status = 1;
        goto out;
    }
    u->curses_up = 1;
    cbreak();
    noecho();

    keypad(stdscr, TRUE);
    idlok(stdscr, FALSE);      /* no insert/delete-line or scroll-region moves: they would move the image */
    scrollok(stdscr, FALSE);
    leaveok(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    /* keys typed while the terminal was probed come first, in order */
    for (int k = u->caps.n_typeahead - 1; k >= 0; k--) ungetch((unsigned char)u->caps.typeahead[k]);
    {
        int ncol = has_colors() ? COLORS : 0;
        const char *term = getenv("TERM");
        /* tmux and screen draw 256 colours whatever TERM inside them says */
        if ((getenv("TMUX") || (term && strstr(term, "256"))) && ncol < 256) ncol = 256;
        u->bmode = tui_blocks_pick(nc, getenv("COLORTERM"), ncol);
    }
    u->t_start = core_mono_s();
    u->last_refresh = u->t_start;
    u->last_submit = u->t_start;
    u->need_full = 1;

    for (;;) {
        if (got_signal) break;
        draw(u);
        int ch;
        timeout(0);
        ch = getch();
        if (ch == ERR) {
            if (got_signal) break;
            if (prefetch_one(u)) continue;      /* more to prepare: look at the keyboard again first */
            timeout(100);
            ch = getch();
        }
        if (got_signal) break;
        if (ch == ERR) {
            idle(u);
            /* between keys: the galaxy on screen, for the other labelers */
            if (core_session_claim(u->ses, core_session_gid(u->ses))) u->need_image = 1;
            continue;
        }
        if (ch == 27) ch = swallow_escape();
        if (ch == KEY_IGNORED) continue;
        u->t_key = core_mono_s();
        if (handle_key(u, ch)) break;
    }
    status = 0;
    core_session_claim(u->ses, 0);
    core_session_stats fin;
    core_session_stats_get(u->ses, &fin);
    restore_terminal();
    if (got_signal) {
        logf_(u, "ended by signal %d", (int)got_signal);
        if (got_signal != SIGHUP)
            fprintf(stderr, "zoosh label: stopped by signal %d; %d answers of this session are saved\n",
                    (int)got_signal, fin.answers);
        status = 128 + (int)got_signal;
        if (got_signal == SIGINT || got_signal == SIGTERM) status = 0;
    } else {
        printf("zoosh label: %d answers saved this session (task %s, user %s); %u of %u galaxies done by you\n",
               fin.answers, u->schema.name, store_current_user(), fin.done_user, fin.total);
        int pq[STORE_STEPS_MAX], pa[STORE_STEPS_MAX];
        int half = u->ses ? core_session_path(u->ses, pq, pa, STORE_STEPS_MAX) : 0;
        if (half > 0)   /* a tree is stored whole, when its last question is answered */
            printf("zoosh label: the galaxy left half-way (%d question%s of its tree answered) was not saved\n",
                   half, half == 1 ? "" : "s");
    }
out:
    restore_terminal();
    tui_trainer_free(u->tr);
    core_session_free(u->ses);
    for (int i = 0; i < CACHE_N; i++) free(u->cache[i].bytes);
    core_repr_index_free(u->simix);
    store_close(u->st);
    if (u->log) fclose(u->log);
    the_ui = NULL;
    return status;
}
