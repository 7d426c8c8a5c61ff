#!/usr/bin/env bash
# tools/bench/tui.sh - the labeler's hot path, driven through a pty as a
# sixel terminal (tools/bench/tui_pty.py answers the probe like xterm):
#   - keypress -> next galaxy's image fully written (ST received), p50 / p99
#     over N answers, with the answer committed (synced LMDB write) in between;
#     images are 256x256 (--image-px 256, the stored thumbnail 1:1);
#   - sixel bytes per 256x256 galaxy against img2sixel (libsixel-bin) run in
#     this script on the very same thumbnail pixels (dumped as PNG) at 256
#     colours (-p 256);
#   - reading one stored thumbnail as the labeler does (core_thumb_get: a JPEG
#     decoded, a raw one copied) and its stored bytes.  THUMBS=raw imports
#     with --thumbs raw (default: zoosh's default, JPEG).
#   - the same at the default size (496 px pane), the image drawn from the
#     galaxy's original 424 px PNG (decoded, resampled once and encoded ahead,
#     between keys); the original's decode + draw per galaxy from the log;
#   - `+` (zoom in) -> image, keys "+-2" cycled so each `+` is a new galaxy's
#     zoom, ZPAUSE (0.6 s) between an image and the next key: the labeler
#     prepares the shown galaxy one zoom step in after the next galaxies.
# Rows as tools/bench.sh wants.  Env: N (150 answers, at most 199), PAUSE (0.05 s between
# an image and the next key: a person looks first; the labeler prepares the
# next images meanwhile).
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
N=${N:-150} PAUSE=${PAUSE:-0.05} ZPAUSE=${ZPAUSE:-0.6}
SHARED=${SHARED:-$(cd .. && pwd)/shared/data}
CAT=$SHARED/decals_rings/catalog.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s zoosh build/libzcore.a build/libzstore.a >&2
. tools/bench/lib.bash
bench_peer_missing "label: sixel bytes per 256x256 galaxy and key -> image latency (the pty driver is Python)" \
    "python3 libsixel-bin" sh -c "command -v img2sixel && command -v '$PY'" && exit 0
./zoosh init "$tmp/ws" --schema ring >/dev/null
TH=()
[ -n "${THUMBS:-}" ] && TH=(--thumbs "$THUMBS")
./zoosh import "$tmp/ws" "$CAT" --threads 2 "${TH[@]}" >/dev/null
./zoosh init "$tmp/ws2" --schema ring >/dev/null          # the default-size run gets its own
./zoosh import "$tmp/ws2" "$CAT" --threads 2 "${TH[@]}" >/dev/null
[ "$N" -le 199 ] || N=199                                  # the ring set has 200 galaxies
bench_cc "$tmp/tui_thumbs" tools/bench/tui_thumbs.c
bench_cc "$tmp/view_bench" tools/bench/view_bench.c
ZOOSH_LOG="$tmp/label.log" "$PY" tools/bench/tui_pty.py "$PWD/zoosh" "$tmp/ws" "$N" "$PAUSE" >"$tmp/lat.txt"
grep -o 'commit [0-9.]*' "$tmp/label.log" | cut -d' ' -f2 >"$tmp/commit.txt" || true
grep -o 'prefetched, [0-9.]*' "$tmp/label.log" | cut -d' ' -f2 >"$tmp/write.txt" || true
grep -o 'in the labeler: [0-9.]*' "$tmp/label.log" | cut -d' ' -f4 >"$tmp/inapp.txt" || true
hits=$(grep -c 'prefetched' "$tmp/label.log" || true)
shown=$(grep -c '^image ' "$tmp/label.log" || true)
n_img=$(wc -l <"$tmp/lat.txt")
# the default size in a 100x40 terminal of 8x17 cells: the pane is 496 px
ZOOSH_LOG="$tmp/fill.log" "$PY" tools/bench/tui_pty.py "$PWD/zoosh" "$tmp/ws2" "$((N / 2))" "$PAUSE" 0 >"$tmp/lat_fill.txt"
grep -o 'original 424x424 (3 bands) decoded in [0-9.]*' "$tmp/fill.log" | awk '{print $NF}' >"$tmp/decode.txt" || true
./zoosh init "$tmp/ws3" --schema ring >/dev/null
./zoosh import "$tmp/ws3" "$CAT" --threads 2 "${TH[@]}" >/dev/null
"$PY" tools/bench/tui_pty.py "$PWD/zoosh" "$tmp/ws3" "$((N / 3))" "$ZPAUSE" 0 "+-2" >"$tmp/lat_zoom.txt"
mkdir "$tmp/th"
"$tmp/tui_thumbs" "$tmp/ws" "$n_img" "$tmp/th" >"$tmp/get.txt"
"$tmp/view_bench" "$tmp/ws" 200 >"$tmp/view.txt"
# zoosh bytes for galaxies 1..n_img (catalog order: gid k is the k-th image)
zb=$(awk '{s += $2} END {print s}' "$tmp/lat.txt")
pb=0
for k in $(seq 1 "$n_img"); do
    b=$(img2sixel -p 256 "$tmp/th/thumb_$k.png" | wc -c)
    pb=$((pb + b))
