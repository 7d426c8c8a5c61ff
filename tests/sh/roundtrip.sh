#!/usr/bin/env bash
# roundtrip.sh - the Zoobot round trip as a user walks it (issue 20, "Done
# when"), on 40 real ring galaxies:
#   Zoobot's representation (an HDF5 as Zoobot writes it: predictions
#   [galaxy, 640, 1] float32 and id_str, written with h5py) is imported into a
#   workspace that already has its own sets (morph, pca40), made the default
#   with `zoosh features --use`, and then used, each saying so, by `train`,
#   the labeler's background retrain (`zoosh label` in tmux, a few galaxies
#   answered by keys), `similar` and `simulate`; the labels go back out as the
#   CSV Zoobot's finetuning reads (pandas: id_str, file_loc relative to the
#   catalog's folder, an integer label equal to what was typed); features
#   (no --set: the set in use) and predictions go out as HDF5 and read back
#   with h5py as Zoobot's load_hdf5s does, equal to the CSV exports and the
#   features equal to what was imported.
# The pieces are tested in depth in featsets.sh (feature sets) and zoobot.sh
# (export formats, the gz2 tree, Kaggle); this is the whole path in one place.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
RINGS=$SHARED/decals_rings
[ -f "$RINGS/catalog.csv" ] || { skip "no $RINGS/catalog.csv"; exit 0; }
$PY -c 'import h5py, numpy, pandas' 2>/dev/null || { skip "no python3-h5py / numpy / pandas (tools/deps.sh test)"; exit 0; }
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
export OPENBLAS_NUM_THREADS=1

# ---- a workspace with its own feature sets, as after `zoosh embed`
head -41 "$RINGS/catalog.csv" | sed "s#,images/#,$RINGS/images/#" > cat.csv
check "a ring workspace" "$Z" init ws --schema ring
check "40 real ring galaxies imported" "$Z" import ws cat.csv --threads 2
check "embedded (morph, and its PCA pca40)" "$Z" embed ws --method morph --threads 2 --quiet

