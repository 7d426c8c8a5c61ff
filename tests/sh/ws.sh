#!/usr/bin/env bash
# ws.sh - the workspace commands through the real binary: zoosh init / stats /
# check / backup, their messages and exit codes (0 ok, 1 failure, 2 usage,
# 3 workspace problem).  Records are put in with liblmdb's own mdb_load (the
# layout of store/store_records.c), so stats and check see answers from several users,
# retractions and damaged records without needing the labeler.
. "$(dirname "$0")/lib.sh"
Z=${ZOOSH:-$Z}
PY=/usr/bin/python3

# status CMD...: runs CMD, output in $T/last.out, prints the exit status
status() { "$@" >"$T/last.out" 2>&1; echo $?; }
out() { cat "$T/last.out"; }

for c in init stats check backup; do
    expect "zoosh $c --help prints its usage and exits 0" \
        bash -c "'$Z' $c --help | grep -q 'usage: zoosh $c'"
done
expect "stats without a workspace is a usage error (2)" test "$(status $Z stats)" -eq 2
expect "backup with one argument is a usage error (2)" test "$(status $Z backup ws)" -eq 2
expect "init with an unknown option is a usage error (2)" test "$(status $Z init ws --frobnicate)" -eq 2
expect "and names it as every command does" grep -q "zoosh init: unknown option '--frobnicate' (zoosh init --help)" "$T/last.out"
expect "check with an unknown option is a usage error (2)" test "$(status $Z check ws --frobnicate)" -eq 2
expect "and names it" grep -q "zoosh check: unknown option '--frobnicate'" "$T/last.out"
expect "backup with an unknown option is a usage error (2)" test "$(status $Z backup --frob a b)" -eq 2
expect "and names it" grep -q "zoosh backup: unknown option '--frob'" "$T/last.out"
check "init --schema=ring (getopt_long's --opt=value) works" $Z init wseq --schema=ring
check "init WS -s ring,gz2 (options after the workspace, short form) works" $Z init wss -s ring,gz2
expect "it enabled both" grep -q "ring gz2 interest" "$T/last.out"

# --- init
check "init creates a workspace" $Z init ws
expect "init says which tasks it enabled" grep -q "gz-decals interest" "$T/last.out"
expect "the workspace is one LMDB environment" test -f ws/data.mdb
expect "init refuses an existing workspace (exit 1)" test "$(status $Z init ws)" -eq 1
expect "the refusal names the workspace" grep -q "ws already holds a workspace" "$T/last.out"

# two inits of the same directory at the same instant: exactly one creates
# it, the other is refused as above (exit 1, "already exists"); both are
# released together from a FIFO, 16 rounds, two schemas so a lost update shows
mkfifo go
both=0 none=0 msg=0 tasks=0
for r in $(seq 16); do
    for k in 1 2; do
        ( read -r _ < go; sch=ring; [ $k = 2 ] && sch=gz2
          "$Z" init race$r --schema $sch >race$r.out$k 2>&1; echo $? > race$r.st$k ) &
    done
    sleep 0.05
    printf 'x\nx\n' > go
    wait
    a=$(cat race$r.st1) b=$(cat race$r.st2)
    if [ "$a" = 0 ] && [ "$b" = 0 ]; then both=$((both + 1))
    elif [ "$a" != 0 ] && [ "$b" != 0 ]; then none=$((none + 1))
    else
        loser=1; [ "$a" = 0 ] && loser=2
        [ "$(cat race$r.st$loser)" = 1 ] && grep -q "already exists" race$r.out$loser && msg=$((msg + 1))
        # the workspace holds the winner's task, not a mix of both
        winner=$((3 - loser)); want=ring; [ $winner = 2 ] && want=gz2
        "$Z" stats race$r > race$r.stats 2>&1 && grep -q "$want" race$r.stats && tasks=$((tasks + 1))
    fi
