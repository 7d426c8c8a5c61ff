#!/usr/bin/env bash
# tools/bench/import.sh - import throughput, rows as tools/bench.sh wants:
#  1. catalog + features: a generated Zoobot-style catalog of N rows (default
#     100,000; id_str, file_loc, ra, dec, 3 vote fractions, a text column)
#     and a Zoobot representation HDF5 (predictions N x 640 x 1 float32,
#     id_str, label_cols) written by h5py; `zoosh import --no-thumbs
#     --features`.  Peer: numpy reading the same two files (np.genfromtxt of
#     the CSV, h5py + mean over samples), which stores nothing.
#  2. the catalog alone (--no-thumbs, no features), same peer without HDF5.
#  3. thumbnails: the 200 real 424x424 DECaLS PNGs repeated to M rows
#     (default 1,000), decoded and scaled to 256 px with 2 threads.  Peer:
#     ImageMagick `convert -resize 256x256` on the same files, 2 at a time.
# Each figure is the best of REPS runs (default 2; the machine is shared and
# noise only slows).  Env: N, M, REPS, THREADS (2).
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
SHARED=${SHARED:-$(cd .. && pwd)/shared/data}
N=${N:-100000} M=${M:-1000} REPS=${REPS:-2} THREADS=${THREADS:-2}
Z=$PWD/zoosh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s zoosh >&2
. tools/bench/lib.bash
# the catalog's file_loc column names the shared images (the import checks
# each one): without them say so in a row instead of a Python traceback
if [ ! -d "$SHARED/decals_rings/images" ]; then
    printf 'import catalog + 640-d HDF5 features, catalog only, thumbnails\t-\tshared data missing: %s (set ZT_SHARED or SHARED)\t-\t-\t-\n' \
        "$SHARED/decals_rings/images"
    exit 0
fi
# numpy and h5py write the catalog and the features, and are the peer
bench_peer_missing "import catalog + 640-d HDF5 features (numpy and h5py write the data)" "python3-numpy python3-h5py" \
    "$PY" -c 'import numpy, h5py' && exit 0

now() { date +%s.%N; }
best() { awk 'NR == 1 || $1 < m { m = $1 } END { print m }'; }

"$PY" - "$tmp" "$SHARED/decals_rings" "$N" "$M" <<'PYEOF'
import sys, os, numpy as np, h5py
d, rings, n, m = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
imgs = sorted(os.path.join(rings, 'images', f) for f in os.listdir(os.path.join(rings, 'images')))
rng = np.random.default_rng(1)
ids = ['J%06d.%02d+%06d' % (i, i % 100, 7 * i) for i in range(n)]
with open(d + '/cat.csv', 'w') as f:
    f.write('id_str,file_loc,ra,dec,smooth-or-featured_featured-or-disk_fraction,disk-edge-on_no_fraction,has-spiral-arms_no_fraction,survey\n')
    ra, dec, fr = rng.uniform(0, 360, n), rng.uniform(-30, 30, n), rng.uniform(0, 1, (n, 3))
    for i in range(n):
        f.write('%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,decals\n' % (ids[i], imgs[i % len(imgs)], ra[i], dec[i], fr[i, 0], fr[i, 1], fr[i, 2]))
x = rng.standard_normal((n, 640, 1), dtype=np.float32)
with h5py.File(d + '/feat.h5', 'w') as f:
    f.create_dataset('predictions', data=x)
    dt = h5py.string_dtype(encoding='utf-8')
    f.create_dataset('id_str', data=ids, dtype=dt)
    f.create_dataset('label_cols', data=['feat_%d' % j for j in range(640)], dtype=dt)
with open(d + '/thumbs.csv', 'w') as f:
    f.write('id,file\n')
    for i in range(m):
        f.write('g%d,%s\n' % (i, imgs[i % len(imgs)]))
with open(d + '/thumb_files.txt', 'w') as f:
    for i in range(m):
        f.write(imgs[i % len(imgs)] + '\n')
PYEOF

