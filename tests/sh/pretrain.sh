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
# the second thread (batch views prepared ahead, GELU / depthwise / AdamW
# and the GEMMs' pieces shared) must not change a single number: 1 and 2
# threads give the same file, on Intel and AMD alike (issue 22)
check "a 64 px run on 2 threads" $Z pretrain --limit 48 --epochs 1 --size 64 --batch 16 --dims 16,32,64,96 \
    --jitter 1 --zoom 0.75,1.33 --threads 2 --quiet --out t2.safetensors "$CAT"
check "the same run on 1 thread" $Z pretrain --limit 48 --epochs 1 --size 64 --batch 16 --dims 16,32,64,96 \
    --jitter 1 --zoom 0.75,1.33 --threads 1 --quiet --out t1.safetensors "$CAT"
expect "... writes the same file, byte for byte" cmp -s t1.safetensors t2.safetensors
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

# survey augmentation: --jitter and --zoom are recorded in the file; bad values refused
check "--jitter and --zoom train" \
    $Z pretrain --limit 32 --epochs 1 --size 32 --batch 16 --depths 1,1,1,1 --dims 8,16,16,24 \
    --jitter 1 --zoom 0.75,1.33 --out jit.safetensors "$CAT"
expect "the file records the augmentation" grep -aq '"augmentation":"rotation, flip, zoom 0.75-1.3, survey jitter 1;' jit.safetensors
expect "a zoom below 0.67 is refused (usage, 2)" test "$(status $Z pretrain --zoom 0.5,1 --out z.safetensors "$CAT")" -eq 2
expect "so is a reversed range" test "$(status $Z pretrain --zoom 1.2,0.9 --out z.safetensors "$CAT")" -eq 2
expect "and a jitter that is not a number" test "$(status $Z pretrain --jitter lots --out z.safetensors "$CAT")" -eq 2

# simulated galaxies as GZ2 votes (tools/sim_gz2_catalog.py), merged with the real catalog
if [ -x /usr/bin/python3 ]; then
    $Z sim simg -n 24 --size 96 --mix ring=0.5 --seed 3 --quiet >/dev/null 2>&1
    check "the simulator's catalog converts to GZ2 vote fractions" \
        /usr/bin/python3 "$ROOT/tools/sim_gz2_catalog.py" simg/catalog.csv
    cp "$T/last.out" simg.csv
    expect "one row per galaxy, 37 answers" sh -c \
        "test \$(wc -l < simg.csv) -eq 25 && test \$(head -1 simg.csv | tr ',' '\n' | grep -c '^Class') -eq 37"
    expect "every ring is Class8.1 = 1 and every non-ring has nothing odd (Class6.2 = 1)" awk -F, '
        FNR == 1 { next }
        NR == FNR { ring[$1] = $4; next }
        { r = ring[$1]; if ((r == 1) != ($21 == 1) || (r == 1) == ($17 == 1)) bad++ }
        END { exit bad > 0 }' simg/catalog.csv simg.csv
    expect "Class1 sums to 1, Class2 to Class1.2, Class8 to Class6.1" awk -F, '
        NR > 1 { d1 = $3 + $4 + $5 - 1; d2 = $6 + $7 - $4; d8 = $21+$22+$23+$24+$25+$26+$27 - $16
                 if (d1*d1 > 1e-6 || d2*d2 > 1e-6 || d8*d8 > 1e-6) bad++ }
        END { exit bad > 0 }' simg.csv
    check "--merge puts the real catalog first, paths absolute" \
        /usr/bin/python3 "$ROOT/tools/sim_gz2_catalog.py" simg/catalog.csv --merge "$CAT"
    cp "$T/last.out" merged.csv
    expect "... all 6,000 real rows then the 24 simulated" sh -c \
        "test \$(wc -l < merged.csv) -eq 6025 && sed -n 2p merged.csv | cut -d, -f2 | grep -q '^/' && tail -1 merged.csv | cut -d, -f2 | grep -q '^/.*simg/images/'"
    check "pretrain trains on the merged catalog" \
        $Z pretrain --limit 6024 --epochs 1 --size 32 --batch 16 --depths 1,1,1,1 --dims 8,16,16,24 \
        --exclude <(cut -d, -f1 merged.csv | sed -n '2,5977p') --out sim.safetensors merged.csv
    expect "... the 24 simulated galaxies and 24 real ones" grep -q "48 galaxies, 11 questions" "$T/last.out"
    sed '3s/,[0-9][0-9]*,/,many,/' simg/catalog.csv > simbad.csv
    expect "a vote count that is not a number is refused naming the line and column" sh -c \
        "! /usr/bin/python3 '$ROOT/tools/sim_gz2_catalog.py' simbad.csv > /dev/null 2> err.txt && grep -q 'simbad.csv: line 3: column' err.txt"
fi
