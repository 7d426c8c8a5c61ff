#!/usr/bin/env bash
# tests/sh/embed.sh - `zoosh embed` and `zoosh similar` on the real DECaLS
# ring cutouts, through the real binary and a real workspace; and the ring
# probe report computes its numbers.
. "$(dirname "$0")/lib.sh"
CAT=$SHARED/decals_rings/catalog.csv
if [ ! -f "$CAT" ]; then skip "ring catalog" "no $CAT"; echo "0 passed, 0 failed"; exit 0; fi

check "embed --help prints the usage" $Z embed --help
expect "the usage names the morph method" grep -q -- "--method morph" "$T/last.out"
check "similar --help prints the usage" $Z similar --help

check_fails "embed on a missing workspace fails" $Z embed "$T/nope"
expect "... with the workspace exit status 3" test "$($Z embed "$T/nope" >/dev/null 2>&1; echo $?)" = 3

check "a workspace of the 200 ring galaxies is imported" sh -c "$Z init ws >/dev/null && $Z import ws '$CAT' >/dev/null"
check_fails "similar before any embed fails" $Z similar ws J005321.49-025122.0
expect "... saying to run zoosh embed" grep -q "zoosh embed" "$T/last.out"

cp -r ws fresh
t0=$(date +%s%N)
check "embed computes morphology features for every galaxy" $Z embed ws --quiet
embed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "... 200 of them" grep -q "embedded 200 galaxies into feature set 'morph'" "$T/last.out"
if [ -f "$ROOT/sample_data/encoder.safetensors" ]; then
    expect "... and, by default, zoosh's encoder's too" \
        grep -q "embedded 200 galaxies into feature set 'convnext' (.*sample_data/encoder.safetensors at 64 px" "$T/last.out"
    expect "... the vote fractions its head predicts" \
        grep -q "predicted vote fractions into feature set 'votes' (37 answers, 200 galaxies)" "$T/last.out"
    expect "... the three combined as the workspace default" \
        grep -q "combined morph,convnext,votes into feature set 'morph+convnext+votes' (200 galaxies; the workspace default now)" "$T/last.out"
    expect "... whose 40-component PCA balances the blocks" \
        grep -q "feature set 'pca40' (pca 40 of morph+convnext+votes (standardised, blocks balanced" "$T/last.out"
    check "the combined set exports" $Z export ws --format features --set morph+convnext+votes -o comb.csv
    check "the encoder's set exports" $Z export ws --format features --set convnext -o cnx.csv
    check "the votes set exports" $Z export ws --format features --set votes -o votes.csv
    ncnx=$(head -1 cnx.csv | tr ',' '\n' | grep -c '^feat_')
    expect "... 270 + the encoder's + 37 columns" test "$(head -1 comb.csv | tr ',' '\n' | grep -c '^feat_')" -eq $((270 + ncnx + 37))
    $Z export ws --format features --set morph -o m0.csv >/dev/null 2>&1
    expect "... and each combined row is the morph row, the convnext row, the votes row" sh -c \
        "paste -d, m0.csv cnx.csv votes.csv | cut -d, -f1-271,273-$((272 + ncnx)),$((274 + ncnx))- | tail -n +2 | sed 's/^[^,]*,//' > want.txt &&
         tail -n +2 comb.csv | sed 's/^[^,]*,//' > got.txt && cmp -s want.txt got.txt"
    # Class1.1..1.3 are feat_0..2 (fields 2..4), Class8.1..8.7 feat_18..24 (fields 20..26)
    expect "... every galaxy's predicted fractions of a question sum to 1" awk -F, \
        'NR > 1 { a = $2 + $3 + $4; b = 0; for (i = 20; i <= 26; i++) b += $i
                  if (a < 0.999 || a > 1.001 || b < 0.999 || b > 1.001) bad++ }
         END { exit bad > 0 || NR != 201 }' votes.csv
    expect "... and the predicted ring fraction (Class8.1) ranks the rings first (AUC above 0.6, no labels used)" \
        awk -F, 'FNR == 1 { f++; next }
                 f == 1 { ring[$1] = $3; next }
                 { if (ring[$1]) p[np++] = $20; else q[nq++] = $20 }
                 END { for (i = 0; i < np; i++) for (j = 0; j < nq; j++) w += (p[i] > q[j]) + 0.5 * (p[i] == q[j])
                       auc = w / (np * nq); print "zero-shot ring AUC", auc; exit !(np > 50 && nq > 50 && auc > 0.6) }' \
        "$CAT" votes.csv
    # a ring task started from the encoder's predicted ring fraction: a
    # catalog without its ring column, so nothing else can rank the rings
    cut -d, -f1,2 "$CAT" > noring.csv
    check "a ring workspace without the ring labels" sh -c \
        "$Z init wsr --schema ring >/dev/null && $Z import wsr noring.csv --root '$SHARED/decals_rings' >/dev/null && $Z embed wsr --quiet >/dev/null"
    # AUC of `zoosh rank` scores (id<TAB>score on stdin) against the catalog's ring labels
    rank_auc() {
        awk -F'\t' 'NR == FNR { split($0, f, ","); if (FNR > 1) ring[f[1]] = f[3]; next }
                    { if (ring[$1] == 1) p[np++] = $2; else q[nq++] = $2 }
                    END { for (i = 0; i < np; i++) for (j = 0; j < nq; j++) w += (p[i] > q[j]) + 0.5 * (p[i] == q[j])
                          printf "%.3f\n", np && nq ? w / (np * nq) : 0 }' "$CAT" -
    }
    check "embed alone starts the ring task from the ring fraction the encoder predicts" $Z stats wsr
    expect "... stats says so, for all 200 galaxies" grep -q "ring .*starts from votes:Class8.1 (200 galaxies)" "$T/last.out"
    expect "... and stores no prior columns (they are read from the votes at each training)" grep -q "^priors      0 columns" "$T/last.out"
    check "with no answer at all the likely queue can be ranked" $Z rank wsr --task ring --order likely --top 200
    a_prior=$(rank_auc < "$T/last.out")
    expect "... and ranks the rings first (AUC $a_prior above 0.70, as the README says, no labels used)" awk -v a="$a_prior" 'BEGIN { exit !(a > 0.70) }'
    check "train --prior-from none turns it off" $Z train wsr --task ring --prior-from none
    expect "... saying so" grep -q "task ring: no prior column from now on" "$T/last.out"
    $Z stats wsr > st.txt 2>&1
    expect "... stats no longer names a starting point" sh -c "! grep -q 'starts from' st.txt"
    a_none=$($Z rank wsr --task ring --order likely --top 200 | rank_auc)
    expect "... and the likely queue ranks the rings no better than chance (AUC $a_none, against $a_prior)" \
        awk -v a="$a_none" -v b="$a_prior" 'BEGIN { exit !(a < 0.6 && a < b - 0.1) }'
    check "train --prior-from votes:Class8.1 turns it on again" $Z train wsr --task ring --prior-from votes:Class8.1
    expect "... for all 200 galaxies" grep -q "task ring: priors from votes:Class8.1 for 200 galaxies" "$T/last.out"
    expect "... the model is the head fitted to them, with no self-scored metric" sh -c \
        "grep -q \"trained on 200 galaxies' priors, no answers yet\" '$T/last.out' && grep -q 'held-out metric: none (a head fitted to the priors' '$T/last.out'"
    check "a labelled catalog's priors win over the encoder's" sh -c \
        "$Z init wsl --schema ring >/dev/null && $Z import wsl '$CAT' >/dev/null && $Z embed wsl --quiet >/dev/null && $Z stats wsl"
    expect "... stats names the catalog's columns" grep -q "ring .*starts from the catalog's prior columns" "$T/last.out"
    check "a gz2 workspace of the same cutouts, embedded" sh -c \
        "$Z init wsg --schema gz2 >/dev/null && $Z import wsg noring.csv --root '$SHARED/decals_rings' >/dev/null && $Z embed wsg --quiet >/dev/null && $Z stats wsg"
    expect "... the gz2 tree starts from the votes the encoder predicts (its 30 of the 37)" grep -q "gz2 .*starts from votes (200 galaxies)" "$T/last.out"
    check "... and trains its first head on them, before any answer" $Z train wsg --task gz2
    expect "... saying so" grep -q "trained on 200 galaxies' priors, no answers yet" "$T/last.out"
    check "... whose predictions export" $Z export wsg --format predictions --task gz2 -o gz2pred.csv
    $Z export wsg --format features --set votes -o gz2votes.csv >/dev/null 2>&1
    # smooth (gz2 column 0, Class1.1 = feat_0) and spiral (gz2 column 5,
    # has-spiral-arms-gz2_yes = Class4.1 = feat_7) as predicted by the head and by the encoder
    expect "... and follow the encoder's votes (correlation above 0.9 for smooth and for spiral)" \
        awk -F, 'FNR == 1 { f++; next }
                 f == 1 { a[$1] = $3; b[$1] = $8; next }
                 ($1 in a) { n++; x = a[$1]; y = $2; sx += x; sy += y; sxx += x*x; syy += y*y; sxy += x*y
                             u = b[$1]; v = $9; su += u; sv += v; suu += u*u; svv += v*v; suv += u*v }
                 END { r1 = (n*sxy - sx*sy) / sqrt((n*sxx - sx*sx) * (n*syy - sy*sy))
                       r2 = (n*suv - su*sv) / sqrt((n*suu - su*su) * (n*svv - sv*sv))
                       print "smooth r", r1, "spiral r", r2; exit !(n == 200 && r1 > 0.9 && r2 > 0.9) }' gz2pred.csv gz2votes.csv
    expect "--prior-from a whole set for a task with fewer answers fails (1), saying how many" sh -c \
        "$Z train wsr --task ring --prior-from votes 2>err.txt; test \$? = 1 && grep -q \"'votes' has 37 columns, task 'ring' 2 answers\" err.txt"
    expect "--prior-from a column that is not there fails (1), naming it" sh -c \
        "$Z train wsr --task ring --prior-from votes:Class99.1 2>err.txt; test \$? = 1 && grep -q \"no column 'Class99.1'\" err.txt"
    expect "--prior-from without SET:COLUMN fails (1)" sh -c "$Z train wsr --task ring --prior-from votes >/dev/null 2>&1; test \$? = 1"
    expect "--prior-from for a task of many questions fails (1), saying why" sh -c \
        "$Z train ws --task gz-decals --prior-from votes:Class8.1 2>err.txt; test \$? = 1 && grep -q 'not one yes/no question' err.txt"
    check "simulate --prior-from replays a session started from it" \
        $Z simulate ws --task ring --oracle ring --budget 30 --order mixed --prior-from votes:Class8.1
    expect "... a curve of 3 points" test "$(grep -cE '^[0-9]+	' "$T/last.out")" -eq 3
