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

cp -r ws head.ws
check "--finetune --epochs 0 trains the new head alone" nice "$Z" train head.ws --task ring --finetune --epochs 0
expect "... reporting its losses, none of them zero" awk '/^training loss/ { ok = $3 > $7 && $7 == $11 && $7 > 0 } END { exit !ok }' last.out
"$Z" export head.ws --format encoder --task ring -o head.safetensors 2>/dev/null
expect "... and the stored encoder's last stage is the base's" sh -c "/usr/bin/python3 - head.safetensors '$ENC' <<'PY'
import json, struct, sys
def tensors(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in h.items() if k != '__metadata__'}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
sys.exit(0 if all(a[k] == b[k] for k in b if k.startswith('stages.')) else 1)
PY"

check "zoosh eval cross-validates on the workspace's set, not the one fitted to its labels" "$Z" eval ws --task ring
expect "... features pca40" grep -q "(features pca40, 40-d)" last.out

check "export --format encoder writes the fine-tuned encoder" "$Z" export ws --format encoder --task ring -o ft.safetensors
check "zoosh embed --weights reads it back" nice "$Z" embed ws --weights ft.safetensors --set roundtrip --quiet
"$Z" export ws --format features --set roundtrip -o a.csv 2>/dev/null
"$Z" export ws --format features --set ft_ring_emb -o b.csv 2>/dev/null
expect "... and gives the same embedding as the stored set" sh -c "test -s a.csv && cmp -s a.csv b.csv"
check_fails "export --format encoder without -o is a usage error" "$Z" export ws --format encoder --task ring
expect "... exit 2" test "$("$Z" export ws --format encoder --task ring >/dev/null 2>&1; echo $?)" = 2

# the labeler's background trainer fine-tunes again (before the first and every
# 5th retrain) without blocking the screen; --no-finetune turns it off
if command -v tmux >/dev/null; then
    SOCK="zt-finetune-$$"
    trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
    label() {   # label SESSION ARGS: the labeler in tmux, catalog order, a retrain after 4 answers
        LANG=C.UTF-8 tm -u new-session -d -s "$1" -x 100 -y 30 \
            "cd '$T' && exec '$Z' label ws --task ring --order catalog --retrain 4 --graphics none ${*:2}"
    }
    version() { "$Z" stats ws | awk '$1 == "ring" && $3 ~ /^[0-9][0-9][0-9][0-9]-/ { print $2 }'; }
    v0=$(version)
    label off --no-finetune
    if tm_wait off "Does the galaxy have a ring?" 20; then
        for k in 1 2 1 2; do tm send-keys -t off $k; sleep 0.3; done   # galaxy 4 had no label
        for i in $(seq 1 80); do [ "$(version)" != "$v0" ] && break; sleep 0.25; done
        tm send-keys -t off q; sleep 0.5
        "$Z" export ws --format encoder --task ring -o off.safetensors 2>/dev/null
        expect "label --no-finetune: the head retrained (model $v0 -> $(version)), the encoder did not" \
            sh -c "[ '$(version)' != '$v0' ] && cmp -s ft.safetensors off.safetensors"
    else
        fail "the labeler shows the ring question" "$(tm capture-pane -p -t off | tail -3)"
    fi
    tm kill-server 2>/dev/null
    label on
    if tm_wait on "Does the galaxy have a ring?" 20; then
        for k in 2 1 2 1; do tm send-keys -t on $k; sleep 0.3; done   # 4 more: galaxy 8 had no label
        expect "the fourth answer starts the background run (learning...)" tm_wait on "learning..." 5
        sleep 0.5
        tm send-keys -t on 1
        expect "while it fine-tunes the screen takes the next answer at once" tm_wait on "session 5 " 3
        expect "... the run still going (learning... on the same screen)" sh -c "tmux -L '$SOCK' capture-pane -p -t on | grep -q 'learning\.\.\.'"
        changed=0
        for i in $(seq 1 240); do
            "$Z" export ws --format encoder --task ring -o on.safetensors 2>/dev/null
            cmp -s ft.safetensors on.safetensors || { changed=1; break; }
            sleep 0.25
        done
        expect "the labeler's background trainer stored a new fine-tuned encoder" test $changed = 1
        tm send-keys -t on q; sleep 0.5
    else
        fail "the labeler shows the ring question" "$(tm capture-pane -p -t on | tail -3)"
    fi
    tm kill-server 2>/dev/null
else
    skip "the labeler's background fine-tuning" "no tmux"
fi

check "--no-finetune sends the task back to the workspace's set" "$Z" train ws --task ring --no-finetune
expect "... the head trains on pca40" grep -q "(features pca40)" last.out

check_fails "--finetune on a task nobody labelled fails" "$Z" train nolabels.ws --task gz-decals --finetune
expect "... saying it needs labelled galaxies" grep -q "has 0 labelled galaxies; fine-tuning needs at least 8" last.out
expect "... exit 1" test "$("$Z" train nolabels.ws --task gz-decals --finetune >/dev/null 2>&1; echo $?)" = 1
