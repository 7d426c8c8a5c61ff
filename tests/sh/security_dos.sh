#!/usr/bin/env bash
# security_dos.sh - one group member cannot stop everyone (issue 21, item 7).
# A group member may write any record with any LMDB tool (here python3-lmdb,
# as uid 20001 in the workspace's group):
#   - an answer record at key ffffffffffffffff: the labelers' later commits
#     still get their seqs (from the highest key zoosh can have handed out),
#     exports ignore the forged record and check names it;
#   - a garbage 'zoosh' meta value (with an escape sequence): stats and
#     backup still read the workspace and name the key (the escape shown as
#     \x1b), commands that write refuse it with the same reason;
#   - zoosh check WS --repair DEST copies every valid record into a fresh
#     workspace that checks clean and takes commits, and lists what it left.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
command -v setpriv >/dev/null || { skip "no setpriv"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "needs root to act as a group member"; exit 0; }
/usr/bin/python3 -c 'import lmdb' 2>/dev/null || { skip "no python3-lmdb"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SOCK="zt-dos-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T"
head -21 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
check "a workspace of 20 ring galaxies" "$Z" init ws --schema ring
check "imported" "$Z" import ws a.csv --threads 2
check "embedded" env ZOOSH_ENCODER=none "$Z" embed ws --threads 2 --quiet
chgrp -R 30000 ws && chmod -R g+rwX ws
answers() { "$Z" export "$1" --format answers 2>/dev/null | tail -n +2 | wc -l; }
label() {   # label WS N: N answers ('1') in the real labeler, then q
    tm new-session -d -s l -x 120 -y 30 "cd '$T' && TERM=xterm-256color LANG=C.UTF-8 '$Z' label $1 --task ring --graphics none --retrain 0"
    tm_wait l "Does the galaxy have a ring" 20 || { fail "the labeler did not start on $1"; tm kill-server; return; }
    for _ in $(seq 1 "$2"); do tm send-keys -t l 1; sleep 0.4; done
    tm send-keys -t l q
    for _ in $(seq 1 40); do tm has-session -t l 2>/dev/null || break; sleep 0.1; done
    tm kill-server 2>/dev/null
}
forge() {   # forge WS PYTHON: runs PYTHON with env (lmdb) and a (answers), m (meta) as group member 20001
    setpriv --reuid=20001 --regid=30000 --clear-groups env HOME=/tmp /usr/bin/python3 -c "
import lmdb
env = lmdb.open('$1', max_dbs=16)
a, m = env.open_db(b'answers'), env.open_db(b'meta')
with env.begin(write=True) as t:
    $2
"
}

label ws 1
expect "one answer committed" test "$(answers ws)" -eq 1
forge ws "t.put(b'\\xff' * 8, b'\\x01forged', db=a)" && pass "a group member writes an answer at key ffffffffffffffff"
label ws 2
expect "the next two commits still land ($(answers ws) answers exported, want 3)" test "$(answers ws)" -eq 3
"$Z" check ws > chk.out 2>&1; st=$?
expect "check exits 3 ($st) and names the forged key" sh -c "test $st -eq 3 && grep -q 'key ffffffffffffffff' chk.out"

forge ws "t.put(b'zoosh', b'\\x1b[31mowned', db=m)" && pass "a group member overwrites the 'zoosh' meta value"
"$Z" stats ws > st.out 2>&1; st=$?
expect "stats still reads the workspace ($st)" test "$st" -eq 0
expect "... and names the key, the escape shown, not sent" sh -c "grep -q \"meta key 'zoosh'\" st.out && grep -qF '\\x1b[31mowned' st.out && ! grep -q \$'\\x1b' st.out"
check "backup still copies it" "$Z" backup ws bk
"$Z" train ws --task ring > tr.out 2>&1; st=$?
expect "a command that writes refuses it with exit 3 ($st), naming the key" sh -c "test $st -eq 3 && grep -q \"meta key 'zoosh'\" tr.out"

check "check --repair makes a repaired copy" "$Z" check ws --repair fixed
expect "... and lists the forged record it left behind" grep -q "left behind: answers: key ffffffffffffffff" last.out
check "the repaired copy checks clean" "$Z" check fixed
expect "... holds the 3 answers ($(answers fixed)) and the 20 galaxies" \
    sh -c "test $(answers fixed) -eq 3 && $Z stats fixed | grep -q '^galaxies *20'"
check "... and takes training" "$Z" train fixed --task ring
label fixed 1
expect "... and commits ($(answers fixed) answers)" test "$(answers fixed)" -eq 4
check_fails "--repair into a folder that holds a workspace is refused" "$Z" check ws --repair fixed
check "and the copy there is untouched" "$Z" check fixed

# a galaxy record that does not parse: repair renumbers the galaxies densely
# and carries the answers, vectors and thumbnails of the others across
cp -r fixed g && chgrp -R 30000 g && chmod -R g+rwX g
forge g "t.put(b'\\x00\\x00\\x00\\x05', b'junk', db=env.open_db(b'galaxies', txn=t))" && pass "a group member garbles galaxy 5"
check "check --repair of it" "$Z" check g --repair g2
expect "... lists the galaxy it left behind" grep -q "left behind: galaxies: record of gid 5 does not parse" last.out
check "... into a copy that checks clean" "$Z" check g2
expect "... with 19 galaxies, each with its morph vector" \
    sh -c "$Z stats g2 | grep -q '^galaxies *19' && $Z stats g2 | grep -qE 'morph +270-d +19 vectors'"
