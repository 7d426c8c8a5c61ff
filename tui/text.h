/*
 * text.h - the one sanitiser for user-controlled text on its way to a
 * terminal (catalog ids and metadata, schema wording, names from records).
 */
#ifndef ZOOSH_TUI_TEXT_H
#define ZOOSH_TUI_TEXT_H

#include <stddef.h>

/* Copies catalog text for display: control characters, ESC, C1 controls,
 * bidi overrides and invalid UTF-8 become '?', tabs and newlines a space;
 * ascii_only also replaces every non-ASCII character.  out gets at most
 * cap - 1 bytes, never a cut character; returns its length. */
size_t tui_text_sanitize(const char *in, char *out, size_t cap, int ascii_only);

#endif
