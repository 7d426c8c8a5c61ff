/*
 * tmux.c - images from inside a tmux pane (see backend.h).  tmux 3.3 shows
 * no image itself and answers the terminal probe for the terminal outside
 * it, so what is outside is asked of tmux (`tmux display-message -p`): the
 * pane's allow-passthrough option, where the pane lies in the client's
 * terminal, the client's cell size in pixels and its terminal's name.  With
 * passthrough on, an image's bytes go to the outer terminal wrapped in
 * tmux's passthrough sequence (DCS tmux; ... ST, every ESC doubled),
 * together with the cursor save, the absolute position of the cell on the
 * outer screen and the cursor restore, so that tmux's idea of the outer
 * cursor stays true.  Nothing here trusts tmux's reply: numbers are
 * bounded, the name is kept to printable ASCII.
 */
#include "tui/gfx/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

#define ASK_MS 500              /* the longest tmux may take to answer */
#define PASS_OPEN "\x1bPtmux;"  /* DCS tmux; : the passthrough's start */
#define PASS_CLOSE "\x1b\\"     /* ST */
#define SAVE_CURSOR "\x1b" "7"  /* DECSC */
#define RESTORE_CURSOR "\x1b" "8" /* DECRC */
#define CUP_FMT "\x1b[%d;%dH"

/* The fields asked, space-separated; the name last (it may hold spaces). */
#define ASK_FORMAT "#{allow-passthrough} #{pane_top} #{pane_left} #{status} #{status-position} " \
                   "#{client_cell_width} #{client_cell_height} #{client_termname}"

/* $TMUX_PANE is "%" and digits; anything else is not asked for. */
static int pane_ok(const char *p)
{
    if (!p || p[0] != '%' || !p[1] || strlen(p) > 16) return 0;
    for (const char *c = p + 1; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    return 1;
}

/* Runs `tmux display-message -p [-t PANE] FORMAT`, its answer (one line, at
 * most len - 1 bytes) into out.  0, or -1 (no tmux, no answer in time). */
static int ask(char *out, size_t len)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC)) return -1;
    const char *pane = getenv("TMUX_PANE");
    pid_t pid = fork();
    if (pid < 0) { close(p[0]); close(p[1]); return -1; }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) { dup2(nul, 0); dup2(nul, 2); }
        dup2(p[1], 1);
        if (pane_ok(pane)) execlp("tmux", "tmux", "display-message", "-p", "-t", pane, ASK_FORMAT, (char *)NULL);
        else execlp("tmux", "tmux", "display-message", "-p", ASK_FORMAT, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    double end = core_mono_s() + ASK_MS / 1e3;
    for (;;) {
        int left = (int)((end - core_mono_s()) * 1e3);
        struct pollfd q = {.fd = p[0], .events = POLLIN};
        if (left <= 0 || poll(&q, 1, left) <= 0) break;
        ssize_t r = read(p[0], out + n, len - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n >= len - 1) break;
    }
    close(p[0]);
    kill(pid, SIGKILL);     /* done or too slow: either way it has said all it will */
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    out[n] = 0;
    char *nl = strchr(out, '\n');
    if (!nl) return -1;     /* no whole line: no answer */
    *nl = 0;
    return 0;
}

static int bounded(long v, long hi) { return v < 0 || v > hi ? 0 : (int)v; }

int tui_gfx_tmux_ask(tui_gfx_tmux *t)
{
    memset(t, 0, sizeof *t);
    const char *env = getenv("TMUX");
    if (!env || !*env) return 0;
    t->in = 1;
    char line[512];
    if (ask(line, sizeof line)) return -1;
    char *s = line, *e;
    long v[7];
    char pos[16] = "";
    for (int i = 0; i < 7; i++) {
        if (i == 4) {           /* status-position: a word */
            size_t k = 0;
            while (*s == ' ') s++;
            while (*s && *s != ' ' && k + 1 < sizeof pos) pos[k++] = *s++;
            pos[k] = 0;
            v[i] = 0;
            continue;
        }
        while (*s == ' ') s++;
        if (i == 3 && !strncmp(s, "on", 2)) { v[i] = 1; s += 2; continue; }     /* status: on/off/2..5 */
        if (i == 3 && !strncmp(s, "off", 3)) { v[i] = 0; s += 3; continue; }
        errno = 0;
        v[i] = strtol(s, &e, 10);
        if (e == s) v[i] = 0;   /* a field tmux left empty (no client) */
        s = e;
    }
    while (*s == ' ') s++;
    size_t k = 0;
    for (; *s && k + 1 < sizeof t->termname; s++)
        if (*s > ' ' && *s < 0x7f) t->termname[k++] = *s;
    t->termname[k] = 0;
    t->pass = v[0] == 1;
    t->top = bounded(v[1], 10000) + (strcmp(pos, "top") == 0 ? bounded(v[3], 5) : 0);
    t->left = bounded(v[2], 10000);
    t->cell_w = bounded(v[5], 200);
    t->cell_h = bounded(v[6], 400);
    t->asked = 1;
    return 0;
}

/* dst <- src with every ESC doubled (tmux takes one ESC of each pair). */
static size_t doubled(char *dst, const char *src, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == 0x1b) dst[j++] = 0x1b;
        dst[j++] = src[i];
    }
    return j;
}

char *tui_gfx_tmux_wrap(const tui_gfx_tmux *t, const char *pre, size_t npre, const char *bytes, size_t len,
                        int y, int x, size_t *out_len)
{
    char cup[48];
    int ncup = snprintf(cup, sizeof cup, SAVE_CURSOR CUP_FMT, t->top + y + 1, t->left + x + 1);
    size_t cap = 2 * (npre + (size_t)ncup + len + sizeof RESTORE_CURSOR) + sizeof PASS_OPEN + sizeof PASS_CLOSE;
    char *o = xmalloc(cap), *w = o;
    memcpy(w, PASS_OPEN, sizeof PASS_OPEN - 1);
    w += sizeof PASS_OPEN - 1;
    w += doubled(w, cup, (size_t)ncup);
    w += doubled(w, pre, npre);
    w += doubled(w, bytes, len);
    w += doubled(w, RESTORE_CURSOR, sizeof RESTORE_CURSOR - 1);
    memcpy(w, PASS_CLOSE, sizeof PASS_CLOSE - 1);
    w += sizeof PASS_CLOSE - 1;
    *out_len = (size_t)(w - o);
    return o;
}
