#!/usr/bin/env bash
# crash.sh - SIGKILL at a random moment loses nothing committed.  CRASH_RUNS
# runs (default 18; CRASH_RUNS=100 on request) cycle through three victims on one
# workspace of the real ring set:
#   label   the labeler in tmux: K answers acknowledged on screen ("session K"),
#           then a few keys in flight, then SIGKILL after a random 0-400 ms;
#   import  a 140-galaxy catalog import (parallel decode, batched writes),
#           SIGKILL after a random part of its measured run time;
#   train   zoosh train (head ensemble, queue, predictions, model blob),
#           SIGKILL after a random part of its measured run time.
# After every kill: zoosh check passes, the answer log holds every answer
# acknowledged before the kill (and no more than the keys sent), and nothing
# else in it changed.  At the end an import and a train run to completion.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { skip "tmux is not installed"; exit 0; }
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
RUNS=${CRASH_RUNS:-18}
SOCK="zt-crash-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
RANDOM=${CRASH_SEED:-$$}
# a private copy of the binary: others relink ./zoosh while this runs
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin

answers() { "$Z" export ws --format answers 2>/dev/null | tail -n +2 | grep -c ',ring,'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# a.csv and b.csv (140 galaxies) are imported before the kills; c.csv (50)
# is the import that gets killed; d.csv (the last 10) is imported only after
# the kills, so the workspace holds 200 only when the kills left it whole
fix() { sed "s#,images/#,$SHARED/decals_rings/images/#"; }
head -61 "$CAT" | fix > a.csv
(head -1 "$CAT"; sed -n '62,141p' "$CAT") | fix > b.csv
(head -1 "$CAT"; sed -n '142,191p' "$CAT") | fix > c.csv
(head -1 "$CAT"; tail -n +192 "$CAT") | fix > d.csv
check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports 60 real ring galaxies" nice "$Z" import ws a.csv --threads 1
check "embeds them" nice "$Z" embed ws --threads 1 --quiet
check "imports 80 more" nice "$Z" import ws b.csv --threads 1
# the victims' run times, measured on a copy
cp -a ws ws_t
t0=$(now_ms); nice "$Z" import ws_t c.csv --threads 1 >/dev/null 2>&1; import_ms=$(( $(now_ms) - t0 ))
t0=$(now_ms); nice "$Z" train ws_t --task ring >/dev/null 2>&1; train_ms=$(( $(now_ms) - t0 ))
rm -rf ws_t
echo "# import takes ${import_ms} ms, train ${train_ms} ms; $RUNS runs"
# kill_mid MS CMD...: runs CMD and SIGKILLs it after a random part of MS; when
# it finished first, runs it again with half the delay (6 tries).  0 when a
# kill landed while it ran.
kill_mid() {
    local ms=$1 d try P
    shift
    d=$((RANDOM % (ms + 1)))
    for try in 1 2 3 4 5 6; do
        "$@" >/dev/null 2>&1 & P=$!
        sleep_ms "$d"
        if kill -0 $P 2>/dev/null; then kill -9 $P 2>/dev/null; wait $P 2>/dev/null; return 0; fi
        wait $P 2>/dev/null
        d=$((d / 2))
    done
    return 1
}

n_label=0 n_import=0 n_train=0 bad_check=0 bad_lost=0 bad_extra=0 bad_changed=0 bad_start=0 bad_ack=0
acked_total=0 inflight_total=0 import_mid=0 train_mid=0
for run in $(seq 1 "$RUNS"); do
    before=$(answers)
    "$Z" export ws --format answers 2>/dev/null > log_before.csv
    case $((run % 3)) in
    1)  # label
        n_label=$((n_label + 1))
        S=l$run
        LANG=C.UTF-8 tm -u new-session -d -s "$S" -x 100 -y 30 \
            "cd '$T' && exec '$Z' label ws --task ring --retrain 5 --graphics blocks 2>/dev/null; "
        if ! tm_wait "$S" "Does the galaxy have a ring?" 20; then
            bad_start=$((bad_start + 1)); tm kill-session -t "$S" 2>/dev/null; continue
        fi
        PID=$(tm display -p -t "$S" '#{pane_pid}')
        k=$((1 + RANDOM % 6)) acked=0
        for i in $(seq 1 $k); do
            tm send-keys -t "$S" $((1 + RANDOM % 2))
            tm_wait "$S" "session $i " 10 && acked=$i || { bad_ack=$((bad_ack + 1)); break; }
        done
        extra=$((RANDOM % 4))
        for i in $(seq 1 $extra); do tm send-keys -t "$S" $((1 + RANDOM % 2)); done
        sleep_ms $((RANDOM % 400))
        kill -9 "$PID" 2>/dev/null
        for i in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.02; done
        tm kill-session -t "$S" 2>/dev/null
        after=$(answers)
        acked_total=$((acked_total + acked)); inflight_total=$((inflight_total + after - before - acked))
        [ "$after" -ge $((before + acked)) ] || { bad_lost=$((bad_lost + 1)); echo "# run $run: $acked acknowledged, log grew by $((after - before))"; }
        [ "$after" -le $((before + k + extra)) ] || { bad_extra=$((bad_extra + 1)); echo "# run $run: $((k + extra)) keys, log grew by $((after - before))"; }
        ;;
    2)  # import
        n_import=$((n_import + 1))
        kill_mid "$import_ms" nice "$Z" import ws c.csv --threads 2 && import_mid=$((import_mid + 1))
        ;;
    0)  # train
        n_train=$((n_train + 1))
        kill_mid "$train_ms" nice "$Z" train ws --task ring && train_mid=$((train_mid + 1))
        ;;
    esac
    if ! "$Z" check ws > check.out 2>&1; then
        bad_check=$((bad_check + 1)); echo "# run $run: zoosh check: $(head -c 300 check.out | tr '\n' ' ')"
    fi
    if [ $((run % 3)) != 1 ]; then
        "$Z" export ws --format answers 2>/dev/null > log_after.csv
        cmp -s log_before.csv log_after.csv || { bad_changed=$((bad_changed + 1)); echo "# run $run: the answer log changed"; }
    fi
