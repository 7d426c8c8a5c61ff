/*
 * term.c - asking the terminal what it can do, before initscr() (see term.h).
 *
 * The queries go out in one write, Primary Device Attributes last: terminals
 * answer in order and every terminal answers DA1, so its reply means "no
 * more replies are coming" and the wait ends early (notcurses does the same).
 * A terminal that answers nothing costs the budget (250 ms) once.
 */
#include "tui/gfx/term.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The queries (xterm ctlseqs, "Device Status" / "Window manipulation"). */
#define Q_CELL_SIZE   "\x1b[16t"      /* XTWINOPS 16: report cell size in pixels -> CSI 6 ; h ; w t */
#define Q_GFX_GEOM    "\x1b[?2;1;0S"  /* XTSMGRAPHICS Pi=2 (sixel geometry) Pa=1 (read) -> CSI ? 2 ; 0 ; w ; h S */
#define Q_GFX_COLORS  "\x1b[?1;1;0S"  /* XTSMGRAPHICS Pi=1 (colour registers) Pa=1 (read) -> CSI ? 1 ; 0 ; n S */
/* kitty graphics protocol: query a 1x1 direct image, id 31 -> APC G i=31 ; OK ST */
#define Q_KITTY       "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
/* set a direct-colour background, read SGR back (DECRQSS) -> DCS 1 $ r ... 48:2:1:2:3 m ST, reset */
#define Q_RGB         "\x1b[48:2:1:2:3m\x1bP$qm\x1b\\\x1b[m"
#define Q_VERSION     "\x1b[>0q"      /* XTVERSION -> DCS > | name ST */
#define Q_DA1         "\x1b[c"        /* Primary Device Attributes -> CSI ? class ; attrs... c (4 = sixel) */

#define ESC  0x1b
#define CSI8 0x9b            /* 8-bit CSI (C1 control) */
#define DA1_ATTR_SIXEL 4
#define MAX_PARAMS 32
#define MAX_PARAM_VAL 1000000
#define MAX_SEQ 256          /* a longer unterminated sequence is garbage */

static int in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

/* A string reply body b[0..n) (after ESC P / ESC _, before ST or BEL). */
static void apply_string(int intro, const unsigned char *b, size_t n, tui_term_caps *caps)
{
    if (intro == '_') {                                          /* APC: kitty graphics reply */
        if (n >= 1 && b[0] == 'G' && memmem(b, n, "i=31", 4) && memmem(b, n, ";OK", 3)) {
            caps->kitty = 1;
            caps->seen |= TUI_TERM_SEEN_KITTY;
        }
    } else if (intro == 'P') {
        if (n >= 3 && b[0] == '1' && b[1] == '$' && b[2] == 'r') {    /* DECRQSS valid */
            if (memmem(b, n, "48:2:", 5) || memmem(b, n, "48;2;", 5)) {
                caps->truecolor = 1;
                caps->seen |= TUI_TERM_SEEN_RGB;
            }
        } else if (n >= 2 && b[0] == '>' && b[1] == '|') {          /* XTVERSION */
            size_t k = 0;
            for (size_t j = 2; j < n && k + 1 < sizeof caps->version; j++)
                if (b[j] >= 0x20 && b[j] < 0x7f) caps->version[k++] = (char)b[j];
            caps->version[k] = 0;
            caps->seen |= TUI_TERM_SEEN_VERSION;
            if (strncmp(caps->version, "iTerm2", 6) == 0 || strncmp(caps->version, "WezTerm", 7) == 0)
                caps->iterm2 = 1;
        }
    }
}

