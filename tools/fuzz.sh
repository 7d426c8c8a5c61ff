#!/usr/bin/env bash
# tools/fuzz.sh - builds and runs every fuzz target in tests/fuzz/ (make fuzz).
#
#   tools/fuzz.sh                 build, seed and run each target FUZZ_SECONDS (30)
#   tools/fuzz.sh image schema    only those targets
#   FUZZ_SECONDS=300 tools/fuzz.sh safetensors
#   FUZZ_BUILD_ONLY=1 tools/fuzz.sh     build the fuzzers and replay programs only
#
# Each target tests/fuzz/fuzz_NAME.c is compiled with clang
# -fsanitize=fuzzer,address,undefined against the project's core/, store/
# and the parser files of tui/ (compiled again by clang into build-fuzz/obj,
# never the gcc build/), plus a plain replay program build-fuzz/NAME-replay
# (tests/fuzz/fuzz_main.c, ASan/UBSan, no libFuzzer):
#     build-fuzz/image-replay tests/fuzz/regress/image/crash-...
# Seeds: the tiny hand-made files in tests/fuzz/seeds/NAME/ plus files made
# now from ../shared/data samples and Debian's python3 (h5py, numpy); nothing
# of the shared data is copied into the repository.  The growing corpus stays
# in build-fuzz/corpus/NAME/.  Every crash, hang (timeout), out-of-memory or
# leak input found is copied to tests/fuzz/regress/NAME/, which `make test`
# replays (tests/t_fuzzreplay.c).  Runs niced; one target at a time.
# Last line: "fuzz: N targets, E executions, K new regress inputs".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${ZT_SHARED:-$(cd .. && pwd)/shared/data}
S=${FUZZ_SECONDS:-30}
B=build-fuzz
PY=/usr/bin/python3
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -pthread -I. -I/usr/include/libpng16 -I/usr/include/hdf5/serial
  -I/usr/include/sixel -I/usr/include/cjson -I/usr/include/x86_64-linux-gnu/openblas-pthread
  -O1 -g -w"
LIBS="-lpng16 -ldeflate -ljpeg -lcfitsio -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lcsv -lcjson
  -L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas -lz -lm -llmdb -lncursesw -ltinfo -pthread"
ALL_TARGETS=$(ls tests/fuzz/fuzz_*.c | sed 's#.*/fuzz_##; s#\.c$##' | grep -v '^main$')
TARGETS=${*:-$ALL_TARGETS}

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p $B/obj $B/corpus $B/artifacts

# ---- 1. the project's parsers, compiled by clang with coverage + sanitizers
# The parsers live in core/ (+ store/ for the schema's workspace helpers) and
# tui/gfx/term.c, tui/label/keys.c.  A file that does not compile (someone is editing
# it) is skipped with a warning; only targets that need it fail to link.
SRCS="$(ls core/*.c store/*.c) tui/gfx/term.c tui/label/keys.c"
objs=""
for s in $SRCS; do
    o=$B/obj/$(echo "${s%.c}" | tr / _).o
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ core/util.h -nt "$o" ]; then
        nice "$CC" $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$s" -o "$o" 2>$B/obj/err.txt ||
            { echo "fuzz: warning: $s does not compile with clang, skipped:" >&2; head -5 $B/obj/err.txt >&2; rm -f "$o"; continue; }
    fi
    objs="$objs $o"
done
rm -f $B/libzfuzz.a
ar rcs $B/libzfuzz.a $objs

built=""
for t in $TARGETS; do
    src=tests/fuzz/fuzz_$t.c
    [ -f "$src" ] || { echo "fuzz: no target $src" >&2; exit 2; }
    if nice "$CC" $CFLAGS $SAN -fsanitize=fuzzer "$src" $B/libzfuzz.a $LIBS -o $B/fuzz_$t 2>$B/obj/err.txt &&
       nice "$CC" $CFLAGS $SAN "$src" tests/fuzz/fuzz_main.c $B/libzfuzz.a $LIBS -o $B/$t-replay 2>>$B/obj/err.txt; then
        built="$built $t"
    else
        echo "fuzz: warning: target $t does not build:" >&2; head -8 $B/obj/err.txt >&2
    fi
