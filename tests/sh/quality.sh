#!/usr/bin/env bash
# quality.sh - tools/quality.sh (make quality, issue 18) in its tiny mode:
# `--quick` runs every part (DECaLS rings, GZ2 ring votes, DECaLS tags, GZ2
# votes RMSE, HSC interest) on ~40 real galaxies each through zoosh's own
# commands, and its table has every row, each with a number in range and its
# noise; the Kaggle conversion of the encoder's per-question votes gives the
# catalog's cumulative fractions back from its per-question ones; an encoder
# without votes leaves the RMSE out with a note; --save / --against pair two
# runs; a missing ../shared/data set, an unknown --only and a missing zoosh are
# refused with a message naming what is missing.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
Q="$ROOT/tools/quality.sh"
for s in decals_rings kaggle_gz2_votes decals_dr5_tagged hsc_anomalies; do
    [ -f "$SHARED/$s/catalog.csv" ] || { skip "no $SHARED/$s"; exit 0; }
done
$PY -c 'import numpy, sklearn' 2>/dev/null || { skip "no python3-sklearn (tools/deps.sh test)"; exit 0; }

check "tools/quality.sh --quick runs every part" "$Q" --quick --zoosh "$Z" --save run.json
cp "$T/last.out" all.out
grep '^| ' all.out > table.md
# every row: set | role | figure | value | noise | time
row() {   # row NAME SET-PATTERN FIGURE-PATTERN LO HI: one row, its value in [LO, HI], a noise
    local n
    n=$(awk -F' [|] ' -v s="$2" -v f="$3" '$1 ~ s && $3 ~ f' table.md | wc -l)
    expect "the table has the row: $1" test "$n" -eq 1
    expect "its value is a number in [$4, $5] with its noise" awk -F' [|] ' -v s="$2" -v f="$3" -v lo="$4" -v hi="$5" '
        $1 ~ s && $3 ~ f { ok = ($4 ~ /^[-+]?[0-9]+\.[0-9]+$/) && $4 + 0 >= lo && $4 + 0 <= hi && $5 ~ /^\+-[0-9.]+ / }
        END { exit !ok }' table.md
}
row "DECaLS rings, zoosh train" "DECaLS rings" "zoosh train" 0.3 1
row "DECaLS rings, probe" "DECaLS rings" "probe on the default set" 0.3 1
row "DECaLS rings, train - probe" "DECaLS rings" "train - probe" -1 1
row "GZ2 ring votes, zoosh train" "GZ2 ring votes" "zoosh train" 0.3 1
row "GZ2 ring votes, probe" "GZ2 ring votes" "probe on the default set" 0.3 1
row "DECaLS tags, zoosh train" "DECaLS DR5 tags" "zoosh train" 0.3 1
row "DECaLS tags, probe" "DECaLS DR5 tags" "probe on the default set" 0.3 1
row "GZ2 RMSE split, encoder" "GZ2 split" "encoder's .votes." 0.01 0.4
row "GZ2 RMSE split, mean predictor" "GZ2 split" "mean predictor" 0.01 0.4
row "GZ2 RMSE ring-vote set, encoder" "GZ2 ring-vote set" "encoder's .votes." 0.01 0.4
row "HSC, interest order precision" "HSC" "top-30 precision.*interest order$" 0 1
row "HSC, random order shown" "HSC" "interesting shown.*random order" 0 20
row "HSC, interest order in another import order" "HSC" "top-30 precision.*import order 2" 0 1
expect "the table has 18 rows and a time for each of the 5 parts" sh -c \
    "test \$(grep -c '' table.md) -eq 19 && test \$(grep -cE '\| [0-9]+ s \|\$' table.md) -eq 5"
expect "the encoder beats the mean predictor on the held-out ring-vote galaxies" awk -F' [|] ' '
    $1 ~ /ring-vote set/ && $3 ~ /encoder/ { e = $4 } $1 ~ /ring-vote set/ && $3 ~ /mean predictor/ { m = $4 }
    END { exit !(e > 0 && e < m) }' table.md
expect "the RMSE split's caveat reads the encoder's metadata: the shipped encoder excludes the 832 (ring-vote + RMSE split)" \
    grep -q "metadata .excluded. = \"832 ids.*split is held out" all.out

# Kaggle's cumulative fractions, from the per-question ones, by the path tools/quality.py multiplies along
$PY - "$ROOT/tools" "$SHARED/kaggle_gz2_votes/catalog.csv" > roundtrip.out 2>&1 <<'PY'
import csv, sys
tools, cat = sys.argv[1], sys.argv[2]
sys.path.insert(0, tools); sys.argv[1:] = []
import numpy as np, quality
rows = list(csv.DictReader(open(cat)))[:500]
cols = [c for c in rows[0] if c.startswith("Class")]
T = np.array([[float(r[c]) for c in cols] for r in rows])
P = np.zeros_like(T)
for q in range(1, 12):
    k = [i for i, c in enumerate(cols) if c.split(".")[0] == "Class%d" % q]
    s = T[:, k].sum(1, keepdims=True)
    P[:, k] = np.where(s > 0, T[:, k] / np.maximum(s, 1e-12), 1.0 / len(k))
err = np.abs(quality.to_kaggle(P, cols) - T).max()
print("max error %.2g over %d columns" % (err, len(cols)))
sys.exit(0 if len(cols) == 37 and err < 1e-4 else 1)
PY
expect "per-question fractions of 500 catalog galaxies turn back into Kaggle's 37 columns ($(cat roundtrip.out))" \
    grep -q "over 37 columns" roundtrip.out

check "an embedding without the encoder's votes (--embed-opts '--method morph')" \
    "$Q" --quick --zoosh "$Z" --only rmse --embed-opts "--method morph"
expect "leaves the RMSE rows out and says why" sh -c \
    "grep -q 'No GZ2 votes RMSE: the encoder .zoosh embed. used predicts no Kaggle votes' '$T/last.out' &&
     ! grep -q '^| GZ2 split' '$T/last.out' && grep -q 'VARIANT: embed --method morph' '$T/last.out'"

mkdir -p part
ln -s "$SHARED/decals_rings" part/decals_rings
check "--only rings runs with the ring set alone, against the first run" \
    env ZT_SHARED="$T/part" "$Q" --quick --zoosh "$Z" --only rings --against run.json
expect "and pairs each row with the first run's (the same build: change +0.000)" sh -c \
    "grep '^| DECaLS rings' '$T/last.out' | grep -q 'zoosh train.*| +0.000 +-0.000 se |\$'"
ZT_SHARED="$T/part" "$Q" --quick --zoosh "$Z" >miss.out 2>&1; st=$?
expect "a missing ../shared/data set: exit 1 ($st), naming each missing catalog" sh -c \
    "test $st -eq 1 && grep -q 'missing data: .*part/decals_dr5_tagged/catalog.csv, .*part/hsc_anomalies/catalog.csv, .*part/kaggle_gz2_votes/catalog.csv' miss.out"
"$Q" --only nonsense >bad.out 2>&1; st=$?
expect "an unknown --only set: exit 2 ($st), naming it" sh -c "test $st -eq 2 && grep -q 'unknown set nonsense' bad.out"
"$Q" --quick --zoosh "$T/nozoosh" --only rings >bad.out 2>&1; st=$?
expect "no zoosh binary: exit 1 ($st), naming the path" sh -c "test $st -eq 1 && grep -q 'no zoosh binary at $T/nozoosh' bad.out"
