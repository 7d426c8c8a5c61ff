#!/usr/bin/env bash
# label_xterm.sh - the labeler in a real sixel terminal (xterm -ti vt340 on a
# private Xvfb, through ../shared/tools/term-shot): after three answers typed
# as keys, the screenshot's image pane matches the fourth galaxy's image
# scaled to the pane (normalised cross-correlation > 0.9, and clearly less
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
expect "the image pane matches galaxy 4 (NCC $ncc > 0.9)" awk "BEGIN{exit !($ncc > 0.9)}"
expect "and not galaxy 5 (NCC $ncc_other < 0.8)" awk "BEGIN{exit !($ncc_other < 0.8)}"
"$Z" export ws --format answers -o answers.csv >/dev/null 2>&1
expect "the 3 typed answers are in the workspace" test "$(grep -c ',ring,tree,' answers.csv)" -eq 3
expect "in the typed order: no, no, yes" \
    bash -c "tail -3 answers.csv | cut -d, -f8 | tr '\n' ' ' | grep -qx 'no no yes '"
# the bottom line is text (the hints), never image: the image ended above it
convert shot.png -crop 800x17+2+$((2 + 39 * 17)) +repage bottom.png
expect "the image never reaches the bottom line" \
    bash -c "[ \$(convert bottom.png -format '%[fx:mean]' info:) != 0 ]"

if [ "${ZT_DOCS:-0}" = 1 ]; then
    mkdir -p "$ROOT/docs"
    nice "$Z" embed ws --quiet >/dev/null 2>&1 && nice "$Z" train ws --task ring >/dev/null 2>&1
    "$SHOT" --cols 100 --rows 32 --wait 1.5 --keys '1 2 2 f' --settle 1 "$ROOT/docs/screenshot_sixel.png" -- \
        "$Z" label ws --task ring --retrain 0 && pass "wrote docs/screenshot_sixel.png"
    "$SHOT" --cols 100 --rows 32 --wait 1.5 --keys '1 2 2 f' --settle 1 "$ROOT/docs/screenshot_text.png" -- \
        env COLORTERM=truecolor "$Z" label ws --task ring --retrain 0 --graphics blocks && pass "wrote docs/screenshot_text.png"
fi
