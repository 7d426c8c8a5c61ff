#!/usr/bin/env bash
# tests/sh/import.sh - `zoosh import` / `zoosh export` as a user types them:
# help and usage errors, exit codes, a quiet run when stderr is a file and a
# progress bar on a terminal, a Zoobot-style catalog (id_str, file_loc,
# absolute paths, ra/dec) and the exports written with -o.
. "$(dirname "$0")/lib.sh"
RINGS=$SHARED/decals_rings

check "import --help prints the usage" "$Z" import --help
expect "the usage names --skip-bad and --features" grep -q -- "--skip-bad" "$T/last.out"
check "export --help prints the usage" "$Z" export --help
expect "the export usage names the formats" grep -q "predictions" "$T/last.out"

"$Z" import >/dev/null 2>&1; st=$?
expect "import without arguments is a usage error (exit 2)" test "$st" -eq 2
"$Z" import ws "$RINGS/catalog.csv" --bogus >/dev/null 2>&1; st=$?
expect "an unknown option is a usage error (exit 2)" test "$st" -eq 2
"$Z" import nowhere "$RINGS/catalog.csv" >/dev/null 2>err.txt; st=$?
expect "importing into a missing workspace exits 3" test "$st" -eq 3
expect "and says there is no workspace" grep -q "nowhere: no workspace" err.txt

"$Z" init ws >/dev/null 2>&1
"$Z" import ws "$RINGS/catalog.csv" >out.txt 2>err.txt; st=$?
expect "the ring catalog imports (exit 0)" test "$st" -eq 0
expect "the summary counts 200 galaxies and 200 thumbnails" grep -q "imported 200 galaxies.*200 thumbnails" out.txt
expect "nothing goes to stderr when it is not a terminal (no progress bar)" test ! -s err.txt

# on a terminal (script gives the command a pty) a progress bar is drawn
rm -rf ws2; "$Z" init ws2 >/dev/null 2>&1
script -qec "'$Z' import ws2 '$RINGS/catalog.csv' --threads 2" /dev/null >tty.txt 2>&1
expect "a progress bar is drawn on a terminal" grep -q "writing.*\[#*\]" tty.txt

# a Zoobot-style catalog: id_str, file_loc with absolute paths, ra/dec, vote counts
{
    echo "id_str,file_loc,ra,dec,smooth-or-featured_smooth,smooth-or-featured_featured-or-disk,smooth-or-featured_artifact,has-spiral-arms_yes_fraction,survey"
    tail -n +2 "$RINGS/catalog.csv" | head -20 | awk -F, -v d="$RINGS" '{ printf "z%s,%s/%s,%.4f,%.4f,%d,%d,0,0.25,decals\n", $1, d, $2, 10 + NR, -NR, NR, 40 - NR }'
} > zoobot.csv
rm -rf wz; "$Z" init wz >/dev/null 2>&1
check "a Zoobot-style catalog (id_str, file_loc, ra/dec, vote counts) imports" "$Z" import wz zoobot.csv --no-thumbs
expect "its vote columns become priors (3 count columns + 1 fraction)" grep -q "4 prior columns (80 values)" "$T/last.out"

# exports: -o writes a file; standard output otherwise; the same bytes
check "export answers -o writes a file" "$Z" export ws --format answers -o answers.csv
expect "the answers export has its header" grep -qx "seq,time,user,task,kind,id_str,question,answer,rating,retracts,foreign" answers.csv
"$Z" export ws --format answers > answers2.csv 2>/dev/null
expect "standard output gets the same bytes" cmp -s answers.csv answers2.csv
"$Z" export ws --format zoobot -o votes.csv 2>err.txt; st=$?
expect "a zoobot export without answers exits 1, as --help says, and writes no file" test "$st" -eq 1 -a ! -e votes.csv
expect "and says why there is nothing" grep -q "nothing to export: no galaxy has answers for task 'gz-decals'" err.txt
"$Z" export ws --format zoobot -o /nonexistent-dir/v.csv 2>err.txt; st=$?
expect "an unwritable -o path fails with exit 1 and names it" test "$st" -eq 1 -a -n "$(grep nonexistent-dir err.txt)"