# 1 + 2: zoosh
t_feat=$(for r in $(seq "$REPS"); do
    rm -rf "$tmp/ws"; "$Z" init "$tmp/ws" >/dev/null
    a=$(now); /usr/bin/time -f "%U %S" -o "$tmp/fcpu.$r" "$Z" import "$tmp/ws" "$tmp/cat.csv" --no-thumbs --features "$tmp/feat.h5" >/dev/null; b=$(now)
    echo "$b - $a" | bc -l
done | best)
cpu_feat=$(cat "$tmp"/fcpu.* | awk '{ c = $1 + $2; if (NR == 1 || c < m) m = c } END { print m }')
t_cat=$(for r in $(seq "$REPS"); do
    rm -rf "$tmp/ws"; "$Z" init "$tmp/ws" >/dev/null
    a=$(now); "$Z" import "$tmp/ws" "$tmp/cat.csv" --no-thumbs >/dev/null; b=$(now)
    echo "$b - $a" | bc -l
done | best)
rm -rf "$tmp/ws"
# peer: numpy reads the same files
read -r p_feat p_cat < <("$PY" - "$tmp" "$REPS" <<'PYEOF'
import sys, time, numpy as np, h5py
d, reps = sys.argv[1], int(sys.argv[2])
bf = bc = 1e30
for _ in range(reps):
    t0 = time.perf_counter()
    cat = np.genfromtxt(d + '/cat.csv', delimiter=',', names=True, dtype=None, encoding='utf-8')
    t1 = time.perf_counter()
    with h5py.File(d + '/feat.h5', 'r') as f:
        x = f['predictions'][:].mean(axis=2)
        ids = f['id_str'][:]
    t2 = time.perf_counter()
    bc, bf = min(bc, t1 - t0), min(bf, t2 - t0)
print(len(cat) / bf, len(cat) / bc)
PYEOF
)
zf=$(echo "$N / $t_feat" | bc -l); zc=$(echo "$N / $t_cat" | bc -l)
printf 'import catalog + 640-d HDF5 features, %d rows (rows/s)\t%.0f\tnumpy genfromtxt + h5py (read only)\t%.0f\t%.2f\t>= 50000, ratio > 1\n' \
    "$N" "$zf" "$p_feat" "$(echo "$zf / $p_feat" | bc -l)"
printf 'import catalog + features: rows per CPU second (user + sys, the HDF5 reader child included)\t%.0f\t-\t-\t-\t>= 50000\n' \
    "$(echo "$N / $cpu_feat" | bc -l)"
printf 'import catalog only (--no-thumbs), %d rows (rows/s)\t%.0f\tnumpy genfromtxt (read only)\t%.0f\t%.2f\t-\n' \
    "$N" "$zc" "$p_cat" "$(echo "$zc / $p_cat" | bc -l)"

# 3: thumbnails
# wall time, and the CPU seconds (user + sys) the import used: on a shared
# machine the wall figure depends on the others' load, the CPU one much less
t_th=$(for r in $(seq "$REPS"); do
    rm -rf "$tmp/ws"; "$Z" init "$tmp/ws" >/dev/null
    a=$(now); /usr/bin/time -f "%U %S" -o "$tmp/cpu.$r" "$Z" import "$tmp/ws" "$tmp/thumbs.csv" --threads "$THREADS" >/dev/null; b=$(now)
    echo "$b - $a" | bc -l
done | best)
cpu_th=$(cat "$tmp"/cpu.* | awk '{ c = $1 + $2; if (NR == 1 || c < m) m = c } END { print m }')
rm -rf "$tmp/ws"
if bench_peer_missing "import with 256 px thumbnails: ImageMagick peer" imagemagick command -v convert; then
    t_im=0
else
    mkdir -p "$tmp/im"
    t_im=$(for r in $(seq "$REPS"); do
        a=$(now)
        awk -v d="$tmp/im" '{ print $0; print d "/" NR ".png" }' "$tmp/thumb_files.txt" |
            xargs -n 2 -P "$THREADS" sh -c 'convert "$0" -resize 256x256 "$1"'
        b=$(now)
        echo "$b - $a" | bc -l
    done | best)
fi
zt=$(echo "$M / $t_th" | bc -l); pt=0
[ "$t_im" != 0 ] && pt=$(echo "$M / $t_im" | bc -l)
cpu_ms=$(echo "1000 * $cpu_th / $M" | bc -l)
printf 'import with 256 px thumbnails from 424x424 PNGs, %d threads (galaxies/s)\t%.0f\tImageMagick convert -resize 256x256\t%.0f\t%s\t>= 400\n' \
    "$THREADS" "$zt" "$pt" "$(awk -v a="$zt" -v b="$pt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
printf 'import with thumbnails: CPU per galaxy (ms; %d cores idle would give %.0f/s)\t%.2f\t-\t-\t-\t<= 5.0\n' \
    "$THREADS" "$(echo "$THREADS * 1000 / $cpu_ms" | bc -l)" "$cpu_ms"
