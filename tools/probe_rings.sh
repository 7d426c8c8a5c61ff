#!/usr/bin/env bash
# tools/probe_rings.sh - the ring linear-probe report, driving zoosh end to end:
# a workspace of ../shared/data/decals_rings (200 galaxies, ring 0/1), the
# representations computed by `zoosh embed`, exported with `zoosh export
# --format features`, and probed by tools/probe_rings.py (logistic regression,
# 5-fold CV, training sizes 20/50/100/160; /usr/bin/python3 with sklearn).
#
#   tools/probe_rings.sh [--ws DIR] [--weights FILE.safetensors] [--catalog CSV] [--keep]
#                        [PROBE OPTIONS: --folds 5 --sizes 20,50,100,160 --repeats 3 --tsv F]
#
# --catalog: another labelled set (columns id, file, ring), e.g. the GZ2
# ring-vote validation set that designs are chosen on (issue 5):
#   tools/gz2_ringval.sh --labels > /tmp/val.csv; tools/probe_rings.sh --catalog /tmp/val.csv
#
# Sets probed: morph (each feature standardised), pca40 (zoosh's stored PCA of
# morph: blocks balanced, fitted without labels on the workspace, used as it
# is), pixels (the floor) and, with --weights (or when
# sample_data/encoder.safetensors exists), convnext and morph+convnext.
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
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
SETS=(morph="$TMP/morph.csv" pca40="$TMP/pca40.csv" pixels="$TMP/pixels.csv")
COMB=()
if [ -n "$WEIGHTS" ]; then
    "$Z" embed "$WS" --weights "$WEIGHTS" --pca 0 --quiet >&2
    SETS+=(convnext="$TMP/convnext.csv")
    COMB=(--combine morph+convnext)
fi
for s in "${SETS[@]}"; do
    name=${s%%=*} file=${s#*=}
    "$Z" export "$WS" --format features --set "$name" -o "$file" 2>/dev/null
done
nice "$PY" "$ROOT/tools/probe_rings.py" "$CAT" "${SETS[@]}" "${COMB[@]}" "${PROBE_ARGS[@]}"
