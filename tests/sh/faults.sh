#!/usr/bin/env bash
# faults.sh - a workspace the user may not write, a workspace shared by a Unix
# group, and a full disk.
#   - a user without write permission (uid nobody: the tests run as root, who
#     may write anything) gets a read-only explanation from import and label,
#     can still read (stats, rank), and nothing changes;
#   - volunteers of one Unix group (uids 2000N, gid 30000, group-writable
#     workspace) all label it, a user outside the group gets the explanation;
#   - a full disk (simulated with `ulimit -f`: SIGXFSZ ignored, so writes past
#     the limit fail with EFBIG as they would with ENOSPC) during an import
#     gives a clear message, a non-zero exit, and leaves the workspace as it
#     was: it checks clean and holds the same galaxies and answers; an embed
#     on a full disk exits 1 (a failed operation) and leaves no half-made set.
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || { skip "no setpriv"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "needs root to switch users"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
PTY="/usr/bin/python3 $ROOT/tests/fuzz/ptyrun.py"
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin && chmod 755 "$T" "$Z"
as() { local u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups env HOME=/tmp "$@"; }
galaxies() { "$Z" stats "$1" 2>/dev/null | awk '$1 == "galaxies" {print $2}'; }
answers() { "$Z" export "$1" --format answers 2>/dev/null | tail -n +2 | wc -l; }

head -41 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
(head -1 "$CAT"; tail -n +42 "$CAT") | sed "s#,images/#,$SHARED/decals_rings/images/#" > b.csv
chmod 644 a.csv b.csv
check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports 40 real ring galaxies" nice "$Z" import ws a.csv --threads 1
check "embeds them" nice "$Z" embed ws --threads 1 --quiet
mkdir -m 777 out

# ---- read-only: uid nobody, the workspace is root's (755 / 644)
sum0=$(cat ws/*.mdb | md5sum)
as 65534 65534 "$Z" import ws b.csv --threads 1 >ro_import.txt 2>&1; st=$?
expect "import without write permission fails with the workspace status ($st)" test "$st" -eq 3
expect "and says the workspace is read-only ($(head -c 160 ro_import.txt))" grep -qi "read-only" ro_import.txt
printf 'sleep 2\nkeys 1\nsleep 1\nkeys q\nexpect-exit 5\n' | $PTY --out out/ro_label.raw --timeout 20 -- \
    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp TERM=xterm "$Z" label ws --task ring --graphics none --retrain 0 2>ro_label.st
expect "the labeler without write permission explains it is read-only (at start or at the first answer) ($(tr -d '\033' < out/ro_label.raw | tail -c 200 | tr '\r\n' '  '))" \
    grep -qai "read-only" out/ro_label.raw
check "stats still works for that user" as 65534 65534 "$Z" stats ws
check "rank still works for that user" as 65534 65534 "$Z" rank ws --task ring --top 5
expect "nothing in the workspace changed" test "$(cat ws/*.mdb | md5sum)" = "$sum0"

# ---- a Unix group of volunteers (gid 30000)
chgrp -R 30000 ws && chmod -R g+rwX,o-rwx ws && chmod g+s ws
for u in 1 2 3; do
    printf 'wait ring? 15\nkeys 1\nsleep 0.5\nkeys 2\nsleep 0.5\nkeys q\nexpect-exit 10\n' |
        $PTY --out out/grp$u.raw --timeout 30 -- setpriv --reuid=$((20000 + u)) --regid=30000 --clear-groups \
        env HOME=/tmp TERM=xterm LANG=C.UTF-8 "$Z" label ws --task ring --graphics none --retrain 0 2>grp$u.st
done
n=$("$Z" export ws --format answers | grep -c ',uid2000[123],ring,tree,')
expect "three members of the group label the shared workspace (6 answers, got $n)" test "$n" -eq 6
check "the shared workspace checks clean" "$Z" check ws
as 20009 20009 "$Z" import ws b.csv --threads 1 >grp_out.txt 2>&1; st=$?
expect "a user outside the group gets the explanation ($st: $(head -c 160 grp_out.txt))" \
    bash -c "[ $st -ne 0 ] && grep -qiE 'read-only|permission' grp_out.txt"

# ---- disk full during an import
g0=$(galaxies ws) a0=$(answers ws)
size_kb=$(( $(stat -c %s ws/data.mdb) / 1024 ))
( trap '' XFSZ; ulimit -f $((size_kb + 256)); exec "$Z" import ws b.csv --threads 1 ) >full.txt 2>&1; st=$?
expect "an import on a full disk fails with a non-zero exit, not a signal ($st)" test "$st" -ge 1 -a "$st" -lt 128
expect "and says why ($(head -c 200 full.txt | tr '\n' ' '))" grep -qiE "disk full|no space|too large|space" full.txt
check "the workspace checks clean after the full disk" "$Z" check ws
expect "it holds the galaxies and answers it had ($g0/$a0 -> $(galaxies ws)/$(answers ws))" \
    test "$(galaxies ws)" = "$g0" -a "$(answers ws)" = "$a0"
check "with space again the import completes" nice "$Z" import ws b.csv --threads 1
expect "all 200 galaxies are there (got $(galaxies ws))" test "$(galaxies ws)" -eq 200
# an embed on a full disk: a failed operation (1), not a workspace problem (3)
size_kb=$(( $(stat -c %s ws/data.mdb) / 1024 ))
( trap '' XFSZ; ulimit -f $((size_kb + 64)); exec "$Z" embed ws --method pixels --set px --pca 0 --threads 1 --quiet ) >full.txt 2>&1; st=$?
expect "an embed on a full disk exits 1 ($st)" test "$st" -eq 1
expect "and says the disk is full ($(head -c 200 full.txt | tr '\n' ' '))" grep -q "disk full" full.txt
check "the workspace checks clean after it (no half-made set)" "$Z" check ws
# and while labeling: answers past the limit fail, the ones before stay
size_kb=$(( $(stat -c %s ws/data.mdb) / 1024 ))
a1=$(answers ws)
printf 'wait ring? 15\nkeys 1\nsleep 0.4\nkeys 2\nsleep 0.4\nkeys 1\nsleep 0.4\nkeys q\nexpect-exit 10\n' |
    $PTY --out out/full_label.raw --timeout 30 -- bash -c "trap '' XFSZ; ulimit -f $size_kb; exec env TERM=xterm '$Z' label ws --task ring --graphics none --retrain 0" 2>full_label.st
expect "the labeler on a full disk ends or carries on without a crash ($(cat full_label.st))" grep -qE '^exit [0-9]+$' full_label.st
check "the workspace checks clean after labeling on a full disk" "$Z" check ws
expect "no answer was lost or half-written ($a1 -> $(answers ws))" test "$(answers ws)" -ge "$a1"
