#!/usr/bin/env bash
# security.sh - files in shared folders (issue 21, items 1-3), with three
# real Unix users made here: alice and bob in one group, eve outside it.
#   1. a member's planted symlink or hard link in a workspace is never
#      written through (bob's lock.mdb -> alice's file; alice runs stats);
#      init --share makes the folder sticky, so bob cannot replace alice's files;
#   2. backup, sim and export never write through a planted symlink;
#   3. init respects the umask and shares only when asked (--share GROUP);
#      stats says who can read and write.
# Each case fails on a zoosh without the fix (checked against the binary
# before it).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { skip "needs root to make Unix users (useradd)"; exit 0; }
for c in setpriv useradd groupadd userdel groupdel; do
    command -v $c >/dev/null || { skip "no $c"; exit 0; }
done
A=zta$$ B=ztb$$ E=zte$$ G=ztg$$
cleanup() {
    for u in $A $B $E; do userdel "$u" 2>/dev/null; done
    groupdel "$G" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
groupadd "$G" || { fail "groupadd $G"; exit 1; }
for u in $A $B $E; do
    if [ $u = $E ]; then useradd -M -N -d "$T/h_$u" -s /bin/sh "$u"; else useradd -M -N -d "$T/h_$u" -s /bin/sh -G "$G" "$u"; fi ||
        { fail "useradd $u"; exit 1; }
    mkdir -m 700 "$T/h_$u" && chown "$u" "$T/h_$u"
done
chmod 755 "$T"
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin && chmod 755 "$Z"
# as USER [UMASK] CMD...: run as that user with its groups
as() { local u=$1 m=022; shift; case $1 in 0[0-7][0-7]) m=$1; shift;; esac
       setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env HOME="$T/h_$u" bash -c 'umask '$m'; exec "$@"' sh "$@"; }
# alice's own files, which bob cannot write; their sums must never change
for f in notes notes2 profile cat png png0 notes3 log; do
    printf 'alice private %s\n' "$f" > "$T/h_$A/$f.txt"
