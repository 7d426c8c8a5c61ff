#!/usr/bin/env bash
# soak.sh - 8 labelers on one workspace for SOAK_SECONDS (default 60; longer
# on request): one Unix uid each, 400 galaxies, one key in four an undo, each
# driven by keys in its own tmux window and retraining in the background,
# while `zoosh train` runs in a loop and `zoosh backup` copies the workspace
# every few seconds.  Afterwards:
#   - every answer a labeler acknowledged on screen ("session N") is in the
#     log, and nothing else is (the drivers wait for each acknowledgement);
#   - no deadlock: every key is acknowledged within 20 s, every train and
#     backup ends within 60 s, every labeler quits on q within 10 s;
#   - every backup checks clean, so does the workspace;
#   - the labelers' memory is flat: VmRSS sampled every 5 s, the middle of the
#     run vs its end (within 10% + 4 MiB; the first half fills caches);
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
SECS=${SOAK_SECONDS:-60}
NL=${SOAK_LABELERS:-8}
SOCK="zt-soak-$$"
trap 'touch "$T/stop"; tm kill-server 2>/dev/null; wait; rm -rf "$T"' EXIT
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin   # others relink ./zoosh meanwhile

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# 400 galaxies: the real 200, and again under other ids (same images)
{ sed "s#,images/#,$SHARED/decals_rings/images/#" "$CAT"
  tail -n +2 "$CAT" | sed "s#,images/#,$SHARED/decals_rings/images/#; s#^#again-#"; } > cat.csv
check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports 400 galaxies (the 200 real ring cutouts twice)" nice "$Z" import ws cat.csv --threads 2
check "embeds them" nice "$Z" embed ws --threads 1 --quiet

tm new-session -d -s ctl -x 100 -y 30 "sleep 100000"
# each labeler as its own Unix user (uid 2000N, no passwd entry: zoosh calls
# it "uid2000N"), as a group of volunteers sharing a workspace would
chmod 755 "$T"; mkdir -m 777 run; chmod -R a+rwX ws
for n in $(seq 1 "$NL"); do
    LANG=C.UTF-8 tm -u new-window -d -t ctl -n "l$n" \
        "cd '$T/run' && exec setpriv --reuid=$((20000 + n)) --regid=20000 --clear-groups env HOME=/tmp ZOOSH_LOG='$T/run/l$n.log' '$Z' label ../ws --task ring --retrain 10 --retrain-secs 20 --retire 100 --graphics blocks 2>'$T/run/l$n.err'; "
done
started=0
for n in $(seq 1 "$NL"); do tm_wait "ctl:l$n" "Does the galaxy have a ring?" 30 && started=$((started + 1)); done
expect "$NL labelers start on one workspace ($started did)" test "$started" -eq "$NL"
declare -a PIDS CMDS RSS0
for n in $(seq 1 "$NL"); do PIDS[$n]=$(tm display -p -t "ctl:l$n" '#{pane_pid}'); CMDS[$n]=$(tr '\0' ' ' < "/proc/${PIDS[$n]}/cmdline"); done

# driver N: answer, wait for the acknowledgement, again, until the deadline
# (one key in four is an undo: "session N" counts the net answers)
drive() {
    local n=$1 i=0 a=0 u=0 w="ctl:l$1"
    while [ ! -f stop ]; do
        if [ $i -gt 0 ] && [ $((RANDOM % 4)) = 0 ]; then
            tm send-keys -t "$w" u
            tm_wait "$w" "session $((i - 1)) " 20 || { echo "stall undo $i" > "stall.$n"; break; }
            i=$((i - 1)) u=$((u + 1))
        else
            tm send-keys -t "$w" $((1 + RANDOM % 2))
            if ! tm_wait "$w" "session $((i + 1)) " 20; then
                tm capture-pane -p -t "$w" > "stall.$n.screen"
                # the queue ran out for this user: done, not stalled
                if grep -qE 'you ([0-9]+)/\1 ' "stall.$n.screen"; then touch "done.$n"; break; fi
                echo "stall answer $((i + 1))" > "stall.$n"; break
            fi
            i=$((i + 1)) a=$((a + 1))
        fi
        echo "$a $u" > "acked.$n"
    done
}
end=$(( $(date +%s) + SECS ))
for n in $(seq 1 "$NL"); do drive "$n" & done
( n=0 f=0 h=0
  while [ ! -f stop ]; do
      timeout 60 nice "$Z" train ws --task ring >train.out 2>&1; st=$?
      n=$((n + 1)); [ $st = 124 ] && h=$((h + 1)); [ $st != 0 ] && [ $st != 124 ] && { f=$((f + 1)); cp train.out "train.fail.$f"; }
      echo "$n $f $h" > train.count
  done ) &
( n=0 f=0 h=0
  while [ ! -f stop ]; do
      sleep 5; [ -f stop ] && break
      n=$((n + 1))
      timeout 60 "$Z" backup ws "bk$n" >bk.out 2>&1; st=$?
      [ $st = 124 ] && h=$((h + 1))
      if [ $st != 0 ] || ! "$Z" check "bk$n" >>bk.out 2>&1; then f=$((f + 1)); cp bk.out "bk.fail.$f"; fi
      rm -rf "bk$n"
      echo "$n $f $h" > bk.count
  done ) &