static void apply_csi(int priv, const int *p, int n, int inter, int fin, tui_term_caps *caps)
{
    if (inter) return;
    if (priv == '?' && fin == 'c') {                         /* DA1 reply */
        caps->seen |= TUI_TERM_SEEN_DA1;
        caps->da1_class = n > 0 ? p[0] : 0;
        caps->sixel = 0;
        for (int k = 1; k < n; k++)
            if (p[k] == DA1_ATTR_SIXEL) caps->sixel = 1;
    } else if (priv == 0 && fin == 't' && n >= 3 && p[0] == 6) {   /* cell size */
        if (in_range(p[1], 1, 512) && in_range(p[2], 1, 512)) {
            caps->cell_h = p[1];
            caps->cell_w = p[2];
            caps->seen |= TUI_TERM_SEEN_CELL;
        }
    } else if (priv == '?' && fin == 'S' && n >= 3 && p[1] == 0) { /* XTSMGRAPHICS, success */
        if (p[0] == 1 && in_range(p[2], 1, 65536)) {
            caps->colors = p[2];
            caps->seen |= TUI_TERM_SEEN_COLORS;
        } else if (p[0] == 2 && n >= 4 && in_range(p[2], 1, 65535) && in_range(p[3], 1, 65535)) {
            caps->gfx_w = p[2];
            caps->gfx_h = p[3];
            caps->seen |= TUI_TERM_SEEN_GEOMETRY;
        }
    }
}

/* Parses one CSI whose parameters start at buf[i].  Returns the index just
 * past it, 0 when it is incomplete at the end of the buffer, or the index of
 * the offending byte when the sequence is broken (it is then dropped and
 * *broken set). */
static size_t parse_csi(const unsigned char *b, size_t i, size_t len, tui_term_caps *caps, int *broken)
{
    *broken = 1;
    int priv = 0, inter = 0, n = 0, have_digit = 0;
    int p[MAX_PARAMS];
    long cur = 0;
    if (i < len && b[i] >= 0x3c && b[i] <= 0x3f) priv = b[i++];
    for (; i < len; i++) {
        unsigned c = b[i];
        if (c >= '0' && c <= '9') {
            if (inter) return i;                  /* digits after intermediates: broken */
            cur = cur * 10 + (c - '0');
            if (cur > MAX_PARAM_VAL) cur = MAX_PARAM_VAL;
            have_digit = 1;
        } else if (c == ';' || c == ':') {
            if (inter) return i;
            if (n < MAX_PARAMS) p[n++] = (int)cur;
            cur = 0;
            have_digit = 0;
        } else if (c >= 0x3c && c <= 0x3f) {
            return i;                             /* a private marker in the middle */
        } else if (c >= 0x20 && c <= 0x2f) {
            inter = (int)c;
        } else if (c >= 0x40 && c <= 0x7e) {
            if ((have_digit || n > 0) && n < MAX_PARAMS) p[n++] = (int)cur;
            apply_csi(priv, p, n, inter, (int)c, caps);
            *broken = 0;
            return i + 1;
        } else {
            return i;                             /* control byte or 8-bit: broken */
        }
    }
    *broken = 0;
    return 0;
}

size_t tui_term_parse(const char *buf, size_t len, tui_term_caps *caps)
{
    const unsigned char *b = (const unsigned char *)buf;
    size_t i = 0;
    int junk = 0;   /* inside the rest of a broken reply: not keys */
    while (i < len) {
        size_t start = i, body;
        if (b[i] == ESC || b[i] == CSI8) junk = 0;
        if (b[i] == ESC) {
            if (i + 1 >= len) return i;           /* lone ESC at the end: wait for more */
            if (b[i + 1] != '[') {
                /* ESC P / ESC ] / ESC _ / ESC ^ ... strings (DCS, OSC, APC,
                 * PM) up to ST or BEL */
                if (b[i + 1] == 'P' || b[i + 1] == ']' || b[i + 1] == '_' || b[i + 1] == '^') {
                    size_t j = i + 2;
                    while (j < len && b[j] != 0x07 && !(b[j] == ESC && j + 1 < len && b[j + 1] == '\\'))
                        j++;
                    if (j >= len || (b[j] == ESC && j + 1 >= len)) {
                        if (len - start < MAX_SEQ) return start;
                        i = start + 1;
                        continue;
                    }
                    apply_string(b[i + 1], b + i + 2, j - (i + 2), caps);
                    i = b[j] == 0x07 ? j + 1 : j + 2;
                    continue;
                }
                /* SS3 (ESC O x: an arrow or F-key in application mode) is
                 * three bytes; any other ESC x (Alt+x) two */
                if (b[i + 1] == 'O') {
                    if (i + 2 >= len) return i;
                    i += 3;
                } else {
                    i += 2;
                }
                continue;
            }
            body = i + 2;
        } else if (b[i] == CSI8) {
            body = i + 1;
        } else {
            /* a key typed during the probe, unless it is what is left of a
             * broken reply (its digits must not become answers) */
            if (!junk && caps->n_typeahead < (int)sizeof caps->typeahead)
                caps->typeahead[caps->n_typeahead++] = (char)b[i];
            i++;
            continue;
        }
        int broken;
        size_t next = parse_csi(b, body, len, caps, &broken);
        if (next == 0) {                          /* incomplete */
            if (len - start < MAX_SEQ) return start;
            i = start + 1;                        /* too long: garbage */
            junk = 1;
            continue;
        }
        i = next;
        junk = broken;
    }
    return len;
}

