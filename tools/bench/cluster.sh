#!/usr/bin/env bash
# tools/bench/cluster.sh - the labeler's cluster pages: seconds to cluster
# 100,000 galaxies x 40 features (core_cluster_walk_new: k-means++ seeds and
# Lloyd on a seeded sample of 8192 rows, at most 30 iterations, every row then
# assigned, members sorted by distance) into 64 clusters, on two matrices the
# numpy peer writes: Gaussian noise (no clusters: the worst case, every
# iteration runs) and 64 blobs.  Peer: scikit-learn's KMeans (k-means++, one
# init, Lloyd, at most 30 iterations as ours, 2 threads) on all rows of the
# same matrix.
# Rows: figure <TAB> zoosh <TAB> peer <TAB> peer value <TAB> ratio <TAB> target
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${PY:-/usr/bin/python3}
T=$(mktemp -d /tmp/zoosh-bench-cluster.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$ROOT"
. tools/bench/lib.bash
bench_peer_missing "k-means 100k x 40 -> 64 (numpy writes the data)" "python3-numpy python3-sklearn" \
    "$PY" -c 'import numpy, sklearn' && exit 0
bench_cc "$T/cluster_bench" tools/bench/cluster_bench.c >&2 || exit 1
N=100000 D=40 K=64
for kind in noise blobs; do
    skl=$(OMP_NUM_THREADS=2 "$PY" - "$T/x.f32" $N $D $K $kind <<'PYEOF'
import sys, time
import numpy as np
from sklearn.cluster import KMeans
path, n, d, k, kind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = np.random.default_rng(1)
if kind == 'noise':
    x = r.standard_normal((n, d), dtype=np.float32)
else:
    mu = r.standard_normal((k, d)).astype(np.float32) * 3
    x = (mu[r.integers(0, k, n)] + r.standard_normal((n, d))).astype(np.float32)
x.tofile(path)
t0 = time.perf_counter()
KMeans(k, init='k-means++', n_init=1, max_iter=30, algorithm='lloyd', random_state=1).fit(x)
print("%.3f" % (time.perf_counter() - t0))
PYEOF
)
    zs=$("$T/cluster_bench" "$T/x.f32" $N $D $K 3 | awk '$1=="walk_s"{print $2}')
    ratio=$(awk -v a="$zs" -v b="$skl" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
    printf 'cluster pages: k-means 100k x 40 -> 64, %s, s (best of 3)\t%s\tsklearn KMeans (all rows, lloyd, 30 it)\t%s\t%s\t< 1 s\n' \
        "$kind" "$zs" "$skl" "$ratio"
done