# memory: every labeler's VmRSS every 5 s; "flat" compares the middle of the
# run with its end (the first half fills caches: thumbnails, models)
t0=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
    line="$(( $(date +%s) - t0 ))"
    for n in $(seq 1 "$NL"); do line="$line $(( $(rss_kb "${PIDS[$n]}") / 1024 ))"; done
    echo "$line" >> rss.txt
    [ $(( $(date +%s) - t0 )) -le $(( SECS / 2 )) ] && for n in $(seq 1 "$NL"); do RSS0[$n]=$(rss_kb "${PIDS[$n]}"); done
    sleep 5
done
touch stop
wait    # the drivers finish their last acknowledged answer
grow_bad=0 rss_msg=""
for n in $(seq 1 "$NL"); do
    r1=$(rss_kb "${PIDS[$n]}")
    rss_msg="$rss_msg $((RSS0[$n] / 1024))->$((r1 / 1024))"
    [ "$r1" -le $(( RSS0[$n] * 11 / 10 + 4096 )) ] || grow_bad=$((grow_bad + 1))
done
# alive N: labeler N itself still runs (pid_max is 32768 here and the
# train loop spawns thousands of processes: a bare kill -0 can hit a reused pid)
alive() { [ "$(tr '\0' ' ' < "/proc/${PIDS[$1]}/cmdline" 2>/dev/null)" = "${CMDS[$1]}" ]; }
gone=0
for n in $(seq 1 "$NL"); do
    alive "$n" && continue
    gone=$((gone + 1))
    echo "# labeler $n ended before q: $(tail -c 300 "run/l$n.err" | tr '\n' ' ') log: $(tail -3 "run/l$n.log" 2>/dev/null | tr '\n' ' ')"
done
expect "no labeler ended on its own before q ($gone did)" test "$gone" -eq 0
quit_bad=0
for n in $(seq 1 "$NL"); do tm send-keys -t "ctl:l$n" q; done
for n in $(seq 1 "$NL"); do
    for i in $(seq 1 100); do alive "$n" || break; sleep 0.1; done
    if alive "$n"; then
        quit_bad=$((quit_bad + 1))
        echo "# labeler $n did not quit; its threads wait in: $(cat /proc/${PIDS[$n]}/task/*/wchan 2>/dev/null | tr '\0' ' '); screen:"
        tm capture-pane -p -t "ctl:l$n" | grep -v '^ *$' | tail -3 | sed 's/^/#   /'
        kill -9 "${PIDS[$n]}"
    fi
done
acked=0 undone=0 stalls=0 done=$(ls done.* 2>/dev/null | wc -l)
for n in $(seq 1 "$NL"); do
    read -r a u < "acked.$n" 2>/dev/null || { a=0 u=0; }
    acked=$((acked + a)) undone=$((undone + u))
    [ -f "stall.$n" ] && { stalls=$((stalls + 1)); echo "# labeler $n stalled: $(cat "stall.$n"), its screen:"; grep -v '^ *$' "stall.$n.screen" 2>/dev/null | tail -4 | sed 's/^/#   /'; }
done
"$Z" export ws --format answers > answers.csv
logged=$(grep -c ',ring,tree,' answers.csv) retracted=$(grep -c ',ring,retract,' answers.csv)
read -r trains train_fail train_hang < train.count
read -r backups bk_fail bk_hang < bk.count 2>/dev/null || { backups=0 bk_fail=0 bk_hang=0; }
echo "# ${SECS}s, $NL labelers: $acked answers + $undone undos acknowledged ($(( (acked + undone) / SECS )).$(( (acked + undone) * 10 / SECS % 10 )) keys/s), $logged answers + $retracted retractions in the log; $done labelers ran out of galaxies;" \
     "$trains trains ($train_fail failed, $train_hang hung), $backups backups ($bk_fail bad, $bk_hang hung); RSS MiB mid->end:$rss_msg"
echo "# RSS MiB of the $NL labelers every 5 s:"; sed 's/^/#   t=/' rss.txt
[ "$train_fail" -gt 0 ] && echo "# a failed train: $(head -c 300 train.fail.1 | tr '\n' ' ')"
[ "$bk_fail" -gt 0 ] && echo "# a bad backup: $(head -c 300 bk.fail.1 | tr '\n' ' ')"
expect "every key got its acknowledgement within 20 s (no deadlock; $stalls labelers stalled)" test "$stalls" -eq 0
expect "the labelers answered (got $acked acknowledgements)" test "$acked" -ge "$NL"
expect "every acknowledged answer is in the log and nothing else ($acked acknowledged, $logged logged)" test "$acked" -eq "$logged"
expect "every acknowledged undo is a retraction in the log ($undone acknowledged, $retracted logged)" test "$undone" -eq "$retracted"
expect "zoosh train ran alongside and never failed or hung ($trains runs, $train_fail failed, $train_hang hung)" \
    test "$trains" -ge 1 -a "$train_fail" -eq 0 -a "$train_hang" -eq 0
expect "every zoosh backup under load checks clean ($backups backups, $bk_fail bad, $bk_hang hung)" \
    test "$backups" -ge 1 -a "$bk_fail" -eq 0 -a "$bk_hang" -eq 0
if ldd "$Z" 2>/dev/null | grep -q libasan; then   # ASan's quarantine holds freed memory
    skip "the labelers' memory stays flat (AddressSanitizer build: RSS MiB mid->end:$rss_msg)"
else
    expect "the labelers' memory stays flat (RSS MiB mid->end:$rss_msg)" test "$grow_bad" -eq 0
fi
expect "every labeler quits on q within 10 s ($quit_bad did not)" test "$quit_bad" -eq 0
check "the workspace checks clean" "$Z" check ws
