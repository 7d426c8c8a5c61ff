/*
 * link.c - the shown galaxy's "ra .. dec .." line as an OSC 8 hyperlink to
 * the Legacy Survey viewer (https://www.legacysurvey.org/viewer?ra=..&dec=..
 * &layer=ls-dr10&zoom=16), so a click opens the sky around it.
 *
 * curses draws the line as plain text; after each frame the same cells are
 * written again, wrapped in OSC 8, through the graphics interface's
 * tui_gfx_place (cursor back where curses believes it is).  The URL is made
 * from the two numbers alone (never from stored text), and only for
 * 0 <= ra < 360, -90 <= dec <= 90.
 *
 * When: ZOOSH_HYPERLINKS=1 or 0 decides; otherwise links are on except in
 * tmux or GNU screen ($TMUX, $STY, TERM screen* / tmux*: a multiplexer that
 * does not pass OSC 8 would print nothing harmful, but one that keeps the
 * sequence for another client's terminal may not), on the Linux console
 * (TERM linux) and for TERM dumb or unset.  A terminal without OSC 8 ignores
 * the sequence (ECMA-48 string), so the default errs toward links.
 * UI thread only (see ui.h).
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/label/ui.h"

static int links_on(void)
{
    static int on = -1;
    if (on >= 0) return on;
    const char *force = getenv("ZOOSH_HYPERLINKS"), *term = getenv("TERM");
    if (force && (strcmp(force, "1") == 0 || strcmp(force, "0") == 0)) on = force[0] == '1';
    else if (getenv("TMUX") || getenv("STY")) on = 0;
    else if (!term || !*term || strcmp(term, "dumb") == 0 || strcmp(term, "linux") == 0) on = 0;
    else on = strncmp(term, "screen", 6) != 0 && strncmp(term, "tmux", 4) != 0;
    return on;
}

void label_link_radec(ui *u)
{
    if (u->radec_y < 0 || !u->radec[0] || u->mode != MODE_LABEL || !links_on()) return;
    if (!(u->ra >= 0 && u->ra < 360 && u->dec >= -90 && u->dec <= 90)) return;
    int n = (int)strlen(u->radec);          /* ASCII: what put_clip drew */
    if (n > u->radec_w) n = u->radec_w;
    if (n <= 0) return;
    char buf[256];
    int len = snprintf(buf, sizeof buf,
                       "\033]8;;https://www.legacysurvey.org/viewer?ra=%.5f&dec=%.5f&layer=ls-dr10&zoom=16\033\\%.*s\033]8;;\033\\",
                       u->ra, u->dec, n, u->radec);
    if (len <= 0 || len >= (int)sizeof buf) return;
    int cy, cx;
    getyx(curscr, cy, cx);
    tui_gfx_place(u->gfx, STDOUT_FILENO, buf, (size_t)len, u->radec_y, u->radec_x, cy, cx);
}