done
expect "two simultaneous inits never both succeed (16 rounds: $both did)" test $both -eq 0
expect "and never both fail ($none did)" test $none -eq 0
expect "the loser exits 1 saying the workspace already exists ($msg of 16)" test $msg -eq 16
expect "the workspace is the winner's and opens ($tasks of 16)" test $tasks -eq 16

cat > bars.schema <<'EOF'
# my own tree
task bars
question shape "Smooth or featured?"
  answer smooth "Smooth"
  answer featured "Features"
question bar "Any bar?" requires shape_featured
  answer yes
  answer no
EOF
check "init takes a built-in and a custom schema" $Z init ws2 --schema ring --schema bars.schema
expect "both are enabled, with interest" grep -q "tasks: ring bars interest" "$T/last.out"
mv bars.schema elsewhere.schema
check "stats works with the schema file gone (stored inside)" $Z stats ws2
expect "stats lists the custom task" grep -q "^bars " "$T/last.out"
expect "the schema text is kept in meta" bash -c "mdb_dump -p -s meta ws2 | grep -q 'schema/bars'"

printf 'question shape\n  answer smooth\n  answer featured\nquestion bar requires shape_nope\n  answer yes\n  answer no\n' > bad.schema
expect "a bad schema file is refused (exit 1)" test "$(status $Z init ws3 --schema bad.schema)" -eq 1
expect "the message names file and line" grep -q "bad.schema:4: 'requires shape_nope'" "$T/last.out"
expect "nothing was created for the bad schema" test ! -e ws3/data.mdb
expect "an unknown schema name is refused (exit 1)" test "$(status $Z init ws3 --schema gz-nope)" -eq 1
expect "the message lists the built-ins" grep -q "gz-decals" "$T/last.out"

# --- records through mdb_load (store_records.c layout v1)
$PY - <<'EOF'
import struct, time
def s(x): b = x.encode(); return struct.pack('<H', len(b)) + b
def dump(name, rows):
    with open(name + '.dump', 'w') as f:
        f.write('VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n')
        for k, v in rows: f.write(' ' + k.hex() + '\n ' + v.hex() + '\n')
        f.write('DATA=END\n')
gal, ids = [], []
for g, name in enumerate(['G1', 'G2', 'G3'], 1):
    gal.append((struct.pack('>I', g), b'\x01' + s(name) + s('img/%s.png' % name) + struct.pack('<ddH', 1.0 * g, -2.0, 0)))
    ids.append((name.encode(), struct.pack('>I', g)))
dump('galaxies', gal); dump('ids', ids)
now = int(time.time() * 1e6)
def ans(seq, gid, user, task, kind, rating=0, retracts=0, steps=()):
    v = b'\x01' + struct.pack('<IqBbQ', gid, now, kind, rating, retracts) + s(user) + s(task) + bytes([len(steps)])
    for q, a in steps: v += s(q) + s(a)
    return (struct.pack('>Q', seq), v)
rows = [ans(1, 1, 'alice', 'ring', 1, steps=[('ring', 'yes')]),
        ans(2, 2, 'alice', 'ring', 1, steps=[('ring', 'no')]),
        ans(3, 2, 'bob', 'ring', 1, steps=[('ring', 'yes')]),
        ans(4, 2, 'bob', 'ring', 3, retracts=3),
        ans(5, 3, 'bob', 'interest', 2, rating=4),
        ans(6, 3, 'bob', 'interest', 4)]
dump('answers', rows)
dump('semantic', [ans(1, 1, 'carol', 'ring', 1, steps=[('ring', 'maybe')]),
                  ans(2, 1, 'carol', 'interest', 2, rating=9),
                  ans(3, 1, 'carol', 'nosuch', 1, steps=[('a', 'b')]),
                  ans(4, 2, 'carol', 'gz-decals', 1, steps=[('disk-edge-on', 'no')]),
                  ans(5, 3, 'carol', 'gz-decals', 1, steps=[('smooth-or-featured', 'smooth'), ('how-rounded', 'round'),
                                                            ('merging', 'none')])])
