#!/usr/bin/env bash
# tools/bench/load.sh - the answer commit under a shared workspace's load
# (issue 21's load figure): on the 200 real ring galaxies (embedded, so the
# trainers have features),
#   - L labelers (default 8), each a real `zoosh label` in its own tmux
#     session run as its own uid (setpriv, as tests/sh/labelers.sh does),
#     with its background trainer on (--retrain 10), typing an answer every
#     RATE seconds (default 1) for at least DUR seconds (default 30) and
#     until the import has finished (MAXDUR, 240 s, at most);
#   - a trainer: `zoosh train --task ring` every second meanwhile;
#   - an import of a generated 20,000-galaxy catalog (IMPORT rows; their
#     files the 200 real 424 px PNGs over again, thumbnailed with 2 threads)
#     with a 640-d Zoobot representation HDF5 (written by h5py) into the same
#     workspace, started with the typing.
# The figure: each answer's synced commit as the labeler logs it (ZOOSH_LOG:
# "answer: commit X ms", tui/label/actions.c), p50 / p99 / max over every
# answer of the run, with the answers committed, the load average, how long
# the import took and how many trainer runs finished; first the same without
# the import (DUR seconds), so the import's share shows.  Rows as tools/bench.sh
# wants; no peer.  Needs root (the labelers are uids 20101..) and tmux.
# Env: L, RATE, DUR, MAXDUR, IMPORT.
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
SHARED=${SHARED:-$(cd .. && pwd)/shared/data}
L=${L:-8} RATE=${RATE:-1} DUR=${DUR:-30} MAXDUR=${MAXDUR:-240} IMPORT=${IMPORT:-20000}
FIG="load: answer commit, $L labelers + trainers + a $IMPORT-galaxy import"
if [ "$(id -u)" != 0 ] || ! command -v tmux >/dev/null || ! command -v setpriv >/dev/null; then
    printf '%s\t-\tneeds root, tmux and setpriv (the labelers are Unix users)\t-\t-\t-\n' "$FIG"
    exit 0
fi
make -s zoosh >&2
. tools/bench/lib.bash
bench_peer_missing "$FIG (h5py writes the import's features)" "python3-numpy python3-h5py" \
    "$PY" -c 'import numpy, h5py' && exit 0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoosh-bench-load.XXXXXX")
SOCK="zt-bench-load-$$"
pids=()
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
cp zoosh "$tmp/zoosh" && chmod 755 "$tmp/zoosh"
Z=$tmp/zoosh
"$Z" init "$tmp/ws" --schema ring >/dev/null
"$Z" import "$tmp/ws" "$SHARED/decals_rings/catalog.csv" --threads 2 >/dev/null
"$Z" embed "$tmp/ws" --method morph --threads 2 --quiet >/dev/null
chmod -R a+rwX "$tmp/ws"
"$PY" - "$tmp" "$SHARED/decals_rings" "$IMPORT" <<'PYEOF'
import sys, os, numpy as np, h5py
d, rings, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
imgs = sorted(os.path.join(rings, 'images', f) for f in os.listdir(os.path.join(rings, 'images')))
rng = np.random.default_rng(21)
ids = ['L%06d.%02d+%06d' % (i, i % 100, 7 * i) for i in range(n)]
with open(d + '/big.csv', 'w') as f:
    f.write('id_str,file_loc,ra,dec,ring\n')
    ra, dec, ring = rng.uniform(0, 360, n), rng.uniform(-30, 30, n), rng.integers(0, 2, n)
    for i in range(n):
        f.write('%s,%s,%.6f,%.6f,%d\n' % (ids[i], imgs[i % len(imgs)], ra[i], dec[i], ring[i]))
with h5py.File(d + '/big.h5', 'w') as f:
    f.create_dataset('predictions', data=rng.standard_normal((n, 640, 1), dtype=np.float32))
    f.create_dataset('id_str', data=ids, dtype=h5py.string_dtype(encoding='utf-8'))
PYEOF

