#!/usr/bin/env bash
# label_tmux.sh - the labeler in text mode inside tmux (no sixel there): label
# 50 galaxies of the real ring set by keys, undo 5, quit; the log then holds
# 50 answers and 5 retractions (45 net), the screen showed the question and
# never raw escape sequences, and a too-small window gets a message.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }

SOCK="zt-label-$$"
wait_for() { tm_wait z "$1" "${2:-10}"; }   # wait_for TEXT [SECS]
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
# wait_for TEXT [SECONDS]: until the pane shows TEXT

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the 200 real ring galaxies" nice "$Z" import ws "$CAT" --threads 1

LANG=C.UTF-8 tm -u new-session -d -s z -x 100 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/label.log' '$Z' label ws --task ring --retrain 0; "
expect "the labeler shows the ring question" wait_for "Does the galaxy have a ring?"
expect "it shows the first galaxy's id" wait_for "J002658.19-014709.9" 1

for i in $(seq 1 50); do
    if [ $((i % 2)) = 1 ]; then tm send-keys -t z 1; else tm send-keys -t z 2; fi
done
expect "50 answers by keys" wait_for "session 50 " 20
for i in 1 2 3 4; do tm send-keys -t z u; done
tm send-keys -t z BSpace
expect "5 undos (u and Backspace)" wait_for "session 45 " 10
expect "an undo says what it did" wait_for "previous answer retracted" 2
tm capture-pane -p -t z > screen.txt
expect "the screen has the question and its numbered answers" grep -q "1  Ring" screen.txt
expect "the status line shows progress for this user" grep -q "you 45/200" screen.txt
expect "no raw escape sequence on screen" bash -c "! grep -qP '\x1b|\[[0-9;]*m|\[\?[0-9]' screen.txt"

# terminal reports arriving late (a slow SSH link: the probe gave up) are not keys
tm send-keys -t z -l $'\e[?63;1;2;4;6;9;15;16;22;28c\e[6;17;8t\e[?1;0;256S\e]11;rgb:0/0/0\a'
sleep 0.8
tm capture-pane -p -t z > late.txt
expect "a late terminal report is swallowed, its digits are not answers" grep -q "session 45 " late.txt

tm resize-window -t z -x 40 -y 8 2>/dev/null
expect "a too-small window gets a message" wait_for "terminal too small" 5
tm resize-window -t z -x 100 -y 30 2>/dev/null
expect "the screen comes back when the window grows" wait_for "Does the galaxy have a ring?" 5

# g: the coming queue as a grid page; arrows + Enter jump (galaxy 46 is shown: the page is 46, 47, ...)
tm send-keys -t z g
expect "g shows the coming queue" wait_for "the coming queue" 5
id47=$(sed -n 48p "$CAT" | cut -d, -f1)
tm send-keys -t z Right Enter
expect "Right + Enter jumps to the second one ($id47)" wait_for "$id47" 5
tm send-keys -t z s
expect "s without representations says how to get them" wait_for "zoosh embed" 5
tm send-keys -t z Escape
expect "Esc goes back to the question" wait_for "Does the galaxy have a ring?" 5

tm send-keys -t z '?'
expect "? lists every key" wait_for "remaps" 5
tm send-keys -t z x
expect "any key leaves the help" wait_for "Does the galaxy have a ring?" 5
tm send-keys -t z q
for i in $(seq 1 50); do tm has-session -t z 2>/dev/null || break; sleep 0.1; done
expect "q quits" bash -c "! tmux -L '$SOCK' has-session -t z 2>/dev/null"