dump('bad', [ans(7, 1, 'mallory', 'ring', 1)[0:1] + (b'\x01\x02',)])
EOF
for db in galaxies ids answers; do mdb_load -s $db -f $db.dump ws2 || fail "mdb_load $db"; done
check "stats reads a workspace with answers" $Z stats ws2
expect "3 galaxies" grep -q "^galaxies *3$" "$T/last.out"
expect "3 live answers, 1 retraction, 2 users" grep -q "answers *3 (log of 6 records, 1 retractions) from 2 users" "$T/last.out"
expect "ring: 2 answers after the retraction, 2 of 3 galaxies" grep -Eq "^ring +2 +1 .* 2 / 3 galaxies" "$T/last.out"
expect "interest: 1 rating on 1 of 3 galaxies, 1 favourite" grep -Eq "^interest +1 +0 +1 .* 1 / 3 galaxies" "$T/last.out"
expect "per user: alice 2 ring, bob 1 interest (his ring retracted)" \
    bash -c "grep -Eq '^alice +2 +2 ' '$T/last.out' && grep -Eq '^bob +1 +0 ' '$T/last.out'"
check "check passes on it" $Z check ws2
expect "check says ok naming the workspace" grep -q "^ws2: ok" "$T/last.out"

# --- answers that do not fit their task's schema
$Z init sem --schema ring --schema gz-decals >/dev/null
for db in galaxies ids semantic; do mdb_load -s ${db/semantic/answers} -f $db.dump sem || fail "mdb_load $db"; done
expect "check finds answers that do not fit their schema (exit 3)" test "$(status $Z check sem)" -eq 3
expect "an answer that is not in the tree" grep -q "answer 1: 'maybe' is not an answer to ring" "$T/last.out"
expect "a rating out of range" grep -q "answer 2 rates 9, outside 0..5" "$T/last.out"
expect "a task the workspace does not have" grep -q "no task 'nosuch'" "$T/last.out"
expect "a question asked without its requirement" \
    grep -q "answer 4: disk-edge-on is asked only after smooth-or-featured_featured-or-disk" "$T/last.out"
expect "and nothing about the valid path" bash -c "! grep -q 'answer 5' '$T/last.out'"
expect "5 problems in all (the rating twice: store and schema)" grep -q "^sem: 5 problems" "$T/last.out"

# --- backup
check "backup copies it" $Z backup ws2 copy
check "the copy checks clean" $Z check copy
expect "the copy has the same answers" bash -c "'$Z' stats copy | grep -q 'log of 6 records'"
expect "backup refuses an existing copy (exit 1)" test "$(status $Z backup ws2 copy)" -eq 1

# --- a user without write permission can still look
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$T"; chmod -R a+rX,a-w copy
    asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    expect "stats works for a user who may not write" test "$(status asnobody $Z stats copy)" -eq 0
    expect "with a note that it reads without the lock" grep -q "reading without LMDB's lock" "$T/last.out"
    expect "check too" test "$(status asnobody $Z check copy)" -eq 0
    expect "init in a directory they cannot write fails (exit 1)" test "$(status asnobody $Z init copy/sub)" -eq 1
    expect "saying why" grep -q "Permission denied" "$T/last.out"
    chmod -R u+w copy
else
    skip "read-only use" "needs root and setpriv to drop permissions"
fi

# --- damage and refusals
mdb_load -s answers -f bad.dump ws2
expect "check finds a damaged answer (exit 3)" test "$(status $Z check ws2)" -eq 3
expect "and lists it" grep -q "answer 7 does not parse" "$T/last.out"
expect "stats on a damaged log is a workspace problem (exit 3)" test "$(status $Z stats ws2)" -eq 3
expect "the backup is untouched by it" test "$(status $Z check copy)" -eq 0

expect "check of a missing workspace exits 3" test "$(status $Z check nowhere)" -eq 3
expect "naming it and how to create one" grep -q "nowhere: no workspace there (create one with: zoosh init nowhere)" "$T/last.out"
mkdir foreign
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 6b6579\n 76616c\nDATA=END\n' | mdb_load foreign
expect "a foreign LMDB is refused (exit 3)" test "$(status $Z stats foreign)" -eq 3
expect "as not a zoosh workspace" grep -q "not a zoosh workspace" "$T/last.out"
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 7a6f6f7368\n %s\nDATA=END\n' \
    "$(printf 'zoosh-workspace 99' | od -An -tx1 | tr -d ' \n')" | mdb_load -s meta ws
