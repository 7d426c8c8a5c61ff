#!/usr/bin/env bash
# label_guide.sh - what a volunteer expects of the labeler (issue 19 item 4),
# in text mode inside tmux on the real ring set:
#  - can't tell: on the yes/no ring question the key after the answers (3)
#    stores "cant-tell"; export --format answers lists it, labels leave it
#    out, and it replaces the user's earlier yes;
#  - notes and #tags: n opens a prompt, the text is stored exactly as typed
#    (UTF-8, a C1 control and a bidi override included), exported by
#    --format notes, shown in the side pane with the controls made harmless;
#  - the field guide (e): the Galaxy Zoo tutorial's examples per answer for
#    gz-decals, drawn as images (half blocks in tmux) or listed by file in
#    text mode; a custom tree's DIR/<question>/<answer>/ folder, where a
#    symbolic link is not shown;
#  - ra/dec: an OSC 8 link to the Legacy Survey viewer in the raw output
#    where links are on (forced with ZOOSH_HYPERLINKS=1 here, tmux passing
#    the bytes to pipe-pane), plain text in tmux by default.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
TUT=$SHARED/gz_tutorial
[ -f "$TUT/catalog.csv" ] || { skip "no $TUT"; exit 0; }

SOCK="zt-guide-$$"
wait_for() { tm_wait z "$1" "${2:-10}"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT

head -11 "$CAT" | tr -d '\r' > ten.csv
sed -i "s#,\([^,]*\.png\)#,$SHARED/decals_rings/\1#" ten.csv
awk -F, 'NR == 1 { print $0 ",ra,dec"; next } { printf "%s,%.5f,%.5f\n", $0, 10 + NR / 8, -1.25 - NR / 16 }' ten.csv > tenr.csv
mv tenr.csv ten.csv
check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports 10 real ring galaxies" "$Z" import ws ten.csv --threads 1
id1=$(sed -n 2p "$CAT" | cut -d, -f1)
id2=$(sed -n 3p "$CAT" | cut -d, -f1)
id3=$(sed -n 4p "$CAT" | cut -d, -f1)

LANG=C.UTF-8 tm -u new-session -d -s z -x 110 -y 30 \
    "cd '$T' && exec env ZOOSH_LOG='$T/label.log' '$Z' label ws --task ring --retrain 0 --order catalog; "
expect "the labeler shows the ring question" wait_for "Does the galaxy have a ring?"
expect "a yes/no question offers can't tell as answer 3" wait_for "3  can't tell" 2

# galaxy 1: yes, then back (undo) and can't tell instead
tm send-keys -t z 1
expect "galaxy 2 comes after an answer" wait_for "$id2" 5
tm send-keys -t z u
expect "undo goes back to galaxy 1" wait_for "previous answer retracted" 5
tm send-keys -t z 3
expect "can't tell moves on to galaxy 2" wait_for "$id2" 5
# galaxy 2: a note with a tag, a C1 CSI (U+009B), a bidi override and an accent, then no
note=$'\u202eevil \u009b31mRED ring? faint #lens #follow-up \u00e9t\u00e9'
tm send-keys -t z n
expect "n opens the note prompt" wait_for "note (#tags" 5
tm send-keys -t z -l "$note"
tm send-keys -t z Enter
expect "the note is saved" wait_for "note saved" 5
tm capture-pane -p -t z > note.txt
expect "the side pane shows the note" grep -q "notes: .*ring? faint #lens" note.txt
expect "the bidi override and the C1 control are shown as ?, not obeyed (31m stays visible)" grep -q "?evil ?31mRED" note.txt
expect "no raw escape or C1 byte on screen" bash -c "! grep -qP '\x1b|\xc2\x9b|\xe2\x80\xae' note.txt"
tm send-keys -t z 2
expect "galaxy 3 after no" wait_for "$id3" 5
tm send-keys -t z 1
tm send-keys -t z q
for i in $(seq 1 50); do tm has-session -t z 2>/dev/null || break; sleep 0.1; done

check "export --format answers" "$Z" export ws --format answers -o answers.csv
expect "the answers export lists can't tell" grep -q "ring,tree,$id1,ring,cant-tell" answers.csv
check "export --format labels" "$Z" export ws --format labels --task ring -o labels.csv
expect "labels leave can't tell out: galaxy 1 has no label (its earlier yes was replaced)" \
    bash -c "! grep -q '^$id1,' labels.csv"
expect "labels keep the no of galaxy 2" grep -q "^$id2,.*,0\$" labels.csv
expect "labels keep the yes of galaxy 3" grep -q "^$id3,.*,1\$" labels.csv

check "export --format notes" "$Z" export ws --format notes -o notes.csv
expect "the notes export's header" bash -c "head -1 notes.csv | grep -qx 'id_str,user,time,note,tags'"
python3 - "$note" "$id2" > notecheck.txt <<'PY'
import csv, sys, getpass
rows = list(csv.DictReader(open("notes.csv", encoding="utf-8", newline="")))
ok = len(rows) == 1 and rows[0]["note"] == sys.argv[1] and rows[0]["id_str"] == sys.argv[2] \
     and rows[0]["tags"] == "lens;follow-up" and rows[0]["user"] == getpass.getuser()
print("ok" if ok else "bad %r" % rows)
PY
expect "the note is exported with the exact text, its id, user and tags" grep -qx ok notecheck.txt

# a second note by the same user replaces the first; a note of bad UTF-8 is refused
LANG=C.UTF-8 tm -u new-session -d -s z -x 110 -y 30 \
    "cd '$T' && exec '$Z' label ws --task ring --retrain 0 --order catalog; "
expect "the labeler starts again" wait_for "Does the galaxy have a ring?"
tm send-keys -t z / && tm send-keys -t z -l "$id2" && tm send-keys -t z Enter
expect "jump to galaxy 2 shows its note" wait_for "notes: " 5
tm send-keys -t z n && tm send-keys -t z -l "second thoughts #ring" && tm send-keys -t z Enter
expect "the new note is shown" wait_for "second thoughts" 5
tm send-keys -t z q
for i in $(seq 1 50); do tm has-session -t z 2>/dev/null || break; sleep 0.1; done
check "export --format notes again" "$Z" export ws --format notes -o notes2.csv
expect "one note per user and galaxy: the latest" bash -c "[ \$(wc -l < notes2.csv) = 2 ] && grep -q 'second thoughts #ring,ring' notes2.csv"
check "check: the workspace with notes is clean" "$Z" check ws

# ra/dec as a link: galaxy 4 (the first not answered) is at ra 10.625, dec -1.5625 (ten.csv)
url='https://www.legacysurvey.org/viewer?ra=10.62500&dec=-1.56250&layer=ls-dr10&zoom=16'
LANG=C.UTF-8 tm -u new-session -d -s l -x 110 -y 30 "sleep 0.5; cd '$T' && exec env ZOOSH_HYPERLINKS=1 '$Z' label ws --task ring --retrain 0 --order catalog; "
tm pipe-pane -t l -o "cat >> '$T/raw_on.txt'"
expect "the labeler shows galaxy 4's ra and dec" tm_wait l "ra 10.62500  dec -1.56250" 10
sleep 0.3
tm send-keys -t l q
# the next labeler starts once this one has gone (its claim on galaxy 4 released)
for i in $(seq 1 100); do tm has-session -t l 2>/dev/null || break; sleep 0.1; done
expect "with links on, ra/dec is an OSC 8 link to the Legacy Survey viewer built from the numbers" \
    grep -qF $'\e]8;;'"$url"$'\e\\ra 10.62500  dec -1.56250\e]8;;\e\\' raw_on.txt
LANG=C.UTF-8 tm -u new-session -d -s m -x 110 -y 30 "sleep 0.5; cd '$T' && exec '$Z' label ws --task ring --retrain 0 --order catalog; "
tm pipe-pane -t m -o "cat >> '$T/raw_off.txt'"
expect "in tmux by default ra/dec is shown" tm_wait m "ra 10.62500  dec -1.56250" 10
sleep 0.3
tm send-keys -t m q
expect "... as plain text: no OSC 8 in the output" bash -c "[ -s raw_off.txt ] && ! grep -qF $'\e]8;' raw_off.txt"

# the field guide for gz-decals from the Galaxy Zoo tutorial
check "the gz-decals task" "$Z" init gz --schema gz-decals
check "imports the 10 galaxies" "$Z" import gz ten.csv --threads 1
LANG=C.UTF-8 tm -u new-session -d -s g -x 120 -y 40 "cd '$T' && exec '$Z' label gz --task gz-decals --retrain 0 --graphics blocks --guide '$TUT'; "
expect "gz-decals asks smooth or featured" tm_wait g "Is the galaxy simply smooth" 10
tm send-keys -t g e
expect "e opens the field guide for the question" tm_wait g "Field guide: Is the galaxy simply smooth" 5
sleep 0.5
tm capture-pane -p -t g > guide.txt
expect "each answer with its examples: Smooth" grep -q " 1  Smooth  (4 examples)" guide.txt
expect "... Features or disk" grep -q " 2  Features or disk  (4 examples)" guide.txt
expect "... Star or artifact" grep -q " 3  Star or artifact  (4 examples)" guide.txt
expect "the examples are drawn as images (half blocks under the answer)" \
    bash -c "[ \$(grep -A2 ' 1  Smooth' guide.txt | grep -c '▀') -ge 1 ]"
tm send-keys -t g x
expect "a key goes back to the galaxy" tm_wait g "1. Is the galaxy simply smooth" 5
tm send-keys -t g 2
expect "the next question: edge-on" tm_wait g "Could this be a disk viewed edge-on?" 5
tm send-keys -t g e
expect "the guide follows the question" tm_wait g "Field guide: Could this be a disk viewed edge-on?" 5
expect "the tutorial's Yes maps to 'Yes - edge on disk'" tm_wait g " 1  Yes - edge on disk  (4 examples)" 3
tm send-keys -t g q q
LANG=C.UTF-8 tm -u new-session -d -s t -x 120 -y 40 "cd '$T' && exec '$Z' label gz --task gz-decals --retrain 0 --graphics none --guide '$TUT'; "
expect "text mode starts" tm_wait t "Is the galaxy simply smooth" 10
tm send-keys -t t e
expect "text mode: the guide lists the example files" tm_wait t "decals-0_a-0_0.jpg" 5
tm capture-pane -p -t t > guide_text.txt
expect "text mode: and the answers" grep -q " 2  Features or disk  (4 examples)" guide_text.txt
tm send-keys -t t Escape q

# a custom tree: a folder per answer
printf 'task shape\nquestion shape "Round or not?"\n  answer round "Round"\n  answer long "Long"\n' > shape.txt
mkdir -p g2/shape/round g2/shape/long
cp "$TUT/images/decals-8_a-0_0.jpg" g2/shape/round/a.jpg
cp "$TUT/images/decals-8_a-0_1.jpg" g2/shape/round/b.jpg
cp "$TUT/images/decals-8_a-2_0.jpg" g2/shape/long/c.jpg
ln -s /etc/passwd g2/shape/long/evil.png
check "a workspace with a custom tree" "$Z" init cu --schema shape.txt
check "imports the 10 galaxies" "$Z" import cu ten.csv --threads 1
LANG=C.UTF-8 tm -u new-session -d -s c -x 120 -y 40 "cd '$T' && exec '$Z' label cu --task shape --retrain 0 --graphics none --guide g2; "
expect "the custom tree asks" tm_wait c "Round or not?" 10
tm send-keys -t c e
expect "its guide: Round with 2 examples" tm_wait c " 1  Round  (2 examples)" 5
tm capture-pane -p -t c > guide_custom.txt
expect "Long with 1 example: the symbolic link is not one" grep -q " 2  Long  (1 example)" guide_custom.txt
expect "the files are listed in name order" grep -q "a.jpg  b.jpg" guide_custom.txt
tm send-keys -t c Escape q
