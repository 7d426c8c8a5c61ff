#!/usr/bin/env bash
# tools/quality.sh - issue 18's honest evaluation (`make quality`, not run by
# `make test`): every figure of the issue's table that ../shared/data allows,
# each with its noise and its time, measured with the plain user commands and
# their defaults (zoosh init / import / embed / train / export / simulate), so
# it measures whatever encoder, head and GP the build at hand has.
#
#   tools/quality.sh [--quick] [--only rings,gz2rings,tags,rmse,hsc] [--labels N]
#                    [--repeats 3] [--seeds 8] [--threads 2] [--keep DIR]
#                    [--zoosh PATH] [--shared DIR]
#
# The protocol (docs/encoder.md, "Measuring quality"): recipes are chosen on
# the CHOOSE sets only (GZ2 ring votes, DECaLS DR5 tags, HSC half A); the
# REPORT sets (DECaLS rings, HSC half B) are printed, never tuned on.
# --quick: tiny subsets (40 galaxies, 1 fold, 1 seed) to check the script
# runs, not figures.  The table (Markdown) goes to stdout, progress to stderr.
# Needs /usr/bin/python3 with numpy and sklearn (Debian python3-sklearn).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
PY=/usr/bin/python3
[ -x $PY ] || { echo "quality: no $PY (apt-get install python3-sklearn)" >&2; exit 1; }
exec nice -n 10 $PY "$ROOT/tools/quality.py" "$@"
