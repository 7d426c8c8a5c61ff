#!/usr/bin/env bash
# labelers.sh - two volunteers (two Unix users) label one workspace at once,
# each in the real labeler in tmux:
#   - with --retire 1 no galaxy is answered by both (each labeler claims the
#     galaxy on its screen, and a claimed galaxy counts towards retirement),
#     even when both start together and type at the same instant;
#   - each keeps the queue order it asked for, although both retrain into the
#     task's one stored queue (--order likely against --order random).
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
command -v setpriv >/dev/null || { skip "no setpriv"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "needs root to act as two users"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SOCK="zt-labelers-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin && chmod 755 "$T" "$Z"
head -41 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
check "a workspace of 40 real ring galaxies" "$Z" init ws --schema ring
check "imported" "$Z" import ws a.csv --threads 2
check "embedded" "$Z" embed ws --threads 2 --quiet
chmod -R a+rwX ws
cp -r ws ws2

start() {   # start SESSION UID ARGS...: the labeler as uid UID in a tmux session
    local s=$1 u=$2; shift 2
    tm new-session -d -s "$s" -x 140 -y 30 \
        "cd '$T' && setpriv --reuid=$u --regid=$u --clear-groups env HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 '$Z' label $*"
}
answers() { "$Z" export "$1" --format answers | tail -n +2; }

# ---- --retire 1: no galaxy twice
start a 20001 ws --task ring --retire 1 --graphics none --retrain 0
start b 20002 ws --task ring --retire 1 --graphics none --retrain 0
tm_wait a "Does the galaxy have a ring" 20 && tm_wait b "Does the galaxy have a ring" 20
sleep 0.5
for i in $(seq 1 10); do tm send-keys -t a 1 \; send-keys -t b 2; sleep 0.3; done
for i in $(seq 1 6); do tm send-keys -t a 1; sleep 0.15; tm send-keys -t b 2; sleep 0.25; done
tm send-keys -t a q; tm send-keys -t b q
sleep 1.5
n=$(answers ws | wc -l); dup=$(answers ws | cut -d, -f6 | sort | uniq -d | wc -l)
expect "32 keys from two labelers with --retire 1 gave 32 answers ($n)" test "$n" -eq 32
expect "and no galaxy was answered by both ($dup twice)" test "$dup" -eq 0
expect "each answer is attributed to its user" \
    bash -c "test \$('$Z' export ws --format answers | cut -d, -f3 | sort -u | grep -c uid2000) -eq 2"
check "the workspace checks clean" "$Z" check ws
tm kill-server 2>/dev/null

# ---- two orders on one task's stored queue
start a 20001 ws2 --task ring --order likely --retrain 2 --graphics none
start b 20002 ws2 --task ring --order random --retrain 2 --graphics none
tm_wait a "Does the galaxy have a ring" 20 && tm_wait b "Does the galaxy have a ring" 20
for i in $(seq 1 10); do tm send-keys -t a 1 \; send-keys -t b 2; sleep 0.5; done
sleep 2
oa=$(tm capture-pane -p -t a | grep -o 'order [a-z]\+' | tail -1)
ob=$(tm capture-pane -p -t b | grep -o 'order [a-z]\+' | tail -1)
tm send-keys -t a q; tm send-keys -t b q
sleep 1
expect "after 4 retrains each, the first labeler still ranks by likely ($oa)" test "$oa" = "order likely"
expect "and the second by random ($ob)" test "$ob" = "order random"
check "the workspace checks clean" "$Z" check ws2
