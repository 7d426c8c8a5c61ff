#!/usr/bin/env bash
# tools/bench/store.sh - the answers log: synced commit latency of one
# answer (what a labeler waits for after each key press), 8 labelers
# appending at once, and reading the whole log back.  Peer: the same records
# through Python's sqlite3 with journal_mode=WAL, synchronous=FULL (a durable
# commit per answer), in the same temp folder on the same disk.
# Also the store's share of an import: galaxies + a 640-d feature vector + 3
# priors per row, 1000 rows per transaction, synced once at the end; peer: the
# same rows into sqlite3 (features as a float32 blob), synchronous=OFF, one
# commit per 1000 rows.
# Rows as tools/bench.sh wants.  Env: N (2000 appends), P (8 writers), PN (300
# each), BULK (20000 rows), DIM (640).
set -eu
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
N=${N:-2000} P=${P:-8} PN=${PN:-300} BULK=${BULK:-20000} DIM=${DIM:-640}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoosh-bench-store.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. tools/bench/lib.bash
bench_peer_missing "answers log and store import against sqlite3 (the peer uses numpy)" python3-numpy \
    "$PY" -c 'import sqlite3, numpy' && exit 0
bench_cc "$tmp/store_bench" tools/bench/store_bench.c

read -r z50 z99 zmax <<<"$("$tmp/store_bench" latency "$tmp/lat" "$N")"
zconc=$("$tmp/store_bench" concurrent "$tmp/conc" "$P" "$PN")
read -r zscan zn <<<"$("$tmp/store_bench" scan "$tmp/lat")"
zbulk=$("$tmp/store_bench" bulk "$tmp/bulk" "$BULK" "$DIM")
rm -rf "$tmp/bulk"
sbulk=$("$PY" - "$tmp" "$BULK" "$DIM" <<'PYEOF'
import sqlite3, sys, time, numpy as np
d, n, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(d + '/bulk.sqlite', isolation_level=None)
c.execute('pragma journal_mode=wal'); c.execute('pragma synchronous=off')
c.execute('create table galaxies(gid integer primary key, id_str text unique, file text, ra real, dec real)')
c.execute('create table features(gid integer primary key, v blob)')
c.execute('create table priors(gid integer, col text, value real, primary key(col, gid))')
t0 = time.perf_counter()
d_idx = np.arange(dim)
for s in range(1, n + 1, 1000):
    c.execute('begin')
    for i in range(s, min(s + 1000, n + 1)):
        c.execute('insert into galaxies values (?,?,?,?,?)', (i, 'J%08d' % i, 'images/J%08d.png' % i, i * 1e-3, -i * 1e-3))
        v = (((i * 31 + d_idx) % 97) / 97.0).astype(np.float32)
        c.execute('insert into features values (?,?)', (i, v.tobytes()))
        c.executemany('insert into priors values (?,?,?)', [(i, 'ring', i % 2),
                      (i, 'smooth-or-featured_smooth_fraction', 0.5), (i, 'disk-edge-on_no_fraction', 0.25)])
    c.execute('commit')
c.execute('pragma wal_checkpoint(full)')
print('%.0f' % (n / (time.perf_counter() - t0)))
PYEOF
)

read -r s50 s99 smax sconc sscan <<<"$("$PY" - "$tmp" "$N" "$P" "$PN" <<'PYEOF'
import os, sqlite3, sys, time, struct
d, n, p, pn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
SCHEMA = ('create table answers(seq integer primary key autoincrement, gid integer, time_us integer, '
          'kind integer, rating integer, retracts integer, user text, task text, steps text)')
STEPS = 'smooth-or-featured=featured-or-disk;disk-edge-on=no;has-spiral-arms=yes;merging=none'
def connect(path):
    c = sqlite3.connect(path, isolation_level=None, timeout=60)
    c.execute('pragma journal_mode=wal'); c.execute('pragma synchronous=full')
    return c
def append(c):
    c.execute('begin immediate')
    c.execute('insert into answers(gid,time_us,kind,rating,retracts,user,task,steps) values (1,?,1,0,0,?,?,?)',
              (int(time.time() * 1e6), 'bench', 'gz-decals', STEPS))
    c.execute('commit')
c = connect(d + '/lat.sqlite'); c.execute(SCHEMA)
t = []
for i in range(n):
    t0 = time.perf_counter(); append(c); t.append(time.perf_counter() - t0)
t.sort()
c2 = connect(d + '/conc.sqlite'); c2.execute(SCHEMA); c2.close()
t0 = time.perf_counter()
pids = []
for k in range(p):
    pid = os.fork()
    if pid == 0:
        cc = connect(d + '/conc.sqlite')
        for i in range(pn): append(cc)
        cc.close(); os._exit(0)
    pids.append(pid)
for pid in pids: os.waitpid(pid, 0)
conc = p * pn / (time.perf_counter() - t0)
t0 = time.perf_counter()
rows = c.execute('select * from answers').fetchall()
scan = len(rows) / (time.perf_counter() - t0)
print('%.3f %.3f %.3f %.0f %.0f' % (1e3 * t[n // 2], 1e3 * t[int(n * 0.99)], 1e3 * t[-1], conc, scan))
PYEOF
)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }'; }
peer="sqlite3 WAL sync=FULL"
printf 'answer commit p50 (ms, synced)\t%s\t%s\t%s\t%s\t-\n' "$z50" "$peer" "$s50" "$(ratio "$z50" "$s50")"
printf 'answer commit p99 (ms, synced)\t%s\t%s\t%s\t%s\tp99 < 5 ms\n' "$z99" "$peer" "$s99" "$(ratio "$z99" "$s99")"
printf 'answer commit max (ms, synced)\t%s\t%s\t%s\t%s\t-\n' "$zmax" "$peer" "$smax" "$(ratio "$zmax" "$smax")"
printf 'answers/s, %s writers at once (synced)\t%s\t%s\t%s\t%s\t-\n' "$P" "$zconc" "$peer" "$sconc" "$(ratio "$sconc" "$zconc")"
printf 'import rows/s into the store (%s-d features, %s rows)\t%s\t%s\t%s\t%s\t>= 50000 (whole import)\n' "$DIM" "$BULK" "$zbulk" "sqlite3 WAL sync=OFF" "$sbulk" "$(ratio "$sbulk" "$zbulk")"
printf 'answers/s read back (%s answers)\t%s\t%s\t%s\t%s\t-\n' "$zn" "$zscan" "$peer" "$sscan" "$(ratio "$sscan" "$zscan")"
