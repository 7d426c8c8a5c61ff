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

# several catalogs at once (issue 18): GZ2 votes, GZ1 votes, DECaLS tags and
# images alone, each kind found from its columns; every row only in its own
# catalog's loss, plus NT-Xent between two views of every galaxy
GZ1="$SHARED/desi_dr8_gz1/catalog.csv" TAGS="$SHARED/decals_dr5_tagged/catalog.csv" RINGS="$SHARED/decals_rings/catalog.csv"
if [ -f "$GZ1" ] && [ -f "$TAGS" ] && [ -f "$RINGS" ]; then
    TINY=(--limit 24 --epochs 2 --size 32 --batch 16 --depths 1,1,1,1 --dims 8,16,16,24)
    check "trains on four catalogs of four kinds with --ssl and --survey" \
        $Z pretrain "${TINY[@]}" --jitter 1 --survey 1 --ssl 0.5 --out multi.safetensors \
        "$CAT" "$GZ1" "$TAGS" "$RINGS:none"
    expect "GZ2 votes found from the columns, on the network's head" \
        grep -q "catalog.csv (gz2, from its columns): 24 galaxies, 11 questions, 37 answers (the network's head)" "$T/last.out"
    expect "GZ1 votes: one question of 6 answers" grep -q "desi_dr8_gz1/catalog.csv (gz1, from its columns): 24 galaxies, 1 question, 6 answers" "$T/last.out"
    expect "the 7 DECaLS tags, binary cross-entropy" \
        grep -q "decals_dr5_tagged/catalog.csv (tags, from its columns): 24 galaxies, 7 tags (spiral_arms_yes, cigar_shaped, merging_merger, artifact, bulge_boxy, central_bulge_dominant, strong_bar)" "$T/last.out"
    expect "the ring images alone, as asked" grep -q "decals_rings/catalog.csv (none): 24 galaxies, no targets" "$T/last.out"
    expect "each loss reported, the self-supervised one included" grep -Eq "epoch 2/2  train loss [0-9.]+ \(gz2 [0-9.]+, gz1 [0-9.]+, tags [0-9.]+, ssl [0-9.]+\)" "$T/last.out"
    expect "held-out losses of the three labelled catalogs" grep -Eq "held-out loss gz2 [0-9.]+ \(mean [0-9.]+\); gz1 [0-9.]+ \(mean [0-9.]+\); tags" "$T/last.out"
    expect "the file keeps the 37 GZ2 answers on head.fc" sh -c \
        "grep -aq '\"head.fc.weight\":{\"dtype\":\"F32\",\"shape\":\[37,24\]' multi.safetensors && grep -aq '\"answers\":\"Class1.1,Class1.2,Class1.3,' multi.safetensors"
    expect "and records the catalogs and the self-supervised loss" sh -c \
        "grep -aq 'desi_dr8_gz1/catalog.csv (gz1, 24 galaxies, 6 targets)' multi.safetensors && grep -aq '\"self_supervised\":\"NT-Xent weight 0.5' multi.safetensors"
    if [ -d rings ]; then
        check "zoosh embed reads it: the votes set has the 37 GZ2 answers" $Z embed --weights multi.safetensors --quiet rings
        expect "... 37 predicted votes" sh -c "$Z export rings --format features --set votes -o v.csv >/dev/null 2>&1 && test \$(head -1 v.csv | tr ',' '\n' | grep -c '^feat_') -eq 37"
    fi
    check "images alone train with --ssl" $Z pretrain "${TINY[@]}" --ssl 1 --quiet --out ssl.safetensors "$RINGS:none"
    expect "... and a file without a vote head has no answers" sh -c "! grep -aq '\"answers\"' ssl.safetensors"
    expect "images alone without --ssl are refused (exit 1)" \
        test "$(status $Z pretrain "${TINY[@]}" --out no.safetensors "$RINGS:none")" -eq 1
    expect "saying why" grep -q "no catalog has targets" "$T/last.out"
    check "a multi-catalog --ssl --survey run on 2 threads" $Z pretrain "${TINY[@]}" --size 48 --jitter 1 --survey 1 \
        --ssl 0.5 --threads 2 --quiet --out m2.safetensors "$CAT" "$GZ1" "$TAGS"
    check "the same on 1 thread" $Z pretrain "${TINY[@]}" --size 48 --jitter 1 --survey 1 \
        --ssl 0.5 --threads 1 --quiet --out m1.safetensors "$CAT" "$GZ1" "$TAGS"
    expect "... writes the same file, byte for byte" cmp -s m1.safetensors m2.safetensors

    # bad targets refused, naming the file, line and column
    DIR=$(dirname "$TAGS")
    awk -F, -v OFS=, -v d="$DIR" 'NR > 1 { $2 = d "/" $2 } NR == 4 { $11 = "2" } NR <= 6' "$TAGS" > badtags.csv
    expect "a tag that is not 0/1 is refused (exit 1)" test "$(status $Z pretrain --catalog badtags.csv --out b.safetensors)" -eq 1
    expect "naming the file, line and column" grep -q "badtags.csv:4: column central_bulge_dominant: '2' is not a 0/1 tag" "$T/last.out"
    DIR=$(dirname "$GZ1")
    awk -F, -v OFS=, -v d="$DIR" 'NR > 1 { $2 = d "/" $2 } NR == 3 { $8 = "1.5" } NR <= 6' "$GZ1" > badgz1.csv
    expect "a GZ1 fraction above 1 is refused" test "$(status $Z pretrain badgz1.csv --out b.safetensors)" -eq 1
    expect "naming the file, line and column" grep -q "badgz1.csv:3: column p_cw: '1.5' is not a vote fraction in \[0, 1\]" "$T/last.out"
    expect "a catalog without the columns of the kind asked for is refused" \
        test "$(status $Z pretrain "$TAGS:gz1" --out b.safetensors)" -eq 1
    expect "naming the missing column" grep -q "decals_dr5_tagged/catalog.csv:1: no column 'p_el' (gz1 targets" "$T/last.out"
    expect "nothing is written for refused catalogs" test ! -e b.safetensors
    expect "a kind that is not one is part of the file name (not found)" \
        test "$(status $Z pretrain "$TAGS:gz3" --out b.safetensors)" -eq 1

    # --exclude, several files over several catalogs, all recorded
    sed -n '2,3p' "$CAT" | cut -d, -f1 > ex1.ids
    sed -n '2,5p' "$TAGS" | cut -d, -f1 > ex2.ids
    check "two --exclude files over two catalogs" $Z pretrain "${TINY[@]}" --exclude ex1.ids --exclude ex2.ids \
        --out ex.safetensors "$CAT" "$TAGS"
    expect "each list and each catalog says how many it left out" sh -c "grep -q 'ex1.ids: 2 galaxies excluded (never trained on)' '$T/last.out' && grep -q 'ex2.ids: 4 galaxies excluded' '$T/last.out' && grep -q 'kaggle_gz2_votes/catalog.csv: 2 of its galaxies excluded' '$T/last.out' && grep -q 'decals_dr5_tagged/catalog.csv: 4 of its galaxies excluded' '$T/last.out'"
    expect "the file records both lists and the counts" \
        grep -aq '"excluded":"6 ids listed in ex1.ids, ex2.ids (never trained on): 2 from [^"]*kaggle_gz2_votes/catalog.csv, 4 from' ex.safetensors
else
    skip "multi-catalog pretraining" "no $GZ1 / $TAGS / $RINGS"
fi
