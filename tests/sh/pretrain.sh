#!/usr/bin/env bash
# pretrain.sh - zoosh pretrain through the real binary on real Galaxy Zoo 2
# votes (a few dozen galaxies, a tiny network, one epoch: seconds), the
# encoder it writes used by zoosh embed, and bad catalogs refused with the
# file, line and column named.
. "$(dirname "$0")/lib.sh"
CAT="$SHARED/kaggle_gz2_votes/catalog.csv"
status() { "$@" >"$T/last.out" 2>&1; echo $?; }
[ -f "$CAT" ] || { skip "pretraining on GZ2 votes" "no $CAT"; exit 0; }

check "trains a tiny encoder on 64 real GZ2 galaxies" \
    $Z pretrain --limit 64 --epochs 2 --size 32 --batch 16 --depths 1,1,1,1 --dims 8,16,16,24 \
    --out enc.safetensors "$CAT"
expect "it reads all 11 questions and 37 answers" grep -q "64 galaxies, 11 questions, 37 answers" "$T/last.out"
expect "it reports the held-out loss against the mean-vote baseline" grep -q "held-out loss" "$T/last.out"
expect "the encoder file is written" test -s enc.safetensors
expect "its header names timm's tensors" grep -aq '"stages.3.blocks.0.mlp.fc2.weight"' enc.safetensors
expect "and says what made it" grep -aq '"made_by":"zoosh pretrain"' enc.safetensors
if { $Z init rings --schema ring && $Z import rings "$SHARED/decals_rings/catalog.csv"; } >/dev/null 2>&1; then
    check "zoosh embed uses the pretrained encoder" $Z embed --weights enc.safetensors --quiet rings
    expect "24 dimensions for 200 galaxies" grep -q "embedded 200 galaxies into feature set 'convnext' (24 dims" "$T/last.out"
    expect "at the 32 px it was trained at (recorded in the file)" grep -q "enc.safetensors at 32 px" "$T/last.out"
fi

head -5 "$CAT" | sed '3s/^\([^,]*,[^,]*,\)[^,]*/\1lots/' > bad.csv
expect "a fraction that is not a number is refused (exit 1)" test "$(status $Z pretrain --out x.safetensors bad.csv)" -eq 1
expect "naming the file, line and column" grep -q "bad.csv:3: column Class1.1: 'lots' is not a vote fraction" "$T/last.out"
head -5 "$CAT" | cut -d, -f1,3- > nofile.csv
expect "a catalog without a file column is refused" test "$(status $Z pretrain --out x.safetensors nofile.csv)" -eq 1
expect "saying so" grep -q "nofile.csv:1: no column 'file'" "$T/last.out"
expect "nothing is written for a refused catalog" test ! -e x.safetensors
expect "--out is required (usage, 2)" test "$(status $Z pretrain "$CAT")" -eq 2
expect "a size under 32 px is a usage error" test "$(status $Z pretrain --size 16 --out y.safetensors "$CAT")" -eq 2

# --exclude: a validation set never trained on (make pretrain keeps the GZ2
# ring-vote validation galaxies out this way)
sed -n '2,4p' "$CAT" | cut -d, -f1 > val.ids
printf '# comment\n\n' >> val.ids
check "--exclude leaves listed galaxies out of training" \
    $Z pretrain --limit 40 --epochs 1 --size 32 --batch 16 --depths 1,1,1,1 --dims 8,16,16,24 \
    --exclude val.ids --out ex.safetensors "$CAT"
expect "it says how many it excluded" grep -q "val.ids: 3 galaxies excluded (never trained on)" "$T/last.out"
expect "and trains on the others" grep -q "40 galaxies, 11 questions" "$T/last.out"
echo "no-such-galaxy" >> val.ids
expect "an id that is not in the catalog is refused (exit 1)" \
    test "$(status $Z pretrain --limit 40 --epochs 1 --size 32 --exclude val.ids --out ex2.safetensors "$CAT")" -eq 1
expect "naming it" grep -q "val.ids: id 'no-such-galaxy' is not in" "$T/last.out"
expect "a missing --exclude file is refused" \
    test "$(status $Z pretrain --epochs 1 --exclude nope.ids --out ex3.safetensors "$CAT")" -eq 1
