#!/usr/bin/env bash
# tools/tags_val.sh - the DECaLS tag validation split (issue 18): ids of a
# quarter of ../shared/data/decals_dr5_tagged (rows 1, 5, 9, ... of the
# catalog) that `make pretrain` never trains on, so tools/pretrain_choose.sh
# can judge encoders on DECaLS tags they did not see.  Deterministic.
#
#   tools/tags_val.sh [CATALOG.csv] > ids
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAT=${1:-${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}/decals_dr5_tagged/catalog.csv}
awk -F, 'NR > 1 && (NR - 2) % 4 == 0 { print $1 }' "$CAT"