else
    expect "... and fits a 40-component PCA" grep -q "feature set 'pca40'" "$T/last.out"
fi
check "a second workspace of the same galaxies" sh -c "$Z init ws2 >/dev/null && $Z import ws2 '$CAT' >/dev/null"
check "ZOOSH_ENCODER=none embeds the morphology features only" env ZOOSH_ENCODER=none $Z embed ws2 --quiet
expect "... saying so" grep -q "no default encoder (ZOOSH_ENCODER=none): morphology features only" "$T/last.out"
expect "... with the PCA of morph as pca40" grep -q "feature set 'pca40' (pca 40 of morph (standardised, morph blocks balanced" "$T/last.out"
expect "... and no encoder set" sh -c "! grep -q convnext '$T/last.out'"
expect "a default encoder that does not load is an error (1)" \
    test "$(echo junk > junk.safetensors; ZOOSH_ENCODER=junk.safetensors $Z embed ws2 --quiet >/dev/null 2>&1; echo $?)" = 1
expect "--combine wants two sets (usage, 2)" test "$($Z embed ws2 --combine morph >/dev/null 2>&1; echo $?)" = 2
expect "--combine is not for --method (usage, 2)" test "$($Z embed ws2 --combine morph,pca40 --method morph >/dev/null 2>&1; echo $?)" = 2
expect "--combine of a set that is not there fails (1)" test "$($Z embed ws2 --combine morph,nosuch >/dev/null 2>&1; echo $?)" = 1
check "--combine joins two stored sets" $Z embed ws2 --combine morph,pca40 --set mp --pca 10
expect "... into the named set, which becomes the default, with its PCA" \
    sh -c "grep -q \"combined morph,pca40 into feature set 'mp' (200 galaxies\" '$T/last.out' && grep -q \"feature set 'pca10' (pca 10 of mp (standardised, blocks balanced\" '$T/last.out'"