# predictions: none before a model, one row per galaxy after `zoosh train`
rm -rf wp; "$Z" init wp --schema ring >/dev/null 2>&1
/usr/bin/python3 - "$RINGS/catalog.csv" > f16.csv <<'PYEOF'
import sys, csv, numpy as np
ids = [r['id'] for r in csv.DictReader(open(sys.argv[1]))]
x = np.random.default_rng(0).standard_normal((len(ids), 16))
print('id_str,' + ','.join('feat_%d' % j for j in range(16)))
for i, r in zip(ids, x): print(i + ',' + ','.join('%.6f' % v for v in r))
PYEOF
check "features from a CSV import next to the catalog" "$Z" import wp "$RINGS/catalog.csv" --no-thumbs --features f16.csv
"$Z" export wp --format predictions --task ring >pred.csv 2>err.txt; st=$?
expect "predictions before any model fail with exit 1 and say so" test "$st" -eq 1 -a -n "$(grep 'no model' err.txt)"
check "the ring head trains on the catalog's ring column" "$Z" train wp --task ring
check "predictions export after training" "$Z" export wp --format predictions --task ring -o pred.csv
expect "one row per galaxy with ring_yes_pred and ring_no_pred (Zoobot's names)" test "$(head -1 pred.csv)" = "id_str,file_loc,ring_yes_pred,ring_no_pred" -a "$(wc -l < pred.csv)" -eq 201
expect "each row's probabilities are in [0, 1] and sum to 1" awk -F, 'NR > 1 && ($3 < 0 || $3 > 1 || ($3 + $4) < 0.999 || ($3 + $4) > 1.001) { bad = 1 } END { exit bad }' pred.csv

# feat_N columns make a set "catalog"; another width later is refused, naming the columns
rm -rf wf; "$Z" init wf >/dev/null 2>&1
img=$(ls "$RINGS"/images/*.png | head -1)
printf 'id,file,feat_0,feat_1\na,%s,1.5,2\n' "$img" > f2.csv
printf 'id,file,feat_0,feat_1,feat_2\nb,%s,1,2,3\n' "$img" > f3.csv
check "feat_N catalog columns import as a feature set" "$Z" import wf f2.csv --no-thumbs
expect "and export back as features (the default set)" test "$("$Z" export wf --format features 2>/dev/null | tail -1)" = "a,1.5,2"
"$Z" import wf f3.csv --no-thumbs >/dev/null 2>err.txt; st=$?
expect "feat_N columns of another width are refused (exit 1) naming file, line and columns" \
    test "$st" -eq 1 -a -n "$(grep 'f3.csv:1: columns feat_0..feat_2: feature dimension 3 differs' err.txt)"

# features to FILE.h5 / FILE.hdf5 are HDF5 in Zoobot's layout, the same ids and values as the CSV export
check "export features -o FILE.hdf5 writes HDF5" "$Z" export wp --format features -o rep.hdf5
expect "and says how many rows" grep -q "200 rows to rep.hdf5" "$T/last.out"
check "export features -o FILE.h5 writes HDF5 too" "$Z" export wp --format features -o rep.h5
"$Z" export wp --format features -o rep.csv 2>/dev/null
cat > same.py <<'PYEOF'
import sys, csv, h5py, numpy as np
rows = list(csv.reader(open(sys.argv[2])))
ids, x = [r[0] for r in rows[1:]], np.array([[float(v) for v in r[1:]] for r in rows[1:]], dtype=np.float32)
for path in sys.argv[1].split(','):
    with h5py.File(path, 'r') as f:
        p = f['predictions'][:]
        assert p.dtype == np.float32 and p.shape == (len(ids), x.shape[1], 1), (path, p.dtype, p.shape)
        assert np.array_equal(p[:, :, 0], x), path + ': values differ from the CSV export'
        assert [s.decode() for s in f['id_str'][:]] == ids, path + ': ids differ'
        assert [s.decode() for s in f['label_cols'][:]] == rows[0][1:], path + ': label_cols differ'
PYEOF
check "the HDF5 exports hold the CSV export's ids and values, bit for bit (h5py)" /usr/bin/python3 same.py rep.hdf5,rep.h5 rep.csv
check "the HDF5 export imports back as features" "$Z" import wp "$RINGS/catalog.csv" --no-thumbs --features rep.hdf5 --features-name back
expect "and exports back as the same CSV" test "$("$Z" export wp --format features --set back 2>/dev/null)" = "$(cat rep.csv)"
