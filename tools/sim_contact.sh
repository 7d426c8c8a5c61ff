#!/usr/bin/env bash
# tools/sim_contact.sh - the realism contact sheet: 20 simulated cutouts (left)
# beside 20 real DECaLS cutouts from ../shared/data/decals_rings (right), at
# the same display size, and the statistics report of tools/realism.py.
#   tools/sim_contact.sh [OUT.png]     (default docs/contact_sheet.png)
# The simulated set uses --mix ring=0.5 because the real set is half rings.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-docs/contact_sheet.png}
SHARED=${ZT_SHARED:-$(cd .. && pwd)/shared/data}
REAL=$SHARED/decals_rings/images
T=$(mktemp -d /tmp/zoosh-contact.XXXXXX)
trap 'rm -rf "$T"' EXIT
./zoosh sim "$T/sim" -n 20 --seed 1 --mix ring=0.5 --quiet
G=100x100+2+2
montage "$T"/sim/images/*.png -tile 5x4 -geometry $G -background black \
    -title "simulated: zoosh sim" -fill white -pointsize 13 "$T/a.png"
montage $(ls "$REAL"/*.png | head -20) -tile 5x4 -geometry $G -background black \
    -title "real DECaLS: decals_rings" -fill white -pointsize 13 "$T/b.png"
convert "$T/a.png" "$T/b.png" -background black -splice 8x0 +append +dither -colors 128 -strip "$OUT"
echo "wrote $OUT ($(stat -c %s "$OUT") bytes)"
# one row per class: what --mix CLASS=1 draws (docs/sim_classes.png)
CL=${OUT%/*}/sim_classes.png
rows=""
for c in smooth disk spiral edgeon ring merger lens artifact; do
    ./zoosh sim "$T/c_$c" -n 6 --seed 3 --size 160 --mix $c=1 --quiet
    montage "$T"/c_$c/images/*.png -tile 6x1 -geometry 80x80+1+1 -background black \
        -label '' "$T/row_$c.png"
    convert "$T/row_$c.png" -background black -fill white -pointsize 12 \
        -gravity west -splice 64x0 -annotate +4+0 "$c" "$T/row_$c.png"
    rows="$rows $T/row_$c.png"
done
convert $rows -append +dither -colors 64 -strip "$CL"
echo "wrote $CL ($(stat -c %s "$CL") bytes)"
if /usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null; then
    ./zoosh sim "$T/big" -n 200 --seed 2 --mix ring=0.5 --quiet
    /usr/bin/python3 tools/realism.py "$T/big" "$REAL" | column -t -s $'\t'
fi