# ---- Zoobot's representation, written as Zoobot writes it
$PY - cat.csv rep.h5 <<'PY'
import csv, sys, h5py, numpy as np
ids = [r["id"] for r in csv.DictReader(open(sys.argv[1]))]
rng = np.random.default_rng(20)
x = rng.normal(size=(len(ids), 640, 1)).astype(np.float32)
with h5py.File(sys.argv[2], "w") as f:
    f.create_dataset("predictions", data=x)
    f.create_dataset("id_str", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
PY
check "the representation HDF5 ([40, 640, 1], id_str) is imported" "$Z" import ws cat.csv --features rep.h5 --no-thumbs
expect "... as the 640-d set 'zoobot'" grep -q "40 vectors into feature set 'zoobot' (640-d)" "$T/last.out"
check "zoosh features ws --use zoobot" "$Z" features ws --use zoobot
expect "... makes it the default" grep -q "feature set 'zoobot' is the default now" "$T/last.out"

# ---- every command uses it and says so
check "train (no --features)" "$Z" train ws --task ring
expect "train says it used zoobot" grep -q "(features zoobot)" "$T/last.out"

SOCK="zt-roundtrip-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
LANG=C.UTF-8 tm -u new-session -d -s z -x 120 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/label.log' '$Z' label ws --task ring --retrain 3 --graphics none"
if tm_wait z "Does the galaxy have a ring?" 20; then
    for k in 1 2 2 1 2 1; do tm send-keys -t z $k; sleep 0.3; done
    expect "6 answers typed" tm_wait z "session 6 " 10
    expect "the labeler's retrain says it used zoobot" tm_wait z "(features zoobot)" 20
    tm send-keys -t z q
    for i in $(seq 1 40); do tm has-session -t z 2>/dev/null || break; sleep 0.1; done
else
    fail "the labeler shows the ring question" "$(tm capture-pane -p -t z | tail -3)"
fi
tm kill-server 2>/dev/null
expect "its log names zoobot for the retrain" grep -q "retrain done: .*features zoobot" label.log
expect "the model the labeler stored is on zoobot (zoosh stats)" \
    sh -c "'$Z' stats ws | grep -qE '^ring +[0-9]+ +[0-9]{4}-.* zoobot\$'"

ID=$(sed -n 2p cat.csv | cut -d, -f1)
check "similar (no --set)" "$Z" similar ws "$ID" -k 3
expect "similar searched zoobot" grep -q "^# 3 nearest to $ID in 'zoobot'" "$T/last.out"
check "simulate (no --features)" "$Z" simulate ws --task ring --oracle ring --budget 20 --batch 10
expect "simulate says it used zoobot (640-d)" grep -q "features zoobot (640-d)" "$T/last.out"

# ---- labels back to Zoobot's finetuning
check "the answers export (the raw log)" "$Z" export ws --format answers -o answers.csv
check "labels exported relative to the catalog's folder" \
    "$Z" export ws --format labels --task ring --relative-to "$RINGS" -o labels.csv
cat > finetune.py <<'PY'
# what Zoobot's finetuning takes: id_str, file_loc (found under the root), an integer label
import os, sys, pandas as pd
root = sys.argv[1]
df = pd.read_csv('labels.csv')
assert list(df.columns[:3]) == ['id_str', 'file_loc', 'ring'], list(df.columns)
assert str(df['ring'].dtype) == 'int64' and set(df['ring']) <= {0, 1}, df['ring']
for loc in df['file_loc']:
    assert not os.path.isabs(loc) and '..' not in loc, loc
    assert os.path.isfile(os.path.join(root, loc)), loc
log = pd.read_csv('answers.csv')
assert list(log['foreign']) == [0] * len(log), 'a record of the labeler marked foreign'
typed = {i: 1 if a == 'yes' else 0 for i, a in zip(log['id_str'], log['answer'])}
assert len(typed) == 6 == len(df), (len(typed), len(df))
assert dict(zip(df['id_str'], df['ring'])) == typed, 'labels differ from the answers typed'
print('ok', len(df), 'labels,', sum(df['ring']), 'rings')
PY
check "pandas reads back 6 integer labels equal to the keys typed, file_loc under the catalog's folder" \
    $PY finetune.py "$RINGS"

# ---- features and predictions as Zoobot's HDF5, equal to the CSV
check "features (no --set) as HDF5" "$Z" export ws --format features -o feat.h5
expect "... of the set in use, zoobot" grep -q "feature set 'zoobot' (the one commands use" "$T/last.out"
check "features (no --set) as CSV" "$Z" export ws --format features -o feat.csv
check "predictions as HDF5" "$Z" export ws --format predictions --task ring -o pred.hdf5
check "predictions as CSV" "$Z" export ws --format predictions --task ring -o pred.csv
cat > readback.py <<'PY'
# reads an HDF5 as Zoobot's load_hdf5s does; compares it with the CSV export
# (and, for features, with the representation imported)
import sys, h5py, numpy as np, pandas as pd
def load(path):
    with h5py.File(path, 'r') as f:
        return f['predictions'][:], list(f['id_str'].asstr()[:]), list(f['label_cols'].asstr()[:])
x, ids, cols = load(sys.argv[1])
df = pd.read_csv(sys.argv[2], dtype={'id_str': str})
assert x.ndim == 3 and x.shape[2] == 1 and x.shape[0] == len(df) == 40, x.shape
assert ids == list(df['id_str']), 'ids differ'
if sys.argv[3] == 'features':
    assert cols == ['feat_%d' % j for j in range(640)], cols[:3]
    y = df[cols].to_numpy(dtype=np.float32)
    rx, rids, _ = (lambda f: (f['predictions'][:], list(f['id_str'].asstr()[:]), 0))(h5py.File('rep.h5', 'r'))
    assert rids == ids and np.array_equal(rx, x), 'not the representation imported'
else:
    assert list(df.columns) == ['id_str', 'file_loc'] + [c + '_pred' for c in cols], list(df.columns)
    y = df[[c + '_pred' for c in cols]].to_numpy(dtype=np.float32)
assert np.array_equal(x[:, :, 0], y), 'values differ from the CSV'
print('ok', sys.argv[3], x.shape)
PY
check "the features HDF5 reads back equal to the CSV and to the imported representation" \
    $PY readback.py feat.h5 feat.csv features
check "the predictions HDF5 reads back equal to the CSV" $PY readback.py pred.hdf5 pred.csv predictions
check "the workspace checks clean" "$Z" check ws
