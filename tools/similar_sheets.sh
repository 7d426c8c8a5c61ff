#!/usr/bin/env bash
# tools/similar_sheets.sh - contact sheets of `zoosh similar` on the DECaLS
# ring set: each row is a query galaxy (left, framed) and its 8 nearest
# neighbours, labelled with id, ring label and distance.  Writes
# docs/similar_<set>.png.  ImageMagick montage.
#   tools/similar_sheets.sh [--ws DIR] [--set NAME] [--metric M] [QUERY_ID...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
Z="$ROOT/zoosh"
CAT="$SHARED/decals_rings/catalog.csv"
WS="" SET="" METRIC=euclidean QUERIES=()
while [ $# -gt 0 ]; do
    case $1 in
        --ws) WS=$2; shift 2 ;;
        --set) SET=$2; shift 2 ;;
        --metric) METRIC=$2; shift 2 ;;
        *) QUERIES+=("$1"); shift ;;
    esac
done
TMP=$(mktemp -d /tmp/zoosh-sheet.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
if [ -z "$WS" ]; then
    WS="$TMP/ws"
    "$Z" init "$WS" >/dev/null
    "$Z" import "$WS" "$CAT" >/dev/null
    "$Z" embed "$WS" --quiet >/dev/null
fi
# default queries: three rings and two non-rings, the first of each in the catalog
if [ ${#QUERIES[@]} -eq 0 ]; then
    QUERIES=($(awk -F, 'NR>1 && $3==1 {print $1}' "$CAT" | sed -n '1p;11p;21p') \
             $(awk -F, 'NR>1 && $3==0 {print $1}' "$CAT" | sed -n '1p;11p'))
fi
setargs=()
[ -n "$SET" ] && setargs=(--set "$SET")
name=${SET:-default}
ring_of() { awk -F, -v id="$1" '$1==id {print $3}' "$CAT"; }
tiles=()
n=0
for q in "${QUERIES[@]}"; do
    "$Z" similar "$WS" "$q" -k 8 --metric "$METRIC" "${setargs[@]}" > "$TMP/sim.txt"
    qfile=$(awk -F, -v id="$q" '$1==id {print $2}' "$CAT")
    convert "$SHARED/decals_rings/$qfile" -resize 128x128 -bordercolor yellow -border 4 \
        -resize 128x128 "$TMP/t$n.q.png"
    tiles+=(-label "QUERY ring=$(ring_of "$q")" "$TMP/t$n.q.png")
    i=0
    while IFS=$'\t' read -r id dist file; do
        case $id in \#*) continue ;; esac
        tiles+=(-label "ring=$(ring_of "$id") d=$(printf '%.2f' "$dist")" "$file")
        i=$((i + 1))
    done < "$TMP/sim.txt"
    n=$((n + 1))
done
mkdir -p "$ROOT/docs"
montage "${tiles[@]}" -font DejaVu-Sans -tile 9x -geometry 128x128+2+2 -pointsize 11 -background white \
    -depth 8 "$TMP/sheet.png"
convert "$TMP/sheet.png" -depth 8 -quality 95 "$ROOT/docs/similar_${name}.png"
echo "$ROOT/docs/similar_${name}.png: queries ${QUERIES[*]}"