done
chown "$A" "$T"/h_$A/*.txt && chmod 600 "$T"/h_$A/*.txt
msg() { head -c 200 "$1" | tr "\n" " "; }
sums() { md5sum "$T"/h_$A/*.txt; }
sums > sums0
unchanged() { sums | cmp -s - sums0; }
same() { local f; for f in "$@"; do md5sum "$T/h_$A/$f.txt" | cmp -s - <(grep "/$f.txt\$" sums0) || return 1; done; }

# ---- 1. planted links in a shared workspace (group-writable, no sticky bit, as before the fix)
mkdir shared && chgrp "$G" shared && chmod 2770 shared
as $A 002 "$Z" init shared/ws --schema ring >/dev/null 2>&1
as $A chmod 2770 shared/ws && as $A chmod 660 shared/ws/data.mdb shared/ws/lock.mdb
as $B rm -f shared/ws/lock.mdb && as $B ln -s "$T/h_$A/notes.txt" shared/ws/lock.mdb
as $A "$Z" stats shared/ws >st1.out 2>&1; st=$?
expect "item 1: bob's lock.mdb symlink to alice's file: her stats leaves the file alone" unchanged
expect "item 1: ... and refuses the workspace, exit 3, naming the link ($st: $(msg st1.out))" \
    bash -c "[ $st = 3 ] && grep -q 'lock.mdb is a symbolic link' st1.out"
# a hard link (a system without fs.protected_hardlinks; root plays bob)
rm -f shared/ws/lock.mdb && ln "$T/h_$A/notes2.txt" shared/ws/lock.mdb
as $A "$Z" stats shared/ws >st2.out 2>&1; st=$?
same notes2; ok=$?
expect "item 1: a hard link to alice's file as lock.mdb is refused, the file untouched ($st $ok: $(msg st2.out))" \
    bash -c "[ $st = 3 ] && [ $ok = 0 ] && grep -q 'links' st2.out"
rm -f shared/ws/lock.mdb
as $A "$Z" stats shared/ws >st3.out 2>&1
expect "item 3: stats warns that the group-writable folder lacks the sticky bit" grep -q "without the sticky bit" st3.out
# init --share: setgid + sticky; bob cannot remove or replace alice's files
as $A 022 "$Z" init shared/team --share "$G" --schema ring >share.out 2>&1; st=$?
expect "item 1/3: init --share $G makes rwxrws--T, group $G ($st: $(msg share.out))" \
    test "$(stat -c '%A %G' shared/team 2>/dev/null)" = "drwxrws--T $G"
as $B mv shared/team/data.mdb shared/team/x 2>/dev/null; as $B rm -f shared/team/lock.mdb 2>/dev/null
expect "item 1: in the shared workspace bob cannot rename or remove alice's files" \
    test -f shared/team/data.mdb -a -f shared/team/lock.mdb -a ! -e shared/team/x

# ---- 3. init respects the umask; --share shares with the group only
mkdir grp && chgrp "$G" grp && chmod 2775 grp
as $A 077 "$Z" init grp/alice_private --schema ring >/dev/null 2>&1
expect "item 3: umask 077 in a group-writable folder: the group and others get nothing ($(stat -c %A grp/alice_private 2>/dev/null))" \
    bash -c "stat -c %A grp/alice_private | grep -q '^drwx--[-S]---'"
as $B test -w grp/alice_private/data.mdb; st=$?
expect "item 3: ... and bob cannot write its data.mdb" test $st -ne 0
as $B test -w shared/team/data.mdb; st=$?
expect "item 3: bob can write the --share workspace's data.mdb" test $st -eq 0
as $E "$Z" export shared/team --format answers >eve.out 2>&1; st=$?
as $B "$Z" export shared/team --format answers >bob.out 2>&1; sb=$?
expect "item 3: eve (outside $G) cannot export the --share workspace's answers under umask 022, bob can ($st $sb)" \
    test $st -ne 0 -a $sb -eq 0
as $A "$Z" stats shared/team >st4.out 2>&1
expect "item 3: stats says who can read and write ($(grep access st4.out))" \
    grep -q "^access .*group $G read-write, others none" st4.out
as $A 022 "$Z" init grp/open --schema ring >/dev/null 2>&1
as $A "$Z" stats grp/open >st5.out 2>&1
expect "item 3: ... and says so when the umask lets everyone read ($(grep access st5.out))" \
    grep -q "^access .*others read" st5.out

# ---- 2. backup, sim and export never write through a planted link
mkdir bk && chown $B bk && chmod 777 bk
as $B ln -s "$T/h_$A/profile.txt" bk/data.mdb.partial
as $A "$Z" backup grp/open bk >bk.out 2>&1
expect "item 2: backup into bob's folder leaves alice's file behind his data.mdb.partial link alone" same profile
as $A "$Z" check bk >/dev/null 2>&1; st=$?
expect "item 2: ... and the backup there is a workspace that checks clean ($st: $(msg bk.out))" test $st -eq 0
mkdir s1 s2 && chown $B s1 s2 && chmod 777 s1 s2
as $B ln -s "$T/h_$A/cat.txt" s1/catalog.csv.tmp
as $A "$Z" sim s1 -n 2 --size 64 --quiet >s1.out 2>&1
expect "item 2: sim into bob's folder leaves alice's file behind his catalog.csv.tmp link alone" same cat
as $B mkdir -m 777 s2/images
as $B ln -s "$T/h_$A/png0.txt" s2/images/sim_000000.png
as $B ln -s "$T/h_$A/png.txt" s2/images/sim_000001.png
as $A "$Z" sim s2 -n 2 --size 64 --quiet >s2.out 2>&1; st=$?
expect "item 2: sim leaves alice's files behind bob's images/sim_00000N.png links alone ($st: $(msg s2.out))" \
    same png png0
as $B ln -s "$T/h_$A/notes3.txt" shared/out.csv
as $A "$Z" export grp/open --format answers -o shared/out.csv >ex.out 2>&1; st=$?
same notes3; ok=$?
expect "item 2: export -o refuses bob's link, alice's file untouched ($st $ok: $(msg ex.out))" \
    bash -c "[ $st -ne 0 ] && [ $ok = 0 ]"
as $B ln -s "$T/h_$A/log.txt" shared/label.log
as $A env ZOOSH_LOG="$T/shared/label.log" "$Z" label grp/open </dev/null >lg.out 2>&1
expect "item 2: the labeler's ZOOSH_LOG refuses bob's link, alice's file untouched ($(msg lg.out))" \
    bash -c "grep -q 'not logging' lg.out && md5sum '$T/h_$A/log.txt' | cmp -s - <(grep '/log.txt\$' sums0)"
expect "alice's files are all as they were" unchanged

# ---- the owner's next writing command makes the group-writable folder of item 1 sticky
as $A "$Z" import shared/ws s1/catalog.csv --threads 1 >imp.out 2>&1; st=$?
expect "item 1: alice's import into her group-writable workspace makes its folder sticky ($st: $(stat -c %A shared/ws))" \
    bash -c "[ $st = 0 ] && stat -c %A shared/ws | grep -q '[tT]\$'"
as $E "$Z" init "$T/h_$E/ws" --share "$G" >eve_init.out 2>&1; st=$?
expect "init --share refuses a group the user is not in ($st: $(msg eve_init.out))" \
    bash -c "[ $st = 1 ] && grep -q 'not a member' eve_init.out && [ ! -e '$T/h_$E/ws' ]"
