#!/usr/bin/env bash
# tools/pretrain_choose.sh - the two CHOOSE sets a `zoosh pretrain` recipe is
# judged on (issue 18; never decals_rings):
#   1. the GZ2 ring-vote validation set (tools/gz2_ringval.sh --labels), ring
#      linear probe through tools/probe_rings.sh at 160 labels;
#   2. the DECaLS tag validation split (tools/tags_val.sh: a quarter of
#      decals_dr5_tagged that `make pretrain` excludes), the same probe with
#      each of the four tags that have >= 60 positives there as the label,
#      100 labels, AUC averaged over the tags.
# Sets probed: convnext (the encoder alone) and pca40_default (what
# `zoosh embed WS` stores as the default).
#
#   tools/pretrain_choose.sh WEIGHTS.safetensors          (one line per set and figure)
#   tools/pretrain_choose.sh --rings WEIGHTS.safetensors  (the REPORT figure instead:
#       decals_rings, the same probe at 160 labels; run once for the recipe
#       chosen and once for the one before, never to choose)
set -eu
RINGS=0
[ "${1:-}" = --rings ] && { RINGS=1; shift; }
W=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
Z="$ROOT/zoosh" PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/zoosh-choose.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# a workspace of the galaxies of labels CSV $2 (id, file absolute), embedded as
# `zoosh embed WS` does with the encoder as sample_data's (morph + convnext +
# votes, balanced, PCA-40: as tools/probe_rings.sh); its convnext and pca40 sets exported
embed_set() {
    "$Z" init "$TMP/$1" >/dev/null
    cut -d, -f1,2 "$2" > "$TMP/$1.csv"
    "$Z" import "$TMP/$1" "$TMP/$1.csv" >/dev/null
    "$Z" embed "$TMP/$1" --method morph --quiet >&2
    "$Z" embed "$TMP/$1" --weights "$W" --pca 0 --quiet >&2
    "$Z" embed "$TMP/$1" --combine morph,convnext,votes --quiet >&2
    "$Z" export "$TMP/$1" --format features --set convnext -o "$TMP/$1.convnext.csv" >/dev/null 2>&1
    "$Z" export "$TMP/$1" --format features --set pca40 -o "$TMP/$1.pca40.csv" >/dev/null 2>&1
}
if [ $RINGS = 1 ]; then
    RC="$SHARED/decals_rings/catalog.csv"
    RD=$(cd "$(dirname "$RC")" && pwd)
    awk -F, -v dir="$RD" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "id,file,ring"; next }
        { print $c["id"] "," dir "/" $c["file"] "," $c["ring"] }' "$RC" > "$TMP/rings.csv"
    embed_set decals "$TMP/rings.csv"
    nice "$PY" "$ROOT/tools/probe_rings.py" "$TMP/rings.csv" convnext="$TMP/decals.convnext.csv" \
        pca40_default="$TMP/decals.pca40.csv" --sizes 160 --tsv "$TMP/decals.tsv" > /dev/null
    awk -F'\t' 'NR > 1 { printf "DECaLS rings    %-14s AUC %.3f +- %.3f\n", $1, $4, $5 }' "$TMP/decals.tsv"
    exit 0
fi
"$ROOT/tools/gz2_ringval.sh" --labels > "$TMP/ringval.csv"
embed_set ring "$TMP/ringval.csv"
nice "$PY" "$ROOT/tools/probe_rings.py" "$TMP/ringval.csv" convnext="$TMP/ring.convnext.csv" \
    pca40_default="$TMP/ring.pca40.csv" --sizes 160 --tsv "$TMP/ring.tsv" > /dev/null
awk -F'\t' '$1 == "convnext" || $1 == "pca40_default" { printf "gz2 ring votes  %-14s AUC %.3f\n", $1, $4 }' "$TMP/ring.tsv"
TAGS="$SHARED/decals_dr5_tagged/catalog.csv"
DIR=$(cd "$(dirname "$TAGS")" && pwd)
"$ROOT/tools/tags_val.sh" "$TAGS" > "$TMP/tagval.ids"
awk -F, -v dir="$DIR" 'NR == FNR { keep[$1] = 1; next } FNR == 1 { print "id,file"; next }
    ($1 in keep) { print $1 "," dir "/" $2 }' "$TMP/tagval.ids" "$TAGS" > "$TMP/tagval.csv"
embed_set tags "$TMP/tagval.csv"
for tag in spiral_arms_yes cigar_shaped merging_merger artifact; do
    awk -F, -v t=$tag 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "id,ring"; next }
        { print $1 "," $c[t] }' "$TAGS" > "$TMP/lab.csv"
    nice "$PY" "$ROOT/tools/probe_rings.py" "$TMP/lab.csv" convnext="$TMP/tags.convnext.csv" \
        pca40_default="$TMP/tags.pca40.csv" --sizes 100 --tsv "$TMP/$tag.tsv" > /dev/null
done
cat "$TMP"/{spiral_arms_yes,cigar_shaped,merging_merger,artifact}.tsv | awk -F'\t' '
    $1 == "convnext" || $1 == "pca40_default" { s[$1] += $4; n[$1]++ }
    END { for (k in s) printf "DECaLS tags     %-14s AUC %.3f (mean of %d tags)\n", k, s[k] / n[k], n[k] }'
