#!/usr/bin/env bash
# tools/bench/learn.sh - active-learning speed: retrain + re-rank with 1,000
# labels over 100,000 and 1,000,000 synthetic 40-d feature rows, and GP EI
# ranking with 200 ratings over 100,000 rows, each next to scikit-learn doing
# the same work on the same arrays (written once to a temp folder):
#   head: 5 logistic heads on bootstrap resamples (zoosh: L-BFGS on sgemm;
#         sklearn: LogisticRegression lbfgs, C matched to zoosh's weight decay),
#         predict all rows, BALD, full ranking (argsort)
#   gp:   RQ + white-noise GP, hyperparameters by marginal likelihood with 3
#         starts (sklearn: GaussianProcessRegressor n_restarts_optimizer=2),
#         mean and sd for all rows, EI (xi 0.5), full ranking
# zoosh's side is tools/bench/learn_bench.c (linked against build/libzcore.a
# and libzstore.a, compiled here) calling core_learn_fit_rank, the same call
# core_learn_run makes; "end to end" adds the workspace (load, store).
# Rows: figure, zoosh, peer, peer value, ratio (peer / zoosh), target.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${PY:-/usr/bin/python3}
cd "$ROOT"
. tools/bench/lib.bash
tmp=$(mktemp -d /tmp/zoosh-bench-learn.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
B=$tmp/learn_bench
bench_cc "$B" tools/bench/learn_bench.c >&2 || exit 1

cat > "$tmp/peer.py" <<'EOF'
import sys, time, numpy as np, warnings
warnings.filterwarnings("ignore")
what, prefix, n, d, rep = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
X = np.fromfile(prefix + ".x.f32", dtype=np.float32).reshape(n, d)
best = 1e30
if what == "head":
    from sklearn.linear_model import LogisticRegression
    P = np.loadtxt(prefix + ".lab.txt")
    rows, y = P[:, 0].astype(int), P[:, 1].astype(int)
    for r in range(rep):
        t0 = time.perf_counter()
        rng = np.random.default_rng(r)
        probs = []
        for m in range(5):
            b = rng.integers(0, len(rows), len(rows))
            # zoosh minimises mean loss + 0.5 * 0.05 |w|^2  <=>  C = 1 / (0.05 n)
            clf = LogisticRegression(C=1.0 / (0.05 * len(rows)), class_weight="balanced", max_iter=200)
            clf.fit(X[rows[b]], y[b])
            probs.append(clf.predict_proba(X)[:, 1])
        p = np.array(probs)
        def H(q): q = np.clip(q, 1e-12, 1 - 1e-12); return -(q * np.log(q) + (1 - q) * np.log(1 - q))
        bald = H(p.mean(0)) - H(p).mean(0)
        order = np.argsort(-bald, kind="stable")
        best = min(best, time.perf_counter() - t0)
else:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RationalQuadratic, WhiteKernel, ConstantKernel
    from scipy.stats import norm
    P = np.loadtxt(prefix + ".rate.txt")
    rows, y = P[:, 0].astype(int), P[:, 1]
    for r in range(rep):
        t0 = time.perf_counter()
        k = ConstantKernel(1.0) * RationalQuadratic(length_scale=5.0) + WhiteKernel(0.1)
        gp = GaussianProcessRegressor(kernel=k, normalize_y=True, n_restarts_optimizer=2, random_state=r)
        gp.fit(X[rows], y)
        mu, sd = gp.predict(X, return_std=True)
        best_y = gp.predict(X[rows]).max()
        imp = mu - best_y - 0.5
        z = imp / np.maximum(sd, 1e-9)
        ei = imp * norm.cdf(z) + sd * norm.pdf(z)
        order = np.argsort(-ei, kind="stable")
        best = min(best, time.perf_counter() - t0)
print("%.4f" % best)
EOF

row() {  # row FIGURE ZOOSH PEERNAME PEER TARGET
    local ratio=$(awk -v a="$2" -v b="$4" 'BEGIN{ if (a > 0 && b > 0) printf "%.1fx", b / a; else print "-" }')
    printf '%s\t%s s\t%s\t%s s\t%s\t%s\n' "$1" "$2" "$3" "${4:--}" "$ratio" "$5"
}

# the peer needs scikit-learn and SciPy; without them zoosh's side still runs
skl="scikit-learn"
if bench_peer_missing "retrain+re-rank and GP fit + EI against scikit-learn" "python3-sklearn python3-scipy" \
        "$PY" -c 'import sklearn, scipy'; then
    PY=false skl="peer missing"
fi
# roof N D THREADS SECONDS TAG NAME: the fraction of the machine's limits reached by
# a retrain + re-rank over N x D rows: its floor is the larger of one read of
# the rows at the measured bandwidth and the 5 heads' scores (2 N D 5 flop) at
# the measured sgemm rate (THREADS picks the 1- or 2-thread limits)
roof() {
    bench_limits || return 0
    local bw=$bw2_gbs gf=$sgemm2_gflops
    [ "$3" = 1 ] && bw=$bw1_gbs gf=$sgemm1_gflops
    local lim=$(awk -v n="$1" -v d="$2" -v bw="$bw" -v gf="$gf" 'BEGIN {
        p = n * d * 4 / (bw * 1e9) * 1e3; f = 2 * n * d * 5 / (gf * 1e9) * 1e3; printf "%.2f", (p > f) ? p : f }')
    local ms=$(awk -v s="$4" 'BEGIN { printf "%.2f", s * 1e3 }')
    printf '%s\t%s ms\t%s\t%s ms\t%s\t%s\n' \
        "retrain+re-rank $6 x $2 against the machine (floor: max(one read of the rows at $bw GB/s, 5 heads' scores at $gf GFLOP/s))$5" \
        "$ms" "machine floor, $3 thread(s)" "$lim" "$(bench_fraction "$lim" "$ms")" "-"
}

for n in 100000 1000000; do
    nice "$B" gen $n 40 1000 200 7 "$tmp/s$n" || exit 1
done
# Twice: with OpenBLAS's default threads, then with one BLAS thread on both sides
# (on a loaded shared machine the threaded figures swing with the load: OpenBLAS
# threads spin-wait for each other; the one-thread rows are the steadier comparison).
for thr in default 1; do
    if [ $thr = 1 ]; then export OPENBLAS_NUM_THREADS=1; tag=" [1 BLAS thread]"; nt=1; else tag=""; nt=2; fi
    rep=3
    z=$("$B" head "$tmp/s100000" 100000 40 $rep 2>>"$tmp/log")
    p=$($PY "$tmp/peer.py" head "$tmp/s100000" 100000 40 $rep)
    row "retrain+re-rank 1k labels, 100k x 40 (5-head ensemble, BALD)$tag" "$z" "$skl LogisticRegression" "$p" "< 0.5 s, >= 5x"
    roof 100000 40 $nt "$z" "$tag" 100k
    z=$("$B" head "$tmp/s1000000" 1000000 40 1 2>>"$tmp/log")
    p=$($PY "$tmp/peer.py" head "$tmp/s1000000" 1000000 40 1)
    row "retrain+re-rank 1k labels, 1M x 40 (5-head ensemble, BALD)$tag" "$z" "$skl LogisticRegression" "$p" "< 0.1 s, >= 10x"
    roof 1000000 40 $nt "$z" "$tag" 1M
    z=$("$B" gp "$tmp/s100000" 100000 40 $rep 2>>"$tmp/log")
    p=$($PY "$tmp/peer.py" gp "$tmp/s100000" 100000 40 $rep)
    row "GP fit + EI ranking, 200 ratings over 100k x 40$tag" "$z" "$skl GaussianProcessRegressor" "$p" "< 0.15 s, >= 5x"
done
unset OPENBLAS_NUM_THREADS
for n in 100000 1000000; do
    z=$("$B" ws "$tmp/s$n" $n 40 "$tmp/ws$n" 2>>"$tmp/log")
    printf '%s\t%s s\t-\t-\t-\t%s\n' "core_learn_run end to end (load, train, rank, store), $((n / 1000))k galaxies, 1k answers" "$z" "-"
    rm -rf "$tmp/ws$n"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cat "$tmp/log" >&2
