#!/usr/bin/env bash
# Includes only go down: tui -> core -> store.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
bad=$(grep -nE '#include +"(core|tui)/' store/*.[ch] 2>/dev/null; grep -nE '#include +"tui/' core/*.[ch] 2>/dev/null)
expect "store/ includes nothing from core/ or tui/, and core/ nothing from tui/" test -z "$bad"
bad=$(grep -nE '#include +<(ncurses|curses|sixel)' store/*.[ch] core/*.[ch] 2>/dev/null)
expect "store/ and core/ use no terminal library" test -z "$bad"
