#!/usr/bin/env bash
# tools/gz2_ringval.sh - the GZ2 ring-vote validation set (issue 5): ids of
# kaggle_gz2_votes galaxies kept out of `make pretrain` (zoosh pretrain
# --exclude) so that encoders and representations can be judged on real
# ring-like labels they never saw, instead of on the DECaLS ring test set.
#
#   tools/gz2_ringval.sh [CATALOG.csv] > ids          (ids only, one a line)
#   tools/gz2_ringval.sh --labels [CATALOG.csv]       (id,file,ring CSV, files absolute)
#
# Rings: Class8.1 (odd feature = ring, cumulative fraction) >= 0.2 and an odd
# id (half of the 175 such galaxies; the other half stay in training);
# non-rings: featured (Class1.2 > 0.5) with Class8.1 < 0.02 and id % 8 == 1,
# the same kind of matched featured discs as the DECaLS ring set's non-rings.
# 91 rings + 229 non-rings = 320 galaxies.  Deterministic: no random draw.
set -eu
LABELS=0
[ "${1:-}" = --labels ] && { LABELS=1; shift; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAT=${1:-${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}/kaggle_gz2_votes/catalog.csv}
DIR=$(cd "$(dirname "$CAT")" && pwd)
awk -F, -v labels=$LABELS -v dir="$DIR" '
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
          if (!("id" in c) || !("file" in c) || !("Class1.2" in c) || !("Class8.1" in c)) {
              print "gz2_ringval: need columns id, file, Class1.2, Class8.1" > "/dev/stderr"; exit 1 }
          if (labels) print "id,file,ring"; next }
{ id = $c["id"]; r = $c["Class8.1"] + 0; f = $c["Class1.2"] + 0
  ring = (r >= 0.2 && id % 2 == 1); non = (f > 0.5 && r < 0.02 && id % 8 == 1)
  if (!ring && !non) next
  if (labels) print id "," dir "/" $c["file"] "," ring; else print id }' "$CAT"
