#!/usr/bin/env bash
# label_hangup.sh - a labeler never outlives its terminal (issue 21, item 8).
# The labeler runs under setsid in tmux, so no SIGHUP reaches it when the
# terminal goes (as under su, nohup or a dropped ssh whose parent kept the
# signal); the tmux server is killed.  It must end within 2 s, as 'q' does,
# and release its claim: another user with --retire 1 is then shown the
# galaxy it had on screen.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
command -v setsid >/dev/null && command -v setpriv >/dev/null || { skip "no setsid / setpriv"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "needs root to act as two users"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SOCK="zt-hangup-$$"
trap 'tm kill-server 2>/dev/null; tmux -L "$SOCK-b" kill-server 2>/dev/null; rm -rf "$T"' EXIT
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin && chmod 755 "$T" "$Z"
head -11 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
check "a workspace of 10 real ring galaxies" "$Z" init ws --schema ring
check "imported" "$Z" import ws a.csv --threads 2
chmod -R a+rwX ws
first=$(sed -n 2p a.csv | cut -d, -f1)
second=$(sed -n 3p a.csv | cut -d, -f1)

label_as() {   # label_as SOCKET UID: the labeler as UID, in its own session (setsid: no SIGHUP from the pty)
    tmux -L "$1" new-session -d -s l -x 120 -y 30 \
        "cd '$T' && exec setsid -w setpriv --reuid=$2 --regid=$2 --clear-groups env HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 '$Z' label ws --task ring --retire 1 --graphics none --retrain 0"
}
label_as "$SOCK" 20011
expect "the first labeler shows the first galaxy" tm_wait l "$first" 20
pid=$(pgrep -u 20011 -f "zoosh.bin label ws" | head -1)
expect "... and runs as its own process ($pid)" test -n "$pid"
sleep 0.5    # its claim is written between keys
tm kill-server
gone=0
for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || { gone=1; break; }; sleep 0.05; done
expect "killing the terminal ends the labeler within 2 s" test "$gone" = 1
[ "$gone" = 1 ] || { ps -o pid,stat,pcpu,cmd -p "$pid"; kill -9 "$pid" 2>/dev/null; }

SOCK="$SOCK-b"
label_as "$SOCK" 20012
expect "its claim was released: another labeler with --retire 1 is shown that galaxy" tm_wait l "$first" 20
tm capture-pane -p -t l | grep -q "$second" && echo "# the second labeler was shown $second instead"
tm send-keys -t l q
sleep 0.5
tm kill-server 2>/dev/null || true
