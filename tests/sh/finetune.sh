#!/usr/bin/env bash
# tests/sh/finetune.sh - `zoosh train --finetune` through the real binary on
# a real workspace: 40 SDSS galaxies of the GZ2 ring-vote choose set, ring
# labels from the catalog for 30 of them; the task's predictions come from
# the fine-tuned set; the stored encoder exports as safetensors and
# `zoosh embed --weights` on it gives the same embedding (round trip); the
# refusals (no labels, no base, nothing stored, bad option combinations).
. "$(dirname "$0")/lib.sh"
export OPENBLAS_NUM_THREADS=1
ENC=$ROOT/sample_data/encoder.safetensors
if [ ! -f "$SHARED/kaggle_gz2_votes/catalog.csv" ] || [ ! -f "$ENC" ]; then
    skip "fine-tuning" "no kaggle_gz2_votes or no sample_data/encoder.safetensors"; exit 0
fi
"$ROOT/tools/gz2_ringval.sh" --labels "$SHARED/kaggle_gz2_votes/catalog.csv" |
    awk -F, 'NR == 1 || ($3 == 1 && r++ < 15) || ($3 == 0 && n++ < 25)' > lab.csv
# 30 labelled (15 rings), 10 without a label
awk -F, 'NR == 1 { print; next } { k++; if (k % 4 == 0) $3 = ""; print }' OFS=, lab.csv > cat.csv
check "a workspace of 40 real galaxies, 30 of them labelled, is embedded" \
    sh -c "'$Z' init ws --schema ring >/dev/null && '$Z' import ws cat.csv >/dev/null && nice '$Z' embed ws --quiet >/dev/null 2>&1"
cp -r ws nolabels.ws

check_fails "--weights without --finetune is a usage error" "$Z" train ws --task ring --weights "$ENC"
expect "... exit 2" test "$("$Z" train ws --task ring --weights "$ENC" >/dev/null 2>&1; echo $?)" = 2
check_fails "--finetune with a base that does not exist fails" "$Z" train ws --task ring --finetune --weights nope.safetensors
expect "... naming the file" grep -q "nope.safetensors" last.out
check_fails "export --format encoder before any fine-tuning fails" "$Z" export ws --format encoder --task ring -o x.safetensors
expect "... saying train --finetune makes one" grep -q "no fine-tuned encoder (zoosh train --finetune makes one)" last.out

check "zoosh train --finetune fine-tunes and trains the head on the task's set" nice "$Z" train ws --task ring --finetune
expect "... on 24 labelled galaxies, 6 held out" grep -q "on 24 labelled galaxies (6 held out)" last.out
expect "... the training loss falls" awk '/^training loss/ { ok = $3 > $7 } END { exit !ok }' last.out
expect "... every galaxy embedded as set ft_ring" grep -q "embedded 40 galaxies as set ft_ring" last.out
expect "... and the head trained on it" grep -q "trained on 30 labels.*(features ft_ring)" last.out
check "export --format predictions gives the task's predictions" "$Z" export ws --format predictions --task ring -o pred.csv
expect "... 40 rows with ring_yes_pred" sh -c "head -1 pred.csv | grep -q ring_yes_pred && test \$(tail -n +2 pred.csv | wc -l) -eq 40"
rings=$(awk -F, 'NR == FNR { if (FNR > 1) y[$1] = $3; next } FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "ring_yes_pred") c = i; next }
    { print $c, y[$1] }' lab.csv pred.csv | sort -g -r | head -15 | awk '$2 == 1' | wc -l)
expect "... ranking the rings first (the top 15 hold $rings of the 15 rings, 5.6 by chance)" test "$rings" -ge 9
check "a plain retrain keeps using the fine-tuned set" "$Z" train ws --task ring
expect "... features ft_ring" grep -q "(features ft_ring)" last.out

check "export --format encoder writes the fine-tuned encoder" "$Z" export ws --format encoder --task ring -o ft.safetensors
check "zoosh embed --weights reads it back" nice "$Z" embed ws --weights ft.safetensors --set roundtrip --quiet
"$Z" export ws --format features --set roundtrip -o a.csv 2>/dev/null
"$Z" export ws --format features --set ft_ring_emb -o b.csv 2>/dev/null
expect "... and gives the same embedding as the stored set" sh -c "test -s a.csv && cmp -s a.csv b.csv"
check_fails "export --format encoder without -o is a usage error" "$Z" export ws --format encoder --task ring
expect "... exit 2" test "$("$Z" export ws --format encoder --task ring >/dev/null 2>&1; echo $?)" = 2

check "--no-finetune sends the task back to the workspace's set" "$Z" train ws --task ring --no-finetune
expect "... the head trains on pca40" grep -q "(features pca40)" last.out

check_fails "--finetune on a task nobody labelled fails" "$Z" train nolabels.ws --task gz-decals --finetune
expect "... saying it needs labelled galaxies" grep -q "has 0 labelled galaxies; fine-tuning needs at least 8" last.out
expect "... exit 1" test "$("$Z" train nolabels.ws --task gz-decals --finetune >/dev/null 2>&1; echo $?)" = 1
