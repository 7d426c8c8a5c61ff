#!/usr/bin/env bash
# tools/gz2_split.sh - the GZ2 vote-RMSE held-out split of issue 18: ids of
# kaggle_gz2_votes galaxies an encoder must never train on so that its
# predicted votes (set `votes`) can be scored against the volunteers'
# (tools/quality.sh, "GZ2 votes RMSE").
#
#   tools/gz2_split.sh [CATALOG.csv]             (the RMSE split: ids, one a line)
#   tools/gz2_split.sh --exclude [CATALOG.csv]   (what `zoosh pretrain --exclude`
#                                                 must leave out: the RMSE split
#                                                 and the 320 galaxies of the GZ2
#                                                 ring-vote set, tools/gz2_ringval.sh)
#
# The split: every id with id % 10 == 3 that is not in the ring-vote set
# (tools/gz2_ringval.sh).  Deterministic: no random draw.
set -eu
EXCL=0
[ "${1:-}" = --exclude ] && { EXCL=1; shift; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAT=${1:-${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}/kaggle_gz2_votes/catalog.csv}
[ -f "$CAT" ] || { echo "gz2_split: no $CAT (the kaggle_gz2_votes set of ../shared/data)" >&2; exit 1; }
RINGVAL=$("$ROOT/tools/gz2_ringval.sh" "$CAT")
awk -F, -v excl=$EXCL -v ringval="$RINGVAL" '
BEGIN { n = split(ringval, r, "\n"); for (i = 1; i <= n; i++) rv[r[i]] = 1 }
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
          if (!("id" in c)) { print "gz2_split: need a column id" > "/dev/stderr"; exit 1 }
          next }
{ id = $c["id"]
  if (id in rv) { if (excl) print id; next }
  if (id % 10 == 3) print id }' "$CAT"