done
echo "fuzz: built:$built"
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# ---- 2. seeds: hand-made ones from the repository, real-data ones made now
seed() {   # seed TARGET: fills build-fuzz/corpus/TARGET (once)
    local t=$1 c=$B/corpus/$1
    mkdir -p "$c"
    [ -d tests/fuzz/seeds/$t ] && cp -n tests/fuzz/seeds/$t/* "$c"/ 2>/dev/null
    [ -f "$c/.made" ] && return
    case $t in
    image)
        # small real cutouts: 96x96 HSC PNGs, DECaLS/SDSS JPEGs (smallest few)
        for f in $(ls -S "$SHARED"/hsc_anomalies/images/*.png 2>/dev/null | tail -3) \
                 $(ls -S "$SHARED"/gz_tutorial/images/*.jp*g 2>/dev/null | tail -3); do
            cp "$f" "$c/real-$(basename "$f")"
        done
        $PY - "$c" <<'PY'
import sys, numpy as np
def card(k, v): return (f"{k:<8}= {v:>20}").ljust(80).encode()
def fits(path, shape, bitpix, data):
    h = card("SIMPLE", "T") + card("BITPIX", str(bitpix)) + card("NAXIS", str(len(shape)))
    for i, n in enumerate(reversed(shape)): h += card(f"NAXIS{i+1}", str(n))
    h += b"END".ljust(80); h = h.ljust((len(h) + 2879) // 2880 * 2880, b" ")
    d = data.astype(">f4" if bitpix == -32 else ">i2").tobytes()
    d = d.ljust((len(d) + 2879) // 2880 * 2880, b"\0")
    open(path, "wb").write(h + d)
r = np.random.default_rng(1)
fits(sys.argv[1] + "/made-grey.fits", (8, 12), -32, r.normal(size=(8, 12)))
fits(sys.argv[1] + "/made-cube.fits", (3, 6, 5), 16, r.integers(0, 900, size=(3, 6, 5)))
PY
        ;;
    catalog)
        for s in decals_rings gz_tutorial hsc_anomalies kaggle_gz2_votes; do
            [ -f "$SHARED/$s/catalog.csv" ] && head -c 3000 "$SHARED/$s/catalog.csv" > "$c/real-$s.csv"
        done ;;
    feat_csv|feat_npy|feat_hdf5)
        $PY - "$c" "$t" <<'PY'
import sys, numpy as np
c, t = sys.argv[1], sys.argv[2]
r = np.random.default_rng(2)
ids = ["J%06d" % i for i in range(4)]
x = r.normal(size=(4, 5, 2)).astype(np.float32)
if t == "feat_csv":
    with open(c + "/made.csv", "w") as f:
        f.write("id_str," + ",".join("feat_%d" % j for j in range(5)) + "\n")
        for i, n in enumerate(ids): f.write(n + "," + ",".join("%.6g" % v for v in x[i, :, 0]) + "\n")
elif t == "feat_npy":
    import io
    for name, a in (("3d-f4", x), ("2d-f8", x[:, :, 0].astype(np.float64)), ("2d-be", x[:, :, 0].astype(">f4"))):
        b = io.BytesIO(); np.save(b, a)
        open(c + "/made-%s.npy" % name, "wb").write(b.getvalue() + b"\nIDS\nid_str\n" + "\n".join(ids).encode() + b"\n")
else:
    import h5py
    with h5py.File(c + "/made-zoobot.h5", "w") as f:
        f["predictions"] = x
        f.create_dataset("id_str", data=ids, dtype=h5py.string_dtype())
        f.create_dataset("label_cols", data=["feat_%d" % j for j in range(5)], dtype=h5py.string_dtype())
    with h5py.File(c + "/made-fixed.h5", "w") as f:
        f["predictions"] = x[:, :, 0].astype(np.float64)
        f["id_str"] = np.array([s.encode() for s in ids], dtype="S8")
PY
        ;;
    safetensors)
        $PY - "$c" <<'PY'
import sys, json, struct, numpy as np
def st(path, tensors, meta=None):
    hdr, off, blob = {}, 0, b""
    if meta: hdr["__metadata__"] = meta
    for name, a, dt in tensors:
        b = a.tobytes(); hdr[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b); blob += b
    j = json.dumps(hdr).encode(); j += b" " * (-len(j) % 8)
    open(path, "wb").write(struct.pack("<Q", len(j)) + j + blob)
r = np.random.default_rng(3)
st(sys.argv[1] + "/made-f32.safetensors", [("stem.0.weight", r.normal(size=(2, 3, 2, 2)).astype("<f4"), "F32"),
   ("stem.0.bias", r.normal(size=(2,)).astype("<f4"), "F32")], {"format": "pt"})
st(sys.argv[1] + "/made-mixed.safetensors", [("a", r.normal(size=(3,)).astype("<f2"), "F16"),
   ("b", r.normal(size=(2, 2)).astype("<f8"), "F64"), ("c", np.arange(4, dtype="<i8"), "I64"),
   ("d", np.array([1, 0], dtype="u1"), "BOOL")])
PY
        ;;
    schema)
        [ -f "$SHARED/decision_trees.txt" ] && head -c 2000 "$SHARED/decision_trees.txt" > "$c/real-trees.txt" ;;
    esac
    touch "$c/.made"
}

# ---- 3. run each target for S seconds; keep what it finds
total_exec=0
new=0
for t in $built; do
    seed "$t"
    a=$B/artifacts/$t
    rm -rf "$a"; mkdir -p "$a"
    log=$B/fuzz_$t.log
    echo "fuzz: $t for ${S}s ($(ls $B/corpus/$t | wc -l) corpus files)"
    # libhdf5 leaks on some damaged files inside itself (unsymbolized
    # stacks, nothing of ours): leaks are not looked for there
    leaks=1; [ "$t" = feat_hdf5 ] && leaks=0
    nice -n 10 timeout -k 5 $((S + 60)) $B/fuzz_$t -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 \
        -detect_leaks=$leaks \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$a/" \
        $B/corpus/$t >"$log" 2>&1
    rc=$?
    ex=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t: exit $rc, ${ex:-?} executions, ${cov:-cov ?}"
    total_exec=$((total_exec + ${ex:-0}))
    for f in "$a"/*; do
        [ -f "$f" ] || continue
        case $(basename "$f") in
        leak-*)   # a leak is not a crash: reported, not replayed
            echo "fuzz: $t LEAK $(basename "$f") (kept in $a; log: $log)"; continue ;;
        esac
        mkdir -p tests/fuzz/regress/$t
        cp "$f" tests/fuzz/regress/$t/ && new=$((new + 1))
        echo "fuzz: $t FOUND $(basename "$f") -> tests/fuzz/regress/$t/ (log: $log)"
        grep -m3 -E 'ERROR: |SUMMARY: |runtime error' "$log" | sed 's/^/fuzz:   /'
    done
done
echo "fuzz: $(echo $built | wc -w) targets, $total_exec executions, $new new regress inputs"
