#!/usr/bin/env bash
# Includes only go down: tui -> core -> store.  And tui/ reaches store/ only
# to open a workspace: every labeling rule, record, blob and transaction is
# behind a core/ function (docs/ARCHITECTURE.md).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
bad=$(grep -nE '#include +"(core|tui)/' store/*.[ch] 2>/dev/null; grep -nE '#include +"tui/' core/*.[ch] 2>/dev/null)
expect "store/ includes nothing from core/ or tui/, and core/ nothing from tui/" test -z "$bad"
bad=$(grep -nE '#include +<(ncurses|curses|sixel)' store/*.[ch] core/*.[ch] 2>/dev/null)
expect "store/ and core/ use no terminal library" test -z "$bad"

# The store calls tui/ may make: opening and closing a workspace, and what it
# says about the one it opened.
OPEN_ONLY='store_open|store_create_shared|store_close|store_strerror|store_last_error|store_is_readonly|store_is_lockless|store_damage|store_dir|store_current_user'
# store_calls FILE...: "file:line: call" for each store_* call outside OPEN_ONLY,
# read with the comments stripped (a comment may name any function)
store_calls() {
    local f
    for f in "$@"; do
        cc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null |
            grep -noE '\bstore_[a-z0-9_]+ *\(' | grep -vE ":($OPEN_ONLY) *\(" | sed "s|^|$f:|"
    done
}
bad=$(store_calls tui/*.c tui/*/*.c tui/*.h tui/*/*.h)
expect "tui/ calls store/ only to open a workspace" test -z "$bad"
[ -z "$bad" ] || echo "$bad" | head -20

# the check itself can fail: a labeling rule written in tui/ (an answer
# appended from the screen) is caught, and one named only in a comment is not
printf '%s\n' '/* store_answer_append(txn, a) is in core/session.c */' \
    'static int commit(zs_txn *txn, store_answer *a) { return store_answer_append(txn, a, 0); }' > "$T/rule.c"
expect "... a tui/ file that appends an answer itself is caught" test -n "$(store_calls "$T/rule.c")"
printf '%s\n' '/* store_answer_append(txn, a) is in core/session.c */' \
    'static int open_ws(zs_store **st) { return store_open(st, "ws", 0); }' > "$T/open.c"
expect "... and one that only opens a workspace is not" test -z "$(store_calls "$T/open.c")"
