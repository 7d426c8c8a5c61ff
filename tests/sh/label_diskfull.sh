#!/usr/bin/env bash
# label_diskfull.sh - a full disk while labeling: the answer that does not fit
# is refused with a clear message on screen, nothing half-written, the galaxy
# stays on screen; every answer shown as committed is in the workspace; once
# space is freed, labeling goes on and the workspace checks clean.  Uses a
# small tmpfs (needs root and mount rights; skipped otherwise).
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
mkdir full
if ! mount -t tmpfs -o size=24m tmpfs full 2>/dev/null; then skip "cannot mount a small tmpfs here"; exit 0; fi
SOCK="zt-full-$$"
wait_for() { tm_wait f "$1" "${2:-10}"; }   # wait_for TEXT [SECS]
trap 'tm kill-server 2>/dev/null; umount "$T/full" 2>/dev/null; rm -rf "$T"' EXIT
check "a workspace on a 24 MB file system" "$Z" init full/ws --schema ring
# no thumbnails: a small data file with few free pages, so answers soon need new ones
check "200 galaxies (without thumbnails)" "$Z" import full/ws "$CAT" --no-thumbs
LANG=C.UTF-8 tm -u new-session -d -s f -x 100 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/label.log' '$Z' label full/ws --task ring --retrain 0 2>'$T/err'; "
expect "the labeler runs" wait_for "Does the galaxy have a ring?"
tm send-keys -t f 1 2 1
expect "3 answers while there is space" wait_for "session 3 " 5
dd if=/dev/zero of=full/filler bs=64k 2>/dev/null
# answer until a commit does not fit (LMDB first reuses its free pages)
shown=3
for i in $(seq 1 60); do
    tm send-keys -t f 2 2 2
    sleep 0.3
    tm capture-pane -p -t f > screen.txt
    shown=$(grep -o 'session [0-9]*' screen.txt | cut -d' ' -f2)
    grep -q "disk full" screen.txt && break
done
sleep 0.3
tm capture-pane -p -t f > screen.txt
shown=$(grep -o 'session [0-9]*' screen.txt | cut -d' ' -f2)
expect "a full disk is reported on screen" grep -q "disk full: the answer NOT saved" screen.txt
expect "the galaxy stays on screen" grep -q "Does the galaxy have a ring?" screen.txt
tm send-keys -t f q
sleep 0.5
n=$("$Z" export full/ws --format answers | grep -c ',ring,tree,')
expect "exactly the $shown answers shown as committed are stored (got $n)" test "$n" -eq "$shown"
rm -f full/filler
LANG=C.UTF-8 tm -u new-session -d -s f -x 100 -y 30 \
    "cd '$T' && exec '$Z' label full/ws --task ring --retrain 0; "
expect "with space again the labeler starts" wait_for "Does the galaxy have a ring?"
tm send-keys -t f 1
expect "and commits" wait_for "session 1 " 5
tm send-keys -t f q
sleep 0.5
n2=$("$Z" export full/ws --format answers | grep -c ',ring,tree,')
expect "one more answer stored ($n2)" test "$n2" -eq $((shown + 1))
check "the workspace checks clean" "$Z" check full/ws