done
"$PY" - "$tmp/lat.txt" "$zb" "$pb" "$n_img" "$tmp/commit.txt" "$tmp/write.txt" "$hits" "$shown" "$tmp/lat_fill.txt" "$tmp/inapp.txt" "$tmp/get.txt" "$tmp/decode.txt" "$tmp/lat_zoom.txt" "$tmp/view.txt" <<'PYEOF'
import sys, os
lat = [float(l.split()[0]) for l in open(sys.argv[1]) if float(l.split()[0]) >= 0]
zb, pb, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
com = sorted(float(l) for l in open(sys.argv[5]) if l.strip())
wri = sorted(float(l) for l in open(sys.argv[6]) if l.strip())
hits, shown = int(sys.argv[7] or 0), int(sys.argv[8] or 0)
lat.sort()
def q(v, p): return v[min(len(v) - 1, int(p * len(v)))] if v else float('nan')
load = os.getloadavg()[0]
print("label: key -> next 256x256 sixel written, p50 (ms)\t%.2f\t-\t-\t-\t-" % q(lat, 0.50))
print("label: key -> next 256x256 sixel written, p99 (ms; load avg %.1f)\t%.2f\t-\t-\t-\t< 20" % (load, q(lat, 0.99)))
ina = sorted(float(l) for l in open(sys.argv[10]) if l.strip() and float(l) >= 0)
print("label: the same inside the labeler (key read -> image written), p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t-" % (q(ina, 0.5), q(ina, 0.99)))
print("label: of which the synced answer commit, p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t-" % (q(com, 0.5), q(com, 0.99)))
print("label: of which writing the prepared image, p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t-" % (q(wri, 0.5), q(wri, 0.99)))
print("label: next image prepared ahead (prefetch hits)\t%d of %d\t-\t-\t-\t-" % (hits, shown))
print("label: sixel bytes per 256x256 galaxy (%d galaxies)\t%.0f\timg2sixel -p 256\t%.0f\t%.2f\tbytes <= peer (ratio >= 1)"
      % (n, zb / n, pb / n, (pb / n) / (zb / n)))
fill = [l.split() for l in open(sys.argv[9])]
fl = sorted(float(f[0]) for f in fill if float(f[0]) >= 0)
fb = [int(f[1]) for f in fill]
print("label: key -> next 496x496 sixel (default pane, 100x40 xterm), p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t-"
      % (q(fl, 0.5), q(fl, 0.99)))
print("label: sixel bytes per 496x496 galaxy (default pane)\t%.0f\t-\t-\t-\t-" % (sum(fb) / len(fb)))
dec = sorted(float(l) for l in open(sys.argv[12]) if l.strip())
print("label: original 424 px PNG decoded to values (prefetch, between keys), p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t-" % (q(dec, 0.5), q(dec, 0.99)))
v = open(sys.argv[14]).read().split()
print("label: the original read + decoded to values, no terminal (200 galaxies), p50 / p99 (ms)\t%s / %s\t-\t-\t-\t-" % (v[1], v[2]))
print("label: drawn into the 496 px pane at zoom 0 / zoom 3, p50 (p99) (ms)\t%s (%s) / %s (%s)\t-\t-\t-\t-" % (v[4], v[5], v[7], v[8]))
print("label: before: the stored thumbnail read + drawn at 496 px, p50 / p99 (ms)\t%s / %s\t-\t-\t-\t-" % (v[10], v[11]))
zl = [l.split() for l in open(sys.argv[13])]
zin = sorted(float(f[0]) for f in zl if f[2] == "+")
zans = sorted(float(f[0]) for f in zl if f[2] == "2")
print("label: key + (zoom, 0.6 s after the image) -> 496x496 sixel from the original, p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t< 20"
      % (q(zin, 0.5), q(zin, 0.99)))
print("label: answer -> next 496x496 sixel at zoom 1 (prefetched in that view), p50 / p99 (ms)\t%.2f / %.2f\t-\t-\t-\t< 20"
      % (q(zans, 0.5), q(zans, 0.99)))
g = open(sys.argv[11]).read().split()
print("label: reading a stored thumbnail (%s, %s bytes) as RGB, per galaxy (ms)\t%.4f\t-\t-\t-\t-" % (g[3], g[5], float(g[1])))
PYEOF
