#!/usr/bin/env bash
# badinput.sh - hostile input at the command line never crashes zoosh and never
# costs stored work: each case below exits non-zero (not by a signal) with a
# message naming the file or field, and the workspace it touched checks clean
# with the same bytes as before.
#   - a catalog header naming a column twice (once freed unset pointers);
#   - a workspace whose data.mdb was cut short (once SIGBUS in every command)
#     or emptied (once re-initialised by import), a file given as workspace;
#   - -o / --out / --plot pointed at a workspace's data.mdb (once replaced by
#     the export), at a device (must be written, never replaced), through a
#     symlink (the link stays, its target is written), at a directory;
#   - standard output that cannot be written (/dev/full): no exit 0;
#   - NaN / infinite features in a catalog, a CSV and a .npy.
. "$(dirname "$0")/lib.sh"
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
PY=/usr/bin/python3

# fails_cleanly SENTENCE PATTERN CMD...: non-zero exit below 128, stderr matches PATTERN
fails_cleanly() {
    local name=$1 pat=$2; shift 2
    "$@" >"$T/last.out" 2>&1; local st=$?
    if [ $st -ne 0 ] && [ $st -lt 128 ] && grep -qE -- "$pat" "$T/last.out"; then pass "$name"
    else fail "$name" "exit $st from: $* -- $(tail -c 300 "$T/last.out" | tr '\n' ' ')"; fi
}
sum() { cat "$1"/data.mdb | md5sum; }

head -41 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
id1=$(sed -n 2p a.csv | cut -d, -f1)
img=$(sed -n 2p a.csv | cut -d, -f2)
check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports 40 real ring galaxies" "$Z" import ws a.csv --threads 2
check "embeds them" "$Z" embed ws --threads 2 --quiet
s0=$(sum ws)

# ---- catalogs
printf 'id,id,file\nx,y,%s\n' "$img" > dup.csv
fails_cleanly "a header naming a column twice is refused, naming it" "dup.csv:1: column id: named twice" \
    "$Z" import ws dup.csv
printf 'id,file,feat_0,feat_1\nx1,%s,1.5,nan\n' "$img" > nanfeat.csv
fails_cleanly "a catalog feature column holding nan is refused with its line" "nanfeat.csv:2: .*feat_1.*not a finite number" \
    "$Z" import ws nanfeat.csv
printf 'id_str,feat_0,feat_1\n%s,1,inf\n' "$id1" > inf.csv
fails_cleanly "a feature CSV holding inf is refused, naming line, galaxy and feature" \
    "inf.csv:2: galaxy '$id1' .*feature 1: infinite" "$Z" import ws a.csv --features inf.csv --features-name nf
if $PY -c 'import numpy' 2>/dev/null; then
    sed 1d a.csv | cut -d, -f1 > ids.txt
    $PY -c 'import numpy as np; x = np.ones((40, 3), np.float32); x[7, 2] = np.nan; np.save("nan.npy", x)'
    fails_cleanly "a .npy holding NaN is refused, naming the galaxy and feature" \
        "nan.npy: galaxy '$(sed -n 8p ids.txt)' \(row 8\), feature 2: NaN" \
        "$Z" import ws a.csv --features nan.npy --ids ids.txt --features-name nf
else skip "no python3-numpy to write a .npy"; fi
expect "no feature set 'nf' was stored" bash -c "! '$Z' stats ws | grep -qw nf"
expect "the refused catalogs left data.mdb as it was" test "$(sum ws)" = "$s0"

# ---- outputs: never over a workspace, never replacing a device
"$Z" export ws --format answers -o ws/data.mdb >exp.out 2>&1; st=$?
expect "export -o onto the workspace's data.mdb is refused (exit $st)" test "$st" -eq 1
expect "and says it is a workspace's LMDB file ($(head -c 160 exp.out))" grep -q "data.mdb: is an LMDB database file" exp.out
fails_cleanly "simulate --plot onto lock.mdb is refused" "lock.mdb: .*is an LMDB database file" \
    "$Z" simulate ws --task ring --oracle ring --budget 20 --plot ws/lock.mdb