expect "a newer workspace is refused (exit 3)" test "$(status $Z check ws)" -eq 3
expect "asking for a newer zoosh" grep -q "newer zoosh" "$T/last.out"

# --- a real catalog, when import is there
if [ -f "$SHARED/decals_rings/catalog.csv" ] && $Z import --help >/dev/null 2>&1 &&
   $Z init rings --schema ring >/dev/null 2>&1 &&
   $Z import rings "$SHARED/decals_rings/catalog.csv" >"$T/imp.out" 2>&1; then
    check "stats of the imported ring catalog" $Z stats rings
    expect "200 galaxies" grep -q "^galaxies *200$" "$T/last.out"
    expect "a thumbnail each" grep -q "^thumbnails *200$" "$T/last.out"
    expect "the ring prior column" grep -q "priors .*ring" "$T/last.out"
    check "check passes after import" $Z check rings
    if $Z embed rings >"$T/emb.out" 2>&1 && $Z train rings --task ring >"$T/train.out" 2>&1; then
        check "stats after a training run" $Z stats rings
        expect "lists the feature set with its dimension and provenance" grep -Eq "^  morph +[0-9]+-d +200 vectors +\(morph" "$T/last.out"
        expect "shows the ring model: version 1, 200 labelled, its metric" grep -Eq "^ring +1 +[0-9-]+ [0-9:]+ +200 +auc 0\.[0-9]+" "$T/last.out"
        check "check passes with features and models" $Z check rings
    else
        skip "stats of a trained model" "embed/train failed: $(tail -c 200 "$T/emb.out" "$T/train.out" | tr '\n' ' ')"
    fi
else
    skip "stats of an imported catalog" "zoosh import not available: $(tail -c 200 "$T/imp.out" 2>/dev/null | tr '\n' ' ')"
fi

# --- stats --json: valid JSON whatever the stored names hold (issue 20)
weird=$(printf 'we"ird\\set\033[31m\001\tend\xff')
"$Z" sim js -n 6 --size 64 --quiet --threads 2 >/dev/null 2>&1 && "$Z" init wsj --schema ring >/dev/null &&
    "$Z" import wsj js/catalog.csv --threads 2 >/dev/null 2>&1 &&
    { echo "id_str,feat_0,feat_1"; tail -n +2 js/catalog.csv | cut -d, -f1 | sed 's/$/,0.5,1.5/'; } > "$T/$weird.csv" &&
    "$Z" import wsj js/catalog.csv --features "$T/$weird.csv" >/dev/null 2>&1
# set names are refused outside [A-Za-z0-9._-@$+] (issue 21), so the hostile
# text reaches the store as the feature file's path, kept in the provenance
check "stats --json on a workspace whose feature set's provenance holds quotes, backslash, ESC, a control and a bad byte" \
    $Z stats wsj --json
cp "$T/last.out" stats.json
expect "it parses as JSON (python3 json)" $PY -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' stats.json
expect "with the numbers of the text report (6 galaxies, the ring task, the set)" $PY -c '
import json,sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
names = [f["provenance"] for f in d["feature_sets"]]
assert d["galaxies"] == 6 and d["thumbnails"] == 6, d
assert any(t["name"] == "ring" and t["enabled"] for t in d["tasks"]), d["tasks"]
assert any("we\"ird\\set\x1b[31m\x01\tend\ufffd.csv" in n for n in names), names
assert d["answers"]["live"] == 0 and d["users"] == []
' stats.json
expect "and no raw ESC reached the output" sh -c "! grep -q \"$(printf '\033')\" stats.json"
expect "stats --json with a stray argument is still a usage error (2)" test "$(status $Z stats wsj --json extra)" -eq 2
