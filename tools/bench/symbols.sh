#!/usr/bin/env bash
# tools/bench/symbols.sh - the image as text cells (the symbols backend,
# tui/gfx/blocks.c) against libchafa on the same 40 DECaLS ring galaxies and
# the same grid of half blocks (tools/bench/symbols_bench.c says how each is
# driven and read back): milliseconds per image, one thread each, and the
# mean colour error over 2x2 cells (tests/sh/label_backends.sh's figure;
# lower is better), in the xterm 256-colour palette (tmux, ssh, no
# COLORTERM) and in truecolour.  Rows as tools/bench.sh wants.
set -eu
cd "$(dirname "$0")/../.."
. tools/bench/lib.bash
SHARED=${SHARED:-$(cd .. && pwd)/shared/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
bench_peer_missing "symbols: image -> text cells against libchafa" "libchafa-dev libglib2.0-dev" \
    pkg-config --exists chafa && exit 0
bench_cc "$T/symbols_bench" $(pkg-config --cflags chafa) tools/bench/symbols_bench.c tui/gfx/blocks.c \
    $(pkg-config --libs chafa) >&2 || exit 1
# shellcheck disable=SC2046  # file names without spaces
"$T/symbols_bench" 62 $(ls "$SHARED"/decals_rings/images/*.png | head -40) >"$T/out" 2>"$T/err"
row() {   # figure, zoosh's line, chafa's line, field from the end (0 ms, 2 error); ratio chafa / zoosh
    local z c
    z=$(awk -v n="$2" -v k="$4" 'index($0, n) == 1 { print $(NF - k) }' "$T/out")
    c=$(awk -v n="$3" -v k="$4" 'index($0, n) == 1 { print $(NF - k) }' "$T/out")
    printf '%s\t%s\tlibchafa 1.12 (%s)\t%s\t%s\t-\n' "$1" "$z" "$3" "$c" \
        "$(awk -v z="$z" -v c="$c" 'BEGIN { if (z > 0) printf "%.1fx", c / z; else print "-" }')"
}
row "symbols 256 colours, 60x30 cells: ms per image (1 thread)" "zoosh 256 colours" "chafa 256 colours (240)" 0
row "symbols 256 colours: colour error over 2x2 cells (0..441)" "zoosh 256 colours" "chafa 256 colours (240)" 2
row "symbols truecolour, 60x30 cells: ms per image (1 thread)" "zoosh truecolour" "chafa truecolour" 0
row "symbols truecolour: colour error over 2x2 cells" "zoosh truecolour" "chafa truecolour" 2
