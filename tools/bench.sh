#!/usr/bin/env bash
# tools/bench.sh - `make bench`: one table of every speed figure, each next to
# a peer measured in the same run (img2sixel, numpy / scikit-learn, PyTorch),
# and the ratio.  Each tools/bench/NAME.sh prints rows of tab-separated
#   figure <TAB> zoosh <TAB> peer-name <TAB> peer <TAB> ratio <TAB> target
# (ratio = how many times better zoosh is than the peer, > 1 is better; "-"
# where a figure has no peer).  Nothing here passes or fails.
set -u
cd "$(dirname "$0")/.."
export ROOT=$PWD SHARED=${ZT_SHARED:-$(cd .. && pwd)/shared/data}
export PY=/usr/bin/python3
echo "zoosh benchmark report  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo
rows=$(mktemp)
for b in tools/bench/*.sh; do
    [ -e "$b" ] || continue
    bash "$b" >>"$rows" 2>"$rows.err.$(basename "$b")" || echo "$(basename "$b" .sh)	(failed: see stderr)	-	-	-	-" >>"$rows"
done
{ printf 'figure\tzoosh\tpeer\tpeer value\tratio\ttarget\n'; grep -P '\t' "$rows"; } | column -t -s $'\t'
for e in "$rows".err.*; do [ -s "$e" ] && { echo; echo "--- stderr of ${e##*.err.}"; tail -5 "$e"; }; rm -f "$e"; done
rm -f "$rows"
