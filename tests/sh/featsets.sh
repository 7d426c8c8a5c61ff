#!/usr/bin/env bash
# featsets.sh - a Zoobot representation chosen as the workspace's feature set
# and used by every command: on 50 real ring galaxies (embedded, so pca40
# exists and was what every command picked before), a Zoobot-layout HDF5
# (predictions [galaxy, 640, 1] float32, id_str, written with h5py) is
# imported; `zoosh features` lists it; --use makes it the default, and train,
# rank, similar, simulate each say they used it and the stored model records
# it; --pca K stores SET_pcaK as the default; `zoosh label --features` in
# tmux retrains on the set it names; a workspace with no other set adopts an
# imported one.  Also: train on a fresh ring workspace says its labels are
# the catalog's priors, not answers.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
$PY -c 'import h5py, numpy' 2>/dev/null || { skip "no python3-h5py / python3-numpy (tools/deps.sh test)"; exit 0; }

head -51 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
check "a workspace of 50 real ring galaxies" "$Z" init ws --schema ring
check "imported" "$Z" import ws a.csv --threads 2
check "embedded (morph, convnext, votes, pca40)" "$Z" embed ws --threads 2 --quiet
expect "train with no answer yet says its 50 labels are the catalog's priors, not answers" \
    sh -c "'$Z' train ws --task ring | grep -q 'trained on 50 labels: 50 from the catalog.s prior columns, 0 answers'"