static int elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

int tui_term_probe(int in_fd, int out_fd, tui_term_caps *caps, int budget_ms)
{
    memset(caps, 0, sizeof *caps);
    if (!isatty(in_fd) || !isatty(out_fd)) return -1;
    if (budget_ms <= 0) budget_ms = 250;

    struct winsize ws;
    if (ioctl(out_fd, TIOCGWINSZ, &ws) == 0) {
        caps->cols = ws.ws_col;
        caps->rows = ws.ws_row;
    } else {
        memset(&ws, 0, sizeof ws);
    }

    struct termios old, raw;
    if (tcgetattr(in_fd, &old) != 0) return -1;
    raw = old;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(in_fd, TCSANOW, &raw);

    /* GNU screen (STY set) and tmux (TMUX set) take an APC string as the
     * window's title: no kitty query there (tmux is asked instead, gfx.c) */
    static const char q_all[] = Q_CELL_SIZE Q_GFX_GEOM Q_GFX_COLORS Q_KITTY Q_RGB Q_VERSION Q_DA1;
    static const char q_screen[] = Q_CELL_SIZE Q_GFX_GEOM Q_GFX_COLORS Q_RGB Q_VERSION Q_DA1;
    const char *q = getenv("STY") || getenv("TMUX") ? q_screen : q_all;
    size_t qlen = strlen(q);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t off = 0;
    while (off < qlen) {
        ssize_t w = write(out_fd, q + off, qlen - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }

    char buf[2048];
    size_t have = 0;
    for (;;) {
        int left = budget_ms - elapsed_ms(&t0);
        if (left <= 0) break;
        struct pollfd pfd = {.fd = in_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) break;
        if (have == sizeof buf) have = 0;                     /* flood of garbage: drop it */
        ssize_t r = read(in_fd, buf + have, sizeof buf - have);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) break;
        have += (size_t)r;
        size_t used = tui_term_parse(buf, have, caps);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (caps->seen & TUI_TERM_SEEN_DA1) break;
    }
    tcsetattr(in_fd, TCSANOW, &old);
    caps->probe_ms = elapsed_ms(&t0);

    /* Cell size: CSI 16 t, else the sixel geometry over the window, else TIOCGWINSZ. */
    if (!(caps->seen & TUI_TERM_SEEN_CELL)) {
        if ((caps->seen & TUI_TERM_SEEN_GEOMETRY) && caps->cols > 0 && caps->rows > 0) {
            caps->cell_w = caps->gfx_w / caps->cols;
            caps->cell_h = caps->gfx_h / caps->rows;
        }
        if ((caps->cell_w <= 0 || caps->cell_h <= 0) && ws.ws_xpixel && ws.ws_ypixel && ws.ws_col && ws.ws_row) {
            caps->cell_w = ws.ws_xpixel / ws.ws_col;
            caps->cell_h = ws.ws_ypixel / ws.ws_row;
            caps->seen |= TUI_TERM_SEEN_WINSZ;
        }
        if (caps->cell_w <= 0 || caps->cell_h <= 0) caps->cell_w = caps->cell_h = 0;
    }
    return 0;
}
