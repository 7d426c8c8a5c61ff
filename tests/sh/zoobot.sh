#!/usr/bin/env bash
# tests/sh/zoobot.sh - the Zoobot round trip on real data, a few dozen rows:
# the Kaggle GZ2 catalog imported as gz2 votes and used by train; the gz2
# tree's columns as Zoobot's GZ2 schema names them; predictions and features
# exported as Zoobot's HDF5 and read back the way Zoobot's load_hdf5s does
# (h5py), equal to the CSV; labels of a three-answer task as integers with a
# legend file, the catalog's labels added by --with-priors, file_loc relative
# and normalised, read back with pandas into the columns Zoobot's finetuning
# takes (id_str, file_loc, an integer label); and the exit codes --help promises.
. "$(dirname "$0")/lib.sh"
KAG=$SHARED/kaggle_gz2_votes
RINGS=$SHARED/decals_rings
export OPENBLAS_NUM_THREADS=1

# ---- the Kaggle catalog into a gz2 workspace (40 galaxies)
head -41 "$KAG/catalog.csv" > kag.csv
"$Z" init wg --schema gz2 >/dev/null 2>&1
check "the Kaggle GZ2 catalog imports into a gz2 workspace" "$Z" import wg kag.csv --root "$KAG"
expect "... its 37 ClassN.M columns become prior columns" grep -q "37 prior columns (" "$T/last.out"
expect "... and it says they were cumulative and are now per-question gz2 fractions" \
    grep -q "cumulative fractions) stored as per-question gz2 fractions" "$T/last.out"
check "stats of the gz2 workspace" "$Z" stats wg
expect "... gz2 starts from the catalog's prior columns" grep -q "gz2 .*starts from the catalog's prior columns" "$T/last.out"
expect "... named as Zoobot's gz2 columns" grep -q "bulge-size-gz2_just-noticeable_fraction" "$T/last.out"
# (the per-question values themselves are checked in tests/t_import.c)
"$Z" embed wg --quiet >/dev/null 2>&1
check "train --task gz2 trains on the catalog's priors" "$Z" train wg --task gz2
expect "... on all 40 galaxies" grep -q "trained on 40 " "$T/last.out"

# ---- predictions: CSV (<answer>_pred, Zoobot's gz2 columns in order) and HDF5
check "predictions export as CSV" "$Z" export wg --format predictions --task gz2 -o pred.csv
check "predictions export as HDF5 by extension" "$Z" export wg --format predictions --task gz2 -o pred.hdf5
expect "... and says so" grep -q "40 rows to pred.hdf5 (HDF5)" "$T/last.out"
check "predictions export as HDF5 with --hdf5 whatever the name" "$Z" export wg --format predictions --task gz2 --hdf5 -o pred.bin
check "features export as HDF5 with --hdf5" "$Z" export wg --format features --set convnext --hdf5 -o feat.bin
"$Z" export wg --format features --set convnext -o feat.csv 2>/dev/null
cat > zoobot_load.py <<'PYEOF'
# reads an HDF5 as Zoobot's load_predictions.load_hdf5s does and compares it with the CSV export
import sys, h5py, numpy as np, pandas as pd
h5, csv, kind = sys.argv[1], sys.argv[2], sys.argv[3]
with h5py.File(h5, 'r') as f:
    predictions = f['predictions'][:]
    id_str = list(f['id_str'].asstr()[:])
    label_cols = list(f['label_cols'].asstr()[:])