expect "the workspace is unchanged" test "$(sum ws)" = "$s0"
check "and checks clean" "$Z" check ws
mkfifo fifo
timeout 30 cat fifo > fifo.out & reader=$!   # an export that replaces the FIFO never opens it
check "export -o a FIFO writes into it" "$Z" export ws --format features -o fifo
wait $reader
expect "the FIFO is still a FIFO and its reader got the export" \
    bash -c "test -p fifo && test \$(wc -l < fifo.out) -eq 41"
check "export -o /dev/null succeeds" "$Z" export ws --format answers -o /dev/null
expect "/dev/null is still a character device" test -c /dev/null
ln -s sub/target.csv link.csv && mkdir sub
check "export -o through a symlink" "$Z" export ws --format features -o link.csv
expect "writes the link's target and keeps the link" \
    bash -c "test -L link.csv && test \$(wc -l < sub/target.csv) -eq 41"
fails_cleanly "export -o a directory is refused" "sub: is a directory" "$Z" export ws --format answers -o sub
echo keep > old.csv
fails_cleanly "a failed export (unknown task) leaves the old file" "." "$Z" export ws --format labels --task nope -o old.csv
expect "old.csv still holds what it held, no temporary beside it" \
    bash -c "test \"\$(cat old.csv)\" = keep && test \$(ls | grep -c '\\.tmp') -eq 0"

# ---- stdout that cannot be written
if [ -w /dev/full ]; then
    for c in "stats ws" "check ws" "similar ws $id1 -k 5" "rank ws --task ring" \
             "simulate ws --task ring --oracle ring --budget 20" "export ws --format features" "--help"; do
        fails_cleanly "zoosh $c into /dev/full fails, saying so" "writ.*(No space|failed)" \
            bash -c "exec '$Z' $c > /dev/full"
    done
else skip "no /dev/full"; fi

# ---- damaged workspaces
cp -r ws cut && truncate -s 65536 cut/data.mdb
for c in "stats cut" "check cut" "export cut --format answers" "similar cut $id1" "rank cut --task ring" \
         "import cut a.csv" "train cut --task ring" "backup cut bk" "embed cut --quiet"; do
    "$Z" $c >cut.out 2>&1; st=$?
    expect "zoosh ${c%% *} on a cut-short data.mdb: workspace status 3, not a signal ($st: $(head -c 120 cut.out))" \
        bash -c "test $st -eq 3 && grep -q 'damaged workspace: cut/data.mdb is cut short: 65536 bytes' cut.out"
done
expect "and the cut file was left as it was" test "$(stat -c %s cut/data.mdb)" -eq 65536
mkdir empty && : > empty/data.mdb
fails_cleanly "an empty data.mdb is a damaged workspace" "empty/data.mdb is empty" "$Z" stats empty
fails_cleanly "import does not write a new environment into it" "damaged workspace" "$Z" import empty a.csv
expect "it is still empty" test "$(stat -c %s empty/data.mdb)" -eq 0
echo x > plain
fails_cleanly "a plain file as workspace: not a directory (no 'create one with init')" \
    "plain: not a workspace \(a workspace is a directory" "$Z" stats plain
expect "the intact workspace still checks clean and is unchanged" \
    bash -c "'$Z' check ws >/dev/null && test \"\$(cat ws/data.mdb | md5sum)\" = '$s0'"

# ---- values out of range, options without values, stray arguments
s1=$(sum ws)
printf 'id,file,ring\nr1,%s,7\n' "$img" > ring7.csv
fails_cleanly "a label outside 0..1 is refused" "ring7.csv:2: column ring: 7 is not a label" "$Z" import ws ring7.csv
printf 'id,file,ring_yes\nr1,%s,-2\n' "$img" > neg.csv
fails_cleanly "a negative vote count is refused" "neg.csv:2: column ring_yes: -2 is not a vote count" "$Z" import ws neg.csv
printf 'id,file,ring_yes_fraction\nr1,%s,1.7\n' "$img" > frac.csv
fails_cleanly "a vote fraction above 1 is refused" "frac.csv:2: column ring_yes_fraction: 1.7 is not a vote fraction" \
    "$Z" import ws frac.csv