# a hostile catalog: escape sequences in the id and a metadata column, and no
# thumbnail (imported with --no-thumbs) nor file: shown sanitised, with a placeholder
mkdir evil && cp "$SHARED/decals_rings/$(sed -n 2p "$CAT" | cut -d, -f2)" evil/a.png
printf 'id,file,survey\nevil\033[31mRED\033]0;pwn\007,a.png,DECaLS\n' > evil/id.csv
printf 'id,file,survey\nevil,a.png,DECaLS\033[31mRED\033]0;pwn\007\033[2J\n' > evil/cat.csv
check "a workspace from a catalog with escapes in it" "$Z" init evil/ws --schema ring
check_fails "an id with escapes in it is refused at import" "$Z" import evil/ws evil/id.csv --no-thumbs
expect "naming the control character" grep -q "evil/id.csv:2: column id: id holds a control character (byte 0x1b" "$T/last.out"
check "imported without thumbnails (escapes in a text column)" "$Z" import evil/ws evil/cat.csv --no-thumbs
rm evil/a.png     # and its file gone: neither original nor thumbnail to draw
LANG=C.UTF-8 tm -u new-session -d -s e -x 100 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/evil.log' '$Z' label evil/ws --task ring --retrain 0; "
sleep 1.5
tm capture-pane -p -t e > evil.txt
tm capture-pane -e -p -t e > evil_attr.txt
expect "the survey column is shown with its escapes made harmless" grep -qF 'survey DECaLS?[31mRED?]0;pwn??[2J' evil.txt
expect "no red text: the catalog's SGR never reached the terminal" bash -c "! grep -qF \"\$(printf '\033[31m')\" evil_attr.txt"
expect "a missing thumbnail gets a placeholder" grep -q "placeholder shown" evil.log
tm send-keys -t e 1
sleep 0.5
tm send-keys -t e q
expect "and labeling goes on: the answer is stored" bash -c "'$Z' export evil/ws --format answers | grep -c ',ring,tree,' | grep -qx 1"