df = pd.read_csv(csv, dtype={'id_str': str})
assert predictions.ndim == 3 and predictions.shape[2] == 1, predictions.shape
assert predictions.shape[0] == len(df) == len(id_str), (predictions.shape, len(df))
assert id_str == list(df['id_str']), 'ids differ'
if kind == 'pred':
    gz2 = {'smooth-or-featured-gz2': ['_smooth', '_featured-or-disk', '_artifact'],
           'disk-edge-on-gz2': ['_yes', '_no'], 'has-spiral-arms-gz2': ['_yes', '_no'], 'bar-gz2': ['_yes', '_no'],
           'bulge-size-gz2': ['_dominant', '_obvious', '_just-noticeable', '_no'], 'something-odd-gz2': ['_yes', '_no'],
           'how-rounded-gz2': ['_round', '_in-between', '_cigar'], 'bulge-shape-gz2': ['_round', '_boxy', '_no-bulge'],
           'spiral-winding-gz2': ['_tight', '_medium', '_loose'],
           'spiral-arm-count-gz2': ['_1', '_2', '_3', '_4', '_more-than-4', '_cant-tell']}
    zoobot_cols = [q + a for q, ans in gz2.items() for a in ans]
    assert label_cols == zoobot_cols, ('label_cols are not Zoobot gz2_ortho label_cols', label_cols)
    assert list(df.columns) == ['id_str', 'file_loc'] + [c + '_pred' for c in zoobot_cols], list(df.columns)
    x = df[[c + '_pred' for c in label_cols]].to_numpy(dtype=np.float32)
    assert np.array_equal(predictions[:, :, 0], x), 'values differ from the CSV'
else:
    assert label_cols == ['feat_%d' % j for j in range(predictions.shape[1])]
    x = df[label_cols].to_numpy(dtype=np.float32)
    assert np.array_equal(predictions[:, :, 0], x), 'values differ from the CSV'
print('ok', kind, predictions.shape)
PYEOF
check "the predictions HDF5 reads back as Zoobot reads it: Zoobot's gz2 label_cols, the CSV's numbers bit for bit" \
    /usr/bin/python3 zoobot_load.py pred.hdf5 pred.csv pred
check "... the --hdf5 one too" /usr/bin/python3 zoobot_load.py pred.bin pred.csv pred
check "the features HDF5 (--hdf5) holds the CSV export's ids and values, bit for bit" \
    /usr/bin/python3 zoobot_load.py feat.bin feat.csv feat
"$Z" export wg --format zoobot --task gz2 -o none.csv >/dev/null 2>err.txt; st=$?
expect "export --format zoobot of a task nobody answered exits 1, as --help says" test "$st" -eq 1 -a ! -e none.csv
expect "... saying there is nothing to export" grep -q "nothing to export" err.txt
"$Z" export wg --format labels --task ring >/dev/null 2>&1; st=$?
expect "export --format labels with no label exits 1 too" test "$st" -eq 1

# ---- labels of a three-answer task: integers, a legend file, --with-priors, --relative-to
cat > morph.txt <<'EOF'
task morph
question kind "What kind of galaxy?"
  answer elliptical "Elliptical"
  answer spiral "Spiral"
  answer merger "Merger"
EOF
"$Z" init wm --schema morph.txt >/dev/null 2>&1
# vote counts for 24 ring galaxies (the catalog's labels), 6 more without; file paths with ./ and //
/usr/bin/python3 - "$RINGS/catalog.csv" > morph.csv <<'PYEOF'
import sys, csv
rows = list(csv.DictReader(open(sys.argv[1])))[:30]
print('id,file,kind_elliptical,kind_spiral,kind_merger')
for i, r in enumerate(rows):
    votes = [(5, 1, 0), (0, 7, 2), (1, 1, 6)][i % 3] if i < 24 else ('', '', '')
    print('%s,./images//%s,%s,%s,%s' % ((r['id'], r['file'].split('/')[-1]) + tuple(votes)))
PYEOF
check "a catalog of vote counts for a three-answer task imports" "$Z" import wm morph.csv --root "$RINGS/." --no-thumbs
"$Z" export wm --format labels --task morph -o lab.csv >/dev/null 2>&1; st=$?
expect "labels of a task nobody answered exit 1" test "$st" -eq 1 -a ! -e lab.csv
check "labels --with-priors export the catalog's labels" \
    "$Z" export wm --format labels --task morph --with-priors --relative-to "$RINGS/images/../" -o lab.csv
