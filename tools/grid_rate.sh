#!/usr/bin/env bash
# grid_rate.sh - labels per minute, one galaxy at a time against a grid page,
# for the README (issue 19 item 3).  A scripted person in tmux (100x30, text
# mode) types one key every CADENCE seconds (default 0.3) and knows the
# truth (the catalog's ring column of ../shared/data/decals_rings):
#   single       one digit per galaxy (1 ring, 2 no ring)
#   grid-digits  zoosh label --grid: the digit of each ring tile, then w
#   grid-arrows  the same page walked with arrows, Space on each ring tile, w
#   grid-invert  zoosh label --grid, the fewer keys: the digits of the rings,
#                or when most of the page are rings i (invert the marks) and
#                the digits of the others; then w
#   clusters     zoosh label --clusters (after zoosh embed): each cluster's
#                page read from the labeler's log as it comes, then keyed as
#                grid-invert
# on N galaxies (default 100) of two catalogs: the real set as it is (half
# rings) and a rare one (one ring in ten, as in a survey).  The rate is
# answers stored / minutes from the first key until the log holds all N;
# the exported labels are checked against the truth.
#   tools/grid_rate.sh [N] [CADENCE]      (MODES="single clusters": only those)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
Z=$ROOT/zoosh
SHARED=${ZT_SHARED:-$ROOT/../shared/data}
CAT=$SHARED/decals_rings/catalog.csv
N=${1:-100}
CAD=${2:-0.3}
T=$(mktemp -d /tmp/grid_rate.XXXXXX)
SOCK=grid-rate-$$
tm() { tmux -L "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"

head -1 "$CAT" > half.csv; sed -n "2,$((N + 1))p" "$CAT" >> half.csv
# rare: the catalog's rings thinned to one in ten, in catalog order
head -1 "$CAT" > rare.csv
awk -F, -v n="$N" 'NR > 1 { if ($3 == 1) { if (r < n / 10 && (nr++ % 3) == 0) { print; r++; k++ } } else if (k < n - n / 10 + r) { print; k++ } }' "$CAT" |
    head -"$N" >> rare.csv

# page_keys TRUTH...: the fewest keys for a page whose tiles have these truths
# (1 ring): the digits of the rings, or i and the digits of the others; then w
page_keys() {
    local r=0 i t inv=0 out=()
    for t in "$@"; do r=$((r + t)); done
    [ $((2 * r)) -gt $# ] && inv=1 && out+=(i)
    i=0
    for t in "$@"; do
        i=$((i + 1))
        [ "$t" = $((1 - inv)) ] && out+=($((i % 10)))
    done
    echo "${out[@]}" w
}

answers() { "$Z" export "$1" --format answers 2>/dev/null | awk -F, '$5 == "tree"' | wc -l; }

# run NAME CATALOG MODE: prints "NAME MODE keys elapsed_s labels_per_min correct/N"
run() {
    local name=$1 cat=$2 mode=$3 ws=$T/ws-$1-$3 keys=()
    "$Z" init "$ws" --schema ring > /dev/null
    "$Z" import "$ws" "$cat" --root "$SHARED/decals_rings" --threads 1 > /dev/null 2>&1
    local truth=($(awk -F, 'NR > 1 { print $3 }' "$cat"))
    local n=${#truth[@]} grid=""
    [ "$mode" = single ] || grid=--grid
    [ "$mode" = clusters ] && grid=--clusters && "$Z" embed "$ws" --threads 2 --quiet > /dev/null 2>&1
    if [ "$mode" = clusters ]; then
        :   # keyed page by page below, as each page comes
    elif [ "$mode" = grid-invert ]; then
        local page=10 p
        for ((p = 0; p < n; p += page)); do
            local tv=() i
            for ((i = 0; i < page && p + i < n; i++)); do tv+=("${truth[$((p + i))]}"); done
            keys+=($(page_keys "${tv[@]}"))
        done
    elif [ "$mode" = single ]; then
        for t in "${truth[@]}"; do if [ "$t" = 1 ]; then keys+=(1); else keys+=(2); fi; done
    else
        local page=10 cols=5 i p
        for ((p = 0; p < n; p += page)); do
            local cur=0
            for ((i = 0; i < page && p + i < n; i++)); do
                [ "${truth[$((p + i))]}" = 1 ] || continue
                if [ "$mode" = grid-digits ]; then
                    keys+=($(( (i + 1) % 10 )))
                else
                    local dr=$(( i / cols - cur / cols )) dc=$(( i % cols - cur % cols )) k
                    for ((k = 0; k < dr; k++)); do keys+=(Down); done
                    for ((k = 0; k < -dr; k++)); do keys+=(Up); done
                    for ((k = 0; k < dc; k++)); do keys+=(Right); done
                    for ((k = 0; k < -dc; k++)); do keys+=(Left); done
                    keys+=(Space)
                    cur=$i
                fi
            done
            keys+=(w)
        done
    fi
    LANG=C.UTF-8 tm -u new-session -d -s r -x 100 -y 30 \
        "exec env ZOOSH_LOG='$ws.log' '$Z' label '$ws' --task ring --retrain 0 --order catalog $grid"
    for i in $(seq 1 100); do tm capture-pane -p -t r | grep -q "Does the galaxy\|page of" && break; sleep 0.1; done
    local t0 t1
    t0=$(date +%s.%N)
    if [ "$mode" = clusters ]; then
        # each page as the log names it: its galaxies' truth (gid = catalog row), the fewest keys
        local seen=0 line gid tv
        while [ "$(answers "$ws")" -lt "$n" ]; do
            for i in $(seq 1 200); do [ "$(grep -c '^page: ' "$ws.log")" -gt "$seen" ] && break; sleep 0.02; done
            seen=$(grep -c '^page: ' "$ws.log")
            line=$(grep '^page: ' "$ws.log" | tail -1)
            tv=()
            for gid in ${line#*gids}; do tv+=("${truth[$((gid - 1))]}"); done
            [ "${#tv[@]}" -gt 0 ] || break
            for k in $(page_keys "${tv[@]}"); do tm send-keys -t r "$k"; keys+=("$k"); sleep "$CAD"; done
        done
    fi
    for k in "${keys[@]}"; do [ "$mode" = clusters ] && break; tm send-keys -t r "$k"; sleep "$CAD"; done
    for i in $(seq 1 200); do [ "$(answers "$ws")" -ge "$n" ] && break; sleep 0.05; done
    t1=$(date +%s.%N)
    tm send-keys -t r q 2>/dev/null || true; sleep 0.2; tm send-keys -t r q 2>/dev/null || true; sleep 0.3
    local got ok
    got=$(answers "$ws")
    ok=$("$Z" export "$ws" --format labels --task ring 2>/dev/null | awk -F, 'NR > 1 { print $1, $NF }' | sort |
         join - <(awk -F, 'NR > 1 { print $1, $3 }' "$cat" | sort) | awk '$2 == $3' | wc -l)
    awk -v nm="$name" -v md="$mode" -v k="${#keys[@]}" -v a="$t0" -v b="$t1" -v g="$got" -v ok="$ok" -v n="$n" \
        'BEGIN { printf "%-5s %-12s %4d keys %6.1f s %6.0f labels/min  %d/%d stored, %d right\n", nm, md, k, b - a, g / ((b - a) / 60), g, n, ok }'
}

echo "N=$N galaxies a run, one key every ${CAD}s, tmux 100x30 text mode, pages of 10 tiles"
for c in half rare; do
    echo "$c: $(awk -F, 'NR > 1 { r += $3 } END { printf "%d of %d rings", r, NR - 1 }' "$c.csv")"
    for m in ${MODES:-single grid-digits grid-arrows grid-invert clusters}; do run "$c" "$c.csv" "$m"; done
done
