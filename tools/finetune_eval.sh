#!/usr/bin/env bash
# tools/finetune_eval.sh - what `zoosh train --finetune` adds over the frozen
# head, measured on held-out galaxies with zoosh's own commands: a
# workspace of a labelled catalog (id,file,ring; default the GZ2 ring-vote
# choose set, tools/gz2_ringval.sh --labels), embedded once by `zoosh
# embed`; for each size N and seed, N galaxies (a seeded draw) get their
# ring label as the catalog's label, then `zoosh train --task ring` (frozen)
# and `zoosh train --task ring --finetune` each predict the others (`zoosh
# export --format predictions`), scored by AUC (in awk).
#
#   tools/finetune_eval.sh [--catalog CSV] [--sizes 50,100,200] [--seeds 1,2,3] [--extra "ARGS"]
#
# --extra: more train --finetune options (e.g. "--epochs 0").  ZOOSH: the
# binary (default ./zoosh).  Prints: size seed frozen_auc finetune_auc, then
# the means; each --finetune run's report goes to stderr.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
Z=${ZOOSH:-$ROOT/zoosh}
CAT="" SIZES=50,100,200 SEEDS=1,2,3 EXTRA=""
while [ $# -gt 0 ]; do
    case $1 in
        --catalog) CAT=$2; shift 2 ;;
        --sizes) SIZES=$2; shift 2 ;;
        --seeds) SEEDS=$2; shift 2 ;;
        --extra) EXTRA=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "finetune_eval: unknown option $1" >&2; exit 2 ;;
    esac
done
TMP=$(mktemp -d /tmp/zoosh-fteval.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[ -n "$CAT" ] || { "$ROOT/tools/gz2_ringval.sh" --labels > "$TMP/cat.csv"; CAT="$TMP/cat.csv"; }
# id,file,ring with absolute files
awk -F, -v dir="$(cd "$(dirname "$CAT")" && pwd)" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "id,file,ring"; next }
    { f = $c["file"]; if (f !~ /^\//) f = dir "/" f; print $c["id"] "," f "," $c["ring"] }' "$CAT" > "$TMP/lab.csv"
cut -d, -f1,2 "$TMP/lab.csv" > "$TMP/all.csv"
"$Z" init "$TMP/base" --schema ring >/dev/null
"$Z" import "$TMP/base" "$TMP/all.csv" >/dev/null
nice "$Z" embed "$TMP/base" --quiet >/dev/null 2>&1
auc() {   # auc PRED.csv LAB.csv TRAIN.ids: AUC of ring_yes_pred on the galaxies not in TRAIN
    awk -F, 'FNR == 1 { f++ } f == 1 { tr[$1] = 1; next }
             f == 2 && FNR > 1 { y[$1] = $3; next }
             f == 3 && FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "ring_yes_pred") pc = i; next }
             f == 3 && !($1 in tr) && ($1 in y) { n++; s[n] = $pc; l[n] = y[$1] }
             END { np = 0; nn = 0; w = 0
                   for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
                       if (l[i] == 1 && l[j] == 0) { w += (s[i] > s[j]) + 0.5 * (s[i] == s[j]) }
                   for (i = 1; i <= n; i++) { np += l[i] == 1; nn += l[i] == 0 }
                   printf "%.4f", w / (np * nn) }' "$3" "$2" "$1"
}
for N in ${SIZES//,/ }; do
    for S in ${SEEDS//,/ }; do
        tail -n +2 "$TMP/lab.csv" | awk -v s="$S" 'BEGIN { srand(s) } { print rand() "\t" $0 }' | sort -k1,1g | head -n "$N" | cut -f2 > "$TMP/train.rows"
        cut -d, -f1 "$TMP/train.rows" > "$TMP/train.ids"
        { echo "id,file,ring"; cat "$TMP/train.rows"; } > "$TMP/train.csv"
        rm -rf "$TMP/ws"; cp -r "$TMP/base" "$TMP/ws"
        "$Z" import "$TMP/ws" "$TMP/train.csv" --thumbs none >/dev/null
        "$Z" train "$TMP/ws" --task ring --seed "$S" >/dev/null
        "$Z" export "$TMP/ws" --format predictions --task ring -o "$TMP/p0.csv" 2>/dev/null
        a0=$(auc "$TMP/p0.csv" "$TMP/lab.csv" "$TMP/train.ids")
        nice "$Z" train "$TMP/ws" --task ring --seed "$S" --finetune $EXTRA > "$TMP/ft.out"
        "$Z" export "$TMP/ws" --format predictions --task ring -o "$TMP/p1.csv" 2>/dev/null
        a1=$(auc "$TMP/p1.csv" "$TMP/lab.csv" "$TMP/train.ids")
        echo "$N $S $a0 $a1"
        sed 's/^/#   /' "$TMP/ft.out" >&2
    done
done | { echo "size seed frozen finetune"; tee "$TMP/res.txt"; }
awk '$1 != "size" { n[$1]++; a[$1] += $3; b[$1] += $4 } END { for (k in n) printf "mean %s: frozen %.3f finetune %.3f (%d seeds)\n", k, a[k]/n[k], b[k]/n[k], n[k] }' "$TMP/res.txt" | sort -k2n
