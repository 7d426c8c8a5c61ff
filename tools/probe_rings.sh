#!/usr/bin/env bash
# tools/probe_rings.sh - the ring linear-probe report, driving zoosh end to end:
# a workspace of ../shared/data/decals_rings (200 galaxies, ring 0/1), the
# representations computed by `zoosh embed`, exported with `zoosh export
# --format features`, and probed by tools/probe_rings.py (logistic regression,
# 5-fold CV, training sizes 20/50/100/160; /usr/bin/python3 with sklearn).
#
#   tools/probe_rings.sh [--ws DIR] [--weights FILE.safetensors] [--catalog CSV] [--keep]
#   (--keep: keep the exported feature CSVs and say where, for tools/probe_variants.py)
#                        [PROBE OPTIONS: --folds 5 --sizes 20,50,100,160 --repeats 3 --tsv F]
#
# --catalog: another labelled set (columns id, file, ring), e.g. the GZ2
# ring-vote validation set that designs are chosen on (issue 5):
#   tools/gz2_ringval.sh --labels > /tmp/val.csv; tools/probe_rings.sh --catalog /tmp/val.csv
#
# Sets probed: morph (each feature standardised), pca40_morph (zoosh's stored
# PCA of morph: blocks balanced, fitted without labels on the workspace, used
# as it is; the default before issue 5), pixels (the floor) and, with
# --weights (or when sample_data/encoder.safetensors exists), convnext,
# morph+convnext (the two standardised, each block / sqrt(width), one L2) and
# pca40_default: what `zoosh embed WS` stores as pca40 now, the PCA-40 of the
# combined set morph+convnext+votes with its blocks balanced (core_repr_combine;
# votes: the vote fractions the encoder's head predicts, when it has one).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
Z="$ROOT/zoosh"
PY=/usr/bin/python3
WS="" WEIGHTS="" KEEP=0 PROBE_ARGS=() CAT=
while [ $# -gt 0 ]; do
    case $1 in
        --ws) WS=$2; shift 2 ;;
        --weights) WEIGHTS=$2; shift 2 ;;
        --catalog) CAT=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) PROBE_ARGS+=("$1"); shift ;;
    esac
done
[ -z "$WEIGHTS" ] && [ -f "$ROOT/sample_data/encoder.safetensors" ] && WEIGHTS="$ROOT/sample_data/encoder.safetensors"
[ -n "$CAT" ] || CAT="$SHARED/decals_rings/catalog.csv"
[ -f "$CAT" ] || { echo "probe_rings: no $CAT" >&2; exit 1; }
[ -x "$Z" ] || { echo "probe_rings: build zoosh first (make)" >&2; exit 1; }
TMP=$(mktemp -d /tmp/zoosh-probe.XXXXXX)
if [ -z "$WS" ]; then WS="$TMP/ws"; fi
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$TMP"; }
trap cleanup EXIT

if [ ! -d "$WS" ]; then
    "$Z" init "$WS" >/dev/null
    "$Z" import "$WS" "$CAT" >/dev/null
fi
"$Z" embed "$WS" --method morph --quiet >&2
"$Z" embed "$WS" --method pixels --pca 0 --quiet >&2
SETS=(morph="$TMP/morph.csv" pca40_morph="$TMP/pca40_morph.csv" pixels="$TMP/pixels.csv")
export_set() { "$Z" export "$WS" --format features --set "$1" -o "$2" 2>/dev/null; }
export_set morph "$TMP/morph.csv"
export_set pixels "$TMP/pixels.csv"
if [ "$("$Z" export "$WS" --format features --set morph_pca40 -o "$TMP/pca40_morph.csv" >/dev/null 2>&1; echo $?)" != 0 ]; then
    export_set pca40 "$TMP/pca40_morph.csv"     # morph is still the default: its PCA is pca40
fi
COMB=()
if [ -n "$WEIGHTS" ]; then
    "$Z" embed "$WS" --weights "$WEIGHTS" --pca 0 --quiet >&2
    VOTES=
    if "$Z" export "$WS" --format features --set votes -o "$TMP/votes.csv" >/dev/null 2>&1; then VOTES=,votes; fi
    "$Z" embed "$WS" --combine morph,convnext$VOTES --quiet >&2      # as zoosh embed WS does
    export_set convnext "$TMP/convnext.csv"
    export_set pca40 "$TMP/pca40_default.csv"
    SETS+=(convnext="$TMP/convnext.csv" pca40_default="$TMP/pca40_default.csv")
    [ -n "$VOTES" ] && SETS+=(votes="$TMP/votes.csv")
    COMB=(--combine morph+convnext)
fi
nice "$PY" "$ROOT/tools/probe_rings.py" "$CAT" "${SETS[@]}" "${COMB[@]}" "${PROBE_ARGS[@]}"
[ "$KEEP" = 1 ] && echo "probe_rings: exported features kept in $TMP (tools/probe_variants.py $TMP $CAT)" >&2
exit 0
