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
#   tools/pretrain_choose.sh WEIGHTS.safetensors      (prints one line per set)
set -eu
W=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
Z="$ROOT/zoosh" PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/zoosh-choose.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
"$ROOT/tools/gz2_ringval.sh" --labels > "$TMP/ringval.csv"
"$ROOT/tools/probe_rings.sh" --weights "$W" --catalog "$TMP/ringval.csv" --sizes 160 --tsv "$TMP/ring.tsv" > "$TMP/ring.out"
awk -F'\t' '$1 == "convnext" || $1 == "pca40_default" { printf "gz2 ring votes  %-14s AUC %s\n", $1, $4 }' "$TMP/ring.tsv"
TAGS="$SHARED/decals_dr5_tagged/catalog.csv"
DIR=$(cd "$(dirname "$TAGS")" && pwd)
"$ROOT/tools/tags_val.sh" "$TAGS" > "$TMP/tagval.ids"
awk -F, -v dir="$DIR" 'NR == FNR { keep[$1] = 1; next } FNR == 1 { print "id,file"; next }
    ($1 in keep) { print $1 "," dir "/" $2 }' "$TMP/tagval.ids" "$TAGS" > "$TMP/tagval.csv"
"$Z" init "$TMP/ws" >/dev/null
"$Z" import "$TMP/ws" "$TMP/tagval.csv" >/dev/null
"$Z" embed "$TMP/ws" --weights "$W" --quiet >&2
"$Z" export "$TMP/ws" --format features --set convnext -o "$TMP/convnext.csv" >/dev/null 2>&1
"$Z" export "$TMP/ws" --format features --set pca40 -o "$TMP/pca40.csv" >/dev/null 2>&1
for tag in spiral_arms_yes cigar_shaped merging_merger artifact; do
    awk -F, -v t=$tag 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "id,ring"; next }
        { print $1 "," $c[t] }' "$TAGS" > "$TMP/lab.csv"
    nice "$PY" "$ROOT/tools/probe_rings.py" "$TMP/lab.csv" convnext="$TMP/convnext.csv" \
        pca40_default="$TMP/pca40.csv" --sizes 100 --tsv "$TMP/$tag.tsv" > /dev/null
done
cat "$TMP"/{spiral_arms_yes,cigar_shaped,merging_merger,artifact}.tsv | awk -F'\t' '
    $1 == "convnext" || $1 == "pca40_default" { s[$1] += $4; n[$1]++ }
    END { for (k in s) printf "DECaLS tags     %-14s AUC %.3f (mean of %d tags)\n", k, s[k] / n[k], n[k] }'
