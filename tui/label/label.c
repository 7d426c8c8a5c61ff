/*
 * label.c - the labeling screen: zoosh label WS (see label.h).  Set-up (the
 * task, the session, the trainer, the terminal and its graphics), the
 * screen loop and the idle tick; the rooms it calls are listed in ui.h.
 *
 * One UI thread owns curses, the graphics and the terminal; the only other
 * thread is the background trainer (trainer.c), which never touches them.
 *
 * Hot path (keypress -> next galaxy): commit (synced LMDB write) -> draw text
 * -> write the already encoded image: the next galaxies' images are encoded
 * ahead on idle moments (prefetch, images.c) and kept in a small cache keyed
 * by galaxy, view and size.
 */
#include "tui/label/label.h"

#include <curses.h>
#include <term.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "tui/cmd/cmd.h"
#include "tui/label/ui.h"

#define PROBE_MS 250            /* the terminal probe's budget */
#define LABEL_FINETUNE_EVERY 5  /* background fine-tunes: before every 5th retrain of the head */

static volatile sig_atomic_t got_signal;
static ui *the_ui;      /* for the fatal hook */

static void on_signal(int sig) { got_signal = sig; }

/* ZOOSH_LOG's file, appended to: a regular file or a new one (0600), never
 * through a symbolic link (a log in a shared folder could be a link planted
 * at that name) nor into a FIFO or device.  NULL with errno set. */
static FILE *open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
    FILE *f = fdopen(fd, "a");
    if (!f) close(fd);
    return f;
}

/* The log named by ZOOSH_LOG: nothing goes to stderr while curses owns the
 * screen. */
void label_log(ui *u, const char *fmt, ...)
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

static void idle(ui *u)
{
    label_trainer_poll(u);
    if (core_mono_s() - u->last_refresh > REFRESH_S) {
        core_session_refresh(u->ses);
        u->last_refresh = core_mono_s();
        label_retrain_maybe(u, 0);
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

/* The terminal is gone: its pty closed (tmux killed, ssh dropped) while
 * no SIGHUP reached us (su, setsid and nohup keep it away).  curses then
 * reports no key at once, every time: a loop that only waits for keys would
 * spin.  Called when getch gave ERR after its wait: stdin hung up or in
 * error, or "readable" with nothing to read (end of file). */
static int terminal_gone(void)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&p, 1, 0) < 0) return errno != EINTR && errno != EAGAIN;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return 1;
    int avail = 0;
    return (p.revents & POLLIN) && ioctl(STDIN_FILENO, FIONREAD, &avail) == 0 && avail == 0;
}

/* ---- set-up */

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

/* The task: a workspace task by name, else a built-in name or a schema file
 * (which joins the workspace before any answer, so every stored answer names
 * a task the workspace knows: zoosh check, export, train read it there).
 * 0, or the exit status. */
static int open_task(ui *u)
{
    const tui_label_opts *o = &u->o;
    char err[512];
    int in_ws = 0, added = 0;
    uint32_t n_gal = 0;
    int rc = core_labeler_task_get(u->st, o->task, &u->schema, &in_ws, &n_gal, err, sizeof err);
    if (rc == -1) {
        fprintf(stderr, "zoosh label: %s\n", err);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "zoosh label: %s: %s\n", o->ws, store_strerror(rc));
        return EXIT_WORKSPACE;
    }
    if (!in_ws) {
        /* a schema file: built-in names were found in the workspace */
        const char *path = o->task ? o->task : u->schema.name;
        rc = core_labeler_task_adopt(u->st, &u->schema, path, &added, err, sizeof err);
        if (rc == -1) { fprintf(stderr, "zoosh label: %s\n", err); return 1; }
        if (rc) return cmd_ws_failed("label", o->ws, rc);
        if (added)
            fprintf(stderr, "zoosh label: task '%s' (from %s) is now a task of %s\n", u->schema.name, path, o->ws);
    }
    if (n_gal == 0) {
        fprintf(stderr, "zoosh label: %s has no galaxies yet (zoosh import %s CATALOG.csv)\n", o->ws, o->ws);
        return 1;
    }
    if (o->clusters && !o->features && (rc = core_labeler_features_check(u->st, NULL)) != 0) {
        if (rc != STORE_ENOTFOUND) return cmd_ws_failed("label", o->ws, rc);
        fprintf(stderr, "zoosh label: --clusters: %s has no representations to cluster (zoosh embed %s)\n", o->ws, o->ws);
        return 1;
    }
    if (o->features && (rc = core_labeler_features_check(u->st, o->features)) != 0) {
        if (rc != STORE_ENOTFOUND) return cmd_ws_failed("label", o->ws, rc);
        fprintf(stderr, "zoosh label: %s has no feature set '%s' (zoosh features %s lists them)\n", o->ws, o->features, o->ws);
        return 1;
    }
    return 0;
}