# phase NAME IMPORT(0|1): the labelers (each its own uid) start, wait at
# their first galaxy, then type with the train loop (and the import) going;
# writes NAME.commit (the commit times logged) and NAME.info
phase() {
    local ph=$1 with_import=$2 i u t el s=0 la=0 t0 dur imp="-" st t1
    mkdir -m 777 "$tmp/$ph"
    rm -f "$tmp/stop" "$tmp/import.done"
    for i in $(seq 1 "$L"); do
        u=$((20100 + i))
        tmux -L "$SOCK" new-session -d -s "l$i" -x 120 -y 30 \
            "cd '$tmp' && setpriv --reuid=$u --regid=$u --clear-groups env HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 \
             ZOOSH_LOG='$tmp/$ph/l$i.log' '$Z' label ws --task ring --retire $((L + 1)) --retrain 10 --graphics none"
    done
    for i in $(seq 1 "$L"); do
        for t in $(seq 1 400); do
            tmux -L "$SOCK" capture-pane -p -t "l$i" 2>/dev/null | grep -q "Does the galaxy have a ring" && break
            sleep 0.05
        done
    done
    t0=$(date +%s.%N)
    if [ "$with_import" = 1 ]; then
        ( "$Z" import "$tmp/ws" "$tmp/big.csv" --features "$tmp/big.h5" --threads 2 >"$tmp/import.out" 2>&1
          echo "$(date +%s.%N) $?" >"$tmp/import.done" ) &
        pids+=($!)
    else
        touch "$tmp/import.done"
    fi
    ( n=0; while [ ! -e "$tmp/stop" ]; do "$Z" train "$tmp/ws" --task ring >/dev/null 2>&1 && n=$((n + 1)); sleep 1; done
      echo "$n" >"$tmp/$ph/train.n" ) &
    pids+=($!)
    # typing until DUR seconds have passed and the import has finished (MAXDUR at most)
    while :; do
        el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a }')
        [ "$el" -lt "$DUR" ] || [ ! -e "$tmp/import.done" ] || break
        [ "$el" -lt "$MAXDUR" ] || break
        s=$((s + 1))
        for i in $(seq 1 "$L"); do tmux -L "$SOCK" send-keys -t "l$i" "$((s % 2 + 1))"; done
        [ "$el" -lt 15 ] || [ "$la" != 0 ] || la=$(cut -d' ' -f1 /proc/loadavg)
        sleep "$(awk -v a="$t0" -v b="$(date +%s.%N)" -v s="$s" -v r="$RATE" \
                 'BEGIN { w = a + s * r - b; printf "%.3f", (w > 0 ? w : 0) }')"   # the next tick, not RATE after this one
    done
    [ "$la" != 0 ] || la=$(cut -d' ' -f1 /proc/loadavg)
    dur=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    sleep 1
    for i in $(seq 1 "$L"); do tmux -L "$SOCK" send-keys -t "l$i" q; done
    touch "$tmp/stop"
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
    sleep 1
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    if [ "$with_import" = 1 ] && [ -s "$tmp/import.done" ]; then
        read -r t1 st <"$tmp/import.done"
        imp=$(awk -v a="$t0" -v b="$t1" -v s="$st" 'BEGIN { printf (s == 0 ? "%.1f" : "failed (exit " s ")"), b - a }')
    fi
    cat "$tmp/$ph"/l*.log | grep -o 'answer: commit [0-9.]*' | awk '{print $3}' >"$tmp/$ph.commit" || true
    echo "$dur $la $imp $(cat "$tmp/$ph/train.n" 2>/dev/null || echo 0) $((s * L))" >"$tmp/$ph.info"
}
phase quiet 0
phase import 1
stored=$("$Z" export "$tmp/ws" --format answers 2>/dev/null | tail -n +2 | wc -l)
"$PY" - "$tmp" "$L" "$RATE" "$IMPORT" "$stored" <<'PYEOF'
import sys
d, L, rate, n_imp, stored = sys.argv[1:6]
tot = 0
for ph in ('quiet', 'import'):
    c = sorted(float(l) for l in open('%s/%s.commit' % (d, ph)) if l.strip())
    dur, la, imp, trains, typed = open('%s/%s.info' % (d, ph)).read().split()
    tot += len(c)
    def q(p): return c[min(len(c) - 1, int(p * len(c)))] if c else float('nan')
    what = ("and a %s-galaxy import (thumbnails, 640-d features; %s s)" % (n_imp, imp)) if ph == 'import' else "no import"
    print("load: answer commit (synced), %s labelers typing every %s s for %s s + their background trainers + a train "
          "loop (%s runs), %s: p50 / p99 / max (ms; %d answers of %s keys; load avg %s)\t%.1f / %.1f / %.1f\t-\t-\t-\t-"
          % (L, rate, dur, trains, what, len(c), typed, la, q(0.5), q(0.99), c[-1] if c else float('nan')))
if int(stored) != tot:
    print("load: answers stored (%s) differ from those logged (%d)\t-\t-\t-\t-\t-" % (stored, tot))
PYEOF
