#!/usr/bin/env bash
# tools/bench.sh - `make bench`: one table of every speed figure, each next to
# a peer measured in the same run (img2sixel, numpy / scikit-learn, PyTorch),
# and the ratio.  Each tools/bench/NAME.sh prints rows of tab-separated
#   figure <TAB> zoosh <TAB> peer-name <TAB> peer <TAB> ratio <TAB> target
# (ratio = how many times better zoosh is than the peer, > 1 is better; "-"
# where a figure has no peer; "N of the limit" where a figure is held against
# the machine's limits, which tools/bench/limits.sh measures first).  Nothing
# here passes or fails.
set -u
cd "$(dirname "$0")/.."
export ROOT=$PWD SHARED=${ZT_SHARED:-$(cd .. && pwd)/shared/data}
export PY=/usr/bin/python3
echo "zoosh benchmark report  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
rows=$(mktemp)
# the machine's limits first: knn.sh and learn.sh print the fraction of them
# their figures reach
export ZT_BENCH_LIMITS=$rows.limits
run() {
    bash "$1" >>"$rows" 2>"$rows.err.$(basename "$1")" || echo "$(basename "$1" .sh)	(failed: see stderr)	-	-	-	-" >>"$rows"
}
run tools/bench/limits.sh
if [ -s "$ZT_BENCH_LIMITS" ]; then
    . "$ZT_BENCH_LIMITS"
    echo "limits: memory read $bw1_gbs GB/s (1 thread), $bw2_gbs GB/s (2 threads); sgemm $sgemm1_gflops GFLOP/s (1 thread), $sgemm2_gflops GFLOP/s (2 threads)"
fi
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for b in tools/bench/*.sh; do
    [ -e "$b" ] && [ "$b" != tools/bench/limits.sh ] || continue
    run "$b"
done
{ printf 'figure\tzoosh\tpeer\tpeer value\tratio\ttarget\n'; grep -P '\t' "$rows"; } | column -t -s $'\t'
for e in "$rows".err.*; do [ -s "$e" ] && { echo; echo "--- stderr of ${e##*.err.}"; tail -5 "$e"; }; rm -f "$e"; done
echo; echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$rows" "$ZT_BENCH_LIMITS"