done
echo "# $RUNS kills: $n_label labeler, $n_import import, $n_train train; killed while still running: $import_mid imports, $train_mid trains;" \
     "$acked_total answers acknowledged, $inflight_total more committed in flight"
expect "every labeler started within 20 s ($bad_start did not)" test "$bad_start" -eq 0
expect "every answer typed before the kill was acknowledged on screen within 10 s ($bad_ack were not)" test "$bad_ack" -eq 0
expect "the labeler kills came after acknowledged answers ($acked_total)" test "$acked_total" -gt 0
expect "every import kill landed while it ran ($import_mid of $n_import)" test "$import_mid" -eq "$n_import"
expect "every train kill landed while it ran ($train_mid of $n_train)" test "$train_mid" -eq "$n_train"
expect "zoosh check passes after every one of $RUNS SIGKILLs ($bad_check failed)" test "$bad_check" -eq 0
expect "every answer acknowledged before a SIGKILL of the labeler is in the log ($acked_total acknowledged in $n_label kills, $bad_lost runs lost some)" test "$bad_lost" -eq 0
expect "no answer appears that was never typed ($bad_extra runs)" test "$bad_extra" -eq 0
expect "killing import or train never changes the answer log ($bad_changed runs did)" test "$bad_changed" -eq 0
check "an import after the kills completes" nice "$Z" import ws c.csv --threads 1
check "and one of the last 10 galaxies" nice "$Z" import ws d.csv --threads 1
expect "the workspace holds all 200 galaxies" bash -c "'$Z' stats ws | grep -q '^galaxies *200\$'"
check "a train after the kills completes" nice "$Z" train ws --task ring
check "the workspace checks clean at the end" "$Z" check ws