expect "... 24 rows, marked as the catalog's" grep -q "24 of them from the catalog" "$T/last.out"
expect "... the legend goes to lab.legend.csv and is said" grep -q "legend (0 = elliptical, 1 = spiral, 2 = merger) to lab.legend.csv" "$T/last.out"
cat > finetune_read.py <<'PYEOF'
# the columns Zoobot's finetuning takes: id_str, file_loc and an integer label 0..N-1
import sys, os, pandas as pd
root = sys.argv[1]
df = pd.read_csv('lab.csv')
legend = pd.read_csv('lab.legend.csv')
assert list(df.columns) == ['id_str', 'file_loc', 'morph', 'source'], list(df.columns)
assert str(df['morph'].dtype) == 'int64', df['morph'].dtype
assert list(legend['morph']) == [0, 1, 2] and list(legend['answer']) == ['elliptical', 'spiral', 'merger'], legend
assert len(df) == 24 and set(df['source']) == {'catalog'}, (len(df), set(df['source']))
cat = pd.read_csv('morph.csv')
want = dict(zip(cat['id'], [[0, 1, 2][i % 3] for i in range(len(cat))]))
assert all(want[i] == m for i, m in zip(df['id_str'], df['morph'])), 'labels differ from the catalog majority'
for loc in df['file_loc']:
    assert loc.startswith('images/') and '//' not in loc and '..' not in loc and '/./' not in loc, loc
    assert os.path.isfile(os.path.join(root, loc)), loc
print('ok', len(df))
PYEOF
check "read back with pandas: id_str, file_loc relative to --relative-to, integer labels, the legend" \
    /usr/bin/python3 finetune_read.py "$RINGS"
check "without --relative-to file_loc is absolute and normalised" "$Z" export wm --format labels --task morph --with-priors -o abs.csv
expect "... no '//', '/./' or '..'" sh -c "cut -d, -f2 abs.csv | tail -n +2 | grep -v '//\|/\./\|\.\.' | grep -c '^/' | grep -qx 24"
"$Z" export wm --format labels --task morph --with-priors --relative-to /nonexistent -o rel.csv >/dev/null 2>err.txt; st=$?
expect "--relative-to a folder the images are not under exits 1 naming it" test "$st" -eq 1 -a ! -e rel.csv
expect "... and says why" grep -q "is not under --relative-to /nonexistent" err.txt

# ---- gz-decals with Zoobot's -dr5 / -dr8 keys; options that do not fit are refused
"$Z" init wd >/dev/null 2>&1
"$Z" export wd --format zoobot --suffix dr5 >/dev/null 2>err.txt; st=$?
expect "--suffix dr5 is accepted for gz-decals (nothing to export here: 1)" test "$st" -eq 1 -a -n "$(grep 'nothing to export' err.txt)"
"$Z" export wg --format zoobot --task gz2 --suffix dr5 >/dev/null 2>err.txt; st=$?
expect "--suffix for another task is refused (1), saying why" test "$st" -eq 1 -a -n "$(grep 'suffix is for the gz-decals task' err.txt)"
"$Z" export wg --format answers --hdf5 >/dev/null 2>err.txt; st=$?
expect "--hdf5 for --format answers is refused (1)" test "$st" -eq 1 -a -n "$(grep 'hdf5 is for' err.txt)"
"$Z" export wg --format zoobot --task gz2 --with-priors >/dev/null 2>err.txt; st=$?
expect "--with-priors for --format zoobot is refused (1)" test "$st" -eq 1 -a -n "$(grep 'with-priors goes with --format labels' err.txt)"
check "export --help names the new options" "$Z" export --help
expect "... --hdf5, --relative-to, --with-priors, --suffix and the legend file" \
    sh -c "grep -q -- '--hdf5' '$T/last.out' && grep -q -- '--relative-to DIR' '$T/last.out' && grep -q -- '--with-priors' '$T/last.out' && grep -q -- '--suffix dr5|dr8' '$T/last.out' && grep -q 'FILE.legend.csv' '$T/last.out'"
