#!/usr/bin/env bash
# tools/al_report.sh - the active-learning report on real galaxies in
# ../shared/data (issue 7's "done when"), made only with zoosh commands:
#
#  1. Rings (decals_rings, 200 DECaLS cutouts, 100 rings): import, `zoosh
#     embed` with no method (the morphology features, the shipped encoder
#     and its votes; pca40 = the PCA-40 of the three combined), then
#     - held-out AUC / accuracy against the number of labels for random,
#       uncertain (BALD) and likely orders: `zoosh simulate --holdout 0.3`
#       (a fixed random 60 galaxies never shown, 140 in the pool), averaged
#       over SEEDS seeds (each seed its own holdout);
#     - "all available": 5-fold cross-validation on all 200 (`zoosh eval`).
#  2. Anomalies (hsc_anomalies, the 252 inspected cosmos_1sig galaxies):
#     interest ratings simulated from human_interesting (1 -> 4 or 5,
#     0 -> 0 or 1); precision among the top 30 not-yet-rated after 50
#     ratings for the interest (GP EI), anomaly and random orders, against
#     the base rate and the GAN score_int order; and the isolation-forest
#     prior alone before any rating.
#  3. A rare class: 2,000 simulated galaxies (zoosh sim, ~3% rings): rings shown
#     in 200 and holdout AUC for likely, mixed, uncertain and random.
#
#   tools/al_report.sh [OUT_DIR]     (default /tmp/zoosh-al-report; SEEDS=20)
# Writes OUT_DIR/report.md (also printed) and one learning-curve PNG per order.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
OUT=${1:-/tmp/zoosh-al-report}
SEEDS=${SEEDS:-20}
mkdir -p "$OUT"
W=$(mktemp -d /tmp/zoosh-al.XXXXXX)
trap 'rm -rf "$W"' EXIT
# a private copy: others may rebuild ./zoosh while this runs (retry while it is being linked)
Z=$W/zoosh
for try in 1 2 3 4 5 6 7 8 9 10; do
    cp "$ROOT/zoosh" "$Z" 2>/dev/null && chmod +x "$Z" && "$Z" --version >/dev/null 2>&1 && break
    sleep 3
done
"$Z" --version >/dev/null 2>&1 || { echo "al_report: no working $ROOT/zoosh (make zoosh)" >&2; exit 1; }
R=$OUT/report.md
: > "$R"
say() { printf '%s\n' "$*" | tee -a "$R"; }

# mean of column C at the row whose first field is L, over files
mean_at() {  # mean_at LABELS COLUMN FILES...
    local l=$1 c=$2; shift 2
    awk -F'\t' -v l="$l" -v c="$c" -v f="${FMT:-%.3f}" '$1 == l && $c != "nan" { s += $c; n++ } END { if (n) printf f, s / n; else printf "-" }' "$@"
}

# ------------------------------------------------------------ rings
"$Z" init "$W/rings" --schema ring >/dev/null || exit 1
"$Z" import "$W/rings" "$SHARED/decals_rings/catalog.csv" >/dev/null || exit 1
nice "$Z" embed "$W/rings" >/dev/null || exit 1
say "# zoosh active-learning report ($(date -u +%Y-%m-%dT%H:%MZ))"
say ""
say "## Rings: decals_rings (200 DECaLS cutouts, 100 rings), representations from \`zoosh embed\`"
say ""
say "morph: the morphology features alone; pca40: what \`zoosh embed WS\` stores as the default,"
say "the PCA-40 of morph+convnext+votes (each block balanced; convnext: sample_data/encoder.safetensors)."
say ""
say "Simulated labeling (\`zoosh simulate --holdout 0.3 --batch 10\`): AUC / accuracy on a fixed"
say "random 60 galaxies never shown, pool of 140; mean of $SEEDS seeds (each its own holdout)."
say "The data set has 200 labelled galaxies, so '300 labels' is 'all available': 5-fold CV on"
say "all 200 (160 training labels per fold)."
for feat in morph pca40; do
    say ""
    say "### features: $feat"
    for order in random uncertain likely; do
        for s in $(seq 1 "$SEEDS"); do
            "$Z" simulate "$W/rings" --task ring --oracle ring --budget 140 --batch 10 --holdout 0.3 \
                --order $order --seed $s --features $feat > "$W/r.$feat.$order.$s" || exit 1
        done
        "$Z" simulate "$W/rings" --task ring --oracle ring --budget 140 --batch 10 --holdout 0.3 \
            --order $order --seed 1 --features $feat --plot "$OUT/rings_${feat}_${order}.png" >/dev/null
    done
    say ""
    say "| labels | random AUC / acc | uncertain AUC / acc | likely AUC / acc | rings shown: random / uncertain / likely |"
    say "|---|---|---|---|---|"
    for l in 10 20 30 50 70 100 120 140; do
        row="| $l"
        for order in random uncertain likely; do
            row="$row | $(mean_at $l 2 "$W"/r.$feat.$order.*) / $(mean_at $l 3 "$W"/r.$feat.$order.*)"
        done
        row="$row | $(FMT=%.1f mean_at $l 4 "$W"/r.$feat.random.*) / $(FMT=%.1f mean_at $l 4 "$W"/r.$feat.uncertain.*) / $(FMT=%.1f mean_at $l 4 "$W"/r.$feat.likely.*) |"
        say "$row"
    done
    "$Z" eval "$W/rings" --task ring -k 5 --features $feat > "$W/eval.$feat"
    say "| all 200 (5-fold CV) | $(grep -oE 'pooled out-of-fold: auc [0-9.]+, accuracy [0-9.]+' "$W/eval.$feat" | awk '{print $4 " " $6}' | sed 's/,//; s/ / \/ /') | | | |"
    final=$(mean_at 140 2 "$W"/r.$feat.random.*)
    reach=$(for l in 10 20 30 40 50 60 70 80 90 100 110 120 130 140; do
                m=$(mean_at $l 2 "$W"/r.$feat.uncertain.*)
                awk -v m="$m" -v f="$final" -v l="$l" 'BEGIN { if (m != "-" && m + 0 >= f + 0) print l }'
            done | head -1)
    say ""
    say "random reaches AUC $final at 140 labels; uncertain first reaches it at: ${reach:-never within 140} labels."