# A very wide set (100,000 features of 100 galaxies, a .npy): its PCA goes
# through the 100 x 100 Gram matrix, never a 100,000^2 covariance (80 GB).
cp -r ws2 wide
/usr/bin/python3 - <<'PY'
import array, random, struct
n, d = 100, 100000
rng = random.Random(5)
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d)
hdr += ' ' * (63 - (10 + len(hdr)) % 64) + '\n'
base = array.array('f', [rng.gauss(0, 1) for _ in range(d)])
with open('big.npy', 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode())
    for i in range(n):
        a = array.array('f', base)
        for j in range(i % 7, d, 97): a[j] += rng.gauss(0, 1)
        f.write(a.tobytes())
PY
tail -n +2 "$CAT" | head -100 | cut -d, -f1 > big.ids
check "a 100,000-feature set is imported" $Z import wide "$CAT" --thumbs none --features big.npy --ids big.ids --features-name big
ZOOSH_MEM_MB=100 $Z embed wide --combine big,morph --set tight --pca 40 > tight.out 2>&1; st=$?
expect "with too little memory for its PCA (100 MB), --combine --pca exits 1 ($st) and says so" \
    sh -c "test $st -eq 1 && grep -q 'needs about' tight.out"
expect "... before anything changed: no combined set" \
    sh -c "! $Z stats wide | grep -q tight && ! $Z export wide --format features --set tight -o /dev/null 2>/dev/null"