# a Zoobot representation: predictions (galaxy, feature, sample), id_str
$PY - a.csv rep.h5 <<'PY'
import csv, sys, h5py, numpy as np
ids = [r["id"] for r in csv.DictReader(open(sys.argv[1]))]
rng = np.random.default_rng(0)
x = rng.normal(size=(len(ids), 640, 1)).astype(np.float32)
with h5py.File(sys.argv[2], "w") as f:
    f.create_dataset("predictions", data=x)
    f.create_dataset("id_str", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
PY
check "a Zoobot-layout HDF5 is written" test -s rep.h5
check "it imports with the catalog" "$Z" import ws a.csv --features rep.h5 --no-thumbs
expect "the import says the set is not the default and how to make it so" \
    grep -q "commands keep using feature set 'pca40': zoosh features ws --use zoobot" "$T/last.out"

check "zoosh features lists the sets" "$Z" features ws
expect "... zoobot with its 640 dims and the 50 galaxies it covers" \
    grep -qE '^  zoobot +640 +50 / 50 +zoobot hdf5' "$T/last.out"
expect "... and pca40 marked as the default, none chosen" \
    sh -c "grep -qE '^\* pca40 ' '$T/last.out' && grep -q '^default: pca40 (none chosen' '$T/last.out'"
check "zoosh features --use zoobot" "$Z" features ws --use zoobot
expect "... says zoobot is the default now" grep -q "feature set 'zoobot' is the default now" "$T/last.out"
"$Z" features ws > list.txt
expect "the list marks it and says it was chosen" \
    sh -c "grep -qE '^\* zoobot +640' list.txt && grep -q '^default: zoobot (chosen' list.txt"

check "embedding again (morph)" "$Z" embed ws --method morph --threads 2 --quiet
expect "... says commands keep using the chosen zoobot" grep -q "commands keep using feature set 'zoobot'" "$T/last.out"
check "train with no --features" "$Z" train ws --task ring
expect "train says it used zoobot" grep -q "(features zoobot)" "$T/last.out"
expect "the stored model records zoobot (zoosh stats)" sh -c "'$Z' stats ws | grep -qE '^ring +[0-9]+ +[0-9]{4}-.* zoobot\$'"
expect "stats marks the default set" sh -c "'$Z' stats ws | grep -E '^  zoobot ' | grep -q 'the default'"
"$Z" rank ws --task ring --order uncertain --top 3 > rank.out 2> rank.err
expect "rank prints 3 galaxies and says on stderr it used zoobot" \
    sh -c "test \$(wc -l < rank.out) -eq 3 && grep -q \"feature set 'zoobot'\" rank.err"
ID=$(sed -n 2p a.csv | cut -d, -f1)
check "similar with no --set" "$Z" similar ws "$ID" -k 3
expect "similar searched zoobot" grep -q "^# 3 nearest to $ID in 'zoobot'" "$T/last.out"
check "simulate with no --features" "$Z" simulate ws --task ring --oracle ring --budget 20 --batch 10
expect "simulate says it used zoobot (640-d)" grep -q "features zoobot (640-d)" "$T/last.out"

check "--use zoobot --pca 10" "$Z" features ws --use zoobot --pca 10
expect "... stores zoobot_pca10 and makes it the default" grep -q "feature set 'zoobot_pca10' is the default now" "$T/last.out"
expect "train then uses zoobot_pca10" sh -c "'$Z' train ws --task ring | grep -q '(features zoobot_pca10)'"
check_fails "--use of a set that is not there fails" "$Z" features ws --use nosuch
expect "... naming it" grep -q "no feature set 'nosuch'" "$T/last.out"
expect "... with exit status 1" test "$("$Z" features ws --use nosuch >/dev/null 2>&1; echo $?)" = 1
expect "--pca without --use is a usage error (2)" test "$("$Z" features ws --pca 10 >/dev/null 2>&1; echo $?)" = 2
expect "label --features of a set that is not there fails (1) before the screen" \
    test "$("$Z" label ws --task ring --features nosuch </dev/null >/dev/null 2>&1; echo $?)" = 1

# the labeler's background retrain uses the set --features names (zoobot),
# not the default (zoobot_pca10)
if command -v tmux >/dev/null; then
    SOCK="zt-featsets-$$"
    trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
    LANG=C.UTF-8 tm -u new-session -d -s z -x 100 -y 30 \
        "cd '$T' && exec '$Z' label ws --task ring --features zoobot --retrain 2 --graphics none"
    if tm_wait z "Does the galaxy have a ring?" 20; then
        for k in 1 2 1 2; do tm send-keys -t z $k; sleep 0.3; done
        model() { "$Z" stats ws | grep -E '^ring +[0-9]+ +[0-9]{4}-'; }   # the models table's row
        ok=0
        for i in $(seq 1 80); do   # until a retrain after the answers stored its model
            model | grep -qE ' zoobot$' && { ok=1; break; }
            sleep 0.25
        done
        sleep 0.5
        tm send-keys -t z q
        sleep 0.5
        expect "the labeler's retrain stored a model on zoobot, not the default ($(model))" test $ok = 1
    else
        fail "the labeler shows the ring question" "$(tm capture-pane -p -t z | tail -3)"
    fi
    tm kill-server 2>/dev/null
else
    skip "label --features in tmux" "no tmux"
fi
check "--reset forgets the choice" "$Z" features ws --reset
expect "... and the default falls back to pca40" grep -q "the default is 'pca40'" "$T/last.out"

# a workspace with no other set: the imported one becomes the default
check "a fresh workspace" "$Z" init ws2 --schema ring
check "imported with --features and no thumbnails" "$Z" import ws2 a.csv --features rep.h5 --no-thumbs
expect "the import says zoobot is the default now" grep -q "feature set 'zoobot' is the default now" "$T/last.out"
expect "zoosh features says it was chosen" sh -c "'$Z' features ws2 | grep -q '^default: zoobot (chosen'"
"$Z" export ws2 --format labels --task ring -o labels.csv 2>err.txt; st=$?
expect "a labels export with no answer yet exits 1 and says there was nothing to export ($st)" \
    sh -c "test $st = 1 && grep -q 'nothing to export: no galaxy has' err.txt"
check "the workspaces check clean" sh -c "'$Z' check ws >/dev/null && '$Z' check ws2 >/dev/null"