for rd in "ra,400,0:column ra: 400 is not a right ascension" "dec,10,-100:column dec: -100 is not a declination" \
          "ra,nan,0:column ra: not a number 'nan'" "dec,1,inf:column dec: not a number 'inf'"; do
    v=${rd%%:*} msg=${rd#*:}
    printf 'id,file,ra,dec\nr1,%s,%s,%s\n' "$img" "$(echo "$v" | cut -d, -f2)" "$(echo "$v" | cut -d, -f3)" > sky.csv
    fails_cleanly "a sky position out of range is refused ($(echo "$v" | cut -d, -f2,3))" "sky.csv:2: $msg" "$Z" import ws sky.csv
done
fails_cleanly "train --target that is no answer of the task is refused, listing them" \
    "--target nope_yes: not an answer of task 'ring' \(one of: ring_yes ring_no\)" "$Z" train ws --task ring --target nope_yes
fails_cleanly "train --hidden beyond what a head holds is refused" "--hidden 100000000: at most 1024" \
    "$Z" train ws --task ring --hidden 100000000
expect "and neither was remembered: data.mdb is unchanged" test "$(sum ws)" = "$s1"
for t in 0 -3 100000 x; do
    fails_cleanly "import --threads $t is refused" "--threads wants 1..64" "$Z" import ws a.csv --threads "$t"
done
fails_cleanly "import --features-name with a '/' is refused as embed --set is" "--features-name 'a/b': a name of 1.." \
    "$Z" import ws a.csv --features inf.csv --features-name a/b
fails_cleanly "similar -k without its value says so" "option '-k' needs a value" "$Z" similar ws "$id1" -k
fails_cleanly "export -o without its value says so" "option '-o' needs a value" "$Z" export ws --format answers -o
fails_cleanly "export with a stray argument names it" "unexpected argument 'extra'" "$Z" export ws extra --format answers
fails_cleanly "stats with a stray argument names it" "unexpected argument 'extra'" "$Z" stats ws extra
if $PY -c 'import numpy' 2>/dev/null; then
    $PY -c 'import numpy as np; np.save("i8.npy", np.ones((40, 3), np.int64))'
    fails_cleanly "a .npy of integers names its dtype" "i8.npy: .npy dtype '<i8' is not float32 or float64" \
        "$Z" import ws a.csv --features i8.npy --ids ids.txt
fi
expect "nothing of it changed the workspace" test "$(sum ws)" = "$s1"

# ---- a backup that fails on a full disk leaves no empty folder
( ulimit -f 64; trap '' XFSZ; exec "$Z" backup ws bk ) >bk.out 2>&1; st=$?
expect "a backup on a full disk fails, saying so ($st: $(head -c 120 bk.out))" \
    bash -c "test $st -ne 0 -a $st -lt 128 && grep -q 'disk full' bk.out"
expect "and leaves no bk folder behind" test ! -e bk

# ---- a workspace this user may not write: train and embed say so before working
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$T" && cp "$Z" zoosh.bin && chmod 755 zoosh.bin
    for c in "train ws --task ring" "embed ws --quiet"; do
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp ./zoosh.bin $c >ro.out 2>&1; st=$?
        expect "zoosh ${c%% *} without write permission: workspace status 3, 'read-only' ($st: $(head -c 100 ro.out))" \
            bash -c "test $st -eq 3 && grep -q 'read-only' ro.out"
    done
    expect "the workspace is unchanged" test "$(sum ws)" = "$s1"
else skip "needs root and setpriv to act as another user"; fi

# ---- zoosh sim into a folder that holds someone's catalog.csv
mkdir own && cp a.csv own/catalog.csv
fails_cleanly "sim into a folder with a catalog.csv it did not write refuses" "own/catalog.csv exists and was not written by zoosh sim" \
    "$Z" sim own -n 4 --quiet
expect "and leaves it as it was, with no images folder" bash -c "cmp -s a.csv own/catalog.csv && test ! -e own/images"
check "sim writes a fresh folder" "$Z" sim simd -n 4 --quiet
check "and may write it again (its own catalog)" "$Z" sim simd -n 4 --seed 2 --quiet

# ---- schema files and the tasks they make
PTY="$PY $ROOT/tests/fuzz/ptyrun.py"
printf 'task pca\nquestion q\n answer yes\n answer no\n' > pca.txt
fails_cleanly "a task named 'pca' (the PCA models' prefix) is refused" "pca.txt:1: task name 'pca' is reserved" \
    "$Z" init wpca --schema pca.txt
expect "and no workspace is made" test ! -e wpca/data.mdb
for q in $(seq 1 17); do printf 'question q%d\n answer y\n answer n\n' "$q"; done > long.txt
fails_cleanly "a tree that asks 17 questions on one path is refused (an answer holds 16)" \
    "long.txt:1: a galaxy can be asked 17 questions" "$Z" init wlong --schema long.txt
printf 'task r10\nrating 0 10\n' > r10.txt
fails_cleanly "a rating beyond 0..5 is refused" "'rating 0 10': need integers 0 <= MIN < MAX <= 5" "$Z" init wr --schema r10.txt
printf 'question a\n' > many.txt; for a in $(seq 1 11); do printf ' answer a%d\n' "$a"; done >> many.txt
fails_cleanly "an 11th answer (no key for it) is refused" "more than 10 answers" "$Z" init wm --schema many.txt
printf 'task -x\nquestion q\n answer y\n answer n\n' > dash.txt
fails_cleanly "a task name that reads as an option is refused" "starts with '-'" "$Z" init wd --schema dash.txt
check "init --schema interest makes just that task" "$Z" init wint --schema interest
expect "(no gz-decals added behind the user's back)" grep -q "with tasks: interest$" "$T/last.out"
printf 'task mytree\nquestion shape\n answer round\n answer flat\n' > t1.txt
printf 'task mytree\nquestion colour "Colour?"\n answer red\n answer blue\n' > t2.txt
printf 'task other\nquestion colour "Colour?"\n answer red\n answer blue\n' > t3.txt
check "a workspace with a custom tree" "$Z" init wt --schema t1.txt
check "and galaxies" "$Z" import wt a.csv --threads 2
printf 'sleep 2\nkeys q\nexpect-exit 10\n' | $PTY --out lab2.raw --timeout 30 -- env TERM=xterm "$Z" label wt --task t2.txt --graphics none 2>lab2.st
expect "label --task FILE with another tree of a stored task's name refuses ($(tr -d '\033' < lab2.raw | head -c 160))" \
    grep -qa "t2.txt: the workspace already has a task 'mytree' that is a different tree" lab2.raw
printf 'wait Colour 15\nkeys 1\nsleep 1\nkeys q\nexpect-exit 10\n' | \
    $PTY --out lab3.raw --timeout 40 -- env TERM=xterm ZOOSH_LOG="$T/wt/data.mdb" "$Z" label wt --task t3.txt --graphics none --retrain 0 2>lab3.st
expect "label --task FILE with a new task adds it to the workspace" bash -c "'$Z' stats wt | grep -q '^other '"
expect "the answer given under it is stored" bash -c "'$Z' export wt --format answers | grep -q ',other,'"
expect "ZOOSH_LOG naming data.mdb is not written to ($(tr -d '\033' < lab3.raw | grep -ao 'ZOOSH_LOG[^;]*' | head -1))" \
    grep -qa "names a workspace's LMDB file; not logging" lab3.raw
check "and the workspace checks clean (every answer's task is known)" "$Z" check wt

# ---- more catalogs and feature files
printf 'id,file\n"a\nb",%s\n' "$img" > nl.csv
fails_cleanly "an id holding a newline is refused" "nl.csv:2: column id: id holds a control character \(byte 0x0a" "$Z" import ws nl.csv
printf 'id,file\nx,%s\n' "$img" | iconv -t UTF-16 > u16.csv
fails_cleanly "a UTF-16 catalog is named as such" "u16.csv:1: UTF-16 text" "$Z" import ws u16.csv
$PY -c "print('id,file,' + ','.join('c%d' % i for i in range(200000)))" > wide.csv
fails_cleanly "a 200,000-column header is refused at once (it took 44 s)" "200000 text columns" timeout 20 "$Z" import ws wide.csv
printf 'id,file\nbad1,nope.png\nbad2,nope.png\n' > allbad.csv
fails_cleanly "--skip-bad when every row is bad is no success" "every row of allbad.csv was bad" "$Z" import ws allbad.csv --skip-bad
if $PY -c 'import numpy' 2>/dev/null; then
    printf '\xef\xbb\xbf' > bomids.txt; cat ids.txt >> bomids.txt
    $PY -c 'import numpy as np; np.save("ok.npy", np.ones((40, 3), np.float32))'
    check "an --ids file starting with a byte-order mark is read" "$Z" import ws a.csv --features ok.npy --ids bomids.txt --features-name bom
fi
fails_cleanly "similar with an empty id says so" "empty galaxy id" "$Z" similar ws ""
fails_cleanly "simulate --holdout nan is refused" "--holdout: bad value 'nan'" \
    "$Z" simulate ws --task ring --oracle ring --budget 10 --holdout nan
fails_cleanly "simulate --holdout leaving nothing to show says so" "no galaxy is left to show" \
    "$Z" simulate ws --task ring --oracle ring --budget 10 --holdout 0.999

# ---- a backup killed at any moment leaves either a whole workspace or none, and a retry works
"$Z" sim big -n 400 --size 128 --quiet --threads 2 && "$Z" init wbig >/dev/null && "$Z" import wbig big/catalog.csv --threads 2 >/dev/null
bad=0
for d in 0.005 0.01 0.02 0.04 0.08; do
    rm -rf kb
    "$Z" backup wbig kb >/dev/null 2>&1 & p=$!
    sleep $d; kill -TERM $p 2>/dev/null; wait $p 2>/dev/null
    if [ -e kb/data.mdb ] && ! "$Z" check kb >/dev/null 2>&1; then bad=$((bad + 1)); fi
    "$Z" backup wbig kb >/dev/null 2>&1 || [ -e kb/data.mdb ] || bad=$((bad + 1))
    "$Z" check kb >/dev/null 2>&1 || bad=$((bad + 1))
done
expect "5 backups killed part-way: no half copy taken for a workspace, every retry gave a clean one ($bad bad)" test "$bad" -eq 0

# ---- the labeler's large view in a tall terminal (the text panel got -2 columns: SIGSEGV)
for g in blocks none; do
    printf 'wait ring 15\nkeys v\nsleep 1\nkeys 1\nsleep 0.5\nkeys v\nsleep 0.5\nkeys q\nexpect-exit 5\n' | \
        $PTY --cols 80 --rows 50 --out large.raw --timeout 40 -- env TERM=xterm "$Z" label ws --task ring --graphics $g --retrain 0 2>large.st
    expect "'v' (large view) at 80x50 with --graphics $g and back: no crash ($(cat large.st))" grep -qx "exit 0" large.st
done

# ---- --order catalog survives the background retrain (it was silently switched to mixed)
"$Z" init wcat --schema ring >/dev/null && "$Z" import wcat a.csv --threads 2 >/dev/null && "$Z" embed wcat --threads 2 --quiet >/dev/null
printf 'wait ring 15\nkeys 1\nsleep 0.4\nkeys 2\nsleep 0.4\nkeys 1\nwait re-ranked 30\nsleep 0.5\nkeys 2\nsleep 0.5\nkeys 1\nsleep 1\nkeys q\nexpect-exit 5\n' | \
    $PTY --cols 120 --rows 40 --out cat.raw --timeout 40 -- env TERM=xterm "$Z" label wcat --task ring --order catalog --retrain 3 --graphics none 2>cat.st
expect "after a retrain the galaxies shown still follow the catalog ($("$Z" export wcat --format answers | cut -d, -f6 | tail -n +2 | tr '\n' ' '))" \
    bash -c "test \"\$('$Z' export wcat --format answers | cut -d, -f6 | sed -n 2,6p)\" = \"\$(sed -n 2,6p a.csv | cut -d, -f1)\""

# ---- stats counts the stars that stand, not every star and unstar
printf 'wait ring 15\nkeys f\nsleep 0.3\nkeys f\nsleep 0.3\nkeys f\nsleep 0.3\nkeys f\nsleep 0.3\nkeys f\nsleep 0.5\nkeys q\nexpect-exit 5\n' | \
    $PTY --cols 120 --rows 40 --out fav.raw --timeout 40 -- env TERM=xterm "$Z" label wcat --task ring --graphics none --retrain 0 2>fav.st
expect "starred, unstarred, starred, unstarred, starred: stats says 1 favourite ($("$Z" stats wcat | grep -A1 "^task" | tail -1))" \
    bash -c "'$Z' stats wcat | grep -A1 '^task' | awk '\$1 == \"ring\" {print \$4}' | grep -qx 1"

# ---- quitting in the middle of a tree says that galaxy was not saved
printf 'task two\nquestion a "First?"\n answer x\n answer y\nquestion b "Second?"\n answer p\n answer q\n' > two.txt
printf 'wait First 15\nkeys 1\nwait Second 5\nkeys q\nexpect-exit 5\n' | \
    $PTY --cols 120 --rows 40 --out half.raw --timeout 40 -- env TERM=xterm "$Z" label wcat --task two.txt --graphics none --retrain 0 2>half.st
expect "quit after 1 of 2 questions: told the galaxy left half-way was not saved" \
    grep -qa "the galaxy left half-way (1 question of its tree answered) was not saved" half.raw

# ---- a copy opened to everyone stays open after the first user creates lock.mdb
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$T" && cp "$Z" zoosh.bin && chmod 755 zoosh.bin
    "$Z" backup wcat open >/dev/null && chmod -R a+rwX open
    setpriv --reuid=20001 --regid=20001 --clear-groups env HOME=/tmp ./zoosh.bin train open --task ring >u1.out 2>&1
    setpriv --reuid=20002 --regid=20002 --clear-groups env HOME=/tmp ./zoosh.bin train open --task ring >u2.out 2>&1; st=$?
    expect "a second user can still write after the first made lock.mdb ($st: $(tail -1 u2.out | cut -c1-80); $(stat -c '%A %u' open/lock.mdb))" test "$st" -eq 0
fi

# ---- a terminal that cannot move the cursor, or an unknown TERM: a clear refusal, not a garbled screen
for t in dumb nosuchterm; do
    printf 'sleep 2\nkeys q\nexpect-exit 5\n' | $PTY --cols 100 --rows 30 --out term.raw --timeout 20 -- \
        env TERM=$t "$Z" label wcat --task ring --graphics none 2>term.st
    expect "label with TERM=$t exits 1 saying it needs a full-screen terminal ($(cat term.st))" \
        bash -c "grep -qx 'exit 1' term.st && grep -qa 'TERM=$t.*the labeler needs a full-screen terminal' term.raw"
done

# ---- the smallest terminal (50x12) still shows every answer of a 5-answer question
if command -v tmux >/dev/null; then
    printf 'task five\nquestion size "How big?"\n answer a "Dominant"\n answer b "Large"\n answer c "Moderate"\n answer d "Small"\n answer e "None"\n' > five.txt
    SOCK=zt-bad-$$
    tmux -L $SOCK new-session -d -x 50 -y 12 "cd '$T' && env TERM=xterm-256color '$Z' label wcat --task five.txt --graphics none --retrain 0"
    for i in $(seq 1 40); do tmux -L $SOCK capture-pane -p > small.txt 2>/dev/null; grep -q "How big" small.txt && break; sleep 0.1; done
    sleep 0.3; tmux -L $SOCK capture-pane -p > small.txt
    tmux -L $SOCK send-keys q; sleep 0.3; tmux -L $SOCK kill-server 2>/dev/null
    expect "at 50x12 all five answers are on screen ($(grep -c '^ *[1-5]  ' small.txt) of 5)" test "$(grep -c '^ *[1-5]  ' small.txt)" -eq 5
fi
