#!/usr/bin/env bash
# label_screens.sh - the labeler's help and the model's probabilities, in
# tmux (text):
#   - ? lists every action with every key bound to it, laid out for the
#     screen: at 80x24 and at 200x50 each word of each help line and every
#     key name is on the screen (nothing cut at a column's edge or the
#     bottom), on one page;
#   - blind (issue 19, item 4): a tree of several questions (gz-decals) hides
#     the model's bars until the answer is given, then says what the model
#     had said; p shows them; --no-blind shows them from the start; a
#     one-question task (ring) shows them unless --blind.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SOCK=zt-screens-$$
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; rm -rf "$T"' EXIT
export LANG=C.UTF-8
tm new-session -d -s keep "sleep 600"     # the server outlives each labeler's session

# 12 ring-set galaxies with their prior columns: a first model predicts from them
head -13 "$CAT" | awk -F, -v d="$SHARED/decals_rings" 'NR == 1 {print; next} {OFS = ","; $2 = d "/" $2; print}' >c.csv
for t in ring gz-decals; do
    check "a $t workspace" "$Z" init "ws_$t" --schema "$t"
    check "imports 12 galaxies with priors ($t)" "$Z" import "ws_$t" c.csv --threads 1
    check "embeds them ($t)" "$Z" embed "ws_$t" --quiet
    check "a first model from the priors ($t)" "$Z" train "ws_$t" --task "$t"
done

start() {   # start COLS ROWS ARGS...: the labeler in a fresh tmux session z
    local c=$1 r=$2; shift 2
    tm kill-session -t z 2>/dev/null
    tm new-session -d -s z -x "$c" -y "$r" "'$Z' label $* --retrain 0 --graphics none; sleep 5"
}
screen() { tm capture-pane -p -t z; }
# answer rows with a bar: " 1  Smooth   ####.... 0.35"
bars() { screen | grep -cE '^ +[0-9] +.* [01]\.[0-9]{2} *$'; }
wait_for() { tm_wait z "$1" "$2"; }

# ---- help at two sizes: every help text's words and every key name shown
mapfile -t helps < <(sed -n 's/.*{TUI_ACT_[A-Z0-9_]*, "[a-z0-9-]*", "\([^"]*\)"}.*/\1/p' "$ROOT/tui/label/keys.c" |
                     grep -v '^answer [0-9]')
keys="u backspace del-ascii ctrl-h space f1 ctrl-l up down left right enter return keypad-enter esc [ ] { } + = - / ?"
[ "${#helps[@]}" -ge 25 ] && pass "read ${#helps[@]} help lines from the key table" || fail "the key table's help lines" "${#helps[@]}"
for size in 80x24 200x50; do
    start "${size%x*}" "${size#*x}" ws_ring --task ring
    wait_for "Does the galaxy have a ring?" 8 || fail "the labeler starts at $size"
    tm send-keys -t z '?'
    wait_for "remaps" 5 || fail "? opens the help at $size"
    screen >help_$size.txt
    missing=""
    for h in "${helps[@]}"; do
        for w in $h; do grep -qF -- "$w" help_$size.txt || missing="$missing [$h: $w]"; done
    done
    expect "at $size every help line is shown whole${missing:+:$missing}" test -z "$missing"
    missing=""
    for k in $keys; do grep -qF -- "$k" help_$size.txt || missing="$missing $k"; done
    expect "at $size every default key is named${missing:+ (missing:$missing)}" test -z "$missing"
    expect "at $size the answers' keys are listed" grep -qE "^ 1 2 3 4 5" help_$size.txt
    expect "at $size it fits one page" bash -c "! grep -q 'page 1 of' help_$size.txt"
    long=$(awk -v w="${size%x*}" 'length($0) > w' help_$size.txt | wc -l)
    expect "at $size no line is wider than the screen" test "$long" -eq 0
done
tm send-keys -t z x
expect "any key leaves the help" wait_for "Does the galaxy have a ring?" 5
# a window too small for one page: pages, any key the next, Esc back
start 50 12 ws_ring --task ring
wait_for "Does the galaxy have a ring?" 8
tm send-keys -t z '?'
expect "at 50x12 the help has pages" wait_for "keys, page 1 of 4" 5
tm send-keys -t z x
expect "any key shows the next page" wait_for "keys, page 2 of 4" 5
tm send-keys -t z Escape
expect "Esc goes back" wait_for "Does the galaxy have a ring?" 5

# ---- blind
start 100 30 ws_gz-decals --task gz-decals
wait_for "Is the galaxy simply smooth" 8 || fail "the gz-decals labeler starts"
sleep 0.3
expect "a tree of several questions hides the model's bars by default" test "$(bars)" -eq 0
tm send-keys -t z 1
expect "after the answer the model's probabilities are said" wait_for "you: Smooth; the model: Smooth 0." 5
tm send-keys -t z u
wait_for "1. Is the galaxy simply smooth" 5
tm send-keys -t z p
expect "p shows them" wait_for "probabilities are shown" 5
expect "beside the three answers" test "$(bars)" -eq 3
start 100 30 ws_gz-decals --task gz-decals --no-blind
wait_for "Is the galaxy simply smooth" 8
sleep 0.3
expect "--no-blind shows them from the start" test "$(bars)" -eq 3
start 100 30 ws_ring --task ring
wait_for "Does the galaxy have a ring?" 8
sleep 0.3
expect "a one-question task shows them by default" test "$(bars)" -eq 2
start 100 30 ws_ring --task ring --blind
wait_for "Does the galaxy have a ring?" 8
sleep 0.3
expect "--blind hides them there" test "$(bars)" -eq 0
tm kill-session -t z 2>/dev/null
