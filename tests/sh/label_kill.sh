#!/usr/bin/env bash
# label_kill.sh - every answer the labeler showed as committed survives the
# labeler's death: SIGKILL after N answers leaves exactly N; a hang-up
# (SIGHUP, as when an SSH connection drops) and SIGTERM/SIGINT lose nothing
# either, and the workspace checks clean after each.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }

SOCK="zt-kill-$$"
wait_for() { tm_wait "$S" "$1" "${2:-10}"; }   # wait_for TEXT [SECS]
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
answers() { "$Z" export ws --format answers | grep -c ',ring,tree,'; }
# start NAME: a labeler in its own tmux session; its pid in $PID
start() {
    S=$1
    LANG=C.UTF-8 tm -u new-session -d -s "$S" -x 100 -y 30 \
        "cd '$T' && exec '$Z' label ws --task ring --retrain 0 2>'$T/$S.err'; "
    wait_for "Does the galaxy have a ring?" 10
    PID=$(tm display -p -t "$S" '#{pane_pid}')
}
# answer N: N answers, waiting until the screen shows them committed
answer() {
    local n=$1 i
    for i in $(seq 1 "$n"); do tm send-keys -t "$S" 2; done
    wait_for "session $n " 10
}
gone() { for i in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the ring galaxies" nice "$Z" import ws "$CAT" --threads 1

start k9
expect "the labeler runs in tmux" test -n "$PID"
expect "7 answers shown as committed" answer 7
kill -9 "$PID"
expect "SIGKILL ends it" gone "$PID"
expect "exactly 7 answers survive SIGKILL (got $(answers))" test "$(answers)" -eq 7
check "the workspace checks clean after SIGKILL" "$Z" check ws

start hup
expect "4 more answers" answer 4
kill -HUP "$PID"
expect "SIGHUP ends it" gone "$PID"
expect "11 answers after the hang-up (got $(answers))" test "$(answers)" -eq 11
check "the workspace checks clean after SIGHUP" "$Z" check ws

start term
expect "3 more answers" answer 3
kill -TERM "$PID"
expect "SIGTERM ends it" gone "$PID"
expect "14 answers after SIGTERM (got $(answers))" test "$(answers)" -eq 14
expect "SIGTERM restores the terminal and says what was saved" grep -q "3 answers of this session are saved" "$T/term.err"

start int
expect "2 more answers" answer 2
tm send-keys -t int C-c
expect "Ctrl-C ends it" gone "$PID"
expect "16 answers after Ctrl-C (got $(answers))" test "$(answers)" -eq 16
check "the workspace checks clean at the end" "$Z" check ws
next=$(sed -n 18p "$CAT" | cut -d, -f1)
start again
expect "the next labeler starts at the 17th galaxy ($next), after the 16 answered" wait_for "$next" 5
tm send-keys -t again q
