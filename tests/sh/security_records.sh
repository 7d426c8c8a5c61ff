#!/usr/bin/env bash
# security_records.sh - what a group member of a shared workspace can and
# cannot do to the others' answers, with real Unix users (issue 21, 4-6):
#   - two users whose 32-byte names share their first 31 bytes stay two
#     users (the record keeps the whole name and the writer's uid);
#   - records no zoosh command writes, forged by a group member with LMDB
#     itself (a retraction of another user's answer, an answer in another
#     user's name under the forger's uid) are listed by check and not
#     counted by any export;
#   - escape sequences in names inside records, feature-set names, a
#     feature file's path and catalog text never reach a terminal raw.
# KEEP=1 keeps the temporary folder (the forged workspaces) for a look.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
command -v setpriv >/dev/null || { skip "no setpriv"; exit 0; }
command -v useradd >/dev/null || { skip "no useradd"; exit 0; }
command -v script >/dev/null || { skip "no script (util-linux)"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "needs root to make Unix users"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }

# Users: A and B, 32 bytes, equal in their first 31; BOB, the forger.
P=$(printf 'ztsr%05d' $(( $$ % 100000 )))
while [ ${#P} -lt 31 ]; do P=${P}x; done
UA=${P}a UB=${P}b BOB=ztsrbob$(( $$ % 100000 )) G=ztsrg$(( $$ % 100000 ))
SOCK="zt-secrec-$$"
cleanup() {
    tm kill-server 2>/dev/null
    for u in "$UA" "$UB" "$BOB"; do userdel "$u" 2>/dev/null; done
    groupdel "$G" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
groupadd "$G" && for u in "$UA" "$UB" "$BOB"; do useradd -M -N -g "$G" -s /bin/sh "$u" || exit 1; done
expect "useradd made two users of 32 bytes" test ${#UA} -eq 32 -a ${#UB} -eq 32
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin && chmod 755 "$T" "$Z"

# The forger: a group member's own program against liblmdb, never zoosh.
#   forge WS retract SEQ USER UID   appends USER's retraction of answer SEQ
#   forge WS copy SEQ USER UID      appends a copy of answer SEQ as USER, UID
#   forge WS rename SEQ USER TASK   rewrites answer SEQ's user and task names
# It writes records in the form of the log's last record (the old form for
# an older zoosh's workspace, the new one with the uid otherwise).
cat > forge.c <<'CEOF'
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef struct { unsigned ver, kind, rating; uint32_t gid, uid; uint64_t t, retracts; char user[400], task[400];
                 const unsigned char *rest; size_t restn; } rec;
static const unsigned char *P; static size_t O;
static uint64_t rd(int k) { uint64_t v = 0; for (int i = 0; i < k; i++) v |= (uint64_t)P[O + i] << (8 * i); O += k; return v; }
static void rds(char *o) { size_t k = rd(2); memcpy(o, P + O, k); o[k] = 0; O += k; }
static void parse(const MDB_val *v, rec *r)
{
    P = v->mv_data; O = 0;
    r->ver = rd(1); r->gid = rd(4); r->t = rd(8); r->kind = rd(1); r->rating = rd(1); r->retracts = rd(8);
    r->uid = r->ver == 2 ? (uint32_t)rd(4) : 0;
    rds(r->user); rds(r->task);
    r->rest = P + O; r->restn = v->mv_size - O;
}
static unsigned char B[8192]; static size_t L;
static void wr(uint64_t v, int k) { for (int i = 0; i < k; i++) B[L++] = (unsigned char)(v >> (8 * i)); }
static void wrs(const char *s) { size_t k = strlen(s); wr(k, 2); memcpy(B + L, s, k); L += k; }
static void build(const rec *r, unsigned ver)
{
    L = 0; wr(ver, 1); wr(r->gid, 4); wr(r->t, 8); wr(r->kind, 1); wr(r->rating, 1); wr(r->retracts, 8);
    if (ver == 2) wr(r->uid, 4);
    wrs(r->user); wrs(r->task); memcpy(B + L, r->rest, r->restn); L += r->restn;
}
static void be64(unsigned char *k, uint64_t v) { for (int i = 0; i < 8; i++) k[i] = (unsigned char)(v >> (56 - 8 * i)); }
int main(int argc, char **argv)
{
    if (argc < 6) return 2;
    MDB_env *env; MDB_txn *txn; MDB_dbi dbi; MDB_cursor *c; MDB_val k, v;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 32) || mdb_env_open(env, argv[1], 0, 0664) ||
        mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "answers", 0, &dbi) || mdb_cursor_open(txn, dbi, &c) ||
        mdb_cursor_get(c, &k, &v, MDB_LAST)) { fprintf(stderr, "forge: cannot open the answers\n"); return 1; }
    unsigned ver = ((const unsigned char *)v.mv_data)[0];
    uint64_t last = 0;
    for (int i = 0; i < 8; i++) last = last << 8 | ((const unsigned char *)k.mv_data)[i];
    uint64_t seq = strtoull(argv[3], NULL, 10);
    unsigned char kb[8];
    be64(kb, seq);
    MDB_val tk = {8, kb}, tv;
    if (mdb_get(txn, dbi, &tk, &tv)) { fprintf(stderr, "forge: no answer %s\n", argv[3]); return 1; }
    rec r;
    parse(&tv, &r);
    static const unsigned char none[1] = {0};
    if (!strcmp(argv[2], "retract")) {
        r.kind = 3; r.rating = 0; r.retracts = seq; r.rest = none; r.restn = 1;
        snprintf(r.user, sizeof r.user, "%s", argv[4]); r.uid = (uint32_t)strtoul(argv[5], NULL, 10);
    } else if (!strcmp(argv[2], "copy")) {
        snprintf(r.user, sizeof r.user, "%s", argv[4]); r.uid = (uint32_t)strtoul(argv[5], NULL, 10);
    } else if (!strcmp(argv[2], "rename")) {
        snprintf(r.user, sizeof r.user, "%s", argv[4]); snprintf(r.task, sizeof r.task, "%s", argv[5]);
        build(&r, r.ver);
        MDB_val nv = {L, B};
        if (mdb_put(txn, dbi, &tk, &nv, 0) || mdb_txn_commit(txn)) return 1;
        return 0;
    } else return 2;
    r.t += 1000;
    build(&r, ver);
    be64(kb, last + 1);
    MDB_val nk = {8, kb}, nv = {L, B};
    if (mdb_put(txn, dbi, &nk, &nv, MDB_APPEND) || mdb_txn_commit(txn)) { fprintf(stderr, "forge: put failed\n"); return 1; }
    mdb_env_close(env);
    return 0;
}
CEOF
cc -O1 -o forge forge.c -llmdb || { fail "the forger compiles against liblmdb"; exit 0; }
chmod 755 forge
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$G" --clear-groups env HOME=/tmp "$@"; }

head -21 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#" > a.csv
check "a workspace of 20 real ring galaxies" "$Z" init ws --schema ring
check "imported" "$Z" import ws a.csv --threads 2 --thumbs none
chgrp -R "$G" ws && chmod -R g+rwX ws && chmod g+s ws

# ---- item 5: A says yes, then B says no to the galaxy A saw first
label_one() {   # label_one USER KEY
    tm new-session -d -s "$1" -x 140 -y 30 \
        "cd '$T' && setpriv --reuid='$1' --regid='$G' --clear-groups env HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 '$Z' label ws --task ring --retire 5 --retrain 0 --order random --graphics none"
    tm_wait "$1" "Does the galaxy have a ring" 20 || fail "the labeler of $1 started" "$(tm capture-pane -p -t "$1" | tail -3)"
    tm send-keys -t "$1" /; sleep 0.3; tm send-keys -t "$1" "$FIRST" Enter; sleep 0.5   # the same galaxy for both
    tm send-keys -t "$1" "$2"; sleep 0.6; tm send-keys -t "$1" q
    for i in $(seq 1 100); do tm has-session -t "$1" 2>/dev/null || break; sleep 0.1; done
}
FIRST=$(sed -n 2p a.csv | cut -d, -f1)
label_one "$UA" 1
label_one "$UB" 2
"$Z" export ws --format answers > answers.csv 2>/dev/null
expect "both answered $FIRST" test "$(tail -n +2 answers.csv | cut -d, -f6 | sort -u)" = "$FIRST"
expect "the answers are by two users, each under the whole 32-byte name" \
    test "$(tail -n +2 answers.csv | cut -d, -f3 | sort -u | tr '\n' ' ')" = "$UA $UB "
expect "stats counts two users" bash -c "'$Z' stats ws | grep -q 'from 2 users'"
check "the workspace checks clean" "$Z" check ws
cp -a ws ws_retract && cp -a ws ws_copy && cp -a ws ws_esc

# ---- item 6: bob retracts A's answer with his own program
labels() { "$Z" export "$1" --format zoobot --task ring 2>/dev/null | tail -n +2 | sort; }
before=$(labels ws)
expect "A's yes and B's no on the same galaxy are both counted (ring_yes,ring_no 1,1)" \
    bash -c "echo '$before' | grep -q ',1,1,2,0.5,0.5$'"
check "bob (a group member) writes a retraction of A's answer 1" as "$BOB" ./forge ws_retract retract 1 "$BOB" "$(id -u "$BOB")"
expect "the export still counts A's answer" test "$(labels ws_retract)" = "$before"
check_fails "check does not say ok" "$Z" check ws_retract
expect "check names the retraction of another user's answer" grep -q "retracts answer 1 by '$UA'" "$T/last.out"
"$Z" stats ws_retract > stats_r.out 2>&1
expect "stats still counts 2 answers and says 1 record is not counted" \
    bash -c "grep -q '^answers     2 ' stats_r.out && grep -q '1 record no zoosh command writes' stats_r.out"
"$Z" export ws_retract --format answers > answers_r.csv 2>/dev/null
expect "the answers export marks bob's forged retraction foreign (last column 1), the two answers 0" \
    test "$(tail -n +2 answers_r.csv | awk -F, '{print $5 ":" $NF}' | tr '\n' ' ')" = "tree:0 tree:0 retract:1 "

check "bob writes an answer in A's name under his own uid" as "$BOB" ./forge ws_copy copy 2 "$UA" "$(id -u "$BOB")"
expect "the export does not count it (A's own answer stays)" test "$(labels ws_copy)" = "$before"
check_fails "check does not say ok" "$Z" check ws_copy
expect "check names the user and the uid that wrote it" grep -q "by '$UA'.*written by uid $(id -u "$BOB")" "$T/last.out"
expect "  and, both being users here, who that uid is" grep -q "written by uid $(id -u "$BOB") ('$BOB' here)" "$T/last.out"

# check --repair (run by root) copies each answer with its writer's uid and
# name: had it taken the repairer's uid, A's and B's answers would be
# root's records under their names, and the copy would not check clean
check "check --repair (as root) copies the two users' workspace" "$Z" check ws --repair ws_fixed
check "the repaired copy checks clean (each answer keeps its writer's uid)" "$Z" check ws_fixed
expect "and counts A's yes and B's no as before" test "$(labels ws_fixed)" = "$before"

# ---- item 4: escapes in records, feature-set names, paths, catalog text
ESC=$'\e'
noesc() { ! grep -q "$ESC" "$1"; }
check "bob renames A's answer's user and task to escape sequences" \
    as "$BOB" ./forge ws_esc rename 1 $'ali\e]0;pwned\a\e[31m' $'ring\e[2J'
"$Z" stats ws_esc > stats.out 2>&1
expect "stats shows the forged names without an escape" noesc stats.out
"$Z" check ws_esc > check.out 2>&1
expect "check shows them without an escape" noesc check.out
script -qec "'$Z' export ws_esc --format answers" /dev/null > tty.out 2>&1
expect "export --format answers on a terminal shows them without an escape" noesc tty.out
expect "  (and shows the row: $(grep -c ali tty.out))" grep -q "ali" tty.out
"$Z" export ws_esc --format answers > pipe.out 2>&1
expect "export into a pipe keeps the exact bytes" grep -q $'ali\e]0;pwned' pipe.out

mkdir $'feat\e[1mdir'
{ echo "id_str,feat_0,feat_1"; tail -n +2 a.csv | cut -d, -f1 | while read -r id; do echo "$id,0.5,1.5"; done; } > $'feat\e[1mdir/f.csv'
check_fails "import refuses a feature-set name with an escape" "$Z" import ws a.csv --thumbs none \
    --features $'feat\e[1mdir/f.csv' --features-name $'n\e[31m'
expect "  naming --features-name, without the escape" bash -c "grep -q -- '--features-name' '$T/last.out' && ! grep -q '$ESC' '$T/last.out'"
check_fails "embed refuses a set name with an escape" "$Z" embed ws --set $'n\e[31m' --quiet
expect "  naming --set, without the escape" bash -c "grep -q -- '--set' '$T/last.out' && ! grep -q '$ESC' '$T/last.out'"
check "a feature file under a path with an escape imports" "$Z" import ws a.csv --thumbs none \
    --features $'feat\e[1mdir/f.csv' --features-name pathy
"$Z" stats ws > stats2.out 2>&1
expect "stats shows its provenance without the escape" bash -c "grep -q pathy stats2.out && ! grep -q '$ESC' stats2.out"

{ head -1 a.csv; sed -n 2p a.csv | awk -F, -v OFS=, '{$2="\033[31mnofile.png"; print}'; } > badfile.csv
check_fails "import of a row whose file does not exist fails" "$Z" import ws badfile.csv --thumbs none
expect "  its message has no escape" noesc "$T/last.out"
printf 'id,file,ra,dec\nx1,%s,\033[31m12,3\n' "$(sed -n 2p a.csv | cut -d, -f2)" > badnum.csv
check_fails "import of a row with an escape in ra fails" "$Z" import ws badnum.csv --thumbs none
expect "  its message has no escape" noesc "$T/last.out"
