/*
 * t_term.c - the terminal reply parser on real replies (xterm -ti vt340 and
 * tmux 3.3a, as measured in ../shared/tools/README.md), replies cut at every
 * byte, garbage; and the probe itself through a pty, against a fake terminal
 * that answers like xterm and against one that answers nothing.
 */
#include <pthread.h>
#include <pty.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "tests/zt.h"
#include "tui/gfx/term.h"

/* What xterm 379 -ti vt340 answers to the probe's four queries. */
static const char XTERM_REPLIES[] =
    "\x1b[6;17;8t"                          /* CSI 16 t: cells 17 high, 8 wide */
    "\x1b[?2;0;800;680S"                    /* XTSMGRAPHICS geometry */
    "\x1b[?1;0;256S"                        /* XTSMGRAPHICS colour registers */
    "\x1b[?63;1;2;4;6;9;15;16;22;28c";      /* DA1 with 4 = sixel */

static void parses_real_xterm_replies(void)
{
    tui_term_caps c;
    memset(&c, 0, sizeof c);
    size_t used = tui_term_parse(XTERM_REPLIES, sizeof XTERM_REPLIES - 1, &c);
    ZT_CHECK(used == sizeof XTERM_REPLIES - 1, "consumed %zu", used);
    ZT_CHECK(c.sixel == 1 && c.da1_class == 63, "sixel %d class %d", c.sixel, c.da1_class);
    ZT_CHECK(c.cell_w == 8 && c.cell_h == 17, "cell %dx%d", c.cell_w, c.cell_h);
    ZT_CHECK(c.colors == 256, "colors %d", c.colors);
    ZT_CHECK(c.gfx_w == 800 && c.gfx_h == 680, "geometry %dx%d", c.gfx_w, c.gfx_h);
    ZT_CHECK(c.seen == (TUI_TERM_SEEN_DA1 | TUI_TERM_SEEN_CELL | TUI_TERM_SEEN_GEOMETRY | TUI_TERM_SEEN_COLORS),
             "seen %#x", c.seen);
}

static void tmux_and_plain_xterm_have_no_sixel(void)
{
    tui_term_caps c;
    memset(&c, 0, sizeof c);
    tui_term_parse("\x1b[?1;2c", 7, &c);            /* tmux 3.3a */
    ZT_CHECK((c.seen & TUI_TERM_SEEN_DA1) && !c.sixel && c.da1_class == 1, "tmux");
    memset(&c, 0, sizeof c);
    const char *xt = "\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c";   /* xterm without -ti vt340 */
    tui_term_parse(xt, strlen(xt), &c);
    ZT_CHECK((c.seen & TUI_TERM_SEEN_DA1) && !c.sixel, "plain xterm");
    /* an error reply from XTSMGRAPHICS (Ps = 3) is not a size */
    memset(&c, 0, sizeof c);
    tui_term_parse("\x1b[?2;3;0S\x1b[?1;3;0S", 18, &c);
    ZT_CHECK(c.seen == 0 && c.colors == 0 && c.gfx_w == 0, "failure replies ignored");
}

/* kitty 0.26.5's answers to the kitty graphics query, DECRQSS of a direct
 * colour and XTVERSION (as the labeler logged them in kitty), tmux's
 * refusal, iTerm2's name. */