done

# ------------------------------------------------------------ anomalies
awk -F, 'NR == 1 || $4 == "cosmos_1sig"' "$SHARED/hsc_anomalies/catalog.csv" > "$W/hsc.csv"
n_hsc=$(($(wc -l < "$W/hsc.csv") - 1))
"$Z" init "$W/hsc" >/dev/null || exit 1
"$Z" import "$W/hsc" "$W/hsc.csv" --root "$SHARED/hsc_anomalies" >/dev/null || exit 1
nice "$Z" embed "$W/hsc" >/dev/null || exit 1
say ""
say "## Anomalies: hsc_anomalies, the $n_hsc inspected cosmos_1sig galaxies"
say ""
say "Ratings simulated from human_interesting (categories other than boring -> 4 or 5, boring -> 0"
say "or 1, drawn per seed), \`zoosh simulate --task interest --rate-from human_interesting --budget 50"
say "--batch 10\`; precision = interesting among the top 30 not-yet-rated of the order after 50"
say "ratings; mean over $SEEDS seeds."
base=$(awk -F, 'NR > 1 { n++; p += ($6 == 1) } END { printf "%.3f", p / n }' "$W/hsc.csv")
gan=$(awk -F, 'NR > 1 { print $8 "," $6 }' "$W/hsc.csv" | sort -t, -k1,1 -g -r | head -30 | awk -F, '{ p += ($2 == 1) } END { printf "%.3f", p / 30 }')
for feat in morph pca40; do
    say ""
    say "### features: $feat"
    say ""
    say "| order | precision top 30 after 50 ratings | interesting found in the 50 rated |"
    say "|---|---|---|"
    for order in interest anomaly random; do
        for s in $(seq 1 "$SEEDS"); do
            "$Z" simulate "$W/hsc" --task interest --rate-from human_interesting --budget 50 --batch 10 \
                --order $order --seed $s --features $feat > "$W/h.$feat.$order.$s" || exit 1
        done
        "$Z" simulate "$W/hsc" --task interest --rate-from human_interesting --budget 50 --batch 10 \
            --order $order --seed 1 --features $feat --plot "$OUT/hsc_${feat}_${order}.png" >/dev/null
        say "| $order | $(mean_at 50 2 "$W"/h.$feat.$order.*) | $(FMT=%.1f mean_at 50 4 "$W"/h.$feat.$order.*) |"
    done
    "$Z" rank "$W/hsc" --task interest --order anomaly --top 30 --features $feat | cut -f1 > "$W/anom.ids"
    prior=$(awk -F, 'NR == FNR { want[$1] = 1; next } FNR > 1 && ($1 in want) { p += ($6 == 1) } END { printf "%.3f", p / 30 }' "$W/anom.ids" "$W/hsc.csv")
    say "| isolation-forest prior alone (0 ratings, top 30) | $prior | - |"
done
say "| GAN score_int order (top 30 of all $n_hsc) | $gan | - |"
say "| base rate | $base | - |"

# ------------------------------------------------------------ rare rings (simulated)
nice "$Z" sim "$W/simr" -n 2000 --seed 5 --size 96 --quiet >/dev/null 2>&1 || exit 1
"$Z" init "$W/rare" --schema ring >/dev/null || exit 1
"$Z" import "$W/rare" "$W/simr/catalog.csv" >/dev/null || exit 1
nice "$Z" embed "$W/rare" >/dev/null || exit 1
npos=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ring") c = i; next } { p += $c } END { print p }' "$W/simr/catalog.csv")
S2=$((SEEDS < 5 ? SEEDS : 5))
say ""
say "## Hunting a rare class: 2,000 simulated galaxies (zoosh sim --seed 5), $npos rings"
say ""
say "\`zoosh simulate --budget 200 --batch 20 --holdout 0.3\` (pca40), mean of $S2 seeds: rings among the"
say "200 shown, and AUC on the fixed 600-galaxy holdout at 200 labels."
say ""
say "| order | rings shown in 200 | holdout AUC at 200 labels |"
say "|---|---|---|"
for order in likely mixed uncertain random; do
    for s in $(seq 1 $S2); do
        "$Z" simulate "$W/rare" --task ring --oracle ring --budget 200 --batch 20 --holdout 0.3 \
            --order $order --seed $s > "$W/q.$order.$s" || exit 1
    done
    say "| $order | $(FMT=%.1f mean_at 200 4 "$W"/q.$order.*) | $(mean_at 200 2 "$W"/q.$order.*) |"
done
say ""
say "Curves: $OUT/*.png (AUC or precision against labels, seed 1)."