# a damaged JPEG thumbnail (its record cut in half behind zoosh's back):
# the placeholder and the reason in the log, never a crash; labeling goes on
mkdir dmg && head -3 "$CAT" > dmg/cat.csv
check "a workspace of two galaxies with JPEG thumbnails" "$Z" init dmg/ws --schema ring
mkdir dmg/images && for f in $(sed -n 2,3p dmg/cat.csv | cut -d, -f2); do cp "$SHARED/decals_rings/$f" dmg/$f; done
check "imported with their (JPEG) thumbnails" "$Z" import dmg/ws dmg/cat.csv --root dmg
rm -r dmg/images  # the originals gone: the labeler draws the stored thumbnails
mdb_dump -s thumbs dmg/ws > dmg/thumbs.dump
/usr/bin/python3 - dmg/thumbs.dump <<'EOF2'
import sys
lines = open(sys.argv[1]).read().split('\n')
head = lines[:lines.index('HEADER=END') + 1]
key, val = lines[len(head)].strip(), bytes.fromhex(lines[len(head) + 1].strip())
assert key == '00000001' and val[0] == 2 and val[1] == 1, (key, val[:2])
with open(sys.argv[1], 'w') as f:
    f.write('\n'.join(head) + '\n ' + key + '\n ' + val[:len(val) // 2].hex() + '\nDATA=END\n')
EOF2
check "thumbnail 1 cut in half" mdb_load -s thumbs -f dmg/thumbs.dump dmg/ws
expect "zoosh check finds the JPEG that does not decode (exit 3)" \
    test "$("$Z" check dmg/ws > dmg/check.out 2>&1; echo $?)" = 3
expect "... naming the galaxy and why" \
    grep -q "thumbnails: galaxy $(sed -n 2p dmg/cat.csv | cut -d, -f1) (gid 1): .*truncated JPEG" dmg/check.out
expect "... and only that: galaxy 2's is fine" grep -q "ws: 1 problem$" dmg/check.out
expect "check --quick does not decode thumbnails (exit 0)" "$Z" check dmg/ws --quick
LANG=C.UTF-8 tm -u new-session -d -s d -x 100 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/dmg.log' '$Z' label dmg/ws --task ring --retrain 0; "
sleep 1.5
expect "a damaged JPEG thumbnail gets a placeholder, with the reason in the log" \
    grep -q "galaxy 1: no readable image: .*thumbnail: galaxy 1: thumbnail: truncated JPEG.*placeholder shown" dmg.log
tm send-keys -t d 1
sleep 0.5
tm send-keys -t d q
sleep 0.3
expect "the labeler is still running after the damaged one and stores the answer" \
    bash -c "'$Z' export dmg/ws --format answers | grep -c ',ring,tree,' | grep -qx 1"

check "exports the raw answer log" "$Z" export ws --format answers -o answers.csv
n_tree=$(grep -c ',ring,tree,' answers.csv)
n_retract=$(grep -c ',ring,retract,' answers.csv)
expect "exactly 50 answers in the log (got $n_tree)" test "$n_tree" -eq 50
expect "exactly 5 retractions (got $n_retract)" test "$n_retract" -eq 5
check "exports labels" "$Z" export ws --format labels --task ring -o labels.csv
expect "45 galaxies keep a label (got $(($(wc -l < labels.csv) - 1)))" test "$(($(wc -l < labels.csv) - 1))" -eq 45
expect "the retractions undo the last 5 galaxies answered" \
    bash -c "tail -5 answers.csv | cut -d, -f10 | tr '\n' ' ' | grep -q '^50 49 48 47 46 \$'"
check "the workspace checks clean" "$Z" check ws
expect "nothing went to the log as an error" bash -c "! grep -qi 'fail\|error' '$T/label.log' 2>/dev/null"

# the status line draws the learning curve: train twice, the sparkline has a block per model
check "embeds the galaxies" "$Z" embed ws --quiet
check "trains the ring head" "$Z" train ws --task ring
check "and again" "$Z" train ws --task ring --order uncertain
LANG=C.UTF-8 tm -u new-session -d -s c -x 120 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/curve.log' '$Z' label ws --task ring --retrain 0; "
sleep 1.5
tm capture-pane -p -t c > curve.txt
tm send-keys -t c q
expect "the status line shows the model and its learning curve as a sparkline" \
    grep -qP 'model v2 .*auc [0-9.]+ [\x{2581}-\x{2588}]{2}' curve.txt

# a ring workspace with no labels at all, only embedded: the labeler ranks its
# first queue by the ring fraction zoosh's encoder predicts, before any answer
if [ -f "$ROOT/sample_data/encoder.safetensors" ]; then
    cut -d, -f1,2 "$CAT" > noring.csv
    check "a ring workspace without labels, embedded" sh -c \
        "'$Z' init pr --schema ring >/dev/null && '$Z' import pr noring.csv --root '$SHARED/decals_rings' >/dev/null && '$Z' embed pr --quiet >/dev/null"
    LANG=C.UTF-8 tm -u new-session -d -s p -x 120 -y 30 \
        "cd '$T' && exec env ZOOSH_LOG='$T/prior.log' '$Z' label pr --task ring --retrain 0; "
    tmp() { local i; for i in $(seq 1 100); do tm capture-pane -p -t p 2>/dev/null | grep -qF -- "$1" && return 0; sleep 0.1; done; return 1; }
    expect "the labeler re-ranks the queue by the task's prior before any answer" tmp "queue re-ranked"
    first=$("$Z" rank pr --task ring --stored --top 1 | cut -f1)
    tm send-keys -t p 2     # the galaxy on screen stays until answered: the queue changes between two
    expect "... and after the galaxy on screen, shows the stored queue's first ($first), not the catalog's second" \
        sh -c "test -n '$first' && test '$first' != '$(sed -n 3p "$CAT" | cut -d, -f1)' && sleep 0.5 && tmux -L '$SOCK' capture-pane -p -t p | grep -qF '$first'"
    expect "... a model fitted to the priors, in the log" grep -q "retrain done: v1 prior" prior.log
    tm send-keys -t p q
    sleep 0.5
    LANG=C.UTF-8 tm -u new-session -d -s p2 -x 120 -y 30 \
        "cd '$T' && exec '$Z' label pr --task ring --retrain 0; "
    tmp2() { local i; for i in $(seq 1 50); do tm capture-pane -p -t p2 2>/dev/null | grep -qF -- "$1" && return 0; sleep 0.1; done; return 1; }
    expect "opened again, the labeler starts at the stored queue's first galaxy ($first), not the catalog's" tmp2 "$first"
    expect "... and says the model is the prior's" tmp2 "model v1 prior"
    tm send-keys -t p2 q
fi