static void kitty_truecolor_and_version_replies(void)
{
    static const char kitty[] = "\x1b_Gi=31;OK\x1b\\" "\x1bP1$r0;48:2:1:2:3m\x1b\\" "\x1bP>|kitty(0.26.5)\x1b\\"
                                "\x1b[?62;c";
    tui_term_caps c;
    memset(&c, 0, sizeof c);
    ZT_CHECK(tui_term_parse(kitty, sizeof kitty - 1, &c) == sizeof kitty - 1, "consumed");
    ZT_CHECK(c.kitty && c.truecolor && !c.iterm2 && !c.sixel && strcmp(c.version, "kitty(0.26.5)") == 0 &&
             c.n_typeahead == 0, "kitty %d truecolor %d version '%s' keys %d", c.kitty, c.truecolor, c.version,
             c.n_typeahead);
    for (size_t cut = 0; cut <= sizeof kitty - 1; cut++) {     /* cut anywhere, the same */
        char buf[128];
        memset(&c, 0, sizeof c);
        memcpy(buf, kitty, cut);
        size_t used = tui_term_parse(buf, cut, &c), have = cut - used;
        memmove(buf, buf + used, have);
        memcpy(buf + have, kitty + cut, sizeof kitty - 1 - cut);
        have += sizeof kitty - 1 - cut;
        tui_term_parse(buf, have, &c);
        ZT_CHECK(c.kitty && c.truecolor && c.n_typeahead == 0, "cut at %zu", cut);
    }
    /* tmux 3.3a: an invalid DECRQSS, an error to the image query, its name */
    static const char tmux[] = "\x1bP0$r\x1b\\" "\x1b_Gi=31;ENOENT:no\x1b\\" "\x1bP>|tmux 3.3a\x1b\\" "\x1b[?1;2c";
    memset(&c, 0, sizeof c);
    tui_term_parse(tmux, sizeof tmux - 1, &c);
    ZT_CHECK(!c.kitty && !c.truecolor && !c.iterm2 && c.n_typeahead == 0, "tmux: nothing");
    /* an index colour given back is not a direct colour */
    memset(&c, 0, sizeof c);
    tui_term_parse("\x1bP1$r0;48;5;16m\x1b\\", 18, &c);
    ZT_CHECK(!c.truecolor, "48;5 is not true colour");
    memset(&c, 0, sizeof c);
    const char *it = "\x1bP>|iTerm2 3.4.19\x1b\\";
    tui_term_parse(it, strlen(it), &c);
    ZT_CHECK(c.iterm2 && strcmp(c.version, "iTerm2 3.4.19") == 0, "iTerm2 by name");
    /* a name with escapes or control bytes keeps printable ASCII only */
    memset(&c, 0, sizeof c);
    const char *evil = "\x1bP>|x\x01\x9by\x1b\\";
    tui_term_parse(evil, strlen(evil), &c);
    ZT_CHECK(strcmp(c.version, "xy") == 0, "version '%s'", c.version);
}

static void replies_cut_at_every_byte_give_the_same_result(void)
{
    size_t n = sizeof XTERM_REPLIES - 1;
    for (size_t cut = 0; cut <= n; cut++) {
        tui_term_caps c;
        memset(&c, 0, sizeof c);
        char buf[256];
        memcpy(buf, XTERM_REPLIES, cut);
        size_t used = tui_term_parse(buf, cut, &c);
        ZT_CHECK(used <= cut, "used %zu of %zu", used, cut);
        /* carry the unconsumed tail, append the rest, parse again */
        size_t have = cut - used;
        memmove(buf, buf + used, have);
        memcpy(buf + have, XTERM_REPLIES + cut, n - cut);
        have += n - cut;
        used = tui_term_parse(buf, have, &c);
        ZT_CHECK(used == have, "cut %zu: tail left", cut);
        ZT_CHECK(c.sixel && c.cell_w == 8 && c.cell_h == 17 && c.colors == 256 && c.gfx_w == 800,
                 "cut at %zu lost something (seen %#x)", cut, c.seen);
    }
}

