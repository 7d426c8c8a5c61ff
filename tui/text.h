/*
 * text.h - the one sanitiser for user-controlled text on its way to a
 * terminal (catalog ids and metadata, schema wording, names from records).
 */
#ifndef ZOOSH_TUI_TEXT_H
#define ZOOSH_TUI_TEXT_H

#include <stddef.h>

/* One UTF-8 character at p: returns its length in bytes (1..4) with its
 * code point in *cp, or 0 when p starts no valid character (a bad lead or
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF).
 * p must not point at the terminating NUL. */
int tui_text_utf8_next(const char *p, unsigned *cp);

/* 1 for a code point that never reaches a terminal raw: C0 and C1
 * controls, DEL, bidi overrides and isolates, direction and invisible marks. */
int tui_text_unsafe_cp(unsigned cp);

/* Copies catalog text for display: control characters, ESC, C1 controls,
 * bidi overrides and invalid UTF-8 become '?', tabs and newlines a space;
 * ascii_only also replaces every non-ASCII character.  out gets at most
 * cap - 1 bytes, never a cut character; returns its length. */
size_t tui_text_sanitize(const char *in, char *out, size_t cap, int ascii_only);

/* The choke point for reports (stats, check, train, similar, messages):
 * every string a user or a record could have chosen -- names from records,
 * feature-set names and provenance, catalog text in errors, details from
 * store_last_error -- is printed through this, always, whether the output
 * is a terminal or a pipe (a report piped to `cat` or `less -R` still
 * reaches a terminal).  A sanitised copy of s (tui_text_sanitize, UTF-8
 * kept) from a ring of 8 per-thread buffers, so one printf may take up to
 * 8; each stays valid until 8 more calls.  NULL reads as "".  Data
 * exports are not reports: they keep exact bytes (cmd_safe_text). */
const char *tui_text_safe(const char *s);

#endif
