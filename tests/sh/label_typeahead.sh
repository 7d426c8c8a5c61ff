#!/usr/bin/env bash
# label_typeahead.sh - keys a person types while the labeler starts (before
# and while it asks the terminal what it can do) are answers, not lost: in a
# real pty that never answers the probe (it then waits its whole 250 ms),
# "22" typed at once gives two "No ring" answers.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || { skip "no /usr/bin/python3"; exit 0; }
PTY="$PY $ROOT/tests/fuzz/ptyrun.py"
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the ring galaxies" nice "$Z" import ws "$CAT" --threads 1
answers() { "$Z" export ws --format answers | grep -c ',ring,tree,'; }

# the keys go to the terminal before the labeler has even started
{
    echo "keys 22"
    echo "wait ring? 15"
    echo "quiet 700"
    echo "keys q"; echo "sleep 1"; echo "keys q"; echo "expect-exit 15"
} | TERM=xterm-256color LANG=C.UTF-8 $PTY --out label.raw --timeout 40 -- \
    "$Z" label ws --task ring --graphics auto --retrain 0 --order catalog 2>label.st
expect "the labeler ran and quit ($(cat label.st))" grep -q "^exit 0$" label.st
expect "the two keys typed during start-up are two answers (got $(answers))" test "$(answers)" -eq 2
n_no=$("$Z" export ws --format answers | grep -c ',ring,no')
expect "both are 'No ring', the key typed (got $n_no)" test "$n_no" -eq 2
check "the workspace checks clean" "$Z" check ws
