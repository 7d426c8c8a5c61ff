#!/usr/bin/env bash
# label_overwrite.sh - quick keys never leave stale text on the title row or
# the status / hint lines (issue 19).  In a real xterm (sixel, -ti vt340) on
# a private Xvfb, the labeler gets 30 keys 50 ms apart (answers, +, c, v);
# then the screen is shot, Ctrl-L is typed (a clean redraw of the same
# state) and it is shot again: the top row and the two bottom rows must be
# the same pixels in both shots.  Four runs: sixel and text (half-block)
# graphics (the image at 256 px: quicker on a loaded machine), each started
# locally and over a real SSH connection (our own
# sshd on 127.0.0.1, a free port, throwaway host and user keys).
. "$(dirname "$0")/lib.sh"
for t in Xvfb xterm xdotool import convert compare; do
    command -v $t >/dev/null || { skip "$t is not installed (tools/deps.sh test)"; exit 0; }
done
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the ring galaxies" nice "$Z" import ws "$CAT" --threads 1

# ---- sshd on 127.0.0.1 (as root, as CI runs; otherwise the local runs only)
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
have_ssh=0
SSHD_PID=
if [ "$(id -u)" = 0 ] && [ -x "$SSHD" ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
    mkdir -p -m 700 ssh /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f ssh/host_key
    ssh-keygen -q -t ed25519 -N '' -f ssh/user_key
    cp ssh/user_key.pub ssh/authorized_keys
    chmod 600 ssh/authorized_keys
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >ssh/sshd_config <<EOF
ListenAddress 127.0.0.1
Port $PORT
HostKey $T/ssh/host_key
AuthorizedKeysFile $T/ssh/authorized_keys
PidFile $T/ssh/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AcceptEnv LANG
EOF
    "$SSHD" -D -e -f ssh/sshd_config >ssh/sshd.log 2>&1 &
    SSHD_PID=$!
    for i in $(seq 1 50); do
        ssh -q -i ssh/user_key -p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=no \
            -o UserKnownHostsFile=/dev/null root@127.0.0.1 true 2>/dev/null && { have_ssh=1; break; }
        sleep 0.1
    done
    expect "our sshd on 127.0.0.1:$PORT takes the throwaway key" test $have_ssh = 1
else
    skip "the SSH runs need root and openssh-server / openssh-client (tools/deps.sh test)"
fi

mkfifo dfd
Xvfb -displayfd 3 -screen 0 1200x900x24 -nolisten tcp -noreset 3>dfd >xvfb.log 2>&1 &
XVFB=$!
XT=
trap '[ -n "$XT" ] && kill $XT 2>/dev/null; [ -n "$SSHD_PID" ] && kill $SSHD_PID 2>/dev/null;
      kill $XVFB 2>/dev/null; rm -rf "$T"' EXIT
read -r -t 15 dnum <dfd || dnum=
export DISPLAY=":$dnum"

COLS=100 ROWS=40 CW=8 CH=17 B=2        # xterm's cells and border with DejaVu Sans Mono 10
# ends on "c plus c plus": on the old code a change low on the screen right
# after an image was drawn with a relative move from a row the terminal's
# cursor was not on, and landed on the title row
KEYS="2 plus c 1 v 2 c plus 1 v 2 plus c c 1 plus 2 c plus 1 2 c plus plus 2 1 c plus c plus"

# row Y of shot $1 into $2 (the whole row, inside the border)
row() { convert "$1" -crop "$((COLS * CW))x${CH}+${B}+$((B + $3 * CH))" +repage "$2"; }

# quiet LOG: waits until the labeler has drawn everything the keys asked for
# (its log has not grown for 0.8 s; at most 15 s)
quiet() {
    local i last=-1 now same=0
    for i in $(seq 1 150); do
        now=$(wc -c <"$1")
        if [ "$now" = "$last" ]; then same=$((same + 1)); [ $same -ge 8 ] && break; else same=0; fi
        last=$now
        sleep 0.1
    done
}

# steady WID OUT.png: shoots the window until two shots 0.3 s apart are the
# same (xterm may still be drawing what the labeler wrote, over SSH most of
# all; at most 5 s)
steady() {
    local i
    import -window "$1" "$2"
    for i in $(seq 1 15); do
        sleep 0.3
        import -window "$1" "$2.next.png"
        [ "$(compare -metric AE "$2" "$2.next.png" null: 2>&1)" = 0 ] && return 0
        mv "$2.next.png" "$2"
    done
}

# run NAME GRAPHICS VIA(local|ssh)
run() {
    local name=$1 gfx=$2 via=$3 log="$T/$1.log" cmd
    rm -f "$log"
    cmd="cd $T && env LANG=C.UTF-8 ZOOSH_LOG=$log $Z label ws --task ring --retrain 0 --graphics $gfx --image-px 256"
    if [ "$via" = ssh ]; then
        cmd="ssh -tt -q -i $T/ssh/user_key -p $PORT -o BatchMode=yes -o StrictHostKeyChecking=no \
-o UserKnownHostsFile=/dev/null root@127.0.0.1 '$cmd'"
    fi
    LANG=C.UTF-8 xterm -ti vt340 -tn xterm-256color -xrm "XTerm*decTerminalID: vt340" \
        -xrm "XTerm*numColorRegisters: 256" -xrm "XTerm*allowWindowOps: true" \
        -xrm "XTerm*maxGraphicSize: 4096x4096" -xrm "XTerm*scrollBar: false" \
        -fa "DejaVu Sans Mono" -fs 10 -geometry ${COLS}x${ROWS}+0+0 -bg black -fg gray90 \
        -e sh -c "$cmd" >"$T/$name.xterm.log" 2>&1 &
    XT=$!
    local wid= i
    for i in $(seq 1 150); do
        wid=$(xdotool search --pid $XT 2>/dev/null | head -1)
        [ -n "$wid" ] && grep -q '^image' "$log" 2>/dev/null && break
        sleep 0.1
    done
    if [ -z "$wid" ] || ! grep -q '^image' "$log" 2>/dev/null; then
        fail "$name: the labeler came up" "$(cat "$T/$name.xterm.log" "$log" 2>/dev/null | tail -c 300)"
        kill $XT 2>/dev/null; XT=; return
    fi
    sleep 0.3
    xdotool mousemove --window "$wid" 5 5 >/dev/null 2>&1
    xdotool windowfocus "$wid" >/dev/null 2>&1
    # shellcheck disable=SC2086
    xdotool key --delay 50 $KEYS
    quiet "$log"
    steady "$wid" "$name.fast.png"
    xdotool key ctrl+l
    quiet "$log"
    steady "$wid" "$name.clean.png"
    kill $XT 2>/dev/null; wait $XT 2>/dev/null; XT=
    local n_img
    n_img=$(grep -c '^image' "$log")
    expect "$name: every key drew (images written: $n_img >= 30)" test "$n_img" -ge 30
    local y ok=1 why=""
    for y in 0 $((ROWS - 2)) $((ROWS - 1)); do
        row "$name.fast.png" fast$y.png $y
        row "$name.clean.png" clean$y.png $y
        local ae
        ae=$(compare -metric AE fast$y.png clean$y.png null: 2>&1)
        [ "$ae" = 0 ] || { ok=0; why="$why row $y differs in $ae px;"; }
    done
    if [ $ok = 1 ]; then pass "$name: after 30 quick keys the title and bottom rows are what a clean redraw draws"
    else fail "$name: after 30 quick keys the title and bottom rows are what a clean redraw draws" "$why"; fi
}

run sixel-local sixel local
run text-local blocks local
if [ $have_ssh = 1 ]; then
    run sixel-ssh sixel ssh
    run text-ssh blocks ssh
fi
