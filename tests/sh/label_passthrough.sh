#!/usr/bin/env bash
# label_passthrough.sh - real pixels from inside tmux (issue 19: "inside
# tmux: passthrough where tmux allows it, or symbols").  tmux 3.3 shows no
# image and answers the probe itself, so the labeler asks tmux what is
# outside (allow-passthrough, the pane's place, the client's terminal and
# cell size) and sends the image through tmux's passthrough sequence to
# that cell of the outer screen:
# - kitty running tmux (allow-passthrough on, status line at the top, so
#   the pane starts one row down): auto picks kitty; the image pane shows
#   galaxy 1 where the pane's image box is; after two answers, galaxy 3 and
#   not galaxy 1 (the old image deleted, the new one placed);
# - xterm (sixel) running tmux, status at the bottom, --graphics sixel: galaxy 1;
# - allow-passthrough off: --graphics sixel becomes symbols and says why.
# Each screenshot is the real terminal on a private Xvfb (term-shot).
. "$(dirname "$0")/lib.sh"
SHOT=${ZT_TERM_SHOT:-$SHARED/../tools/term-shot}
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
command -v tmux >/dev/null || { skip "tmux is not installed (tools/deps.sh test)"; exit 0; }
img() { echo "$SHARED/decals_rings/$(sed -n "$(($1 + 1))p" "$CAT" | cut -d, -f2)"; }
SOCK="zt-pass-$$"
trap 'tm kill-server 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the ring galaxies" nice "$Z" import ws "$CAT" --threads 1

# ncc_at SHOT LOG ROWS_ABOVE GALAXY: the best NCC of the image box (the
# pane's cell (1,1), ROWS_ABOVE tmux rows further down) against GALAXY
ncc_at() {
    local png=$1 log=$2 above=$3 g=$4 side cw ch best=0 b ncc
    side=$(grep '^image' "$log" | tail -1 | sed 's/.*(\([0-9]*\)x.*/\1/')
    read -r cw ch < <(sed -n 's/^terminal: .* cell \([0-9]*\)x\([0-9]*\) .*/\1 \2/p' "$log")
    convert "$(img "$g")" -resize "${side:-1}x${side:-1}" "want$g.png"
    for b in 0 1 2; do
        convert "$png" -crop "${side}x${side}+$((b + cw))+$((b + (1 + above) * ch))" +repage "$png.box.png"
        ncc=$(compare -metric NCC "$png.box.png" "want$g.png" null: 2>&1)
        awk "BEGIN{exit !($ncc > $best)}" && best=$ncc
    done
    echo "$best"
}

# shot TERMINAL CONF GRAPHICS NAME [KEYS]: the labeler in tmux in TERMINAL
shot() {
    local t=$1 conf=$2 gfx=$3 name=$4 keys=${5:-}
    printf '%b' "$conf" >"$name.conf"
    local args=(--terminal "$t" --cols 100 --rows 40 --wait 5)
    [ -n "$keys" ] && args+=(--keys "$keys" --settle 2)
    "$SHOT" "${args[@]}" "$name.png" -- sh -c "sleep 0.5; exec tmux -L $SOCK-$name -f $T/$name.conf new-session \
        'env ZOOSH_LOG=$T/$name.log $Z label $T/ws --task ring --retrain 0 --graphics $gfx'" >"$name.out" 2>&1
    tmux -L "$SOCK-$name" kill-server 2>/dev/null
}

if ! command -v Xvfb >/dev/null || [ ! -x "$SHOT" ] || ! command -v kitty >/dev/null || ! command -v xterm >/dev/null; then
    skip "kitty / xterm: needs kitty, xterm, xvfb and $SHOT (tools/deps.sh test)"
else
    shot kitty 'set -g allow-passthrough on\nset -g status-position top\n' auto kt
    expect "kitty in tmux: tmux was asked and allows passthrough" grep -q "^terminal: .*tmux passthrough" kt.log
    expect "kitty in tmux: auto chose kitty (tmux named its client)" grep -q "^terminal: .*-> graphics kitty," kt.log
    n1=$(ncc_at kt.png kt.log 1 1)
    expect "kitty in tmux: the pane's image box shows galaxy 1 (NCC $n1 > 0.95)" awk "BEGIN{exit !($n1 > 0.95)}"
    shot xterm 'set -g allow-passthrough on\n' sixel xt
    expect "xterm in tmux: --graphics sixel passes through" grep -q "^terminal: .*-> graphics sixel,.*tmux passthrough" xt.log
    n1=$(ncc_at xt.png xt.log 0 1)
    expect "xterm in tmux: the pane's image box shows galaxy 1 (NCC $n1 > 0.95)" awk "BEGIN{exit !($n1 > 0.95)}"
    # answers are real: galaxies 1 and 2 get one each here, so this runs last
    shot kitty 'set -g allow-passthrough on\nset -g status-position top\n' auto kt2 "1 2"
    n3=$(ncc_at kt2.png kt2.log 1 3)
    o1=$(ncc_at kt2.png kt2.log 1 1)
    expect "kitty in tmux: two answers on, galaxy 3 (NCC $n3 > 0.95)" awk "BEGIN{exit !($n3 > 0.95)}"
    expect "kitty in tmux: and galaxy 1 is gone (NCC $o1 < 0.8)" awk "BEGIN{exit !($o1 < 0.8)}"

fi

# passthrough off (tmux's default): no image bytes into tmux, symbols, and why
tm -f /dev/null new-session -d -s s -x 100 -y 40 \
    "env ZOOSH_LOG=$T/off.log LANG=C.UTF-8 $Z label ws --task ring --retrain 0 --graphics sixel"
for i in $(seq 1 100); do grep -q '^image' off.log 2>/dev/null && break; sleep 0.1; done
sleep 0.3
tm capture-pane -p -t s >off.txt
tm kill-server 2>/dev/null
expect "passthrough off: sixel asked, symbols drawn" grep -q "^terminal: .*-> graphics symbols,.*tmux no passthrough" off.log
expect "passthrough off: the log says why" grep -q "^graphics: inside tmux with allow-passthrough off" off.log
expect "passthrough off: the status line says how to turn it on" grep -q "allow-passthrough" off.txt
