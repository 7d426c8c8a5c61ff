#!/usr/bin/env bash
# tests/sh/learn.sh - the active-learning commands on a real workspace made
# from simulated galaxies: train (ring and the gz-decals tree), rank,
# simulate (the workspace is not written), eval, and their refusals.
. "$(dirname "$0")/lib.sh"
export OPENBLAS_NUM_THREADS=1

nice "$Z" sim simd -n 150 --seed 3 --size 96 --mix ring=0.4 --quiet >/dev/null 2>&1
check "a workspace with simulated galaxies is set up" sh -c "'$Z' init ws --schema ring && '$Z' import ws simd/catalog.csv && nice '$Z' embed ws"

check "zoosh train ring trains on the catalog's ring labels" "$Z" train ws --task ring --order likely
expect "it prints the version, the training size and an out-of-bag AUC" \
    grep -qE "model version 1, trained on 150 labels" last.out
grep -oE "held-out auc [0-9.]+" last.out > auc.txt
expect "the held-out AUC is better than chance" awk 'NR == 1 {ok = $3 > 0.6} END {exit !ok}' auc.txt
check "a second train makes version 2" "$Z" train ws --task ring --order likely
expect "version 2 is reported" grep -q "model version 2" last.out

check "zoosh rank prints the top 10 of the likely order" "$Z" rank ws --task ring --order likely --top 10
grep -v '^zoosh rank: ' last.out > rank.txt   # the feature set it used goes to stderr
expect "rank says which feature set it ranked by" grep -q "^zoosh rank: ranked by feature set 'pca40'" last.out
expect "ten lines of id<TAB>score" test "$(grep -cP '^sim_\d+\t[0-9.e-]+$' rank.txt)" -eq 10
expect "scores come best first" sh -c "cut -f2 rank.txt | sort -g -r -c"
ids_ok=1
for id in $(cut -f1 rank.txt); do grep -q "^$id," simd/catalog.csv || ids_ok=0; done
expect "every ranked id is a catalog id" test $ids_ok -eq 1
pos=$(for id in $(cut -f1 rank.txt); do grep "^$id," simd/catalog.csv | cut -d, -f4; done | grep -c '^1')
expect "most of the likely top 10 are rings ($pos of 10, base rate ~40%)" test "$pos" -ge 6
check "zoosh rank --stored prints the queue train stored" "$Z" rank ws --task ring --stored --top 5
expect "five stored entries" test "$(grep -vc '^zoosh rank: ' last.out)" -eq 5

check "zoosh train gz-decals trains the Dirichlet tree head on vote counts" "$Z" train ws --task gz-decals
expect "it reports an accuracy" grep -qE "held-out accuracy 0\.[0-9]+" last.out

sum_before=$(md5sum ws/data.mdb | cut -d' ' -f1)
check "zoosh simulate replays 60 labels in the uncertain order" \
    "$Z" simulate ws --task ring --oracle ring --budget 60 --order uncertain --seed 1 --plot curve.png
cp last.out sim.txt
expect "six learning-curve rows (labels, auc, accuracy, positives)" \
    test "$(grep -cP '^\d+\t[0-9.]+\t[0-9.]+\t\d+$' sim.txt)" -eq 6
expect "the last row is at 60 labels" sh -c "grep -P '^60\t' sim.txt >/dev/null"
expect "the curve is a PNG" sh -c "head -c 8 curve.png | od -An -c | grep -q 'P   N   G'"
expect "simulate wrote nothing to the workspace" test "$(md5sum ws/data.mdb | cut -d' ' -f1)" = "$sum_before"
check "the same seed gives the same curve" "$Z" simulate ws --task ring --oracle ring --budget 60 --order uncertain --seed 1
expect "identical output" cmp -s sim.txt last.out
"$Z" simulate ws --task ring --oracle ring --budget 60 --order likely --seed 2 > likely.txt
"$Z" simulate ws --task ring --oracle ring --budget 60 --order random --seed 2 > random.txt
pl=$(grep -P '^60\t' likely.txt | cut -f4); pr=$(grep -P '^60\t' random.txt | cut -f4)
expect "hunting with likely shows at least as many rings as random ($pl vs $pr)" test "$pl" -ge "$pr"
check "simulate --rate-from turns a 0/1 column into interest ratings" \
    "$Z" simulate ws --task interest --rate-from ring --budget 30 --seed 1
expect "it prints precision among the top 30 unrated" grep -qP '^30\t[0-9.]+\t' last.out

check "zoosh eval cross-validates the ring head" "$Z" eval ws --task ring -k 5
expect "five folds and a pooled AUC" sh -c "test \$(grep -c '^fold' '$T/last.out') -eq 5 && grep -q 'pooled out-of-fold: auc' '$T/last.out'"

for c in train rank simulate eval; do
    check "zoosh $c --help exits 0" "$Z" $c --help
done
"$Z" train ws --task ring --order sideways >err.txt 2>&1; st=$?
expect "an unknown order is a usage error naming it" sh -c "test $st -eq 2 && grep -q \"unknown order 'sideways'\" err.txt"
"$Z" train nowhere --task ring >err.txt 2>&1; st=$?
expect "a missing workspace exits 3" test $st -eq 3
"$Z" simulate ws --task ring --oracle no_such_column --budget 10 >err.txt 2>&1; st=$?
expect "an unknown oracle column exits 1 naming it" sh -c "test $st -eq 1 && grep -q no_such_column err.txt"
"$Z" train ws --task ring --features nosuchset >err.txt 2>&1; st=$?
expect "an unknown feature set exits 1 naming it" sh -c "test $st -eq 1 && grep -q nosuchset err.txt"
"$Z" simulate ws --task ring --budget 10 >err.txt 2>&1; st=$?
expect "simulate without an oracle is a usage error" test $st -eq 2

# every option parses with getopt_long: --opt=value as well as --opt value (issue 20)
"$Z" rank ws --task ring --order likely --top 5 > sep.txt 2>&1; st1=$?
"$Z" rank ws --task=ring --order=likely --top=5 > eq.txt 2>&1; st2=$?
expect "rank --task=ring --order=likely --top=5 works ($(head -c 120 eq.txt | tr '\n' ' '))" test $st2 -eq 0
expect "and prints what --task ring --order likely --top 5 prints" sh -c "test $st1 -eq 0 && cmp -s sep.txt eq.txt"
check "eval -t ring -k 2 (short options) works" "$Z" eval ws -t ring -k 2
for c in train rank simulate eval; do
    "$Z" $c ws --task ring --frobnicate >err.txt 2>&1; st=$?
    expect "$c --frobnicate is a usage error (exit $st) naming it" \
        sh -c "test $st -eq 2 && grep -q \"zoosh $c: unknown option '--frobnicate'\" err.txt"
done
"$Z" rank ws --task >err.txt 2>&1; st=$?
expect "rank --task without its value says so (exit $st)" sh -c "test $st -eq 2 && grep -q \"option '--task' needs a value\" err.txt"
"$Z" rank ws --task ring --top=0 >err.txt 2>&1; st=$?
expect "rank --top=0 is refused naming --top (exit $st)" sh -c "test $st -eq 2 && grep -q -- \"--top: bad value '0'\" err.txt"