/* ---- the screen loop */

int tui_label_run(const tui_label_opts *o)
{
    ui U, *u = &U;
    int status = 1;
    char err[512];
    memset(u, 0, sizeof *u);
    u->o = *o;
    core_labeler_model_init(&u->model);
    u->order = CORE_ORDER_CATALOG;
    u->chosen = ORDER_NONE;
    the_ui = u;
    setlocale(LC_ALL, "");
    u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    const char *logpath = getenv("ZOOSH_LOG");
    if (logpath && *logpath) {
        if (core_path_is_lmdb(logpath))
            fprintf(stderr, "zoosh label: ZOOSH_LOG=%s names a workspace's LMDB file; not logging\n", logpath);
        else if (!(u->log = open_log(logpath)))
            fprintf(stderr, "zoosh label: ZOOSH_LOG=%s: %s; not logging\n", logpath, strerror(errno));
    }

    /* not cmd_open_ws: a read-only workspace is opened on purpose, the
     * labeler explains it on screen */
    int rc = store_open(&u->st, o->ws, 0);
    if (rc) return cmd_ws_failed("label", o->ws, rc);
    if ((status = open_task(u)) != 0) goto out;
    status = 1;
    if (u->schema.kind == CORE_TASK_TREE && u->schema.n_questions == 0) {
        fprintf(stderr, "zoosh label: task %s has no questions\n", u->schema.name);
        goto out;
    }
    if ((o->grid || o->clusters) && !core_grid_can_rate(&u->schema) && !core_grid_can_label(&u->schema, err, sizeof err)) {
        fprintf(stderr, "zoosh label: %s: %s\n", o->clusters ? "--clusters" : "--grid", err);
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
        status = EXIT_WORKSPACE;
        goto out;
    }
    if (o->order) {
        core_order ord;
        if (core_order_parse(o->order, &ord) == 0) u->order = u->chosen = (int)ord;
    }
    label_load_queue(u, NULL);
    core_session_first(u->ses);   /* the stored queue's first, not the catalog's */
    int chose_rank = u->chosen >= 0 && u->chosen != CORE_ORDER_CATALOG;
    if (chose_rank) u->order = u->chosen;
    /* the trainer thread idles until asked: by --retrain's count, the clock or the o menu */
    if (tui_trainer_new(&u->tr, u->st, u->schema.name, o->features) != 0) u->tr = NULL;
    if (u->tr && o->finetune_base) tui_trainer_set_finetune(u->tr, o->finetune_base, LABEL_FINETUNE_EVERY);
    const core_labeler_model *m = &u->model;
    if (u->tr && chose_rank &&
        (!m->have_model || strcmp(m->info.order, core_order_name((core_order)u->chosen)) != 0))
        label_retrain_maybe(u, 1);
    else if (u->tr && u->chosen == ORDER_NONE && !m->have_model && label_starts_from_prior(u)) {
        label_retrain_maybe(u, 1);   /* rank the first queue by what the task starts from */
        snprintf(u->msg, sizeof u->msg, "ranking the queue by the task's priors (%.60s)...", u->prior_src);
    }

    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        fprintf(stderr, "zoosh label: needs a terminal (stdin and stdout)\n");
        status = 1;
        goto out;
    }
    /* signals first: curses leaves handlers it finds installed alone */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* probes the terminal: before initscr */
    tui_gfx_new(&u->gfx, o->graphics, STDIN_FILENO, STDOUT_FILENO, PROBE_MS, u->utf8);
    const tui_term_caps *caps = tui_gfx_caps(u->gfx);
    label_log(u, "terminal: sixel %d cell %dx%d colors %d kitty %d truecolor %d version '%s' probe %d ms -> graphics %s, "
              "%d keys typed meanwhile, tmux %s", caps->sixel, caps->cell_w, caps->cell_h, caps->colors, caps->kitty,
              caps->truecolor, caps->version, caps->probe_ms, tui_gfx_name(u->gfx), caps->n_typeahead,
              tui_gfx_tmux_state(u->gfx));
    if (*tui_gfx_note(u->gfx)) {
        label_log(u, "graphics: %s", tui_gfx_note(u->gfx));
        snprintf(u->msg, sizeof u->msg, "%s", tui_gfx_note(u->gfx));
    }

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
    /* Images are written behind curses' back, so after every doupdate the
     * terminal's cursor must be where curses believes it is, and the image
     * writer must know that place (images.c moves back to it):
     * - leaveok FALSE: doupdate ends with the cursor moved to stdscr's
     *   cursor (label_draw parks it at 0,0) and records it in curscr.  With
     *   leaveok TRUE it stays where the last change was drawn and curscr's
     *   cursor is never updated: moving back to getyx(curscr) put the
     *   terminal's cursor at 0,0 while curses believed it was on a lower
     *   row, and its next relative move (CR, CUF) wrote that row's new text
     *   over the title row (issue 19).
     * - typeahead(-1): doupdate never stops half-way because a key is
     *   pending (quick keys, an SSH link delivering them in bursts); a
     *   stopped update skips that final move too. */
    leaveok(stdscr, FALSE);
    typeahead(-1);
    curs_set(0);
    set_escdelay(25);
    /* keys typed while the terminal was probed come first, in order */
    for (int k = caps->n_typeahead - 1; k >= 0; k--) ungetch((unsigned char)caps->typeahead[k]);
    {
        int ncol = has_colors() ? COLORS : 0;
        const char *term = getenv("TERM");
        /* tmux and screen draw 256 colours whatever TERM inside them says */
        if ((getenv("TMUX") || (term && strstr(term, "256"))) && ncol < 256) ncol = 256;
        tui_gfx_start(u->gfx, ncol);
    }
    u->t_start = core_mono_s();
    u->last_refresh = u->t_start;
    u->last_submit = u->t_start;
    u->need_full = 1;
    if (o->grid) label_open_grid(u);
    if (o->clusters) label_open_clusters(u);

    for (;;) {
        if (got_signal) break;
        label_draw(u);
        int ch;
        timeout(0);
        ch = getch();
        if (ch == ERR) {
            if (got_signal) break;
            if (label_prefetch_one(u)) continue;      /* more to prepare: look at the keyboard again first */
            timeout(100);
            ch = getch();
        }
        if (got_signal) break;
        if (ch == ERR) {
            if (terminal_gone()) {   /* as a hang-up: the claim is released below */
                got_signal = SIGHUP;
                break;
            }
            idle(u);
            /* between keys: the galaxies on screen, for the other labelers
             * (a page: each of its galaxies) */
            if (u->page && (u->mode == MODE_GRID || (u->mode == MODE_HELP && u->help_back == MODE_GRID)))
                core_grid_claim(u->page);
            else if (core_session_claim(u->ses, core_session_gid(u->ses)))
                u->need_image = 1;
            continue;
        }
        if (ch == 27) ch = swallow_escape();
        if (ch == KEY_IGNORED) continue;
        u->t_key = core_mono_s();
        if (label_handle_key(u, ch)) break;
    }
    status = 0;
    core_session_claim(u->ses, 0);
    core_session_stats fin;
    core_session_stats_get(u->ses, &fin);
    restore_terminal();
    if (got_signal) {
        label_log(u, "ended by signal %d", (int)got_signal);
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
    core_grid_free(u->page);
    core_session_free(u->ses);
    label_images_free(u);
    free(u->guide);
    tui_gfx_free(u->gfx);
    core_repr_index_free(u->simix);
    store_close(u->st);
    if (u->log) fclose(u->log);
    the_ui = NULL;
    return status;
}
