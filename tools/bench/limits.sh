#!/usr/bin/env bash
# tools/bench/limits.sh - the machine's limits, measured before the figures
# that are bound by them (tools/bench.sh runs it first): memory bandwidth by a
# streaming read (a 512 MiB float array summed with 1 and 2 threads, best of
# 5) and sgemm GFLOP/s through OpenBLAS (2048^3, 1 and 2 threads), both by
# tools/bench/limits.c.  Writes name=value lines to $ZT_BENCH_LIMITS (default
# build/bench_limits.txt) for knn.sh and learn.sh, and prints them as rows.
set -eu
cd "$(dirname "$0")/../.."
. tools/bench/lib.bash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench_cc "$tmp/limits" -O3 -march=native tools/bench/limits.c
"$tmp/limits" >"$tmp/limits.txt"
mkdir -p "$(dirname "$ZT_BENCH_LIMITS")"
cp "$tmp/limits.txt" "$ZT_BENCH_LIMITS"
bench_limits
printf 'limit: memory read, 1 thread (GB/s; sum of a 512 MiB float array, best of 5)\t%s\t-\t-\t-\t-\n' "$bw1_gbs"
printf 'limit: memory read, 2 threads (GB/s; the same)\t%s\t-\t-\t-\t-\n' "$bw2_gbs"
printf 'limit: OpenBLAS sgemm 2048^3, 1 thread (GFLOP/s)\t%s\t-\t-\t-\t-\n' "$sgemm1_gflops"
printf 'limit: OpenBLAS sgemm 2048^3, 2 threads (GFLOP/s)\t%s\t-\t-\t-\t-\n' "$sgemm2_gflops"
