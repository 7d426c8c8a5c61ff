#!/usr/bin/env bash
# label_grid.sh - label many at once: zoosh label --grid in tmux (text mode)
# on 40 real ring galaxies.  A page of the queue is marked with Space and
# saved with w: the exported answers are yes for exactly the marked tiles and
# no for the others, by this user; u retracts the whole page and brings it
# back marked; every tile shows its id (cut in the middle, its end kept) and
# its score (#rank, then the model's p(Ring) once a model exists) or, in the
# s grid, its distance; the s grid labels too; --grid refuses a tree task.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SOCK="zt-grid-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
wait_for() { tm_wait z "$1" "${2:-10}" || { tm capture-pane -p -t z | grep -v "▀" > "$T/fail.txt"; cat "$T/fail.txt" >&2; return 1; }; }
id_of() { sed -n "$(($1 + 1))p" "$CAT" | cut -d, -f1; }     # id_of GID (catalog order)
tail_of() { id_of "$1" | rev | cut -c1-8 | rev; }             # its last 8 characters
# answers ROW-KIND: "gid-id answer" lines of the tree records in the export
tree_answers() { "$Z" export ws --format answers | awk -F, '$5=="tree"{print $6, $8}'; }
start() {
    LANG=C.UTF-8 tm -u new-session -d -s z -x 100 -y 30 \
        "cd '$T' && exec env ZOOSH_LOG='$T/label.log' '$Z' label ws --task ring --retrain 0 $*; "
}
quit() { tm send-keys -t z q q; for i in $(seq 1 40); do tm has-session -t z 2>/dev/null || break; sleep 0.1; done; }

head -41 "$CAT" > cat40.csv
check "a ring workspace" "$Z" init ws --schema ring
check "imports 40 real ring galaxies" "$Z" import ws cat40.csv --root "$SHARED/decals_rings" --threads 1

start --grid
expect "--grid opens a page of the queue" wait_for "the coming queue: page of 10, 0 marked Ring" 10
tm capture-pane -p -t z > page1.txt
expect "tile 1 shows galaxy 1's id cut in the middle, its distinguishing end kept ($(tail_of 1))" grep -qF "$(id_of 1 | cut -c1-5)…$(id_of 1 | rev | cut -c1-11 | rev)" page1.txt
expect "tile 10 shows galaxy 10's id end ($(tail_of 10))" grep -qF "$(tail_of 10)" page1.txt
expect "each tile shows its digit, mark and score: its rank in the queue (no model yet)" grep -qF "1[ ] rank 1 " page1.txt
expect "... up to tile 10" grep -qF "0[ ] rank 10" page1.txt
expect "the keys are on the screen" grep -q "space mark Ring  w save page  u undo" page1.txt

# mark tiles 1, 3 and 8 (5 tiles a row): Space, Right Right Space, Down Space
tm send-keys -t z Space Right Right Space Down Space
expect "three tiles marked" wait_for "page of 10, 3 marked Ring" 5
tm send-keys -t z l Space Space 5 0 0  # tile 9 marked and unmarked; 5 marks tile 5; 0 twice: tile 10 not
expect "a digit marks its tile" wait_for "page of 10, 4 marked Ring" 5
sleep 0.3
tm capture-pane -p -t z > marked.txt
expect "marked tiles say so, the others not" bash -c "grep -oF '[x] ' marked.txt | wc -l | grep -qx 4 && grep -qF '5[x] ' marked.txt && grep -qF '0[ ] ' marked.txt"
tm send-keys -t z w
expect "w saves the page" wait_for "page saved: 10 answers" 5
expect "and shows the next page" wait_for "$(tail_of 11)" 5
expect "the status line counts the page's answers" wait_for "session 10 " 2
for g in $(seq 1 10); do
    case $g in 1|3|5|8) a=yes ;; *) a=no ;; esac
    echo "$(id_of "$g") $a"
done > want1.txt
tree_answers > got1.txt
expect "the export holds yes for the marked tiles (1, 3, 5, 8), no for the other 6" cmp -s want1.txt got1.txt
expect "each answer is this user's" bash -c "'$Z' export ws --format answers | awk -F, '\$5==\"tree\"{print \$3}' | sort -u | grep -qx '$(id -un)'"

tm send-keys -t z u
expect "u retracts the whole page" wait_for "page of 10 answers retracted" 5
expect "and brings it back, marked as it was saved" wait_for "page of 10, 4 marked Ring" 5
expect "the status line is back to 0" wait_for "session 0 " 2
n_ret=$("$Z" export ws --format answers | awk -F, '$5=="retract"' | wc -l)
expect "10 retractions in the log (got $n_ret)" test "$n_ret" -eq 10
expect "the retractions name the page's 10 records" \
    bash -c "'$Z' export ws --format answers | awk -F, '\$5==\"retract\"{print \$10}' | sort -n | tr '\n' ' ' | grep -qx '1 2 3 4 5 6 7 8 9 10 '"
check "labels export: nothing counts after the undo (exit 1: empty)" bash -c "! '$Z' export ws --format labels --task ring -o none.csv"

# saved again as it came back, then a second page with every tile marked
tm send-keys -t z w
expect "saved again" wait_for "session 10 " 5
tm send-keys -t z Space l Space l Space l Space l Space j Space h Space h Space h Space h Space w
expect "a second page, all 10 marked" wait_for "session 20 " 5
quit
check "labels export" "$Z" export ws --format labels --task ring -o labels.csv
n_yes=$(grep -c ',1$' labels.csv); n_no=$(grep -c ',0$' labels.csv)
expect "20 labels: 14 yes (4 + 10), 6 no (got $n_yes / $n_no)" test "$n_yes" = 14 -a "$n_no" = 6

check "embeds them (the model, the s grid)" "$Z" embed ws --quiet
# a model: the queue grid's score is its p(Ring); the s grid shows distances and labels
check "trains the ring head on the 20 answers" "$Z" train ws --task ring
start
expect "the labeler opens (on the model's queue)" wait_for "Does the galaxy have a ring?" 10
tm send-keys -t z g
expect "g opens the queue page" wait_for "the coming queue: page of 10" 5
expect "tiles show the model's probability of a ring" wait_for "1[ ] p 0." 5
tm send-keys -t z Escape
sleep 0.3
tm send-keys -t z s
expect "s opens the similar page" wait_for "most similar galaxies: page of" 5
expect "tiles show their distance" wait_for "1[ ] d " 5
tm capture-pane -p -t z > sim.txt
n_sim=$(grep -o 'page of [0-9]*' sim.txt | head -1 | cut -d' ' -f3)
tm send-keys -t z Space w
expect "w saves the s page and goes back to the galaxy" wait_for "Does the galaxy have a ring?" 5
quit
n_tree=$("$Z" export ws --format answers | awk -F, '$5=="tree"' | wc -l)
expect "the s page's $n_sim answers joined the log (got $((n_tree - 30)) beyond 30)" test "$n_tree" -eq $((30 + n_sim))

# a tree of several questions is labelled one galaxy at a time
check "a gz-decals workspace" "$Z" init ws2 --schema gz-decals
check "with the same galaxies" "$Z" import ws2 cat40.csv --root "$SHARED/decals_rings" --threads 1 --no-thumbs
check_fails "--grid refuses a task of several questions" "$Z" label ws2 --task gz-decals --grid
expect "saying why" grep -q "grid: task gz-decals asks .* questions: pages label one-question tasks" "$T/last.out"
expect "nothing went to the log as an error" bash -c "! grep -qi 'fail\|error' '$T/label.log' 2>/dev/null"