static void key_presses_and_garbage_around_replies_are_skipped(void)
{
    const char *mixed = "abc\x1bOA\x1b[A\x01\x7f\xff\xc3\xa9" "\x1b[6;17;8t" "zz\x1b]11;rgb:0/0/0\x07"
                        "\x1b[?1;0;256S\x1bPqbogus\x1b\\" "\x1b[?63;4c";
    tui_term_caps c;
    memset(&c, 0, sizeof c);
    size_t used = tui_term_parse(mixed, strlen(mixed), &c);
    ZT_CHECK(used == strlen(mixed), "used %zu", used);
    ZT_CHECK(c.sixel && c.cell_h == 17 && c.colors == 256, "replies among garbage: seen %#x", c.seen);
    /* the keys among them are kept in order for the labeler; the arrows
     * (SS3 and CSI forms) and the replies are not keys */
    static const char keys[] = "abc\x01\x7f\xff\xc3\xa9zz";
    ZT_CHECK(c.n_typeahead == (int)sizeof keys - 1 && memcmp(c.typeahead, keys, sizeof keys - 1) == 0,
             "typeahead %d bytes '%.*s'", c.n_typeahead, c.n_typeahead, c.typeahead);
    /* the rest of a broken reply is not typed keys: its digits would answer */
    memset(&c, 0, sizeof c);
    const char *broken = "1\x1b[?63;1\x01;2;4;6c2";
    tui_term_parse(broken, strlen(broken), &c);
    ZT_CHECK(c.n_typeahead == 1 && c.typeahead[0] == '1', "after a broken reply: %d keys '%.*s'",
             c.n_typeahead, c.n_typeahead, c.typeahead);
    memset(&c, 0, sizeof c);
    tui_term_parse("\x1b[?63;4c2 ", 10, &c);
    ZT_CHECK(c.n_typeahead == 2 && memcmp(c.typeahead, "2 ", 2) == 0, "after a whole reply the keys count");
    /* a flood keeps the first 64 and never overflows */
    char flood[300];
    memset(flood, '1', sizeof flood);
    memset(&c, 0, sizeof c);
    tui_term_parse(flood, sizeof flood, &c);
    ZT_CHECK(c.n_typeahead == (int)sizeof c.typeahead, "flood kept %d", c.n_typeahead);
    /* absurd values are not believed */
    memset(&c, 0, sizeof c);
    const char *absurd = "\x1b[6;0;8t\x1b[6;99999999999999;8t\x1b[?1;0;0S\x1b[?2;0;-5;3S";
    tui_term_parse(absurd, strlen(absurd), &c);
    ZT_CHECK(c.cell_w == 0 && c.cell_h == 0 && c.colors == 0 && c.gfx_w == 0, "absurd values taken");
}

static void random_garbage_never_crashes_and_is_consumed(void)
{
    core_rng r;
    core_rng_seed(&r, 42);
    char buf[512];
    for (int it = 0; it < 20000; it++) {
        size_t n = core_rng_below(&r, sizeof buf);
        for (size_t i = 0; i < n; i++) {
            /* biased towards the bytes replies are made of */
            static const char alphabet[] = "\x1b[?;0123456789cStP\\\x07\x9b";
            buf[i] = core_rng_below(&r, 4) ? alphabet[core_rng_below(&r, sizeof alphabet - 1)]
                                            : (char)core_rng_below(&r, 256);
        }
        tui_term_caps c;
        memset(&c, 0, sizeof c);
        size_t used = tui_term_parse(buf, n, &c);
        ZT_CHECK(used <= n, "used %zu > %zu", used, n);
        /* whatever stays unconsumed is a possible start of a reply, shorter than a reply can be */
        ZT_CHECK(n - used < 256, "left %zu bytes", n - used);
        ZT_CHECK(c.cell_w >= 0 && c.cell_w <= 512 && c.colors <= 65536, "bounds");
    }
    /* one long unterminated sequence does not stall the parser forever */
    memset(buf, '1', sizeof buf);
    buf[0] = 0x1b;
    buf[1] = '[';
    tui_term_caps c;
    memset(&c, 0, sizeof c);
    ZT_CHECK(tui_term_parse(buf, sizeof buf, &c) == sizeof buf, "long garbage kept");
}

/* A fake terminal on the pty master: reads the queries, answers like xterm. */
typedef struct { int master; int answer; const char *typed; char got[256]; size_t n; } fake_term;

