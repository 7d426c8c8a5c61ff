#!/usr/bin/env bash
# corrupt.sh - zoosh check on a damaged data.mdb (issue 21, item 9): pages of
# an older copy of the workspace mixed into a newer one (stale pages after a
# power loss, a torn copy), 1-50% of them, 40 files from a fixed seed.  LMDB
# may assert and abort on such a file; check and stats walk in a child
# process first, so they never die by a signal: check says "damaged" or
# lists problems and exits 3, or finds the file whole (the pages mixed in
# were free ones) and exits 0; stats says "damaged workspace" (or which read failed) and exits non-zero.
# No command that writes (import, embed, train, label) changes such a file:
# opening to write tests the B-tree's pages first, and a check that found
# the pages damaged leaves ws/check-failed, which writers also refuse.
. "$(dirname "$0")/lib.sh"
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
head -41 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
(head -1 "$CAT"; sed -n '42,101p' "$CAT") | sed "s#,images/#,$SHARED/decals_rings/images/#" > b.csv
check "a workspace of 40 real ring galaxies" "$Z" init ws --schema ring
check "imported" "$Z" import ws a.csv --threads 2
check "embedded" "$Z" embed ws --threads 2 --quiet
cp ws/data.mdb old.mdb
check "60 more galaxies imported and embedded" sh -c "'$Z' import ws b.csv --threads 2 && '$Z' embed ws --threads 2 --quiet"
check "and a model trained" "$Z" train ws --task ring
check "the newer workspace checks clean" "$Z" check ws

/usr/bin/python3 - old.mdb ws/data.mdb <<'PY'
import os, random, sys
old = open(sys.argv[1], 'rb').read()
new = open(sys.argv[2], 'rb').read()
P = 4096
n_old, n_new = len(old) // P, len(new) // P
rng = random.Random(21)
for i in range(40):
    frac = rng.uniform(0.01, 0.50)
    # the two meta pages stay the newer file's: it must still open as itself
    pages = rng.sample(range(2, min(n_old, n_new)), max(1, int(frac * (min(n_old, n_new) - 2))))
    b = bytearray(new)
    for p in pages:
        b[p * P:(p + 1) * P] = old[p * P:(p + 1) * P]
    os.makedirs('m%02d' % i)
    open('m%02d/data.mdb' % i, 'wb').write(bytes(b))
PY
# Commands that write refuse a file whose pages fail the sanity test (before
# any check has run on it): data.mdb keeps its bytes.  Export writes a file
# outside the workspace, so it is not one of them.
changed=0 refused=0 wsig=0
for d in m[0-9][0-9]; do
    sum=$(cksum < "$d/data.mdb")
    for c in "import $d b.csv --threads 1" "embed $d --quiet --threads 1" "train $d --task ring" "label $d --task ring"; do
        # shellcheck disable=SC2086
        "$Z" $c < /dev/null > "$d.w" 2>&1; st=$?
        [ $st -ge 128 ] && wsig=$((wsig + 1))
        [ $st -eq 3 ] && grep -q 'damaged' "$d.w" && refused=$((refused + 1))
    done
    [ "$(cksum < "$d/data.mdb")" = "$sum" ] || { changed=$((changed + 1)); echo "# $d: a writing command changed data.mdb"; }
done
echo "# 40 mixed files x 4 writing commands: $refused refused as damaged, $changed files changed"
expect "no writing command changes a mixed-page data.mdb ($changed of 40 changed)" test "$changed" -eq 0
expect "each refuses it as damaged with exit 3 ($refused of 160)" test "$refused" -eq 160
expect "none dies by a signal ($wsig)" test "$wsig" -eq 0

sig=0 damaged=0 clean=0 other=0 quiet=0 ssig=0
for d in m[0-9][0-9]; do
    "$Z" stats "$d" > "$d.stats" 2>&1; st=$?
    [ $st -ge 128 ] && { ssig=$((ssig + 1)); echo "# $d: stats died with status $st"; }
    "$Z" check "$d" > "$d.out" 2>&1; st=$?
    if [ $st -ge 128 ]; then sig=$((sig + 1)); echo "# $d: check died with status $st"
    elif [ $st -eq 3 ]; then damaged=$((damaged + 1)); grep -qE 'damaged|problem' "$d.out" || quiet=$((quiet + 1))
    elif [ $st -eq 0 ]; then clean=$((clean + 1))
    else other=$((other + 1)); echo "# $d: exit $st: $(head -c 200 "$d.out")"; fi
done
echo "# 40 mixed files: $damaged damaged (exit 3), $clean whole, $sig died by a signal, $other other"
expect "zoosh check never dies by a signal on a mixed-page file ($sig of 40 did)" test "$sig" -eq 0
expect "it exits 3 (damaged) or 0 (whole), nothing else ($other)" test "$other" -eq 0
expect "every exit 3 says what is wrong ($quiet did not)" test "$quiet" -eq 0
expect "most mixed files are found damaged ($damaged of 40)" test "$damaged" -ge 30
expect "zoosh stats never dies by a signal on them either ($ssig of 40 did)" test "$ssig" -eq 0

cp -r ws marked
echo "a test: check found damage" > marked/check-failed
check_fails "a writer refuses a workspace whose last check left check-failed" "$Z" train marked --task ring
expect "and says why" grep -q "last zoosh check found" last.out
check "a clean check removes the marker" "$Z" check marked
expect "the marker is gone" test ! -e marked/check-failed
check "and writing works again" "$Z" train marked --task ring
m=$(for d in m[0-9][0-9]; do [ -e "$d/check-failed" ] && echo "$d"; done | wc -l)
expect "a check that found pages damaged left check-failed ($m of $damaged)" test "$m" -ge 1