check "embed --combine big,morph --pca 40 fits a PCA of 100,270 features" $Z embed wide --combine big,morph --pca 40
expect "... into pca40" grep -q "feature set 'pca40' (pca 40 of big+morph" "$T/last.out"
check "the features export as 200 rows" $Z export ws --format features --set morph -o morph.csv
expect "... with a header and 200 lines" test "$(wc -l < morph.csv)" -eq 201
ndim=$(head -1 morph.csv | tr ',' '\n' | grep -c '^feat_')
expect "... of more than 100 features each" test "$ndim" -gt 100
expect "no feature is NaN or infinite" sh -c "! grep -qiE 'nan|inf' morph.csv"
check "the PCA set exports too" $Z export ws --format features --set pca40 -o pca.csv
expect "... with 40 columns" test "$(head -1 pca.csv | tr ',' '\n' | grep -c '^feat_')" -eq 40

check "embedding again is idempotent" $Z embed ws --quiet
$Z export ws --format features --set morph -o morph2.csv >/dev/null 2>&1
expect "... same 200 vectors, same values" cmp -s morph.csv morph2.csv

check "embed --new-only skips galaxies that have a vector" $Z embed ws --new-only --pca 0 --quiet
expect "... all 200 of them" grep -q "200 galaxies already had a vector in 'morph'" "$T/last.out"

Q=J005321.49-025122.0
check "similar prints the nearest galaxies" $Z similar ws $Q -k 8
cp "$T/last.out" sim.out
expect "... 8 of them after a header line" test "$(grep -vc '^#' sim.out)" -eq 8
expect "... never the query itself" sh -c "! grep -q '^$Q' sim.out"
expect "... each with an id, a distance and the image file" \
    sh -c "grep -v '^#' sim.out | awk -F'\t' 'NF!=3 || \$2<0 || \$3 !~ /\\.png\$/ {bad=1} END {exit bad}'"