static void *fake_term_main(void *arg)
{
    fake_term *f = arg;
    while (f->n < sizeof f->got - 1) {
        ssize_t r = read(f->master, f->got + f->n, sizeof f->got - 1 - f->n);
        if (r <= 0) break;
        f->n += (size_t)r;
        f->got[f->n] = 0;
        if (strstr(f->got, "\x1b[c")) break;
    }
    if (f->typed) {    /* a person typing while the queries are in flight */
        ssize_t w = write(f->master, f->typed, strlen(f->typed));
        (void)w;
    }
    if (f->answer) {
        ssize_t w = write(f->master, XTERM_REPLIES, sizeof XTERM_REPLIES - 1);
        (void)w;
    }
    return NULL;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void probe_through_a_pty(int answer)
{
    int master, slave;
    struct winsize ws = {.ws_row = 40, .ws_col = 100, .ws_xpixel = 1000, .ws_ypixel = 800};
    ZT_CHECK(openpty(&master, &slave, NULL, NULL, &ws) == 0, "openpty");
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(master, TCSANOW, &t);
    fake_term f = {.master = master, .answer = answer, .typed = "21u"};
    pthread_t th;
    pthread_create(&th, NULL, fake_term_main, &f);
    tui_term_caps c;
    double t0 = now_ms();
    ZT_OK(tui_term_probe(slave, slave, &c, 250));
    double ms = now_ms() - t0;
    if (!answer) {
        ssize_t w = write(slave, "", 0);    /* wake nothing; the fake terminal got DA1 already */
        (void)w;
    }
    pthread_join(th, NULL);
    ZT_CHECK(strstr(f.got, "\x1b[16t") && strstr(f.got, "\x1b[?2;1;0S") && strstr(f.got, "\x1b[?1;1;0S") &&
             strstr(f.got, "\x1b[c"), "queries sent: %zu bytes", f.n);
    ZT_CHECK(strstr(f.got, "\x1b[c") > strstr(f.got, "\x1b[16t"), "DA1 goes last");
    ZT_CHECK(c.n_typeahead == 3 && memcmp(c.typeahead, "21u", 3) == 0, "keys typed during the probe: %d '%.*s'",
             c.n_typeahead, c.n_typeahead, c.typeahead);
    if (answer) {
        ZT_CHECK(c.sixel && c.cell_w == 8 && c.cell_h == 17 && c.colors == 256, "caps from the fake xterm");
        ZT_CHECK(ms < 200, "an answering terminal took %.0f ms", ms);
    } else {
        ZT_CHECK(!c.sixel && !(c.seen & TUI_TERM_SEEN_DA1), "silence is not sixel");
        ZT_CHECK(ms >= 240 && ms < 400, "a silent terminal cost %.0f ms (budget 250)", ms);
        /* the cell size then comes from TIOCGWINSZ: 1000/100 x 800/40 */
        ZT_CHECK(c.cell_w == 10 && c.cell_h == 20 && (c.seen & TUI_TERM_SEEN_WINSZ), "winsize cells %dx%d", c.cell_w, c.cell_h);
    }
    close(master);
    close(slave);
}

static void probe_answering_terminal(void) { probe_through_a_pty(1); }
static void probe_silent_terminal_costs_the_budget_once(void) { probe_through_a_pty(0); }

static void probe_refuses_a_non_terminal(void)
{
    int p[2];
    ZT_CHECK(pipe(p) == 0, "pipe");
    tui_term_caps c;
    ZT_CHECK(tui_term_probe(p[0], p[1], &c, 250) == -1, "a pipe is not a terminal");
    close(p[0]);
    close(p[1]);
}

const zt_case zt_suite_term[] = {
    {"parses xterm's real replies: sixel, 8x17 cells, 256 registers, geometry", parses_real_xterm_replies, 0},
    {"tmux and xterm without vt340 have no sixel; XTSMGRAPHICS errors are ignored", tmux_and_plain_xterm_have_no_sixel, 0},
    {"replies cut at every byte parse the same when the rest arrives", replies_cut_at_every_byte_give_the_same_result, 0},
    {"kitty's graphics OK, a direct colour read back, XTVERSION names; tmux's refusals", kitty_truecolor_and_version_replies, 0},
    {"key presses are kept as typeahead; OSC/DCS strings, broken replies and absurd numbers are skipped", key_presses_and_garbage_around_replies_are_skipped, 0},
    {"20,000 random garbage buffers never crash and are consumed", random_garbage_never_crashes_and_is_consumed, 0},
    {"the probe through a pty reads a fake xterm's answers quickly", probe_answering_terminal, 0},
    {"a terminal that answers nothing costs the 250 ms budget, cells from TIOCGWINSZ", probe_silent_terminal_costs_the_budget_once, 0},
    {"the probe refuses a pipe", probe_refuses_a_non_terminal, 0},
    {0},
};
