#!/usr/bin/env bash
# tools/bench/knn.sh - similarity search and representation speed against
# numpy / scikit-learn on the same arrays, in the same run:
#   - exact top-20 over 1,000,000 x 40 float32 (Euclidean), per query:
#     zoosh core_knn (BLAS blocks, cached norms, 2 threads) vs numpy brute
#     force with precomputed squared norms + argpartition (its best case);
#   - PCA fit 100,000 x 265 -> 40 (standardised): core_pca vs sklearn PCA;
#   - morphology features per second on the real ring thumbnails (zoosh embed).
# Rows: figure <TAB> zoosh <TAB> peer <TAB> peer value <TAB> ratio <TAB> target
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
PY=${PY:-/usr/bin/python3}
T=$(mktemp -d /tmp/zoosh-bench-knn.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$ROOT"
. tools/bench/lib.bash
# numpy writes the matrix and is the peer; scikit-learn is the PCA's peer
bench_peer_missing "top-20 of 1M x 40 and PCA fit (numpy writes the data)" "python3-numpy python3-sklearn" \
    "$PY" -c 'import numpy, sklearn' && exit 0
bench_cc "$T/knn_bench" tools/bench/knn_bench.c >&2 || exit 1

N=1000000 D=40 K=20
# the numpy peer writes the matrix, then times itself on it
npy=$("$PY" - "$T/x.f32" $N $D $K <<'PYEOF'
import sys, time
import numpy as np
path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.random.default_rng(1).standard_normal((n, d), dtype=np.float32)
x.tofile(path)
sq = np.einsum('ij,ij->i', x, x)
ts = []
for q in range(30):
    qv = x[(q * 7919) % n]
    t0 = time.perf_counter()
    dd = sq - 2 * (x @ qv)
    i = np.argpartition(dd, k)[:k]
    i = i[np.argsort(dd[i])]
    ts.append(time.perf_counter() - t0)
ts.sort()
print("%.3f %.3f" % (ts[0] * 1e3, ts[len(ts) // 2] * 1e3))
PYEOF
)
zs=$("$T/knn_bench" "$T/x.f32" $N $D $K 30)
zbest=$(echo "$zs" | awk '$1=="best_ms"{print $2}')
zmed=$(echo "$zs" | awk '$1=="median_ms"{print $2}')
nbest=${npy% *} nmed=${npy#* }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }'; }
printf 'top-20 of 1M x 40, ms/query (median)\t%s\tnumpy sq-norms+argpartition\t%s\t%s\t< 15 ms, >= 2x\n' "$zmed" "$nmed" "$(ratio "$zmed" "$nmed")"
printf 'top-20 of 1M x 40, ms/query (best)\t%s\tnumpy sq-norms+argpartition\t%s\t%s\t< 15 ms, >= 2x\n' "$zbest" "$nbest" "$(ratio "$zbest" "$nbest")"
# against the machine: one query reads the N x D floats once (the cached norms
# add 1/D of that); the floor is one read at the 2-thread bandwidth
if bench_limits; then
    pass=$(awk -v n=$N -v d=$D -v bw="$bw2_gbs" 'BEGIN { printf "%.2f", n * d * 4 / (bw * 1e9) * 1e3 }')
    for w in median:$zmed best:$zbest; do
        printf 'top-20 of 1M x 40 against one memory pass (ms/query, %s; %d MB at %s GB/s, 2 threads)\t%s\tone memory pass\t%s\t%s\twithin 3x (>= 0.33 of the limit)\n' \
            "${w%%:*}" $((N * D * 4 / 1000000)) "$bw2_gbs" "${w#*:}" "$pass" "$(bench_fraction "$pass" "${w#*:}")"
    done
fi
rm -f "$T/x.f32"

# PCA fit
PN=100000 PD=265 PK=40
skl=$("$PY" - "$T/p.f32" $PN $PD $PK <<'PYEOF'
import sys, time
import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(2)
x = (rng.standard_normal((n, d), dtype=np.float32) @ rng.standard_normal((d, d), dtype=np.float32)).astype(np.float32)
x.tofile(path)
best = 1e9
for r in range(3):
    t0 = time.perf_counter()
    z = StandardScaler().fit_transform(x)
    PCA(k, svd_solver='covariance_eigh' if 'covariance_eigh' in PCA._parameter_constraints['svd_solver'][0].options else 'full').fit(z)
    best = min(best, time.perf_counter() - t0)
print("%.4f" % best)
PYEOF
)
zp=$("$T/knn_bench" --pca "$T/p.f32" $PN $PD $PK | awk '$1=="pca_s"{print $2}')
printf 'PCA fit 100k x 265 -> 40 (standardised), s\t%s\tsklearn StandardScaler+PCA\t%s\t%s\t-\n' "$zp" "$skl" "$(ratio "$zp" "$skl")"

# morphology features on the real ring thumbnails
if [ -f "$SHARED/decals_rings/catalog.csv" ] && [ -x "$ROOT/zoosh" ]; then
    "$ROOT/zoosh" init "$T/ws" >/dev/null && "$ROOT/zoosh" import "$T/ws" "$SHARED/decals_rings/catalog.csv" >/dev/null
    best=0
    for r in 1 2 3; do
        g=$("$ROOT/zoosh" embed "$T/ws" --method morph --pca 0 --quiet | sed -n 's/.*(\([0-9]*\) galaxies\/s).*/\1/p')
        [ "${g:-0}" -gt "$best" ] && best=$g
    done
    printf 'morph features, galaxies/s (256 px thumbnails, 2 threads, incl. store writes)\t%s\t-\t-\t-\tthousands/s\n' "$best"
fi
