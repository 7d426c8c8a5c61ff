#!/usr/bin/env bash
# tools/hsc_interest.sh - the HSC interest figure of issue 18 on a fixed half
# of ../shared/data/hsc_anomalies: `zoosh simulate --task interest
# --rate-from human_interesting --budget 50` over SEEDS seeds (default 8),
# the interest order against random order and the base rate.
#
# The halves (shared with tools/quality.sh): the labelled rows (a
# human_interesting value; the top100_score rows have none) sorted by id
# (LC_ALL=C), positions counted from 0: half A = even positions (choose on
# it), half B = odd positions (report once); "all" = the 302 rows as they come.
#
#   tools/hsc_interest.sh A|B|all [ORDER...]   (default orders: interest random)
# Env: SEEDS (8), ZOOSH (./zoosh), WSDIR (a cache of the embedded
# workspaces, default /tmp/zoosh-hsc-ws), EXTRA (more simulate options).
# Prints one line per order: precision_top30 mean sd, shown mean sd.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
Z=${ZOOSH:-$ROOT/zoosh}
SEEDS=${SEEDS:-8}
WSDIR=${WSDIR:-/tmp/zoosh-hsc-ws}
half=${1:-A}
shift
orders=${*:-interest random}
cat=$SHARED/hsc_anomalies/catalog.csv
mkdir -p "$WSDIR"
ws=$WSDIR/hsc_$half
if [ ! -d "$ws" ]; then
    csv=$WSDIR/hsc_$half.csv
    col=$(head -1 "$cat" | tr ',' '\n' | grep -nx human_interesting | cut -d: -f1)
    case $half in
    all) cp "$cat" "$csv" ;;
    A|B) want=$([ "$half" = A ] && echo 0 || echo 1)
         { head -1 "$cat"
           tail -n +2 "$cat" | awk -F, -v c="$col" '$c != ""' | LC_ALL=C sort -t, -k1,1 |
               awk -v w="$want" '(NR - 1) % 2 == w'; } > "$csv" ;;
    *) echo "hsc_interest: half is A, B or all" >&2; exit 2 ;;
    esac
    "$Z" init "$ws.tmp" >/dev/null && "$Z" import "$ws.tmp" "$csv" --root "$SHARED/hsc_anomalies" >/dev/null &&
        nice -n 10 "$Z" embed "$ws.tmp" --quiet >/dev/null && mv "$ws.tmp" "$ws" || { rm -rf "$ws.tmp"; exit 1; }
fi
for order in $orders; do
    for s in $(seq 1 "$SEEDS"); do
        # shellcheck disable=SC2086
        nice -n 10 "$Z" simulate "$ws" --task interest --rate-from human_interesting --budget 50 \
            --order "$order" --seed "$s" ${EXTRA:-} | awk -F'\t' '$1 == 50 { print $2, $4 }'
    done | awk -v o="$order" -v h="$half" '{ p += $1; pp += $1 * $1; s += $2; ss += $2 * $2; n++ }
        END { mp = p / n; ms = s / n
              printf "%s %-9s precision_top30 %.3f sd %.3f  shown %.1f sd %.1f  (n=%d)\n", h, o, mp,
                     sqrt(pp / n - mp * mp > 0 ? pp / n - mp * mp : 0), ms, sqrt(ss / n - ms * ms > 0 ? ss / n - ms * ms : 0), n }'
done
