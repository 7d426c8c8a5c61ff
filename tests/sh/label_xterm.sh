#!/usr/bin/env bash
# label_xterm.sh - the labeler in a real sixel terminal (xterm -ti vt340 on a
# private Xvfb, through ../shared/tools/term-shot): after three answers typed
# as keys, the screenshot's image pane matches the fourth galaxy's image
# scaled to the pane (normalised cross-correlation > 0.95, and clearly less
# for another galaxy), and the three answers are in the workspace.
# ZT_DOCS=1 also writes docs/screenshot_sixel.png and docs/screenshot_text.png.
. "$(dirname "$0")/lib.sh"
SHOT=${ZT_TERM_SHOT:-$SHARED/../tools/term-shot}
[ -x "$SHOT" ] || { skip "no term-shot at $SHOT"; exit 0; }
for t in Xvfb xterm xdotool convert compare; do
    command -v $t >/dev/null || { skip "$t is not installed (tools/deps.sh test)"; exit 0; }
done
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
img() { echo "$SHARED/decals_rings/$(sed -n "$(($1 + 1))p" "$CAT" | cut -d, -f2)"; }

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the ring galaxies" nice "$Z" import ws "$CAT" --threads 1

# 100x40 cells of 8x17 px; the image box starts at cell (1,1), inside xterm's 2 px border,
# and fills the pane: 100 - 2 - 36 columns of text = 62 cells = 496 px wide (36 rows = 612 px high)
check "screenshots the labeler in xterm after typing 2 2 1" \
    "$SHOT" --cols 100 --rows 40 --wait 1.5 --keys '2 2 1' --settle 1 shot.png -- \
    env ZOOSH_LOG="$T/label.log" "$Z" label ws --task ring --retrain 0
expect "the terminal was detected as sixel" grep -q "sixel 1 cell 8x17 colors 256" label.log
convert shot.png -crop 496x496+10+19 +repage pane.png
convert "$(img 4)" -resize 496x496 want.png
convert "$(img 5)" -resize 496x496 other.png
ncc=$(compare -metric NCC pane.png want.png null: 2>&1)
ncc_other=$(compare -metric NCC pane.png other.png null: 2>&1)
expect "the image pane matches galaxy 4 (NCC $ncc > 0.95)" awk "BEGIN{exit !($ncc > 0.95)}"
expect "and not galaxy 5 (NCC $ncc_other < 0.8)" awk "BEGIN{exit !($ncc_other < 0.8)}"
"$Z" export ws --format answers -o answers.csv >/dev/null 2>&1
expect "the 3 typed answers are in the workspace" test "$(grep -c ',ring,tree,' answers.csv)" -eq 3
expect "in the typed order: no, no, yes" \
    bash -c "tail -3 answers.csv | cut -d, -f8 | tr '\n' ' ' | grep -qx 'no no yes '"
# the bottom line is text (the hints), never image: the image ended above it.
# The hints are grey text on black (no pixel with colour), while 80% of an
# image row of this DECaLS galaxy is coloured (saturation above 5%); one
# pixel row of image in the cell would colour about 5% of it.
sat() { convert "$1" -colorspace HSL -channel G -separate +channel -threshold 5% -format '%[fx:mean]' info:; }
convert shot.png -crop 496x17+2+$((2 + 39 * 17)) +repage bottom.png
convert shot.png -crop 496x17+2+$((2 + 10 * 17)) +repage imgrow.png
sat_bottom=$(sat bottom.png) sat_img=$(sat imgrow.png)
expect "an image row is coloured (saturated fraction $sat_img > 0.5)" awk "BEGIN{exit !($sat_img > 0.5)}"
expect "the image never reaches the bottom line (saturated fraction $sat_bottom < 0.01)" \
    awk "BEGIN{exit !($sat_bottom < 0.01)}"

# ---- resizing the window (SIGWINCH): the image is laid out again and re-sent
# at the new pane size.  Our own Xvfb + xterm as term-shot starts them, resized
# with xdotool, shot with import.
mkfifo dfd
Xvfb -displayfd 3 -screen 0 1600x1200x24 -nolisten tcp -noreset 3>dfd >xvfb.log 2>&1 &
XVFB=$!
XT=
trap '[ -n "$XT" ] && kill $XT 2>/dev/null; kill $XVFB 2>/dev/null; rm -rf "$T"' EXIT
read -r -t 15 dnum <dfd || dnum=
export DISPLAY=":$dnum"
LANG=C.UTF-8 xterm -ti vt340 -tn xterm-256color -xrm "XTerm*decTerminalID: vt340" \
    -xrm "XTerm*numColorRegisters: 256" -xrm "XTerm*allowWindowOps: true" \
    -xrm "XTerm*maxGraphicSize: 4096x4096" -xrm "XTerm*scrollBar: false" \
    -fa "DejaVu Sans Mono" -fs 10 -geometry 100x40+0+0 -bg black -fg gray90 \
    -e env ZOOSH_LOG="$T/resize.log" "$Z" label ws --task ring --retrain 0 >xterm.log 2>&1 &
XT=$!
wid=
for i in $(seq 1 100); do
    wid=$(xdotool search --pid $XT 2>/dev/null | head -1)
    [ -n "$wid" ] && grep -q '^image' resize.log 2>/dev/null && break
    sleep 0.1
done
expect "a second labeler runs in our own xterm" test -n "$wid"
# shot SHOT.png: the last image's side and an NCC of the pane against galaxy 4
pane_ncc() {
    local side
    side=$(grep '^image' resize.log | tail -1 | sed 's/.*(\([0-9]*\)x.*/\1/')
    import -window "$wid" "$1"
    convert "$1" -crop "${side}x${side}+10+19" +repage pane_r.png
    convert "$(img 4)" -resize "${side}x${side}" want_r.png
    echo "$side $(compare -metric NCC pane_r.png want_r.png null: 2>&1)"
}
xdotool windowsize "$wid" 600 400
sleep 2
read -r side1 ncc1 < <(pane_ncc small.png)
expect "after shrinking to 600x400 px the image is re-laid out smaller ($side1 px)" test "${side1:-0}" -lt 496
expect "and re-sent: it matches galaxy 4 (NCC $ncc1 > 0.95)" awk "BEGIN{exit !(${ncc1:-0} > 0.95)}"
xdotool windowsize "$wid" 1000 700
sleep 2
read -r side2 ncc2 < <(pane_ncc large.png)
expect "after growing to 1000x700 px it is larger again ($side2 px)" test "${side2:-0}" -gt "${side1:-0}"
expect "and matches galaxy 4 (NCC $ncc2 > 0.95)" awk "BEGIN{exit !(${ncc2:-0} > 0.95)}"
kill $XT 2>/dev/null
XT=

if [ "${ZT_DOCS:-0}" = 1 ]; then
    mkdir -p "$ROOT/docs"
    nice "$Z" embed ws --quiet >/dev/null 2>&1 && nice "$Z" train ws --task ring >/dev/null 2>&1
    "$SHOT" --cols 100 --rows 32 --wait 1.5 --keys '1 2 2 f' --settle 1 "$ROOT/docs/screenshot_sixel.png" -- \
        "$Z" label ws --task ring --retrain 0 && pass "wrote docs/screenshot_sixel.png"
    "$SHOT" --cols 100 --rows 32 --wait 1.5 --keys '1 2 2 f' --settle 1 "$ROOT/docs/screenshot_text.png" -- \
        env COLORTERM=truecolor "$Z" label ws --task ring --retrain 0 --graphics blocks && pass "wrote docs/screenshot_text.png"
fi