expect "... sorted by distance" sh -c "grep -v '^#' sim.out | cut -f2 | sort -g -c"
check "similar searches another set with cosine distance" $Z similar ws $Q -k 3 --set morph --metric cosine
expect "... 3 lines, distances within [0, 2]" \
    sh -c "grep -v '^#' '$T/last.out' | awk -F'\t' '\$2<0 || \$2>2 {bad=1} END {exit bad || NR!=3}'"
check_fails "an unknown galaxy id fails" $Z similar ws NO-SUCH-GALAXY
expect "... naming the id" grep -q "no galaxy with id 'NO-SUCH-GALAXY'" "$T/last.out"
expect "... with exit status 1" test "$($Z similar ws NO-SUCH-GALAXY >/dev/null 2>&1; echo $?)" = 1
check_fails "an unknown feature set fails" $Z similar ws $Q --set nosuchset
expect "... naming it" grep -q "nosuchset" "$T/last.out"
expect "a bad -k is a usage error (2)" test "$($Z similar ws $Q -k 0 >/dev/null 2>&1; echo $?)" = 2
expect "an unknown metric is a usage error (2)" test "$($Z similar ws $Q --metric manhattan >/dev/null 2>&1; echo $?)" = 2
expect "an unknown embed method is a usage error (2)" test "$($Z embed ws --method nosuch >/dev/null 2>&1; echo $?)" = 2

check "raw pixels embed as the probe's floor" $Z embed ws --method pixels --pca 0 --quiet
expect "... 3072 numbers each" grep -q "'pixels' (3072 dims" "$T/last.out"

# A first embed killed (SIGKILL) part-way: every set stats lists holds a
# vector for each of the 200 galaxies (a set is published only when whole),
# check names a set left incomplete, and embedding again finishes it.
short=0 flagged=0 killed=0
for pct in 20 50 80; do
    rm -rf k && cp -r fresh k
    $Z embed k --quiet --threads 1 > /dev/null 2>&1 &
    P=$!
    sleep "$(awk -v m="$embed_ms" -v p="$pct" 'BEGIN {printf "%.3f", m * p / 100000}')"
    kill -0 $P 2>/dev/null && { kill -9 $P; killed=$((killed + 1)); }
    wait $P 2>/dev/null
    short=$((short + $($Z stats k 2>/dev/null | awk '$2 ~ /-d$/ && $3 != 200 {n++} END {print n + 0}')))
    $Z check k > k.out 2>&1 && continue
    grep -q "incomplete" k.out && flagged=$((flagged + 1))
done
echo "# 3 first embeds killed at 20, 50, 80% of ${embed_ms} ms ($killed while running): $short sets listed short, $flagged checks named an incomplete set"
expect "no killed first embed leaves a listed set with fewer than 200 vectors ($short)" test "$short" -eq 0
expect "check names the set a killed embed left incomplete ($flagged of $killed)" test "$flagged" -ge 1
check "embedding again after a kill finishes" $Z embed k --quiet
check "... and the workspace checks clean" $Z check k
expect "... with every set whole" test "$($Z stats k | awk '$2 ~ /-d$/ && $3 != 200 {n++} END {print n + 0}')" -eq 0

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
    check "the ring probe report runs on a few folds" \
        bash "$ROOT/tools/probe_rings.sh" --ws "$T/ws" --folds 2 --sizes 20 --repeats 1 --tsv probe.tsv
    expect "... and computes an AUC and an accuracy in [0, 1] for morph, pca40, pixels (and the encoder when shipped)" \
        sh -c "awk -F'\t' 'NR>1 && (\$4<0 || \$4>1 || \$6<0 || \$6>1) {bad=1} NR>1 {n++} END {exit bad || n<3}' probe.tsv"
else
    skip "the ring probe report" "no /usr/bin/python3 with sklearn"
fi
